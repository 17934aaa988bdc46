"""Workload and span of control for the check-in, and reallocating a case [001, 002, 000].

The check-in is meant to cover "individual workloads" and "reallocating work" [001]. Reads here
build ``spo_tui.domain.workload`` values from the store; ``reallocate_case`` is the one write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spo_tui.domain.errors import ValidationError
from spo_tui.domain.vocab import PRACTITIONER_ROLE_VALUES, TeamKind
from spo_tui.domain.workload import Span, Workload, span, workload
from spo_tui.services.base import ActionResult, audit, change_item
from spo_tui.services.context import Context
from spo_tui.services.intake import existing_case, optional_text, resolve_staff
from spo_tui.store import queries, team_queries

__all__ = ["TeamWorkload", "absent_today", "people_workload", "reallocate_case", "team_workload"]


@dataclass(frozen=True)
class TeamWorkload:
    """Each practitioner's workload today (highest first) and the team's span of control."""

    people: tuple[Workload, ...]
    span: Span
    watch_percent: float

    @property
    def span_watch_text(self) -> str:
        """The line regions watch, as the header says it: ``120%``."""
        return f"{self.watch_percent:g}%"

    @property
    def over(self) -> tuple[Workload, ...]:
        """Practitioners over the line regions watch (120% by default)."""
        return tuple(w for w in self.people if w.over)


def _workloads(ctx: Context, team: str | None) -> tuple[list[Workload], list[dict[str, Any]]]:
    weights = ctx.rules.workload
    staff = team_queries.workload_staff(ctx.db, team)
    cases: dict[str, list[tuple[str | None, str | None]]] = {}
    for c in team_queries.workload_cases(ctx.db, ctx.today, team):
        cases.setdefault(c["practitioner_id"], []).append((c["tier"], c["rosh"]))
    away = team_queries.absent_today(ctx.db, ctx.today)
    pps = [s for s in staff if s["role"] in PRACTITIONER_ROLE_VALUES]
    people = [
        workload(p, cases.get(p["id"], ()), weights, (away[p["id"]] or "Absent") if p["id"] in away else None)
        for p in pps
    ]
    return people, staff


def team_workload(ctx: Context, team: str | None = None) -> TeamWorkload:
    """The check-in's workload section: each practitioner of ``team`` (all when None) with cases,
    WMT-style points as a per cent of capacity (FTE-scaled), absence today; and the span: practitioner
    FTE per SPO against 1:10 in sentence management, 1:12 in a court team [000, 002].

    ``team`` defaults to the acting person's (``Context.team``). Several teams together (a PDU head,
    ``team=None``) are measured against sentence management's span unless every team in them is a
    court team."""
    team = team if team is not None else ctx.team
    people, staff = _workloads(ctx, team)
    spos = sum(1 for s in staff if s["role"] == "SPO")
    pp_fte = sum(w.fte for w in people)
    if team:
        kind = TeamKind(queries.team_kind(ctx.db, team))
    else:
        kinds = {queries.team_kind(ctx.db, s["team"]) for s in staff}
        kind = TeamKind.COURT if kinds == {TeamKind.COURT.value} else TeamKind.SENTENCE_MANAGEMENT
    ordered = sorted(people, key=lambda w: (-w.percent, w.name))
    return TeamWorkload(
        people=tuple(ordered),
        span=span(kind, spos, pp_fte, ctx.rules.workload),
        watch_percent=float(ctx.rules.workload["watch_percent"]),
    )


def people_workload(ctx: Context) -> dict[str, Workload]:
    """The workload today of each active practitioner a picker offers, by name (shown beside each
    name): the deciding person's own team's (``Context.team``); a PDU head's, every team's."""
    people, _staff = _workloads(ctx, ctx.team)
    return {w.name: w for w in people}


def absent_today(ctx: Context) -> dict[str, str]:
    """Staff id -> the reason of their absence today ('' when none was given): who pickers mark."""
    return team_queries.absent_today(ctx.db, ctx.today)


def reallocate_case(ctx: Context, crn: str, to: str, note: str = "") -> ActionResult:
    """Give a case to another practitioner for good, from the check-in [001 "reallocating work"].

    What moves with it (decided here, as a team would expect): the case's practitioner, so its
    touch points and alerts (which follow the case) now show the new practitioner; and the open
    agreed actions on the case that the previous practitioner owned, since an action belongs to
    whoever now does the work. What stays: SBARs the previous practitioner raised and reports they
    wrote (countersigns) stay theirs, since they are that person's submissions awaiting an answer;
    the items stay in the SPO's queue. A practitioner absent today may be chosen (a case goes to
    someone back tomorrow); the result says they are absent. Audited as ``reallocate_case`` with
    the actions moved.
    """
    ctx.require("maintain")
    crn = existing_case(ctx, crn)
    case = queries.get_case(ctx.db, crn)
    person = resolve_staff(ctx, to, "to", PRACTITIONER_ROLE_VALUES)
    old_id = case.get("practitioner_id")
    if old_id == person["id"]:
        raise ValidationError(f"{crn} is already {person['name']}'s case", field="to")
    extra = optional_text(note, "note")
    moved = []
    with ctx.db.atomic():
        ctx.db.table("cases").update(crn, {"practitioner_id": person["id"], "updated_at": ctx.now_iso})
        if old_id:
            for item in queries.open_items_for_case(ctx.db, crn, "action"):
                full = queries.get_item(ctx.db, item["id"])
                if full["detail"].get("owner_id") == old_id:
                    change_item(ctx, "reallocate_case", full, detail_changes={"owner_id": person["id"]})
                    moved.append(item["id"])
        audit_id = audit(
            ctx,
            "reallocate_case",
            "case",
            crn,
            old={"practitioner_id": old_id},
            new={"practitioner_id": person["id"], "actions_moved": moved, "note": extra},
        )
    away = team_queries.absence_on(ctx.db, person["id"], ctx.today)
    message = f"{crn} is now {person['name']}'s case"
    if moved:
        message += f", with {len(moved)} open action{'s' if len(moved) != 1 else ''}"
    if away:
        message += f" ({person['name']} is absent today)"
    return ActionResult(message, item_id=crn, audit_id=audit_id)
