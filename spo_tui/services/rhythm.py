"""The team's day: the check-in agenda and its notes, cover for absent practitioners, the protected hour.

Reads return the frozen dataclasses of ``spo_tui.domain.markdown`` (re-exported here); writes
validate first, then write in one transaction with their audit row, as every service does. Team
notes are append-only: an answer to an escalation is a new note, never an edit.

Booking an SBAR into the protected hour and finding the next free slot are
``decisions.book_protected_hour`` and ``decisions.next_free_slot``; an outcome from the protected
hour is ``decisions.record_oversight`` on the SBAR (the oversight form). Reallocating a case for
good (a long absence) is ``admin.update_case(ctx, crn, practitioner=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from spo_tui.domain.dates import add_working_days, from_iso
from spo_tui.domain.errors import NotAllowed, NotFound, ValidationError
from spo_tui.domain.markdown import (
    NOTE_KIND_LABELS,
    NOTE_KINDS,
    Absence,
    AgendaRow,
    CheckinAction,
    CheckinAgenda,
    EscalationThread,
    TeamNote,
    checkin_markdown,
)
from spo_tui.domain.vocab import (
    ITEM_KIND_LABELS,
    PRACTITIONER_ROLE_VALUES,
    ItemKind,
    normalise_crn,
)
from spo_tui.services import decisions, workload
from spo_tui.services.base import ActionResult, audit, change_item, load_open_item
from spo_tui.services.context import LONDON, Context
from spo_tui.services.intake import optional_text, parse_day, require_text, resolve_staff
from spo_tui.store import queries, team_queries, writes

__all__ = [
    "Absence",
    "AgendaRow",
    "CheckinAction",
    "CheckinAgenda",
    "EscalationThread",
    "Slot",
    "TeamNote",
    "CHECKIN_MINUTES",
    "PSR_WORKING_DAYS",
    "RECENT_DAYS",
    "add_team_note",
    "answer_escalation",
    "checkin_agenda",
    "checkin_export",
    "checkin_notes",
    "open_escalations",
    "protected_hour",
    "reallocate_case_work",
    "team_notes",
]

#: The check-in lasts 15 minutes at most [001]: the screen's timer.
CHECKIN_MINUTES = 15
#: Rises in risk, wellbeing, successes and concerns from this many days (today included) are on the agenda.
RECENT_DAYS = 7
#: PSRs whose court date falls within this many working days are a risk point.
PSR_WORKING_DAYS = 2


# --- Team notes ----------------------------------------------------------------------------------


def _note(row: dict[str, Any]) -> TeamNote:
    return TeamNote(
        id=row["id"],
        day=date.fromisoformat(row["day"]),
        kind=row["kind"],
        text=row["text"],
        crn=row["crn"],
        name=row.get("case_name"),
        owner_id=row["owner_id"],
        owner=row.get("owner_name"),
        due=date.fromisoformat(row["due"]) if row["due"] else None,
        item_id=row["item_id"],
        answers_id=row["answers_id"],
        created_by=row.get("created_by_name"),
        created_at=row["created_at"],
    )


def _insert_note(ctx: Context, **fields: Any) -> str:
    note = {
        "id": writes.new_id(),
        "day": ctx.today.isoformat(),
        "crn": None,
        "owner_id": None,
        "due": None,
        "item_id": None,
        "answers_id": None,
        "created_by": ctx.actor["id"],
        "created_at": ctx.now_iso,
        **fields,
    }
    ctx.db.table("team_notes").insert(note)
    writes.link_team_note(ctx.db, note["id"])
    return note["id"]


def add_team_note(
    ctx: Context,
    kind: str,
    text: str,
    crn: str | None = None,
    owner: str | None = None,
    due: date | str | None = None,
) -> ActionResult:
    """Note something said at the check-in: a note, an action, wellbeing, a success, a concern, an
    escalation, learning or a near miss, dated today, optionally about a case.

    An ``action`` needs an owner; its due date defaults to the rules' ``[actions] default_days``. It
    also goes into the queue as an agreed action (``kind='action'``, owned by ``owner``) so it comes
    back when overdue and is closed with ``decisions.complete_action``. ``item_id`` of the result is
    the note's id; ``created_ids`` holds the action's queue item.
    """
    ctx.require("team_notes")
    key = (kind or "").strip().lower().replace(" ", "_").replace("-", "_")
    if key not in NOTE_KINDS:
        labels = ", ".join(NOTE_KIND_LABELS[k].lower() for k in NOTE_KINDS)
        raise ValidationError(f"unknown kind of note '{(kind or '').strip()}': expected one of {labels}", field="kind")
    body = require_text(text, "text", "the note", multiline=True)
    case = None
    if crn not in (None, ""):
        case = normalise_crn(crn)
        if not queries.case_exists(ctx.db, case):
            raise ValidationError(f"no case with CRN {case}", field="crn")
    person = resolve_staff(ctx, owner, "owner") if owner not in (None, "") else None
    due_on = None
    if due not in (None, ""):
        due_on = due if isinstance(due, date) else _parse_day(ctx, due, "due")
        if due_on < ctx.today:
            raise ValidationError(f"due date {due_on:%d/%m/%Y} has passed", field="due")
    if key == "action":
        if person is None:
            raise ValidationError("an action needs an owner: who will do it?", field="owner")
        due_on = due_on or ctx.today + timedelta(days=ctx.rules.get("actions", "default_days"))
    elif due_on is not None and person is None:
        raise ValidationError("a due date needs an owner", field="owner")

    with ctx.db.atomic():
        action_id = None
        if key == "action":
            assert due_on is not None and person is not None  # both settled for an action above
            action_id = writes.insert_item(
                ctx.db,
                {
                    "kind": ItemKind.ACTION.value,
                    "crn": case,
                    "title": body.splitlines()[0][:80],
                    "status": "open",
                    "due": due_on.isoformat(),
                    "created_at": ctx.now_iso,
                    "assigned_to": None,
                    "raised_by": ctx.decider["id"],
                },
                {"oversight_id": None, "owner_id": person["id"], "description": body},
            )
        note_id = _insert_note(
            ctx,
            kind=key,
            text=body,
            crn=case,
            owner_id=person["id"] if person else None,
            due=due_on.isoformat() if due_on else None,
            item_id=action_id,
        )
        audit_id = audit(
            ctx,
            "add_team_note",
            "team_note",
            note_id,
            new={
                "kind": key,
                "text": body,
                "crn": case,
                "owner": person["name"] if person else None,
                "due": due_on.isoformat() if due_on else None,
                "created_ids": [action_id] if action_id else [],
            },
        )
    who = f" for {person['name']}" if person else ""
    return ActionResult(
        f"{NOTE_KIND_LABELS[key]} noted{who}",
        item_id=note_id,
        audit_id=audit_id,
        created_ids=(action_id,) if action_id else (),
    )


def _parse_day(ctx: Context, value: str, field: str) -> date:
    return parse_day(ctx, str(value), field, "future")


def answer_escalation(ctx: Context, note_id: str, answer: str) -> ActionResult:
    """Record the answer to an escalation raised at a check-in, as a new note (kind ``answer``).

    An escalation may be answered more than once (a holding reply, then the decision): each answer
    is kept with its own date, and the monthly pack reads them all back.
    """
    ctx.require("team_notes")
    escalation = team_queries.get_note(ctx.db, note_id or "")
    if escalation is None:
        raise NotFound(f"no team note with id {note_id}")
    if escalation["kind"] != "escalation":
        raise NotAllowed(
            f"this is a {NOTE_KIND_LABELS[escalation['kind']].lower()}, not an escalation: only an escalation is answered"
        )
    body = require_text(answer, "answer", "the answer", multiline=True)
    with ctx.db.atomic():
        answer_id = _insert_note(ctx, kind="answer", text=body, answers_id=note_id, crn=escalation["crn"])
        audit_id = audit(ctx, "answer_escalation", "team_note", answer_id, new={"answers": note_id, "text": body})
    return ActionResult("Answer recorded", item_id=answer_id, audit_id=audit_id)


def _team(ctx: Context, team: str | None) -> str | None:
    """The team a note, escalation or booking read is narrowed to: ``team`` if given, else the acting
    person's (``Context.team``; every team for a PDU head). A note's team is its writer's, else its
    case's (``team_queries.notes``): another team's check-in is not this team's."""
    return team if team is not None else ctx.team


def checkin_notes(ctx: Context, day: date | None = None, team: str | None = None) -> list[TeamNote]:
    """Every note of the team (``_team``) made on ``day`` (default today), answers and covers
    included, in the order written."""
    day = day or ctx.today
    return [_note(r) for r in team_queries.notes(ctx.db, start=day, end=day, team=_team(ctx, team))]


def team_notes(
    ctx: Context, start: date, end: date, kinds: tuple[str, ...] | None = None, team: str | None = None
) -> list[TeamNote]:
    """The team's notes (``_team``) made from ``start`` to ``end`` (of ``kinds``, if given), in the order written."""
    return [_note(r) for r in team_queries.notes(ctx.db, start=start, end=end, kinds=kinds, team=_team(ctx, team))]


def _threads(ctx: Context, rows: list[dict[str, Any]], end: date) -> tuple[EscalationThread, ...]:
    answers: dict[str, list[TeamNote]] = {}
    for r in team_queries.answers_to(ctx.db, [r["id"] for r in rows], end):
        answers.setdefault(r["answers_id"], []).append(_note(r))
    return tuple(EscalationThread(_note(r), tuple(answers.get(r["id"], ()))) for r in rows)


def open_escalations(ctx: Context, team: str | None = None) -> tuple[EscalationThread, ...]:
    """The team's escalations (``_team``) raised at check-ins and not yet answered, oldest first."""
    rows = team_queries.escalations(ctx.db, start=None, end=ctx.today, team=_team(ctx, team))
    return _threads(ctx, rows, ctx.today)


def escalation_threads(ctx: Context, start: date, end: date, team: str | None = None) -> tuple[EscalationThread, ...]:
    """The team's escalations (``_team``) raised ``start``..``end``, answered then, or still waiting at
    ``end``, with their answers."""
    return _threads(ctx, team_queries.escalations(ctx.db, start=start, end=end, team=_team(ctx, team)), end)


def checkin_actions(ctx: Context, start: date, end: date, team: str | None = None) -> tuple[CheckinAction, ...]:
    """The team's actions (``_team``) agreed at check-ins ``start``..``end`` and where each stands today."""
    out = []
    for r in team_queries.checkin_actions(ctx.db, start, end, _team(ctx, team)):
        note = _note(r)
        if r["item_status"] == "closed":
            done_on = from_iso(r["item_closed_at"]).astimezone(LONDON).date() if r["item_closed_at"] else None
            out.append(CheckinAction(note, "done", done_on))
        else:
            due = r["item_due"] or r["due"]
            overdue = due is not None and date.fromisoformat(due) < ctx.today
            out.append(CheckinAction(note, "overdue" if overdue else "open"))
    return tuple(out)


# --- The check-in agenda -------------------------------------------------------------------------


def _local_hhmm(stamp: str | None) -> str | None:
    if not stamp:
        return None
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return f"{moment.astimezone(LONDON):%H:%M}"


def _cover_detail(r: dict[str, Any]) -> str:
    kind = r["kind"]
    if kind == "countersign" and r["court_date"]:
        return f"court {date.fromisoformat(r['court_date']):%d/%m/%Y}"
    if kind == "sbar":
        words = [r["urgency"]] if r["urgency"] else []
        if r["status"] == "waiting":
            words.append("awaiting their answer")
        if r["booked_for"]:
            words.append(f"booked {_local_hhmm(r['booked_for'])}")
        return ", ".join(words)
    if r["status"] == "waiting":
        return "waiting"
    return ""


def checkin_agenda(ctx: Context, team: str | None = None) -> CheckinAgenda:
    """Today's check-in agenda, built from the store: ``team``'s staff and cases (default the acting
    person's team, ``Context.team``; every team for a PDU head).

    - Absences: who is absent today, each with their work due today or overdue: actions they own,
      countersigns they wrote (a PSR is due the working day before court), SBARs they raised,
      touch points and alerts on their cases, their supervision. ``covered_by`` names the cover
      (``reallocate_case_work``).
    - Potential risk points: open alerts; RoSH and MAPPA rises in the last ``RECENT_DAYS`` days (the
      touch points a rise makes); PSRs not yet gatekept whose court date is within ``PSR_WORKING_DAYS``
      working days (or past).
    - Decisions expected: open SBARs (urgent first, then oldest), touch points due today or overdue
      (oldest first, then highest RoSH); snoozed items stay out. Concerns noted in the last week.
    - Wellbeing and successes noted in the last week; escalations still awaiting an answer.
    - Each practitioner's workload and the team's span of control (``services.workload``).
    """
    team = _team(ctx, team)
    today = ctx.today
    db = ctx.db
    recent = today - timedelta(days=RECENT_DAYS - 1)

    absent = team_queries.absences_on(db, today, team)
    work: dict[str, list[AgendaRow]] = {}
    for r in team_queries.work_needing_cover(db, today, [a["id"] for a in absent]):
        work.setdefault(r["holder"], []).append(
            AgendaRow(
                item_id=r["id"],
                kind=r["kind"],
                reason=r["kind"],
                crn=r["crn"],
                name=r["name"],
                practitioner=None,
                rosh=r["rosh"],
                title=r["title"],
                due=date.fromisoformat(r["due"]),
                detail=_cover_detail(r),
                covered_by=r["covered_by"],
            )
        )
    absences = tuple(
        Absence(
            staff_id=a["id"],
            name=a["name"],
            role=a["role"],
            reason=a["reason"] or "",
            start=date.fromisoformat(a["start_date"]),
            end=date.fromisoformat(a["end_date"]),
            work=tuple(work.get(a["id"], ())),
        )
        for a in absent
    )

    psr_until = add_working_days(today, PSR_WORKING_DAYS)
    risk = []
    for r in team_queries.risk_points(db, today, recent, psr_until, team):
        day = date.fromisoformat(r["day"]) if r["day"] else None
        if r["reason"] == "alert":
            detail = f"{day:%d/%m/%Y}" if day else ""
        elif r["reason"] == "psr_due":
            detail = f"court {day:%d/%m/%Y}" if day else ""
        else:
            detail = f"{day:%d/%m/%Y}" + ("" if r["detail"] == "open" else ", touch point closed")
        risk.append(
            AgendaRow(
                item_id=r["id"],
                kind=r["kind"],
                reason=r["reason"],
                crn=r["crn"],
                name=r["name"],
                practitioner=r["practitioner"],
                rosh=r["rosh"],
                title=r["title"],
                due=day,
                detail=detail,
            )
        )

    expected = []
    for r in team_queries.decisions_expected(db, today, team):
        if r["reason"] == "sbar":
            words = [r["urgency"]]
            if r["state"] == "booked" and r["booked_for"]:
                slot = datetime.fromisoformat(r["booked_for"])
                words.append(f"booked {slot:%H:%M}" if slot.date() == today else f"booked {slot:%d/%m %H:%M}")
            detail = ", ".join(words)
        else:
            detail = ""
        expected.append(
            AgendaRow(
                item_id=r["id"],
                kind=r["kind"],
                reason=r["reason"],
                crn=r["crn"],
                name=r["name"],
                practitioner=r["practitioner"],
                rosh=r["rosh"],
                title=r["title"],
                due=date.fromisoformat(r["due"]) if r["due"] else None,
                detail=detail,
            )
        )

    recent_notes = team_notes(ctx, recent, today, ("concern", "wellbeing", "success"), team)
    load = workload.team_workload(ctx, team)  # individual workloads and the span [001, 002, 000]
    return CheckinAgenda(
        day=today,
        absences=absences,
        risk_points=tuple(risk),
        decisions=tuple(expected),
        concerns=tuple(n for n in recent_notes if n.kind == "concern"),
        wellbeing=tuple(n for n in recent_notes if n.kind == "wellbeing"),
        successes=tuple(n for n in recent_notes if n.kind == "success"),
        escalations=open_escalations(ctx, team),
        minutes=CHECKIN_MINUTES,
        workload=load.people,
        span=load.span,
    )


def checkin_export(ctx: Context, team: str | None = None) -> str:
    """Today's agenda and the notes taken, as Markdown (``domain.markdown.checkin_markdown``)."""
    return checkin_markdown(checkin_agenda(ctx, team), checkin_notes(ctx, team=team), ctx.today)


# --- Cover for an absent practitioner's work -----------------------------------------------------


def reallocate_case_work(ctx: Context, item_id: str, to_practitioner: str, note: str = "") -> ActionResult:
    """Have another practitioner cover a piece of work (an absent colleague's, or under pressure).

    The item stays in the SPO's queue (the oversight is still the SPO's); a ``cover`` note records
    who covers what, for the check-in and its export. An agreed action changes owner, since its
    owner is who does it. A supervision session is postponed, not covered; a task is delegated.
    Reallocating the whole case is ``admin.update_case(ctx, crn, practitioner=...)``.
    """
    ctx.require("team_notes")
    item = load_open_item(ctx, item_id)
    if item["kind"] == "supervision":
        raise NotAllowed("a supervision session cannot be covered by someone else: postpone it instead")
    if item["kind"] == "task":
        raise NotAllowed("a task is the SPO's own work, not a practitioner's: delegate it instead")
    cover = resolve_staff(ctx, to_practitioner, "to", PRACTITIONER_ROLE_VALUES)
    holder_id = team_queries.item_holder(ctx.db, item_id)
    holder = queries.get_staff(ctx.db, holder_id) if holder_id else None
    if holder_id == cover["id"]:
        raise ValidationError(f"this is already {cover['name']}'s work", field="to")
    if team_queries.latest_cover(ctx.db, item_id) == cover["id"]:
        raise ValidationError(f"{cover['name']} already covers this", field="to")
    away = team_queries.absence_on(ctx.db, cover["id"], ctx.today)
    if away:
        raise ValidationError(
            f"{cover['name']} is absent today ({away['reason'] or 'absence'}): choose someone at work", field="to"
        )
    extra = optional_text(note, "note")
    label = ITEM_KIND_LABELS[ItemKind(item["kind"])].lower()
    text = f"{cover['name']} covers {label} for {holder['name'] if holder else 'no one'}: {item['title']}"
    if extra:
        text += f". {extra}"

    with ctx.db.atomic():
        note_id = _insert_note(
            ctx,
            kind="cover",
            text=text,
            crn=item["crn"],
            owner_id=cover["id"],
            due=item["due"],
            item_id=item_id,
        )
        new = {"covered_by": cover["id"], "holder": holder_id, "note_id": note_id}
        if item["kind"] == "action":
            audit_id = change_item(
                ctx, "reallocate_case_work", item, detail_changes={"owner_id": cover["id"]}, extra_new=new
            )
        else:
            audit_id = audit(ctx, "reallocate_case_work", "item", item_id, old={"holder": holder_id}, new=new)
    return ActionResult(
        f"{cover['name']} covers {item['title']}", item_id=item_id, audit_id=audit_id, created_ids=(note_id,)
    )


# --- Protected hour ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One booking slot of the protected hour, free or holding an SBAR.

    ``start`` and ``end`` are aware London times. A booked slot names the SBAR (``item_id``), its
    case, practitioner, headline and urgency; ``state`` is the SBAR's (``booked``, or ``decided`` /
    ``escalated`` once an outcome is recorded). ``off_grid`` marks a booking that no longer falls on
    a slot (the protected hour was moved in the rules after it was booked).
    """

    start: datetime
    end: datetime
    item_id: str | None = None
    crn: str | None = None
    name: str | None = None
    practitioner: str | None = None
    rosh: str | None = None
    title: str | None = None
    urgency: str | None = None
    state: str | None = None
    past: bool = False
    off_grid: bool = False

    @property
    def free(self) -> bool:
        return self.item_id is None

    @property
    def done(self) -> bool:
        return self.state in ("decided", "escalated")


def protected_hour(ctx: Context, day: date | None = None, team: str | None = None) -> list[Slot]:
    """The protected hour on ``day`` (default today), slot by slot: the running order, free slots included.

    Slots come from ``decisions.protected_hour_slots`` (the rules' ``[protected_hour]``: default
    13:00–14:00 in 10-minute slots). ``[s for s in slots if not s.free]`` is the running order;
    ``decisions.next_free_slot`` and ``decisions.book_protected_hour`` book into it. The bookings are
    the team's (``_team``): the SBARs in its queue.
    """
    day = day or ctx.today
    step = timedelta(minutes=ctx.rules.protected_hour["slot_minutes"])
    now_local = ctx.now.astimezone(LONDON)
    bookings: dict[str, list[dict[str, Any]]] = {}
    for b in team_queries.protected_hour_bookings(ctx.db, day, _team(ctx, team)):
        bookings.setdefault(b["booked_for"], []).append(b)

    def slot(start: datetime, booking: dict[str, Any] | None, off_grid: bool = False) -> Slot:
        past = start + step <= now_local
        if booking is None:
            return Slot(start=start, end=start + step, past=past)
        return Slot(
            start=start,
            end=start + step,
            item_id=booking["id"],
            crn=booking["crn"],
            name=booking["name"],
            practitioner=booking["practitioner"],
            rosh=booking["rosh"],
            title=booking["title"],
            urgency=booking["urgency"],
            state=booking["state"],
            past=past,
            off_grid=off_grid,
        )

    out = []
    for start in decisions.protected_hour_slots(ctx, day):
        booked = bookings.pop(start.isoformat(timespec="minutes"), None)
        out += [slot(start, b) for b in booked] if booked else [slot(start, None)]
    for stamp, rest in bookings.items():
        start = datetime.fromisoformat(stamp).astimezone(LONDON)
        out += [slot(start, b, off_grid=True) for b in rest]
    out.sort(key=lambda s: (s.start, s.state not in (None, "booked")))
    return out
