"""Countersigning: the SPO's verdict on a PSR, OASys or other work put to them, work returned for
rework coming back when resubmitted, and returned work brought back when its day comes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from spo_tui.domain import court as court_rules
from spo_tui.domain.dates import is_working_day
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.vocab import (
    COUNTERSIGN_TRANSITIONS,
    CountersignKind,
    CountersignState,
    OversightOutcome,
    OversightType,
    RoSH,
)
from spo_tui.services import lookup
from spo_tui.services.base import BACK_IN_QUEUE, ActionResult, change_item, closing, load_open_item, waiting
from spo_tui.services.context import Context
from spo_tui.services.intake import optional_text, require_reason, resolve_staff
from spo_tui.services.oversight import write_oversight
from spo_tui.store import queries


def resubmit_countersign(ctx: Context, item_id: str, note: str = "") -> ActionResult:
    """Work returned for rework has been resubmitted by its author: it comes back to the
    countersigning queue (``REJECTED`` → ``AWAITING_COUNTERSIGN``; a PSR returned to its author →
    ``AWAITING_GATEKEEP``, in the history), and shows the deficits it was returned for
    (``returned_for``)."""
    ctx.require("add_countersign")
    item = queries.get_item(ctx.db, item_id)
    state = item["detail"].get("state")
    if item["kind"] != "countersign" or state not in _RETURNED or item["status"] == "closed":
        raise NotAllowed("this is not work returned for rework")
    old, new = CountersignState(state), _RETURNED[state]
    note = optional_text(note, "note", multiline=True)
    with ctx.db.atomic():
        ctx.db.execute(
            "INSERT INTO countersign_history(item_id, old_state, new_state, verdict, by_id, at) VALUES (?, ?, ?, ?, ?, ?)",
            [item_id, old.value, new.value, f"resubmitted{': ' + note if note else ''}", ctx.actor["id"], ctx.now_iso],
        )
        audit_id = change_item(
            ctx,
            "resubmit_countersign",
            item,
            item_changes=dict(BACK_IN_QUEUE),
            detail_changes={"state": new.value},
            extra_new={"note": note},
        )
    queue = "gatekeeping" if new == CountersignState.AWAITING_GATEKEEP else "countersigning"
    return ActionResult(
        f"Resubmitted: {item['title']} is back in the {queue} queue", item_id=item_id, audit_id=audit_id
    )


#: A returned state → the state its resubmission brings back.
_RETURNED = {
    CountersignState.REJECTED.value: CountersignState.AWAITING_COUNTERSIGN,
    CountersignState.RETURNED_TO_AUTHOR.value: CountersignState.AWAITING_GATEKEEP,
}


def returned_for(ctx: Context, item_id: str) -> str | None:
    """The deficits and guidance the item was last returned with, while it is back for another look
    after a resubmission (or still with its author); None if it was never returned [004]."""
    return queries.last_return(ctx.db, item_id)


def check_verdict(ctx: Context, verdict: str, *, signed_off: bool) -> str:
    """The verdict as ``countersign`` will take it, or ValidationError: what a screen checks before it
    asks for the (optional) minutes, so a poor verdict is refused while it is still being typed."""
    return require_reason(ctx, verdict, "verdict", "the verdict" if signed_off else "the return")


def check_minutes(value: int | str | None) -> int | None:
    """The optional minutes as ``countersign`` will take them, or ValidationError."""
    return _minutes(value)


def _minutes(value: int | str | None) -> int | None:
    """The minutes a countersignature or gatekeeping took: optional, a whole number up to 600."""
    if value is None or value == "":
        return None
    try:
        mins = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"minutes must be a whole number, not '{value}'", field="minutes") from None
    if not 0 <= mins <= 600:
        raise ValidationError("minutes must be a whole number from 0 to 600", field="minutes")
    return mins


# --- Countersigning ------------------------------------------------------------------------------


def countersign(
    ctx: Context,
    item_id: str,
    *,
    verdict: str,
    signed_off: bool,
    double: bool = False,
    minutes: int | str | None = None,
) -> ActionResult:
    """Sign off, or return with the deficits and guidance. A verdict is required: never a bare tick,
    nor a bare "ok" (``intake.require_reason``: a few words, ``[record]`` in the rules).

    ``double`` sends a signed-off item on for a second countersignature. Each change is recorded
    old → new in the countersign history and as an oversight entry. ``minutes`` (optional) is how
    long it took: it goes on the entry, so the time view counts countersigning as it counts tasks.

    A PSR is gatekept, not countersigned [000 §3.2]: the same action records "gatekept — ready for
    court" or "returned to the author with changes" (``gatekeep``).
    """
    ctx.require("countersign")
    item = load_open_item(ctx, item_id, "countersign")
    if item["detail"]["state"] in _GATEKEEPING:
        if double:
            raise NotAllowed("a PSR is gatekept once: there is no second countersignature")
        return gatekeep(ctx, item_id, verdict=verdict, ready=signed_off, minutes=minutes)
    mins = _minutes(minutes)
    verdict = require_reason(
        ctx,
        verdict,
        "verdict",
        "the verdict (what you checked and found)"
        if signed_off
        else "the return (the deficits and the guidance given)",
    )
    old_state = CountersignState(item["detail"]["state"])
    if signed_off:
        new_state = (
            CountersignState.AWAITING_DOUBLE_COUNTERSIGN
            if double
            else (
                CountersignState.DOUBLE_COUNTERSIGNED
                if old_state == CountersignState.AWAITING_DOUBLE_COUNTERSIGN
                else CountersignState.COUNTERSIGNED
            )
        )
        outcome = OversightOutcome.SIGNED_OFF
    else:
        new_state, outcome = CountersignState.REJECTED, OversightOutcome.RETURNED
    if new_state not in COUNTERSIGN_TRANSITIONS.get(old_state, set()):
        raise NotAllowed(f"this item is {old_state.label}: it cannot now be {new_state.label}")
    kind_label = (
        CountersignKind(item["detail"]["kind"]).label
        if item["detail"]["kind"] in CountersignKind.__members__
        else item["detail"]["kind"].replace("_", " ")
    )
    with ctx.db.atomic():
        entry_id, _ = write_oversight(
            ctx,
            crn=item["crn"],
            item_id=item_id,
            type_=OversightType.MANAGEMENT_OVERSIGHT,
            outcome=outcome,
            discussed=f"Countersigning: {item['title']}",
            decision=verdict,
            minutes=mins,
        )
        ctx.db.execute(
            "INSERT INTO countersign_history(item_id, old_state, new_state, verdict, by_id, at, minutes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [item_id, old_state.value, new_state.value, verdict, ctx.decider["id"], ctx.now_iso, mins],
        )
        if new_state == CountersignState.AWAITING_DOUBLE_COUNTERSIGN:
            changes: dict[str, Any] = dict(BACK_IN_QUEUE) if item["status"] == "waiting" else {}
        elif new_state == CountersignState.REJECTED:
            author = queries.get_staff(ctx.db, item["detail"]["author_id"])["name"]
            changes = waiting(ctx, author, _back_on(ctx, item))
        else:
            changes = closing(ctx, f"{new_state.label.capitalize()}: {verdict[:60]}")
        audit_id = change_item(
            ctx,
            "countersign",
            item,
            item_changes=changes,
            detail_changes={"state": new_state.value},
            extra_new={"oversight_ids": [entry_id]},
        )
    if signed_off:
        return ActionResult(
            f"Signed off: {kind_label} for {item['crn']}", item_id=item_id, audit_id=audit_id, oversight_id=entry_id
        )
    back = date.fromisoformat(changes["waiting_until"])
    return ActionResult(
        f"Returned for rework: {kind_label} for {item['crn']}; in Waiting until resubmitted, or back on {back:%a %d/%m/%Y}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=entry_id,
    )


#: The states of a PSR in gatekeeping (not countersigning) [000 §3.2].
_GATEKEEPING = {
    CountersignState.AWAITING_GATEKEEP.value,
    CountersignState.RETURNED_TO_AUTHOR.value,
}


def gatekeep(
    ctx: Context,
    item_id: str,
    *,
    verdict: str,
    ready: bool,
    minutes: int | str | None = None,
    peer: bool = False,
) -> ActionResult:
    """Gatekeep a PSR before court [000 §3.2]: "gatekept — ready for court" (``ready``), or
    "returned to the author with changes" (the changes named in ``verdict``). Recorded in the PSR's
    history in those words, never as countersigned / rejected.

    The SPO's gatekeeping is management oversight: it is also an oversight entry (with ``minutes``).
    A peer's (``peer``: the PO the report was routed to, ``countersigns.gatekeeper_id``) is recorded
    by whoever enters it (the SPO, a CASPO, or the peer's raiser rights) as the peer's verdict, with
    no oversight entry: a peer check is not a manager's oversight, and the SPO still sees it.
    """
    ctx.require("add_countersign" if peer else "countersign")
    item = queries.get_item(ctx.db, item_id)
    if item["kind"] != "countersign" or item["status"] == "closed" or item["detail"]["state"] not in _GATEKEEPING:
        raise NotAllowed("this is not a PSR awaiting gatekeeping")
    gatekeeper_id = item["detail"].get("gatekeeper_id")
    if peer and not gatekeeper_id:
        raise NotAllowed("this PSR was not routed to a peer: the SPO gatekeeps it")
    if peer and ctx.actor["role"] not in ("SPO", "CASPO") and ctx.actor["id"] != gatekeeper_id:
        raise NotAllowed(
            "only the peer it was routed to (or the SPO, or a CASPO entering it) records a peer's gatekeeping"
        )
    verdict = require_reason(
        ctx,
        verdict,
        "verdict",
        "the verdict (what you checked and found)" if ready else "the return (the changes the author must make)",
    )
    mins = _minutes(minutes)
    old_state = CountersignState(item["detail"]["state"])
    new_state = CountersignState.GATEKEPT if ready else CountersignState.RETURNED_TO_AUTHOR
    by_id = gatekeeper_id if peer else ctx.decider["id"]
    entry_ids: list[str] = []
    with ctx.db.atomic():
        if not peer:
            entry_id, _ = write_oversight(
                ctx,
                crn=item["crn"],
                item_id=item_id,
                type_=OversightType.MANAGEMENT_OVERSIGHT,
                outcome=OversightOutcome.SIGNED_OFF if ready else OversightOutcome.RETURNED,
                discussed=f"PSR gatekeeping: {item['title']}",
                decision=f"{new_state.label.capitalize()}: {verdict}",
                minutes=mins,
            )
            entry_ids.append(entry_id)
        ctx.db.execute(
            "INSERT INTO countersign_history(item_id, old_state, new_state, verdict, by_id, at, minutes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [item_id, old_state.value, new_state.value, verdict, by_id, ctx.now_iso, mins],
        )
        if ready:
            changes = closing(ctx, f"{new_state.label.capitalize()}: {verdict[:60]}")
        else:
            author = queries.get_staff(ctx.db, item["detail"]["author_id"])["name"]
            changes = waiting(ctx, author, _back_on(ctx, item))
        audit_id = change_item(
            ctx,
            "gatekeep",
            item,
            item_changes=changes,
            detail_changes={"state": new_state.value},
            extra_new={"oversight_ids": entry_ids, "peer": peer, "minutes": mins},
        )
    who = f" by {queries.get_staff(ctx.db, by_id)['name']}" if peer else ""
    return ActionResult(
        f"{new_state.label.capitalize()}{who}: {item['title']} for {item['crn']}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=entry_ids[0] if entry_ids else None,
    )


def _back_on(ctx: Context, item: dict[str, Any]) -> date:
    """The day returned work comes back to the queue if not resubmitted: its deadline, or the next
    working day when the deadline is today or past (it must not bounce straight back)."""
    due = date.fromisoformat(item["due"]) if item.get("due") else None
    if due is not None and due > ctx.today:
        return due
    day = ctx.today + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def bring_back_due(ctx: Context) -> int:
    """Put back in the queue every waiting item whose day to come back has come (returned work not
    resubmitted by its deadline), each with an audit row; return how many."""
    rows = ctx.db.execute(
        "SELECT id FROM items WHERE status = 'waiting' AND waiting_until IS NOT NULL AND waiting_until <= ?",
        [ctx.today.isoformat()],
    ).fetchall()
    if not rows:
        return 0
    with ctx.db.atomic():
        for (item_id,) in rows:
            item = queries.get_item(ctx.db, item_id)
            if item["status"] != "waiting":
                continue
            change_item(
                ctx,
                "back_at_deadline",
                item,
                item_changes=dict(BACK_IN_QUEUE),
                extra_new={"note": f"not resubmitted by {date.fromisoformat(item['waiting_until']):%d/%m/%Y}"},
            )
    return len(rows)


def route_to_peer(ctx: Context, item_id: str, peer: str) -> ActionResult:
    """Send a PSR awaiting gatekeeping to a qualified peer PO to gatekeep, from the SPO's queue
    [000 §3.2]: as a PSR entered with a gatekeeper is routed (``intake.add_countersign``). Only on a
    case whose RoSH allows it (``[gatekeeping] peer_rosh``; high and very high stay with the SPO), to
    a qualified PO (``peer_roles``) who is not its author. It waits on the peer in the SPO's Waiting
    view and comes back to the queue on the court day if not gatekept by then; the SPO may still
    gatekeep it. The routing is undoable (``undo``) until the peer records a verdict."""
    item = _routable(ctx, item_id)
    detail = item["detail"]
    person = resolve_staff(ctx, peer, "gatekeeper")
    court_rules.check_peer(person["role"], person["id"], detail["author_id"], ctx.rules.raw)
    if detail.get("gatekeeper_id") == person["id"]:
        raise ValidationError(f"it is already with {person['name']} for peer gatekeeping", field="gatekeeper")
    court = date.fromisoformat(detail["court_date"]) if detail.get("court_date") else None
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "route_to_peer",
            item,
            # In Waiting on the peer until the court day (a report for court today stays in Waiting:
            # it would otherwise come straight back), as when entered with a gatekeeper.
            item_changes=waiting(
                ctx, f"{person['name']} (peer gatekeeping)", court if court and court > ctx.today else None
            ),
            detail_changes={"gatekeeper_id": person["id"]},
        )
    return ActionResult(
        f"{item['title']} for {item['crn']} is with {person['name']} for peer gatekeeping (in Waiting)",
        item_id=item_id,
        audit_id=audit_id,
    )


def _routable(ctx: Context, item_id: str) -> dict[str, Any]:
    """The item, if the acting person may send it to a peer: a PSR awaiting gatekeeping on a case
    whose RoSH allows a peer [000 §3.2]; else NotAllowed saying why."""
    ctx.require("countersign")
    item = load_open_item(ctx, item_id, "countersign")
    detail = item["detail"]
    if detail["kind"] != CountersignKind.PSR.value or detail["state"] != CountersignState.AWAITING_GATEKEEP.value:
        raise NotAllowed("only a PSR awaiting gatekeeping goes to a peer")
    rosh = RoSH(queries.get_case(ctx.db, item["crn"])["rosh"])
    if not court_rules.peer_may_gatekeep(rosh, ctx.rules.raw):
        raise NotAllowed(f"a PSR on a {rosh.label.lower()} RoSH case is gatekept by the SPO, not a peer [000 §3.2]")
    return item


def peer_choices(ctx: Context, item_id: str) -> list[dict[str, Any]]:
    """Whom a PSR may go to for peer gatekeeping: the qualified POs (``[gatekeeping] peer_roles``) a
    picker offers (the own team's), less its author and whoever has it now. Refused (NotAllowed,
    saying why) when the PSR may not go to a peer at all, so nobody picks a name to be told no."""
    detail = _routable(ctx, item_id)["detail"]
    roles = set(ctx.rules.raw["gatekeeping"]["peer_roles"])
    mine = {detail.get("author_id"), detail.get("gatekeeper_id")}
    return [p for p in lookup.practitioners(ctx) if p["role"] in roles and p["id"] not in mine]
