"""The triaged queue: open items scored and ordered by the domain's urgency rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from spo_tui.domain.dates import relative_due
from spo_tui.domain.urgency import ItemFacts, Urgency, explain, sort_key
from spo_tui.domain.vocab import ItemKind
from spo_tui.services.context import Context
from spo_tui.store import queries
from spo_tui.store.queries import QueueRow


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One row of the triaged queue: the item's facts, its urgency and why."""

    row: QueueRow
    urgency: Urgency

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def kind(self) -> ItemKind:
        return ItemKind(self.row.kind)

    @property
    def due(self) -> date | None:
        return date.fromisoformat(self.row.due) if self.row.due else None

    def due_text(self, today: date) -> str:
        return relative_due(self.due, today)

    def as_json(self, today: date) -> dict:
        """The shape ``spo-tui queue --json`` prints."""
        r = self.row
        return {
            "id": r.id, "kind": r.kind, "crn": r.crn, "name": r.name, "practitioner": r.practitioner,
            "rosh": r.rosh, "title": r.title, "due": r.due, "due_text": self.due_text(today),
            "urgency": self.urgency.score,
            "reasons": [{"reason": reason, "points": points} for reason, points in self.urgency.reasons],
        }  # fmt: skip


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
    )


def matches(row: QueueRow, search: str) -> bool:
    """True if the row's CRN, name, practitioner or title contains ``search`` (any case)."""
    needle = search.strip().lower()
    return (
        needle in (row.crn or "").lower() or needle in (row.name or "").lower()
        or needle in (row.practitioner or "").lower() or needle in row.title.lower()
    )  # fmt: skip


def build_queue(
    ctx: Context,
    kind: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    status: str = "open",
) -> list[QueueEntry]:
    """Open, unsnoozed items in triage order: alerts first, then by urgency, due date and id.

    ``status="waiting"`` gives, in the same order, the items waiting on someone else.

    ``search`` keeps rows whose CRN, name, practitioner or title contains the text (any case).
    """
    today = ctx.today
    weights = ctx.rules.urgency
    rows = queries.queue_rows(ctx.db, today, ctx.decider["id"], kind, status)
    if search:
        rows = [r for r in rows if matches(r, search)]
    scored = []
    for row in rows:
        f = facts(row)
        u = explain(f, today, weights)
        scored.append((sort_key(f, u), QueueEntry(row, u)))
    scored.sort(key=lambda pair: pair[0])
    entries = [entry for _, entry in scored]
    return entries[:limit] if limit else entries
