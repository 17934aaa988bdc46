"""The urgency score in SQL, and the stored score that lets the queue be read in order by an index.

``spo_tui.domain.urgency.explain`` is the authority on what an item scores and why. This module
writes the same arithmetic as one SQL expression, built from the same weights, so SQLite can
score every open item in one statement and the queue can be read top first, a page at a time,
without Python touching rows that are not shown. ``tests/test_scoring.py`` checks the two agree
on generated items.

The score is kept in ``items.urgency``. It depends on the day (overdue, due soon, waiting) and the
weights, so the ``meta`` key ``urgency_basis`` records which day and weights the stored scores were
computed for. Triggers (migration ``0006_stored_urgency``) clear an item's score whenever a fact it
depends on changes; ``ensure_scored`` then scores the cleared items, or every item when the day or
the weights changed. It runs inside each write transaction (``SpoDatabase.atomic``) and before the
queue is read, so the stored order is never stale when it is used.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlite_utils import Database

#: The facts the score reads, as column expressions of the queue's joins (items i, cases c,
#: sbars s, countersigns cs).
QUEUE_COLUMNS = {
    "kind": "i.kind",
    "due": "i.due",
    "created": "substr(i.created_at, 1, 10)",
    "rosh": "c.rosh",
    "mappa_level": "c.mappa_level",
    "sbar_urgency": "s.urgency",
    "countersign_kind": "cs.kind",
    "court_date": "cs.court_date",
}

#: Joins that bring in every column of ``QUEUE_COLUMNS`` for items aliased ``i``.
QUEUE_JOINS = """
LEFT JOIN cases c ON c.crn = i.crn
LEFT JOIN sbars s ON i.kind = 'sbar' AND s.item_id = i.id
LEFT JOIN countersigns cs ON i.kind = 'countersign' AND cs.item_id = i.id
"""

BASIS_KEY = "urgency_basis"


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"urgency weight {value!r} is not a number")
    return repr(value)


def _text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _lookup(column: str, table: dict[str, Any], *, as_int: bool = False) -> str:
    """``CASE column WHEN key THEN points … ELSE 0 END`` from a weights table."""
    if not table:
        return "0"
    whens = " ".join(
        f"WHEN {int(key) if as_int else _text(key)} THEN CAST({_number(points)} AS INTEGER)" for key, points in table.items()
    )
    return f"(CASE {column} {whens} ELSE 0 END)"


def score_sql(weights: dict[str, Any], columns: dict[str, str] = QUEUE_COLUMNS) -> str:
    """One SQL expression equal to ``explain(item, today, weights).score``; ``:today`` is the day.

    ``columns`` names the SQL for each fact (see ``QUEUE_COLUMNS``). Weights are written in as
    literals, checked to be numbers, so the expression needs no parameter but ``:today``.
    """
    w = weights
    col = columns
    days_to_due = f"CAST(julianday({col['due']}) - julianday(:today) AS INTEGER)"
    late = f"MIN(-{days_to_due}, {_number(w['overdue_max_days'])})"
    due = (
        f"(CASE WHEN {col['due']} IS NULL THEN 0"
        f" WHEN {days_to_due} < 0 THEN CAST({_number(w['overdue'])} + {late} * {_number(w['overdue_per_day'])} AS INTEGER)"
        f" WHEN {days_to_due} = 0 THEN CAST({_number(w['due_today'])} AS INTEGER)"
        f" WHEN {days_to_due} = 1 THEN CAST({_number(w['due_tomorrow'])} AS INTEGER)"
        f" WHEN {days_to_due} <= {_number(w['due_soon_days'])} THEN CAST({_number(w['due_soon'])} AS INTEGER)"
        " ELSE 0 END)"
    )
    to_court = f"CAST(julianday({col['court_date']}) - julianday(:today) AS INTEGER)"
    psr = (
        f"(CASE WHEN {col['countersign_kind']} = 'PSR' AND {col['court_date']} IS NOT NULL"
        f" AND {to_court} <= {_number(w['psr_court_soon_days'])} THEN CAST({_number(w['psr_court_soon'])} AS INTEGER)"
        " ELSE 0 END)"
    )
    age = f"CAST(julianday(:today) - julianday({col['created']}) AS INTEGER)"
    waiting = (
        f"(CASE WHEN {age} > 0 THEN CAST(MIN({age} * {_number(w['age_per_day'])}, {_number(w['age_max'])}) AS INTEGER)"
        " ELSE 0 END)"
    )
    terms = [
        _lookup(col["kind"], w["kind"]),
        due,
        _lookup(col["rosh"], w["rosh"]),
        _lookup(col["mappa_level"], w["mappa_level"], as_int=True),
        _lookup(col["sbar_urgency"], w["sbar_urgency"]),
        psr,
        waiting,
    ]
    return "(" + "\n + ".join(terms) + ")"


def _stored_basis(db: Database) -> dict[str, Any] | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [BASIS_KEY]).fetchone()
    if row is None:
        return None
    try:
        stored = json.loads(row[0])
    except ValueError:
        return None
    return stored if isinstance(stored, dict) and {"day", "weights", "by"} <= stored.keys() else None


def scores_current(db: Database, today: date, weights: dict[str, Any]) -> bool:
    """True if every open or waiting item's stored score is right for ``today`` and ``weights``."""
    stored = _stored_basis(db)
    if stored is None or stored["day"] != today.isoformat() or stored["weights"] != weights:
        return False
    return db.execute("SELECT 1 FROM items WHERE urgency IS NULL AND status <> 'closed' LIMIT 1").fetchone() is None


def _plan(db: Database, today: date, weights: dict[str, Any], by: str) -> tuple[bool, str, dict[str, Any]]:
    """(score every item?, the day and the weights to score by), as ``ensure_scored`` explains."""
    stored = _stored_basis(db)
    day = today.isoformat()
    ours = (
        stored is None or stored["day"] < day
        or (stored["day"] == day and (stored["weights"] == weights or stored["by"] == by))
    )  # fmt: skip
    if ours:
        return stored is None or stored["day"] != day or stored["weights"] != weights, day, weights
    return False, stored["day"], stored["weights"]


def needs_scoring(db: Database, today: date, weights: dict[str, Any], by: str) -> bool:
    """True if ``ensure_scored`` would change anything: worth taking the write lock for."""
    everything, _day, _weights = _plan(db, today, weights, by)
    return everything or db.execute(
        "SELECT 1 FROM items WHERE urgency IS NULL AND status <> 'closed' LIMIT 1"
    ).fetchone() is not None


def ensure_scored(db: Database, today: date, weights: dict[str, Any], by: str) -> int:
    """Score the items whose stored score was cleared; score them all again when the day moved on.

    Call inside a write transaction. ``by`` names who scores (the acting user). Returns the number
    of scores that changed.

    Two people on one file may have different weights (each has their own rules file), or one may
    have the day pinned. The stored scores then follow whoever first scored the latest day (or the
    same person, after changing their rules); the others score cleared items by those same weights
    so the column stays consistent, and order their own queue by the score computed in the query.
    Nobody overwrites anybody else's scores back and forth.
    """
    everything, score_day, score_weights = _plan(db, today, weights, by)
    only_cleared = "" if everything else "AND i.urgency IS NULL"
    cursor = db.execute(
        f"""UPDATE items SET urgency = scored.score
            FROM (SELECT i.id, {score_sql(score_weights)} AS score FROM items i {QUEUE_JOINS}
                  WHERE i.status <> 'closed' {only_cleared}) AS scored
            WHERE items.id = scored.id AND items.urgency IS NOT scored.score""",
        {"today": score_day},
    )
    if everything:
        value = json.dumps({"day": score_day, "weights": weights, "by": by}, sort_keys=True)
        db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   [BASIS_KEY, value])  # fmt: skip
    return cursor.rowcount
