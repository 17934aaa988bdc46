"""Importing extracts (CSV, or a JSON list of records): cases, staff, countersign items and touch points.

``import_file`` reads the whole file and checks every row (``spo_tui.domain.extracts``) before it
writes anything. A file is imported whole or not at all: any bad row means nothing is written, and
the report lists every problem with its line, column and reason. Rows are upserted by their
natural key (cases by CRN, staff by name, countersign items by CRN + kind + author + submitted
date, touch points by CRN + due date + reason), so importing the same file again changes nothing.
All writes go in one transaction with one audit row; an import that would change nothing writes
nothing at all, not even an audit row. What each kind's rows would write is worked out in
``spo_tui.services.import_plans``.

Speed: rows are checked in plain Python, the store's existing keys are loaded with one query per
table, and rows are written with ``executemany`` on the connection (inside ``ctx.db.atomic()``).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spo_tui.domain import extracts
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.extracts import (
    RowProblem,
    is_blank,
)
from spo_tui.domain.text import visible
from spo_tui.services.base import audit
from spo_tui.services.context import Context
from spo_tui.services.import_plans import PLANNERS, Plan, lookups

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
    #: A JSON extract's records by number, as the problems name them ("record 3 (X123456)").
    labels: dict[int, str] = field(default_factory=dict)

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
            where = self.labels.get(problem.line) or f"line {problem.line}"
            where += f", {problem.column}" if problem.column else ""
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
    """Import an extract of ``kind`` whole, or not at all; return the report.

    The extract is CSV, or JSON (a file named ``.json``, or text that starts with ``[`` or ``{``):
    a list of records with the case record's own field names (``extracts.json_rows``), checked
    exactly as CSV rows are, the problems naming the record ("record 3 (X123456), rosh: …").

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
    if _is_json(path, text):
        return _import_json(ctx, kind, path, text, dry_run=dry_run, progress=progress, refresh=refresh)
    records = _records(path, text)
    try:
        first = next(((line, cells) for line, cells in records if not is_blank(cells)), None)
        if first is None:
            raise ValidationError(f"{path.name} is empty: its first line must be the header", field="path")
        header = extracts.read_header(kind, first[1])
        meter = _Meter(progress, _count_rows(path, text) if progress else 0, writing=not dry_run)
        checked = extracts.check_rows(kind, header, meter.checking(records), lookups(ctx, kind))
    finally:
        records.close()
    return _finish(ctx, kind, path, checked, header, meter, dry_run=dry_run, refresh=refresh)


def _finish(
    ctx: Context,
    kind: str,
    path: Path,
    checked: extracts.Checked,
    header: extracts.Header,
    meter: _Meter,
    *,
    dry_run: bool,
    refresh: bool,
    labels: dict[int, str] | None = None,
) -> ImportReport:
    """Plan and (unless a dry run, or any problem) write the checked rows; the report."""
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
        labels=labels or {},
    )
    if checked.ok:
        plan = PLANNERS[kind](ctx, checked)
        report.added, report.updated, report.unchanged = len(plan.added), len(plan.updated), plan.unchanged
        report.touch_points = len(plan.rises)
        report.added_overdue = plan.overdue
        report.problems = plan.problems
        if not dry_run and not plan.problems and (plan.added or plan.updated):
            _write(ctx, kind, path, plan, meter)
            if refresh and kind == "cases":  # new cases and their dates make touch points due
                from spo_tui.services.refresh import refresh_counted

                report.made = refresh_counted(ctx)
    elif checked.rows:
        # One pass: beside the bad cells, what the rules refuse in the rows whose cells are good, so
        # a file is mended once rather than cell by cell and then rule by rule. Nothing is written.
        plan = PLANNERS[kind](ctx, checked)
        report.problems = sorted(checked.problems + plan.problems, key=lambda p: p.line)
    report.catch_up_after_days = ctx.rules.get("touch_points", "catch_up_after_days")
    meter.finish()
    return report


def _is_json(path: Path, text: str) -> bool:
    """A JSON extract: named ``.json``, or its text starts with ``[`` or ``{`` (no CSV header does)."""
    return path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{")


def _import_json(
    ctx: Context,
    kind: str,
    path: Path,
    text: str,
    *,
    dry_run: bool,
    progress: Callable[[int, int], None] | None,
    refresh: bool,
) -> ImportReport:
    """A JSON extract: its records shaped as rows, then checked, planned and written as CSV rows are."""
    shaped = extracts.json_rows(kind, text, path.name)
    if not shaped.rows:
        raise ValidationError(f"{path.name} holds no records: give a list of objects, [{{...}}, {{...}}]", field="path")
    required = [c.name for c in extracts.COLUMNS[kind] if c.required]
    missing = [name for name in required if name not in shaped.header]
    if missing:
        raise ValidationError(
            f"{path.name}: no record gives {', '.join(missing)} (a {kind} extract needs {', '.join(required)})",
            field="path",
        )
    header = extracts.read_header(kind, shaped.header)
    meter = _Meter(progress, len(shaped.rows), writing=not dry_run)
    checked = extracts.check_rows(kind, header, meter.checking(iter(shaped.rows)), lookups(ctx, kind))
    if shaped.problems:
        checked.problems = sorted(shaped.problems + checked.problems, key=lambda p: p.line)
    return _finish(ctx, kind, path, checked, header, meter, dry_run=dry_run, refresh=refresh, labels=shaped.labels)


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


# --- Writing -------------------------------------------------------------------------------------


def _write(ctx: Context, kind: str, path: Path, plan: Plan, meter: _Meter) -> None:
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
