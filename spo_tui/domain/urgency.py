"""One urgency score across every kind of work, explainable as (reason, points).

The score is the sum of the points; ``explain`` returns the reasons in the order they were added,
like taskwarrior's ``info``. Immediate-risk alerts always sort first whatever their score; then
higher scores, then earlier due dates, then ids, so the same input always gives the same order.

Three tiers below the alerts, each a band of points wide enough that no other reason can cross it
(``Rules`` refuses weights that would let it):

1. **Time-critical** work (``[urgency.time_critical]``): a decision or a deadline that falls today
   or before the next working day is over, whatever anything else says. An SBAR the practitioner
   marked urgent; a PSR whose court date is today or within the next working day(s) (weekends and
   England & Wales bank holidays skipped); a countersign item or an agreed action due today. It
   earns ``points`` (1,000 by default) once, with every reason that applies named.
2. Ordinary work, by its points: kind, how soon or how late it is due, RoSH, MAPPA level, the
   practitioner's urgency, a PSR's court date, how long it has waited. A touch point 109 days
   overdue is here: backlog, however late, ranks below a decision needed today.
3. The **catch-up** list (``catch_up``, -1,000 by default): touch points that were already long
   overdue on the day they reached the queue (a caseload imported on day one). They are worked
   through in their own order at the bottom rather than burying today's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from spo_tui.domain.dates import add_working_days
from spo_tui.domain.vocab import CountersignKind, ItemKind


@dataclass(frozen=True)
class ItemFacts:
    """What urgency looks at for one queue item."""

    id: str
    kind: ItemKind
    due: date | None
    created: date
    rosh: str | None = None
    mappa_level: int | None = None
    sbar_urgency: str | None = None
    countersign_kind: str | None = None
    court_date: date | None = None
    #: On the catch-up list: already long overdue when it reached the queue.
    catch_up: bool = False


@dataclass(frozen=True)
class Urgency:
    score: int
    reasons: tuple[tuple[str, int], ...]


def explain(item: ItemFacts, today: date, weights: dict[str, Any]) -> Urgency:
    """Score ``item`` with ``weights`` (the ``[urgency]`` table of the rules) and say why."""
    reasons: list[tuple[str, int]] = []
    total = 0

    def add(reason: str, points: int) -> None:
        nonlocal total
        if points:
            reasons.append((reason, int(points)))
            total += int(points)

    critical = time_critical_reasons(item, today, weights)
    if critical:
        add("time-critical: " + "; ".join(critical), weights["time_critical"]["points"])
    elif item.catch_up:
        add("on the catch-up list: long overdue when it reached the queue", weights["catch_up"])

    add(f"{item.kind.label}", weights["kind"].get(item.kind.value, 0))

    if item.due is not None:
        days = (item.due - today).days
        if days < 0:
            late = min(-days, weights["overdue_max_days"])
            add(
                f"overdue by {-days} day{'s' if -days != 1 else ''}",
                weights["overdue"] + late * weights["overdue_per_day"],
            )
        elif days == 0:
            add("due today", weights["due_today"])
        elif days == 1:
            add("due tomorrow", weights["due_tomorrow"])
        elif days <= weights["due_soon_days"]:
            add(f"due in {days} days", weights["due_soon"])

    if item.rosh:
        add(f"RoSH {item.rosh.replace('_', ' ').lower()}", weights["rosh"].get(item.rosh, 0))
    if item.mappa_level:
        add(f"MAPPA level {item.mappa_level}", weights["mappa_level"].get(str(item.mappa_level), 0))
    if item.sbar_urgency:
        add(f"practitioner marked it {item.sbar_urgency}", weights["sbar_urgency"].get(item.sbar_urgency, 0))
    if item.countersign_kind == CountersignKind.PSR.value and item.court_date is not None:
        to_court = (item.court_date - today).days
        if to_court <= weights["psr_court_soon_days"]:
            when = (
                "today"
                if to_court == 0
                else "tomorrow"
                if to_court == 1
                else f"date passed {-to_court} day{'s' if to_court != -1 else ''} ago"
            )
            add(f"PSR: court {when}", weights["psr_court_soon"])

    age = (today - item.created).days
    if age > 0:
        add(f"waiting {age} day{'s' if age != 1 else ''}", min(age * weights["age_per_day"], weights["age_max"]))

    return Urgency(score=total, reasons=tuple(reasons))


def court_horizon(today: date, weights: dict[str, Any]) -> date:
    """The last court date that makes a PSR time-critical today: ``psr_court_within_working_days``
    working days on (1: the next working day; a Friday's horizon is Monday, or Tuesday after a bank
    holiday)."""
    return add_working_days(today, weights["time_critical"]["psr_court_within_working_days"])


def time_critical_reasons(item: ItemFacts, today: date, weights: dict[str, Any]) -> list[str]:
    """Why ``item`` cannot wait (empty if it can): see the module's docstring."""
    tc = weights["time_critical"]
    out: list[str] = []
    if item.kind == ItemKind.SBAR and item.sbar_urgency is not None and item.sbar_urgency in tc["sbar_urgency"]:
        out.append(f"an SBAR marked {item.sbar_urgency}")
    if (
        item.kind == ItemKind.COUNTERSIGN
        and item.countersign_kind == CountersignKind.PSR.value
        and item.court_date is not None
        and today <= item.court_date <= court_horizon(today, weights)
    ):
        out.append(f"PSR for court {'today' if item.court_date == today else f'on {item.court_date:%a %d/%m/%Y}'}")
    if item.due == today and item.kind.value in tc["deadline_today"]:
        out.append("deadline today")
    return out


#: The ``[urgency]`` weights that are single numbers of points or days (``catch_up`` apart).
NUMBERS = (
    "overdue",
    "overdue_per_day",
    "overdue_max_days",
    "due_today",
    "due_tomorrow",
    "due_soon",
    "due_soon_days",
    "age_per_day",
    "age_max",
    "psr_court_soon",
    "psr_court_soon_days",
)
#: The ``[urgency]`` tables of points by kind, RoSH, MAPPA level and the practitioner's urgency.
TABLES = ("kind", "rosh", "mappa_level", "sbar_urgency")


def ordinary_most(weights: dict[str, Any]) -> int:
    """The most an item in neither tier can score with ``weights`` (whole numbers, none negative):
    a bound, summed reason by reason; alerts are left out, as they sort first whatever they score."""
    w = weights
    return (
        max([0, *(v for k, v in w["kind"].items() if k != ItemKind.ALERT.value)])
        + max(
            w["overdue"] + w["overdue_max_days"] * w["overdue_per_day"],
            w["due_today"],
            w["due_tomorrow"],
            w["due_soon"],
        )
        + max([0, *w["rosh"].values()])
        + max([0, *w["mappa_level"].values()])
        + max([0, *w["sbar_urgency"].values()])
        + w["psr_court_soon"]
        + w["age_max"]
    )


def weights_problem(weights: dict[str, Any]) -> str | None:
    """What is wrong with the ``[urgency]`` weights (a message naming the key), or None.

    Every weight is a whole number of points (or days), none negative, so no reason takes points
    away; the time-critical tier's ``points`` must be more than ``ordinary_most`` and ``catch_up``
    less than minus it, so that no ordinary item can cross either tier however its reasons add up.
    """
    w = weights

    def whole(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    for key in NUMBERS:
        if not whole(w.get(key)) or w[key] < 0:
            return f"[urgency] {key} must be a whole number, 0 or more, not {w.get(key)!r}"
    for table in TABLES:
        if not isinstance(w.get(table), dict):
            return f"[urgency.{table}] is missing"
        for key, value in w[table].items():
            if not whole(value) or value < 0:
                return f"[urgency.{table}] {key} must be a whole number, 0 or more, not {value!r}"
    tc = w.get("time_critical")
    if not isinstance(tc, dict):
        return "[urgency.time_critical] is missing"
    if not whole(tc.get("psr_court_within_working_days")) or tc["psr_court_within_working_days"] < 0:
        return f"[urgency.time_critical] psr_court_within_working_days must be a whole number, 0 or more, not {tc.get('psr_court_within_working_days')!r}"
    for key, known in (
        ("sbar_urgency", ("routine", "soon", "urgent")),
        ("deadline_today", [k.value for k in ItemKind]),
    ):
        values = tc.get(key)
        if not isinstance(values, list) or any(v not in known for v in values):
            return f"[urgency.time_critical] {key} must be a list of {', '.join(map(repr, known))}, not {values!r}"
    most = ordinary_most(w)
    if not whole(tc.get("points")) or tc["points"] <= most:
        return (
            f"[urgency.time_critical] points must be a whole number more than {most} (the most other work can score "
            f"with these weights), not {tc.get('points')!r}: else backlog could rank above time-critical work"
        )
    if not whole(w.get("catch_up")) or w["catch_up"] >= -most:
        return (
            f"[urgency] catch_up must be a whole number less than {-most}, not {w.get('catch_up')!r}: else the "
            "catch-up list could rank above ordinary work"
        )
    return None


def sort_key(item: ItemFacts, urgency: Urgency) -> tuple:
    """Alerts first; then higher score; then earlier due date (undated last); then id."""
    return (
        0 if item.kind == ItemKind.ALERT else 1,
        -urgency.score,
        item.due or date.max,
        item.id,
    )
