"""The device key that signs the oversight record, kept outside the database.

One Ed25519 key per user of a computer: the private key is a PEM file readable by its owner only
(0600, folder 0700) in the user's config folder (``spo_tui.config.signing_key_path``), made the first
time this user writes to any store. Its public half is recorded in each store it writes to (a ``key``
link of the chain), so anyone can check the signatures; only this user can make new ones.

Someone who can write the database file but cannot read this key file cannot sign, so cannot add or
change a link without ``spo-tui verify`` noticing. Someone who holds both the file and the key can
(see the README: what ``verify`` cannot prove).
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from spo_tui.domain.chain import key_fingerprint
from spo_tui.domain.errors import SpoError

if TYPE_CHECKING:  # cryptography is imported where a key is first read, made or checked: not at start-up
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyProblem(SpoError):
    """The device key cannot be made or read; the message says where and why."""


@dataclass(frozen=True)
class DeviceKey:
    """This user's signing key: its id (fingerprint), public half (hex), a label, and the private half."""

    key_id: str
    public_key: str
    label: str
    path: Path
    private: Ed25519PrivateKey

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()


_loaded: dict[tuple[str, int, int], DeviceKey] = {}


@overload
def device_key(path: Path | None = None, *, create: Literal[True] = True) -> DeviceKey: ...
@overload
def device_key(path: Path | None = None, *, create: bool) -> DeviceKey | None: ...
def device_key(path: Path | None = None, *, create: bool = True) -> DeviceKey | None:
    """This user's key: read from ``path`` (default: the config folder), made there on first use
    (or None when there is none yet and ``create`` is False)."""
    if path is None:
        from spo_tui.config import signing_key_path

        path = signing_key_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        if not create:
            return None
        _create(path)
        stat = path.stat()
    except OSError as error:
        raise KeyProblem(f"cannot read the record's signing key {path}: {error.strerror}") from None
    cache_key = (str(path), stat.st_ino, stat.st_mtime_ns)
    key = _loaded.get(cache_key)
    if key is None:
        key = _loaded[cache_key] = _load(path, stat.st_mode)
    return key


def label() -> str:
    """Who and where: ``user@host``, recorded with the public key."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"
    return f"{user}@{socket.gethostname() or 'unknown host'}"


def _load(path: Path, mode: int) -> DeviceKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if os.name != "nt" and mode & 0o077:
        raise KeyProblem(
            f"the record's signing key {path} can be read by other users: make it private (chmod 600 {path})"
        )
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not an unencrypted PEM private key"
        raise KeyProblem(f"cannot read the record's signing key {path}: {reason}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyProblem(f"the record's signing key {path} is not an Ed25519 key")
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    return DeviceKey(key_fingerprint(public), public, label(), path, private)


def _create(path: Path) -> None:
    """Make a new key at ``path``: written to a private temporary file, flushed, then linked into
    place, so two processes starting at once end up with the same key and nobody sees half a file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(FileExistsError):  # another process made the key first: theirs is kept
            os.link(tmp, path)
        _sync_folder(path.parent)
    except OSError as error:
        raise KeyProblem(f"cannot make the record's signing key {path}: {error.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _sync_folder(folder: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@functools.lru_cache(maxsize=64)
def _public(public_key_hex: str) -> Ed25519PublicKey | None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    except ValueError:
        return None


def check_signature(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    """True when ``signature_hex`` is the key's valid Ed25519 signature of ``message``."""
    from cryptography.exceptions import InvalidSignature

    public = _public(public_key_hex)
    if public is None:
        return False
    try:
        public.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
