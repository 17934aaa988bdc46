"""Writes: the INSERTs and UPDATEs the services compose inside one transaction.

None of these opens a transaction of its own: the calling service wraps them in ``db.atomic()``
together with the audit row, so an action and its audit stand or fall together.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlite_utils import Database

from spo_tui.domain import chain

from spo_tui.store.queries import detail_table


def new_id() -> str:
    """A new identifier that stays unique across copies of the database."""
    return str(uuid.uuid4())


RULE_NAMESPACE = uuid.UUID("6f1f3a5e-52a4-4c1e-9d55-2b3f7a8a0c11")


def rule_item_id(rule_key: str) -> str:
    """The id of rule-made work: derived from its rule key, so every copy of the database that
    makes the same touch point gives it the same id (and the same order in the queue)."""
    return str(uuid.uuid5(RULE_NAMESPACE, rule_key))


def insert_item(db: Database, item: dict[str, Any], detail: dict[str, Any]) -> str:
    """Insert an item row and its kind's detail row; return the item id."""
    item_id = item.setdefault("id", rule_item_id(item["rule_key"]) if item.get("rule_key") else new_id())
    item.setdefault("updated_at", item["created_at"])
    db.table("items").insert(item)
    db.table(detail_table(item["kind"])).insert({"item_id": item_id, **detail})
    return item_id


def update_item(db: Database, item_id: str, changes: dict[str, Any]) -> None:
    if changes:
        db.table("items").update(item_id, changes)


def update_detail(db: Database, kind: str, item_id: str, changes: dict[str, Any]) -> None:
    if changes:
        db.table(detail_table(kind)).update(item_id, changes)


def insert_oversight(db: Database, entry: dict[str, Any]) -> str:
    """Insert an oversight entry and its link in the tamper-evident chain. Call inside atomic()."""
    entry_id = entry.setdefault("id", new_id())
    db.table("oversight_entries").insert(entry)
    append_to_chain(db, [entry])
    return entry_id


def append_to_chain(db: Database, entries: list[dict[str, Any]]) -> None:
    """Add chain links for ``entries`` (in the order given) after the current last link."""
    last = db.execute("SELECT hash FROM oversight_chain ORDER BY position DESC LIMIT 1").fetchone()
    previous = last[0] if last else chain.GENESIS
    links = []
    for entry in entries:
        previous = chain.entry_hash(previous, entry)
        links.append((entry["id"], previous))
    db.conn.executemany("INSERT INTO oversight_chain(oversight_id, hash) VALUES (?, ?)", links)


def audit(
    db: Database,
    *,
    at: str,
    actor_id: str | None,
    action: str,
    entity: str,
    entity_id: str | None,
    old: Any = None,
    new: Any = None,
    on_behalf_of: str | None = None,
) -> int:
    """Append one row to the audit log (old and new as JSON) and return its id.

    The row carries the operating-system user the acting context put on ``db`` (``db.os_user``, set
    by ``spo_tui.services.context.Context``), as well as the staff member."""
    cursor = db.execute(
        """INSERT INTO audit_log(at, actor_id, on_behalf_of, action, entity, entity_id, old, new, os_user)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            at,
            actor_id,
            on_behalf_of,
            action,
            entity,
            entity_id,
            None if old is None else json.dumps(old, sort_keys=True, default=str),
            None if new is None else json.dumps(new, sort_keys=True, default=str),
            getattr(db, "os_user", None),
        ],
    )
    return cursor.lastrowid


def insert_ndelius_entries(db: Database, oversight_ids: list[str], by: str | None, at: str) -> None:
    """Record, as new rows, that these oversight entries are now in nDelius. A second mark of the
    same entry fails on the primary key, so two CASPOs cannot both mark it."""
    db.conn.executemany(
        "INSERT INTO ndelius_entries(oversight_id, entered_by, entered_at) VALUES (?, ?, ?)",
        [(oversight_id, by, at) for oversight_id in oversight_ids],
    )


def save_draft(db: Database, key: str, body: dict[str, Any], at: str) -> None:
    db.execute(
        "INSERT INTO drafts(key, body, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        [key, json.dumps(body), at],
    )


def delete_draft(db: Database, key: str) -> None:
    db.execute("DELETE FROM drafts WHERE key = ?", [key])


def insert_rule_items(db: Database, work: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Insert many items of rule-made work, each ``(item, detail)`` as ``insert_item`` takes them,
    with one ``executemany`` per table: a refresh's batch of a thousand costs milliseconds, not
    the quarter-second that a thousand single inserts take. Items of one kind must have the same keys.
    """
    by_kind: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for item, detail in work:
        item.setdefault("id", rule_item_id(item["rule_key"]))
        item.setdefault("updated_at", item["created_at"])
        by_kind.setdefault(item["kind"], []).append((item, detail))
    for kind, rows in by_kind.items():
        for table, records in (("items", [i for i, _d in rows]), (detail_table(kind), [{"item_id": i["id"], **d} for i, d in rows])):
            columns = list(records[0])
            db.conn.executemany(
                f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})", records
            )
