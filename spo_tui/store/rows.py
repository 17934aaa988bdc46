"""Rows as dicts: the two small helpers every read in the store uses to run a SELECT."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database


def one_row(db: Database, sql: str, params: list | tuple | dict[str, Any] = ()) -> dict[str, Any] | None:
    """The first row ``sql`` returns, as a dict keyed by column name, or None when there is none."""
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row, strict=False))


def all_rows(db: Database, sql: str, params: list | tuple | dict[str, Any] = ()) -> list[dict[str, Any]]:
    """Every row ``sql`` returns, each as a dict keyed by column name."""
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]
