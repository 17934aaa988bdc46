"""The demo database: deterministic, believable at team scale, big enough at PDU scale, and safe.

Most tests read one team demo written once for the module (read-only); the tests that write make
their own databases under tmp_path.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from spo_tui.config import load_rules
from spo_tui.demo import demo_now, generate_demo, write_demo
from spo_tui.domain.dates import add_working_days
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.rules import countersign_due, task_due
from spo_tui.domain.vocab import (
    CRN_PATTERN,
    CountersignKind,
    OversightOutcome,
    OversightType,
    TaskCategory,
    TouchPointReason,
)
from spo_tui.services.context import make_context
from spo_tui.services.queue import build_queue
from spo_tui.services.refresh import refresh_due_work
from spo_tui.store import queries
from spo_tui.store import rows as store_rows
from spo_tui.store.db import get_meta, open_db

TODAY = date(2026, 11, 23)  # a Monday
TOMORROW = TODAY + timedelta(days=1)
NOW_ISO = "2026-11-23T08:45:00Z"  # 08:45 in London (GMT in November)
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def shipped_rules(tmp: Path):
    """The shipped rules only (the override path does not exist)."""
    return load_rules(tmp / "no-rules-here.toml")


def all_rows(db) -> dict[str, list[tuple]]:
    """Every row of every table, in insertion order (not the migrations' own applied-at times, nor
    the signed record's store identity and links: each demo is a store of its own)."""
    tables = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT IN ('_sqlite_migrations', 'record_store', 'record_chain', 'chain_keys') ORDER BY name"
        )
    ]
    return {t: db.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


def one(db, sql: str, params=()):
    return db.execute(sql, params).fetchone()[0]


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """A team demo written by write_demo (so the rule-made work is refreshed), opened for reading."""
    folder = tmp_path_factory.mktemp("team")
    rules = shipped_rules(folder)
    summary = write_demo(folder / "demo.db", seed=1, scale="team", today=TODAY, rules=rules)
    db = open_db(folder / "demo.db")
    yield db, rules, summary
    db.close()


def context(db, rules):
    moment = demo_now(TODAY)
    return make_context(db, rules, clock=lambda: moment)


# --- Determinism ---------------------------------------------------------------------------------


def test_same_seed_same_rows_and_another_seed_differs(tmp_path):
    rules = shipped_rules(tmp_path)
    write_demo(tmp_path / "a.db", seed=7, today=TODAY, rules=rules)
    write_demo(tmp_path / "b.db", seed=7, today=TODAY, rules=rules)
    write_demo(tmp_path / "c.db", seed=8, today=TODAY, rules=rules)
    a, b, c = (open_db(tmp_path / name) for name in ("a.db", "b.db", "c.db"))
    rows_a, rows_b, rows_c = all_rows(a), all_rows(b), all_rows(c)
    assert rows_a == rows_b
    assert sum(len(v) for v in rows_a.values()) > 1000
    assert rows_a["staff"] != rows_c["staff"]
    assert rows_a["cases"] != rows_c["cases"]
    for db in (a, b, c):
        db.close()


def _demo_in_a_process(path: Path, seed: int, tmp: Path, hash_seed: str) -> None:
    """``python -m spo_tui demo`` in a fresh interpreter, with its own ``PYTHONHASHSEED``."""
    env = {
        **os.environ,
        "SPO_TUI_TODAY": TODAY.isoformat(),
        "SPO_TUI_RULES": str(tmp / "no-rules.toml"),
        "XDG_DATA_HOME": str(tmp / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp / "xdg-config"),
        "PYTHONHASHSEED": hash_seed,
    }
    env.pop("SPO_TUI_DB", None)
    result = subprocess.run(
        [sys.executable, "-m", "spo_tui", "demo", "--db", str(path), "--seed", str(seed)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def test_the_same_seed_in_two_processes_gives_the_same_database(tmp_path):
    """Two separate processes (with different string-hash seeds) write the team demo with seed 7:
    every row of every table is the same, ids, names and timestamps included (the demo's ids come
    from its seeded generator, not uuid4, and its clock is fixed at 08:45 on the day).

    Left out only what is unique to each store by design: the migrations' applied-at times, the
    store's own identity and signing key, and the hashes and signatures of its record chain (the
    chain's positions, kinds and the records they refer to are compared).
    """
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    _demo_in_a_process(a, 7, tmp_path, hash_seed="1")
    _demo_in_a_process(b, 7, tmp_path, hash_seed="2")
    db_a, db_b = open_db(a), open_db(b)
    try:
        rows_a, rows_b = all_rows(db_a), all_rows(db_b)
        assert rows_a.keys() == rows_b.keys()
        for table in rows_a:
            assert rows_a[table] == rows_b[table], table
        # 350 + a custody case + the court team's four defendants not yet sentenced [000 §3.2]
        assert len(rows_a["staff"]) >= 12 and len(rows_a["cases"]) == 355
        chain = "SELECT position, kind, ref FROM record_chain WHERE kind NOT IN ('store', 'key') ORDER BY position"
        chain_a = db_a.execute(chain).fetchall()
        assert chain_a == db_b.execute(chain).fetchall()
        assert len(chain_a) > 500
    finally:
        db_a.close()
        db_b.close()


def test_ids_are_the_seeded_uuid4s():
    """Ids are ``str(uuid.UUID(int=rng.getrandbits(128), version=4))`` from the seeded generator."""
    import random
    import uuid

    from spo_tui.demo import _Builder

    builder = _Builder.__new__(_Builder)
    builder.rng, reference = random.Random(11), random.Random(11)
    for _ in range(2000):
        assert builder.uid() == str(uuid.UUID(int=reference.getrandbits(128), version=4))


def test_ids_are_uuid4_text(team):
    db, _, _ = team
    uuid4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    for table in ("staff", "items", "oversight_entries", "case_flags", "absences"):
        ids = [r[0] for r in db.execute(f"SELECT id FROM {table}")]
        assert ids and all(uuid4.match(i) for i in ids), table
        assert len(ids) == len(set(ids))


# --- The team ------------------------------------------------------------------------------------


def test_meta_marks_the_demo(team):
    db, _, _ = team
    assert get_meta(db, "demo") == "1"
    assert get_meta(db, "demo_seed") == "1"
    assert get_meta(db, "demo_scale") == "team"
    assert get_meta(db, "demo_today") == TODAY.isoformat()


def test_team_staff(team):
    db, _, summary = team
    # The sentence-management team and the PDU's staff; the court team is tested on its own.
    roles = dict(db.execute("SELECT role, COUNT(*) FROM staff WHERE team <> 'Court Team' GROUP BY role").fetchall())
    for role in ("SPO", "CASPO", "SAO", "business manager", "PDU head"):
        assert roles.get(role) == 1, role
    practitioners = sum(roles.get(r, 0) for r in ("PO", "PSO", "PQiP", "NQO"))
    assert 12 <= practitioners <= 15
    court = one(db, "SELECT COUNT(*) FROM staff WHERE team = 'Court Team' AND role IN ('PO', 'PSO', 'PQiP', 'NQO')")
    assert summary.practitioners == practitioners + court
    assert all(roles.get(r, 0) >= 1 for r in ("PO", "PSO", "PQiP", "NQO"))
    assert one(db, "SELECT COUNT(*) FROM staff WHERE fte IN (0.6, 0.8) AND role IN ('PO', 'PSO', 'PQiP', 'NQO')") >= 2
    assert one(db, "SELECT COUNT(*) FROM staff WHERE role = 'PO' AND oasys_approved = 1") >= 1
    assert one(db, "SELECT COUNT(*) FROM staff WHERE role IN ('PSO', 'PQiP', 'NQO') AND oasys_approved = 1") == 0
    assert len(queries.absent_staff(db, TODAY)) == 1
    assert queries.absent_staff(db, TODAY)[0]["role"] in ("PO", "PSO", "PQiP", "NQO")


def test_team_cases(team):
    db, _, _ = team
    # The sentence-management caseload (the court team's defendants and the custody case apart).
    cases = store_rows.all_rows(db, "SELECT * FROM cases WHERE sentence_type NOT IN ('PRE_SENTENCE', 'CUSTODY')")
    assert 330 <= len(cases) <= 370
    crns = [c["crn"] for c in cases]
    assert all(CRN_PATTERN.match(crn) for crn in crns)
    assert len(set(crns)) == len(crns)
    share = {
        level: sum(c["rosh"] == level for c in cases) / len(cases) for level in ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")
    }
    assert 0.25 <= share["LOW"] <= 0.35 and 0.40 <= share["MEDIUM"] <= 0.50
    assert 0.18 <= share["HIGH"] <= 0.26 and 0.01 <= share["VERY_HIGH"] <= 0.05
    mappa = [c for c in cases if c["mappa_category"]]
    assert 0.28 <= len(mappa) / len(cases) <= 0.42
    assert {c["mappa_category"] for c in mappa} <= {1, 2, 3}
    levels = [c["mappa_level"] for c in mappa]
    assert levels.count(3) in (1, 2) and 2 <= levels.count(2) <= 12 and levels.count(1) > len(mappa) * 0.8
    assert {c["sentence_type"] for c in cases} == {
        "COMMUNITY_ORDER",
        "SUSPENDED_SENTENCE_ORDER",
        "LICENCE",
        "POST_SENTENCE_SUPERVISION",
    }
    # A case still in prison starts its licence on release (build_custody) [004].
    assert all(
        TODAY - timedelta(days=3 * 366) <= date.fromisoformat(c["sentence_start"]) < TODAY
        or c["sentence_start"] == c["release_date"]
        for c in cases
    )
    assert all(c["sentence_end"] is None or c["sentence_end"] > TODAY.isoformat() for c in cases)
    ending_soon = [
        c for c in cases if c["sentence_end"] and c["sentence_end"] <= (TODAY + timedelta(weeks=6)).isoformat()
    ]
    assert 3 <= len(ending_soon) <= 40
    assert all(re.match(r"^([A-D][0-3]|[A-G])$", c["tier"]) for c in cases)
    assert all(c["likelihood"] in ("LOW", "MEDIUM", "HIGH", "VERY_HIGH") for c in cases)
    # Every case is held by a practitioner; high RoSH never by a PSO.
    held = dict(db.execute("SELECT c.crn, s.role FROM cases c JOIN staff s ON s.id = c.practitioner_id").fetchall())
    # + the custody case and the court team's four defendants not yet sentenced [000 §3.2]
    assert len(held) == len(cases) + 5 and set(held.values()) <= {"PO", "PSO", "PQiP", "NQO"}
    assert all(held[c["crn"]] != "PSO" for c in cases if c["rosh"] in ("HIGH", "VERY_HIGH"))


def test_registrations(team):
    db, _, _ = team
    flags = store_rows.all_rows(db, "SELECT * FROM case_flags")
    codes = {f["code"] for f in flags}
    assert "SPO" not in codes
    assert (
        {"ADVP", "RCPR", "RCCO", "RMDO", "ALSH"}
        <= codes
        <= {"ADVP", "RCPR", "RCCO", "RMDO", "ALSH", "INLL", "RTAO", "STAL", "MAPP"}
    )
    # Every MAPPA case carries the MAPP registration; each registration has its review period.
    mapp = {f["crn"] for f in flags if f["code"] == "MAPP"}
    assert mapp == {r[0] for r in db.execute("SELECT crn FROM cases WHERE mappa_category IS NOT NULL")}
    assert all(f["review_period_months"] in (3, 6, 12) for f in flags)
    assert all(ISO_DATE.match(f["review_date"]) for f in flags)
    soon = [f for f in flags if f["review_date"] <= (TODAY + timedelta(days=14)).isoformat()]
    overdue = [f for f in soon if f["review_date"] < TODAY.isoformat()]
    assert 2 <= len(soon) <= 20 and overdue


def test_custody_to_community_and_mappa_events(team):
    """Issue 16 section 4 in the demo: a lifer with a panel review due, a release next week with its
    points and a VLO prompt, a ROTL, an OMiC handover [004, 001], a case newly at MAPPA level 2, the
    MAPPA level 1 review from the MAPP registration, and category 3 only at levels 2 and 3."""
    db, _, _ = team
    open_tps = store_rows.all_rows(
        db,
        """SELECT i.crn, i.title, i.due, i.created_at, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id
           WHERE i.status = 'open'""",
    )
    by_reason: dict[str, list[dict]] = {}
    for tp in open_tps:
        by_reason.setdefault(tp["reason"], []).append(tp)
    for reason in ("lifer_panel", "pre_release", "release", "vlo_contact", "rotl", "handover", "mappa_l1_review"):
        assert reason in by_reason, reason
    [newly] = [tp for tp in by_reason["mappa_rise"] if tp["title"] == "Newly at MAPPA level 2"]
    assert newly["created_at"] < NOW_ISO
    [released] = store_rows.all_rows(db, "SELECT * FROM cases WHERE release_date = ?", [str(TODAY + timedelta(days=7))])
    assert released["victim_contact"] == 1
    assert {tp["crn"] for tp in by_reason["vlo_contact"]} == {released["crn"]}
    assert not store_rows.all_rows(db, "SELECT crn FROM cases WHERE mappa_category = 3 AND mappa_level = 1")


def test_oversight_history(team):
    db, _, _ = team
    spo = one(db, "SELECT id FROM staff WHERE role = 'SPO'")
    caspo = one(db, "SELECT id FROM staff WHERE role = 'CASPO'")
    cases = one(db, "SELECT COUNT(*) FROM cases")
    year_ago = (TODAY - timedelta(days=365)).isoformat()
    case_entries = store_rows.all_rows(db, "SELECT * FROM oversight_entries WHERE crn IS NOT NULL")
    assert all(e["created_at"] >= year_ago and e["created_at"] < NOW_ISO for e in case_entries)
    # Routine oversight, about two entries per case a year; countersign verdicts and SBAR decisions
    # (the queues' past [issue 16 §7]) come on top.
    kinds = dict(db.execute("SELECT id, kind FROM items").fetchall())
    routine = [e for e in case_entries if kinds.get(e["item_id"]) not in ("countersign", "sbar")]
    assert 1.0 <= len(routine) / cases <= 2.5
    assert {e["decided_by"] for e in case_entries} == {spo}
    assert {e["entered_by"] for e in case_entries} == {spo, caspo}
    types = {e["type"] for e in case_entries}
    assert types <= {t.value for t in OversightType} and "home_visit" in types
    assert sum(e["type"] == "management_oversight" for e in case_entries) > 0.85 * len(case_entries)
    assert {e["outcome"] for e in case_entries} <= {o.value for o in OversightOutcome}
    assert all(e["discussed"].strip() and e["decision"].strip() for e in case_entries)
    # High RoSH cases are seen more often than low ones.
    per_case = dict(
        db.execute(
            "SELECT c.rosh, 1.0 * COUNT(o.id) / COUNT(DISTINCT c.crn) FROM cases c LEFT JOIN oversight_entries o ON o.crn = c.crn GROUP BY c.rosh"
        ).fetchall()
    )
    assert per_case["HIGH"] > 2 * per_case["LOW"]
    # Some cases have had no oversight for 90 days, including some high RoSH cases.
    quiet = store_rows.all_rows(
        db,
        "SELECT c.crn, c.rosh FROM cases c WHERE NOT EXISTS (SELECT 1 FROM oversight_entries o WHERE o.crn = c.crn AND o.created_at >= ?)",
        [(TODAY - timedelta(days=90)).isoformat()],
    )
    assert quiet and any(c["rosh"] in ("HIGH", "VERY_HIGH") for c in quiet)


def test_supervision_history(team):
    db, rules, _ = team
    rows = queries.practitioner_supervision_rows(db, TODAY - timedelta(days=365))
    assert all(r["last_one_to_one"] for r in rows)
    weeks = rules.get("supervision", "one_to_one_weeks")
    overdue = [r for r in rows if date.fromisoformat(r["last_one_to_one"]) < TODAY - timedelta(weeks=weeks)]
    recent = [r for r in rows if date.fromisoformat(r["last_one_to_one"]) >= TODAY - timedelta(weeks=4)]
    assert overdue and recent
    held = one(
        db,
        "SELECT COUNT(*) FROM items i JOIN supervision s ON s.item_id = i.id WHERE i.status = 'closed' AND s.held_on IS NOT NULL",
    )
    assert held >= 6 * len(rows)
    open_sup = one(db, "SELECT COUNT(*) FROM items WHERE kind = 'supervision' AND status = 'open'")
    assert open_sup >= len(overdue)


def test_todays_work(team):
    db, rules, _ = team
    counts = dict(db.execute("SELECT kind, COUNT(*) FROM items WHERE status = 'open' GROUP BY kind").fetchall())
    assert counts["alert"] == 2
    assert 5 <= counts["sbar"] <= 8
    assert 20 <= counts["countersign"] <= 30
    assert 8 <= counts["task"] <= 12
    assert 3 <= counts["action"] <= 10
    assert counts["touch_point"] >= 5
    assert all(ISO_UTC.match(r[0]) and r[0] <= NOW_ISO for r in db.execute("SELECT created_at FROM items"))
    assert one(db, "SELECT COUNT(*) FROM items WHERE kind IN ('task', 'supervision') AND crn IS NOT NULL") == 0
    assert one(db, "SELECT COUNT(*) FROM items WHERE kind NOT IN ('task', 'supervision') AND crn IS NULL") == 0


def test_alerts_are_immediate_risk_due_today(team):
    db, _, _ = team
    alerts = store_rows.all_rows(
        db, "SELECT i.*, a.source, a.details, a.received_at FROM items i JOIN alerts a ON a.item_id = i.id"
    )
    assert len(alerts) == 2
    assert {a["source"] for a in alerts} == {"call_out", "arrest"}
    assert all(a["due"] == TODAY.isoformat() and a["status"] == "open" for a in alerts)
    assert any("domestic" in a["details"].lower() for a in alerts)


def test_sbars(team):
    db, _, _ = team
    sbars = store_rows.all_rows(
        db, "SELECT i.*, s.* FROM items i JOIN sbars s ON s.item_id = i.id WHERE i.status = 'open'"
    )
    assert {s["urgency"] for s in sbars} == {"routine", "soon", "urgent"}
    assert all(s["state"] == "raised" for s in sbars)
    assert all(len(s[p]) > 40 for s in sbars for p in ("situation", "background", "assessment", "recommendation"))
    assert sum(s["raised_at"][:10] >= add_working_days(TODAY, -1).isoformat() for s in sbars) >= 2
    # Raised by the practitioner holding the case, who is at work today.
    holders = dict(db.execute("SELECT crn, practitioner_id FROM cases").fetchall())
    absent = {s["id"] for s in queries.absent_staff(db, TODAY)}
    assert all(s["raised_by"] == holders[s["crn"]] and s["raised_by"] not in absent for s in sbars)
    rosh = dict(db.execute("SELECT crn, rosh FROM cases").fetchall())
    assert all(
        rosh[s["crn"]] in ("HIGH", "VERY_HIGH") for s in sbars if "recall" in s["title"] or "Victim" in s["title"]
    )


def test_countersigning_backlog(team):
    db, rules, _ = team
    rows = store_rows.all_rows(
        db,
        "SELECT i.*, c.kind AS cs_kind, c.state, c.court_date, c.court_time, c.oral, c.submitted_at, c.author_id,"
        " cs.sentence_type, s.team FROM items i JOIN countersigns c ON c.item_id = i.id"
        " JOIN cases cs ON cs.crn = i.crn JOIN staff s ON s.id = c.author_id",
    )
    # PSRs await gatekeeping, the rest countersignature [000 §3.2]; open work only here.
    waiting = [r for r in rows if r["status"] != "closed"]
    assert all(
        r["state"] == ("AWAITING_GATEKEEP" if r["cs_kind"] == "PSR" else "AWAITING_COUNTERSIGN") for r in waiting
    )
    kinds = [r["cs_kind"] for r in rows]
    assert kinds.count("OASYS") > len(rows) / 2
    assert {"PSR", "PAROLE_REPORT", "HVRA"} <= set(kinds)
    # Reports only where they exist: dangerousness before sentence (the PDU's court team), parole in custody.
    assert {r["sentence_type"] for r in rows if r["cs_kind"] == "DANGEROUSNESS"} <= {"PRE_SENTENCE"}
    assert {r["sentence_type"] for r in rows if r["cs_kind"] == "PAROLE_REPORT"} == {"CUSTODY"}
    psrs = [r for r in waiting if r["cs_kind"] == "PSR"]
    assert sum(r["court_date"] == TOMORROW.isoformat() for r in psrs) >= 2
    assert all(r["court_date"] >= TODAY.isoformat() for r in psrs)
    for r in waiting:  # (the demo's past holds closed work too)
        if r["team"] == "Court Team":
            continue  # reports on the day: due by the hearing (above)
        court = date.fromisoformat(r["court_date"]) if r["court_date"] else None
        submitted = date.fromisoformat(r["submitted_at"][:10])
        assert r["due"] == countersign_due(CountersignKind(r["cs_kind"]), submitted, court, rules).isoformat()
        assert r["raised_by"] == r["author_id"]
    # An approved PO's OASys skips the queue [000 §3.3]: only as a closed, NOT_REQUIRED footprint.
    approved = {r[0] for r in db.execute("SELECT id FROM staff WHERE oasys_approved = 1")}
    assert all(r["author_id"] not in approved for r in waiting if r["cs_kind"] == "OASYS")
    skipped = [r for r in rows if r["state"] == "NOT_REQUIRED"]
    assert len(skipped) == 1 and skipped[0]["author_id"] in approved and skipped[0]["status"] == "closed"


def test_aqa_in_the_demo(team):
    """[000 §3.3] A PO at 2 of 3 Good; a resubmitted assessment with the deficits it was returned for."""
    from spo_tui.services import aqa, countersigning
    from spo_tui.services.context import make_context

    db, rules, _ = team
    ctx = make_context(db, rules, clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    labels = [s.label for s in aqa.approval_standings(ctx)]
    assert "2 of 3 Good" in labels
    resubmitted = one(db, "SELECT item_id FROM countersign_history WHERE verdict LIKE 'resubmitted%'")
    assert "police call-outs" in (countersigning.returned_for(ctx, resubmitted) or "")


def test_touch_points(team):
    db, _, _ = team
    rows = store_rows.all_rows(
        db, "SELECT i.*, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id WHERE i.status = 'open'"
    )
    assert {r["reason"] for r in rows} <= {r.value for r in TouchPointReason}
    assert len({r["reason"] for r in rows}) >= 4
    overdue = [r for r in rows if r["due"] < TODAY.isoformat()]
    assert len(overdue) >= 3


def test_tasks(team):
    db, rules, _ = team
    rows = store_rows.all_rows(
        db, "SELECT i.*, t.category FROM items i JOIN tasks t ON t.item_id = i.id WHERE i.status = 'open'"
    )
    cats = [r["category"] for r in rows]
    assert {"buildings", "health_safety", "hr_sickness", "it"} <= set(cats) and cats.count("hr_leave") == 2
    assert any("heating" in r["title"].lower() for r in rows)
    for r in rows:
        raised = date.fromisoformat(r["created_at"][:10])
        assert r["due"] == task_due(TaskCategory(r["category"]), raised, rules).isoformat()
        assert r["raised_by"] is not None and r["assigned_to"] is None


def test_agreed_actions(team):
    db, _, _ = team
    rows = store_rows.all_rows(
        db,
        """SELECT i.*, a.owner_id, o.crn AS entry_crn, o.outcome, s.role AS owner_role
           FROM items i JOIN actions a ON a.item_id = i.id JOIN oversight_entries o ON o.id = a.oversight_id
           JOIN staff s ON s.id = a.owner_id WHERE i.status = 'open'""",
    )
    assert rows and all(r["crn"] == r["entry_crn"] and r["outcome"] == "actions_set" for r in rows)
    assert all(r["owner_role"] in ("PO", "PSO", "PQiP", "NQO") for r in rows)
    assert any(r["due"] < TODAY.isoformat() for r in rows) and any(r["due"] >= TODAY.isoformat() for r in rows)


def test_queue_has_the_two_alerts_first(team):
    db, rules, _ = team
    entries = build_queue(context(db, rules))
    assert len(entries) > 50
    assert [e.kind.value for e in entries[:2]] == ["alert", "alert"]
    assert all(e.kind.value != "alert" for e in entries[2:])


def test_refresh_finds_nothing_left_to_add(tmp_path):
    """The demo's touch points and supervision are exactly what the rules make due today."""
    rules = shipped_rules(tmp_path)
    db = open_db(tmp_path / "d.db")
    generate_demo(db, seed=3, today=TODAY, now_iso=NOW_ISO, rules=rules)
    assert refresh_due_work(context(db, rules)) == 0
    db.close()


# --- Safety --------------------------------------------------------------------------------------


def test_write_demo_refuses_a_database_with_real_work(tmp_path):
    path = tmp_path / "real.db"
    db = open_db(path)
    db.table("staff").insert({"id": "s1", "name": "Real Person", "role": "SPO", "created_at": NOW_ISO})
    before = all_rows(db)
    db.close()
    with pytest.raises(SpoError, match="not a demo"):
        write_demo(path, today=TODAY, rules=shipped_rules(tmp_path))
    db = open_db(path)
    assert all_rows(db) == before
    db.close()


def test_force_replaces_even_a_database_with_real_work(tmp_path):
    path = tmp_path / "real.db"
    db = open_db(path)
    db.table("staff").insert({"id": "s1", "name": "Real Person", "role": "SPO", "created_at": NOW_ISO})
    db.close()
    write_demo(path, today=TODAY, rules=shipped_rules(tmp_path), force=True)
    db = open_db(path)
    assert get_meta(db, "demo") == "1"
    assert one(db, "SELECT COUNT(*) FROM staff WHERE name = 'Real Person'") == 0
    db.close()


def test_write_demo_replaces_an_earlier_demo(tmp_path):
    rules = shipped_rules(tmp_path)
    path = tmp_path / "demo.db"
    first = write_demo(path, seed=1, today=TODAY, rules=rules)
    second = write_demo(path, seed=2, today=TODAY, rules=rules)
    db = open_db(path)
    assert get_meta(db, "demo_seed") == "2"
    assert one(db, "SELECT COUNT(*) FROM staff") == second.staff
    assert one(db, "SELECT COUNT(*) FROM cases") == second.cases
    assert first.cases > 0
    db.close()


def test_generate_demo_needs_an_empty_database_and_a_known_scale(tmp_path):
    rules = shipped_rules(tmp_path)
    db = open_db(tmp_path / "x.db")
    with pytest.raises(ValidationError, match="scale"):
        generate_demo(db, scale="region", today=TODAY, now_iso=NOW_ISO, rules=rules)
    generate_demo(db, today=TODAY, now_iso=NOW_ISO, rules=rules)
    with pytest.raises(SpoError, match="empty"):
        generate_demo(db, today=TODAY, now_iso=NOW_ISO, rules=rules)
    db.close()


# --- A PDU ---------------------------------------------------------------------------------------


def test_pdu_scale(tmp_path):
    rules = shipped_rules(tmp_path)
    # How long it takes is the benchmark's business (bench/run.py builds it too), not a test's.
    summary = write_demo(tmp_path / "pdu.db", scale="pdu", today=TODAY, rules=rules)
    assert summary.cases == 5005  # 5000 + the court team's 4 defendants and a custody case [000 §3.2]
    assert 140_000 <= summary.oversight_entries <= 160_000
    assert 14_000 <= summary.open_items <= 16_000
    assert 130 <= summary.staff <= 175
    assert set(summary.open_by_kind) == {"alert", "sbar", "touch_point", "countersign", "task", "action", "supervision"}
    db = open_db(tmp_path / "pdu.db")
    assert one(db, "SELECT COUNT(*) FROM staff WHERE role = 'SPO'") == 11  # ten teams and the court team
    first_spo = one(db, "SELECT id FROM staff WHERE role = 'SPO' ORDER BY rowid LIMIT 1")
    assert context(db, rules).actor["id"] == first_spo
    # The court team [000 §3.2]: its SPO, reports on the day (one oral), a PSR peer-gatekept.
    assert queries.team_kind(db, "Court Team") == "court"
    assert one(db, "SELECT COUNT(*) FROM staff WHERE team = 'Court Team' AND role = 'SPO'") == 1
    today_psrs = store_rows.all_rows(
        db,
        "SELECT i.due, c.court_time, c.oral FROM countersigns c JOIN items i ON i.id = c.item_id"
        " JOIN cases ca ON ca.crn = i.crn JOIN staff s ON s.id = ca.practitioner_id"
        " WHERE c.kind = 'PSR' AND c.court_date = ? AND s.team = 'Court Team'",
        [TODAY.isoformat()],
    )
    assert len(today_psrs) == 2 and sum(r["oral"] for r in today_psrs) == 1  # the court team's (others' may be too)
    assert all(r["due"] == TODAY.isoformat() and r["court_time"] for r in today_psrs)
    assert one(db, "SELECT COUNT(*) FROM countersign_history h JOIN countersigns c ON c.item_id = h.item_id"
               " WHERE h.new_state = 'GATEKEPT' AND h.by_id = c.gatekeeper_id") >= 1  # fmt: skip
    assert one(db, "SELECT COUNT(*) FROM cases WHERE sentence_type = 'PRE_SENTENCE'") == 4
    assert one(db, "SELECT MIN(created_at) FROM oversight_entries") < (TODAY - timedelta(days=3 * 365)).isoformat()
    assert one(db, "SELECT COUNT(*) FROM cases WHERE crn NOT GLOB '[A-Z][0-9][0-9][0-9][0-9][0-9][0-9]'") == 0
    db.close()
