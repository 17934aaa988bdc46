"""Reading CSV extracts: the columns of each kind of import and the checks on every cell.

Pure functions, no I/O: the import service reads the file and hands over the header and the
rows as lists of strings, each with its physical line number; this module maps the header to its
columns, checks every cell with the same rules the forms use (``normalise_crn``, ``parse_enum``,
``parse_date``) and returns typed rows, or a ``RowProblem`` for every bad cell. Nothing here
raises on bad cells: only a header that cannot be used raises ``ValidationError``.

Header cells are matched case-insensitively, with surrounding whitespace trimmed and spaces or
hyphens read as underscores (``Sentence Start`` is ``sentence_start``); each column has a few
aliases (``likelihood_of_reoffending`` is ``likelihood``). Columns the kind does not know are
ignored and listed in the report. Every cell is trimmed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from spo_tui.domain.dates import parse_date
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.vocab import (
    CountersignKind,
    Likelihood,
    Role,
    RoSH,
    SentenceType,
    TouchPointReason,
    normalise_crn,
    parse_enum,
)

KINDS = ("cases", "staff", "countersign", "touchpoints")


@dataclass
class RowProblem:
    """One bad cell (or a bad row, when ``column`` is None) at a physical line of the file."""

    line: int
    column: str | None
    reason: str


@dataclass(frozen=True)
class Column:
    """A column of an extract: its canonical name, whether it is required, other names it goes by."""

    name: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    describe: str = ""


COLUMNS: dict[str, tuple[Column, ...]] = {
    "cases": (
        Column("crn", True, ("case_reference", "case_reference_number"), "one letter and six digits, e.g. X123456"),
        Column("name", True, ("full_name", "case_name"), "the person's name"),
        Column("practitioner", True, ("pp", "allocated_practitioner", "probation_practitioner", "officer"),
               "a staff member's name, already in the store"),
        Column("rosh", True, ("rosh_level", "risk_of_serious_harm"),
               "LOW, MEDIUM, HIGH, VERY_HIGH (any case; 'very high'; nDelius RLRH, RMRH, RHRH, RVHR)"),
        Column("sentence_type", True, ("sentence",),
               "COMMUNITY_ORDER, SUSPENDED_SENTENCE_ORDER, LICENCE, POST_SENTENCE_SUPERVISION (or CO, SSO, PSS)"),
        Column("sentence_start", True, ("start", "start_date", "sentence_start_date"), "a date"),
        Column("sentence_end", False, ("end", "end_date", "sentence_end_date"), "a date, not before the start"),
        Column("mappa_category", False, ("mappa_cat",), "1 to 4 (or M1 to M4)"),
        Column("mappa_level", False, (), "1 to 3 (or M1 to M3); needs a category"),
        Column("tier", False, (), "e.g. B or B2"),
        Column("likelihood", False, ("likelihood_of_reoffending",), "LOW, MEDIUM, HIGH, VERY_HIGH"),
        Column("flags", False, ("registrations",),
               "registrations, semicolon-separated: CODE or CODE:review date, e.g. ADVP:01/03/2027;RMDO"),
    ),  # fmt: skip
    "staff": (
        Column("name", True, ("full_name", "staff_name"), "unique; matched case-insensitively"),
        Column("role", True, (), "SPO, PO, PSO, PQiP, NQO, CASPO, SAO, QDO, business manager, PDU head"),
        Column("team", False, (), "text"),
        Column("fte", False, (), "more than 0 and at most 1; empty means 1"),
        Column("oasys_approved", False, ("approved",), "yes/no, true/false, y/n, 1/0; empty means no"),
        Column("email", False, (), "text"),
    ),  # fmt: skip
    "countersign": (
        Column("crn", True, ("case_reference",), "a case already in the store"),
        Column("kind", True, ("type",), "OASYS, PAROLE_REPORT, PSR, DANGEROUSNESS, HVRA"),
        Column("author", True, ("practitioner", "written_by"), "a staff member's name, already in the store"),
        Column("submitted", True, ("submitted_date", "submitted_on"), "a date"),
        Column("court_date", False, ("court",), "a date; required for a PSR"),
        Column("title", False, (), "text; default '<kind> by <author>'"),
        Column("link", False, ("url",), "where the document is"),
    ),  # fmt: skip
    "touchpoints": (
        Column("crn", True, ("case_reference",), "a case already in the store"),
        Column("due", True, ("due_date",), "a date"),
        Column("reason", False, (), "manual (the default), commencement, quarterly, release, rosh_rise, mappa_rise, "
                                    "termination, flag_review"),
        Column("note", False, ("title",), "text; shown as the item's title"),
    ),  # fmt: skip
}

#: Columns that need another column beside them.
COMPANIONS = {("cases", "mappa_level"): "mappa_category"}

#: nDelius register codes and short forms accepted beside the vocabulary's own spellings.
ROSH_CODES = {"RLRH": RoSH.LOW, "RMRH": RoSH.MEDIUM, "RHRH": RoSH.HIGH, "RVHR": RoSH.VERY_HIGH}
SENTENCE_SHORT = {
    "CO": SentenceType.COMMUNITY_ORDER,
    "SSO": SentenceType.SUSPENDED_SENTENCE_ORDER,
    "PSS": SentenceType.POST_SENTENCE_SUPERVISION,
}
#: Registration codes the national systems use, with the description stored beside them.
FLAG_DESCRIPTIONS = {
    "ADVP": "Domestic abuse perpetrator",
    "RCPR": "Child protection",
    "RCCO": "Child concerns",
    "RMDO": "Mental health issues",
    "ALSH": "Risk of self-harm",
    "INLL": "Lifer",
    "RTAO": "Terrorism Act offender",
    "STAL": "Stalking",
}
#: nDelius codes stalking "SPO"; a bare "SPO" is never stored as a flag, so it becomes STAL.
FLAG_RENAMES = {"SPO": "STAL"}
YES = frozenset({"yes", "y", "true", "t", "1"})
NO = frozenset({"no", "n", "false", "f", "0", ""})

_FLAG_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
_TIER = re.compile(r"^[A-Z0-9]{1,4}$")
_FTE = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)$", re.ASCII)
#: Cells of coded columns longer than this are reported without being parsed (or quoted whole).
_CODE_MAX = 60


def header_key(cell: str) -> str:
    """A header cell as the column specs spell names: trimmed, lower case, underscores."""
    return re.sub(r"[\s\-]+", "_", (cell or "").replace("\ufeff", "").strip().lower())


def name_key(name: str) -> str:
    """How staff names are matched: whitespace collapsed, case folded."""
    return " ".join((name or "").split()).casefold()


def shown(text: str, limit: int = 40) -> str:
    """A cell as a message quotes it: cut short if long."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Header:
    """Which column of the file holds each known column, and the columns that were not known."""

    kind: str
    width: int
    index: Mapping[str, int]
    ignored: tuple[str, ...] = ()

    def has(self, column: str) -> bool:
        return column in self.index


def read_header(kind: str, cells: Sequence[str]) -> Header:
    """Map the header row to the kind's columns, or raise ValidationError naming what is missing.

    Unknown columns are kept in ``ignored``; empty header cells are skipped; two cells naming
    the same column are an error.
    """
    if kind not in COLUMNS:
        raise ValidationError(f"unknown import kind '{kind}': expected one of {', '.join(KINDS)}", field="kind")
    specs = COLUMNS[kind]
    names: dict[str, str] = {}
    for spec in specs:
        names[spec.name] = spec.name
        for alias in spec.aliases:
            names[alias] = spec.name
    index: dict[str, int] = {}
    seen_as: dict[str, str] = {}
    ignored: list[str] = []
    for position, cell in enumerate(cells):
        key = header_key(cell)
        if not key:
            continue
        column = names.get(key)
        if column is None:
            ignored.append(cell.strip())
            continue
        if column in index:
            raise ValidationError(
                f"the header names the {column} column twice ('{seen_as[column]}' and '{cell.strip()}')", field="header"
            )
        index[column] = position
        seen_as[column] = cell.strip()
    missing = [spec.name for spec in specs if spec.required and spec.name not in index]
    if missing:
        required = ", ".join(spec.name for spec in specs if spec.required)
        word = "column" if len(missing) == 1 else "columns"
        raise ValidationError(
            f"the header has no {', '.join(missing)} {word} (a {kind} file needs {required})", field="header"
        )
    for (for_kind, column), companion in COMPANIONS.items():
        if for_kind == kind and column in index and companion not in index:
            raise ValidationError(f"a {column} column needs a {companion} column beside it", field="header")
    return Header(kind=kind, width=len(cells), index=index, ignored=tuple(ignored))


# --- Typed rows ----------------------------------------------------------------------------------


@dataclass(slots=True)
class CaseRow:
    line: int
    crn: str
    name: str
    practitioner_id: str
    rosh: RoSH
    sentence_type: SentenceType
    sentence_start: date
    sentence_end: date | None = None
    likelihood: Likelihood | None = None
    mappa_category: int | None = None
    mappa_level: int | None = None
    tier: str | None = None
    #: (code, review date) pairs, sorted by code; None when the file has no flags column.
    flags: tuple[tuple[str, date | None], ...] | None = None


@dataclass(slots=True)
class StaffRow:
    line: int
    name: str
    role: Role
    team: str = ""
    fte: float = 1.0
    oasys_approved: bool = False
    email: str | None = None


@dataclass(slots=True)
class CountersignRow:
    line: int
    crn: str
    kind: CountersignKind
    author_id: str
    author_name: str
    submitted: date
    court_date: date | None = None
    title: str | None = None
    link: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.crn, self.kind.value, self.author_id, self.submitted.isoformat())


@dataclass(slots=True)
class TouchPointRow:
    line: int
    crn: str
    due: date
    reason: TouchPointReason
    note: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.crn, self.due.isoformat(), self.reason.value)

    @property
    def title(self) -> str:
        return self.note or self.reason.label


@dataclass(frozen=True)
class Lookups:
    """What the checks need to know of the store: staff by ``name_key`` → (id, name); known CRNs."""

    staff: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    cases: Container[str] = frozenset()


@dataclass
class Checked:
    """Every row of a file checked: typed rows in file order, or the problems."""

    kind: str
    header: Header
    rows: list[Any]
    problems: list[RowProblem]
    count: int

    @property
    def ok(self) -> bool:
        return not self.problems


# --- Checking cells ------------------------------------------------------------------------------


class _Bad(Exception):
    """A bad cell: the reason, for the column being read."""


class _Memo:
    """Parse each distinct cell once: extracts repeat the same dates and codes many times."""

    __slots__ = ("parse", "seen")

    def __init__(self, parse: Callable[[str], Any]):
        self.parse = parse
        self.seen: dict[str, tuple[bool, Any]] = {}

    def __call__(self, text: str) -> Any:
        found = self.seen.get(text)
        if found is None:
            try:
                found = (True, self.parse(text))
            except ValidationError as error:
                found = (False, str(error))
            if len(self.seen) < 100_000:
                self.seen[text] = found
        if found[0]:
            return found[1]
        raise _Bad(found[1])


def _coded(text: str, column: str) -> None:
    if len(text) > _CODE_MAX:
        raise _Bad(f"'{shown(text)}' is too long for {column.replace('_', ' ')}")


def _capped(parse: Callable[[str], Any], column: str) -> Callable[[str], Any]:
    def capped(text: str) -> Any:
        _coded(text, column)
        return parse(text)

    return capped


def _enum(enum_cls: type[StrEnum], column: str, extra: Mapping[str, StrEnum] | None = None) -> _Memo:
    def parse(text: str) -> StrEnum:
        if extra and (found := extra.get(text.upper())) is not None:
            return found
        return parse_enum(enum_cls, text, column)

    return _Memo(parse)


def _small_int(column: str, low: int, high: int) -> _Memo:
    def parse(text: str) -> int:
        digits = text.upper().lstrip("M")
        if not (digits.isascii() and digits.isdigit()) or not low <= int(digits) <= high:
            raise ValidationError(f"{column.replace('_', ' ')} must be {low} to {high}, not '{shown(text)}'", field=column)
        return int(digits)

    return _Memo(parse)


class _Checker:
    """Checks the rows of one file; keeps the parse memos and the keys seen so far."""

    def __init__(self, header: Header, lookups: Lookups):
        self.header = header
        self.lookups = lookups
        self.problems: list[RowProblem] = []
        self.seen: dict[Any, int] = {}
        self.dates = {c: _Memo(lambda text, c=c: parse_date(text, c)) for c in (
            "sentence_start", "sentence_end", "submitted", "court_date", "due", "flags")}  # fmt: skip
        self.rosh = _enum(RoSH, "rosh", ROSH_CODES)
        self.sentence_type = _enum(SentenceType, "sentence_type", SENTENCE_SHORT)
        self.likelihood = _enum(Likelihood, "likelihood")
        self.role = _enum(Role, "role")
        self.cs_kind = _enum(CountersignKind, "kind")
        self.reason = _enum(TouchPointReason, "reason")
        self.mappa_category = _small_int("mappa_category", 1, 4)
        self.mappa_level = _small_int("mappa_level", 1, 3)
        # Coded cells: refuse very long text before parsing, then parse each distinct value once.
        for name in ("rosh", "sentence_type", "likelihood", "role", "mappa_category", "mappa_level"):
            setattr(self, name, _capped(getattr(self, name), name))
        self.cs_kind = _capped(self.cs_kind, "kind")
        self.reason = _capped(self.reason, "reason")
        self.dates = {c: _capped(memo, c) for c, memo in self.dates.items()}
        self.cols = [(name, position) for name, position in header.index.items()]
        self.check = getattr(self, f"check_{header.kind}")

    # Each row: read the cells by column, call the kind's check, collect problems.
    def run(self, line: int, cells: Sequence[str]) -> Any:
        values: dict[str, str] = {}
        width = len(cells)
        for name, position in self.cols:
            values[name] = cells[position].strip() if position < width else ""
        bad: list[RowProblem] = []
        if width > self.header.width and any(c.strip() for c in cells[self.header.width :]):
            bad.append(RowProblem(line, None, f"{width} cells but the header has {self.header.width} columns "
                                              "(a comma in a value needs quotes)"))  # fmt: skip
        row = self.check(line, values, bad)
        if bad:
            self.problems.extend(bad)
            return None
        return row

    def cell(self, values: dict[str, str], column: str, bad: list[RowProblem], line: int, parse, required: bool = False):
        """The parsed cell, None when empty (and not required), or None with a problem added."""
        text = values.get(column, "")
        if not text:
            if required:
                bad.append(RowProblem(line, column, "required but empty"))
            return None
        try:
            return parse(text)
        except _Bad as error:
            bad.append(RowProblem(line, column, str(error)))
        except ValidationError as error:
            bad.append(RowProblem(line, column, str(error)))
        return None

    def crn(self, values, bad, line) -> str | None:
        return self.cell(values, "crn", bad, line, _crn, required=True)

    def staff(self, values, column, bad, line) -> tuple[str, str] | None:
        return self.cell(values, column, bad, line, self.known_staff, required=True)

    def known_staff(self, text: str) -> tuple[str, str]:
        found = self.lookups.staff.get(name_key(text))
        if found is None:
            raise _Bad(f"no staff member called '{shown(text)}' (import staff first)")
        return found

    def date(self, values, column, bad, line, required: bool = False) -> date | None:
        return self.cell(values, column, bad, line, self.dates[column], required=required)

    def known_case(self, values, bad, line) -> str | None:
        crn = self.crn(values, bad, line)
        if crn is not None and crn not in self.lookups.cases:
            bad.append(RowProblem(line, "crn", f"no case with CRN {crn} (import cases first)"))
            return None
        return crn

    def first_seen(self, key: Any, line: int) -> int | None:
        """The line a key was first seen on, or None (and remember this line)."""
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = line
        return first

    # --- per kind ---

    def check_cases(self, line: int, values: dict[str, str], bad: list[RowProblem]) -> CaseRow | None:
        crn = self.crn(values, bad, line)
        if crn is not None and (first := self.first_seen(crn, line)) is not None:
            bad.append(RowProblem(line, "crn", f"CRN {crn} is also on line {first}"))
        name = self.cell(values, "name", bad, line, str, required=True)
        pp = self.staff(values, "practitioner", bad, line)
        rosh = self.cell(values, "rosh", bad, line, self.rosh, required=True)
        sentence = self.cell(values, "sentence_type", bad, line, self.sentence_type, required=True)
        start = self.date(values, "sentence_start", bad, line, required=True)
        end = self.date(values, "sentence_end", bad, line)
        if start is not None and end is not None and end < start:
            bad.append(RowProblem(line, "sentence_end", f"sentence end {end:%d/%m/%Y} is before its start {start:%d/%m/%Y}"))
        likelihood = self.cell(values, "likelihood", bad, line, self.likelihood)
        category = self.cell(values, "mappa_category", bad, line, self.mappa_category)
        level = self.cell(values, "mappa_level", bad, line, self.mappa_level)
        if level is not None and category is None and not values.get("mappa_category"):
            bad.append(RowProblem(line, "mappa_level", "a MAPPA level needs a MAPPA category"))
        tier = self.cell(values, "tier", bad, line, _tier)
        flags = None
        if self.header.has("flags"):
            flags = self.cell(values, "flags", bad, line, self.flags) if values["flags"] else ()
        if bad:
            return None
        return CaseRow(line, crn, name, pp[0], rosh, sentence, start, end, likelihood, category, level, tier, flags)

    def flags(self, text: str) -> tuple[tuple[str, date | None], ...]:
        found: dict[str, date | None] = {}
        for part in text.split(";"):
            part = part.strip()
            if not part:
                continue
            code, _, when = part.partition(":")
            code = code.strip().upper()
            code = FLAG_RENAMES.get(code, code)
            if not _FLAG_CODE.match(code):
                raise _Bad(f"'{shown(part)}' is not a registration: use CODE or CODE:dd/mm/yyyy, e.g. ADVP:01/03/2027")
            if code in found:
                raise _Bad(f"registration {code} is listed twice")
            when = when.strip()
            if when:
                try:
                    found[code] = self.dates["flags"](when)
                except _Bad as error:
                    raise _Bad(f"{code}: {error}") from None
            else:
                found[code] = None
        return tuple(sorted(found.items()))

    def check_staff(self, line: int, values: dict[str, str], bad: list[RowProblem]) -> StaffRow | None:
        name = self.cell(values, "name", bad, line, lambda t: " ".join(t.split()), required=True)
        if name is not None and (first := self.first_seen(name_key(name), line)) is not None:
            bad.append(RowProblem(line, "name", f"{shown(name)} is also on line {first}"))
        role = self.cell(values, "role", bad, line, self.role, required=True)
        fte = self.cell(values, "fte", bad, line, _fte)
        approved = self.cell(values, "oasys_approved", bad, line, _yes_no)
        if bad:
            return None
        return StaffRow(line, name, role, values.get("team", ""), 1.0 if fte is None else fte, bool(approved),
                        values.get("email") or None)  # fmt: skip

    def check_countersign(self, line: int, values: dict[str, str], bad: list[RowProblem]) -> CountersignRow | None:
        crn = self.known_case(values, bad, line)
        kind = self.cell(values, "kind", bad, line, self.cs_kind, required=True)
        author = self.staff(values, "author", bad, line)
        submitted = self.date(values, "submitted", bad, line, required=True)
        court = self.date(values, "court_date", bad, line)
        if kind == CountersignKind.PSR and court is None and not values.get("court_date"):
            bad.append(RowProblem(line, "court_date", "a PSR needs its court date"))
        if bad:
            return None
        row = CountersignRow(line, crn, kind, author[0], author[1], submitted, court,
                             values.get("title") or None, values.get("link") or None)  # fmt: skip
        if (first := self.first_seen(row.key, line)) is not None:
            bad.append(RowProblem(line, None, f"the same crn, kind, author and submitted date as line {first}"))
            return None
        return row

    def check_touchpoints(self, line: int, values: dict[str, str], bad: list[RowProblem]) -> TouchPointRow | None:
        crn = self.known_case(values, bad, line)
        due = self.date(values, "due", bad, line, required=True)
        reason = self.cell(values, "reason", bad, line, self.reason) or TouchPointReason.MANUAL
        if bad:
            return None
        row = TouchPointRow(line, crn, due, reason, values.get("note", ""))
        if (first := self.first_seen(row.key, line)) is not None:
            bad.append(RowProblem(line, None, f"the same crn, due date and reason as line {first}"))
            return None
        return row


def _crn(text: str) -> str:
    _coded(text, "crn")
    return normalise_crn(text)


def _tier(text: str) -> str:
    tier = text.upper()
    if not _TIER.match(tier):
        raise _Bad(f"'{shown(text)}' is not a tier: expected a letter (A to G) and perhaps a digit, e.g. B2")
    return tier


def _fte(text: str) -> float:
    if not _FTE.match(text) or not 0 < float(text) <= 1:
        raise _Bad(f"FTE must be more than 0 and at most 1, not '{shown(text)}'")
    return float(text)


def _yes_no(text: str) -> bool:
    word = text.lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise _Bad(f"'{shown(text)}' is not yes or no: use yes/no, true/false, y/n or 1/0")


def is_blank(cells: Sequence[str]) -> bool:
    """A row with no cells, or only empty ones: skipped (its line still counts)."""
    return not any(c.strip() for c in cells)


def check_rows(
    kind: str, header: Header, rows: Iterable[tuple[int, Sequence[str]]], lookups: Lookups
) -> Checked:
    """Check every row (``(line, cells)`` pairs); blank rows are skipped and not counted.

    Returns the typed rows in file order when every row is good; otherwise ``rows`` holds the
    good ones and ``problems`` every bad cell, in line order. Never raises on bad cells.
    """
    checker = _Checker(header, lookups)
    typed: list[Any] = []
    count = 0
    run = checker.run
    for line, cells in rows:
        if is_blank(cells):
            continue
        count += 1
        row = run(line, cells)
        if row is not None:
            typed.append(row)
    return Checked(kind=kind, header=header, rows=typed, problems=checker.problems, count=count)
