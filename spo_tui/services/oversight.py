"""Oversight entries: the SPO's recorded decisions, with their agreed actions.

``record_oversight`` records one (and closes the item it decides); ``write_oversight`` is the one
insert every decision that makes an entry goes through. Entries a CASPO made in the SPO's name are
confirmed or corrected here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.levels import OversightLevel, parse_level
from spo_tui.domain.vocab import ItemKind, OversightOutcome, OversightType, SbarState, normalise_crn, parse_enum
from spo_tui.services import registrations
from spo_tui.services.base import ActionResult, audit, change_item, closing, load_open_item
from spo_tui.services.context import Context
from spo_tui.services.intake import optional_text, parse_day, require_text, resolve_staff
from spo_tui.store import queries, writes


@dataclass(frozen=True)
class AgreedAction:
    """An action agreed in an oversight entry: what, who owns it, when it is due."""

    description: str
    owner: str
    due: date | str | None = None


def _validate_actions(ctx: Context, actions: list[AgreedAction]) -> list[dict[str, Any]]:
    out = []
    for n, action in enumerate(actions, start=1):
        description = optional_text(action.description, f"action_{n}", f"action {n}")
        if not description and not (action.owner or "").strip():
            continue  # an empty row in the form
        if not description:
            raise ValidationError(f"action {n}: say what is to be done", field=f"action_{n}")
        owner = resolve_staff(ctx, action.owner, f"action_{n}_owner")
        if isinstance(action.due, date):
            due = action.due
        elif action.due:
            try:
                due = parse_day(ctx, str(action.due), f"action_{n}_due", "future")
            except ValidationError as error:
                raise ValidationError(f"action {n}: {error}", field=f"action_{n}_due") from None
        else:
            due = ctx.today + timedelta(days=ctx.rules.get("actions", "default_days"))
        if due < ctx.today:
            raise ValidationError(f"action {n}: due date {due:%d/%m/%Y} has passed", field=f"action_{n}_due")
        out.append({"description": description, "owner": owner, "due": due})
    return out


def write_oversight(
    ctx: Context,
    *,
    crn: str | None,
    item_id: str | None,
    type_: OversightType,
    outcome: OversightOutcome,
    discussed: str,
    decision: str,
    sensitive: bool = False,
    minutes: int | None = None,
    supersedes_id: str | None = None,
    actions: Sequence[dict[str, Any]] = (),
    decider: dict[str, Any] | None = None,
    level: OversightLevel | None = None,
) -> tuple[str, list[str]]:
    """Insert an oversight entry and its agreed actions (as queue items). Call inside atomic().

    ``decider`` (default ``ctx.decider_for(crn)``) is whose decision it is. An entry someone else
    entered in the decider's name (a CASPO's) also puts a ``confirm`` item in the decider's queue.
    """
    decider = decider or ctx.decider_for(crn)
    entry_id = writes.insert_oversight(
        ctx.db,
        {
            "crn": crn,
            "item_id": item_id,
            "type": type_.value,
            "outcome": outcome.value,
            "discussed": discussed,
            "decision": decision,
            "sensitive": int(bool(sensitive)),
            "decided_by": decider["id"],
            "entered_by": ctx.actor["id"],
            "created_at": ctx.now_iso,
            "minutes": minutes,
            "supersedes_id": supersedes_id,
        },
    )
    if decider["id"] != ctx.actor["id"] and ctx.actor["id"] is not None:
        writes.insert_item(
            ctx.db,
            {
                "kind": ItemKind.CONFIRM.value,
                "crn": crn,
                "title": f"Confirm: {outcome.label}, entered by {ctx.actor['name']}"[:80],
                "due": ctx.today.isoformat(),
                "status": "open",
                "created_at": ctx.now_iso,
                "assigned_to": decider["id"],
                "raised_by": ctx.actor["id"],
            },
            {"oversight_id": entry_id},
        )
    action_ids = []
    for action in actions:
        action_ids.append(
            writes.insert_item(
                ctx.db,
                {
                    "kind": ItemKind.ACTION.value,
                    "crn": crn,
                    "title": action["description"][:80],
                    "due": action["due"].isoformat(),
                    "status": "open",
                    "created_at": ctx.now_iso,
                    "assigned_to": None,
                    "raised_by": decider["id"],
                },
                {"oversight_id": entry_id, "owner_id": action["owner"]["id"], "description": action["description"]},
            )
        )
    # The level beside the entry [001]: the one chosen, else derived (``seal_oversight`` derives it).
    if level is not None:
        writes.record_level(ctx.db, entry_id, level)
    writes.seal_oversight(ctx.db, entry_id)
    return entry_id, action_ids


def check_oversight_fields(
    type_: str, outcome: str, discussed: str, decision: str
) -> tuple[OversightType, OversightOutcome, str, str]:
    """An oversight entry's type, outcome, what was discussed and the decision, checked: the outcome
    must fit the type and both texts are required."""
    t = parse_enum(OversightType, type_, "type")
    o = parse_enum(OversightOutcome, outcome, "outcome")
    if o.value not in t.info.outcomes:
        raise ValidationError(f"outcome '{o.label}' does not fit type '{t.label}'", field="outcome")
    return (
        t,
        o,
        require_text(discussed, "discussed", "what was discussed", multiline=True),
        require_text(decision, "decision", "the decision or guidance", multiline=True),
    )


def record_oversight(
    ctx: Context,
    *,
    item_id: str | None = None,
    crn: str | None = None,
    type: str = OversightType.MANAGEMENT_OVERSIGHT.value,
    outcome: str,
    discussed: str,
    decision: str,
    actions: Sequence[AgreedAction] = (),
    sensitive: bool = False,
    minutes: int | None = None,
    level: int | str | None = None,
) -> ActionResult:
    """Record a management-oversight entry, on a queue item (closing it) or on a case.

    ``level`` (1 quality assurance, 2 supervision, 3 immediate risk [001]): empty for the level
    derived from what the entry is on (``spo_tui.domain.levels.derive_level``).

    On an SBAR this is the decision; on a touch point, the discussion; on an alert, the acknowledgement
    and decision; on a supervision item, the session held. Any entry on a case also meets the case's
    open calendar touch points named in ``met_by_any_oversight``.
    """
    ctx.require("record_oversight")
    type_, outcome_, discussed, decision = check_oversight_fields(type, outcome, discussed, decision)
    chosen_level = parse_level(level)
    if minutes is not None and (not isinstance(minutes, int) or minutes < 0 or minutes > 600):
        raise ValidationError("minutes must be a whole number from 0 to 600", field="minutes")
    item = None
    if item_id:
        item = load_open_item(ctx, item_id, ("sbar", "touch_point", "alert", "supervision", "action"))
        if item["kind"] == "sbar":
            ctx.require("decide_sbar")
        if item["kind"] == "alert":  # level-3 work stays with the SPO
            ctx.require("decide_alert")
        crn = item["crn"]
    elif crn:
        crn = normalise_crn(crn)
        if not queries.case_exists(ctx.db, crn):
            raise ValidationError(f"no case with CRN {crn}", field="crn")
    else:
        raise ValidationError("an oversight entry needs a case or an item", field="crn")
    decider = ctx.require_decider(crn)
    agreed = _validate_actions(ctx, list(actions))

    with ctx.db.atomic():
        entry_id, action_ids = write_oversight(
            ctx,
            crn=crn,
            item_id=item_id,
            type_=type_,
            outcome=outcome_,
            discussed=discussed,
            decision=decision,
            sensitive=sensitive,
            minutes=minutes,
            actions=agreed,
            decider=decider,
            level=chosen_level,
        )
        met = _meet_calendar_touch_points(ctx, crn, except_id=item_id, entry_id=entry_id) if crn else []
        # Undo closes the agreed actions and the confirm item this entry made.
        extra: dict[str, Any] = {
            "oversight_ids": [entry_id],
            "created_ids": action_ids + queries.confirm_items(ctx.db, entry_id),
            "also_closed": met,
        }
        # A registration review dealt with: the registration's next review date moves on [000, 001].
        moved = registrations.advance_review(ctx, item) if item is not None and item["kind"] == "touch_point" else None
        if moved:
            extra["flag_review_moved"] = moved
        if item is not None:
            detail = _closing_detail(ctx, item)
            audit_id = change_item(
                ctx,
                "record_oversight",
                item,
                item_changes=closing(ctx, f"oversight entry {entry_id}"),
                detail_changes=detail,
                extra_new=extra,
            )
        else:
            audit_id = audit(ctx, "record_oversight", "oversight", entry_id, new=extra)
    what = f"{len(action_ids)} action{'s' if len(action_ids) != 1 else ''}" if action_ids else "no actions"
    behalf = f" on behalf of {decider['name']}, who will confirm it" if decider["id"] != ctx.actor["id"] else ""
    return ActionResult(
        f"Oversight recorded for {crn or 'team'}{behalf}: {outcome_.label}, {what}{registrations.shown(moved)}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=entry_id,
        created_ids=tuple(action_ids),
    )


def _closing_detail(ctx: Context, item: dict[str, Any]) -> dict[str, Any]:
    kind = item["kind"]
    if kind == "sbar":
        return {"state": SbarState.DECIDED.value}
    if kind == "alert":
        return {"acknowledged_at": ctx.now_iso, "acknowledged_by": ctx.decider["id"]}
    if kind == "supervision":
        return {"held_on": ctx.today.isoformat()}
    if kind == "action":
        return {"done_at": ctx.now_iso}
    return {}


def _meet_calendar_touch_points(ctx: Context, crn: str, except_id: str | None, entry_id: str) -> list[str]:
    reasons = ctx.rules.get("touch_points", "met_by_any_oversight")
    closed = []
    for tp in queries.open_items_for_case(ctx.db, crn, "touch_point"):
        if tp["id"] == except_id:
            continue
        reason = ctx.db.execute("SELECT reason FROM touch_points WHERE item_id = ?", [tp["id"]]).fetchone()[0]
        if reason in reasons:
            writes.update_item(
                ctx.db, tp["id"], {**closing(ctx, f"met by oversight entry {entry_id}"), "updated_at": ctx.now_iso}
            )
            closed.append(tp["id"])
    return closed


# --- Entries made in the SPO's name --------------------------------------------------------------


def on_behalf_banner(ctx: Context, *, item_id: str | None = None, crn: str | None = None) -> str | None:
    """What the oversight form says before a CASPO saves: "Entering on behalf of NAME (SPO, Team A)",
    naming the SPO the entry will be credited to; None when the actor enters it in their own name."""
    if item_id and not crn:
        crn = queries.get_item(ctx.db, item_id)["crn"]
    decider = ctx.decider_for(crn)
    if decider["id"] == ctx.actor["id"]:
        return None
    team = f", {decider['team']}" if decider.get("team") else ""
    return f"Entering on behalf of {decider['name']} ({decider['role']}{team}): they will see it to confirm or correct"


def _load_confirm(ctx: Context, item_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    ctx.require("confirm_entry")
    item = load_open_item(ctx, item_id, ItemKind.CONFIRM.value)
    entry = queries.get_oversight(ctx.db, item["detail"]["oversight_id"])
    if entry["decided_by"] != ctx.actor["id"]:
        name = queries.get_staff(ctx.db, entry["decided_by"])["name"]
        raise NotAllowed(f"only {name}, in whose name it was entered, can confirm or correct it")
    return item, entry


def confirm_entry(ctx: Context, item_id: str) -> ActionResult:
    """The SPO confirms an oversight entry a CASPO made in their name: the ``confirm`` item closes,
    the entry stands as it is (it is never edited)."""
    item, entry = _load_confirm(ctx, item_id)
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "confirm_entry",
            item,
            item_changes=closing(ctx, f"confirmed oversight entry {entry['id']}"),
            detail_changes={"confirmed_at": ctx.now_iso, "confirmed_by": ctx.actor["id"]},
        )
    return ActionResult(
        f"Confirmed: {OversightOutcome(entry['outcome']).label} for {entry['crn'] or 'team'}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=entry["id"],
    )


def correct_entry(
    ctx: Context,
    item_id: str,
    *,
    outcome: str,
    discussed: str,
    decision: str,
    type: str | None = None,
    sensitive: bool | None = None,
) -> ActionResult:
    """The SPO corrects an entry a CASPO made in their name: a new entry, in the SPO's own name,
    superseding it (the first stays on the record); the ``confirm`` item closes."""
    item, entry = _load_confirm(ctx, item_id)
    type_, outcome_, discussed, decision = check_oversight_fields(type or entry["type"], outcome, discussed, decision)
    with ctx.db.atomic():
        new_id, _ = write_oversight(
            ctx,
            crn=entry["crn"],
            item_id=entry["item_id"],
            type_=type_,
            outcome=outcome_,
            discussed=discussed,
            decision=decision,
            sensitive=bool(entry["sensitive"] if sensitive is None else sensitive),
            supersedes_id=entry["id"],
            decider=ctx.actor,
        )
        audit_id = change_item(
            ctx,
            "correct_entry",
            item,
            item_changes=closing(ctx, f"corrected by oversight entry {new_id}"),
            detail_changes={"corrected_by": new_id},
            extra_new={"oversight_ids": [new_id]},
        )
    return ActionResult(
        f"Corrected: a new entry replaces the one entered for {entry['crn'] or 'team'}",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=new_id,
    )
