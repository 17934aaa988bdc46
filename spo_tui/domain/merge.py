"""How replicas agree: the rules that turn a set of changes into the same rows on every machine.

Plain Python, no I/O. The store feeds in every change it holds for one **entity** and writes back
the rows this returns. Because the answer depends only on the set of changes (never on the order
they arrived in), replicas that hold the same changes hold the same rows, and the same queue.

- **Evidence is a union.** Oversight entries, their snapshots, audit rows, team notes, nDelius
  batches and marks, and countersigning history are only ever inserted: each change adds its row
  once (its id makes a second copy a no-op), and two replicas' entries never conflict.
- **State is folded.** Everything else (items and their details, cases, staff, actions...) is the
  result of applying its changes in hybrid-logical-clock order (``spo_tui.domain.hlc``), a whole
  transaction at a time, later columns over earlier ones. An item and its kind's detail row are one
  entity, so a decision's change to both stands or falls together.
- **Concurrent changes to the same entity** (made on two machines, neither having seen the other:
  the later one's ``seen`` is below the earlier one's stamp) are settled by rank before time:
  1. a change that closes the item beats one that does not (a closing decision beats a snooze);
  2. otherwise an SPO's (or PDU head's) change beats a CASPO's, and a CASPO's a practitioner's;
  3. otherwise the later stamp wins.
  A change made after seeing another always applies over it: deciding, then reopening with undo,
  reopens.
- Two inserts of the same row (work the rules made on two replicas, with the same derived id) keep
  the first by stamp; the later insert is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Tables whose rows are only ever inserted: evidence, merged as a union.
UNION_TABLES = (
    "oversight_entries",
    "oversight_snapshots",
    "oversight_levels",
    "audit_log",
    "team_notes",
    "ndelius_batches",
    "ndelius_marks",
    "countersign_history",
    "rcat_audits",
    "aqa_ratings",
)

#: Tables whose rows change, folded per entity. Order matters when rows are written: parents first.
STATE_TABLES = (
    "staff",
    "teams",
    "absences",
    "cases",
    "case_flags",
    "transfers",
    "items",
    "sbars",
    "touch_points",
    "countersigns",
    "alerts",
    "tasks",
    "supervision",
    "actions",
    "confirms",
)

#: Tables keyed by an item id: the item's own detail rows, folded with the item as one entity.
ITEM_DETAIL_TABLES = frozenset(
    {"sbars", "touch_points", "countersigns", "alerts", "tasks", "supervision", "actions", "confirms"}
)

#: Columns worked out on each replica from the others, never sent (the stored urgency score).
DERIVED_COLUMNS = {"items": frozenset({"urgency"})}

#: Rank of a role when two concurrent changes meet (higher wins).
ROLE_RANK = {"SPO": 3, "PDU head": 3, "CASPO": 2}


def entity_of(table: str, pk: str) -> str:
    """The entity a row belongs to: its item for an item and its details, else the row itself."""
    if table == "items" or table in ITEM_DETAIL_TABLES:
        return f"item:{pk}"
    return f"{table}:{pk}"


@dataclass(frozen=True)
class Change:
    """One row's change as the fold needs it. ``order`` sorts changes: stamp, then place in its device's chain."""

    id: str
    hlc: str
    device_seq: int
    tbl: str
    pk: str
    op: str
    data: dict[str, Any]
    tx: str
    seen: str
    role: str = ""

    @property
    def order(self) -> tuple[str, int]:
        return (self.hlc, self.device_seq)


@dataclass
class _Tx:
    hlc: str
    seen: str
    changes: list[Change] = field(default_factory=list)

    @property
    def rank(self) -> tuple[int, int]:
        closes = any(c.tbl == "items" and c.data.get("status") == "closed" for c in self.changes if c.op == "update")
        role = max((ROLE_RANK.get(c.role, 1) for c in self.changes), default=1)
        return (1 if closes else 0, role)

    @property
    def changes_state(self) -> bool:
        return any(c.op != "insert" for c in self.changes)


def fold(changes: Iterable[Change]) -> dict[tuple[str, str], dict[str, Any] | None]:
    """The rows of one entity after all its changes: ``(table, pk) -> row`` (None: deleted)."""
    txs: dict[str, _Tx] = {}
    for change in sorted(changes, key=lambda c: c.order):
        tx = txs.setdefault(change.tx, _Tx(change.hlc, change.seen))
        tx.changes.append(change)
        tx.seen = max(tx.seen, change.seen)
    rows: dict[tuple[str, str], dict[str, Any] | None] = {}
    winner: _Tx | None = None
    for tx in sorted(txs.values(), key=lambda t: t.changes[0].order):
        loses = (
            tx.changes_state
            and winner is not None
            and tx.seen < winner.hlc  # made without seeing the winner: the two are concurrent
            and winner.rank > tx.rank
        )
        for change in tx.changes:
            key = (change.tbl, change.pk)
            if change.op == "insert":
                if rows.get(key) is None:  # the first insert by stamp (or one after a delete) makes the row
                    rows[key] = dict(change.data)
            elif loses:
                continue
            elif change.op == "update":
                row = rows.get(key)
                if row is not None:
                    row.update(change.data)
            elif change.op == "delete":
                rows[key] = None
        if tx.changes_state and not loses:
            winner = tx
    return rows


def changed_columns(table: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The columns an update changed, without the derived ones."""
    derived = DERIVED_COLUMNS.get(table, frozenset())
    return {k: v for k, v in new.items() if k not in derived and old.get(k) != v}


def without_derived(table: str, row: dict[str, Any]) -> dict[str, Any]:
    derived = DERIVED_COLUMNS.get(table, frozenset())
    return {k: v for k, v in row.items() if k not in derived}


def write_order(keys: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Rows in the order they can be written: parent tables first (an item before its details)."""
    place = {t: n for n, t in enumerate(STATE_TABLES)}
    return sorted(keys, key=lambda k: place.get(k[0], len(place)))
