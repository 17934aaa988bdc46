"""What the SPO does to an item from the queue: one function per action.

Each validates, then writes the change, any oversight entry and agreed actions, and the audit row
in one transaction. Undo reverses the last action as new records: an oversight entry is never
edited or deleted, it is superseded by a ``withdrawn`` entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from spo_tui.domain.dates import from_iso, is_working_day, parse_when
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
from spo_tui.services.base import ActionResult, change_item, closing, load_open_item
from spo_tui.services.context import LONDON, Context
from spo_tui.services.intake import optional_text, require_text, resolve_staff
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
                due = parse_when(str(action.due), ctx.today)
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
    actions: list[dict[str, Any]] = (),
) -> tuple[str, list[str]]:
    """Insert an oversight entry and its agreed actions (as queue items). Call inside atomic()."""
    entry_id = writes.insert_oversight(
        ctx.db,
        {"crn": crn, "item_id": item_id, "type": type_.value, "outcome": outcome.value, "discussed": discussed,
         "decision": decision, "sensitive": int(bool(sensitive)), "decided_by": ctx.decider["id"],
         "entered_by": ctx.actor["id"], "created_at": ctx.now_iso, "minutes": minutes, "supersedes_id": supersedes_id},
    )  # fmt: skip
    action_ids = []
    for action in actions:
        action_ids.append(
            writes.insert_item(
                ctx.db,
                {"kind": ItemKind.ACTION.value, "crn": crn, "title": action["description"][:80],
                 "due": action["due"].isoformat(), "status": "open", "created_at": ctx.now_iso,
                 "assigned_to": None, "raised_by": ctx.decider["id"]},
                {"oversight_id": entry_id, "owner_id": action["owner"]["id"], "description": action["description"]},
            )  # fmt: skip
        )
    writes.seal_oversight(ctx.db, entry_id)
    return entry_id, action_ids


def _check_oversight_fields(type_: str, outcome: str, discussed: str, decision: str):
    t = parse_enum(OversightType, type_, "type")
    o = parse_enum(OversightOutcome, outcome, "outcome")
    if o.value not in t.info.outcomes:
        raise ValidationError(f"outcome '{o.label}' does not fit type '{t.label}'", field="outcome")
    return (t, o, require_text(discussed, "discussed", "what was discussed", multiline=True),
            require_text(decision, "decision", "the decision or guidance", multiline=True))  # fmt: skip


def record_oversight(
    ctx: Context,
    *,
    item_id: str | None = None,
    crn: str | None = None,
    type: str = OversightType.MANAGEMENT_OVERSIGHT.value,
    outcome: str,
    discussed: str,
    decision: str,
    actions: list[AgreedAction] = (),
    sensitive: bool = False,
    minutes: int | None = None,
) -> ActionResult:
    """Record a management-oversight entry, on a queue item (closing it) or on a case.

    On an SBAR this is the decision; on a touch point, the discussion; on an alert, the acknowledgement
    and decision; on a supervision item, the session held. Any entry on a case also meets the case's
    open calendar touch points named in ``met_by_any_oversight``.
    """
    ctx.require("record_oversight")
    type_, outcome_, discussed, decision = _check_oversight_fields(type, outcome, discussed, decision)
    if minutes is not None and (not isinstance(minutes, int) or minutes < 0 or minutes > 600):
        raise ValidationError("minutes must be a whole number from 0 to 600", field="minutes")
    item = None
    if item_id:
        item = load_open_item(ctx, item_id, ("sbar", "touch_point", "alert", "supervision", "action"))
        if item["kind"] == "sbar":
            ctx.require("decide_sbar")
        crn = item["crn"]
    elif crn:
        crn = normalise_crn(crn)
        if not queries.case_exists(ctx.db, crn):
            raise ValidationError(f"no case with CRN {crn}", field="crn")
    else:
        raise ValidationError("an oversight entry needs a case or an item", field="crn")
    agreed = _validate_actions(ctx, list(actions))

    with ctx.db.atomic():
        entry_id, action_ids = _write_oversight(
            ctx, crn=crn, item_id=item_id, type_=type_, outcome=outcome_, discussed=discussed, decision=decision,
            sensitive=sensitive, minutes=minutes, actions=agreed,
        )  # fmt: skip
        met = _meet_calendar_touch_points(ctx, crn, except_id=item_id, entry_id=entry_id) if crn else []
        extra = {"oversight_ids": [entry_id], "created_ids": action_ids, "also_closed": met}
        if item is not None:
            detail = _closing_detail(ctx, item)
            audit_id = change_item(
                ctx, "record_oversight", item, item_changes=closing(ctx, f"oversight entry {entry_id}"),
                detail_changes=detail, extra_new=extra,
            )  # fmt: skip
        else:
            audit_id = writes.audit(
                ctx.db, at=ctx.now_iso, actor_id=ctx.actor["id"], on_behalf_of=ctx.on_behalf_of,
                action="record_oversight", entity="oversight", entity_id=entry_id, new=extra,
            )  # fmt: skip
    what = f"{len(action_ids)} action{'s' if len(action_ids) != 1 else ''}" if action_ids else "no actions"
    return ActionResult(
        f"Oversight recorded for {crn or 'team'}: {outcome_.label}, {what}",
        item_id=item_id, audit_id=audit_id, oversight_id=entry_id, created_ids=tuple(action_ids),
    )  # fmt: skip


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
            writes.update_item(ctx.db, tp["id"], {**closing(ctx, f"met by oversight entry {entry_id}"), "updated_at": ctx.now_iso})
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
            ctx, "book_protected_hour", item, item_changes={"due": when.date().isoformat()},
            detail_changes={"state": SbarState.BOOKED.value, "booked_for": stamp},
        )  # fmt: skip
    return ActionResult(f"Booked into the protected hour {when:%a %d/%m %H:%M}", item_id=item_id, audit_id=audit_id)


def request_more_information(ctx: Context, item_id: str, question: str) -> ActionResult:
    """Ask the practitioner for more: the SBAR leaves the queue until the answer is logged."""
    ctx.require("request_more_information")
    item = load_open_item(ctx, item_id, "sbar")
    question = require_text(question, "question", "the question for the practitioner", multiline=True)
    with ctx.db.atomic():
        audit_id = change_item(
            ctx, "request_more_information", item, item_changes={"status": "waiting"},
            detail_changes={"state": SbarState.AWAITING_INFO.value, "info_request": question},
        )  # fmt: skip
    return ActionResult("Asked for more information; the SBAR returns when answered", item_id=item_id, audit_id=audit_id)


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
            ctx, "answer_information_request", item, item_changes={"status": "open"},
            detail_changes={"state": SbarState.RAISED.value, "background": background},
        )  # fmt: skip
    return ActionResult("Answer logged; the SBAR is back in the queue", item_id=item_id, audit_id=audit_id)


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
            ctx, crn=item["crn"], item_id=item_id, type_=OversightType.MANAGEMENT_OVERSIGHT,
            outcome=OversightOutcome.ESCALATED, discussed=item["detail"]["situation"], decision=f"Escalated to {target}: {note}",
        )  # fmt: skip
        audit_id = change_item(
            ctx, "escalate_sbar", item, item_changes=closing(ctx, f"escalated to {target}"),
            detail_changes={"state": SbarState.ESCALATED.value, "escalated_to": target, "escalation_note": note},
            extra_new={"oversight_ids": [entry_id]},
        )  # fmt: skip
    return ActionResult(f"Escalated to {target}", item_id=item_id, audit_id=audit_id, oversight_id=entry_id)


# --- Countersigning ------------------------------------------------------------------------------


def countersign(ctx: Context, item_id: str, *, verdict: str, signed_off: bool, double: bool = False) -> ActionResult:
    """Sign off, or return with the deficits and guidance. A verdict is required: never a bare tick.

    ``double`` sends a signed-off item on for a second countersignature. Each change is recorded
    old → new in the countersign history and as an oversight entry.
    """
    ctx.require("countersign")
    item = load_open_item(ctx, item_id, "countersign")
    verdict = require_text(verdict, "verdict", "a verdict (what you found, and for a return the deficits and guidance)",
                           multiline=True)
    old_state = CountersignState(item["detail"]["state"])
    if signed_off:
        new_state = CountersignState.AWAITING_DOUBLE_COUNTERSIGN if double else (
            CountersignState.DOUBLE_COUNTERSIGNED if old_state == CountersignState.AWAITING_DOUBLE_COUNTERSIGN
            else CountersignState.COUNTERSIGNED)  # fmt: skip
        outcome = OversightOutcome.SIGNED_OFF
    else:
        new_state, outcome = CountersignState.REJECTED, OversightOutcome.RETURNED
    if new_state not in COUNTERSIGN_TRANSITIONS.get(old_state, set()):
        raise NotAllowed(f"this item is {old_state.label}: it cannot now be {new_state.label}")
    kind_label = CountersignKind(item["detail"]["kind"]).label if item["detail"]["kind"] in CountersignKind.__members__ \
        else item["detail"]["kind"].replace("_", " ")
    with ctx.db.atomic():
        entry_id, _ = _write_oversight(
            ctx, crn=item["crn"], item_id=item_id, type_=OversightType.MANAGEMENT_OVERSIGHT, outcome=outcome,
            discussed=f"Countersigning: {item['title']}", decision=verdict,
        )  # fmt: skip
        ctx.db.execute(
            "INSERT INTO countersign_history(item_id, old_state, new_state, verdict, by_id, at) VALUES (?, ?, ?, ?, ?, ?)",
            [item_id, old_state.value, new_state.value, verdict, ctx.decider["id"], ctx.now_iso],
        )
        stays_open = new_state == CountersignState.AWAITING_DOUBLE_COUNTERSIGN
        audit_id = change_item(
            ctx, "countersign", item,
            item_changes={} if stays_open else closing(ctx, f"{new_state.label.capitalize()}: {verdict[:60]}"),
            detail_changes={"state": new_state.value}, extra_new={"oversight_ids": [entry_id]},
        )  # fmt: skip
    word = "Signed off" if signed_off else "Returned for rework"
    return ActionResult(f"{word}: {kind_label} for {item['crn']}", item_id=item_id, audit_id=audit_id, oversight_id=entry_id)


# --- Touch points and alerts ---------------------------------------------------------------------


def waive_touch_point(ctx: Context, item_id: str, reason: str) -> ActionResult:
    """Waive a touch point with a reason, recorded as an oversight entry."""
    ctx.require("waive_touch_point")
    item = load_open_item(ctx, item_id, "touch_point")
    reason = require_text(reason, "reason", "the reason for waiving", multiline=True)
    with ctx.db.atomic():
        entry_id, _ = _write_oversight(
            ctx, crn=item["crn"], item_id=item_id, type_=OversightType.MANAGEMENT_OVERSIGHT,
            outcome=OversightOutcome.WAIVED, discussed=f"Touch point: {item['title']}", decision=f"Waived: {reason}",
        )  # fmt: skip
        audit_id = change_item(
            ctx, "waive_touch_point", item, item_changes=closing(ctx, f"waived: {reason}"),
            detail_changes={"waived_reason": reason}, extra_new={"oversight_ids": [entry_id]},
        )  # fmt: skip
    return ActionResult(f"Touch point waived for {item['crn']}", item_id=item_id, audit_id=audit_id, oversight_id=entry_id)


# --- Tasks and actions ---------------------------------------------------------------------------


def delegate_task(ctx: Context, item_id: str, to: str) -> ActionResult:
    """Hand a non-operational task to the CASPO, SAO or business manager: it leaves the queue."""
    ctx.require("delegate_task")
    item = load_open_item(ctx, item_id, "task")
    delegate = resolve_staff(ctx, to, "to", tuple(r.value for r in DELEGATE_ROLES))
    with ctx.db.atomic():
        audit_id = change_item(
            ctx, "delegate_task", item, item_changes={"status": "waiting", "assigned_to": delegate["id"]},
            detail_changes={"delegated_to": delegate["id"], "delegated_at": ctx.now_iso},
        )  # fmt: skip
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
            ctx, "complete_task", item, item_changes=closing(ctx, f"done in {mins} min"),
            detail_changes={"minutes_spent": mins},
        )  # fmt: skip
    return ActionResult(f"Done: {item['title']} ({mins} min)", item_id=item_id, audit_id=audit_id)


def complete_action(ctx: Context, item_id: str, note: str = "") -> ActionResult:
    """Mark an agreed action done (followed through)."""
    ctx.require("complete_action")
    item = load_open_item(ctx, item_id, "action")
    note = optional_text(note, "note", multiline=True)
    with ctx.db.atomic():
        audit_id = change_item(
            ctx, "complete_action", item, item_changes=closing(ctx, note or "done"),
            detail_changes={"done_at": ctx.now_iso},
        )  # fmt: skip
    return ActionResult(f"Action done: {item['title']}", item_id=item_id, audit_id=audit_id)


# --- Any item ------------------------------------------------------------------------------------


def snooze(ctx: Context, item_id: str, until: str | date) -> ActionResult:
    """Hide an item from the queue until a date typed as people type it ("tomorrow", "mon", "3d")."""
    ctx.require("snooze")
    item = load_open_item(ctx, item_id)
    day = until if isinstance(until, date) else parse_when(until, ctx.today)
    if day <= ctx.today:
        raise ValidationError("snooze until a day after today", field="date")
    if item["kind"] == "alert":
        raise NotAllowed("an immediate-risk alert cannot be snoozed: acknowledge it")
    with ctx.db.atomic():
        audit_id = change_item(ctx, "snooze", item, item_changes={"snoozed_until": day.isoformat()})
    return ActionResult(f"Snoozed until {day:%a %d/%m/%Y}", item_id=item_id, audit_id=audit_id)


def reassign(ctx: Context, item_id: str, to: str) -> ActionResult:
    """Give an item to another member of staff: it leaves this SPO's queue."""
    ctx.require("reassign")
    item = load_open_item(ctx, item_id)
    person = resolve_staff(ctx, to, "to")
    if item["assigned_to"] == person["id"]:
        raise ValidationError(f"it is already with {person['name']}", field="to")
    with ctx.db.atomic():
        audit_id = change_item(ctx, "reassign", item, item_changes={"assigned_to": person["id"]})
    return ActionResult(f"Reassigned to {person['name']}", item_id=item_id, audit_id=audit_id)


UNDOABLE = (
    "record_oversight", "book_protected_hour", "request_more_information", "escalate_sbar", "countersign",
    "waive_touch_point", "delegate_task", "complete_task", "complete_action", "snooze", "reassign",
)  # fmt: skip


def is_undoable(ctx: Context, audit_id: int) -> bool:
    """True if the audited action is one ``undo`` can reverse."""
    row = ctx.db.execute("SELECT action FROM audit_log WHERE id = ?", [audit_id]).fetchone()
    return row is not None and row[0] in UNDOABLE


def undo(ctx: Context, audit_id: int) -> ActionResult:
    """Reverse one earlier action by new records: restore the item's fields, supersede its oversight
    entries with ``withdrawn`` entries, close the actions it created and reopen what it closed.

    Refused when the item has changed since (someone else acted on it).
    """
    row = ctx.db.execute("SELECT action, entity, entity_id, old, new, actor_id FROM audit_log WHERE id = ?", [audit_id]).fetchone()
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
    with ctx.db.atomic():
        for entry_id in new.get("oversight_ids", []):
            entry = queries.get_oversight(ctx.db, entry_id)
            withdrawn_id = writes.insert_oversight(
                ctx.db,
                {"crn": entry["crn"], "item_id": entry["item_id"], "type": entry["type"],
                 "outcome": OversightOutcome.WITHDRAWN.value, "discussed": entry["discussed"],
                 "decision": f"Withdrawn by {ctx.actor['name']}: the entry of {from_iso(entry['created_at']).astimezone(LONDON):%d/%m/%Y %H:%M} was recorded in error.",
                 "sensitive": entry["sensitive"], "decided_by": ctx.decider["id"], "entered_by": ctx.actor["id"],
                 "created_at": ctx.now_iso, "supersedes_id": entry_id},
            )  # fmt: skip
            writes.seal_oversight(ctx.db, withdrawn_id)
        for created in new.get("created_ids", []):
            writes.update_item(ctx.db, created, {**closing(ctx, "withdrawn (undo)"), "updated_at": ctx.now_iso})
        for reopened in new.get("also_closed", []):
            writes.update_item(ctx.db, reopened, {"status": "open", "closed_at": None, "closed_note": None, "updated_at": ctx.now_iso})
        if item is not None:
            writes.update_item(ctx.db, entity_id, {**old.get("item", {}), "updated_at": ctx.now_iso})
            writes.update_detail(ctx.db, item["kind"], entity_id, old.get("detail", {}))
            if action == "countersign":
                state = new["detail"]["state"]
                ctx.db.execute(
                    "INSERT INTO countersign_history(item_id, old_state, new_state, verdict, by_id, at) VALUES (?, ?, ?, ?, ?, ?)",
                    [entity_id, state, old["detail"]["state"], "undone", ctx.decider["id"], ctx.now_iso],
                )
        undo_id = writes.audit(
            ctx.db, at=ctx.now_iso, actor_id=ctx.actor["id"], on_behalf_of=ctx.on_behalf_of, action="undo",
            entity="audit_log", entity_id=str(audit_id), new={"undid": action, "item": entity_id},
        )  # fmt: skip
    return ActionResult(f"Undone: {action.replace('_', ' ')}", item_id=entity_id if item else None, audit_id=undo_id)
