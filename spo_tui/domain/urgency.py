"""One urgency score across every kind of work, explainable as (reason, points).

The score is the sum of the points; ``explain`` returns the reasons in the order they were added,
like taskwarrior's ``info``. Immediate-risk alerts always sort first whatever their score; then
higher scores, then earlier due dates, then ids, so the same input always gives the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

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

    add(f"{item.kind.label}", weights["kind"].get(item.kind.value, 0))

    if item.due is not None:
        days = (item.due - today).days
        if days < 0:
            late = min(-days, weights["overdue_max_days"])
            add(f"overdue by {-days} day{'s' if -days != 1 else ''}", weights["overdue"] + late * weights["overdue_per_day"])
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
            when = ("today" if to_court == 0 else "tomorrow" if to_court == 1
                    else f"date passed {-to_court} day{'s' if to_court != -1 else ''} ago")  # fmt: skip
            add(f"PSR: court {when}", weights["psr_court_soon"])

    age = (today - item.created).days
    if age > 0:
        add(f"waiting {age} day{'s' if age != 1 else ''}", min(age * weights["age_per_day"], weights["age_max"]))

    return Urgency(score=total, reasons=tuple(reasons))


def sort_key(item: ItemFacts, urgency: Urgency) -> tuple:
    """Alerts first; then higher score; then earlier due date (undated last); then id."""
    return (
        0 if item.kind == ItemKind.ALERT else 1,
        -urgency.score,
        item.due or date.max,
        item.id,
    )
