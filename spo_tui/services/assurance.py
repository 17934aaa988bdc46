"""Level-1 assurance and real delegation: the R-CAT eligible list and audits, and facilities jobs'
helpdesk references, target, staged escalation and chase.

The rules are in ``spo_tui.domain.assurance`` (with their sources); this module reads the store,
applies them and writes, one transaction and one audit row per action.

Decisions taken where the reports are silent:

- The R-CAT list is the acting person's team (every team for a PDU head). Recording an audit needs
  the SPO, the CASPO, the QDO or the PDU head; the auditor (``by``) is a QDO, an SPO or the PDU head
  (the CASPO keeps the list and may enter the audit, but does not audit) [000 §3.3, 001]. The audit
  is filed against the practitioner who holds the case on the day it is recorded, so that
  practitioner leaves the list for a year. More than one audit of a practitioner in a year may be
  recorded (a QDO may look again where there is concern); the same case twice on one day is refused.
- A facilities job past its target is escalated stage by stage without anyone pressing a key (the
  day's refresh does it), each stage audited and naming who steps in. A job delegated to someone
  comes back to the queue it left (the delegator's) as a chase at each stage, with whom it was
  delegated to kept in its detail; re-delegating it sends it back to wait [002 §9].
- Other delegated tasks (HR, IT) have no staged escalation, but one still waiting after its due
  date comes back as a chase, once (handed on again, it would otherwise come straight back each
  day): delegated work is chased, not forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from spo_tui.domain import assurance as rules_of
from spo_tui.domain.assurance import RcatCase, RcatOutcome
from spo_tui.domain.dates import local_time
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.rules import Rules
from spo_tui.domain.vocab import FACILITIES_CATEGORIES, Role, RoSH, parse_enum
from spo_tui.services.base import BACK_IN_QUEUE, ActionResult, audit, change_item, load_open_item
from spo_tui.services.context import Context
from spo_tui.services.intake import existing_case, optional_text, read_date, require_text, resolve_staff
from spo_tui.store import assurance_queries as q
from spo_tui.store import queries
from spo_tui.store.writes import new_id

#: Who may audit a case with R-CAT: QDOs and SPOs complete it; a PDU head may [000 §3.3].
AUDITOR_ROLES = (Role.QDO.value, Role.SPO.value, Role.PDU_HEAD.value)


# --- R-CAT ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RcatLine:
    """One practitioner on the eligible list, with the case chosen for audit (None if they hold none
    that can be audited) and why it was chosen."""

    practitioner_id: str
    practitioner: str
    role: str
    last_audit: date | None
    crn: str | None
    name: str | None
    rosh: str | None
    why: str


def rcat_eligible(ctx: Context) -> list[RcatLine]:
    """The R-CAT eligible list: each practitioner not audited in the last year, with one case to audit
    chosen by the documented rule (``domain.assurance.choose_rcat_case``) [000 §3.3, 001]."""
    roles = tuple(ctx.rules.get("rcat", "practitioner_roles"))
    people = [
        p
        for p in q.rcat_practitioners(ctx.db, roles, ctx.team)
        if rules_of.practitioner_eligible(_day(p["last_audit"]), ctx.today, ctx.rules)
    ]
    by_pp: dict[str, list[dict[str, Any]]] = {}
    for c in q.rcat_cases(ctx.db, [p["id"] for p in people]):
        by_pp.setdefault(c["practitioner_id"], []).append(c)
    out = []
    for p in people:
        held = {c["crn"]: c for c in by_pp.get(p["id"], [])}
        facts = [
            RcatCase(c["crn"], RoSH(c["rosh"]), date.fromisoformat(c["sentence_start"]), _day(c["last_audit"]))
            for c in held.values()
        ]
        chosen = rules_of.choose_rcat_case(facts, ctx.today, ctx.rules)
        last = _day(p["last_audit"])
        if chosen is None:
            why = "holds no case that can be audited" if held else "holds no cases"
            out.append(RcatLine(p["id"], p["name"], p["role"], last, None, None, None, why))
            continue
        case, why = chosen
        out.append(
            RcatLine(p["id"], p["name"], p["role"], last, case.crn, held[case.crn]["name"], case.rosh.value, why)
        )
    return out


def auditors(ctx: Context) -> list[dict[str, Any]]:
    """Staff who may have audited a case (QDOs, SPOs, PDU heads), the acting person's team first."""
    people = queries.staff_list(ctx.db, AUDITOR_ROLES)
    return sorted(people, key=lambda s: (s.get("team") != ctx.team, s["role"] != Role.QDO.value, s["name"]))


def rcat_done(ctx: Context) -> list[dict[str, Any]]:
    """The R-CAT audits recorded in the audit year ending today (the team's), newest first."""
    return q.rcat_audits_since(ctx.db, rules_of.rcat_window_start(ctx.today, ctx.rules), ctx.team)


def record_rcat(
    ctx: Context,
    crn: str,
    outcome: str,
    notes: str = "",
    *,
    by: str | None = None,
    on: date | str | None = None,
) -> ActionResult:
    """Record an R-CAT audit of a case: who audited it, on which day, the outcome and notes. The
    practitioner holding the case leaves the eligible list for a year [000 §3.3]."""
    ctx.require("rcat")
    crn = existing_case(ctx, crn)
    result = parse_enum(RcatOutcome, outcome, "outcome")
    if by is None or not str(by).strip():
        if ctx.actor["role"] not in AUDITOR_ROLES:
            raise ValidationError(
                f"say who audited the case (a QDO or an SPO): {ctx.actor['name']} is {ctx.actor['role']}", field="by"
            )
        auditor = ctx.actor
    else:
        auditor = resolve_staff(ctx, by, "by", AUDITOR_ROLES)
    day = read_date(on, "on", required=False) or ctx.today
    if day > ctx.today:
        raise ValidationError(f"an audit is recorded once done: {day:%d/%m/%Y} is after today", field="on")
    if result is RcatOutcome.GOOD:
        text = optional_text(notes, "notes", multiline=True)
    else:  # what needs to improve is the point of the audit: say it
        text = require_text(notes, "notes", multiline=True)
    case = queries.get_case(ctx.db, crn)
    if not case.get("practitioner_id"):
        raise NotAllowed(f"{crn} has no practitioner: an R-CAT audits a practitioner's case")
    same_day = ctx.db.execute(
        "SELECT 1 FROM rcat_audits WHERE crn = ? AND audited_on = ?", [crn, day.isoformat()]
    ).fetchone()
    if same_day:
        raise NotAllowed(f"an R-CAT audit of {crn} on {day:%d/%m/%Y} is already recorded")
    row = {
        "id": new_id(),
        "crn": crn,
        "practitioner_id": case["practitioner_id"],
        "audited_by": auditor["id"],
        "audited_on": day.isoformat(),
        "outcome": result.value,
        "notes": text,
        "entered_by": ctx.actor["id"],
        "created_at": ctx.now_iso,
    }
    with ctx.db.atomic():
        q.insert_rcat_audit(ctx.db, row)
        audit_id = audit(ctx, "record_rcat", "rcat", row["id"], new=row)
    pp = queries.get_staff(ctx.db, case["practitioner_id"])["name"]
    return ActionResult(
        f"R-CAT recorded: {crn} ({pp}) by {auditor['name']}, {result.label}; {pp} is audited for this year",
        audit_id=audit_id,
    )


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


# --- Facilities jobs -----------------------------------------------------------------------------


def set_helpdesk_ref(ctx: Context, item_id: str, ref: str) -> ActionResult:
    """Record the facilities helpdesk's reference for a job, so it can be chased by it [002 §9]."""
    ctx.require("task")
    item = load_open_item(ctx, item_id, "task")
    ref = require_text(ref, "helpdesk reference")
    with ctx.db.atomic():
        audit_id = change_item(ctx, "set_helpdesk_ref", item, detail_changes={"helpdesk_ref": ref})
    return ActionResult(f"Helpdesk reference {ref} on '{item['title']}'", item_id=item_id, audit_id=audit_id)


def who_steps_in(ctx: Context, stage: int, team: str | None) -> str | None:
    """Who steps in at ``stage``: the role, with the name of the person holding it (the team's first),
    e.g. ``business manager (Bea Manager)``; None at stage 0 [002 §9]."""
    role = rules_of.escalation_role(stage, ctx.rules)
    if role is None:
        return None
    person = q.first_staff_with_role(ctx.db, role, team)
    return f"{role} ({person['name']})" if person else role


def escalate_facilities(ctx: Context) -> int:
    """Escalate every facilities job past its 10-working-day target to the stage it has reached, and
    bring a delegated one back to the queue it left as a chase; return how many were escalated.
    Run with the day's refresh [002 §9]."""
    categories = tuple(c.value for c in FACILITIES_CATEGORIES)
    jobs = [
        j
        for j in q.facilities_jobs_past_target(ctx.db, categories, ctx.today)
        if rules_of.escalation_stage(date.fromisoformat(j["due"]), ctx.today, ctx.rules) > j["escalation_stage"]
    ]
    if not jobs:
        return chase_delegated(ctx)
    with ctx.db.atomic():
        for job in jobs:
            item = queries.get_item(ctx.db, job["id"])
            stage = rules_of.escalation_stage(date.fromisoformat(job["due"]), ctx.today, ctx.rules)
            team = queries.get_staff(ctx.db, item["raised_by"])["team"] if item.get("raised_by") else ctx.team
            detail = {
                "escalation_stage": stage,
                "escalated_to": who_steps_in(ctx, stage, team),
                "escalated_at": ctx.now_iso,
            }
            changes: dict[str, Any] = {}
            if item["status"] == "waiting":  # delegated: back to the delegator's queue as a chase
                changes = {**BACK_IN_QUEUE, "assigned_to": q.assignee_before_delegation(ctx.db, item["id"])}
                detail["chased_at"] = ctx.now_iso
            change_item(
                ctx,
                "escalate_facilities",
                item,
                item_changes=changes,
                detail_changes=detail,
                extra_new={"note": f"past its target of {date.fromisoformat(job['due']):%d/%m/%Y}: stage {stage}"},
            )
    return len(jobs) + chase_delegated(ctx)


def chase_delegated(ctx: Context) -> int:
    """Bring back to the queue it left every other delegated task (HR, IT) still waiting after its due
    date, once (handed on again after that, it is the SPO's to follow), so delegated work is chased
    rather than forgotten; return how many.
    Only facilities jobs have the staged escalation [002 §9]."""
    categories = tuple(c.value for c in FACILITIES_CATEGORIES)
    ids = q.delegated_tasks_past_due(ctx.db, categories, ctx.today)
    if not ids:
        return 0
    with ctx.db.atomic():
        for item_id in ids:
            item = queries.get_item(ctx.db, item_id)
            change_item(
                ctx,
                "chase_delegated",
                item,
                item_changes={**BACK_IN_QUEUE, "assigned_to": q.assignee_before_delegation(ctx.db, item_id)},
                detail_changes={"chased_at": ctx.now_iso},
                extra_new={"note": f"not done by {date.fromisoformat(item['due']):%d/%m/%Y}"},
            )
    return len(ids)


def facilities_lines(item: dict[str, Any], rules: Rules) -> list[str]:
    """What the detail pane says of a facilities job: its target, its stage and who stepped in, the
    next stage and when (``item`` as ``lookup.item_detail`` gives it)."""
    d = item["detail"]
    lines: list[str] = []
    if not item.get("due"):
        return lines
    target = date.fromisoformat(item["due"])
    days = rules.get("tasks", "facilities_working_days")
    lines.append(f"Target {target:%a %d/%m/%Y} ({days} working days)")
    stage = d.get("escalation_stage") or 0
    if stage:
        since = f" since {local_time(d['escalated_at']):%a %d/%m/%Y}" if d.get("escalated_at") else ""
        lines.append(f"Escalated: stage {stage}, {d.get('escalated_to') or 'unassigned'} steps in{since}")
    starts = rules_of.escalation_starts(target, rules)
    if item.get("status") != "closed" and stage < len(starts):
        role = rules_of.escalation_role(stage + 1, rules)
        lines.append(f"Stage {stage + 1} on {starts[stage]:%a %d/%m/%Y}: the {role} steps in")
    return lines
