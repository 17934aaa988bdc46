"""``spo-tui connect`` and ``spo-tui sync``: this device and its team's hub (``spo_tui.services.sync``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from spo_tui.cli.common import EXIT_BAD_INPUT, _db_path, _fail, _uk_stamp
from spo_tui.domain.errors import SpoError

if TYPE_CHECKING:
    from spo_tui.services.sync import SyncStatus

#: Exit status when the hub cannot be reached: nothing is lost, the changes wait for the next sync.
EXIT_OFFLINE = 3


def cmd_connect(args: argparse.Namespace) -> int:
    """Connect this store to a hub as the URL's login, upload or bring down the team's record, sync."""
    from spo_tui.services import sync
    from spo_tui.store.db import open_db
    from spo_tui.store.hub_client import HubUnreachable

    try:
        db = open_db(_db_path(args))
        try:
            result = sync.connect(db, args.url)
            state = sync.status(db)
        finally:
            db.close()
    except HubUnreachable as error:
        return _fail(f"{error}: nothing was changed here", EXIT_OFFLINE)
    except SpoError as error:
        return _fail(str(error))
    print(f"Connected to {state.hub} as {state.name} ({state.login}); {result.message}.")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """Exchange changes with the hub now, or (``--status``) say where this store stands with it."""
    from spo_tui.services import sync
    from spo_tui.store.db import open_db
    from spo_tui.store.hub_client import HubUnreachable

    try:
        db = open_db(_db_path(args), create=False)
    except SpoError as error:
        return _fail(str(error))
    try:
        if args.status:
            print(status_lines(sync.status(db)))
            return 0
        try:
            result = sync.sync(db, args.hub)
        except HubUnreachable as error:
            waiting = sync.status(db).waiting
            return _fail(f"offline: {error}; {waiting} change{'s' if waiting != 1 else ''} wait here", EXIT_OFFLINE)
        except SpoError as error:
            return _fail(str(error), EXIT_BAD_INPUT)
        print(result.message[0].upper() + result.message[1:] + ".")
        return 0
    finally:
        db.close()


def status_lines(state: SyncStatus) -> str:
    if not state.connected:
        return "Not connected to a hub: this store works on its own (spo-tui connect postgresql://LOGIN@HOST/DATABASE)."
    lines = [
        f"Hub: {state.hub}",
        f"You: {state.name} ({state.login})",
        f"Last sync: {_uk_stamp(state.last_sync) if state.last_sync else 'never'}",
        f"Changes waiting to send: {state.waiting}",
    ]
    if state.offline:
        lines.append("Offline: the hub could not be reached at the last try")
    if state.problem:
        lines.append(f"Last problem: {state.problem}")
    return "\n".join(lines)
