"""Workload and span of control, as the check-in shows them: plain Python, no I/O.

Workload is measured WMT-style (the workload measurement tool regions use): each case earns points
by its tier and its RoSH, and a practitioner's points are shown as a percentage of their capacity,
which is ``[workload] points_per_fte`` scaled by their FTE. 120% is the line regions watch
(``[workload] watch_percent``) [002, 000]. The weights are ours, not the tool's (its case weights
are hours by tier and are not published in the reports): a serious, documented default that a PDU
changes in ``data/rules.toml``.

Tier is kept as text (``"B"`` in the current A–G model, ``"B2"`` in the older A–D one): the first
letter decides the points; an unknown or missing tier earns ``[workload.tier] unknown``.

Span of control is practitioner FTE per SPO: set at 1:10 in sentence management and 1:12 in courts
[000, 002] (``[workload] span_sentence_management`` and ``span_court``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from spo_tui.domain.vocab import RoSH, TeamKind

#: The keys of ``[workload]`` that must be positive numbers.
_POSITIVE = ("points_per_fte", "watch_percent", "span_sentence_management", "span_court")


def workload_problem(section: Any) -> str | None:
    """What is wrong with the ``[workload]`` rules, naming the key, or None when they are sound."""
    if not isinstance(section, dict):
        return "[workload] is missing"
    for key in _POSITIVE:
        value = section.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            return f"[workload] {key} must be a number more than 0, not {value!r}"
    tiers = section.get("tier")
    if not isinstance(tiers, dict) or "unknown" not in tiers:
        return "[workload.tier] must give points for each tier letter and for 'unknown'"
    for key, value in tiers.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            return f"[workload.tier] {key} must be a number, 0 or more, not {value!r}"
        if key != "unknown" and not (len(key) == 1 and key.isalpha() and key.isupper()):
            return f"[workload.tier] {key}: a tier is one capital letter (A–G), or 'unknown'"
    rosh = section.get("rosh")
    if not isinstance(rosh, dict):
        return "[workload.rosh] must give points for each RoSH level"
    for level in RoSH:
        value = rosh.get(level.value)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            return f"[workload.rosh] {level.value} must be a number, 0 or more, not {value!r}"
    extra = set(rosh) - {r.value for r in RoSH}
    if extra:
        return f"[workload.rosh] {sorted(extra)[0]}: unknown RoSH level"
    return None


def case_points(tier: str | None, rosh: str | None, weights: dict[str, Any]) -> float:
    """One case's workload points: its tier's (by the first letter) plus its RoSH's [002]."""
    tiers = weights["tier"]
    letter = (tier or "").strip()[:1].upper()
    return float(tiers.get(letter, tiers["unknown"])) + float(weights["rosh"].get(rosh or "", 0))


def capacity(fte: float, weights: dict[str, Any]) -> float:
    """A practitioner's capacity in points: ``points_per_fte`` scaled by their FTE."""
    return float(weights["points_per_fte"]) * float(fte)


@dataclass(frozen=True)
class Workload:
    """One practitioner's workload today: cases, points, capacity, and whether they are away."""

    staff_id: str
    name: str
    role: str
    fte: float
    cases: int
    points: float
    capacity: float
    watch_percent: float
    absent: str | None = None  # the absence's reason ("Absent" when none was given); None: at work

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.capacity if self.capacity else 0.0

    @property
    def percent_text(self) -> str:
        return f"{self.percent:.0f}%"

    @property
    def over(self) -> bool:
        """Over the line regions watch (120% by default) [002, 000]."""
        return self.percent > self.watch_percent

    @property
    def label(self) -> str:
        """How a picker shows the person: name, role, workload, and absence today."""
        away = f", absent today ({self.absent})" if self.absent else ""
        return f"{self.name} ({self.role}) · {self.percent_text}{away}"


def workload(
    person: dict[str, Any], cases: Iterable[tuple[str | None, str | None]], weights: dict[str, Any], absent: str | None
) -> Workload:
    """``person`` (id, name, role, fte) with their ``cases`` as (tier, RoSH) pairs."""
    cases = list(cases)
    return Workload(
        staff_id=person["id"],
        name=person["name"],
        role=person["role"],
        fte=float(person.get("fte") or 1.0),
        cases=len(cases),
        points=sum(case_points(t, r, weights) for t, r in cases),
        capacity=capacity(float(person.get("fte") or 1.0), weights),
        watch_percent=float(weights["watch_percent"]),
        absent=absent,
    )


@dataclass(frozen=True)
class Span:
    """The team's span of control: practitioner FTE per SPO, against the set ratio [000, 002]."""

    team_kind: TeamKind
    spos: int
    pp_fte: float
    standard: float  # 10 in sentence management, 12 in courts (configurable)

    @property
    def ratio(self) -> float | None:
        return self.pp_fte / self.spos if self.spos else None

    @property
    def over(self) -> bool:
        return self.ratio is None or self.ratio > self.standard

    @property
    def text(self) -> str:
        kind = "court" if self.team_kind == TeamKind.COURT else "sentence management"
        ratio = "no SPO" if self.ratio is None else f"1:{self.ratio:.1f}"
        return f"span {ratio} ({self.pp_fte:g} PP FTE) against 1:{self.standard:g} for {kind}"

    @property
    def short(self) -> str:
        """The check-in header's form: ``span 1:9.6 (set 1:10)``."""
        ratio = "no SPO" if self.ratio is None else f"1:{self.ratio:.1f}"
        return f"span {ratio} (set 1:{self.standard:g})"


def span(team_kind: TeamKind, spos: int, pp_fte: float, weights: dict[str, Any]) -> Span:
    key = "span_court" if team_kind == TeamKind.COURT else "span_sentence_management"
    return Span(team_kind=team_kind, spos=spos, pp_fte=round(pp_fte, 2), standard=float(weights[key]))
