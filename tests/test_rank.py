"""The order of the queue (issue #12, part 1): time-critical work above calendar backlog, and touch
points inherited long overdue (a caseload imported on day one) on a catch-up list below ordinary work.

The domain's rules for the tiers are tested in ``test_urgency.py`` and the SQL's agreement with them
in ``test_scoring.py``; here the behaviour a user sees: the CLI on the team demo, the import report,
the catch-up view on the Today screen, and a store from before the tiers brought forward.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import HIGH_CRN, LOW_CRN, NOW, PO, TODAY, fixed_clock, insert_spo, link_me, read_rows, ui_team

from spo_tui.app import SpoApp
from spo_tui.services import intake, refresh
from spo_tui.services.context import make_context
from spo_tui.services.queue import build_queue
from spo_tui.store import queries
from spo_tui.store.db import open_db
from spo_tui.store.schema import migrations


def run(tmp_path: Path, *args: str, rules: Path | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SPO_TUI_TODAY": "2026-11-23",
        "SPO_TUI_RULES": str(rules or tmp_path / "no-rules.toml"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
    }
    env.pop("SPO_TUI_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", *args], capture_output=True, text=True, env=env, timeout=120
    )


# --- The team demo: every urgent SBAR above every touch point --------------------------------------


@pytest.mark.parametrize("seed", ["1", "7"])
def test_on_the_team_demo_every_urgent_sbar_ranks_above_every_touch_point(tmp_path, seed):
    """Issue #12: "Late back to approved premises: recall decision needed" ranked 12th, below nine
    touch points up to 109 days overdue."""
    path = tmp_path / "demo.db"
    made = run(tmp_path, "demo", "--db", str(path), "--seed", seed)
    assert made.returncode == 0, made.stderr
    result = run(tmp_path, "--db", str(path), "queue", "--json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    urgent = {
        r[0]
        for r in read_rows(
            path,
            "SELECT i.id FROM items i JOIN sbars s ON s.item_id = i.id "
            "WHERE s.urgency = 'urgent' AND i.status = 'open'",
        )
    }
    ids = [i["id"] for i in items]
    assert len(urgent) >= 2 and urgent <= set(ids)
    last_urgent = max(ids.index(i) for i in urgent)
    first_touch_point = min(n for n, i in enumerate(items) if i["kind"] == "touch_point")
    assert last_urgent < first_touch_point
    # Alerts still first; and each urgent SBAR says why it ranks where it does.
    assert [i["kind"] for i in items[:2]] == ["alert", "alert"]
    for item in items:
        if item["id"] in urgent:
            assert item["reasons"][0] == {"reason": "time-critical: an SBAR marked urgent", "points": 1000}
            assert item["catch_up"] is False


# --- The import report and the catch-up list -----------------------------------------------------

STAFF = "name,role\nSian Roberts,SPO\nPriya Shah,PO\nTom Evans,PO\n"

#: On Monday 23/11/2026. First touch points fall due 21 days after commencement.
CASES = """crn,name,practitioner,rosh,sentence_type,sentence_start
A100001,Daniel Price,Priya Shah,VERY_HIGH,COMMUNITY_ORDER,01/06/2026
A100002,Leanne Carter,Priya Shah,MEDIUM,COMMUNITY_ORDER,01/08/2026
A100003,Marcus Bell,Tom Evans,LOW,COMMUNITY_ORDER,23/10/2026
A100004,Sophie Turner,Tom Evans,HIGH,COMMUNITY_ORDER,16/11/2026
"""
# A100001: first touch point due 22/06 (154 days overdue) and a quarterly review due 01/09 (83 days):
#          both on the catch-up list.
# A100002: first touch point due 22/08 (93 days overdue): catch-up.
# A100003: first touch point due 13/11 (10 days overdue): overdue, but not by more than 14 days.
# A100004: first touch point due 07/12: not yet due.


def test_importing_a_caseload_says_how_many_touch_points_are_overdue_and_keeps_them_below_todays_work(tmp_path):
    db = tmp_path / "spo.db"
    (tmp_path / "staff.csv").write_text(STAFF, encoding="utf-8")
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    assert run(tmp_path, "--db", str(db), "import", "staff", str(tmp_path / "staff.csv")).returncode == 0
    result = run(tmp_path, "--db", str(db), "import", "cases", str(tmp_path / "cases.csv"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Import cases from cases.csv: 4 rows: 4 added, 0 updated, 0 unchanged.",
        "5 touch points made, 4 already overdue (3 by more than 14 days: on the catch-up list, below today's work); "
        "4 supervision sessions due.",
    ]
    catch_up = read_rows(db, "SELECT i.crn, i.due FROM items i WHERE i.catch_up = 1 ORDER BY i.due")
    assert catch_up == [("A100001", "2026-06-22"), ("A100002", "2026-08-22"), ("A100001", "2026-09-01")]

    # Work raised today ranks above the inherited backlog.
    added = run(
        tmp_path, "--db", str(db), "add", "task", "--title", "Fire door wedged open", "--category", "health_safety"
    )
    assert added.returncode == 0, added.stderr
    items = json.loads(run(tmp_path, "--db", str(db), "queue", "--json").stdout)
    flags = [i["catch_up"] for i in items]
    assert flags == sorted(flags) and flags.count(True) == 3  # the catch-up list is the bottom of the queue
    assert items[-3]["crn"] == "A100001" and items[-3]["reasons"][0] == {
        "reason": "on the catch-up list: long overdue when it reached the queue",
        "points": -1000,
    }
    assert [i["crn"] for i in items if i["kind"] == "touch_point" and not i["catch_up"]] == ["A100003", "A100004"]

    # The catch-up list alone, as a script would work through it.
    only = json.loads(run(tmp_path, "--db", str(db), "queue", "--json", "--catch-up").stdout)
    assert [(i["crn"], i["due"]) for i in only] == [
        ("A100001", "2026-06-22"),
        ("A100001", "2026-09-01"),
        ("A100002", "2026-08-22"),
    ]
    text = run(tmp_path, "--db", str(db), "queue", "--catch-up", "--kind", "touch_point")
    assert len(text.stdout.splitlines()) == 3 and "Catch-up" not in text.stderr

    # Importing the same file again makes nothing and says nothing about touch points.
    again = run(tmp_path, "--db", str(db), "import", "cases", str(tmp_path / "cases.csv"))
    assert again.stdout.splitlines() == ["Import cases from cases.csv: 4 rows: 0 added, 0 updated, 4 unchanged."]


def test_a_touch_point_extract_marks_the_long_overdue_ones(ctx, tmp_path):
    from spo_tui.services.importer import import_file

    path = tmp_path / "tp.csv"
    path.write_text(
        f"crn,due,reason\n{HIGH_CRN},01/09/2026,quarterly\n{LOW_CRN},16/11/2026,manual\n{LOW_CRN},30/11/2026,manual\n",
        encoding="utf-8",
    )
    report = import_file(ctx, "touchpoints", path)
    assert report.render() == (
        "Import touchpoints from tp.csv: 3 rows: 3 added, 0 updated, 0 unchanged; 2 already "
        "overdue (1 by more than 14 days: on the catch-up list, below today's work)."
    )
    assert ctx.db.execute("SELECT crn, due FROM items WHERE catch_up = 1").fetchall() == [(HIGH_CRN, "2026-09-01")]


def test_the_refresh_marks_only_touch_points_overdue_by_more_than_the_configured_days(ctx):
    """X123456 (HIGH, from 01/08/2026): first touch point due 22/08, quarterly review 01/11, both more
    than 14 days past; Y654321 (from 10/11/2026): first touch point due 01/12."""
    made = refresh.refresh_counted(ctx)
    assert (made.touch_points, made.overdue, made.catch_up) == (3, 2, 2)
    assert ctx.db.execute(
        "SELECT crn, reason, catch_up FROM items i JOIN touch_points t ON t.item_id = i.id ORDER BY due"
    ).fetchall() == [(HIGH_CRN, "commencement", 1), (HIGH_CRN, "quarterly", 1), (LOW_CRN, "commencement", 0)]
    audit = ctx.db.execute("SELECT new FROM audit_log WHERE action = 'refresh_due_work'").fetchall()
    assert [json.loads(a[0]) for a in audit] == [{"created": made.items, "catch_up": 2}]


def test_with_a_longer_catch_up_window_fewer_touch_points_go_on_the_list(db, tmp_path, monkeypatch):
    (tmp_path / "rules.toml").write_text("[touch_points]\ncatch_up_after_days = 30\n", encoding="utf-8")
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "rules.toml"))
    from spo_tui.config import load_rules

    rules = load_rules()
    insert_spo(db)
    ctx = make_context(db, rules, clock=fixed_clock(NOW))
    intake.add_staff(ctx, PO, "PO")
    intake.add_case(ctx, HIGH_CRN, "Alex Example", PO, "HIGH", "LICENCE", "2026-08-01")  # 22/08 and 01/11: 93, 22 days
    made = refresh.refresh_counted(ctx)
    assert (made.touch_points, made.overdue, made.catch_up) == (2, 2, 1)
    assert db.execute(
        "SELECT t.reason FROM items i JOIN touch_points t ON t.item_id = i.id WHERE i.catch_up = 1"
    ).fetchall() == [("commencement",)]


def test_the_catch_up_count_and_a_change_of_the_mark_rescore_at_once(ctx):
    refresh.refresh_due_work(ctx)
    sbar = intake.raise_sbar(ctx, LOW_CRN, PO, "S", "B", "A", "R").item_id
    counts = queries.queue_counts(ctx.db, ctx.today, ctx.decider["id"])
    assert counts["catch_up"] == (2, 2) and counts["touch_point"] == (3, 2)
    shown = [(e.kind.value, e.row.catch_up) for e in build_queue(ctx, kind="touch_point")]
    assert shown == [("touch_point", 0), ("touch_point", 1), ("touch_point", 1)]
    assert [e.row.catch_up for e in build_queue(ctx)][-2:] == [1, 1] and build_queue(ctx)[0].id == sbar
    # Taken off the list (as by hand in the database): the trigger clears its score, and it is rescored.
    [first] = [e.id for e in build_queue(ctx, status="catch_up")][:1]
    with ctx.db.atomic():
        ctx.db.execute("UPDATE items SET catch_up = 0 WHERE id = ?", [first])
    assert [e.id for e in build_queue(ctx)][0] == first
    assert [e.id for e in build_queue(ctx, status="catch_up")] != [first]
    assert sbar in [e.id for e in build_queue(ctx)]


# --- The Today screen: the catch-up view -----------------------------------------------------------


@pytest.fixture
def inherited_db(tmp_path, monkeypatch):
    """The UI team (X123456 on licence since 01/10/2026: first and release touch points long past,
    made by the refresh) with an SBAR and a touch point of today's work."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    made = refresh.refresh_counted(ctx)
    assert made.catch_up == 2
    ids = {
        "sbar": intake.raise_sbar(ctx, "Y123456", "Pat Officer", "Moved address", "B", "A", "R").item_id,
        "touch_point": intake.add_touch_point(ctx, "Y123456", "2026-11-25", "Check new address").item_id,
        "catch_up": [r[0] for r in ctx.db.execute("SELECT id FROM items WHERE catch_up = 1 ORDER BY due")],
    }
    ctx.db.close()
    return path, ids


async def test_the_catch_up_view_lists_the_inherited_touch_points_to_work_through(inherited_db):
    path, ids = inherited_db
    app = SpoApp(path, clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        # All: today's work first (supervision the rules made too), the catch-up list at the bottom.
        shown = [e.id for e in screen.entries]
        assert set(shown[-2:]) == set(ids["catch_up"]) and len(shown) > 4
        assert shown[0] == ids["sbar"] and ids["touch_point"] in shown[:-2]
        assert "Catch-up 2" in str(screen.query_one("#summary").render())
        filters = screen.query_one("#filters")
        assert "C Catch-up" in str(filters.render())

        await pilot.press("C")
        await pilot.pause()
        assert filters.active == "catch_up"
        assert sorted(e.id for e in screen.entries) == sorted(ids["catch_up"])
        await pilot.pause(0.2)  # the detail pane follows the cursor after a moment
        detail = " ".join(screen.query_one("#detail").text.split())
        assert "on the catch-up list: long overdue when it reached the queue" in detail
        assert "On the catch-up list: already 46 days overdue when it reached the queue on 23/11/2026" in detail

        # Worked through from the list: waived with a reason, it leaves the list and the count.
        first = screen.entries[0].id
        await pilot.press("w")
        await pilot.pause()
        await pilot.press(*"Seen at the MAPPA meeting on 20/11", "enter")
        await pilot.pause()
        assert [e.id for e in screen.entries] == [i for i in ids["catch_up"] if i != first]
        assert "Catch-up 1" in str(screen.query_one("#summary").render())
    assert read_rows(path, "SELECT status, catch_up FROM items WHERE id = ?", [first]) == [("closed", 1)]


# --- A store from before the tiers ---------------------------------------------------------------


def test_a_store_from_before_the_tiers_ranks_its_urgent_sbar_first_on_the_first_read(tmp_path, rules):
    path = tmp_path / "old.db"
    old = open_db(path, migrate=False)
    migrations.apply(old, stop_before="0009_catch_up")
    insert_spo(old)
    link_me(old)
    ctx = make_context(old, rules, clock=fixed_clock(NOW))
    intake.add_staff(ctx, PO, "PO")
    intake.add_case(
        ctx, HIGH_CRN, "Alex Example", PO, "VERY_HIGH", "COMMUNITY_ORDER", "2026-01-05", mappa_category=2, mappa_level=3
    )
    backlog = intake.add_touch_point(ctx, HIGH_CRN, TODAY - timedelta(days=60), "Quarterly review").item_id
    sbar = intake.raise_sbar(
        ctx, HIGH_CRN, PO, "Partner rang: he is outside her house now", "B", "A", "R", urgency="urgent"
    ).item_id
    # Scored and stored the old way (no tiers): the touch point on top.
    old_weights = {k: v for k, v in rules.urgency.items() if k not in ("time_critical", "catch_up")}
    stored = {"day": TODAY.isoformat(), "weights": old_weights, "by": "Sam Spo"}
    old.execute(
        "INSERT INTO meta(key, value) VALUES ('urgency_basis', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [json.dumps(stored, sort_keys=True)],
    )
    old.execute("UPDATE items SET urgency = CASE id WHEN ? THEN 200 ELSE 150 END", [backlog])
    old.conn.commit()
    old.close()

    db = open_db(path)
    try:
        assert db.execute("SELECT COUNT(*) FROM items WHERE catch_up = 1").fetchone()[0] == 0  # nothing guessed
        ctx = make_context(db, rules, clock=fixed_clock(NOW))
        assert [e.id for e in build_queue(ctx)] == [sbar, backlog]
        assert dict(db.execute("SELECT id, urgency FROM items").fetchall())[sbar] > 1000  # stored again, with the tier
    finally:
        db.close()


def test_a_refused_rules_file_says_which_key_and_why(tmp_path):
    (tmp_path / "rules.toml").write_text("[urgency.time_critical]\npoints = 100\n", encoding="utf-8")
    open_db(tmp_path / "x.db").close()
    result = run(tmp_path, "--db", str(tmp_path / "x.db"), "queue", rules=tmp_path / "rules.toml")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "spo-tui: rules: [urgency.time_critical] points must be a whole number more than 240 (the most other work "
        "can score with these weights), not 100: else backlog could rank above time-critical work"
    ]


async def test_the_admin_screens_import_says_what_touch_points_the_cases_made(tmp_path, monkeypatch):
    from spo_tui.screens.admin import IMPORT_KINDS

    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ui_team(path).db.close()
    csv_path = tmp_path / "cases.csv"
    csv_path.write_text(
        "crn,name,practitioner,rosh,sentence_type,sentence_start\n"
        "A100001,Daniel Price,Pat Officer,VERY_HIGH,COMMUNITY_ORDER,01/06/2026\n",
        encoding="utf-8",
    )
    app = SpoApp(path, actor="Cas Admin", clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("m")  # the admin screen
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press(str([kind for kind, _label in IMPORT_KINDS].index("cases") + 1))
        await pilot.pause()
        await pilot.press(*str(csv_path), "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")  # past the check's report
        await pilot.pause()
        await pilot.press("y")  # import
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        said = [n.message for n in app._notifications]
    assert any(
        m.startswith("Import cases from cases.csv: 1 row: 1 added")
        and m.endswith(
            "\n2 touch points made, 2 already overdue (2 by more than 14 days: on the catch-up list, below today's work)."
        )
        for m in said
    ), said
    assert read_rows(path, "SELECT due, catch_up FROM items WHERE crn = 'A100001' ORDER BY due") == [
        ("2026-06-22", 1),
        ("2026-09-01", 1),
    ]
