"""Tools for the file-safety tests: the real command in a subprocess, a writer process that reports
each entry it saved, a TUI on a pseudo-terminal, a full disk and a folder that cannot be written.

Nothing here mocks the store: every process opens the real files under the test's tmp_path.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import pty
import resource
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import textwrap
import threading
import time
from pathlib import Path


def env_for(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "SPO_TUI_RULES": str(tmp_path / "none.toml"), "SPO_TUI_TODAY": "2026-11-23"}


def spo(*args: str) -> list[str]:
    return [sys.executable, "-m", "spo_tui", *args]


def run(*args: str, tmp_path: Path, preexec_fn=None, timeout: float = 60, env: dict | None = None):
    """``spo-tui ARGS`` in a subprocess; the result with its exit status, stdout and stderr."""
    return subprocess.run(
        spo(*args), capture_output=True, text=True, env=env or env_for(tmp_path), preexec_fn=preexec_fn, timeout=timeout
    )


def one_line_refusal(result, *phrases: str) -> None:
    """Exit status 2 and exactly one line on stderr, saying each of ``phrases``; no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spo-tui: "), result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


def file_size_limit(nbytes: int):
    """A preexec_fn: the process may not make any file bigger than ``nbytes`` (a full disk, unprivileged)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return limit


def as_unprivileged() -> None:
    """A preexec_fn: run as if not root, so that folder permissions apply (tests run as root here).

    A root process ignores permission bits through CAP_DAC_OVERRIDE and friends; dropping them from
    the bounding set before exec means the new program does not get them back. For another user this
    does nothing (the permissions already apply).
    """
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    PR_CAPBSET_DROP = 24
    for cap in (1, 2, 3, 4):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)


def rows(path: Path, sql: str, params=()) -> list[tuple]:
    """Rows read straight from a database file, read-only (so a backup stays as it is)."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def entries(path: Path) -> set[int]:
    """The numbers of the writer's entries ("entry N") in the database file at ``path``."""
    return {
        int(d.split()[1]) for (d,) in rows(path, "SELECT decision FROM oversight_entries WHERE decision LIKE 'entry %'")
    }


def integrity(path: Path) -> str:
    return rows(path, "PRAGMA integrity_check")[0][0]


WRITER = textwrap.dedent(
    """
    import random, sys, time
    from datetime import UTC, datetime
    from spo_tui.config import load_rules
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import decisions
    from spo_tui.services.context import make_context
    from spo_tui.store.db import open_db

    path, reopen = sys.argv[1], sys.argv[2] == "reopen"
    rules = load_rules()
    clock = lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    ctx = None if reopen else make_context(open_db(path, create=False), rules, clock=clock)
    n = 0
    while True:
        n += 1
        try:
            c = make_context(open_db(path, create=False), rules, clock=clock) if reopen else ctx
            try:
                decisions.record_oversight(c, crn="X123456", outcome="agreed", discussed="Plan", decision=f"entry {n}")
            finally:
                if reopen:
                    c.db.close()
        except SpoError:
            time.sleep(0.01)  # not saved, so not reported
            continue
        print(n, flush=True)  # saved: the writer was told so
        if reopen:
            time.sleep(random.uniform(0, 0.02))
    """
)


class Writer:
    """A process recording oversight entries "entry 1", "entry 2" … on case X123456, printing each
    number once it is saved. ``reopen``: it opens and closes the database for every entry, as a
    series of CLI commands would; otherwise it keeps one connection open, as the app does."""

    def __init__(self, db_path: Path, tmp_path: Path, *, reopen: bool) -> None:
        self.saved: list[int] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), "reopen" if reopen else "keep"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env_for(tmp_path),
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.saved.append(int(line))

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.saved) < count:
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "the writer saved too little"
            time.sleep(0.02)

    def stop(self) -> set[int]:
        """Kill the writer (mid-entry, perhaps) and return every entry it said was saved."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reader.join(timeout=10)
        return set(self.saved)


class Tui:
    """The real ``spo-tui`` TUI on a pseudo-terminal, 120×40."""

    def __init__(self, db_path: Path, tmp_path: Path, *, preexec_fn=None) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**env_for(tmp_path), "TERM": "xterm-256color"}
        self.proc = subprocess.Popen(
            spo("--db", str(db_path)),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
        os.close(slave)
        self.master = master
        self.screen = b""

    def wait_for(self, text: bytes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            assert time.monotonic() < deadline, f"the TUI never showed {text!r}: {self.screen[-2000:]!r}"
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536)
                except OSError:
                    raise AssertionError(f"the TUI ended: {self.screen[-2000:]!r}") from None

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self.master)


def limits(pid: int, name: str) -> tuple[str, str]:
    """The soft and hard values of limit ``name`` ("Max core file size") in /proc/PID/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith(name):
            soft, hard = line[len(name) :].split()[:2]
            return soft, hard
    raise AssertionError(f"no {name} in /proc/{pid}/limits")
