"""The SQL the demo runs itself: bulk inserts of the rows it generated, and its checks and counts.

Nothing here opens a transaction: ``generate_demo`` wraps the inserts in one ``db.atomic()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlite_utils import Database


def insert_rows(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    """Bulk insert of rows, checked against the table's columns, in their order.

    ``executemany`` on sqlite-utils' own connection, inside the caller's ``db.atomic()``: the same
    rows as ``db.table(table).insert_all(rows)`` but about twice as fast for the PDU's 150,000
    oversight entries (insert_all inspects every value in Python). Rows that leave out a column (one
    the part of the demo that made them does not set) get its default: each run of rows with the same
    keys is one statement.
    """
    known = set(db.table(table).columns_dict) if rows else set()
    start = 0
    while start < len(rows):
        columns = list(rows[start])
        end = start + 1
        while end < len(rows) and rows[end].keys() == rows[start].keys():
            end += 1
        unknown = set(columns) - known
        if unknown:
            raise AssertionError(f"demo rows for {table} have unknown columns {sorted(unknown)}")
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        db.conn.executemany(
            f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
            [tuple(r[c] for c in columns) for r in rows[start:end]],
        )
        start = end


def holds_work(db: Database) -> bool:
    """Whether the database holds any staff, cases, items or oversight entries."""
    return (
        db.execute(
            "SELECT EXISTS (SELECT 1 FROM staff) OR EXISTS (SELECT 1 FROM cases) OR EXISTS (SELECT 1 FROM items) "
            "OR EXISTS (SELECT 1 FROM oversight_entries)"
        ).fetchone()[0]
        == 1
    )


def has_meta_table(db: Database) -> bool:
    """Whether the database has been set up at all (an unmigrated file has no ``meta`` table)."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is not None


@contextlib.contextmanager
def big_page_cache(db: Database, kib: int = 262144) -> Iterator[None]:
    """A big page cache while the PDU's indexes (keyed by random UUIDs) are filled, then the old size."""
    cache_size = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA cache_size = {int(cache_size)}")


def demo_counts(db: Database, today: date) -> dict[str, Any]:
    """What a demo database holds: staff, practitioners, cases, registrations, oversight entries,
    open items by kind, and the staff absent ``today``."""

    def one(sql: str, params: list | tuple = ()) -> int:
        return db.execute(sql, params).fetchone()[0]

    by_kind = dict(
        db.execute("SELECT kind, COUNT(*) FROM items WHERE status = 'open' GROUP BY kind ORDER BY kind").fetchall()
    )
    return {
        "staff": one("SELECT COUNT(*) FROM staff"),
        "practitioners": one("SELECT COUNT(*) FROM staff WHERE role IN ('PO', 'PSO', 'PQiP', 'NQO')"),
        "cases": one("SELECT COUNT(*) FROM cases"),
        "case_flags": one("SELECT COUNT(*) FROM case_flags"),
        "oversight_entries": one("SELECT COUNT(*) FROM oversight_entries"),
        "open_by_kind": by_kind,
        "absent_today": one(
            "SELECT COUNT(DISTINCT staff_id) FROM absences WHERE start_date <= ? AND end_date >= ?",
            [today.isoformat(), today.isoformat()],
        ),
    }
