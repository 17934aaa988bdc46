"""``spo-tui staff``: which computer logins may act as which members of staff, and who you act as."""

from __future__ import annotations

import argparse

from spo_tui.cli.common import _acting, _context, _db_path, _fail
from spo_tui.domain.errors import SpoError


def cmd_staff(args: argparse.Namespace) -> int:
    """``staff link|unlink NAME --os-user USER`` (an SPO; audited), ``staff links``, ``staff use NAME``
    (choose who you act as from now on: an explicit choice, remembered for this login), and
    ``staff team-kind TEAM court|sentence_management``, ``staff aqa NAME RATING`` (an AQA rating, by
    an SPO or QDO) and ``staff approval`` (who is approved, and how close the others are) [000 §3.3]."""
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
        if args.staff_command == "team-kind":
            from spo_tui.services.admin import set_team_kind

            print(set_team_kind(ctx, args.team, args.kind).message)
            return 0
        if args.staff_command == "aqa":
            from spo_tui.services import aqa

            print(
                aqa.rate_aqa(
                    ctx, args.name, args.rating, rated_on=args.on, crn=args.crn, assessment=args.assessment
                ).message
            )
            return 0
        if args.staff_command == "approval":
            from spo_tui.services import aqa

            for s in aqa.approval_standings(ctx, args.team):
                last = f", last rated {s.last_rated:%d/%m/%Y}" if s.last_rated else ", not yet rated"
                near = " ← one Good away" if s.close else ""
                print(f"{s.name} ({s.role}{', ' + s.team if s.team else ''}): {s.label}{last}{near}")
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
