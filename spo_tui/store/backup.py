"""Backups with SQLite's online backup API, integrity checks, and restoring a backup.

Backups live in a ``backups`` folder beside the database, readable by the owner only. A backup is
taken at most once a day by the app, in the background just after its first screen is drawn, and on
demand with ``spo-tui backup``; the newest ``keep`` daily ones are kept (backups taken before a
restore are never rotated away).

A backup in the backups folder of a plain store is compressed: ``spo-DATE-TIME.db.zst`` is one
Zstandard frame (with its content checksum) of the checked SQLite copy, so a fortnight of them costs
about a third of 14 copies, each one whole on its own (``zstd -d`` gives the database back by hand).
It is made from the copy that passed the full integrity check, and the written file is read back
and must give exactly that copy's bytes. A backup of an encrypted store is its SQLCipher copy, not
compressed: encrypted pages do not compress, and compressing the plain pages would mean writing them
to disk or a cipher format of our own. ``--to FILE`` writes an uncompressed copy, a database that
opens as it is. Restoring a compressed backup first decompresses it to a temporary file in the
backups folder, which is checked like any other backup and removed afterwards. Backups made before
compression (``spo-….db``) are listed, rotated and restored as they were.

A backup is written to a unique temporary ``.part`` name in the destination folder, checked,
flushed to disk, renamed into place and the folder flushed, so a crash, a kill or a full disk never
leaves a half backup under a backup's name; the next backup into that folder removes the ``.part``
files that killed backups left. A backup never writes over the database or its companion files,
over anything that is not a regular file, or over an existing file that is not a spo-tui backup.

A restore refuses a file that fails the integrity check or is not a spo-tui database, refuses while
spo-tui has the database open anywhere (``StoreLock``), and first backs up the database it replaces.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from spo_tui.domain.errors import SpoError
from spo_tui.store.db import (
    APPLICATION_ID,
    COMPANION_SUFFIXES,
    SQLITE_MAGIC,
    NotOurs,
    StoreError,
    StoreLock,
    connect,
    db_errors,
    identify,
    is_cipher,
    is_encrypted,
    make_private_dirs,
    read_header,
    schema_of,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # no fcntl on Windows: the checks below skip it

BACKUP_PREFIX = "spo-"
DEFAULT_KEEP = 14
#: A temporary file of a backup under way: ``NAME.PID-RANDOM.part``, beside where NAME will be.
PART_NAME = re.compile(r"\.(\d+)-[0-9a-f]{8}\.part(-journal|-wal|-shm|-lock)?$")
#: The daily backups that rotation may remove (not those taken before a restore), compressed or not.
DAILY_NAME = re.compile(rf"{BACKUP_PREFIX}\d{{8}}-\d{{6}}(-\d+)?\.db(\.zst)?")
#: What a compressed backup's name ends with, and how its file starts (a Zstandard frame).
COMPRESSED_SUFFIX = ".zst"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: Zstandard's own default level: on the PDU demo (205 MB) 62 MB in about 1 s; level 1 saves a
#: quarter of the time for 3% more, 6 and above double the time or more for 5-12% less.
ZSTD_LEVEL = 3
#: Bytes read, compressed and written at a time (the compressor and hashlib let go of the GIL meanwhile).
CHUNK = 1 << 20
#: Without flock (Windows), a ``.part`` this old is taken to be abandoned.
ABANDONED_AFTER_SECONDS = 24 * 3600
#: ``.part`` files left by spo-tui versions that named them ``spo-….db.part`` (no pid): removed when this old.
LEGACY_PART_AGE_SECONDS = 3600


class BackupError(SpoError):
    """A backup or restore could not be made; the message says why."""


@dataclass(frozen=True)
class Integrity:
    ok: bool
    message: str
    #: False when the file is not a spo-tui database this version may open (another program's, not
    #: SQLite, or a newer spo-tui's), as opposed to one of ours that is damaged.
    ours: bool = True


def backups_dir(db_path: Path) -> Path:
    """The folder beside the database where its backups go."""
    return Path(db_path).expanduser().resolve().parent / "backups"


def check_integrity(path: Path, *, quick: bool = False) -> Integrity:
    """Run ``PRAGMA integrity_check`` (or the faster ``quick_check``) on a read-only connection, and
    check that the file is a spo-tui database this version knows. A compressed backup is checked on
    a temporary decompressed copy (``plain_copy``): one that does not decompress whole is damaged."""
    path = Path(path)
    if not path.exists():
        return Integrity(False, f"{path} does not exist")
    if not path.is_file():
        return Integrity(False, f"{path} is not a regular file")
    if is_compressed(path):
        try:
            with plain_copy(path) as plain:
                result = _check_sqlite(plain, quick)
        except BackupError as error:
            return Integrity(False, str(error))
        return Integrity(result.ok, result.message.replace(str(plain), str(path)), result.ours)
    return _check_sqlite(path, quick)


def _check_sqlite(path: Path, quick: bool) -> Integrity:
    try:
        identify(path)
    except NotOurs as error:
        return Integrity(False, str(error), ours=False)
    except StoreError:
        pass  # unreadable: the integrity check says how
    try:
        conn = connect(path, read_only=True)
        try:
            pragma = "quick_check" if quick else "integrity_check"
            rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}").fetchall()]
            if rows == ["ok"]:
                schema_of(conn, path)
        finally:
            conn.close()
    except StoreError as error:
        return Integrity(False, str(error), ours=not isinstance(error, NotOurs))
    except db_errors("DatabaseError") as error:
        if "malformed" in str(error):  # a database whose pages are broken, not some other file
            return Integrity(False, f"{path} is damaged: {error}")
        return Integrity(False, f"{path} cannot be read as a database ({error})")
    if rows != ["ok"]:
        return Integrity(False, f"{path} is damaged: {'; '.join(rows[:3])}")
    return Integrity(True, "ok")


def _private_folder(folder: Path) -> None:
    make_private_dirs(folder)
    os.chmod(folder, 0o700)


# --- Compressed backups ---------------------------------------------------------------------------------


def _zstd():
    """Zstandard: the standard library's from Python 3.14, its backport before (imported when used)."""
    try:
        from compression import zstd  # Python 3.14+
    except ImportError:
        from backports import zstd
    return zstd


def is_compressed(path: Path) -> bool:
    """True for a file that starts as a Zstandard frame does (a compressed backup, if it is ours)."""
    try:
        return read_header(Path(path))[:4] == ZSTD_MAGIC
    except (OSError, StoreError):
        return False


def _compress(plain: Path, fd: int) -> bytes:
    """Write ``plain`` compressed (one frame, with its checksum) to the open file ``fd``; return the
    SHA-256 of ``plain``'s bytes."""
    zstd = _zstd()
    parameter = zstd.CompressionParameter
    compressor = zstd.ZstdCompressor(options={parameter.compression_level: ZSTD_LEVEL, parameter.checksum_flag: 1})
    digest = hashlib.sha256()
    with open(plain, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            _write_all(fd, compressor.compress(chunk))
    _write_all(fd, compressor.flush())
    return digest.digest()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _decompress(path: Path, fd: int | None = None) -> bytes:
    """Read the compressed file at ``path`` whole, checking its frame's checksum, writing the bytes to
    ``fd`` if given; return their SHA-256. BackupError if it is damaged or cut short."""
    zstd = _zstd()
    digest = hashlib.sha256()
    try:
        with zstd.open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                if fd is not None:
                    _write_all(fd, chunk)
    except (zstd.ZstdError, EOFError) as error:
        raise BackupError(f"{path} is damaged: it does not decompress whole ({error})") from None
    return digest.digest()


@contextlib.contextmanager
def plain_copy(path: Path, folder: Path | None = None) -> Iterator[Path]:
    """The backup at ``path`` as an SQLite file: itself, or for a compressed one a temporary
    decompressed copy (owner-only, named as a ``.part`` so that a killed process's is cleared by the
    next backup there), removed afterwards. It is made in ``folder`` (by default beside ``path``, or in
    a private temporary folder where that cannot be written). BackupError if it cannot be made."""
    path = Path(path)
    if not is_compressed(path):
        yield path
        return
    name = path.name.removesuffix(COMPRESSED_SUFFIX)
    made_folder = None
    try:
        try:
            part, fd = _new_part((folder or path.parent) / name)
        except OSError:
            if folder is not None:
                raise
            made_folder = Path(tempfile.mkdtemp(prefix="spo-tui-"))
            part, fd = _new_part(made_folder / name)
    except OSError as error:
        where = folder or path.parent
        raise BackupError(f"cannot decompress {path}: {_why(error, where)}") from None
    try:
        try:
            _decompress(path, fd)
        except OSError as error:
            raise BackupError(f"cannot decompress {path}: {_why(error, part.parent)}") from None
        yield part
    finally:
        os.close(fd)
        for leftover in (part, *(Path(f"{part}{s}") for s in ("-journal", "-wal", "-shm", "-lock"))):
            _unlink_quietly(leftover)
        if made_folder is not None:
            with contextlib.suppress(OSError):
                made_folder.rmdir()


# --- Making a backup ------------------------------------------------------------------------------------


def backup(db_path: Path, dest: Path | None = None, *, now: datetime | None = None) -> Path:
    """Copy the live database with the online backup API to ``dest`` (default: a new file in the
    backups folder, compressed unless the store is encrypted) and return where it went. An existing
    ``dest`` is replaced only if it is a spo-tui backup; everything else is refused with BackupError
    before anything is written."""
    db_path = Path(db_path).expanduser()
    if not db_path.exists():
        raise BackupError(f"no database at {db_path}")
    identify(db_path)
    with StoreLock.shared(db_path) or _no_lock():  # not while a restore is replacing it
        if dest is None:
            folder = backups_dir(db_path)
            try:
                _private_folder(folder)
            except OSError as error:
                raise BackupError(f"cannot back up to {folder}: {_why(error, folder)}. No backup was made") from None
            stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
            return _copy_database(db_path, folder / f"{BACKUP_PREFIX}{stamp}.db", check_source=True, compress=True)
        dest = Path(dest).expanduser()
        final = check_destination(db_path, dest)
        return _copy_database(db_path, final, check=lambda: check_destination(db_path, dest), check_source=True)


class _no_lock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def check_destination(db_path: Path, dest: Path) -> Path:
    """Where a backup asked for at ``dest`` will be renamed to, after refusing (BackupError) the
    database itself and its companion files (by name, through symlinks, and by inode for hard
    links), a missing folder, anything that is not a regular file, a link to nothing, and an
    existing file that is not a spo-tui backup. Nothing is opened for writing."""
    try:
        is_link = stat.S_ISLNK(os.lstat(dest).st_mode)
    except FileNotFoundError:
        is_link = False
    except OSError as error:
        raise BackupError(f"cannot back up to {dest}: {error.strerror}") from None
    if is_link and not os.path.exists(dest):
        raise BackupError(f"will not back up to {dest}: it is a link to nothing")
    final = Path(os.path.realpath(dest)) if is_link else Path(os.path.abspath(dest))
    folder = final.parent
    if not folder.exists():
        raise BackupError(f"cannot back up to {dest}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise BackupError(f"cannot back up to {dest}: {folder} is not a folder")
    live = Path(os.path.realpath(db_path))
    ours = [live] + [live.with_name(live.name + s) for s in COMPANION_SUFFIXES]
    same_folder = os.path.samefile(folder, live.parent)
    for path in ours:
        by_name = os.path.normcase(os.path.realpath(final)) == os.path.normcase(str(path))
        if by_name or (same_folder and final.name.casefold() == path.name.casefold()) or _same_file(final, path):
            raise BackupError(f"will not back up to {dest}: that is the database itself or one of its working files")
    if not final.exists():
        return final
    mode = os.stat(final).st_mode
    if not stat.S_ISREG(mode):
        raise BackupError(f"will not back up to {dest}: it is not a regular file (a folder, device, pipe or socket)")
    if not is_backup(final):
        raise BackupError(
            f"will not back up to {dest}: that file exists and is not a spo-tui backup (choose a new name)"
        )
    for suffix in ("-wal", "-shm", "-journal"):
        if os.path.lexists(f"{final}{suffix}"):
            raise BackupError(
                f"will not back up to {dest}: it is in use as a database ({final.name}{suffix} is beside it)"
            )
    return final


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def is_backup(path: Path) -> bool:
    """True for a spo-tui database that is not in WAL mode: every backup is written in rollback mode,
    and every database spo-tui opens is switched to WAL, so a live database is never taken for one.
    A compressed backup counts when the header it decompresses to is such a database's."""
    if is_compressed(path):
        return _compressed_header_is_a_backup(path)
    try:
        header = read_header(path)
        identify(path)
    except (OSError, StoreError):
        return False
    if header.startswith(SQLITE_MAGIC):
        return header[18:20] == b"\x01\x01"
    try:  # encrypted: the header is too, so ask SQLCipher
        conn = connect(path, read_only=True)
        try:
            return is_cipher(conn) and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal"
        finally:
            conn.close()
    except db_errors():
        return False


def _compressed_header_is_a_backup(path: Path) -> bool:
    zstd = _zstd()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            with zstd.open(os.fdopen(os.dup(fd), "rb"), "rb") as source:
                header = source.read(100)
        finally:
            os.close(fd)
    except (OSError, EOFError, zstd.ZstdError):
        return False
    return (
        header.startswith(SQLITE_MAGIC)
        and int.from_bytes(header[68:72], "big") == APPLICATION_ID
        and header[18:20] == b"\x01\x01"
    )


def _copy_database(
    db_path: Path,
    final: Path,
    *,
    check: Callable[[], Path] | None = None,
    check_source: bool = False,
    compress: bool = False,
) -> Path:
    """Copy the database to a temporary file beside ``final``, check it, flush it, rename it into place
    and flush the folder. With ``check`` (an explicit destination), ``final`` is replaced after
    ``check`` passes again; without, an existing file is never replaced (a number is added instead).
    ``check_source`` refuses a database made by a newer spo-tui. ``compress`` (for a plain store)
    writes the checked copy compressed, as ``final`` with ``.zst`` added, read back before it is named.
    Nothing is left behind on failure."""
    folder = final.parent
    remove_abandoned_parts(folder)
    try:
        part, fd = _new_part(final)
    except OSError as error:
        raise BackupError(f"cannot back up to {final}: {_why(error, folder)}. No backup was made") from None
    packed: tuple[Path, int] | None = None
    try:
        src = connect(db_path, read_only=True)  # a backup never writes to the database
        try:
            if check_source:
                schema_of(src, db_path)
            encrypted = is_cipher(src)
            dst = connect(part, encrypted=encrypted)  # a backup of an encrypted store is encrypted
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")
                dst.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            finally:
                dst.close()
        finally:
            src.close()
        result = check_integrity(part)
        if not result.ok:
            raise BackupError(f"the backup failed its check: {result.message}. No backup was made")
        written = part
        if compress and not encrypted:  # encrypted pages do not compress: kept as the SQLCipher copy
            final = final.with_name(final.name + COMPRESSED_SUFFIX)
            packed = _new_part(final)
            digest = _compress(part, packed[1])
            os.fsync(packed[1])
            if _decompress(packed[0]) != digest:
                raise BackupError("the compressed backup did not read back as the copy it was made from")
            written = packed[0]
        else:
            os.fsync(fd)
        if check is not None:
            if check() != final:  # the destination changed while the copy was made
                raise BackupError(
                    f"will not back up to {final}: it changed while the backup was being made. No backup was made"
                )
            os.replace(written, final)
        else:
            final = _rename_without_replacing(written, final)
        _fsync_folder(folder)
        return final
    except db_errors() + (OSError,) as error:
        raise BackupError(f"cannot back up to {final}: {_why(error, folder)}. No backup was made") from None
    except BackupError as error:
        if str(error).endswith("No backup was made"):
            raise
        raise BackupError(f"{error}. No backup was made") from None
    finally:
        os.close(fd)
        if packed is not None:
            os.close(packed[1])
        for made in (part, packed[0] if packed else None):
            if made is None:
                continue
            for leftover in (made, *(Path(f"{made}{s}") for s in ("-journal", "-wal", "-shm"))):
                _unlink_quietly(leftover)


def _new_part(final: Path) -> tuple[Path, int]:
    """A new, empty, owner-only temporary file beside ``final``, and a descriptor that holds its lock
    (so that no other backup takes it for abandoned) until the backup is over."""
    while True:
        part = final.with_name(f"{final.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
        fd = os.open(part, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            if os.path.samestat(os.fstat(fd), os.stat(part)):
                return part, fd
        except FileNotFoundError:
            pass  # another backup removed it before it was locked: make another
        os.close(fd)


def _rename_without_replacing(part: Path, final: Path) -> Path:
    """Give ``part`` the name ``final`` (or ``final`` with -2, -3 … if that is taken) without ever
    replacing a file: a hard link fails if the name exists. Where hard links are not supported, the
    name is checked first."""
    candidate, n = final, 1
    while True:
        try:
            os.link(part, candidate)
        except FileExistsError:
            pass
        except OSError:
            if not os.path.lexists(candidate):
                os.replace(part, candidate)
                return candidate
        else:
            os.unlink(part)
            return candidate
        n += 1
        stem, dot, suffixes = final.name.partition(".")  # spo-DATE-TIME-2.db.zst, not spo-DATE-TIME.db-2.zst
        candidate = final.with_name(f"{stem}-{n}{dot}{suffixes}")


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows cannot open a folder for this)."""
    if os.name == "nt":  # pragma: no cover
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):  # a file system that cannot
            raise
    finally:
        os.close(fd)


def _why(error: Exception, folder: Path) -> str:
    """A short reason for a failed write, in words."""
    if isinstance(error, OSError):
        if error.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return "the disk is full"
        if error.errno in (errno.EACCES, errno.EPERM):
            return f"no permission to write in {folder}"
        if error.errno == errno.EROFS:
            return f"{folder} is on a read-only disk"
        if error.errno == errno.ENOENT:
            return f"the folder {folder} does not exist"
        if error.errno in (errno.EEXIST, errno.ENOTDIR):
            return f"{folder} is not a folder"
        return error.strerror or str(error)
    text = str(error)
    if "full" in text:
        return "the disk is full"
    if "disk I/O error" in text:
        return "the disk could not be written (it may be full)"
    if "readonly" in text or "read-only" in text:
        return f"no permission to write in {folder}"
    return text


def remove_abandoned_parts(folder: Path) -> None:
    """Remove the temporary files that killed backups left in ``folder``: those no live backup holds.

    A backup holds an exclusive ``flock`` on its ``.part`` while it works and names it with its pid,
    so a ``.part`` is abandoned when its lock is free and no process with that pid is alive. Where
    ``flock`` does not exist (Windows) a ``.part`` is abandoned after a day.
    """
    try:
        names = os.listdir(folder)
    except OSError:
        return
    present = set(names)
    for name in names:
        match = PART_NAME.search(name)
        path = folder / name
        if match and match.group(2):  # a journal of a .part: goes with it
            if name[: -len(match.group(2))] not in present:
                _unlink_quietly(path)
        elif match:
            if _abandoned(path, int(match.group(1))):
                for leftover in (path, *(Path(f"{path}{s}") for s in ("-journal", "-wal", "-shm"))):
                    _unlink_quietly(leftover)
        elif folder.name == "backups" and name.startswith(BACKUP_PREFIX) and name.endswith(".db.part"):
            try:
                if time.time() - os.lstat(path).st_mtime > LEGACY_PART_AGE_SECONDS:
                    _unlink_quietly(path)
            except OSError:
                pass


def _abandoned(path: Path, pid: int) -> bool:
    if fcntl is None:  # pragma: no cover - Windows
        try:
            return time.time() - os.lstat(path).st_mtime > ABANDONED_AFTER_SECONDS
        except OSError:
            return False
    if pid != os.getpid() and _alive(pid):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a backup is writing it
        return os.path.samestat(os.fstat(fd), os.lstat(path))
    except OSError:
        return False
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, belongs to someone else
    return True


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def list_backups(db_path: Path) -> list[Path]:
    """Backups of this database (compressed or not), oldest first."""
    folder = backups_dir(db_path)
    if not folder.is_dir():
        return []
    return sorted(
        p for pattern in ("*.db", f"*.db{COMPRESSED_SUFFIX}") for p in folder.glob(f"{BACKUP_PREFIX}{pattern}")
    )


def restore_advice(db_path: Path) -> str:
    """How to put back the newest backup of this database, in words."""
    backups = list_backups(db_path)
    if not backups:
        return "no backup of it was found; restore one you have with: spo-tui restore FILE"
    return f"restore the newest backup with: spo-tui --db {db_path} restore {backups[-1]}"


def backup_due(db_path: Path, *, now: datetime | None = None) -> bool:
    """True if there is no backup of this database from today (``now``'s day) yet, made or being made
    (by another process: the app started again while its backup of a moment ago still runs)."""
    now = now or datetime.now()
    today = f"{BACKUP_PREFIX}{now:%Y%m%d}"
    if any(p.name.startswith(today) for p in list_backups(db_path)):
        return False
    folder = backups_dir(db_path)
    try:
        names = os.listdir(folder)
    except OSError:
        return True
    for name in names:
        match = PART_NAME.search(name)
        if (
            match
            and not match.group(2)
            and name.startswith(today)
            and not _abandoned(folder / name, int(match.group(1)))
        ):
            return False
    return True


def daily_backup(db_path: Path, *, keep: int = DEFAULT_KEEP, now: datetime | None = None) -> Path | None:
    """Back up if there is no backup from today yet; keep the newest ``keep`` daily backups (those
    taken before a restore are kept for ever). Returns the new file."""
    now = now or datetime.now()
    if not backup_due(db_path, now=now):
        return None
    made = backup(db_path, now=now)
    daily = [p for p in list_backups(db_path) if DAILY_NAME.fullmatch(p.name)]
    for old in daily[:-keep] if keep > 0 else []:
        old.unlink()
    return made


# --- Restoring ------------------------------------------------------------------------------------------

IN_USE_MESSAGE = (
    "will not restore: {path} is open in spo-tui (the app, or a command that is still running). "
    "Close it and try again; nothing was changed"
)


def restore(db_path: Path, source: Path, *, now: datetime | None = None) -> Path | None:
    """Replace the database with ``source`` after checking it; returns the backup of what it replaced.

    Refuses (BackupError, changing nothing) a source that fails the integrity check or is not a
    spo-tui database, a database path holding another program's file, and a database that spo-tui
    has open anywhere. While it works it holds the database's lock alone, so nothing can be saved to
    the database between the backup of it and its replacement. A compressed backup is first
    decompressed to a temporary file in the backups folder (``plain_copy``), which is checked and
    restored from like any other backup, and removed afterwards.
    """
    source = Path(source).expanduser()
    db_path = Path(db_path).expanduser()
    if _same_file(source, db_path) or os.path.realpath(source) == os.path.realpath(db_path):
        raise BackupError(f"will not restore: {source} is the database itself")
    if not is_compressed(source):
        return _restore_from(db_path, source, source, now)
    folder = backups_dir(db_path)
    with contextlib.ExitStack() as stack:
        try:
            _private_folder(folder)
            plain = stack.enter_context(plain_copy(source, folder))
        except OSError as error:
            raise BackupError(f"will not restore: {_why(error, folder)}. Nothing was changed") from None
        except BackupError as error:
            raise BackupError(f"will not restore: {error}. Nothing was changed") from None
        return _restore_from(db_path, plain, source, now)


def _restore_from(db_path: Path, source: Path, shown: Path, now: datetime | None) -> Path | None:
    """``restore`` from the SQLite file ``source`` (``shown`` is what the user named: the same file, or
    the compressed backup it was decompressed from)."""
    result = check_integrity(source)
    if not result.ok:
        raise BackupError(f"will not restore: {result.message.replace(str(source), str(shown))}")
    if os.path.lexists(db_path) and not db_path.is_file():
        raise BackupError(f"will not restore: {db_path} is not a regular file")
    if db_path.exists():
        try:
            identify(db_path)
        except NotOurs as error:
            raise BackupError(f"will not restore over it: {error}") from None
        except StoreError:
            pass  # damaged: kept aside below
    try:
        make_private_dirs(db_path.parent)
        lock = StoreLock.exclusive(db_path)
    except (OSError, StoreError) as error:
        raise BackupError(f"will not restore: {getattr(error, 'strerror', None) or error}") from None
    if lock is None:
        raise BackupError(IN_USE_MESSAGE.format(path=db_path))
    with lock:
        return _restore_locked(db_path, source, now or datetime.now())


def _restore_locked(db_path: Path, source: Path, now: datetime) -> Path | None:
    folder = backups_dir(db_path)
    stamp = f"{now:%Y%m%d-%H%M%S}"
    previous = None
    try:
        _private_folder(folder)
        if db_path.is_file() and db_path.stat().st_size > 0:
            current = check_integrity(db_path, quick=True)
            if not current.ours:
                raise BackupError(f"will not restore over it: {current.message}")
            if current.ok:
                try:
                    previous = _copy_database(
                        db_path, folder / f"{BACKUP_PREFIX}{stamp}-before-restore.db", compress=True
                    )
                except BackupError as error:
                    why = str(error).removesuffix(". No backup was made")
                    raise BackupError(
                        f"will not restore: the database could not be backed up first ({why}). Nothing was changed"
                    ) from None
            else:
                damaged = _rename_without_replacing_path(db_path, folder / f"damaged-{stamp}.db")
                for suffix in ("-wal", "-shm", "-journal"):
                    side = Path(f"{db_path}{suffix}")
                    if side.exists():
                        os.replace(side, Path(f"{damaged}{suffix}"))
        if not db_path.exists():
            os.close(os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as error:
        raise BackupError(f"will not restore: {_why(error, folder)}. Nothing was changed") from None
    try:
        src = connect(source, read_only=True)
        try:
            if db_path.stat().st_size > 0 and is_cipher(src) != is_encrypted(db_path):
                # An encrypted backup over a plain database, or the reverse: the pages cannot be copied
                # between the two, so the database (already kept as a backup above) is moved aside.
                _rename_without_replacing_path(db_path, folder / f"replaced-{stamp}.db")
                for suffix in ("-wal", "-shm", "-journal"):
                    side = Path(f"{db_path}{suffix}")
                    if side.exists():
                        side.unlink()
                os.close(os.open(db_path, os.O_CREAT | os.O_WRONLY, 0o600))
            dst = connect(db_path, encrypted=is_cipher(src))
            try:
                dst.execute("PRAGMA synchronous = FULL")
                src.backup(dst)  # one transaction: a crash leaves the old database or the new, whole
            finally:
                dst.close()
        finally:
            src.close()
    except db_errors() as error:
        raise BackupError(
            f"cannot restore into {db_path}: {_why(error, db_path.parent)}. The database was not changed"
        ) from None
    return previous


def _rename_without_replacing_path(path: Path, target: Path) -> Path:
    """Move ``path`` to ``target`` (or ``target`` with -2, -3 …) without replacing anything."""
    candidate, n = target, 1
    while os.path.lexists(candidate):
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    os.replace(path, candidate)
    return candidate
