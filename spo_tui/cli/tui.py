"""Opening the TUI (no subcommand), writing the ``demo`` database, and showing the ``paths`` in use.

Textual is imported only inside ``cmd_tui``: the print commands (``spo-tui queue``) start without it."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from spo_tui.cli.common import _acting, _db_path, _fail, clock_from_env, local_today
from spo_tui.domain.text import visible


def cmd_tui(args: argparse.Namespace) -> int:
    """Open the TUI. Nothing slow comes before its first screen: the check of the whole file
    (``quick_check``) and the day's backup run in the app, in the background, once the queue is drawn
    (``SpoApp.start_checks``); here the file is only identified and opened, which refuses another
    program's file, a newer spo-tui's, and one too damaged to open (saying how to restore)."""
    from spo_tui.app import SpoApp, known_binding_ids
    from spo_tui.config import load_keymap
    from spo_tui.domain.errors import SpoError
    from spo_tui.store.db import NotOurs, StoreError, is_empty

    path = _db_path(args)
    clock = clock_from_env()
    today = local_today(clock)
    try:
        keymap = load_keymap(known_binding_ids)  # a mistyped id is refused here, in one line, before the screen changes
        if args.demo and not path.exists():
            print(f"Creating the demo team at {visible(path, lines=False)} …", file=sys.stderr)
            _write_demo(path, today=today)
        try:
            db = _open_for_the_app(path)
        except NotOurs:
            raise
        except StoreError as error:
            if not path.is_file() or "not a usable" not in str(error):
                raise
            return _refuse_damaged(path, str(error))
        if db is None:
            return _refuse_damaged(path, "")
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
        path,
        actor=actor,
        clock=clock,
        demo_builder=demo_builder,
        theme=args.theme,
        notice=notice,
        keymap=keymap,
        start_checks=True,
    )
    app.run()
    if app.farewell:
        print(app.farewell, file=sys.stderr)
    if app.return_code:
        return app.return_code
    return 0


def _open_for_the_app(path: Path):
    """``open_db``, except that a database its migrations would change (the first start after an
    upgrade) must pass the quick check first: nothing is written to a damaged file. None if it fails.
    Every other start leaves that check to the app, after its first screen (``SpoApp.start_checks``)."""
    from spo_tui.store.backup import check_integrity
    from spo_tui.store.db import open_db
    from spo_tui.store.schema import migrations

    db = open_db(path, migrate=False)
    if db.read_only or not migrations.pending(db):
        return db
    db.close()
    if path.stat().st_size > 0 and not check_integrity(path, quick=True).ok:
        return None
    return open_db(path)


def _refuse_damaged(path: Path, message: str) -> int:
    """A database too damaged to open: say so, and how to restore it; return 2."""
    from spo_tui.store.backup import check_integrity, restore_advice

    result = check_integrity(path, quick=True)
    if not result.ours:  # another program's file or a newer spo-tui's: no restoring to suggest
        return _fail(result.message)
    return _fail(f"{result.message if not result.ok else message}. Nothing was opened; {restore_advice(path)}")


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
