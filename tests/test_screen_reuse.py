"""What the app keeps to show again shows exactly what reading anew would. The case screen and help
(kept and shown again): nothing of the last case, the store as it is now, the keys in force. The
queue: read again on coming back from a case only when something other than views was written, and
the views and details it keeps forgotten at any save."""

from __future__ import annotations

import pytest
from conftest import clock, select_item
from test_case_screen import CRN, db_path, record, spo_context
from test_today import team_db

from spo_tui.app import SpoApp
from spo_tui.screens.case import CaseScreen
from spo_tui.screens.help import HelpScreen
from spo_tui.screens.today import TodayScreen
from spo_tui.services import intake
from spo_tui.store.db import open_db

OTHER = "Y765432"


@pytest.fixture
def two_cases(db_path):
    """The case screen tests' high-risk case (flags, an SBAR) and a second, low-risk one without
    flags: everything shown of the first would be wrong on the second."""
    db = open_db(db_path)
    try:
        intake.add_case(spo_context(db), OTHER, "Ann Other", "Pat Officer", "LOW", "COMMUNITY_ORDER", "2026-09-01")
    finally:
        db.close()
    return db_path


def on_case(path, crn: str) -> set[str]:
    """The timeline's keys of everything recorded on ``crn``: its items and its oversight entries."""
    db = open_db(path)
    try:
        items = db.execute("SELECT 'item:' || id FROM items WHERE crn = ?", [crn]).fetchall()
        entries = db.execute("SELECT 'oversight:' || id FROM oversight_entries WHERE crn = ?", [crn]).fetchall()
    finally:
        db.close()
    return {key for (key,) in items + entries}


async def started(app, pilot) -> None:
    """Start-up's background work (rule-made touch points) done, so both apps show the same store."""
    await pilot.pause(TodayScreen.REFRESH_AFTER + 0.05)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot, condition, seconds: float = 5.0) -> None:
    """Wait (on a busy machine, a while) until ``condition()`` holds."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition()


async def screenshot(app, pilot) -> str:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.export_screenshot()


async def as_new(path, show, size=(120, 40), **kwargs) -> str:
    """What a new app shows after ``show(app)``: the screen made for the occasion."""
    app = SpoApp(path, clock=clock, **kwargs)
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        show(app)
        return await screenshot(app, pilot)


async def back(app, pilot) -> None:
    await pilot.press("escape")
    await pilot.pause()
    assert isinstance(app.screen, TodayScreen)


async def test_a_case_opened_after_another_shows_only_its_own_facts(two_cases):
    app = SpoApp(two_cases, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        app.open_case(CRN)
        await pilot.pause()
        kept = app.screen
        assert isinstance(kept, CaseScreen) and len(kept.query(".flag.-overdue")) == 1
        await pilot.press("down")  # the cursor and the detail below it away from the top
        await back(app, pilot)
        app.open_case(OTHER)
        await pilot.pause()
        assert app.screen is kept  # shown again, not made anew
        assert "Ann Other" in str(kept.query_one("#case-title").render())
        assert not kept.query_one("#case-risk").has_class("-high")
        assert [str(label.render()) for label in kept.query(".flag")] == ["No registrations"]
        table = kept.query_one("#timeline")
        assert {table.row_key(n) for n in range(table.row_count)} == set(kept.rows) == on_case(two_cases, OTHER)
        again = await screenshot(app, pilot)
    assert again == await as_new(two_cases, lambda app: app.open_case(OTHER))


async def test_a_case_reopened_shows_what_changed_meanwhile_from_the_top(two_cases):
    app = SpoApp(two_cases, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        app.open_case(CRN)
        await pilot.pause()
        kept = app.screen
        rows_before = kept.query_one("#timeline").row_count
        await pilot.press("down")
        await back(app, pilot)
        record(two_cases, "Visit weekly until the hearing")  # another connection: someone else's entry
        app.open_case(CRN)
        await pilot.pause()
        assert app.screen is kept
        table = kept.query_one("#timeline")
        assert table.row_count == rows_before + 1 and table.cursor_row == 0
        assert any("Visit weekly" in table.row_text(n)[2] for n in range(table.row_count))
        again = await screenshot(app, pilot)
    assert again == await as_new(two_cases, lambda app: app.open_case(CRN))


async def test_a_case_kept_while_the_terminal_was_resized_is_shown_at_the_new_size(two_cases):
    app = SpoApp(two_cases, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        app.open_case(CRN)
        await pilot.pause()
        await back(app, pilot)
        await pilot.resize_terminal(80, 24)  # below 34 lines the detail box is the short one
        await pilot.pause()
        app.open_case(OTHER)
        await pilot.pause()
        assert app.screen.has_class("-short")
        again = await screenshot(app, pilot)
    assert again == await as_new(two_cases, lambda app: app.open_case(OTHER), size=(80, 24))


async def test_a_case_kept_while_the_theme_changed_is_shown_in_the_new_theme(two_cases):
    """A kept screen is not styled again on each showing (``KeptScreen``), except after the app's
    styles changed: here a light theme chosen while the case was out of sight."""
    app = SpoApp(two_cases, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        app.open_case(CRN)
        await pilot.pause()
        dark = app.screen.query_one("#timeline").styles.background
        await back(app, pilot)
        app.theme = "textual-light"
        await pilot.pause()
        app.open_case(CRN)
        await pilot.pause()
        assert app.screen.query_one("#timeline").styles.background != dark
        again = await screenshot(app, pilot)
    assert again == await as_new(two_cases, lambda app: app.open_case(CRN), theme="textual-light")


async def test_help_kept_while_the_theme_changed_is_shown_in_the_new_theme(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        await back(app, pilot)
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("question_mark")
        again = await screenshot(app, pilot)

    async def help_as_new() -> str:
        fresh = SpoApp(db_path, clock=clock, theme="textual-light")
        async with fresh.run_test(size=(120, 40)) as pilot:
            await started(fresh, pilot)
            await pilot.press("question_mark")
            return await screenshot(fresh, pilot)

    assert again == await help_as_new()


async def test_an_unknown_case_on_the_kept_screen_shows_nothing_of_the_last_one(two_cases):
    app = SpoApp(two_cases, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        app.open_case(CRN)
        await pilot.pause()
        kept = app.screen
        await back(app, pilot)
        assert isinstance(kept, CaseScreen)
        kept.show_case("Z999999")
        app.push_screen(kept)
        await pilot.pause()
        assert kept.case is None and kept.rows == {} and kept.title is None
        assert not kept.query(".flag") and kept.query_one("#timeline").row_count == 0
        missing = await screenshot(app, pilot)
        await back(app, pilot)
        app.open_case(CRN)  # and the case after it is not shown as missing
        await pilot.pause()
        assert not kept.query_one("#case-title").has_class("-missing")
    assert missing == await as_new(two_cases, lambda app: app.push_screen(CaseScreen("Z999999")))


async def test_a_case_opened_over_the_kept_one_gets_a_screen_of_its_own(two_cases):
    app = SpoApp(two_cases, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        app.open_case(CRN)
        await pilot.pause()
        kept = app.screen
        app.open_case(OTHER)  # from the palette's "Go to case", over the first
        await pilot.pause()
        assert app.screen is not kept and isinstance(app.screen, CaseScreen)
        await until(pilot, lambda: app.screen.case is not None)  # a new screen reads its case once mounted
        assert "Ann Other" in str(app.screen.query_one("#case-title").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is kept and "Joe [Bloggs]" in str(kept.query_one("#case-title").render())


async def test_each_opening_of_a_kept_case_is_logged(two_cases):
    from spo_tui.services import lookup

    app = SpoApp(two_cases, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        for crn in (CRN, OTHER, CRN):
            app.open_case(crn)
            await pilot.pause()
            await back(app, pilot)
        await app.workers.wait_for_complete()
        log = lookup.access_log(app.ctx)
    assert [r["entity_id"] for r in log if r["action"] == "view_case"] == [CRN, OTHER, CRN]


async def test_help_shown_again_is_as_new_from_the_top(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        kept = app.screen
        await pilot.press("end")  # scrolled to the bottom
        await pilot.pause()
        assert kept.query_one("#help-body").scroll_y > 0
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is kept and kept.query_one("#help-body").scroll_y == 0
        again = await screenshot(app, pilot)
    assert again == await as_new(db_path, lambda app: app.action_help(), size=(80, 24))


async def test_help_shows_the_keys_in_force_after_the_keymap_changes(db_path):
    app = SpoApp(db_path, clock=clock, keymap={})
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        first = app.screen
        await pilot.press("q")
        await pilot.pause()
        app.user_keymap = {"decide": "D"}
        app.set_keymap(app.user_keymap)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and app.screen is not first
        again = await screenshot(app, pilot)
    assert again == await as_new(db_path, lambda app: app.action_help(), keymap={"decide": "D"})


async def test_back_from_a_case_the_queue_is_not_read_again_for_the_view_alone(two_cases):
    app = SpoApp(two_cases, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        today = app.screen
        reads: list[int | None] = []
        read = today.reload
        today.reload = lambda keep_row=None: (reads.append(keep_row), read(keep_row))[-1]  # type: ignore[method-assign]
        app.open_case(CRN)
        await pilot.pause()
        await app.workers.wait_for_complete()  # the view is logged, on its thread
        await back(app, pilot)
        assert reads == []
        app.open_case(CRN)
        await pilot.pause()
        db = open_db(two_cases)  # meanwhile, another process adds work to the queue
        try:
            added = intake.add_task(spo_context(db), "Fire door will not close", "health_safety").item_id
        finally:
            db.close()
        await back(app, pilot)  # read again (and maybe once more by the poll for other processes' changes)
        assert reads and added in [e.id for e in today.entries]


async def test_a_view_shown_again_after_a_save_shows_what_was_saved(team_db, running_app):
    """The queue keeps the top of each view it has shown only while nothing is written: a save on the
    app's own connection (which the poll for other processes' changes does not see) is shown too."""
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await started(app, pilot)
        screen = app.screen
        await pilot.press("5")
        assert [e.id for e in screen.entries] == [ids["task"]]
        await pilot.press("0")
        added = intake.add_task(app.ctx, "Fire door will not close", "health_safety").item_id
        await pilot.press("5")
        assert sorted(e.id for e in screen.entries) == sorted([ids["task"], added])


async def test_an_item_shown_again_after_a_save_shows_its_detail_as_saved(team_db, running_app):
    from spo_tui.services import decisions

    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await started(app, pilot)
        screen = app.screen
        await select_item(app, pilot, ids["alert"])  # on case X123456
        pane = screen.query_one("#detail")
        assert "Police call-out to home address" in pane.text and "Visit fortnightly" not in pane.text
        await select_item(app, pilot, ids["task"])
        decisions.record_oversight(
            app.ctx, crn="X123456", outcome="guidance_given", discussed="The call-out", decision="Visit fortnightly"
        )
        await select_item(app, pilot, ids["alert"])
        assert "Visit fortnightly" in pane.text


async def test_moving_the_cursor_draws_what_drawing_the_whole_table_would(team_db, running_app):
    """A cursor move redraws only the row it left and the one it is on: the table then shows what it
    would if drawn anew (one cursor row), scrolled or not."""
    path, ids = team_db
    db = open_db(path)
    try:
        for n in range(30):  # more rows than the table shows
            intake.add_task(spo_context(db), f"Fire door {n} will not close", "health_safety")
    finally:
        db.close()
    async with running_app(path, size=(80, 24)) as (app, pilot):
        await started(app, pilot)
        table = app.screen.query_one("#queue")
        scrolled = False
        for keys in (["down", "down"], ["up"], ["end"], ["up"], ["up", "up", "up"], ["home"]):
            for key in keys:
                await pilot.press(key)
            scrolled = scrolled or table.scroll_y > 0
            moved = await screenshot(app, pilot)
            table.refresh()
            assert await screenshot(app, pilot) == moved
        assert scrolled  # the table was scrolled on the way


async def test_the_footer_filled_again_in_place_shows_what_a_rebuilt_one_would(team_db, running_app):
    """Other keys for another kind of item are written onto the footer's key widgets (spare ones
    hidden, missing ones mounted): the screen is then what rebuilding the footer gives."""
    from spo_tui.widgets.footer import QuietFooter

    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await started(app, pilot)
        footer = app.screen.query_one(QuietFooter)
        for view in ("3", "1", "5", "4", "0", "2", "9", "0"):  # kinds with more keys, fewer, other ones
            await pilot.press(view)
            filled = await screenshot(app, pilot)
            footer.refresh(recompose=True)
            assert await screenshot(app, pilot) == filled, view
