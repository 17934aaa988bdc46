"""Reads the screens need beyond the queue: an item in full, a case, its timeline, staff lists."""

from __future__ import annotations

from typing import Any

from spo_tui.domain.vocab import DELEGATE_ROLES
from spo_tui.services.context import Context
from spo_tui.store import queries, writes


def item_detail(ctx: Context, item_id: str) -> dict[str, Any]:
    """The item with its kind's facts under ``detail`` and staff names resolved."""
    item = queries.get_item(ctx.db, item_id)
    names = {s["id"]: s["name"] for s in queries.staff_list(ctx.db)}
    detail = item["detail"]
    for key in ("author_id", "owner_id", "practitioner_id", "delegated_to", "acknowledged_by"):
        if detail.get(key):
            detail[key.removesuffix("_id") + "_name"] = names.get(detail[key], detail[key])
    item["raised_by_name"] = names.get(item["raised_by"]) if item["raised_by"] else None
    return item


def case_summary(ctx: Context, crn: str) -> dict[str, Any]:
    """The case with practitioner name and flags."""
    return queries.get_case(ctx.db, crn)


def record_case_view(ctx: Context, crn: str) -> None:
    """Log that the acting user opened this case: consultation of personal data is logged, like disclosure.

    A read-only store cannot keep the log; the case still opens.
    """
    if getattr(ctx.db, "read_only", False):
        return
    with ctx.db.atomic():
        writes.audit(ctx.db, at=ctx.now_iso, actor_id=ctx.actor["id"], on_behalf_of=ctx.on_behalf_of,
                     action="view_case", entity="case", entity_id=crn)  # fmt: skip


def record_queue_printed(ctx: Context, count: int, as_json: bool) -> None:
    """Log that the queue (names, CRNs, risk) left the app on standard output: a disclosure."""
    if getattr(ctx.db, "read_only", False):
        return
    with ctx.db.atomic():
        writes.audit(ctx.db, at=ctx.now_iso, actor_id=ctx.actor["id"], on_behalf_of=ctx.on_behalf_of,
                     action="print_queue", entity="queue", entity_id=None,
                     new={"items": count, "format": "json" if as_json else "text"})  # fmt: skip


def record_file_export(ctx: Context, filename: str) -> None:
    """Log that a pack naming people and cases (check-in, monthly meeting) was written to a file."""
    if getattr(ctx.db, "read_only", False):
        return
    with ctx.db.atomic():
        writes.audit(ctx.db, at=ctx.now_iso, actor_id=ctx.actor["id"], on_behalf_of=ctx.on_behalf_of,
                     action="export_file", entity="file", entity_id=filename)  # fmt: skip


def access_log(ctx: Context, crn: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Who consulted or disclosed what, newest first: case views and exports (optionally for one case)."""
    return queries.access_log(ctx.db, crn, limit)


def recent_oversight(ctx: Context, crn: str, limit: int = 3) -> list[dict[str, Any]]:
    return queries.recent_oversight(ctx.db, crn, limit)


def case_timeline(ctx: Context, crn: str) -> list[dict[str, Any]]:
    """Oversight entries and items on the case, newest first."""
    return queries.case_timeline(ctx.db, crn)


def find_cases(ctx: Context, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Cases whose CRN or name contains ``text``."""
    return queries.search_cases(ctx.db, text, limit)


def delegates(ctx: Context) -> list[dict[str, Any]]:
    """Staff a task can be delegated to (CASPO, SAO, business manager)."""
    return queries.staff_list(ctx.db, tuple(r.value for r in DELEGATE_ROLES))


def staff(ctx: Context) -> list[dict[str, Any]]:
    return queries.staff_list(ctx.db)


def practitioners(ctx: Context) -> list[dict[str, Any]]:
    return queries.staff_list(ctx.db, ("PO", "PSO", "PQiP", "NQO"))


def queue_counts(ctx: Context) -> dict[str, tuple[int, int]]:
    """Per kind: (items in the queue, of which overdue)."""
    return queries.queue_counts(ctx.db, ctx.today, ctx.decider["id"])
