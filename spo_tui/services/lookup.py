"""Reads the screens need beyond the queue: an item in full, a case, its timeline, staff lists."""

from __future__ import annotations

from datetime import date
from typing import Any

from spo_tui.domain.levels import ActionFollowUp, derive_level, entry_sufficient
from spo_tui.domain.vocab import DELEGATE_ROLES
from spo_tui.services.base import audit
from spo_tui.services.context import Context
from spo_tui.store import queries


def item_detail(ctx: Context, item_id: str) -> dict[str, Any]:
    """The item with its kind's facts under ``detail`` and staff names resolved."""
    item = queries.get_item(ctx.db, item_id)
    names = {s["id"]: s["name"] for s in queries.staff_list(ctx.db)}
    detail = item["detail"]
    for key in ("author_id", "owner_id", "practitioner_id", "delegated_to", "acknowledged_by", "gatekeeper_id"):
        if detail.get(key):
            detail[key.removesuffix("_id") + "_name"] = names.get(detail[key], detail[key])
    item["raised_by_name"] = names.get(item["raised_by"]) if item["raised_by"] else None
    if item["kind"] == "task":
        _task_facts(ctx, item)
    if item["kind"] == "countersign":  # what it was last returned for: shown when it comes back [004]
        detail["returned_for"] = queries.last_return(ctx.db, item_id)
    if item["kind"] == "confirm":  # the entry to confirm, as it was entered
        entry = queries.get_oversight(ctx.db, detail["oversight_id"])
        detail["entry"] = {
            **entry,
            "decided_by_name": names.get(entry["decided_by"], entry["decided_by"]),
            "entered_by_name": names.get(entry["entered_by"], entry["entered_by"]),
        }
    return item


def _task_facts(ctx: Context, item: dict[str, Any]) -> None:
    """A task's delegate's role, and for a facilities job its target, escalation stage and next stage
    as lines for the detail pane [002 §9]."""
    from spo_tui.domain.vocab import FACILITIES_CATEGORIES
    from spo_tui.services.assurance import facilities_lines

    detail = item["detail"]
    if detail.get("delegated_to"):
        detail["delegated_role"] = queries.get_staff(ctx.db, detail["delegated_to"])["role"]
    if detail.get("category") in {c.value for c in FACILITIES_CATEGORIES}:
        detail["facilities_lines"] = facilities_lines(item, ctx.rules)


def resolve_item_id(ctx: Context, ref: str) -> str:
    """An item's id from what was typed: the whole id, or its first 6 or more characters if only
    one item begins so (``spo-tui do``)."""
    from spo_tui.domain.errors import NotFound, ValidationError

    ref = (ref or "").strip()
    if not ref:
        raise ValidationError("say which item: its id, as each line of spo-tui queue begins", field="item")
    found = queries.item_ids_starting(ctx.db, ref)
    if ref in found:
        return ref
    if len(ref) < 6 or not found:
        raise NotFound(
            f"no item with id {ref}"
            + ("" if len(ref) >= 6 else " (give the whole id, or its first 6 or more characters)")
        )
    if len(found) > 1:
        raise ValidationError(f"more than one item has an id beginning {ref}: give more of it", field="item")
    return found[0]


def case_summary(ctx: Context, crn: str) -> dict[str, Any]:
    """The case with practitioner name and flags."""
    return queries.get_case(ctx.db, crn)


# --- What was seen: the access log ------------------------------------------------------------------
#
# Consulting personal data is logged like disclosing it: who (and on whose behalf), when, which
# screen and how much it showed. One function per view; the screens call them through
# ``SpoApp.record_view``, on a thread of its own, so that no key waits for the write lock. Each is
# one short transaction with its audit row (its commit scores only what it changed). A read-only
# store cannot keep the log: the screen still opens.


def _record_view(
    ctx: Context, action: str, entity: str, entity_id: str | None = None, shown: dict | None = None
) -> None:
    if getattr(ctx.db, "read_only", False):
        return
    with ctx.db.atomic():
        audit(ctx, action, entity, entity_id, new=shown)


def record_case_view(ctx: Context, crn: str) -> None:
    """Log that the acting user opened this case."""
    _record_view(ctx, "view_case", "case", crn)


def record_today_view(ctx: Context, *, view: str, shown: int, total: int) -> None:
    """Log that the Today queue was shown (once per app session): the view (``all``, a kind, or
    ``waiting``), the rows on screen and the rows in the view."""
    _record_view(ctx, "view_queue", "queue", None, {"view": view, "rows_shown": shown, "rows_in_view": total})


#: Characters of a search's text kept in the log (a CRN or a name is far shorter).
SEARCH_TEXT_KEPT = 100


def record_search(ctx: Context, *, text: str, view: str, matches: int) -> None:
    """Log a search of the queue: the text searched for, the view searched and how many rows matched.

    The text is kept (its first ``SEARCH_TEXT_KEPT`` characters), as access logs of case records
    keep search terms: looking up someone one has no business with (a neighbour, an ex-partner) is
    what the log is for, and only the text shows it. The log is in the same private store as the
    names it could contain.
    """
    _record_view(ctx, "search", "queue", None, {"text": text[:SEARCH_TEXT_KEPT], "view": view, "matches": matches})


def record_checkin_view(ctx: Context, *, team: str | None, absences: int, risk_points: int, decisions: int) -> None:
    """Log that the daily check-in agenda was shown: its team and how many rows of each part."""
    _record_view(
        ctx,
        "view_checkin",
        "screen",
        "checkin",
        {"team": team, "absences": absences, "risk_points": risk_points, "decisions": decisions},
    )


def record_team_view(ctx: Context, *, team: str | None, days: int, people: int, unseen_cases: int) -> None:
    """Log that the team and coverage dashboard was shown: team, coverage window, staff rows, unseen cases listed."""
    _record_view(
        ctx, "view_team", "screen", "team", {"team": team, "days": days, "people": people, "unseen_cases": unseen_cases}
    )


def record_monthly_view(ctx: Context, *, team: str | None, rows: int) -> None:
    """Log that the monthly meeting pack was shown: its team and how many notes and actions it listed."""
    _record_view(ctx, "view_monthly", "screen", "monthly", {"team": team, "rows": rows})


def record_protected_hour_view(ctx: Context, *, day: date, booked: int) -> None:
    """Log that the protected hour's running order for ``day`` was shown, with how many booked items."""
    _record_view(ctx, "view_protected_hour", "screen", "protected_hour", {"day": day.isoformat(), "booked": booked})


def record_supervision_view(ctx: Context, *, team: str | None, practitioners: int) -> None:
    """Log that the supervision planner was shown (staff supervision records are personal data too)."""
    _record_view(ctx, "view_supervision", "screen", "supervision", {"team": team, "practitioners": practitioners})


def record_admin_view(ctx: Context, *, diary: int, mappa_reviews: int, transfers: int) -> None:
    """Log that the admin screen was shown (once per app session), with the rows of its three lists."""
    _record_view(
        ctx, "view_admin", "screen", "admin", {"diary": diary, "mappa_reviews": mappa_reviews, "transfers": transfers}
    )


def record_queue_printed(ctx: Context, count: int, as_json: bool) -> None:
    """Log that the queue (names, CRNs, risk) left the app on standard output: a disclosure."""
    _record_view(ctx, "print_queue", "queue", None, {"items": count, "format": "json" if as_json else "text"})


def record_file_export(ctx: Context, filename: str) -> None:
    """Log that a pack naming people and cases (check-in, monthly meeting) was written to a file."""
    _record_view(ctx, "export_file", "file", filename)


def last_audit_id(ctx: Context) -> int:
    """The id of the newest audit row (what ``only_reads_since`` counts from)."""
    return queries.last_audit_id(ctx.db)


def only_reads_since(ctx: Context, after: int) -> tuple[int, bool]:
    """(the newest audit row's id, True if every audit row after ``after`` records only something
    seen, printed or exported: a commit that wrote only those changed nothing on any screen)."""
    return queries.audit_since(ctx.db, after)


def access_log(ctx: Context, crn: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Who consulted or disclosed what, newest first: every view, search, print and export above
    (optionally only those of one case)."""
    return queries.access_log(ctx.db, crn, limit)


def recent_oversight(ctx: Context, crn: str, limit: int = 3) -> list[dict[str, Any]]:
    return queries.recent_oversight(ctx.db, crn, limit)


def case_timeline(ctx: Context, crn: str) -> list[dict[str, Any]]:
    """Oversight entries and items on the case, newest first.

    Each entry carries its ``level`` (1–3 [001]; the one stored beside it, else derived),
    ``level_chosen`` and ``sufficient``: True when it looks sufficient (a decision, actions
    followed up: ``spo_tui.domain.levels.entry_sufficient``), False when only present, None for a
    withdrawal or an entry withdrawn."""
    rows = queries.case_timeline(ctx.db, crn)
    follow: dict[str, list[ActionFollowUp]] = {}
    for a in queries.entry_actions(ctx.db, crn):
        follow.setdefault(a["oversight_id"], []).append(
            ActionFollowUp(
                due=date.fromisoformat(a["due"]) if a["due"] else None,
                done=a["done_at"] is not None,
                closed=a["status"] == "closed",
            )
        )
    for r in rows:
        if r["what"] != "oversight":
            continue
        if r["level"] is None:
            r["level"] = int(derive_level(r["type"], r["outcome"], r["item_kind"], r["touch_point_reason"]))
            r["level_chosen"] = 0
        withdrawn = r["outcome"] == "withdrawn" or r.get("superseded_outcome") == "withdrawn"
        r["sufficient"] = (
            None if withdrawn else entry_sufficient(r["outcome"], r["decision"], follow.get(r["id"], ()), ctx.today)
        )
    return rows


def find_cases(ctx: Context, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Cases whose CRN or name contains ``text``: of the acting person's team (and cases in no team's
    hands; a PDU head: every team's). A whole CRN finds its case in any team: the case is opened on
    purpose (and the opening is in the access log), while a partial search does not list another
    team's cases (issue 16: a second team must not leak into one team's views)."""
    return queries.search_cases(ctx.db, text, limit, ctx.team)


# Pickers offer the deciding person's own team (``Context.team``) and the PDU-wide staff in no team
# (an SAO, a business manager); a PDU head, or someone in no team, is offered everyone. Another team's
# people are not offered: their work is that team's SPO's to give (issue 16: a second team in the
# store must not leak into one team's pickers).


def delegates(ctx: Context) -> list[dict[str, Any]]:
    """Staff a task can be delegated to (CASPO, SAO, business manager): the own team's and PDU-wide."""
    return queries.staff_list(ctx.db, tuple(r.value for r in DELEGATE_ROLES), ctx.team)


def staff(ctx: Context) -> list[dict[str, Any]]:
    """Everyone a picker offers: the own team's staff and those in no team (a PDU head: everyone)."""
    return queries.staff_list(ctx.db, team=ctx.team)


def practitioners(ctx: Context) -> list[dict[str, Any]]:
    """The practitioners a picker offers: the own team's (a PDU head: every team's)."""
    return queries.staff_list(ctx.db, ("PO", "PSO", "PQiP", "NQO"), ctx.team)


def queue_counts(ctx: Context, team: str | None = None) -> dict[str, tuple[int, int]]:
    """Per kind: (items in the queue, of which overdue), of the team the queue shows
    (``services.queue.scope``: the acting person's own by default)."""
    from spo_tui.services.queue import scope

    return queries.queue_counts(ctx.db, ctx.today, ctx.decider["id"], scope(ctx, team))


def teams(ctx: Context) -> list[str]:
    """Every team (with an SPO), by name: a PDU head's team filter."""
    return queries.teams(ctx.db)
