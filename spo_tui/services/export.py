"""Oversight entries for nDelius: the ones not yet entered there, and marking them entered.

The CASPO copies each oversight entry into nDelius as a management-oversight contact. The export
gives the entries not yet entered as CSV or as paste-ready text (format in ``docs/export.md``);
marking entries entered adds a row to ``ndelius_entries`` (who, when) and never touches the
append-only ``oversight_entries``. Every export is audited: it discloses personal data.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from spo_tui.domain.dates import to_iso
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.ndelius import LONDON, Contact, contact_from_entry, contacts_csv, contacts_text, uk_date_time
from spo_tui.services.context import Context
from spo_tui.store import queries, writes

FORMATS = ("csv", "text")


def _since_iso(since: date | None) -> str:
    """The UTC instant UK local midnight starts ``since`` (empty: from the beginning)."""
    if since is None:
        return ""
    return to_iso(datetime.combine(since, time(0), LONDON))


def pending_oversight(ctx: Context, since: date | None = None) -> list[Contact]:
    """Oversight entries not yet marked entered in nDelius, oldest first (created_at, then the
    order written), as contacts. ``since`` keeps entries made on or after that UK local date.

    Corrections (``withdrawn`` entries that supersede another) are included: nDelius needs them.
    """
    since_iso = _since_iso(since)
    actions: dict[str, list[dict]] = defaultdict(list)
    for action in queries.actions_of_oversight_not_entered(ctx.db, since_iso):
        actions[action["oversight_id"]].append(action)
    return [
        contact_from_entry(
            entry, decided_by=entry["decided_by_name"], entered_by=entry["entered_by_name"], actions=actions[entry["id"]]
        )
        for entry in queries.oversight_not_entered(ctx.db, since_iso)
    ]


def _render(contacts: list[Contact], fmt: str) -> str:
    return contacts_csv(contacts) if fmt == "csv" else contacts_text(contacts)


def _check_format(fmt: str) -> str:
    value = (fmt or "").strip().lower()
    if value not in FORMATS:
        raise ValidationError(f"unknown format '{fmt}': expected csv or text", field="format")
    return value


def _insert_marks(ctx: Context, oversight_ids: list[str]) -> None:
    """New rows in ndelius_entries (who, when). Call inside atomic(); a second mark of the same
    entry fails on the primary key, so two CASPOs cannot both mark it."""
    writes.insert_ndelius_entries(ctx.db, oversight_ids, ctx.actor["id"], ctx.now_iso)


def export_oversight(
    ctx: Context, *, since: date | None = None, fmt: str = "csv", mark_entered: bool = False
) -> tuple[str, int]:
    """The entries not yet entered in nDelius as ``csv`` or ``text``, and how many there are.

    With ``mark_entered`` they are also marked entered (by the acting user, now) in the same
    transaction as the read, so what is printed is exactly what is marked. Either way one audit
    row records the disclosure: action ``export_oversight``, entity ``oversight``, new
    ``{"count", "format", "marked"}``. Only an SPO or a CASPO may export (permission ``export``).
    """
    ctx.require("export")
    fmt = _check_format(fmt)
    with ctx.db.atomic():
        contacts = pending_oversight(ctx, since)
        if mark_entered and contacts:
            _insert_marks(ctx, [c.oversight_id for c in contacts])
        writes.audit(
            ctx.db, at=ctx.now_iso, actor_id=ctx.actor["id"], on_behalf_of=ctx.on_behalf_of,
            action="export_oversight", entity="oversight", entity_id=None,
            new={"count": len(contacts), "format": fmt, "marked": bool(mark_entered)},
        )  # fmt: skip
    return _render(contacts, fmt), len(contacts)


def mark_entered(ctx: Context, oversight_ids: list[str]) -> int:
    """Mark chosen entries as entered in nDelius (by the acting user, now); return how many.

    Only an SPO or a CASPO may (permission ``export``). Refuses, writing nothing, an empty choice,
    an unknown id or an entry already marked (saying who marked it and when). An id chosen twice
    counts once.
    """
    ctx.require("export")
    ids = list(dict.fromkeys(str(i).strip() for i in oversight_ids if str(i).strip()))
    if not ids:
        raise ValidationError("choose at least one oversight entry to mark as entered in nDelius", field="oversight_ids")
    marks = queries.ndelius_marks(ctx.db, ids)
    unknown = [i for i in ids if i not in marks]
    if unknown:
        raise ValidationError(f"no oversight entry with id {', '.join(unknown)}", field="oversight_ids")
    done = [marks[i] for i in ids if marks[i]["entered_by"] is not None]
    if done:
        said = "; ".join(f"{m['id']} by {m['entered_by_name']} on {' at '.join(uk_date_time(m['entered_at']))}" for m in done)
        raise ValidationError(f"already marked as entered in nDelius: {said}", field="oversight_ids")
    with ctx.db.atomic():
        _insert_marks(ctx, ids)
        writes.audit(
            ctx.db, at=ctx.now_iso, actor_id=ctx.actor["id"], on_behalf_of=ctx.on_behalf_of,
            action="mark_ndelius_entered", entity="oversight", entity_id=ids[0] if len(ids) == 1 else None,
            new={"count": len(ids), "oversight_ids": ids},
        )  # fmt: skip
    return len(ids)
