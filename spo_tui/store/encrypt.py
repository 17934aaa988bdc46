"""Turning a plain store into an encrypted one, and giving a login the key back from its recovery copy.

``encrypt_store`` holds the store's lock alone (as ``restore`` does: nobody else may have the file
open), writes the recovery copy first, copies the whole database into a new encrypted file beside it
with ``sqlcipher_export``, checks the copy (integrity, and the same tables with the same number of
rows), flushes it, and renames it over the plain file. A crash at any point leaves the plain store as
it was, or the encrypted one whole. The plain file's pages are not wiped (on an SSD that cannot be
promised): the README says so, and that earlier plain backups should be deleted by the user.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from spo_tui.domain.errors import SpoError
from spo_tui.store import crypto
from spo_tui.store.db import (
    APPLICATION_ID,
    StoreError,
    StoreLock,
    connect,
    db_errors,
    identify,
    is_encrypted,
    make_private_dirs,
)

IN_USE = "{path} is open in spo-tui (here or in another window): close it everywhere, then encrypt. Nothing was changed"


def encrypt_store(db_path: Path, passphrase: str) -> Path:
    """Encrypt the store at ``db_path`` (creating an empty encrypted one if there is none) with this
    login's database key, and write the key's recovery copy; returns the recovery file's path."""
    db_path = Path(db_path).expanduser()
    if db_path.is_dir():
        raise StoreError(f"{db_path} is a folder, not a database file")
    if len(passphrase) < crypto.MIN_PASSPHRASE:
        raise SpoError(
            f"the recovery passphrase needs at least {crypto.MIN_PASSPHRASE} characters: nothing was changed"
        )
    if db_path.exists():
        identify(db_path)
        if is_encrypted(db_path):
            raise StoreError(f"{db_path} is already encrypted: nothing was changed")
    key = crypto.key_for_new_store()  # before anything is written: no keyring, no change
    make_private_dirs(db_path.parent)
    lock = StoreLock.exclusive(db_path)
    if lock is None:
        raise StoreError(IN_USE.format(path=db_path))
    with lock:
        recovery = crypto.recovery_path(db_path)
        crypto.write_recovery(recovery, key, passphrase)
        part = db_path.with_name(f".{db_path.name}.{secrets.token_hex(4)}.encrypting")
        try:
            _write_encrypted_copy(db_path, part, key)
            os.replace(part, db_path)
            for suffix in ("-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)  # emptied by the checkpoint before the copy
            _sync_folder(db_path.parent)
        except db_errors() as error:
            raise StoreError(f"could not encrypt {db_path} ({error}): nothing was changed") from None
        except OSError as error:
            raise StoreError(f"could not encrypt {db_path}: {error.strerror}. Nothing was changed") from None
        finally:
            part.unlink(missing_ok=True)
    return recovery


def _write_encrypted_copy(db_path: Path, part: Path, key: bytes) -> None:
    fd = os.open(part, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    if db_path.exists() and db_path.stat().st_size > 0:
        plain = connect(db_path, encrypted=False)
        try:
            plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            counts = _row_counts(plain)
        finally:
            plain.close()
        # sqlcipher_export needs a SQLCipher connection: one with no key reads the plain file.
        source = crypto.cipher_module().connect(str(db_path))
        try:
            crypto.export_encrypted(source, part, key)
        finally:
            source.close()
    else:
        counts = None
        new = connect(part, encrypted=True)
        try:
            new.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            new.commit()
        finally:
            new.close()
    copy = connect(part, encrypted=True)
    try:
        if copy.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise StoreError(f"the encrypted copy of {db_path} failed its check: nothing was changed")
        if counts is not None and _row_counts(copy) != counts:
            raise StoreError(f"the encrypted copy of {db_path} does not hold every row: nothing was changed")
    finally:
        copy.close()
    with open(part, "rb+") as f:
        os.fsync(f.fileno())


def _row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unlock(recovery: Path, passphrase: str, db_path: Path | None = None) -> None:
    """Put the key in ``recovery`` into this login's keyring, checking first (when ``db_path`` is an
    encrypted store) that it opens it."""
    key = crypto.read_recovery(recovery, passphrase)
    try:
        held = crypto.database_key()
    except crypto.KeyMissing:
        held = None
    if held is not None and held != key:
        raise SpoError(
            "this login's keyring already holds another spo-tui database key, which opens other stores: nothing was changed"
        )
    if db_path is not None and is_encrypted(db_path):
        try:
            conn = crypto.connect_encrypted(str(db_path), key, uri=False, factory=crypto.cipher_module().Connection)
            conn.close()
        except db_errors():
            raise SpoError(f"the key in {recovery} does not open {db_path}: nothing was changed") from None
    crypto.store_key(key)
