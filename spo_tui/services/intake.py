"""Putting work and people into the store: staff, cases, SBARs, countersign items, tasks, alerts.

Each function validates everything before writing, then writes in one transaction with its audit
row, and returns an ActionResult whose ``item_id`` is the new row's id.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Literal, overload

from spo_tui.domain import countersign_entry
from spo_tui.domain import rules as domain_rules
from spo_tui.domain.dates import SHORT_DATE_WITHIN_MONTHS, echo_when, parse_date, parse_when
from spo_tui.domain.errors import NotFound, ValidationError
from spo_tui.domain.text import check_text
from spo_tui.domain.vocab import (
    AlertSource,
    CountersignKind,
    ItemKind,
    Likelihood,
    Role,
    RoSH,
    SbarState,
    SbarUrgency,
    SentenceType,
    TaskCategory,
    TouchPointReason,
    mappa_problem,
    normalise_crn,
    parse_enum,
)
from spo_tui.services.base import ActionResult, audit, closing, waiting
from spo_tui.services.context import Context
from spo_tui.store import queries, writes


def require_text(value: str | None, field: str, label: str | None = None, *, multiline: bool = False) -> str:
    """The trimmed text, or ValidationError naming the field when it is empty or holds a control
    character (``spo_tui.domain.text.check_text``; tabs and line breaks only if ``multiline``)."""
    return check_text(value, field, label, multiline=multiline, required=True)


def optional_text(value: str | None, field: str, label: str | None = None, *, multiline: bool = False) -> str:
    """The trimmed text ("" for None), or ValidationError naming the field when it holds a control character."""
    return check_text(value, field, label, multiline=multiline)


#: The least a reason must hold when ``[record]`` is missing from the rules.
REASON_MIN_WORDS = 3
REASON_MIN_CHARS = 15


def _rule(ctx: Context, section: str, key: str, default: int) -> int:
    value = ctx.rules.raw.get(section, {}).get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def require_reason(ctx: Context, value: str | None, field: str, label: str) -> str:
    """A reason of real content for a waiver, a countersign verdict or an undo: the trimmed text,
    or ValidationError saying what is needed.

    At least ``[record] reason_min_words`` different words (a word holds a letter) and
    ``reason_min_chars`` characters (defaults 3 and 15): "x", "ok" and "fine fine fine" are refused,
    "Transferred out to Leeds PDU on 01/12" is not. Every screen and the CLI call this through the
    service, so they refuse the same text with the same message.
    """
    text = require_text(value, field, label, multiline=True)
    words = {w.lower() for w in text.split() if any(ch.isalpha() for ch in w)}
    min_words = _rule(ctx, "record", "reason_min_words", REASON_MIN_WORDS)
    min_chars = _rule(ctx, "record", "reason_min_chars", REASON_MIN_CHARS)
    if len(words) < min_words or len(text) < min_chars:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise ValidationError(
            f"{label} must say why in at least {min_words} words and {min_chars} characters, not '{shown}'",
            field=field,
        )
    return text


def short_date_months(ctx: Context) -> int:
    """How far a day and month typed without a year may be from today (``[dates] short_date_within_months``)."""
    return _rule(ctx, "dates", "short_date_within_months", SHORT_DATE_WITHIN_MONTHS)


def parse_day(ctx: Context, value: str, field: str = "date", direction: str = "future") -> date:
    """A date typed as people type it (``spo_tui.domain.dates.parse_when``), read in ``direction``
    within the rules' window; a ValidationError names ``field``."""
    try:
        return parse_when(str(value), ctx.today, direction=direction, within_months=short_date_months(ctx))
    except ValidationError as error:
        raise ValidationError(str(error), field=field) from None


def date_echo(ctx: Context, text: str, direction: str = "future") -> str:
    """What a date field shows as the user types, before saving: ``= Thu 03/12/2026`` or why not."""
    return echo_when(text, ctx.today, direction=direction, within_months=short_date_months(ctx))


def resolve_staff(ctx: Context, who: str | None, field: str, roles: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A staff member by name (case-insensitive) or id, optionally of given roles."""
    name = require_text(who, field)
    staff = queries.find_staff(ctx.db, name)
    if staff is None:
        try:
            staff = queries.get_staff(ctx.db, name)
        except NotFound:
            raise ValidationError(f"no staff member called '{name}'", field=field) from None
    if roles and staff["role"] not in roles:
        raise ValidationError(f"{staff['name']} is {staff['role']}, not {' or '.join(roles)}", field=field)
    return staff


@overload
def read_date(value: date | str | None, field: str, required: Literal[True] = True) -> date: ...
@overload
def read_date(value: date | str | None, field: str, required: bool) -> date | None: ...
def read_date(value: date | str | None, field: str, required: bool = True) -> date | None:
    """A date given as a date or typed in full (``parse_date``); empty is None, or refused when
    ``required``. Errors name ``field``."""
    if value is None or value == "":
        if required:
            raise ValidationError(f"{field.replace('_', ' ')} is required", field=field)
        return None
    return value if isinstance(value, date) else parse_date(value, field)


def existing_case(ctx: Context, crn: str) -> str:
    """The CRN as stored (normalised), refusing one that names no case."""
    crn = normalise_crn(crn)
    if not queries.case_exists(ctx.db, crn):
        raise ValidationError(f"no case with CRN {crn}", field="crn")
    return crn


def _new_item(ctx: Context, action: str, item: dict[str, Any], detail: dict[str, Any]) -> ActionResult:
    item = {"created_at": ctx.now_iso, "status": "open", **item}
    with ctx.db.atomic():
        item_id = writes.insert_item(ctx.db, item, detail)
        audit_id = audit(ctx, action, "item", item_id, new={"item": item, "detail": detail})
    return ActionResult(f"Added: {item['title']}", item_id=item_id, audit_id=audit_id)


# --- People and cases ----------------------------------------------------------------------------


def add_staff(
    ctx: Context, name: str, role: str, team: str = "", fte: float = 1.0, oasys_approved: bool = False
) -> ActionResult:
    """Add a member of staff; names are unique. Only an SPO adds an SPO (a CASPO adding one could
    then enter records "decided by" them)."""
    ctx.require("maintain")
    name = require_text(name, "name")
    role_value = parse_enum(Role, role, "role")
    if role_value is Role.SPO:
        ctx.require("change_role")
    try:
        fte = float(fte)
    except (TypeError, ValueError):
        raise ValidationError(f"FTE must be a number, not '{fte}'", field="fte") from None
    if not 0 < fte <= 1:
        raise ValidationError("FTE must be more than 0 and at most 1", field="fte")
    team = optional_text(team, "team")
    if queries.find_staff(ctx.db, name):
        raise ValidationError(f"there is already a staff member called {name}", field="name")
    row: dict[str, Any] = {
        "id": writes.new_id(),
        "name": name,
        "role": role_value.value,
        "team": team,
        "fte": fte,
        "oasys_approved": int(bool(oasys_approved)),
        "created_at": ctx.now_iso,
    }
    with ctx.db.atomic():
        ctx.db.table("staff").insert(row)
        audit_id = audit(ctx, "add_staff", "staff", row["id"], new=row)
    return ActionResult(f"Added {role_value.value} {name}", item_id=row["id"], audit_id=audit_id)


def add_case(
    ctx: Context,
    crn: str,
    name: str,
    practitioner: str,
    rosh: str,
    sentence_type: str,
    sentence_start: date | str,
    *,
    sentence_end: date | str | None = None,
    likelihood: str | None = None,
    mappa_category: int | None = None,
    mappa_level: int | None = None,
    tier: str | None = None,
    flags: list[tuple[str, date | None]] | None = None,
) -> ActionResult:
    """Add a case; the CRN must be new and valid, the practitioner known, end not before start."""
    ctx.require("maintain")
    crn = normalise_crn(crn)
    if queries.case_exists(ctx.db, crn):
        raise ValidationError(f"a case with CRN {crn} already exists", field="crn")
    row = validate_case_fields(
        ctx,
        crn=crn,
        name=name,
        practitioner=practitioner,
        rosh=rosh,
        sentence_type=sentence_type,
        sentence_start=sentence_start,
        sentence_end=sentence_end,
        likelihood=likelihood,
        mappa_category=mappa_category,
        mappa_level=mappa_level,
        tier=tier,
    )
    flags = [(optional_text(code, "flags", "a registration code"), review) for code, review in flags or []]
    row.update(created_at=ctx.now_iso, updated_at=ctx.now_iso)
    with ctx.db.atomic():
        ctx.db.table("cases").insert(row)
        for code, review in flags or []:
            ctx.db.table("case_flags").insert(
                {
                    "id": writes.new_id(),
                    "crn": crn,
                    "code": code.upper(),
                    "review_date": review.isoformat() if review else None,
                }
            )
        audit_id = audit(ctx, "add_case", "case", crn, new=row)
    return ActionResult(f"Added case {crn} {row['name']}", item_id=crn, audit_id=audit_id)


def validate_case_fields(
    ctx: Context,
    *,
    crn: str,
    name: str | None,
    practitioner: str | None,
    rosh: object,
    sentence_type: object,
    sentence_start: date | str | None,
    sentence_end: date | str | None = None,
    likelihood: object = None,
    mappa_category: object = None,
    mappa_level: object = None,
    tier: str | None = None,
) -> dict[str, Any]:
    """Check a case's fields and return the row to store (shared by add_case and import)."""
    name = require_text(name, "name")
    pp = resolve_staff(ctx, practitioner, "practitioner")
    rosh_value = parse_enum(RoSH, rosh, "rosh")
    sentence = parse_enum(SentenceType, sentence_type, "sentence_type")
    start = read_date(sentence_start, "sentence_start")
    end = read_date(sentence_end, "sentence_end", required=False)
    if end is not None and end < start:
        raise ValidationError(f"sentence end {end:%d/%m/%Y} is before its start {start:%d/%m/%Y}", field="sentence_end")
    likelihood_value = parse_enum(Likelihood, likelihood, "likelihood").value if likelihood else None
    category = _small_int(mappa_category, "mappa_category", 1, 4)
    level = _small_int(mappa_level, "mappa_level", 1, 3)
    problem = mappa_problem(category, level)
    if problem:
        raise ValidationError(problem, field="mappa_level")
    return {
        "crn": crn,
        "name": name,
        "practitioner_id": pp["id"],
        "rosh": rosh_value.value,
        "likelihood": likelihood_value,
        "mappa_category": category,
        "mappa_level": level,
        "tier": optional_text(tier, "tier").upper() or None,
        "sentence_type": sentence.value,
        "sentence_start": start.isoformat(),
        "sentence_end": end.isoformat() if end else None,
    }


def _small_int(value: Any, field: str, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip().upper().lstrip("M")
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationError(f"{field.replace('_', ' ')} must be {low} to {high}, not '{value}'", field=field)
    return int(text)


def risk_rises(ctx: Context, before: dict[str, Any], after: dict[str, Any]) -> list[domain_rules.DueWork]:
    """The touch points a change to a case makes at once: one when RoSH rises, one when the MAPPA
    level rises (from a level it had, or from none to level 2 or 3), in that order. ``before`` is the case as it was (its
    ``crn``, ``rosh`` and ``mappa_level``), ``after`` as it will be. Work them out before writing;
    add them with ``add_risk_rise_touch_points`` (the importer writes its own in bulk)."""
    crn = before["crn"]
    rises = []
    old_rosh, new_rosh = RoSH(before["rosh"]), RoSH(after["rosh"])
    if domain_rules.is_rise(old_rosh, new_rosh):
        rises.append(
            domain_rules.risk_rise_touch_point(
                crn, TouchPointReason.ROSH_RISE, old_rosh.label, new_rosh.label, ctx.today, writes.new_id(), ctx.rules
            )
        )
    old_level, new_level = before["mappa_level"], after["mappa_level"]
    # A case newly at level 2 or 3, from a lower level or from no MAPPA at all, is an event that
    # needs oversight [domain.md "MAPPA"; 000: responsive oversight]; newly at level 1 is not
    # (ordinary agency management: its reviews follow the MAPP registration).
    if new_level is not None and (
        old_level is None and new_level >= 2 or old_level is not None and new_level > old_level
    ):
        rises.append(
            domain_rules.risk_rise_touch_point(
                crn,
                TouchPointReason.MAPPA_RISE,
                "none" if old_level is None else str(old_level),
                str(new_level),
                ctx.today,
                writes.new_id(),
                ctx.rules,
            )
        )
    return rises


def add_risk_rise_touch_points(ctx: Context, crn: str, rises: list[domain_rules.DueWork]) -> None:
    """Put the touch points a risk rise makes (``risk_rises``) in the queue, open and due as worked
    out. Call inside atomic(), with the change to the case and its audit row."""
    for work in rises:
        writes.insert_item(
            ctx.db,
            {
                "kind": "touch_point",
                "crn": crn,
                "title": work.title,
                "due": work.due.isoformat(),
                "rule_key": work.key,
                "created_at": ctx.now_iso,
                "status": "open",
            },
            {"reason": work.reason},
        )


def update_case_risk(
    ctx: Context, crn: str, *, rosh: str | None = None, mappa_level: int | None = None
) -> ActionResult:
    """Change a case's RoSH or MAPPA level. A rise is an event: it creates a touch point at once."""
    ctx.require("maintain")
    crn = existing_case(ctx, crn)
    case = queries.get_case(ctx.db, crn)
    changes: dict[str, Any] = {}
    if rosh is not None:
        new = parse_enum(RoSH, rosh, "rosh")
        if new != RoSH(case["rosh"]):
            changes["rosh"] = new.value
    if mappa_level is not None:
        level = _small_int(mappa_level, "mappa_level", 1, 3)
        if case["mappa_category"] is None:
            raise ValidationError("set a MAPPA category before a level", field="mappa_level")
        problem = mappa_problem(case["mappa_category"], level)
        if problem:
            raise ValidationError(problem, field="mappa_level")
        if level != case["mappa_level"]:
            changes["mappa_level"] = level
    if not changes:
        return ActionResult(f"{crn}: nothing changed", item_id=crn)
    rises = risk_rises(ctx, case, {**case, **changes})
    old_values = {k: case[k] for k in changes}
    with ctx.db.atomic():
        ctx.db.table("cases").update(crn, {**changes, "updated_at": ctx.now_iso})
        add_risk_rise_touch_points(ctx, crn, rises)
        audit_id = audit(ctx, "update_case_risk", "case", crn, old=old_values, new=changes)
    extra = f"; touch point due {rises[0].due:%d/%m}" if rises else ""
    return ActionResult(f"{crn}: risk updated{extra}", item_id=crn, audit_id=audit_id)


# --- Work for the queue --------------------------------------------------------------------------


def raise_sbar(
    ctx: Context,
    crn: str,
    raised_by: str,
    situation: str,
    background: str,
    assessment: str,
    recommendation: str,
    urgency: str = "routine",
    title: str | None = None,
) -> ActionResult:
    """Log an SBAR from a practitioner. All four parts are required."""
    ctx.require("raise_sbar")
    crn = existing_case(ctx, crn)
    pp = resolve_staff(ctx, raised_by, "raised_by")
    parts = {
        key: require_text(value, key, multiline=True)
        for key, value in (
            ("situation", situation),
            ("background", background),
            ("assessment", assessment),
            ("recommendation", recommendation),
        )
    }
    level = parse_enum(SbarUrgency, urgency, "urgency")
    due = ctx.today if level == SbarUrgency.URGENT else None
    headline = (optional_text(title, "title") or parts["situation"]).splitlines()[0][:80]
    return _new_item(
        ctx,
        "raise_sbar",
        {
            "kind": ItemKind.SBAR.value,
            "crn": crn,
            "title": headline,
            "raised_by": pp["id"],
            "due": due.isoformat() if due else None,
        },
        {**parts, "urgency": level.value, "state": SbarState.RAISED.value, "raised_at": ctx.now_iso},
    )


def add_countersign(
    ctx: Context,
    crn: str,
    kind: str,
    author: str,
    *,
    court_date: date | str | None = None,
    submitted: date | str | None = None,
    title: str | None = None,
    link: str | None = None,
    court_time: str | None = None,
    oral: bool = False,
    gatekeeper: str | None = None,
) -> ActionResult:
    """Put an assessment or report in the countersigning queue. A PSR needs its court date.

    The rules of court work and countersigning at source (``spo_tui.domain.court``) apply:

    - a PSR is *gatekept*, not countersigned [000 §3.2]: on a high or very high RoSH case only a
      qualified PO may write it (refused otherwise, naming the rule) and the SPO gatekeeps it; on a
      case whose RoSH allows it (``[gatekeeping] peer_rosh``) ``gatekeeper`` routes it to a peer PO,
      and it then waits on that peer in the SPO's Waiting view (the SPO sees it and can gatekeep it);
    - a report for court today, or an oral report, is due today (by ``court_time``), never overdue
      on entry;
    - dangerousness assessments and parole reports only on the cases where they exist;
    - an approved PO's OASys skips the queue [000 §3.3] (kept, closed, as a footprint), unless the
      sample (``[aqa] sample_one_in``) picks it: then it comes to the SPO marked as the sample.
    """
    ctx.require("add_countersign")
    crn = existing_case(ctx, crn)
    cs_kind = parse_enum(CountersignKind, kind, "kind")
    writer = resolve_staff(ctx, author, "author")
    title = optional_text(title, "title")
    link = optional_text(link, "link") or None
    submitted_on = read_date(submitted, "submitted", required=False) or ctx.today
    court = read_date(court_date, "court_date", required=cs_kind == CountersignKind.PSR)
    if court is not None and court < ctx.today:
        raise ValidationError(f"court date {court:%d/%m/%Y} has passed", field="court_date")
    peer = resolve_staff(ctx, gatekeeper, "gatekeeper") if optional_text(gatekeeper, "gatekeeper") else None
    case = queries.get_case(ctx.db, crn)
    # The same rules an imported row obeys (spo_tui.domain.countersign_entry) [000 §3.2–3.3].
    new = countersign_entry.decide(
        cs_kind,
        crn=crn,
        rosh=RoSH(case["rosh"]),
        sentence_type=case["sentence_type"],
        author=_person(writer),
        submitted=submitted_on,
        court=court,
        today=ctx.today,
        rules=ctx.rules,
        court_time=court_time,
        oral=oral,
        gatekeeper=_person(peer) if peer else None,
        title=title or None,
        link=link,
    )
    item: dict[str, Any] = {
        "kind": ItemKind.COUNTERSIGN.value,
        "crn": crn,
        "title": new.title,
        "raised_by": writer["id"],
        "due": new.due.isoformat(),
    }
    if new.closed_note:
        item.update(closing(ctx, new.closed_note))
    elif new.waiting_on:
        item.update(waiting(ctx, new.waiting_on, new.waiting_until))
    result = _new_item(
        ctx,
        "add_countersign",
        item,
        {
            "kind": cs_kind.value,
            "author_id": writer["id"],
            "state": new.state.value,
            "submitted_at": ctx.now_iso,
            "court_date": court.isoformat() if court else None,
            "link": link,
            "court_time": new.court_time,
            "oral": int(bool(oral)),
            "gatekeeper_id": new.gatekeeper.id if new.gatekeeper else None,
            "sampled": int(new.sampled),
        },
    )
    if new.closed:
        return replace(result, message=f"No countersignature needed: {writer['name']} is an approved PO")
    if new.gatekeeper is not None:
        return replace(
            result, message=f"Added: {item['title']}, to {new.gatekeeper.name} for peer gatekeeping (in Waiting)"
        )
    return result


def _person(staff: dict[str, Any]) -> countersign_entry.Person:
    """A staff row as the countersigning rules need it."""
    return countersign_entry.Person(staff["id"], staff["name"], staff["role"], bool(staff.get("oasys_approved")))


def add_task(
    ctx: Context,
    title: str,
    category: str,
    *,
    details: str = "",
    due: date | str | None = None,
    helpdesk_ref: str = "",
) -> ActionResult:
    """Add a non-operational task; facilities jobs get the 10-working-day target by default [002 §9],
    with the facilities helpdesk's reference if there is one."""
    ctx.require("task")
    title = require_text(title, "title")
    cat = parse_enum(TaskCategory, category, "category")
    due_on = read_date(due, "due", required=False) or domain_rules.task_due(cat, ctx.today, ctx.rules)
    detail = {"category": cat.value, "details": optional_text(details, "details", multiline=True)}
    ref = optional_text(helpdesk_ref, "helpdesk reference")
    if ref:  # only when given: a task without one writes what it always did
        detail["helpdesk_ref"] = ref
    return _new_item(
        ctx, "add_task", {"kind": ItemKind.TASK.value, "crn": None, "title": title, "due": due_on.isoformat()}, detail
    )


def add_alert(ctx: Context, crn: str, source: str, details: str) -> ActionResult:
    """Log an immediate-risk alert (oversight level 3): it goes to the top of the queue, due today."""
    ctx.require("maintain")
    crn = existing_case(ctx, crn)
    src = parse_enum(AlertSource, source, "source")
    details = require_text(details, "details", multiline=True)
    return _new_item(
        ctx,
        "add_alert",
        {
            "kind": ItemKind.ALERT.value,
            "crn": crn,
            "title": f"{src.label}: {details.splitlines()[0][:60]}",
            "due": ctx.today.isoformat(),
        },
        {"source": src.value, "details": details, "received_at": ctx.now_iso},
    )


def add_touch_point(ctx: Context, crn: str, due: date | str, note: str = "") -> ActionResult:
    """A touch point made by hand (new information, a concern): responsive oversight."""
    ctx.require("maintain")
    crn = existing_case(ctx, crn)
    due_on = read_date(due, "due")
    note = optional_text(note, "note")
    return _new_item(
        ctx,
        "add_touch_point",
        {
            "kind": ItemKind.TOUCH_POINT.value,
            "crn": crn,
            "title": note or TouchPointReason.MANUAL.label,
            "due": due_on.isoformat(),
        },
        {"reason": TouchPointReason.MANUAL.value},
    )
