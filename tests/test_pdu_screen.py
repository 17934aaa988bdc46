"""The PDU head's Teams section of the team dashboard (issue 14, item 6): every team's coverage,
backlog and cases not seen side by side, read-only; Enter on a team scopes the dashboard to it.

Most tests use a store made with the services (no hub): the conftest team (Team A) and a Team B
with its own SPO, PO and two cases, plus a PDU head. The last connects the PDU head's replica to a
real hub (PostgreSQL, ``pg_server``) to see the heading name the sync.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import HIGH_CRN, LOW_CRN, NOW, PO, SPO, fixed_clock, link_me, snapshot
from hub_replicas import Replica, add_person, build_team_store, init_hub
from textual.widgets import DataTable, Static, TabbedContent

from spo_tui.app import SpoApp
from spo_tui.domain.dates import from_iso
from spo_tui.screens.team import TeamScreen
from spo_tui.services import decisions, intake, refresh
from spo_tui.services import team as team_service
from spo_tui.services.context import LONDON, make_context
from spo_tui.services.pdu import pdu_picture
from spo_tui.store.db import open_db

SPO_B = "Bo Bee"
PO_B = "Ola Officer"
HEAD = "Hana Head"
B_CRN = "Z111111"
B_CRN_2 = "Z222222"


@pytest.fixture
def pdu_file(ctx, rules, tmp_path):
    """Team A: X123456 (high, seen this week), Y654321 (low, never seen), an SBAR and an alert open.
    Team B: Z111111 (very high) and Z222222 (medium), neither seen, an SBAR waiting on the PP.
    A PDU head; the due work the rules make (touch points, supervision) made already."""
    intake.add_staff(ctx, SPO_B, "SPO", team="Team B")
    intake.add_staff(ctx, PO_B, "PO", team="Team B")
    intake.add_staff(ctx, HEAD, "PDU head", team="PDU")
    intake.add_case(ctx, B_CRN, "Cam Case", PO_B, "VERY_HIGH", "LICENCE", "2026-06-01")
    intake.add_case(ctx, B_CRN_2, "Dee Case", PO_B, "MEDIUM", "COMMUNITY_ORDER", "2026-05-01")
    decisions.record_oversight(ctx, crn=HIGH_CRN, outcome="agreed", discussed="Risk plan", decision="Weekly contact")
    intake.raise_sbar(ctx, HIGH_CRN, PO, "A needs a decision", "b", "a", "r", "urgent")
    intake.add_alert(ctx, HIGH_CRN, "arrest", "Arrested last night")
    b_sbar = intake.raise_sbar(ctx, B_CRN, PO_B, "B needs a decision", "b", "a", "r", "urgent").item_id
    spo_b = make_context(ctx.db, rules, SPO_B, clock=fixed_clock(NOW))
    decisions.request_more_information(spo_b, b_sbar, "What did the police say?")
    link_me(ctx.db)
    refresh.refresh_due_work(ctx)
    ctx.db.close()
    return tmp_path / "t.db"


def raw(path: Path, sql: str, params=()) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def rows_of(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]


async def test_the_pdu_head_sees_every_team_and_enter_on_one_shows_that_team(pdu_file):
    before = snapshot_of(pdu_file)
    [(last_audit,)] = raw(pdu_file, "SELECT MAX(id) FROM audit_log")
    app = SpoApp(pdu_file, actor=HEAD, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TeamScreen)
        tabs = screen.query_one("#team-tabs", TabbedContent)
        assert tabs.active == "teams" and str(tabs.get_tab("teams").label) == "0 Teams"
        table = screen.query_one("#teams-table", DataTable)
        assert table.has_focus
        got = rows_of(table)
        # Team, SPO, Cases, Seen %, Looks sufficient %, High/VH seen %, Not seen, Open, Overdue, Waiting
        assert [r[:7] for r in got] == [
            ["Team A", SPO, "2", "50%", "50%", "100%", "1"],
            ["Team B", SPO_B, "2", "0%", "0%", "0%", "2"],
            ["All teams", "", "4", "25%", "25%", "50%", "3"],
        ]
        # Open, overdue and waiting as the service counts them (tested in test_hub_sync), read at the
        # same moment: the app makes due work when it starts. Team A has its SBAR and alert open at
        # least; Team B's SBAR waits on its PP; the last row adds the teams up.
        picture = pdu_picture(app.ctx, 90)
        assert [r[7:] for r in got[:2]] == [[str(t.open_items), str(t.overdue), str(t.waiting)] for t in picture.teams]
        assert int(got[0][7]) >= 2 and [got[0][9], got[1][9]] == ["0", "1"]
        assert got[2][7:] == [str(int(got[0][n]) + int(got[1][n])) for n in (7, 8, 9)]
        assert all(cell.justify == "right" for cell in table.get_row_at(0)[2:])
        heading = str(screen.query_one("#teams-heading", Static).render())
        assert "oversight in the last 90 days" in heading and "Showing: every team" in heading
        assert "as of the sync" not in heading  # no hub: the picture of this store

        # Enter on Team B: the rest of the dashboard is Team B's.
        table.move_cursor(row=1)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert tabs.active == "people" and screen.team == "Team B"
        people = [r[0] for r in rows_of(screen.query_one("#people-table", DataTable))]
        assert people == [PO_B]
        title = str(screen.query_one("#team-title", Static).render())
        assert title.startswith("Team B · 1 practitioners · 2 cases · 0% seen")
        # The trends and the time view are Team B's too, not every team's.
        assert screen.trends == team_service.trends(app.ctx, team="Team B")
        assert screen.trends != team_service.trends(app.ctx, team=None)
        assert screen.spent == team_service.time_spent(app.ctx, team="Team B")
        await pilot.press("3")
        await pilot.pause()
        unseen = [r[1] for r in rows_of(screen.query_one("#unseen-table", DataTable))]
        assert sorted(unseen) == [B_CRN, B_CRN_2]

        # w changes the window of the Teams section too; Enter on All teams shows every team again.
        await pilot.press("0", "w")
        await pilot.pause()
        assert tabs.active == "teams" and screen.days == 30
        assert "last 30 days" in str(screen.query_one("#teams-heading", Static).render())
        table.move_cursor(row=2)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert screen.team is None
        everyone = [r[0] for r in rows_of(screen.query_one("#people-table", DataTable))]
        assert PO in everyone and PO_B in everyone
    # Read-only: nothing written but the log of what was shown (audit rows and their chain).
    after = snapshot_of(pdu_file)
    assert {t for t in before if before[t] != after[t]} == {"audit_log", "record_chain"}
    logged = raw(pdu_file, "SELECT action, new FROM audit_log WHERE id > ? ORDER BY id", [last_audit])
    assert {a for a, _ in logged} <= {"view_queue", "view_team"}
    teams_shown = [json.loads(v)["team"] for a, v in logged if a == "view_team"]
    # on opening, then each team chosen (each written on a thread of its own: in any order)
    assert sorted(teams_shown, key=str) == [None, None, "Team B"]


def snapshot_of(path: Path) -> dict[str, list[tuple]]:
    db = open_db(path)
    try:
        return snapshot(db)
    finally:
        db.close()


async def test_every_column_fits_at_80_columns_and_the_names_widen_with_the_screen(pdu_file):
    app = SpoApp(pdu_file, actor=HEAD, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        table = app.screen.query_one("#teams-table", DataTable)
        labels = [str(c.label) for c in table.ordered_columns]
        assert labels == [
            "Team",
            "SPO",
            "Cases",
            "Seen %",
            "Looks\nsuff. %",
            "High/VH\nseen %",
            "Not\nseen",
            "Open",
            "Over-\ndue",
            "Wait-\ning",
        ]
        assert table.virtual_size.width <= table.size.width  # nothing off to the right
        narrow = table.ordered_columns[0].width
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        table = app.screen.query_one("#teams-table", DataTable)
        assert table.ordered_columns[0].width > narrow and table.row_count == 3
        assert table.virtual_size.width <= table.size.width


async def test_beside_presence_the_teams_show_how_many_cases_look_sufficiently_overseen(ctx, pdu_file):
    """Sufficiency as well as presence, per team [issue 16 §6; 001, 000, 004]: an entry that records no
    decision (more information asked for) makes a case seen but not sufficiently overseen; the
    inspectorate's figures are named as its finding, not a target, and nothing is marked as failing."""
    db = open_db(pdu_file)
    spo = make_context(db, ctx.rules, SPO, clock=fixed_clock(NOW))
    decisions.record_oversight(
        spo, crn=LOW_CRN, outcome="more_info", discussed="Where is the plan?", decision="Send me the plan by Friday"
    )
    db.close()
    app = SpoApp(pdu_file, actor=HEAD, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#teams-table", DataTable)
        # Team A: both cases seen, one of them (the more-information entry) present only.
        assert [r[2:5] for r in rows_of(table)] == [["2", "100%", "50%"], ["2", "0%", "0%"], ["4", "50%", "25%"]]
        assert all(not cell.style for cell in table.get_row_at(0)[3:5])  # a share, not a verdict
        heading = str(screen.query_one("#teams-heading", Static).render())
        assert "Looks sufficient: an entry with a decision" in heading and "a finding, not a target" in heading
        picture = pdu_picture(app.ctx, 90)
        assert [(t.seen, t.sufficient) for t in picture.teams] == [(2, 1), (0, 0)]


async def test_an_spo_sees_no_teams_section_and_the_number_keys_are_as_before(pdu_file):
    app = SpoApp(pdu_file, actor=SPO, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TeamScreen)
        tabs = screen.query_one("#team-tabs", TabbedContent)
        assert not screen.query("#teams-table") and tabs.active == "people"
        assert [str(t.label) for t in screen.query("ContentTab")][0] == "1 Team"
        assert screen.check_action("teams", ()) is False  # hidden, and 0 does nothing
        await pilot.press("0")
        await pilot.pause()
        assert tabs.active == "people"
        await pilot.press("3")
        await pilot.pause()
        assert tabs.active == "unseen"
        assert screen.team == "Team A"
        unseen = [r[1] for r in rows_of(screen.query_one("#unseen-table", DataTable))]
        assert unseen == [LOW_CRN]
        offered = [c.title for c in app.get_system_commands(screen)]
        assert not any(t.startswith("Teams") for t in offered)


@pytest.mark.timeout(120)
async def test_from_the_hub_the_heading_says_when_the_picture_was_synced(hub, tmp_path):
    """The PDU head's own replica, connected to a real hub (PostgreSQL): the Teams section is the
    picture as of the last sync, and says so."""
    init_hub(hub)
    spo = Replica("SPO", tmp_path / "spo-laptop", add_person(hub, SPO, "SPO", "Team A"))
    head = Replica("PDU head", tmp_path / "head", add_person(hub, "Dee Head", "PDU head"))
    build_team_store(spo)
    spo.ok("connect", spo.url)
    head.ok("connect", head.url)
    [(stamp,)] = head.rows("SELECT value FROM sync_state WHERE key = 'last_sync'")
    moment = from_iso(stamp).astimezone(LONDON)
    with head.active():
        app = SpoApp(head.path, clock=lambda: NOW)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.press("o")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, TeamScreen)
            assert [r[:5] for r in rows_of(screen.query_one("#teams-table", DataTable))] == [
                ["Team A", SPO, "2", "0%", "0%"],
                ["All teams", "", "2", "0%", "0%"],
            ]
            heading = str(screen.query_one("#teams-heading", Static).render())
            assert f"as of the sync at {moment:%H:%M} on {moment:%d/%m/%Y}" in heading
