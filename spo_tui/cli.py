"""The ``spo-tui`` command: the TUI with no subcommand, and scriptable subcommands.

Exit status: 0 on success, 1 when the work failed, 2 for bad arguments or a database that cannot be
opened (with a one-line message on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path

from spo_tui import __version__
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
    from spo_tui.store.db import open_db

    path = _db_path(args)
    clock = clock_from_env()
    today = local_today(clock)
    try:
        if args.demo and not path.exists():
            print(f"Creating the demo team at {path} …", file=sys.stderr)
            _write_demo(path, today=today)
        open_db(path).close()
    except SpoError as error:
        return _fail(str(error))

    def demo_builder(target: Path) -> None:
        _write_demo(target, today=local_today(clock))

    app = SpoApp(path, actor=args.actor, clock=clock, demo_builder=demo_builder, theme=args.theme)
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


def cmd_queue(args: argparse.Namespace) -> int:
    from spo_tui.config import load_rules
    from spo_tui.domain.errors import SpoError
    from spo_tui.services.context import make_context
    from spo_tui.services.queue import build_queue
    from spo_tui.services.refresh import refresh_due_work
    from spo_tui.store.db import open_db

    if args.limit is not None and args.limit < 1:
        return _fail("--limit must be 1 or more")
    path = _db_path(args)
    try:
        db = open_db(path, create=False)
        ctx = make_context(db, load_rules(), args.actor, clock=clock_from_env())
        refresh_due_work(ctx)
        entries = build_queue(ctx, kind=args.kind, limit=args.limit)
    except SpoError as error:
        return _fail(str(error))
    today = ctx.today
    if args.json:
        json.dump([e.as_json(today) for e in entries], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for e in entries:
        r = e.row
        print(f"{e.urgency.score:4d}  {e.kind.label:<11} {r.crn or '':<7} {e.due_text(today):<12} {r.title}")
    return 0


def cmd_paths(args: argparse.Namespace) -> int:
    from spo_tui.config import data_dir, default_demo_path, user_rules_path

    print(f"database: {_db_path(args)}")
    print(f"demo database: {default_demo_path()}")
    print(f"your rules file: {user_rules_path()} ({'present' if user_rules_path().is_file() else 'not present'})")
    print(f"shipped rules: {data_dir() / 'rules.toml'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
