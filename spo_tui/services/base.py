"""The one way a service changes an item: validate first, then one transaction with its audit row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from spo_tui.domain.errors import NotAllowed
from spo_tui.services.context import Context
from spo_tui.store import queries, writes


@dataclass(frozen=True)
class ActionResult:
    """What a service did: a message for the user and the audit row that can undo it."""

    message: str
    item_id: str | None = None
    audit_id: int | None = None
    oversight_id: str | None = None
    created_ids: tuple[str, ...] = field(default=())


def audit(ctx: Context, action: str, entity: str, entity_id: str | None, *, old: Any = None, new: Any = None) -> int:
    """Append the acting user's audit row (who, on whose behalf, now) for ``action`` on ``entity``
    and return its id. ``old`` and ``new`` are keyword-only, so no call can swap them. Call inside
    atomic(), in the transaction that makes the change."""
    return writes.audit(
        ctx.db,
        at=ctx.now_iso,
        actor_id=ctx.actor["id"],
        on_behalf_of=ctx.on_behalf_of,
        action=action,
        entity=entity,
        entity_id=entity_id,
        old=old,
        new=new,
    )


def load_open_item(ctx: Context, item_id: str, kind: str | tuple[str, ...] | None = None) -> dict[str, Any]:
    """The item, refusing one that is closed or of the wrong kind."""
    item = queries.get_item(ctx.db, item_id)
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds and item["kind"] not in kinds:
        raise NotAllowed(
            f"this is a {item['kind'].replace('_', ' ')}, not a {' or '.join(k.replace('_', ' ') for k in kinds)}"
        )
    if item["status"] == "closed":
        raise NotAllowed(f"'{item['title']}' is already closed")
    return item


def change_item(
    ctx: Context,
    action: str,
    item: dict[str, Any],
    *,
    item_changes: dict[str, Any] | None = None,
    detail_changes: dict[str, Any] | None = None,
    extra_new: dict[str, Any] | None = None,
) -> int:
    """Apply changes to an item and its detail row and audit them old → new. Call inside atomic()."""
    item_changes = dict(item_changes or {})
    detail_changes = dict(detail_changes or {})
    if item_changes:
        item_changes["updated_at"] = ctx.now_iso
    old = {
        "item": {k: item.get(k) for k in item_changes},
        "detail": {k: item["detail"].get(k) for k in detail_changes},
    }
    new = {"item": item_changes, "detail": detail_changes, **(extra_new or {})}
    writes.update_item(ctx.db, item["id"], item_changes)
    writes.update_detail(ctx.db, item["kind"], item["id"], detail_changes)
    return audit(ctx, action, "item", item["id"], old=old, new=new)


def closing(ctx: Context, note: str) -> dict[str, Any]:
    """The item fields that close it now with ``note``."""
    return {"status": "closed", "closed_at": ctx.now_iso, "closed_note": note}


def waiting(ctx: Context, on: str, until: date | None = None) -> dict[str, Any]:
    """The item fields that put it in the Waiting view: on whom, since now, back on ``until``."""
    return {
        "status": "waiting",
        "waiting_on": on,
        "waiting_since": ctx.now_iso,
        "waiting_until": until.isoformat() if until else None,
    }


#: The item fields that take an item out of the Waiting view, back into the queue.
BACK_IN_QUEUE = {"status": "open", "waiting_on": None, "waiting_since": None, "waiting_until": None}
