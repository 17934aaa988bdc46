"""Oversight entries for nDelius: the ones not yet entered there, and marking them entered.

The CASPO copies each oversight entry into nDelius as a management-oversight contact. The export
gives the entries not yet entered as CSV or as paste-ready text (format in ``docs/export.md``), with
the names, roles and agreed actions each entry recorded at the time (its snapshot, part of the
signed record), so renaming a member of staff or editing an action later changes nothing exported.

Marking entries entered adds a **batch** (who, when, how many) and a mark per entry, and never
touches the append-only ``oversight_entries``. Marks are made only once the file holding the entries
is safely on disk (:func:`export_oversight_to_file`: written to a temporary name in the destination
folder, flushed, renamed, the folder flushed, and only then marked, in the same transaction as the
audit row). A batch can be taken back (:func:`unmark_batch`): a new record, after which its entries
are exported again. Every export is audited: it discloses personal data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from spo_tui.domain.dates import to_iso
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.ndelius import LONDON, RULE, Contact, contact_from_entry, contacts_csv, contacts_text, uk_date_time
from spo_tui.services.base import audit
from spo_tui.services.context import Context
from spo_tui.store import files, queries, writes

FORMATS = ("csv", "text")


class ExportFileError(SpoError):
    """The export file could not be written; nothing was marked."""


def _since_iso(since: date | None) -> str:
    """The UTC instant UK local midnight starts ``since`` (empty: from the beginning)."""
    if since is None:
        return ""
    return to_iso(datetime.combine(since, time(0), LONDON))


def _contact(entry: dict[str, Any]) -> Contact:
    return contact_from_entry(
        entry,
        decided_by=entry["decided_by_name"],
        entered_by=entry["entered_by_name"],
        actions=json.loads(entry["agreed_actions"]),
    )


def pending_oversight(ctx: Context, since: date | None = None) -> list[Contact]:
    """Oversight entries not marked entered in nDelius, oldest first (created_at, then the order
    written), as contacts with the names, roles and actions recorded at the time. ``since`` keeps
    entries made on or after that UK local date.

    Corrections (``withdrawn`` entries that supersede another) are included: nDelius needs them.
    Entries on no case (a supervision session's own entry, a staff one-to-one) are not case
    contacts and are left out: they are never an MO1 on an empty CRN. They stay in the supervision
    planner and the monthly pack; each case discussed in a session has its own entry, exported.
    Entries spo-tui did not save (no snapshot: written behind its back) are left out; ``spo-tui
    verify`` names them.
    """
    return [_contact(entry) for entry in queries.oversight_not_entered(ctx.db, _since_iso(since))]


def _render(contacts: list[Contact], fmt: str) -> str:
    return contacts_csv(contacts) if fmt == "csv" else contacts_text(contacts)


def _check_format(fmt: str) -> str:
    value = (fmt or "").strip().lower()
    if value not in FORMATS:
        raise ValidationError(f"unknown format '{fmt}': expected csv or text", field="format")
    return value


def export_oversight(
    ctx: Context, *, since: date | None = None, fmt: str = "csv", mark_entered: bool = False, footer: bool = False
) -> tuple[str, int]:
    """The entries not yet entered in nDelius as ``csv`` or ``text``, and how many there are; nothing
    is marked (use :func:`export_oversight_to_file` to mark: only a file can be known to be written).
    With ``footer``, a text export ends with the chain head (:func:`record_footer`).

    One audit row records the disclosure: action ``export_oversight``, entity ``oversight``, new
    ``{"count", "format", "marked": false}``. Only an SPO or a CASPO may export (permission ``export``).
    """
    ctx.require("export")
    fmt = _check_format(fmt)
    if mark_entered:
        raise ValidationError(MARK_NEEDS_FILE, field="mark_entered")
    with ctx.db.atomic():
        contacts = pending_oversight(ctx, since)
        _audit_export(ctx, len(contacts), fmt, None, None)
        head = queries.chain_head_link(ctx.db)
    text = _render(contacts, fmt)
    if footer and fmt == "text":
        text = _with_footer(text, head)
    return text, len(contacts)


def _with_footer(text: str, head: dict[str, Any] | None) -> str:
    return (f"{text}\n{RULE}\n\n" if text else "") + record_footer(head)


MARK_NEEDS_FILE = (
    "--mark-entered needs --output FILE: entries are marked only once the file holding them is safely written "
    "(standard output cannot be checked)"
)


def _audit_export(ctx: Context, count: int, fmt: str, batch_id: str | None, file_name: str | None) -> int:
    new: dict[str, Any] = {"count": count, "format": fmt, "marked": batch_id is not None}
    if batch_id:
        new["batch"] = batch_id
    if file_name:
        new["file"] = file_name
    return audit(ctx, "export_oversight", "oversight", None, new=new)


@dataclass(frozen=True)
class FileExport:
    """An export written to a file: where, how many entries, the batch that marked them (if marked),
    the chain head the file records, and a warning if the head could not be anchored."""

    path: Path
    count: int
    batch_id: str | None
    head: dict[str, Any] | None
    left_out: int = 0
    warning: str | None = None


def record_footer(head: dict[str, Any] | None) -> str:
    """The last line of a text export: the signed chain head at the export (store, link, hash, key,
    signature), so the file itself anchors the record (``spo-tui verify --against FILE``)."""
    if not head:
        return ""
    return (
        f"spo-tui record: store {head['store_id']}, link {head['position']}, hash {head['hash']}, "
        f"key {head['key_id']}, signature {head['signature'] or 'none'}\n"
    )


def export_oversight_to_file(
    ctx: Context,
    output: str | Path,
    *,
    since: date | None = None,
    fmt: str = "csv",
    mark_entered: bool = False,
    write: Callable[[Path, str], None] | None = None,
) -> FileExport:
    """Write the entries not yet entered in nDelius to ``output`` (readable by its owner only) and,
    with ``mark_entered``, mark them entered: one batch, by the acting user, now.

    Holds the write lock throughout, so that what is written is exactly what is marked: read the
    entries, add the batch and the audit row, render (a text export ends with the chain head:
    :func:`record_footer`), write the file durably (:func:`write_durably`, or ``write``), and only
    then commit. If the file cannot be written (a missing folder, a full disk, no permission) or the
    process is killed before the commit, nothing is marked and no audit row is kept. After the commit
    the chain head is anchored in the user's data folder. Refuses a destination that is a folder, not
    a regular file, or the database itself.
    """
    from spo_tui.services.integrity import anchor

    ctx.require("export")
    fmt = _check_format(fmt)
    dest = check_destination(ctx, output)
    written = False
    try:
        with ctx.db.atomic():
            contacts = pending_oversight(ctx, since)
            batch_id = None
            if mark_entered and contacts:
                batch_id = writes.insert_ndelius_batch(
                    ctx.db,
                    [c.oversight_id for c in contacts],
                    by=ctx.actor["id"],
                    at=ctx.now_iso,
                    note=f"export to {dest.name}",
                )
            _audit_export(ctx, len(contacts), fmt, batch_id, dest.name)
            head = queries.chain_head_link(ctx.db)
            text = _render(contacts, fmt)
            if fmt == "text":
                text = _with_footer(text, head)
            left_out = queries.unsealed_not_entered(ctx.db, _since_iso(since))
            (write or write_durably)(dest, text)
            written = True
    except ExportFileError:
        raise
    except SpoError as error:
        if written:
            raise SpoError(
                f"{error}. {dest} was written, but nothing was marked: its entries will be exported again"
            ) from None
        raise
    warning = anchor(ctx.db, "export", db_path=_db_file(ctx))
    return FileExport(dest, len(contacts), batch_id, head, left_out, warning)


def _db_file(ctx: Context) -> str:
    row = ctx.db.execute("PRAGMA database_list").fetchone()
    return row[2] if row else ""


def check_destination(ctx: Context, output: str | Path) -> Path:
    """The export's destination, refused (ExportFileError) if it cannot be a new or replaced regular
    file: a folder, a device or pipe, a missing folder, or the database and its WAL files."""
    dest = Path(output).expanduser()
    if not dest.name or dest.name in (".", ".."):
        raise ExportFileError(f"{output} is not a file name; nothing was marked")
    if dest.is_dir():
        raise ExportFileError(f"{dest} is a folder: give a file name; nothing was marked")
    if dest.exists() and not dest.is_file():
        raise ExportFileError(f"{dest} is not a regular file; nothing was marked")
    if not dest.parent.is_dir():
        there = "is not a folder" if dest.parent.exists() else "does not exist"
        raise ExportFileError(f"the folder {dest.parent} {there}; nothing was marked")
    database = _db_file(ctx)
    if database:
        target = dest.resolve()
        for suffix in ("", "-wal", "-shm", "-journal"):
            if target == Path(database + suffix).resolve():
                raise ExportFileError(f"{dest} is the database itself: choose another file; nothing was marked")
    return dest


def write_durably(dest: Path, text: str) -> None:
    """Write the export to ``dest`` whole or not at all (``store.files.write_durably``)."""
    try:
        files.write_durably(dest, text)
    except OSError as error:
        raise ExportFileError(f"cannot write {dest}: {error.strerror or error}; nothing was marked") from None


def _insert_marks(ctx: Context, oversight_ids: list[str], note: str) -> str:
    return writes.insert_ndelius_batch(ctx.db, oversight_ids, by=ctx.actor["id"], at=ctx.now_iso, note=note)


def mark_entered(ctx: Context, oversight_ids: list[str]) -> int:
    """Mark chosen entries as entered in nDelius (one batch, by the acting user, now); return how many.

    Only an SPO or a CASPO may (permission ``export``). Refuses, writing nothing, an empty choice,
    an unknown id or an entry already marked (saying who marked it and when). An id chosen twice
    counts once.
    """
    ctx.require("export")
    ids = list(dict.fromkeys(str(i).strip() for i in oversight_ids if str(i).strip()))
    if not ids:
        raise ValidationError(
            "choose at least one oversight entry to mark as entered in nDelius", field="oversight_ids"
        )
    with ctx.db.atomic():
        marks = queries.ndelius_marks(ctx.db, ids)
        unknown = [i for i in ids if i not in marks]
        if unknown:
            raise ValidationError(f"no oversight entry with id {', '.join(unknown)}", field="oversight_ids")
        done = [marks[i] for i in ids if marks[i]["batch_id"] is not None]
        if done:
            said = "; ".join(
                f"{m['id']} by {m['entered_by_name']} on {' at '.join(uk_date_time(m['entered_at']))}" for m in done
            )
            raise ValidationError(f"already marked as entered in nDelius: {said}", field="oversight_ids")
        batch_id = _insert_marks(ctx, ids, "marked one by one")
        audit(
            ctx,
            "mark_ndelius_entered",
            "oversight",
            ids[0] if len(ids) == 1 else None,
            new={"count": len(ids), "oversight_ids": ids, "batch": batch_id},
        )
    return len(ids)


@dataclass(frozen=True)
class Batch:
    """A batch of nDelius marks, or the record that took one back."""

    id: str
    action: str  # "mark" or "unmark"
    at: str
    by: str | None
    entries: int
    note: str
    undoes: str | None
    undone_by: str | None
    undone_at: str | None

    @property
    def when(self) -> str:
        return " ".join(uk_date_time(self.at))


def batches(ctx: Context, limit: int | None = None) -> list[Batch]:
    """The batches of marks and un-marks, newest first (permission ``export``)."""
    ctx.require("export")
    return [
        Batch(
            r["id"],
            r["action"],
            r["at"],
            r["by_name"],
            r["entries"],
            r["note"],
            r["undoes"],
            r["undone_by_id"],
            r["undone_at"],
        )
        for r in queries.ndelius_batches(ctx.db, limit)
    ]


def unmark_batch(ctx: Context, batch_ref: str) -> tuple[str, Batch]:
    """Take back a batch of marks (its id, or the first 8 or more characters of it): a new record
    (action ``unmark``), audited, after which its entries are exported again. Returns the new
    record's id and the batch. Refuses an unknown or ambiguous id, a batch already taken back, and
    an un-mark record. Only an SPO or a CASPO may (permission ``export``)."""
    ctx.require("export")
    ref = (batch_ref or "").strip().lower()
    if len(ref) < 8:
        raise ValidationError(
            "give the batch id, or at least its first 8 characters (spo-tui export batches lists them)", field="batch"
        )
    with ctx.db.atomic():
        found = queries.find_ndelius_batches(ctx.db, ref)
        if not found:
            raise ValidationError(f"no batch of nDelius marks has an id starting {ref}", field="batch")
        if len(found) > 1:
            raise ValidationError(f"more than one batch has an id starting {ref}: give more of it", field="batch")
        row = found[0]
        if row["action"] != "mark":
            raise ValidationError(f"{row['id']} is itself an un-marking, not a batch of marks", field="batch")
        if row["undone_by_id"]:
            raise ValidationError(
                f"batch {row['id']} was already un-marked on {' at '.join(uk_date_time(row['undone_at']))}",
                field="batch",
            )
        unmark_id = writes.insert_ndelius_unmark(ctx.db, row, by=ctx.actor["id"], at=ctx.now_iso, note="un-marked")
        audit(
            ctx,
            "unmark_ndelius_entered",
            "ndelius_batch",
            row["id"],
            new={"count": row["entries"], "unmark": unmark_id},
        )
    return unmark_id, Batch(
        row["id"], row["action"], row["at"], None, row["entries"], row["note"], None, unmark_id, ctx.now_iso
    )
