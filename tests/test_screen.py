"""What the screen shows (issue #12, section 7): the queue's columns at each width, the counts line,
readable colours in both themes, plain words and UK dates, the terminal's title, the forms' guards."""

from __future__ import annotations

import pytest
from textual.geometry import Region

from conftest import read_rows as rows
from test_today import make_app, select_item, team_db  # noqa: F401 - team_db is a fixture

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
        title_width = dict((table.columns[i].label, w) for i, w in table.layout_for(table.size.width))["Title"]
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
        widths = dict((table.columns[i].label, w) for i, w in table.layout_for(table.size.width))
        assert widths["Title"] > 80 and "PP" in widths


async def test_at_80_columns_the_title_keeps_its_room_and_name_and_practitioner_give_way(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#queue")
        assert table.shown_labels() == ["Kind", "Due", "RoSH", "CRN", "Title"]


async def test_the_counts_line_wraps_between_counts_instead_of_being_cut(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(80, 30)) as pilot:
        await pilot.pause()
        summary = app.screen.query_one(QueueSummary)
        summary.show({"alert": (2, 0), "sbar": (6, 1), "touch_point": (44, 16), "countersign": (23, 7),
                      "task": (10, 1), "action": (6, 2), "supervision": (3, 3)})  # fmt: skip
        await pilot.pause()
        lines = [strip.text.rstrip() for strip in summary.render_lines(Region(0, 0, summary.size.width, summary.size.height))]
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
        assert contrast(screen.query_one("#filters"), "3 Touch points") >= 4.5
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
