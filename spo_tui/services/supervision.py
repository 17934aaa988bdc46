"""Supervision as the SPO plans and records it: who is due a one-to-one, RPSS session or
observation, booking and postponing sessions, and recording one with the cases discussed.

RPSS sessions and observations are counted over the last 12 months (``YEAR_DAYS``), as the rules
that put RPSS in the queue count them (``refresh_due_work``), not per calendar year. Re-exported
from ``spo_tui.services.team``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from spo_tui.domain.dates import from_iso, not_working_because, to_iso
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.rules import PractitionerFacts, Rules, merge_config, supervision_due
from spo_tui.domain.vocab import (
    PRACTITIONER_ROLE_VALUES,
    ItemKind,
    OversightType,
    SupervisionKind,
    normalise_crn,
    parse_enum,
)
from spo_tui.services import decisions, intake
from spo_tui.services.admin import parse_meeting
from spo_tui.services.base import ActionResult, audit, change_item, load_open_item
from spo_tui.services.context import LONDON, Context
from spo_tui.services.intake import resolve_staff
from spo_tui.store import queries, team_queries, writes

YEAR_DAYS = 365


@dataclass(frozen=True)
class Session:
    """A supervision session not yet held: rule-made (due, no time yet) or booked (``scheduled_for``)."""

    item_id: str
    kind: str  # one_to_one or rpss
    title: str
    due: date | None
    scheduled_for: datetime | date | None  # an aware London time, or a day booked without a time
    observation: bool
    postponed: int

    @property
    def day(self) -> date | None:
        s = self.scheduled_for
        return s.date() if isinstance(s, datetime) else s or self.due


@dataclass(frozen=True)
class SupervisionRow:
    """One practitioner's supervision: one-to-ones against the rules, RPSS against the standard."""

    staff_id: str
    name: str
    role: str
    team: str
    last_one_to_one: date | None
    one_to_one_weeks: int  # every 6 weeks; 4 for PQiPs and NQOs (rules: [supervision])
    next_one_to_one: date  # due by the rules (today when none has been held)
    rpss_held: int  # in the last 12 months
    rpss_target: int
    observations_held: int  # RPSS held as live observations in the last 12 months
    observations_target: int
    next_rpss: date | None  # when the next RPSS falls due, while short of the target
    postponed: int  # times sessions were postponed (held in the last 12 months, or still to hold)
    flagged_for_more: bool  # PQiP or NQO: seen more often
    absent_today: bool
    sessions: tuple[Session, ...]  # not yet held, soonest first
    today: date

    @property
    def one_to_one_overdue_days(self) -> int:
        return max(0, (self.today - self.next_one_to_one).days)

    @property
    def one_to_one_overdue(self) -> bool:
        return self.next_one_to_one < self.today

    @property
    def rpss_short(self) -> int:
        return max(0, self.rpss_target - self.rpss_held)

    @property
    def observations_short(self) -> int:
        return max(0, self.observations_target - self.observations_held)

    @property
    def booked(self) -> Session | None:
        """The next session with a date and time agreed."""
        return next((s for s in self.sessions if s.scheduled_for is not None), None)

    @property
    def status(self) -> str:
        """How the one-to-ones stand, in a few words: ``12d overdue``, ``due in 5d``, ``never held``."""
        if self.last_one_to_one is None:
            return "never held"
        delta = (self.next_one_to_one - self.today).days
        if delta < 0:
            return f"{-delta}d overdue"
        return "due today" if delta == 0 else f"due in {delta}d"


def _far_sighted(rules: Rules) -> Rules:
    """The rules with an unlimited look-ahead, so ``supervision_due`` gives the next dates however far."""
    return Rules(raw=merge_config(rules.raw, {"supervision": {"lookahead_days": 100 * YEAR_DAYS}}))


def _scheduled(text: str | None) -> datetime | date | None:
    if not text:
        return None
    if len(text) == 10:
        return date.fromisoformat(text)
    return from_iso(text).astimezone(LONDON) if text.endswith("Z") else datetime.fromisoformat(text).astimezone(LONDON)


def _session(r: dict[str, Any]) -> Session:
    return Session(
        item_id=r["id"],
        kind=r["kind"],
        title=r["title"],
        due=date.fromisoformat(r["due"]) if r["due"] else None,
        scheduled_for=_scheduled(r["scheduled_for"]),
        observation=bool(r["observation"]),
        postponed=r["postponed"] or 0,
    )


def supervision_plan(ctx: Context, team: str | None = None) -> list[SupervisionRow]:
    """Per active practitioner (by name): last and next one-to-one, RPSS and observations held in
    the last 12 months against the standard, postponements, and the sessions still to hold.

    The next dates are the rules' own (``domain.rules.supervision_due``): a one-to-one every
    ``one_to_one_weeks`` after the last (``one_to_one_weeks_new_practitioner`` for PQiPs and NQOs),
    RPSS spaced through the year until ``rpss_per_year`` are held. ``team``: default the acting
    person's (``Context.team``; every team for a PDU head).
    """
    team = team if team is not None else ctx.team
    today = ctx.today
    sup = ctx.rules.raw["supervision"]
    far = _far_sighted(ctx.rules)
    year_ago = today - timedelta(days=YEAR_DAYS)
    absent = {a["id"] for a in team_queries.absences_on(ctx.db, today, team)}
    sessions: dict[str, list[Session]] = {}
    for r in team_queries.open_sessions(ctx.db):
        sessions.setdefault(r["practitioner_id"], []).append(_session(r))
    out = []
    for r in team_queries.supervision_summary(ctx.db, year_ago, team):
        rpss = tuple(sorted(date.fromisoformat(d) for d in (r["rpss_dates"] or "").split(",") if d))
        last = date.fromisoformat(r["last_one_to_one"]) if r["last_one_to_one"] else None
        facts = PractitionerFacts(
            staff_id=r["id"], name=r["name"], role=r["role"], last_one_to_one=last, rpss_dates_last_year=rpss
        )
        due = {w.reason: w.due for w in supervision_due(facts, today, far)}
        new = r["role"] in sup["new_practitioner_roles"]
        out.append(
            SupervisionRow(
                staff_id=r["id"],
                name=r["name"],
                role=r["role"],
                team=r["team"],
                last_one_to_one=last,
                one_to_one_weeks=sup["one_to_one_weeks_new_practitioner"] if new else sup["one_to_one_weeks"],
                next_one_to_one=due[SupervisionKind.ONE_TO_ONE.value],
                rpss_held=len(rpss),
                rpss_target=sup["rpss_per_year"],
                observations_held=r["observations"] or 0,
                observations_target=ctx.rules.get("supervision", "rpss_observations_per_year"),
                next_rpss=due.get(SupervisionKind.RPSS.value),
                postponed=r["postponed"] or 0,
                flagged_for_more=new,
                absent_today=r["id"] in absent,
                sessions=tuple(sessions.get(r["id"], ())),
                today=today,
            )
        )
    return out


def _when(ctx: Context, when: datetime | date | str) -> datetime | date:
    """A session time: an aware or London datetime, a date, or typed (``fri 10:30``, ``25/11``)."""
    if isinstance(when, datetime):
        moment = when.replace(tzinfo=LONDON) if when.tzinfo is None else when.astimezone(LONDON)
        if moment < ctx.now:
            raise ValidationError(f"{moment:%d/%m/%Y %H:%M} has passed", field="when")
        return moment
    if isinstance(when, date):
        if when < ctx.today:
            raise ValidationError(f"{when:%d/%m/%Y} has passed", field="when")
        return when
    value = parse_meeting(ctx, when)
    if isinstance(value, datetime) and value < ctx.now:
        raise ValidationError(f"{value:%d/%m/%Y %H:%M} has passed", field="when")
    return value


def _on_working_day(when: datetime | date, field: str) -> None:
    """Refuse a session on a weekend or an England & Wales bank holiday."""
    day = _day(when)
    why = not_working_because(day)
    if why:
        raise ValidationError(f"{day:%a %d/%m/%Y} is {why}: choose a working day", field=field)


def booking_echo(ctx: Context, text: str) -> str:
    """What the booking and postponing prompts show as they are typed: ``= Fri 04/12/2026 10:30``,
    or why that time cannot be booked (past, a weekend, a bank holiday); empty while nothing is typed."""
    if not (text or "").strip():
        return ""
    try:
        moment = _when(ctx, text)
        _on_working_day(moment, "when")
    except ValidationError as error:
        return str(error)
    return f"= {_show(moment)}"


def _not_yet(ctx: Context, booked: datetime | date) -> bool:
    """True before a booked session's time (a day booked without a time: before that day)."""
    if isinstance(booked, datetime):
        return ctx.now < booked
    return ctx.today < booked


def session_not_yet_due(ctx: Context, item_id: str) -> str | None:
    """For the screen's question before recording: the booked time, shown, if it is still to come."""
    item = queries.get_item(ctx.db, item_id)
    booked = _scheduled(item["detail"].get("scheduled_for")) if item["kind"] == "supervision" else None
    return _show(booked) if booked is not None and _not_yet(ctx, booked) else None


def _stamp(when: datetime | date) -> str:
    return to_iso(when) if isinstance(when, datetime) else when.isoformat()


def _day(when: datetime | date) -> date:
    return when.date() if isinstance(when, datetime) else when


def _show(when: datetime | date) -> str:
    return f"{when:%a %d/%m/%Y %H:%M}" if isinstance(when, datetime) else f"{when:%a %d/%m/%Y}"


def book_supervision(
    ctx: Context, practitioner: str, kind: str, when: datetime | date | str, observation: bool = False
) -> ActionResult:
    """Book a one-to-one or an RPSS session (``observation``: an RPSS held as a live observation).

    ``when`` is a time (``fri 10:30``, an aware datetime) or a day. The practitioner's session of that
    kind already in the queue (made by the rules) is given the time; a second booking of the same
    kind is refused (postpone the first to move it). A day the practitioner is absent is refused.
    """
    ctx.require("supervision")
    pp = resolve_staff(ctx, practitioner, "practitioner", PRACTITIONER_ROLE_VALUES)
    sv_kind = parse_enum(SupervisionKind, kind, "kind")
    if observation and sv_kind != SupervisionKind.RPSS:
        raise ValidationError("only an RPSS session can be a live observation", field="observation")
    moment = _when(ctx, when)
    _on_working_day(moment, "when")
    day = _day(moment)
    away = team_queries.absence_on(ctx.db, pp["id"], day)
    if away:
        raise ValidationError(
            f"{pp['name']} is absent on {day:%d/%m/%Y} ({away['reason'] or 'absence'} to "
            f"{date.fromisoformat(away['end_date']):%d/%m/%Y})",
            field="when",
        )
    existing = [s for s in team_queries.open_sessions(ctx.db, pp["id"]) if s["kind"] == sv_kind.value]
    booked = [s for s in existing if s["scheduled_for"]]
    if booked:
        at = _scheduled(booked[0]["scheduled_for"])
        assert at is not None  # booked: it has a time
        raise NotAllowed(f"'{booked[0]['title']}' is already booked for {_show(at)}: postpone it to move it")
    detail = {"scheduled_for": _stamp(moment), "observation": int(bool(observation))}
    with ctx.db.atomic():
        if existing:
            item = queries.get_item(ctx.db, existing[0]["id"])
            item_id = item["id"]
            audit_id = change_item(
                ctx, "book_supervision", item, item_changes={"due": day.isoformat()}, detail_changes=detail
            )
        else:
            label = "One-to-one with" if sv_kind == SupervisionKind.ONE_TO_ONE else "RPSS with"
            title = f"{label} {pp['name']}" + (" (live observation)" if observation else "")
            row = {
                "kind": ItemKind.SUPERVISION.value,
                "crn": None,
                "title": title,
                "due": day.isoformat(),
                "status": "open",
                "created_at": ctx.now_iso,
            }
            full = {"practitioner_id": pp["id"], "kind": sv_kind.value, "held_on": None, "postponed": 0, **detail}
            item_id = writes.insert_item(ctx.db, row, full)
            audit_id = audit(ctx, "book_supervision", "item", item_id, new={"item": row, "detail": full})
    return ActionResult(
        f"{sv_kind.label} with {pp['name']} booked for {_show(moment)}", item_id=item_id, audit_id=audit_id
    )


def postpone_supervision(ctx: Context, item_id: str, until: datetime | date | str, reason: str = "") -> ActionResult:
    """Move a supervision session to a later day (or time): counted as postponed in the planner.

    A day given without a time keeps the session's time of day. The reason, if given, is kept in the audit.
    """
    ctx.require("supervision")
    item = load_open_item(ctx, item_id, "supervision")
    reason = intake.optional_text(reason, "reason")
    moment = _when(ctx, until)
    old = _scheduled(item["detail"]["scheduled_for"])
    if isinstance(moment, date) and not isinstance(moment, datetime) and isinstance(old, datetime):
        moment = datetime.combine(moment, old.timetz().replace(tzinfo=None), LONDON)
    _on_working_day(moment, "until")
    old_day = _day(old) if old else (date.fromisoformat(item["due"]) if item["due"] else None)
    if old_day is not None and _day(moment) <= old_day and old_day >= ctx.today:
        raise ValidationError(f"postpone to a day after {old_day:%d/%m/%Y}", field="until")
    away = team_queries.absence_on(ctx.db, item["detail"]["practitioner_id"], _day(moment))
    if away:
        name = queries.get_staff(ctx.db, item["detail"]["practitioner_id"])["name"]
        raise ValidationError(
            f"{name} is absent on {_day(moment):%d/%m/%Y} ({away['reason'] or 'absence'})", field="until"
        )
    with ctx.db.atomic():
        audit_id = change_item(
            ctx,
            "postpone_supervision",
            item,
            item_changes={"due": _day(moment).isoformat()},
            detail_changes={"scheduled_for": _stamp(moment), "postponed": (item["detail"]["postponed"] or 0) + 1},
            extra_new={"reason": reason} if reason else None,
        )
    return ActionResult(f"{item['title']} postponed to {_show(moment)}", item_id=item_id, audit_id=audit_id)


@dataclass(frozen=True)
class CaseDiscussed:
    """A case discussed in a supervision session: what was discussed and the decision or guidance."""

    crn: str
    discussed: str
    decision: str
    outcome: str = "guidance_given"


def _cases_discussed(ctx: Context, cases: list[Any]) -> list[CaseDiscussed]:
    out: list[CaseDiscussed] = []
    seen: set[str] = set()
    for n, given in enumerate(cases, start=1):
        if isinstance(given, CaseDiscussed):
            case = given
        else:
            try:
                case = CaseDiscussed(*given)
            except TypeError:
                raise ValidationError(
                    f"case {n}: give the CRN, what was discussed and the decision", field=f"case_{n}"
                ) from None
        try:
            crn = normalise_crn(case.crn)
            if not queries.case_exists(ctx.db, crn):
                raise ValidationError(f"no case with CRN {crn}", field="crn")
            if crn in seen:
                raise ValidationError(f"{crn} is listed twice", field="crn")
            _, outcome, discussed, decision = decisions.check_oversight_fields(
                OversightType.MANAGEMENT_OVERSIGHT.value, case.outcome, case.discussed, case.decision
            )
        except ValidationError as error:
            raise ValidationError(f"case {n}: {error}", field=f"case_{n}_{error.field or 'crn'}") from None
        seen.add(crn)
        out.append(CaseDiscussed(crn, discussed, decision, outcome.value))
    return out


def record_supervision(
    ctx: Context,
    item_id: str,
    cases: Sequence[CaseDiscussed | tuple[str, str, str] | tuple[str, str, str, str]],
    *,
    summary: str = "",
    minutes: int | None = None,
    early: bool = False,
) -> ActionResult:
    """Record a supervision session as held today: the session's own oversight entry (closing the
    item, ``held_on`` today) and one oversight entry per case discussed, in one transaction.

    A session is recorded on or after its booked time. Before it, the record is refused
    (NotAllowed, naming the booked time) unless ``early`` says the session really was brought
    forward (the screen asks); even then a session booked for a later day needs a case discussed
    or a summary of what was said: a future session is never recorded as "0 cases discussed".

    Each case is ``(crn, discussed, decision)`` (optionally an outcome, default ``guidance_given``)
    or a ``CaseDiscussed``. Every entry goes through ``decisions.record_oversight``, so a case's
    calendar touch points are met as by any other oversight. ``oversight_id`` of the result is the
    session's entry; ``created_ids`` are the cases' entries, in the order given.
    """
    ctx.require("record_oversight")
    item = load_open_item(ctx, item_id, "supervision")
    discussed_cases = _cases_discussed(ctx, list(cases))
    if minutes is not None and (not isinstance(minutes, int) or minutes < 0 or minutes > 600):
        raise ValidationError("minutes must be a whole number from 0 to 600", field="minutes")
    booked = _scheduled(item["detail"]["scheduled_for"])
    if booked is not None and _not_yet(ctx, booked):
        if not early:
            raise NotAllowed(f"this session is booked for {_show(booked)}: record it once it has been held")
        if _day(booked) > ctx.today and not discussed_cases and not (summary or "").strip():
            raise ValidationError(
                f"this session is booked for {_show(booked)}: to record it as held today, list the cases "
                "discussed or summarise the session",
                field="summary",
            )
    pp = queries.get_staff(ctx.db, item["detail"]["practitioner_id"])
    kind = SupervisionKind(item["detail"]["kind"])
    what = f"{kind.label} with {pp['name']}" + (" (live observation)" if item["detail"]["observation"] else "")
    crns = [c.crn for c in discussed_cases]
    session_text = f"{what}. Cases discussed: {', '.join(crns)}." if crns else f"{what}."
    default = "Session held; each case discussed has its own entry." if crns else "Session held."
    with ctx.db.atomic():
        session = decisions.record_oversight(
            ctx,
            item_id=item_id,
            outcome="agreed",
            discussed=session_text,
            decision=(summary or "").strip() or default,
            minutes=minutes,
        )
        entries = [
            decisions.record_oversight(
                ctx,
                crn=c.crn,
                outcome=c.outcome,
                discussed=f"In {kind.label.lower()} with {pp['name']}: {c.discussed}",
                decision=c.decision,
            ).oversight_id
            for c in discussed_cases
        ]
        audit_id = audit(
            ctx,
            "record_supervision",
            "item",
            item_id,
            new={"oversight_ids": [session.oversight_id, *entries], "cases": crns},
        )
    n = len(entries)
    return ActionResult(
        f"{what} recorded, {n} case{'s' if n != 1 else ''} discussed",
        item_id=item_id,
        audit_id=audit_id,
        oversight_id=session.oversight_id,
        created_ids=tuple(cast("list[str]", entries)),  # record_oversight always names the entry it made
    )
