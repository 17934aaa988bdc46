"""The tamper-evident chain over oversight entries: each link hashes an entry's content with the
previous link's hash, so altering, removing or inserting an entry behind the app's back breaks the
chain from that point. Plain Python, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: The fields of an oversight entry that the hash covers: everything that makes it evidence.
HASHED_FIELDS = (
    "id", "crn", "item_id", "type", "outcome", "discussed", "decision", "sensitive",
    "decided_by", "entered_by", "created_at", "minutes", "supersedes_id",
)  # fmt: skip
GENESIS = "0" * 64


def entry_hash(previous: str, entry: dict[str, Any]) -> str:
    """SHA-256 of the previous link's hash and the entry's canonical JSON."""
    content = json.dumps({k: entry.get(k) for k in HASHED_FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    """The first place the chain does not hold: what happened, and to which entry."""

    kind: str  # "altered", "removed", "inserted" or "link altered"
    oversight_id: str
    position: int
    message: str


def verify(
    links: Iterable[tuple[int, str, str, dict[str, Any] | None]], unlinked: list[dict[str, Any]]
) -> ChainProblem | None:
    """Walk the chain: ``links`` are (position, oversight id, stored hash, the entry or None if it is
    gone) in order, streamed; ``unlinked`` the entries no link names (inserted behind the app's back).

    Returns the first problem, or None when every entry is in the chain and every hash holds.
    """
    previous = GENESIS
    expected = 1
    for position, oversight_id, stored, entry in links:
        if position != expected:
            return ChainProblem("removed", oversight_id, expected,
                                f"link {expected}, before entry {oversight_id}, has been removed with its entry")  # fmt: skip
        expected = position + 1
        if entry is None:
            return ChainProblem("removed", oversight_id, position, f"entry {oversight_id} (link {position}) has been removed")
        if entry_hash(previous, entry) != stored:
            return ChainProblem(
                "altered", oversight_id, position,
                f"entry {oversight_id} (link {position}, made {entry.get('created_at')}) has been altered",
            )  # fmt: skip
        previous = stored
    if unlinked:
        first = min(unlinked, key=lambda e: (e.get("created_at") or "", e["id"]))
        return ChainProblem("inserted", first["id"], expected,
                            f"entry {first['id']} (made {first.get('created_at')}) was inserted outside the app")  # fmt: skip
    return None
