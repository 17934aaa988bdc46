"""The configurable rules: when touch points, supervision and other work fall due.

``Rules`` is built from the dict read from ``data/rules.toml`` (and the user's override, merged key
by key). The functions here are pure: given the facts of a case or a practitioner and today's
date, they return the work that is due, each with a stable ``key`` so the store can create it once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from dateutil.rrule import WEEKLY, rrule

from spo_tui.domain.court import rules_problem as court_rules_problem
from spo_tui.domain.dates import add_working_days, next_working_day
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.urgency import weights_problem
from spo_tui.domain.vocab import (
    FACILITIES_CATEGORIES,
    CountersignKind,
    RoSH,
    SentenceType,
    SupervisionKind,
    TaskCategory,
    TouchPointReason,
)


def merge_config(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base``: tables merge, values replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class UnknownName:
    """A section or key in a user's rules file that the shipped rules do not have.

    ``path`` is where it is (``("touch_point",)``, ``("urgency", "kinds")``, ``("tasks", "facilites")``);
    ``section`` is True for a table; ``message`` says what is wrong, without the file or line (the
    code that read the file knows those).
    """

    path: tuple[str, ...]
    section: bool
    message: str


def _table_name(path: tuple[str, ...]) -> str:
    return "[" + ".".join(path) + "]"


def unknown_name(known: dict[str, Any], given: dict[str, Any], at: tuple[str, ...] = ()) -> UnknownName | None:
    """The first section or key of ``given`` (a user's rules) that ``known`` (the shipped rules) lacks,
    with the nearest known name; or a known section given as a plain value. None when all are known."""
    for key, value in given.items():
        path = (*at, key)
        if key not in known:
            is_table = isinstance(value, dict)
            same_kind = [k for k, v in known.items() if isinstance(v, dict) == is_table]
            near = difflib.get_close_matches(key, same_kind, n=1)
            if is_table:
                hint = f"; did you mean {_table_name((*at, near[0]))}?" if near else ""
                return UnknownName(path, True, f"unknown section {_table_name(path)}{hint}")
            where = f" in {_table_name(at)}" if at else " (outside any section)"
            hint = f"; did you mean {near[0]}?" if near else ""
            return UnknownName(path, False, f"unknown key {key}{where}{hint}")
        if isinstance(known[key], dict):
            if not isinstance(value, dict):
                return UnknownName(path, False, f"{_table_name(path)} must be a section, not a value ({value!r})")
            found = unknown_name(known[key], value, path)
            if found is not None:
                return found
    return None


#: The shortest ``[sync] interval_seconds``: more often would keep every device's hub busy for nothing
#: (a save is sent a couple of seconds after it is made anyway).
MIN_SYNC_INTERVAL = 10


@dataclass(frozen=True)
class Rules:
    """Every configurable number, read from the rules file."""

    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rules:
        """Build and check the rules; a missing or mistyped value raises ValidationError."""
        rules = cls(raw=data)
        rules._check()
        return rules

    def _check(self) -> None:
        for section, key in [
            ("touch_points", "first_within_days"),
            ("touch_points", "quarterly_months"),
            ("supervision", "one_to_one_weeks"),
            ("supervision", "rpss_per_year"),
            ("tasks", "facilities_working_days"),
            ("countersign", "psr_working_days_before_court"),
        ]:
            value = self.get(section, key)
            if not isinstance(value, int) or value < 0:
                raise ValidationError(f"rules: [{section}] {key} must be a whole number, not {value!r}")
        catch_up = self.raw.get("touch_points", {}).get("catch_up_after_days")
        if not isinstance(catch_up, int) or isinstance(catch_up, bool) or catch_up < 0:
            raise ValidationError(
                f"rules: [touch_points] catch_up_after_days must be a whole number, 0 or more, not {catch_up!r}"
            )
        interval = self.raw.get("sync", {}).get("interval_seconds")
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < MIN_SYNC_INTERVAL:
            raise ValidationError(
                f"rules: [sync] interval_seconds must be a whole number of seconds, {MIN_SYNC_INTERVAL} or more, "
                f"not {interval!r}"
            )
        problem = court_rules_problem(self.raw)
        if problem:
            raise ValidationError(f"rules: {problem}")
        problem = weights_problem(self.raw.get("urgency", {}))
        if problem:
            raise ValidationError(f"rules: {problem}")
        for level in self.get("touch_points", "quarterly_rosh"):
            if level not in {r.value for r in RoSH}:
                raise ValidationError(f"rules: [touch_points] quarterly_rosh: unknown RoSH level {level!r}")

    def get(self, section: str, key: str) -> Any:
        try:
            return self.raw[section][key]
        except KeyError:
            raise ValidationError(f"rules: [{section}] {key} is missing") from None

    # Convenience accessors for the values used in more than one place.
    @property
    def urgency(self) -> dict[str, Any]:
        return self.raw["urgency"]

    @property
    def protected_hour(self) -> dict[str, Any]:
        return self.raw["protected_hour"]


# --- Touch points --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What the touch-point rules need to know about one case."""

    crn: str
    rosh: RoSH
    sentence_type: SentenceType
    sentence_start: date
    sentence_end: date | None
    last_oversight: date | None = None
    flags: tuple[tuple[str, date | None], ...] = ()


def is_catch_up(due: date, today: date, rules: Rules) -> bool:
    """True if a touch point due on ``due`` and reaching the queue ``today`` goes on the catch-up
    list: it is overdue by more than ``[touch_points] catch_up_after_days`` already. That happens
    when a case comes into the store after its touch points fell due: a caseload imported on day
    one, a case transferred in or added by hand late, a store nobody opened for weeks. Such work
    is inherited backlog, worked through on its own list rather than put above today's work."""
    return (today - due).days > rules.get("touch_points", "catch_up_after_days")


@dataclass(frozen=True)
class DueWork:
    """A piece of rule-made work: its stable key, reason, due date and title."""

    key: str
    reason: str
    due: date
    title: str


def calendar_touch_points(case: CaseFacts, today: date, rules: Rules) -> list[DueWork]:
    """Touch points the calendar makes due for ``case`` within the look-ahead window.

    First touch point: ``first_within_days`` after commencement, unless a manager has already looked.
    Quarterly: ``quarterly_months`` after the last oversight (or commencement) for high/very high RoSH.
    Release: within ``release_within_days`` of release on licence. Termination: before the end date.
    Registrations: at their review date.
    """
    tp = rules.raw["touch_points"]
    horizon = today + timedelta(days=tp["lookahead_days"])
    seen_since_start = case.last_oversight is not None and case.last_oversight >= case.sentence_start
    out: list[DueWork] = []

    if not seen_since_start:
        due = case.sentence_start + timedelta(days=tp["first_within_days"])
        if due <= horizon and case.sentence_start > today - timedelta(days=365):
            out.append(_tp(case, TouchPointReason.COMMENCEMENT, due, str(case.sentence_start)))
        if case.sentence_type == SentenceType.LICENCE:
            due = case.sentence_start + timedelta(days=tp["release_within_days"])
            if due <= horizon and case.sentence_start > today - timedelta(days=90):
                out.append(_tp(case, TouchPointReason.RELEASE, due, str(case.sentence_start)))

    if case.rosh.value in tp["quarterly_rosh"]:
        since = max(case.last_oversight or case.sentence_start, case.sentence_start)
        due = since + relativedelta(months=tp["quarterly_months"])
        if due <= horizon:
            out.append(_tp(case, TouchPointReason.QUARTERLY, due, str(due)))

    if case.sentence_end is not None and case.sentence_end >= today:
        due = case.sentence_end - timedelta(days=tp["before_termination_days"])
        if due <= horizon:
            out.append(_tp(case, TouchPointReason.TERMINATION, max(due, case.sentence_start), str(case.sentence_end)))

    lookahead = timedelta(days=rules.get("flags", "review_lookahead_days"))
    for code, review in case.flags:
        if review is not None and review <= today + lookahead:
            out.append(
                DueWork(
                    key=f"tp:flag_review:{case.crn}:{code}:{review}",
                    reason=TouchPointReason.FLAG_REVIEW.value,
                    due=review,
                    title=f"Review {code} registration",
                )
            )
    return out


def _tp(case: CaseFacts, reason: TouchPointReason, due: date, anchor: str) -> DueWork:
    return DueWork(key=f"tp:{reason.value}:{case.crn}:{anchor}", reason=reason.value, due=due, title=reason.label)


def risk_rise_touch_point(
    crn: str, what: TouchPointReason, old: str, new: str, today: date, stamp: str, rules: Rules
) -> DueWork:
    """The touch point an event makes: a rise in RoSH or MAPPA level, due in a few working days."""
    due = add_working_days(today, rules.get("touch_points", "rise_within_working_days"))
    label = "RoSH" if what == TouchPointReason.ROSH_RISE else "MAPPA level"
    return DueWork(
        key=f"tp:{what.value}:{crn}:{stamp}", reason=what.value, due=due, title=f"{label} rose {old} → {new}"
    )


def is_rise(old: RoSH | None, new: RoSH) -> bool:
    """True when RoSH goes up (a new case is not a rise)."""
    return old is not None and new.rank > old.rank


# --- Supervision ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PractitionerFacts:
    staff_id: str
    name: str
    role: str
    last_one_to_one: date | None
    rpss_dates_last_year: tuple[date, ...] = ()


def supervision_due(pp: PractitionerFacts, today: date, rules: Rules) -> list[DueWork]:
    """One-to-one every ``one_to_one_weeks`` (sooner for new practitioners) and RPSS ``rpss_per_year``.

    Dates come from ``dateutil.rrule`` stepping in whole weeks from the last session, moved on to
    the next working day when they fall on a weekend or an England & Wales bank holiday: the
    planner never proposes a session on a day no one is at work.
    """
    sup = rules.raw["supervision"]
    horizon = today + timedelta(days=sup["lookahead_days"])
    out: list[DueWork] = []
    weeks = (
        sup["one_to_one_weeks_new_practitioner"]
        if pp.role in sup["new_practitioner_roles"]
        else sup["one_to_one_weeks"]
    )
    if pp.last_one_to_one is None:
        due = today
    else:
        due = rrule(WEEKLY, interval=weeks, dtstart=pp.last_one_to_one, count=2)[1].date()
    due = next_working_day(due)
    if due <= horizon:
        out.append(
            DueWork(
                key=f"sup:{SupervisionKind.ONE_TO_ONE.value}:{pp.staff_id}:{due}",
                reason=SupervisionKind.ONE_TO_ONE.value,
                due=due,
                title=f"One-to-one with {pp.name}",
            )
        )
    per_year = sup["rpss_per_year"]
    if per_year and len(pp.rpss_dates_last_year) < per_year:
        spacing = max(1, 52 // per_year)
        last = max(pp.rpss_dates_last_year, default=None)
        due = next_working_day(today if last is None else last + timedelta(weeks=spacing))
        if due <= horizon:
            out.append(
                DueWork(
                    key=f"sup:{SupervisionKind.RPSS.value}:{pp.staff_id}:{due}",
                    reason=SupervisionKind.RPSS.value,
                    due=due,
                    title=f"RPSS with {pp.name} ({len(pp.rpss_dates_last_year)} of {per_year} this year)",
                )
            )
    return out


# --- Deadlines for items raised by people --------------------------------------------------------


def countersign_due(kind: CountersignKind, submitted: date, court_date: date | None, rules: Rules) -> date:
    """When a countersign item is due: PSRs before the court date, others after submission."""
    cs = rules.raw["countersign"]
    if kind == CountersignKind.PSR:
        if court_date is None:
            raise ValidationError("a PSR needs its court date", field="court_date")
        return add_working_days(court_date, -cs["psr_working_days_before_court"])
    days = cs["oasys_working_days"] if kind == CountersignKind.OASYS else cs["other_working_days"]
    return add_working_days(submitted, days)


def task_due(category: TaskCategory, raised: date, rules: Rules) -> date:
    """Facilities jobs get the 10-working-day target; other tasks the default."""
    t = rules.raw["tasks"]
    days = t["facilities_working_days"] if category in FACILITIES_CATEGORIES else t["default_working_days"]
    return add_working_days(raised, days)


def action_due(raised: date, rules: Rules) -> date:
    """Default due date for an agreed action with none given."""
    return raised + timedelta(days=rules.get("actions", "default_days"))
