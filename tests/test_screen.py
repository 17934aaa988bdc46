"""What the screen shows (issue #12, section 7): the queue's columns at each width, the counts line,
readable colours in both themes, plain words and UK dates, the terminal's title, the forms' guards."""

from __future__ import annotations

import pytest
from conftest import read_rows as rows
from conftest import select_item
from test_today import make_app, team_db
from textual.geometry import Region

from spo_tui.widgets.queue_summary import QueueSummary

# --- Colours: WCAG contrast of what is drawn ---------------------------------------------------------


def _luminance(rgb) -> float:
    def channel(v: int) -> float:
        v = v / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(widget, text: str, line: int | None = None) -> float:
    """The contrast ratio (WCAG) of the first drawn segment holding ``text`` (on line ``line``)."""
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    for y, strip in enumerate(strips):
        if line is not None and y != line:
            continue
        for segment in strip:
            if text in segment.text and segment.style and segment.style.color and segment.style.bgcolor:
                fg = _luminance(segment.style.color.get_truecolor())
                bg = _luminance(segment.style.bgcolor.get_truecolor())
                high, low = max(fg, bg), min(fg, bg)
                return (high + 0.05) / (low + 0.05)
    raise AssertionError(f"{text!r} is not drawn")


# --- The queue's columns and the counts line ---------------------------------------------------------


async def test_at_120_columns_the_queue_shows_name_and_practitioner_and_the_title_takes_the_rest(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#queue")
        assert table.shown_labels() == ["Kind", "Due", "RoSH", "CRN", "Title", "Name", "PP"]
        title_width = {table.columns[i].label: w for i, w in table.layout_for(table.size.width)}["Title"]
        assert title_width >= 36
        await select_item(app, pilot, ids["sbar"])
        drawn = "\n".join(strip.text for strip in table.render_lines(Region(0, 0, table.size.width, table.size.height)))
        assert "[URGENT] Partner disclosed threats" in drawn  # 34 characters: not cut
        assert "Joe Bloggs" in drawn and "Pat Officer" in drawn


async def test_on_a_wide_terminal_the_title_is_not_cut_at_28_characters(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(220, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#queue")
        widths = {table.columns[i].label: w for i, w in table.layout_for(table.size.width)}
        assert widths["Title"] > 45 and "PP" in widths


async def test_the_counts_line_wraps_between_counts_instead_of_being_cut(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        summary = app.screen.query_one(QueueSummary)
        summary.show(
            {
                "alert": (2, 0),
                "sbar": (6, 1),
                "touch_point": (44, 16),
                "countersign": (23, 7),
                "task": (10, 1),
                "action": (6, 2),
                "supervision": (3, 3),
            }
        )
        await pilot.pause()
        lines = [
            strip.text.rstrip() for strip in summary.render_lines(Region(0, 0, summary.size.width, summary.size.height))
        ]
        assert summary.size.height == len(lines) >= 2
        text = "\n".join(lines)
        assert "Actions 6 (2 overdue)" in text and "Supervision 3 (3 overdue)" in text
        assert not any(line.lstrip().startswith("·") for line in lines)


# --- Colours -----------------------------------------------------------------------------------------


async def test_the_very_high_rosh_label_on_the_cursor_row_is_readable(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select_item(app, pilot, ids["alert"])  # X123456 is HIGH: the cursor row's RoSH label
        table = app.screen.query_one("#queue")
        assert contrast(table, "H ", line=1 + table.cursor_row) >= 4.5


@pytest.mark.parametrize("theme", ["textual-light", "textual-dark"])
async def test_the_active_filter_and_overdue_text_are_readable_in_either_theme(team_db, theme):
    path, ids = team_db
    app = make_app(path)
    app.start_theme = theme
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("3")  # touch points: the one due 20/11 is overdue
        await pilot.pause()
        screen = app.screen
        assert contrast(screen.query_one("#filters"), "3 Touch") >= 4.5
        assert contrast(screen.query_one("#filters"), "1 Alerts") >= 4.5
        assert contrast(screen.query_one("#summary"), "overdue") >= 4.5
        await pilot.press("down")  # the overdue row off the cursor
        await pilot.press("up")
        screen.query_one("#queue").move_cursor(row=5)
        await pilot.pause()
        assert contrast(screen.query_one("#queue"), "overdue") >= 4.5


# --- The terminal's title ----------------------------------------------------------------------------


async def test_the_terminal_title_names_the_app_and_who_is_acting(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.terminal_title == "spo-tui — Sam Spo (SPO)"


# --- Forms: the Sensitive box, discarding and quitting ------------------------------------------------


async def test_the_sensitive_box_shows_an_x_only_when_ticked(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2", "d")
        await pilot.pause()
        box = app.screen.query_one("#sensitive")
        assert "X" not in box.render().plain
        box.value = True
        await pilot.pause()
        assert "X" in box.render().plain


async def test_enter_in_discard_what_you_typed_keeps_the_text(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2", "d")
        await pilot.pause()
        await pilot.press(*"Recall")
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "OversightForm"
        assert app.screen.query_one("#decision").text == "Recall"
        await pilot.press("escape", "y")
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
    assert rows(path, "SELECT COUNT(*) FROM oversight_entries") == [(0,)]


async def test_ctrl_q_in_a_form_with_typed_text_asks_first(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2", "d")
        await pilot.pause()
        await pilot.press(*"Recall")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        assert "Quit" in app.screen.question
        await pilot.press("enter")  # not yes
        await pilot.pause()
        assert type(app.screen).__name__ == "OversightForm" and app.is_running
        await pilot.press("ctrl+q", "y")
        await pilot.pause()
        assert not app.is_running


async def test_ctrl_q_with_nothing_typed_quits_at_once(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2", "d")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


# --- Plain words and UK dates ------------------------------------------------------------------------


async def test_a_countersign_item_says_its_state_in_words_and_a_return_is_recorded_as_returned(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select_item(app, pilot, ids["countersign"])
        detail = app.screen.query_one("#detail").text
        # A PSR: gatekeeping in its own words, not countersigning [000 §3.2]
        assert "awaiting gatekeeping" in detail and "AWAITING_GATEKEEP" not in detail
        assert "PSR gatekeeping by Pat Officer" in detail
        await pilot.press("r")
        await pilot.pause()
        assert str(app.screen.query_one("#prompt-title").render()) == "Return to the author with changes"
        await pilot.press(*"Section 6 is missing the DA history")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")  # no minutes
        await pilot.pause()
        assert any("Returned to the author with changes" in str(n.message) for n in app._notifications)
    assert rows(path, "SELECT state FROM countersigns") == [("RETURNED_TO_AUTHOR",)]
    # Returned work waits on its author (the Waiting view), in words, not closed as "REJECTED".
    assert rows(path, "SELECT status, waiting_on FROM items WHERE id = ?", [ids["countersign"]]) == [
        ("waiting", "Pat Officer")
    ]


def test_an_old_rejected_note_is_shown_in_words():
    from spo_tui.domain.vocab import closed_note_label

    assert closed_note_label("REJECTED: no DA history") == "Returned for rework: no DA history"
    assert closed_note_label("done in 30 min") == "done in 30 min"


def test_arranging_a_touch_point_says_the_day_and_time_as_dates_are_written_here(ctx):
    from spo_tui.services import admin, intake

    item = intake.add_touch_point(ctx, "X123456", "2026-11-30", "Check-in").item_id
    result = admin.mark_arranged(ctx, item, "fri 10:30")
    assert result.message == "Touch point on X123456 arranged for Fri 27/11/2026 10:30"


def test_correcting_a_case_names_the_fields_in_words(ctx):
    from spo_tui.services import admin

    result = admin.update_case(ctx, "X123456", rosh="VERY_HIGH")
    assert result.message.startswith("X123456: RoSH updated")


def test_an_empty_crn_asks_for_one():
    from spo_tui.domain.errors import ValidationError
    from spo_tui.domain.vocab import normalise_crn

    with pytest.raises(ValidationError) as error:
        normalise_crn("  ")
    assert str(error.value) == "A CRN is needed: one letter and six digits, e.g. X123456"


def test_a_reminder_for_an_overdue_touch_point_says_it_was_due_and_how_late(ctx):
    from spo_tui.services import admin, intake

    intake.add_touch_point(ctx, "X123456", "2026-08-06", "Quarterly review")  # 109 days before 23/11/2026
    line = [line for lines in admin.touch_point_diary(ctx).values() for line in lines if line.crn == "X123456"][0]
    assert "was due on Thursday 06 August 2026 (109 days overdue)" in line.reminder
    assert "is due by" not in line.reminder


# --- A CRN typed in the palette or the search opens the case -----------------------------------------


async def test_a_crn_typed_into_the_search_opens_the_case(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"y123456", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "CaseScreen"
        assert app.screen.crn == "Y123456"


async def test_a_crn_typed_into_the_command_palette_opens_the_case(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"X123456")
        commands = app.screen.query_one("CommandList")
        for _ in range(100):  # the palette searches in the background: wait for its first hit
            await pilot.pause(0.05)
            if commands.option_count and "Open case X123456" in str(commands.get_option_at_index(0).prompt):
                break
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "CaseScreen"
        assert app.screen.crn == "X123456"


# --- Smaller things ----------------------------------------------------------------------------------


async def test_reassign_is_in_the_footer(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        await select_item(app, pilot, ids["sbar"])
        shown = [key for key, b in app.screen.active_bindings.items() if b.binding.show and b.enabled]
        assert "a" in shown


async def test_b_on_an_sbar_already_booked_asks_before_moving_it(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("b")
        await pilot.pause()
        first = rows(path, "SELECT booked_for FROM sbars")
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("b")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        assert "already booked into the protected hour Mon 23/11/2026 13:00" in app.screen.question
        await pilot.press("enter")  # keeps the booking
        await pilot.pause()
        assert rows(path, "SELECT booked_for FROM sbars") == first
        await pilot.press("b", "y")
        await pilot.pause()
    assert rows(path, "SELECT booked_for FROM sbars") != first


# --- Keys that do not fit the row say why ------------------------------------------------------------

from datetime import date  # noqa: E402

from test_rhythm_screens import demo_copy, rich_demo, start  # noqa: E402 - fixtures

from spo_tui.screens.protected_hour import ProtectedHourScreen  # noqa: E402
from spo_tui.screens.supervision import SupervisionScreen  # noqa: E402
from spo_tui.screens.team import TeamScreen  # noqa: E402


def _said(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_second_t_on_a_not_seen_case_says_it_has_a_touch_point(demo_copy):
    app, pilot, cm = await start(demo_copy, TeamScreen())
    try:
        await pilot.press("3")
        await pilot.pause()
        crn = app.screen.current_unseen.crn
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert any(f"{crn} already has an open touch point" in m for m in _said(app))
    finally:
        await cm.__aexit__(None, None, None)
    assert (
        len(rows(demo_copy, "SELECT id FROM items WHERE crn = ? AND kind = 'touch_point' AND status = 'open'", [crn]))
        == 1
    )


async def test_d_on_a_free_protected_hour_slot_says_it_is_free(demo_copy):
    app, pilot, cm = await start(demo_copy, ProtectedHourScreen(day=date(2026, 11, 24)))
    try:
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.current.free
        await pilot.press("d")
        await pilot.pause()
        assert any("slot is free: nothing to decide" in m for m in _said(app))
        assert type(app.screen).__name__ == "ProtectedHourScreen"
    finally:
        await cm.__aexit__(None, None, None)


async def test_r_in_the_planner_with_nothing_booked_says_so(demo_copy):
    app, pilot, cm = await start(demo_copy, SupervisionScreen())
    try:
        screen = app.screen
        table = screen.query_one("#plan")
        for n in range(table.row_count):
            table.move_cursor(row=n)
            await pilot.pause()
            if not screen.current.sessions:
                break
        assert not screen.current.sessions
        await pilot.press("r")
        await pilot.pause()
        assert any(f"Nothing is booked with {screen.current.name} to record" in m for m in _said(app))
        assert type(app.screen).__name__ == "SupervisionScreen"
    finally:
        await cm.__aexit__(None, None, None)


# --- The import menu and its report ------------------------------------------------------------------


async def test_the_import_menu_lists_staff_first_and_its_report_opens_at_the_top(team_db, tmp_path):
    path, _ids = team_db
    csv_path = tmp_path / "s.csv"
    csv_path.write_text("name,role\n" + "".join(f"Person {n:03d},Wizard\n" for n in range(80)), encoding="utf-8")
    app = make_app(path)
    app.actor_name = "Cas Admin"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert app.screen.choices[0] == ("staff", "Staff") and app.screen.choices[1][0] == "cases"
        await pilot.press("1", *str(csv_path), "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "TextScreen"
        body = app.screen.query_one("#text-body")
        assert body.scroll_y == 0 and body.cursor_location == (0, 0)
        assert body.document.line_count > 40  # long enough to scroll
    assert rows(path, "SELECT COUNT(*) FROM staff WHERE name LIKE 'Person %'") == [(0,)]  # a dry run so far


# --- Export for someone who has only used the demo ---------------------------------------------------


def test_export_oversight_for_a_demo_only_user_says_to_add_demo(tmp_path):
    from test_cli import run

    made = run("demo", tmp_path=tmp_path)  # the demo database, in its default place
    assert made.returncode == 0, made.stderr
    result = run("export", "oversight", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("spo-tui: no database at ") and "add --demo" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list((tmp_path / "xdg-data").rglob("spo.db"))  # nothing made where the real one would be


async def test_an_agreed_actions_owner_completes_to_a_staff_name(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2", "d")
        await pilot.pause()
        await pilot.press(*"Recall not needed")
        app.screen.query_one("#action-1-desc").focus()
        await pilot.press(*"Weekly contact")
        app.screen.query_one("#action-1-owner").focus()
        await pilot.press(*"pat")
        owner = app.screen.query_one("#action-1-owner")
        for _ in range(100):  # the suggestion is looked up in the background
            await pilot.pause(0.02)
            if owner._suggestion:
                break
        await pilot.press("right")  # accepts the suggestion
        assert app.screen.query_one("#action-1-owner").value == "Pat Officer"
        app.screen.query_one("#action-1-due").focus()
        await pilot.press(*"fri", "ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
    assert rows(
        path, "SELECT s.name FROM items i JOIN actions a ON a.item_id = i.id JOIN staff s ON s.id = a.owner_id"
    ) == [("Pat Officer",)]
