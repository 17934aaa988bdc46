"""Changes: what a store connected to a hub records of every write, and how it takes in others'.

A store that is not connected has none of this: no triggers, no cost (``spo-tui connect`` installs
them). Once connected:

- **Capture.** Triggers on every synced table (``spo_tui.domain.merge``) copy each row inserted,
  updated or deleted into ``change_capture``, in the writing transaction.
- **Seal.** Just before that transaction commits (``SpoDatabase.atomic``), :func:`seal` turns the
  captured rows into **changes**: each with a new id, one hybrid-logical-clock stamp for the
  transaction, the staff member the hub knows this login as, the team it belongs to, and a place in
  this device's own hash chain (``prev``, ``device_seq``, ``hash``); the transaction's last change
  is signed with the device key (``spo_tui.store.signing``). The write and its changes are saved
  together or not at all.
- **Apply.** Changes pulled from the hub are stored as they came (:func:`take_in`); evidence rows
  are inserted once; every other entity they touch is folded again from all its changes
  (``spo_tui.domain.merge.fold``) and written back, so replicas holding the same changes hold the
  same rows. While changes are applied the triggers stand aside (``sync_state.applying``).
- **Baseline.** The first device of a team to connect uploads its existing store as insert changes
  (:func:`baseline`).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from spo_tui.domain import device_chains, hlc, merge
from spo_tui.domain.chain import GENESIS, canonical
from spo_tui.store import signing
from spo_tui.store.queue_queries import ITEM_TEAM

# The chain's hashing lives with its check (``spo_tui.domain.device_chains``); named here as before.
#: What a change's signature signs: this prefix and the change's hash.
CHANGE_PREFIX = device_chains.CHANGE_PREFIX
#: What a checkpoint's signature signs: this prefix and "device\\nseq\\nhash".
CHECKPOINT_PREFIX = device_chains.CHECKPOINT_PREFIX
change_hash = device_chains.change_hash
content_of = device_chains.content_of
checkpoint_message = device_chains.checkpoint_message

#: Evidence tables keyed by a local integer: a received row gets this replica's own number.
LOCAL_NUMBERED = frozenset({"audit_log", "countersign_history"})

#: The columns of a change, in the order the hub and the local table hold them.
CHANGE_COLUMNS = (
    "id",
    "device",
    "device_seq",
    "prev",
    "hash",
    "signature",
    "hlc",
    "actor",
    "team",
    "tbl",
    "pk",
    "op",
    "data",
    "tx",
    "seen",
)


#: Each synced table's key columns (a composite key is written "a|b" in a change's ``pk``).
KEYS = {  # in an order each row's references come before it (a baseline is sent in this order)
    "staff": ("id",),
    "teams": ("name",),
    "aqa_ratings": ("id",),
    "absences": ("id",),
    "cases": ("crn",),
    "case_flags": ("id",),
    "transfers": ("id",),
    "rcat_audits": ("id",),
    "items": ("id",),
    "sbars": ("item_id",),
    "touch_points": ("item_id",),
    "countersigns": ("item_id",),
    "countersign_history": ("id",),
    "alerts": ("item_id",),
    "tasks": ("item_id",),
    "supervision": ("item_id",),
    "oversight_entries": ("id",),
    "oversight_snapshots": ("oversight_id",),
    "oversight_levels": ("oversight_id",),
    "actions": ("item_id",),
    "confirms": ("item_id",),
    "audit_log": ("id",),
    "team_notes": ("id",),
    "ndelius_batches": ("id",),
    "ndelius_marks": ("batch_id", "oversight_id"),
}
SYNCED = tuple(KEYS)


# --- state ---------------------------------------------------------------------------------------


def get_state(db: Database, key: str) -> str | None:
    try:
        row = db.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
    except Exception:  # no sync_state table: a store made before 0012 has never been connected
        return None
    return row[0] if row else None


def set_state(db: Database, key: str, value: str | None) -> None:
    if value is None:
        db.execute("DELETE FROM sync_state WHERE key = ?", [key])
    else:
        db.execute(
            "INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )


def is_connected(db: Database) -> bool:
    """True when this store exchanges changes with a hub."""
    return get_state(db, "hub") is not None


# --- capture -------------------------------------------------------------------------------------


def _columns(db: Database, table: str) -> list[str]:
    return [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]


def _pk_expr(table: str, row: str) -> str:
    return " || '|' || ".join(f'CAST({row}."{c}" AS TEXT)' for c in KEYS[table])


def capture_triggers(db: Database) -> dict[str, str]:
    """The capture triggers for the schema as it is now, by name, with their exact SQL."""
    found = {}
    skip = "WHEN NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying')"
    for table in SYNCED:
        cols = _columns(db, table)
        new = "json_object(" + ", ".join(f"'{c}', NEW.\"{c}\"" for c in cols) + ")"
        old = "json_object(" + ", ".join(f"'{c}', OLD.\"{c}\"" for c in cols) + ")"
        found[f"capture_{table}_insert"] = (
            f"CREATE TRIGGER capture_{table}_insert AFTER INSERT ON {table} {skip}\nBEGIN\n"
            f"    INSERT INTO change_capture(tbl, pk, op, new) VALUES ('{table}', {_pk_expr(table, 'NEW')}, 'insert', {new});\nEND"
        )
        if table in merge.UNION_TABLES:
            continue  # evidence is never updated or deleted (its own triggers refuse it)
        found[f"capture_{table}_update"] = (
            f"CREATE TRIGGER capture_{table}_update AFTER UPDATE ON {table} {skip}\nBEGIN\n"
            f"    INSERT INTO change_capture(tbl, pk, op, old, new) VALUES ('{table}', {_pk_expr(table, 'NEW')}, 'update', {old}, {new});\nEND"
        )
        found[f"capture_{table}_delete"] = (
            f"CREATE TRIGGER capture_{table}_delete AFTER DELETE ON {table} {skip}\nBEGIN\n"
            f"    INSERT INTO change_capture(tbl, pk, op, old) VALUES ('{table}', {_pk_expr(table, 'OLD')}, 'delete', {old});\nEND"
        )
    return found


def _installed(db: Database) -> dict[str, str]:
    return {
        r[0]: r[1]
        for r in db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'capture_%'")
    }


def capture_current(db: Database) -> bool:
    """True when the capture triggers are exactly those the schema needs now."""
    return _installed(db) == capture_triggers(db)


def install_capture(db: Database) -> None:
    """Make (or make again, after a migration changed a table) the capture triggers. Call in a transaction."""
    wanted = capture_triggers(db)
    have = _installed(db)
    for name, sql in have.items():
        if wanted.get(name) != sql:
            db.execute(f"DROP TRIGGER {name}")
    for name, sql in wanted.items():
        if have.get(name) != sql:
            db.execute(sql)


# --- teams ---------------------------------------------------------------------------------------


class _Teams:
    """The team each row belongs to, with lookups kept for one seal or baseline."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.staff: dict[str, str] = {}
        self.cases: dict[str, str] = {}
        self.items: dict[str, str] = {}

    def staff_team(self, staff_id: Any) -> str:
        if not staff_id:
            return ""
        if staff_id not in self.staff:
            row = self.db.execute("SELECT team FROM staff WHERE id = ?", [staff_id]).fetchone()
            self.staff[staff_id] = (row[0] or "") if row else ""
        return self.staff[staff_id]

    def case_team(self, crn: Any) -> str:
        if not crn:
            return ""
        if crn not in self.cases:
            row = self.db.execute(
                "SELECT s.team FROM cases c LEFT JOIN staff s ON s.id = c.practitioner_id WHERE c.crn = ?", [crn]
            ).fetchone()
            self.cases[crn] = (row[0] or "") if row else ""
        return self.cases[crn]

    def item_team(self, item_id: Any) -> str:
        if not item_id:
            return ""
        if item_id not in self.items:
            row = self.db.execute(
                f"""SELECT {ITEM_TEAM} FROM items i
                    LEFT JOIN cases c ON c.crn = i.crn
                    LEFT JOIN staff pp ON pp.id = c.practitioner_id
                    LEFT JOIN staff raiser ON raiser.id = i.raised_by
                    LEFT JOIN supervision sup ON i.kind = 'supervision' AND sup.item_id = i.id
                    LEFT JOIN staff supervisee ON supervisee.id = sup.practitioner_id
                    WHERE i.id = ?""",
                [item_id],
            ).fetchone()
            self.items[item_id] = (row[0] or "") if row else ""
        return self.items[item_id]

    def all_items(self) -> None:
        """Look up every item's team at once (a baseline)."""
        for item_id, team in self.db.execute(
            f"""SELECT i.id, {ITEM_TEAM} FROM items i
                LEFT JOIN cases c ON c.crn = i.crn
                LEFT JOIN staff pp ON pp.id = c.practitioner_id
                LEFT JOIN staff raiser ON raiser.id = i.raised_by
                LEFT JOIN supervision sup ON i.kind = 'supervision' AND sup.item_id = i.id
                LEFT JOIN staff supervisee ON supervisee.id = sup.practitioner_id"""
        ):
            self.items[item_id] = team or ""

    def of(self, table: str, pk: str, row: dict[str, Any]) -> str:
        """The team whose members may read this row's change ('' for every team)."""
        if table in ("staff", "teams"):
            return ""
        if table == "aqa_ratings":
            return self.staff_team(row.get("staff_id"))
        if table == "absences":
            return self.staff_team(row.get("staff_id"))
        if table in ("cases", "case_flags", "transfers", "rcat_audits"):
            return self.case_team(row.get("crn") or (pk if table == "cases" else None))
        if table == "items" or table in merge.ITEM_DETAIL_TABLES or table == "countersign_history":
            return self.item_team(row.get("item_id") or (pk if table == "items" else None))
        if table == "oversight_entries":
            return (
                self.case_team(row.get("crn"))
                or self.item_team(row.get("item_id"))
                or self.staff_team(row.get("decided_by"))
            )
        if table in ("oversight_snapshots", "oversight_levels"):
            entry = self.db.execute(
                "SELECT crn, item_id, decided_by FROM oversight_entries WHERE id = ?", [row.get("oversight_id")]
            ).fetchone()
            if entry is None:
                return ""
            return self.case_team(entry[0]) or self.item_team(entry[1]) or self.staff_team(entry[2])
        if table == "audit_log":
            if row.get("entity") == "item":
                return self.item_team(row.get("entity_id")) or self.staff_team(row.get("actor_id"))
            if row.get("entity") == "case":
                return self.case_team(row.get("entity_id")) or self.staff_team(row.get("actor_id"))
            return self.staff_team(row.get("actor_id"))
        if table == "team_notes":
            return self.staff_team(row.get("created_by"))
        if table == "ndelius_batches":
            return self.staff_team(row.get("by_id"))
        if table == "ndelius_marks":
            entry = self.db.execute(
                "SELECT crn, item_id FROM oversight_entries WHERE id = ?", [row.get("oversight_id")]
            ).fetchone()
            return (self.case_team(entry[0]) or self.item_team(entry[1])) if entry else ""
        return ""


# --- the device's chain ----------------------------------------------------------------------------


def device_head(db: Database, device: str) -> tuple[int, str]:
    row = db.execute(
        "SELECT device_seq, hash FROM changes WHERE device = ? ORDER BY device_seq DESC LIMIT 1", [device]
    ).fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


@dataclass
class _Chain:
    """This device's chain while changes are appended to it in one transaction."""

    key: signing.DeviceKey
    seq: int
    prev: str
    stamp: str
    actor: str
    actor_team: str
    head_of_pdu: bool

    def team(self, team: str) -> str:
        # Work filed under a team the actor is not in (a case moved between teams) is filed under
        # the actor's own, where the hub lets them write it, rather than refused and stuck.
        if self.head_of_pdu or team in ("", self.actor_team):
            return team
        return self.actor_team

    def link(self, tbl: str, pk: str, op: str, data: dict[str, Any], tx: str, seen: str, team: str) -> list[Any]:
        self.seq += 1
        change = {
            "id": str(uuid.uuid4()),
            "hlc": self.stamp,
            "actor": self.actor,
            "team": self.team(team),
            "tbl": tbl,
            "pk": pk,
            "op": op,
            "data": data,
            "tx": tx,
            "seen": seen,
        }
        prev, digest = self.prev, change_hash(self.prev, self.seq, change)
        self.prev = digest
        return [
            change["id"],
            self.key.key_id,
            self.seq,
            prev,
            digest,
            None,
            self.stamp,
            self.actor,
            change["team"],
            tbl,
            pk,
            op,
            canonical(data),
            tx,
            seen,
            merge.entity_of(tbl, pk),
        ]


def _open_chain(db: Database) -> _Chain:
    key = signing.device_key()
    seq, prev = device_head(db, key.key_id)
    stamp = hlc.tick(get_state(db, "hlc") or "", time.time_ns() // 1_000_000, key.key_id)
    set_state(db, "hlc", stamp)
    return _Chain(
        key,
        seq,
        prev,
        stamp,
        get_state(db, "staff_id") or "",
        get_state(db, "team") or "",
        get_state(db, "role") == "PDU head",
    )


def _write_links(db: Database, chain: _Chain, links: list[list[Any]]) -> None:
    """Store links made by ``chain.link``, signing the last (its hash covers every one before it)."""
    if not links:
        return
    links[-1][5] = chain.key.sign(CHANGE_PREFIX + links[-1][4].encode())
    db.conn.executemany(
        """INSERT INTO changes(id, device, device_seq, prev, hash, signature, hlc, actor, team, tbl, pk, op, data, tx,
           seen, entity, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'local')""",
        links,
    )


def seal(db: Database) -> int:
    """Turn the rows captured in this transaction into this device's signed changes. Returns how many."""
    captured = db.execute("SELECT n, tbl, pk, op, old, new FROM change_capture ORDER BY n").fetchall()
    if not captured:
        return 0
    chain = _open_chain(db)
    teams = _Teams(db)
    tx = str(uuid.uuid4())
    links = []
    seen_cache: dict[str, str] = {}
    for _n, tbl, pk, op, old, new in captured:
        if op == "insert":
            row = json.loads(new)
            data = merge.without_derived(tbl, row)
        elif op == "update":
            row = json.loads(new)
            data = merge.changed_columns(tbl, json.loads(old), row)
            if not data:
                continue
        else:
            row = json.loads(old)
            data = {}
        entity = merge.entity_of(tbl, pk)
        if entity not in seen_cache:
            found = db.execute("SELECT MAX(hlc) FROM changes WHERE entity = ?", [entity]).fetchone()[0]
            seen_cache[entity] = found or ""
        links.append(chain.link(tbl, pk, op, data, tx, seen_cache[entity], teams.of(tbl, pk, row)))
    _write_links(db, chain, links)
    db.execute("DELETE FROM change_capture WHERE n <= ?", [captured[-1][0]])
    return len(links)


def baseline(db: Database, batch: int = 200) -> int:
    """Every row of the synced tables as insert changes of this device (the first device of a team
    to connect uploads its store this way). Call in a transaction. Returns how many.

    The changes are grouped about ``batch`` to a (change) transaction: a sync sends whole
    transactions, so small ones let an upload cut off part way keep what it had sent. An oversight
    entry travels with its snapshot, and an nDelius batch with its marks, in one transaction, as
    they were written: each is linked into a reader's record whole."""
    teams = _Teams(db)
    teams.all_items()
    chain = _open_chain(db)
    pending: list[list[Any]] = []
    total = 0
    tx = str(uuid.uuid4())
    for group in _baseline_groups(db):
        for table, row in group:
            pk = "|".join(str(row[c]) for c in KEYS[table])
            data = merge.without_derived(table, row)
            pending.append(chain.link(table, pk, "insert", data, tx, "", teams.of(table, pk, row)))
        if len(pending) >= batch:
            _write_links(db, chain, pending)
            total += len(pending)
            pending = []
            tx = str(uuid.uuid4())
    _write_links(db, chain, pending)
    return total + len(pending)


#: Rows that travel with another's row in the baseline: table -> (the table it follows, its column naming it).
_FOLLOWS = {
    "oversight_snapshots": ("oversight_entries", "oversight_id"),
    "oversight_levels": ("oversight_entries", "oversight_id"),
    "ndelius_marks": ("ndelius_batches", "batch_id"),
}


def _baseline_groups(db: Database) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The store's rows in sending order, each with the rows that travel with it."""
    followers: dict[str, dict[Any, list[dict[str, Any]]]] = {}
    for table, (_parent, column) in _FOLLOWS.items():
        by_parent: dict[Any, list[dict[str, Any]]] = {}
        for row in _rows(db, table):
            by_parent.setdefault(row[column], []).append(row)
        followers[table] = by_parent
    for table in SYNCED:
        if table in _FOLLOWS:
            continue
        attached = [(t, followers[t]) for t, (parent, _c) in _FOLLOWS.items() if parent == table]
        for row in _rows(db, table):
            group = [(table, row)]
            for follower, by_parent in attached:
                group += [(follower, r) for r in by_parent.get(row[KEYS[table][0]], [])]
            yield group


def _rows(db: Database, table: str) -> Iterator[dict[str, Any]]:
    cols = _columns(db, table)
    order = "created_at, id" if table == "oversight_entries" else ", ".join(f'"{c}"' for c in KEYS[table])
    for values in db.execute(f'SELECT * FROM "{table}" ORDER BY {order}'):
        yield dict(zip(cols, values, strict=True))


# --- taking in others' changes -------------------------------------------------------------------


@contextlib.contextmanager
def references_unchecked(db: Database) -> Iterator[None]:
    """Foreign keys unchecked while others' changes are applied (around the transaction: SQLite
    cannot switch them inside one). A replica holds part of the record (its team's), so a row may
    name another that only other teams hold: a case's practitioner, an entry's decider. Each row was
    checked where it was written; here it is kept as written."""
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        db.execute("PRAGMA foreign_keys = ON")


def known_ids(db: Database, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" * len(part))
        found.update(r[0] for r in db.execute(f"SELECT id FROM changes WHERE id IN ({marks})", part))
    return found


def take_in(db: Database, received: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Store changes received from the hub (in hub order) and apply them; call in a transaction.
    A change already held (sent by this device, or received before) only has its hub place noted.
    Returns the evidence records inserted, as (link kind, ref), for the local record to link."""
    if not received:
        return []
    already = known_ids(db, [c["id"] for c in received])
    fresh = [c for c in received if c["id"] not in already]
    db.conn.executemany(
        "UPDATE changes SET hub_seq = ?, pushed = 1 WHERE id = ? AND hub_seq IS NULL",
        [(c["seq"], c["id"]) for c in received if c["id"] in already],
    )
    if not fresh:
        return []
    entities = [merge.entity_of(c["tbl"], c["pk"]) for c in fresh]
    state_entities = list(
        dict.fromkeys(e for e, c in zip(entities, fresh, strict=True) if c["tbl"] not in merge.UNION_TABLES)
    )
    had_before = _entities_with_changes(db, state_entities)
    db.conn.executemany(
        """INSERT INTO changes(id, device, device_seq, prev, hash, signature, hlc, actor, team, tbl, pk, op, data, tx,
           seen, entity, origin, pushed, hub_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'remote', 1, ?)""",
        [
            (
                c["id"],
                c["device"],
                c["device_seq"],
                c["prev"],
                c["hash"],
                c["signature"],
                c["hlc"],
                c["actor"],
                c["team"],
                c["tbl"],
                c["pk"],
                c["op"],
                c["data"] if isinstance(c["data"], str) else canonical(c["data"]),
                c["tx"],
                c["seen"],
                entity,
                c["seq"],
            )
            for c, entity in zip(fresh, entities, strict=True)
        ],
    )
    stamp = get_state(db, "hlc") or ""
    for c in fresh:
        stamp = hlc.observe(stamp, c["hlc"])
    set_state(db, "hlc", stamp)
    set_state(db, "applying", "1")
    try:
        linked = _insert_evidence(db, [c for c in fresh if c["tbl"] in merge.UNION_TABLES])
        in_batch: dict[str, list[dict[str, Any]]] = {}
        for c, entity in zip(fresh, entities, strict=True):
            if c["tbl"] not in merge.UNION_TABLES:
                in_batch.setdefault(entity, []).append(c)
        _refold(db, state_entities, had_before, in_batch)
    finally:
        set_state(db, "applying", None)
    return linked


def _entities_with_changes(db: Database, entities: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(entities), 500):
        part = entities[start : start + 500]
        marks = ", ".join("?" * len(part))
        found.update(r[0] for r in db.execute(f"SELECT DISTINCT entity FROM changes WHERE entity IN ({marks})", part))
    return found


_LINK_KIND = {
    "oversight_entries": "oversight",
    "audit_log": "audit",
    "team_notes": "team_note",
    "ndelius_batches": "ndelius",
}


def _insert_evidence(db: Database, received: list[dict[str, Any]]) -> list[tuple[str, str]]:
    linked = []
    for c in received:
        row = _data(c)
        table = c["tbl"]
        if table in LOCAL_NUMBERED:
            row.pop("id", None)
        cols = list(row)
        names = ", ".join(f'"{x}"' for x in cols)
        cursor = db.execute(
            f'INSERT OR IGNORE INTO "{table}"({names}) VALUES ({", ".join("?" * len(cols))})', [row[x] for x in cols]
        )
        if table in _LINK_KIND and cursor.rowcount:
            ref = str(cursor.lastrowid) if table in LOCAL_NUMBERED else str(row[KEYS[table][0]])
            linked.append((_LINK_KIND[table], ref))
    return linked


def _data(change: dict[str, Any]) -> dict[str, Any]:
    data = change["data"]
    return dict(json.loads(data) if isinstance(data, str) else data)


def _refold(db: Database, entities: list[str], had_before: set[str], in_batch: dict[str, list[dict[str, Any]]]) -> None:
    roles = dict(db.execute("SELECT id, role FROM staff").fetchall())
    for entity in entities:
        if entity in had_before:
            rows = [
                dict(zip(("id", "hlc", "device_seq", "tbl", "pk", "op", "data", "tx", "seen", "actor"), r, strict=True))
                for r in db.execute(
                    "SELECT id, hlc, device_seq, tbl, pk, op, data, tx, seen, actor FROM changes WHERE entity = ?",
                    [entity],
                )
            ]
        else:
            rows = in_batch[entity]
        folded = merge.fold(
            merge.Change(
                r["id"],
                r["hlc"],
                r["device_seq"],
                r["tbl"],
                r["pk"],
                r["op"],
                _data(r),
                r["tx"],
                r["seen"],
                roles.get(r["actor"], ""),
            )
            for r in rows
        )
        for table, pk in merge.write_order(list(folded)):
            _write_row(db, table, pk, folded[(table, pk)])


def _where(table: str, pk: str) -> tuple[str, list[str]]:
    # The key columns compared as they are, so their index finds the row (CAST(... AS TEXT) made
    # SQLite read the whole table for every row written: a PDU head's first sync spent over half its
    # time there). Every state table's key is TEXT; an INTEGER key would still match its text form.
    keys = KEYS[table]
    parts = pk.split("|", len(keys) - 1) if len(keys) > 1 else [pk]
    return " AND ".join(f'"{k}" = ?' for k in keys), parts


def _write_row(db: Database, table: str, pk: str, row: dict[str, Any] | None) -> None:
    where, params = _where(table, pk)
    cursor = db.execute(f'SELECT * FROM "{table}" WHERE {where}', params)
    current = cursor.fetchone()
    if row is None:
        if current is not None:
            db.execute(f'DELETE FROM "{table}" WHERE {where}', params)
        return
    if current is not None:
        have = dict(zip([d[0] for d in cursor.description], current, strict=True))
        changed = {k: v for k, v in row.items() if k in have and have[k] != v}
        if changed:
            sets = ", ".join(f'"{k}" = ?' for k in changed)
            db.execute(f'UPDATE "{table}" SET {sets} WHERE {where}', [*changed.values(), *params])
        return
    cols = list(row)
    names = ", ".join(f'"{c}"' for c in cols)
    db.execute(f'INSERT INTO "{table}"({names}) VALUES ({", ".join("?" * len(cols))})', [row[c] for c in cols])


# --- reading -------------------------------------------------------------------------------------


def unpushed(db: Database, device: str, limit: int = 2000) -> list[dict[str, Any]]:
    """This device's changes not yet at the hub, in chain order: about ``limit``, always whole
    transactions (so the hub holds each transaction's changes together, and a reader never sees
    half of one)."""
    # INDEXED BY: left to itself SQLite reads (device, device_seq) from the first change, stepping
    # over every change already pushed, on every call: uploading a PDU (515,000 changes) spent 65 s
    # here, and a sync with nothing to send read all of a device's changes twice.
    select = (
        f"SELECT {', '.join(CHANGE_COLUMNS)} FROM changes INDEXED BY changes_to_push WHERE pushed = 0 AND device = ?"
    )
    rows = db.execute(f"{select} ORDER BY device_seq LIMIT ?", [device, limit]).fetchall()
    if rows:
        # The rest of the last transaction: the changes right after it (a transaction is sealed in one
        # go, so its changes are consecutive in the chain). Read until the next transaction starts, not
        # on to the end of everything unsent, which made sending a large store quadratic.
        tx_at, seq_at = CHANGE_COLUMNS.index("tx"), CHANGE_COLUMNS.index("device_seq")
        last_tx, last_seq = rows[-1][tx_at], rows[-1][seq_at]
        cursor = db.execute(f"{select} AND device_seq > ? ORDER BY device_seq", [device, last_seq])
        try:
            for row in cursor:
                if row[tx_at] != last_tx:
                    break
                rows.append(row)
        finally:
            cursor.close()
    return [dict(zip(CHANGE_COLUMNS, r, strict=True)) for r in rows]


def mark_pushed(db: Database, device: str, up_to_seq: int) -> None:
    db.execute(  # INDEXED BY: only the changes not yet pushed are read (see unpushed)
        "UPDATE changes INDEXED BY changes_to_push SET pushed = 1 WHERE device = ? AND device_seq <= ? AND pushed = 0",
        [device, up_to_seq],
    )


def unpushed_places(db: Database, device: str, up_to: int) -> list[tuple[int, str]]:
    """(place, id) of this device's changes not marked sent, at places up to ``up_to``."""
    return [
        (r[0], r[1])
        for r in db.execute(
            "SELECT device_seq, id FROM changes INDEXED BY changes_to_push "  # see unpushed
            "WHERE device = ? AND pushed = 0 AND device_seq <= ? ORDER BY device_seq",
            [device, up_to],
        )
    ]


def mark_pushed_places(db: Database, device: str, places: list[int]) -> None:
    db.conn.executemany(
        "UPDATE changes SET pushed = 1 WHERE device = ? AND device_seq = ?", [(device, p) for p in places]
    )


def rechain(db: Database, key: signing.DeviceKey, after_seq: int, after_hash: str) -> int:
    """Move this device's unsent changes, in order, to follow place ``after_seq`` (hash
    ``after_hash``) of its chain: new places, each hash made again, each transaction's last change
    signed again. Their content (id, stamp, row) is unchanged. Call in a transaction. Returns how many."""
    rows = db.execute(
        f"SELECT {', '.join(CHANGE_COLUMNS)} FROM changes WHERE device = ? AND pushed = 0 ORDER BY device_seq",
        [key.key_id],
    ).fetchall()
    moving = [dict(zip(CHANGE_COLUMNS, r, strict=True)) for r in rows]
    db.execute("UPDATE changes SET device_seq = -device_seq WHERE device = ? AND pushed = 0", [key.key_id])
    prev = after_hash
    for n, change in enumerate(moving):
        place = after_seq + 1 + n
        digest = change_hash(prev, place, content_of(change))
        ends_tx = n + 1 == len(moving) or moving[n + 1]["tx"] != change["tx"]
        signature = key.sign(CHANGE_PREFIX + digest.encode()) if ends_tx else None
        db.execute(
            "UPDATE changes SET device_seq = ?, prev = ?, hash = ?, signature = ? WHERE id = ?",
            [place, prev, digest, signature, change["id"]],
        )
        prev = digest
    return len(moving)


def mark_unpushed_after(db: Database, device: str, hub_head: int) -> None:
    """This device's changes after ``hub_head`` are to be sent (again): the hub does not hold them."""
    db.execute(
        "UPDATE changes SET pushed = 0, hub_seq = NULL WHERE device = ? AND device_seq > ? AND pushed = 1",
        [device, hub_head],
    )


def waiting_count(db: Database) -> int:
    """Changes of this store not yet at the hub."""
    try:
        return db.execute("SELECT COUNT(*) FROM changes WHERE pushed = 0").fetchone()[0]
    except Exception:
        return 0


def device_changes(db: Database, device: str) -> Iterator[dict[str, Any]]:
    cursor = db.execute(
        f"SELECT {', '.join(CHANGE_COLUMNS)} FROM changes WHERE device = ? ORDER BY device_seq", [device]
    )
    for r in cursor:
        yield dict(zip(CHANGE_COLUMNS, r, strict=True))


def devices(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT device FROM changes ORDER BY device")]


def drop_capture(db: Database, names: Iterable[str]) -> None:
    for name in names:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
