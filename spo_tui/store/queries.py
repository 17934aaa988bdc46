"""Reads: every SELECT the services and screens need, in one place.

Functions take the database first and return plain dicts or dataclasses; none writes.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from spo_tui.domain.errors import NotFound
from spo_tui.store.rows import all_rows, one_row

# --- The queue -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One open item as the queue needs it: its own facts, its case's, and its urgency score."""

    id: str
    kind: str
    crn: str | None
    name: str | None
    practitioner: str | None
    rosh: str | None
    mappa_level: int | None
    title: str
    due: str | None
    created_at: str
    sbar_urgency: str | None
    countersign_kind: str | None
    court_date: str | None
    catch_up: int = 0
    status: str = "open"
    score: int = 0
    #: For an item waiting on someone else: on whom (a name, "PDU head (…)", "MAPPA") and since when.
    waiting_on: str | None = None
    waiting_since: str | None = None
    #: For a snoozed item: the day it comes back.
    snoozed_until: str | None = None
    #: The item's team (``ITEM_TEAM``): its case's practitioner's, else its supervisee's or raiser's.
    team: str | None = None


_QUEUE_FROM = """
FROM items i
LEFT JOIN cases c ON c.crn = i.crn
LEFT JOIN staff pp ON pp.id = c.practitioner_id
LEFT JOIN staff raiser ON raiser.id = i.raised_by
LEFT JOIN sbars s ON i.kind = 'sbar' AND s.item_id = i.id
LEFT JOIN countersigns cs ON i.kind = 'countersign' AND cs.item_id = i.id
LEFT JOIN supervision sup ON i.kind = 'supervision' AND sup.item_id = i.id
LEFT JOIN staff supervisee ON supervisee.id = sup.practitioner_id
"""
#: An item's team: its case's practitioner's team; with no case (or an unallocated one), the
#: supervisee's (supervision) or the raiser's (a task, say) if the raiser's team has an SPO. NULL
#: when none has: a task an SAO or business manager of the PDU raised is then every team's to see.
ITEM_TEAM = (
    "COALESCE(NULLIF(pp.team, ''), NULLIF(supervisee.team, ''),"
    " CASE WHEN raiser.team IN (SELECT team FROM staff WHERE role = 'SPO') THEN raiser.team END)"
)
# Team scoping (:team NULL for every team). Read while the queue is walked top-first from its index,
# so a page of one team's queue costs a few more index rows, not a sort. Work that belongs to no team
# (a task the PDU's SAO raised, an unallocated case's alert) is the PDU head's, who sees every team;
# in a store with one team, or with no PDU head to see it, it is in every team's queue instead, so
# nothing is lost from view.
_NO_TEAM_SHOWN = (
    "((SELECT COUNT(DISTINCT team) FROM staff WHERE role = 'SPO' AND active = 1) <= 1"
    " OR NOT EXISTS (SELECT 1 FROM staff WHERE role = 'PDU head' AND active = 1))"
)
_IN_TEAM = f"(:team IS NULL OR {ITEM_TEAM} = :team OR ({ITEM_TEAM} IS NULL AND {_NO_TEAM_SHOWN}))"
_QUEUE_COLUMNS = """i.id, i.kind, i.crn, c.name, COALESCE(pp.name, raiser.name), c.rosh, c.mappa_level,
       i.title, i.due, i.created_at, s.urgency, cs.kind, cs.court_date, i.catch_up,
       CASE WHEN i.status = 'open' AND i.snoozed_until > :today THEN 'snoozed' ELSE i.status END"""
# After the score: what the Waiting and Snoozed views show.
_QUEUE_EXTRA = "i.waiting_on, i.waiting_since, i.snoozed_until"
# Open and unsnoozed, for the owner (:owner) or for no one in particular.
_OPEN = """i.status = 'open' AND (i.snoozed_until IS NULL OR i.snoozed_until <= :today)
  AND (i.assigned_to IS NULL OR i.assigned_to = :owner)"""
# Waiting on someone else (more information asked, escalated, returned for rework, a task
# delegated): whoever holds it.
_WAITING = "i.status = 'waiting'"
# The catch-up list: open work that was already long overdue when it reached the queue.
_CATCH_UP = _OPEN + " AND i.catch_up = 1"
# Snoozed: open, hidden from the queue until a later day, for the owner or no one in particular.
_SNOOZED = """i.status = 'open' AND i.snoozed_until > :today
  AND (i.assigned_to IS NULL OR i.assigned_to = :owner)"""
#: The statuses a view can ask for: ``any`` is everything not closed (search in the All view).
_STATUS_WHERE = {
    "open": _OPEN,
    "waiting": _WAITING,
    "snoozed": _SNOOZED,
    "catch_up": _CATCH_UP,
    "any": f"(({_OPEN}) OR ({_WAITING}) OR ({_SNOOZED}))",
}

#: The bare SQL selecting the queue's rows, unordered: the benchmark's yardstick.
QUEUE_SQL = f"SELECT {_QUEUE_COLUMNS} {_QUEUE_FROM} WHERE {_OPEN}"

# The triage order (``domain.urgency.sort_key``), written to match the indexes of migration 0006
# so SQLite walks an index instead of sorting. Within one kind, "alerts first" says nothing.
_ORDER = "i.kind <> 'alert', {score} DESC, COALESCE(i.due, '9999-12-31'), i.id"
_ORDER_IN_KIND = "{score} DESC, COALESCE(i.due, '9999-12-31'), i.id"


def _queue_where(kind: str | None, status: str, team: str | None = None) -> str:
    where = _STATUS_WHERE[status]
    return where + (" AND i.kind = :kind" if kind else "") + (f" AND {_IN_TEAM}" if team else "")


def queue_page(
    db: Database,
    today: date,
    owner_id: str | None,
    *,
    kind: str | None = None,
    status: str = "open",
    limit: int | None = None,
    offset: int = 0,
    score: str = "i.urgency",
    team: str | None = None,
) -> list[QueueRow]:
    """Open, unsnoozed items of ``owner_id`` or no one (of one kind, if given) with case facts, in
    triage order, from ``offset`` for ``limit`` rows (all if None).

    With ``status="waiting"``: the items waiting on someone else instead, whoever holds them; with
    ``status="catch_up"``: only the open items on the catch-up list (``items.catch_up``).
    ``score`` is the SQL of each item's score: the stored column (fast, from an index) unless the
    caller could not bring stored scores up to date and passes ``scoring.score_sql(weights)``.
    ``team`` keeps one team's items (and those of no team); None keeps every team's.
    """
    order = (_ORDER_IN_KIND if kind else _ORDER).format(score=score)
    sql = (
        f"SELECT {_QUEUE_COLUMNS}, {score}, {_QUEUE_EXTRA}, {ITEM_TEAM} {_QUEUE_FROM}"
        f" WHERE {_queue_where(kind, status, team)} ORDER BY {order} LIMIT :limit OFFSET :offset"
    )
    params = {
        "today": today.isoformat(),
        "owner": owner_id,
        "kind": kind,
        "limit": -1 if limit is None else limit,
        "offset": offset,
        "team": team,
    }
    return [QueueRow(*row) for row in db.execute(sql, params).fetchall()]


def queue_rows_by_id(db: Database, today: date, ids: list[str], score: str = "i.urgency") -> list[QueueRow]:
    """The queue rows of ``ids``, in the order given (missing ids are left out)."""
    if not ids:
        return []
    params: dict[str, str] = {f"id{n}": item_id for n, item_id in enumerate(ids)}
    marks = ", ".join(f":{key}" for key in params)
    params["today"] = today.isoformat()
    cursor = db.execute(
        f"SELECT {_QUEUE_COLUMNS}, {score}, {_QUEUE_EXTRA}, {ITEM_TEAM} {_QUEUE_FROM} WHERE i.id IN ({marks})", params
    )
    rows = {row[0]: QueueRow(*row) for row in cursor.fetchall()}
    return [rows[i] for i in ids if i in rows]


def queue_search_text(
    db: Database,
    today: date,
    owner_id: str | None,
    *,
    kind: str | None = None,
    status: str = "open",
    score: str = "i.urgency",
    team: str | None = None,
) -> list[tuple[str, str]]:
    """(id, CRN, name, practitioner and title joined by a unit separator) of every queue row, in
    triage order: what search looks through (of one team, if given)."""
    order = (_ORDER_IN_KIND if kind else _ORDER).format(score=score)
    sql = (
        f"SELECT i.id, COALESCE(i.crn, '') || char(31) || COALESCE(c.name, '') || char(31) ||"
        f" COALESCE(pp.name, raiser.name, '') || char(31) || i.title {_QUEUE_FROM}"
        f" WHERE {_queue_where(kind, status, team)} ORDER BY {order}"
    )
    return db.execute(sql, {"today": today.isoformat(), "owner": owner_id, "kind": kind, "team": team}).fetchall()


_TEAM_FROM = """
LEFT JOIN cases c ON c.crn = i.crn
LEFT JOIN staff pp ON pp.id = c.practitioner_id
LEFT JOIN staff raiser ON raiser.id = i.raised_by
LEFT JOIN supervision sup ON i.kind = 'supervision' AND sup.item_id = i.id
LEFT JOIN staff supervisee ON supervisee.id = sup.practitioner_id
"""


def queue_counts(
    db: Database, today: date, owner_id: str | None, team: str | None = None
) -> dict[str, tuple[int, int]]:
    """Per kind: (open items in the queue, of which overdue); under ``waiting``, items waiting on
    others; under ``snoozed``, items snoozed to a later day (overdue: due before today); under
    ``catch_up``, the open items on the catch-up list (counted in their kind's number too).
    ``team`` counts one team's queue (as ``queue_page`` reads it); None, every team's."""
    # The same conditions as the queue's own rows, so the counts are the queue's totals. Without a
    # team they are read from the index alone; with one, each item's case and people are looked up.
    params = {"today": today.isoformat(), "owner": owner_id, "team": team}
    source, scope = (f"items i {_TEAM_FROM}", f" AND {_IN_TEAM}") if team else ("items i", "")
    rows = db.execute(
        f"SELECT i.kind, COUNT(*), SUM(i.due IS NOT NULL AND i.due < :today) FROM {source} WHERE {_OPEN}{scope}"
        " GROUP BY i.kind",
        params,
    ).fetchall()
    counts = {kind: (count, overdue or 0) for kind, count, overdue in rows}
    for name, where in (("waiting", _WAITING), ("catch_up", _CATCH_UP), ("snoozed", _SNOOZED)):
        count, overdue = db.execute(
            f"SELECT COUNT(*), SUM(i.due IS NOT NULL AND i.due < :today) FROM {source} WHERE {where}{scope}", params
        ).fetchone()
        if count:
            counts[name] = (count, overdue or 0)
    return counts


# --- Items ---------------------------------------------------------------------------------------

_DETAIL_TABLE = {
    "sbar": "sbars",
    "touch_point": "touch_points",
    "countersign": "countersigns",
    "alert": "alerts",
    "task": "tasks",
    "action": "actions",
    "supervision": "supervision",
    "confirm": "confirms",
}


def detail_table(kind: str) -> str:
    """The table holding the kind's own facts."""
    return _DETAIL_TABLE[kind]


def get_item(db: Database, item_id: str) -> dict[str, Any]:
    """The item with its kind's facts merged in (keys of the detail table), or NotFound."""
    item = one_row(db, "SELECT * FROM items WHERE id = ?", [item_id])
    if item is None:
        raise NotFound(f"no item with id {item_id}")
    detail = one_row(db, f"SELECT * FROM {detail_table(item['kind'])} WHERE item_id = ?", [item_id]) or {}
    detail.pop("item_id", None)
    return {**item, "detail": detail}


def item_ids_starting(db: Database, prefix: str, limit: int = 2) -> list[str]:
    """Ids of items that begin with ``prefix`` (at most ``limit``): a short id typed in a shell."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [
        r[0] for r in db.execute("SELECT id FROM items WHERE id LIKE ? ESCAPE '\\' LIMIT ?", [escaped + "%", limit])
    ]


def last_audit_on_item(db: Database, item_id: str, actor_id: str | None, actions: tuple[str, ...]) -> int | None:
    """The newest audit row of ``actor_id`` doing one of ``actions`` to the item, not undone since."""
    marks = ",".join("?" * len(actions))
    row = db.execute(
        f"""SELECT a.id FROM audit_log a WHERE a.entity = 'item' AND a.entity_id = ? AND a.actor_id IS ?
              AND a.action IN ({marks})
              AND NOT EXISTS (SELECT 1 FROM audit_log u WHERE u.action = 'undo' AND u.entity_id = CAST(a.id AS TEXT))
            ORDER BY a.id DESC LIMIT 1""",
        [item_id, actor_id, *actions],
    ).fetchone()
    return row[0] if row else None


def confirm_items(db: Database, oversight_id: str) -> list[str]:
    """The ``confirm`` items an oversight entry made (one, when a CASPO entered it in an SPO's name)."""
    return [r[0] for r in db.execute("SELECT item_id FROM confirms WHERE oversight_id = ?", [oversight_id])]


def open_items_for_case(db: Database, crn: str, kind: str) -> list[dict[str, Any]]:
    return all_rows(db, "SELECT * FROM items WHERE crn = ? AND kind = ? AND status != 'closed'", [crn, kind])


def get_case(db: Database, crn: str) -> dict[str, Any]:
    """The case with its practitioner's name and its flags, or NotFound."""
    case = one_row(
        db,
        """SELECT c.*, s.name AS practitioner, s.role AS practitioner_role
           FROM cases c LEFT JOIN staff s ON s.id = c.practitioner_id WHERE c.crn = ?""",
        [crn],
    )
    if case is None:
        raise NotFound(f"no case with CRN {crn}")
    case["flags"] = all_rows(
        db, "SELECT code, description, review_date FROM case_flags WHERE crn = ? ORDER BY code", [crn]
    )
    return case


def case_exists(db: Database, crn: str) -> bool:
    return db.execute("SELECT 1 FROM cases WHERE crn = ?", [crn]).fetchone() is not None


#: An oversight entry counts as a manager having looked unless it is a withdrawal or was withdrawn.
VALID_ENTRY = """o.outcome != 'withdrawn' AND o.rowid NOT IN (
    SELECT t.rowid FROM oversight_entries w JOIN oversight_entries t ON t.id = w.supersedes_id
    WHERE w.outcome = 'withdrawn')"""


def case_facts_rows(db: Database) -> list[dict[str, Any]]:
    """Every case with the date of its last oversight entry that counts (``VALID_ENTRY``: a withdrawn
    entry does not restart the quarterly clock), for the touch-point rules."""
    return all_rows(
        db,
        f"""SELECT c.crn, c.rosh, c.sentence_type, c.sentence_start, c.sentence_end,
                  (SELECT MAX(substr(o.created_at, 1, 10)) FROM oversight_entries o WHERE o.crn = c.crn AND {VALID_ENTRY})
                  AS last_oversight
           FROM cases c""",
    )


def flags_with_reviews(db: Database, until: date) -> list[dict[str, Any]]:
    return all_rows(
        db,
        "SELECT crn, code, review_date FROM case_flags WHERE review_date IS NOT NULL AND review_date <= ?",
        [until.isoformat()],
    )


def recent_oversight(db: Database, crn: str, limit: int = 3) -> list[dict[str, Any]]:
    """The case's newest oversight entries with who decided and who entered them."""
    return all_rows(
        db,
        """SELECT o.*, COALESCE(p.decided_by_name, d.name) AS decided_by_name,
                  COALESCE(p.entered_by_name, e.name) AS entered_by_name,
                  (SELECT n.id FROM oversight_entries n WHERE n.supersedes_id = o.id LIMIT 1) AS superseded_by
           FROM oversight_entries o LEFT JOIN oversight_snapshots p ON p.oversight_id = o.id
           JOIN staff d ON d.id = o.decided_by JOIN staff e ON e.id = o.entered_by
           WHERE o.crn = ? ORDER BY o.created_at DESC, o.rowid DESC LIMIT ?""",
        [crn, limit],
    )


def get_oversight(db: Database, entry_id: str) -> dict[str, Any]:
    entry = one_row(db, "SELECT * FROM oversight_entries WHERE id = ?", [entry_id])
    if entry is None:
        raise NotFound(f"no oversight entry with id {entry_id}")
    return entry


def case_timeline(db: Database, crn: str) -> list[dict[str, Any]]:
    """Everything on the case, newest first: oversight entries and items of every kind."""
    entries = all_rows(
        db,
        """SELECT 'oversight' AS what, o.rowid AS seq, o.id, o.created_at AS at, o.type, o.outcome, o.discussed, o.decision,
                  o.supersedes_id, COALESCE(p.decided_by_name, d.name) AS by_name,
                  (SELECT n.id FROM oversight_entries n WHERE n.supersedes_id = o.id LIMIT 1) AS superseded_by
           FROM oversight_entries o LEFT JOIN oversight_snapshots p ON p.oversight_id = o.id
           JOIN staff d ON d.id = o.decided_by WHERE o.crn = ?""",
        [crn],
    )
    items = all_rows(
        db,
        """SELECT 'item' AS what, i.rowid AS seq, i.id, i.created_at AS at, i.kind, i.title, i.status, i.due, i.closed_note,
                  i.waiting_on, i.waiting_since, i.snoozed_until, s.info_request, s.info_answer, s.escalated_to,
                  s.escalation_note, s.escalation_answer
           FROM items i LEFT JOIN sbars s ON i.kind = 'sbar' AND s.item_id = i.id WHERE i.crn = ?""",
        [crn],
    )
    # Same-second rows keep the order they were written in (a correction after what it corrects).
    return sorted(entries + items, key=lambda r: (r["at"], r["what"] == "oversight", r["seq"]), reverse=True)


def search_cases(db: Database, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Cases whose CRN or name contains ``text``; a whole CRN is looked up directly (no scan)."""
    select = "SELECT c.crn, c.name, c.rosh, s.name AS practitioner FROM cases c LEFT JOIN staff s ON s.id = c.practitioner_id"
    exact = all_rows(db, select + " WHERE c.crn = ?", [text.strip().upper()])
    if exact:
        return exact
    like = f"%{text.strip()}%"
    return all_rows(
        db,
        """SELECT c.crn, c.name, c.rosh, s.name AS practitioner FROM cases c LEFT JOIN staff s ON s.id = c.practitioner_id
           WHERE c.crn LIKE ? OR c.name LIKE ? ORDER BY c.crn LIMIT ?""",
        [like, like, limit],
    )


# --- Admin: transfers, the touch-point diary, MAPPA reviews -------------------------------------


def get_transfer(db: Database, transfer_id: str) -> dict[str, Any]:
    row = one_row(db, "SELECT * FROM transfers WHERE id = ?", [transfer_id])
    if row is None:
        raise NotFound(f"no transfer with id {transfer_id}")
    return row


def open_transfers(db: Database) -> list[dict[str, Any]]:
    return all_rows(
        db,
        """SELECT t.*, c.name FROM transfers t JOIN cases c ON c.crn = t.crn
           WHERE t.status IN ('requested', 'in_progress') ORDER BY t.due IS NULL, t.due, t.requested_on""",
    )


def touch_points_due(db: Database, until: date) -> list[dict[str, Any]]:
    """Open touch points due by ``until`` (overdue included) with case and practitioner."""
    return all_rows(
        db,
        """SELECT i.id, i.crn, i.due, i.title, c.name, s.name AS practitioner, s.email, t.arranged_for, t.reminder_sent_at
           FROM items i JOIN touch_points t ON t.item_id = i.id JOIN cases c ON c.crn = i.crn
           LEFT JOIN staff s ON s.id = c.practitioner_id
           WHERE i.kind = 'touch_point' AND i.status = 'open' AND i.due <= ?
           ORDER BY s.name, i.due, i.crn""",
        [until.isoformat()],
    )


def mappa_level1_reviews(db: Database, until: date) -> list[dict[str, Any]]:
    """MAPPA level 1 cases with their MAPP review date, those due by ``until`` or unset, soonest first."""
    return all_rows(
        db,
        """SELECT c.crn, c.name, c.mappa_category, s.name AS practitioner, f.review_date
           FROM cases c LEFT JOIN case_flags f ON f.crn = c.crn AND f.code = 'MAPP'
           LEFT JOIN staff s ON s.id = c.practitioner_id
           WHERE c.mappa_level = 1 AND (f.review_date IS NULL OR f.review_date <= ?)
           ORDER BY f.review_date IS NOT NULL, f.review_date, c.crn""",
        [until.isoformat()],
    )


#: Audit actions that record personal data being consulted or disclosed.
ACCESS_ACTIONS = (
    "view_case",
    "view_queue",
    "search",
    "view_checkin",
    "view_team",
    "view_monthly",
    "view_protected_hour",
    "view_supervision",
    "view_admin",
    "export_oversight",
    "print_queue",
    "export_file",
)


#: Of those, the ones that change nothing a screen shows: another connection's commit that wrote only
#: these (this app's own views, logged on a thread) is no reason to read the screen again.
READ_ONLY_ACTIONS = tuple(a for a in ACCESS_ACTIONS if a != "export_oversight")


def last_audit_id(db: Database) -> int:
    return db.execute("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetchone()[0]


def audit_since(db: Database, after: int) -> tuple[int, bool]:
    """(the newest audit row's id, True if every row after ``after`` only records something read)."""
    actions = ", ".join(f"'{a}'" for a in READ_ONLY_ACTIONS)
    last, writes = db.execute(
        f"SELECT COALESCE(MAX(id), ?), COUNT(*) FILTER (WHERE action NOT IN ({actions})) FROM audit_log WHERE id > ?",
        [after, after],
    ).fetchone()
    return last, last > after and writes == 0


def access_log(db: Database, crn: str | None, limit: int) -> list[dict[str, Any]]:
    """Views, searches, prints and exports from the audit log, newest first, with who did them and
    what was shown (``new``, as JSON)."""
    actions = ", ".join(f"'{a}'" for a in ACCESS_ACTIONS)
    sql = f"""SELECT a.at, a.action, a.entity_id, a.new AS shown, s.name AS actor FROM audit_log a
              LEFT JOIN staff s ON s.id = a.actor_id WHERE a.action IN ({actions})"""
    params: list[Any] = []
    if crn:
        sql += " AND a.entity_id = ?"
        params.append(crn)
    return all_rows(db, sql + " ORDER BY a.id DESC LIMIT ?", [*params, limit])


# --- The signed record (spo_tui/domain/chain.py) -----------------------------------------------

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


# --- Staff ---------------------------------------------------------------------------------------


def get_staff(db: Database, staff_id: str) -> dict[str, Any]:
    row = one_row(db, "SELECT * FROM staff WHERE id = ?", [staff_id])
    if row is None:
        raise NotFound(f"no staff member with id {staff_id}")
    return row


def find_staff(db: Database, name: str) -> dict[str, Any] | None:
    """A staff member by exact name, case-insensitively."""
    return one_row(db, "SELECT * FROM staff WHERE name = ? COLLATE NOCASE", [name.strip()])


def case_team(db: Database, crn: str) -> str | None:
    """The team of a case: its practitioner's team (None if unallocated or in no team)."""
    row = db.execute(
        "SELECT s.team FROM cases c JOIN staff s ON s.id = c.practitioner_id WHERE c.crn = ?", [crn]
    ).fetchone()
    return (row[0] or None) if row else None


def team_spo(db: Database, team: str) -> dict[str, Any] | None:
    """The active SPO of ``team`` (the first by name if it has several), or None."""
    if not team:
        return None
    return one_row(
        db, "SELECT * FROM staff WHERE team = ? AND role = 'SPO' AND active = 1 ORDER BY name LIMIT 1", [team]
    )


def teams(db: Database) -> list[str]:
    """Every team with an active SPO, by name: what a PDU head chooses among."""
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT team FROM staff WHERE role = 'SPO' AND active = 1 AND team <> '' ORDER BY team"
        )
    ]


def staff_list(db: Database, roles: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    if roles:
        marks = ",".join("?" * len(roles))
        return all_rows(db, f"SELECT * FROM staff WHERE active = 1 AND role IN ({marks}) ORDER BY name", list(roles))
    return all_rows(db, "SELECT * FROM staff WHERE active = 1 ORDER BY name")


def absent_staff(db: Database, day: date) -> list[dict[str, Any]]:
    return all_rows(
        db,
        """SELECT s.*, a.reason, a.end_date FROM absences a JOIN staff s ON s.id = a.staff_id
           WHERE a.start_date <= ? AND a.end_date >= ? ORDER BY s.name""",
        [day.isoformat(), day.isoformat()],
    )


def practitioner_supervision_rows(db: Database, year_ago: date) -> list[dict[str, Any]]:
    """Per active practitioner: last one-to-one held and RPSS dates held since ``year_ago``."""
    return all_rows(
        db,
        """SELECT s.id, s.name, s.role,
                  (SELECT MAX(sv.held_on) FROM supervision sv WHERE sv.practitioner_id = s.id AND sv.kind = 'one_to_one'
                     AND sv.held_on IS NOT NULL) AS last_one_to_one,
                  (SELECT group_concat(sv.held_on) FROM supervision sv WHERE sv.practitioner_id = s.id AND sv.kind = 'rpss'
                     AND sv.held_on >= ?) AS rpss_dates
           FROM staff s WHERE s.active = 1 AND s.role IN ('PO', 'PSO', 'PQiP', 'NQO') ORDER BY s.name""",
        [year_ago.isoformat()],
    )


def get_draft(db: Database, key: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM drafts WHERE key = ?", [key])


# --- nDelius export (spo_tui/services/export.py) -------------------------------------------------

#: An entry is marked entered while a 'mark' batch names it and no 'unmark' record has taken that batch back.
_LIVE_MARK = """EXISTS (SELECT 1 FROM ndelius_marks m JOIN ndelius_batches b ON b.id = m.batch_id AND b.action = 'mark'
    WHERE m.oversight_id = {entry} AND NOT EXISTS (SELECT 1 FROM ndelius_batches u WHERE u.undoes = b.id))"""


def oversight_not_entered(db: Database, since_iso: str = "") -> list[dict[str, Any]]:
    """Oversight entries made at or after ``since_iso`` (UTC) not marked entered in nDelius, oldest
    first (created_at, then the order written), with what they recorded at the time (names and roles
    of who decided and entered, and the agreed actions as JSON: ``spo_tui.store.writes.seal_oversight``)
    and, for a correction, when the entry it supersedes was made; for an entry on an SBAR, the
    questions asked and answers logged on it (``spo_tui.domain.exchanges``). Entries with no snapshot were not
    saved by spo-tui and are left out (:func:`unsealed_not_entered` counts them), and so are
    entries on no case (a supervision session, a staff one-to-one): they are not case contacts
    (:func:`staff_records_not_entered` counts them)."""
    return all_rows(
        db,
        f"""SELECT o.*, p.decided_by_name, p.decided_by_role, p.entered_by_name, p.entered_by_role,
                   p.actions AS agreed_actions, s.created_at AS supersedes_created_at,
                   sb.info_request, sb.info_answer, sb.escalated_to, sb.escalation_note, sb.escalation_answer
            FROM (SELECT o.rowid AS seq, o.* FROM oversight_entries o
                  WHERE o.created_at >= ? AND o.crn IS NOT NULL AND o.crn <> ''
                    AND NOT {_LIVE_MARK.format(entry="o.id")}) o
            JOIN oversight_snapshots p ON p.oversight_id = o.id
            LEFT JOIN oversight_entries s ON s.id = o.supersedes_id
            LEFT JOIN sbars sb ON sb.item_id = o.item_id
            ORDER BY o.created_at, o.seq""",
        [since_iso],
    )


def staff_records_not_entered(db: Database, since_iso: str = "") -> int:
    """How many entries on no case (supervision sessions, staff one-to-ones) the export leaves out."""
    return db.execute(
        "SELECT COUNT(*) FROM oversight_entries o WHERE o.created_at >= ? AND (o.crn IS NULL OR o.crn = '')",
        [since_iso],
    ).fetchone()[0]


def unsealed_not_entered(db: Database, since_iso: str = "") -> int:
    """How many entries the export leaves out because spo-tui did not save them (no snapshot)."""
    return db.execute(
        f"""SELECT COUNT(*) FROM oversight_entries o WHERE o.created_at >= ? AND NOT {_LIVE_MARK.format(entry="o.id")}
            AND NOT EXISTS (SELECT 1 FROM oversight_snapshots p WHERE p.oversight_id = o.id)""",
        [since_iso],
    ).fetchone()[0]


def ndelius_marks(db: Database, oversight_ids: list[str]) -> dict[str, dict[str, Any]]:
    """For each of ``oversight_ids``: whether it exists and, if marked entered, by whom and when
    (the batch that marks it now)."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(oversight_ids), 500):
        chunk = oversight_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for r in all_rows(
            db,
            f"""SELECT o.id, b.id AS batch_id, b.by_id AS entered_by, b.at AS entered_at, s.name AS entered_by_name
                FROM oversight_entries o
                LEFT JOIN ndelius_marks m ON m.oversight_id = o.id
                     AND m.batch_id IN (SELECT b2.id FROM ndelius_batches b2 WHERE b2.action = 'mark'
                                        AND NOT EXISTS (SELECT 1 FROM ndelius_batches u WHERE u.undoes = b2.id))
                LEFT JOIN ndelius_batches b ON b.id = m.batch_id
                LEFT JOIN staff s ON s.id = b.by_id WHERE o.id IN ({marks})""",
            chunk,
        ):
            if r["id"] not in found or r["batch_id"] is not None:
                found[r["id"]] = r
    return found


# --- Rule-made work (spo_tui/services/refresh.py) ---------------------------------------------------


def existing_rule_keys(db: Database, keys: list[str]) -> set[str]:
    """Those of ``keys`` that an item already has (any number of keys: passed as one JSON array)."""
    sql = "SELECT rule_key FROM items WHERE rule_key IN (SELECT value FROM json_each(?))"
    return {r[0] for r in db.execute(sql, [json.dumps(keys)])}


def open_work_pairs(db: Database, crns: set[str], practitioner_ids: set[str]) -> set[tuple[str, str]]:
    """(crn, touch-point reason) and (practitioner id, supervision kind) of the items still open for
    these cases and practitioners."""
    return set(
        db.execute(
            """SELECT i.crn, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id
               WHERE i.status != 'closed' AND i.crn IN (SELECT value FROM json_each(?))
               UNION ALL
               SELECT s.practitioner_id, s.kind FROM items i JOIN supervision s ON s.item_id = i.id
               WHERE i.status != 'closed' AND s.practitioner_id IN (SELECT value FROM json_each(?))""",
            [json.dumps(sorted(crns)), json.dumps(sorted(practitioner_ids))],
        ).fetchall()
    )


def ndelius_batches(db: Database, limit: int | None = None) -> list[dict[str, Any]]:
    """Batches of nDelius marks and un-marks, newest first, with who made them and, for a batch that
    has been taken back, when and by whom."""
    return all_rows(
        db,
        """SELECT b.*, s.name AS by_name, u.id AS undone_by_id, u.at AS undone_at, us.name AS undone_by_name
           FROM ndelius_batches b LEFT JOIN staff s ON s.id = b.by_id
           LEFT JOIN ndelius_batches u ON u.undoes = b.id LEFT JOIN staff us ON us.id = u.by_id
           ORDER BY b.at DESC, b.rowid DESC LIMIT ?""",
        [-1 if limit is None else limit],
    )


def find_ndelius_batches(db: Database, prefix: str) -> list[dict[str, Any]]:
    """Batches whose id starts with ``prefix`` (at most two: enough to tell that a prefix is ambiguous)."""
    return all_rows(
        db,
        """SELECT b.*, u.id AS undone_by_id, u.at AS undone_at FROM ndelius_batches b
           LEFT JOIN ndelius_batches u ON u.undoes = b.id WHERE b.id >= ? AND b.id < ? ORDER BY b.id LIMIT 2""",
        [prefix, prefix + "\U0010ffff"],
    )
