"""Reads: every SELECT the services and screens need, in one place.

Functions take the database first and return plain dicts or dataclasses; none writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from spo_tui.domain.errors import NotFound


def _one(db: Database, sql: str, params: list | tuple = ()) -> dict[str, Any] | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row))


def _all(db: Database, sql: str, params: list | tuple = ()) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


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
    status: str = "open"
    score: int = 0


_QUEUE_FROM = """
FROM items i
LEFT JOIN cases c ON c.crn = i.crn
LEFT JOIN staff pp ON pp.id = c.practitioner_id
LEFT JOIN staff raiser ON raiser.id = i.raised_by
LEFT JOIN sbars s ON i.kind = 'sbar' AND s.item_id = i.id
LEFT JOIN countersigns cs ON i.kind = 'countersign' AND cs.item_id = i.id
"""
_QUEUE_COLUMNS = """i.id, i.kind, i.crn, c.name, COALESCE(pp.name, raiser.name), c.rosh, c.mappa_level,
       i.title, i.due, i.created_at, s.urgency, cs.kind, cs.court_date, i.status"""
# Open and unsnoozed, for the owner (:owner) or for no one in particular.
_OPEN = """i.status = 'open' AND (i.snoozed_until IS NULL OR i.snoozed_until <= :today)
  AND (i.assigned_to IS NULL OR i.assigned_to = :owner)"""
# Waiting on someone else (more information asked, a task delegated): whoever holds it.
_WAITING = "i.status = 'waiting'"

#: The bare SQL selecting the queue's rows, unordered: the benchmark's yardstick.
QUEUE_SQL = f"SELECT {_QUEUE_COLUMNS} {_QUEUE_FROM} WHERE {_OPEN}"

# The triage order (``domain.urgency.sort_key``), written to match the indexes of migration 0006
# so SQLite walks an index instead of sorting. Within one kind, "alerts first" says nothing.
_ORDER = "i.kind <> 'alert', {score} DESC, COALESCE(i.due, '9999-12-31'), i.id"
_ORDER_IN_KIND = "{score} DESC, COALESCE(i.due, '9999-12-31'), i.id"


def _queue_where(kind: str | None, status: str) -> str:
    where = _WAITING if status == "waiting" else _OPEN
    return where + (" AND i.kind = :kind" if kind else "")


def queue_page(
    db: Database, today: date, owner_id: str | None, *, kind: str | None = None, status: str = "open",
    limit: int | None = None, offset: int = 0, score: str = "i.urgency",
) -> list[QueueRow]:
    """Open, unsnoozed items of ``owner_id`` or no one (of one kind, if given) with case facts, in
    triage order, from ``offset`` for ``limit`` rows (all if None).

    With ``status="waiting"``: the items waiting on someone else instead, whoever holds them.
    ``score`` is the SQL of each item's score: the stored column (fast, from an index) unless the
    caller could not bring stored scores up to date and passes ``scoring.score_sql(weights)``.
    """
    order = (_ORDER_IN_KIND if kind else _ORDER).format(score=score)
    sql = (f"SELECT {_QUEUE_COLUMNS}, {score} {_QUEUE_FROM} WHERE {_queue_where(kind, status)} ORDER BY {order}"
           " LIMIT :limit OFFSET :offset")  # fmt: skip
    params = {"today": today.isoformat(), "owner": owner_id, "kind": kind, "limit": -1 if limit is None else limit,
              "offset": offset}  # fmt: skip
    return [QueueRow(*row) for row in db.execute(sql, params).fetchall()]


def queue_rows_by_id(db: Database, today: date, ids: list[str], score: str = "i.urgency") -> list[QueueRow]:
    """The queue rows of ``ids``, in the order given (missing ids are left out)."""
    if not ids:
        return []
    params: dict[str, str] = {f"id{n}": item_id for n, item_id in enumerate(ids)}
    marks = ", ".join(f":{key}" for key in params)
    params["today"] = today.isoformat()
    cursor = db.execute(f"SELECT {_QUEUE_COLUMNS}, {score} {_QUEUE_FROM} WHERE i.id IN ({marks})", params)
    rows = {row[0]: QueueRow(*row) for row in cursor.fetchall()}
    return [rows[i] for i in ids if i in rows]


def queue_search_text(
    db: Database, today: date, owner_id: str | None, *, kind: str | None = None, status: str = "open",
    score: str = "i.urgency",
) -> list[tuple[str, str]]:
    """(id, CRN, name, practitioner and title joined by a unit separator) of every queue row, in
    triage order: what search looks through."""
    order = (_ORDER_IN_KIND if kind else _ORDER).format(score=score)
    sql = (f"SELECT i.id, COALESCE(i.crn, '') || char(31) || COALESCE(c.name, '') || char(31) ||"
           f" COALESCE(pp.name, raiser.name, '') || char(31) || i.title {_QUEUE_FROM}"
           f" WHERE {_queue_where(kind, status)} ORDER BY {order}")  # fmt: skip
    return db.execute(sql, {"today": today.isoformat(), "owner": owner_id, "kind": kind}).fetchall()


def queue_counts(db: Database, today: date, owner_id: str | None) -> dict[str, tuple[int, int]]:
    """Per kind: (open items in the queue, of which overdue); under ``waiting``, items waiting on others."""
    # The same conditions as the queue's own rows, so the counts are the queue's totals.
    params = {"today": today.isoformat(), "owner": owner_id}
    rows = db.execute(
        f"SELECT i.kind, COUNT(*), SUM(i.due IS NOT NULL AND i.due < :today) FROM items i WHERE {_OPEN} GROUP BY i.kind",
        params,
    ).fetchall()
    counts = {kind: (count, overdue or 0) for kind, count, overdue in rows}
    waiting = db.execute(
        f"SELECT COUNT(*), SUM(i.due IS NOT NULL AND i.due < :today) FROM items i WHERE {_WAITING}", params
    ).fetchone()
    if waiting[0]:
        counts["waiting"] = (waiting[0], waiting[1] or 0)
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
}


def detail_table(kind: str) -> str:
    """The table holding the kind's own facts."""
    return _DETAIL_TABLE[kind]


def get_item(db: Database, item_id: str) -> dict[str, Any]:
    """The item with its kind's facts merged in (keys of the detail table), or NotFound."""
    item = _one(db, "SELECT * FROM items WHERE id = ?", [item_id])
    if item is None:
        raise NotFound(f"no item with id {item_id}")
    detail = _one(db, f"SELECT * FROM {detail_table(item['kind'])} WHERE item_id = ?", [item_id]) or {}
    detail.pop("item_id", None)
    return {**item, "detail": detail}


def open_items_for_case(db: Database, crn: str, kind: str) -> list[dict[str, Any]]:
    return _all(db, "SELECT * FROM items WHERE crn = ? AND kind = ? AND status != 'closed'", [crn, kind])


def get_case(db: Database, crn: str) -> dict[str, Any]:
    """The case with its practitioner's name and its flags, or NotFound."""
    case = _one(
        db,
        """SELECT c.*, s.name AS practitioner, s.role AS practitioner_role
           FROM cases c LEFT JOIN staff s ON s.id = c.practitioner_id WHERE c.crn = ?""",
        [crn],
    )
    if case is None:
        raise NotFound(f"no case with CRN {crn}")
    case["flags"] = _all(db, "SELECT code, description, review_date FROM case_flags WHERE crn = ? ORDER BY code", [crn])
    return case


def case_exists(db: Database, crn: str) -> bool:
    return db.execute("SELECT 1 FROM cases WHERE crn = ?", [crn]).fetchone() is not None


def case_facts_rows(db: Database) -> list[dict[str, Any]]:
    """Every case with the date of its last oversight entry, for the touch-point rules."""
    return _all(
        db,
        """SELECT c.crn, c.rosh, c.sentence_type, c.sentence_start, c.sentence_end,
                  (SELECT MAX(substr(o.created_at, 1, 10)) FROM oversight_entries o WHERE o.crn = c.crn) AS last_oversight
           FROM cases c""",
    )


def flags_with_reviews(db: Database, until: date) -> list[dict[str, Any]]:
    return _all(db, "SELECT crn, code, review_date FROM case_flags WHERE review_date IS NOT NULL AND review_date <= ?", [until.isoformat()])


def recent_oversight(db: Database, crn: str, limit: int = 3) -> list[dict[str, Any]]:
    """The case's newest oversight entries with who decided and who entered them."""
    return _all(
        db,
        """SELECT o.*, d.name AS decided_by_name, e.name AS entered_by_name,
                  (SELECT n.id FROM oversight_entries n WHERE n.supersedes_id = o.id LIMIT 1) AS superseded_by
           FROM oversight_entries o
           JOIN staff d ON d.id = o.decided_by JOIN staff e ON e.id = o.entered_by
           WHERE o.crn = ? ORDER BY o.created_at DESC, o.rowid DESC LIMIT ?""",
        [crn, limit],
    )


def get_oversight(db: Database, entry_id: str) -> dict[str, Any]:
    entry = _one(db, "SELECT * FROM oversight_entries WHERE id = ?", [entry_id])
    if entry is None:
        raise NotFound(f"no oversight entry with id {entry_id}")
    return entry


def case_timeline(db: Database, crn: str) -> list[dict[str, Any]]:
    """Everything on the case, newest first: oversight entries and items of every kind."""
    entries = _all(
        db,
        """SELECT 'oversight' AS what, o.rowid AS seq, o.id, o.created_at AS at, o.type, o.outcome, o.discussed, o.decision,
                  o.supersedes_id, d.name AS by_name,
                  (SELECT n.id FROM oversight_entries n WHERE n.supersedes_id = o.id LIMIT 1) AS superseded_by
           FROM oversight_entries o JOIN staff d ON d.id = o.decided_by WHERE o.crn = ?""",
        [crn],
    )
    items = _all(
        db,
        """SELECT 'item' AS what, i.rowid AS seq, i.id, i.created_at AS at, i.kind, i.title, i.status, i.due, i.closed_note
           FROM items i WHERE i.crn = ?""",
        [crn],
    )
    # Same-second rows keep the order they were written in (a correction after what it corrects).
    return sorted(entries + items, key=lambda r: (r["at"], r["what"] == "oversight", r["seq"]), reverse=True)


def search_cases(db: Database, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Cases whose CRN or name contains ``text``; a whole CRN is looked up directly (no scan)."""
    select = "SELECT c.crn, c.name, c.rosh, s.name AS practitioner FROM cases c LEFT JOIN staff s ON s.id = c.practitioner_id"
    exact = _all(db, select + " WHERE c.crn = ?", [text.strip().upper()])
    if exact:
        return exact
    like = f"%{text.strip()}%"
    return _all(
        db,
        """SELECT c.crn, c.name, c.rosh, s.name AS practitioner FROM cases c LEFT JOIN staff s ON s.id = c.practitioner_id
           WHERE c.crn LIKE ? OR c.name LIKE ? ORDER BY c.crn LIMIT ?""",
        [like, like, limit],
    )


# --- Admin: transfers, the touch-point diary, MAPPA reviews -------------------------------------


def get_transfer(db: Database, transfer_id: str) -> dict[str, Any]:
    row = _one(db, "SELECT * FROM transfers WHERE id = ?", [transfer_id])
    if row is None:
        raise NotFound(f"no transfer with id {transfer_id}")
    return row


def open_transfers(db: Database) -> list[dict[str, Any]]:
    return _all(
        db,
        """SELECT t.*, c.name FROM transfers t JOIN cases c ON c.crn = t.crn
           WHERE t.status IN ('requested', 'in_progress') ORDER BY t.due IS NULL, t.due, t.requested_on""",
    )


def touch_points_due(db: Database, until: date) -> list[dict[str, Any]]:
    """Open touch points due by ``until`` (overdue included) with case and practitioner."""
    return _all(
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
    return _all(
        db,
        """SELECT c.crn, c.name, c.mappa_category, s.name AS practitioner, f.review_date
           FROM cases c LEFT JOIN case_flags f ON f.crn = c.crn AND f.code = 'MAPP'
           LEFT JOIN staff s ON s.id = c.practitioner_id
           WHERE c.mappa_level = 1 AND (f.review_date IS NULL OR f.review_date <= ?)
           ORDER BY f.review_date IS NOT NULL, f.review_date, c.crn""",
        [until.isoformat()],
    )


#: Audit actions that record personal data being consulted or disclosed.
ACCESS_ACTIONS = ("view_case", "view_queue", "search", "view_checkin", "view_team", "view_monthly", "view_protected_hour",
                  "view_supervision", "view_admin", "export_oversight", "print_queue", "export_file")  # fmt: skip


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
    return _all(db, sql + " ORDER BY a.id DESC LIMIT ?", [*params, limit])


# --- The tamper-evident chain ---------------------------------------------------------------------


def chain_links(db: Database) -> Iterator[tuple[int, str, str, dict[str, Any] | None]]:
    """The oversight chain in order, streamed: (position, oversight id, hash, the entry or None)."""
    from spo_tui.domain.chain import HASHED_FIELDS

    cols = ", ".join(f"o.{f}" for f in HASHED_FIELDS)
    cursor = db.execute(
        f"""SELECT c.position, c.oversight_id, c.hash, {cols} FROM oversight_chain c
            LEFT JOIN oversight_entries o ON o.id = c.oversight_id ORDER BY c.position"""
    )
    for row in cursor:
        entry = dict(zip(HASHED_FIELDS, row[3:])) if row[3] is not None else None
        yield row[0], row[1], row[2], entry


def unlinked_oversight(db: Database) -> list[dict[str, Any]]:
    """Oversight entries that no chain link names."""
    from spo_tui.domain.chain import HASHED_FIELDS

    cols = ", ".join(f"o.{f}" for f in HASHED_FIELDS)
    cursor = db.execute(
        f"""SELECT {cols} FROM oversight_entries o LEFT JOIN oversight_chain c ON c.oversight_id = o.id
            WHERE c.oversight_id IS NULL"""
    )
    return [dict(zip(HASHED_FIELDS, row)) for row in cursor]


# --- Staff ---------------------------------------------------------------------------------------


def get_staff(db: Database, staff_id: str) -> dict[str, Any]:
    row = _one(db, "SELECT * FROM staff WHERE id = ?", [staff_id])
    if row is None:
        raise NotFound(f"no staff member with id {staff_id}")
    return row


def find_staff(db: Database, name: str) -> dict[str, Any] | None:
    """A staff member by exact name, case-insensitively."""
    return _one(db, "SELECT * FROM staff WHERE name = ? COLLATE NOCASE", [name.strip()])


def staff_list(db: Database, roles: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    if roles:
        marks = ",".join("?" * len(roles))
        return _all(db, f"SELECT * FROM staff WHERE active = 1 AND role IN ({marks}) ORDER BY name", list(roles))
    return _all(db, "SELECT * FROM staff WHERE active = 1 ORDER BY name")


def absent_staff(db: Database, day: date) -> list[dict[str, Any]]:
    return _all(
        db,
        """SELECT s.*, a.reason, a.end_date FROM absences a JOIN staff s ON s.id = a.staff_id
           WHERE a.start_date <= ? AND a.end_date >= ? ORDER BY s.name""",
        [day.isoformat(), day.isoformat()],
    )


def practitioner_supervision_rows(db: Database, year_ago: date) -> list[dict[str, Any]]:
    """Per active practitioner: last one-to-one held and RPSS dates held since ``year_ago``."""
    return _all(
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
    return _one(db, "SELECT * FROM drafts WHERE key = ?", [key])


# --- nDelius export (spo_tui/services/export.py) -------------------------------------------------

_NOT_ENTERED = """
FROM oversight_entries o
LEFT JOIN ndelius_entries n ON n.oversight_id = o.id
WHERE n.oversight_id IS NULL AND o.created_at >= ?
"""


def oversight_not_entered(db: Database, since_iso: str = "") -> list[dict[str, Any]]:
    """Oversight entries made at or after ``since_iso`` (UTC) not yet marked entered in nDelius,
    oldest first (created_at, then the order written), with the names and role the export needs
    and, for a correction, when the entry it supersedes was made."""
    return _all(
        db,
        f"""SELECT o.*, d.name AS decided_by_name, d.role AS decided_by_role, e.name AS entered_by_name,
                   s.created_at AS supersedes_created_at
            FROM (SELECT o.rowid AS seq, o.* {_NOT_ENTERED}) o
            JOIN staff d ON d.id = o.decided_by JOIN staff e ON e.id = o.entered_by
            LEFT JOIN oversight_entries s ON s.id = o.supersedes_id
            ORDER BY o.created_at, o.seq""",
        [since_iso],
    )


def actions_of_oversight_not_entered(db: Database, since_iso: str = "") -> list[dict[str, Any]]:
    """The agreed actions of the entries :func:`oversight_not_entered` returns, in the order they
    were agreed: oversight_id, description, owner (name) and due (ISO date)."""
    return _all(
        db,
        f"""SELECT a.oversight_id, a.description, s.name AS owner, i.due
            FROM actions a JOIN items i ON i.id = a.item_id JOIN staff s ON s.id = a.owner_id
            WHERE a.oversight_id IN (SELECT o.id {_NOT_ENTERED})
            ORDER BY i.rowid""",
        [since_iso],
    )


def ndelius_marks(db: Database, oversight_ids: list[str]) -> dict[str, dict[str, Any]]:
    """For each of ``oversight_ids``: whether it exists and, if marked entered, by whom and when."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(oversight_ids), 500):
        chunk = oversight_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for r in _all(
            db,
            f"""SELECT o.id, n.entered_by, n.entered_at, s.name AS entered_by_name
                FROM oversight_entries o LEFT JOIN ndelius_entries n ON n.oversight_id = o.id
                LEFT JOIN staff s ON s.id = n.entered_by WHERE o.id IN ({marks})""",
            chunk,
        ):
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
