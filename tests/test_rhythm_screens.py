"""The team-rhythm screens driven on the seed-1 demo team: what each shows, counted again from the
raw rows, and that each key writes through its service.

One demo per module, enriched through the services with two protected-hour bookings and a few
check-in notes; a test that writes works on its own copy. Snapshots at 80×24 and 120×40 (the
check-in timer is never started in them). Regenerate after an intended change with
``pytest tests/test_rhythm_screens.py --snapshot-update`` and look at the report.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import NOW, clock
from textual.widgets import DataTable, Input, Label, Sparkline, Static, TabbedContent

from spo_tui.app import SpoApp
from spo_tui.config import load_rules
from spo_tui.demo import write_demo
from spo_tui.domain.coverage import INSPECTORATE_SUFFICIENT, INSPECTORATE_SUFFICIENT_OVERALL
from spo_tui.domain.dates import next_working_day
from spo_tui.screens.checkin import CheckinScreen, clock_text, split_crn
from spo_tui.screens.monthly import MonthlyScreen, answers_text
from spo_tui.screens.protected_hour import ProtectedHourScreen
from spo_tui.screens.supervision import RecordSupervisionForm, SupervisionScreen
from spo_tui.screens.team import CoverageGrid, TeamScreen
from spo_tui.services import decisions, rhythm, team
from spo_tui.services.context import make_context
from spo_tui.services.queue import build_queue
from spo_tui.store.db import open_db

TODAY = date(2026, 11, 23)
SIZES = [(80, 24), (120, 40)]
TEAM = "Team A"


@pytest.fixture(scope="module")
def rich_demo(tmp_path_factory):
    """The demo, then through the services: two SBARs booked into today's protected hour; wellbeing,
    a success, two escalations (one answered), learning, a near miss and an action."""
    folder = tmp_path_factory.mktemp("rhythm")
    rules = load_rules(folder / "no-user-rules.toml")
    path = folder / "demo.db"
    write_demo(path, seed=1, scale="team", today=TODAY, rules=rules)
    db = open_db(path)
    ctx = make_context(db, rules, clock=clock)
    sbars = build_queue(ctx, kind="sbar")
    decisions.book_protected_hour(ctx, sbars[0].id)
    decisions.book_protected_hour(ctx, sbars[2].id)
    rhythm.add_team_note(ctx, "wellbeing", "Lee back after a hard week")
    rhythm.add_team_note(ctx, "success", "Parole report praised")
    alarm = rhythm.add_team_note(ctx, "escalation", "Interview room 3 alarm broken").item_id
    rhythm.answer_escalation(ctx, alarm, "Estates fix it Friday")
    rhythm.add_team_note(ctx, "escalation", "Need a second CASPO day")
    rhythm.add_team_note(ctx, "learning", "Check licence conditions before a home visit")
    rhythm.add_team_note(ctx, "near_miss", "PSR nearly went to court without gatekeeping")
    rhythm.add_team_note(ctx, "action", "Book the MAPPA training", owner="Fiona Allen", due="fri")
    db.close()
    return path


@pytest.fixture
def demo_copy(rich_demo, tmp_path):
    path = tmp_path / "demo.db"
    shutil.copy(rich_demo, path)
    return path


def raw(path: Path, sql: str, params=()) -> list[dict]:
    """Rows straight from the file, with no service in between."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params).fetchall()]
    finally:
        con.close()


def service_ctx(path: Path):
    """A context of the test's own, to compare with what the service says (opened after the app closed)."""
    db = open_db(path, migrate=False)
    return make_context(db, load_rules(), clock=clock)


def one_session_practitioner(path: Path) -> str:
    """The first practitioner (by name) with one open supervision item, a one-to-one, and no session
    postponed in the last year (who that is depends on the demo's seed)."""
    return raw(
        path,
        """SELECT s.name FROM staff s JOIN supervision sv ON sv.practitioner_id = s.id JOIN items i ON i.id = sv.item_id
           GROUP BY s.id
           HAVING SUM(i.status = 'open') = 1 AND SUM(i.status = 'open' AND sv.kind = 'one_to_one') = 1
              AND SUM(sv.postponed) = 0
           ORDER BY s.name LIMIT 1""",
    )[0]["name"]


async def start(path: Path, screen, size=(120, 40)):
    app = SpoApp(path, clock=clock)
    pilot_cm = app.run_test(size=size)
    pilot = await pilot_cm.__aenter__()
    await pilot.pause()
    await app.push_screen(screen)
    await pilot.pause()
    return app, pilot, pilot_cm


def rows_of(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]


def column(table: DataTable, index: int) -> list[str]:
    return [r[index] for r in rows_of(table)]


async def highlight(pilot, table: DataTable, name: str) -> int:
    """Put the cursor on the row whose first cell is ``name``; its row number."""
    row = column(table, 0).index(name)
    table.move_cursor(row=row)
    await pilot.pause()
    return row


async def choose(pilot, key: str) -> None:
    await pilot.pause()
    await pilot.press(key)
    await pilot.pause()


# --- Independent counts ------------------------------------------------------------------------


def last_valid_entries(path: Path, until: date) -> dict[str, str]:
    """CRN -> time of its latest oversight entry up to ``until``, neither withdrawn nor withdrawing."""
    entries = raw(path, "SELECT id, crn, outcome, supersedes_id, created_at FROM oversight_entries")
    withdrawn = {e["supersedes_id"] for e in entries if e["outcome"] == "withdrawn"}
    last: dict[str, str] = {}
    for e in entries:
        if (
            e["crn"]
            and e["outcome"] != "withdrawn"
            and e["id"] not in withdrawn
            and e["created_at"][:10] <= until.isoformat()
        ):
            last[e["crn"]] = max(last.get(e["crn"], ""), e["created_at"])
    return last


#: The team the demo opens as; the court team beside it is its own SPO's [000 §3.2].
DEMO_TEAM = "Team A"


def current_cases(path: Path, on: date) -> list[dict]:
    """The current cases of the demo SPO's team."""
    return [
        c
        for c in raw(
            path, "SELECT c.* FROM cases c JOIN staff s ON s.id = c.practitioner_id WHERE s.team = ?", [DEMO_TEAM]
        )
        if c["sentence_start"] <= on.isoformat() and (c["sentence_end"] is None or c["sentence_end"] >= on.isoformat())
    ]


def team_items(path: Path) -> list[dict]:
    """The items of the demo SPO's team: by the case's practitioner, else the supervisee, else the raiser."""
    team_of = {s["id"]: s["team"] for s in raw(path, "SELECT id, team FROM staff")}
    case_pp = {c["crn"]: c["practitioner_id"] for c in raw(path, "SELECT crn, practitioner_id FROM cases")}
    supervisee = {
        s["item_id"]: s["practitioner_id"] for s in raw(path, "SELECT item_id, practitioner_id FROM supervision")
    }
    return [
        i
        for i in raw(path, "SELECT * FROM items")
        if team_of.get(case_pp.get(i["crn"]) or supervisee.get(i["id"]) or i["raised_by"]) == DEMO_TEAM
    ]


def coverage_by_hand(path: Path, as_of: date, days: int) -> dict[str, tuple[int, int]]:
    """Key (RoSH, band or ALL) -> (cases, seen), by a loop over the cases and their last entry."""
    since = (as_of - timedelta(days=days)).isoformat()
    last = last_valid_entries(path, as_of)
    cases, seen = Counter(), Counter()
    for c in current_cases(path, as_of):
        cases[c["rosh"]] += 1
        seen[c["rosh"]] += c["crn"] in last and last[c["crn"]] >= since
    out = {k: (cases[k], seen[k]) for k in ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")}
    out["HIGH_VERY_HIGH"] = (cases["HIGH"] + cases["VERY_HIGH"], seen["HIGH"] + seen["VERY_HIGH"])
    out["ALL"] = (sum(cases.values()), sum(seen.values()))
    return out


BENCHMARK = {
    **INSPECTORATE_SUFFICIENT,
    "HIGH_VERY_HIGH": INSPECTORATE_SUFFICIENT["HIGH"],
    "ALL": INSPECTORATE_SUFFICIENT_OVERALL,
}


def pct(cases: int, seen: int) -> str:
    return f"{100 * seen / cases:.0f}%"


def grid_text(screen, grid_id: str, key: str, col: str) -> str:
    return str(screen.query_one(f"#{grid_id}-{key}-{col}", Label).render())


# --- Check-in ----------------------------------------------------------------------------------


def test_a_note_may_start_with_the_case_it_is_about():
    assert split_crn("x123456: moved out") == ("X123456", "moved out")
    assert split_crn("Team lunch on Friday") == (None, "Team lunch on Friday")
    assert split_crn("X123456") == (None, "X123456")  # a CRN alone is the note's text
    assert (clock_text(900), clock_text(899.2), clock_text(90), clock_text(0)) == ("15:00", "15:00", "01:30", "00:00")


async def test_checkin_shows_todays_agenda_from_the_store(rich_demo):
    path = rich_demo
    today = TODAY.isoformat()
    absent = raw(
        path,
        """SELECT s.id, s.name FROM absences a JOIN staff s ON s.id = a.staff_id
                          WHERE a.start_date <= ? AND a.end_date >= ?""",
        [today, today],
    )
    [(absent_id, absent_name)] = [(a["id"], a["name"]) for a in absent]
    their_work = raw(
        path,
        """SELECT i.crn FROM items i LEFT JOIN cases c ON c.crn = i.crn LEFT JOIN supervision sv ON sv.item_id = i.id
                              WHERE (c.practitioner_id = ? OR sv.practitioner_id = ?) AND i.status != 'closed'
                              AND i.due <= ? ORDER BY i.due, i.id""",
        [absent_id, absent_id, today],
    )
    alerts = raw(path, "SELECT crn FROM items WHERE kind = 'alert' AND status = 'open'")
    rises = raw(  # touch points a rise in risk made this week (the case newly at MAPPA level 2)
        path,
        """SELECT i.crn FROM items i JOIN touch_points t ON t.item_id = i.id
           WHERE t.reason IN ('rosh_rise', 'mappa_rise') AND i.created_at >= '2026-11-17'""",
    )
    psrs = raw(  # Team A's: the court team's reports are its own SPO's [000 §3.2]
        path,
        """SELECT i.crn FROM items i JOIN countersigns cs ON cs.item_id = i.id JOIN cases c ON c.crn = i.crn
                        JOIN staff pp ON pp.id = c.practitioner_id
                        WHERE cs.kind = 'PSR' AND i.status != 'closed' AND cs.court_date <= '2026-11-25'
                          AND pp.team = 'Team A'""",
    )
    sbars = raw(
        path,
        """SELECT i.id, s.urgency FROM items i JOIN sbars s ON s.item_id = i.id
                         WHERE i.status = 'open' AND (i.snoozed_until IS NULL OR i.snoozed_until <= ?)""",
        [today],
    )
    touch_points = raw(
        path,
        """SELECT id FROM items WHERE kind = 'touch_point' AND status = 'open' AND due <= ?
                                AND (snoozed_until IS NULL OR snoozed_until <= ?)""",
        [today, today],
    )
    notes = raw(path, "SELECT kind, text FROM team_notes WHERE day = ? ORDER BY created_at, rowid", [today])
    ctx = service_ctx(path)
    try:  # the week's wellbeing and successes and the open escalations (the demo's check-ins have some)
        agenda = rhythm.checkin_agenda(ctx)
        team_count = len(agenda.wellbeing) + len(agenda.successes) + len(agenda.escalations)
        concerns = len(agenda.concerns)  # the week's concerns are read with the decisions
        team_expected = (
            [("Wellbeing", n.text) for n in agenda.wellbeing]
            + [("Success", n.text) for n in agenda.successes]
            + [("Escalation", f"{t.note.text} (awaiting an answer)") for t in agenda.escalations]
        )
    finally:
        ctx.db.close()

    app, pilot, cm = await start(path, CheckinScreen())
    try:
        screen = app.screen
        tabs = screen.query_one(TabbedContent)
        labels = [str(tabs.get_tab(p).label) for p in ("absences", "risk", "decisions", "team", "notes")]
        assert labels == [
            "1 Absences (1)",
            f"2 Risk points ({len(alerts) + len(rises) + len(psrs)})",
            f"3 Decisions ({len(sbars) + len(touch_points) + concerns})",
            f"4 Team ({team_count})",
            f"5 Notes ({len(notes)})",
        ]
        absences = rows_of(screen.query_one("#absences-table", DataTable))
        assert absences[0][0].startswith(absent_name) and absences[0][3] == f"{len(their_work)} to cover"
        assert [r[1] for r in absences[1:]] == [w["crn"] or "" for w in their_work]
        assert all(r[3] == "not covered" for r in absences[1:])

        risk = rows_of(screen.query_one("#risk-table", DataTable))
        assert sorted(r[1] for r in risk if r[0] == "Alert") == sorted(a["crn"] for a in alerts)
        assert sorted(r[1] for r in risk if r[0] == "PSR due in court") == sorted(p["crn"] for p in psrs)

        decided = rows_of(screen.query_one("#decisions-table", DataTable))
        urgency = [r[2].split(",")[0] for r in decided if r[0] == "SBAR"]
        rank = {"urgent": 0, "soon": 1, "routine": 2}
        assert sorted(urgency, key=rank.get) == urgency and len(urgency) == len(sbars)
        assert Counter(urgency) == Counter(s["urgency"] for s in sbars)
        assert [r[0] for r in decided] == ["SBAR"] * len(sbars) + ["Touch point"] * len(touch_points) + [
            "Concern"
        ] * concerns

        team_rows = rows_of(screen.query_one("#team-table", DataTable))
        assert [(r[0], r[2]) for r in team_rows] == team_expected
        assert {
            ("Wellbeing", "Lee back after a hard week"),
            ("Success", "Parole report praised"),
            ("Escalation", "Need a second CASPO day (awaiting an answer)"),
        } <= set(team_expected)
        assert column(screen.query_one("#notes-table", DataTable), 1) == [n["text"] for n in notes]

        # Cover applies to a piece of work, not to the absence itself.
        assert screen.check_action("cover", ()) is None
        screen.query_one("#absences-table", DataTable).move_cursor(row=1)
        await pilot.pause()
        assert screen.check_action("cover", ()) is True
        await pilot.press("5")
        await pilot.pause()
        assert tabs.active == "notes" and screen.query_one("#notes-table", DataTable).has_focus

        # The 15-minute timer: a warning at two minutes, an error at the end; s pauses and restarts it.
        timer = screen.query_one("#timer", Static)
        assert str(timer.render()) == "Timer 15:00 · s to start" and not screen.running
        moment = [1000.0]
        screen.monotonic = lambda: moment[0]
        await pilot.press("s")
        assert screen.running and str(timer.render()) == "Timer 15:00"
        moment[0] += 13.5 * 60
        screen._tick()
        assert str(timer.render()) == "Timer 01:30" and timer.has_class("-warning") and not timer.has_class("-error")
        await pilot.press("s")  # pause
        moment[0] += 600
        screen._tick()
        assert str(timer.render()) == "Timer 01:30 paused"
        await pilot.press("s")
        moment[0] += 90
        screen._tick()
        assert str(timer.render()) == "Timer 00:00 time is up" and timer.has_class("-error") and not screen.running
    finally:
        await cm.__aexit__(None, None, None)


async def test_cover_reallocates_an_absent_practitioners_work_and_the_export_says_so(demo_copy):
    ctx = service_ctx(demo_copy)
    try:
        [absence] = rhythm.checkin_agenda(ctx).absences
        left = absence.uncovered - 1
    finally:
        ctx.db.close()
    app, pilot, cm = await start(demo_copy, CheckinScreen())
    try:
        screen = app.screen
        table = screen.query_one("#absences-table", DataTable)
        table.move_cursor(row=1)
        await pilot.pause()
        item_id = screen.current.item_id
        await pilot.press("c")
        await choose(pilot, "1")  # the first practitioner at work, by name
        assert rows_of(table)[1][3] == "Andrew White"
        assert rows_of(table)[0][3] == (f"{left} to cover" if left else "all covered")
        assert len(app.undo_stack) == 1
        await pilot.press("x")
        await pilot.pause()
    finally:
        await cm.__aexit__(None, None, None)
    out = demo_copy.parent / "checkin-2026-11-23.md"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    ctx = service_ctx(demo_copy)
    try:
        assert out.read_text(encoding="utf-8") == rhythm.checkin_export(ctx, TEAM)
    finally:
        ctx.db.close()
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Daily check-in: Monday 23/11/2026\n") and ", covered by Andrew White\n" in text
    [cover] = raw(
        demo_copy,
        """SELECT n.item_id, s.name FROM team_notes n JOIN staff s ON s.id = n.owner_id
                                WHERE n.kind = 'cover'""",
    )
    assert cover == {"item_id": item_id, "name": "Andrew White"}
    [audit] = raw(demo_copy, "SELECT id, action FROM audit_log WHERE action = 'reallocate_case_work'")
    assert app.undo_stack == [audit["id"]]


async def test_notes_and_actions_are_written_as_team_notes(demo_copy):
    app, pilot, cm = await start(demo_copy, CheckinScreen())
    try:
        screen = app.screen
        await pilot.press("n")
        await choose(pilot, "4")  # note, wellbeing, success, concern...
        await pilot.press(*"E173006 ok", "enter")
        await pilot.pause()
        decided = rows_of(screen.query_one("#decisions-table", DataTable))
        assert decided[-1][:2] == ["Concern", "E173006"] and decided[-1][4] == "ok"

        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"Ring", "enter")
        await choose(pilot, "1")  # the first member of staff by name
        prompt = app.screen
        prompt.query_one(Input).value = "xx"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is prompt and "xx" in str(prompt.query_one("#prompt-error", Label).render())
        prompt.query_one(Input).value = "fri"
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen) is CheckinScreen
        last_note = rows_of(screen.query_one("#notes-table", DataTable))[-1]
        assert last_note[:4] == ["Action", "Ring", "Alicja Owen", "27/11/2026"]
    finally:
        await cm.__aexit__(None, None, None)
    written = raw(
        demo_copy,
        """SELECT n.kind, n.text, n.crn, n.due, n.item_id, s.name AS owner FROM team_notes n
                                LEFT JOIN staff s ON s.id = n.owner_id WHERE n.kind IN ('concern', 'action')
                                ORDER BY n.rowid""",
    )
    assert [(w["kind"], w["text"], w["crn"], w["due"], w["owner"]) for w in written][-2:] == [
        ("concern", "ok", "E173006", None, None),
        ("action", "Ring", None, "2026-11-27", "Alicja Owen"),
    ]
    [item] = raw(demo_copy, "SELECT kind, status, due FROM items WHERE id = ?", [written[-1]["item_id"]])
    assert item == {"kind": "action", "status": "open", "due": "2026-11-27"}


# --- Protected hour ----------------------------------------------------------------------------


async def test_protected_hour_shows_the_running_order(rich_demo):
    booked = raw(
        rich_demo,
        """SELECT i.id, i.crn, s.urgency, s.booked_for FROM sbars s JOIN items i ON i.id = s.item_id
                               WHERE s.state = 'booked' AND s.booked_for LIKE '2026-11-23%' ORDER BY s.booked_for""",
    )
    app, pilot, cm = await start(rich_demo, ProtectedHourScreen())
    try:
        screen = app.screen
        table = screen.query_one("#slots", DataTable)
        got = rows_of(table)
        assert column(table, 0) == [f"13:{m}0–{'13:' + str(m + 1) + '0' if m < 5 else '14:00'}" for m in range(6)]
        assert [(r[0][:5], r[1], r[2]) for r in got if r[1] != "free"] == [
            (b["booked_for"][11:16], "booked", b["crn"]) for b in booked
        ]
        assert len(booked) == 2 and column(table, 1).count("free") == 4
        title = str(screen.query_one("#ph-title", Static).render())
        assert title == "Mon 23/11/2026 13:00–14:00 · 2 booked (2 to hear) · 4 free"
        assert "S: " in str(screen.query_one("#ph-detail", Static).render())
        assert screen.check_action("decide", ()) is True and screen.check_action("book", ()) is None
        table.move_cursor(row=3)
        await pilot.pause()
        assert screen.check_action("decide", ()) is None and screen.check_action("book", ()) is True

        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert str(screen.query_one("#ph-title", Static).render()).startswith("Tue 24/11/2026")
        await pilot.press("left_square_bracket", "left_square_bracket")
        await pilot.pause()
        assert str(screen.query_one("#ph-title", Static).render()).startswith("Fri 20/11/2026")
        assert set(column(table, 1)) == {"past"}
    finally:
        await cm.__aexit__(None, None, None)


async def test_next_free_slot_then_book_an_sbar_into_it(demo_copy):
    app, pilot, cm = await start(demo_copy, ProtectedHourScreen(day=date(2026, 11, 24)))
    try:
        screen = app.screen
        booked_today = {s.item_id for s in rhythm.protected_hour(app.ctx)}
        first_open = next(e for e in build_queue(app.ctx, kind="sbar") if e.id not in booked_today)
        await pilot.press("n")
        await pilot.pause()
        assert screen.day == TODAY and screen.current.start.strftime("%H:%M") == "13:20"
        await pilot.press("b")
        await choose(pilot, "1")
        assert rows_of(screen.query_one("#slots", DataTable))[2][1:3] == ["booked", first_open.row.crn]
    finally:
        await cm.__aexit__(None, None, None)
    assert raw(demo_copy, "SELECT state, booked_for FROM sbars WHERE item_id = ?", [first_open.id]) == [
        {"state": "booked", "booked_for": "2026-11-23T13:20+00:00"}
    ]


async def test_an_outcome_from_the_protected_hour_goes_through_the_oversight_form(demo_copy):
    app, pilot, cm = await start(demo_copy, ProtectedHourScreen())
    try:
        screen = app.screen
        item_id = screen.current.item_id
        await pilot.press("d")
        await pilot.pause()
        assert type(app.screen).__name__ == "OversightForm"
        await pilot.press(*"No recall", "ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert rows_of(screen.query_one("#slots", DataTable))[0][1] == "decided"
        assert screen.check_action("decide", ()) is None
    finally:
        await cm.__aexit__(None, None, None)
    assert raw(demo_copy, "SELECT decision FROM oversight_entries WHERE item_id = ?", [item_id]) == [
        {"decision": "No recall"}
    ]
    assert raw(demo_copy, "SELECT state FROM sbars WHERE item_id = ?", [item_id]) == [{"state": "decided"}]


# --- Supervision -------------------------------------------------------------------------------


async def test_the_planner_matches_the_raw_supervision_rows(rich_demo):
    staff = raw(
        rich_demo,
        "SELECT id, name, role FROM staff WHERE role IN ('PO', 'PSO', 'PQiP', 'NQO') AND team = ? ORDER BY name",
        [DEMO_TEAM],
    )
    held = raw(rich_demo, "SELECT * FROM supervision WHERE held_on IS NOT NULL")
    year_ago = (TODAY - timedelta(days=365)).isoformat()
    app, pilot, cm = await start(rich_demo, SupervisionScreen())
    try:
        screen = app.screen
        got = rows_of(screen.query_one("#plan", DataTable))
        assert [r[0] for r in got] == [s["name"] for s in staff]
        overdue = 0
        for r, s in zip(got, staff, strict=False):
            mine = [h for h in held if h["practitioner_id"] == s["id"]]
            last = date.fromisoformat(max(h["held_on"] for h in mine if h["kind"] == "one_to_one"))
            next_due = next_working_day(last + timedelta(weeks=4 if s["role"] in ("PQiP", "NQO") else 6))
            rpss = sum(1 for h in mine if h["kind"] == "rpss" and h["held_on"] >= year_ago)
            observed = sum(1 for h in mine if h["kind"] == "rpss" and h["held_on"] >= year_ago and h["observation"])
            assert (r[1], r[3], r[4]) == (s["role"], f"{rpss}/4", f"{observed}/1")
            assert (r[6], r[7]) == (f"{last:%d/%m/%Y}", f"{next_due:%d/%m/%Y}")
            late = (TODAY - next_due).days
            assert r[2] == (f"{late}d overdue" if late > 0 else "due today" if late == 0 else f"due in {-late}d")
            overdue += late > 0
            assert ("4-weekly" in r[10]) == (s["role"] in ("PQiP", "NQO"))
        title = str(screen.query_one("#sv-title", Static).render())
        assert title.startswith(f"{len(staff)} practitioners · {overdue} one-to-ones overdue")
    finally:
        await cm.__aexit__(None, None, None)


async def test_book_then_postpone_a_one_to_one(demo_copy):
    name = one_session_practitioner(demo_copy)
    app, pilot, cm = await start(demo_copy, SupervisionScreen())
    try:
        screen = app.screen
        row = await highlight(pilot, screen.query_one("#plan", DataTable), name)
        assert screen.current.name == name
        await pilot.press("b")
        await choose(pilot, "1")  # one-to-one
        await pilot.press(*"fri 10:30", "enter")
        await pilot.pause()
        assert rows_of(screen.query_one("#plan", DataTable))[row][5] == "Fri 27/11 10:30"
        await pilot.press("p")
        await pilot.pause()
        await pilot.press(*"mon", "enter")
        await pilot.pause()
        cells = rows_of(screen.query_one("#plan", DataTable))[row]
        assert (cells[5], cells[9]) == ("Mon 30/11 10:30", "1")
        assert len(app.undo_stack) == 2
    finally:
        await cm.__aexit__(None, None, None)
    assert raw(
        demo_copy,
        """SELECT sv.scheduled_for, sv.postponed, i.due FROM supervision sv JOIN items i ON i.id = sv.item_id
                             JOIN staff s ON s.id = sv.practitioner_id
                             WHERE s.name = ? AND sv.kind = 'one_to_one' AND i.status = 'open'""",
        [name],
    ) == [{"scheduled_for": "2026-11-30T10:30:00Z", "postponed": 1, "due": "2026-11-30"}]


async def test_recording_a_session_writes_an_entry_per_case_discussed(demo_copy):
    name = one_session_practitioner(demo_copy)
    [case] = raw(
        demo_copy,
        """SELECT c.crn FROM cases c JOIN staff s ON s.id = c.practitioner_id
                               WHERE s.name = ? ORDER BY c.crn LIMIT 1""",
        [name],
    )
    [session] = raw(
        demo_copy,
        """SELECT sv.item_id FROM supervision sv JOIN staff s ON s.id = sv.practitioner_id
                                  JOIN items i ON i.id = sv.item_id WHERE s.name = ? AND i.status = 'open'""",
        [name],
    )
    app, pilot, cm = await start(demo_copy, SupervisionScreen())
    try:
        screen = app.screen
        await highlight(pilot, screen.query_one("#plan", DataTable), name)
        await pilot.press("r")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, RecordSupervisionForm)
        await pilot.press(*"Z999999", "tab", "a", "tab", "b", "enter")
        await pilot.pause()
        assert form.cases == [] and "no case" in str(form.query_one("#record-error", Label).render()).lower()
        form.query_one("#case-crn", Input).value = case["crn"]
        await pilot.press("enter")
        await pilot.pause()
        assert form.cases == [(case["crn"], "a", "b")]
        form.query_one("#minutes", Input).value = "60"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert not screen.current.sessions  # held: nothing left to hold for Luke
    finally:
        await cm.__aexit__(None, None, None)
    entries = raw(
        demo_copy,
        """SELECT item_id, crn, outcome, discussed, decision, minutes FROM oversight_entries
                                WHERE created_at = ?""",
        ["2026-11-23T09:00:00Z"],
    )
    assert [(e["item_id"], e["outcome"], e["minutes"]) for e in entries if e["item_id"]] == [
        (session["item_id"], "agreed", 60)
    ]
    [on_case] = [e for e in entries if e["crn"] == case["crn"]]
    assert (on_case["discussed"], on_case["decision"]) == (f"In one-to-one supervision with {name}: a", "b")
    held = raw(demo_copy, "SELECT held_on FROM supervision WHERE item_id = ?", [session["item_id"]])
    assert held == [{"held_on": "2026-11-23"}]


# --- Team and coverage -------------------------------------------------------------------------


async def test_coverage_by_rosh_beside_what_the_inspectorate_found(rich_demo):
    """Presence and sufficiency per RoSH band, with the inspectorate's 23/27/45% shown as what it
    found, never as a floor: nothing is marked "below" it [000, 004]."""
    app, pilot, cm = await start(rich_demo, TeamScreen())
    try:
        screen = app.screen
        await pilot.press("2")
        await pilot.pause()
        share: dict[int, dict[str, float]] = {}
        for days in (90, 30):
            assert screen.days == days
            counts = coverage_by_hand(rich_demo, TODAY, days)
            share[days] = {key: seen / cases for key, (cases, seen) in counts.items()}
            for key, (cases, seen) in counts.items():
                assert grid_text(screen, "coverage-grid", key, "cases") == str(cases)
                assert grid_text(screen, "coverage-grid", key, "unseen") == str(cases - seen)
                assert grid_text(screen, "coverage-grid", key, "percent") == pct(cases, seen)
                assert grid_text(screen, "coverage-grid", key, "benchmark") == f"{BENCHMARK[key]}%"
                assert grid_text(screen, "coverage-grid", key, "sufficient").endswith("%")
            await pilot.press("w")
            await pilot.pause()
        assert not screen.query(".-below")
        assert "The inspectorate found oversight sufficient in 23%" in " ".join(
            str(s.render()) for s in screen.query(Static)
        )
        assert "floor" not in " ".join(str(s.render()) for s in screen.query(Static))
        # A shorter window sees no more cases seen, and in some band fewer.
        assert all(share[30][key] <= share[90][key] for key in share[90])
        assert any(share[30][key] < share[90][key] for key in share[90])
        assert screen.days == 180 and screen.query_one(CoverageGrid).compare is False
    finally:
        await cm.__aexit__(None, None, None)


async def test_unseen_cases_oldest_first_each_a_keystroke_from_a_touch_point(demo_copy):
    last = last_valid_entries(demo_copy, TODAY)
    since = (TODAY - timedelta(days=90)).isoformat()
    unseen = [c for c in current_cases(demo_copy, TODAY) if last.get(c["crn"], "") < since]
    expected = sorted(unseen, key=lambda c: (c["crn"] in last, last.get(c["crn"], ""), c["sentence_start"], c["crn"]))
    app, pilot, cm = await start(demo_copy, TeamScreen())
    try:
        screen = app.screen
        await pilot.press("3")
        await pilot.pause()
        table = screen.query_one("#unseen-table", DataTable)
        assert column(table, 1) == [c["crn"] for c in expected]
        assert str(screen.query_one(TabbedContent).get_tab("unseen").label) == f"3 Not seen ({len(expected)})"
        assert table.has_focus and screen.current_unseen.crn == expected[0]["crn"]
        # The first unseen case with no touch point yet (some have one open already, shown "due ...").
        open_tp = {
            r["crn"] for r in raw(demo_copy, "SELECT crn FROM items WHERE kind = 'touch_point' AND status = 'open'")
        }
        first = next(n for n, c in enumerate(expected) if c["crn"] not in open_tp)
        for _ in range(first):
            await pilot.press("down")
        await pilot.pause()
        assert screen.current_unseen.crn == expected[first]["crn"]
        assert screen.current_unseen.touch_point_id is None
        await pilot.press("t")
        await pilot.pause()
        assert rows_of(table)[first][4] == "due 23/11"
        assert screen.check_action("touch_point", ()) is None  # it has one now
    finally:
        await cm.__aexit__(None, None, None)
    made = raw(
        demo_copy,
        "SELECT status, due, title FROM items WHERE crn = ? AND kind = 'touch_point' AND status = 'open'",
        [expected[first]["crn"]],
    )
    assert made == [{"status": "open", "due": "2026-11-23", "title": "No management oversight recorded yet"}]


async def test_the_team_table_time_spent_and_eight_weeks_of_trends(rich_demo):
    by_pp = defaultdict(Counter)
    for c in current_cases(rich_demo, TODAY):
        by_pp[c["practitioner_id"]][c["rosh"]] += 1
    staff = raw(
        rich_demo,
        "SELECT id, name, oasys_approved FROM staff WHERE role IN ('PO', 'PSO', 'PQiP', 'NQO') AND team = ? ORDER BY name",
        [DEMO_TEAM],
    )
    goods = Counter(r["staff_id"] for r in raw(rich_demo, "SELECT staff_id FROM aqa_ratings WHERE rating = 'GOOD'"))
    items = team_items(rich_demo)
    week_ends = [TODAY - timedelta(days=7 * (7 - k)) for k in range(8)]
    backlog = {}
    for kind in ("touch_point", "countersign", "supervision"):
        backlog[kind] = [
            float(
                sum(
                    1
                    for i in items
                    if i["kind"] == kind
                    and i["created_at"] < (we + timedelta(days=1)).isoformat()
                    and (i["closed_at"] is None or i["closed_at"] >= (we + timedelta(days=1)).isoformat())
                )
            )
            for we in week_ends
        ]
    since = (TODAY - timedelta(days=27)).isoformat()
    delegated = raw(
        rich_demo,
        """SELECT i.title FROM tasks t JOIN items i ON i.id = t.item_id
                                  WHERE t.delegated_at >= ? ORDER BY t.delegated_at, i.id""",
        [since],
    )
    by_name = {s["name"]: s["id"] for s in staff}
    app, pilot, cm = await start(rich_demo, TeamScreen())
    try:
        screen = app.screen
        got = rows_of(screen.query_one("#people-table", DataTable))
        assert [r[0] for r in got] == [s["name"] for s in staff]
        for r, s in zip(got, staff, strict=False):
            mine = by_pp[s["id"]]
            assert r[2] == str(sum(mine.values()))
            assert r[8:12] == [str(mine[k] or "") for k in ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")]
        assert [r[0] for r in got if r[13] == "absent today"] == ["Carl Bibby"]
        # Towards approval [000 §3.3]: the approved say so; the demo's PO at two Good ratings is one away.
        assert [r[0] for r in got if r[12] == "approved"] == [s["name"] for s in staff if s["oasys_approved"]]
        close = [(r[0], r[12]) for r in got if r[12].endswith("Good")]
        assert close and all(label == f"{goods[by_name[n]]} of 3 Good" for n, label in close), close

        await pilot.press("4")
        await pilot.pause()
        time_rows = rows_of(screen.query_one("#time-table", DataTable))
        assert column(screen.query_one("#time-table", DataTable), 0) == [
            "Case oversight",
            "Supervision sessions",
            "Countersigning",
            "Non-operational tasks",
        ]
        spent = screen.spent
        assert [r[1] for r in time_rows] == [f"{c.minutes // 60}h {c.minutes % 60:02d}m" for c in spent.categories]
        assert column(screen.query_one("#delegated-table", DataTable), 0) == [d["title"] for d in delegated]
        await pilot.press("5")
        await pilot.pause()
        for kind, values in backlog.items():
            spark = screen.query_one(f"#spark-{kind}", Sparkline)
            assert list(spark.data) == values and spark.display
        # The demo's countersigns were closed every week of the eight [issue 16 §7]: the line is drawn.
        assert screen.query_one("#spark-countersign_turnaround", Sparkline).display
    finally:
        await cm.__aexit__(None, None, None)


async def test_a_row_added_elsewhere_does_not_move_the_person_under_the_cursor(demo_copy):
    """A practitioner added by another process (a CASPO's staff import, a sync) shows on the screen in
    front as soon as the app sees the change, sorted above the one the SPO has highlighted: the
    cursor stays on that person, so the next key (a to record an AQA rating, say) acts on whom the
    SPO is looking at."""
    from spo_tui.services import intake

    app, pilot, cm = await start(demo_copy, TeamScreen())
    try:
        screen = app.screen
        table = screen.query_one("#people-table", DataTable)
        row = await highlight(pilot, table, "Carl Bibby")
        db = open_db(demo_copy)
        try:
            ctx = make_context(db, load_rules(demo_copy.parent / "none.toml"), clock=clock)
            intake.add_staff(ctx, "Aaron Abbott", "PO", team=DEMO_TEAM)
        finally:
            db.close()
        app._poll_store()  # as its timer does
        await pilot.pause()
        assert column(table, 0)[0] == "Aaron Abbott"
        assert (table.cursor_row, column(table, 0)[table.cursor_row]) == (row + 1, "Carl Bibby")
    finally:
        await cm.__aexit__(None, None, None)


# --- Monthly pack ------------------------------------------------------------------------------


async def test_the_monthly_pack_shows_each_section(rich_demo):
    ctx = service_ctx(rich_demo)
    try:  # the demo's month of check-ins and what the fixture added today
        pack = team.monthly_pack(ctx)
    finally:
        ctx.db.close()
    app, pilot, cm = await start(rich_demo, MonthlyScreen())
    try:
        screen = app.screen
        got = rows_of(screen.query_one("#escalations-table", DataTable))
        assert [r[1] for r in got] == [t.note.text for t in pack.escalations]
        assert {"Interview room 3 alarm broken", "Need a second CASPO day"} <= {r[1] for r in got}
        for r, t in zip(got, pack.escalations, strict=True):
            assert r[2] == (answers_text(t) if t.answered else "awaiting an answer"), r
        assert next(r for r in got if r[1] == "Interview room 3 alarm broken")[2].endswith(": Estates fix it Friday")
        learning = column(screen.query_one("#learning-table", DataTable), 1)
        assert (
            learning == [n.text for n in pack.learning] and "Check licence conditions before a home visit" in learning
        )
        near = column(screen.query_one("#near-table", DataTable), 1)
        assert near == [n.text for n in pack.near_misses] and "PSR nearly went to court without gatekeeping" in near
        actions = rows_of(screen.query_one("#actions-table", DataTable))
        assert len(actions) == len(pack.actions)
        assert ["23/11", "Book the MAPPA training", "open", "Fiona Allen", "27/11/2026"] in actions
        for as_of, col in ((date(2026, 10, 23), "before"), (TODAY, "percent")):
            for key, (cases, seen) in coverage_by_hand(rich_demo, as_of, 90).items():
                assert grid_text(screen, "monthly-coverage", key, col) == pct(cases, seen), (as_of, key)
        assert grid_text(screen, "monthly-coverage", "ALL", "cases") == str(len(current_cases(rich_demo, TODAY)))
        assert screen.query_one("#monthly-body #spark-touch_point", Sparkline).data

        def counted(n: int, one: str, many: str) -> str:
            return f"{n} {one if n == 1 else many}"

        still_open = sum(not t.answered for t in pack.escalations)
        assert str(screen.query_one("#monthly-title", Static).render()) == (
            f"24/10–23/11/2026 · {counted(len(pack.escalations), 'escalation', 'escalations')} ({still_open} open) · "
            f"{len(pack.learning)} learning · {counted(len(pack.near_misses), 'near miss', 'near misses')} · "
            f"{counted(len(pack.actions), 'action', 'actions')}"
        )
    finally:
        await cm.__aexit__(None, None, None)


async def test_answer_an_escalation_then_export_the_pack(demo_copy):
    app, pilot, cm = await start(demo_copy, MonthlyScreen())
    try:
        screen = app.screen
        table = screen.query_one("#escalations-table", DataTable)
        row = [r[1] for r in rows_of(table)].index("Need a second CASPO day")  # awaiting an answer
        table.move_cursor(row=row)
        await pilot.pause()
        escalation = screen.current_escalation.note
        await pilot.press("a")
        await pilot.pause()
        await pilot.press(*"Yes", "enter")
        await pilot.pause()
        assert rows_of(table)[row][2] == "23/11 Ava Khan: Yes"
        await pilot.press("x")
        await pilot.pause()
    finally:
        await cm.__aexit__(None, None, None)
    assert raw(demo_copy, "SELECT text FROM team_notes WHERE answers_id = ?", [escalation.id]) == [{"text": "Yes"}]
    out = demo_copy.parent / "monthly-2026-11-23.md"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    ctx = service_ctx(demo_copy)
    try:
        assert out.read_text(encoding="utf-8") == team.monthly_export(ctx, TODAY, TEAM)
    finally:
        ctx.db.close()
    assert "  - Answered 23/11/2026 by Ava Khan: Yes\n" in out.read_text(encoding="utf-8")


# --- Snapshots ---------------------------------------------------------------------------------

SCREENS = {
    "checkin": CheckinScreen,
    "protected_hour": ProtectedHourScreen,
    "supervision": SupervisionScreen,
    "team": TeamScreen,
    "monthly": MonthlyScreen,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(SCREENS))
def test_snapshot(snap_compare, rich_demo, name, size):
    async def push(pilot) -> None:
        await pilot.pause()
        await pilot.app.push_screen(SCREENS[name]())
        await pilot.pause()

    assert snap_compare(SpoApp(rich_demo, clock=clock), terminal_size=size, run_before=push)


async def test_recording_a_session_booked_for_later_asks_and_enter_does_not_say_yes(demo_copy):
    """Issue #12: a session booked in three days' time was recorded at once with "0 cases discussed"."""
    app, pilot, cm = await start(demo_copy, SupervisionScreen())
    try:
        screen = app.screen
        await highlight(pilot, screen.query_one("#plan", DataTable), "Luke Okafor")
        assert screen.current.name == "Luke Okafor"
        await pilot.press("b")
        await choose(pilot, "1")  # one-to-one
        await pilot.press(*"thu 10:30", "enter")  # Thu 26/11/2026: today is Mon 23/11
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        if type(app.screen).__name__ == "ChoiceScreen":  # Luke has an RPSS open too: take the one-to-one
            await choose(
                pilot,
                str(
                    next(
                        n
                        for n, (_v, label) in enumerate(app.screen.choices, 1)
                        if "One-to-one" in label or "1:1" in label
                    )
                ),
            )
        confirm = app.screen
        assert type(confirm).__name__ == "ConfirmScreen"
        assert "booked for Thu 26/11/2026 10:30" in str(confirm.query_one("#confirm-question").render())
        await pilot.press("enter")  # not yes
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("r")
        await pilot.pause()
        if type(app.screen).__name__ == "ChoiceScreen":
            await choose(
                pilot,
                str(
                    next(
                        n
                        for n, (_v, label) in enumerate(app.screen.choices, 1)
                        if "One-to-one" in label or "1:1" in label
                    )
                ),
            )
        await pilot.press("y")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, RecordSupervisionForm)
        await pilot.press("ctrl+s")  # no case, no summary: refused
        await pilot.pause()
        assert app.screen is form
        assert "list the cases discussed or summarise the session" in str(
            form.query_one("#record-error", Label).render()
        )
    finally:
        await cm.__aexit__(None, None, None)
    held = raw(
        demo_copy,
        """SELECT sv.held_on FROM supervision sv JOIN staff s ON s.id = sv.practitioner_id
                             WHERE s.name = 'Luke Okafor' AND sv.kind = 'one_to_one' AND sv.scheduled_for = ?""",
        ["2026-11-26T10:30:00Z"],
    )
    assert held == [{"held_on": None}]


@pytest.mark.parametrize(
    ("make", "title_id"),
    [
        (CheckinScreen, "checkin-title"),
        (MonthlyScreen, "monthly-title"),
        (SupervisionScreen, "sv-title"),
        (ProtectedHourScreen, "ph-title"),
        (TeamScreen, "team-title"),
    ],
)
async def test_at_80_columns_each_rhythm_header_is_shown_whole(rich_demo, make, title_id):
    """The smallest screen the app supports (80x24): each rhythm screen's header line takes a second
    line when it needs one (the monthly pack's counts were cut off mid-word) instead of losing its end."""
    app, pilot, cm = await start(rich_demo, make(), size=(80, 24))
    try:
        title = app.screen.query_one(f"#{title_id}", Static)
        text = str(title.render())
        room = title.region.width - 2  # its padding
        assert title.region.height <= 2 and len(text) <= room * title.region.height, (text, title.region)
    finally:
        await cm.__aexit__(None, None, None)
