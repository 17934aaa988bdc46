"""The ``spo-tui`` command: the TUI with no subcommand, and scriptable subcommands.

Exit status: 0 on success, 1 when the work failed, 2 for bad arguments or a database that cannot be
opened (with a one-line message on stderr). Whatever goes wrong with a file or the database ends in
that one line, never a traceback (``main``'s last guard), and any control character in a message or
in stored text printed is shown as an escape (``spo_tui.domain.text.visible``).

The commands live beside this module, by what they do: ``common`` (what they share), ``queue`` (queue,
do), ``caspo`` (add, import, export), ``record`` (verify, backup, restore, encrypt, unlock), ``staff``,
``hub`` (the team hub's set-up) and ``tui`` (the TUI, demo, paths). Each imports the heavier modules it needs inside its function, so
that a print command starts quickly (``spo-tui queue`` never imports Textual).
"""

from __future__ import annotations

import argparse
import os
import sys

from spo_tui import __version__
from spo_tui.cli.assurance import add_rcat_parser, cmd_rcat
from spo_tui.cli.caspo import cmd_add, cmd_export, cmd_import
from spo_tui.cli.common import (
    EXIT_BAD_INPUT,
    FREE_TEXT_NOTE,
    TEXT_HELP,
    FreeText,
    _fail,
    _is_database_error,
    _Parser,
    clock_from_env,
    database_message,
    fixed_clock,
    local_today,
)
from spo_tui.cli.hub import HUB_ENV, HUB_NOTE, cmd_hub
from spo_tui.cli.pdu import cmd_pdu
from spo_tui.cli.queue import DO_ACTIONS, DO_NOTE, LIMIT_MAX, QUEUE_VIEWS, _limit, cmd_do, cmd_queue
from spo_tui.cli.record import cmd_backup, cmd_encrypt, cmd_restore, cmd_unlock, cmd_verify
from spo_tui.cli.staff import cmd_staff
from spo_tui.cli.sync import cmd_connect, cmd_sync
from spo_tui.cli.tui import cmd_demo, cmd_paths, cmd_tui
from spo_tui.domain.errors import SpoError
from spo_tui.domain.vocab import ItemKind

__all__ = [
    "DO_ACTIONS",
    "EXIT_BAD_INPUT",
    "FREE_TEXT_NOTE",
    "LIMIT_MAX",
    "QUEUE_VIEWS",
    "TEXT_HELP",
    "FreeText",
    "build_parser",
    "clock_from_env",
    "cmd_add",
    "cmd_backup",
    "cmd_connect",
    "cmd_demo",
    "cmd_do",
    "cmd_encrypt",
    "cmd_export",
    "cmd_hub",
    "cmd_import",
    "cmd_paths",
    "cmd_pdu",
    "cmd_queue",
    "cmd_restore",
    "cmd_staff",
    "cmd_sync",
    "cmd_tui",
    "cmd_unlock",
    "cmd_verify",
    "database_message",
    "disable_core_dumps",
    "fixed_clock",
    "local_today",
    "main",
]


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
    kind = staff_sub.add_parser(
        "team-kind", help="say what a team does: sentence_management (the default) or court (an SPO or CASPO)"
    )
    kind.add_argument("team", metavar="TEAM", help="the team's name, as staff records give it")
    kind.add_argument("kind", choices=["sentence_management", "court"])
    rate = staff_sub.add_parser(
        "aqa", help="record an AQA rating of a practitioner's OASys assessment (an SPO or QDO) [000 §3.3]"
    )
    rate.add_argument("name", metavar="NAME", help="the practitioner whose assessment was rated")
    rate.add_argument("rating", metavar="RATING", help="good, requires_improvement or inadequate")
    rate.add_argument("--on", metavar="DATE", help="when it was rated (default today)")
    rate.add_argument("--crn", help="the case the assessment is on")
    rate.add_argument("--assessment", default="", metavar="TEXT", help="which assessment (e.g. its date or link)")
    approval = staff_sub.add_parser(
        "approval", help="who is approved, and how close each practitioner is (e.g. 2 of 3 Good) [000 §3.3]"
    )
    approval.add_argument("--team", help="the team (default: yours; '' for every team)")

    hub = sub.add_parser(
        "hub",
        help="set up the team hub (PostgreSQL) and add its people (an admin's commands)",
        epilog=HUB_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hub_sub = hub.add_subparsers(dest="hub_command", required=True, parser_class=_Parser)
    hub_init = hub_sub.add_parser(
        "init", help="set up the hub in this PostgreSQL database, or bring it up to date (safe to run again)"
    )
    hub_init.add_argument("url", metavar="POSTGRES_URL", help="the hub database's URL, as its admin")
    hub_add = hub_sub.add_parser(
        "add-user", help="make someone a person of the hub: a PostgreSQL login (its password printed once)"
    )
    hub_add.add_argument("name", metavar="NAME", help="their name, as in the staff list")
    hub_add.add_argument(
        "--role", required=True, help="SPO, PO, PSO, PQiP, NQO, CASPO, SAO, QDO, 'business manager' or 'PDU head'"
    )
    hub_add.add_argument("--team", help="their team (needed, except for a PDU head, SAO, QDO or business manager)")
    hub_add.add_argument(
        "--login",
        help="their PostgreSQL login (default: made from the name, 'Sam Spo' logs in as sam_spo); an existing "
        "login is used as it is, its password unchanged",
    )
    hub_people = hub_sub.add_parser("people", help="list the hub's people: who logs in as whom")
    for hub_command in (hub_add, hub_people):
        hub_command.add_argument("--hub", metavar="URL", help=f"the hub's URL, as its admin (default: ${HUB_ENV})")

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
    cs.add_argument(
        "--court-time", help="PSRs: the time of the hearing (e.g. 10:00): a report on the day is due by then"
    )
    cs.add_argument("--oral", action="store_true", help="PSRs: an oral report, delivered on the court day")
    cs.add_argument(
        "--gatekeeper", metavar="NAME", help="PSRs on a medium-RoSH case: the peer PO who gatekeeps it [000 §3.2]"
    )
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
    task.add_argument("--helpdesk", default="", metavar="REF", help="the facilities helpdesk's job reference")
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
        "item",
        metavar="ITEM_ID",
        help="the item's id, or its first 6 or more characters (each line of spo-tui queue starts with 8)",
    )
    do.add_argument(
        "--text", type=text, metavar="TEXT", help=f"the decision, question, answer, note or reason: {TEXT_HELP}"
    )
    do.add_argument("--verdict", type=text, metavar="TEXT", help=f"sign-off and return: the verdict: {TEXT_HELP}")
    do.add_argument("--until", metavar="DATE", help="snooze: until when (tomorrow, mon, 3d, 25/12/2026)")
    do.add_argument("--to", metavar="NAME", help="escalate (PDU head or MAPPA), delegate, reassign, peer: to whom")
    do.add_argument("--minutes", metavar="N", help="done (a task), decide, sign-off, return: the minutes it took")
    do.add_argument(
        "--outcome",
        metavar="OUTCOME",
        help="decide: the outcome: agreed, guidance_given, actions_set, recall, no_recall, …",
    )
    do.add_argument(
        "--type", dest="oversight_type", metavar="TYPE", help="decide: the type of entry (default management_oversight)"
    )
    do.add_argument(
        "--level",
        metavar="N",
        help="decide: the oversight level, 1 quality assurance, 2 supervision, 3 immediate risk (default: from the work)",
    )
    do.add_argument(
        "--discussed",
        type=text,
        metavar="TEXT",
        help=f"decide: what was discussed (default: as the form pre-fills it): {TEXT_HELP}",
    )

    add_rcat_parser(sub, text)

    pdu = sub.add_parser(
        "pdu", help="the PDU head's picture across teams: coverage, backlog, cases not seen (read-only)"
    )
    pdu.add_argument("--days", type=int, default=90, metavar="N", help="oversight in the last N days (default 90)")
    pdu.add_argument("--json", action="store_true", help="as JSON")
    cn = sub.add_parser(
        "connect",
        help="connect this store to the team's hub (PostgreSQL) as your own login, then sync",
        description="The first device of a team uploads its store; a new, empty store brings the team's "
        "record down. A password in the URL is kept in the OS keyring, never in the store.",
    )
    cn.add_argument("url", metavar="POSTGRES_URL", help="postgresql://LOGIN@HOST/DATABASE")
    sy = sub.add_parser("sync", help="send this device's changes to the hub and take in the team's")
    sy.add_argument("--status", action="store_true", help="say where this store stands with the hub, without syncing")
    sy.add_argument("--hub", metavar="URL", help="the hub's URL with a password, for this sync only")
    bk = sub.add_parser("backup", help="back up the database now (SQLite online backup)")
    bk.add_argument("--to", metavar="FILE", help="where to write it (default: the backups folder beside the database)")
    bk.add_argument(
        "--daily",
        action="store_true",
        help="the day's backup: only if none was made today, keeping the newest 14 (the TUI runs this after its first screen)",
    )
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
    vf.add_argument(
        "--hub",
        action="store_true",
        help="also check the hub's copy: every change you may read there, against its devices' signatures and "
        "checkpoints and against this store's copy (exit 3 when the hub cannot be reached)",
    )
    vf.add_argument(
        "--hub-url",
        metavar="URL",
        help="with --hub: the hub's URL (postgresql://LOGIN@HOST/DATABASE) instead of the one this store syncs with",
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
    if args.command == "hub":
        return cmd_hub(args)
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
    if args.command == "pdu":
        return cmd_pdu(args)
    if args.command == "rcat":
        return cmd_rcat(args)
    if args.command == "connect":
        return cmd_connect(args)
    if args.command == "sync":
        return cmd_sync(args)
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
