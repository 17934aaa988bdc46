"""The Today screen over a long queue: it reads a page at a time as the cursor nears the end of what
it has read, searches the whole queue, and keeps the cursor's place after acting deep in the list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import NOW, clock, read_rows, ui_team

from spo_tui.app import SpoApp
from spo_tui.screens.today import TodayScreen
from spo_tui.services import intake, refresh
from spo_tui.services.queue import build_queue

TODAY = NOW.date()
TASKS = 260


@pytest.fixture
def long_queue(tmp_path, monkeypatch):
    """The small UI team with 260 tasks (due dates spread over eight weeks, so scores and due dates
    differ and tie), plus the rule-made work; returns the path and the queue's ids and titles, in order."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "long.db"
    ctx = ui_team(path)
    ctx.db.execute("PRAGMA synchronous = OFF")  # only to build the fixture quickly
    for n in range(TASKS):
        intake.add_task(ctx, f"Chore {n:03d}", "other", due=TODAY + timedelta(days=n % 40 - 15))
    refresh.refresh_due_work(ctx)  # so the app's own refresh finds nothing to add
    queue = [(e.id, e.row.title) for e in build_queue(ctx)]
    ctx.db.close()
    assert len(queue) > 250
    return path, queue


def make_app(path):
    return SpoApp(path, clock=clock)


def ids(screen) -> list[str]:
    return [e.id for e in screen.entries]


def table_ids(table) -> list[str]:
    """The item ids of the table's rows, top to bottom (what is drawn, not the screen's list)."""
    return [table.row_key(n) for n in range(table.row_count)]


async def today(app, pilot) -> TodayScreen:
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, TodayScreen)
    return screen


async def test_the_table_starts_with_one_page_and_reads_the_next_as_the_cursor_nears_its_end(long_queue):
    path, queue = long_queue
    order = [item_id for item_id, _title in queue]
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await today(app, pilot)
        table = screen.query_one("#queue")
        page = TodayScreen.PAGE
        assert page == 100
        assert table.row_count == len(screen.entries) == page
        assert table_ids(table) == order[:page]

        # Well before the end of the page nothing more is read.
        table.move_cursor(row=page // 2)
        await pilot.pause()
        assert table.row_count == page

        # Walking down with the arrow key: the next page is read before the cursor reaches the last row.
        table.move_cursor(row=page - TodayScreen.PAGE_MARGIN - 3)
        await pilot.pause()
        assert table.row_count == page
        while table.row_count == page and table.cursor_row < page - 1:
            await pilot.press("down")
            await pilot.pause()
        assert table.cursor_row < page - 1
        assert table.row_count == len(screen.entries) == 2 * page
        assert table_ids(table) == order[: 2 * page]

        # The cursor keeps going past the first page's end.
        start = table.cursor_row
        for _ in range(15):
            await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == start + 15 > page

        # To the bottom (End): each time the next page is read, until the whole queue is there.
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == 2 * page - 1
        assert table.row_count == len(order)
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == len(order) - 1
        assert table_ids(table) == ids(screen) == order
        await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == len(order) - 1 and table.row_count == len(order)
        assert screen.current.id == order[-1]


async def test_search_finds_an_item_far_below_the_rows_read(long_queue):
    path, queue = long_queue
    target, title = queue[239]
    assert title.startswith("Chore ") and sum(title in t for _i, t in queue) == 1
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await today(app, pilot)
        table = screen.query_one("#queue")
        assert target not in ids(screen)
        await pilot.press("slash", *title.swapcase())  # "cHORE 239": any case
        await pilot.pause()
        assert ids(screen) == [target]
        assert table_ids(table) == [target] and table.cursor_row == 0
        assert screen.current.id == target
        await pilot.press("enter")  # keep the search, back to the table
        await pilot.pause()
        assert table.has_focus and ids(screen) == [target]
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == TodayScreen.PAGE and table_ids(table) == [i for i, _t in queue[: TodayScreen.PAGE]]

        # A search matching more than a page reads its matches a page at a time too.
        await pilot.press("slash", *"chore")
        await pilot.pause()
        chores = [i for i, t in queue if t.startswith("Chore ")]
        assert len(chores) > TodayScreen.PAGE and table_ids(table) == chores[: TodayScreen.PAGE]
        await pilot.press("enter", "ctrl+end")
        await pilot.pause()
        await pilot.press("ctrl+end")
        await pilot.pause()
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert table_ids(table) == chores and table.cursor_row == len(chores) - 1


async def test_acting_deep_in_the_list_keeps_the_cursor_on_that_row(long_queue):
    path, queue = long_queue
    order = [item_id for item_id, _title in queue]
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await today(app, pilot)
        table = screen.query_one("#queue")
        await pilot.press("ctrl+end")  # reads the second page
        await pilot.pause()
        assert table.row_count == 200
        table.move_cursor(row=150)
        await pilot.pause()
        snoozed = screen.current.id
        assert snoozed == order[150] and screen.current.row.kind == "task"

        await pilot.press("z")
        await pilot.pause()
        await pilot.press(*"tomorrow", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        left = [i for i in order if i != snoozed]
        assert table.cursor_row == 150 and table.row_count > 150
        assert snoozed not in ids(screen)
        assert screen.current.id == left[150]
        assert table_ids(table) == ids(screen) == left[: table.row_count]

        # Done on the item now on row 150: it closes, and the cursor stays on row 150 again.
        done = screen.current.id
        assert screen.current.row.kind == "task"
        await pilot.press("x")
        await pilot.pause()
        await pilot.press(*"15", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TodayScreen)
        left = [i for i in left if i != done]
        assert table.cursor_row == 150 and table.row_count > 150
        assert screen.current.id == left[150]
        assert table_ids(table) == ids(screen) == left[: table.row_count]

        # Walking on from there still reads the rest of the queue, in order.
        for _ in range(3):
            await pilot.press("ctrl+end")
            await pilot.pause()
        assert table_ids(table) == left

    assert read_rows(path, "SELECT snoozed_until FROM items WHERE id = ?", [snoozed]) == [
        (date(2026, 11, 24).isoformat(),)
    ]
    assert read_rows(path, "SELECT status FROM items WHERE id = ?", [done]) == [("closed",)]
