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
    MAPPA_FLAG,
    CountersignKind,
    Role,
    RoSH,
    SentenceType,
    SupervisionKind,
    TaskCategory,
    TouchPointReason,
)
from spo_tui.domain.workload import workload_problem


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


#: The keys of ``[custody]``, each a whole number of days or months [004].
CUSTODY_KEYS = (
    "pre_release_days",
    "rotl_before_days",
    "handover_before_days",
    "lifer_months",
    "lifer_panel_before_days",
    "vlo_before_days",
)

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
        for key in CUSTODY_KEYS:
            value = self.raw.get("custody", {}).get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValidationError(f"rules: [custody] {key} must be a whole number, 0 or more, not {value!r}")
        if self.raw["custody"]["lifer_months"] < 1:
            raise ValidationError("rules: [custody] lifer_months must be 1 or more, not 0")
        period = self.raw.get("flags", {}).get("default_review_period_months")
        if not isinstance(period, int) or isinstance(period, bool) or not 1 <= period <= 60:
            raise ValidationError(
                f"rules: [flags] default_review_period_months must be a whole number of months, 1 to 60, not {period!r}"
            )
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
        self._check_assurance()
        problem = court_rules_problem(self.raw)
        if problem:
            raise ValidationError(f"rules: {problem}")
        problem = weights_problem(self.raw.get("urgency", {}))
        if problem:
            raise ValidationError(f"rules: {problem}")
        problem = workload_problem(self.raw.get("workload"))
        if problem:
            raise ValidationError(f"rules: {problem}")
        for level in self.get("touch_points", "quarterly_rosh"):
            if level not in {r.value for r in RoSH}:
                raise ValidationError(f"rules: [touch_points] quarterly_rosh: unknown RoSH level {level!r}")

    def _check_assurance(self) -> None:
        """The facilities escalation and R-CAT settings [002 §9, 000 §3.3]: a bad value names its key."""
        roles = {r.value for r in Role}
        stages = self.get("tasks", "escalation_stages")
        if not isinstance(stages, list) or not all(isinstance(s, str) and s in roles for s in stages):
            raise ValidationError(
                f"rules: [tasks] escalation_stages must be a list of roles ({', '.join(sorted(roles))}), not {stages!r}"
            )
        for section, key, least in (
            ("tasks", "escalation_every_working_days", 1),
            ("rcat", "months_between", 1),
            ("rcat", "min_months_supervised", 0),
        ):
            value = self.get(section, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValidationError(
                    f"rules: [{section}] {key} must be a whole number, {least} or more, not {value!r}"
                )
        pp_roles = self.get("rcat", "practitioner_roles")
        if not isinstance(pp_roles, list) or not pp_roles or not all(r in roles for r in pp_roles):
            raise ValidationError(f"rules: [rcat] practitioner_roles must be a list of roles, not {pp_roles!r}")

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

    @property
    def workload(self) -> dict[str, Any]:
        """``[workload]``: case points by tier and RoSH, points per FTE, the 120% line, the spans."""
        return self.raw["workload"]


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
    mappa_level: int | None = None
    #: Has the lifer registration (INLL) [004].
    lifer: bool = False
    #: Custody to community (all optional): the release from prison (expected or actual), the next
    #: release on temporary licence, the OMiC handover, the next lifer panel, and whether the case
    #: is in the victim contact scheme [004, 001].
    release_date: date | None = None
    rotl_date: date | None = None
    handover_date: date | None = None
    lifer_panel_date: date | None = None
    victim_contact: bool = False


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
        if case.sentence_type == SentenceType.LICENCE and case.release_date is None:
            due = case.sentence_start + timedelta(days=tp["release_within_days"])
            if due <= horizon and case.sentence_start > today - timedelta(days=90):
                out.append(_tp(case, TouchPointReason.RELEASE, due, str(case.sentence_start)))

    quarterly = case.rosh.value in tp["quarterly_rosh"]
    if quarterly:
        since = max(case.last_oversight or case.sentence_start, case.sentence_start)
        due = since + relativedelta(months=tp["quarterly_months"])
        if due <= horizon:
            out.append(_tp(case, TouchPointReason.QUARTERLY, due, str(due)))

    out.extend(custody_touch_points(case, today, rules, quarterly=quarterly))

    if case.sentence_end is not None and case.sentence_end >= today:
        due = case.sentence_end - timedelta(days=tp["before_termination_days"])
        if due <= horizon:
            out.append(_tp(case, TouchPointReason.TERMINATION, max(due, case.sentence_start), str(case.sentence_end)))

    lookahead = timedelta(days=rules.get("flags", "review_lookahead_days"))
    for code, review in case.flags:
        if review is not None and review <= today + lookahead:
            # The MAPP registration's review on a level 1 case is the MAPPA level 1 review [000, 001]:
            # named as such (the key stays that of a registration review, so it is made once).
            level1 = code == MAPPA_FLAG and case.mappa_level == 1
            out.append(
                DueWork(
                    key=flag_review_key(case.crn, code, review),
                    reason=(TouchPointReason.MAPPA_L1_REVIEW if level1 else TouchPointReason.FLAG_REVIEW).value,
                    due=review,
                    title="MAPPA level 1 review" if level1 else f"Review {code} registration",
                )
            )
    return out


def flag_review_key(crn: str, code: str, review: date | str) -> str:
    """The key of a registration's review touch point: one per registration and review date."""
    return f"tp:flag_review:{crn}:{code}:{review}"


def flag_review_of(key: str | None) -> tuple[str, str, date] | None:
    """(crn, code, review date) of a registration review's key, or None for any other key."""
    parts = (key or "").split(":")
    if len(parts) != 5 or parts[:2] != ["tp", "flag_review"]:
        return None
    try:
        return parts[2], parts[3], date.fromisoformat(parts[4])
    except ValueError:
        return None


def next_review(review: date, period_months: int, today: date) -> date:
    """A registration's next review date once this review is done: ``period_months`` after the
    review date (the case record's ``reviewPeriodMonths``), or, when the review was done so late that
    this is not after today, that many months from today (the cycle restarts from the review held,
    so the next one does not fall due at once) [000, 001]."""
    after = review + relativedelta(months=period_months)
    return after if after > today else today + relativedelta(months=period_months)


#: Rule-made touch points of which a case may have more than one open: each is tied to its own
#: date (a registration's review, a ROTL, a release), so a second date makes a second item.
ONE_PER_KEY = frozenset(
    r.value
    for r in (
        TouchPointReason.FLAG_REVIEW,
        TouchPointReason.MAPPA_L1_REVIEW,
        TouchPointReason.PRE_RELEASE,
        TouchPointReason.ROTL,
        TouchPointReason.HANDOVER,
        TouchPointReason.LIFER_PANEL,
        TouchPointReason.VLO_CONTACT,
    )
)


#: The custody-to-community dates of a case (columns of ``cases``) and the touch points each makes,
#: keyed by the date itself (``tp:<reason>:<crn>:<date>``) [004].
CUSTODY_DATE_REASONS: dict[str, tuple[TouchPointReason, ...]] = {
    "release_date": (TouchPointReason.PRE_RELEASE, TouchPointReason.VLO_CONTACT, TouchPointReason.RELEASE),
    "rotl_date": (TouchPointReason.ROTL,),
    "handover_date": (TouchPointReason.HANDOVER,),
    "lifer_panel_date": (TouchPointReason.LIFER_PANEL,),
}


def dated_key(reason: TouchPointReason, crn: str, day: date | str) -> str:
    """The key of a touch point tied to one date (a release, a ROTL, a panel): a second date is a
    second item."""
    return f"tp:{reason.value}:{crn}:{day}"


#: Custody dates that hold "the next" of a recurring event: once such a date has passed, the event
#: took place, and a new date is the next one, not the old one moved.
RECURRING_CUSTODY_DATES = frozenset({"rotl_date", "lifer_panel_date"})


def moved_date_keys(crn: str, field: str, old: date | str | None, today: date | None = None) -> list[str]:
    """The keys of the touch points the old value of custody date ``field`` made: when the date
    moves or is cleared, those still open are closed (the refresh makes the new date's) [004].

    With ``today``: a ROTL or lifer panel date already past is an event that took place (the date
    now names the next one), so nothing of it is closed: its point, if still open, is work still to
    do. A release or handover happens once: a date past that moves was an expected date that slipped.
    """
    if not old:
        return []
    if today is not None and field in RECURRING_CUSTODY_DATES and str(old) < today.isoformat():
        return []
    return [dated_key(reason, crn, old) for reason in CUSTODY_DATE_REASONS[field]]


def moved_date_note(label: str, old: date | str, new: date | str | None) -> str:
    """The closing note of a touch point whose date moved: "ROTL moved from 01/12/2026 to
    15/12/2026: the touch point for the new date replaces this one" (or "… cleared")."""

    def shown(day: date | str) -> str:
        return f"{day if isinstance(day, date) else date.fromisoformat(day):%d/%m/%Y}"

    if not new:
        return f"{label} date cleared (was {shown(old)}): this touch point is no longer due"
    return f"{label} date moved from {shown(old)} to {shown(new)}: the touch point for the new date replaces this one"


def custody_touch_points(case: CaseFacts, today: date, rules: Rules, *, quarterly: bool = False) -> list[DueWork]:
    """The touch points of custody to community, within the look-ahead window [004, 001].

    - Pre-release: ``[custody] pre_release_days`` before a release date still ahead.
    - First week: ``[touch_points] release_within_days`` after the release, unless a manager has
      looked since the release (any oversight entry counts); for 90 days after it at most.
    - ROTL and OMiC handover: ``rotl_before_days`` / ``handover_before_days`` before a date ahead.
    - Lifers (INLL): at least every ``lifer_months`` from the last oversight (or commencement),
      unless the quarterly rule already sees the case as often; a lifer panel review is work due
      ``lifer_panel_before_days`` before the panel.
    - Victim contact scheme: a prompt ``vlo_before_days`` before release to make sure the victim
      liaison officer knows (never later than the day before release when the date comes late).
    A date already past makes nothing (but the first-week point), so an old date does not flood
    the catch-up list.
    """
    cu = rules.raw["custody"]
    tp = rules.raw["touch_points"]
    horizon = today + timedelta(days=tp["lookahead_days"])
    out: list[DueWork] = []

    def ahead(event: date | None, before_days: int, reason: TouchPointReason, title: str) -> None:
        if event is None or event < today:
            return
        due = max(event - timedelta(days=before_days), min(today, event))
        if due <= horizon:
            out.append(DueWork(key=dated_key(reason, case.crn, event), reason=reason.value, due=due, title=title))

    release = case.release_date
    if release is not None:
        ahead(
            release,
            cu["pre_release_days"],
            TouchPointReason.PRE_RELEASE,
            f"Release from custody {release:%d/%m/%Y}: pre-release review",
        )
        if case.victim_contact:
            ahead(
                release,
                cu["vlo_before_days"],
                TouchPointReason.VLO_CONTACT,
                f"Victim contact case: check the VLO knows of the release on {release:%d/%m/%Y}",
            )
        seen_since_release = case.last_oversight is not None and case.last_oversight >= release
        due = release + timedelta(days=tp["release_within_days"])
        if not seen_since_release and due <= horizon and release > today - timedelta(days=90):
            out.append(
                DueWork(
                    key=dated_key(TouchPointReason.RELEASE, case.crn, release),
                    reason=TouchPointReason.RELEASE.value,
                    due=due,
                    title=f"First week after release ({release:%d/%m/%Y})",
                )
            )
    if case.rotl_date is not None:
        ahead(case.rotl_date, cu["rotl_before_days"], TouchPointReason.ROTL, f"ROTL on {case.rotl_date:%d/%m/%Y}")
    if case.handover_date is not None:
        ahead(
            case.handover_date,
            cu["handover_before_days"],
            TouchPointReason.HANDOVER,
            f"OMiC handover to community on {case.handover_date:%d/%m/%Y}",
        )
    if case.lifer:
        ahead(
            case.lifer_panel_date,
            cu["lifer_panel_before_days"],
            TouchPointReason.LIFER_PANEL,
            f"Lifer panel review {case.lifer_panel_date:%d/%m/%Y}" if case.lifer_panel_date else "",
        )
        if not (quarterly and tp["quarterly_months"] <= cu["lifer_months"]):
            since = max(case.last_oversight or case.sentence_start, case.sentence_start)
            due = since + relativedelta(months=cu["lifer_months"])
            if due <= horizon:
                out.append(_tp(case, TouchPointReason.LIFER, due, str(due)))
    return out


def _tp(case: CaseFacts, reason: TouchPointReason, due: date, anchor: str) -> DueWork:
    return DueWork(key=f"tp:{reason.value}:{case.crn}:{anchor}", reason=reason.value, due=due, title=reason.label)


def risk_rise_touch_point(
    crn: str, what: TouchPointReason, old: str, new: str, today: date, stamp: str, rules: Rules
) -> DueWork:
    """The touch point an event makes: a rise in RoSH or MAPPA level, due in a few working days.

    A case newly at MAPPA level 2 or 3 from no MAPPA at all (``old`` "none") is the same event:
    active multi-agency management has begun [domain.md "MAPPA"; 000 responsive oversight]."""
    due = add_working_days(today, rules.get("touch_points", "rise_within_working_days"))
    if what == TouchPointReason.MAPPA_RISE and old == "none":
        title = f"Newly at MAPPA level {new}"
    else:
        label = "RoSH" if what == TouchPointReason.ROSH_RISE else "MAPPA level"
        title = f"{label} rose {old} → {new}"
    return DueWork(key=f"tp:{what.value}:{crn}:{stamp}", reason=what.value, due=due, title=title)


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
