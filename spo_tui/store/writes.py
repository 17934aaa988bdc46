"""Writes: the INSERTs and UPDATEs the services compose inside one transaction.

None of these opens a transaction of its own: the calling service wraps them in ``db.atomic()``
together with the audit row, so an action and its audit stand or fall together.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import uuid
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from spo_tui.domain import chain
from spo_tui.domain.dates import to_iso, utc_now
from spo_tui.store import queries, signing
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
    """Insert an oversight entry; return its id. Call inside atomic(), insert its agreed actions,
    then :func:`seal_oversight`, which takes its snapshot and links it into the signed record."""
    entry_id = entry.setdefault("id", new_id())
    db.table("oversight_entries").insert(entry)
    return entry_id


def seal_oversight(db: Database, oversight_id: str) -> None:
    """Snapshot what the entry records beyond its own row (names and roles of who decided and who
    entered it; the agreed actions as agreed) and link the entry into the signed record."""
    db.conn.execute(_SNAPSHOT_INSERT, _snapshot_row(db, oversight_id, "at the time"))
    record_level(db, oversight_id)
    link_record(db, "oversight", oversight_id)


_LEVEL_FACTS = """SELECT o.id, o.type, o.outcome, i.kind, tp.reason, o.created_at FROM oversight_entries o
    LEFT JOIN items i ON i.id = o.item_id LEFT JOIN touch_points tp ON tp.item_id = o.item_id"""


def record_level(db: Database, oversight_id: str, level: int | None = None) -> None:
    """Write the entry's oversight level beside it [001] (``oversight_levels``, see migration 0016):
    ``level`` when the SPO chose one, else the level derived from what the entry was made on. An
    entry keeps the first level written for it."""
    from spo_tui.domain.levels import derive_level

    row = db.execute(_LEVEL_FACTS + " WHERE o.id = ?", [oversight_id]).fetchone()
    if row is None:
        return
    value = int(level) if level is not None else int(derive_level(row[1], row[2], row[3], row[4]))
    db.execute(
        "INSERT OR IGNORE INTO oversight_levels(oversight_id, level, chosen, set_at) VALUES (?, ?, ?, ?)",
        [oversight_id, value, int(level is not None), row[5]],
    )


def derive_missing_levels(db: Database, set_at: str | None = None) -> int:
    """Give every entry without a level its derived one (the demo; a store migrated by 0016);
    ``set_at`` None: the entry's own time. How many were written."""
    from spo_tui.domain.levels import derive_level

    rows = db.execute(
        _LEVEL_FACTS + " WHERE NOT EXISTS (SELECT 1 FROM oversight_levels l WHERE l.oversight_id = o.id)"
    ).fetchall()
    db.conn.executemany(
        "INSERT INTO oversight_levels(oversight_id, level, chosen, set_at) VALUES (?, ?, 0, ?)",
        [(r[0], int(derive_level(r[1], r[2], r[3], r[4])), set_at or r[5]) for r in rows],
    )
    return len(rows)


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
    """Append one row to the audit log (old and new as JSON), link it into the signed record, and
    return its id.

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
    audit_id = cursor.lastrowid
    assert audit_id is not None  # set by the INSERT just made
    link_record(db, "audit", str(audit_id))
    return audit_id


def insert_ndelius_batch(db: Database, oversight_ids: list[str], *, by: str | None, at: str, note: str = "") -> str:
    """Record, as new rows, that these oversight entries are now in nDelius: one batch (who, when,
    how many) and a mark per entry, linked into the signed record. Call inside atomic(), having
    checked under the write lock that none is marked already. Returns the batch id."""
    batch_id = new_id()
    db.execute(
        "INSERT INTO ndelius_batches(id, action, undoes, by_id, at, entries, note) VALUES (?, 'mark', NULL, ?, ?, ?, ?)",
        [batch_id, by, at, len(oversight_ids), note],
    )
    db.conn.executemany(
        "INSERT INTO ndelius_marks(batch_id, oversight_id) VALUES (?, ?)", [(batch_id, i) for i in oversight_ids]
    )
    link_record(db, "ndelius", batch_id)
    return batch_id


def insert_ndelius_unmark(db: Database, batch: dict[str, Any], *, by: str | None, at: str, note: str = "") -> str:
    """Record, as a new row, that a batch of marks is taken back (its entries are pending again),
    linked into the signed record. Returns the new record's id."""
    unmark_id = new_id()
    db.execute(
        "INSERT INTO ndelius_batches(id, action, undoes, by_id, at, entries, note) VALUES (?, 'unmark', ?, ?, ?, ?, ?)",
        [unmark_id, batch["id"], by, at, batch["entries"], note],
    )
    link_record(db, "ndelius", unmark_id)
    return unmark_id


def link_team_note(db: Database, note_id: str) -> None:
    """Link a team note just written into the signed record."""
    link_record(db, "team_note", note_id)


# --- The signed record (spo_tui/domain/chain.py) --------------------------------------------------


def link_record(db: Database, kind: str, ref: str) -> None:
    """Append a link, signed with this user's device key, for one record just written. Call in the
    record's own transaction, so that the record and its link are saved together or not at all.

    A store not yet brought up to migration 0008 has no signed record: nothing is linked then, and
    the migration links every record it finds."""
    if not _has_record(db):
        return
    key = signing.device_key()
    _register_key(db, key)
    _append_links(db, key, [(kind, ref, _written_content(db, kind, ref))], sign_each=True)


def link_received(db: Database, records: list[tuple[str, str]]) -> int:
    """Link records received from other devices through the hub into this store's own signed record,
    signing only the last link (this device vouches for holding them as received; each one's origin
    is proved by its own device's signed change chain, ``spo_tui.store.changes``). Returns how many."""
    if not records or not _has_record(db):
        return 0
    key = signing.device_key()
    _register_key(db, key)
    return _append_links(
        db, key, ((kind, ref, _written_content(db, kind, ref)) for kind, ref in records), sign_each=False
    )


def _written_content(db: Database, kind: str, ref: str) -> dict[str, Any]:
    """The content a link hashes for a record just written in this transaction (so never gone)."""
    content = queries.record_content(db, kind, ref)
    assert content is not None, f"{kind} {ref} was just written"
    return content


def _has_record(db: Database) -> bool:
    if getattr(db, "_has_signed_record", False):
        return True
    found = queries.table_exists(db, "record_chain")
    if found:
        with contextlib.suppress(AttributeError):  # once made, the chain table is never dropped by spo-tui
            db._has_signed_record = True  # type: ignore[attr-defined]  # a flag cached on the connection object
    return found


def _register_key(db: Database, key: signing.DeviceKey) -> bool:
    """Record this device's public key in the store (a ``key`` link) the first time it writes here."""
    if db.execute("SELECT 1 FROM chain_keys WHERE key_id = ?", [key.key_id]).fetchone():
        return False
    db.execute(
        "INSERT INTO chain_keys(key_id, public_key, label, created_at) VALUES (?, ?, ?, ?)",
        [key.key_id, key.public_key, key.label, to_iso(utc_now())],
    )
    _append_links(db, key, [("key", key.key_id, _written_content(db, "key", key.key_id))], sign_each=True)
    return True


def _append_links(
    db: Database, key: signing.DeviceKey, records: Iterable[tuple[str, str, dict[str, Any]]], *, sign_each: bool
) -> int:
    """Hash ``records`` (kind, ref, content) onto the chain in the order given, 5,000 links at a
    time; sign every link (``sign_each``) or only the last. Returns how many were linked."""
    position, previous = queries.chain_head(db)
    pending: list[list[Any]] = []
    count = 0
    for kind, ref, content in records:
        position += 1
        previous = chain.link_hash(previous, position, kind, ref, key.key_id, content)
        pending.append(
            [position, kind, ref, key.key_id, previous, key.sign(chain.signed_message(previous)) if sign_each else None]
        )
        count += 1
        if len(pending) > 5000:
            _insert_links(db, pending[:-1])
            pending = pending[-1:]
    if pending and not sign_each:
        pending[-1][5] = key.sign(chain.signed_message(pending[-1][4]))
    _insert_links(db, pending)
    return count


def _insert_links(db: Database, links: list[list[Any]]) -> None:
    db.conn.executemany(
        "INSERT INTO record_chain(position, kind, ref, key_id, hash, signature) VALUES (?, ?, ?, ?, ?, ?)", links
    )


_SNAPSHOT_INSERT = """INSERT INTO oversight_snapshots(oversight_id, decided_by_name, decided_by_role, entered_by_name,
    entered_by_role, actions, taken) VALUES (?, ?, ?, ?, ?, ?, ?)"""


def _actions_json(actions: list[dict[str, Any]]) -> str:
    return json.dumps(actions, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _agreed(action: dict[str, Any]) -> dict[str, Any]:
    return {"description": action["description"], "owner": action["owner"], "due": action["due"]}


def _snapshot_row(db: Database, oversight_id: str, taken: str) -> tuple:
    (p,) = queries.oversight_people(db, oversight_id)
    actions = [_agreed(a) for a in queries.agreed_actions(db, oversight_id)]
    return (
        oversight_id,
        p["decided_by_name"],
        p["decided_by_role"],
        p["entered_by_name"],
        p["entered_by_role"],
        _actions_json(actions),
        taken,
    )


def snapshot_all_oversight(db: Database, *, taken: str) -> None:
    """Snapshot every entry that has none, from the staff and actions rows as they are now: for
    migration 0008 and the demo (an entry saved by the app is snapshot as it is saved). One
    statement: a PDU's 150,000 entries in a fraction of a second."""
    db.execute(queries.SNAPSHOT_ALL, [taken])


def create_store(db: Database, legacy: tuple[int, str, str | None] | None = None) -> str:
    """Give the store its identity (linked first by :func:`link_all_records`), keeping what the old
    chain's own check found when the store was moved into the signed record."""
    store_id = new_id()
    count, head, problem = legacy if legacy else (None, None, None)
    db.execute(
        "INSERT INTO record_store(store_id, created_at, legacy_links, legacy_head, legacy_problem) VALUES (?, ?, ?, ?, ?)",
        [store_id, to_iso(utc_now()), count, head, problem],
    )
    return store_id


def link_all_records(db: Database, *, legacy_order: bool = False) -> int:
    """Link every record of the store, signing only the last link: the store's identity, this
    device's key, the oversight entries (in the old chain's order when an old store is moved in,
    else oldest first), the nDelius batches, the audit log and the team notes. Returns the links made.

    Only for migration 0008 and the demo's brand-new store, where nothing but the store and a key is
    linked yet (refused otherwise): anywhere else it would vouch for rows written behind the app's back.
    """
    if queries.chain_has_records(db):
        raise AssertionError("link_all_records is only for a store with no records linked yet")
    key = signing.device_key()
    records: list[Iterable[tuple[str, str, dict[str, Any]]]] = []
    if not db.execute("SELECT 1 FROM record_chain WHERE kind = 'store'").fetchone():
        store_id = db.execute("SELECT store_id FROM record_store").fetchone()[0]
        records.append([("store", store_id, _written_content(db, "store", store_id))])
    if not db.execute("SELECT 1 FROM chain_keys WHERE key_id = ?", [key.key_id]).fetchone():
        db.execute(
            "INSERT INTO chain_keys(key_id, public_key, label, created_at) VALUES (?, ?, ?, ?)",
            [key.key_id, key.public_key, key.label, to_iso(utc_now())],
        )
        records.append([("key", key.key_id, _written_content(db, "key", key.key_id))])
    for kind in ("oversight", "ndelius", "audit", "team_note"):
        records.append(queries.all_record_contents(db, kind, legacy_order=legacy_order))
    return _append_links(db, key, itertools.chain.from_iterable(records), sign_each=False)


def append_to_chain(db: Database, entries: list[dict[str, Any]]) -> None:
    """The old chain (migrations 0005 to 0007): links for ``entries`` after the last one. Kept for
    migration 0005, which has shipped; migration 0008 moves its links into the signed record."""
    last = db.execute("SELECT hash FROM oversight_chain ORDER BY position DESC LIMIT 1").fetchone()
    previous = last[0] if last else chain.GENESIS
    links = []
    for entry in entries:
        previous = chain.legacy_entry_hash(previous, entry)
        links.append((entry["id"], previous))
    db.conn.executemany("INSERT INTO oversight_chain(oversight_id, hash) VALUES (?, ?)", links)


def move_legacy_marks(db: Database) -> None:
    """Migration 0008: the marks of each former export (one person, one moment) become one batch."""
    if not queries.table_exists(db, "ndelius_entries"):
        return
    groups: dict[tuple[str, str], list[str]] = {}
    for oversight_id, by, at in db.execute(
        "SELECT oversight_id, entered_by, entered_at FROM ndelius_entries ORDER BY entered_at, rowid"
    ):
        groups.setdefault((by, at), []).append(oversight_id)
    for (by, at), ids in groups.items():
        batch_id = str(uuid.uuid5(RULE_NAMESPACE, f"ndelius batch {by} {at}"))
        db.execute(
            "INSERT INTO ndelius_batches(id, action, undoes, by_id, at, entries, note) VALUES (?, 'mark', NULL, ?, ?, ?, ?)",
            [batch_id, by, at, len(ids), "marked before batches were kept"],
        )
        db.conn.executemany(
            "INSERT INTO ndelius_marks(batch_id, oversight_id) VALUES (?, ?)", [(batch_id, i) for i in ids]
        )


def check_legacy_chain(db: Database) -> tuple[int, str, str | None] | None:
    """Migration 0008: the old chain's own check (links, head, problem), or None if it never had one."""
    if not queries.table_exists(db, "oversight_chain"):
        return None
    return chain.legacy_check(queries.legacy_chain_links(db), queries.legacy_unlinked_count(db))


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
        for table, records in (
            ("items", [i for i, _d in rows]),
            (detail_table(kind), [{"item_id": i["id"], **d} for i, d in rows]),
        ):
            columns = list(records[0])
            db.conn.executemany(
                f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})", records
            )
