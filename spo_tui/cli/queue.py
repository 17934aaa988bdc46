"""``spo-tui queue`` (print the triaged queue) and ``spo-tui do`` (act on an item as the Today screen does)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from spo_tui.cli.common import FREE_TEXT_NOTE, _context, _db_path, _fail, _uk_stamp
from spo_tui.domain.text import json_text, visible

#: ``queue --limit`` at most: more than any queue holds, and far inside SQLite's whole numbers.
LIMIT_MAX = 1_000_000


def _limit(text: str) -> int:
    """``--limit``: a whole number from 1 to LIMIT_MAX."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= LIMIT_MAX:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {LIMIT_MAX:,}, not {value[:30]!r}")
    return int(value)


#: ``queue --view``: the view's name -> the status ``build_queue`` reads.
QUEUE_VIEWS = {"today": "open", "waiting": "waiting", "snoozed": "snoozed", "all": "any"}


#: ``do``'s actions -> (what the action needs that must be given, its one-line description).
DO_ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "decide": (("text", "outcome"), "record the decision (an oversight entry) and close the item: --outcome, --text"),
    "book": ((), "book an SBAR into the next free protected-hour slot"),
    "ask": (("text",), "ask the practitioner for more information on an SBAR: --text the question"),
    "answer": ((), "log the answer (practitioner's, PDU head's) or a resubmission: --text"),
    "escalate": (("to", "text"), "escalate an SBAR: --to 'PDU head' or MAPPA, --text the note"),
    "sign-off": (("verdict",), "countersign: --verdict"),
    "return": (("verdict",), "return for rework: --verdict the deficits and guidance"),
    "peer": (("to",), "send a PSR (medium or low RoSH) to a qualified PO to gatekeep: --to"),
    "waive": (("text",), "waive a touch point: --text the reason"),
    "delegate": (("to",), "delegate a task to the CASPO, SAO or business manager: --to"),
    "done": ((), "mark a task (--minutes) or an agreed action done"),
    "helpdesk": (("text",), "record a facilities job's helpdesk reference: --text REF"),
    "snooze": (("until",), "hide the item until a later day: --until"),
    "unsnooze": ((), "bring a snoozed item back into the queue now"),
    "reassign": (("to",), "give the item to another member of staff: --to"),
    "confirm": ((), "confirm an entry a CASPO made in your name: it stands as entered"),
    "undo": (("text",), "undo your last action on this item (as a superseding record): --text why"),
}


DO_NOTE = (
    "Actions:\n"
    + "\n".join(f"  {name:<9} {words}" for name, (_needs, words) in DO_ACTIONS.items())
    + """

Each action runs the same checks as the Today screen's key, and says the same thing. Bad input, or
an action your role may not take, exits 2 with one line and changes nothing.

"""
    + FREE_TEXT_NOTE
)


def cmd_queue(args: argparse.Namespace) -> int:
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import lookup
    from spo_tui.services.queue import build_queue
    from spo_tui.services.refresh import refresh_due_work
    from spo_tui.store.db import open_db

    path = _db_path(args)
    try:
        db = open_db(path, create=False)
    except SpoError as error:
        return _fail(str(error))
    try:
        ctx = _context(args, db)
        refresh_due_work(ctx)
        entries = build_queue(
            ctx,
            kind=args.kind,
            limit=args.limit,
            team=args.team,
            status="catch_up" if args.catch_up else QUEUE_VIEWS[args.view],
        )
        lookup.record_queue_printed(ctx, len(entries), args.json)
    except SpoError as error:
        return _fail(str(error))
    finally:
        db.close()
    today = ctx.today
    if args.json:
        # A JSON array with one item per line: each line made by the C encoder, which indenting would
        # not use (15,000 items print in a tenth of the time).
        # json_text: DEL, C1 and bidirectional controls, which json.dumps leaves raw, as \\u escapes.
        rows = (json_text(json.dumps(e.as_json(today), ensure_ascii=False)) for e in entries)
        sys.stdout.write("[\n" + ",\n".join(rows) + "\n]\n")
        return 0
    show_team = bool(args.team) or ctx.actor["role"] == "PDU head"  # several teams' work: say whose
    for e in entries:
        r = e.row
        team = f"{visible(r.team or '', lines=False):<8} " if show_team else ""
        print(
            f"{r.id[:SHORT_ID]}  {e.urgency.score:4d}  {team}{e.kind.label:<11} {r.crn or '':<7} "
            f"{e.due_text(today):<12} {visible(r.title, lines=False)}{_status_note(r)}"
        )
    return 0


#: Characters of an item's id printed first on each line of ``spo-tui queue``: what ``spo-tui do``
#: takes (``lookup.resolve_item_id`` accepts 6 or more and names an id two items begin with).
SHORT_ID = 8


def _status_note(row) -> str:
    """``  (waiting on NAME since dd/mm/yyyy)`` or ``  (snoozed until dd/mm/yyyy)`` after a queue line."""
    if row.status == "waiting":
        since = f" since {_uk_stamp(row.waiting_since)[:10]}" if row.waiting_since else ""
        return f"  (waiting on {visible(row.waiting_on or 'someone else', lines=False)}{since})"
    if row.status == "snoozed" and row.snoozed_until:
        return f"  (snoozed until {date.fromisoformat(row.snoozed_until):%d/%m/%Y})"
    return ""


def cmd_do(args: argparse.Namespace) -> int:
    """``do ACTION ITEM_ID``: one of the Today screen's actions, through the same service function."""
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import lookup
    from spo_tui.store.db import open_db

    needs, _words = DO_ACTIONS[args.action]
    if args.action in ("sign-off", "return") and args.verdict is None:
        args.verdict = args.text  # --text serves as the verdict too
    missing = [f"--{name}" for name in needs if getattr(args, name) is None]
    if missing:
        return _fail(f"do {args.action} needs {' and '.join(missing)}")
    try:
        db = open_db(_db_path(args), create=False)
    except SpoError as error:
        return _fail(str(error))
    try:
        ctx = _context(args, db)
        item_id = lookup.resolve_item_id(ctx, args.item)
        result = _do(ctx, args, item_id)
    except SpoError as error:
        return _fail(str(error))
    finally:
        db.close()
    print(visible(result.message, lines=False))
    return 0


def _do(ctx, args: argparse.Namespace, item_id: str):
    """Call the service the Today screen's key calls for ``args.action``."""
    from spo_tui.domain.errors import NotAllowed, ValidationError
    from spo_tui.domain.exchanges import discussed_prefill
    from spo_tui.services import decisions, lookup

    text = args.text or ""
    action = args.action
    if action == "decide":
        minutes = None
        if args.minutes is not None:
            if not args.minutes.strip().isdigit():
                raise ValidationError(
                    f"minutes must be a whole number from 0 to 600, not '{args.minutes}'", field="minutes"
                )
            minutes = int(args.minutes)
        discussed = (
            args.discussed if args.discussed is not None else discussed_prefill(lookup.item_detail(ctx, item_id))
        )
        values = {"outcome": args.outcome, "discussed": discussed, "decision": text, "minutes": minutes}
        if args.oversight_type:
            values["type"] = args.oversight_type
        if getattr(args, "level", None):
            values["level"] = args.level
        return decisions.record_oversight(ctx, item_id=item_id, **values)
    if action == "book":
        return decisions.book_protected_hour(ctx, item_id)
    if action == "ask":
        return decisions.request_more_information(ctx, item_id, text)
    if action == "answer":
        return decisions.log_answer(ctx, item_id, text)
    if action == "escalate":
        return decisions.escalate_sbar(ctx, item_id, args.to, text)
    if action in ("sign-off", "return"):
        return decisions.countersign(
            ctx, item_id, verdict=args.verdict, signed_off=action == "sign-off", minutes=args.minutes
        )
    if action == "peer":
        return decisions.route_to_peer(ctx, item_id, args.to)
    if action == "waive":
        return decisions.waive_touch_point(ctx, item_id, text)
    if action == "delegate":
        return decisions.delegate_task(ctx, item_id, args.to)
    if action == "helpdesk":
        from spo_tui.services.assurance import set_helpdesk_ref

        return set_helpdesk_ref(ctx, item_id, text)
    if action == "done":
        kind = lookup.item_detail(ctx, item_id)["kind"]
        if kind == "task":
            if args.minutes is None:
                raise ValidationError("do done on a task needs --minutes: the minutes it took", field="minutes")
            return decisions.complete_task(ctx, item_id, args.minutes)
        if kind == "action":
            return decisions.complete_action(ctx, item_id, text)
        raise NotAllowed(f"done is for a task or an agreed action, not a {kind.replace('_', ' ')}: use decide")
    if action == "snooze":
        return decisions.snooze(ctx, item_id, args.until)
    if action == "unsnooze":
        return decisions.unsnooze(ctx, item_id)
    if action == "reassign":
        return decisions.reassign(ctx, item_id, args.to)
    if action == "confirm":
        return decisions.confirm_entry(ctx, item_id)
    if action == "undo":
        return decisions.undo(ctx, decisions.last_undoable_on(ctx, item_id), text)
    raise ValidationError(f"unknown action {action}")  # argparse's choices keep this from happening
