"""Reads for the team's rhythm: the check-in, the protected hour, supervision, coverage and trends.

Each function is one set-based query (GROUP BY, UNION ALL) over the whole store, so the screens stay
fast on a PDU's 5,000 cases and 150,000 oversight entries. ``team`` (a ``staff.team`` name) narrows
the rows to one team's practitioners and their cases; None means everyone in the store.

Dates are ``YYYY-MM-DD`` text. Timestamps are compared as ISO text: "on or before day D" is
``< 'D+1'`` (the next day's date), which sorts before every timestamp of that day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from spo_tui.store.queries import TEAM_WITH_SPO, VALID_ENTRY
from spo_tui.store.queue_queries import IN_TEAM, ITEM_TEAM_FROM
from spo_tui.store.rows import all_rows, one_row

PRACTITIONER_ROLES_SQL = "('PO', 'PSO', 'PQiP', 'NQO')"


#: The timestamp of case ``c``'s latest valid entry before ``:until`` (read from oversight_coverage).
LAST_SEEN = f"""(SELECT o.created_at FROM oversight_entries o INDEXED BY oversight_coverage
    WHERE o.crn = c.crn AND o.created_at < :until AND {VALID_ENTRY}
    ORDER BY o.created_at DESC LIMIT 1)"""

#: Cases on the caseload on ``:as_of``: commenced, and not yet ended.
CURRENT_CASE = "c.sentence_start <= :as_of AND (c.sentence_end IS NULL OR c.sentence_end >= :as_of)"

TEAM = "(:team IS NULL OR pp.team = :team)"


def _next_day(day: date) -> str:
    return (day + timedelta(days=1)).isoformat()


def _params(**kw: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in kw.items()}


# --- Check-in ------------------------------------------------------------------------------------


def absences_on(db: Database, day: date, team: str | None) -> list[dict[str, Any]]:
    """Staff absent on ``day`` (one row each: the absence ending last), by name."""
    return all_rows(
        db,
        """SELECT pp.id, pp.name, pp.role, a.reason, MIN(a.start_date) AS start_date, MAX(a.end_date) AS end_date
           FROM absences a JOIN staff pp ON pp.id = a.staff_id
           WHERE a.start_date <= :day AND a.end_date >= :day AND """
        + TEAM
        + """
           GROUP BY pp.id ORDER BY pp.name, pp.id""",
        _params(day=day, team=team),
    )


#: Who holds an item: the action's owner, the report's author, the SBAR's raiser, the supervisee,
#: else the case's practitioner. Tasks are the SPO's own and are held by no practitioner.
_HOLDER = """CASE i.kind WHEN 'action' THEN a.owner_id WHEN 'countersign' THEN cs.author_id
    WHEN 'sbar' THEN i.raised_by WHEN 'supervision' THEN sv.practitioner_id
    WHEN 'task' THEN NULL ELSE c.practitioner_id END"""

_COVERED_BY = """(SELECT s.name FROM team_notes n JOIN staff s ON s.id = n.owner_id
    WHERE n.item_id = w.id AND n.kind = 'cover' ORDER BY n.created_at DESC, n.rowid DESC LIMIT 1)"""

_OPEN_DUE = "i.status IN ('open', 'waiting') AND i.due <= :day"


def work_needing_cover(db: Database, day: date, holder_ids: list[str]) -> list[dict[str, Any]]:
    """Open or waiting items due on or before ``day`` held by any of ``holder_ids`` (see ``_HOLDER``),
    with who covers them. Ordered by holder, then due date (oldest first), then kind and title.

    One branch per kind of holding, each starting from the holders (a handful of absent staff).
    """
    if not holder_ids:
        return []
    marks = ",".join(f":h{n}" for n in range(len(holder_ids)))
    params: dict[str, Any] = {f"h{n}": h for n, h in enumerate(holder_ids)}
    params["day"] = day.isoformat()
    cols = "i.id, i.kind, i.crn, i.title, i.due, i.status"
    return all_rows(
        db,
        f"""SELECT w.*, c.name, c.rosh, sb.urgency, sb.booked_for, cs.kind AS countersign_kind, cs.court_date,
                   {_COVERED_BY} AS covered_by
            FROM (
              SELECT {cols}, a.owner_id AS holder FROM actions a CROSS JOIN items i ON i.id = a.item_id
              WHERE a.owner_id IN ({marks}) AND i.kind = 'action' AND {_OPEN_DUE}
              UNION ALL
              SELECT {cols}, x.author_id FROM countersigns x CROSS JOIN items i ON i.id = x.item_id
              WHERE x.author_id IN ({marks}) AND i.kind = 'countersign' AND {_OPEN_DUE}
              UNION ALL
              SELECT {cols}, i.raised_by FROM items i
              WHERE i.kind = 'sbar' AND i.raised_by IN ({marks}) AND {_OPEN_DUE}
              UNION ALL
              SELECT {cols}, k.practitioner_id FROM cases k CROSS JOIN items i ON i.crn = k.crn
              WHERE k.practitioner_id IN ({marks}) AND i.kind IN ('touch_point', 'alert') AND {_OPEN_DUE}
              UNION ALL
              SELECT {cols}, v.practitioner_id FROM supervision v CROSS JOIN items i ON i.id = v.item_id
              WHERE v.practitioner_id IN ({marks}) AND i.kind = 'supervision' AND {_OPEN_DUE}
            ) w
            LEFT JOIN cases c ON c.crn = w.crn
            LEFT JOIN sbars sb ON w.kind = 'sbar' AND sb.item_id = w.id
            LEFT JOIN countersigns cs ON w.kind = 'countersign' AND cs.item_id = w.id
            ORDER BY w.holder, w.due, w.kind, w.title, w.id""",
        params,
    )


_ITEM_JOINS = """
    LEFT JOIN cases c ON c.crn = i.crn
    LEFT JOIN actions a ON i.kind = 'action' AND a.item_id = i.id
    LEFT JOIN countersigns cs ON i.kind = 'countersign' AND cs.item_id = i.id
    LEFT JOIN supervision sv ON i.kind = 'supervision' AND sv.item_id = i.id"""


def item_holder(db: Database, item_id: str) -> str | None:
    """The staff id of whoever holds the item (see ``work_needing_cover``), or None."""
    found = one_row(db, f"SELECT {_HOLDER} AS holder FROM items i {_ITEM_JOINS} WHERE i.id = ?", [item_id])
    return found["holder"] if found else None


def latest_cover(db: Database, item_id: str) -> str | None:
    """The staff id of the latest cover recorded for the item, or None."""
    found = one_row(
        db,
        "SELECT owner_id FROM team_notes WHERE item_id = ? AND kind = 'cover' ORDER BY created_at DESC, rowid DESC LIMIT 1",
        [item_id],
    )
    return found["owner_id"] if found else None


def risk_points(db: Database, day: date, rises_since: date, psr_until: date, team: str | None) -> list[dict[str, Any]]:
    """Open alerts; RoSH and MAPPA rises (their touch points) since ``rises_since``; open PSRs whose
    court date is on or before ``psr_until``. Alerts first, then rises, then PSRs; within each, oldest first."""
    return all_rows(
        db,
        f"""SELECT * FROM (
              SELECT 0 AS section, 'alert' AS reason, i.id, i.kind, i.crn, c.name, pp.name AS practitioner, c.rosh,
                     i.title, COALESCE(substr(al.received_at, 1, 10), i.due) AS day, al.source AS detail, i.created_at
              FROM items i JOIN alerts al ON al.item_id = i.id
              JOIN cases c ON c.crn = i.crn LEFT JOIN staff pp ON pp.id = c.practitioner_id
              WHERE i.kind = 'alert' AND i.status IN ('open', 'waiting') AND {TEAM}
              UNION ALL
              SELECT 1, t.reason, i.id, i.kind, i.crn, c.name, pp.name, c.rosh, i.title, substr(i.created_at, 1, 10),
                     i.status, i.created_at
              FROM touch_points t CROSS JOIN items i ON i.id = t.item_id
              JOIN cases c ON c.crn = i.crn LEFT JOIN staff pp ON pp.id = c.practitioner_id
              WHERE t.reason IN ('rosh_rise', 'mappa_rise') AND i.kind = 'touch_point' AND i.created_at >= :since
                AND {TEAM}
              UNION ALL
              SELECT 2, 'psr_due', i.id, i.kind, i.crn, c.name, pp.name, c.rosh, i.title, cs.court_date, cs.state,
                     i.created_at
              FROM countersigns cs CROSS JOIN items i ON i.id = cs.item_id
              JOIN cases c ON c.crn = i.crn LEFT JOIN staff pp ON pp.id = c.practitioner_id
              WHERE cs.court_date <= :psr_until AND cs.kind = 'PSR' AND i.kind = 'countersign'
                AND i.status IN ('open', 'waiting')
                AND {TEAM}
            ) ORDER BY section, day, created_at, id""",
        _params(since=rises_since, psr_until=psr_until, team=team),
    )


def decisions_expected(db: Database, day: date, team: str | None) -> list[dict[str, Any]]:
    """Open SBARs (most urgent, then oldest first) and open touch points due on or before ``day``
    (oldest due first, then highest RoSH), neither snoozed past ``day``."""
    return all_rows(
        db,
        f"""SELECT * FROM (
              SELECT 0 AS section, 'sbar' AS reason, i.id, i.kind, i.crn, c.name, pp.name AS practitioner, c.rosh,
                     i.title, i.due, sb.urgency, sb.state, sb.booked_for, sb.raised_at AS sort_at,
                     CASE sb.urgency WHEN 'urgent' THEN 0 WHEN 'soon' THEN 1 ELSE 2 END AS rank
              FROM items i JOIN sbars sb ON sb.item_id = i.id
              JOIN cases c ON c.crn = i.crn LEFT JOIN staff pp ON pp.id = c.practitioner_id
              WHERE i.kind = 'sbar' AND i.status = 'open' AND (i.snoozed_until IS NULL OR i.snoozed_until <= :day)
                AND {TEAM}
              UNION ALL
              SELECT 1, 'touch_point', i.id, i.kind, i.crn, c.name, pp.name, c.rosh, i.title, i.due, NULL, NULL, NULL,
                     i.due, CASE c.rosh WHEN 'VERY_HIGH' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2 ELSE 3 END
              FROM items i JOIN cases c ON c.crn = i.crn LEFT JOIN staff pp ON pp.id = c.practitioner_id
              WHERE i.kind = 'touch_point' AND i.status = 'open' AND i.due <= :day
                AND (i.snoozed_until IS NULL OR i.snoozed_until <= :day) AND {TEAM}
            ) ORDER BY section, CASE section WHEN 0 THEN rank END, sort_at, rank, crn, id""",
        _params(day=day, team=team),
    )


# --- Team notes ----------------------------------------------------------------------------------

_NOTE_SELECT = """SELECT n.*, c.name AS case_name, o.name AS owner_name, b.name AS created_by_name
    FROM team_notes n LEFT JOIN cases c ON c.crn = n.crn LEFT JOIN staff o ON o.id = n.owner_id
    LEFT JOIN staff b ON b.id = n.created_by"""

#: A note's team: its writer's (the SPO or CASPO at that team's check-in), else its case's
#: practitioner's; a note by PDU-wide staff on no case is every team's. ``:team`` NULL: every team.
_NOTE_TEAM = f"""COALESCE(CASE WHEN {TEAM_WITH_SPO.format(team="b.team")} THEN b.team END,
    (SELECT NULLIF(cp.team, '') FROM staff cp WHERE cp.id = c.practitioner_id))"""
_NOTE_IN_TEAM = f"(:team IS NULL OR {_NOTE_TEAM} IS NULL OR {_NOTE_TEAM} = :team)"


def notes(
    db: Database, *, start: date, end: date, kinds: tuple[str, ...] | None = None, team: str | None = None
) -> list[dict[str, Any]]:
    """Notes made on days ``start`` to ``end`` (of ``kinds``, if given; of ``team``, if given), in the
    order they were written."""
    sql = f"{_NOTE_SELECT} WHERE n.day >= :start AND n.day <= :end AND {_NOTE_IN_TEAM}"
    params: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat(), "team": team}
    if kinds:
        sql += f" AND n.kind IN ({','.join(f':k{n}' for n in range(len(kinds)))})"
        params.update({f"k{n}": k for n, k in enumerate(kinds)})
    return all_rows(db, sql + " ORDER BY n.day, n.created_at, n.rowid", params)


def get_note(db: Database, note_id: str) -> dict[str, Any] | None:
    return one_row(db, f"{_NOTE_SELECT} WHERE n.id = ?", [note_id])


def escalations(db: Database, *, start: date | None, end: date, team: str | None = None) -> list[dict[str, Any]]:
    """Escalations raised by ``end`` that were raised on or after ``start``, answered in ``start``..``end``,
    or not answered by ``end``; with ``start`` None, only those awaiting an answer. Oldest first.
    ``team``: that team's escalations (and those of no team) only."""
    start_text = start.isoformat() if start else None
    return all_rows(
        db,
        f"""{_NOTE_SELECT} WHERE n.kind = 'escalation' AND n.day <= :end AND (
              (:start IS NOT NULL AND n.day >= :start)
              OR NOT EXISTS (SELECT 1 FROM team_notes x WHERE x.answers_id = n.id AND x.day <= :end)
              OR (:start IS NOT NULL AND EXISTS (SELECT 1 FROM team_notes x WHERE x.answers_id = n.id
                                                 AND x.day >= :start AND x.day <= :end)))
              AND {_NOTE_IN_TEAM}
            ORDER BY n.day, n.created_at, n.rowid""",
        {"start": start_text, "end": end.isoformat(), "team": team},
    )


def answers_to(db: Database, escalation_ids: list[str], end: date) -> list[dict[str, Any]]:
    """Answers given by ``end`` to the escalations named, in the order written."""
    if not escalation_ids:
        return []
    marks = ",".join("?" * len(escalation_ids))
    return all_rows(
        db,
        f"{_NOTE_SELECT} WHERE n.answers_id IN ({marks}) AND n.day <= ? ORDER BY n.day, n.created_at, n.rowid",
        [*escalation_ids, end.isoformat()],
    )


def checkin_actions(db: Database, start: date, end: date, team: str | None = None) -> list[dict[str, Any]]:
    """Actions agreed at check-ins on ``start``..``end`` (of ``team``, if given) with their queue item's
    status and closing time."""
    return all_rows(
        db,
        f"""SELECT n.*, c.name AS case_name, o.name AS owner_name, b.name AS created_by_name,
                   i.status AS item_status, i.closed_at AS item_closed_at, i.due AS item_due
            FROM team_notes n LEFT JOIN cases c ON c.crn = n.crn LEFT JOIN staff o ON o.id = n.owner_id
            LEFT JOIN staff b ON b.id = n.created_by LEFT JOIN items i ON i.id = n.item_id
            WHERE n.kind = 'action' AND n.day >= :start AND n.day <= :end AND {_NOTE_IN_TEAM}
            ORDER BY n.day, n.created_at, n.rowid""",
        {"start": start.isoformat(), "end": end.isoformat(), "team": team},
    )


# --- Protected hour ------------------------------------------------------------------------------


def protected_hour_bookings(db: Database, day: date, team: str | None = None) -> list[dict[str, Any]]:
    """SBARs booked into the protected hour on ``day`` (still booked, or decided or escalated since);
    ``team``: those in that team's queue (``queue_queries.IN_TEAM``)."""
    return all_rows(
        db,
        f"""SELECT i.id, i.crn, i.title, i.status, c.name, pp.name AS practitioner, c.rosh, sb.urgency, sb.state,
                  sb.booked_for
           FROM sbars sb JOIN items i ON i.id = sb.item_id {ITEM_TEAM_FROM}
           WHERE sb.booked_for >= :day AND sb.booked_for < :next AND sb.state IN ('booked', 'decided', 'escalated')
             AND {IN_TEAM}
           ORDER BY sb.booked_for, sb.state != 'booked', i.id""",
        {"day": day.isoformat(), "next": _next_day(day), "team": team},
    )


def booked_slots(db: Database, day: date, team: str | None = None) -> set[str]:
    """The protected-hour slots (``booked_for``) from ``day`` on still booked by SBARs of ``team``'s
    queue (every team's when None)."""
    return {
        r[0]
        for r in db.execute(
            f"""SELECT sb.booked_for FROM sbars sb JOIN items i ON i.id = sb.item_id {ITEM_TEAM_FROM}
                WHERE sb.state = 'booked' AND sb.booked_for >= :day AND {IN_TEAM}""",
            {"day": day.isoformat(), "team": team},
        )
    }


# --- Supervision ---------------------------------------------------------------------------------


def supervision_summary(db: Database, year_ago: date, team: str | None) -> list[dict[str, Any]]:
    """Per active practitioner: last one-to-one held, RPSS dates and observations held since
    ``year_ago``, and sessions postponed (held since ``year_ago`` or not yet held). By name."""
    return all_rows(
        db,
        f"""SELECT pp.id, pp.name, pp.role, pp.team,
                  MAX(CASE WHEN sv.kind = 'one_to_one' THEN sv.held_on END) AS last_one_to_one,
                  group_concat(CASE WHEN sv.kind = 'rpss' AND sv.held_on >= :year_ago THEN sv.held_on END) AS rpss_dates,
                  SUM(sv.kind = 'rpss' AND sv.held_on >= :year_ago AND sv.observation = 1) AS observations,
                  SUM(CASE WHEN sv.held_on >= :year_ago OR (sv.held_on IS NULL AND i.status != 'closed')
                           THEN sv.postponed ELSE 0 END) AS postponed
           FROM staff pp LEFT JOIN supervision sv ON sv.practitioner_id = pp.id LEFT JOIN items i ON i.id = sv.item_id
           WHERE pp.active = 1 AND pp.role IN {PRACTITIONER_ROLES_SQL} AND {TEAM}
           GROUP BY pp.id ORDER BY pp.name, pp.id""",
        _params(year_ago=year_ago, team=team),
    )


def open_sessions(db: Database, practitioner_id: str | None = None) -> list[dict[str, Any]]:
    """Supervision items not yet closed (of one practitioner, if given), soonest first."""
    sql = """SELECT i.id, i.title, i.due, i.status, sv.practitioner_id, sv.kind, sv.observation, sv.scheduled_for,
                    sv.postponed
             FROM items i JOIN supervision sv ON sv.item_id = i.id
             WHERE i.kind = 'supervision' AND i.status != 'closed' AND sv.held_on IS NULL"""
    params: list[Any] = []
    if practitioner_id:
        sql += " AND sv.practitioner_id = ?"
        params.append(practitioner_id)
    return all_rows(db, sql + " ORDER BY COALESCE(sv.scheduled_for, i.due), i.id", params)


def absence_on(db: Database, staff_id: str, day: date) -> dict[str, Any] | None:
    return one_row(
        db,
        "SELECT * FROM absences WHERE staff_id = ? AND start_date <= ? AND end_date >= ? ORDER BY end_date DESC LIMIT 1",
        [staff_id, day.isoformat(), day.isoformat()],
    )


# --- Team overview -------------------------------------------------------------------------------


def caseloads(db: Database, as_of: date, since: date, team: str | None) -> list[dict[str, Any]]:
    """Per practitioner holding current cases: cases by RoSH and how many have had no valid
    oversight entry since ``since``."""
    return all_rows(
        db,
        f"""WITH lasts AS MATERIALIZED (
              SELECT c.practitioner_id, c.rosh, {LAST_SEEN} AS last
              FROM cases c JOIN staff pp ON pp.id = c.practitioner_id WHERE {CURRENT_CASE} AND {TEAM})
            SELECT practitioner_id, SUM(rosh = 'LOW') AS low, SUM(rosh = 'MEDIUM') AS medium,
                  SUM(rosh = 'HIGH') AS high, SUM(rosh = 'VERY_HIGH') AS very_high,
                  SUM(last IS NULL OR last < :since) AS unseen
            FROM lasts GROUP BY practitioner_id""",
        _params(as_of=as_of, since=since, until=_next_day(as_of), team=team),
    )


def practitioner_work(db: Database, day: date) -> list[dict[str, Any]]:
    """Per staff id: open SBARs raised, overdue touch points on their cases, countersigns awaiting
    a verdict on their work (one row per practitioner with any). A countersign awaits a verdict
    while its state says so: the verdict that closes its item also moves the state on."""
    return all_rows(
        db,
        """SELECT who, SUM(what = 'sbar') AS open_sbars, SUM(what = 'tp') AS overdue_touch_points,
                  SUM(what = 'cs') AS countersigns_waiting
           FROM (
             SELECT i.raised_by AS who, 'sbar' AS what FROM items i
             WHERE i.kind = 'sbar' AND i.status IN ('open', 'waiting')
             UNION ALL
             SELECT c.practitioner_id, 'tp' FROM items i JOIN cases c ON c.crn = i.crn
             WHERE i.kind = 'touch_point' AND i.status = 'open' AND i.due < :day
             UNION ALL
             SELECT cs.author_id, 'cs' FROM countersigns cs
             WHERE cs.state IN ('AWAITING_COUNTERSIGN', 'AWAITING_DOUBLE_COUNTERSIGN', 'AWAITING_GATEKEEP')
           ) WHERE who IS NOT NULL GROUP BY who""",
        {"day": day.isoformat()},
    )


# --- Coverage ------------------------------------------------------------------------------------


#: Case ``c`` has a valid entry from ``:since`` to ``:as_of`` that looks sufficient: it records a
#: decision and none of its agreed actions is overdue or closed undone. The SQL form of
#: ``spo_tui.domain.levels.entry_sufficient`` (tests hold the two to the same answer); an action's
#: state is as it is now, also when ``:as_of`` is in the past.
SUFFICIENT = f"""EXISTS (SELECT 1 FROM oversight_entries o INDEXED BY oversight_coverage
    WHERE o.crn = c.crn AND o.created_at >= :since AND o.created_at < :until AND {VALID_ENTRY}
      AND o.outcome NOT IN ('more_info', 'withdrawn') AND TRIM(o.decision) <> ''
      AND NOT EXISTS (SELECT 1 FROM actions a JOIN items ai ON ai.id = a.item_id
                      WHERE a.oversight_id = o.id AND a.done_at IS NULL
                        AND (ai.status = 'closed' OR ai.due < :as_of)))"""


def coverage_counts(db: Database, as_of: date, since: date, team: str | None) -> dict[str, tuple[int, int, int]]:
    """RoSH -> (current cases on ``as_of``, of which seen: a valid entry from ``since`` to ``as_of``,
    of which sufficient-looking: such an entry with a decision and its actions followed up)."""
    rows = db.execute(
        f"""WITH lasts AS MATERIALIZED (
              SELECT c.rosh, {LAST_SEEN} AS last, {SUFFICIENT} AS sufficient
              FROM cases c LEFT JOIN staff pp ON pp.id = c.practitioner_id
              WHERE {CURRENT_CASE} AND {TEAM})
            SELECT rosh, COUNT(*), SUM(last >= :since), SUM(sufficient) FROM lasts GROUP BY rosh""",
        _params(as_of=as_of, since=since, until=_next_day(as_of), team=team),
    ).fetchall()
    return {rosh: (cases, seen or 0, sufficient or 0) for rosh, cases, seen, sufficient in rows}


def unseen_cases(db: Database, as_of: date, since: date, team: str | None, limit: int | None) -> list[dict[str, Any]]:
    """Current cases with no valid oversight entry since ``since``: never seen first, then the
    longest unseen, then the earliest sentence start; with the case's next open touch point."""
    sql = f"""WITH lasts AS MATERIALIZED (
                SELECT c.crn, c.name, c.rosh, c.sentence_type, c.sentence_start, pp.name AS practitioner,
                       {LAST_SEEN} AS last
                FROM cases c LEFT JOIN staff pp ON pp.id = c.practitioner_id WHERE {CURRENT_CASE} AND {TEAM})
              , tps AS MATERIALIZED (
                -- the open touch point due first on each case (SQLite takes id from the MIN row)
                SELECT i.crn, MIN(i.due) AS due, i.id FROM items i
                WHERE i.kind = 'touch_point' AND i.status = 'open' GROUP BY i.crn)
              SELECT l.*, tps.id AS touch_point_id, tps.due AS touch_point_due
              FROM lasts l LEFT JOIN tps ON tps.crn = l.crn WHERE l.last IS NULL OR l.last < :since
              ORDER BY l.last IS NOT NULL, l.last, l.sentence_start, l.crn"""
    params = _params(as_of=as_of, since=since, until=_next_day(as_of), team=team)
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return all_rows(db, sql, params)


def last_seen(db: Database, crn: str, as_of: date) -> str | None:
    """The timestamp of the case's latest valid oversight entry on or before ``as_of``."""
    found = one_row(
        db,
        f"SELECT {LAST_SEEN} AS last FROM cases c WHERE c.crn = :crn",
        {"crn": crn, "until": _next_day(as_of)},
    )
    return found["last"] if found else None


# --- Where the SPO's time goes -------------------------------------------------------------------


def oversight_minutes(db: Database, decider_id: str, since: date, until: date) -> list[dict[str, Any]]:
    """Minutes on oversight entries decided by ``decider_id`` from ``since`` to ``until``, by what they
    were: countersigning (on a countersign item, or signed off / returned), supervision sessions, or
    other oversight. Withdrawals are left out."""
    return all_rows(
        db,
        """SELECT CASE WHEN i.kind = 'countersign' OR (o.item_id IS NULL AND o.outcome IN ('signed_off', 'returned'))
                       THEN 'countersigning' WHEN i.kind = 'supervision' THEN 'supervision' ELSE 'oversight' END AS category,
                  COALESCE(SUM(o.minutes), 0) AS minutes, COUNT(*) AS entries, SUM(o.minutes IS NULL) AS without_minutes
           FROM oversight_entries o LEFT JOIN items i ON i.id = o.item_id
           WHERE o.created_at >= ? AND o.created_at < ? AND o.decided_by = ? AND o.outcome != 'withdrawn'
           GROUP BY category""",
        [since.isoformat(), _next_day(until), decider_id],
    )


def task_minutes(db: Database, since: date, until: date, team: str | None = None) -> dict[str, Any]:
    """Tasks closed from ``since`` to ``until`` that were not delegated (in ``team``'s queue, if given):
    count and minutes recorded."""
    return one_row(
        db,
        f"""SELECT COUNT(*) AS entries, COALESCE(SUM(t.minutes_spent), 0) AS minutes,
                  SUM(t.minutes_spent IS NULL) AS without_minutes
           FROM items i JOIN tasks t ON t.item_id = i.id {ITEM_TEAM_FROM}
           WHERE i.kind = 'task' AND i.status = 'closed' AND t.delegated_to IS NULL
             AND i.closed_at >= :since AND i.closed_at < :until AND {IN_TEAM}""",
        {"since": since.isoformat(), "until": _next_day(until), "team": team},
    ) or {"entries": 0, "minutes": 0, "without_minutes": 0}


def delegated_tasks(db: Database, since: date, until: date, team: str | None = None) -> list[dict[str, Any]]:
    """Tasks delegated from ``since`` to ``until`` (in ``team``'s queue, if given), oldest first, with
    the delegate and the outcome."""
    return all_rows(
        db,
        f"""SELECT i.id, i.title, t.category, s.name AS delegated_to, s.role AS delegated_role, t.delegated_at,
                  i.status, i.closed_at, t.minutes_spent
           FROM tasks t JOIN items i ON i.id = t.item_id LEFT JOIN staff s ON s.id = t.delegated_to {ITEM_TEAM_FROM}
           WHERE t.delegated_to IS NOT NULL AND t.delegated_at >= :since AND t.delegated_at < :until AND {IN_TEAM}
           ORDER BY t.delegated_at, i.id""",
        {"since": since.isoformat(), "until": _next_day(until), "team": team},
    )


# --- Trends --------------------------------------------------------------------------------------


def backlog_by_week(db: Database, week_ends: list[date], team: str | None = None) -> list[tuple[Any, ...]]:
    """Per kind: items open at the end of each of ``week_ends`` (created by then, not closed by then),
    as ``(kind, count at week_ends[0], count at week_ends[1], ...)``. One pass over the items.
    ``team``: the items of that team's queue only (``queue_queries.IN_TEAM``)."""
    closed = "COALESCE(i.closed_at, CASE WHEN i.status = 'closed' THEN i.updated_at END, '9999')"
    cols = ", ".join(f"SUM(i.created_at < :w{n} AND {closed} >= :w{n})" for n in range(len(week_ends)))
    params: dict[str, Any] = {f"w{n}": _next_day(we) for n, we in enumerate(week_ends)}
    params["first"] = _next_day(week_ends[0])
    if team is None:
        return db.execute(
            f"SELECT i.kind, {cols} FROM items i WHERE {closed} >= :first GROUP BY i.kind", params
        ).fetchall()
    params["team"] = team
    return db.execute(
        f"SELECT i.kind, {cols} FROM items i {ITEM_TEAM_FROM} WHERE {closed} >= :first AND {IN_TEAM} GROUP BY i.kind",
        params,
    ).fetchall()


def countersigns_closed(db: Database, since: date, until: date, team: str | None = None) -> list[tuple[str, float]]:
    """(day closed, days from submission to verdict) of countersign items closed ``since``..``until``
    (of ``team``'s queue, if given)."""
    return db.execute(
        f"""SELECT substr(i.closed_at, 1, 10), julianday(i.closed_at) - julianday(cs.submitted_at)
           FROM items i JOIN countersigns cs ON cs.item_id = i.id {ITEM_TEAM_FROM}
           WHERE i.kind = 'countersign' AND i.status = 'closed' AND i.closed_at >= :since AND i.closed_at < :until
             AND {IN_TEAM}
           ORDER BY i.closed_at""",
        {"since": since.isoformat(), "until": _next_day(until), "team": team},
    ).fetchall()


# --- Workload (the check-in) ---------------------------------------------------------------------


def workload_staff(db: Database, team: str | None) -> list[dict[str, Any]]:
    """Active practitioners and SPOs (of ``team``, or all), by name: whom the workload and span count."""
    return all_rows(
        db,
        f"""SELECT pp.id, pp.name, pp.role, pp.fte, pp.team FROM staff pp
            WHERE pp.active = 1 AND (pp.role IN {PRACTITIONER_ROLES_SQL} OR pp.role = 'SPO') AND {TEAM}
            ORDER BY pp.name, pp.id""",
        _params(team=team),
    )


def workload_cases(db: Database, as_of: date, team: str | None) -> list[dict[str, Any]]:
    """Each current case's practitioner, tier and RoSH (of ``team``'s practitioners, or all)."""
    return all_rows(
        db,
        f"""SELECT c.practitioner_id, c.tier, c.rosh FROM cases c JOIN staff pp ON pp.id = c.practitioner_id
            WHERE {CURRENT_CASE} AND {TEAM}""",
        _params(as_of=as_of, team=team),
    )


def absent_today(db: Database, day: date) -> dict[str, str]:
    """Staff id -> the reason of their absence on ``day`` ('' when none was given)."""
    rows = db.execute(
        "SELECT staff_id, COALESCE(reason, '') FROM absences WHERE start_date <= ? AND end_date >= ? ORDER BY end_date",
        [day.isoformat(), day.isoformat()],
    ).fetchall()
    return {r[0]: r[1] for r in rows}
