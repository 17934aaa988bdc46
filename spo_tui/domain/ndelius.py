"""Oversight entries in the shape of an nDelius contact, for the CASPO who copies them across.

An nDelius management-oversight contact has a date, a time, a contact type (MO1, MO5, MO8), an
outcome (MO10/MO11 on a recall decision), notes, a sensitive flag and the staff member credited;
notes added by hand start "Comment added by NAME on dd/MM/yyyy at HH:mm". This module turns one
stored oversight entry into that shape (:func:`contact_from_entry`) and writes contacts out as a
paste-ready text block (:func:`contact_text`) or CSV (:func:`contacts_csv`). The format is
described in ``docs/export.md``. Plain Python, no I/O.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from spo_tui.domain.dates import from_iso
from spo_tui.domain.exchanges import exchanges
from spo_tui.domain.levels import OversightLevel
from spo_tui.domain.text import csv_cell, visible
from spo_tui.domain.vocab import OversightOutcome, OversightType

#: nDelius shows and records times in UK local time.
LONDON = ZoneInfo("Europe/London")

#: nDelius's own labels for the outcome codes an oversight entry can map to.
NDELIUS_OUTCOME_LABELS = {"MO10": "Decision to Recall", "MO11": "Decision not to Recall"}

#: The columns of the CSV, in order (one per Contact field; ``sensitive`` is ``Y`` or ``N``).
CSV_COLUMNS = (
    "crn",
    "date",
    "time",
    "type_code",
    "type_label",
    "outcome_code",
    "outcome_label",
    "staff",
    "sensitive",
    "notes",
    "entered_by",
    "supersedes",
    "oversight_id",
)

#: The line between two entries in the text format.
RULE = "=" * 72


@dataclass(frozen=True)
class Contact:
    """One oversight entry in the shape of an nDelius contact.

    ``date`` is dd/MM/yyyy and ``time`` HH:mm, both UK local time. ``staff`` is the staff member
    credited (who decided); ``entered_by`` who recorded the entry; ``supersedes`` the id of the
    entry a correction replaces.
    """

    oversight_id: str
    crn: str | None
    date: str
    time: str
    type_code: str
    type_label: str
    outcome_code: str | None
    outcome_label: str
    notes: str
    sensitive: bool
    staff: str
    entered_by: str
    supersedes: str | None


def local_moment(stamp: str) -> datetime:
    """A stored UTC timestamp (``2026-11-23T09:00:00Z``) in UK local time (GMT or BST)."""
    return from_iso(stamp).astimezone(LONDON)


def uk_date(day: date) -> str:
    """dd/MM/yyyy, as nDelius shows dates."""
    return day.strftime("%d/%m/%Y")


def uk_date_time(stamp: str) -> tuple[str, str]:
    """A stored UTC timestamp as nDelius's (dd/MM/yyyy, HH:mm) in UK local time."""
    moment = local_moment(stamp)
    return uk_date(moment.date()), moment.strftime("%H:%M")


def _action_line(action: dict) -> str:
    description = " ".join(str(action.get("description") or "").split())
    owner = action.get("owner") or "no owner"
    due = action.get("due")
    if isinstance(due, str) and due:
        due = date.fromisoformat(due[:10])
    when = f"due {uk_date(due)}" if isinstance(due, date) else "no due date"
    return f"- {description} - {owner} - {when}"


def build_notes(
    entry: dict,
    *,
    decided_by: str,
    entered_by: str,
    actions: list[dict],
    outcome_label: str,
) -> str:
    """The notes of the contact: header line, then labelled sections separated by blank lines."""
    day, hhmm = uk_date_time(entry["created_at"])
    lines = [f"Comment added by {entered_by} on {day} at {hhmm}"]
    if entry.get("supersedes_id"):
        replaced = entry.get("supersedes_created_at")
        if replaced:
            was_day, was_time = uk_date_time(replaced)
            lines.append(f"Correction: supersedes the entry of {was_day} {was_time}")
        else:
            lines.append(f"Correction: supersedes entry {entry['supersedes_id']}")
    lines += ["", "Discussed:", str(entry["discussed"]).strip()]
    # What was asked and answered on the SBAR (``domain.exchanges``), unless the entry already says it.
    said = f"{entry['discussed']}\n{entry['decision']}"
    asked = [(label, text) for label, text in exchanges("sbar", entry) if text not in said]
    if asked:
        lines += ["", "Asked and answered:", *(f"{label}: {text}" for label, text in asked)]
    lines += ["", "Decision / guidance:", str(entry["decision"]).strip()]
    lines += ["", f"Outcome: {outcome_label}"]
    if entry.get("oversight_level"):  # 1 quality assurance, 2 supervision, 3 immediate risk [001]
        level = OversightLevel(int(entry["oversight_level"]))
        lines.append(f"Oversight level: {level.value} ({level.label})")
    if actions:
        lines += ["", "Agreed actions:", *(_action_line(a) for a in actions)]
    else:
        lines += ["", "Agreed actions: none"]
    role = entry.get("decided_by_role") or "SPO"
    lines += ["", f"Decided by: {decided_by} ({role})"]
    if entered_by != decided_by:
        lines.append(f"Entered on behalf of {decided_by} by {entered_by}")
    return "\n".join(lines)


def contact_from_entry(entry: dict, *, decided_by: str, entered_by: str, actions: list[dict]) -> Contact:
    """One stored oversight entry as an nDelius contact.

    ``entry`` is a row of ``oversight_entries`` (``id``, ``crn``, ``type``, ``outcome``,
    ``discussed``, ``decision``, ``sensitive``, ``created_at``, ``supersedes_id``), optionally with
    ``supersedes_created_at`` (when the corrected entry was made, for the correction line) and
    ``decided_by_role`` (default ``SPO``). ``decided_by`` and ``entered_by`` are staff names;
    ``actions`` are the agreed actions as dicts of ``description``, ``owner`` (a name) and ``due``
    (ISO date, a date or None), in the order they were agreed.
    """
    type_ = OversightType(entry["type"])
    outcome = OversightOutcome(entry["outcome"])
    outcome_code = outcome.ndelius_code
    outcome_label = NDELIUS_OUTCOME_LABELS[outcome_code] if outcome_code else outcome.label
    day, hhmm = uk_date_time(entry["created_at"])
    return Contact(
        oversight_id=entry["id"],
        crn=entry.get("crn") or None,
        date=day,
        time=hhmm,
        type_code=type_.info.ndelius_code,
        type_label=type_.info.ndelius_label,
        outcome_code=outcome_code,
        outcome_label=outcome_label,
        notes=build_notes(
            entry, decided_by=decided_by, entered_by=entered_by, actions=actions, outcome_label=outcome_label
        ),
        sensitive=bool(entry.get("sensitive")),
        staff=decided_by,
        entered_by=entered_by,
        supersedes=entry.get("supersedes_id") or None,
    )


def contact_text(c: Contact) -> str:
    """A paste-ready block for one entry: one field a line in the order of the nDelius contact
    screen, then ``Notes:`` and the notes to paste whole. Ends with a newline."""
    outcome = f"{c.outcome_code} {c.outcome_label}" if c.outcome_code else f"(none in nDelius) {c.outcome_label}"
    lines = [
        f"Ref: {c.oversight_id}",
        f"CRN: {c.crn or '(none: not a case record)'}",
        f"Contact type: {c.type_code} {c.type_label}",
        f"Outcome: {outcome}",
        f"Date: {c.date}",
        f"Time: {c.time}",
        f"Sensitive: {'Yes' if c.sensitive else 'No'}",
        f"Staff: {c.staff}",
    ]
    # A control character stored by an older version or another program is shown as an escape
    # (\x1b), never sent to the terminal or the file as it is; fields of one line stay one line.
    return "\n".join([*(visible(line, lines=False) for line in lines), "Notes:", visible(c.notes)]) + "\n"


def contacts_text(contacts: list[Contact]) -> str:
    """Every block, separated by a blank line, a rule line and a blank line; empty if none."""
    return f"\n{RULE}\n\n".join(contact_text(c) for c in contacts)


def contacts_csv(contacts: list[Contact]) -> str:
    """A header row and one row per contact (columns :data:`CSV_COLUMNS`).

    RFC 4180 quoting by the csv module; rows end with ``\\n`` (text mode turns that into the
    platform's line end when printed, so Windows gets the CRLF Excel writes); line breaks inside
    the notes are ``\\n`` within a quoted field. Empty values are empty strings. Every cell goes
    through ``domain.text.csv_cell``: a cell a spreadsheet would run as a formula (``=HYPERLINK(…)``,
    ``+cmd``, ``-``, ``@``) starts with an apostrophe, and control characters are shown as escapes.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in contacts:
        writer.writerow(
            csv_cell(cell)
            for cell in (
                c.crn or "",
                c.date,
                c.time,
                c.type_code,
                c.type_label,
                c.outcome_code or "",
                c.outcome_label,
                c.staff,
                "Y" if c.sensitive else "N",
                c.notes,
                c.entered_by,
                c.supersedes or "",
                c.oversight_id,
            )
        )
    return out.getvalue()
