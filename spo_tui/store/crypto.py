"""Encryption at rest: SQLCipher databases, their key in the OS keyring, a passphrase-wrapped copy.

A spo-tui store may be encrypted with SQLCipher (through ``sqlcipher3``), chosen at set-up
(``spo-tui init --encrypt``) or later (``spo-tui encrypt``). Decisions:

- **One key per computer login.** 32 random bytes, used as SQLCipher's raw key (no key derivation
  at each open), kept in the OS keyring under the service ``spo-tui``, name ``database-key``. Every
  encrypted store and every backup of one made by this login uses it, so a backup restores without
  anything more.
- **A recovery copy**, the key wrapped with a passphrase (scrypt, then AES-256-GCM, from
  ``cryptography``), is written 0600 beside the database as ``NAME.recovery``. Keep a copy off the
  laptop. ``spo-tui unlock --recovery FILE`` puts the key back into the keyring of a login that lacks
  it: a new laptop, a rebuilt keyring, or a colleague's login sharing the file.
- **No keyring, no encryption.** A headless Linux has no keyring; keyring's plain-text file backends
  are refused too (they would keep the key beside the data). spo-tui then says so in one line and
  changes nothing. ``SPO_TUI_TRUSTED_KEYRING=1`` accepts any backend: for tests only.
- ``sqlcipher3`` and ``keyring`` are imported only when an encrypted file is met, so a plain store
  starts no slower.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from spo_tui.domain.errors import SpoError
from spo_tui.store.files import write_durably

SERVICE = "spo-tui"
KEY_NAME = "database-key"
#: scrypt's cost: about 0.1 s and 16 MB to try one passphrase.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSPHRASE = 12

_key_cache: bytes | None = None


class KeyringMissing(SpoError):
    """No usable keyring on this computer."""


class KeyMissing(SpoError):
    """The keyring holds no database key for this login."""


def _keyring() -> Any:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - a dependency
        raise KeyringMissing("encryption needs the keyring package: reinstall spo-tui") from None
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    priority = getattr(backend, "priority", 0)
    trusted = os.environ.get("SPO_TUI_TRUSTED_KEYRING") == "1"
    plain_file = name.startswith("keyrings.alt.file") or "PlaintextKeyring" in name
    if name.startswith("keyring.backends.fail") or (not trusted and (priority <= 0 or plain_file)):
        raise KeyringMissing(
            "no keyring to keep the database key in on this computer (a desktop's login keyring, macOS "
            "Keychain or Windows Credential Manager): the store cannot be encrypted or opened here"
        )
    return keyring, KeyringError


def database_key() -> bytes:
    """This login's database key, from the keyring (KeyringMissing, KeyMissing)."""
    global _key_cache
    if _key_cache is not None:
        return _key_cache
    keyring, KeyringError = _keyring()
    try:
        stored = keyring.get_password(SERVICE, KEY_NAME)
    except KeyringError as error:
        raise KeyringMissing(f"the keyring could not be read ({error})") from None
    if not stored:
        raise KeyMissing("this login's keyring holds no spo-tui database key: run spo-tui unlock --recovery FILE")
    try:
        key = bytes.fromhex(stored)
    except ValueError:
        raise KeyMissing("the database key in the keyring is damaged: run spo-tui unlock --recovery FILE") from None
    _key_cache = key
    return key


def store_key(key: bytes) -> None:
    global _key_cache
    keyring, KeyringError = _keyring()
    try:
        keyring.set_password(SERVICE, KEY_NAME, key.hex())
    except KeyringError as error:
        raise KeyringMissing(f"the keyring could not be written ({error})") from None
    _key_cache = key


def key_for_new_store() -> bytes:
    """The key a new encrypted store is made with: this login's, made and kept on first use."""
    try:
        return database_key()
    except KeyMissing:
        key = secrets.token_bytes(32)
        store_key(key)
        return key


def forget_cached_key() -> None:
    global _key_cache
    _key_cache = None


# --- The recovery copy -------------------------------------------------------------------------------


def recovery_path(db_path: Path) -> Path:
    return Path(f"{db_path}.recovery")


def wrap(key: bytes, passphrase: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    kek = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode())
    sealed = AESGCM(kek).encrypt(nonce, key, b"spo-tui database key")
    return {
        "what": "spo-tui database key, wrapped with a passphrase",
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": salt.hex(),
        "cipher": "AES-256-GCM",
        "nonce": nonce.hex(),
        "sealed": sealed.hex(),
    }


def unwrap(doc: dict[str, Any], passphrase: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    try:
        kek = Scrypt(
            salt=bytes.fromhex(doc["salt"]), length=32, n=int(doc["n"]), r=int(doc["r"]), p=int(doc["p"])
        ).derive(passphrase.encode())
        return AESGCM(kek).decrypt(bytes.fromhex(doc["nonce"]), bytes.fromhex(doc["sealed"]), b"spo-tui database key")
    except InvalidTag:
        raise SpoError("that passphrase does not open this recovery file: nothing was changed") from None
    except (KeyError, ValueError, TypeError):
        raise SpoError("this is not a spo-tui recovery file: nothing was changed") from None


def write_recovery(path: Path, key: bytes, passphrase: str) -> None:
    """Write the wrapped key to ``path`` (0600), by a temporary name and a rename."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise SpoError(f"the recovery passphrase needs at least {MIN_PASSPHRASE} characters: nothing was changed")
    write_durably(path, json.dumps(wrap(key, passphrase), indent=1))


def read_recovery(path: Path, passphrase: str) -> bytes:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise SpoError(f"cannot read {path}: {error.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise SpoError(f"{path} is not a spo-tui recovery file: nothing was changed") from None
    if not isinstance(doc, dict):
        raise SpoError(f"{path} is not a spo-tui recovery file: nothing was changed")
    return unwrap(doc, passphrase)


# --- Connections -------------------------------------------------------------------------------------


def cipher_module() -> Any:
    from sqlcipher3 import dbapi2

    return dbapi2


def keyed(conn: Any, key: bytes) -> Any:
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


def connect_encrypted(target: str, key: bytes, *, uri: bool, factory: type) -> Any:
    """A SQLCipher connection to ``target`` opened with ``key`` (DatabaseError if the key is wrong)."""
    conn = cipher_module().connect(target, uri=uri, factory=factory)
    # SQLCipher logs a wrong key to stderr itself; spo-tui says what went wrong, in one line.
    conn.execute("PRAGMA cipher_log_level = NONE")
    keyed(conn, key)
    conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    return conn


def export_encrypted(plain: sqlite3.Connection, target: Path, key: bytes) -> None:
    """Write the whole database on ``plain`` (a SQLCipher connection with no key, i.e. plain) to a new
    encrypted file ``target``, with SQLCipher's ``sqlcipher_export``."""
    plain.execute("ATTACH DATABASE ? AS encrypted KEY \"x'" + key.hex() + "'\"", [str(target)])
    try:
        plain.execute("SELECT sqlcipher_export('encrypted')")
        version = plain.execute("PRAGMA main.user_version").fetchone()[0]
        app_id = plain.execute("PRAGMA main.application_id").fetchone()[0]
        plain.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        plain.execute(f"PRAGMA encrypted.application_id = {int(app_id)}")
    finally:
        plain.execute("DETACH DATABASE encrypted")
