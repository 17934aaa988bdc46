"""Reads and writes for level-1 assurance: R-CAT audits and facilities jobs' escalation
(``spo_tui.services.assurance``)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlite_utils import Database

from spo_tui.store.rows import all_rows


def rcat_practitioners(db: Database, roles: tuple[str, ...], team: str | None) -> list[dict[str, Any]]:
    """Active practitioners (of ``roles``, in ``team`` or every team), each with the day of their
    latest R-CAT audit (``last_audit``, or None)."""
    marks = ",".join("?" * len(roles))
    where = f"s.active = 1 AND s.role IN ({marks})" + (" AND s.team = ?" if team else "")
    return all_rows(
        db,
        f"""SELECT s.id, s.name, s.role, s.team,
                   (SELECT MAX(a.audited_on) FROM rcat_audits a WHERE a.practitioner_id = s.id) AS last_audit
            FROM staff s WHERE {where} ORDER BY s.name""",
        [*roles, *([team] if team else [])],
    )


def rcat_cases(db: Database, practitioner_ids: list[str]) -> list[dict[str, Any]]:
    """The cases these practitioners hold now, each with the day of its latest R-CAT audit."""
    if not practitioner_ids:
        return []
    marks = ",".join("?" * len(practitioner_ids))
    return all_rows(
        db,
        f"""SELECT c.crn, c.name, c.rosh, c.sentence_start, c.practitioner_id,
                   (SELECT MAX(a.audited_on) FROM rcat_audits a WHERE a.crn = c.crn) AS last_audit
            FROM cases c WHERE c.practitioner_id IN ({marks}) ORDER BY c.crn""",
        practitioner_ids,
    )


def rcat_audits_since(db: Database, since: date, team: str | None) -> list[dict[str, Any]]:
    """R-CAT audits on or after ``since``, newest first, with the names (the practitioner's team when
    ``team`` is given)."""
    return all_rows(
        db,
        """SELECT a.*, c.name AS case_name, pp.name AS practitioner, au.name AS auditor, au.role AS auditor_role,
                  en.name AS entered_by_name
           FROM rcat_audits a JOIN cases c ON c.crn = a.crn
           LEFT JOIN staff pp ON pp.id = a.practitioner_id
           JOIN staff au ON au.id = a.audited_by JOIN staff en ON en.id = a.entered_by
           WHERE a.audited_on >= ? AND (? IS NULL OR pp.team = ?)
           ORDER BY a.audited_on DESC, a.created_at DESC""",
        [since.isoformat(), team, team],
    )


def insert_rcat_audit(db: Database, row: dict[str, Any]) -> None:
    db.table("rcat_audits").insert(row)


def facilities_jobs_past_target(db: Database, categories: tuple[str, ...], today: date) -> list[dict[str, Any]]:
    """Facilities jobs not done whose target (the item's due date) has passed."""
    marks = ",".join("?" * len(categories))
    return all_rows(
        db,
        f"""SELECT i.id, i.due, i.status, i.raised_by, t.escalation_stage
            FROM items i JOIN tasks t ON t.item_id = i.id
            WHERE i.kind = 'task' AND i.status <> 'closed' AND i.due IS NOT NULL AND i.due < ?
              AND t.category IN ({marks})
            ORDER BY i.due, i.id""",
        [today.isoformat(), *categories],
    )


def delegated_tasks_past_due(db: Database, categories: tuple[str, ...], today: date) -> list[str]:
    """Ids of delegated tasks of other categories still waiting after their due date, never chased."""
    marks = ",".join("?" * len(categories))
    return [
        r[0]
        for r in db.execute(
            f"""SELECT i.id FROM items i JOIN tasks t ON t.item_id = i.id
                WHERE i.kind = 'task' AND i.status = 'waiting' AND i.due IS NOT NULL AND i.due < ?
                  AND t.delegated_to IS NOT NULL AND t.category NOT IN ({marks})
                  AND t.chased_at IS NULL
                ORDER BY i.due, i.id""",
            [today.isoformat(), *categories],
        )
    ]


def assignee_before_delegation(db: Database, item_id: str) -> str | None:
    """Whose queue a delegated task was in before its latest delegation (None: the team's queue)."""
    row = db.execute(
        """SELECT old FROM audit_log WHERE entity = 'item' AND entity_id = ? AND action = 'delegate_task'
           ORDER BY id DESC LIMIT 1""",
        [item_id],
    ).fetchone()
    if row is None or not row[0]:
        return None
    old = json.loads(row[0])
    value = (old.get("item") or {}).get("assigned_to")
    return str(value) if value else None


def first_staff_with_role(db: Database, role: str, team: str | None) -> dict[str, Any] | None:
    """An active member of staff with ``role``: in ``team`` if there is one, else anyone (by name)."""
    rows = all_rows(
        db,
        """SELECT * FROM staff WHERE active = 1 AND role = ?
           ORDER BY (team = ?) DESC, name LIMIT 1""",
        [role, team or ""],
    )
    return rows[0] if rows else None
