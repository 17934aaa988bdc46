"""Opening the one database file: location, permissions, pragmas, migrations, and whose file it is.

Every raw sqlite3 connection to a spo-tui file is made by ``connect`` below. ``open_db`` first makes
sure, without writing anything, that the file is empty or is a spo-tui database this version knows
(``identify``); only then does it switch it to WAL and bring its schema up to date. While it is
open, a database holds a shared lock beside its file (``StoreLock``), so that ``restore`` can tell
that spo-tui has it open somewhere and refuse.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlite_utils import Database

from spo_tui.domain.errors import SpoError
from spo_tui.store import crypto
from spo_tui.store.pins import PinnedConnection, Unpins, pin, read_pinned_header
from spo_tui.store.schema import migrations

BUSY_TIMEOUT_MS = 5000

#: ``PRAGMA application_id`` of every spo-tui database and backup: the ASCII letters "SPOT"
#: (0x53504F54 = 1397772116), at byte 68 of the file's header. A non-empty file without it (and
#: without spo-tui's migrations, for a file made before the mark existed) is not ours.
APPLICATION_ID = 0x53504F54
SQLITE_MAGIC = b"SQLite format 3\x00"
#: Files kept beside a database while it is in use: SQLite's, and spo-tui's lock.
COMPANION_SUFFIXES = ("-wal", "-shm", "-journal", "-lock")
#: Every migration this version knows; a database with others was made by a newer spo-tui.
KNOWN_MIGRATIONS = frozenset(m.name for m in migrations._migrations)


class StoreError(SpoError):
    """The database cannot be opened or is not a spo-tui database."""


class NotOurs(StoreError):
    """The file is another program's, not SQLite at all, or made by a newer spo-tui."""


class StoreBusy(StoreError):
    """Another process held the database for longer than the busy timeout."""


BUSY_MESSAGE = "the database is busy: someone else is saving a large change. Nothing was saved; try again in a moment"
RESTORING_MESSAGE = (
    "the database is being restored from a backup by another spo-tui. Nothing was opened; try again in a moment"
)
READ_ONLY_MESSAGE = "this database is read-only here (no write permission): nothing can be saved"


def connect(
    path: str | Path, *, read_only: bool = False, immutable: bool = False, encrypted: bool | None = None
) -> sqlite3.Connection:
    """A new connection to the database file at ``path``: the only place one is made.

    ``read_only`` opens the file for reading only. ``immutable`` also skips SQLite's locks and WAL,
    and creates no file beside it: for a first look at a file that may not be ours, and for a
    database in a folder this user cannot write. A file that is not plain SQLite is opened with
    SQLCipher and this login's database key when the keyring has one (``store/crypto.py``);
    ``encrypted`` True makes a new file encrypted, False never uses the key. Its errors are not
    sqlite3's: catch ``db_errors()``.
    """
    if read_only or immutable:
        target, uri = Path(path).resolve().as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro"), True
    else:
        target, uri = str(path), False
    key = _cipher_key(Path(path), encrypted)
    if key is None:
        conn = sqlite3.connect(target, uri=uri, factory=PinnedConnection)
    else:
        conn = crypto.connect_encrypted(target, key, uri=uri, factory=_cipher_connection())
    conn.pinned = pin(path)
    return conn


def db_errors(name: str = "Error") -> tuple[type[Exception], ...]:
    """sqlite3's exception ``name`` and, once SQLCipher is in use, SQLCipher's (not its subclass)."""
    cipher = sys.modules.get("sqlcipher3.dbapi2")
    return (getattr(sqlite3, name),) + ((getattr(cipher, name),) if cipher is not None else ())


def is_cipher(conn: object) -> bool:
    """True for a SQLCipher connection (an encrypted store)."""
    return not isinstance(conn, sqlite3.Connection)


def _cipher_key(path: Path, encrypted: bool | None) -> bytes | None:
    if encrypted is False:
        return None
    if encrypted is True:
        try:
            return crypto.key_for_new_store()
        except SpoError as error:
            raise StoreError(str(error)) from None
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size == 0:
        return None
    try:
        header = read_header(path)
    except (OSError, StoreError):
        return None
    if header.startswith(SQLITE_MAGIC):
        return None
    try:
        return crypto.database_key()
    except SpoError:
        return None  # opened as plain SQLite, it is then refused as "not a database" with a hint


_cipher_connection_class: type | None = None


def _cipher_connection() -> type:
    """The SQLCipher twin of ``PinnedConnection`` (made when first needed: SQLCipher is imported late)."""
    global _cipher_connection_class
    if _cipher_connection_class is None:

        class _CipherConnection(Unpins, crypto.cipher_module().Connection):  # type: ignore[misc]  # a base known at run time
            pass

        _cipher_connection_class = _CipherConnection
    return _cipher_connection_class


def read_header(path: Path) -> bytes:
    """The first 100 bytes of a regular file (SQLite's header), read without following a FIFO and
    without disturbing the locks of this process's own connections to it (``spo_tui.store.pins``)."""
    pinned = read_pinned_header(path)
    if pinned is not None:
        return pinned
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise StoreError(f"{path} is not a regular file (a folder, device, pipe or socket): nothing was changed")
        return os.read(fd, 100)
    finally:
        os.close(fd)


NOT_SQLITE = "it is not an SQLite database file"


# --- Whose file is it? -------------------------------------------------------------------------------


def not_ours_message(path: Path, why: str) -> str:
    if why == NOT_SQLITE:
        why += ", or it is encrypted with a key this login does not have: spo-tui unlock --recovery FILE"
    return f"{path} is not a spo-tui database ({why}): nothing was changed"


def newer_message(path: Path, schema: int) -> str:
    return f"{path} was made by a newer spo-tui (schema {schema}); upgrade spo-tui to open it"


def identify(path: Path) -> None:
    """Check, writing nothing and creating no file, that ``path`` is an empty file or a spo-tui
    database (StoreError if not: another program's file, or not SQLite at all).

    A file marked with our application_id passes here; whether this version knows its schema is
    checked on the connection that opens it (``schema_of``), which also sees what is in the WAL.
    """
    path = Path(path)
    try:
        header = read_header(path)
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror}") from None
    if not header:
        return
    if header.startswith(SQLITE_MAGIC):
        app_id = int.from_bytes(header[68:72], "big")
        if app_id == APPLICATION_ID:
            return
        if app_id != 0:
            raise NotOurs(not_ours_message(path, "it belongs to another program"))
        conn = connect(path, immutable=True)  # unmarked: ours from before the mark, or someone else's
    else:
        try:  # not plain SQLite: only connect knows how to read it (an encrypted store), if anyone does
            conn = connect(path, read_only=True)
        except db_errors("DatabaseError"):
            raise NotOurs(not_ours_message(path, NOT_SQLITE)) from None
    try:
        schema_of(conn, path)
    finally:
        conn.close()


def schema_of(conn: sqlite3.Connection, path: Path) -> list[str]:
    """spo-tui's applied migrations on ``conn``, refusing (StoreError) a database that is not ours
    or was made by a newer spo-tui. A database with no tables at all counts as an empty one."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        user_version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        applied = []
        if "_sqlite_migrations" in tables:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(_sqlite_migrations)")}
            if {"migration_set", "name"} <= columns:
                applied = [
                    r[0]
                    for r in conn.execute(
                        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid", [migrations.name]
                    )
                ]
    except db_errors("DatabaseError") as error:
        if "not a database" in str(error):
            raise NotOurs(not_ours_message(path, NOT_SQLITE)) from None
        raise StoreError(f"{path} is not a usable spo-tui database ({error})") from None
    if app_id != APPLICATION_ID and (app_id != 0 or (not applied and (tables or user_version))):
        raise NotOurs(not_ours_message(path, "it belongs to another program"))
    if any(name not in KNOWN_MIGRATIONS for name in applied):
        raise NotOurs(newer_message(path, len(applied)))
    return applied


def is_encrypted(path: Path) -> bool:
    """True for a non-empty file that is not plain SQLite: an encrypted store (or not a database at all)."""
    try:
        header = read_header(path)
    except (OSError, StoreError):
        return False
    return bool(header) and not header.startswith(SQLITE_MAGIC)


def file_identity(path: Path) -> tuple | None:
    """What says "this is still the same database file": its device and inode, and the header bytes
    that stay put while it is in use: the first 16 and the journal mode (bytes 18-19, written to the
    file itself when it is switched to WAL). A file renamed onto the path changes the inode; a backup
    copied over it in place changes the journal mode (backups are not in WAL mode). None if the file
    is gone or cannot be read. (The application_id is left out: marking a database made before the mark
    reaches the file itself only at a checkpoint, later.)"""
    try:
        st = os.stat(path)
        header = read_header(path)
    except (OSError, StoreError):
        return None
    plain = header.startswith(SQLITE_MAGIC)
    return (st.st_dev, st.st_ino, header[:16], header[18:20] if plain else b"")


# --- The lock that tells a restore the database is in use ---------------------------------------------


def lock_path(db_path: Path) -> Path:
    """The lock file beside the database (its real path, so that a symlink to it shares it)."""
    return Path(os.path.realpath(db_path) + "-lock")


if sys.platform == "win32":  # pragma: no cover - not run on Linux; see StoreLock
    import msvcrt

    _RANGE = 1 << 30

    def _lock(fd: int, exclusive: bool) -> tuple[int, int] | None:
        # No shared locks in msvcrt: each holder locks one byte of its own; a restore locks them all.
        for _ in range(3):
            offset, size = (0, _RANGE) if exclusive else (1 + secrets.randbelow(_RANGE - 1), 1)
            os.lseek(fd, offset, os.SEEK_SET)
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, size)
                return offset, size
            except OSError:
                if exclusive:
                    return None
        return None

    def _unlock(fd: int, token: tuple[int, int]) -> None:
        os.lseek(fd, token[0], os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, token[1])

else:
    import fcntl

    def _lock(fd: int, exclusive: bool) -> bool | None:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return None

    def _unlock(fd: int, token: object) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class StoreLock:
    """A lock on ``NAME-lock`` beside the database: every open database holds it shared for as long as
    it is open, and ``restore`` takes it exclusively (without waiting) or refuses.

    POSIX: ``flock(2)`` on the lock file (never on the database itself, whose descriptors SQLite's own
    locks depend on). Windows: msvcrt has no shared locks, so each holder locks one random byte of the
    lock file and a restore locks the whole range. The lock file is never deleted (a deleted lock file
    lets two processes lock different files). Where it cannot be made (a folder this user cannot
    write, where a restore could not write either), the database opens without it.
    """

    def __init__(self, fd: int, token: object) -> None:
        self._fd: int | None = fd
        self._token = token

    @classmethod
    def _open(cls, db_path: Path) -> int | None:
        path = lock_path(db_path)
        try:
            mode = os.stat(db_path).st_mode & 0o666
        except OSError:
            mode = 0o600
        for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
            try:
                return os.open(path, flags, mode)
            except OSError:
                continue
        return None

    @classmethod
    def shared(cls, db_path: Path, *, wait: float = BUSY_TIMEOUT_MS / 1000) -> StoreLock | None:
        """Hold the lock shared, waiting up to ``wait`` seconds while a restore has it; StoreBusy after."""
        fd = cls._open(db_path)
        if fd is None:
            return None
        deadline = time.monotonic() + wait
        while (token := _lock(fd, exclusive=False)) is None:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise StoreBusy(RESTORING_MESSAGE)
            time.sleep(0.05)
        return cls(fd, token)

    @classmethod
    def exclusive(cls, db_path: Path) -> StoreLock | None:
        """Hold the lock alone, at once, or return None: spo-tui has the database open somewhere."""
        fd = cls._open(db_path)
        if fd is None:
            raise StoreError(f"cannot make the lock file {lock_path(db_path)} (no permission to write in its folder)")
        token = _lock(fd, exclusive=True)
        if token is None:
            os.close(fd)
            return None
        return cls(fd, token)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                _unlock(fd, self._token)
            os.close(fd)

    def __del__(self) -> None:  # a database dropped without close() still lets go of its lock
        with contextlib.suppress(Exception):
            self.release()

    def __enter__(self) -> StoreLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- Writes held until the start-up check ---------------------------------------------------------------


class WriteHold:
    """Every transaction on one database file in this process waits until a check of the file ends,
    and is refused after a check that failed.

    The app checks its database (``quick_check``) in the background just after its first screen is
    drawn, not before: until the check has passed, a save (or a background worker's write) waits for
    it, so nothing is ever written to, and acknowledged on, a store the check then finds damaged.
    The wait is as long as the check (0.2 s on a PDU) and only for a save made that early.
    """

    #: Past this, a transaction goes ahead unchecked rather than keep the screen waiting (the check's
    #: result still stops saving if it fails later).
    WAIT_SECONDS = 30.0

    def __init__(self) -> None:
        self._ended = threading.Event()
        self.refusal: str | None = None

    def end(self, refusal: str | None = None) -> None:
        """The check ended: let writes go, or (``refusal``) refuse them all with that message."""
        self.refusal = refusal
        self._ended.set()

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def wait(self) -> None:
        self._ended.wait(self.WAIT_SECONDS)
        if self.refusal:
            raise StoreError(self.refusal)


_holds: dict[str, WriteHold] = {}


def hold_writes(path: Path) -> WriteHold:
    """Hold the writes of every connection to ``path`` that this process opens from now on (and any
    given the hold by hand) until ``WriteHold.end``; ``release_writes`` forgets it."""
    hold = WriteHold()
    _holds[os.path.realpath(path)] = hold
    return hold


def release_writes(path: Path, hold: WriteHold) -> None:
    """End ``hold`` if it has not ended, and stop giving it to new connections to ``path``."""
    if not hold.ended:
        hold.end()
    if _holds.get(os.path.realpath(path)) is hold:
        del _holds[os.path.realpath(path)]


# --- The database --------------------------------------------------------------------------------------


class SpoDatabase(Database):
    """sqlite-utils' Database whose outermost transaction takes the write lock at once.

    ``BEGIN IMMEDIATE`` makes a second process wait (up to the busy timeout) at the start of a
    write instead of failing half-way with SQLITE_BUSY when its snapshot goes stale, so two users
    on one file never lose a write. A wait past the timeout becomes ``StoreBusy`` with a clear message.
    """

    #: True when the file could only be opened for reading.
    read_only = False
    #: Called with the database just before each outermost transaction commits (the context sets it
    #: to keep stored urgency scores current: ``spo_tui.store.scoring.score_cleared``).
    before_commit: Callable[[Database], object] | None = None
    #: True on a store connected to a hub: each outermost transaction turns the rows it wrote into
    #: this device's signed changes just before it commits (``spo_tui.store.changes.seal``).
    sealing = False
    #: How many changes transactions on this connection have sealed (the app sends its own saves to
    #: the hub soon after them).
    sealed = 0
    #: Set (to the message to show) when nothing more may be saved on this connection: the app sets
    #: it when the file was replaced under it.
    refuse_writes: str | None = None
    #: Writes wait for this (the app's start-up check of the file) before they begin: see ``WriteHold``.
    write_hold: WriteHold | None = None
    #: The shared lock held while the database is open (None where no lock file can be made).
    store_lock: StoreLock | None = None
    #: The operating-system user every audit row written on this connection carries: put here by the
    #: acting context (``spo_tui.services.context.Context``), read with ``getattr(db, "os_user", None)``
    #: since a plain sqlite-utils Database (in tests) may not have it. Declared only: no default.
    os_user: str | None

    def __init__(self, conn: sqlite3.Connection) -> None:
        # Without sqlite-utils' plugins: spo-tui uses none, none should touch the record's connection,
        # and looking for them (every installed package's entry points) cost 15 ms of each start.
        super().__init__(conn, execute_plugins=False)

    def refuse_all_writes(self, message: str) -> None:
        """From now on nothing is written through this connection: transactions fail with ``message``
        and any other write (a draft, say) fails in SQLite itself (``PRAGMA query_only``)."""
        self.refuse_writes = message
        self.conn.execute("PRAGMA query_only = ON")

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.store_lock is not None:
                self.store_lock.release()
                self.store_lock = None

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        if self.write_hold is not None:
            self.write_hold.wait()
        if self.refuse_writes:
            raise StoreError(self.refuse_writes)
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except db_errors("OperationalError") as error:
            if "locked" in str(error) or "busy" in str(error):
                raise StoreBusy(BUSY_MESSAGE) from None
            if "readonly" in str(error):
                raise StoreError(READ_ONLY_MESSAGE) from None
            raise
        try:
            yield self
            if self.before_commit is not None:
                self.before_commit(self)
            if self.sealing:
                from spo_tui.store import changes

                self.sealed += changes.seal(self)
        except db_errors("OperationalError") as error:
            self.rollback()
            if "readonly" in str(error):
                raise StoreError(READ_ONLY_MESSAGE) from None
            raise
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except db_errors("OperationalError") as error:
            self.rollback()
            if "locked" in str(error) or "busy" in str(error):
                raise StoreBusy(BUSY_MESSAGE) from None
            raise


def open_db(path: str | Path, *, create: bool = True, migrate: bool = True) -> SpoDatabase:
    """Open (and if asked, create) the database at ``path`` and bring its schema up to date.

    A new file and its folders are created readable by the owner only. A file that is not ours, or
    was made by a newer spo-tui, is refused (StoreError) before anything is written to it. Every
    connection gets WAL mode, foreign keys on, a busy timeout and full sync (oversight entries must
    survive a crash), and holds the shared ``StoreLock`` until it is closed. A file this user cannot
    write opens read-only (``db.read_only`` is True): it can be read, and every attempt to save says
    the database is read-only.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")
    if not path.exists():
        if not create:
            raise StoreError(f"no database at {path}")
        _create_private_file(path)
    identify(path)
    if not create and os.stat(path).st_size == 0:
        raise StoreError(f"no database at {path} (the file is empty)")
    lock = StoreLock.shared(path)
    try:
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
            db = _open_read_only(path)
        else:
            db = _open_read_write(path, migrate)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    db.store_lock = lock
    db.write_hold = _holds.get(os.path.realpath(path))
    return db


@contextlib.contextmanager
def _closed_if_unusable(db: SpoDatabase, path: Path) -> Iterator[None]:
    """Close ``db`` if the block fails; a database error becomes "not a usable spo-tui database"."""
    try:
        yield
    except db_errors("DatabaseError") as error:
        db.close()
        raise StoreError(f"{path} is not a usable spo-tui database ({error})") from None
    except BaseException:
        db.close()
        raise


def _open_read_write(path: Path, migrate: bool) -> SpoDatabase:
    db = SpoDatabase(connect(path))
    with _closed_if_unusable(db, path):
        conn = db.conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        schema_of(conn, path)  # again, on this connection, which also sees what is in the WAL
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        if migrate:
            migrations.apply(db)
            if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                with db.atomic():
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        _start_sealing_if_connected(db)
    return db


def _start_sealing_if_connected(db: SpoDatabase) -> None:
    """On a store connected to a hub, keep the capture triggers current and seal every transaction."""
    from spo_tui.store import changes

    if not changes.is_connected(db):
        return
    if not changes.capture_current(db):
        with db.atomic():
            changes.install_capture(db)
    db.sealing = True


def _open_read_only(path: Path) -> SpoDatabase:
    """Open a database this user may not write, refusing one whose schema is out of date."""
    conn = connect(path, read_only=True)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except db_errors("OperationalError"):
        conn.close()
        conn = connect(path, immutable=True)  # WAL files cannot be made here
    db = SpoDatabase(conn)
    with _closed_if_unusable(db, path):
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        schema_of(db.conn, path)
        pending = migrations.pending(db)
    if pending:
        db.close()
        raise StoreError(f"{path} is read-only and was made by an older spo-tui: it cannot be brought up to date")
    db.read_only = True
    return db


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents, each readable by the owner only (0700).

    ``Path.mkdir(parents=True)`` would give the parents the default mode; folders that already exist
    are left as they are.
    """
    folder = Path(folder)
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        try:
            os.mkdir(each, 0o700)
        except FileExistsError:
            continue
        os.chmod(each, 0o700)  # whatever the umask


def _create_private_file(path: Path) -> None:
    """Create an empty file (and missing folders) readable and writable by the owner only."""
    try:
        make_private_dirs(path.parent)
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
    db.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value]
    )


def is_empty(db: Database) -> bool:
    """True when the database holds no staff and no cases (a first run)."""
    return db.execute("SELECT NOT EXISTS (SELECT 1 FROM staff) AND NOT EXISTS (SELECT 1 FROM cases)").fetchone()[0] == 1
