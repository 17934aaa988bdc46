"""Oversight coverage and the team's trends as plain data, with the inspectorate's benchmark.

Coverage here is the share of the current caseload with at least one oversight entry (not withdrawn)
in a window of days. The inspectorate's figures are a different, stricter measure (oversight judged
*sufficient* in inspected cases that needed it: low RoSH 23%, medium 27%, high/very high 45%, 28%
overall [000, 004]); they are shown beside ours as a reference point, not as the same number.

Plain Python, no I/O.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from spo_tui.domain.vocab import RoSH

#: The inspectorate's share (per cent) of inspected cases with sufficient oversight, by RoSH [000, 004].
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
    benchmark: int | None  # the inspectorate's per cent for this level or band

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
    def below_benchmark(self) -> bool:
        """True when this share is under the inspectorate's figure (a low bar: theirs is stricter)."""
        return self.percent is not None and self.benchmark is not None and self.percent < self.benchmark


@dataclass(frozen=True)
class Coverage:
    """Coverage of the caseload on ``as_of``: cases with an oversight entry on or after ``since``."""

    as_of: date
    since: date
    days: int
    by_rosh: tuple[CoverageRow, ...]  # LOW, MEDIUM, HIGH, VERY_HIGH in that order (zeros included)
    bands: tuple[CoverageRow, ...]  # Low, Medium, High/very high: the inspectorate's bands
    total: CoverageRow


def build_coverage(as_of: date, since: date, days: int, counts: dict[str, tuple[int, int]]) -> Coverage:
    """Coverage from ``counts``: RoSH value -> (cases, seen). Levels without cases count as zero."""
    by_rosh = tuple(
        CoverageRow(r.value, r.label, *counts.get(r.value, (0, 0)), INSPECTORATE_SUFFICIENT[r.value]) for r in RoSH
    )
    bands = tuple(
        CoverageRow(
            key,
            label,
            sum(counts.get(level, (0, 0))[0] for level in levels),
            sum(counts.get(level, (0, 0))[1] for level in levels),
            INSPECTORATE_SUFFICIENT[levels[0]],
        )
        for key, label, levels in BANDS
    )
    total = CoverageRow(
        "ALL", "All cases", sum(r.cases for r in by_rosh), sum(r.seen for r in by_rosh), INSPECTORATE_SUFFICIENT_OVERALL
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
