"""``spo-tui rcat``: the R-CAT eligible list, the audits done this year, and recording one
(``spo_tui.services.assurance``) [000 §3.3, 001]."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from spo_tui.cli.common import _context, _db_path, _fail
from spo_tui.domain.errors import SpoError
from spo_tui.domain.text import visible

RCAT_NOTE = """The eligible list has each practitioner with no case audited in the last 12 months, and
the case chosen for them: one supervised at least 3 months first, then the highest RoSH, then the
longest-supervised ([rcat] in rules.toml). Recording an audit takes the practitioner off the list
for a year.

  spo-tui rcat                       the eligible list
  spo-tui rcat --done                the audits recorded this year
  spo-tui rcat --record X123456 --outcome good --by "Quinn Dee" --notes "..."
"""


def add_rcat_parser(sub: Any, text: Any) -> None:
    rc = sub.add_parser(
        "rcat",
        help="R-CAT case audits: the eligible list (one case per practitioner a year), and recording one",
        epilog=RCAT_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rc.add_argument("--done", action="store_true", help="list the audits recorded in the last 12 months")
    rc.add_argument("--record", metavar="CRN", help="record an audit of this case")
    rc.add_argument("--outcome", help="with --record: good, requires_improvement or inadequate")
    rc.add_argument("--by", metavar="NAME", help="with --record: who audited it (a QDO or SPO; default you)")
    rc.add_argument("--on", metavar="DATE", help="with --record: the day it was done (default today)")
    rc.add_argument(
        "--notes", default="", type=text, metavar="TEXT", help="with --record: findings (needed unless good)"
    )
    rc.add_argument("--json", action="store_true", help="as JSON")


def cmd_rcat(args: argparse.Namespace) -> int:
    from spo_tui.domain.errors import ValidationError
    from spo_tui.services import assurance
    from spo_tui.store.db import open_db

    try:
        db = open_db(_db_path(args), create=False)
    except SpoError as error:
        return _fail(str(error))
    try:
        ctx = _context(args, db)
        if args.record:
            if not args.outcome:
                raise ValidationError("--record needs --outcome: good, requires_improvement or inadequate")
            result = assurance.record_rcat(ctx, args.record, args.outcome, args.notes, by=args.by, on=args.on)
            print(visible(result.message))
            return 0
        if args.done:
            done = assurance.rcat_done(ctx)
            if args.json:
                print(json.dumps(done))
                return 0
            if not done:
                print("No R-CAT audit recorded in the last 12 months.")
            for a in done:
                print(
                    visible(
                        f"{a['audited_on']}  {a['crn']}  {a['practitioner'] or '':<18}  {a['outcome']:<20}  "
                        f"by {a['auditor']}: {a['notes']}",
                        lines=False,
                    )
                )
            return 0
        lines = assurance.rcat_eligible(ctx)
        if args.json:
            print(json.dumps([{**asdict(line), "last_audit": str(line.last_audit or "") or None} for line in lines]))
            return 0
        if not lines:
            print("Every practitioner has had a case audited in the last 12 months.")
        for line in lines:
            last = f"last {line.last_audit:%d/%m/%Y}" if line.last_audit else "never audited"
            case = f"{line.crn} {line.name}" if line.crn else "-"
            print(visible(f"{line.practitioner:<18} {line.role:<5} {last:<16} {case:<28} {line.why}", lines=False))
        return 0
    except SpoError as error:
        return _fail(str(error))
    finally:
        db.close()
