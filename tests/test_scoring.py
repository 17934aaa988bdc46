"""The stored urgency score: one SQL expression equal to ``domain.urgency.explain``, kept current by
triggers and ``scoring.ensure_scored``, and the queue read from it in triage order, a page at a time.

The domain (``explain`` and ``sort_key``) is the authority throughout: every check here sorts or
scores with it and compares what the store gives.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import CASPO, HIGH_CRN, LOW_CRN, NOW, PO, PSO, TODAY, fixed_clock, insert_spo, ui_team
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spo_tui.domain import rules as domain_rules
from spo_tui.domain.rules import Rules, merge_config
from spo_tui.domain.urgency import ItemFacts, explain, sort_key
from spo_tui.domain.vocab import CountersignKind, ItemKind, RoSH, SbarUrgency
from spo_tui.services import admin, decisions, intake
from spo_tui.services.context import make_context
from spo_tui.services.importer import import_file
from spo_tui.services.queue import build_queue, facts
from spo_tui.store import queries, scoring, writes
from spo_tui.store.db import open_db
from spo_tui.store.schema import LATEST, migrations


def at(day: date) -> datetime:
    """09:00 UTC on ``day`` (GMT in November, so the same day in London)."""
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


# --- The SQL expression against explain() --------------------------------------------------------

#: ``score_sql`` pointed at plain column names of a one-row subselect.
PLAIN = {name: name for name in scoring.QUEUE_COLUMNS}

#: The weights that are single numbers (the rest are tables keyed by kind, RoSH, level, urgency).
NUMBERS = (
    "overdue",
    "overdue_per_day",
    "overdue_max_days",
    "due_today",
    "due_tomorrow",
    "due_soon",
    "due_soon_days",
    "age_per_day",
    "age_max",
    "psr_court_soon",
    "psr_court_soon_days",
)
TABLES = ("kind", "rosh", "mappa_level", "sbar_urgency")


def sql_score(conn: sqlite3.Connection, item: ItemFacts, today: date, weights: dict) -> object:
    """``score_sql(weights)`` evaluated by SQLite over one row holding ``item``'s facts."""
    params = {
        "today": today.isoformat(),
        "kind": item.kind.value,
        "due": item.due.isoformat() if item.due else None,
        "created": item.created.isoformat(),
        "rosh": item.rosh,
        "mappa_level": item.mappa_level,
        "sbar_urgency": item.sbar_urgency,
        "countersign_kind": item.countersign_kind,
        "court_date": item.court_date.isoformat() if item.court_date else None,
        "catch_up": int(item.catch_up),
    }
    facts_row = ", ".join(f":{name} AS {name}" for name in PLAIN)
    sql = f"SELECT {scoring.score_sql(weights, today, PLAIN)} FROM (SELECT {facts_row})"
    return conn.execute(sql, params).fetchone()[0]


near = st.integers(-60, 60).map(days)

item_facts = st.builds(
    ItemFacts,
    id=st.just("item"),
    kind=st.sampled_from(list(ItemKind)),
    due=st.none() | near,
    created=near,
    rosh=st.none() | st.sampled_from([r.value for r in RoSH]),
    mappa_level=st.none() | st.sampled_from([1, 2, 3]),
    sbar_urgency=st.none() | st.sampled_from([u.value for u in SbarUrgency]),
    countersign_kind=st.none() | st.sampled_from([k.value for k in CountersignKind]),
    court_date=st.none() | near,
    catch_up=st.booleans(),
)

#: Days around Christmas and the New Year (bank holidays and weekends) and ordinary ones: the
#: time-critical court horizon counts working days, which the SQL gets from the domain.
scoring_days = st.sampled_from([TODAY, date(2026, 12, 18), date(2026, 12, 24), date(2026, 12, 31), date(2027, 4, 1)])


def generated_weights(shipped: dict) -> st.SearchStrategy[dict]:
    """Non-negative whole-number weights with the shipped keys; tables may lose keys (worth 0 then);
    the tiers' points, the lists of what is time-critical and its court horizon, drawn too."""
    numbers = {key: st.integers(0, 70) for key in NUMBERS}
    tables = {
        key: st.dictionaries(st.sampled_from(sorted(shipped[key])), st.integers(0, 120), max_size=len(shipped[key]))
        for key in TABLES
    }
    time_critical = st.fixed_dictionaries(
        {
            "points": st.integers(0, 3000),
            "sbar_urgency": st.lists(st.sampled_from([u.value for u in SbarUrgency]), unique=True),
            "psr_court_within_working_days": st.integers(0, 4),
            "deadline_today": st.lists(st.sampled_from([k.value for k in ItemKind]), unique=True),
        }
    )
    return st.fixed_dictionaries(
        {**numbers, **tables, "catch_up": st.integers(-3000, 0), "time_critical": time_critical}
    )


def test_the_property_test_covers_every_fact_and_every_weight(rules):
    """If a fact or a weight is added to the domain, the property below must learn about it."""
    assert set(scoring.QUEUE_COLUMNS) == {f.name for f in dataclasses.fields(ItemFacts)} - {"id"}
    assert set(rules.urgency) == set(NUMBERS) | set(TABLES) | {"catch_up", "time_critical"}
    assert set(rules.urgency["time_critical"]) == {
        "points",
        "sbar_urgency",
        "psr_court_within_working_days",
        "deadline_today",
    }
    assert all(isinstance(rules.urgency[key], int) for key in NUMBERS)
    assert all(isinstance(rules.urgency[key], dict) for key in TABLES)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(item=item_facts, today=scoring_days, data=st.data())
def test_the_sql_score_equals_explain(rules, item, today, data):
    shipped = rules.urgency
    weights = data.draw(st.just(shipped) | generated_weights(shipped), label="weights")
    # Dates near the day scored, so court dates and due dates land on today and the next working days.
    item = dataclasses.replace(
        item,
        due=item.due and today + (item.due - TODAY),
        created=today + (item.created - TODAY),
        court_date=item.court_date and today + (item.court_date - TODAY) // 10,
    )
    conn = sqlite3.connect(":memory:")
    try:
        got = sql_score(conn, item, today, weights)
    finally:
        conn.close()
    assert type(got) is int
    assert got == explain(item, today, weights).score


@st.composite
def near_the_tiers(draw) -> tuple[ItemFacts, date]:
    """A day and an item on the edges of the time-critical tier: an SBAR, a countersign (mostly a PSR)
    or an action, due and in court within a few days of that day (a day of Christmas week, say)."""
    today = draw(scoring_days)
    offset = st.integers(-2, 6).map(lambda n: today + timedelta(days=n))
    item = ItemFacts(
        id="item",
        kind=draw(st.sampled_from([ItemKind.SBAR, ItemKind.COUNTERSIGN, ItemKind.ACTION, ItemKind.TOUCH_POINT])),
        due=draw(st.none() | offset),
        created=today,
        sbar_urgency=draw(st.none() | st.sampled_from([u.value for u in SbarUrgency])),
        countersign_kind=draw(st.sampled_from(["PSR", "PSR", "OASYS"])),
        court_date=draw(st.none() | offset),
        catch_up=draw(st.booleans()),
    )
    return item, today


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=near_the_tiers(), data=st.data())
def test_the_sql_score_equals_explain_on_the_edges_of_the_tiers(rules, case, data):
    item, today = case
    shipped = rules.urgency
    weights = data.draw(st.just(shipped) | generated_weights(shipped), label="weights")
    conn = sqlite3.connect(":memory:")
    try:
        assert sql_score(conn, item, today, weights) == explain(item, today, weights).score
    finally:
        conn.close()


def test_the_sql_score_counts_each_reason_like_explain(rules):
    """A few hand-picked items whose scores use every term, so a wrong term cannot hide in a sum of zeros."""
    conn = sqlite3.connect(":memory:")
    samples = [
        ItemFacts("a", ItemKind.SBAR, days(0), days(-3), "HIGH", 2, "urgent"),  # 1108 in test_urgency
        ItemFacts("b", ItemKind.TASK, days(-40), days(-60)),  # overdue capped, waiting capped
        ItemFacts("c", ItemKind.COUNTERSIGN, days(1), days(0), "VERY_HIGH", 3, None, "PSR", days(1)),  # court tomorrow
        ItemFacts("d", ItemKind.COUNTERSIGN, days(2), days(0), None, None, None, "OASYS", days(0)),  # not a PSR
        ItemFacts("e", ItemKind.TOUCH_POINT, days(3), days(5), "LOW"),  # created "after" today: no waiting points
        ItemFacts("f", ItemKind.ACTION, days(0), days(0)),  # its deadline is today
        ItemFacts("g", ItemKind.TOUCH_POINT, days(-60), days(0), "HIGH", catch_up=True),  # on the catch-up list
        ItemFacts("h", ItemKind.SBAR, None, days(0), sbar_urgency="urgent", catch_up=True),  # time-critical wins
    ]
    try:
        scores = [sql_score(conn, item, TODAY, rules.urgency) for item in samples]
    finally:
        conn.close()
    assert scores == [explain(item, TODAY, rules.urgency).score for item in samples]
    assert scores == [
        1108,
        5 + 80 + 10,
        1000 + 20 + 8 + 30 + 25 + 40,
        20 + 4,
        20 + 4,
        1000 + 15 + 15,
        -1000 + 20 + 80 + 20,
        1000 + 30 + 25,
    ]


# --- The store: stored scores and the queue's order ------------------------------------------------


def domain_order(ctx, entries) -> list[str]:
    """The ids of ``entries`` sorted as the domain sorts them."""
    weights = ctx.rules.urgency

    def key(entry):
        f = facts(entry.row)
        return sort_key(f, explain(f, ctx.today, weights))

    return [e.id for e in sorted(entries, key=key)]


def assert_stored_scores_right(ctx) -> None:
    """Every open or waiting item's stored score is what explain() gives today."""
    ids = [r[0] for r in ctx.db.execute("SELECT id FROM items WHERE status <> 'closed'")]
    stored = queries.queue_rows_by_id(ctx.db, ctx.today, ids, "i.urgency")
    assert len(stored) == len(ids)
    wrong = [
        (r.id, r.title, r.score, explain(facts(r), ctx.today, ctx.rules.urgency).score)
        for r in stored
        if r.score != explain(facts(r), ctx.today, ctx.rules.urgency).score
    ]
    assert wrong == []


def checked_queue(ctx, *, stored: bool = True, **kw) -> list[str]:
    """The queue's ids, after checking its order and every entry's score against the domain."""
    entries = build_queue(ctx, **kw)
    ids = [e.id for e in entries]
    assert ids == domain_order(ctx, entries)
    for entry in entries:
        assert entry.row.score == explain(facts(entry.row), ctx.today, ctx.rules.urgency).score, entry.row
        assert entry.row.score == entry.urgency.score
    if stored:
        assert_stored_scores_right(ctx)
    return ids


def psr_csv(tmp_path: Path, court: str) -> Path:
    """A countersign extract naming the PSR added today by Pat Officer on the high case."""
    path = tmp_path / "countersign.csv"
    path.write_text(
        f"crn,kind,author,submitted,court_date\n{HIGH_CRN},PSR,{PO},{TODAY:%d/%m/%Y},{court}\n", encoding="utf-8"
    )
    return path


def test_the_queue_follows_the_facts_a_user_changes(ctx, tmp_path):
    alert = intake.add_alert(ctx, LOW_CRN, "call_out", "Police called to the address").item_id
    tp_low = intake.add_touch_point(ctx, LOW_CRN, days(2), "Low touch point").item_id  # 20 + 4 due soon
    tp_high = intake.add_touch_point(ctx, HIGH_CRN, days(10), "High touch point").item_id  # 20 + 20 HIGH + 5 MAPPA 1
    sbar = intake.raise_sbar(ctx, LOW_CRN, PSO, "New partner", "DA history", "Rising", "Discuss").item_id  # 30
    task = intake.add_task(ctx, "Fix the lock", "buildings", due=days(1)).item_id  # 5 + 8 due tomorrow
    psr = intake.add_countersign(ctx, HIGH_CRN, "PSR", PO, court_date=days(4)).item_id  # due in 3: 20+20+5+4
    first = checked_queue(ctx)
    assert first == [alert, psr, tp_high, sbar, tp_low, task]

    # The low case's RoSH rises to very high: its SBAR and touch point move above the high case's touch point.
    intake.update_case_risk(ctx, LOW_CRN, rosh="VERY_HIGH")
    ids = checked_queue(ctx)
    assert ids.index(sbar) < ids.index(tp_high) and ids.index(tp_low) < ids.index(tp_high)
    assert ids.index(psr) > ids.index(sbar)  # 49 < 60

    # The high case goes to MAPPA level 3 (through the admin screen's case editor): +20 on its items.
    admin.update_case(ctx, HIGH_CRN, mappa_level=3)
    ids = checked_queue(ctx)
    assert ids.index(tp_high) < ids.index(sbar) and ids.index(psr) < ids.index(sbar)

    # The practitioner's SBAR is re-marked urgent: due today, +40; it tops everything but the alert.
    admin.update_sbar(ctx, sbar, urgency="urgent")
    ids = checked_queue(ctx)
    assert ids[:2] == [alert, sbar]

    # The PSR's court date moves to tomorrow (a countersign extract re-imported): court points and due today.
    report = import_file(ctx, "countersign", psr_csv(tmp_path, f"{days(1):%d/%m/%Y}"))
    assert (report.added, report.updated) == (0, 1)
    ids = checked_queue(ctx)
    assert ids[:3] == [alert, psr, sbar]

    # Snoozed and closed items leave the queue; what is left keeps its order.
    before = checked_queue(ctx)
    decisions.snooze(ctx, task, "wed")
    decisions.waive_touch_point(ctx, tp_high, "Seen at MAPPA meeting yesterday")
    ids = checked_queue(ctx)
    assert ids == [i for i in before if i not in (task, tp_high)]
    # The snoozed task is back, scored, on its day (Wednesday: overdue by a day by then).
    wednesday = make_context(ctx.db, ctx.rules, clock=fixed_clock(at(days(2))))
    assert task in checked_queue(wednesday)


@pytest.mark.parametrize(
    "change, moved",
    [
        ("UPDATE cases SET rosh = 'VERY_HIGH' WHERE crn = :low", "tp_low"),
        ("UPDATE cases SET mappa_level = 3 WHERE crn = :high", "tp_high"),
        ("UPDATE sbars SET urgency = 'soon' WHERE item_id = :sbar", "sbar"),
        ("UPDATE countersigns SET court_date = :tomorrow WHERE item_id = :psr", "psr"),
        ("UPDATE countersigns SET kind = 'OASYS' WHERE item_id = :psr_soon", "psr_soon"),
        ("UPDATE items SET due = :yesterday WHERE id = :task", "task"),
        ("UPDATE items SET created_at = '2026-11-13T09:00:00Z' WHERE id = :task", "task"),
        ("UPDATE items SET crn = :high WHERE id = :tp_low", "tp_low"),
    ],
)
def test_each_fact_changed_alone_is_rescored(ctx, change, moved):
    """Every fact the score reads, changed by itself: the stored score follows, in the same transaction
    (the commit hook) and, written by a connection without the hook, on the next read of the queue."""
    ids = {
        "tp_low": intake.add_touch_point(ctx, LOW_CRN, days(10)).item_id,
        "tp_high": intake.add_touch_point(ctx, HIGH_CRN, days(10)).item_id,
        "sbar": intake.raise_sbar(ctx, LOW_CRN, PSO, "S", "B", "A", "R").item_id,
        "psr": intake.add_countersign(ctx, HIGH_CRN, "PSR", PO, court_date=days(8)).item_id,
        "psr_soon": intake.add_countersign(ctx, LOW_CRN, "PSR", PSO, court_date=days(1)).item_id,
        "task": intake.add_task(ctx, "Order chairs", "other", due=days(10)).item_id,
    }
    params = {
        **ids,
        "low": LOW_CRN,
        "high": HIGH_CRN,
        "tomorrow": days(1).isoformat(),
        "yesterday": days(-1).isoformat(),
    }
    checked_queue(ctx)

    def stored_score() -> int:
        return ctx.db.execute("SELECT urgency FROM items WHERE id = ?", [ids[moved]]).fetchone()[0]

    old = stored_score()
    with ctx.db.atomic():
        ctx.db.execute(change, params)
    assert stored_score() != old  # the change matters to the score...
    assert_stored_scores_right(ctx)  # ...and the stored score is right as soon as it is committed

    # Another program's connection (no commit hook) spoils the stored score and makes the change again:
    # the trigger clears the score, and the next read of the queue scores it afresh.
    other = sqlite3.connect(ctx.db.conn.execute("PRAGMA database_list").fetchone()[2])
    try:
        other.execute("UPDATE items SET urgency = -999 WHERE id = ?", [ids[moved]])
        other.execute(change, params)
        other.commit()
    finally:
        other.close()
    assert stored_score() is None
    checked_queue(ctx)


def test_a_new_day_rescores_and_an_item_falling_overdue_moves_up(ctx):
    task = intake.add_task(ctx, "Fix the lock", "buildings", due=days(3)).item_id  # 5 + 4
    tp = intake.add_touch_point(ctx, LOW_CRN, days(7)).item_id  # 20
    assert checked_queue(ctx) == [tp, task]

    # Friday: the task is a day overdue (5 + 22 + 4 waiting) and the touch point due in 3 (20 + 4 + 4).
    friday = make_context(ctx.db, ctx.rules, clock=fixed_clock(at(days(4))))
    assert checked_queue(friday) == [task, tp]
    stored = dict(ctx.db.execute("SELECT id, urgency FROM items WHERE status = 'open'").fetchall())
    assert stored == {task: 31, tp: 28}

    # Someone whose clock says Monday still gets Monday's order, scored in the query; the stored
    # scores stay on the latest day, so two apps on different days never overwrite each other.
    monday = make_context(ctx.db, ctx.rules, clock=fixed_clock(NOW))
    assert checked_queue(monday, stored=False) == [tp, task]
    assert dict(ctx.db.execute("SELECT id, urgency FROM items WHERE status = 'open'").fetchall()) == {task: 31, tp: 28}


def test_a_copy_of_the_context_for_another_day_still_gets_the_right_order(ctx):
    """``dataclasses.replace`` keeps the store's commit hook on the first context's day: the queue of the
    copy must still be right (scored in the query if the stored scores are for the other day)."""
    task = intake.add_task(ctx, "Fix the lock", "buildings", due=days(3)).item_id
    tp = intake.add_touch_point(ctx, LOW_CRN, days(7)).item_id
    friday = dataclasses.replace(ctx, clock=fixed_clock(at(days(4))))
    assert checked_queue(friday) == [task, tp]
    assert checked_queue(ctx, stored=False) == [tp, task]
    assert checked_queue(friday) == [task, tp]


def test_two_people_with_different_weights_do_not_rescore_each_other_back_and_forth(ctx, tmp_path):
    """Each has their own rules file: the first to score the day keeps the stored scores; the other
    orders by scores computed in the query. Reading again writes nothing (no endless reloads)."""
    task = intake.add_task(ctx, "Fix the lock", "buildings", due=days(3)).item_id
    tp = intake.add_touch_point(ctx, LOW_CRN, days(7)).item_id
    other_db = open_db(ctx.db.conn.execute("PRAGMA database_list").fetchone()[2])
    other_rules = Rules.from_dict(merge_config(ctx.rules.raw, {"urgency": {"kind": {"task": 50}}}))
    other = make_context(other_db, other_rules, CASPO, clock=fixed_clock(NOW))  # someone else, their own rules
    assert checked_queue(ctx) == [tp, task]
    assert checked_queue(other, stored=False) == [task, tp]

    def version(db) -> int:
        return db.execute("PRAGMA data_version").fetchone()[0]

    before = (version(ctx.db), version(other_db))
    for _ in range(3):
        assert checked_queue(ctx) == [tp, task]
        assert checked_queue(other, stored=False) == [task, tp]
    assert (version(ctx.db), version(other_db)) == before  # neither saw the other write
    other_db.close()


@pytest.fixture
def read_only(monkeypatch):
    """Make ``path`` and its folder read-only (as far as open_db can tell, even for root), restoring after."""
    changed: list[tuple[Path, int]] = []
    real_access = os.access

    def make(path: Path) -> None:
        blocked = {str(path), str(path.parent)}
        for p in (path, path.parent):
            changed.append((p, stat.S_IMODE(p.stat().st_mode)))
            p.chmod(0o500 if p.is_dir() else 0o400)
        # Root may write anything whatever the mode, so open_db's check is told the truth as it would be.
        monkeypatch.setattr(
            os,
            "access",
            lambda p, mode, *a, **kw: (
                False if mode == os.W_OK and str(p) in blocked else real_access(p, mode, *a, **kw)
            ),
        )

    yield make
    for p, mode in reversed(changed):
        p.chmod(mode)


def test_a_read_only_store_orders_by_the_computed_score_when_stored_scores_are_stale(tmp_path, rules, read_only):
    path = tmp_path / "ro" / "team.db"
    path.parent.mkdir()
    ctx = ui_team(path)
    task = intake.add_task(ctx, "Fix the lock", "buildings", due=days(3)).item_id
    tp = intake.add_touch_point(ctx, "Y123456", days(7)).item_id
    sbar = intake.raise_sbar(ctx, "X123456", "Pat Officer", "S", "B", "A", "R", title="Zoë's hostel place").item_id
    assert checked_queue(ctx) == [sbar, tp, task]  # scored and stored for Monday
    ctx.db.close()

    read_only(path)
    ro = open_db(path)
    try:
        assert ro.read_only is True
        stale = ro.execute("SELECT id, urgency FROM items ORDER BY id").fetchall()
        friday = make_context(ro, rules, clock=fixed_clock(at(days(4))))
        # Stored for Monday, the task would be last; on Friday it is a day overdue and passes the touch point.
        assert checked_queue(friday, stored=False) == [sbar, task, tp]
        assert [e.id for e in build_queue(friday, limit=1, offset=1)] == [task]
        assert [e.id for e in build_queue(friday, search="ZOË")] == [sbar]
        assert ro.execute("SELECT id, urgency FROM items ORDER BY id").fetchall() == stale  # nothing written
    finally:
        ro.close()


def test_a_busy_store_orders_by_the_computed_score(ctx, busy_queue):
    """While another process holds the write lock, the queue is read in the right order (ties too) without waiting."""
    path = ctx.db.conn.execute("PRAGMA database_list").fetchone()[2]
    friday = make_context(ctx.db, ctx.rules, clock=fixed_clock(at(days(4))))
    ctx.db.execute("PRAGMA busy_timeout = 0")
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        computed = checked_queue(friday, stored=False)
        assert [e.id for e in build_queue(friday, limit=5, offset=5)] == computed[5:10]
        other.execute("COMMIT")
    finally:
        other.close()
    assert checked_queue(friday) == computed
    # Friday's order is not Monday's: the busy read did score for Friday.
    assert checked_queue(ctx, stored=False) != computed


def _audit_as_0005_did(db, *, at, actor_id, action, entity, entity_id, old=None, new=None, on_behalf_of=None) -> int:
    """An audit row as the version at migration 0005 wrote it: no ``os_user`` column yet (0007)."""
    as_json = [None if v is None else json.dumps(v, sort_keys=True, default=str) for v in (old, new)]
    return db.execute(
        "INSERT INTO audit_log(at, actor_id, on_behalf_of, action, entity, entity_id, old, new) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [at, actor_id, on_behalf_of, action, entity, entity_id, *as_json],
    ).lastrowid


def _psr_as_0005_wrote(ctx, crn: str, author: str, court: date) -> str:
    """A PSR item as version 0005 stored it (countersigned, before gatekeeping had its own states)."""
    pso = queries.find_staff(ctx.db, author)
    due = domain_rules.countersign_due(CountersignKind.PSR, ctx.today, court, ctx.rules)
    with ctx.db.atomic():
        return writes.insert_item(
            ctx.db,
            {
                "kind": "countersign",
                "crn": crn,
                "title": f"PSR gatekeeping by {author}",
                "raised_by": pso["id"],
                "due": due.isoformat(),
                "status": "open",
                "created_at": ctx.now_iso,
            },
            {
                "kind": "PSR",
                "author_id": pso["id"],
                "state": "AWAITING_COUNTERSIGN",
                "submitted_at": ctx.now_iso,
                "court_date": court.isoformat(),
                "link": None,
            },
        )


def test_a_database_from_migration_0005_gets_its_items_scored_on_the_first_read(tmp_path, rules, monkeypatch):
    path = tmp_path / "old.db"
    old = open_db(path, migrate=False)
    migrations.apply(old, stop_before="0006_stored_urgency")
    assert "urgency" not in {c.name for c in old["items"].columns}
    insert_spo(old)
    with monkeypatch.context() as patched:
        patched.setattr(writes, "audit", _audit_as_0005_did)
        ctx = make_context(old, rules, clock=fixed_clock(NOW))
        old.before_commit = None  # that version kept no scores
        intake.add_staff(ctx, PO, "PO")
        intake.add_staff(ctx, PSO, "PSO")
        intake.add_case(
            ctx, HIGH_CRN, "Alex Example", PO, "HIGH", "LICENCE", "2026-08-01", mappa_category=2, mappa_level=1
        )
        intake.add_case(ctx, LOW_CRN, "Bo Sample", PSO, "LOW", "COMMUNITY_ORDER", "2026-11-10")
        made = [
            intake.add_task(ctx, "Fix the lock", "buildings", due=days(-2)).item_id,
            intake.add_touch_point(ctx, LOW_CRN, days(1)).item_id,
            intake.add_touch_point(ctx, HIGH_CRN, days(20)).item_id,
            intake.raise_sbar(ctx, HIGH_CRN, PO, "S", "B", "A", "R", urgency="soon").item_id,
            intake.add_alert(ctx, LOW_CRN, "arrest", "Arrested last night").item_id,
            _psr_as_0005_wrote(ctx, LOW_CRN, PSO, days(1)),
        ]
        done = intake.add_task(ctx, "Order chairs", "other").item_id
        decisions.complete_task(ctx, done, 10)
        old.close()

    db = open_db(path)
    try:
        assert db.execute("SELECT name FROM _sqlite_migrations ORDER BY id DESC LIMIT 1").fetchone()[0] == LATEST
        assert db.execute("SELECT COUNT(*) FROM items WHERE urgency IS NOT NULL").fetchone()[0] == 0
        ctx = make_context(db, rules, clock=fixed_clock(NOW))
        ids = checked_queue(ctx)
        assert sorted(ids) == sorted(made)
        assert ids[0] == made[4]  # the alert
    finally:
        db.close()


# --- Pages and search ------------------------------------------------------------------------------


@pytest.fixture
def busy_queue(ctx):
    """Work of every kind the services make, with ties (same score, same due date) for the order to break."""
    intake.add_case(ctx, "Z111111", "Zoë Brontë", PO, "MEDIUM", "COMMUNITY_ORDER", "2026-11-01")
    made = {
        "alert": intake.add_alert(ctx, HIGH_CRN, "charge", "Charged with assault").item_id,
        "sbar": intake.raise_sbar(ctx, "Z111111", PO, "Hostel place lost", "B", "A", "R", urgency="soon").item_id,
        "psr": intake.add_countersign(ctx, LOW_CRN, "PSR", PSO, court_date=days(6)).item_id,
        "oasys": intake.add_countersign(ctx, HIGH_CRN, "OASYS", PO).item_id,
        "chairs": intake.add_task(ctx, "Order chairs", "other", due=days(-1)).item_id,
    }
    for n in range(6):
        made[f"tp-z{n}"] = intake.add_touch_point(ctx, "Z111111", days(n % 3), f"Check {n}").item_id
        made[f"tp-low{n}"] = intake.add_touch_point(ctx, LOW_CRN, days(5)).item_id  # all the same: ids decide
        made[f"task{n}"] = intake.add_task(ctx, f"Replace bulb {n}", "buildings", due=days(2 * n - 4)).item_id
    return made


def test_pages_put_together_are_the_whole_queue(ctx, busy_queue):
    whole = checked_queue(ctx)
    assert len(whole) == len(busy_queue)
    for size in (1, 4, 7, len(whole), len(whole) + 5):
        pages = [
            [e.id for e in build_queue(ctx, limit=size, offset=start)] for start in range(0, len(whole) + size, size)
        ]
        assert [len(p) for p in pages if p][:-1] == [size] * (len([p for p in pages if p]) - 1)
        assert [i for page in pages for i in page] == whole
    tps = checked_queue(ctx, kind="touch_point")
    assert tps == [i for i in whole if i in tps] and len(tps) == 12
    assert [e.id for p in (0, 5, 10) for e in build_queue(ctx, kind="touch_point", limit=5, offset=p)] == tps


def test_search_matches_crn_name_practitioner_and_title_in_any_case(ctx, busy_queue):
    whole = checked_queue(ctx)
    on = dict(busy_queue.items())

    def found(text: str, **kw) -> list[str]:
        return [e.id for e in build_queue(ctx, search=text, **kw)]

    def keeping(keys) -> list[str]:
        wanted = {on[k] for k in keys}
        return [i for i in whole if i in wanted]

    zoe = ["sbar"] + [f"tp-z{n}" for n in range(6)]
    assert found("ZOË") == found("zoë brontë") == found("  Zoë ") == keeping(zoe)
    assert found("BRONTE") == found("Zoe\u0308") == keeping(zoe)  # accents ignored, however typed
    assert found("z111") == keeping(zoe)  # CRN, any case
    assert found("PIP SERV") == keeping(["psr"] + [f"tp-low{n}" for n in range(6)])  # the practitioner
    assert found("order CHAIRS") == keeping(["chairs"])  # the title
    assert found("hostel") == keeping(["sbar"])
    assert found("bulb") == keeping([f"task{n}" for n in range(6)])
    assert found("nothing like this") == []
    # Search pages, like the queue's, put together make the whole result.
    bulbs = found("bulb")
    assert found("bulb", limit=4) + found("bulb", limit=4, offset=4) == bulbs
    assert found("bulb", kind="touch_point") == []
