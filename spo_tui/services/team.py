"""The team as the SPO oversees it: supervision, caseloads, oversight coverage, time, trends, the monthly pack.

Reads are set-based (``spo_tui.store.team_queries``: a handful of GROUP BY queries per call) and
return frozen dataclasses; writes validate first, then write in one transaction with their audit
row. ``team`` (a ``staff.team`` name, e.g. ``ctx.decider["team"]``) narrows a read to one team's
practitioners and their cases; None reads the whole store. Supervision (planning, booking,
recording) is in ``spo_tui.services.supervision``, re-exported here.

Decisions recorded here:

- RPSS sessions and observations are counted over the last 12 months (365 days), as the rules that
  put RPSS in the queue count them (``refresh_due_work``), not per calendar year.
- A case is *seen* when it has an oversight entry from the same date ``days`` ago up to today that
  is not a withdrawal and has not been withdrawn. Waived touch points count: a manager looked and
  decided. Coverage counts the current caseload (commenced, not ended).
- Where the SPO's time goes counts the oversight entries the SPO decided (a CASPO's entries on
  their behalf included), and non-operational tasks closed without being delegated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from dateutil.relativedelta import relativedelta

from spo_tui.domain.coverage import Coverage, Series, Trends, build_coverage, median, percent
from spo_tui.domain.dates import from_iso
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.markdown import MonthlyPack, monthly_markdown
from spo_tui.domain.vocab import (
    ITEM_KIND_LABELS,
    PRACTITIONER_ROLE_VALUES,
    ItemKind,
    normalise_crn,
)
from spo_tui.services import intake
from spo_tui.services.base import ActionResult
from spo_tui.services.context import LONDON, Context
from spo_tui.services.rhythm import checkin_actions, escalation_threads, team_notes
from spo_tui.services.supervision import (
    YEAR_DAYS,
    CaseDiscussed,
    Session,
    SupervisionRow,
    book_supervision,
    booking_echo,
    postpone_supervision,
    record_supervision,
    session_not_yet_due,
    supervision_plan,
)
from spo_tui.store import queries, team_queries

__all__ = [
    "YEAR_DAYS",
    "CaseDiscussed",
    "DelegatedTask",
    "PractitionerRow",
    "RoshCounts",
    "Session",
    "SupervisionRow",
    "TimeCategory",
    "TimeSpent",
    "UnseenCase",
    "Coverage",
    "Trends",
    "MonthlyPack",
    "book_supervision",
    "booking_echo",
    "coverage",
    "make_touch_point_for",
    "monthly_export",
    "monthly_pack",
    "postpone_supervision",
    "record_supervision",
    "session_not_yet_due",
    "supervision_plan",
    "team_overview",
    "time_spent",
    "trends",
    "unseen_cases",
]


def _days(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{field} must be a whole number from {low} to {high}, not {value!r}", field=field)
    return value


def _local_date(stamp: str | None) -> date | None:
    return from_iso(stamp).astimezone(LONDON).date() if stamp else None


# --- Team overview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoshCounts:
    low: int = 0
    medium: int = 0
    high: int = 0
    very_high: int = 0

    @property
    def total(self) -> int:
        return self.low + self.medium + self.high + self.very_high

    def as_dict(self) -> dict[str, int]:
        return {"LOW": self.low, "MEDIUM": self.medium, "HIGH": self.high, "VERY_HIGH": self.very_high}


@dataclass(frozen=True)
class PractitionerRow:
    """One practitioner on the team dashboard."""

    staff_id: str
    name: str
    role: str
    team: str
    fte: float
    oasys_approved: bool
    absent_today: bool
    cases: RoshCounts  # current cases by RoSH
    unseen: int  # of which no oversight entry in the coverage window
    open_sbars: int  # raised and not yet closed (waiting for information included)
    overdue_touch_points: int  # open touch points on their cases due before today
    countersigns_waiting: int  # their work awaiting a countersignature
    supervision: SupervisionRow


def team_overview(ctx: Context, team: str | None = None, days: int = 90) -> list[PractitionerRow]:
    """Per active practitioner (by name): caseload by RoSH and how much of it is unseen in ``days``,
    open SBARs, overdue touch points, countersigning waiting, OASys approval and supervision.
    ``team``: default the acting person's (``Context.team``; every team for a PDU head)."""
    team = team if team is not None else ctx.team
    days = _days(days, "days", 1, 3650)
    today = ctx.today
    plan = supervision_plan(ctx, team)
    staff = {r["id"]: r for r in queries.staff_list(ctx.db, PRACTITIONER_ROLE_VALUES)}
    loads = {r["practitioner_id"]: r for r in team_queries.caseloads(ctx.db, today, today - timedelta(days=days), team)}
    work = {r["who"]: r for r in team_queries.practitioner_work(ctx.db, today)}
    out = []
    for sv in plan:
        load, w, person = loads.get(sv.staff_id, {}), work.get(sv.staff_id, {}), staff.get(sv.staff_id, {})
        out.append(
            PractitionerRow(
                staff_id=sv.staff_id,
                name=sv.name,
                role=sv.role,
                team=sv.team,
                fte=person.get("fte", 1.0),
                oasys_approved=bool(person.get("oasys_approved")),
                absent_today=sv.absent_today,
                cases=RoshCounts(
                    load.get("low") or 0, load.get("medium") or 0, load.get("high") or 0, load.get("very_high") or 0
                ),
                unseen=load.get("unseen") or 0,
                open_sbars=w.get("open_sbars") or 0,
                overdue_touch_points=w.get("overdue_touch_points") or 0,
                countersigns_waiting=w.get("countersigns_waiting") or 0,
                supervision=sv,
            )
        )
    return out


# --- Coverage ------------------------------------------------------------------------------------


def coverage(ctx: Context, days: int = 90, as_of: date | None = None, team: str | None = None) -> Coverage:
    """Share of the current caseload with an oversight entry in the last ``days`` days, by RoSH, by
    the inspectorate's bands (low, medium, high/very high) and overall, with the share that looks
    sufficient (``coverage_counts``) and what the inspectorate found beside it (a finding, not a target).

    ``as_of`` (default today) looks back: cases current then, entries up to then (RoSH as it is now).
    ``team`` (default: the acting person's, ``Context.team``; every team for a PDU head).
    """
    team = team if team is not None else ctx.team
    days = _days(days, "days", 1, 3650)
    as_of = as_of or ctx.today
    since = as_of - timedelta(days=days)
    return build_coverage(as_of, since, days, team_queries.coverage_counts(ctx.db, as_of, since, team))


@dataclass(frozen=True)
class UnseenCase:
    """A current case no manager has looked at in the window: the dashboard's "not seen" list."""

    crn: str
    name: str
    rosh: str
    practitioner: str | None
    sentence_type: str
    sentence_start: date
    last_oversight: date | None  # None: never
    days_since: int | None  # days since the last oversight entry (None: never)
    touch_point_id: str | None  # the case's open touch point, if it has one
    touch_point_due: date | None


def unseen_cases(ctx: Context, days: int = 90, limit: int | None = None, team: str | None = None) -> list[UnseenCase]:
    """Current cases with no oversight entry in the last ``days`` days, oldest first: never seen,
    then the longest since the last entry, then the earliest sentence start. Each is one keystroke
    from a touch point (``make_touch_point_for``). ``team``: default the acting person's (``Context.team``)."""
    team = team if team is not None else ctx.team
    days = _days(days, "days", 1, 3650)
    if limit is not None:
        limit = _days(limit, "limit", 1, 1_000_000)
    today = ctx.today
    out = []
    for r in team_queries.unseen_cases(ctx.db, today, today - timedelta(days=days), team, limit):
        last = _local_date(r["last"])
        out.append(
            UnseenCase(
                crn=r["crn"],
                name=r["name"],
                rosh=r["rosh"],
                practitioner=r["practitioner"],
                sentence_type=r["sentence_type"],
                sentence_start=date.fromisoformat(r["sentence_start"]),
                last_oversight=last,
                days_since=(today - last).days if last else None,
                touch_point_id=r["touch_point_id"],
                touch_point_due=date.fromisoformat(r["touch_point_due"]) if r["touch_point_due"] else None,
            )
        )
    return out


def make_touch_point_for(ctx: Context, crn: str, note: str = "") -> ActionResult:
    """A touch point due today on a case (from the "not seen" list): responsive oversight.

    Refused when the case already has an open touch point (act on that one, or bring it forward).
    """
    ctx.require("maintain")
    crn = normalise_crn(crn)
    if not queries.case_exists(ctx.db, crn):
        raise ValidationError(f"no case with CRN {crn}", field="crn")
    for tp in queries.open_items_for_case(ctx.db, crn, "touch_point"):
        due = f", due {date.fromisoformat(tp['due']):%d/%m/%Y}" if tp["due"] else ""
        raise NotAllowed(f"{crn} already has an open touch point ('{tp['title']}'{due}): act on that one")
    last = _local_date(team_queries.last_seen(ctx.db, crn, ctx.today))
    title = (note or "").strip() or (
        f"Not seen by a manager since {last:%d/%m/%Y}" if last else "No management oversight recorded yet"
    )
    return intake.add_touch_point(ctx, crn, ctx.today, title)


# --- Where the SPO's time goes -------------------------------------------------------------------

TIME_CATEGORIES = (
    ("oversight", "Case oversight"),
    ("supervision", "Supervision sessions"),
    ("countersigning", "Countersigning"),
    ("tasks", "Non-operational tasks"),
)


@dataclass(frozen=True)
class TimeCategory:
    key: str  # oversight, supervision, countersigning, tasks
    label: str
    minutes: int
    entries: int  # oversight entries, or tasks done
    without_minutes: int  # of which no minutes were recorded
    percent: float | None  # share of all minutes recorded


@dataclass(frozen=True)
class DelegatedTask:
    item_id: str
    title: str
    category: str
    delegated_to: str | None
    delegated_role: str | None
    delegated_on: date
    status: str  # waiting (with the delegate), open or closed
    done_on: date | None
    minutes: int | None


@dataclass(frozen=True)
class TimeSpent:
    """Where the SPO's recorded time went from ``since`` to ``until`` (both included), and what was delegated."""

    since: date
    until: date
    categories: tuple[TimeCategory, ...]
    delegated: tuple[DelegatedTask, ...]

    @property
    def total_minutes(self) -> int:
        return sum(c.minutes for c in self.categories)

    @property
    def delegated_count(self) -> int:
        return len(self.delegated)

    def category(self, key: str) -> TimeCategory:
        return next(c for c in self.categories if c.key == key)


def time_spent(ctx: Context, weeks: int = 4, team: str | None = None) -> TimeSpent:
    """Minutes recorded over the last ``weeks`` weeks (today included) on case oversight, supervision,
    countersigning and non-operational tasks, with the tasks delegated in that time. Oversight minutes
    are the decider's own; tasks are those of ``team``'s queue (default: the acting person's team;
    every team for a PDU head)."""
    team = team if team is not None else ctx.team
    weeks = _days(weeks, "weeks", 1, 104)
    until = ctx.today
    since = until - timedelta(days=7 * weeks - 1)
    rows = {r["category"]: r for r in team_queries.oversight_minutes(ctx.db, ctx.decider["id"], since, until)}
    rows["tasks"] = team_queries.task_minutes(ctx.db, since, until, team)
    total = sum(r["minutes"] or 0 for r in rows.values())
    categories = tuple(
        TimeCategory(
            key,
            label,
            rows.get(key, {}).get("minutes") or 0,
            rows.get(key, {}).get("entries") or 0,
            rows.get(key, {}).get("without_minutes") or 0,
            percent(rows.get(key, {}).get("minutes") or 0, total),
        )
        for key, label in TIME_CATEGORIES
    )
    delegated = tuple(
        DelegatedTask(
            item_id=r["id"],
            title=r["title"],
            category=r["category"],
            delegated_to=r["delegated_to"],
            delegated_role=r["delegated_role"],
            delegated_on=cast(date, _local_date(r["delegated_at"])),  # the query reads delegated tasks only
            status=r["status"],
            done_on=_local_date(r["closed_at"]),
            minutes=r["minutes_spent"],
        )
        for r in team_queries.delegated_tasks(ctx.db, since, until, team)
    )
    return TimeSpent(since=since, until=until, categories=categories, delegated=delegated)


# --- Trends --------------------------------------------------------------------------------------


def trends(ctx: Context, weeks: int = 8, end: date | None = None, team: str | None = None) -> Trends:
    """Weekly trends over ``weeks`` weeks ending ``end`` (default today): open work per queue kind at
    each week's end (from items' created and closed times), and the median days from submission
    to verdict of the countersigns closed in each week (None in a week with none). The items are
    those of ``team``'s queue (default: the acting person's team; every team for a PDU head)."""
    team = team if team is not None else ctx.team
    weeks = _days(weeks, "weeks", 1, 104)
    end = end or ctx.today
    week_ends = [end - timedelta(days=7 * (weeks - 1 - k)) for k in range(weeks)]
    # Entries waiting to be confirmed are a check on the record, not the team's workload: not a trend.
    counts = {kind.value: [0] * weeks for kind in ItemKind if kind != ItemKind.CONFIRM}
    for kind, *per_week in team_queries.backlog_by_week(ctx.db, week_ends, team):
        if kind in counts:
            counts[kind] = [n or 0 for n in per_week]
    backlog = tuple(Series(k, ITEM_KIND_LABELS.get(ItemKind(k), k), tuple(v)) for k, v in counts.items())
    first = week_ends[0] - timedelta(days=6)
    buckets: list[list[float]] = [[] for _ in range(weeks)]
    for day, days_taken in team_queries.countersigns_closed(ctx.db, first, end, team):
        buckets[(date.fromisoformat(day) - first).days // 7].append(days_taken)
    turnaround = tuple(round(m, 1) if (m := median(b)) is not None else None for b in buckets)
    return Trends(
        week_ends=tuple(week_ends),
        backlog=backlog,
        countersign_turnaround=Series("countersign_turnaround", "Countersign turnaround (median days)", turnaround),
        countersigns_closed=Series("countersigns_closed", "Countersigns closed", tuple(len(b) for b in buckets)),
    )


# --- The monthly meeting -------------------------------------------------------------------------


def monthly_pack(ctx: Context, month_end: date | None = None, team: str | None = None) -> MonthlyPack:
    """What the monthly meeting reads back for the month ending ``month_end`` (default today; the
    month starts the day after the same date a month earlier): escalations raised at check-ins and
    their answers, learning and near misses, check-in actions and where they stand, oversight
    coverage a month ago and now, and the eight-week trends: all of ``team`` (default: the acting
    person's team; every team for a PDU head)."""
    team = team if team is not None else ctx.team
    end = month_end or ctx.today
    if end > ctx.today:
        raise ValidationError(f"the month cannot end after today ({ctx.today:%d/%m/%Y})", field="month_end")
    month_ago = end - relativedelta(months=1)
    start = month_ago + timedelta(days=1)
    notes = team_notes(ctx, start, end, ("learning", "near_miss"), team)
    return MonthlyPack(
        period_start=start,
        period_end=end,
        escalations=escalation_threads(ctx, start, end, team),
        learning=tuple(n for n in notes if n.kind == "learning"),
        near_misses=tuple(n for n in notes if n.kind == "near_miss"),
        actions=checkin_actions(ctx, start, end, team),
        coverage_start=coverage(ctx, as_of=month_ago, team=team),
        coverage_end=coverage(ctx, as_of=end, team=team),
        trends=trends(ctx, end=end, team=team),
    )


def monthly_export(ctx: Context, month_end: date | None = None, team: str | None = None) -> str:
    """The monthly pack as Markdown (``domain.markdown.monthly_markdown``)."""
    return monthly_markdown(monthly_pack(ctx, month_end, team))
