"""The PDU head's picture across teams: for each team, coverage, backlog and cases not seen.

Read-only: it reads the store and writes nothing. On a store connected to a hub, the PDU head's
replica holds every team's record (the hub's row-level security lets the PDU head, and only the PDU
head, read every team's changes), so this is the picture across the PDU as the hub holds it, as of
the last sync (``spo_tui.services.sync``); without a hub it is the picture of the one store.
"""

from __future__ import annotations

from dataclasses import dataclass

from spo_tui.services import team as team_service
from spo_tui.services.context import Context
from spo_tui.services.sync import status as sync_status
from spo_tui.store import queries, queue_queries


@dataclass(frozen=True)
class TeamPicture:
    team: str
    spo: str | None
    cases: int
    seen: int  # cases with an oversight entry in the window
    high_cases: int  # high and very high RoSH
    high_seen: int
    not_seen: int
    open_items: int
    overdue: int
    waiting: int
    #: Of the cases, how many had an entry that looks sufficient in the window (a decision recorded,
    #: its agreed actions followed up: ``spo_tui.domain.levels``) [issue 16 §6; 001, 000, 004].
    sufficient: int = 0

    @property
    def coverage_text(self) -> str:
        return f"{round(100 * self.seen / self.cases)}%" if self.cases else "–"

    @property
    def high_coverage_text(self) -> str:
        return f"{round(100 * self.high_seen / self.high_cases)}%" if self.high_cases else "–"

    @property
    def sufficient_text(self) -> str:
        return f"{round(100 * self.sufficient / self.cases)}%" if self.cases else "–"


@dataclass(frozen=True)
class PduPicture:
    days: int
    teams: tuple[TeamPicture, ...]
    #: When the picture was last brought up to date from the hub (None: no hub, or never synced).
    synced: str | None


def pdu_picture(ctx: Context, days: int = 90) -> PduPicture:
    """Each team's coverage in the last ``days`` days (presence, and the share that looks sufficient:
    the team coverage view's own count, ``team.coverage``), cases not seen, and open, overdue and waiting
    work, for the PDU head (refused to anyone else: a team sees its own on the team dashboard)."""
    ctx.require("all_teams")
    rows = []
    for name in queries.teams(ctx.db):
        cover = team_service.coverage(ctx, days, team=name)
        high = next(b for b in cover.bands if b.key == "HIGH_VERY_HIGH")
        counts = queue_queries.queue_counts(ctx.db, ctx.today, None, name)
        open_kinds = [v for k, v in counts.items() if k not in ("waiting", "snoozed", "catch_up")]
        spo = queries.team_spo(ctx.db, name)
        rows.append(
            TeamPicture(
                team=name,
                spo=spo["name"] if spo else None,
                cases=cover.total.cases,
                seen=cover.total.seen,
                high_cases=high.cases,
                high_seen=high.seen,
                not_seen=cover.total.unseen,
                open_items=sum(n for n, _ in open_kinds),
                overdue=sum(o or 0 for _, o in open_kinds),
                waiting=counts.get("waiting", (0, 0))[0],
                sufficient=cover.total.sufficient,
            )
        )
    state = sync_status(ctx.db)
    return PduPicture(days, tuple(rows), state.last_sync if state.connected else None)
