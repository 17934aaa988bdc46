"""What the SPO decides on an SBAR: booking it into the protected hour, asking for more information,
escalating it (to the PDU head or MAPPA), and the answers that bring it back.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from spo_tui.domain.dates import is_working_day
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.vocab import OversightOutcome, OversightType, SbarState
from spo_tui.services.base import BACK_IN_QUEUE, ActionResult, change_item, load_open_item, waiting
from spo_tui.services.context import LONDON, Context
from spo_tui.services.intake import require_text
from spo_tui.services.oversight import write_oversight
from spo_tui.store import queries, team_queries


def protected_hour_slots(ctx: Context, day: date) -> list[datetime]:
    """Every booking slot of the protected hour on ``day``, as aware local datetimes."""
    ph = ctx.rules.protected_hour
    start = datetime.combine(day, time.fromisoformat(ph["start"]), LONDON)
    end = datetime.combine(day, time.fromisoformat(ph["end"]), LONDON)
    step = timedelta(minutes=ph["slot_minutes"])
    slots = []
    while start + step <= end:
        slots.append(start)
        start += step
    return slots


def next_free_slot(ctx: Context, from_day: date | None = None, days_ahead: int = 14) -> datetime:
    """The first protected-hour slot not yet booked and not already past. The hour is the team's own
    (each SPO holds one): slots another team's SBARs are booked into stay free (``Context.team``;
    a PDU head books around every team's bookings)."""
    day = from_day or ctx.today
    booked = team_queries.booked_slots(ctx.db, day, ctx.team)
    now_local = ctx.now.astimezone(LONDON)
    for offset in range(days_ahead):
        candidate_day = day + timedelta(days=offset)
        if not is_working_day(candidate_day):
            continue
        for slot in protected_hour_slots(ctx, candidate_day):
            if slot > now_local and slot.isoformat(timespec="minutes") not in booked:
                return slot
    raise NotAllowed(f"the protected hour is fully booked for the next {days_ahead} days")


def book_protected_hour(ctx: Context, item_id: str, slot: datetime | None = None) -> ActionResult:
    """Book an SBAR into the protected hour (the next free slot unless one is given)."""
    ctx.require("book_protected_hour")
    item = load_open_item(ctx, item_id, "sbar")
    when = slot or next_free_slot(ctx)
    stamp = when.astimezone(LONDON).isoformat(timespec="minutes")
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "book_protected_hour",
            item,
            item_changes={"due": when.date().isoformat()},
            detail_changes={"state": SbarState.BOOKED.value, "booked_for": stamp},
        )
    return ActionResult(f"Booked into the protected hour {when:%a %d/%m %H:%M}", item_id=item_id, audit_id=audit_id)


def request_more_information(ctx: Context, item_id: str, question: str) -> ActionResult:
    """Ask the practitioner for more: the SBAR leaves the queue until the answer is logged."""
    ctx.require("request_more_information")
    item = load_open_item(ctx, item_id, "sbar")
    question = require_text(question, "question", "the question for the practitioner", multiline=True)
    who = _practitioner_name(ctx, item)
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "request_more_information",
            item,
            item_changes=waiting(ctx, who),
            detail_changes={"state": SbarState.AWAITING_INFO.value, "info_request": question, "info_answer": None},
        )
    return ActionResult(
        f"Asked {who} for more information; the SBAR is in Waiting until answered", item_id=item_id, audit_id=audit_id
    )


def _practitioner_name(ctx: Context, item: dict[str, Any]) -> str:
    """Who raised the item (the SBAR's practitioner), else the case's practitioner."""
    for staff_id in (item.get("raised_by"),):
        if staff_id:
            return queries.get_staff(ctx.db, staff_id)["name"]
    if item.get("crn"):
        case = queries.get_case(ctx.db, item["crn"])
        if case.get("practitioner"):
            return case["practitioner"]
    return "the practitioner"


def _pdu_head(ctx: Context) -> str:
    """``PDU head (Name)`` when the store knows one PDU head, else ``PDU head``."""
    heads = queries.staff_list(ctx.db, ("PDU head",))
    return f"PDU head ({heads[0]['name']})" if len(heads) == 1 else "PDU head"


def answer_information_request(ctx: Context, item_id: str, answer: str) -> ActionResult:
    """Log the practitioner's answer: the SBAR comes back to the queue with the answer added."""
    ctx.require("answer_information_request")
    item = queries.get_item(ctx.db, item_id)
    if item["kind"] != "sbar" or item["detail"]["state"] != SbarState.AWAITING_INFO.value:
        raise NotAllowed("this SBAR is not waiting for information")
    answer = require_text(answer, "answer", multiline=True)
    background = f"{item['detail']['background']}\n\nFurther information: {answer}"
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "answer_information_request",
            item,
            item_changes=dict(BACK_IN_QUEUE),
            detail_changes={"state": SbarState.RAISED.value, "background": background, "info_answer": answer},
        )
    return ActionResult("Answer logged; the SBAR is back in the queue", item_id=item_id, audit_id=audit_id)


def answer_escalation(ctx: Context, item_id: str, answer: str) -> ActionResult:
    """Log the answer to an escalation (the PDU head's, or MAPPA's): the SBAR comes back to the
    queue with the answer, for the SPO to record the decision that follows from it."""
    ctx.require("answer_information_request")
    item = queries.get_item(ctx.db, item_id)
    if item["kind"] != "sbar" or item["status"] != "waiting" or item["detail"]["state"] != SbarState.ESCALATED.value:
        raise NotAllowed("this SBAR is not waiting for an answer to an escalation")
    answer = require_text(answer, "answer", "the answer to the escalation", multiline=True)
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "answer_escalation",
            item,
            item_changes=dict(BACK_IN_QUEUE),
            detail_changes={"state": SbarState.RAISED.value, "escalation_answer": answer},
        )
    return ActionResult(
        f"Answer from {item['detail']['escalated_to']} logged; the SBAR is back in the queue",
        item_id=item_id,
        audit_id=audit_id,
    )


ESCALATION_TARGETS = ("PDU head", "MAPPA")


def escalate_sbar(ctx: Context, item_id: str, to: str, note: str) -> ActionResult:
    """Escalate an SBAR to the PDU head or MAPPA with a note; recorded as an oversight entry."""
    ctx.require("escalate_sbar")
    item = load_open_item(ctx, item_id, "sbar")
    target = next((t for t in ESCALATION_TARGETS if t.lower() == (to or "").strip().lower()), None)
    if target is None:
        raise ValidationError(f"escalate to one of: {', '.join(ESCALATION_TARGETS)}", field="to")
    note = require_text(note, "note", "the escalation note", multiline=True)
    with ctx.db.atomic():
        entry_id, _ = write_oversight(
            ctx,
            crn=item["crn"],
            item_id=item_id,
            type_=OversightType.MANAGEMENT_OVERSIGHT,
            outcome=OversightOutcome.ESCALATED,
            discussed=item["detail"]["situation"],
            decision=f"Escalated to {target}: {note}",
        )
        audit_id = change_item(
            ctx,
            "escalate_sbar",
            item,
            item_changes=waiting(ctx, _pdu_head(ctx) if target == "PDU head" else target),
            detail_changes={
                "state": SbarState.ESCALATED.value,
                "escalated_to": target,
                "escalation_note": note,
                "escalation_answer": None,
            },
            extra_new={"oversight_ids": [entry_id]},
        )
    return ActionResult(
        f"Escalated to {target}; the SBAR is in Waiting until they answer",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=entry_id,
    )
