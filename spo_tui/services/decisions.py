"""What the SPO does to an item from the queue: one function per action.

Each validates, then writes the change, any oversight entry and agreed actions, and the audit row
in one transaction. Undo reverses the last action as new records: an oversight entry is never
edited or deleted, it is superseded by a ``withdrawn`` entry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from spo_tui.domain.dates import from_iso, is_working_day
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.vocab import (
    COUNTERSIGN_TRANSITIONS,
    DELEGATE_ROLES,
    CountersignKind,
    CountersignState,
    ItemKind,
    OversightOutcome,
    OversightType,
    SbarState,
    normalise_crn,
    parse_enum,
)
from spo_tui.services.base import ActionResult, audit, change_item, closing, load_open_item
from spo_tui.services.context import LONDON, Context
from spo_tui.services.intake import optional_text, parse_day, require_reason, require_text, resolve_staff
from spo_tui.store import queries, writes


@dataclass(frozen=True)
class AgreedAction:
    """An action agreed in an oversight entry: what, who owns it, when it is due."""

    description: str
    owner: str
    due: date | str | None = None


def _validate_actions(ctx: Context, actions: list[AgreedAction]) -> list[dict[str, Any]]:
    out = []
    for n, action in enumerate(actions, start=1):
        description = optional_text(action.description, f"action_{n}", f"action {n}")
        if not description and not (action.owner or "").strip():
            continue  # an empty row in the form
        if not description:
            raise ValidationError(f"action {n}: say what is to be done", field=f"action_{n}")
        owner = resolve_staff(ctx, action.owner, f"action_{n}_owner")
        if isinstance(action.due, date):
            due = action.due
        elif action.due:
            try:
                due = parse_day(ctx, str(action.due), f"action_{n}_due", "future")
            except ValidationError as error:
                raise ValidationError(f"action {n}: {error}", field=f"action_{n}_due") from None
        else:
            due = ctx.today + timedelta(days=ctx.rules.get("actions", "default_days"))
        if due < ctx.today:
            raise ValidationError(f"action {n}: due date {due:%d/%m/%Y} has passed", field=f"action_{n}_due")
        out.append({"description": description, "owner": owner, "due": due})
    return out


def _write_oversight(
    ctx: Context,
    *,
    crn: str | None,
    item_id: str | None,
    type_: OversightType,
    outcome: OversightOutcome,
    discussed: str,
    decision: str,
    sensitive: bool = False,
    minutes: int | None = None,
    supersedes_id: str | None = None,
    actions: Sequence[dict[str, Any]] = (),
    decider: dict[str, Any] | None = None,
) -> tuple[str, list[str]]:
    """Insert an oversight entry and its agreed actions (as queue items). Call inside atomic().

    ``decider`` (default ``ctx.decider_for(crn)``) is whose decision it is. An entry someone else
    entered in the decider's name (a CASPO's) also puts a ``confirm`` item in the decider's queue.
    """
    decider = decider or ctx.decider_for(crn)
    entry_id = writes.insert_oversight(
        ctx.db,
        {
            "crn": crn,
            "item_id": item_id,
            "type": type_.value,
            "outcome": outcome.value,
            "discussed": discussed,
            "decision": decision,
            "sensitive": int(bool(sensitive)),
            "decided_by": decider["id"],
            "entered_by": ctx.actor["id"],
            "created_at": ctx.now_iso,
            "minutes": minutes,
            "supersedes_id": supersedes_id,
        },
    )
    if decider["id"] != ctx.actor["id"] and ctx.actor["id"] is not None:
        writes.insert_item(
            ctx.db,
            {
                "kind": ItemKind.CONFIRM.value,
                "crn": crn,
                "title": f"Confirm: {outcome.label}, entered by {ctx.actor['name']}"[:80],
                "due": ctx.today.isoformat(),
                "status": "open",
                "created_at": ctx.now_iso,
                "assigned_to": decider["id"],
                "raised_by": ctx.actor["id"],
            },
            {"oversight_id": entry_id},
        )
    action_ids = []
    for action in actions:
        action_ids.append(
            writes.insert_item(
                ctx.db,
                {
                    "kind": ItemKind.ACTION.value,
                    "crn": crn,
                    "title": action["description"][:80],
                    "due": action["due"].isoformat(),
                    "status": "open",
                    "created_at": ctx.now_iso,
                    "assigned_to": None,
                    "raised_by": decider["id"],
                },
                {"oversight_id": entry_id, "owner_id": action["owner"]["id"], "description": action["description"]},
            )
        )
    writes.seal_oversight(ctx.db, entry_id)
    return entry_id, action_ids


def check_oversight_fields(
    type_: str, outcome: str, discussed: str, decision: str
) -> tuple[OversightType, OversightOutcome, str, str]:
    """An oversight entry's type, outcome, what was discussed and the decision, checked: the outcome
    must fit the type and both texts are required."""
    t = parse_enum(OversightType, type_, "type")
    o = parse_enum(OversightOutcome, outcome, "outcome")
    if o.value not in t.info.outcomes:
        raise ValidationError(f"outcome '{o.label}' does not fit type '{t.label}'", field="outcome")
    return (
        t,
        o,
        require_text(discussed, "discussed", "what was discussed", multiline=True),
        require_text(decision, "decision", "the decision or guidance", multiline=True),
    )


def record_oversight(
    ctx: Context,
    *,
    item_id: str | None = None,
    crn: str | None = None,
    type: str = OversightType.MANAGEMENT_OVERSIGHT.value,
    outcome: str,
    discussed: str,
    decision: str,
    actions: Sequence[AgreedAction] = (),
    sensitive: bool = False,
    minutes: int | None = None,
) -> ActionResult:
    """Record a management-oversight entry, on a queue item (closing it) or on a case.

    On an SBAR this is the decision; on a touch point, the discussion; on an alert, the acknowledgement
    and decision; on a supervision item, the session held. Any entry on a case also meets the case's
    open calendar touch points named in ``met_by_any_oversight``.
    """
    ctx.require("record_oversight")
    type_, outcome_, discussed, decision = check_oversight_fields(type, outcome, discussed, decision)
    if minutes is not None and (not isinstance(minutes, int) or minutes < 0 or minutes > 600):
        raise ValidationError("minutes must be a whole number from 0 to 600", field="minutes")
    item = None
    if item_id:
        item = load_open_item(ctx, item_id, ("sbar", "touch_point", "alert", "supervision", "action"))
        if item["kind"] == "sbar":
            ctx.require("decide_sbar")
        if item["kind"] == "alert":  # level-3 work stays with the SPO
            ctx.require("decide_alert")
        crn = item["crn"]
    elif crn:
        crn = normalise_crn(crn)
        if not queries.case_exists(ctx.db, crn):
            raise ValidationError(f"no case with CRN {crn}", field="crn")
    else:
        raise ValidationError("an oversight entry needs a case or an item", field="crn")
    decider = ctx.require_decider(crn)
    agreed = _validate_actions(ctx, list(actions))

    with ctx.db.atomic():
        entry_id, action_ids = _write_oversight(
            ctx,
            crn=crn,
            item_id=item_id,
            type_=type_,
            outcome=outcome_,
            discussed=discussed,
            decision=decision,
            sensitive=sensitive,
            minutes=minutes,
            actions=agreed,
            decider=decider,
        )
        met = _meet_calendar_touch_points(ctx, crn, except_id=item_id, entry_id=entry_id) if crn else []
        # Undo closes the agreed actions and the confirm item this entry made.
        extra = {
            "oversight_ids": [entry_id],
            "created_ids": action_ids + queries.confirm_items(ctx.db, entry_id),
            "also_closed": met,
        }
        if item is not None:
            detail = _closing_detail(ctx, item)
            audit_id = change_item(
                ctx,
                "record_oversight",
                item,
                item_changes=closing(ctx, f"oversight entry {entry_id}"),
                detail_changes=detail,
                extra_new=extra,
            )
        else:
            audit_id = audit(ctx, "record_oversight", "oversight", entry_id, new=extra)
    what = f"{len(action_ids)} action{'s' if len(action_ids) != 1 else ''}" if action_ids else "no actions"
    behalf = f" on behalf of {decider['name']}, who will confirm it" if decider["id"] != ctx.actor["id"] else ""
    return ActionResult(
        f"Oversight recorded for {crn or 'team'}{behalf}: {outcome_.label}, {what}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=entry_id,
        created_ids=tuple(action_ids),
    )


def _closing_detail(ctx: Context, item: dict[str, Any]) -> dict[str, Any]:
    kind = item["kind"]
    if kind == "sbar":
        return {"state": SbarState.DECIDED.value}
    if kind == "alert":
        return {"acknowledged_at": ctx.now_iso, "acknowledged_by": ctx.decider["id"]}
    if kind == "supervision":
        return {"held_on": ctx.today.isoformat()}
    if kind == "action":
        return {"done_at": ctx.now_iso}
    return {}


def _meet_calendar_touch_points(ctx: Context, crn: str, except_id: str | None, entry_id: str) -> list[str]:
    reasons = ctx.rules.get("touch_points", "met_by_any_oversight")
    closed = []
    for tp in queries.open_items_for_case(ctx.db, crn, "touch_point"):
        if tp["id"] == except_id:
            continue
        reason = ctx.db.execute("SELECT reason FROM touch_points WHERE item_id = ?", [tp["id"]]).fetchone()[0]
        if reason in reasons:
            writes.update_item(
                ctx.db, tp["id"], {**closing(ctx, f"met by oversight entry {entry_id}"), "updated_at": ctx.now_iso}
            )
            closed.append(tp["id"])
    return closed


# --- SBARs ---------------------------------------------------------------------------------------


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
    """The first protected-hour slot not yet booked and not already past."""
    day = from_day or ctx.today
    booked = {
        r[0]
        for r in ctx.db.execute(
            "SELECT booked_for FROM sbars WHERE state = 'booked' AND booked_for >= ?", [day.isoformat()]
        ).fetchall()
    }
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
            item_changes=_waiting(ctx, who),
            detail_changes={"state": SbarState.AWAITING_INFO.value, "info_request": question, "info_answer": None},
        )
    return ActionResult(
        f"Asked {who} for more information; the SBAR is in Waiting until answered", item_id=item_id, audit_id=audit_id
    )


def _waiting(ctx: Context, on: str, until: date | None = None) -> dict[str, Any]:
    """The item fields that put it in the Waiting view: on whom, since now, back on ``until``."""
    return {
        "status": "waiting",
        "waiting_on": on,
        "waiting_since": ctx.now_iso,
        "waiting_until": until.isoformat() if until else None,
    }


#: The item fields that take an item out of the Waiting view, back into the queue.
_BACK = {"status": "open", "waiting_on": None, "waiting_since": None, "waiting_until": None}


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
            item_changes=dict(_BACK),
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
            item_changes=dict(_BACK),
            detail_changes={"state": SbarState.RAISED.value, "escalation_answer": answer},
        )
    return ActionResult(
        f"Answer from {item['detail']['escalated_to']} logged; the SBAR is back in the queue",
        item_id=item_id,
        audit_id=audit_id,
    )


def resubmit_countersign(ctx: Context, item_id: str, note: str = "") -> ActionResult:
    """Work returned for rework has been resubmitted by its author: it comes back to the
    countersigning queue (``REJECTED`` → ``AWAITING_COUNTERSIGN``, in the countersign history)."""
    ctx.require("add_countersign")
    item = queries.get_item(ctx.db, item_id)
    if (
        item["kind"] != "countersign"
        or item["detail"]["state"] != CountersignState.REJECTED.value
        or item["status"] == "closed"
    ):
        raise NotAllowed("this is not work returned for rework")
    note = optional_text(note, "note", multiline=True)
    with ctx.db.atomic():
        ctx.db.execute(
            "INSERT INTO countersign_history(item_id, old_state, new_state, verdict, by_id, at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                item_id,
                CountersignState.REJECTED.value,
                CountersignState.AWAITING_COUNTERSIGN.value,
                f"resubmitted{': ' + note if note else ''}",
                ctx.actor["id"],
                ctx.now_iso,
            ],
        )
        audit_id = change_item(
            ctx,
            "resubmit_countersign",
            item,
            item_changes=dict(_BACK),
            detail_changes={"state": CountersignState.AWAITING_COUNTERSIGN.value},
            extra_new={"note": note},
        )
    return ActionResult(
        f"Resubmitted: {item['title']} is back in the countersigning queue", item_id=item_id, audit_id=audit_id
    )


def log_answer(ctx: Context, item_id: str, text: str = "") -> ActionResult:
    """What ``y`` (and ``spo-tui do answer``) does to a waiting item: the practitioner's answer to
    the question asked, the answer to an escalation, or the resubmission of returned work."""
    item = queries.get_item(ctx.db, item_id)
    state = item["detail"].get("state")
    if item["kind"] == "sbar" and state == SbarState.ESCALATED.value and item["status"] == "waiting":
        return answer_escalation(ctx, item_id, text)
    if item["kind"] == "countersign" and state == CountersignState.REJECTED.value:
        return resubmit_countersign(ctx, item_id, text)
    if item["kind"] == "sbar":
        return answer_information_request(ctx, item_id, text)
    raise NotAllowed("nothing on this item waits for an answer")


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
        entry_id, _ = _write_oversight(
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
            item_changes=_waiting(ctx, _pdu_head(ctx) if target == "PDU head" else target),
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


# --- Countersigning ------------------------------------------------------------------------------


def countersign(ctx: Context, item_id: str, *, verdict: str, signed_off: bool, double: bool = False) -> ActionResult:
    """Sign off, or return with the deficits and guidance. A verdict is required: never a bare tick,
    nor a bare "ok" (``intake.require_reason``: a few words, ``[record]`` in the rules).

    ``double`` sends a signed-off item on for a second countersignature. Each change is recorded
    old → new in the countersign history and as an oversight entry.
    """
    ctx.require("countersign")
    item = load_open_item(ctx, item_id, "countersign")
    verdict = require_reason(
        ctx,
        verdict,
        "verdict",
        "the verdict (what you checked and found)"
        if signed_off
        else "the return (the deficits and the guidance given)",
    )
    old_state = CountersignState(item["detail"]["state"])
    if signed_off:
        new_state = (
            CountersignState.AWAITING_DOUBLE_COUNTERSIGN
            if double
            else (
                CountersignState.DOUBLE_COUNTERSIGNED
                if old_state == CountersignState.AWAITING_DOUBLE_COUNTERSIGN
                else CountersignState.COUNTERSIGNED
            )
        )
        outcome = OversightOutcome.SIGNED_OFF
    else:
        new_state, outcome = CountersignState.REJECTED, OversightOutcome.RETURNED
    if new_state not in COUNTERSIGN_TRANSITIONS.get(old_state, set()):
        raise NotAllowed(f"this item is {old_state.label}: it cannot now be {new_state.label}")
    kind_label = (
        CountersignKind(item["detail"]["kind"]).label
        if item["detail"]["kind"] in CountersignKind.__members__
        else item["detail"]["kind"].replace("_", " ")
    )
    with ctx.db.atomic():
        entry_id, _ = _write_oversight(
            ctx,
            crn=item["crn"],
            item_id=item_id,
            type_=OversightType.MANAGEMENT_OVERSIGHT,
            outcome=outcome,
            discussed=f"Countersigning: {item['title']}",
            decision=verdict,
        )
        ctx.db.execute(
            "INSERT INTO countersign_history(item_id, old_state, new_state, verdict, by_id, at) VALUES (?, ?, ?, ?, ?, ?)",
            [item_id, old_state.value, new_state.value, verdict, ctx.decider["id"], ctx.now_iso],
        )
        if new_state == CountersignState.AWAITING_DOUBLE_COUNTERSIGN:
            changes: dict[str, Any] = dict(_BACK) if item["status"] == "waiting" else {}
        elif new_state == CountersignState.REJECTED:
            author = queries.get_staff(ctx.db, item["detail"]["author_id"])["name"]
            changes = _waiting(ctx, author, _back_on(ctx, item))
        else:
            changes = closing(ctx, f"{new_state.label.capitalize()}: {verdict[:60]}")
        audit_id = change_item(
            ctx,
            "countersign",
            item,
            item_changes=changes,
            detail_changes={"state": new_state.value},
            extra_new={"oversight_ids": [entry_id]},
        )
    if signed_off:
        return ActionResult(
            f"Signed off: {kind_label} for {item['crn']}", item_id=item_id, audit_id=audit_id, oversight_id=entry_id
        )
    back = date.fromisoformat(changes["waiting_until"])
    return ActionResult(
        f"Returned for rework: {kind_label} for {item['crn']}; in Waiting until resubmitted, or back on {back:%a %d/%m/%Y}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=entry_id,
    )


def _back_on(ctx: Context, item: dict[str, Any]) -> date:
    """The day returned work comes back to the queue if not resubmitted: its deadline, or the next
    working day when the deadline is today or past (it must not bounce straight back)."""
    due = date.fromisoformat(item["due"]) if item.get("due") else None
    if due is not None and due > ctx.today:
        return due
    day = ctx.today + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def bring_back_due(ctx: Context) -> int:
    """Put back in the queue every waiting item whose day to come back has come (returned work not
    resubmitted by its deadline), each with an audit row; return how many."""
    rows = ctx.db.execute(
        "SELECT id FROM items WHERE status = 'waiting' AND waiting_until IS NOT NULL AND waiting_until <= ?",
        [ctx.today.isoformat()],
    ).fetchall()
    if not rows:
        return 0
    with ctx.db.atomic():
        for (item_id,) in rows:
            item = queries.get_item(ctx.db, item_id)
            if item["status"] != "waiting":
                continue
            change_item(
                ctx,
                "back_at_deadline",
                item,
                item_changes=dict(_BACK),
                extra_new={"note": f"not resubmitted by {date.fromisoformat(item['waiting_until']):%d/%m/%Y}"},
            )
    return len(rows)


# --- Touch points and alerts ---------------------------------------------------------------------


def waive_touch_point(ctx: Context, item_id: str, reason: str) -> ActionResult:
    """Waive a touch point with a reason of real content (``intake.require_reason``), recorded as an
    oversight entry."""
    ctx.require("waive_touch_point")
    item = load_open_item(ctx, item_id, "touch_point")
    reason = require_reason(ctx, reason, "reason", "the reason for waiving")
    with ctx.db.atomic():
        entry_id, _ = _write_oversight(
            ctx,
            crn=item["crn"],
            item_id=item_id,
            type_=OversightType.MANAGEMENT_OVERSIGHT,
            outcome=OversightOutcome.WAIVED,
            discussed=f"Touch point: {item['title']}",
            decision=f"Waived: {reason}",
        )
        audit_id = change_item(
            ctx,
            "waive_touch_point",
            item,
            item_changes=closing(ctx, f"waived: {reason}"),
            detail_changes={"waived_reason": reason},
            extra_new={"oversight_ids": [entry_id]},
        )
    return ActionResult(
        f"Touch point waived for {item['crn']}", item_id=item_id, audit_id=audit_id, oversight_id=entry_id
    )


# --- Tasks and actions ---------------------------------------------------------------------------


def delegate_task(ctx: Context, item_id: str, to: str) -> ActionResult:
    """Hand a non-operational task to the CASPO, SAO or business manager: it leaves the queue."""
    ctx.require("delegate_task")
    item = load_open_item(ctx, item_id, "task")
    delegate = resolve_staff(ctx, to, "to", tuple(r.value for r in DELEGATE_ROLES))
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "delegate_task",
            item,
            item_changes={**_waiting(ctx, delegate["name"]), "assigned_to": delegate["id"]},
            detail_changes={"delegated_to": delegate["id"], "delegated_at": ctx.now_iso},
        )
    return ActionResult(f"Delegated to {delegate['name']} ({delegate['role']})", item_id=item_id, audit_id=audit_id)


def complete_task(ctx: Context, item_id: str, minutes: int | str) -> ActionResult:
    """Mark a task done with the minutes it took, so the time non-operational work costs is visible."""
    ctx.require("task")
    item = queries.get_item(ctx.db, item_id)
    if item["kind"] != "task":
        raise NotAllowed("only a task is marked done with minutes")
    if item["status"] == "closed":
        raise NotAllowed(f"'{item['title']}' is already done")
    try:
        mins = int(str(minutes).strip())
    except ValueError:
        raise ValidationError(f"minutes must be a whole number, not '{minutes}'", field="minutes") from None
    if not 0 <= mins <= 24 * 60:
        raise ValidationError("minutes must be from 0 to 1440", field="minutes")
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "complete_task",
            item,
            item_changes=closing(ctx, f"done in {mins} min"),
            detail_changes={"minutes_spent": mins},
        )
    return ActionResult(f"Done: {item['title']} ({mins} min)", item_id=item_id, audit_id=audit_id)


def complete_action(ctx: Context, item_id: str, note: str = "") -> ActionResult:
    """Mark an agreed action done (followed through)."""
    ctx.require("complete_action")
    item = load_open_item(ctx, item_id, "action")
    note = optional_text(note, "note", multiline=True)
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "complete_action",
            item,
            item_changes=closing(ctx, note or "done"),
            detail_changes={"done_at": ctx.now_iso},
        )
    return ActionResult(f"Action done: {item['title']}", item_id=item_id, audit_id=audit_id)


# --- Any item ------------------------------------------------------------------------------------


def snooze(ctx: Context, item_id: str, until: str | date) -> ActionResult:
    """Hide an item from the queue until a date typed as people type it ("tomorrow", "mon", "3d")."""
    ctx.require("snooze")
    item = load_open_item(ctx, item_id)
    day = until if isinstance(until, date) else parse_day(ctx, until, "date", "future")
    if day <= ctx.today:
        raise ValidationError("snooze until a day after today", field="date")
    if item["kind"] == "alert":
        raise NotAllowed("an immediate-risk alert cannot be snoozed: acknowledge it")
    with ctx.db.atomic():
        audit_id = change_item(ctx, "snooze", item, item_changes={"snoozed_until": day.isoformat()})
    return ActionResult(f"Snoozed until {day:%a %d/%m/%Y}", item_id=item_id, audit_id=audit_id)


def unsnooze(ctx: Context, item_id: str) -> ActionResult:
    """Bring a snoozed item back into the queue now."""
    ctx.require("snooze")
    item = load_open_item(ctx, item_id)
    if not item.get("snoozed_until") or item["snoozed_until"] <= ctx.today.isoformat():
        raise NotAllowed(f"'{item['title']}' is not snoozed")
    with ctx.db.atomic():
        audit_id = change_item(ctx, "unsnooze", item, item_changes={"snoozed_until": None})
    return ActionResult(f"Back in the queue: {item['title']}", item_id=item_id, audit_id=audit_id)


def reassign(ctx: Context, item_id: str, to: str) -> ActionResult:
    """Give an item to another member of staff: it leaves this SPO's queue."""
    ctx.require("reassign")
    item = load_open_item(ctx, item_id)
    if item["kind"] == "alert":  # level-3 work stays with the SPO
        ctx.require("reassign_alert")
    person = resolve_staff(ctx, to, "to")
    if item["assigned_to"] == person["id"]:
        raise ValidationError(f"it is already with {person['name']}", field="to")
    with ctx.db.atomic():
        audit_id = change_item(ctx, "reassign", item, item_changes={"assigned_to": person["id"]})
    return ActionResult(f"Reassigned to {person['name']}", item_id=item_id, audit_id=audit_id)


# --- Entries made in the SPO's name --------------------------------------------------------------


def on_behalf_banner(ctx: Context, *, item_id: str | None = None, crn: str | None = None) -> str | None:
    """What the oversight form says before a CASPO saves: "Entering on behalf of NAME (SPO, Team A)",
    naming the SPO the entry will be credited to; None when the actor enters it in their own name."""
    if item_id and not crn:
        crn = queries.get_item(ctx.db, item_id)["crn"]
    decider = ctx.decider_for(crn)
    if decider["id"] == ctx.actor["id"]:
        return None
    team = f", {decider['team']}" if decider.get("team") else ""
    return f"Entering on behalf of {decider['name']} ({decider['role']}{team}): they will see it to confirm or correct"


def _load_confirm(ctx: Context, item_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ctx.require("confirm_entry")
    item = load_open_item(ctx, item_id, ItemKind.CONFIRM.value)
    entry = queries.get_oversight(ctx.db, item["detail"]["oversight_id"])
    if entry["decided_by"] != ctx.actor["id"]:
        name = queries.get_staff(ctx.db, entry["decided_by"])["name"]
        raise NotAllowed(f"only {name}, in whose name it was entered, can confirm or correct it")
    return item, entry


def confirm_entry(ctx: Context, item_id: str) -> ActionResult:
    """The SPO confirms an oversight entry a CASPO made in their name: the ``confirm`` item closes,
    the entry stands as it is (it is never edited)."""
    item, entry = _load_confirm(ctx, item_id)
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "confirm_entry",
            item,
            item_changes=closing(ctx, f"confirmed oversight entry {entry['id']}"),
            detail_changes={"confirmed_at": ctx.now_iso, "confirmed_by": ctx.actor["id"]},
        )
    return ActionResult(
        f"Confirmed: {OversightOutcome(entry['outcome']).label} for {entry['crn'] or 'team'}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=entry["id"],
    )


def correct_entry(
    ctx: Context,
    item_id: str,
    *,
    outcome: str,
    discussed: str,
    decision: str,
    type: str | None = None,
    sensitive: bool | None = None,
) -> ActionResult:
    """The SPO corrects an entry a CASPO made in their name: a new entry, in the SPO's own name,
    superseding it (the first stays on the record); the ``confirm`` item closes."""
    item, entry = _load_confirm(ctx, item_id)
    type_, outcome_, discussed, decision = check_oversight_fields(type or entry["type"], outcome, discussed, decision)
    with ctx.db.atomic():
        new_id, _ = _write_oversight(
            ctx,
            crn=entry["crn"],
            item_id=entry["item_id"],
            type_=type_,
            outcome=outcome_,
            discussed=discussed,
            decision=decision,
            sensitive=bool(entry["sensitive"] if sensitive is None else sensitive),
            supersedes_id=entry["id"],
            decider=ctx.actor,
        )
        audit_id = change_item(
            ctx,
            "correct_entry",
            item,
            item_changes=closing(ctx, f"corrected by oversight entry {new_id}"),
            detail_changes={"corrected_by": new_id},
            extra_new={"oversight_ids": [new_id]},
        )
    return ActionResult(
        f"Corrected: a new entry replaces the one entered for {entry['crn'] or 'team'}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=new_id,
    )


UNDOABLE = (
    "confirm_entry",
    "correct_entry",
    "record_oversight",
    "book_protected_hour",
    "request_more_information",
    "escalate_sbar",
    "countersign",
    "waive_touch_point",
    "delegate_task",
    "complete_task",
    "complete_action",
    "snooze",
    "reassign",
    "unsnooze",
    "answer_information_request",
    "answer_escalation",
    "resubmit_countersign",
)


def is_undoable(ctx: Context, audit_id: int) -> bool:
    """True if the audited action is one ``undo`` can reverse."""
    row = ctx.db.execute("SELECT action FROM audit_log WHERE id = ?", [audit_id]).fetchone()
    return row is not None and row[0] in UNDOABLE


def last_undoable_on(ctx: Context, item_id: str) -> int:
    """The audit row of this user's last action on the item that ``undo`` can reverse
    (``spo-tui do undo ITEM``): the shell has no session to remember it."""
    queries.get_item(ctx.db, item_id)  # NotFound for an unknown item
    audit_id = queries.last_audit_on_item(ctx.db, item_id, ctx.actor["id"], UNDOABLE)
    if audit_id is None:
        raise NotAllowed("you have no action on this item to undo")
    return audit_id


#: How each undoable action is named when asking to confirm an undo.
_UNDO_WORDS = {
    "record_oversight": "the oversight entry",
    "book_protected_hour": "the protected-hour booking",
    "request_more_information": "the request for more information",
    "escalate_sbar": "the escalation",
    "countersign": "the countersign verdict",
    "waive_touch_point": "the waiver",
    "delegate_task": "the delegation",
    "complete_task": "marking the task done",
    "complete_action": "marking the action done",
    "snooze": "the snooze",
    "reassign": "the reassignment",
    "unsnooze": "bringing the item back",
    "answer_information_request": "the answer logged",
    "answer_escalation": "the escalation's answer",
    "resubmit_countersign": "the resubmission",
}


def _undo_target(ctx: Context, audit_id: int) -> tuple[str, str, str | None, dict, dict, dict | None]:
    """The audited action to undo, checked: (action, entity, entity id, old, new, the item now)."""
    row = ctx.db.execute(
        "SELECT action, entity, entity_id, old, new, actor_id FROM audit_log WHERE id = ?", [audit_id]
    ).fetchone()
    if row is None or row[0] not in UNDOABLE:
        raise NotAllowed("there is nothing to undo")
    action, entity, entity_id, old_json, new_json, actor_id = row
    if actor_id != ctx.actor["id"]:
        raise NotAllowed("you can only undo your own actions")
    if ctx.db.execute("SELECT 1 FROM audit_log WHERE action = 'undo' AND entity_id = ?", [str(audit_id)]).fetchone():
        raise NotAllowed("that action has already been undone")
    old = json.loads(old_json) if old_json else {"item": {}, "detail": {}}
    new = json.loads(new_json) if new_json else {}
    item = queries.get_item(ctx.db, entity_id) if entity == "item" else None
    if item is not None:
        changed = {k for k, v in new.get("item", {}).items() if k != "updated_at" and item.get(k) != v}
        changed |= {k for k, v in new.get("detail", {}).items() if item["detail"].get(k) != v}
        if changed:
            raise NotAllowed("the item has changed since; undo is no longer possible")
    return action, entity, entity_id, old, new, item


def describe_undo(ctx: Context, audit_id: int) -> str:
    """What undoing ``audit_id`` would withdraw, in words, for the confirmation: e.g. "the waiver on
    X123456 'Quarterly review' (made Thu 03/12/2026 10:15): 1 oversight entry withdrawn, 1 touch
    point reopened". Raises NotAllowed as :func:`undo` would."""
    action, entity, entity_id, _old, new, item = _undo_target(ctx, audit_id)
    at = ctx.db.execute("SELECT at FROM audit_log WHERE id = ?", [audit_id]).fetchone()[0]
    what = _UNDO_WORDS.get(action, action.replace("_", " "))
    if item is not None:
        what += f" on {item['crn'] + ' ' if item['crn'] else ''}'{item['title']}'"
    elif new.get("oversight_ids"):
        entry = queries.get_oversight(ctx.db, new["oversight_ids"][0])
        what += f" on {entry['crn'] or 'no case'}"
    what += f" (made {from_iso(at).astimezone(LONDON):%a %d/%m/%Y %H:%M})"
    parts = []
    n = len(new.get("oversight_ids", []))
    if n:
        parts.append(f"{n} oversight entr{'y' if n == 1 else 'ies'} withdrawn")
    n = len(new.get("created_ids", []))
    if n:
        parts.append(f"{n} agreed action{'s' if n != 1 else ''} closed")
    n = len(new.get("also_closed", []))
    if n:
        parts.append(f"{n} touch point{'s' if n != 1 else ''} reopened")
    return what + (": " + ", ".join(parts) if parts else "")


def undo(ctx: Context, audit_id: int, reason: str) -> ActionResult:
    """Reverse one earlier action by new records: restore the item's fields, supersede its oversight
    entries with ``withdrawn`` entries, close the actions it created and reopen what it closed.

    ``reason`` says why (``intake.require_reason``: a few words, as for a waiver); it is written in
    each withdrawn entry and in the audit row. Refused when the item has changed since (someone
    else acted on it). The screen asks first, naming what will be withdrawn (:func:`describe_undo`).
    """
    action, entity, entity_id, old, new, item = _undo_target(ctx, audit_id)
    reason = require_reason(ctx, reason, "reason", "the reason for the undo")
    with ctx.db.atomic():
        for entry_id in new.get("oversight_ids", []):
            entry = queries.get_oversight(ctx.db, entry_id)
            withdrawn_id = writes.insert_oversight(
                ctx.db,
                {
                    "crn": entry["crn"],
                    "item_id": entry["item_id"],
                    "type": entry["type"],
                    "outcome": OversightOutcome.WITHDRAWN.value,
                    "discussed": entry["discussed"],
                    "decision": f"Withdrawn by {ctx.actor['name']}: the entry of {from_iso(entry['created_at']).astimezone(LONDON):%d/%m/%Y %H:%M} was recorded in error. Reason: {reason}",
                    "sensitive": entry["sensitive"],
                    "decided_by": ctx.decider_for(entry["crn"])["id"],
                    "entered_by": ctx.actor["id"],
                    "created_at": ctx.now_iso,
                    "supersedes_id": entry_id,
                },
            )
            writes.seal_oversight(ctx.db, withdrawn_id)
        for created in new.get("created_ids", []):
            writes.update_item(ctx.db, created, {**closing(ctx, "withdrawn (undo)"), "updated_at": ctx.now_iso})
        for reopened in new.get("also_closed", []):
            writes.update_item(
                ctx.db, reopened, {"status": "open", "closed_at": None, "closed_note": None, "updated_at": ctx.now_iso}
            )
        if item is not None:
            assert entity_id is not None  # the item was found by it
            writes.update_item(ctx.db, entity_id, {**old.get("item", {}), "updated_at": ctx.now_iso})
            writes.update_detail(ctx.db, item["kind"], entity_id, old.get("detail", {}))
            if action == "countersign":
                state = new["detail"]["state"]
                ctx.db.execute(
                    "INSERT INTO countersign_history(item_id, old_state, new_state, verdict, by_id, at) VALUES (?, ?, ?, ?, ?, ?)",
                    [entity_id, state, old["detail"]["state"], "undone", ctx.decider["id"], ctx.now_iso],
                )
        undo_id = audit(
            ctx, "undo", "audit_log", str(audit_id), new={"undid": action, "item": entity_id, "reason": reason}
        )
    return ActionResult(f"Undone: {action.replace('_', ' ')}", item_id=entity_id if item else None, audit_id=undo_id)
