"""Opening the one database file: location, permissions, pragmas and migrations."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlite_utils import Database

from spo_tui.domain.errors import SpoError
from spo_tui.store.schema import migrations

BUSY_TIMEOUT_MS = 5000


class StoreError(SpoError):
    """The database cannot be opened or is not a spo-tui database."""


class StoreBusy(StoreError):
    """Another process held the database for longer than the busy timeout."""


BUSY_MESSAGE = "the database is busy: someone else is saving a large change. Nothing was saved; try again in a moment"


class SpoDatabase(Database):
    #: True when the file could only be opened for reading.
    read_only = False
    #: Called with the database just before each outermost transaction commits (the context sets it
    #: to keep stored urgency scores current: ``spo_tui.store.scoring.score_cleared``).
    before_commit: Callable[[Database], object] | None = None

    """sqlite-utils' Database whose outermost transaction takes the write lock at once.

    ``BEGIN IMMEDIATE`` makes a second process wait (up to the busy timeout) at the start of a
    write instead of failing half-way with SQLITE_BUSY when its snapshot goes stale, so two users
    on one file never lose a write. A wait past the timeout becomes ``StoreBusy`` with a clear message.
    """

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise StoreBusy(BUSY_MESSAGE) from None
            if "readonly" in str(error):
                raise StoreError(READ_ONLY_MESSAGE) from None
            raise
        try:
            yield self
            if self.before_commit is not None:
                self.before_commit(self)
        except sqlite3.OperationalError as error:
            self.rollback()
            if "readonly" in str(error):
                raise StoreError(READ_ONLY_MESSAGE) from None
            raise
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self.rollback()
            if "locked" in str(error) or "busy" in str(error):
                raise StoreBusy(BUSY_MESSAGE) from None
            raise


def open_db(path: str | Path, *, create: bool = True, migrate: bool = True) -> Database:
    """Open (and if asked, create) the database at ``path`` and bring its schema up to date.

    A new file and its folder are created readable by the owner only. Every connection gets WAL
    mode, foreign keys on, a busy timeout and full sync (oversight entries must survive a crash).
    A file this user cannot write opens read-only (``db.read_only`` is True): it can be read, and
    every attempt to save says the database is read-only.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    if not path.exists():
        if not create:
            raise StoreError(f"no database at {path}")
        _create_private_file(path)
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return _open_read_only(path)
    try:
        db = SpoDatabase(str(path))
        conn = db.conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        if migrate:
            migrations.apply(db)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a usable spo-tui database ({error})") from None
    return db


READ_ONLY_MESSAGE = "this database is read-only here (no write permission): nothing can be saved"


def _open_read_only(path: Path) -> Database:
    """Open a database this user may not write, refusing one whose schema is out of date."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)  # WAL files cannot be made here
    try:
        db = SpoDatabase(conn)
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        pending = migrations.pending(db)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{path} is not a usable spo-tui database ({error})") from None
    if pending:
        raise StoreError(f"{path} is read-only and was made by an older spo-tui: it cannot be brought up to date")
    db.read_only = True
    return db


def _create_private_file(path: Path) -> None:
    """Create an empty file (and missing folders) readable and writable by the owner only."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except OSError as error:
        raise StoreError(f"cannot create a database at {path}: {error.strerror}") from None


@contextlib.contextmanager
def read_snapshot(db: Database) -> Iterator[Database]:
    """Run the reads inside in one transaction, so they all see the same state of the store."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN")
    try:
        yield db
    finally:
        conn.execute("COMMIT")  # nothing was written: this only ends the snapshot


def get_meta(db: Database, key: str) -> str | None:
    """A value from the ``meta`` table (``demo``, ``demo_seed``, ...), or None."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(db: Database, key: str, value: str) -> None:
    db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])


def is_empty(db: Database) -> bool:
    """True when the database holds no staff and no cases (a first run)."""
    return db.execute("SELECT NOT EXISTS (SELECT 1 FROM staff) AND NOT EXISTS (SELECT 1 FROM cases)").fetchone()[0] == 1
