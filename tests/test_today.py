"""The Today screen driven as an SPO drives it: keys pressed, database read back afterwards."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import NOW, clock, read_rows, select_item, ui_team

from spo_tui.app import SpoApp
from spo_tui.services import intake, refresh
from spo_tui.store.db import open_db


@pytest.fixture
def team_db(tmp_path, monkeypatch):
    """A small team: SPO, PO, CASPO, SAO; two cases; one of each kind of work."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    ids = {
        "sbar": intake.raise_sbar(
            ctx,
            "X123456",
            "Pat Officer",
            "[URGENT] Partner disclosed threats",
            "On licence since October",
            "Risk has risen",
            "Consider recall",
            "urgent",
        ).item_id,
        "countersign": intake.add_countersign(ctx, "Y123456", "PSR", "Pat Officer", court_date="2026-11-24").item_id,
        "alert": intake.add_alert(ctx, "X123456", "call_out", "Police call-out to home address").item_id,
        "task": intake.add_task(ctx, "Heating broken in interview room 2", "buildings").item_id,
        "touch_point": intake.add_touch_point(ctx, "Y123456", "2026-11-20", "Check new address").item_id,
    }
    refresh.refresh_due_work(ctx)
    ctx.db.close()
    return path, ids


rows = read_rows


def item_status(path, item_id):
    return rows(path, "SELECT status FROM items WHERE id = ?", [item_id])[0][0]


def make_app(path):
    return SpoApp(path, clock=clock)


async def test_queue_shows_alert_first_and_counts(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        screen = app.screen
        assert type(screen).__name__ == "TodayScreen"
        assert screen.entries[0].id == ids["alert"]
        assert "Alerts 1" in str(screen.query_one("#summary").render())


async def test_a_number_key_or_a_click_on_the_filter_line_changes_the_view(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        screen = app.screen
        await pilot.press("5")
        assert {e.kind.value for e in screen.entries} == {"task"}
        assert "5 Tasks" in str(screen.query_one("#filters").render()) and screen.query_one("#filters").active == "task"
        line = str(screen.query_one("#filters").render())
        await pilot.click("#filters", offset=(1 + line.index("2 SBARs") + 1, 0))  # the bar's padding, then the label
        assert screen.filter_kind == "sbar" and screen.query_one("#filters").active == "sbar"
        assert screen.entries and {e.kind.value for e in screen.entries} == {"sbar"}


async def test_decide_top_sbar_in_three_keystrokes(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await pilot.press("2")  # SBARs
        await pilot.press("d")  # oversight form, decision field focused
        await pilot.pause()
        await pilot.press(*"Recall not needed; increase contact to weekly.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
    entry = rows(path, "SELECT item_id, decision, decided_by, crn FROM oversight_entries")
    assert entry == [(ids["sbar"], "Recall not needed; increase contact to weekly.", "spo-1", "X123456")]
    assert item_status(path, ids["sbar"]) == "closed"
    assert rows(path, "SELECT state FROM sbars WHERE item_id = ?", [ids["sbar"]]) == [("decided",)]


async def test_decide_with_empty_decision_writes_nothing(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await pilot.press("2", "d")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "OversightForm"
        assert "required" in str(app.screen.query_one("#error-decision").render())
    assert rows(path, "SELECT COUNT(*) FROM oversight_entries") == [(0,)]
    assert item_status(path, ids["sbar"]) == "open"


async def test_book_protected_hour(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("b")
        await pilot.pause()
    assert rows(path, "SELECT state, booked_for FROM sbars") == [("booked", "2026-11-23T13:00+00:00")]


async def test_ask_for_more_information_takes_sbar_out_of_queue(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("i")
        await pilot.pause()
        await pilot.press(*"When was the last home visit?", "enter")
        await pilot.pause()
        assert ids["sbar"] not in [e.id for e in app.screen.entries]
    assert rows(path, "SELECT state, info_request FROM sbars") == [("awaiting_info", "When was the last home visit?")]
    assert item_status(path, ids["sbar"]) == "waiting"


async def test_escalate_to_pdu_head(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("1")  # PDU head
        await pilot.pause()
        await pilot.press(*"Needs a recall decision today", "enter")
        await pilot.pause()
    assert rows(path, "SELECT escalated_to, escalation_note FROM sbars") == [
        ("PDU head", "Needs a recall decision today")
    ]
    assert rows(path, "SELECT outcome FROM oversight_entries") == [("escalated",)]


async def test_sign_off_requires_a_verdict(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["countersign"])
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")  # no verdict: refused, prompt stays
        await pilot.pause()
        assert type(app.screen).__name__ == "PromptScreen"
        assert "verdict" in str(app.screen.query_one("#prompt-error").render())
        assert rows(path, "SELECT state FROM countersigns") == [("AWAITING_GATEKEEP",)]
        await pilot.press(*"Read in full; risk analysis sound", "enter")
        await pilot.pause()
        assert str(app.screen.query_one("#prompt-title").render()) == "Minutes it took (optional)"
        await pilot.press("enter")  # minutes are optional
        await pilot.pause()
    # The fixture's item is a PSR: gatekept, not countersigned [000 §3.2].
    assert rows(path, "SELECT state FROM countersigns") == [("GATEKEPT",)]
    assert rows(path, "SELECT old_state, new_state, verdict, minutes FROM countersign_history") == [
        ("AWAITING_GATEKEEP", "GATEKEPT", "Read in full; risk analysis sound", None)
    ]


async def test_return_countersign_with_guidance(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["countersign"])
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"Add the DA call-out history", "enter")
        await pilot.pause()
        await pilot.press(*"25", "enter")  # the minutes it took [000 §3.3]
        await pilot.pause()
    assert rows(path, "SELECT state FROM countersigns") == [("RETURNED_TO_AUTHOR",)]
    assert rows(path, "SELECT outcome, decision, minutes FROM oversight_entries") == [
        ("returned", "Returned to the author with changes: Add the DA call-out history", 25)
    ]


async def test_waive_touch_point_with_reason(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["touch_point"])
        await pilot.press("w")
        await pilot.pause()
        await pilot.press(*"Seen at MAPPA last week", "enter")
        await pilot.pause()
    assert rows(path, "SELECT waived_reason FROM touch_points WHERE item_id = ?", [ids["touch_point"]]) == [
        ("Seen at MAPPA last week",)
    ]
    assert item_status(path, ids["touch_point"]) == "closed"


async def test_record_touch_point_discussion(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["touch_point"])
        await pilot.press("enter")  # the main action of a touch point: the oversight form
        await pilot.pause()
        await pilot.press(*"Address verified; plan stands", "ctrl+s")
        await pilot.pause()
    assert rows(path, "SELECT item_id, decision FROM oversight_entries") == [
        (ids["touch_point"], "Address verified; plan stands")
    ]


async def test_acknowledge_alert(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await pilot.press("d")  # the alert is on top
        await pilot.pause()
        await pilot.press(*"Spoke to police; PP to visit today", "ctrl+s")
        await pilot.pause()
    assert rows(path, "SELECT acknowledged_by FROM alerts") == [("spo-1",)]
    assert item_status(path, ids["alert"]) == "closed"


async def test_delegate_task_in_one_keystroke_and_a_choice(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["task"])
        await pilot.press("g")
        await pilot.pause()
        await pilot.press("2")  # delegates listed by name: Cas Admin, Sue Sao
        await pilot.pause()
        assert ids["task"] not in [e.id for e in app.screen.entries]
    delegated = rows(path, "SELECT s.name FROM tasks t JOIN staff s ON s.id = t.delegated_to")
    assert delegated == [("Sue Sao",)]


async def test_task_done_with_minutes_and_bad_minutes(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["task"])
        await pilot.press("x")
        await pilot.pause()
        await pilot.press(*"half an hour", "enter")
        await pilot.pause()
        assert "whole number" in str(app.screen.query_one("#prompt-error").render())
        assert item_status(path, ids["task"]) == "open"
        input_ = app.screen.query_one("#prompt-input")
        input_.value = ""
        await pilot.press(*"30", "enter")
        await pilot.pause()
    assert rows(path, "SELECT minutes_spent FROM tasks") == [(30,)]


async def test_snooze_hides_until_date_and_rejects_nonsense(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["task"])
        await pilot.press("z")
        await pilot.pause()
        await pilot.press(*"someday", "enter")
        await pilot.pause()
        assert "cannot read 'someday' as a date" in str(app.screen.query_one("#prompt-error").render())
        assert rows(path, "SELECT snoozed_until FROM items WHERE id = ?", [ids["task"]]) == [(None,)]
        app.screen.query_one("#prompt-input").value = ""
        await pilot.press(*"fri", "enter")
        await pilot.pause()
        assert ids["task"] not in [e.id for e in app.screen.entries]
    assert rows(path, "SELECT snoozed_until FROM items WHERE id = ?", [ids["task"]]) == [
        (date(2026, 11, 27).isoformat(),)
    ]


async def test_reassign_moves_item_out_of_queue(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["touch_point"])
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("2")  # staff other than the SPO, by name: Cas Admin, Pat Officer, Sue Sao
        await pilot.pause()
    assert rows(
        path, "SELECT s.name FROM items i JOIN staff s ON s.id = i.assigned_to WHERE i.id = ?", [ids["touch_point"]]
    ) == [("Pat Officer",)]


async def test_undo_last_decision_supersedes_it(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["countersign"])
        await pilot.press("s")
        await pilot.pause()
        await pilot.press(*"Risk analysis sound, plan complete", "enter")
        await pilot.pause()
        await pilot.press("enter")  # no minutes
        await pilot.pause()
        assert rows(path, "SELECT state FROM countersigns") == [("GATEKEPT",)]
        await pilot.press("u")
        await pilot.pause()
        confirm = app.screen
        assert type(confirm).__name__ == "ConfirmScreen"
        question = str(confirm.query_one("#confirm-question").render())
        assert "the gatekeeping verdict on Y123456" in question and "1 oversight entry withdrawn" in question
        await pilot.press("enter")  # Enter is not yes in a destructive confirmation
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
        assert rows(path, "SELECT COUNT(*) FROM oversight_entries WHERE outcome = 'withdrawn'") == [(0,)]
        app.screen.query_one("#queue").move_cursor(row=len(app.screen.entries) - 1)  # moved on meanwhile
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert type(app.screen).__name__ == "PromptScreen"
        await pilot.press(*"oops", "enter")  # not a reason: refused, nothing written
        await pilot.pause()
        assert "the reason for the undo must say why in at least 3 words" in str(
            app.screen.query_one("#prompt-error").render()
        )
        assert rows(path, "SELECT COUNT(*) FROM oversight_entries WHERE outcome = 'withdrawn'") == [(0,)]
        await pilot.press(*["backspace"] * 4, *"Signed the wrong PSR by mistake", "enter")
        await pilot.pause()
        assert ids["countersign"] in [e.id for e in app.screen.entries]
        assert app.screen.current.id == ids["countersign"]  # back, and under the cursor
    entries = rows(
        path, "SELECT outcome, supersedes_id IS NOT NULL FROM oversight_entries ORDER BY created_at, outcome"
    )
    assert sorted(entries) == [("signed_off", 0), ("withdrawn", 1)]
    assert rows(
        path,
        "SELECT decision LIKE '%Reason: Signed the wrong PSR by mistake' FROM oversight_entries WHERE outcome = 'withdrawn'",
    ) == [(1,)]
    assert rows(path, "SELECT state FROM countersigns") == [("AWAITING_GATEKEEP",)]
    assert item_status(path, ids["countersign"]) == "open"


async def test_a_verdict_of_ok_is_refused_on_screen_and_nothing_is_signed(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["countersign"])
        await pilot.press("s")
        await pilot.pause()
        await pilot.press(*"ok", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "PromptScreen"
        assert "at least 3 words and 15 characters" in str(app.screen.query_one("#prompt-error").render())
    assert rows(path, "SELECT state FROM countersigns") == [("AWAITING_GATEKEEP",)]
    assert rows(path, "SELECT COUNT(*) FROM oversight_entries") == [(0,)]


async def test_snooze_shows_the_date_it_resolves_to_and_refuses_a_date_just_passed(team_db, running_app):
    path, ids = team_db  # today is Monday 23/11/2026
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["task"])
        await pilot.press("z")
        await pilot.pause()
        prompt = app.screen
        assert type(prompt).__name__ == "PromptScreen"
        await pilot.press(*"3/12")
        await pilot.pause()
        assert str(prompt.query_one("#prompt-echo").render()) == "= Thu 03/12/2026"
        await pilot.press(*["backspace"] * 4, *"20/11")
        await pilot.pause()
        echo = str(prompt.query_one("#prompt-echo").render())
        assert "20/11/2026 has passed" in echo and "20/11/2027 is more than 6 months ahead" in echo
        await pilot.press("enter")  # refused: the prompt stays, nothing is snoozed
        await pilot.pause()
        assert app.screen is prompt
        assert "20/11/2026 has passed" in str(prompt.query_one("#prompt-error").render())
        assert rows(path, "SELECT snoozed_until FROM items WHERE id = ?", [ids["task"]]) == [(None,)]
        await pilot.press(*["backspace"] * 5, *"3/12", "enter")
        await pilot.pause()
    assert rows(path, "SELECT snoozed_until FROM items WHERE id = ?", [ids["task"]]) == [("2026-12-03",)]


async def test_cursor_stays_on_next_item_after_action(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        screen = app.screen
        await select_item(app, pilot, ids["countersign"])
        row = screen.query_one("#queue").cursor_row
        following = screen.entries[row + 1].id
        await pilot.press("s")
        await pilot.pause()
        await pilot.press(*"Risk analysis sound, plan complete", "enter")
        await pilot.pause()
        await pilot.press("enter")  # no minutes
        await pilot.pause()
        assert screen.current.id == following


async def test_work_made_in_the_background_does_not_move_the_item_under_the_cursor(team_db, running_app):
    """Rule-made work found just after the app starts (the day's touch points and supervision) goes
    above the item the SPO has already moved to: the cursor stays on that item, so the next key acts
    on what they are looking at, not on whatever slid into its row."""
    from spo_tui.config import load_rules
    from spo_tui.screens.today import TodayScreen
    from spo_tui.services.context import make_context

    path, ids = team_db
    async with running_app(path) as (app, pilot):
        screen = app.screen
        await app.workers.wait_for_complete()
        await select_item(app, pilot, ids["task"])
        row, before = screen.query_one("#queue").cursor_row, len(screen.entries)
        db = open_db(path)
        try:  # an alert, which goes to the top, made as the background refresh makes its work
            intake.add_alert(
                make_context(db, load_rules(), clock=clock), "Y123456", "call_out", "Police called to the home address"
            )
        finally:
            db.close()
        screen.post_message(TodayScreen.DueWorkRefreshed(1))
        await pilot.pause()
        await pilot.pause()
        assert len(screen.entries) == before + 1
        assert screen.current.id == ids["task"]
        assert screen.query_one("#queue").cursor_row == row + 1


async def test_search_filters_by_crn_and_escape_clears(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await pilot.press("slash", *"Y1234")
        await pilot.pause()
        assert {e.row.crn for e in app.screen.entries} == {"Y123456"}
        await pilot.press("escape")
        await pilot.pause()
        assert len({e.row.crn for e in app.screen.entries}) > 1


async def test_open_case_from_queue(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await pilot.press("c")
        await pilot.pause()
        assert type(app.screen).__name__ == "CaseScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"


async def test_keys_that_do_not_apply_are_refused(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await pilot.press("s")  # the alert is highlighted: no sign-off
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
    assert rows(path, "SELECT COUNT(*) FROM countersign_history") == [(0,)]


async def test_command_palette_offers_the_actions_that_apply(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["countersign"])
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Sign off (s)" in titles and "Waive (w)" not in titles
        assert "Go to case by CRN" in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Sign off", "enter")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "PromptScreen"
        await pilot.press(*"Sound analysis and plan", "enter")
        await pilot.pause()
        await pilot.press("enter")  # no minutes
        await pilot.pause()
    assert rows(path, "SELECT state FROM countersigns") == [("GATEKEPT",)]  # a PSR [000 §3.2]


async def test_go_to_case_by_crn_from_the_palette(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        app.action_goto_case()
        await pilot.pause()
        await pilot.press(*"y123456", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "CaseScreen"
        assert app.screen.crn == "Y123456"


async def test_waiting_view_logs_the_answer_and_returns_the_sbar(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("i", *"Last visit?", "enter")
        await pilot.pause()
        await pilot.press("8")  # Waiting
        await pilot.pause()
        assert [e.id for e in app.screen.entries] == [ids["sbar"]]
        await pilot.press("y")
        await pilot.pause()
        await pilot.press(*"Visited Friday", "enter")
        await pilot.pause()
        assert app.screen.entries == []
        await pilot.press("0")
        await pilot.pause()
        assert ids["sbar"] in [e.id for e in app.screen.entries]
    state, background = rows(path, "SELECT state, background FROM sbars")[0]
    assert state == "raised" and background.endswith("Further information: Visited Friday")
    assert item_status(path, ids["sbar"]) == "open"


async def test_delegated_task_shows_as_waiting_and_can_be_marked_done(team_db, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, ids["task"])
        await pilot.press("g", "1")  # Cas Admin
        await pilot.pause()
        await pilot.press("8")
        await pilot.pause()
        assert [e.id for e in app.screen.entries] == [ids["task"]]
        assert "Waiting 1" in str(app.screen.query_one("#summary").render())
        await pilot.press("x", *"45", "enter")
        await pilot.pause()
    assert rows(path, "SELECT minutes_spent FROM tasks") == [(45,)]
    assert item_status(path, ids["task"]) == "closed"


async def test_caspo_sees_no_decision_keys_but_enters_records_on_the_spos_behalf(team_db):
    path, ids = team_db
    app = SpoApp(path, actor="Cas Admin", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"  # the CASPO's home
        await pilot.press("t")
        await pilot.pause()
        assert "Cas Admin (CASPO)" in app.sub_title
        await select_item(app, pilot, ids["countersign"])
        assert app.screen.footer_mark("sign_off") == "(SPO)"  # live, marked, and refused saying why
        await pilot.press("s")
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
        await select_item(app, pilot, ids["sbar"])
        assert app.screen.offered("decide") is False
        assert app.screen.offered("book") is True
        await select_item(app, pilot, ids["touch_point"])  # an alert stays with the SPO (test_roles.py)
        await pilot.press("d")
        await pilot.pause()
        await pilot.press(*"SPO agreed: visit today", "ctrl+s")
        await pilot.pause()
    assert rows(path, "SELECT COUNT(*) FROM countersign_history") == [(0,)]
    assert rows(path, "SELECT status FROM items WHERE id = ?", [ids["alert"]]) == [("open",)]
    entered = rows(
        path,
        "SELECT d.name, e.name FROM oversight_entries o JOIN staff d ON d.id = o.decided_by "
        "JOIN staff e ON e.id = o.entered_by",
    )
    assert entered == [("Sam Spo", "Cas Admin")]


async def test_another_process_change_shows_within_two_seconds(team_db, tmp_path):
    import os
    import subprocess
    import sys
    import time

    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        env = {**os.environ, "SPO_TUI_RULES": str(tmp_path / "none.toml"), "SPO_TUI_TODAY": "2026-11-23"}
        added = subprocess.run(
            [
                sys.executable,
                "-m",
                "spo_tui",
                "--db",
                str(path),
                "--as",
                "Cas Admin",
                "add",
                "task",
                "--title",
                "Fire alarm test",
                "--category",
                "health_safety",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout.strip()
        start = time.monotonic()
        while added not in [e.id for e in app.screen.entries] and time.monotonic() - start < 2:
            await pilot.pause(0.1)
        assert added in [e.id for e in app.screen.entries]


async def test_a_terminal_too_small_says_so(team_db, running_app):
    path, ids = team_db
    async with running_app(path, size=(60, 20)) as (app, pilot):
        assert type(app.screen).__name__ == "TooSmallScreen"
        assert "needs at least 80×24" in str(app.screen.query_one("#too-small").render())
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "TodayScreen"


async def test_start_warns_when_the_record_was_altered(team_db):
    path, ids = team_db
    app0 = make_app(path)
    async with app0.run_test(size=(120, 40)) as pilot:  # record one entry through the app
        await pilot.pause()
        await pilot.press("d", *"Seen", "ctrl+s")
        await pilot.pause()
    db = open_db(path)
    db.conn.execute("DROP TRIGGER oversight_entries_no_update")
    db.conn.execute("UPDATE oversight_entries SET decision = 'Changed later'")
    db.conn.commit()
    db.close()
    app = make_app(path)
    app.VERIFY_AFTER = 0.1
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
    assert any(
        m.startswith("The oversight record does not hold: oversight entry") and "has been altered" in m
        for m in messages
    )


async def test_start_checks_a_clean_record_quietly_and_anchors_its_head(team_db):
    import json
    import os
    from pathlib import Path

    path, ids = team_db
    app = make_app(path)
    app.VERIFY_AFTER = 0.1
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
    assert not any("oversight record" in m for m in messages)
    (anchor_file,) = (Path(os.environ["XDG_DATA_HOME"]) / "spo-tui" / "anchors").glob("*.jsonl")
    assert json.loads(anchor_file.read_text().splitlines()[-1])["event"] == "app"


@pytest.mark.parametrize(
    ("key", "screen"),
    [
        ("k", "CheckinScreen"),
        ("h", "ProtectedHourScreen"),
        ("p", "SupervisionScreen"),
        ("o", "TeamScreen"),
        ("M", "MonthlyScreen"),
    ],
)
async def test_rhythm_screens_open_from_today_and_escape_returns(team_db, key, screen, running_app):
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        await pilot.press(key)
        await pilot.pause()
        assert type(app.screen).__name__ == screen
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"


async def test_work_added_on_another_screen_is_in_the_queue_on_return(team_db, running_app):
    """Today reads again on coming back when anything was written meanwhile, even on its own connection."""
    path, ids = team_db
    async with running_app(path) as (app, pilot):
        today = app.screen
        await pilot.press("m")  # the admin screen, over the queue
        await pilot.pause()
        assert app.screen is not today
        added = intake.add_task(app.ctx, "Fire door will not close", "health_safety").item_id
        await pilot.press("t")  # back to Today
        await pilot.pause()
        assert app.screen is today
        assert added in [e.id for e in today.entries]
        assert "Tasks 2" in str(today.query_one("#summary").render())


@pytest.mark.parametrize(("closing", "value"), [("screen_stack", []), ("is_running", False)])
async def test_a_change_seen_as_the_app_closes_ends_nothing_with_a_traceback(
    team_db, running_app, monkeypatch, closing, value
):
    """The store poll can fire as the app closes: once Textual has stopped running it, while it takes
    the screens down (their widgets may be gone: "No nodes match '#diary-table'"), or after they are
    all gone ("No screens on stack"); the suite met both. It has nothing to read again, and says
    nothing. With the app running, the same poll shows the change."""
    from spo_tui.config import load_rules
    from spo_tui.services.context import make_context

    path, _ids = team_db
    async with running_app(path) as (app, pilot):
        db = open_db(path)
        try:  # saved by another process
            added = intake.add_task(make_context(db, load_rules(), clock=clock), "Lift out of order", "buildings")
        finally:
            db.close()
        with monkeypatch.context() as patch:
            patch.setattr(type(app), closing, property(lambda _app: value))
            app._poll_store()
        assert added.item_id not in [e.id for e in app.screen.entries]
        app._poll_store()
        await pilot.pause()
        assert added.item_id in [e.id for e in app.screen.entries]


async def test_a_narrow_terminal_scrolls_the_queue_sideways_to_the_name_and_practitioner(team_db, running_app):
    path, ids = team_db
    async with running_app(path, size=(80, 24)) as (app, pilot):
        table = app.screen.query_one("#queue")
        assert " PP " not in table.render_line(0).text  # the practitioner's column is past the edge
        for _ in range(30):
            await pilot.press("right")
        header, first = table.render_line(0).text, table.render_line(1).text
        assert " PP " in header and "Pat Officer" in first
        assert table.cursor_row == 0  # sideways keys leave the cursor where it was
