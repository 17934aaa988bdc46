"""Reads for the queue: its pages of rows, ordered by urgency, searched and counted by view and team.

Re-exported from ``spo_tui.store.queries``, so ``queries.queue_page`` and the rest still work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlite_utils import Database


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
IN_TEAM = f"(:team IS NULL OR {ITEM_TEAM} = :team OR ({ITEM_TEAM} IS NULL AND {_NO_TEAM_SHOWN}))"
#: The joins ``IN_TEAM`` needs after ``FROM items i``, for the counts and for other reads of items scoped
#: as the queue is (``team_queries``: trends, the protected hour, tasks).
ITEM_TEAM_FROM = """
LEFT JOIN cases c ON c.crn = i.crn
LEFT JOIN staff pp ON pp.id = c.practitioner_id
LEFT JOIN staff raiser ON raiser.id = i.raised_by
LEFT JOIN supervision sup ON i.kind = 'supervision' AND sup.item_id = i.id
LEFT JOIN staff supervisee ON supervisee.id = sup.practitioner_id
"""
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
# A court team's queue [000 §3.2]: after immediate-risk alerts, the reports to gatekeep, by court
# date and time (the hearing is the deadline), then the rest in triage order.
_COURT_FIRST = (
    "i.kind <> 'alert', NOT (i.kind = 'countersign' AND cs.kind = 'PSR'),"
    " COALESCE(cs.court_date, '9999-12-31'), COALESCE(cs.court_time, '99:99'), "
)


def _queue_where(kind: str | None, status: str, team: str | None = None) -> str:
    where = _STATUS_WHERE[status]
    return where + (" AND i.kind = :kind" if kind else "") + (f" AND {IN_TEAM}" if team else "")


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
    court: bool = False,
) -> list[QueueRow]:
    """Open, unsnoozed items of ``owner_id`` or no one (of one kind, if given) with case facts, in
    triage order, from ``offset`` for ``limit`` rows (all if None).

    With ``status="waiting"``: the items waiting on someone else instead, whoever holds them; with
    ``status="catch_up"``: only the open items on the catch-up list (``items.catch_up``).
    ``score`` is the SQL of each item's score: the stored column (fast, from an index) unless the
    caller could not bring stored scores up to date and passes ``scoring.score_sql(weights)``.
    ``team`` keeps one team's items (and those of no team); None keeps every team's. ``court``: the
    queue of a court team, which leads with the reports to gatekeep by court date and time.
    """
    order = (_ORDER_IN_KIND if kind else _ORDER).format(score=score)
    if court:
        order = _COURT_FIRST + order
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
    source, scope = (f"items i {ITEM_TEAM_FROM}", f" AND {IN_TEAM}") if team else ("items i", "")
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
