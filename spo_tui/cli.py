"""The ``spo-tui`` command: the TUI with no subcommand, and scriptable subcommands.

Exit status: 0 on success, 1 when the work failed, 2 for bad arguments or a database that cannot be
opened (with a one-line message on stderr). Whatever goes wrong with a file or the database ends in
that one line, never a traceback (``main``'s last guard), and any control character in a message or
in stored text printed is shown as an escape (``spo_tui.domain.text.visible``).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NoReturn

from spo_tui import __version__
from spo_tui.domain.errors import SpoError
from spo_tui.domain.text import json_text, visible
from spo_tui.domain.vocab import ItemKind

EXIT_BAD_INPUT = 2
#: ``queue --limit`` at most: more than any queue holds, and far inside SQLite's whole numbers.
LIMIT_MAX = 1_000_000


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {visible(message, lines=False)} (see --help)\n")


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> int:
    """Say ``spo-tui: message`` on one line of stderr (control characters shown as escapes)."""
    print(f"spo-tui: {visible(message, lines=False)}", file=sys.stderr)
    return status


def _limit(text: str) -> int:
    """``--limit``: a whole number from 1 to LIMIT_MAX."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= LIMIT_MAX:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {LIMIT_MAX:,}, not {value[:30]!r}")
    return int(value)


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


#: ``queue --view``: the view's name -> the status ``build_queue`` reads.
QUEUE_VIEWS = {"today": "open", "waiting": "waiting", "snoozed": "snoozed", "all": "any"}

#: ``do``'s actions -> (what the action needs that must be given, its one-line description).
DO_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "decide": (("text", "outcome"), "record the decision (an oversight entry) and close the item: --outcome, --text"),
    "book": ((), "book an SBAR into the next free protected-hour slot"),
    "ask": (("text",), "ask the practitioner for more information on an SBAR: --text the question"),
    "answer": ((), "log the answer (practitioner's, PDU head's) or a resubmission: --text"),
    "escalate": (("to", "text"), "escalate an SBAR: --to 'PDU head' or MAPPA, --text the note"),
    "sign-off": (("verdict",), "countersign: --verdict"),
    "return": (("verdict",), "return for rework: --verdict the deficits and guidance"),
    "waive": (("text",), "waive a touch point: --text the reason"),
    "delegate": (("to",), "delegate a task to the CASPO, SAO or business manager: --to"),
    "done": ((), "mark a task (--minutes) or an agreed action done"),
    "snooze": (("until",), "hide the item until a later day: --until"),
    "unsnooze": ((), "bring a snoozed item back into the queue now"),
    "reassign": (("to",), "give the item to another member of staff: --to"),
    "confirm": ((), "confirm an entry a CASPO made in your name: it stands as entered"),
    "undo": (("text",), "undo your last action on this item (as a superseding record): --text why"),
}

DO_NOTE = (
    "Actions:\n"
    + "\n".join(f"  {name:<9} {words}" for name, (_needs, words) in DO_ACTIONS.items())
    + """

Each action runs the same checks as the Today screen's key, and says the same thing. Bad input, or
an action your role may not take, exits 2 with one line and changes nothing.

"""
    + FREE_TEXT_NOTE
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spo-tui", description="Triage and management oversight for senior probation officers.")
    parser.add_argument("--version", action="version", version=f"spo-tui {__version__}")
    parser.add_argument("--db", metavar="PATH", help="database file (default: $SPO_TUI_DB or the user data folder)")
    parser.add_argument(
        "--as",
        dest="actor",
        metavar="NAME",
        help="act as this member of staff, one of those linked to your computer login; remembered for next time only "
        "when it opens the TUI (a print command such as queue uses it for that run alone)",
    )
    parser.add_argument(
        "--demo", action="store_true", help="open the TUI on the demo database, creating it on first use"
    )
    parser.add_argument(
        "--theme",
        default=os.environ.get("SPO_TUI_THEME", "textual-dark"),
        help="colour theme: textual-dark (default), textual-light for light terminals, or any Textual theme",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    demo = sub.add_parser("demo", help="write a demo database")
    demo.add_argument("--db", dest="demo_db", metavar="PATH", help="where to write it (default: the demo database)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    demo.add_argument("--scale", choices=["team", "pdu"], default="team", help="a team (~350 cases) or a PDU (~5,000)")

    queue = sub.add_parser("queue", help="print the triaged queue")
    queue.add_argument(
        "--json",
        action="store_true",
        help="JSON: a list of objects with id, kind, crn, title, due, urgency, catch_up, reasons, status "
        "(and for waiting items waiting_on and since)",
    )
    queue.add_argument("--kind", choices=[k.value for k in ItemKind], help="only this kind of item")
    queue.add_argument(
        "--catch-up",
        action="store_true",
        help="only the catch-up list: touch points already long overdue when they reached the queue",
    )
    queue.add_argument("--limit", type=_limit, metavar="N", help=f"at most N items (1 to {LIMIT_MAX:,})")
    queue.add_argument(
        "--view",
        choices=list(QUEUE_VIEWS),
        default="today",
        help="today: the queue (default); waiting: waiting on others; snoozed; all: everything not closed",
    )
    queue.add_argument(
        "--team", metavar="NAME", help="this team's queue, or 'all' (a PDU head only; default: your own team)"
    )

    sub.add_parser("paths", help="show where the database and the rules file are")

    staff = sub.add_parser("staff", help="link computer logins to staff: who may act as whom (an SPO links)")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True, parser_class=_Parser)
    link = staff_sub.add_parser("link", help="let a computer login act as this member of staff (an SPO only)")
    unlink = staff_sub.add_parser("unlink", help="stop a computer login acting as this member of staff (an SPO only)")
    for linking in (link, unlink):
        linking.add_argument("name", metavar="NAME", help="the staff member's name")
        linking.add_argument("--os-user", required=True, metavar="USER", help="their login name on the computer")
    staff_sub.add_parser("links", help="list which computer logins may act as which staff, and who you are")
    use = staff_sub.add_parser(
        "use", help="act as this member of staff from now on (one of those linked to your login)"
    )
    use.add_argument("name", metavar="NAME", help="the staff member's name")

    add = sub.add_parser(
        "add",
        help="add work to the queue from a script (prints the new id)",
        epilog=FREE_TEXT_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_sub = add.add_subparsers(dest="what", required=True, parser_class=_Parser)
    text = FreeText()  # one for the whole parse: only one argument may read standard input

    def add_command(name: str, help: str) -> argparse.ArgumentParser:
        return add_sub.add_parser(
            name, help=help, epilog=FREE_TEXT_NOTE, formatter_class=argparse.RawDescriptionHelpFormatter
        )

    sbar = add_command("sbar", "log an SBAR raised by a practitioner")
    sbar.add_argument("--crn", required=True)
    sbar.add_argument("--by", required=True, metavar="NAME", help="the practitioner who raised it")
    for part in ("situation", "background", "assessment", "recommendation"):
        sbar.add_argument(f"--{part}", required=True, type=text, metavar="TEXT", help=f"the {part}: {TEXT_HELP}")
    sbar.add_argument("--urgency", default="routine", help="routine, soon or urgent")
    sbar.add_argument(
        "--title", type=text, metavar="TEXT", help=f"a short title (default: the start of the situation): {TEXT_HELP}"
    )
    cs = add_command("countersign", "put an assessment or report in the countersigning queue")
    cs.add_argument("--crn", required=True)
    cs.add_argument("--kind", required=True, help="OASYS, PAROLE_REPORT, PSR, DANGEROUSNESS or HVRA")
    cs.add_argument("--author", required=True, metavar="NAME")
    cs.add_argument("--court-date", help="PSRs: the court date (dd/mm/yyyy or yyyy-mm-dd)")
    cs.add_argument("--submitted", help="when it was submitted (default today)")
    cs.add_argument("--link", type=text, metavar="TEXT", help=f"where the document is: {TEXT_HELP}")
    cs.add_argument(
        "--title", type=text, metavar="TEXT", help=f"a title (default: the kind and the author): {TEXT_HELP}"
    )
    task = add_command("task", "add a non-operational task")
    task.add_argument("--title", required=True, type=text, metavar="TEXT", help=f"what is to be done: {TEXT_HELP}")
    task.add_argument(
        "--category", required=True, help="buildings, health_safety, hr_sickness, hr_performance, hr_leave, it, other"
    )
    task.add_argument("--details", default="", type=text, metavar="TEXT", help=f"more about it: {TEXT_HELP}")
    task.add_argument("--due", help="due date (default: the category's target)")
    alert = add_command("alert", "log an immediate-risk alert")
    alert.add_argument("--crn", required=True)
    alert.add_argument(
        "--source", required=True, help="arrest, charge, call_out, court, screening, risk_classification"
    )
    alert.add_argument("--details", required=True, type=text, metavar="TEXT", help=f"what happened: {TEXT_HELP}")

    do = sub.add_parser(
        "do",
        help="act on a queue item as the Today screen does (prints what was done)",
        epilog=DO_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    do.add_argument("action", choices=list(DO_ACTIONS), metavar="ACTION", help=", ".join(DO_ACTIONS))
    do.add_argument(
        "item", metavar="ITEM_ID", help="the item's id (spo-tui queue --json), or its first 6 or more characters"
    )
    do.add_argument(
        "--text", type=text, metavar="TEXT", help=f"the decision, question, answer, note or reason: {TEXT_HELP}"
    )
    do.add_argument("--verdict", type=text, metavar="TEXT", help=f"sign-off and return: the verdict: {TEXT_HELP}")
    do.add_argument("--until", metavar="DATE", help="snooze: until when (tomorrow, mon, 3d, 25/12/2026)")
    do.add_argument("--to", metavar="NAME", help="escalate (PDU head or MAPPA), delegate, reassign: to whom")
    do.add_argument("--minutes", metavar="N", help="done (a task): the minutes it took; decide: the minutes it took")
    do.add_argument(
        "--outcome",
        metavar="OUTCOME",
        help="decide: the outcome: agreed, guidance_given, actions_set, recall, no_recall, …",
    )
    do.add_argument(
        "--type", dest="oversight_type", metavar="TYPE", help="decide: the type of entry (default management_oversight)"
    )
    do.add_argument(
        "--discussed",
        type=text,
        metavar="TEXT",
        help=f"decide: what was discussed (default: as the form pre-fills it): {TEXT_HELP}",
    )

    bk = sub.add_parser("backup", help="back up the database now (SQLite online backup)")
    bk.add_argument("--to", metavar="FILE", help="where to write it (default: the backups folder beside the database)")
    rs = sub.add_parser("restore", help="replace the database with a backup (checked first)")
    rs.add_argument("file", metavar="FILE")

    enc = sub.add_parser(
        "encrypt", help="encrypt the database (SQLCipher; key in the OS keyring), or make a new encrypted one"
    )
    enc.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="read the recovery passphrase from FILE's first line (- for standard input) instead of asking",
    )
    ul = sub.add_parser("unlock", help="put the database key back into this login's keyring from a recovery file")
    ul.add_argument(
        "--recovery", required=True, metavar="FILE", help="the NAME.recovery file written by spo-tui encrypt"
    )
    ul.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="read the passphrase from FILE's first line (- for standard input) instead of asking",
    )

    vf = sub.add_parser(
        "verify", help="check the signed oversight record: exit 1 naming what was altered, removed or added"
    )
    vf.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="KEY",
        help="also trust this device key (its first 8 or more hex digits) for this store, e.g. a colleague's",
    )
    vf.add_argument(
        "--after-restore",
        action="store_true",
        help="you restored an older copy on purpose: check from this copy on, not against earlier checks",
    )
    vf.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="FILE",
        help="also check the record carries on from the head recorded at the end of this text export",
    )

    imp = sub.add_parser("import", help="import a CSV extract: all rows or none")
    imp.add_argument("kind", choices=["cases", "staff", "countersign", "touchpoints"])
    imp.add_argument("file", metavar="FILE", help="the CSV file, or - to read it from standard input")
    imp.add_argument("--dry-run", action="store_true", help="check every row and report, writing nothing")

    exp = sub.add_parser(
        "export", help="export oversight entries not yet entered in nDelius; list or un-mark batches of marks"
    )
    exp_sub = exp.add_subparsers(dest="what", required=True, parser_class=_Parser)
    ov = exp_sub.add_parser("oversight", help="the oversight entries not yet entered in nDelius")
    ov.add_argument("--since", metavar="DATE", help="only entries made on or after DATE")
    ov.add_argument("--format", choices=["csv", "text"], default="csv")
    ov.add_argument(
        "--mark-entered",
        action="store_true",
        help="record that these entries are now in nDelius (needs --output: marked once the file is safely written)",
    )
    ov.add_argument("--output", metavar="FILE", help="write to FILE (readable by you only) instead of the screen")
    bt = exp_sub.add_parser("batches", help="list the batches of entries marked entered in nDelius, newest first")
    bt.add_argument("--limit", type=int, metavar="N", help="at most N batches")
    um = exp_sub.add_parser("unmark", help="take back a batch of marks: its entries are exported again")
    um.add_argument("batch", metavar="BATCH", help="the batch id, or its first 8 or more characters")
    return parser


def disable_core_dumps() -> None:
    """No core file may be written if spo-tui crashes: one would hold case details in the clear."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):  # Windows has no core files (nor this module)
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the command; every failure ends in one line on stderr (see the module's docstring)."""
    disable_core_dumps()
    argv = sys.argv[1:] if argv is None else argv
    for n, arg in enumerate(argv, start=1):
        if _not_utf8(arg):
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return _fail(f"argument {n} ({shown}) is not valid UTF-8 text: retype it, or rename the file")
    try:
        return _run(build_parser().parse_args(argv))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``spo-tui queue | head``): stop quietly.
        _silence_stdout()
        return 1
    # The last guard: whatever a command did not turn into a message itself ends in one line too.
    except SpoError as error:
        return _fail(str(error))
    except UnicodeError as error:
        return _fail(f"text that is not valid UTF-8 could not be used ({getattr(error, 'reason', error)})")
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        return _fail(f"cannot use{where}: {error.strerror or error}")
    except Exception as error:
        if not _is_database_error(error):
            raise
        return _fail(database_message(error))


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        return cmd_demo(args)
    if args.command == "queue":
        return cmd_queue(args)
    if args.command == "paths":
        return cmd_paths(args)
    if args.command == "staff":
        return cmd_staff(args)
    if args.command == "verify":
        return cmd_verify(args)
    if args.command == "backup":
        return cmd_backup(args)
    if args.command == "restore":
        return cmd_restore(args)
    if args.command == "encrypt":
        return cmd_encrypt(args)
    if args.command == "unlock":
        return cmd_unlock(args)
    if args.command == "add":
        return cmd_add(args)
    if args.command == "do":
        return cmd_do(args)
    if args.command == "import":
        return cmd_import(args)
    if args.command == "export":
        return cmd_export(args)
    return cmd_tui(args)


def _not_utf8(text: str) -> bool:
    """True when an argument held bytes that are not UTF-8 (Python keeps each as a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


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


def cmd_tui(args: argparse.Namespace) -> int:
    from spo_tui.app import SpoApp, known_binding_ids
    from spo_tui.config import load_keymap
    from spo_tui.domain.errors import SpoError
    from spo_tui.store.backup import daily_backup
    from spo_tui.store.db import is_empty, open_db

    path = _db_path(args)
    clock = clock_from_env()
    today = local_today(clock)
    try:
        keymap = load_keymap(known_binding_ids)  # a mistyped id is refused here, in one line, before the screen changes
        if args.demo and not path.exists():
            print(f"Creating the demo team at {visible(path, lines=False)} …", file=sys.stderr)
            _write_demo(path, today=today)
        if path.exists():
            damaged = _refuse_damaged(path)
            if damaged:
                return damaged
        db = open_db(path)
        if not is_empty(db):
            daily_backup(path)
        actor, notice = args.actor, None
        if not is_empty(db):
            acting = _acting(args, db, remember=True)  # checks --as against this login's links; the TUI remembers it
            actor, notice = acting.staff["name"], acting.notice
            if notice:  # shown in the app too; this copy is there after it quits
                print(f"spo-tui: {notice}", file=sys.stderr)
        db.close()
    except SpoError as error:
        return _fail(str(error))

    def demo_builder(target: Path) -> None:
        _write_demo(target, today=local_today(clock))

    app = SpoApp(
        path, actor=actor, clock=clock, demo_builder=demo_builder, theme=args.theme, notice=notice, keymap=keymap
    )
    app.run()
    if app.return_code:
        return app.return_code
    return 0


def _write_demo(path: Path, *, today: date, seed: int = 1, scale: str = "team"):
    from spo_tui.demo import write_demo

    return write_demo(path, seed=seed, scale=scale, today=today)


def cmd_demo(args: argparse.Namespace) -> int:
    from spo_tui.config import default_demo_path
    from spo_tui.domain.errors import SpoError

    path = (
        Path(args.demo_db).expanduser()
        if args.demo_db
        else (Path(args.db).expanduser() if args.db else default_demo_path())
    )
    try:
        summary = _write_demo(path, today=local_today(clock_from_env()), seed=args.seed, scale=args.scale)
    except SpoError as error:
        return _fail(str(error))
    print(f"Demo ({args.scale}, seed {args.seed}) written to {visible(path, lines=False)}: {summary}")
    return 0


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


def _refuse_damaged(path: Path) -> int:
    """0 if the database passes a quick integrity check; else say how to restore and return 2."""
    from spo_tui.store.backup import check_integrity, list_backups

    result = check_integrity(path, quick=True)
    if result.ok:
        return 0
    if not result.ours:  # another program's file or a newer spo-tui's: no restoring to suggest
        return _fail(result.message)
    backups = list_backups(path)
    how = (
        f"restore the newest backup with: spo-tui --db {path} restore {backups[-1]}"
        if backups
        else "no backup of it was found; restore one you have with: spo-tui restore FILE"
    )
    return _fail(f"{result.message}. Nothing was opened; {how}")


def cmd_verify(args: argparse.Namespace) -> int:
    from spo_tui.services.integrity import anchor, check_record, export_anchor, link_summary
    from spo_tui.store.db import open_db

    path = _db_path(args)
    try:
        db = open_db(path, create=False)
        against = [export_anchor(Path(f).expanduser()) for f in args.against]
        check = check_record(db, trust=tuple(args.trust), after_restore=args.after_restore, against=against)
    except SpoError as error:
        return _fail(str(error))
    except Exception as error:
        if not _is_database_error(error):
            raise
        return _fail(f"{visible(path, lines=False)} cannot be checked: {database_message(error)}")
    if not check.ok:
        lines = "".join(f"- {visible(p.message, lines=False)}.\n" for p in check.problems)
        sys.stderr.write(f"The oversight record has been tampered with:\n{lines}")
        return 1
    signers = ", ".join(
        f"device key {k[:8]} ({check.walk.keys.get(k, {}).get('label', '?')}{', yours' if k == check.own_key else ''})"
        for k in check.walk.signers
    )
    print(f"The oversight record is intact: {check.entries} entries, every link holds.")
    print(f"{link_summary(check)}, head {check.walk.head[:16]}, signed by {signers or 'no key'}.")
    last = check.last_anchor
    if args.after_restore:
        print(
            "Restored copy accepted: later checks compare with this copy, not with the checks made before the restore."
        )
    elif check.first_check:
        if last is not None:
            print(f"It carries on from your last {last.event} ({_uk_stamp(last.at)}, {last.count} links).")
        print("This is your first check of this store: its keys are now the ones you trust for it.")
    else:
        assert last is not None  # an earlier check decided the keys, so it left an anchor
        print(f"It carries on from your last {last.event} ({_uk_stamp(last.at)}, {last.count} links).")
    warning = anchor(db, "restore" if args.after_restore else "verify", trusted=check.trusted, db_path=str(path))
    if warning:
        print(f"spo-tui: warning: {warning}", file=sys.stderr)
    return 0


def _uk_stamp(stamp: str) -> str:
    from spo_tui.domain.dates import from_iso
    from spo_tui.services.context import LONDON

    try:
        return f"{from_iso(stamp).astimezone(LONDON):%d/%m/%Y %H:%M}"
    except ValueError:
        return stamp


def cmd_backup(args: argparse.Namespace) -> int:
    from spo_tui.store.backup import backup

    path = _db_path(args)
    target = Path(args.to).expanduser() if args.to else None
    try:
        made = backup(path, target)
    except SpoError as error:
        return _fail(str(error))
    except OSError as error:
        return _fail(f"cannot back up to {target or error.filename or 'the backups folder'}: {error.strerror or error}")
    except Exception as error:
        if not _is_database_error(error):
            raise
        return _fail(f"cannot back up {path}: {database_message(error)}")
    print(f"Backed up to {visible(made, lines=False)}")
    _anchor_backup(made, path)
    return 0


def _anchor_backup(made: Path, path: Path) -> None:
    """Record the backed-up chain head in the user's anchors (a warning if that cannot be done)."""
    from spo_tui.services.integrity import anchor_file

    warning = anchor_file(Path(made), "backup", fallback=path)
    if warning:
        print(f"spo-tui: warning: {warning}", file=sys.stderr)


def cmd_restore(args: argparse.Namespace) -> int:
    from spo_tui.store.backup import restore

    path = _db_path(args)
    try:
        previous = restore(path, Path(args.file))
    except SpoError as error:
        return _fail(str(error))
    kept = f"; the database it replaced is kept as {previous}" if previous else ""
    print(f"Restored {path} from {args.file}{kept}")
    return 0


def _passphrase(args: argparse.Namespace, *, twice: bool) -> str:
    """The passphrase from --passphrase-file (a file's first line, or standard input), else asked for
    without echo. Never an argument's value: other users can read those in the process list."""
    import getpass

    if args.passphrase_file:
        if args.passphrase_file == "-":
            line = sys.stdin.readline()
        else:
            try:
                with open(os.path.expanduser(args.passphrase_file), encoding="utf-8") as f:
                    line = f.readline()
            except OSError as error:
                raise SpoError(f"cannot read {args.passphrase_file}: {error.strerror}") from None
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise SpoError("no terminal to ask for the passphrase: give --passphrase-file FILE (or - for standard input)")
    first = getpass.getpass("Recovery passphrase: ")
    if twice and getpass.getpass("The same again: ") != first:
        raise SpoError("the two passphrases differ: nothing was changed")
    return first


def cmd_encrypt(args: argparse.Namespace) -> int:
    from spo_tui.services.encryption import may_encrypt, record_encryption
    from spo_tui.store.db import is_empty, open_db
    from spo_tui.store.encrypt import encrypt_store

    path = _db_path(args)
    has_team = False
    if path.exists() and path.stat().st_size > 0:
        from spo_tui.store.db import is_encrypted

        if is_encrypted(path):
            return _fail(f"{path} is already encrypted: nothing was changed")
        db = open_db(path, create=False)
        try:
            has_team = not is_empty(db)
            if has_team:
                may_encrypt(_context(args, db))
        finally:
            db.close()
    passphrase = _passphrase(args, twice=True)
    recovery = encrypt_store(path, passphrase)
    if has_team:
        db = open_db(path, create=False)
        try:
            record_encryption(_context(args, db))
        finally:
            db.close()
    print(f"{path} is encrypted; its key is in this login's keyring.")
    print(f"The key's recovery copy, locked with your passphrase, is {recovery}: keep a copy off this computer.")
    print("Backups made before now are not encrypted: delete them once you have checked this store opens.")
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    from spo_tui.store.encrypt import unlock

    passphrase = _passphrase(args, twice=False)
    unlock(Path(args.recovery).expanduser(), passphrase, _db_path(args))
    print("The database key is in this login's keyring: spo-tui opens the encrypted store.")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import intake
    from spo_tui.store.db import open_db

    try:
        db = open_db(_db_path(args), create=False)
        ctx = _context(args, db)
        if args.what == "sbar":
            result = intake.raise_sbar(
                ctx,
                args.crn,
                args.by,
                args.situation,
                args.background,
                args.assessment,
                args.recommendation,
                args.urgency,
                args.title,
            )
        elif args.what == "countersign":
            result = intake.add_countersign(
                ctx,
                args.crn,
                args.kind,
                args.author,
                court_date=args.court_date,
                submitted=args.submitted,
                title=args.title,
                link=args.link,
            )
        elif args.what == "task":
            result = intake.add_task(ctx, args.title, args.category, details=args.details, due=args.due)
        else:
            result = intake.add_alert(ctx, args.crn, args.source, args.details)
    except SpoError as error:
        return _fail(str(error))
    print(result.item_id)
    return 0


def cmd_do(args: argparse.Namespace) -> int:
    """``do ACTION ITEM_ID``: one of the Today screen's actions, through the same service function."""
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import lookup
    from spo_tui.store.db import open_db

    needs, _words = DO_ACTIONS[args.action]
    if args.action in ("sign-off", "return") and args.verdict is None:
        args.verdict = args.text  # --text serves as the verdict too
    missing = [f"--{name}" for name in needs if getattr(args, name) is None]
    if missing:
        return _fail(f"do {args.action} needs {' and '.join(missing)}")
    try:
        db = open_db(_db_path(args), create=False)
        ctx = _context(args, db)
        item_id = lookup.resolve_item_id(ctx, args.item)
        result = _do(ctx, args, item_id)
    except SpoError as error:
        return _fail(str(error))
    print(visible(result.message, lines=False))
    return 0


def _do(ctx, args: argparse.Namespace, item_id: str):
    """Call the service the Today screen's key calls for ``args.action``."""
    from spo_tui.domain.errors import NotAllowed, ValidationError
    from spo_tui.domain.exchanges import discussed_prefill
    from spo_tui.services import decisions, lookup

    text = args.text or ""
    action = args.action
    if action == "decide":
        minutes = None
        if args.minutes is not None:
            if not args.minutes.strip().isdigit():
                raise ValidationError(
                    f"minutes must be a whole number from 0 to 600, not '{args.minutes}'", field="minutes"
                )
            minutes = int(args.minutes)
        discussed = (
            args.discussed if args.discussed is not None else discussed_prefill(lookup.item_detail(ctx, item_id))
        )
        values = {"outcome": args.outcome, "discussed": discussed, "decision": text, "minutes": minutes}
        if args.oversight_type:
            values["type"] = args.oversight_type
        return decisions.record_oversight(ctx, item_id=item_id, **values)
    if action == "book":
        return decisions.book_protected_hour(ctx, item_id)
    if action == "ask":
        return decisions.request_more_information(ctx, item_id, text)
    if action == "answer":
        return decisions.log_answer(ctx, item_id, text)
    if action == "escalate":
        return decisions.escalate_sbar(ctx, item_id, args.to, text)
    if action in ("sign-off", "return"):
        return decisions.countersign(ctx, item_id, verdict=args.verdict, signed_off=action == "sign-off")
    if action == "waive":
        return decisions.waive_touch_point(ctx, item_id, text)
    if action == "delegate":
        return decisions.delegate_task(ctx, item_id, args.to)
    if action == "done":
        kind = lookup.item_detail(ctx, item_id)["kind"]
        if kind == "task":
            if args.minutes is None:
                raise ValidationError("do done on a task needs --minutes: the minutes it took", field="minutes")
            return decisions.complete_task(ctx, item_id, args.minutes)
        if kind == "action":
            return decisions.complete_action(ctx, item_id, text)
        raise NotAllowed(f"done is for a task or an agreed action, not a {kind.replace('_', ' ')}: use decide")
    if action == "snooze":
        return decisions.snooze(ctx, item_id, args.until)
    if action == "unsnooze":
        return decisions.unsnooze(ctx, item_id)
    if action == "reassign":
        return decisions.reassign(ctx, item_id, args.to)
    if action == "confirm":
        return decisions.confirm_entry(ctx, item_id)
    if action == "undo":
        return decisions.undo(ctx, decisions.last_undoable_on(ctx, item_id), text)
    raise ValidationError(f"unknown action {action}")  # argparse's choices keep this from happening


def cmd_import(args: argparse.Namespace) -> int:
    from spo_tui.domain.errors import SpoError
    from spo_tui.services.identity import link_at_set_up
    from spo_tui.services.importer import STDIN_NAMES, import_file
    from spo_tui.store.db import open_db

    try:
        data = _read_stdin() if args.file in STDIN_NAMES else None
        db = open_db(_db_path(args), create=args.kind == "staff")
        ctx = _context(args, db, allow_setup=args.kind == "staff")
        ctx.require("import")
        name = "standard input" if data is not None else args.file
        report = import_file(ctx, args.kind, name, dry_run=args.dry_run, data=data, refresh=True)
        setting_up = ctx.actor["id"] is None and report.ok and not args.dry_run
        notice = link_at_set_up(db, ctx.os_user, at=ctx.now_iso) if setting_up else None  # who set it up is its SPO
    except SpoError as error:
        return _fail(str(error))
    print(report.render())
    if notice:
        print(f"spo-tui: {notice}", file=sys.stderr)
    return 0 if report.ok else 1


def _read_stdin() -> bytes:
    """The whole of standard input (``import KIND -``); refused when it is the terminal itself."""
    from spo_tui.domain.errors import ValidationError

    if sys.stdin is None or sys.stdin.isatty():
        raise ValidationError(
            "- reads the CSV from standard input, which is the terminal: pipe or redirect a file, "
            "e.g. spo-tui import cases - < cases.csv"
        )
    return sys.stdin.buffer.read()


def _only_the_demo(args: argparse.Namespace) -> str | None:
    """For someone who has only ever opened the demo (``--demo``): say how to export from it, rather
    than "no database at …". Decided: no silent fall-back to the demo, whose made-up entries must never
    be mistaken for real ones to be typed into nDelius; the message names the two ways on."""
    from spo_tui.config import default_demo_path

    if args.db or getattr(args, "demo", False) or os.environ.get("SPO_TUI_DB"):
        return None
    path, demo = _db_path(args), default_demo_path()
    if path.exists() or not demo.exists():
        return None
    return (
        f"no database at {path}: you have only used the demo so far. To export the demo's entries add "
        f"--demo (spo-tui --demo export oversight); for another file add --db PATH"
    )


def cmd_export(args: argparse.Namespace) -> int:
    from spo_tui.domain.dates import parse_date
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import export
    from spo_tui.store.db import open_db

    if args.what == "batches" and args.limit is not None and args.limit < 1:
        return _fail("--limit must be 1 or more")
    if args.what == "oversight" and args.mark_entered and not args.output:
        return _fail(export.MARK_NEEDS_FILE)
    missing = _only_the_demo(args)
    if missing:
        return _fail(missing)
    try:
        db = open_db(_db_path(args), create=False)
        ctx = _context(args, db)
        ctx.require("export")
        if args.what == "batches":
            return _print_batches(export.batches(ctx, args.limit))
        if args.what == "unmark":
            unmark_id, batch = export.unmark_batch(ctx, args.batch)
            print(
                f"Batch {batch.id} un-marked ({batch.entries} entr{'y' if batch.entries == 1 else 'ies'}, marked "
                f"{batch.when}): they will be in the next export again. Recorded as {unmark_id}."
            )
            return 0
        since = parse_date(args.since, "since") if args.since else None
        if not args.output:
            text, count = export.export_oversight(ctx, since=since, fmt=args.format, footer=True)
            sys.stdout.write(text)
            return 0
        done = export.export_oversight_to_file(
            ctx, args.output, since=since, fmt=args.format, mark_entered=args.mark_entered
        )
    except SpoError as error:
        return _fail(str(error))
    entries = f"{done.count} oversight entr{'y' if done.count == 1 else 'ies'}"
    marked = f"; marked entered in nDelius as batch {done.batch_id}" if done.batch_id else ""
    print(f"{entries} written to {visible(done.path, lines=False)}{marked}", file=sys.stderr)
    if done.left_out:
        print(
            f"spo-tui: warning: {done.left_out} entr{'y was' if done.left_out == 1 else 'ies were'} left out: not saved by "
            "spo-tui (run spo-tui verify)",
            file=sys.stderr,
        )
    if done.warning:
        print(f"spo-tui: warning: {done.warning}", file=sys.stderr)
    return 0


def _print_batches(found) -> int:
    if not found:
        print("No entries have been marked entered in nDelius yet.")
        return 0
    for b in found:
        if b.action == "unmark":
            what = f"un-marks batch {b.undoes[:8]}"
        elif b.undone_by:
            what = f"marked {b.entries} (un-marked {_uk_stamp(b.undone_at)})"
        else:
            what = f"marked {b.entries}"
        print(f"{b.id}  {b.when}  {b.by or '?':<20}  {what}{'  ' + b.note if b.note else ''}")
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import lookup
    from spo_tui.services.queue import build_queue
    from spo_tui.services.refresh import refresh_due_work
    from spo_tui.store.db import open_db

    path = _db_path(args)
    try:
        db = open_db(path, create=False)
        ctx = _context(args, db)
        refresh_due_work(ctx)
        entries = build_queue(
            ctx,
            kind=args.kind,
            limit=args.limit,
            team=args.team,
            status="catch_up" if args.catch_up else QUEUE_VIEWS[args.view],
        )
        lookup.record_queue_printed(ctx, len(entries), args.json)
    except SpoError as error:
        return _fail(str(error))
    today = ctx.today
    if args.json:
        # A JSON array with one item per line: each line made by the C encoder, which indenting would
        # not use (15,000 items print in a tenth of the time).
        # json_text: DEL, C1 and bidirectional controls, which json.dumps leaves raw, as \\u escapes.
        rows = (json_text(json.dumps(e.as_json(today), ensure_ascii=False)) for e in entries)
        sys.stdout.write("[\n" + ",\n".join(rows) + "\n]\n")
        return 0
    show_team = bool(args.team) or ctx.actor["role"] == "PDU head"  # several teams' work: say whose
    for e in entries:
        r = e.row
        team = f"{visible(r.team or '', lines=False):<8} " if show_team else ""
        print(
            f"{e.urgency.score:4d}  {team}{e.kind.label:<11} {r.crn or '':<7} {e.due_text(today):<12} {visible(r.title, lines=False)}"
            f"{_status_note(r)}"
        )
    return 0


def _status_note(row) -> str:
    """``  (waiting on NAME since dd/mm/yyyy)`` or ``  (snoozed until dd/mm/yyyy)`` after a queue line."""
    if row.status == "waiting":
        since = f" since {_uk_stamp(row.waiting_since)[:10]}" if row.waiting_since else ""
        return f"  (waiting on {visible(row.waiting_on or 'someone else', lines=False)}{since})"
    if row.status == "snoozed" and row.snoozed_until:
        return f"  (snoozed until {date.fromisoformat(row.snoozed_until):%d/%m/%Y})"
    return ""


def cmd_staff(args: argparse.Namespace) -> int:
    """``staff link|unlink NAME --os-user USER`` (an SPO; audited), ``staff links``, and ``staff use NAME``
    (choose who you act as from now on: an explicit choice, remembered for this login)."""
    from spo_tui.domain.dates import from_iso
    from spo_tui.services import identity
    from spo_tui.services.context import LONDON
    from spo_tui.store.db import open_db

    try:
        db = open_db(_db_path(args), create=False)
        if args.staff_command == "use":  # the explicit choice of who to be, remembered for this login
            args.actor = args.name
            acting = _acting(args, db, remember=True)
            print(f"You ({acting.os_user}) now act as {acting.staff['name']} ({acting.staff['role']}) on this database")
            return 0
        ctx = _context(args, db)
        if args.staff_command == "link":
            print(identity.link(ctx, args.name, args.os_user).message)
            return 0
        if args.staff_command == "unlink":
            print(identity.unlink(ctx, args.name, args.os_user).message)
            return 0
        rows = identity.all_links(ctx)
    except SpoError as error:
        return _fail(str(error))
    print(f"You are {ctx.os_user} on this computer, acting as {ctx.actor['name']} ({ctx.actor['role']}).")
    width = max((len(r["os_user"]) for r in rows), default=0)
    for r in rows:
        day = from_iso(r["linked_at"]).astimezone(LONDON).strftime("%d/%m/%Y")
        how = f"linked by {r['linked_by']}" if r["linked_by"] else "linked at set-up"
        gone = "; no longer active" if not r["active"] else ""
        print(f"{r['os_user']:<{width}}  {r['name']} ({r['role']}), {how} on {day}{gone}")
    return 0


def cmd_paths(args: argparse.Namespace) -> int:
    from spo_tui.config import (
        anchors_dir,
        data_dir,
        default_demo_path,
        signing_key_path,
        user_config_path,
        user_rules_path,
    )

    key = signing_key_path()
    lines = [
        f"database: {_db_path(args)}",
        f"demo database: {default_demo_path()}",
        f"your rules file: {user_rules_path()} ({'present' if user_rules_path().is_file() else 'not present'})",
        f"shipped rules: {data_dir() / 'rules.toml'}",
        f"your config file (your keys): {user_config_path()} "
        f"({'present' if user_config_path().is_file() else 'not present'})",
        f"your signing key: {key} ({'present' if key.is_file() else 'made when you first save'})",
        f"your anchors of the record: {anchors_dir()}",
    ]
    print("\n".join(visible(line, lines=False) for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
