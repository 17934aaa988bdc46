"""Importing CSV extracts: cases, staff, countersign items and touch points.

``import_file`` reads the whole file and checks every row (``spo_tui.domain.extracts``) before it
writes anything. A file is imported whole or not at all: any bad row means nothing is written, and
the report lists every problem with its line, column and reason. Rows are upserted by their
natural key (cases by CRN, staff by name, countersign items by CRN + kind + author + submitted
date, touch points by CRN + due date + reason), so importing the same file again changes nothing.
All writes go in one transaction with one audit row; an import that would change nothing writes
nothing at all, not even an audit row.

Speed: rows are checked in plain Python, the store's existing keys are loaded with one query per
table, and rows are written with ``executemany`` on the connection (inside ``ctx.db.atomic()``).
"""

from __future__ import annotations

import codecs
import csv
import io
import operator
import os
import stat
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from spo_tui.domain import extracts
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.extracts import (
    CaseRow,
    Checked,
    CountersignRow,
    Lookups,
    RowProblem,
    StaffRow,
    TouchPointRow,
    is_blank,
    name_key,
)
from spo_tui.domain.rules import countersign_due, is_catch_up
from spo_tui.domain.text import visible
from spo_tui.domain.vocab import FLAG_DESCRIPTIONS, CountersignState, Role
from spo_tui.services.base import audit
from spo_tui.services.context import Context
from spo_tui.services.intake import risk_rises
from spo_tui.store import writes

__all__ = ["KINDS", "STDIN_NAMES", "ImportReport", "RowProblem", "import_file", "read_extract"]

KINDS = extracts.KINDS
#: ``progress(done, total)`` is called after every this many rows checked or written, and at the end.
PROGRESS_EVERY = 2000
#: ``render()`` lists at most this many problems by default, then says how many more there are.
RENDER_LIMIT = 100


@dataclass
class ImportReport:
    """What an import did (or, with problems, why it did nothing)."""

    kind: str
    path: str
    dry_run: bool
    rows: int
    added: int
    updated: int
    unchanged: int
    problems: list[RowProblem]
    #: Header cells that name no column of this kind: ignored.
    ignored_columns: list[str] = field(default_factory=list)
    #: Touch points made because an update raised a case's RoSH or MAPPA level.
    touch_points: int = 0
    #: Of the touch points a touchpoints extract added: (already overdue, of which on the catch-up list).
    added_overdue: tuple[int, int] = (0, 0)
    #: What the rules made after the import (``import_file(refresh=True)``): ``refresh.Made``.
    made: Any = None
    #: ``[touch_points] catch_up_after_days``, for the report's words.
    catch_up_after_days: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self, limit: int | None = RENDER_LIMIT) -> str:
        """The report as the user reads it: a summary line, then one line per problem.

        Any control character in a file name, a column name or a quoted cell is shown as an
        escape (``\\x1b``), never sent to the terminal as it is.
        """
        head = f"Import {self.kind} from {_one_line(Path(self.path).name)}: {_count(self.rows, 'row')}"
        if self.ok:
            summary = f"{head}: {self.added:,} added, {self.updated:,} updated, {self.unchanged:,} unchanged"
            if self.touch_points:
                summary += f"; {_count(self.touch_points, 'touch point')} for a rise in risk"
            overdue, catch_up = self.added_overdue
            if overdue:
                summary += f"; {overdue:,} already overdue{self._catch_up_words(catch_up)}"
            summary += " (dry run: nothing written)." if self.dry_run else "."
        else:
            bad_rows = len({p.line for p in self.problems})
            summary = (
                f"{head}, {_count(len(self.problems), 'problem')} in {_count(bad_rows, 'row')}. Nothing was written."
            )
        out = [summary]
        made = self.made_line()
        if made:
            out.append(made)
        if self.ignored_columns:
            out.append(f"Ignored columns: {_one_line(', '.join(self.ignored_columns))}")
        shown = self.problems if limit is None else self.problems[:limit]
        for problem in shown:
            where = f"line {problem.line}" + (f", {problem.column}" if problem.column else "")
            out.append(f"{where}: {_one_line(problem.reason)}")
        if len(shown) < len(self.problems):
            out.append(f"… and {_count(len(self.problems) - len(shown), 'more problem')}")
        return "\n".join(out)

    def made_line(self) -> str | None:
        """What the rules made after the import, e.g. "37 touch points made, 29 already overdue (22
        by more than 14 days: on the catch-up list, below today's work)."; None if nothing."""
        made = self.made
        if not self.ok or made is None or not made.items:
            return None
        parts = []
        if made.touch_points:
            parts.append(
                f"{_count(made.touch_points, 'touch point')} made, {made.overdue:,} already overdue"
                + self._catch_up_words(made.catch_up)
            )
        if made.items > made.touch_points:
            parts.append(f"{_count(made.items - made.touch_points, 'supervision session')} due")
        return "; ".join(parts) + "."

    def _catch_up_words(self, catch_up: int) -> str:
        if not catch_up:
            return ""
        return f" ({catch_up:,} by more than {self.catch_up_after_days} days: on the catch-up list, below today's work)"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _one_line(text: str) -> str:
    return visible(text, lines=False)


def import_file(
    ctx: Context,
    kind: str,
    path: str | Path,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    data: bytes | None = None,
    refresh: bool = False,
) -> ImportReport:
    """Import a CSV extract of ``kind`` whole, or not at all; return the report.

    With ``refresh``, an import of cases that wrote anything is followed by the refresh of rule-made work
    (``refresh.refresh_counted``, in its own short transactions), and the report says what it made:
    "37 touch points made, 29 already overdue (22 by more than 14 days: on the catch-up list…)".
    A caseload imported on day one has touch points long past; the report says so, and the
    catch-up list keeps them below today's work.

    The file is read once (``read_extract``): a regular file, or with ``data`` the bytes already
    read (standard input; ``path`` then only names it). Raises ValidationError for an unknown kind,
    a missing or unreadable file, one that is not a regular file (a FIFO, a device), a file that is
    not UTF-8 text or holds a NUL byte, or a header without a required column (the message names
    it). Bad rows do not raise: they are the report's problems, and nothing is written.
    ``progress(done, total)`` is called every few thousand rows while checking and writing, and
    last with ``(total, total)``; an exception it raises stops the import, and whatever was being
    written is rolled back.
    """
    ctx.require("import")
    kind = _kind(kind)
    path = Path(path)
    if data is None:
        data = read_extract(path)
    text = _decode(path, data)
    records = _records(path, text)
    try:
        first = next(((line, cells) for line, cells in records if not is_blank(cells)), None)
        if first is None:
            raise ValidationError(f"{path.name} is empty: its first line must be the header", field="path")
        header = extracts.read_header(kind, first[1])
        meter = _Meter(progress, _count_rows(path, text) if progress else 0, writing=not dry_run)
        checked = extracts.check_rows(kind, header, meter.checking(records), _lookups(ctx, kind))
    finally:
        records.close()
    report = ImportReport(
        kind=kind,
        path=str(path),
        dry_run=dry_run,
        rows=checked.count,
        added=0,
        updated=0,
        unchanged=0,
        problems=checked.problems,
        ignored_columns=list(header.ignored),
    )
    if checked.ok:
        plan = _PLANNERS[kind](ctx, checked)
        report.added, report.updated, report.unchanged = len(plan.added), len(plan.updated), plan.unchanged
        report.touch_points = len(plan.rises)
        report.added_overdue = plan.overdue
        report.problems = plan.problems
        if not dry_run and not plan.problems and (plan.added or plan.updated):
            _write(ctx, kind, path, plan, meter)
            if refresh and kind == "cases":  # new cases and their dates make touch points due
                from spo_tui.services.refresh import refresh_counted

                report.made = refresh_counted(ctx)
    report.catch_up_after_days = ctx.rules.get("touch_points", "catch_up_after_days")
    meter.finish()
    return report


class _Meter:
    """Calls ``progress(done, total)`` every PROGRESS_EVERY rows, in rows of the file.

    When the import will write, a row counts half when it is checked and half when its writes
    are done, so the bar moves through both; a dry run counts rows as they are checked.
    """

    def __init__(self, progress: Callable[[int, int], None] | None, total: int, writing: bool):
        self.progress = progress
        self.total = total
        self.share = 0.5 if writing else 1.0
        self.last = 0

    def report(self, done: float) -> None:
        done = min(int(done), self.total)
        if self.progress is not None and done > self.last:
            self.last = done
            self.progress(done, self.total)

    def checking(self, records: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        if self.progress is None:
            yield from records
            return
        done = 0
        for line, cells in records:
            if not is_blank(cells):
                done += 1
                if done % PROGRESS_EVERY == 0:
                    self.report(done * self.share)
            yield line, cells

    def writing(self, written: int, to_write: int) -> None:
        self.report(self.total * (1 - self.share) + self.total * self.share * written / max(to_write, 1))

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


def _kind(kind: str) -> str:
    key = (kind or "").strip().lower().replace("_", "").replace("-", "")
    if key not in KINDS:
        raise ValidationError(f"unknown import kind '{kind}': expected one of {', '.join(KINDS)}", field="kind")
    return key


# --- Reading the file ----------------------------------------------------------------------------


#: File names that mean standard input (``spo-tui import cases - < cases.csv``).
STDIN_NAMES = ("-", "/dev/stdin")


def read_extract(path: Path) -> bytes:
    """The bytes of the regular file at ``path``, read once.

    Anything else is refused with a ValidationError before a byte is read: a folder, a FIFO (whose
    reading would wait for ever for a writer), a device or a socket. The file is opened without
    waiting (``O_NONBLOCK``) and checked on the open descriptor, so one swapped for a FIFO between
    a check and the open cannot hang the import either.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ValidationError(f"no file at {path}", field="path") from None
    except IsADirectoryError:
        raise ValidationError(f"{path} is a folder, not a CSV file", field="path") from None
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror or error}", field="path") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ValidationError(f"{path} is a folder, not a CSV file", field="path")
        if not stat.S_ISREG(mode):
            raise ValidationError(
                f"{path} is not a regular file ({_file_type(mode)}): give a CSV file, or - to read standard input",
                field="path",
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            return handle.read()
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror or error}", field="path") from None
    finally:
        if fd >= 0:
            os.close(fd)


def _file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO or pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a file"


def _decode(path: Path, data: bytes) -> str:
    """The file's text: UTF-8, a byte-order mark dropped; a NUL byte anywhere refuses the file."""
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise ValidationError(
            f"{path.name} is not a text file (it holds a NUL byte on line {line}): save it as 'CSV UTF-8'", field="path"
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1  # newline bytes never fall inside a UTF-8 character
        raise ValidationError(
            f"{path.name} is not UTF-8 text (line {line}): save it as 'CSV UTF-8'", field="path"
        ) from None


def _records(path: Path, text: str) -> Generator[tuple[int, list[str]], None, None]:
    """``(line, cells)`` for every record; ``line`` is the physical line the record starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise ValidationError(f"{path.name}, line {reader.line_num}: {error}", field="path") from None


def _count_rows(path: Path, text: str) -> int:
    """Rows after the header (blank ones not counted): the total that progress reports against."""
    return max(0, sum(1 for _, cells in _records(path, text) if not is_blank(cells)) - 1)


# --- What the store already holds -------------------------------------------------------------------


def _lookups(ctx: Context, kind: str) -> Lookups:
    if kind == "staff":
        return Lookups()
    staff = {name_key(name): (staff_id, name) for staff_id, name in ctx.db.execute("SELECT id, name FROM staff")}
    cases: frozenset[str] = frozenset()
    if kind in ("countersign", "touchpoints"):
        cases = frozenset(r[0] for r in ctx.db.execute("SELECT crn FROM cases"))
    return Lookups(staff=staff, cases=cases)


@dataclass
class _Plan:
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
_CASE_OPTIONAL = ("sentence_end", "likelihood", "mappa_category", "mappa_level", "tier")


def _plan_cases(ctx: Context, checked: Checked) -> _Plan:
    header = checked.header
    fields = _CASE_ALWAYS + tuple(f for f in _CASE_OPTIONAL if header.has(f))
    with_flags = header.has("flags")
    cursor = ctx.db.execute(f"SELECT crn, {', '.join(fields)} FROM cases")
    stored = {r[0]: r[1:] for r in cursor}
    stored_flags: dict[str, dict[str, str | None]] = {}
    if with_flags:
        for crn, code, review in ctx.db.execute("SELECT crn, code, review_date FROM case_flags"):
            stored_flags.setdefault(crn, {})[code] = review
    now, plan = ctx.now_iso, _Plan()
    inserts, updates = [], []
    flag_inserts: list[tuple] = []
    flag_updates: list[tuple] = []
    flag_deletes: list[tuple] = []
    every = _CASE_ALWAYS + _CASE_OPTIONAL
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

    columns = ("crn", *_CASE_ALWAYS, *_CASE_OPTIONAL, "created_at", "updated_at")
    plan.statements = [
        (f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", inserts),
        (f"UPDATE cases SET {', '.join(f + ' = ?' for f in fields)}, updated_at = ? WHERE crn = ?", updates),
        ("DELETE FROM case_flags WHERE crn = ? AND code = ?", flag_deletes),
        ("UPDATE case_flags SET review_date = ? WHERE crn = ? AND code = ?", flag_updates),
        ("INSERT INTO case_flags (id, crn, code, description, review_date) VALUES (?, ?, ?, ?, ?)", flag_inserts),
        *_rise_statements(ctx, plan.rises),
    ]
    return plan


def _rises(ctx: Context, row: CaseRow, changed: dict[str, Any]) -> list[tuple[str, Any]]:
    """Touch points an update makes, as ``update_case_risk`` makes them (``intake.risk_rises``):
    a rise in RoSH or MAPPA level. ``changed`` holds the old values of the fields that change."""
    before = {"crn": row.crn, "rosh": changed.get("rosh", row.rosh), "mappa_level": changed.get("mappa_level")}
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


def _plan_staff(ctx: Context, checked: Checked) -> _Plan:
    fields = ("name", "role", *(f for f in _STAFF_OPTIONAL if checked.header.has(f)))
    stored: dict[str, tuple] = {}
    for r in ctx.db.execute(f"SELECT id, {', '.join(fields)} FROM staff"):
        stored.setdefault(name_key(r[1]), r)
    now, plan = ctx.now_iso, _Plan()
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


def _plan_countersign(ctx: Context, checked: Checked) -> _Plan:
    header = checked.header
    stored = {
        (crn, kind, author, submitted): (item_id, court, link, title, due)
        for item_id, crn, kind, author, submitted, court, link, title, due in ctx.db.execute(
            """SELECT i.id, i.crn, c.kind, c.author_id, substr(c.submitted_at, 1, 10), c.court_date, c.link, i.title, i.due
               FROM countersigns c JOIN items i ON i.id = c.item_id"""
        )
    }
    now, plan = ctx.now_iso, _Plan()
    items, details, item_updates, detail_updates = [], [], [], []
    row: CountersignRow
    for row in checked.rows:
        title = row.title or f"{row.kind.label} by {row.author_name}"
        court = _iso(row.court_date)
        old = stored.get(row.key)
        if old is None:
            item_id = writes.new_id()
            due = countersign_due(row.kind, row.submitted, row.court_date, ctx.rules).isoformat()
            plan.added.append(item_id)
            items.append((item_id, "countersign", row.crn, title, "open", due, row.author_id, now, now))
            details.append(
                (
                    item_id,
                    row.kind.value,
                    row.author_id,
                    CountersignState.AWAITING_COUNTERSIGN.value,
                    _submitted_at(ctx, row.submitted),
                    court,
                    row.link,
                )
            )
            continue
        item_id, old_court, old_link, old_title, old_due = old
        new_court = court if header.has("court_date") else old_court
        new_link = row.link if header.has("link") else old_link
        new_title = title if header.has("title") else old_title
        new_due = old_due
        if new_court != old_court:
            court_day = date.fromisoformat(new_court) if new_court else None
            new_due = countersign_due(row.kind, row.submitted, court_day, ctx.rules).isoformat()
        before = {"court_date": old_court, "link": old_link, "title": old_title, "due": old_due}
        after = {"court_date": new_court, "link": new_link, "title": new_title, "due": new_due}
        if before == after:
            plan.unchanged += 1
            continue
        plan.updated.append(item_id)
        plan.old[item_id] = {k: v for k, v in before.items() if after[k] != v}
        item_updates.append((new_title, new_due, now, item_id))
        detail_updates.append((new_court, new_link, item_id))
    plan.statements = [
        (
            "INSERT INTO items (id, kind, crn, title, status, due, raised_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        ),
        (
            "INSERT INTO countersigns (item_id, kind, author_id, state, submitted_at, court_date, link) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            details,
        ),
        ("UPDATE items SET title = ?, due = ?, updated_at = ? WHERE id = ?", item_updates),
        ("UPDATE countersigns SET court_date = ?, link = ? WHERE item_id = ?", detail_updates),
    ]
    return plan


# --- Touch points --------------------------------------------------------------------------------


def _plan_touchpoints(ctx: Context, checked: Checked) -> _Plan:
    stored: dict[tuple[str, str, str], tuple[str, str]] = {}
    for item_id, crn, due, reason, title in ctx.db.execute(
        "SELECT i.id, i.crn, i.due, t.reason, i.title FROM touch_points t JOIN items i ON i.id = t.item_id ORDER BY i.rowid"
    ):
        stored.setdefault((crn, due, reason), (item_id, title))
    now, plan = ctx.now_iso, _Plan()
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


_PLANNERS: dict[str, Callable[[Context, Checked], _Plan]] = {
    "cases": _plan_cases,
    "staff": _plan_staff,
    "countersign": _plan_countersign,
    "touchpoints": _plan_touchpoints,
}


# --- Writing -------------------------------------------------------------------------------------


def _write(ctx: Context, kind: str, path: Path, plan: _Plan, meter: _Meter) -> None:
    """Every statement and one audit row, in one transaction (statements in chunks, for progress)."""
    conn = ctx.db.conn
    to_write = sum(len(rows) for _, rows in plan.statements)
    written = 0
    with ctx.db.atomic():
        for sql, rows in plan.statements:
            for start in range(0, len(rows), PROGRESS_EVERY):
                chunk = rows[start : start + PROGRESS_EVERY]
                conn.executemany(sql, chunk)
                written += len(chunk)
                meter.writing(written, to_write)
        audit(
            ctx,
            f"import_{kind}",
            "import",
            path.name,
            old=plan.old or None,
            new={"added": len(plan.added), "updated": len(plan.updated), "unchanged": plan.unchanged},
        )
