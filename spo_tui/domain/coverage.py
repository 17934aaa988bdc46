"""Oversight coverage and the team's trends as plain data, with the inspectorate's finding beside them.

Coverage here is the share of the current caseload with at least one oversight entry (not withdrawn)
in a window of days: *presence*. Beside it, *sufficiency*: the share with an entry that looks
sufficient (a decision, its agreed actions followed up: ``spo_tui.domain.levels``). The
inspectorate's figures are what it *found*: oversight judged sufficient in 23% (low RoSH), 27%
(medium) and 45% (high/very high) of the inspected cases that needed it, 28% overall [000, 004]. They
are a finding about practice across England and Wales, shown for reference beside ours: never a
standard, target or floor, and never used to colour a team's number as failing.

Plain Python, no I/O.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from spo_tui.domain.vocab import RoSH

#: What the inspectorate found: the share (per cent) of inspected cases with sufficient oversight, by
#: RoSH [000, 004]. A finding, not a target.
INSPECTORATE_SUFFICIENT: dict[str, int] = {"LOW": 23, "MEDIUM": 27, "HIGH": 45, "VERY_HIGH": 45}
#: ... and across all inspected cases needing oversight.
INSPECTORATE_SUFFICIENT_OVERALL = 28

#: The bands the inspectorate reports: high and very high together.
BANDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("LOW", "Low", ("LOW",)),
    ("MEDIUM", "Medium", ("MEDIUM",)),
    ("HIGH_VERY_HIGH", "High/very high", ("HIGH", "VERY_HIGH")),
)


def percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a percentage (unrounded), or None when there is nothing to divide."""
    return 100.0 * part / whole if whole else None


def percent_text(value: float | None) -> str:
    """A percentage as the screens and exports show it: ``45%``, or ``–`` when there is none."""
    return "–" if value is None else f"{value:.0f}%"


@dataclass(frozen=True)
class CoverageRow:
    """One RoSH level (or band, or the whole caseload): cases, how many were seen, and the share."""

    key: str  # LOW, MEDIUM, HIGH, VERY_HIGH, HIGH_VERY_HIGH or ALL
    label: str
    cases: int
    seen: int
    benchmark: int | None  # what the inspectorate found for this level or band (per cent): a finding, not a target
    sufficient: int = 0  # of the cases, how many had an entry that looks sufficient in the window

    @property
    def unseen(self) -> int:
        return self.cases - self.seen

    @property
    def percent(self) -> float | None:
        return percent(self.seen, self.cases)

    @property
    def percent_text(self) -> str:
        return percent_text(self.percent)

    @property
    def sufficient_percent(self) -> float | None:
        return percent(self.sufficient, self.cases)

    @property
    def sufficient_percent_text(self) -> str:
        return percent_text(self.sufficient_percent)

    @property
    def found_text(self) -> str:
        """The inspectorate's finding as shown: ``45%`` (empty where it reported none)."""
        return f"{self.benchmark}%" if self.benchmark is not None else ""


@dataclass(frozen=True)
class Coverage:
    """Coverage of the caseload on ``as_of``: cases with an oversight entry on or after ``since``."""

    as_of: date
    since: date
    days: int
    by_rosh: tuple[CoverageRow, ...]  # LOW, MEDIUM, HIGH, VERY_HIGH in that order (zeros included)
    bands: tuple[CoverageRow, ...]  # Low, Medium, High/very high: the inspectorate's bands
    total: CoverageRow


def build_coverage(as_of: date, since: date, days: int, counts: Mapping[str, tuple[int, ...]]) -> Coverage:
    """Coverage from ``counts``: RoSH value -> (cases, seen[, sufficient]). Levels without cases count as zero."""

    def of(level: str, n: int) -> int:
        found = counts.get(level, (0, 0, 0))
        return found[n] if n < len(found) else 0

    by_rosh = tuple(
        CoverageRow(r.value, r.label, of(r.value, 0), of(r.value, 1), INSPECTORATE_SUFFICIENT[r.value], of(r.value, 2))
        for r in RoSH
    )
    bands = tuple(
        CoverageRow(
            key,
            label,
            sum(of(level, 0) for level in levels),
            sum(of(level, 1) for level in levels),
            INSPECTORATE_SUFFICIENT[levels[0]],
            sum(of(level, 2) for level in levels),
        )
        for key, label, levels in BANDS
    )
    total = CoverageRow(
        "ALL",
        "All cases",
        sum(r.cases for r in by_rosh),
        sum(r.seen for r in by_rosh),
        INSPECTORATE_SUFFICIENT_OVERALL,
        sum(r.sufficient for r in by_rosh),
    )
    return Coverage(as_of=as_of, since=since, days=days, by_rosh=by_rosh, bands=bands, total=total)


# --- Trends --------------------------------------------------------------------------------------

SPARK_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | int | None]) -> str:
    """A one-line chart of ``values`` with block characters, lowest ``▁`` to highest ``█``.

    Scaled between the smallest and largest value given; equal values draw a flat low line; a
    missing value (None) is a space, so a gap in the data shows as a gap.
    """
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span == 0:
            out.append(SPARK_BARS[0])
        else:
            out.append(SPARK_BARS[round((v - low) / span * (len(SPARK_BARS) - 1))])
    return "".join(out)


def median(values: Iterable[float]) -> float | None:
    """The median, or None for no values."""
    values = list(values)
    return statistics.median(values) if values else None


@dataclass(frozen=True)
class Series:
    """One trend line: a value per week, oldest first (None where there is no data that week)."""

    key: str
    label: str
    values: tuple[float | int | None, ...]

    @property
    def spark(self) -> str:
        return sparkline(self.values)

    @property
    def first(self) -> float | int | None:
        return self.values[0] if self.values else None

    @property
    def last(self) -> float | int | None:
        return self.values[-1] if self.values else None


@dataclass(frozen=True)
class Trends:
    """Weekly trends ending on ``week_ends[-1]``: each week ends on the day shown (included)."""

    week_ends: tuple[date, ...]
    #: Open work per queue kind (alert, sbar, touch_point, ...) at the end of each week.
    backlog: tuple[Series, ...]
    #: Median days from submission to countersign verdict, of the countersigns closed each week.
    countersign_turnaround: Series
    #: How many countersign items were closed each week.
    countersigns_closed: Series

    def backlog_for(self, kind: str) -> Series:
        return next(s for s in self.backlog if s.key == kind)
