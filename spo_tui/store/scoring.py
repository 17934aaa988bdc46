"""The urgency score in SQL, and the stored score that lets the queue be read in order by an index.

``spo_tui.domain.urgency.explain`` is the authority on what an item scores and why. This module
writes the same arithmetic as one SQL expression, built from the same weights, so SQLite can
score every open item in one statement and the queue can be read top first, a page at a time,
without Python touching rows that are not shown. ``tests/test_scoring.py`` checks the two agree
on generated items.

The score is kept in ``items.urgency``. It depends on the day (overdue, due soon, waiting) and the
weights, so the ``meta`` key ``urgency_basis`` records which day and weights the stored scores were
computed for. Triggers (migration ``0006_stored_urgency``) clear an item's score whenever a fact it
depends on changes; ``score_cleared`` scores the cleared items inside each write transaction
(``SpoDatabase.atomic``), and ``ensure_scored``, before the queue is read, scores every item again
when the day or the weights changed, in short transactions so that nobody waits long for the lock.
The queue orders by the stored score only when it is right for the reader's day and weights
(``scores_current``), so the stored order is never stale when it is used.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlite_utils import Database

from spo_tui.domain.urgency import court_horizon
from spo_tui.store.batches import Pace

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
    "catch_up": "i.catch_up",
}

#: Joins that bring in every column of ``QUEUE_COLUMNS`` for items aliased ``i``.
QUEUE_JOINS = """
LEFT JOIN cases c ON c.crn = i.crn
LEFT JOIN sbars s ON i.kind = 'sbar' AND s.item_id = i.id
LEFT JOIN countersigns cs ON i.kind = 'countersign' AND cs.item_id = i.id
"""

BASIS_KEY = "urgency_basis"
RESCORE_KEY = "urgency_rescore"


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
        f"WHEN {int(key) if as_int else _text(key)} THEN CAST({_number(points)} AS INTEGER)"
        for key, points in table.items()
    )
    return f"(CASE {column} {whens} ELSE 0 END)"


def _texts(values: list[str]) -> str:
    return "(" + ", ".join(_text(v) for v in values) + ")" if values else "(NULL)"


def score_sql(weights: dict[str, Any], today: date, columns: dict[str, str] = QUEUE_COLUMNS) -> str:
    """One SQL expression equal to ``explain(item, today, weights).score``; ``:today`` is ``today``.

    ``columns`` names the SQL for each fact (see ``QUEUE_COLUMNS``). Weights are written in as
    literals, checked to be numbers, so the expression needs no parameter but ``:today``; so is the
    last court date that makes a PSR time-critical (``court_horizon``: working days, which SQLite
    cannot count), which is why the expression is made for one day.
    """
    w = weights
    col = columns
    tc = w["time_critical"]
    critical = (
        f"(({col['kind']} = 'sbar' AND {col['sbar_urgency']} IN {_texts(tc['sbar_urgency'])})"
        f" OR ({col['kind']} = 'countersign' AND {col['countersign_kind']} = 'PSR'"
        f" AND {col['court_date']} >= :today AND {col['court_date']} <= {_text(court_horizon(today, w).isoformat())})"
        f" OR ({col['due']} = :today AND {col['kind']} IN {_texts(tc['deadline_today'])}))"
    )
    tier = (
        f"(CASE WHEN {critical} THEN CAST({_number(tc['points'])} AS INTEGER)"
        f" WHEN {col['catch_up']} THEN CAST({_number(w['catch_up'])} AS INTEGER) ELSE 0 END)"
    )
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
        tier,
        _lookup(col["kind"], w["kind"]),
        due,
        _lookup(col["rosh"], w["rosh"]),
        _lookup(col["mappa_level"], w["mappa_level"], as_int=True),
        _lookup(col["sbar_urgency"], w["sbar_urgency"]),
        psr,
        waiting,
    ]
    return "(" + "\n + ".join(terms) + ")"


def _basis(db: Database, key: str) -> dict[str, Any] | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    if row is None:
        return None
    try:
        stored = json.loads(row[0])
    except ValueError:
        return None
    return stored if isinstance(stored, dict) and {"day", "weights", "by"} <= stored.keys() else None


def _stored_basis(db: Database) -> dict[str, Any] | None:
    """The day and weights every stored score follows (when no rescore is under way)."""
    return _basis(db, BASIS_KEY)


def _rescore(db: Database) -> dict[str, Any] | None:
    """A rescore of every item under way: its day, weights and the last item id done (``after``)."""
    return _basis(db, RESCORE_KEY)


def _set_meta(db: Database, key: str, value: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, json.dumps(value, sort_keys=True)],
    )


def scores_current(db: Database, today: date, weights: dict[str, Any]) -> bool:
    """True if every open or waiting item's stored score is right for ``today`` and ``weights``."""
    stored = _stored_basis(db)
    if stored is None or stored["day"] != today.isoformat() or stored["weights"] != weights or _rescore(db) is not None:
        return False
    return db.execute("SELECT 1 FROM items WHERE urgency IS NULL AND status <> 'closed' LIMIT 1").fetchone() is None


def scores_of_an_earlier_day(db: Database, today: date, weights: dict[str, Any]) -> bool:
    """True if every open or waiting item has a stored score by ``weights`` for ``today`` or an earlier
    day (a new day whose rescoring has not ended): the order they give is right but for the day's
    moves (one day more overdue, due today now). The app's first screen of a day is read in it while
    the rescoring runs (``services.queue._scored``)."""
    stored, rescore = _stored_basis(db), _rescore(db)
    if stored is None or stored["weights"] != weights or stored["day"] > today.isoformat():
        return False
    if rescore is not None and (rescore["weights"] != weights or rescore["day"] > today.isoformat()):
        return False
    return db.execute("SELECT 1 FROM items WHERE urgency IS NULL AND status <> 'closed' LIMIT 1").fetchone() is None


def _plan(db: Database, today: date, weights: dict[str, Any], by: str) -> tuple[bool, str, dict[str, Any]]:
    """(score every item?, the day and the weights to score by), as ``ensure_scored`` explains.

    A rescore under way counts as the stored basis: it claims its day for its weights.
    """
    rescore = _rescore(db)
    claim = rescore or _stored_basis(db)
    day = today.isoformat()
    ours = (
        claim is None
        or claim["day"] < day
        or (claim["day"] == day and (claim["weights"] == weights or claim["by"] == by))
    )
    if ours:
        everything = claim is None or rescore is not None or claim["day"] != day or claim["weights"] != weights
        return everything, day, weights
    assert claim is not None  # a missing claim is always ours
    return rescore is not None, claim["day"], claim["weights"]  # someone else's rescore under way: finish it


def needs_rescore(db: Database, today: date, weights: dict[str, Any], by: str) -> bool:
    """True if every item must be scored again (a new day, new weights, a rescore under way)."""
    return _plan(db, today, weights, by)[0]


def fits_one_batch(db: Database) -> bool:
    """True if scoring every open item again is one batch of ``ensure_scored``'s (a team's queue)."""
    return (
        db.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM items WHERE status <> 'closed' LIMIT ?)", [RESCORE_BATCH + 1]
        ).fetchone()[0]
        <= RESCORE_BATCH
    )


def needs_scoring(db: Database, today: date, weights: dict[str, Any], by: str) -> bool:
    """True if ``ensure_scored`` would change anything: worth taking the write lock for."""
    everything, _day, _weights = _plan(db, today, weights, by)
    return (
        everything
        or db.execute("SELECT 1 FROM items WHERE urgency IS NULL AND status <> 'closed' LIMIT 1").fetchone() is not None
    )


def _score(db: Database, day: str, weights: dict[str, Any], where: str, params: dict[str, Any]) -> int:
    cursor = db.execute(
        f"""UPDATE items SET urgency = scored.score
            FROM (SELECT i.rowid AS row, {score_sql(weights, date.fromisoformat(day))} AS score FROM items i {QUEUE_JOINS}
                  WHERE i.status <> 'closed' AND {where}) AS scored
            WHERE items.rowid = scored.row AND items.urgency IS NOT scored.score""",
        {"today": day, **params},
    )
    return cursor.rowcount


def score_cleared(db: Database, today: date, weights: dict[str, Any], by: str) -> int:
    """Score the items whose stored score was cleared (by a trigger, or new): call inside a write
    transaction. It runs before every commit (``SpoDatabase.before_commit``), so it touches only
    the items that transaction changed, never the whole store. Returns the number of scores written.

    They are scored by the basis the stored column follows. While a rescore is under way, only the
    items it has passed are scored (it scores the rest when it reaches them); with no basis at all
    yet (a store from before stored scores), nothing is: ``ensure_scored`` scores everything, a
    batch at a time, on the first read of the queue, which meanwhile scores in the query.
    """
    rescore = _rescore(db)
    if rescore is not None:
        return _score(
            db,
            rescore["day"],
            rescore["weights"],
            "i.urgency IS NULL AND i.rowid <= :after",
            {"after": rescore["after"]},
        )
    stored = _stored_basis(db)
    if stored is None:
        return 0
    return _score(db, stored["day"], stored["weights"], "i.urgency IS NULL", {})


#: Items in the first batch of a new day's scoring (each next one is sized to hold the lock about
#: 0.1 s, ``spo_tui.store.batches``): 50–100 ms on a 2-CPU VM. A queue this size or smaller is
#: scored again in one transaction on the first read of the day.
RESCORE_BATCH = 2000


def ensure_scored(
    db: Database,
    today: date,
    weights: dict[str, Any],
    by: str,
    *,
    batch_size: int | None = None,
    after_batch: Callable[[int], object] | None = None,
) -> int:
    """Bring the stored scores up to date: score the cleared items, and every item again when the day
    (or the weights) moved on. Call outside a transaction: the work is done in transactions of
    ``batch_size`` items (by default as many as hold the lock about 0.1 s, starting at
    ``RESCORE_BATCH``), in the table's own order (rowid: each batch rewrites few table pages),
    resting between them, so that scoring a PDU's or an office's
    items never keeps anyone else waiting for the write lock for more than a moment. Raises
    ``StoreBusy`` if the lock cannot be had (the caller then scores in the query). Returns the
    number of scores that changed; ``after_batch(changed so far)`` is called after each batch but
    the last commits.

    Progress is kept in the ``meta`` row ``urgency_rescore`` (the day, the weights, the last rowid
    done), written in each batch's transaction: a rescore stopped half-way is taken up where it
    stopped by the next one, and meanwhile items that change are scored by the rescore's basis
    (``score_cleared``), and the queue is scored in the query (``scores_current`` is false).

    Two people on one file may have different weights (each has their own rules file), or one may
    have the day pinned. The stored scores then follow whoever first scored the latest day (or the
    same person, after changing their rules); the others score cleared items by those same weights
    so the column stays consistent, and order their own queue by the score computed in the query.
    Nobody overwrites anybody else's scores back and forth.
    """
    changed = 0
    pace = Pace(batch_size, RESCORE_BATCH)
    while True:
        began = time.monotonic()
        with db.atomic():  # its commit hook scores any cleared item, by the basis the column follows
            everything, day, score_weights = _plan(db, today, weights, by)
            if not everything:
                return changed + score_cleared(db, today, weights, by)
            rescore = _rescore(db)
            same = (
                rescore
                and rescore["day"] == day
                and rescore["weights"] == score_weights
                and isinstance(rescore["after"], int)
            )
            after = rescore["after"] if rescore and same else 0
            basis = {"day": day, "weights": score_weights, "by": rescore["by"] if rescore and after else by}
            last = db.execute(
                "SELECT max(rowid) FROM (SELECT rowid FROM items WHERE status <> 'closed' AND rowid > ? ORDER BY rowid LIMIT ?)",
                [after, pace.size],
            ).fetchone()[0]
            if last is not None:
                changed += _score(
                    db, day, score_weights, "i.rowid > :after AND i.rowid <= :last", {"after": after, "last": last}
                )
            if (
                last is None
                or db.execute(
                    "SELECT NOT EXISTS (SELECT 1 FROM items WHERE status <> 'closed' AND rowid > ?)", [last]
                ).fetchone()[0]
            ):
                _set_meta(db, BASIS_KEY, basis)
                db.execute("DELETE FROM meta WHERE key = ?", [RESCORE_KEY])
                return changed
            _set_meta(db, RESCORE_KEY, {**basis, "after": last})
        if after_batch is not None:
            after_batch(changed)
        pace.done(time.monotonic() - began)  # size the next batch, and let anyone waiting for the lock have it
