"""The ``spo-tui`` command: the TUI with no subcommand, and scriptable subcommands.

Exit status: 0 on success, 1 when the work failed, 2 for bad arguments or a database that cannot be
opened (with a one-line message on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path

from spo_tui import __version__
from spo_tui.domain.errors import SpoError
from spo_tui.domain.vocab import ItemKind

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see --help)\n")


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> int:
    print(f"spo-tui: {message}", file=sys.stderr)
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
    return fixed_clock(date.fromisoformat(pinned)) if pinned else utc_now


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spo-tui", description="Triage and management oversight for senior probation officers.")
    parser.add_argument("--version", action="version", version=f"spo-tui {__version__}")
    parser.add_argument("--db", metavar="PATH", help="database file (default: $SPO_TUI_DB or the user data folder)")
    parser.add_argument("--as", dest="actor", metavar="NAME", help="who is acting (default: the team's SPO)")
    parser.add_argument("--demo", action="store_true", help="open the TUI on the demo database, creating it on first use")
    parser.add_argument(
        "--theme", default=os.environ.get("SPO_TUI_THEME", "textual-dark"),
        help="colour theme: textual-dark (default), textual-light for light terminals, or any Textual theme",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    demo = sub.add_parser("demo", help="write a demo database")
    demo.add_argument("--db", dest="demo_db", metavar="PATH", help="where to write it (default: the demo database)")
    demo.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    demo.add_argument("--scale", choices=["team", "pdu"], default="team", help="a team (~350 cases) or a PDU (~5,000)")

    queue = sub.add_parser("queue", help="print the triaged queue")
    queue.add_argument("--json", action="store_true", help="JSON: a list of objects with id, kind, crn, title, due, urgency, reasons")
    queue.add_argument("--kind", choices=[k.value for k in ItemKind], help="only this kind of item")
    queue.add_argument("--limit", type=int, metavar="N", help="at most N items")

    sub.add_parser("paths", help="show where the database and the rules file are")

    add = sub.add_parser("add", help="add work to the queue from a script (prints the new id)")
    add_sub = add.add_subparsers(dest="what", required=True, parser_class=_Parser)
    sbar = add_sub.add_parser("sbar", help="log an SBAR raised by a practitioner")
    sbar.add_argument("--crn", required=True)
    sbar.add_argument("--by", required=True, metavar="NAME", help="the practitioner who raised it")
    for part in ("situation", "background", "assessment", "recommendation"):
        sbar.add_argument(f"--{part}", required=True)
    sbar.add_argument("--urgency", default="routine", help="routine, soon or urgent")
    sbar.add_argument("--title", help="a short title (default: the start of the situation)")
    cs = add_sub.add_parser("countersign", help="put an assessment or report in the countersigning queue")
    cs.add_argument("--crn", required=True)
    cs.add_argument("--kind", required=True, help="OASYS, PAROLE_REPORT, PSR, DANGEROUSNESS or HVRA")
    cs.add_argument("--author", required=True, metavar="NAME")
    cs.add_argument("--court-date", help="PSRs: the court date (dd/mm/yyyy or yyyy-mm-dd)")
    cs.add_argument("--submitted", help="when it was submitted (default today)")
    cs.add_argument("--link", help="where the document is")
    cs.add_argument("--title")
    task = add_sub.add_parser("task", help="add a non-operational task")
    task.add_argument("--title", required=True)
    task.add_argument("--category", required=True, help="buildings, health_safety, hr_sickness, hr_performance, hr_leave, it, other")
    task.add_argument("--details", default="")
    task.add_argument("--due", help="due date (default: the category's target)")
    alert = add_sub.add_parser("alert", help="log an immediate-risk alert")
    alert.add_argument("--crn", required=True)
    alert.add_argument("--source", required=True, help="arrest, charge, call_out, court, screening, risk_classification")
    alert.add_argument("--details", required=True)

    bk = sub.add_parser("backup", help="back up the database now (SQLite online backup)")
    bk.add_argument("--to", metavar="FILE", help="where to write it (default: the backups folder beside the database)")
    rs = sub.add_parser("restore", help="replace the database with a backup (checked first)")
    rs.add_argument("file", metavar="FILE")

    vf = sub.add_parser("verify", help="check the signed oversight record: exit 1 naming what was altered, removed or added")
    vf.add_argument("--trust", action="append", default=[], metavar="KEY",
                    help="also trust this device key (its first 8 or more hex digits) for this store, e.g. a colleague's")
    vf.add_argument("--after-restore", action="store_true",
                    help="you restored an older copy on purpose: check from this copy on, not against earlier checks")
    vf.add_argument("--against", action="append", default=[], metavar="FILE",
                    help="also check the record carries on from the head recorded at the end of this text export")

    imp = sub.add_parser("import", help="import a CSV extract: all rows or none")
    imp.add_argument("kind", choices=["cases", "staff", "countersign", "touchpoints"])
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="check every row and report, writing nothing")

    exp = sub.add_parser("export", help="export oversight entries not yet entered in nDelius; list or un-mark batches of marks")
    exp_sub = exp.add_subparsers(dest="what", required=True, parser_class=_Parser)
    ov = exp_sub.add_parser("oversight", help="the oversight entries not yet entered in nDelius")
    ov.add_argument("--since", metavar="DATE", help="only entries made on or after DATE")
    ov.add_argument("--format", choices=["csv", "text"], default="csv")
    ov.add_argument("--mark-entered", action="store_true",
                    help="record that these entries are now in nDelius (needs --output: marked once the file is safely written)")
    ov.add_argument("--output", metavar="FILE", help="write to FILE (readable by you only) instead of the screen")
    bt = exp_sub.add_parser("batches", help="list the batches of entries marked entered in nDelius, newest first")
    bt.add_argument("--limit", type=int, metavar="N", help="at most N batches")
    um = exp_sub.add_parser("unmark", help="take back a batch of marks: its entries are exported again")
    um.add_argument("batch", metavar="BATCH", help="the batch id, or its first 8 or more characters")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return cmd_demo(args)
        if args.command == "queue":
            return cmd_queue(args)
        if args.command == "paths":
            return cmd_paths(args)
        if args.command == "verify":
            return cmd_verify(args)
        if args.command == "backup":
            return cmd_backup(args)
        if args.command == "restore":
            return cmd_restore(args)
        if args.command == "add":
            return cmd_add(args)
        if args.command == "import":
            return cmd_import(args)
        if args.command == "export":
            return cmd_export(args)
        return cmd_tui(args)
    except KeyboardInterrupt:
        return 130


def _db_path(args: argparse.Namespace) -> Path:
    from spo_tui.config import default_db_path, default_demo_path

    if getattr(args, "demo", False) and not args.db:
        return default_demo_path()
    return Path(args.db).expanduser() if args.db else default_db_path()


def cmd_tui(args: argparse.Namespace) -> int:
    from spo_tui.app import SpoApp
    from spo_tui.domain.errors import SpoError
    from spo_tui.store.backup import daily_backup
    from spo_tui.store.db import is_empty, open_db

    path = _db_path(args)
    clock = clock_from_env()
    today = local_today(clock)
    try:
        if args.demo and not path.exists():
            print(f"Creating the demo team at {path} …", file=sys.stderr)
            _write_demo(path, today=today)
        if path.exists():
            damaged = _refuse_damaged(path)
            if damaged:
                return damaged
        db = open_db(path)
        if not is_empty(db):
            daily_backup(path)
        actor = args.actor
        if not is_empty(db):
            actor = _context(args, db).actor["name"]  # checks --as and remembers it
        db.close()
    except SpoError as error:
        return _fail(str(error))

    def demo_builder(target: Path) -> None:
        _write_demo(target, today=local_today(clock))

    app = SpoApp(path, actor=actor, clock=clock, demo_builder=demo_builder, theme=args.theme)
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

    path = Path(args.demo_db).expanduser() if args.demo_db else (Path(args.db).expanduser() if args.db else default_demo_path())
    try:
        summary = _write_demo(path, today=local_today(clock_from_env()), seed=args.seed, scale=args.scale)
    except SpoError as error:
        return _fail(str(error))
    print(f"Demo ({args.scale}, seed {args.seed}) written to {path}: {summary}")
    return 0


def _context(args: argparse.Namespace, db, *, allow_setup: bool = False):
    """The acting user's context: ``--as`` (then remembered), else the last remembered, else the SPO."""
    from spo_tui.config import load_rules
    from spo_tui.services.context import make_context, remember_actor, remembered_actor, setup_context
    from spo_tui.store.db import is_empty

    rules = load_rules()
    clock = clock_from_env()
    if allow_setup and is_empty(db):
        return setup_context(db, rules, clock=clock)
    ctx = make_context(db, rules, args.actor or remembered_actor(db), clock=clock)
    if args.actor:
        remember_actor(db, ctx.actor["name"])
    return ctx


def _refuse_damaged(path: Path) -> int:
    """0 if the database passes a quick integrity check; else say how to restore and return 2."""
    from spo_tui.store.backup import check_integrity, list_backups

    result = check_integrity(path, quick=True)
    if result.ok:
        return 0
    backups = list_backups(path)
    how = (f"restore the newest backup with: spo-tui --db {path} restore {backups[-1]}" if backups
           else "no backup of it was found; restore one you have with: spo-tui restore FILE")  # fmt: skip
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
    except sqlite3.DatabaseError as error:
        return _fail(f"{path} cannot be checked: {error}")
    if not check.ok:
        lines = "".join(f"- {p.message}.\n" for p in check.problems)
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
        print("Restored copy accepted: later checks compare with this copy, not with the checks made before the restore.")
    elif check.first_check:
        if last is not None:
            print(f"It carries on from your last {last.event} ({_uk_stamp(last.at)}, {last.count} links).")
        print("This is your first check of this store: its keys are now the ones you trust for it.")
    else:
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
    try:
        made = backup(path, Path(args.to) if args.to else None)
    except SpoError as error:
        return _fail(str(error))
    print(f"Backed up to {made}")
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


def cmd_add(args: argparse.Namespace) -> int:
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import intake
    from spo_tui.store.db import open_db

    try:
        db = open_db(_db_path(args), create=False)
        ctx = _context(args, db)
        if args.what == "sbar":
            result = intake.raise_sbar(ctx, args.crn, args.by, args.situation, args.background, args.assessment,
                                       args.recommendation, args.urgency, args.title)  # fmt: skip
        elif args.what == "countersign":
            result = intake.add_countersign(ctx, args.crn, args.kind, args.author, court_date=args.court_date,
                                            submitted=args.submitted, title=args.title, link=args.link)  # fmt: skip
        elif args.what == "task":
            result = intake.add_task(ctx, args.title, args.category, details=args.details, due=args.due)
        else:
            result = intake.add_alert(ctx, args.crn, args.source, args.details)
    except SpoError as error:
        return _fail(str(error))
    print(result.item_id)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from spo_tui.domain.errors import SpoError
    from spo_tui.services.importer import import_file
    from spo_tui.store.db import open_db

    try:
        db = open_db(_db_path(args), create=args.kind == "staff")
        ctx = _context(args, db, allow_setup=args.kind == "staff")
        ctx.require("import")
        report = import_file(ctx, args.kind, args.file, dry_run=args.dry_run)
    except SpoError as error:
        return _fail(str(error))
    print(report.render())
    return 0 if report.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    from spo_tui.domain.dates import parse_date
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import export
    from spo_tui.store.db import open_db

    if args.what == "batches" and args.limit is not None and args.limit < 1:
        return _fail("--limit must be 1 or more")
    if args.what == "oversight" and args.mark_entered and not args.output:
        return _fail(export.MARK_NEEDS_FILE)
    try:
        db = open_db(_db_path(args), create=False)
        ctx = _context(args, db)
        ctx.require("export")
        if args.what == "batches":
            return _print_batches(export.batches(ctx, args.limit))
        if args.what == "unmark":
            unmark_id, batch = export.unmark_batch(ctx, args.batch)
            print(f"Batch {batch.id} un-marked ({batch.entries} entr{'y' if batch.entries == 1 else 'ies'}, marked "
                  f"{batch.when}): they will be in the next export again. Recorded as {unmark_id}.")  # fmt: skip
            return 0
        since = parse_date(args.since, "since") if args.since else None
        if not args.output:
            text, count = export.export_oversight(ctx, since=since, fmt=args.format, footer=True)
            sys.stdout.write(text)
            return 0
        done = export.export_oversight_to_file(ctx, args.output, since=since, fmt=args.format, mark_entered=args.mark_entered)
    except SpoError as error:
        return _fail(str(error))
    entries = f"{done.count} oversight entr{'y' if done.count == 1 else 'ies'}"
    marked = f"; marked entered in nDelius as batch {done.batch_id}" if done.batch_id else ""
    print(f"{entries} written to {done.path}{marked}", file=sys.stderr)
    if done.left_out:
        print(f"spo-tui: warning: {done.left_out} entr{'y was' if done.left_out == 1 else 'ies were'} left out: not saved by "
              "spo-tui (run spo-tui verify)", file=sys.stderr)  # fmt: skip
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

    if args.limit is not None and args.limit < 1:
        return _fail("--limit must be 1 or more")
    path = _db_path(args)
    try:
        db = open_db(path, create=False)
        ctx = _context(args, db)
        refresh_due_work(ctx)
        entries = build_queue(ctx, kind=args.kind, limit=args.limit)
        lookup.record_queue_printed(ctx, len(entries), args.json)
    except SpoError as error:
        return _fail(str(error))
    today = ctx.today
    if args.json:
        # A JSON array with one item per line: each line made by the C encoder, which indenting would
        # not use (15,000 items print in a tenth of the time).
        rows = (json.dumps(e.as_json(today), ensure_ascii=False) for e in entries)
        sys.stdout.write("[\n" + ",\n".join(rows) + "\n]\n")
        return 0
    for e in entries:
        r = e.row
        print(f"{e.urgency.score:4d}  {e.kind.label:<11} {r.crn or '':<7} {e.due_text(today):<12} {r.title}")
    return 0


def cmd_paths(args: argparse.Namespace) -> int:
    from spo_tui.config import anchors_dir, data_dir, default_demo_path, signing_key_path, user_rules_path

    print(f"database: {_db_path(args)}")
    print(f"demo database: {default_demo_path()}")
    print(f"your rules file: {user_rules_path()} ({'present' if user_rules_path().is_file() else 'not present'})")
    print(f"shipped rules: {data_dir() / 'rules.toml'}")
    key = signing_key_path()
    print(f"your signing key: {key} ({'present' if key.is_file() else 'made when you first save'})")
    print(f"your anchors of the record: {anchors_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
