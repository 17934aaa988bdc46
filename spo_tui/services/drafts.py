"""Half-typed forms, kept in the store so closing the app loses nothing."""

from __future__ import annotations

import json
from typing import Any

from spo_tui.services.context import Context
from spo_tui.store import queries, writes


def save_draft(ctx: Context, key: str, body: dict[str, Any]) -> None:
    """Keep the form's current values under ``key`` (e.g. ``oversight:<item id>``); not on a read-only store."""
    if getattr(ctx.db, "read_only", False):
        return
    writes.save_draft(ctx.db, key, body, ctx.now_iso)


def load_draft(ctx: Context, key: str) -> dict[str, Any] | None:
    """The values kept under ``key``, or None."""
    row = queries.get_draft(ctx.db, key)
    return json.loads(row["body"]) if row else None


def discard_draft(ctx: Context, key: str) -> None:
    """Forget the draft (after the form is saved, or the user chose to discard it)."""
    writes.delete_draft(ctx.db, key)
