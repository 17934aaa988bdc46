"""The triaged queue: open items in the domain's urgency order, read a page at a time.

SQLite orders the queue by each item's stored score (``spo_tui.store.scoring``), so reading the
top of a PDU's 15,000 items costs the same as a team's hundred. The reasons behind a score are
worked out by the domain (``explain``) only for the entries someone looks at.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from spo_tui.domain import permissions
from spo_tui.domain.dates import relative_due
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.urgency import ItemFacts, Urgency, explain
from spo_tui.domain.vocab import ItemKind
from spo_tui.services.context import Context
from spo_tui.store import queries, scoring
from spo_tui.store.db import StoreError, db_errors, read_snapshot
from spo_tui.store.queue_queries import QueueRow


@dataclass(frozen=True)
class QueueEntry:
    """One row of the triaged queue: the item's facts, its score, and (worked out when asked) why."""

    row: QueueRow
    today: date = field(compare=False)
    weights: dict[str, Any] = field(compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def kind(self) -> ItemKind:
        return ItemKind(self.row.kind)

    @property
    def due(self) -> date | None:
        return date.fromisoformat(self.row.due) if self.row.due else None

    @cached_property
    def urgency(self) -> Urgency:
        """The score with its reasons, from the domain's rules."""
        return explain(facts(self.row), self.today, self.weights)

    def due_text(self, today: date) -> str:
        return relative_due(self.due, today)

    def as_json(self, today: date) -> dict:
        """The shape ``spo-tui queue --json`` prints."""
        r = self.row
        shown = {
            "id": r.id,
            "kind": r.kind,
            "crn": r.crn,
            "name": r.name,
            "practitioner": r.practitioner,
            "rosh": r.rosh,
            "title": r.title,
            "due": r.due,
            "due_text": self.due_text(today),
            "urgency": self.urgency.score,
            "catch_up": bool(r.catch_up),
            "team": r.team,
            "reasons": [{"reason": reason, "points": points} for reason, points in self.urgency.reasons],
            "status": r.status,
        }
        if r.status == "waiting":
            shown["waiting_on"] = r.waiting_on
            shown["since"] = r.waiting_since
        elif r.status == "snoozed":
            shown["snoozed_until"] = r.snoozed_until
        return shown


def facts(row: QueueRow) -> ItemFacts:
    return ItemFacts(
        id=row.id,
        kind=ItemKind(row.kind),
        due=date.fromisoformat(row.due) if row.due else None,
        created=date.fromisoformat(row.created_at[:10]),
        rosh=row.rosh,
        mappa_level=row.mappa_level,
        sbar_urgency=row.sbar_urgency,
        countersign_kind=row.countersign_kind,
        court_date=date.fromisoformat(row.court_date) if row.court_date else None,
        catch_up=bool(row.catch_up),
    )


@contextlib.contextmanager
def _scored(ctx: Context, rescore_all: bool = True) -> Iterator[str]:
    """Bring the stored scores up to date if the store can be written, then open one read snapshot
    and give the SQL to order by inside it: the stored score when it is right for this context's day
    and weights, else the score computed in the query (slower, as right).

    With ``rescore_all`` false, scoring every item again on a new day is left to ``update_scores``
    (the Today screen runs it in the background) unless it is one short transaction's work (a team's
    queue); items whose score was cleared are scored here either way. Meanwhile, if the context says
    so (``Context.provisional_order``: the app's first screen of a day, whose reload follows the
    rescoring), the stored scores of an earlier day give the order: right but for the day's moves,
    and read by the index, where scoring every item in the query costs a PDU 0.3 s before the queue
    is drawn (the bank-holiday calendar it needs, 0.19 s, and the query, 0.13 s).
    """
    db, weights, by = ctx.db, ctx.rules.urgency, ctx.actor["name"]
    writable = not getattr(db, "read_only", False)
    if (
        writable
        and scoring.needs_scoring(db, ctx.today, weights, by)
        and (rescore_all or not scoring.needs_rescore(db, ctx.today, weights, by) or scoring.fits_one_batch(db))
    ):
        _ensure_scored(ctx)
    with read_snapshot(db):
        if scoring.scores_current(db, ctx.today, weights) or (
            not rescore_all
            and writable
            and ctx.provisional_order
            and scoring.scores_of_an_earlier_day(db, ctx.today, weights)
        ):
            yield "i.urgency"
        else:
            yield scoring.score_sql(weights, ctx.today)


def update_scores(ctx: Context) -> None:
    """Bring the stored urgency scores up to date: on the first read of a new day, every open item is
    scored again, in short transactions (``scoring.ensure_scored``) that keep nobody waiting. A store
    that is read-only or stays busy is left as it is: the queue is then scored in the query."""
    if not getattr(ctx.db, "read_only", False) and scoring.needs_scoring(
        ctx.db, ctx.today, ctx.rules.urgency, ctx.actor["name"]
    ):
        _ensure_scored(ctx)


def _ensure_scored(ctx: Context) -> None:
    try:
        scoring.ensure_scored(ctx.db, ctx.today, ctx.rules.urgency, ctx.actor["name"])  # short transactions of its own
    except (StoreError,) + db_errors("OperationalError"):
        pass  # busy or read-only after all: the query scores instead


class _AllTeams(str):
    """The team choice meaning every team (a PDU head's): distinct from any team's name."""


#: ``team=ALL_TEAMS``: every team's work (a PDU head's view); ``team=None``: the acting person's own team.
ALL_TEAMS = _AllTeams("all")


def scope(ctx: Context, team: str | None = None) -> str | None:
    """The team a read is narrowed to, as the store takes it (None: every team).

    ``team=None`` is the acting person's scope (``Context.team``: their own team; every team for a PDU
    head); ``ALL_TEAMS`` or a team's name is a choice only a PDU head may make, or anyone naming their
    own team. Anything else is refused in one line saying why.
    """
    if team is None:
        return ctx.team
    head = permissions.allowed("all_teams", ctx.actor["role"])
    if isinstance(team, _AllTeams) or team.strip().casefold() == "all":
        if not head:
            raise NotAllowed(
                f"only a PDU head sees every team's queue; {ctx.actor['name']} is {ctx.actor['role']} "
                f"in {ctx.team or 'no team'}"
            )
        return None
    known = {t.casefold(): t for t in queries.teams(ctx.db)}
    wanted = known.get(team.strip().casefold())
    if wanted is None:
        raise ValidationError(
            f"no team called '{team.strip()}': the teams are {', '.join(known.values()) or 'none'}", field="team"
        )
    if not head and wanted != ctx.team:
        raise NotAllowed(
            f"only a PDU head sees another team's queue; {ctx.actor['name']} is in {ctx.team or 'no team'}"
        )
    return wanted


def _entries(ctx: Context, rows: list[QueueRow]) -> list[QueueEntry]:
    today, weights = ctx.today, ctx.rules.urgency
    return [QueueEntry(row, today, weights) for row in rows]


def build_queue(
    ctx: Context,
    kind: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    status: str = "open",
    offset: int = 0,
    rescore_all: bool = True,
    team: str | None = None,
) -> list[QueueEntry]:
    """Open, unsnoozed items in triage order: alerts first, then by urgency, due date and id.

    A court team's queue has its own shape [000 §3.2]: after the alerts, the reports to gatekeep by
    court date and time, then the rest (court teams do not manage cases: no touch points are made).

    ``status="waiting"`` gives, in the same order, the items waiting on someone else;
    ``"snoozed"`` the items snoozed to a later day; ``"any"`` all three together.
    ``offset`` and ``limit`` read one page of that order.

    ``search`` keeps rows whose CRN, name, practitioner or title contains the text (any case).
    ``rescore_all`` false leaves a new day's scoring of every item to ``update_scores``.
    ``team``: see ``scope``; by default the acting person's own team (every team for a PDU head).
    """
    if search:
        found = matching_ids(search_index(ctx, kind, status, rescore_all=rescore_all, team=team), search)
        return queue_entries(ctx, found[offset : offset + limit if limit else None], rescore_all=rescore_all)
    in_team = scope(ctx, team)
    with _scored(ctx, rescore_all) as score:
        rows = queries.queue_page(
            ctx.db,
            ctx.today,
            ctx.decider["id"],
            kind=kind,
            status=status,
            limit=limit,
            offset=offset,
            score=score,
            team=in_team,
            court=bool(in_team) and queries.team_kind(ctx.db, in_team) == "court",
        )
    return _entries(ctx, rows)


def queue_entries(ctx: Context, ids: list[str], *, rescore_all: bool = True) -> list[QueueEntry]:
    """The entries of ``ids`` (from ``matching_ids``), in that order."""
    with _scored(ctx, rescore_all) as score:
        rows = queries.queue_rows_by_id(ctx.db, ctx.today, ids, score)
    return _entries(ctx, rows)


#: What search looks through: (item id, its CRN, name, practitioner and title, case-folded).
SearchIndex = list[tuple[str, str]]


def search_index(
    ctx: Context, kind: str | None = None, status: str = "open", *, rescore_all: bool = True, team: str | None = None
) -> SearchIndex:
    """The searchable text of every row of the queue (of one kind, or waiting; of the team, see
    ``scope``), in triage order."""
    in_team = scope(ctx, team)
    with _scored(ctx, rescore_all) as score:
        rows = queries.queue_search_text(
            ctx.db, ctx.today, ctx.decider["id"], kind=kind, status=status, score=score, team=in_team
        )
    return [(item_id, fold(text)) for item_id, text in rows]


def fold(text: str) -> str:
    """``text`` as search compares it: any case, accents ignored ("BRONTE" finds "Brontë")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def matching_ids(index: SearchIndex, search: str) -> list[str]:
    """Ids of the rows whose CRN, name, practitioner or title contains ``search`` (any case,
    accents ignored), in order."""
    needle = fold(search.strip())
    if not needle:
        return [item_id for item_id, _text in index]
    return [item_id for item_id, text in index if needle in text]
