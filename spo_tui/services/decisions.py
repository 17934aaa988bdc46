"""What the SPO does to an item from the queue: one function per action.

Each validates, then writes the change, any oversight entry and agreed actions, and the audit row
in one transaction. Undo reverses the last action as new records: an oversight entry is never
edited or deleted, it is superseded by a ``withdrawn`` entry.

The actions on any item (snooze, reassign, answer), on touch points and on tasks are here; the
rest live in the module that owns what is decided and are re-exported, so every action is
``decisions.X``: oversight entries in ``oversight``, SBARs in ``sbar_decisions``, countersigning
in ``countersigning``, undo in ``undo``.
"""

from __future__ import annotations

from datetime import date

from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.vocab import DELEGATE_ROLES, CountersignState, OversightOutcome, OversightType, SbarState
from spo_tui.services import registrations
from spo_tui.services.base import ActionResult, change_item, closing, load_open_item, waiting
from spo_tui.services.context import Context
from spo_tui.services.countersigning import (
    bring_back_due,
    countersign,
    peer_choices,
    resubmit_countersign,
    route_to_peer,
)
from spo_tui.services.intake import optional_text, parse_day, require_reason, resolve_staff
from spo_tui.services.oversight import (
    AgreedAction,
    check_oversight_fields,
    confirm_entry,
    correct_entry,
    on_behalf_banner,
    record_oversight,
    write_oversight,
)
from spo_tui.services.sbar_decisions import (
    ESCALATION_TARGETS,
    answer_escalation,
    answer_information_request,
    book_protected_hour,
    escalate_sbar,
    next_free_slot,
    protected_hour_slots,
    request_more_information,
)
from spo_tui.services.undo import UNDOABLE, describe_undo, is_undoable, last_undoable_on, undo
from spo_tui.store import queries

# Every action on an item is reached as ``decisions.X`` (the screens and the CLI call it so); those
# decided elsewhere are re-exported from the modules that own them.
__all__ = [
    "ESCALATION_TARGETS",
    "UNDOABLE",
    "AgreedAction",
    "answer_escalation",
    "answer_information_request",
    "book_protected_hour",
    "bring_back_due",
    "check_oversight_fields",
    "complete_action",
    "complete_task",
    "confirm_entry",
    "correct_entry",
    "countersign",
    "delegate_task",
    "describe_undo",
    "escalate_sbar",
    "is_undoable",
    "last_undoable_on",
    "log_answer",
    "next_free_slot",
    "on_behalf_banner",
    "protected_hour_slots",
    "reassign",
    "record_oversight",
    "request_more_information",
    "resubmit_countersign",
    "route_to_peer",
    "peer_choices",
    "snooze",
    "undo",
    "unsnooze",
    "waive_touch_point",
]

# --- Touch points and alerts ---------------------------------------------------------------------


def waive_touch_point(ctx: Context, item_id: str, reason: str) -> ActionResult:
    """Waive a touch point with a reason of real content (``intake.require_reason``), recorded as an
    oversight entry."""
    ctx.require("waive_touch_point")
    item = load_open_item(ctx, item_id, "touch_point")
    reason = require_reason(ctx, reason, "reason", "the reason for waiving")
    with ctx.db.atomic():
        entry_id, _ = write_oversight(
            ctx,
            crn=item["crn"],
            item_id=item_id,
            type_=OversightType.MANAGEMENT_OVERSIGHT,
            outcome=OversightOutcome.WAIVED,
            discussed=f"Touch point: {item['title']}",
            decision=f"Waived: {reason}",
        )
        # A registration review waived is still dealt with for this period: its next one moves on.
        moved = registrations.advance_review(ctx, item)
        audit_id = change_item(
            ctx,
            "waive_touch_point",
            item,
            item_changes=closing(ctx, f"waived: {reason}"),
            detail_changes={"waived_reason": reason},
            extra_new={"oversight_ids": [entry_id], **({"flag_review_moved": moved} if moved else {})},
        )
    return ActionResult(
        f"Touch point waived for {item['crn']}{registrations.shown(moved)}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=entry_id,
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
            item_changes={**waiting(ctx, delegate["name"]), "assigned_to": delegate["id"]},
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


def log_answer(ctx: Context, item_id: str, text: str = "") -> ActionResult:
    """What ``y`` (and ``spo-tui do answer``) does to a waiting item: the practitioner's answer to
    the question asked, the answer to an escalation, or the resubmission of returned work."""
    item = queries.get_item(ctx.db, item_id)
    state = item["detail"].get("state")
    if item["kind"] == "sbar" and state == SbarState.ESCALATED.value and item["status"] == "waiting":
        return answer_escalation(ctx, item_id, text)
    if item["kind"] == "countersign" and state in (
        CountersignState.REJECTED.value,
        CountersignState.RETURNED_TO_AUTHOR.value,
    ):
        return resubmit_countersign(ctx, item_id, text)
    if item["kind"] == "sbar":
        return answer_information_request(ctx, item_id, text)
    raise NotAllowed("nothing on this item waits for an answer")
