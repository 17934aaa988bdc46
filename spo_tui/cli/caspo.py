"""The CASPO's and the scripts' commands: ``add`` work to the queue, ``import`` CSV extracts, ``export``
oversight entries for nDelius (and list or un-mark the batches marked entered)."""

from __future__ import annotations

import argparse
import os
import sys

from spo_tui.cli.common import _context, _db_path, _fail, _uk_stamp
from spo_tui.domain.text import visible


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
                court_time=args.court_time,
                oral=args.oral,
                gatekeeper=args.gatekeeper,
            )
        elif args.what == "task":
            result = intake.add_task(
                ctx, args.title, args.category, details=args.details, due=args.due, helpdesk_ref=args.helpdesk
            )
        else:
            result = intake.add_alert(ctx, args.crn, args.source, args.details)
    except SpoError as error:
        return _fail(str(error))
    print(result.item_id)
    return 0


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
