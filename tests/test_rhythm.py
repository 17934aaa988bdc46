"""The team's day: the check-in agenda, its notes and export, cover for absent practitioners, the protected hour."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, date, datetime, time, timedelta

import pytest
from conftest import CASPO, HIGH_CRN, LOW_CRN, NOW, PO, PSO, SAO, TODAY, fixed_clock, row, rows, snapshot, staff_id

from spo_tui.config import load_rules
from spo_tui.demo import write_demo
from spo_tui.domain.dates import add_working_days
from spo_tui.domain.errors import NotAllowed, NotFound, ValidationError
from spo_tui.domain.markdown import checkin_markdown
from spo_tui.domain.rules import Rules, merge_config
from spo_tui.services import admin, decisions, intake, rhythm
from spo_tui.services.context import LONDON, make_context
from spo_tui.services.decisions import AgreedAction
from spo_tui.store.db import open_db


def at(ctx, moment: datetime):
    """The same user and store at another moment."""
    return dataclasses.replace(ctx, clock=fixed_clock(moment))


def utc(day: int, month: int = 11, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def escaped(message: str) -> str:
    """The message as a regular expression matching itself."""
    return "".join("\\" + ch if ch in "()?[]." else ch for ch in message)


SBAR = {"situation": "S", "background": "B", "assessment": "A", "recommendation": "R"}


@pytest.fixture
def day(ctx):
    """A Monday check-in: Pat Officer (PO) is off sick with work due; an alert, a RoSH rise and a PSR due
    in court tomorrow; two SBARs and two touch points to decide; notes from the last fortnight."""
    ids = {}
    earlier = at(ctx, utc(9))
    ids["action_entry"] = decisions.record_oversight(
        earlier,
        crn=LOW_CRN,
        outcome="actions_set",
        discussed="Two missed appointments",
        decision="Warning letter",
        actions=[AgreedAction("Send warning letter", PO, date(2026, 11, 16))],
    ).oversight_id
    ids["action"] = row(ctx.db, "SELECT item_id FROM actions")["item_id"]
    rhythm.add_team_note(at(ctx, utc(14)), "success", "Old success, more than a week ago")
    on_20th = at(ctx, utc(20))
    rhythm.add_team_note(on_20th, "wellbeing", "Pip back from leave, settling in")
    ids["open_escalation"] = rhythm.add_team_note(
        on_20th, "escalation", "Interview room 3 panic alarm still broken"
    ).item_id
    ids["answered"] = rhythm.add_team_note(on_20th, "escalation", "Need a second CASPO day").item_id
    rhythm.answer_escalation(at(ctx, utc(21)), ids["answered"], "PDU head agreed an extra day from January")
    ids["old_tp"] = intake.add_touch_point(on_20th, LOW_CRN, date(2026, 11, 20), "Review after police call-out").item_id
    ids["routine_sbar"] = intake.raise_sbar(
        on_20th, HIGH_CRN, PO, **SBAR, urgency="routine", title="New partner disclosed"
    ).item_id

    admin.add_absence(ctx, PO, TODAY, "2026-11-25", "Sickness")
    ids["tp"] = intake.add_touch_point(ctx, HIGH_CRN, TODAY, "Police intelligence received").item_id
    ids["psr"] = intake.add_countersign(ctx, HIGH_CRN, "PSR", PO, court_date=date(2026, 11, 24)).item_id
    ids["alert"] = intake.add_alert(ctx, LOW_CRN, "arrest", "Arrested for criminal damage").item_id
    intake.update_case_risk(ctx, LOW_CRN, rosh="MEDIUM")
    ids["rise"] = row(ctx.db, "SELECT item_id FROM touch_points WHERE reason = 'rosh_rise'")["item_id"]
    ids["urgent_sbar"] = intake.raise_sbar(
        ctx, LOW_CRN, PSO, **SBAR, urgency="urgent", title="Arrest overnight: breach?"
    ).item_id
    rhythm.add_team_note(ctx, "concern", "Victim's address may have been disclosed", crn=HIGH_CRN)
    rhythm.add_team_note(ctx, "success", "Pip's PSR praised by the bench")
    ids["task"] = intake.add_task(ctx, "Heating broken", "buildings").item_id
    return ids


# --- The agenda ----------------------------------------------------------------------------------


def test_the_agenda_has_each_section_in_order(ctx, day):
    agenda = rhythm.checkin_agenda(ctx)
    assert agenda.day == TODAY and agenda.minutes == 15

    [absence] = agenda.absences
    assert (absence.name, absence.role, absence.reason, absence.start, absence.end) == (
        PO,
        "PO",
        "Sickness",
        TODAY,
        date(2026, 11, 25),
    )
    assert [(w.kind, w.crn, w.title, w.due, w.detail, w.covered_by) for w in absence.work] == [
        ("action", LOW_CRN, "Send warning letter", date(2026, 11, 16), "", None),
        ("countersign", HIGH_CRN, "PSR gatekeeping by Pat Officer", TODAY, "court 24/11/2026", None),
        ("touch_point", HIGH_CRN, "Police intelligence received", TODAY, "", None),
    ]
    assert absence.uncovered == 3

    assert [(r.reason, r.item_id, r.crn, r.rosh, r.practitioner) for r in agenda.risk_points] == [
        ("alert", day["alert"], LOW_CRN, "MEDIUM", PSO),
        ("rosh_rise", day["rise"], LOW_CRN, "MEDIUM", PSO),
        ("psr_due", day["psr"], HIGH_CRN, "HIGH", PO),
    ]
    assert agenda.risk_points[1].title == "RoSH rose Low → Medium"
    assert agenda.risk_points[2].due == date(2026, 11, 24)

    # Urgent SBAR first, then the older routine one; touch points due, oldest first (the rise is due later).
    assert [(r.reason, r.item_id, r.detail) for r in agenda.decisions] == [
        ("sbar", day["urgent_sbar"], "urgent"),
        ("sbar", day["routine_sbar"], "routine"),
        ("touch_point", day["old_tp"], ""),
        ("touch_point", day["tp"], ""),
    ]
    assert [n.text for n in agenda.concerns] == ["Victim's address may have been disclosed"]
    assert [n.text for n in agenda.wellbeing] == ["Pip back from leave, settling in"]
    assert [n.text for n in agenda.successes] == ["Pip's PSR praised by the bench"]
    assert [t.note.id for t in agenda.escalations] == [day["open_escalation"]]
    assert agenda.escalations[0].answered is False


def test_snoozed_and_closed_work_stays_off_the_agenda(ctx, day):
    decisions.snooze(ctx, day["old_tp"], "tomorrow")
    decisions.record_oversight(ctx, item_id=day["alert"], outcome="agreed", discussed="Arrest", decision="No recall")
    agenda = rhythm.checkin_agenda(ctx)
    assert day["old_tp"] not in {r.item_id for r in agenda.decisions}
    assert day["alert"] not in {r.item_id for r in agenda.risk_points}


def test_a_team_filter_keeps_only_that_teams_staff_and_cases(ctx, day):
    assert rhythm.checkin_agenda(ctx, team="Team A") == rhythm.checkin_agenda(ctx)
    other = rhythm.checkin_agenda(ctx, team="Team B")
    assert (other.absences, other.risk_points, other.decisions) == ((), (), ())


# --- Cover ---------------------------------------------------------------------------------------


def test_cover_is_recorded_and_shown_and_an_action_changes_owner(ctx, day):
    result = rhythm.reallocate_case_work(ctx, day["tp"], PSO, note="Pip knows the family")
    assert result.message == "Pip Services covers Police intelligence received"
    note = row(ctx.db, "SELECT * FROM team_notes WHERE id = ?", [result.created_ids[0]])
    assert (note["kind"], note["owner_id"], note["item_id"], note["crn"], note["due"]) == (
        "cover",
        staff_id(ctx.db, PSO),
        day["tp"],
        HIGH_CRN,
        "2026-11-23",
    )
    assert (
        note["text"]
        == "Pip Services covers touch point for Pat Officer: Police intelligence received. Pip knows the family"
    )
    audit = row(ctx.db, "SELECT * FROM audit_log WHERE id = ?", [result.audit_id])
    assert (audit["action"], audit["entity_id"]) == ("reallocate_case_work", day["tp"])
    # The touch point stays in the SPO's queue: the oversight is still the SPO's.
    assert row(ctx.db, "SELECT assigned_to FROM items WHERE id = ?", [day["tp"]])["assigned_to"] is None

    rhythm.reallocate_case_work(ctx, day["action"], PSO)
    assert row(ctx.db, "SELECT owner_id FROM actions WHERE item_id = ?", [day["action"]])["owner_id"] == staff_id(
        ctx.db, PSO
    )

    [absence] = rhythm.checkin_agenda(ctx).absences
    assert [(w.kind, w.covered_by) for w in absence.work] == [("countersign", None), ("touch_point", PSO)]
    assert absence.uncovered == 1


def test_the_audit_keeps_an_actions_old_owner_and_its_cover(ctx, day):
    result = rhythm.reallocate_case_work(ctx, day["action"], PSO)
    audit = row(ctx.db, "SELECT action, old, new FROM audit_log WHERE id = ?", [result.audit_id])
    assert audit["action"] == "reallocate_case_work"
    assert f'"owner_id": "{staff_id(ctx.db, PO)}"' in audit["old"]
    assert f'"covered_by": "{staff_id(ctx.db, PSO)}"' in audit["new"]


COVER_REFUSALS = {
    "supervision": (
        lambda c, d, s: rhythm.reallocate_case_work(c, s, PSO),
        NotAllowed,
        "a supervision session cannot be covered by someone else: postpone it instead",
    ),
    "task": (
        lambda c, d, s: rhythm.reallocate_case_work(c, d["task"], PSO),
        NotAllowed,
        "a task is the SPO's own work, not a practitioner's: delegate it instead",
    ),
    "not a practitioner": (
        lambda c, d, s: rhythm.reallocate_case_work(c, d["tp"], CASPO),
        ValidationError,
        "Cas Admin is CASPO, not PO or PSO or PQiP or NQO",
    ),
    "unknown person": (
        lambda c, d, s: rhythm.reallocate_case_work(c, d["tp"], "Nobody"),
        ValidationError,
        "no staff member called 'Nobody'",
    ),
    "the holder": (
        lambda c, d, s: rhythm.reallocate_case_work(c, d["urgent_sbar"], PSO),
        ValidationError,
        "this is already Pip Services's work",
    ),
    "someone absent": (
        lambda c, d, s: rhythm.reallocate_case_work(c, d["urgent_sbar"], PO),
        ValidationError,
        "Pat Officer is absent today (Sickness): choose someone at work",
    ),
    "a closed item": (
        lambda c, d, s: rhythm.reallocate_case_work(c, d["closed"], PSO),
        NotAllowed,
        "is already closed",
    ),
    "an unknown item": (lambda c, d, s: rhythm.reallocate_case_work(c, "nope", PSO), NotFound, "no item with id nope"),
    "as a practitioner": (
        lambda c, d, s: rhythm.reallocate_case_work(make_context(c.db, c.rules, PSO, clock=c.clock), d["tp"], PSO),
        NotAllowed,
        "only an SPO or a CASPO can keep the check-in's notes, answers and cover",
    ),
}


def test_bad_cover_is_refused_and_nothing_changes(ctx, day):
    supervision = intake_supervision(ctx)
    day["closed"] = day["old_tp"]
    decisions.waive_touch_point(ctx, day["old_tp"], "Seen at MAPPA this week")
    before = snapshot(ctx.db)
    for case, (call, error, message) in COVER_REFUSALS.items():
        with pytest.raises(error, match=escaped(message)):
            call(ctx, day, supervision)
        assert snapshot(ctx.db) == before, case


def test_covering_twice_with_the_same_person_is_refused(ctx, day):
    rhythm.reallocate_case_work(ctx, day["tp"], PSO)
    before = snapshot(ctx.db)
    with pytest.raises(ValidationError, match="Pip Services already covers this"):
        rhythm.reallocate_case_work(ctx, day["tp"], PSO)
    assert snapshot(ctx.db) == before


def intake_supervision(ctx) -> str:
    from spo_tui.services import team

    return team.book_supervision(ctx, PSO, "one_to_one", "fri 10:30").item_id


# --- Notes ---------------------------------------------------------------------------------------


def test_an_action_note_puts_an_agreed_action_in_the_queue(ctx):
    result = rhythm.add_team_note(
        ctx, "action", "Chase police for the custody record", crn="y654321", owner=PSO, due="wed"
    )
    assert result.message == "Action noted for Pip Services"
    [item_id] = result.created_ids
    note = row(ctx.db, "SELECT * FROM team_notes WHERE id = ?", [result.item_id])
    assert (note["kind"], note["crn"], note["due"], note["item_id"], note["day"]) == (
        "action",
        LOW_CRN,
        "2026-11-25",
        item_id,
        "2026-11-23",
    )
    item = row(
        ctx.db,
        "SELECT i.*, a.owner_id, a.oversight_id FROM items i JOIN actions a ON a.item_id = i.id WHERE i.id = ?",
        [item_id],
    )
    assert (item["kind"], item["status"], item["due"], item["owner_id"], item["oversight_id"]) == (
        "action",
        "open",
        "2026-11-25",
        staff_id(ctx.db, PSO),
        None,
    )
    # Done through the ordinary service, and the monthly pack sees it done.
    decisions.complete_action(ctx, item_id)
    [action] = rhythm.checkin_actions(ctx, TODAY, TODAY)
    assert (action.status, action.done_on) == ("done", TODAY)


def test_an_action_without_a_due_date_gets_the_rules_default(ctx):
    result = rhythm.add_team_note(ctx, "Action", "Book the DA refresher", owner=PO)
    assert row(ctx.db, "SELECT due FROM team_notes WHERE id = ?", [result.item_id])["due"] == "2026-12-07"


def test_a_caspo_takes_notes_and_answers_escalations(ctx):
    caspo = make_context(ctx.db, ctx.rules, CASPO, clock=ctx.clock)
    note = rhythm.add_team_note(caspo, "escalation", "Printer on floor 2 broken for a month")
    rhythm.answer_escalation(caspo, note.item_id, "Business manager has ordered a new one")
    answer = row(ctx.db, "SELECT * FROM team_notes WHERE kind = 'answer'")
    assert (answer["answers_id"], answer["created_by"]) == (note.item_id, staff_id(ctx.db, CASPO))
    assert rhythm.open_escalations(ctx) == ()


NOTE_REFUSALS = {
    "unknown kind": (
        lambda c, n: rhythm.add_team_note(c, "gossip", "x"),
        ValidationError,
        "unknown kind of note 'gossip': expected one of note, action, wellbeing, success, concern, "
        "escalation, learning, near miss",
    ),
    "answer is not a kind to add": (
        lambda c, n: rhythm.add_team_note(c, "answer", "x"),
        ValidationError,
        "unknown kind of note 'answer'",
    ),
    "empty text": (lambda c, n: rhythm.add_team_note(c, "note", "   "), ValidationError, "the note is required"),
    "bad CRN": (
        lambda c, n: rhythm.add_team_note(c, "concern", "x", crn="12345"),
        ValidationError,
        "'12345' is not a CRN",
    ),
    "unknown CRN": (
        lambda c, n: rhythm.add_team_note(c, "concern", "x", crn="Z999999"),
        ValidationError,
        "no case with CRN Z999999",
    ),
    "unknown owner": (
        lambda c, n: rhythm.add_team_note(c, "action", "x", owner="Nobody"),
        ValidationError,
        "no staff member called 'Nobody'",
    ),
    "action without owner": (
        lambda c, n: rhythm.add_team_note(c, "action", "x"),
        ValidationError,
        "an action needs an owner: who will do it?",
    ),
    "due date passed": (
        lambda c, n: rhythm.add_team_note(c, "action", "x", owner=PO, due="2026-11-20"),
        ValidationError,
        "due date 20/11/2026 has passed",
    ),
    "due date unreadable": (
        lambda c, n: rhythm.add_team_note(c, "action", "x", owner=PO, due="someday"),
        ValidationError,
        "cannot read 'someday' as a date",
    ),
    "due without owner": (
        lambda c, n: rhythm.add_team_note(c, "note", "x", due="tomorrow"),
        ValidationError,
        "a due date needs an owner",
    ),
    "note as a practitioner": (
        lambda c, n: rhythm.add_team_note(make_context(c.db, c.rules, PO, clock=c.clock), "note", "x"),
        NotAllowed,
        "only an SPO or a CASPO can",
    ),
    "answer to nothing": (
        lambda c, n: rhythm.answer_escalation(c, "nope", "Yes"),
        NotFound,
        "no team note with id nope",
    ),
    "answer to a note": (
        lambda c, n: rhythm.answer_escalation(c, n["note"], "Yes"),
        NotAllowed,
        "this is a note, not an escalation: only an escalation is answered",
    ),
    "empty answer": (
        lambda c, n: rhythm.answer_escalation(c, n["escalation"], " "),
        ValidationError,
        "the answer is required",
    ),
    "answer as an SAO": (
        lambda c, n: rhythm.answer_escalation(make_context(c.db, c.rules, SAO, clock=c.clock), n["escalation"], "Yes"),
        NotAllowed,
        "only an SPO or a CASPO can",
    ),
}


def test_bad_notes_are_refused_and_nothing_changes(ctx):
    notes = {
        "note": rhythm.add_team_note(ctx, "note", "Team lunch Friday").item_id,
        "escalation": rhythm.add_team_note(ctx, "escalation", "Car park barrier broken").item_id,
    }
    before = snapshot(ctx.db)
    for case, (call, error, message) in NOTE_REFUSALS.items():
        with pytest.raises(error, match=escaped(message)):
            call(ctx, notes)
        assert snapshot(ctx.db) == before, case


def test_team_notes_are_append_only(ctx):
    note = rhythm.add_team_note(ctx, "near_miss", "Wrong address on a letter, caught before posting").item_id
    with pytest.raises(sqlite3.IntegrityError, match="team notes are append-only"):
        ctx.db.execute("UPDATE team_notes SET text = 'x' WHERE id = ?", [note])
    with pytest.raises(sqlite3.IntegrityError, match="team notes are append-only"):
        ctx.db.execute("DELETE FROM team_notes WHERE id = ?", [note])
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        ctx.db.execute(
            "INSERT INTO team_notes(id, day, kind, text, created_at) VALUES ('a', '2026-11-23', 'answer', 'x', 't')"
        )


def test_an_escalation_can_be_answered_twice_and_keeps_both(ctx):
    esc = rhythm.add_team_note(ctx, "escalation", "Caseloads over 60 for two PSOs").item_id
    rhythm.answer_escalation(ctx, esc, "Holding reply: raised with the PDU head")
    rhythm.answer_escalation(at(ctx, utc(30)), esc, "Two cases each moved to the new PO")
    [thread] = rhythm.escalation_threads(ctx, TODAY, date(2026, 11, 30))
    assert [(a.day, a.text) for a in thread.answers] == [
        (TODAY, "Holding reply: raised with the PDU head"),
        (date(2026, 11, 30), "Two cases each moved to the new PO"),
    ]
    assert rhythm.open_escalations(ctx) == ()


# --- The Markdown export -------------------------------------------------------------------------

EXPECTED_CHECKIN = """\
# Daily check-in: Monday 23/11/2026

## Absences and work needing cover

- Pat Officer (PO): Sickness, until 25/11/2026
  - Action: Y654321 Bo Sample (Medium): Send warning letter (due 16/11/2026, 7d overdue)
  - Countersign: X123456 Alex Example (High): PSR gatekeeping by Pat Officer (court 24/11/2026; due 23/11/2026, today)
  - Touch point: X123456 Alex Example (High): Police intelligence received (due 23/11/2026, today), covered by Pip Services

## Workload and span of control

Span 1:2.0 (2 PP FTE) against 1:10 for sentence management.

- Pat Officer (PO, FTE 1): 6% (1 case), absent today (Sickness)
- Pip Services (PSO, FTE 1): 2% (1 case)

## Potential risk points

- Alert: Y654321 Bo Sample (Medium, Pip Services): Police arrest: Arrested for criminal damage (23/11/2026)
- RoSH rise: Y654321 Bo Sample (Medium, Pip Services): RoSH rose Low → Medium (23/11/2026)
- PSR due in court: X123456 Alex Example (High, Pat Officer): PSR gatekeeping by Pat Officer (court 24/11/2026)

## Cases of concern and decisions expected today

- SBAR: Y654321 Bo Sample (Medium, Pip Services): Arrest overnight: breach? (urgent; due 23/11/2026, today)
- SBAR: X123456 Alex Example (High, Pat Officer): New partner disclosed (routine)
- Touch point: Y654321 Bo Sample (Medium, Pip Services): Review after police call-out (due 20/11/2026, 3d overdue)
- Touch point: X123456 Alex Example (High, Pat Officer): Police intelligence received (due 23/11/2026, today)
- Concern 23/11/2026: Victim's address may have been disclosed [X123456 Alex Example]

## Wellbeing and successes

- Wellbeing 20/11/2026: Pip back from leave, settling in
- Success 23/11/2026: Pip's PSR praised by the bench

## Escalations awaiting an answer

- Raised 20/11/2026: Interview room 3 panic alarm still broken

## Notes and actions

- Concern: Victim's address may have been disclosed [X123456 Alex Example]
- Success: Pip's PSR praised by the bench
- Cover: Pip Services covers touch point for Pat Officer: Police intelligence received [X123456 Alex Example] (Pip Services, due 23/11/2026)
- Action: Chase police for the custody record [Y654321 Bo Sample] (Pip Services, due 25/11/2026)
- Note: Duty rota: Lou covers reception \\*after\\* 2pm
"""


def test_the_checkin_exports_to_the_expected_markdown(ctx, day):
    rhythm.reallocate_case_work(ctx, day["tp"], PSO)
    rhythm.add_team_note(ctx, "action", "Chase police for the custody record", crn=LOW_CRN, owner=PSO, due="2026-11-25")
    rhythm.add_team_note(ctx, "note", "Duty rota: Lou covers\nreception *after* 2pm")
    text = rhythm.checkin_export(ctx)
    assert text == EXPECTED_CHECKIN
    assert checkin_markdown(rhythm.checkin_agenda(ctx), rhythm.checkin_notes(ctx), TODAY) == text


def test_an_empty_day_exports_its_empty_sections(ctx):
    assert rhythm.checkin_export(ctx) == (
        "# Daily check-in: Monday 23/11/2026\n\n"
        "## Absences and work needing cover\n\nNo one is absent.\n\n"
        "## Workload and span of control\n\n"
        "Span 1:2.0 (2 PP FTE) against 1:10 for sentence management.\n\n"
        "- Pat Officer (PO, FTE 1): 6% (1 case)\n"
        "- Pip Services (PSO, FTE 1): 2% (1 case)\n\n"
        "## Potential risk points\n\nNone.\n\n"
        "## Cases of concern and decisions expected today\n\nNone.\n\n"
        "## Wellbeing and successes\n\nNone.\n\n"
        "## Escalations awaiting an answer\n\nNone.\n\n"
        "## Notes and actions\n\nNo notes taken.\n"
    )


# --- The protected hour --------------------------------------------------------------------------


def test_the_protected_hour_shows_every_slot_and_the_running_order(ctx, day):
    first = decisions.book_protected_hour(ctx, day["urgent_sbar"])  # the next free slot: 13:00
    assert first.message == "Booked into the protected hour Mon 23/11 13:00"
    decisions.book_protected_hour(ctx, day["routine_sbar"], datetime(2026, 11, 23, 13, 30, tzinfo=LONDON))
    slots = rhythm.protected_hour(ctx)
    assert [(s.start.strftime("%H:%M"), s.end.strftime("%H:%M"), s.crn, s.state) for s in slots] == [
        ("13:00", "13:10", LOW_CRN, "booked"),
        ("13:10", "13:20", None, None),
        ("13:20", "13:30", None, None),
        ("13:30", "13:40", HIGH_CRN, "booked"),
        ("13:40", "13:50", None, None),
        ("13:50", "14:00", None, None),
    ]
    running = [s for s in slots if not s.free]
    assert [(s.item_id, s.name, s.practitioner, s.title, s.urgency) for s in running] == [
        (day["urgent_sbar"], "Bo Sample", PSO, "Arrest overnight: breach?", "urgent"),
        (day["routine_sbar"], "Alex Example", PO, "New partner disclosed", "routine"),
    ]
    assert decisions.next_free_slot(ctx).strftime("%H:%M") == "13:10"
    # The agenda shows the booking against the SBAR.
    assert rhythm.checkin_agenda(ctx).decisions[0].detail == "urgent, booked 13:00"

    # An outcome recorded from the protected hour keeps the slot in the running order, as done.
    decisions.record_oversight(
        ctx, item_id=day["urgent_sbar"], outcome="guidance_given", discussed="Arrest", decision="Warning"
    )
    later = at(ctx, datetime(2026, 11, 23, 13, 25, tzinfo=UTC))
    slots = rhythm.protected_hour(later)
    assert [(s.start.strftime("%H:%M"), s.done, s.past) for s in slots if not s.free] == [
        ("13:00", True, True),
        ("13:30", False, False),
    ]
    assert [s.past for s in slots] == [True, True, False, False, False, False]


def test_the_protected_hour_follows_the_rules_and_keeps_bookings_off_the_grid(ctx, day):
    decisions.book_protected_hour(ctx, day["urgent_sbar"], datetime(2026, 11, 24, 13, 20, tzinfo=LONDON))
    moved = Rules.from_dict(
        merge_config(ctx.rules.raw, {"protected_hour": {"start": "12:00", "end": "12:30", "slot_minutes": 15}})
    )
    slots = rhythm.protected_hour(dataclasses.replace(ctx, rules=moved), date(2026, 11, 24))
    assert [(s.start.strftime("%H:%M"), s.end.strftime("%H:%M"), s.item_id, s.off_grid) for s in slots] == [
        ("12:00", "12:15", None, False),
        ("12:15", "12:30", None, False),
        ("13:20", "13:35", day["urgent_sbar"], True),
    ]
    assert all(s.free for s in rhythm.protected_hour(ctx))  # today's is untouched


def test_an_sbar_awaiting_information_frees_its_slot(ctx, day):
    decisions.book_protected_hour(ctx, day["urgent_sbar"])
    decisions.request_more_information(ctx, day["urgent_sbar"], "Custody record?")
    assert all(s.free for s in rhythm.protected_hour(ctx))


# --- The demo team -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The seed-1 team demo on Monday 23 November 2026, with the clock at 09:00 UTC."""
    folder = tmp_path_factory.mktemp("demo")
    rules = load_rules(folder / "no-user-rules.toml")
    write_demo(folder / "demo.db", seed=1, scale="team", today=TODAY, rules=rules)
    db = open_db(folder / "demo.db")
    yield make_context(db, rules, clock=fixed_clock(NOW))
    db.close()


def test_the_demo_agenda_matches_the_raw_rows(demo):
    db, today = demo.db, TODAY.isoformat()
    agenda = rhythm.checkin_agenda(demo)

    absent = rows(
        db,
        "SELECT s.name FROM absences a JOIN staff s ON s.id = a.staff_id WHERE a.start_date <= ? AND a.end_date >= ?",
        [today, today],
    )
    assert [a.name for a in agenda.absences] == sorted(r["name"] for r in absent)
    assert len(agenda.absences) == 1
    # The absent practitioner's work: touch points and alerts on their cases, actions they own,
    # countersigns they wrote, SBARs they raised, their supervision: open or waiting, due by today.
    [absence] = agenda.absences
    held = []
    for item in rows(db, "SELECT * FROM items WHERE status != 'closed' AND due <= ? AND kind != 'task'", [today]):
        kind = item["kind"]
        if kind in ("touch_point", "alert"):
            holder = row(db, "SELECT practitioner_id FROM cases WHERE crn = ?", [item["crn"]])["practitioner_id"]
        elif kind == "action":
            holder = row(db, "SELECT owner_id FROM actions WHERE item_id = ?", [item["id"]])["owner_id"]
        elif kind == "countersign":
            holder = row(db, "SELECT author_id FROM countersigns WHERE item_id = ?", [item["id"]])["author_id"]
        elif kind == "supervision":
            holder = row(db, "SELECT practitioner_id FROM supervision WHERE item_id = ?", [item["id"]])[
                "practitioner_id"
            ]
        else:
            holder = item["raised_by"]
        if holder == absence.staff_id:
            held.append((item["due"], item["kind"], item["title"], item["id"]))
    assert [w.item_id for w in absence.work] == [h[3] for h in sorted(held)]
    assert len(absence.work) >= 2

    alerts = rows(db, "SELECT id FROM items WHERE kind = 'alert' AND status = 'open'")
    psr_until = add_working_days(TODAY, 2).isoformat()
    psrs = rows(  # Team A's: the court team's reports for court are its own SPO's [000 §3.2]
        db,
        """SELECT i.id FROM items i JOIN countersigns c ON c.item_id = i.id JOIN cases k ON k.crn = i.crn
                  JOIN staff pp ON pp.id = k.practitioner_id
                       WHERE c.kind = 'PSR' AND i.status != 'closed' AND c.court_date <= ? AND pp.team = 'Team A'""",
        [psr_until],
    )
    from spo_tui.services.rhythm import RECENT_DAYS

    since = (TODAY - timedelta(days=RECENT_DAYS - 1)).isoformat()
    rises = rows(  # touch points a rise in risk made lately: the case newly at MAPPA level 2 [issue 16 §4]
        db,
        """SELECT i.id, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id
           WHERE t.reason IN ('rosh_rise', 'mappa_rise') AND i.created_at >= ?""",
        [since],
    )
    reasons = [r.reason for r in agenda.risk_points]
    assert reasons == ["alert"] * len(alerts) + sorted(r["reason"] for r in rises) + ["psr_due"] * len(psrs)
    assert (len(alerts), len(rises), len(psrs)) == (2, 1, 2)
    assert {r.item_id for r in agenda.risk_points} == {r["id"] for r in alerts + rises + psrs}

    sbars = rows(
        db, "SELECT i.id, s.urgency, s.raised_at FROM items i JOIN sbars s ON s.item_id = i.id WHERE i.status = 'open'"
    )
    rank = {"urgent": 0, "soon": 1, "routine": 2}
    expected_sbars = [r["id"] for r in sorted(sbars, key=lambda r: (rank[r["urgency"]], r["raised_at"]))]
    tps = rows(
        db, "SELECT id, due, crn FROM items WHERE kind = 'touch_point' AND status = 'open' AND due <= ?", [today]
    )
    got = [r.item_id for r in agenda.decisions]
    assert got[: len(sbars)] == expected_sbars and len(sbars) == 6
    assert sorted(got[len(sbars) :]) == sorted(r["id"] for r in tps)
    dues = [r.due for r in agenda.decisions[len(sbars) :]]
    assert dues == sorted(dues) and all(d <= TODAY for d in dues)
    # The demo's check-ins of the last week, and the escalations still awaiting an answer [issue 16 §7].
    for kind, shown in (("concern", agenda.concerns), ("wellbeing", agenda.wellbeing), ("success", agenda.successes)):
        since = (TODAY - timedelta(days=rhythm.RECENT_DAYS - 1)).isoformat()
        notes = rows(db, "SELECT id FROM team_notes WHERE kind = ? AND day >= ? AND day <= ?", [kind, since, today])
        assert {n.id for n in shown} == {n["id"] for n in notes}
    answered = {r["answers_id"] for r in rows(db, "SELECT answers_id FROM team_notes WHERE kind = 'answer'")}
    awaiting = [
        r["id"] for r in rows(db, "SELECT id FROM team_notes WHERE kind = 'escalation'") if r["id"] not in answered
    ]
    assert sorted(t.note.id for t in agenda.escalations) == sorted(awaiting)
    assert agenda.concerns or agenda.wellbeing or agenda.successes


def test_the_demo_protected_hour_is_free_and_books_in_order(demo):
    assert [s.start.time() for s in rhythm.protected_hour(demo)] == [time(13, m) for m in (0, 10, 20, 30, 40, 50)]
    assert all(s.free and not s.past for s in rhythm.protected_hour(demo))
