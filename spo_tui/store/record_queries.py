"""Reads for the signed record (``spo_tui/domain/chain.py``): the chain's links, the content each
link signs, and what is missing from it.

Re-exported from ``spo_tui.store.queries``, so ``queries.chain_head`` and the rest still work.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlite_utils import Database

from spo_tui.store.rows import all_rows, one_row

#: The tables whose rows are the content of links: (table, alias in the chain query, key column).
_RECORD_TABLES = (
    ("record_store", "s", "store_id"),
    ("chain_keys", "k", "key_id"),
    ("oversight_entries", "o", "id"),
    ("oversight_snapshots", "p", "oversight_id"),
    ("ndelius_batches", "b", "id"),
    ("audit_log", "a", "id"),
    ("team_notes", "t", "id"),
)
_KIND_TABLE = {
    "store": "record_store",
    "key": "chain_keys",
    "oversight": "oversight_entries",
    "ndelius": "ndelius_batches",
    "audit": "audit_log",
    "team_note": "team_notes",
}
_KEY_COLUMN = {table: column for table, _, column in _RECORD_TABLES}
#: The entries a batch marks, as a JSON array in id order (the same text when written and checked).
_BATCH_MARKS = "(SELECT json_group_array(oversight_id) FROM (SELECT oversight_id FROM ndelius_marks WHERE batch_id = {ref} ORDER BY oversight_id))"


def table_exists(db: Database, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def _columns(db: Database, table: str) -> list[str]:
    """Every column of ``table`` by name, as it is now (so a column added later is hashed too)."""
    return [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]


def _without_nulls(names: list[str], values: Iterable[Any]) -> dict[str, Any]:
    return {n: v for n, v in zip(names, values, strict=False) if v is not None}


def chain_head(db: Database) -> tuple[int, str]:
    """The last link's position and hash: (0, the genesis hash) for an empty chain."""
    from spo_tui.domain.chain import GENESIS

    row = db.execute("SELECT position, hash FROM record_chain ORDER BY position DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def chain_head_link(db: Database) -> dict[str, Any] | None:
    """The last link (position, kind, ref, key id, hash, signature) and the store id, or None."""
    head = one_row(
        db, "SELECT position, kind, ref, key_id, hash, signature FROM record_chain ORDER BY position DESC LIMIT 1"
    )
    if head is not None:
        head["store_id"] = store_id(db)
    return head


def link_at(db: Database, position: int) -> dict[str, Any] | None:
    return one_row(
        db, "SELECT position, kind, ref, key_id, hash, signature FROM record_chain WHERE position = ?", [position]
    )


def links_between(db: Database, first: int, last: int) -> Iterator[dict[str, Any]]:
    """The links from position ``first`` to ``last``, in order, streamed (without their content)."""
    cursor = db.execute(
        "SELECT position, kind, ref, key_id, hash, signature FROM record_chain WHERE position BETWEEN ? AND ? ORDER BY position",
        [first, last],
    )
    names = [c[0] for c in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=False))


def store_id(db: Database) -> str | None:
    """The store's id as the chain's first link names it (None before migration 0008)."""
    row = db.execute("SELECT ref FROM record_chain WHERE position = 1 AND kind = 'store'").fetchone()
    return row[0] if row else None


def chain_has_records(db: Database) -> bool:
    """True once anything but the store's identity and keys is linked."""
    return (
        db.execute("SELECT EXISTS (SELECT 1 FROM record_chain WHERE kind NOT IN ('store', 'key'))").fetchone()[0] == 1
    )


def record_content(db: Database, kind: str, ref: str) -> dict[str, Any] | None:
    """The content a link of ``kind`` hashes for record ``ref``: every column of its rows by name,
    NULLs left out (``spo_tui.domain.chain``); None if the record is gone."""
    table = _KIND_TABLE[kind]
    cursor = db.execute(f'SELECT * FROM "{table}" WHERE "{_KEY_COLUMN[table]}" = ?', [ref])
    row = cursor.fetchone()
    if row is None:
        return None
    content: dict[str, Any] = {table: _without_nulls([c[0] for c in cursor.description], row)}
    if kind == "oversight":
        cursor = db.execute("SELECT * FROM oversight_snapshots WHERE oversight_id = ?", [ref])
        snap = cursor.fetchone()
        if snap is not None:
            content["oversight_snapshots"] = _without_nulls([c[0] for c in cursor.description], snap)
    elif kind == "ndelius":
        content["ndelius_marks"] = json.loads(db.execute(f"SELECT {_BATCH_MARKS.format(ref='?')}", [ref]).fetchone()[0])
    return content


def all_record_contents(
    db: Database, kind: str, *, legacy_order: bool = False
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every record of ``kind`` with its content, streamed in the order they are linked when a store
    is moved in (migration 0008) or a demo is made: oversight entries oldest first (in the old
    chain's order when ``legacy_order``), batches and team notes by time, audit rows by id."""
    table = _KIND_TABLE[kind]
    names = _columns(db, table)
    cols = ", ".join(f'x."{n}"' for n in names)
    if kind == "oversight":
        snap = _columns(db, "oversight_snapshots")
        order = "x.created_at, x.rowid"
        join = ""
        if legacy_order:
            join = "LEFT JOIN oversight_chain l ON l.oversight_id = x.id"
            order = "l.position IS NULL, l.position, " + order
        cursor = db.execute(
            f"""SELECT {cols}, {", ".join(f'p."{n}"' for n in snap)} FROM oversight_entries x
                LEFT JOIN oversight_snapshots p ON p.oversight_id = x.id {join} ORDER BY {order}"""
        )
        for row in cursor:
            content = {table: _without_nulls(names, row[: len(names)])}
            if row[len(names)] is not None:
                content["oversight_snapshots"] = _without_nulls(snap, row[len(names) :])
            yield kind, row[0], content
        return
    order = {"ndelius": "x.at, x.rowid", "audit": "x.id", "team_note": "x.created_at, x.rowid"}[kind]
    extra = f", {_BATCH_MARKS.format(ref='x.id')}" if kind == "ndelius" else ""
    key = names.index(_KEY_COLUMN[table])
    for row in db.execute(f"SELECT {cols}{extra} FROM {table} x ORDER BY {order}"):
        content = {table: _without_nulls(names, row[: len(names)])}
        if kind == "ndelius":
            content["ndelius_marks"] = json.loads(row[len(names)])
        yield kind, str(row[key]), content


def chain_links(db: Database) -> Iterator[Any]:
    """The chain in order, streamed, as ``spo_tui.domain.chain.Link``: each link with the current
    content of the record it names (None when the record is gone). One ordered stream per kind of
    record (each joins one table), merged by position."""
    streams = [_kind_links(db, kind) for kind in _KIND_TABLE]
    known = ", ".join(f"'{k}'" for k in _KIND_TABLE)
    streams.append(_kind_links(db, None, f"c.kind NOT IN ({known})"))
    return heapq.merge(*streams, key=lambda link: link.position)


def _kind_links(db: Database, kind: str | None, where: str = "") -> Iterator[Any]:
    from spo_tui.domain.chain import Link

    head = "SELECT c.position, c.kind, c.ref, c.key_id, c.hash, c.signature"
    if kind is None:
        for row in db.execute(f"{head} FROM record_chain c WHERE {where} ORDER BY c.position"):
            yield Link(row[0], row[1], row[2], row[3], row[4], row[5], None)
        return
    table = _KIND_TABLE[kind]
    names = _columns(db, table)
    select = [head] + [f'x."{n}"' for n in names]
    joins = f'LEFT JOIN {table} x ON x."{_KEY_COLUMN[table]}" = c.ref'
    snap: list[str] = []
    if kind == "oversight":
        snap = _columns(db, "oversight_snapshots")
        select += [f'p."{n}"' for n in snap]
        joins += " LEFT JOIN oversight_snapshots p ON p.oversight_id = c.ref"
    if kind == "ndelius":
        select.append(_BATCH_MARKS.format(ref="c.ref"))
    key_at = 6 + names.index(_KEY_COLUMN[table])
    end = 6 + len(names)
    snap_key = end + snap.index("oversight_id") if snap else None
    # "+c.kind": walk the chain in position order (its rowid) rather than sort what the (kind, ref) index finds
    cursor = db.execute(
        f"{', '.join(select)} FROM record_chain c {joins} WHERE +c.kind = ? ORDER BY c.position", [kind]
    )
    for row in cursor:
        if row[key_at] is None:
            yield Link(row[0], row[1], row[2], row[3], row[4], row[5], None)
            continue
        content = {table: {n: v for n, v in zip(names, row[6:end], strict=False) if v is not None}}
        if snap_key is not None and row[snap_key] is not None:
            content["oversight_snapshots"] = {n: v for n, v in zip(snap, row[end:], strict=False) if v is not None}
        elif kind == "ndelius":
            content["ndelius_marks"] = json.loads(row[end])
        yield Link(row[0], row[1], row[2], row[3], row[4], row[5], content)


def unlinked_records(db: Database, limit: int = 3) -> list[tuple[str, str, dict[str, Any] | None, int]]:
    """Records no link names (written behind the app's back): for each kind that has any, the
    first few (oldest first) as (kind, ref, content, how many of that kind in all)."""
    found = []
    checks = {
        "store": ("record_store", "x.store_id", "x.created_at"),
        "key": ("chain_keys", "x.key_id", "x.created_at"),
        "oversight": ("oversight_entries", "x.id", "x.created_at, x.rowid"),
        "ndelius": ("ndelius_batches", "x.id", "x.at, x.rowid"),
        "audit": ("audit_log", "CAST(x.id AS TEXT)", "x.id"),
        "team_note": ("team_notes", "x.id", "x.created_at, x.rowid"),
    }
    for kind, (table, ref, order) in checks.items():
        where = f"NOT EXISTS (SELECT 1 FROM record_chain c WHERE c.kind = '{kind}' AND c.ref = {ref})"
        total = db.execute(f"SELECT COUNT(*) FROM {table} x WHERE {where}").fetchone()[0]
        if total:
            for (first,) in db.execute(f"SELECT {ref} FROM {table} x WHERE {where} ORDER BY {order} LIMIT ?", [limit]):
                found.append((kind, first, record_content(db, kind, first), total))
    return found


def orphan_marks(db: Database) -> list[str]:
    """Batches that nDelius marks name but no link does (marks added behind the app's back)."""
    return [
        r[0]
        for r in db.execute(
            """SELECT DISTINCT m.batch_id FROM ndelius_marks m
           WHERE NOT EXISTS (SELECT 1 FROM record_chain c WHERE c.kind = 'ndelius' AND c.ref = m.batch_id) LIMIT 3"""
        )
    ]


def triggers(db: Database) -> dict[str, tuple[str, str | None]]:
    """Every trigger in the database: name -> (the table it is on, its SQL as stored)."""
    return {
        r[0]: (r[1], r[2]) for r in db.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
    }


def record_store_rows(db: Database) -> list[dict[str, Any]]:
    return all_rows(db, "SELECT * FROM record_store")


def oversight_people(db: Database, oversight_id: str | None) -> list[dict[str, Any]]:
    """Who decided and who entered an entry (or every entry without a snapshot, if ``oversight_id``
    is None): names and roles from the staff rows as they are now."""
    where = (
        "o.id = ?" if oversight_id else "NOT EXISTS (SELECT 1 FROM oversight_snapshots p WHERE p.oversight_id = o.id)"
    )
    return all_rows(
        db,
        f"""SELECT o.id, COALESCE(d.name, '(unknown staff id ' || o.decided_by || ')') AS decided_by_name,
                   COALESCE(d.role, '') AS decided_by_role,
                   COALESCE(e.name, '(unknown staff id ' || o.entered_by || ')') AS entered_by_name,
                   COALESCE(e.role, '') AS entered_by_role
            FROM oversight_entries o LEFT JOIN staff d ON d.id = o.decided_by LEFT JOIN staff e ON e.id = o.entered_by
            WHERE {where} ORDER BY o.created_at, o.rowid""",
        [oversight_id] if oversight_id else [],
    )


#: Snapshot every entry without one (``spo_tui.store.writes.snapshot_all_oversight``): the same
#: names, roles and actions as :func:`oversight_people` and :func:`agreed_actions`, actions as a JSON
#: array of {"description", "due", "owner"} in the order agreed.
SNAPSHOT_ALL = """
INSERT INTO oversight_snapshots(oversight_id, decided_by_name, decided_by_role, entered_by_name, entered_by_role, actions, taken)
SELECT o.id, COALESCE(d.name, '(unknown staff id ' || o.decided_by || ')'), COALESCE(d.role, ''),
       COALESCE(e.name, '(unknown staff id ' || o.entered_by || ')'), COALESCE(e.role, ''),
       COALESCE((SELECT json_group_array(json_object('description', x.description, 'due', x.due, 'owner', x.owner))
                 FROM (SELECT a.description, i.due, COALESCE(s.name, '(unknown staff id ' || a.owner_id || ')') AS owner
                       FROM actions a JOIN items i ON i.id = a.item_id LEFT JOIN staff s ON s.id = a.owner_id
                       WHERE a.oversight_id = o.id ORDER BY i.rowid) x), '[]'),
       ?
FROM oversight_entries o LEFT JOIN staff d ON d.id = o.decided_by LEFT JOIN staff e ON e.id = o.entered_by
WHERE NOT EXISTS (SELECT 1 FROM oversight_snapshots p WHERE p.oversight_id = o.id)
ORDER BY o.created_at, o.rowid
"""


def agreed_actions(db: Database, oversight_id: str | None) -> list[dict[str, Any]]:
    """The actions agreed in an entry (or in every entry, if None), in the order agreed:
    oversight_id, description, owner (name) and due (ISO date), from the rows as they are now."""
    where = "a.oversight_id = ?" if oversight_id else "a.oversight_id IS NOT NULL"
    return all_rows(
        db,
        f"""SELECT a.oversight_id, a.description, COALESCE(s.name, '(unknown staff id ' || a.owner_id || ')') AS owner, i.due
            FROM actions a JOIN items i ON i.id = a.item_id LEFT JOIN staff s ON s.id = a.owner_id
            WHERE {where} ORDER BY i.rowid""",
        [oversight_id] if oversight_id else [],
    )


def legacy_chain_links(db: Database) -> Iterator[tuple[int, str, str, dict[str, Any] | None]]:
    """The old chain (migrations 0005 to 0007) in order: (position, oversight id, hash, entry or None)."""
    from spo_tui.domain.chain import LEGACY_FIELDS

    cols = ", ".join(f"o.{f}" for f in LEGACY_FIELDS)
    cursor = db.execute(
        f"""SELECT c.position, c.oversight_id, c.hash, {cols} FROM oversight_chain c
            LEFT JOIN oversight_entries o ON o.id = c.oversight_id ORDER BY c.position"""
    )
    for row in cursor:
        yield row[0], row[1], row[2], (dict(zip(LEGACY_FIELDS, row[3:], strict=False)) if row[3] is not None else None)


def legacy_unlinked_count(db: Database) -> int:
    return db.execute(
        "SELECT COUNT(*) FROM oversight_entries o WHERE NOT EXISTS (SELECT 1 FROM oversight_chain c WHERE c.oversight_id = o.id)"
    ).fetchone()[0]
