"""Checking that the oversight record has not been altered behind the app's back."""

from __future__ import annotations

from sqlite_utils import Database

from spo_tui.domain.chain import ChainProblem, verify
from spo_tui.store import queries


def verify_chain(db: Database) -> ChainProblem | None:
    """Recompute the chain over every oversight entry; the first entry altered, removed or inserted
    outside the app, or None when the record is intact."""
    return verify(queries.chain_links(db), queries.unlinked_oversight(db))
