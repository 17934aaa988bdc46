"""Reading a file's header without losing SQLite's locks.

SQLite's locks on a database file are POSIX advisory locks, which belong to the process and the file,
not to a descriptor: closing *any* descriptor of the file drops every lock this process holds on it
(https://www.sqlite.org/howtocorrupt.html#_posix_advisory_locks_canceled_by_a_separate_thread_doing_close_).
Another process then takes itself for the last user, checkpoints and deletes the WAL under our open
connection, which reads "database disk image is malformed" from then on. So while this process has a
connection to a file, its header is read from one descriptor kept open until the last such connection
closes, never from one opened and closed for the purpose.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

_pins: dict[tuple[int, int], list[int]] = {}  # (device, inode) -> [descriptor, connections]
_pins_lock = threading.Lock()


class Unpins:
    """A connection that lets go of its file's pinned descriptor when it closes."""

    pinned: tuple[int, int] | None = None

    def close(self) -> None:
        super().close()  # type: ignore[misc]
        key, self.pinned = self.pinned, None
        if key is not None:
            unpin(key)


class PinnedConnection(Unpins, sqlite3.Connection):
    """A plain sqlite3 connection that lets go of its pin when it closes (``connect`` makes them)."""


def pin(path: str | Path) -> tuple[int, int] | None:
    """Keep a descriptor of ``path`` open while a connection to it is open (one per file, counted);
    the key to give ``unpin``, or None where there is nothing to pin."""
    if not hasattr(os, "pread"):  # pragma: no cover - Windows locks are not POSIX locks
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None  # nothing to read a header from (an in-memory or vanished file)
    with _pins_lock:
        held = _pins.get((info.st_dev, info.st_ino))
        if held is not None:
            held[1] += 1
            return (info.st_dev, info.st_ino)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    info = os.fstat(fd)
    key = (info.st_dev, info.st_ino)
    with _pins_lock:
        held = _pins.get(key)
        if held is None:
            _pins[key] = [fd, 1]
        else:  # another thread pinned it meanwhile: this descriptor may be closed only with the pin
            held[1] += 1
            held.append(fd)
    return key


def unpin(key: tuple[int, int]) -> None:
    """Let go of one pin of a file; its descriptor closes with the last."""
    with _pins_lock:
        held = _pins[key]
        held[1] -= 1
        if held[1] > 0:
            return
        del _pins[key]
    for fd in [held[0], *held[2:]]:
        os.close(fd)


def read_pinned_header(path: Path) -> bytes | None:
    """The first 100 bytes of ``path``, read from its pinned descriptor; None when it is not pinned."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    with _pins_lock:
        held = _pins.get((info.st_dev, info.st_ino))
        if held is not None:
            return os.pread(held[0], 100, 0)
    return None
