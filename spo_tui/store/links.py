"""Reads and writes of ``staff_links``: which operating-system users may act as which staff members.

The writes open no transaction of their own: ``spo_tui.services.identity`` wraps each in
``db.atomic()`` with its audit row.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from spo_tui.store.rows import all_rows


def linked_staff(db: Database, os_user: str) -> list[dict[str, Any]]:
    """The active staff members ``os_user`` may act as, SPOs first, then by name."""
    return all_rows(
        db,
        """SELECT s.* FROM staff_links l JOIN staff s ON s.id = l.staff_id
           WHERE l.os_user = ? AND s.active = 1
           ORDER BY s.role <> 'SPO', s.name""",
        [os_user],
    )


def any_links(db: Database) -> bool:
    """True once anyone at all is linked to a staff member in this store."""
    return db.execute("SELECT EXISTS (SELECT 1 FROM staff_links)").fetchone()[0] == 1


def all_links(db: Database) -> list[dict[str, Any]]:
    """Every link with the staff member's name and role and who made it, by OS user then name."""
    return all_rows(
        db,
        """SELECT l.os_user, l.staff_id, s.name, s.role, s.active, l.linked_at, b.name AS linked_by
           FROM staff_links l JOIN staff s ON s.id = l.staff_id LEFT JOIN staff b ON b.id = l.linked_by
           ORDER BY l.os_user, s.name""",
    )


def is_linked(db: Database, os_user: str, staff_id: str) -> bool:
    return (
        db.execute("SELECT 1 FROM staff_links WHERE os_user = ? AND staff_id = ?", [os_user, staff_id]).fetchone()
        is not None
    )


def spo_links_without(db: Database, os_user: str, staff_id: str) -> int:
    """How many links to an active SPO would be left if this one went."""
    return db.execute(
        """SELECT COUNT(*) FROM staff_links l JOIN staff s ON s.id = l.staff_id
           WHERE s.role = 'SPO' AND s.active = 1 AND NOT (l.os_user = ? AND l.staff_id = ?)""",
        [os_user, staff_id],
    ).fetchone()[0]


def insert_links(db: Database, os_user: str, staff_ids: list[str], linked_by: str | None, at: str) -> None:
    """Link ``os_user`` to each of ``staff_ids`` (a link already there is left as it is)."""
    db.conn.executemany(
        "INSERT OR IGNORE INTO staff_links(os_user, staff_id, linked_by, linked_at) VALUES (?, ?, ?, ?)",
        [(os_user, staff_id, linked_by, at) for staff_id in staff_ids],
    )


def delete_link(db: Database, os_user: str, staff_id: str) -> None:
    db.execute("DELETE FROM staff_links WHERE os_user = ? AND staff_id = ?", [os_user, staff_id])
