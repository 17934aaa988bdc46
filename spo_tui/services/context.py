"""Who is acting, on which store, under which rules, at what time: passed to every service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from spo_tui.domain.dates import to_iso, utc_now
from spo_tui.domain import permissions
from spo_tui.domain.errors import NotAllowed, NotFound
from spo_tui.domain.rules import Rules
from spo_tui.domain.vocab import Role
from spo_tui.store import queries, scoring
from spo_tui.store.db import get_meta, set_meta

LONDON = ZoneInfo("Europe/London")


@dataclass
class Context:
    """The acting user and their store. ``clock`` returns an aware UTC datetime (fixed in tests).

    ``actor`` is who presses the keys; ``decider`` is whose decision it is: the SPO, even when a
    CASPO enters the record on their behalf.
    """

    db: Database
    rules: Rules
    actor: dict[str, Any]
    decider: dict[str, Any]
    clock: Callable[[], datetime] = field(default=utc_now)

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

    def require(self, action: str) -> None:
        """Refuse ``action`` (a key of ``domain.permissions.PERMISSIONS``) unless the actor's role allows it.

        Entering an oversight record also needs an SPO as the decider: a CASPO enters it on their behalf.
        """
        permissions.check(action, self.actor["role"], self.actor["name"])
        if action == "record_oversight" and self.decider["role"] != Role.SPO.value:
            raise NotAllowed(f"an oversight record needs an SPO as the decider; {self.decider['name']} is {self.decider['role']}")


def make_context(
    db: Database,
    rules: Rules,
    actor_name: str | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> Context:
    """Build a context for ``actor_name`` (default: the first SPO in the store).

    A CASPO acts on behalf of the team's SPO.
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
    if actor["role"] == Role.CASPO.value:
        spos = queries.staff_list(db, (Role.SPO.value,))
        if spos:
            decider = spos[0]
    return _keeping_scores(Context(db=db, rules=rules, actor=actor, decider=decider, clock=clock))


def _keeping_scores(ctx: Context) -> Context:
    """Have every write on the context's store leave the stored urgency scores current."""
    if hasattr(ctx.db, "before_commit"):
        ctx.db.before_commit = lambda db: scoring.score_cleared(db, ctx.today, ctx.rules.urgency, ctx.actor["name"])
    return ctx


def setup_context(db: Database, rules: Rules, *, clock: Callable[[], datetime] = utc_now) -> Context:
    """A context for the first import into a database with no staff yet (acts as the CASPO would)."""
    actor = {"id": None, "name": "first-run setup", "role": Role.CASPO.value}
    return _keeping_scores(Context(db=db, rules=rules, actor=actor, decider=actor, clock=clock))


def remembered_actor(db: Database) -> str | None:
    """The name last given with ``--as`` on this database, if that person is still on the staff."""
    name = get_meta(db, "default_actor")
    return name if name and queries.find_staff(db, name) else None


def remember_actor(db: Database, name: str) -> None:
    """Make ``name`` the acting user next time no ``--as`` is given."""
    set_meta(db, "default_actor", name)
