"""``spo-tui hub``: set up the team hub (a PostgreSQL database), add its people, list them.

An admin's commands: they connect with the URL given (``--hub``, else ``$SPO_TUI_HUB``; ``hub init``
takes it as its argument). A password may be in the URL, or left to libpq's ``~/.pgpass`` or
``$PGPASSWORD``, which keeps it out of the process list.
"""

from __future__ import annotations

import argparse
import os

from spo_tui.cli.common import _fail
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.text import visible

HUB_ENV = "SPO_TUI_HUB"

#: What ``hub --help`` ends with.
HUB_NOTE = f"""\
The hub's URL: postgresql://LOGIN@HOST:PORT/DATABASE, the login being the hub's admin (one that owns
the database and may create roles). add-user and people take it from --hub, else from ${HUB_ENV}.
Prefer leaving the password out of the URL (libpq reads ~/.pgpass and $PGPASSWORD): a URL typed on
the command line can be seen by other users of the computer in the process list."""


def cmd_hub(args: argparse.Namespace) -> int:
    """``hub init URL``, ``hub add-user NAME --role ROLE [--team TEAM] [--login LOGIN]``, ``hub people``."""
    from spo_tui.services import hub_admin

    try:
        if args.hub_command == "init":
            url = hub_admin.check_url(args.url)
            applied = hub_admin.init(url)
            where = visible(hub_admin.redact(url), lines=False)
            if applied:
                print(f"The hub at {where} is set up: applied {', '.join(applied)}")
            else:
                print(f"The hub at {where} is up to date: nothing to apply")
            return 0
        url = _hub_url(args)
        if args.hub_command == "add-user":
            added = hub_admin.add_user(url, args.name, args.role, team=args.team, login=args.login)
            print(visible(added.message, lines=False))
            if added.password:
                print(
                    f"Password for {visible(added.login, lines=False)} (shown this once: give it to "
                    f"{visible(added.name, lines=False)} privately): {added.password}"
                )
            return 0
        rows = hub_admin.list_people(url)
    except SpoError as error:
        return _fail(str(error))
    if not rows:
        print("The hub has no people yet: add them with spo-tui hub add-user")
        return 0
    cells = [
        (
            visible(r["name"], lines=False),
            visible(r["role"], lines=False),
            visible(r["team"], lines=False) or "(whole PDU)",
            visible(r["login"], lines=False),
            visible(r["staff_id"], lines=False) if r["staff_id"] else "(staff id not yet known)",
            "" if r["active"] else "no longer active",
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    for c in cells:
        line = "  ".join(f"{c[i]:<{widths[i]}}" for i in range(5))
        print(f"{line}  {c[5]}".rstrip())
    return 0


def _hub_url(args: argparse.Namespace) -> str:
    url = args.hub or os.environ.get(HUB_ENV)
    if not url:
        raise ValidationError(f"give the hub's URL with --hub URL, or set {HUB_ENV}", field="hub")
    return str(url)
