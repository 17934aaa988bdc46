"""Nothing leaves view without a trace: the Waiting and Snoozed views, un-snooze, and the question
and answer of an SBAR shown where the decision is made, driven through the Today screen."""

from __future__ import annotations

from conftest import read_rows, select_item
from test_today import make_app, team_db

rows = read_rows


def summary(app) -> str:
    return str(app.screen.query_one("#summary").render())


def detail(app) -> str:
    """The detail pane's text, as one line: the pane wraps to its width."""
    return " ".join(app.screen.query_one("#detail").text.split())


async def test_an_escalated_sbar_waits_on_the_pdu_head_and_comes_back_with_the_answer(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("e", "1", *"Recall decision needed today", "enter")  # PDU head
        await pilot.pause()
        assert ids["sbar"] not in [e.id for e in app.screen.entries]
        assert "Waiting 1" in summary(app)
        await pilot.press("8")  # Waiting on others
        await pilot.pause()
        assert [(e.id, e.row.waiting_on) for e in app.screen.entries] == [(ids["sbar"], "PDU head")]
        assert app.screen.query_one("#queue").row_cells(0)[4][0].startswith("[PDU head since 23/11] ")
        assert "Waiting on PDU head since Mon 23/11/2026" in detail(app)
        assert "Escalated to PDU head: Recall decision needed today" in detail(app)
        await pilot.press("y")
        await pilot.pause()
        note = str(app.screen.query_one("#prompt-note").render())
        assert "Escalated to PDU head on Mon 23/11/2026: Recall decision needed today" in note
        await pilot.press(*"Recall approved", "enter")
        await pilot.pause()
        assert app.screen.entries == []
        await pilot.press("0")
        await pilot.pause()
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("d")
        await pilot.pause()
        discussed = app.screen.query_one("#discussed").text
        assert "Escalated to PDU head: Recall decision needed today" in discussed
        assert "Answer from PDU head: Recall approved" in discussed
    assert rows(
        path, "SELECT i.status, s.state, s.escalation_answer FROM items i JOIN sbars s ON s.item_id = i.id"
    ) == [("open", "raised", "Recall approved")]


async def test_the_question_asked_is_shown_in_the_answer_dialog_the_form_and_the_case_timeline(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("i", *"When was the last home visit?", "enter")
        await pilot.pause()
        await pilot.press("8")
        await pilot.pause()
        assert [(e.id, e.row.waiting_on) for e in app.screen.entries] == [(ids["sbar"], "Pat Officer")]
        await pilot.press("y")
        await pilot.pause()
        assert (
            str(app.screen.query_one("#prompt-note").render())
            == "You asked on Mon 23/11/2026: When was the last home visit?"
        )
        await pilot.press(*"Friday, partner present", "enter")
        await pilot.pause()
        await pilot.press("0")
        await pilot.pause()
        await select_item(app, pilot, ids["sbar"])
        assert "Asked of the practitioner: When was the last home visit?" in detail(app)
        await pilot.press("d")
        await pilot.pause()
        discussed = app.screen.query_one("#discussed").text
        assert (
            "Asked of the practitioner: When was the last home visit?\nPractitioner's answer: Friday, partner present"
            in discussed
        )
        await pilot.press("escape")
        await pilot.pause()
        if type(app.screen).__name__ != "TodayScreen":  # "discard what you typed?"
            await pilot.press("y")
            await pilot.pause()
        await select_item(app, pilot, ids["sbar"])
        await pilot.press("c")
        await pilot.pause()
        case = app.screen
        assert type(case).__name__ == "CaseScreen"
        table = case.query_one("#timeline")
        keys = list(case.rows)
        table.move_cursor(row=keys.index(f"item:{ids['sbar']}"))
        await pilot.pause()
        shown = str(case.query_one("#timeline-detail").render())
        assert "Asked of the practitioner: When was the last home visit?" in shown
        assert "Practitioner's answer: Friday, partner present" in shown
    assert rows(path, "SELECT info_request, info_answer FROM sbars") == [
        ("When was the last home visit?", "Friday, partner present")
    ]


async def test_a_returned_psr_waits_on_its_author_until_resubmitted(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await select_item(app, pilot, ids["countersign"])
        await pilot.press("r", *"Add the DA call-out history", "enter")
        await pilot.pause()
        await pilot.press("enter")  # the minutes it took: optional
        await pilot.pause()
        assert ids["countersign"] not in [e.id for e in app.screen.entries]
        await pilot.press("8")
        await pilot.pause()
        assert [(e.id, e.row.waiting_on) for e in app.screen.entries] == [(ids["countersign"], "Pat Officer")]
        assert "Comes back to the queue on" in detail(app)
        await pilot.press("enter")  # the waiting item's main action: log the resubmission
        await pilot.pause()
        assert type(app.screen).__name__ == "PromptScreen"
        await pilot.press(*"History added", "enter")
        await pilot.pause()
        await pilot.press("4")  # Countersign
        await pilot.pause()
        assert ids["countersign"] in [e.id for e in app.screen.entries]
    assert rows(path, "SELECT i.status, c.state FROM items i JOIN countersigns c ON c.item_id = i.id") == [
        ("open", "AWAITING_GATEKEEP")
    ]
    assert rows(path, "SELECT old_state, new_state FROM countersign_history ORDER BY id") == [
        ("AWAITING_GATEKEEP", "RETURNED_TO_AUTHOR"),  # a PSR is gatekept, in its own words [000 §3.2]
        ("RETURNED_TO_AUTHOR", "AWAITING_GATEKEEP"),
    ]


async def test_the_snoozed_view_counts_finds_and_brings_back_a_snoozed_item(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Snoozed (9)" in titles and "Waiting (8)" in titles
        await select_item(app, pilot, ids["task"])
        await pilot.press("z", *"fri", "enter")
        await pilot.pause()
        assert "Snoozed 1" in summary(app)
        assert "9 Snoozed" in str(app.screen.query_one("#filters").render())
        # Search in All still finds it, marked snoozed.
        await pilot.press("slash", *"heating")
        await pilot.pause()
        assert [(e.id, e.row.status) for e in app.screen.entries] == [(ids["task"], "snoozed")]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("9")
        await pilot.pause()
        assert [e.id for e in app.screen.entries] == [ids["task"]]
        assert app.screen.query_one("#queue").row_cells(0)[4][0].startswith("[snoozed to Fri 27/11] ")
        assert "Snoozed until Fri 27/11/2026" in detail(app)
        await pilot.press("z")  # un-snooze
        await pilot.pause()
        assert app.screen.entries == []
        assert "Snoozed" not in summary(app)
        await pilot.press("0")
        await pilot.pause()
        assert ids["task"] in [e.id for e in app.screen.entries]
    assert rows(path, "SELECT snoozed_until FROM items WHERE id = ?", [ids["task"]]) == [(None,)]
    assert rows(path, "SELECT action FROM audit_log WHERE entity_id = ? ORDER BY id", [ids["task"]])[-2:] == [
        ("snooze",),
        ("unsnooze",),
    ]
