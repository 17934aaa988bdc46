"""What an import would write, kind by kind: each checked row of an extract becomes an insert, an
update or nothing (``Plan``), by its natural key, with the touch points a rise in risk makes.

``importer.import_file`` checks the file, asks ``PLANNERS[kind]`` for the plan, then writes it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from spo_tui.domain import countersign_entry
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.extracts import (
    CaseRow,
    Checked,
    CountersignRow,
    Lookups,
    RowProblem,
    StaffRow,
    TouchPointRow,
    name_key,
)
from spo_tui.domain.rules import countersign_due, flag_review_key, is_catch_up, moved_date_keys, moved_date_note
from spo_tui.domain.vocab import FLAG_DESCRIPTIONS, CountersignKind, CountersignState, Role, RoSH
from spo_tui.services.admin import CUSTODY_FIELDS
from spo_tui.services.base import waiting
from spo_tui.services.context import Context
from spo_tui.services.intake import risk_rises
from spo_tui.store import writes

# --- What the store already holds -------------------------------------------------------------------


def lookups(ctx: Context, kind: str) -> Lookups:
    """What rows of ``kind`` are checked against: staff names (every kind but staff), and the CRNs
    of existing cases (countersign items and touch points)."""
    if kind == "staff":
        return Lookups()
    staff = {name_key(name): (staff_id, name) for staff_id, name in ctx.db.execute("SELECT id, name FROM staff")}
    cases: frozenset[str] = frozenset()
    if kind in ("countersign", "touchpoints"):
        cases = frozenset(r[0] for r in ctx.db.execute("SELECT crn FROM cases"))
    return Lookups(staff=staff, cases=cases)


@dataclass
class Plan:
    """The writes an import would make: SQL with its rows, in order, and what the audit says."""

    added: list[Any] = field(default_factory=list)
    updated: list[Any] = field(default_factory=list)
    unchanged: int = 0
    #: (sql, rows) pairs run with executemany, in order.
    statements: list[tuple[str, list[tuple]]] = field(default_factory=list)
    #: Per updated key, the stored values that changed (the audit's ``old``).
    old: dict[str, dict[str, Any]] = field(default_factory=dict)
    rises: list[Any] = field(default_factory=list)
    #: Rows the acting person may not import (a role change they may not make): nothing is written.
    problems: list[RowProblem] = field(default_factory=list)
    #: Touch points added that are already overdue, and of those on the catch-up list.
    overdue: tuple[int, int] = (0, 0)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


# --- Cases ---------------------------------------------------------------------------------------

_CASE_ALWAYS = ("name", "practitioner_id", "rosh", "sentence_type", "sentence_start")
_CASE_OPTIONAL = (
    "sentence_end",
    "likelihood",
    "mappa_category",
    "mappa_level",
    "tier",
    # Custody to community [004].
    "release_date",
    "rotl_date",
    "handover_date",
    "lifer_panel_date",
    "victim_contact",
)


def _plan_cases(ctx: Context, checked: Checked) -> Plan:
    header = checked.header
    fields = _CASE_ALWAYS + tuple(f for f in _CASE_OPTIONAL if header.has(f))
    with_flags = header.has("flags")
    cursor = ctx.db.execute(f"SELECT crn, {', '.join(fields)} FROM cases")
    stored = {r[0]: r[1:] for r in cursor}
    stored_flags: dict[str, dict[str, str | None]] = {}
    if with_flags:
        for crn, code, review in ctx.db.execute("SELECT crn, code, review_date FROM case_flags"):
            stored_flags.setdefault(crn, {})[code] = review
    now, plan = ctx.now_iso, Plan()
    inserts, updates = [], []
    flag_inserts: list[tuple] = []
    flag_updates: list[tuple] = []
    flag_deletes: list[tuple] = []
    every = _CASE_ALWAYS + _CASE_OPTIONAL
    # Rule-made touch points still open, by key: a date the file moves closes its old date's [004].
    open_keys = {
        r[0] for r in ctx.db.execute("SELECT rule_key FROM items WHERE rule_key LIKE 'tp:%' AND status != 'closed'")
    }
    moved: list[tuple] = []
    pick = operator.itemgetter(*(every.index(f) for f in fields))
    descriptions = FLAG_DESCRIPTIONS
    row: CaseRow
    for row in checked.rows:
        # Enum members are str: stored and compared as their values.
        full = (
            row.name,
            row.practitioner_id,
            row.rosh,
            row.sentence_type,
            row.sentence_start.isoformat(),
            row.sentence_end.isoformat() if row.sentence_end else None,
            row.likelihood,
            row.mappa_category,
            row.mappa_level,
            row.tier,
            _iso(row.release_date),
            _iso(row.rotl_date),
            _iso(row.handover_date),
            _iso(row.lifer_panel_date),
            int(bool(row.victim_contact)),
        )
        new = pick(full)
        old = stored.get(row.crn)
        # row.flags is None exactly when the file has no flags column (not with_flags)
        flags = {code: _iso(review) for code, review in row.flags} if row.flags is not None else None
        if old is None:
            plan.added.append(row.crn)
            inserts.append((row.crn, *full, now, now))
            if flags:
                flag_inserts.extend(
                    (writes.new_id(), row.crn, code, descriptions.get(code, ""), review)
                    for code, review in flags.items()
                )
            continue
        old_flags = stored_flags.get(row.crn, {})
        flags_changed = with_flags and flags != old_flags
        if new == old and not flags_changed:
            plan.unchanged += 1
            continue
        plan.updated.append(row.crn)
        updates.append((*new, now, row.crn))
        changed = {f: o for f, o, n in zip(fields, old, new, strict=True) if o != n}
        if flags_changed and flags is not None:
            changed["flags"] = dict(sorted(old_flags.items()))
            flag_deletes.extend((row.crn, code) for code in old_flags if code not in flags)
            for code, review in flags.items():
                if code not in old_flags:
                    flag_inserts.append((writes.new_id(), row.crn, code, descriptions.get(code, ""), review))
                elif old_flags[code] != review:
                    flag_updates.append((review, row.crn, code))
        plan.old[row.crn] = changed
        plan.rises.extend(_rises(ctx, row, changed))
        moved.extend(_moved_dates(ctx, row.crn, changed, dict(zip(fields, new, strict=True)), flags, open_keys))

    columns = ("crn", *_CASE_ALWAYS, *_CASE_OPTIONAL, "created_at", "updated_at")
    plan.statements = [
        (f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", inserts),
        (f"UPDATE cases SET {', '.join(f + ' = ?' for f in fields)}, updated_at = ? WHERE crn = ?", updates),
        ("DELETE FROM case_flags WHERE crn = ? AND code = ?", flag_deletes),
        ("UPDATE case_flags SET review_date = ? WHERE crn = ? AND code = ?", flag_updates),
        ("INSERT INTO case_flags (id, crn, code, description, review_date) VALUES (?, ?, ?, ?, ?)", flag_inserts),
        *_rise_statements(ctx, plan.rises),
        (
            "UPDATE items SET status = 'closed', closed_at = ?, closed_note = ?, updated_at = ? "
            "WHERE rule_key = ? AND status != 'closed'",
            moved,
        ),
    ]
    return plan


def _moved_dates(
    ctx: Context,
    crn: str,
    changed: dict[str, Any],
    new: dict[str, Any],
    flags: dict[str, str | None] | None,
    open_keys: set[str],
) -> list[tuple]:
    """The old dates' open touch points an update closes, as ``admin.set_custody`` and
    ``admin.set_flag`` close them: a custody date moved or cleared, a registration's review date
    changed [004, 000]. Each closed key is also named in the import's audit (``changed``)."""
    out: list[tuple] = []
    for column, label in CUSTODY_FIELDS.items():
        if changed.get(column):
            note = moved_date_note(label[:1].upper() + label[1:], changed[column], new.get(column))
            out.extend(
                (ctx.now_iso, note, ctx.now_iso, key)
                for key in moved_date_keys(crn, column, changed[column], ctx.today)
                if key in open_keys
            )
    for code, old_review in (changed.get("flags") or {}).items():
        new_review = (flags or {}).get(code)
        key = flag_review_key(crn, code, old_review) if old_review else None
        if key in open_keys and new_review != old_review:
            out.append((ctx.now_iso, moved_date_note(f"{code} review", old_review, new_review), ctx.now_iso, key))
    if out:
        changed["touch points closed"] = [r[3] for r in out]
    return out


def _rises(ctx: Context, row: CaseRow, changed: dict[str, Any]) -> list[tuple[str, Any]]:
    """Touch points an update makes, as ``update_case_risk`` makes them (``intake.risk_rises``):
    a rise in RoSH or MAPPA level. ``changed`` holds the old values of the fields that change."""
    # An unchanged level is the row's own (it was "None" here, harmless while only a rise from a
    # level counted; a rise from no MAPPA to level 2 or 3 now counts too).
    level_before = changed.get("mappa_level", row.mappa_level)
    before = {"crn": row.crn, "rosh": changed.get("rosh", row.rosh), "mappa_level": level_before}
    after = {"rosh": row.rosh, "mappa_level": row.mappa_level}
    return [(row.crn, work) for work in risk_rises(ctx, before, after)]


def _rise_statements(ctx: Context, rises: list[tuple[str, Any]]) -> list[tuple[str, list[tuple]]]:
    now = ctx.now_iso
    items, details = [], []
    for crn, work in rises:
        item_id = writes.rule_item_id(work.key)
        items.append((item_id, "touch_point", crn, work.title, "open", work.due.isoformat(), work.key, now, now))
        details.append((item_id, work.reason))
    return [
        (
            "INSERT INTO items (id, kind, crn, title, status, due, rule_key, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        ),
        ("INSERT INTO touch_points (item_id, reason) VALUES (?, ?)", details),
    ]


# --- Staff ---------------------------------------------------------------------------------------

_STAFF_OPTIONAL = ("team", "fte", "oasys_approved", "email")


def _plan_staff(ctx: Context, checked: Checked) -> Plan:
    fields = ("name", "role", *(f for f in _STAFF_OPTIONAL if checked.header.has(f)))
    stored: dict[str, tuple] = {}
    for r in ctx.db.execute(f"SELECT id, {', '.join(fields)} FROM staff"):
        stored.setdefault(name_key(r[1]), r)
    now, plan = ctx.now_iso, Plan()
    inserts, updates = [], []
    row: StaffRow
    for row in checked.rows:
        values = {
            "name": row.name,
            "role": row.role.value,
            "team": row.team,
            "fte": row.fte,
            "oasys_approved": int(row.oasys_approved),
            "email": row.email,
        }
        new = tuple(values[f] for f in fields)
        old = stored.get(name_key(row.name))
        refused = _role_refusal(ctx, old, row, setting_up=not stored)
        if refused:
            plan.problems.append(RowProblem(row.line, "role", refused))
        elif old is None:
            plan.added.append(row.name)
            inserts.append((writes.new_id(), *(values[f] for f in ("name", "role", *_STAFF_OPTIONAL)), now))
        elif new == old[1:]:
            plan.unchanged += 1
        else:
            plan.updated.append(row.name)
            updates.append((*new, old[0]))
            plan.old[old[1]] = {f: o for f, o, n in zip(fields, old[1:], new, strict=True) if o != n}
    columns = ("id", "name", "role", *_STAFF_OPTIONAL, "created_at")
    plan.statements = [
        (f"INSERT INTO staff ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", inserts),
        (f"UPDATE staff SET {', '.join(f + ' = ?' for f in fields)} WHERE id = ?", updates),
    ]
    return plan


def _role_refusal(ctx: Context, old: tuple | None, row: StaffRow, *, setting_up: bool) -> str | None:
    """Why the acting person may not import this row's role, or None.

    Nobody changes their own role, and only an SPO changes anyone's role or adds an SPO, so a CASPO
    cannot make themself SPO or demote the SPO. Importing staff into a store that has none (set-up)
    adds whoever is in the file.
    """
    actor = ctx.actor
    if old is None:
        if row.role is Role.SPO and not setting_up and actor["role"] != Role.SPO.value:
            return f"only an SPO can add an SPO; {actor['name']} is {actor['role']}"
        return None
    stored_role = old[2]
    if stored_role == row.role.value:
        return None
    change = f"{old[1]} is {stored_role}, the file says {row.role.value}"
    if old[0] == actor["id"]:
        return f"nobody changes their own role ({change}): another SPO must"
    if actor["role"] != Role.SPO.value:
        return f"only an SPO can change a role ({change}); {actor['name']} is {actor['role']}"
    return None


# --- Countersign items ---------------------------------------------------------------------------


def _submitted_at(ctx: Context, day: date) -> str:
    """A countersign item's submitted time: now if submitted today, else midday UTC of that date."""
    return ctx.now_iso if day == ctx.today else f"{day.isoformat()}T12:00:00Z"


def _plan_countersign(ctx: Context, checked: Checked) -> Plan:
    """New rows become items exactly as ``intake.add_countersign`` makes them (one decision,
    ``domain.countersign_entry.decide``) [000 §3.2–3.3]: a refused row is a problem naming its line
    (or record) and column, and then nothing is written. A row already imported (same CRN, kind,
    author and submitted date) updates its court date, link, title and court time, and a PSR still
    awaiting gatekeeping takes a peer ``gatekeeper`` or ``oral`` the file now names
    (``_rerouted``)."""
    header = checked.header
    stored = {
        (r["crn"], r["kind"], r["author_id"], r["submitted"]): dict(r)
        for r in ctx.db.query(
            """SELECT i.id, i.crn, c.kind, c.author_id, substr(c.submitted_at, 1, 10) AS submitted, c.court_date,
                      c.link, i.title, i.due, c.court_time, c.state, c.oral, c.gatekeeper_id, i.status,
                      i.waiting_on, i.waiting_since, i.waiting_until
               FROM countersigns c JOIN items i ON i.id = c.item_id"""
        )
    }
    people = {
        sid: countersign_entry.Person(sid, name, role, bool(approved))
        for sid, name, role, approved in ctx.db.execute("SELECT id, name, role, oasys_approved FROM staff")
    }
    cases = {
        crn: (rosh, sentence) for crn, rosh, sentence in ctx.db.execute("SELECT crn, rosh, sentence_type FROM cases")
    }

    def decide(row: CountersignRow, **changed: Any) -> countersign_entry.NewCountersign:
        rosh, sentence = cases[row.crn]
        given: dict[str, Any] = {
            "court": row.court_date,
            "court_time": row.court_time,
            "oral": row.oral,
            "gatekeeper": people[row.gatekeeper[0]] if row.gatekeeper else None,
            "title": row.title,
            "link": row.link,
        }
        return countersign_entry.decide(
            row.kind,
            crn=row.crn,
            rosh=RoSH(rosh),
            sentence_type=sentence,
            author=people[row.author_id],
            submitted=row.submitted,
            today=ctx.today,
            rules=ctx.rules,
            **{**given, **changed},
        )

    now, plan = ctx.now_iso, Plan()
    items, details, item_updates, detail_updates = [], [], [], []
    row: CountersignRow
    for row in checked.rows:
        court = _iso(row.court_date)
        old = stored.get(row.key)
        if old is None:
            try:
                new = decide(row)
            except (ValidationError, NotAllowed) as error:
                plan.problems.append(RowProblem(row.line, error.field, str(error)))
                continue
            item_id = writes.new_id()
            plan.added.append(item_id)
            closed_at = now if new.closed else None
            since = now if new.waiting_on else None
            items.append(
                (
                    item_id,
                    "countersign",
                    row.crn,
                    new.title,
                    "closed" if new.closed else "waiting" if new.waiting_on else "open",
                    new.due.isoformat(),
                    row.author_id,
                    closed_at,
                    new.closed_note,
                    new.waiting_on,
                    since,
                    _iso(new.waiting_until),
                    now,
                    now,
                )
            )
            details.append(
                (
                    item_id,
                    row.kind.value,
                    row.author_id,
                    new.state.value,
                    _submitted_at(ctx, row.submitted),
                    court,
                    row.link,
                    new.court_time,
                    int(new.oral),
                    new.gatekeeper.id if new.gatekeeper else None,
                    int(new.sampled),
                )
            )
            continue
        item_id = old["id"]
        new_court = court if header.has("court_date") else old["court_date"]
        after = {
            "court_date": new_court,
            "link": row.link if header.has("link") else old["link"],
            # An empty title keeps the one made on entry (which may say "(sample: approved PO)").
            "title": row.title if header.has("title") and row.title else old["title"],
            "due": old["due"],
            "court_time": row.court_time if header.has("court_time") else old["court_time"],
        }
        if new_court != old["court_date"]:
            court_day = date.fromisoformat(new_court) if new_court else None
            after["due"] = countersign_due(row.kind, row.submitted, court_day, ctx.rules).isoformat()
        try:
            after |= _rerouted(ctx, row, old, after, people, decide)
        except (ValidationError, NotAllowed) as error:
            plan.problems.append(RowProblem(row.line, error.field, str(error)))
            continue
        before = {key: old[key] for key in after}
        if before == after:
            plan.unchanged += 1
            continue
        plan.updated.append(item_id)
        plan.old[item_id] = {k: v for k, v in before.items() if after[k] != v}
        full = {**old, **after}
        item_updates.append(
            (
                full["title"],
                full["due"],
                full["status"],
                full["waiting_on"],
                full["waiting_since"],
                full["waiting_until"],
                now,
                item_id,
            )
        )
        detail_updates.append(
            (full["court_date"], full["link"], full["court_time"], full["oral"], full["gatekeeper_id"], item_id)
        )
    plan.statements = [
        (
            "INSERT INTO items (id, kind, crn, title, status, due, raised_by, closed_at, closed_note, waiting_on, "
            "waiting_since, waiting_until, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        ),
        (
            "INSERT INTO countersigns (item_id, kind, author_id, state, submitted_at, court_date, link, court_time, "
            "oral, gatekeeper_id, sampled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            details,
        ),
        (
            "UPDATE items SET title = ?, due = ?, status = ?, waiting_on = ?, waiting_since = ?, waiting_until = ?, "
            "updated_at = ? WHERE id = ?",
            item_updates,
        ),
        (
            "UPDATE countersigns SET court_date = ?, link = ?, court_time = ?, oral = ?, gatekeeper_id = ? "
            "WHERE item_id = ?",
            detail_updates,
        ),
    ]
    return plan


def _rerouted(
    ctx: Context,
    row: CountersignRow,
    old: dict[str, Any],
    after: dict[str, Any],
    people: dict[str, countersign_entry.Person],
    decide: Callable[..., countersign_entry.NewCountersign],
) -> dict[str, Any]:
    """What a re-imported PSR's routing becomes, as item and detail fields (none if it stays).

    Only a PSR still awaiting gatekeeping (open, or waiting on a peer) is routed again, and only by
    what a file can say for certain [000 §3.2]: a peer ``gatekeeper`` it names (another peer than the
    stored one, or one where the SPO had it) sends the PSR to that peer, as ``g`` does in the app; an
    ``oral`` report makes it due on the court day. An empty cell changes nothing: the extract cannot
    know that the SPO sent the PSR to a peer in the app, or that it was found to be oral, and must not
    undo it. The same rules as a new row decide (``countersign_entry.decide``), so a peer the rules
    refuse is a problem naming the line. A PSR already gatekept keeps its record as it is."""
    if (
        row.kind != CountersignKind.PSR
        or old["state"] != CountersignState.AWAITING_GATEKEEP.value
        or old["status"] == "closed"
    ):
        return {}
    peer = people[row.gatekeeper[0]] if row.gatekeeper else None
    new_peer = peer is not None and peer.id != old["gatekeeper_id"]
    new_oral = row.oral and not old["oral"]
    if not (new_peer or new_oral):
        return {}
    stored_peer = people.get(old["gatekeeper_id"] or "")
    court = date.fromisoformat(after["court_date"]) if after["court_date"] else None
    new = decide(row, court=court, oral=bool(old["oral"]) or row.oral, gatekeeper=peer or stored_peer)
    changes: dict[str, Any] = {"oral": int(new.oral), "gatekeeper_id": new.gatekeeper.id if new.gatekeeper else None}
    if new_oral:
        changes["due"] = new.due.isoformat()
        if after["title"] == f"{row.kind.label} by {row.author_name}":  # the title made on entry
            changes["title"] = new.title
    if new_peer:
        changes |= waiting(ctx, new.waiting_on or "", new.waiting_until)
    return changes


# --- Touch points --------------------------------------------------------------------------------


def _plan_touchpoints(ctx: Context, checked: Checked) -> Plan:
    stored: dict[tuple[str, str, str], tuple[str, str]] = {}
    for item_id, crn, due, reason, title in ctx.db.execute(
        "SELECT i.id, i.crn, i.due, t.reason, i.title FROM touch_points t JOIN items i ON i.id = t.item_id ORDER BY i.rowid"
    ):
        stored.setdefault((crn, due, reason), (item_id, title))
    now, plan = ctx.now_iso, Plan()
    items, details, updates = [], [], []
    overdue = catch_ups = 0
    row: TouchPointRow
    for row in checked.rows:
        old = stored.get(row.key)
        if old is None:
            item_id = writes.new_id()
            plan.added.append(item_id)
            catch_up = is_catch_up(row.due, ctx.today, ctx.rules)
            overdue += row.due < ctx.today
            catch_ups += catch_up
            items.append(
                (item_id, "touch_point", row.crn, row.title, "open", row.due.isoformat(), int(catch_up), now, now)
            )
            details.append((item_id, row.reason.value))
        elif not checked.header.has("note") or old[1] == row.title:
            plan.unchanged += 1
        else:
            plan.updated.append(old[0])
            plan.old[old[0]] = {"title": old[1]}
            updates.append((row.title, now, old[0]))
    plan.statements = [
        (
            "INSERT INTO items (id, kind, crn, title, status, due, catch_up, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        ),
        ("INSERT INTO touch_points (item_id, reason) VALUES (?, ?)", details),
        ("UPDATE items SET title = ?, updated_at = ? WHERE id = ?", updates),
    ]
    plan.overdue = (overdue, catch_ups)
    return plan


PLANNERS: dict[str, Callable[[Context, Checked], Plan]] = {
    "cases": _plan_cases,
    "staff": _plan_staff,
    "countersign": _plan_countersign,
    "touchpoints": _plan_touchpoints,
}
