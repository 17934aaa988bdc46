"""Encrypting a store, as a user action: who may, and the audit row that says it was done."""

from __future__ import annotations

from spo_tui.domain.errors import NotAllowed
from spo_tui.domain.vocab import Role
from spo_tui.services.context import Context
from spo_tui.store import writes


def may_encrypt(ctx: Context) -> None:
    """Only an SPO encrypts a store that has a team in it: everyone else using the file then needs the
    recovery passphrase (``spo-tui unlock``) on their own login."""
    if ctx.actor["role"] != Role.SPO.value:
        raise NotAllowed(
            f"only an SPO encrypts the store; {ctx.actor['name']} is {ctx.actor['role']}: nothing was changed"
        )


def record_encryption(ctx: Context) -> None:
    with ctx.db.atomic():
        writes.audit(
            ctx.db, at=ctx.now_iso, actor_id=ctx.actor["id"], action="encrypt_store", entity="store", entity_id=None
        )
