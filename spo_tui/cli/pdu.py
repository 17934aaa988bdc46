"""``spo-tui pdu``: the PDU head's picture across teams (``spo_tui.services.pdu``), read-only."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from spo_tui.cli.common import _context, _db_path, _fail, _uk_stamp
from spo_tui.domain.errors import SpoError
from spo_tui.domain.text import visible


def cmd_pdu(args: argparse.Namespace) -> int:
    from spo_tui.services.pdu import pdu_picture
    from spo_tui.store.db import open_db

    try:
        db = open_db(_db_path(args), create=False)
    except SpoError as error:
        return _fail(str(error))
    try:
        picture = pdu_picture(_context(args, db), args.days)
    except SpoError as error:
        return _fail(str(error))
    finally:
        db.close()
    if args.json:
        print(json.dumps({"days": picture.days, "synced": picture.synced, "teams": [asdict(t) for t in picture.teams]}))
        return 0
    head = ("Team", "SPO", "Cases", "Seen", "High/VH seen", "Not seen", "Open", "Overdue", "Waiting")
    rows = [
        (
            visible(t.team),
            visible(t.spo or "no SPO"),
            str(t.cases),
            t.coverage_text,
            t.high_coverage_text,
            str(t.not_seen),
            str(t.open_items),
            str(t.overdue),
            str(t.waiting),
        )
        for t in picture.teams
    ]
    widths = [max(len(r[n]) for r in [head, *rows]) for n in range(len(head))]
    print(
        f"Every team, oversight in the last {picture.days} days"
        + (f" (as of the sync at {_uk_stamp(picture.synced)})" if picture.synced else "")
    )
    for r in [head, *rows]:
        print(
            "  ".join(
                cell.ljust(w) if n < 2 else cell.rjust(w) for n, (cell, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return 0
