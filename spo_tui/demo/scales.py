"""The demo's two sizes (a team, a PDU) and the one-line summary of what a demo holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlite_utils

from spo_tui.store import demo_writes


@dataclass(frozen=True)
class _Scale:
    teams: int
    practitioners_per_team: tuple[int, int]
    cases: int
    #: Oversight history reaches back this far (days).
    history_days: int
    #: Total oversight entries wanted (None: what the case mix gives, about two per case a year).
    oversight_target: int | None
    #: Open items wanted in all (None: a team's day, counted kind by kind).
    open_target: int | None


SCALES = {
    "team": _Scale(
        teams=1, practitioners_per_team=(12, 15), cases=350, history_days=365, oversight_target=None, open_target=None
    ),
    "pdu": _Scale(
        teams=10,
        practitioners_per_team=(12, 14),
        cases=5000,
        history_days=5 * 365,
        oversight_target=150_000,
        open_target=15_000,
    ),
}


@dataclass(frozen=True)
class DemoSummary:
    """What a demo database holds: counts for a one-line report."""

    seed: int
    scale: str
    staff: int
    practitioners: int
    cases: int
    case_flags: int
    oversight_entries: int
    open_items: int
    open_by_kind: dict[str, int] = field(default_factory=dict)
    absent_today: int = 0

    def __str__(self) -> str:
        kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(self.open_by_kind.items()))
        return (
            f"{self.staff} staff ({self.practitioners} practitioners, {self.absent_today} absent today), "
            f"{self.cases} cases, {self.case_flags} registrations, {self.oversight_entries} oversight entries, "
            f"{self.open_items} open items ({kinds})"
        )


def summarise(db: sqlite_utils.Database, seed: int, scale: str, today: date) -> DemoSummary:
    """Count what the database holds (after generation, or after the refresh that follows it)."""
    counts = demo_writes.demo_counts(db, today)
    return DemoSummary(seed=seed, scale=scale, open_items=sum(counts["open_by_kind"].values()), **counts)
