"""Reads: every SELECT the services and screens need, in one place.

Functions take the database first and return plain dicts or dataclasses; none writes. The queue's
reads are in ``queue_queries`` and the signed record's in ``record_queries``, re-exported here.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlite_utils import Database

from spo_tui.domain.errors import NotFound
from spo_tui.store.queue_queries import (
    ITEM_TEAM,
    QUEUE_SQL,
    QueueRow,
    queue_counts,
    queue_page,
    queue_rows_by_id,
    queue_search_text,
)
from spo_tui.store.record_queries import (
    SNAPSHOT_ALL,
    agreed_actions,
    all_record_contents,
    chain_has_records,
    chain_head,
    chain_head_link,
    chain_links,
    legacy_chain_links,
    legacy_unlinked_count,
    link_at,
    links_between,
    orphan_marks,
    oversight_people,
    record_content,
    record_store_rows,
    store_id,
    table_exists,
    triggers,
    unlinked_records,
)
from spo_tui.store.rows import all_rows, one_row

# The queue's reads and the signed record's live in their own modules; they are re-exported here.
__all__ = [
    "ITEM_TEAM",
    "QUEUE_SQL",
    "QueueRow",
    "SNAPSHOT_ALL",
    "agreed_actions",
    "all_record_contents",
    "chain_has_records",
    "chain_head",
    "chain_head_link",
    "chain_links",
    "legacy_chain_links",
    "legacy_unlinked_count",
    "link_at",
    "links_between",
    "orphan_marks",
    "oversight_people",
    "queue_counts",
    "queue_page",
    "queue_rows_by_id",
    "queue_search_text",
    "record_content",
    "record_store_rows",
    "store_id",
    "table_exists",
    "triggers",
    "unlinked_records",
]


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
        db,
        "SELECT code, description, review_date, review_period_months FROM case_flags WHERE crn = ? ORDER BY code",
        [crn],
    )
    return case


def case_exists(db: Database, crn: str) -> bool:
    return db.execute("SELECT 1 FROM cases WHERE crn = ?", [crn]).fetchone() is not None


#: Whether the staff ``team`` column named is a team with an active SPO (an SPO's team, as against a
#: PDU-wide group such as the PDU head's, SAO's and business manager's): ``.format(team=column)``.
TEAM_WITH_SPO = "(COALESCE({team}, '') <> '' AND {team} IN (SELECT team FROM staff WHERE role = 'SPO' AND active = 1))"

#: An oversight entry counts as a manager having looked unless it is a withdrawal or was withdrawn.
VALID_ENTRY = """o.outcome != 'withdrawn' AND o.rowid NOT IN (
    SELECT t.rowid FROM oversight_entries w JOIN oversight_entries t ON t.id = w.supersedes_id
    WHERE w.outcome = 'withdrawn')"""


def case_facts_rows(db: Database) -> list[dict[str, Any]]:
    """Every case with the date of its last oversight entry that counts (``VALID_ENTRY``: a withdrawn
    entry does not restart the quarterly clock), for the touch-point rules.

    Left out: a defendant not yet sentenced (``PRE_SENTENCE``: nobody manages the case yet) and the
    cases of a court team's practitioners (court teams do not manage cases [000 §3.2])."""
    return all_rows(
        db,
        f"""SELECT c.crn, c.rosh, c.sentence_type, c.sentence_start, c.sentence_end, c.mappa_level,
                  c.release_date, c.rotl_date, c.handover_date, c.lifer_panel_date, c.victim_contact,
                  EXISTS (SELECT 1 FROM case_flags f WHERE f.crn = c.crn AND f.code = 'INLL') AS lifer,
                  (SELECT MAX(substr(o.created_at, 1, 10)) FROM oversight_entries o WHERE o.crn = c.crn AND {VALID_ENTRY})
                  AS last_oversight
           FROM cases c
           WHERE c.sentence_type != 'PRE_SENTENCE'
             AND NOT EXISTS (SELECT 1 FROM staff s JOIN teams t ON t.name = s.team AND t.kind = 'court'
                             WHERE s.id = c.practitioner_id)""",
    )


def has_flag(db: Database, crn: str, code: str) -> bool:
    """True when the case has the registration ``code``."""
    return db.execute("SELECT 1 FROM case_flags WHERE crn = ? AND code = ?", [crn, code]).fetchone() is not None


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
                  (SELECT n.id FROM oversight_entries n WHERE n.supersedes_id = o.id LIMIT 1) AS superseded_by,
                  (SELECT n.outcome FROM oversight_entries n WHERE n.supersedes_id = o.id LIMIT 1) AS superseded_outcome,
                  l.level, l.chosen AS level_chosen, oi.kind AS item_kind, otp.reason AS touch_point_reason
           FROM oversight_entries o LEFT JOIN oversight_snapshots p ON p.oversight_id = o.id
           LEFT JOIN oversight_levels l ON l.oversight_id = o.id
           LEFT JOIN items oi ON oi.id = o.item_id LEFT JOIN touch_points otp ON otp.item_id = o.item_id
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


def entry_actions(db: Database, crn: str) -> list[dict[str, Any]]:
    """The agreed actions of the case's oversight entries: entry, due, done, item status (for sufficiency)."""
    return all_rows(
        db,
        """SELECT a.oversight_id, i.due, a.done_at, i.status FROM actions a JOIN items i ON i.id = a.item_id
           JOIN oversight_entries o ON o.id = a.oversight_id WHERE o.crn = ?""",
        [crn],
    )


def search_cases(db: Database, text: str, limit: int = 20, team: str | None = None) -> list[dict[str, Any]]:
    """Cases whose CRN or name contains ``text``; a whole CRN is looked up directly (no scan), in any
    team. ``team`` narrows the partial matches to that team's cases and those in no team's hands."""
    select = "SELECT c.crn, c.name, c.rosh, s.name AS practitioner FROM cases c LEFT JOIN staff s ON s.id = c.practitioner_id"
    exact = all_rows(db, select + " WHERE c.crn = ?", [text.strip().upper()])
    if exact:
        return exact
    like = f"%{text.strip()}%"
    in_team = f" AND (s.team = :team OR NOT {TEAM_WITH_SPO.format(team='s.team')})" if team else ""
    return all_rows(
        db,
        f"""{select} WHERE (c.crn LIKE :like OR c.name LIKE :like){in_team} ORDER BY c.crn LIMIT :limit""",
        {"like": like, "limit": limit, "team": team},
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


#: The case's practitioner ``s`` is in ``:team`` (or the case is in no SPO's team's hands); every
#: case when ``:team`` is NULL.
_CASE_IN_TEAM = f"(:team IS NULL OR s.team = :team OR NOT {TEAM_WITH_SPO.format(team='s.team')})"


def touch_points_due(db: Database, until: date, team: str | None = None) -> list[dict[str, Any]]:
    """Open touch points due by ``until`` (overdue included) with case and practitioner; of ``team``'s
    cases (and cases in no team's hands), every team's when None."""
    return all_rows(
        db,
        f"""SELECT i.id, i.crn, i.due, i.title, c.name, s.name AS practitioner, s.email, t.arranged_for, t.reminder_sent_at
           FROM items i JOIN touch_points t ON t.item_id = i.id JOIN cases c ON c.crn = i.crn
           LEFT JOIN staff s ON s.id = c.practitioner_id
           WHERE i.kind = 'touch_point' AND i.status = 'open' AND i.due <= :until AND {_CASE_IN_TEAM}
           ORDER BY s.name, i.due, i.crn""",
        {"until": until.isoformat(), "team": team},
    )


def mappa_level1_reviews(db: Database, until: date, team: str | None = None) -> list[dict[str, Any]]:
    """MAPPA level 1 cases with their MAPP review date, those due by ``until`` or unset, soonest first;
    of ``team``'s cases (and cases in no team's hands), every team's when None."""
    return all_rows(
        db,
        f"""SELECT c.crn, c.name, c.mappa_category, s.name AS practitioner, f.review_date
           FROM cases c LEFT JOIN case_flags f ON f.crn = c.crn AND f.code = 'MAPP'
           LEFT JOIN staff s ON s.id = c.practitioner_id
           WHERE c.mappa_level = 1 AND (f.review_date IS NULL OR f.review_date <= :until) AND {_CASE_IN_TEAM}
           ORDER BY f.review_date IS NOT NULL, f.review_date, c.crn""",
        {"until": until.isoformat(), "team": team},
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


# --- Staff ---------------------------------------------------------------------------------------


def get_staff(db: Database, staff_id: str) -> dict[str, Any]:
    row = one_row(db, "SELECT * FROM staff WHERE id = ?", [staff_id])
    if row is None:
        raise NotFound(f"no staff member with id {staff_id}")
    return row


def staff_by_id(db: Database, staff_id: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM staff WHERE id = ?", [staff_id])


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


def staff_teams(db: Database) -> list[str]:
    """Every team any active member of staff is in, by name."""
    return [r[0] for r in db.execute("SELECT DISTINCT team FROM staff WHERE active = 1 AND team <> '' ORDER BY team")]


def team_kind(db: Database, team: str | None) -> str:
    """What ``team`` does: 'court' or 'sentence_management' (a team never described, or no team)."""
    if not team:
        return "sentence_management"
    row = db.execute("SELECT kind FROM teams WHERE name = ?", [team]).fetchone()
    return row[0] if row else "sentence_management"


def last_return(db: Database, item_id: str) -> str | None:
    """The verdict the countersign item was last returned with (the deficits and guidance), or None."""
    row = db.execute(
        """SELECT verdict FROM countersign_history WHERE item_id = ? AND new_state IN ('REJECTED', 'RETURNED_TO_AUTHOR')
           ORDER BY at DESC, id DESC LIMIT 1""",
        [item_id],
    ).fetchone()
    return row[0] if row else None


def team_kinds(db: Database) -> dict[str, str]:
    """The kind of every team whose kind was set, by name."""
    return dict(db.execute("SELECT name, kind FROM teams ORDER BY name").fetchall())


def staff_list(db: Database, roles: tuple[str, ...] | None = None, team: str | None = None) -> list[dict[str, Any]]:
    """Active staff (of ``roles``, if given) by name. ``team`` keeps that team's members and the
    PDU-wide staff (in no team, or a "team" with no SPO: an SAO, a business manager, the PDU head);
    None keeps everyone."""
    where, params = "active = 1", []
    if roles:
        where += f" AND role IN ({','.join('?' * len(roles))})"
        params += list(roles)
    if team:
        where += f" AND (team = ? OR NOT {TEAM_WITH_SPO.format(team='team')})"
        params.append(team)
    return all_rows(db, f"SELECT * FROM staff WHERE {where} ORDER BY name", params)


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
                   sb.info_request, sb.info_answer, sb.escalated_to, sb.escalation_note, sb.escalation_answer,
                   l.level AS oversight_level
            FROM (SELECT o.rowid AS seq, o.* FROM oversight_entries o
                  WHERE o.created_at >= ? AND o.crn IS NOT NULL AND o.crn <> ''
                    AND NOT {_LIVE_MARK.format(entry="o.id")}) o
            JOIN oversight_snapshots p ON p.oversight_id = o.id
            LEFT JOIN oversight_levels l ON l.oversight_id = o.id
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
