"""The admin screen starts from the highlighted row (issue #12, section 7): `e` edits that case, and a
new SBAR starts on that case, raised by its practitioner."""

from __future__ import annotations

from test_admin_screen import make_app, read_rows, team_db


async def test_e_starts_from_the_highlighted_case_and_saves_the_correction(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.highlighted_crn() == "X123456"  # the diary's touch point
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.query_one("#prompt-input").value == "X123456"
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "EntryForm"
        tier = app.screen.query_one("#field-tier")
        tier.value = "A1"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert read_rows(path, "SELECT tier FROM cases WHERE crn = 'X123456'") == [("A1",)]


async def test_a_new_sbar_is_raised_by_the_highlighted_cases_practitioner(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        assert type(app.screen).__name__ == "EntryForm"
        assert app.screen.query_one("#field-crn").value == "X123456"
        assert app.screen.query_one("#field-raised_by").value == "Pat Officer"
