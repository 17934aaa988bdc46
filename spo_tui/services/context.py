"""Who is acting, on which store, under which rules, at what time: passed to every service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from spo_tui.domain import permissions
from spo_tui.domain.dates import to_iso, utc_now
from spo_tui.domain.errors import NotAllowed, NotFound
from spo_tui.domain.rules import Rules
from spo_tui.domain.vocab import Role
from spo_tui.store import queries, scoring
from spo_tui.store.db import SpoDatabase

LONDON = ZoneInfo("Europe/London")


@dataclass
class Context:
    """The acting user and their store. ``clock`` returns an aware UTC datetime (fixed in tests).

    ``actor`` is who presses the keys; ``decider`` is whose decision it is: the SPO, even when a
    CASPO enters the record on their behalf. ``os_user`` is the operating-system account running
    spo-tui (``spo_tui.services.identity``); the context puts it on ``db`` once, where every audit
    row written on that connection picks it up (``spo_tui.store.writes.audit``).
    """

    db: SpoDatabase
    rules: Rules
    actor: dict[str, Any]
    decider: dict[str, Any]
    clock: Callable[[], datetime] = field(default=utc_now)
    os_user: str | None = None
    #: True while the day's rescoring runs in the app's background: the Today screen's reads
    #: (``rescore_all=False``) may then take the queue in the stored order of an earlier day, instead of
    #: scoring every item in the query (``services.queue._scored``); the app clears it and reloads the
    #: screen once the rescoring has ended (``SpoApp``'s start-up worker).
    provisional_order: bool = False

    def __post_init__(self) -> None:
        self.db.os_user = self.os_user

    @property
    def now(self) -> datetime:
        return self.clock()

    @property
    def now_iso(self) -> str:
        return to_iso(self.clock())

    @property
    def today(self) -> date:
        """Today in England and Wales."""
        return self.clock().astimezone(LONDON).date()

    @property
    def on_behalf_of(self) -> str | None:
        return self.decider["id"] if self.decider["id"] != self.actor["id"] else None

    @property
    def team(self) -> str | None:
        """The team whose work this person sees: their own, or None (every team) for a PDU head or
        someone with no team. The queue, its counts, search and the team screens are scoped to it."""
        if self.actor.get("role") == Role.PDU_HEAD.value:
            return None
        return (self.actor.get("team") or "").strip() or None

    def decider_for(self, crn: str | None) -> dict[str, Any]:
        """Whose decision an entry on ``crn`` is: the actor's own, unless a CASPO enters it, when it is
        the SPO of the case's team (the team of the case's practitioner); failing that, the SPO of the
        CASPO's own team; failing that, the context's decider. Never the first SPO of another team."""
        if self.actor.get("role") != Role.CASPO.value:
            return self.decider
        team = queries.case_team(self.db, crn) if crn else None
        return (team and queries.team_spo(self.db, team)) or self.decider

    def require(self, action: str) -> None:
        """Refuse ``action`` (a key of ``domain.permissions.PERMISSIONS``) unless the actor's role allows it.

        Entering an oversight record also needs an SPO as the decider (``require_decider``): a CASPO
        enters it on their behalf.
        """
        permissions.check(action, self.actor["role"], self.actor["name"])

    def require_decider(self, crn: str | None) -> dict[str, Any]:
        """The SPO whose decision an entry on ``crn`` is (``decider_for``), or NotAllowed saying why not."""
        decider = self.decider_for(crn)
        if decider["role"] != Role.SPO.value:
            raise NotAllowed(
                f"an oversight record needs an SPO as the decider; {decider['name']} is {decider['role']}"
                + (": put the CASPO in the SPO's team" if decider is self.actor else "")
            )
        return decider


def make_context(
    db: SpoDatabase,
    rules: Rules,
    actor_name: str | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    os_user: str | None = None,
) -> Context:
    """Build a context for ``actor_name`` (default: the first SPO in the store).

    A CASPO acts on behalf of their team's SPO (``decider``); an entry on a case is the decision of
    the SPO of the case's team (``Context.decider_for``). With several SPOs and a CASPO in no team,
    the decider stays the CASPO, and an oversight entry is refused saying so. This checks nothing about who may act as whom: the
    CLI and the app decide that first with ``spo_tui.services.identity.who_is_acting``. ``os_user``
    defaults to the account running this process.
    """
    if actor_name:
        actor = queries.find_staff(db, actor_name)
        if actor is None:
            raise NotFound(f"no staff member called '{actor_name}'")
    else:
        spos = queries.staff_list(db, (Role.SPO.value,))
        if not spos:
            raise NotFound("there is no SPO in this database yet: import staff or create the demo")
        actor = spos[0]
    decider = actor
    if actor["role"] == Role.CASPO.value:  # the SPO of the CASPO's own team, else the store's only SPO
        decider = queries.team_spo(db, actor.get("team") or "") or decider
        if decider is actor:
            spos = queries.staff_list(db, (Role.SPO.value,))
            decider = spos[0] if len(spos) == 1 else decider
    return _keeping_scores(
        Context(db=db, rules=rules, actor=actor, decider=decider, clock=clock, os_user=os_user or _this_os_user())
    )


def _this_os_user() -> str:
    from spo_tui.config import current_os_user

    return current_os_user()


def _keeping_scores(ctx: Context) -> Context:
    """Have every write on the context's store leave the stored urgency scores current."""
    if hasattr(ctx.db, "before_commit"):
        ctx.db.before_commit = lambda db: scoring.score_cleared(db, ctx.today, ctx.rules.urgency, ctx.actor["name"])
    return ctx


def setup_context(
    db: SpoDatabase, rules: Rules, *, clock: Callable[[], datetime] = utc_now, os_user: str | None = None
) -> Context:
    """A context for the first import into a database with no staff yet (acts as the CASPO would)."""
    actor = {"id": None, "name": "first-run setup", "role": Role.CASPO.value}
    return _keeping_scores(
        Context(db=db, rules=rules, actor=actor, decider=actor, clock=clock, os_user=os_user or _this_os_user())
    )
