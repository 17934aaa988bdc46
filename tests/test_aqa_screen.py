"""Countersigning at source on the team screen [000 §3.3]: who is close to approval, and recording an
AQA rating from the keyboard (``a`` on the Team list), as an SPO would."""

from __future__ import annotations

from conftest import PO, row, staff_id
from textual.widgets import DataTable

from spo_tui.screens.prompts import ChoiceScreen
from spo_tui.screens.team import TeamScreen
from spo_tui.store.db import open_db

OASYS_COLUMN = 12


def _people(screen: TeamScreen) -> dict[str, list[str]]:
    table = screen.query_one("#people-table", DataTable)
    return {str(table.get_row_at(n)[0]): [str(c) for c in table.get_row_at(n)] for n in range(table.row_count)}


async def _rate(pilot, screen: TeamScreen, name: str, choice: str) -> None:
    table = screen.query_one("#people-table", DataTable)
    table.move_cursor(row=list(_people(screen)).index(name))
    await pilot.pause()
    await pilot.press("a")
    await pilot.pause()
    picker = screen.app.screen
    assert isinstance(picker, ChoiceScreen)
    assert [label for _v, label in picker.choices] == ["Good", "Requires improvement", "Inadequate"]
    await pilot.press(choice)
    await pilot.pause()


async def test_rating_from_the_team_screen_counts_towards_approval(ctx, tmp_path, running_app):
    """Three Good ratings make a PO approved [000 §3.3]; the column shows the count on the way, and
    an Inadequate starts it again."""
    ctx.db.close()
    async with running_app(tmp_path / "t.db") as (app, pilot):
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TeamScreen)
        assert _people(screen)[PO][OASYS_COLUMN] == ""  # not rated yet
        await _rate(pilot, screen, PO, "1")
        assert _people(screen)[PO][OASYS_COLUMN] == "1 of 3 Good"
        await _rate(pilot, screen, PO, "3")  # Inadequate: the run starts again
        assert _people(screen)[PO][OASYS_COLUMN] == "0 of 3 Good"
        await _rate(pilot, screen, PO, "1")
        await _rate(pilot, screen, PO, "1")
        cells = screen.query_one("#people-table", DataTable).get_row_at(list(_people(screen)).index(PO))
        assert str(cells[OASYS_COLUMN]) == "2 of 3 Good" and cells[OASYS_COLUMN].style  # one Good away: marked
        await _rate(pilot, screen, PO, "1")
        assert _people(screen)[PO][OASYS_COLUMN] == "approved"
        assert any("now approved" in n.message for n in app._notifications)
    db = open_db(tmp_path / "t.db")
    try:
        ratings = [r[0] for r in db.execute("SELECT rating FROM aqa_ratings ORDER BY created_at, rowid")]
        assert ratings == ["GOOD", "INADEQUATE", "GOOD", "GOOD", "GOOD"]
        assert row(db, "SELECT oasys_approved FROM staff WHERE id = ?", [staff_id(db, PO)])["oasys_approved"] == 1
    finally:
        db.close()
