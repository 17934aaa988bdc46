"""What the ``spo-tui`` commands share: the one-line failure, the clock, free-text arguments, the
database's path, and who is acting."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NoReturn

from spo_tui.domain.errors import SpoError
from spo_tui.domain.text import visible

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {visible(message, lines=False)} (see --help)\n")


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> int:
    """Say ``spo-tui: message`` on one line of stderr (control characters shown as escapes)."""
    print(f"spo-tui: {visible(message, lines=False)}", file=sys.stderr)
    return status


def fixed_clock(day: date) -> Callable[[], datetime]:
    """A clock standing still at 08:45 London time on ``day`` (demos, tests, screenshots)."""
    from spo_tui.services.context import LONDON

    moment = datetime.combine(day, time(8, 45), LONDON).astimezone(UTC)
    return lambda: moment


def local_today(clock: Callable[[], datetime]) -> date:
    """The date in England and Wales by ``clock``."""
    from spo_tui.services.context import LONDON

    return clock().astimezone(LONDON).date()


def clock_from_env() -> Callable[[], datetime]:
    """``SPO_TUI_TODAY=YYYY-MM-DD`` pins the date; otherwise the real clock."""
    from spo_tui.domain.dates import utc_now

    pinned = os.environ.get("SPO_TUI_TODAY")
    if not pinned:
        return utc_now
    try:
        return fixed_clock(date.fromisoformat(pinned))
    except ValueError:
        raise SpoError(f"SPO_TUI_TODAY={pinned!r} is not a date: use YYYY-MM-DD, or unset it") from None


#: What every free-text argument's help ends with.
TEXT_HELP = "TEXT, @FILE or - (standard input)"


#: The ``add`` commands' note on free text, shown by ``--help``.
FREE_TEXT_NOTE = """\
Free text (the SBAR's parts, titles, details, links) can be given three ways:
  TEXT     as the argument itself: other users of this computer can see it in the process list
  @FILE    read from a UTF-8 text file (the way to keep it private); its last line end is dropped
  -        read from standard input (only one argument can)
A text that itself begins with @ is written @@ (@@home visit gives "@home visit"). A file that is
missing, not a plain file, larger than 1 MB, not UTF-8 or holding a NUL byte is refused and
nothing is saved."""


class FreeText:
    """The argparse type of every free-text argument: ``TEXT``, ``@FILE``, ``@@TEXT`` or ``-``.

    Text given on the command line can be read by any user of the machine (``/proc/PID/cmdline``,
    ``ps``), so SBARs and alerts can come from a file or from standard input instead. One instance
    serves one parse: it refuses a second ``-``, as standard input can be read only once.
    """

    MAX_BYTES = 1024 * 1024

    def __init__(self) -> None:
        self.stdin_read = False

    def __call__(self, value: str) -> str:
        if value == "-":
            if self.stdin_read:
                raise argparse.ArgumentTypeError(
                    "only one argument can read standard input (-); put the others in @FILE"
                )
            self.stdin_read = True
            return self._decode(self._read_stdin(), "standard input")
        if value.startswith("@@"):
            return value[1:]
        if value.startswith("@"):
            name = value[1:]
            if not name:
                raise argparse.ArgumentTypeError(
                    "@ must be followed by a file name (write @@ for a text beginning with @)"
                )
            return self._decode(self._read_file(name), name)
        return value

    def _read_stdin(self) -> bytes:
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise argparse.ArgumentTypeError("there is no standard input to read")
        if sys.stdin.isatty():
            print("spo-tui: type the text, then Ctrl+D on a line of its own", file=sys.stderr)
        data = stream.read(self.MAX_BYTES + 1)
        if len(data) > self.MAX_BYTES:
            raise argparse.ArgumentTypeError("standard input holds more than 1 MB of text: is it the right input?")
        return data

    def _read_file(self, name: str) -> bytes:
        path = os.path.expanduser(name)
        try:
            # Non-blocking, so that a FIFO fails the check below instead of waiting for a writer.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except OSError as error:
            raise argparse.ArgumentTypeError(f"cannot read {name}: {error.strerror}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise argparse.ArgumentTypeError(f"{name} is not a plain file (use - to read standard input)")
            if info.st_size > self.MAX_BYTES:
                raise argparse.ArgumentTypeError(f"{name} is larger than 1 MB: is it the right file?")
            with os.fdopen(os.dup(fd), "rb") as f:
                data = f.read(self.MAX_BYTES + 1)
        except OSError as error:
            raise argparse.ArgumentTypeError(f"cannot read {name}: {error.strerror}") from None
        finally:
            os.close(fd)
        if len(data) > self.MAX_BYTES:
            raise argparse.ArgumentTypeError(f"{name} is larger than 1 MB: is it the right file?")
        return data

    @staticmethod
    def _decode(data: bytes, source: str) -> str:
        if b"\0" in data:
            raise argparse.ArgumentTypeError(f"{source} holds a NUL byte: it is not a text file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise argparse.ArgumentTypeError(f"{source} is not UTF-8 text (byte {error.start + 1})") from None
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        return text.removesuffix("\n")


def _is_database_error(error: BaseException) -> bool:
    """An error from sqlite3, or from SQLCipher (whose errors are not sqlite3's subclasses)."""
    from spo_tui.store.db import db_errors

    return isinstance(error, db_errors())


def database_message(error: BaseException) -> str:
    """What a database error means to the user, in one line."""
    from spo_tui.store.db import BUSY_MESSAGE, READ_ONLY_MESSAGE

    text = str(error)
    lowered = text.lower()
    if "readonly" in lowered or "read-only" in lowered:
        return READ_ONLY_MESSAGE
    if "locked" in lowered or "busy" in lowered:
        return BUSY_MESSAGE
    if "malformed" in lowered or "not a database" in lowered or "disk i/o" in lowered:
        return f"the database file is damaged ({text}): nothing was changed; restore a backup with spo-tui restore FILE"
    return f"the database could not be used ({text})"


def _db_path(args: argparse.Namespace) -> Path:
    from spo_tui.config import default_db_path, default_demo_path

    if getattr(args, "demo", False) and not args.db:
        return default_demo_path()
    return Path(args.db).expanduser() if args.db else default_db_path()


def _acting(args: argparse.Namespace, db, *, remember: bool = False):
    """Who this computer login acts as on ``db`` (``services.identity.who_is_acting``): ``--as``, else
    the name they last chose on this database, else their only (or SPO) link.

    Only an explicit choice of who to be is remembered (``remember``, for this login, in their own state
    folder): ``--as`` on the run that opens the TUI is one, as choosing someone in the TUI would be. A
    print or scripted command (``spo-tui --as NAME queue``) acts as NAME for that run alone and leaves
    who the next TUI session acts as unchanged."""
    from spo_tui import config
    from spo_tui.domain.dates import to_iso
    from spo_tui.services.identity import who_is_acting

    path = _db_path(args)
    acting = who_is_acting(
        db,
        config.current_os_user(),
        args.actor,
        remembered=config.remembered_actor(path),
        at=to_iso(clock_from_env()()),
    )
    if args.actor and remember:
        config.remember_actor(path, acting.staff["name"])
    return acting


def _context(args: argparse.Namespace, db, *, allow_setup: bool = False):
    """The acting user's context (see ``_acting``); a staff import into an empty database sets it up."""
    from spo_tui.config import load_rules
    from spo_tui.services.context import make_context, setup_context
    from spo_tui.store.db import is_empty

    rules = load_rules()
    clock = clock_from_env()
    if allow_setup and is_empty(db):
        return setup_context(db, rules, clock=clock)
    acting = _acting(args, db)
    if acting.notice:
        print(f"spo-tui: {acting.notice}", file=sys.stderr)
    return make_context(db, rules, acting.staff["name"], clock=clock, os_user=acting.os_user)


def _uk_stamp(stamp: str) -> str:
    from spo_tui.domain.dates import from_iso
    from spo_tui.services.context import LONDON

    try:
        return f"{from_iso(stamp).astimezone(LONDON):%d/%m/%Y %H:%M}"
    except ValueError:
        return stamp
