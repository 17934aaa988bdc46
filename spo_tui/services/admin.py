"""The CASPO's maintenance work: absences, transfers, the touch-point diary, MAPPA level 1 reviews,
and corrections to logged SBARs and cases before anyone has acted on them.

Every change validates first, then writes in one transaction with its audit row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from spo_tui.domain import rules as domain_rules
from spo_tui.domain.dates import uk_moment
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.vocab import LIFER_FLAG, SbarState, SbarUrgency, TeamKind, parse_enum
from spo_tui.services.base import ActionResult, audit, change_item, closing, load_open_item
from spo_tui.services.context import LONDON, Context
from spo_tui.services.intake import (
    add_risk_rise_touch_points,
    existing_case,
    optional_text,
    parse_day,
    read_date,
    require_text,
    resolve_staff,
    risk_rises,
    validate_case_fields,
)
from spo_tui.store import queries, writes

TRANSFER_STATUSES = ("requested", "in_progress", "completed", "cancelled")


# --- Teams ---------------------------------------------------------------------------------------


def set_team_kind(ctx: Context, team: str, kind: str) -> ActionResult:
    """Say what a team does: sentence management or court (``TeamKind``). The team must have staff;
    its span of control and its queue follow from the kind [000 §3.2, 002]."""
    ctx.require("maintain")
    team = require_text(team, "team")
    kind_value = parse_enum(TeamKind, kind, "kind")
    known = {t.casefold(): t for t in queries.staff_teams(ctx.db)}
    if team.casefold() not in known:
        raise ValidationError(f"no member of staff is in a team called {team}", field="team")
    team = known[team.casefold()]
    old = queries.team_kind(ctx.db, team)
    if old == kind_value.value:
        return ActionResult(f"{team} is already a {kind_value.label} team")
    row = {"name": team, "kind": kind_value.value, "set_at": ctx.now_iso, "set_by": ctx.actor["id"]}
    with ctx.db.atomic():
        ctx.db.table("teams").upsert(row, pk="name")
        audit_id = audit(ctx, "set_team_kind", "team", team, old={"kind": old}, new={"kind": kind_value.value})
    return ActionResult(f"{team} is now a {kind_value.label} team", audit_id=audit_id)


# --- Absences ------------------------------------------------------------------------------------


def add_absence(
    ctx: Context, who: str, start: date | str, end: date | str | None = None, reason: str = ""
) -> ActionResult:
    """Record a staff absence (sickness, leave, training); the check-in shows whose work needs cover."""
    ctx.require("maintain")
    person = resolve_staff(ctx, who, "who")
    first = _when(ctx, start, "start", "nearest")
    last = _when(ctx, end, "end", "nearest") if end not in (None, "") else first
    if last < first:
        raise ValidationError(f"the absence ends {last:%d/%m/%Y}, before it starts {first:%d/%m/%Y}", field="end")
    row = {
        "id": writes.new_id(),
        "staff_id": person["id"],
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
        "reason": optional_text(reason, "reason"),
        "created_at": ctx.now_iso,
    }
    with ctx.db.atomic():
        ctx.db.table("absences").insert(row)
        audit_id = audit(ctx, "add_absence", "absence", row["id"], new=row)
    return ActionResult(f"{person['name']} absent {first:%d/%m} to {last:%d/%m}", item_id=row["id"], audit_id=audit_id)


def _when(ctx: Context, value: date | str | None, field: str, direction: str = "future") -> date:
    """A date given as a date, or typed as people type it (``tomorrow``, ``25/12``, ``2026-12-25``):
    a day and month without a year is read in ``direction`` within the rules' window
    (``intake.parse_day``). Absences read "nearest" (one may have begun last week); due dates and
    meetings read ahead."""
    if isinstance(value, date):
        return value
    text = require_text(value, field)
    return parse_day(ctx, text, field, direction)


# --- Transfers -----------------------------------------------------------------------------------


def add_transfer(
    ctx: Context, crn: str, direction: str, other_area: str, due: date | str | None = None, note: str = ""
) -> ActionResult:
    """Start tracking a transfer of a case in or out of the team."""
    ctx.require("maintain")
    crn = existing_case(ctx, crn)
    direction = (direction or "").strip().lower()
    if direction not in ("in", "out"):
        raise ValidationError("direction must be 'in' or 'out'", field="direction")
    area = require_text(other_area, "other_area", "the other area or PDU")
    due_on = _when(ctx, due, "due") if due not in (None, "") else None
    note = optional_text(note, "note")
    row: dict[str, Any] = {
        "id": writes.new_id(),
        "crn": crn,
        "direction": direction,
        "other_area": area,
        "status": "requested",
        "requested_on": ctx.today.isoformat(),
        "due": due_on.isoformat() if due_on else None,
        "note": note,
        "created_at": ctx.now_iso,
        "updated_at": ctx.now_iso,
    }
    with ctx.db.atomic():
        ctx.db.table("transfers").insert(row)
        audit_id = audit(ctx, "add_transfer", "transfer", row["id"], new=row)
    return ActionResult(f"Transfer {direction} of {crn} ({area}) recorded", item_id=row["id"], audit_id=audit_id)


def set_transfer_status(ctx: Context, transfer_id: str, status: str) -> ActionResult:
    """Move a transfer on: requested → in progress → completed (or cancelled)."""
    ctx.require("maintain")
    if status not in TRANSFER_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(TRANSFER_STATUSES)}", field="status")
    current = queries.get_transfer(ctx.db, transfer_id)
    if current["status"] in ("completed", "cancelled"):
        raise NotAllowed(f"the transfer is already {current['status']}")
    with ctx.db.atomic():
        ctx.db.table("transfers").update(transfer_id, {"status": status, "updated_at": ctx.now_iso})
        audit_id = audit(
            ctx,
            "set_transfer_status",
            "transfer",
            transfer_id,
            old={"status": current["status"]},
            new={"status": status},
        )
    return ActionResult(
        f"Transfer of {current['crn']}: {status.replace('_', ' ')}", item_id=transfer_id, audit_id=audit_id
    )


def transfers_in_progress(ctx: Context) -> list[dict[str, Any]]:
    """Transfers not yet completed or cancelled, soonest due first."""
    return queries.open_transfers(ctx.db)


# --- Touch-point diary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DiaryLine:
    item_id: str
    crn: str
    name: str
    practitioner: str
    practitioner_email: str | None
    due: date
    title: str
    arranged_for: str | None
    reminder_sent_at: str | None
    #: The day the diary was read: a reminder says "was due … (N days overdue)" for a date before it.
    today: date | None = None

    @property
    def reminder(self) -> str:
        return reminder_text(self, self.today)


def touch_point_diary(ctx: Context, days: int = 14) -> dict[str, list[DiaryLine]]:
    """Open touch points due in the next ``days`` days (and any overdue), grouped by practitioner."""
    until = ctx.today + timedelta(days=days)
    grouped: dict[str, list[DiaryLine]] = defaultdict(list)
    for r in queries.touch_points_due(ctx.db, until, ctx.team):  # the own team's cases (issue 16)
        line = DiaryLine(
            item_id=r["id"],
            crn=r["crn"],
            name=r["name"],
            practitioner=r["practitioner"] or "Unallocated",
            practitioner_email=r["email"],
            due=date.fromisoformat(r["due"]),
            title=r["title"],
            arranged_for=r["arranged_for"],
            reminder_sent_at=r["reminder_sent_at"],
            today=ctx.today,
        )
        grouped[line.practitioner].append(line)
    return dict(sorted(grouped.items()))


def reminder_text(line: DiaryLine, today: date | None = None) -> str:
    """A reminder the CASPO can paste into an email or Teams message to the practitioner (``today``
    says whether the touch point is overdue)."""
    when = ""
    if line.arranged_for:
        arranged = datetime.fromisoformat(line.arranged_for)
        when = (
            f" It is arranged for {arranged:%A %d %B at %H:%M}."
            if "T" in line.arranged_for
            else f" It is arranged for {arranged:%A %d %B}."
        )
    return (
        f"Hello {line.practitioner.split()[0]}, a management-oversight touch point on {line.crn} ({line.name}) "
        f"{_due_words(line, today)}: {line.title}.{when} Please bring the case up to date and, if you need "
        f"a decision, prepare an SBAR before we meet. Thank you."
    )


def _due_words(line: DiaryLine, today: date | None = None) -> str:
    """``is due by Friday 04 December 2026``, or for a date gone by ``was due on Friday 14 August 2026
    (109 days overdue)``: a reminder never tells a practitioner that something long late is still ahead."""
    today = today or line.today
    late = (today - line.due).days if today else 0
    if late > 0:
        return f"was due on {line.due:%A %d %B %Y} ({late} day{'s' if late != 1 else ''} overdue)"
    return f"is due by {line.due:%A %d %B %Y}"


def mark_arranged(ctx: Context, item_id: str, when: str | datetime) -> ActionResult:
    """Diarise a touch-point meeting: a date (``fri``, ``25/11``) with an optional time (``fri 10:30``)."""
    ctx.require("maintain")
    item = load_open_item(ctx, item_id, "touch_point")
    moment = when.astimezone(LONDON) if isinstance(when, datetime) else parse_meeting(ctx, when)
    stamp = moment.isoformat(timespec="minutes") if isinstance(moment, datetime) else moment.isoformat()
    with ctx.db.atomic():
        audit_id = change_item(ctx, "mark_arranged", item, detail_changes={"arranged_for": stamp})
    return ActionResult(
        f"Touch point on {item['crn']} arranged for {uk_moment(stamp)}", item_id=item_id, audit_id=audit_id
    )


def parse_meeting(ctx: Context, text: str) -> date | datetime:
    """When a meeting is arranged, as typed: a day (``_when``, read ahead), optionally followed by
    ``HH:MM`` (then a London time). Refuses a day before today."""
    words = require_text(text, "when", "when it is arranged").split()
    clock = None
    if len(words) > 1 and ":" in words[-1]:
        try:
            clock = datetime.strptime(words[-1], "%H:%M").time()
        except ValueError:
            raise ValidationError(f"'{words[-1]}' is not a time: use HH:MM, e.g. 10:30", field="when") from None
        words = words[:-1]
    day = _when(ctx, " ".join(words), "when")
    if day < ctx.today:
        raise ValidationError("arrange it for today or later", field="when")
    return datetime.combine(day, clock, LONDON) if clock else day


def meeting_echo(ctx: Context, text: str) -> str:
    """What a meeting field shows as it is typed: ``= Fri 04/12/2026 10:30`` (or the day alone),
    or why it cannot be read; empty while nothing is typed."""
    if not (text or "").strip():
        return ""
    try:
        moment = parse_meeting(ctx, text)
    except ValidationError as error:
        return str(error)
    if isinstance(moment, datetime):
        return f"= {moment:%a %d/%m/%Y %H:%M}"
    return f"= {moment:%a %d/%m/%Y}"


def mark_reminder_sent(ctx: Context, item_id: str) -> ActionResult:
    """Note that the practitioner has been reminded of the touch point."""
    ctx.require("maintain")
    item = load_open_item(ctx, item_id, "touch_point")
    with ctx.db.atomic():
        audit_id = change_item(ctx, "mark_reminder_sent", item, detail_changes={"reminder_sent_at": ctx.now_iso})
    return ActionResult(f"Reminder for {item['crn']} marked as sent", item_id=item_id, audit_id=audit_id)


# --- MAPPA level 1 reviews -----------------------------------------------------------------------


def mappa_level1_reviews(ctx: Context, days: int = 28) -> list[dict[str, Any]]:
    """MAPPA level 1 cases whose MAPP registration review falls within ``days`` (or is overdue or unset).

    The review date is that of the case's ``MAPP`` registration; a case without one is listed so
    the CASPO can record it.
    """
    return queries.mappa_level1_reviews(ctx.db, ctx.today + timedelta(days=days), ctx.team)  # own team's


# --- Corrections before anyone acts --------------------------------------------------------------


def update_sbar(ctx: Context, item_id: str, **fields: str) -> ActionResult:
    """Correct a logged SBAR (its four parts, urgency, title) while it is still waiting for the SPO."""
    ctx.require("raise_sbar")
    item = load_open_item(ctx, item_id, "sbar")
    if item["detail"]["state"] != SbarState.RAISED.value:
        raise NotAllowed("the SPO has acted on this SBAR: it can no longer be edited")
    allowed = {"situation", "background", "assessment", "recommendation", "urgency", "title"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"cannot edit {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    detail = {k: require_text(v, k, multiline=True) for k, v in fields.items() if k in allowed - {"urgency", "title"}}
    item_changes = {}
    if "urgency" in fields:
        level = parse_enum(SbarUrgency, fields["urgency"], "urgency")
        detail["urgency"] = level.value
        item_changes["due"] = ctx.today.isoformat() if level == SbarUrgency.URGENT else item["due"]
    if "title" in fields:
        item_changes["title"] = require_text(fields["title"], "title")[:80]
    detail = {k: v for k, v in detail.items() if item["detail"].get(k) != v}
    item_changes = {k: v for k, v in item_changes.items() if item.get(k) != v}
    if not detail and not item_changes:
        return ActionResult("Nothing changed", item_id=item_id)
    with ctx.db.atomic():
        audit_id = change_item(ctx, "update_sbar", item, item_changes=item_changes, detail_changes=detail)
    return ActionResult(f"SBAR on {item['crn']} updated", item_id=item_id, audit_id=audit_id)


#: A case's fields as a message names them.
CASE_FIELD_LABELS = {
    "name": "name",
    "practitioner": "practitioner",
    "rosh": "RoSH",
    "sentence_type": "sentence type",
    "sentence_start": "sentence start",
    "sentence_end": "sentence end",
    "likelihood": "likelihood of reoffending",
    "mappa_category": "MAPPA category",
    "mappa_level": "MAPPA level",
    "tier": "tier",
}


def update_case(ctx: Context, crn: str, **fields: Any) -> ActionResult:
    """Correct a case's facts. A rise in RoSH or MAPPA level makes a touch point, as in ``update_case_risk``."""
    ctx.require("maintain")
    crn = existing_case(ctx, crn)
    case = queries.get_case(ctx.db, crn)
    merged = {
        "name": case["name"],
        "practitioner": case["practitioner"] or "",
        "rosh": case["rosh"],
        "sentence_type": case["sentence_type"],
        "sentence_start": case["sentence_start"],
        "sentence_end": case["sentence_end"],
        "likelihood": case["likelihood"],
        "mappa_category": case["mappa_category"],
        "mappa_level": case["mappa_level"],
        "tier": case["tier"],
    }
    unknown = set(fields) - set(merged)
    if unknown:
        raise ValidationError(f"cannot edit {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    merged.update(fields)
    row = validate_case_fields(ctx, crn=crn, **merged)
    changes = {k: v for k, v in row.items() if k != "crn" and case.get(k) != v}
    if not changes:
        return ActionResult(f"{crn}: nothing changed", item_id=crn)
    rises = risk_rises(ctx, case, row)
    with ctx.db.atomic():
        ctx.db.table("cases").update(crn, {**changes, "updated_at": ctx.now_iso})
        add_risk_rise_touch_points(ctx, crn, rises)
        audit_id = audit(ctx, "update_case", "case", crn, old={k: case.get(k) for k in changes}, new=changes)
    extra = f"; touch point due {rises[0].due:%d/%m}" if rises else ""
    changed = ", ".join(CASE_FIELD_LABELS.get(k, k.replace("_", " ")) for k in sorted(changes))
    return ActionResult(f"{crn}: {changed} updated{extra}", item_id=crn, audit_id=audit_id)


def set_flag(
    ctx: Context,
    crn: str,
    code: str,
    review: date | str | None = None,
    description: str = "",
    review_period_months: int | str | None = None,
) -> ActionResult:
    """Add a registration to a case, or change its review date (e.g. the MAPP review).

    A registration has a review period in months and a next review date, as the case record has
    them (``reviewPeriodMonths``, ``nextReviewDate``); the review coming due is oversight work
    (a touch point; for the MAPP registration of a level 1 case, the MAPPA level 1 review) [000,
    001]. Given no date, a registration with a period (given now or stored) is taken as reviewed
    today: its next review is that many months from today; without a period, no date clears it.
    A period given once stays when only the date changes.
    """
    ctx.require("maintain")
    crn = existing_case(ctx, crn)
    code = require_text(code, "code").upper()
    description = optional_text(description, "description")
    if code == "SPO":
        raise ValidationError("'SPO' is ambiguous as a flag code: stalking is registered as STAL here", field="code")
    review_on = read_date(review, "review", required=False)
    period = _review_period(review_period_months)
    existing = ctx.db.execute(
        "SELECT id, review_date, review_period_months FROM case_flags WHERE crn = ? AND code = ?", [crn, code]
    ).fetchone()
    if existing and period is None:
        period = existing[2]
    if review_on is None and period is not None:
        # Reviewed today: the next review is a period away (the case record's reviewPeriodMonths).
        review_on = ctx.today + relativedelta(months=period)
    with ctx.db.atomic():
        if existing:
            ctx.db.table("case_flags").update(
                existing[0],
                {"review_date": review_on.isoformat() if review_on else None, "review_period_months": period},
            )
            audit_id = audit(
                ctx,
                "set_flag",
                "case",
                crn,
                old={"code": code, "review_date": existing[1], "review_period_months": existing[2]},
                new={
                    "code": code,
                    "review_date": review_on.isoformat() if review_on else None,
                    "review_period_months": period,
                },
            )
            new_review = review_on.isoformat() if review_on else None
            if existing[1] and existing[1] != new_review:
                # The old date's review point, still open, is replaced by the new date's [000, 001].
                note = domain_rules.moved_date_note(f"{code} review", existing[1], new_review)
                _close_open(ctx, domain_rules.flag_review_key(crn, code, existing[1]), note)
        else:
            ctx.db.table("case_flags").insert(
                {
                    "id": writes.new_id(),
                    "crn": crn,
                    "code": code,
                    "description": description,
                    "review_date": review_on.isoformat() if review_on else None,
                    "review_period_months": period,
                }
            )
            audit_id = audit(
                ctx,
                "set_flag",
                "case",
                crn,
                new={"code": code, "review_date": str(review_on), "review_period_months": period},
            )
    return ActionResult(
        f"{crn}: {code} review {review_on:%d/%m/%Y}" if review_on else f"{crn}: {code} recorded",
        item_id=crn,
        audit_id=audit_id,
    )


def _review_period(value: int | str | None) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 60:
        raise ValidationError(
            f"a review period is a whole number of months, 1 to 60, not '{value}'", field="review_period_months"
        )
    return int(text)


# --- Custody to community ------------------------------------------------------------------------

#: The custody dates of a case, as a message names them.
CUSTODY_FIELDS = {
    "release_date": "release from custody",
    "rotl_date": "ROTL",
    "handover_date": "OMiC handover",
    "lifer_panel_date": "lifer panel",
}


def set_custody(ctx: Context, crn: str, **fields: Any) -> ActionResult:
    """Record a case's custody-to-community dates and whether it is a victim contact scheme case.

    ``fields``: ``release_date`` (release from prison, expected or actual), ``rotl_date`` (the next
    release on temporary licence), ``handover_date`` (OMiC handover, custody to community),
    ``lifer_panel_date`` (the next lifer panel: only on a lifer, a case with the INLL registration),
    each a date or "" / None to clear; ``victim_contact`` True or False. The next refresh puts the
    touch points they make in the queue (``rules.custody_touch_points``) [004, 001].
    """
    ctx.require("maintain")
    crn = existing_case(ctx, crn)
    unknown = set(fields) - set(CUSTODY_FIELDS) - {"victim_contact"}
    if unknown:
        raise ValidationError(f"cannot set {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    case = ctx.db.execute(
        "SELECT release_date, rotl_date, handover_date, lifer_panel_date, victim_contact FROM cases WHERE crn = ?",
        [crn],
    ).fetchone()
    before = dict(zip((*CUSTODY_FIELDS, "victim_contact"), case, strict=True))
    after: dict[str, Any] = {}
    for name in CUSTODY_FIELDS:
        if name in fields:
            value = fields[name]
            day = None if value in (None, "") else read_date(value, name, required=False)
            after[name] = day.isoformat() if day else None
    if "victim_contact" in fields:
        after["victim_contact"] = int(bool(fields["victim_contact"]))
    if after.get("lifer_panel_date") and not queries.has_flag(ctx.db, crn, LIFER_FLAG):
        raise ValidationError(
            f"a lifer panel is for a lifer: record the {LIFER_FLAG} registration on {crn} first",
            field="lifer_panel_date",
        )
    changes = {k: v for k, v in after.items() if before[k] != v}
    if not changes:
        return ActionResult(f"{crn}: nothing changed", item_id=crn)
    with ctx.db.atomic():
        ctx.db.table("cases").update(crn, {**changes, "updated_at": ctx.now_iso})
        audit_id = audit(ctx, "set_custody", "case", crn, old={k: before[k] for k in changes}, new=changes)
        closed = _follow_moved_dates(ctx, crn, before, changes)
    said = ", ".join(
        ("victim contact " + ("yes" if v else "no"))
        if k == "victim_contact"
        else f"{CUSTODY_FIELDS[k]} {date.fromisoformat(v):%d/%m/%Y}"
        if v
        else f"{CUSTODY_FIELDS[k]} cleared"
        for k, v in changes.items()
    )
    if closed:
        said += f"; {closed} touch point{'s' if closed != 1 else ''} for the old date closed"
    return ActionResult(f"{crn}: {said}", item_id=crn, audit_id=audit_id)


def _close_open(ctx: Context, key: str, note: str) -> int:
    """Close the rule-made item with ``key`` if it is open or waiting, with ``note``, audited; 1 if
    it was closed. One already closed (acted on, its oversight entry written) is left as it is."""
    item = ctx.db.execute("SELECT id, status FROM items WHERE rule_key = ? AND status != 'closed'", [key]).fetchone()
    if item is None:
        return 0
    writes.update_item(ctx.db, item[0], {**closing(ctx, note), "updated_at": ctx.now_iso})
    audit(ctx, "close_moved_date", "item", item[0], old={"status": item[1]}, new={"status": "closed", "note": note})
    return 1


def _follow_moved_dates(ctx: Context, crn: str, before: dict[str, Any], changes: dict[str, Any]) -> int:
    """A custody date moved or cleared: close the touch points its old value made that are still
    open or waiting, each with a note saying the date moved from dd/mm/yyyy to dd/mm/yyyy, and
    audited; return how many [004].

    Closed rather than moved: the touch point's key (and so its id, the same on every device) is
    made from the date, so the refresh makes the new date's own point, and the old one stays as the
    footprint of what was due then. Work already done on it (a closed item, an oversight entry)
    is never touched. A ROTL or lifer panel date already past took place: a new date is the next
    one, and the old point stays (``rules.moved_date_keys``). If the date comes back to a value whose point was closed only because the
    date moved, that point is opened again (the refresh would not make a second item with its key).
    Call inside the transaction that changes the dates.
    """
    count = 0
    for field, label in CUSTODY_FIELDS.items():
        if field not in changes:
            continue
        old, new = before[field], changes[field]
        note = domain_rules.moved_date_note(label[:1].upper() + label[1:], old, new) if old else ""
        for key in domain_rules.moved_date_keys(crn, field, old, ctx.today):
            count += _close_open(ctx, key, note)
        prefix = label[:1].upper() + label[1:]
        for key in domain_rules.moved_date_keys(crn, field, new):
            item = ctx.db.execute(
                "SELECT id, closed_note FROM items WHERE rule_key = ? AND status = 'closed'", [key]
            ).fetchone()
            if item is None or not (item[1] or "").startswith(
                (f"{prefix} date moved from ", f"{prefix} date cleared ")
            ):
                continue
            reopened = {"status": "open", "closed_at": None, "closed_note": None, "updated_at": ctx.now_iso}
            writes.update_item(ctx.db, item[0], reopened)
            audit(ctx, "reopen_moved_date", "item", item[0], old={"closed_note": item[1]}, new={"status": "open"})
    return count
