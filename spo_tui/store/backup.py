"""Backups with SQLite's online backup API, integrity checks, and restoring a backup.

Backups live in a ``backups`` folder beside the database, readable by the owner only. A backup is
taken at most once a day when the app starts, and on demand with ``spo-tui backup``; the newest
``keep`` are kept. A restore refuses a file that fails the integrity check or is not a spo-tui
database, and first backs up the database it replaces.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from spo_tui.domain.errors import SpoError

BACKUP_PREFIX = "spo-"
DEFAULT_KEEP = 14


class BackupError(SpoError):
    """A backup or restore could not be made; the message says why."""


@dataclass(frozen=True)
class Integrity:
    ok: bool
    message: str


def backups_dir(db_path: Path) -> Path:
    """The folder beside the database where its backups go."""
    return Path(db_path).expanduser().resolve().parent / "backups"


def check_integrity(path: Path, *, quick: bool = False) -> Integrity:
    """Run ``PRAGMA integrity_check`` (or the faster ``quick_check``) on a read-only connection."""
    path = Path(path)
    if not path.is_file():
        return Integrity(False, f"{path} does not exist")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            pragma = "quick_check" if quick else "integrity_check"
            rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}").fetchall()]
            is_ours = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        if "malformed" in str(error):  # a database whose pages are broken, not some other file
            return Integrity(False, f"{path} is damaged: {error}")
        return Integrity(False, f"{path} cannot be read as a database ({error})")
    if rows != ["ok"]:
        return Integrity(False, f"{path} is damaged: {'; '.join(rows[:3])}")
    if not is_ours:
        return Integrity(False, f"{path} is not a spo-tui database")
    return Integrity(True, "ok")


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


def backup(db_path: Path, dest: Path | None = None, *, now: datetime | None = None) -> Path:
    """Copy the live database with the online backup API to ``dest`` (default: the backups folder).

    The copy is written to a temporary name, checked, made owner-only, then renamed into place, so a
    crash never leaves a half-written backup under a backup's name.
    """
    db_path = Path(db_path).expanduser()
    if not db_path.is_file():
        raise BackupError(f"no database at {db_path}")
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    if dest is None:
        folder = backups_dir(db_path)
        _private_folder(folder)
        dest = folder / f"{BACKUP_PREFIX}{stamp}.db"
    dest = Path(dest).expanduser()
    tmp = dest.with_name(dest.name + ".part")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    os.close(fd)
    try:
        src = sqlite3.connect(str(db_path))
        dst = sqlite3.connect(str(tmp))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
            src.close()
        result = check_integrity(tmp)
        if not result.ok:
            raise BackupError(f"the backup failed its check: {result.message}")
        os.replace(tmp, dest)
    except sqlite3.Error as error:
        raise BackupError(f"cannot back up {db_path}: {error}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def list_backups(db_path: Path) -> list[Path]:
    """Backups of this database, oldest first."""
    folder = backups_dir(db_path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{BACKUP_PREFIX}*.db"))


def daily_backup(db_path: Path, *, keep: int = DEFAULT_KEEP, now: datetime | None = None) -> Path | None:
    """Back up if there is no backup from today yet; keep the newest ``keep``. Returns the new file."""
    now = now or datetime.now()
    existing = list_backups(db_path)
    if any(p.name.startswith(f"{BACKUP_PREFIX}{now:%Y%m%d}") for p in existing):
        return None
    made = backup(db_path, now=now)
    for old in list_backups(db_path)[:-keep] if keep > 0 else []:
        old.unlink()
    return made


def restore(db_path: Path, source: Path, *, now: datetime | None = None) -> Path | None:
    """Replace the database with ``source`` after checking it; returns the backup of what it replaced.

    Refuses a source that fails the integrity check or is not a spo-tui database, changing nothing.
    """
    source = Path(source).expanduser()
    result = check_integrity(source)
    if not result.ok:
        raise BackupError(f"will not restore: {result.message}")
    db_path = Path(db_path).expanduser()
    previous = None
    if db_path.is_file() and check_integrity(db_path, quick=True).ok:
        previous = backup(db_path, backups_dir(db_path) / f"{BACKUP_PREFIX}{(now or datetime.now()):%Y%m%d-%H%M%S}-before-restore.db")
    elif db_path.is_file():
        _private_folder(backups_dir(db_path))
        damaged = backups_dir(db_path) / f"damaged-{(now or datetime.now()):%Y%m%d-%H%M%S}.db"
        os.replace(db_path, damaged)
        for suffix in ("-wal", "-shm"):
            side = Path(str(db_path) + suffix)
            if side.exists():
                os.replace(side, Path(str(damaged) + suffix))
    if not db_path.exists():
        os.close(os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600))
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(db_path), timeout=10)
    try:
        src.backup(dst)
    except sqlite3.Error as error:
        raise BackupError(f"cannot restore into {db_path}: {error}") from None
    finally:
        dst.close()
        src.close()
    return previous
