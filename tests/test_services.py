"""Services as the SPO (or the CASPO on their behalf) uses them: refusals, role rules, decisions, undo."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from conftest import (
    BM,
    CASPO,
    HIGH_CRN,
    LOW_CRN,
    NOW,
    PO,
    PSO,
    SAO,
    SPO,
    fixed_clock,
    insert_spo,
    row,
    rows,
    snapshot,
    staff_id,
)

from spo_tui.domain.errors import NotAllowed, NotFound, ValidationError
from spo_tui.services import decisions, intake, refresh
from spo_tui.services.context import make_context
from spo_tui.services.decisions import AgreedAction
from spo_tui.services.queue import build_queue
from spo_tui.store import queries


@pytest.fixture
def work(ctx) -> dict[str, str]:
    """One open item of each kind the SPO acts on, keyed by kind."""
    return {
        "sbar": intake.raise_sbar(
            ctx,
            HIGH_CRN,
            PO,
            "Disclosed new relationship",
            "Index offence DA",
            "Risk to new partner may be raised",
            "Consider a DVDS referral",
            urgency="soon",
        ).item_id,
        "touch_point": intake.add_touch_point(ctx, LOW_CRN, "2026-11-30", "New information from police").item_id,
        "countersign": intake.add_countersign(ctx, HIGH_CRN, "OASYS", PO).item_id,
        "task": intake.add_task(ctx, "Broken heating in reception", "buildings").item_id,
        "alert": intake.add_alert(ctx, LOW_CRN, "arrest", "Arrested for criminal damage").item_id,
    }


def item_state(ctx, item_id) -> dict:
    """The item and its detail as the user sees them (updated_at aside)."""
    item = queries.get_item(ctx.db, item_id)
    item.pop("updated_at")
    return item


def oversight(ctx, entry_id) -> dict:
    return row(ctx.db, "SELECT * FROM oversight_entries WHERE id = ?", [entry_id])


SBAR = {"situation": "S", "background": "B", "assessment": "A", "recommendation": "R"}


# --- Bad input is refused with a clear message and nothing is written ----------------------------


REFUSALS = {
    "unknown CRN": (
        lambda c, w: intake.raise_sbar(c, "Z999999", PO, *SBAR.values()),
        ValidationError,
        "no case with CRN Z999999",
    ),
    "CRN too short": (
        lambda c, w: intake.raise_sbar(c, "12345", PO, *SBAR.values()),
        ValidationError,
        "'12345' is not a CRN: expected one letter and six digits, e.g. X123456",
    ),
    "CRN with two letters": (
        lambda c, w: intake.add_case(c, "XX12345", "Cy", PO, "LOW", "LICENCE", "2026-11-01"),
        ValidationError,
        "'XX12345' is not a CRN: expected one letter and six digits",
    ),
    "duplicate CRN": (
        lambda c, w: intake.add_case(c, HIGH_CRN.lower(), "Cy", PO, "LOW", "LICENCE", "2026-11-01"),
        ValidationError,
        "a case with CRN X123456 already exists",
    ),
    "unknown RoSH": (
        lambda c, w: intake.add_case(c, "A111111", "Cy", PO, "extreme", "LICENCE", "2026-11-01"),
        ValidationError,
        "unknown rosh 'extreme': expected one of LOW, MEDIUM, HIGH, VERY_HIGH",
    ),
    "unknown RoSH on update": (
        lambda c, w: intake.update_case_risk(c, HIGH_CRN, rosh="extreme"),
        ValidationError,
        "unknown rosh 'extreme'",
    ),
    "end before start": (
        lambda c, w: intake.add_case(c, "A111111", "Cy", PO, "LOW", "LICENCE", "01/02/2026", sentence_end="2026-01-01"),
        ValidationError,
        "sentence end 01/01/2026 is before its start 01/02/2026",
    ),
    "unknown practitioner": (
        lambda c, w: intake.add_case(c, "A111111", "Cy", "Nobody Known", "LOW", "LICENCE", "2026-11-01"),
        ValidationError,
        "no staff member called 'Nobody Known'",
    ),
    "MAPPA level without category": (
        lambda c, w: intake.update_case_risk(c, LOW_CRN, mappa_level=2),
        ValidationError,
        "set a MAPPA category before a level",
    ),
    "duplicate staff name": (
        lambda c, w: intake.add_staff(c, "pat officer", "PSO"),
        ValidationError,
        "there is already a staff member called pat officer",
    ),
    "empty SBAR part": (
        lambda c, w: intake.raise_sbar(c, HIGH_CRN, PO, "S", "B", "   ", "R"),
        ValidationError,
        "assessment is required",
    ),
    "SBAR from unknown practitioner": (
        lambda c, w: intake.raise_sbar(c, HIGH_CRN, "Nobody", *SBAR.values()),
        ValidationError,
        "no staff member called 'Nobody'",
    ),
    "PSR without a court date": (
        lambda c, w: intake.add_countersign(c, HIGH_CRN, "PSR", PO),
        ValidationError,
        "court date is required",
    ),
    "PSR with a court date passed": (
        lambda c, w: intake.add_countersign(c, HIGH_CRN, "PSR", PO, court_date="2026-11-20"),
        ValidationError,
        "court date 20/11/2026 has passed",
    ),
    "countersign with empty verdict": (
        lambda c, w: decisions.countersign(c, w["countersign"], verdict="  ", signed_off=True),
        ValidationError,
        "the verdict (what you checked and found) is required",
    ),
    "countersign a task": (
        lambda c, w: decisions.countersign(c, w["task"], verdict="Fine: risk analysis complete", signed_off=True),
        NotAllowed,
        "this is a task, not a countersign",
    ),
    "waive without reason": (
        lambda c, w: decisions.waive_touch_point(c, w["touch_point"], ""),
        ValidationError,
        "the reason for waiving is required",
    ),
    "oversight with empty decision": (
        lambda c, w: decisions.record_oversight(c, item_id=w["sbar"], outcome="agreed", discussed="Plan", decision=" "),
        ValidationError,
        "the decision or guidance is required",
    ),
    "oversight with nothing discussed": (
        lambda c, w: decisions.record_oversight(c, item_id=w["sbar"], outcome="agreed", discussed="", decision="Go"),
        ValidationError,
        "what was discussed is required",
    ),
    "outcome not fitting the type": (
        lambda c, w: decisions.record_oversight(
            c, crn=HIGH_CRN, type="recall", outcome="agreed", discussed="Breach", decision="Go"
        ),
        ValidationError,
        "outcome 'Plan agreed' does not fit type 'Recall decision'",
    ),
    "unknown outcome": (
        lambda c, w: decisions.record_oversight(c, crn=HIGH_CRN, outcome="sorted", discussed="D", decision="Go"),
        ValidationError,
        "unknown outcome 'sorted'",
    ),
    "oversight on neither case nor item": (
        lambda c, w: decisions.record_oversight(c, outcome="agreed", discussed="D", decision="Go"),
        ValidationError,
        "an oversight entry needs a case or an item",
    ),
    "oversight on an unknown case": (
        lambda c, w: decisions.record_oversight(c, crn="Z999999", outcome="agreed", discussed="D", decision="Go"),
        ValidationError,
        "no case with CRN Z999999",
    ),
    "action with an unknown owner": (
        lambda c, w: decisions.record_oversight(
            c,
            item_id=w["sbar"],
            outcome="actions_set",
            discussed="D",
            decision="Go",
            actions=[AgreedAction("Send warning letter", PO), AgreedAction("Book home visit", "Nobody")],
        ),
        ValidationError,
        "no staff member called 'Nobody'",
    ),
    "action without a description": (
        lambda c, w: decisions.record_oversight(
            c,
            item_id=w["sbar"],
            outcome="actions_set",
            discussed="D",
            decision="Go",
            actions=[AgreedAction("", PO)],
        ),
        ValidationError,
        "action 1: say what is to be done",
    ),
    "action due in the past": (
        lambda c, w: decisions.record_oversight(
            c,
            item_id=w["sbar"],
            outcome="actions_set",
            discussed="D",
            decision="Go",
            actions=[AgreedAction("Letter", PO, "2026-11-01")],
        ),
        ValidationError,
        "action 1: due date 01/11/2026 has passed",
    ),
    "action due on a day and month a year away": (
        lambda c, w: decisions.record_oversight(
            c,
            item_id=w["sbar"],
            outcome="actions_set",
            discussed="D",
            decision="Go",
            actions=[AgreedAction("Letter", PO, "20/11")],
        ),
        ValidationError,
        "action 1: '20/11': 20/11/2026 has passed and 20/11/2027 is more than 6 months ahead",
    ),
    "waive an overdue touch point for the reason 'x'": (
        lambda c, w: decisions.waive_touch_point(c, w["touch_point"], "x"),
        ValidationError,
        "the reason for waiving must say why in at least 3 words",
    ),
    "sign off with the verdict 'ok'": (
        lambda c, w: decisions.countersign(c, w["countersign"], verdict="ok", signed_off=True),
        ValidationError,
        "must say why in at least 3 words and 15 characters, not 'ok'",
    ),
    "return with two words": (
        lambda c, w: decisions.countersign(c, w["countersign"], verdict="Needs work", signed_off=False),
        ValidationError,
        "must say why in at least 3 words",
    ),
    "snooze until blah": (
        lambda c, w: decisions.snooze(c, w["task"], "blah"),
        ValidationError,
        "cannot read 'blah' as a date",
    ),
    "snooze until a past date": (
        lambda c, w: decisions.snooze(c, w["task"], "2026-11-01"),
        ValidationError,
        "snooze until a day after today",
    ),
    "snooze until today": (
        lambda c, w: decisions.snooze(c, w["task"], "today"),
        ValidationError,
        "snooze until a day after today",
    ),
    "snooze an alert": (
        lambda c, w: decisions.snooze(c, w["alert"], "tomorrow"),
        NotAllowed,
        "an immediate-risk alert cannot be snoozed: acknowledge it",
    ),
    "delegate a task to a PO": (
        lambda c, w: decisions.delegate_task(c, w["task"], PO),
        ValidationError,
        "Pat Officer is PO, not CASPO or SAO or business manager",
    ),
    "delegate an SBAR": (
        lambda c, w: decisions.delegate_task(c, w["sbar"], CASPO),
        NotAllowed,
        "this is a sbar, not a task",
    ),
    "task minutes not a number": (
        lambda c, w: decisions.complete_task(c, w["task"], "an hour"),
        ValidationError,
        "minutes must be a whole number, not 'an hour'",
    ),
    "task minutes too many": (
        lambda c, w: decisions.complete_task(c, w["task"], 2000),
        ValidationError,
        "minutes must be from 0 to 1440",
    ),
    "escalate to nobody known": (
        lambda c, w: decisions.escalate_sbar(c, w["sbar"], "the boss", "Please look"),
        ValidationError,
        "escalate to one of: PDU head, MAPPA",
    ),
    "escalate without a note": (
        lambda c, w: decisions.escalate_sbar(c, w["sbar"], "PDU head", ""),
        ValidationError,
        "the escalation note is required",
    ),
    "more information without a question": (
        lambda c, w: decisions.request_more_information(c, w["sbar"], ""),
        ValidationError,
        "the question for the practitioner is required",
    ),
    "answer to an SBAR not waiting": (
        lambda c, w: decisions.answer_information_request(c, w["sbar"], "Here it is"),
        NotAllowed,
        "this SBAR is not waiting for information",
    ),
    "reassign to the same person twice": (
        lambda c, w: decisions.reassign(c, w["task"], PO),  # after it was given to Pat once already
        ValidationError,
        "it is already with Pat Officer",
    ),
    "unknown item": (
        lambda c, w: decisions.snooze(c, "no-such-item", "tomorrow"),
        NotFound,
        "no item with id no-such-item",
    ),
    "undo something not undoable": (
        lambda c, w: decisions.undo(c, 1, "Recorded in error on the wrong case"),
        NotAllowed,
        "there is nothing to undo",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_bad_input_is_refused_and_nothing_changes(ctx, work, case):
    call, error, message = REFUSALS[case]
    if case == "reassign to the same person twice":
        decisions.reassign(ctx, work["task"], PO)
    before = snapshot(ctx.db)
    with pytest.raises(error) as info:
        call(ctx, work)
    assert message in str(info.value)
    assert snapshot(ctx.db) == before


def test_an_error_names_the_field_it_came_from(ctx, work):
    with pytest.raises(ValidationError) as info:
        intake.raise_sbar(ctx, HIGH_CRN, PO, "S", "", "A", "R")
    assert info.value.field == "background"


def test_a_closed_item_cannot_be_decided_again(ctx, work):
    decisions.record_oversight(ctx, item_id=work["sbar"], outcome="agreed", discussed="Plan", decision="Agreed")
    before = snapshot(ctx.db)
    with pytest.raises(NotAllowed, match="'Disclosed new relationship' is already closed"):
        decisions.record_oversight(ctx, item_id=work["sbar"], outcome="agreed", discussed="Plan", decision="Again")
    with pytest.raises(NotAllowed, match="already closed"):
        decisions.escalate_sbar(ctx, work["sbar"], "PDU head", "Too late")
    assert snapshot(ctx.db) == before


# --- Who may decide ------------------------------------------------------------------------------


def test_a_po_cannot_countersign_or_decide(ctx, work):
    pat = make_context(ctx.db, ctx.rules, PO, clock=ctx.clock)
    before = snapshot(ctx.db)
    with pytest.raises(NotAllowed, match="only an SPO can countersign; Pat Officer is PO"):
        decisions.countersign(pat, work["countersign"], verdict="Looks fine, risk plan complete", signed_off=True)
    with pytest.raises(NotAllowed, match="only an SPO or a CASPO can enter an oversight record; Pat Officer is PO"):
        decisions.record_oversight(pat, item_id=work["sbar"], outcome="agreed", discussed="D", decision="Go")
    with pytest.raises(NotAllowed, match="only an SPO can waive a touch point"):
        decisions.waive_touch_point(pat, work["touch_point"], "Not needed: seen this week")
    assert snapshot(ctx.db) == before


def test_the_caspo_records_oversight_decided_by_the_spo_and_entered_by_themselves(ctx, work):
    cas = make_context(ctx.db, ctx.rules, CASPO, clock=ctx.clock)
    assert cas.actor["name"] == CASPO and cas.decider["name"] == SPO
    result = decisions.record_oversight(
        cas, crn=HIGH_CRN, outcome="agreed", discussed="Agreed at check-in", decision="DVDS referral"
    )
    entry = oversight(ctx, result.oversight_id)
    assert entry["decided_by"] == staff_id(ctx.db, SPO)
    assert entry["entered_by"] == staff_id(ctx.db, CASPO)
    audit = row(ctx.db, "SELECT actor_id, on_behalf_of FROM audit_log WHERE id = ?", [result.audit_id])
    assert audit == {"actor_id": staff_id(ctx.db, CASPO), "on_behalf_of": staff_id(ctx.db, SPO)}
    assert queries.recent_oversight(ctx.db, HIGH_CRN)[0]["entered_by_name"] == CASPO


def test_the_caspo_cannot_decide_sbars_countersign_or_waive(ctx, work):
    """Only an SPO decides: a CASPO is refused, with the reason, and nothing changes."""
    cas = make_context(ctx.db, ctx.rules, CASPO, clock=ctx.clock)
    before = snapshot(ctx.db)
    with pytest.raises(NotAllowed, match="only an SPO can decide an SBAR; Cas Admin is CASPO"):
        decisions.record_oversight(cas, item_id=work["sbar"], outcome="agreed", discussed="D", decision="Go")
    with pytest.raises(NotAllowed, match="only an SPO can countersign; Cas Admin is CASPO"):
        decisions.countersign(cas, work["countersign"], verdict="Fine: risk analysis complete", signed_off=True)
    with pytest.raises(NotAllowed, match="only an SPO can waive a touch point"):
        decisions.waive_touch_point(cas, work["touch_point"], "Seen at MAPPA this week")
    with pytest.raises(NotAllowed, match="only an SPO can escalate an SBAR"):
        decisions.escalate_sbar(cas, work["sbar"], "MAPPA", "Note")
    assert snapshot(ctx.db) == before


def test_the_caspo_maintains_the_queues(ctx, work):
    """A CASPO books, snoozes, delegates and adds work; a PO may raise an SBAR but not add a case."""
    cas = make_context(ctx.db, ctx.rules, CASPO, clock=ctx.clock)
    decisions.book_protected_hour(cas, work["sbar"])
    decisions.snooze(cas, work["touch_point"], "fri")
    intake.add_alert(cas, HIGH_CRN, "arrest", "Arrested overnight")
    pat = make_context(ctx.db, ctx.rules, PO, clock=ctx.clock)
    intake.raise_sbar(pat, LOW_CRN, PO, "S", "B", "A", "R")
    with pytest.raises(NotAllowed, match="only an SPO or a CASPO can maintain cases"):
        intake.add_case(pat, "Z111111", "New Person", PO, "LOW", "COMMUNITY_ORDER", "2026-11-01")
    with pytest.raises(NotAllowed, match="can add or complete non-operational tasks; Pat Officer is PO"):
        intake.add_task(pat, "Chairs", "other")


def test_the_caspo_without_an_spo_cannot_decide(db, rules):
    insert_spo(db)
    spo_ctx = make_context(db, rules, clock=fixed_clock(NOW))
    intake.add_staff(spo_ctx, PO, "PO")
    intake.add_staff(spo_ctx, CASPO, "CASPO")
    intake.add_case(spo_ctx, HIGH_CRN, "Alex", PO, "HIGH", "LICENCE", "2026-08-01")
    db.execute("UPDATE staff SET active = 0 WHERE role = 'SPO'")  # the SPO has left the team
    cas = make_context(db, rules, CASPO, clock=fixed_clock(NOW))
    assert cas.decider["name"] == CASPO
    before = snapshot(db)
    with pytest.raises(NotAllowed, match="an oversight record needs an SPO as the decider; Cas Admin is CASPO"):
        decisions.record_oversight(cas, crn=HIGH_CRN, outcome="agreed", discussed="D", decision="Go")
    assert snapshot(db) == before


def test_a_context_for_an_unknown_name_is_refused(db, rules):
    with pytest.raises(NotFound, match="there is no SPO in this database yet"):
        make_context(db, rules)
    insert_spo(db)
    with pytest.raises(NotFound, match="no staff member called 'Someone Else'"):
        make_context(db, rules, "Someone Else")


# --- record_oversight ----------------------------------------------------------------------------


def test_deciding_an_sbar_closes_it_and_creates_the_agreed_actions(ctx, work):
    result = decisions.record_oversight(
        ctx,
        item_id=work["sbar"],
        outcome="actions_set",
        discussed="New relationship disclosed",
        decision="Make a DVDS referral; see weekly",
        minutes=20,
        actions=[
            AgreedAction("Make DVDS referral", PO, "3d"),
            AgreedAction("", ""),
            AgreedAction("Diary weekly contact", CASPO),
        ],
    )
    assert result.message == "Oversight recorded for X123456: Actions set, 2 actions"
    sbar = queries.get_item(ctx.db, work["sbar"])
    assert (sbar["status"], sbar["closed_at"], sbar["closed_note"]) == (
        "closed",
        "2026-11-23T09:00:00Z",
        f"oversight entry {result.oversight_id}",
    )
    assert sbar["detail"]["state"] == "decided"
    entry = oversight(ctx, result.oversight_id)
    assert {
        k: entry[k]
        for k in (
            "crn",
            "item_id",
            "type",
            "outcome",
            "discussed",
            "decision",
            "minutes",
            "created_at",
            "supersedes_id",
        )
    } == {
        "crn": HIGH_CRN,
        "item_id": work["sbar"],
        "type": "management_oversight",
        "outcome": "actions_set",
        "discussed": "New relationship disclosed",
        "decision": "Make a DVDS referral; see weekly",
        "minutes": 20,
        "created_at": "2026-11-23T09:00:00Z",
        "supersedes_id": None,
    }
    assert entry["decided_by"] == entry["entered_by"] == staff_id(ctx.db, SPO)
    actions = rows(
        ctx.db,
        """SELECT i.kind, i.crn, i.title, i.due, i.status, i.raised_by, a.owner_id, a.oversight_id
           FROM items i JOIN actions a ON a.item_id = i.id ORDER BY i.due""",
    )
    assert actions == [
        {
            "kind": "action",
            "crn": HIGH_CRN,
            "title": "Make DVDS referral",
            "due": "2026-11-26",
            "status": "open",
            "raised_by": staff_id(ctx.db, SPO),
            "owner_id": staff_id(ctx.db, PO),
            "oversight_id": result.oversight_id,
        },
        {
            "kind": "action",
            "crn": HIGH_CRN,
            "title": "Diary weekly contact",
            "due": "2026-12-07",
            "status": "open",
            "raised_by": staff_id(ctx.db, SPO),
            "owner_id": staff_id(ctx.db, CASPO),
            "oversight_id": result.oversight_id,
        },
    ]
    assert set(result.created_ids) == {r[0] for r in ctx.db.execute("SELECT item_id FROM actions")}
    # The SPO follows the actions through: they are in the queue, the SBAR is not.
    assert {e.id for e in build_queue(ctx)} == set(result.created_ids) | {
        work[k] for k in ("touch_point", "countersign", "task", "alert")
    }


def test_an_oversight_entry_meets_the_cases_open_calendar_touch_points(ctx, work):
    refresh.refresh_due_work(ctx)
    calendar = rows(
        ctx.db,
        "SELECT i.id, i.crn, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id WHERE t.reason != 'manual'",
    )
    assert {(r["crn"], r["reason"]) for r in calendar} == {
        (HIGH_CRN, "commencement"),
        (HIGH_CRN, "quarterly"),
        (LOW_CRN, "commencement"),
    }
    result = decisions.record_oversight(
        ctx, item_id=work["sbar"], outcome="agreed", discussed="DA risk", decision="DVDS referral"
    )
    status = {(r["crn"], r["reason"]): queries.get_item(ctx.db, r["id"]) for r in calendar}
    assert status[(HIGH_CRN, "quarterly")]["status"] == "closed"
    assert status[(HIGH_CRN, "quarterly")]["closed_note"] == f"met by oversight entry {result.oversight_id}"
    assert status[(HIGH_CRN, "commencement")]["status"] == "closed"
    assert status[(LOW_CRN, "commencement")]["status"] == "open"  # another case
    assert queries.get_item(ctx.db, work["touch_point"])["status"] == "open"  # a manual touch point is not met
    # Undo reopens them.
    decisions.undo(ctx, result.audit_id, "Recorded in error on the wrong case")
    assert queries.get_item(ctx.db, status[(HIGH_CRN, "quarterly")]["id"])["status"] == "open"


def test_oversight_on_an_alert_acknowledges_it(ctx, work):
    decisions.record_oversight(
        ctx, item_id=work["alert"], outcome="guidance_given", discussed="Arrest", decision="Review risk plan"
    )
    alert = queries.get_item(ctx.db, work["alert"])
    assert alert["status"] == "closed"
    assert alert["detail"]["acknowledged_at"] == "2026-11-23T09:00:00Z"
    assert alert["detail"]["acknowledged_by"] == staff_id(ctx.db, SPO)


def test_a_recall_decision_is_recorded_on_the_case(ctx):
    result = decisions.record_oversight(
        ctx, crn="x123456", type="Recall", outcome="recall", discussed="Breach of licence", decision="Recall"
    )
    assert result.message == "Oversight recorded for X123456: Decision to recall, no actions"
    entry = oversight(ctx, result.oversight_id)
    assert (entry["type"], entry["outcome"], entry["item_id"]) == ("recall", "recall", None)


# --- SBARs: protected hour, more information, escalation -----------------------------------------


def test_booking_takes_the_next_free_slot_of_the_protected_hour(ctx, work):
    second = intake.raise_sbar(ctx, LOW_CRN, PSO, *SBAR.values()).item_id
    first = decisions.book_protected_hour(ctx, work["sbar"])
    assert first.message == "Booked into the protected hour Mon 23/11 13:00"
    assert decisions.book_protected_hour(ctx, second).message == "Booked into the protected hour Mon 23/11 13:10"
    booked = queries.get_item(ctx.db, work["sbar"])
    assert (booked["status"], booked["due"], booked["detail"]["state"], booked["detail"]["booked_for"]) == (
        "open",
        "2026-11-23",
        "booked",
        "2026-11-23T13:00+00:00",
    )
    assert queries.get_item(ctx.db, second)["detail"]["booked_for"] == "2026-11-23T13:10+00:00"


def test_booking_after_the_protected_hour_on_friday_goes_to_monday(ctx, work):
    friday = dataclasses.replace(ctx, clock=fixed_clock(datetime(2026, 11, 27, 15, 0, tzinfo=UTC)))
    assert (
        decisions.book_protected_hour(friday, work["sbar"]).message == "Booked into the protected hour Mon 30/11 13:00"
    )


def test_booking_during_the_protected_hour_skips_slots_already_started(ctx, work):
    at_1305 = dataclasses.replace(ctx, clock=fixed_clock(datetime(2026, 11, 23, 13, 5, tzinfo=UTC)))
    assert (
        decisions.book_protected_hour(at_1305, work["sbar"]).message == "Booked into the protected hour Mon 23/11 13:10"
    )


def test_booking_on_christmas_eve_afternoon_skips_the_bank_holidays(ctx, work):
    christmas_eve = dataclasses.replace(ctx, clock=fixed_clock(datetime(2026, 12, 24, 15, 0, tzinfo=UTC)))
    assert (
        decisions.book_protected_hour(christmas_eve, work["sbar"]).message
        == "Booked into the protected hour Tue 29/12 13:00"
    )


def test_asking_for_more_information_parks_the_sbar_until_answered(ctx, work):
    decisions.request_more_information(ctx, work["sbar"], "Has the new partner been identified?")
    waiting = queries.get_item(ctx.db, work["sbar"])
    assert (waiting["status"], waiting["detail"]["state"], waiting["detail"]["info_request"]) == (
        "waiting",
        "awaiting_info",
        "Has the new partner been identified?",
    )
    assert work["sbar"] not in {e.id for e in build_queue(ctx)}
    result = decisions.answer_information_request(ctx, work["sbar"], "Yes: Jo Bloggs, DOB known")
    assert result.message == "Answer logged; the SBAR is back in the queue"
    back = queries.get_item(ctx.db, work["sbar"])
    assert (back["status"], back["detail"]["state"]) == ("open", "raised")
    assert back["detail"]["background"] == "Index offence DA\n\nFurther information: Yes: Jo Bloggs, DOB known"
    assert work["sbar"] in {e.id for e in build_queue(ctx)}


@pytest.mark.parametrize("to, target", [("PDU head", "PDU head"), ("mappa", "MAPPA")])
def test_escalating_an_sbar_waits_for_the_answer_with_an_oversight_entry(ctx, work, to, target):
    result = decisions.escalate_sbar(ctx, work["sbar"], to, "Needs a multi-agency view")
    assert result.message == f"Escalated to {target}; the SBAR is in Waiting until they answer"
    sbar = queries.get_item(ctx.db, work["sbar"])
    assert (sbar["status"], sbar["closed_at"], sbar["waiting_on"], sbar["waiting_since"]) == (
        "waiting",
        None,
        target,
        "2026-11-23T09:00:00Z",
    )
    assert [e.id for e in build_queue(ctx, status="waiting")] == [work["sbar"]]
    assert (sbar["detail"]["state"], sbar["detail"]["escalated_to"], sbar["detail"]["escalation_note"]) == (
        "escalated",
        target,
        "Needs a multi-agency view",
    )
    entry = oversight(ctx, result.oversight_id)
    assert (entry["outcome"], entry["discussed"], entry["decision"]) == (
        "escalated",
        "Disclosed new relationship",
        f"Escalated to {target}: Needs a multi-agency view",
    )
    back = decisions.log_answer(ctx, work["sbar"], "Recall: go ahead today")
    assert back.message == f"Answer from {target} logged; the SBAR is back in the queue"
    sbar = queries.get_item(ctx.db, work["sbar"])
    assert (sbar["status"], sbar["waiting_on"], sbar["detail"]["state"], sbar["detail"]["escalation_answer"]) == (
        "open",
        None,
        "raised",
        "Recall: go ahead today",
    )
    assert work["sbar"] in {e.id for e in build_queue(ctx)}


# --- Countersigning ------------------------------------------------------------------------------


def history(ctx, item_id):
    return [
        (r["old_state"], r["new_state"], r["verdict"])
        for r in rows(ctx.db, "SELECT * FROM countersign_history WHERE item_id = ? ORDER BY id", [item_id])
    ]


def test_signing_off_records_the_state_history_and_an_oversight_entry(ctx, work):
    result = decisions.countersign(
        ctx, work["countersign"], verdict="Risk analysis sound; RMP complete", signed_off=True
    )
    assert result.message == "Signed off: OASys assessment for X123456"
    item = queries.get_item(ctx.db, work["countersign"])
    assert item["detail"]["state"] == "COUNTERSIGNED"
    assert (item["status"], item["closed_note"]) == ("closed", "Signed off: Risk analysis sound; RMP complete")
    assert history(ctx, work["countersign"]) == [
        ("AWAITING_COUNTERSIGN", "COUNTERSIGNED", "Risk analysis sound; RMP complete")
    ]
    by = ctx.db.execute("SELECT by_id, at FROM countersign_history").fetchone()
    assert by == (staff_id(ctx.db, SPO), "2026-11-23T09:00:00Z")
    entry = oversight(ctx, result.oversight_id)
    assert (entry["outcome"], entry["decision"], entry["discussed"]) == (
        "signed_off",
        "Risk analysis sound; RMP complete",
        "Countersigning: OASys assessment by Pat Officer",
    )


def test_returning_records_rejected_with_the_guidance_and_waits_on_the_author(ctx, work):
    due = queries.get_item(ctx.db, work["countersign"])["due"]
    result = decisions.countersign(
        ctx, work["countersign"], verdict="Section 6 missing the DA history", signed_off=False
    )
    assert result.message.startswith(
        "Returned for rework: OASys assessment for X123456; in Waiting until resubmitted, or back on "
    )
    item = queries.get_item(ctx.db, work["countersign"])
    assert (item["status"], item["detail"]["state"], item["waiting_on"], item["waiting_until"]) == (
        "waiting",
        "REJECTED",
        PO,
        due if due > "2026-11-23" else "2026-11-24",
    )
    assert history(ctx, work["countersign"]) == [
        ("AWAITING_COUNTERSIGN", "REJECTED", "Section 6 missing the DA history")
    ]
    assert oversight(ctx, result.oversight_id)["outcome"] == "returned"
    assert [e.id for e in build_queue(ctx, status="waiting")] == [work["countersign"]]
    # Resubmitted by its author: back in the countersigning queue.
    decisions.log_answer(ctx, work["countersign"], "Section 6 added")
    item = queries.get_item(ctx.db, work["countersign"])
    assert (item["status"], item["detail"]["state"], item["waiting_on"]) == ("open", "AWAITING_COUNTERSIGN", None)
    assert history(ctx, work["countersign"])[-1] == ("REJECTED", "AWAITING_COUNTERSIGN", "resubmitted: Section 6 added")
    assert work["countersign"] in {e.id for e in build_queue(ctx)}


def test_returned_work_not_resubmitted_comes_back_at_its_deadline(ctx, work, rules):
    decisions.countersign(ctx, work["countersign"], verdict="Section 6 missing the DA history", signed_off=False)
    back_on = queries.get_item(ctx.db, work["countersign"])["waiting_until"]
    assert decisions.bring_back_due(ctx) == 0
    later = make_context(ctx.db, rules, SPO, clock=fixed_clock(datetime.fromisoformat(back_on + "T09:00:00+00:00")))
    assert refresh.refresh_due_work(later) >= 1
    item = queries.get_item(ctx.db, work["countersign"])
    assert (item["status"], item["detail"]["state"]) == ("open", "REJECTED")
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'back_at_deadline'").fetchone()[0] == 1
    # It can now be signed off as it stands (or returned again).
    decisions.countersign(later, work["countersign"], verdict="Corrected outside spo-tui; sound", signed_off=True)
    assert queries.get_item(ctx.db, work["countersign"])["status"] == "closed"


def test_double_countersigning_takes_two_signatures(ctx, work):
    decisions.countersign(
        ctx, work["countersign"], verdict="Sound; needs a second signature", signed_off=True, double=True
    )
    item = queries.get_item(ctx.db, work["countersign"])
    assert (item["status"], item["detail"]["state"]) == ("open", "AWAITING_DOUBLE_COUNTERSIGN")
    assert work["countersign"] in {e.id for e in build_queue(ctx)}
    decisions.countersign(ctx, work["countersign"], verdict="Agreed, second signature given", signed_off=True)
    item = queries.get_item(ctx.db, work["countersign"])
    assert (item["status"], item["detail"]["state"]) == ("closed", "DOUBLE_COUNTERSIGNED")
    assert history(ctx, work["countersign"]) == [
        ("AWAITING_COUNTERSIGN", "AWAITING_DOUBLE_COUNTERSIGN", "Sound; needs a second signature"),
        ("AWAITING_DOUBLE_COUNTERSIGN", "DOUBLE_COUNTERSIGNED", "Agreed, second signature given"),
    ]
    assert ctx.db.execute("SELECT COUNT(*) FROM oversight_entries WHERE outcome = 'signed_off'").fetchone()[0] == 2


def test_an_item_awaiting_its_second_signature_cannot_be_sent_for_another(ctx, work):
    decisions.countersign(
        ctx, work["countersign"], verdict="Sound analysis, plan complete", signed_off=True, double=True
    )
    before = snapshot(ctx.db)
    with pytest.raises((NotAllowed, ValidationError)):
        decisions.countersign(
            ctx, work["countersign"], verdict="Sound again, no change needed", signed_off=True, double=True
        )
    assert snapshot(ctx.db) == before


# --- Touch points, tasks and actions -------------------------------------------------------------


def test_waiving_a_touch_point_records_the_reason(ctx, work):
    result = decisions.waive_touch_point(ctx, work["touch_point"], "Discussed at MAPPA yesterday")
    item = queries.get_item(ctx.db, work["touch_point"])
    assert (item["status"], item["closed_note"], item["detail"]["waived_reason"]) == (
        "closed",
        "waived: Discussed at MAPPA yesterday",
        "Discussed at MAPPA yesterday",
    )
    entry = oversight(ctx, result.oversight_id)
    assert (entry["outcome"], entry["decision"], entry["crn"]) == (
        "waived",
        "Waived: Discussed at MAPPA yesterday",
        LOW_CRN,
    )


@pytest.mark.parametrize("to, role", [(CASPO, "CASPO"), (SAO, "SAO"), (BM, "business manager")])
def test_delegating_a_task_hands_it_over_and_out_of_the_queue(ctx, work, to, role):
    result = decisions.delegate_task(ctx, work["task"], to)
    assert result.message == f"Delegated to {to} ({role})"
    task = queries.get_item(ctx.db, work["task"])
    assert (task["status"], task["assigned_to"]) == ("waiting", staff_id(ctx.db, to))
    assert (task["detail"]["delegated_to"], task["detail"]["delegated_at"]) == (
        staff_id(ctx.db, to),
        "2026-11-23T09:00:00Z",
    )
    assert work["task"] not in {e.id for e in build_queue(ctx)}


def test_completing_a_task_records_the_minutes(ctx, work):
    result = decisions.complete_task(ctx, work["task"], " 25 ")
    assert result.message == "Done: Broken heating in reception (25 min)"
    task = queries.get_item(ctx.db, work["task"])
    assert (task["status"], task["closed_note"], task["detail"]["minutes_spent"]) == ("closed", "done in 25 min", 25)
    with pytest.raises(NotAllowed, match="'Broken heating in reception' is already done"):
        decisions.complete_task(ctx, work["task"], 5)


def test_completing_an_agreed_action(ctx, work):
    made = decisions.record_oversight(
        ctx,
        item_id=work["sbar"],
        outcome="actions_set",
        discussed="D",
        decision="Go",
        actions=[AgreedAction("Send letter", PO, "fri")],
    )
    [action_id] = made.created_ids
    result = decisions.complete_action(ctx, action_id, "Letter sent 23/11")
    assert result.message == "Action done: Send letter"
    action = queries.get_item(ctx.db, action_id)
    assert (action["status"], action["closed_note"], action["detail"]["done_at"]) == (
        "closed",
        "Letter sent 23/11",
        "2026-11-23T09:00:00Z",
    )


# --- Undo ----------------------------------------------------------------------------------------


def _make_action(ctx, work):
    made = decisions.record_oversight(
        ctx,
        item_id=work["sbar"],
        outcome="actions_set",
        discussed="D",
        decision="Go",
        actions=[AgreedAction("Send letter", PO)],
    )
    return made.created_ids[0]


UNDOABLE = {
    "record_oversight": (
        "sbar",
        lambda c, i: decisions.record_oversight(
            c, item_id=i, outcome="actions_set", discussed="D", decision="Go", actions=[AgreedAction("Send letter", PO)]
        ),
    ),
    "book_protected_hour": ("sbar", lambda c, i: decisions.book_protected_hour(c, i)),
    "request_more_information": ("sbar", lambda c, i: decisions.request_more_information(c, i, "Who is the partner?")),
    "escalate_sbar": ("sbar", lambda c, i: decisions.escalate_sbar(c, i, "PDU head", "Please review")),
    "countersign": (
        "countersign",
        lambda c, i: decisions.countersign(c, i, verdict="Sound analysis, plan complete", signed_off=True),
    ),
    "countersign double": (
        "countersign",
        lambda c, i: decisions.countersign(c, i, verdict="Sound analysis, plan complete", signed_off=True, double=True),
    ),
    "waive_touch_point": ("touch_point", lambda c, i: decisions.waive_touch_point(c, i, "Seen at MAPPA this week")),
    "delegate_task": ("task", lambda c, i: decisions.delegate_task(c, i, CASPO)),
    "complete_task": ("task", lambda c, i: decisions.complete_task(c, i, 30)),
    "complete_action": ("action", lambda c, i: decisions.complete_action(c, i, "Done")),
    "snooze": ("task", lambda c, i: decisions.snooze(c, i, "mon")),
    "reassign": ("touch_point", lambda c, i: decisions.reassign(c, i, PO)),
}


@pytest.mark.parametrize("name", list(UNDOABLE))
def test_undo_restores_the_item_and_cannot_be_done_twice(ctx, work, name):
    kind, act = UNDOABLE[name]
    item_id = _make_action(ctx, work) if kind == "action" else work[kind]
    before = item_state(ctx, item_id)
    entries_before = rows(ctx.db, "SELECT * FROM oversight_entries ORDER BY id")
    later = dataclasses.replace(ctx, clock=fixed_clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC)))
    result = act(later, item_id)
    assert item_state(ctx, item_id) != before
    undone = decisions.undo(later, result.audit_id, "Recorded in error on the wrong case")
    assert undone.message == f"Undone: {name.split(' ')[0].replace('_', ' ')}"
    assert item_state(ctx, item_id) == before
    # Entries are never changed: each one the action made is withdrawn by a new entry superseding it.
    entries_after = rows(ctx.db, "SELECT * FROM oversight_entries ORDER BY id")
    assert all(e in entries_after for e in entries_before)
    made = [e for e in entries_after if e not in entries_before and e["supersedes_id"] is None]
    withdrawn = [e for e in entries_after if e not in entries_before and e["supersedes_id"] is not None]
    assert sorted(e["supersedes_id"] for e in withdrawn) == sorted(e["id"] for e in made)
    assert all(e["outcome"] == "withdrawn" for e in withdrawn)
    assert made or name in (
        "book_protected_hour",
        "request_more_information",
        "delegate_task",
        "complete_task",
        "complete_action",
        "snooze",
        "reassign",
    )
    # Actions the undone decision created are closed, not left to chase.
    for created in result.created_ids:
        assert queries.get_item(ctx.db, created)["closed_note"] == "withdrawn (undo)"
    before_second = snapshot(ctx.db)
    with pytest.raises(NotAllowed, match="that action has already been undone"):
        decisions.undo(later, result.audit_id, "Recorded in error on the wrong case")
    assert snapshot(ctx.db) == before_second


def test_undoing_a_countersignature_adds_history_rather_than_erasing_it(ctx, work):
    result = decisions.countersign(ctx, work["countersign"], verdict="Sound analysis, plan complete", signed_off=True)
    decisions.undo(ctx, result.audit_id, "Recorded in error on the wrong case")
    assert history(ctx, work["countersign"]) == [
        ("AWAITING_COUNTERSIGN", "COUNTERSIGNED", "Sound analysis, plan complete"),
        ("COUNTERSIGNED", "AWAITING_COUNTERSIGN", "undone"),
    ]


def test_undo_of_an_oversight_entry_on_a_case(ctx):
    result = decisions.record_oversight(ctx, crn=HIGH_CRN, outcome="guidance_given", discussed="D", decision="G")
    undone = decisions.undo(ctx, result.audit_id, "Recorded in error on the wrong case")
    assert undone.message == "Undone: record oversight"
    correction = row(
        ctx.db,
        "SELECT outcome, decided_by, entered_by FROM oversight_entries WHERE supersedes_id = ?",
        [result.oversight_id],
    )
    assert correction == {
        "outcome": "withdrawn",
        "decided_by": staff_id(ctx.db, SPO),
        "entered_by": staff_id(ctx.db, SPO),
    }


def test_undo_is_refused_once_the_item_has_moved_on(ctx, work):
    booked = decisions.book_protected_hour(ctx, work["sbar"])
    decisions.request_more_information(ctx, work["sbar"], "Who is the partner?")
    before = snapshot(ctx.db)
    with pytest.raises(NotAllowed, match="the item has changed since; undo is no longer possible"):
        decisions.undo(ctx, booked.audit_id, "Recorded in error on the wrong case")
    assert snapshot(ctx.db) == before


def test_only_your_own_actions_can_be_undone(ctx, work):
    result = decisions.snooze(ctx, work["task"], "tomorrow")
    cas = make_context(ctx.db, ctx.rules, CASPO, clock=ctx.clock)
    with pytest.raises(NotAllowed, match="you can only undo your own actions"):
        decisions.undo(cas, result.audit_id, "Recorded in error on the wrong case")
    assert queries.get_item(ctx.db, work["task"])["snoozed_until"] == "2026-11-24"


# --- Intake happy paths --------------------------------------------------------------------------


def test_adding_a_case_stores_it_with_its_flags_and_an_audit_row(ctx):
    result = intake.add_case(
        ctx,
        " a111111 ",
        "Cy Person",
        "pat officer",
        "medium",
        "suspended sentence order",
        "2026-11-02",
        mappa_category="M2",
        mappa_level="M1",
        tier="c2",
        flags=[("advp", None)],
    )
    assert result.message == "Added case A111111 Cy Person"
    case = queries.get_case(ctx.db, "A111111")
    assert (
        case["rosh"],
        case["sentence_type"],
        case["mappa_category"],
        case["mappa_level"],
        case["tier"],
        case["practitioner"],
    ) == ("MEDIUM", "SUSPENDED_SENTENCE_ORDER", 2, 1, "C2", PO)
    assert case["flags"] == [{"code": "ADVP", "description": "", "review_date": None, "review_period_months": None}]
    assert row(ctx.db, "SELECT action, entity_id FROM audit_log WHERE id = ?", [result.audit_id]) == {
        "action": "add_case",
        "entity_id": "A111111",
    }


def test_an_urgent_sbar_is_due_today_and_titled_from_its_situation(ctx):
    result = intake.raise_sbar(ctx, HIGH_CRN, PO, "Threats made\nin session", "B", "A", "R", urgency="URGENT")
    item = queries.get_item(ctx.db, result.item_id)
    assert (item["title"], item["due"], item["raised_by"]) == ("Threats made", "2026-11-23", staff_id(ctx.db, PO))
    assert (item["detail"]["urgency"], item["detail"]["state"]) == ("urgent", "raised")


def test_an_undo_needs_a_reason_of_real_content_and_without_one_changes_nothing(ctx, work):
    signed = decisions.countersign(ctx, work["countersign"], verdict="Sound analysis, plan agreed", signed_off=True)
    before = snapshot(ctx.db)
    with pytest.raises(ValidationError, match="the reason for the undo must say why in at least 3 words"):
        decisions.undo(ctx, signed.audit_id, "oops")
    assert snapshot(ctx.db) == before
    assert "1 oversight entry withdrawn" in decisions.describe_undo(ctx, signed.audit_id)


def test_a_withdrawn_entry_does_not_restart_the_quarterly_clock(ctx, work):
    """The touch-point rules count from the last entry that stands: neither the withdrawn entry nor
    its withdrawal is a manager having looked at the case."""
    last = {r["crn"]: r["last_oversight"] for r in queries.case_facts_rows(ctx.db)}
    assert last[HIGH_CRN] is None
    entry = decisions.record_oversight(ctx, crn=HIGH_CRN, outcome="agreed", discussed="Discussed", decision="Carry on")
    assert {r["crn"]: r["last_oversight"] for r in queries.case_facts_rows(ctx.db)}[HIGH_CRN] == "2026-11-23"
    decisions.undo(ctx, entry.audit_id, "Recorded on the wrong case in error")
    assert {r["crn"]: r["last_oversight"] for r in queries.case_facts_rows(ctx.db)}[HIGH_CRN] is None
