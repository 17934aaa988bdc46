"""Undo: reversing the last action on an item as new records. An oversight entry is never edited
or deleted: it is superseded by a ``withdrawn`` entry.
"""

from __future__ import annotations

import json

from spo_tui.domain.dates import from_iso
from spo_tui.domain.errors import NotAllowed
from spo_tui.domain.vocab import OversightOutcome
from spo_tui.services import registrations
from spo_tui.services.base import ActionResult, audit, closing
from spo_tui.services.context import LONDON, Context
from spo_tui.services.intake import require_reason
from spo_tui.store import queries, writes

UNDOABLE = (
    "confirm_entry",
    "correct_entry",
    "record_oversight",
    "book_protected_hour",
    "request_more_information",
    "escalate_sbar",
    "countersign",
    "gatekeep",
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
    "route_to_peer",
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
    "gatekeep": "the gatekeeping verdict",
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
    "route_to_peer": "sending the PSR to a peer",
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
        registrations.undo_advance(ctx, new.get("flag_review_moved"))
        for reopened in new.get("also_closed", []):
            writes.update_item(
                ctx.db, reopened, {"status": "open", "closed_at": None, "closed_note": None, "updated_at": ctx.now_iso}
            )
        if item is not None:
            assert entity_id is not None  # the item was found by it
            writes.update_item(ctx.db, entity_id, {**old.get("item", {}), "updated_at": ctx.now_iso})
            writes.update_detail(ctx.db, item["kind"], entity_id, old.get("detail", {}))
            if action in ("countersign", "gatekeep"):
                state = new["detail"]["state"]
                ctx.db.execute(
                    "INSERT INTO countersign_history(item_id, old_state, new_state, verdict, by_id, at) VALUES (?, ?, ?, ?, ?, ?)",
                    [entity_id, state, old["detail"]["state"], "undone", ctx.decider["id"], ctx.now_iso],
                )
        undo_id = audit(
            ctx, "undo", "audit_log", str(audit_id), new={"undid": action, "item": entity_id, "reason": reason}
        )
    return ActionResult(f"Undone: {action.replace('_', ' ')}", item_id=entity_id if item else None, audit_id=undo_id)
