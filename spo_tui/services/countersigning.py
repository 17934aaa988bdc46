"""Countersigning: the SPO's verdict on a PSR, OASys or other work put to them, work returned for
rework coming back when resubmitted, and returned work brought back when its day comes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from spo_tui.domain.dates import is_working_day
from spo_tui.domain.errors import NotAllowed
from spo_tui.domain.vocab import (
    COUNTERSIGN_TRANSITIONS,
    CountersignKind,
    CountersignState,
    OversightOutcome,
    OversightType,
)
from spo_tui.services.base import BACK_IN_QUEUE, ActionResult, change_item, closing, load_open_item, waiting
from spo_tui.services.context import Context
from spo_tui.services.intake import optional_text, require_reason
from spo_tui.services.oversight import write_oversight
from spo_tui.store import queries


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
            item_changes=dict(BACK_IN_QUEUE),
            detail_changes={"state": CountersignState.AWAITING_COUNTERSIGN.value},
            extra_new={"note": note},
        )
    return ActionResult(
        f"Resubmitted: {item['title']} is back in the countersigning queue", item_id=item_id, audit_id=audit_id
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
        entry_id, _ = write_oversight(
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
            changes: dict[str, Any] = dict(BACK_IN_QUEUE) if item["status"] == "waiting" else {}
        elif new_state == CountersignState.REJECTED:
            author = queries.get_staff(ctx.db, item["detail"]["author_id"])["name"]
            changes = waiting(ctx, author, _back_on(ctx, item))
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
                item_changes=dict(BACK_IN_QUEUE),
                extra_new={"note": f"not resubmitted by {date.fromisoformat(item['waiting_until']):%d/%m/%Y}"},
            )
    return len(rows)
