"""Reading CSV extracts: the columns of each kind of import and the checks on every cell.

Pure functions, no I/O: the import service reads the file and hands over the header and the
rows as lists of strings, each with its physical line number; this module maps the header to its
columns, checks every cell with the same rules the forms use (``normalise_crn``, ``parse_enum``,
``parse_date``) and returns typed rows, or a ``RowProblem`` for every bad cell. Nothing here
raises on bad cells: only a header that cannot be used raises ``ValidationError``.

Header cells are matched case-insensitively, with surrounding whitespace trimmed and spaces or
hyphens read as underscores (``Sentence Start`` is ``sentence_start``); each column has a few
aliases (``likelihood_of_reoffending`` is ``likelihood``). Columns the kind does not know are
ignored and listed in the report. Every cell is trimmed. A cell of a known column that holds a
control character (an escape, a tab, a line break: ``spo_tui.domain.text``) is a bad cell.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from spo_tui.domain import court as court_rules
from spo_tui.domain.dates import parse_date
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.text import text_problem
from spo_tui.domain.vocab import (
    LIFER_FLAG,
    CountersignKind,
    Likelihood,
    Role,
    RoSH,
    SentenceType,
    TouchPointReason,
    mappa_problem,
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
        Column(
            "crn",
            True,
            ("case_reference", "case_reference_number", "crn_number", "offender_crn"),
            "one letter and six digits, e.g. X123456",
        ),
        Column("name", True, ("full_name", "case_name"), "the person's name"),
        Column(
            "practitioner",
            True,
            ("pp", "allocated_practitioner", "probation_practitioner", "officer", "staff"),
            "a staff member's name, already in the store",
        ),
        Column(
            "rosh",
            True,
            ("rosh_level", "risk_of_serious_harm", "overall_risk_level", "rosh_overall_risk_level"),
            "LOW, MEDIUM, HIGH, VERY_HIGH (any case; 'very high'; nDelius RLRH, RMRH, RHRH, RVHR)",
        ),
        Column(
            "sentence_type",
            True,
            ("sentence",),
            "COMMUNITY_ORDER, SUSPENDED_SENTENCE_ORDER, LICENCE, POST_SENTENCE_SUPERVISION (or CO, SSO, PSS)",
        ),
        Column("sentence_start", True, ("start", "start_date", "sentence_start_date"), "a date"),
        Column("sentence_end", False, ("end", "end_date", "sentence_end_date"), "a date, not before the start"),
        Column("mappa_category", False, ("mappa_cat",), "1 to 4 (or M1 to M4)"),
        Column("mappa_level", False, (), "1 to 3 (or M1 to M3); needs a category"),
        Column("tier", False, ("current_tier",), "e.g. B or B2"),
        Column("likelihood", False, ("likelihood_of_reoffending",), "LOW, MEDIUM, HIGH, VERY_HIGH"),
        Column(
            "flags",
            False,
            ("registrations",),
            "registrations, semicolon-separated: CODE or CODE:review date, e.g. ADVP:01/03/2027;RMDO",
        ),
        # Custody to community [004]: each date makes its touch points at the next refresh.
        Column("release_date", False, ("expected_release_date",), "a date: release from prison, expected or actual"),
        Column("rotl_date", False, ("rotl",), "a date: the next release on temporary licence"),
        Column("handover_date", False, ("omic_handover_date",), "a date: OMiC handover, custody to community"),
        Column("lifer_panel_date", False, ("lifer_panel",), "a date: the next lifer panel (lifers, INLL)"),
        Column("victim_contact", False, ("victim_contact_scheme",), "yes or no: a victim contact scheme case"),
        Column(
            "flag_code",
            False,
            ("type_code", "registration_type", "registration_type_code", "register_type_code"),
            "one more registration's code (the case record's type.code), added to the flags",
        ),
        Column(
            "flag_review",
            False,
            ("next_review_date", "registration_next_review_date"),
            "that registration's next review date (the case record's nextReviewDate); needs flag_code",
        ),
    ),
    "staff": (
        Column("name", True, ("full_name", "staff_name"), "unique; matched case-insensitively"),
        Column("role", True, (), "SPO, PO, PSO, PQiP, NQO, CASPO, SAO, QDO, business manager, PDU head"),
        Column("team", False, (), "text"),
        Column("fte", False, (), "more than 0 and at most 1; empty means 1"),
        Column("oasys_approved", False, ("approved",), "yes/no, true/false, y/n, 1/0; empty means no"),
        Column("email", False, (), "text"),
    ),
    "countersign": (
        Column("crn", True, ("case_reference", "crn_number", "offender_crn"), "a case already in the store"),
        Column("kind", True, ("type",), "OASYS, PAROLE_REPORT, PSR, DANGEROUSNESS, HVRA"),
        Column("author", True, ("practitioner", "written_by", "staff"), "a staff member's name, already in the store"),
        Column("submitted", True, ("submitted_date", "submitted_on"), "a date"),
        Column("court_date", False, ("court",), "a date; required for a PSR"),
        Column("title", False, (), "text; default '<kind> by <author>'"),
        Column("link", False, ("url",), "where the document is"),
        # Court work [000 §3.2]: the same rules as a typed item (spo_tui.domain.countersign_entry).
        Column("court_time", False, ("hearing_time", "court_hearing_time"), "PSRs: the hearing's time, e.g. 10:00"),
        Column("oral", False, ("oral_report",), "PSRs: yes for an oral report on the day; empty means no"),
        Column(
            "gatekeeper",
            False,
            ("peer_gatekeeper", "gatekept_by"),
            "PSRs on a case whose RoSH allows it: the peer PO who gatekeeps it (empty: the SPO)",
        ),
    ),
    "touchpoints": (
        Column("crn", True, ("case_reference", "crn_number", "offender_crn"), "a case already in the store"),
        Column("due", True, ("due_date",), "a date"),
        Column(
            "reason",
            False,
            (),
            "manual (the default), commencement, quarterly, release, rosh_rise, mappa_rise, termination, flag_review",
        ),
        Column("note", False, ("title",), "text; shown as the item's title"),
    ),
}

#: Columns that need another column beside them.
COMPANIONS = {("cases", "mappa_level"): "mappa_category", ("cases", "flag_review"): "flag_code"}

#: nDelius register codes and short forms accepted beside the vocabulary's own spellings.
ROSH_CODES = {"RLRH": RoSH.LOW, "RMRH": RoSH.MEDIUM, "RHRH": RoSH.HIGH, "RVHR": RoSH.VERY_HIGH}
SENTENCE_SHORT = {
    "CO": SentenceType.COMMUNITY_ORDER,
    "SSO": SentenceType.SUSPENDED_SENTENCE_ORDER,
    "PSS": SentenceType.POST_SENTENCE_SUPERVISION,
}
#: Registration codes the national systems use, with the description stored beside them.
#: nDelius codes stalking "SPO"; a bare "SPO" is never stored as a flag, so it becomes STAL.
FLAG_RENAMES = {"SPO": "STAL"}
YES = frozenset({"yes", "y", "true", "1"})
NO = frozenset({"no", "n", "false", "0"})

_FLAG_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
_TIER = re.compile(r"^[A-Z0-9]{1,4}$")
_FTE = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)$", re.ASCII)
#: Cells of coded columns longer than this are reported without being parsed or quoted whole.
_CODE_MAX = 60


def header_key(cell: str) -> str:
    """A header cell as the column specs spell names: trimmed, lower case, underscores (for spaces,
    hyphens and the dots of a nested name: ``type.code`` is ``type_code``)."""
    return re.sub(r"[\s\-.]+", "_", (cell or "").replace("\ufeff", "").strip().lower())


def camel_key(cell: str) -> str:
    """A camelCase name as the column specs spell names: ``crnNumber`` is ``crn_number``,
    ``type.code`` is ``type_code`` (the case record's own field names)."""
    return header_key(_CAMEL.sub("_", (cell or "").strip()))


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def column_names(kind: str) -> dict[str, str]:
    """Every name a column of ``kind`` goes by (its own and its aliases) → the column."""
    names: dict[str, str] = {}
    for spec in COLUMNS[kind]:
        names[spec.name] = spec.name
        for alias in spec.aliases:
            names[alias] = spec.name
    return names


def find_column(names: Mapping[str, str], cell: str) -> str | None:
    """The column a header cell names: as written (``RoSH Level``), else read as camelCase
    (``overallRiskLevel``); None when it names none."""
    return names.get(header_key(cell)) or names.get(camel_key(cell))


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
    names = column_names(kind)
    index: dict[str, int] = {}
    seen_as: dict[str, str] = {}
    ignored: list[str] = []
    for position, cell in enumerate(cells):
        if not header_key(cell):
            continue
        column = find_column(names, cell)
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
    #: Custody to community [004]; None when the file has no such column or the cell is empty.
    release_date: date | None = None
    rotl_date: date | None = None
    handover_date: date | None = None
    lifer_panel_date: date | None = None
    victim_contact: bool | None = None


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
    court_time: str | None = None
    oral: bool = False
    #: The peer gatekeeper's (id, name), or None (the SPO).
    gatekeeper: tuple[str, str] | None = None

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


#: The value of a cell that had a problem (None is an empty cell).
_BAD: Any = object()
#: At most this many distinct values of one column are remembered.
_CACHE_MAX = 100_000


def _capped(parse: Callable[[str], Any], column: str) -> Callable[[str], Any]:
    """Refuse very long text in a coded column before parsing it."""

    def capped(text: str) -> Any:
        if len(text) > _CODE_MAX:
            raise _Bad(f"'{shown(text)}' is too long for {column.replace('_', ' ')}")
        return parse(text)

    return capped


def _enum(enum_cls: type[StrEnum], column: str, extra: Mapping[str, StrEnum] | None = None) -> Callable[[str], Any]:
    def parse(text: str) -> StrEnum:
        if extra and (found := extra.get(text.upper())) is not None:
            return found
        return parse_enum(enum_cls, text, column)

    return _capped(parse, column)


def _date(column: str) -> Callable[[str], date]:
    return _capped(lambda text: parse_date(text, column), column)


def _small_int(column: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        digits = text.upper().lstrip("M")
        if not (digits.isascii() and digits.isdigit()) or not low <= int(digits) <= high:
            raise _Bad(f"{column.replace('_', ' ')} must be {low} to {high}, not '{shown(text)}'")
        return int(digits)

    return _capped(parse, column)


def _crn(text: str) -> str:
    if len(text) > _CODE_MAX:
        raise _Bad(f"'{shown(text)}' is too long for a CRN")
    return normalise_crn(text)


def _flag_code(text: str) -> str:
    code = text.strip().upper()
    code = FLAG_RENAMES.get(code, code)
    if not _FLAG_CODE.match(code):
        raise _Bad(f"'{shown(text)}' is not a registration code, e.g. ADVP")
    return code


def _court_time(text: str) -> str:
    return court_rules.parse_court_time(text) or ""


def _collapse(text: str) -> str:
    return " ".join(text.split())


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


class _Checker:
    """Checks the rows of one file: each present column has a parser (most remember what they
    parsed, as extracts repeat the same dates and codes); then the kind's cross-column checks."""

    def __init__(self, header: Header, lookups: Lookups):
        self.header = header
        self.lookups = lookups
        self.problems: list[RowProblem] = []
        self.seen: dict[Any, int] = {}
        kind = header.kind
        # column -> (parser or None for the trimmed text as it is, whether to remember results)
        parsers: dict[str, tuple[Callable[[str], Any] | None, bool]] = {
            "crn": (_crn if kind == "cases" else self.known_case, False),
            "name": (None if kind == "cases" else _collapse, False),
            "practitioner": (self.known_staff, True),
            "author": (self.known_staff, True),
            "gatekeeper": (self.known_staff, True),
            "court_time": (_court_time, True),
            "oral": (_yes_no, True),
            "rosh": (_enum(RoSH, "rosh", ROSH_CODES), True),
            "sentence_type": (_enum(SentenceType, "sentence_type", SENTENCE_SHORT), True),
            "likelihood": (_enum(Likelihood, "likelihood"), True),
            "role": (_enum(Role, "role"), True),
            "kind": (_enum(CountersignKind, "kind"), True),
            "reason": (_enum(TouchPointReason, "reason"), True),
            "mappa_category": (_small_int("mappa_category", 1, 4), True),
            "mappa_level": (_small_int("mappa_level", 1, 3), True),
            "tier": (_tier, True),
            "flags": (self.flags, True),
            "flag_code": (_flag_code, True),
            "flag_review": (_date("flag_review"), True),
            "fte": (_fte, True),
            "oasys_approved": (_yes_no, True),
            "victim_contact": (_yes_no, True),
            **{
                c: (_date(c), True)
                for c in (
                    "sentence_start",
                    "sentence_end",
                    "submitted",
                    "court_date",
                    "due",
                    "release_date",
                    "rotl_date",
                    "handover_date",
                    "lifer_panel_date",
                )
            },
        }
        self.flag_date = _date("flags")
        self.order: dict[str | None, int] = {spec.name: n for n, spec in enumerate(COLUMNS[kind])}
        #: (column, its position in the file, required, parser or None, remembered results or None)
        self.readers: list[tuple[str, int, bool, Callable[[str], Any] | None, dict[str, Any] | None]] = []
        for spec in COLUMNS[kind]:
            if spec.name in header.index:
                parse, remember = parsers.get(spec.name, (None, False))
                self.readers.append(
                    (spec.name, header.index[spec.name], spec.required, parse, {} if remember else None)
                )
        self.finish = getattr(self, f"finish_{kind}")

    def run(self, line: int, cells: Sequence[str]) -> Any:
        """The typed row, or None with its problems recorded."""
        width = len(cells)
        values: dict[str, Any] = {}
        bad: list[RowProblem] = []
        for name, position, required, parse, memory in self.readers:
            text = cells[position].strip() if position < width else ""
            if not text:
                if required:
                    bad.append(RowProblem(line, name, "required but empty"))
                values[name] = None
            elif not text.isprintable() and (problem := text_problem(text)):
                values[name] = _BAD
                bad.append(RowProblem(line, name, problem))
            elif parse is None:
                values[name] = text
            else:
                found = memory.get(text) if memory is not None else None
                if found is None:
                    try:
                        found = (True, parse(text))
                    except (_Bad, ValidationError) as error:
                        found = (False, str(error))
                    if memory is not None and len(memory) < _CACHE_MAX:
                        memory[text] = found
                if found[0]:
                    values[name] = found[1]
                else:
                    values[name] = _BAD
                    bad.append(RowProblem(line, name, found[1]))
        if width > self.header.width and any(c.strip() for c in cells[self.header.width :]):
            bad.append(
                RowProblem(
                    line,
                    None,
                    f"{width} cells but the header has {self.header.width} columns (a comma in a value needs quotes)",
                )
            )
        row = self.finish(line, values, bad)
        if bad:
            if len(bad) > 1:
                bad.sort(key=lambda p: self.order.get(p.column, len(self.order)))
            self.problems.extend(bad)
            return None
        return row

    def known_staff(self, text: str) -> tuple[str, str]:
        found = self.lookups.staff.get(name_key(text))
        if found is None:
            raise _Bad(f"no staff member called '{shown(text)}' (import staff first)")
        return found

    def known_case(self, text: str) -> str:
        crn = _crn(text)
        if crn not in self.lookups.cases:
            raise _Bad(f"no case with CRN {crn} (import cases first)")
        return crn

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
                    found[code] = self.flag_date(when)
                except (_Bad, ValidationError) as error:
                    raise _Bad(f"{code}: {error}") from None
            else:
                found[code] = None
        return tuple(sorted(found.items()))

    def first_seen(self, key: Any, line: int) -> int | None:
        """The line a key was first seen on, or None (and remember this line)."""
        first = self.seen.get(key)
        if first is None:
            self.seen[key] = line
        return first

    # --- per kind: checks across columns, and the typed row ---

    def finish_cases(self, line: int, v: dict[str, Any], bad: list[RowProblem]) -> CaseRow | None:
        crn = v["crn"]
        if crn is not None and crn is not _BAD and (first := self.first_seen(crn, line)) is not None:
            bad.append(RowProblem(line, "crn", f"CRN {crn} is also on line {first}"))
        start, end = v["sentence_start"], v.get("sentence_end")
        if start is not None and start is not _BAD and end is not None and end is not _BAD and end < start:
            bad.append(
                RowProblem(line, "sentence_end", f"sentence end {end:%d/%m/%Y} is before its start {start:%d/%m/%Y}")
            )
        level = v.get("mappa_level")
        category = v.get("mappa_category")
        if level is not _BAD and category is not _BAD and (problem := mappa_problem(category, level)):
            # Category 3 exists only at levels 2 and 3 [domain.md "MAPPA"].
            bad.append(RowProblem(line, "mappa_level", problem))
        code, review = v.get("flag_code"), v.get("flag_review")
        if review is not None and review is not _BAD and code is None:
            bad.append(RowProblem(line, "flag_review", "a registration's review date needs its code (flag_code)"))
        flags_given = v.get("flags")
        if code is not None and code is not _BAD and flags_given is not _BAD and code in dict(flags_given or ()):
            bad.append(RowProblem(line, "flag_code", f"registration {code} is also in the flags"))
        flags = (v["flags"] or ()) if "flags" in v else None
        if "flag_code" in v and code is not _BAD and review is not _BAD and flags is not _BAD:
            # A registration given as the case record gives one (type.code + nextReviewDate): one more flag.
            flags = tuple(sorted((*(flags or ()), *(((code, review),) if code else ()))))
        panel = v.get("lifer_panel_date") not in (None, _BAD)
        if panel and flags is not None and flags is not _BAD and LIFER_FLAG not in {code for code, _ in flags}:
            # A lifer is a case with the INLL registration [004].
            problem = f"a lifer panel is for a lifer: add the {LIFER_FLAG} registration"
            bad.append(RowProblem(line, "lifer_panel_date", problem))
        if bad:
            return None
        return CaseRow(
            line,
            crn,
            v["name"],
            v["practitioner"][0],
            v["rosh"],
            v["sentence_type"],
            start,
            end,
            v.get("likelihood"),
            v.get("mappa_category"),
            level,
            v.get("tier"),
            flags,
            release_date=v.get("release_date"),
            rotl_date=v.get("rotl_date"),
            handover_date=v.get("handover_date"),
            lifer_panel_date=v.get("lifer_panel_date"),
            victim_contact=v.get("victim_contact"),
        )

    def finish_staff(self, line: int, v: dict[str, Any], bad: list[RowProblem]) -> StaffRow | None:
        name = v["name"]
        if name is not None and name is not _BAD and (first := self.first_seen(name_key(name), line)) is not None:
            bad.append(RowProblem(line, "name", f"{shown(name)} is also on line {first}"))
        if bad:
            return None
        fte = v.get("fte")
        return StaffRow(
            line,
            name,
            v["role"],
            v.get("team") or "",
            1.0 if fte is None else fte,
            bool(v.get("oasys_approved")),
            v.get("email"),
        )

    def finish_countersign(self, line: int, v: dict[str, Any], bad: list[RowProblem]) -> CountersignRow | None:
        if v["kind"] == CountersignKind.PSR and v.get("court_date") is None:
            bad.append(RowProblem(line, "court_date", "a PSR needs its court date"))
        if bad:
            return None
        author_id, author_name = v["author"]
        row = CountersignRow(
            line,
            v["crn"],
            v["kind"],
            author_id,
            author_name,
            v["submitted"],
            v.get("court_date"),
            v.get("title"),
            v.get("link"),
            v.get("court_time"),
            bool(v.get("oral")),
            v.get("gatekeeper"),
        )
        if (first := self.first_seen(row.key, line)) is not None:
            bad.append(RowProblem(line, None, f"the same crn, kind, author and submitted date as line {first}"))
            return None
        return row

    def finish_touchpoints(self, line: int, v: dict[str, Any], bad: list[RowProblem]) -> TouchPointRow | None:
        if bad:
            return None
        row = TouchPointRow(line, v["crn"], v["due"], v.get("reason") or TouchPointReason.MANUAL, v.get("note") or "")
        if (first := self.first_seen(row.key, line)) is not None:
            bad.append(RowProblem(line, None, f"the same crn, due date and reason as line {first}"))
            return None
        return row


def is_blank(cells: Sequence[str]) -> bool:
    """A row with no cells, or only empty ones: skipped (its line still counts)."""
    return all(not (cell and not cell.isspace()) for cell in cells)


def check_rows(kind: str, header: Header, rows: Iterable[tuple[int, Sequence[str]]], lookups: Lookups) -> Checked:
    """Check every row (``(line, cells)`` pairs); blank rows are skipped and not counted.

    Returns the typed rows in file order when every row is good; otherwise ``rows`` holds the
    good ones and ``problems`` every bad cell, in line order. Never raises on bad cells.
    """
    if kind != header.kind:
        raise ValueError(f"a {header.kind} header cannot check {kind} rows")
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


# --- JSON extracts -------------------------------------------------------------------------------
#
# The national services give their records as JSON objects with their own names (the case record's
# public API shapes: /work/shared/case-record-shapes.md): ``crnNumber``, ``overallRiskLevel``,
# ``currentTier``, a registration's ``type{code}`` and ``nextReviewDate``, MAPPA ``level`` and
# ``category``. A JSON extract is a list of such objects (or a page of them: ``{"content": [...]}``);
# each object becomes a row of cells under a header of the kind's own column names, and is then
# checked exactly as a CSV row is, record N standing where a CSV has line N.


@dataclass
class JsonRows:
    """A JSON extract as rows: the header, ``(record number, cells)``, the problems found in shaping
    the records, and a label per record for the report ("record 3 (X123456)")."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    problems: list[RowProblem]
    labels: dict[int, str]


#: A date-time (``2027-03-01T00:00:00``, ``…Z``): its date is what a date column needs.
_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
#: Field names that mean one column wherever they are nested (``roshSummary.overallRiskLevel``).
#: Others are matched only with their parents' names (``mappa.level``), as a nested ``startDate``
#: or ``level`` means something else in each object.
_LEAF_NAMES = frozenset({"overall_risk_level", "current_tier", "crn_number", "offender_crn"})
#: Keys of a record that hold its registrations (a list of objects), whatever the kind calls them.
_REGISTRATION_LISTS = frozenset({"registrations", "flags", "risk_flags"})


def _scalar(value: Any) -> str | None:
    """A JSON value as the text of a cell; None for an object or a list."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        found = _DATE_TIME.match(value.strip())
        return found.group(1) if found else value
    return None


def _code_or_name(value: Mapping[str, Any]) -> str | None:
    """The case record's small objects read as one value: ``{code, description}`` is its code
    (``type{code}``, ``registerLevel{code}``), ``{forenames, surname}`` a person's name."""
    if "forenames" in value or "surname" in value:
        parts = (_scalar(value.get("forenames")), _scalar(value.get("surname")))
        return " ".join(p for p in parts if p)
    if "code" in value and _scalar(value["code"]) is not None:
        return _scalar(value["code"])
    return None


def _registration(reg: Any) -> tuple[str, str, Mapping[str, Any]] | None:
    """A registration object as (code, next review date text, the object); None when it is not
    current (``active: false``, or deregistered: an ``endDate``) or has no code."""
    if not isinstance(reg, Mapping):
        text = _scalar(reg)
        return (text, "", {}) if text else None
    if reg.get("active") is False or reg.get("removed") is True or reg.get("endDate") or reg.get("deregistered"):
        return None
    kind = reg.get("type")
    code = _code_or_name(kind) if isinstance(kind, Mapping) else _scalar(kind)
    if not code:
        for key in ("code", "typeCode", "levelCode"):
            code = _scalar(reg.get(key))
            if code:
                break
    if not code:
        return None
    review = _scalar(reg.get("nextReviewDate")) or _scalar(reg.get("reviewDate")) or ""
    return code.strip(), review.strip(), reg


def _small_code(value: Any) -> str:
    """A MAPPA level or category from a registration: a number, a code (``M2``) or ``{code}``."""
    if isinstance(value, Mapping):
        return _code_or_name(value) or ""
    return _scalar(value) or ""


def json_rows(kind: str, text: str, source: str = "the file") -> JsonRows:
    """A JSON extract of ``kind`` as header and rows, or raise ValidationError when it is not JSON
    or not a list of objects (the message names the record).

    Names are matched as CSV headers are, and also read as camelCase; a nested object's fields as
    ``parent_child`` (``mappa.level`` is ``mappa_level``), and a few unambiguous names
    (``_LEAF_NAMES``) wherever they sit; ``{code, description}`` objects give their code and
    ``{forenames, surname}`` a name. For cases, a ``registrations`` list gives the flags
    (``type.code`` with ``nextReviewDate``; ones not current are left out); a MAPP registration's
    ``registerLevel``/``registerCategory`` give the MAPPA level and category, and a RoSH registration
    (RLRH … RVHR) the RoSH, when the record does not give them itself [case record shapes:
    Registration, MappaDetails, RoshRiskSummaryDto].
    """
    import json

    if kind not in COLUMNS:
        raise ValidationError(f"unknown import kind '{kind}': expected one of {', '.join(KINDS)}", field="kind")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"{source} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})", field="path"
        ) from None
    except RecursionError:
        raise ValidationError(f"{source} is nested too deeply to be an extract", field="path") from None
    if isinstance(data, Mapping) and isinstance(data.get("content"), list):
        data = data["content"]  # a page of results, as the national services return lists
    if not isinstance(data, list):
        raise ValidationError(
            f"{source} holds JSON but not a list of records: give a list of objects, [{{...}}, {{...}}]",
            field="path",
        )
    shaper = _JsonShaper(kind)
    shaped: list[tuple[int, dict[str, str]]] = []
    labels: dict[int, str] = {}
    for number, obj in enumerate(data, start=1):
        if not isinstance(obj, Mapping):
            raise ValidationError(
                f"{source}, record {number}: a record must be a JSON object, not {type(obj).__name__}", field="path"
            )
        record = shaper.record(number, obj)
        crn = record.get("crn", "").strip()
        labels[number] = f"record {number}" + (f" ({shown(crn, 12)})" if crn else "")
        shaped.append((number, record))
    rows = [(number, [record.get(name, "") for name in shaper.header]) for number, record in shaped]
    return JsonRows(header=shaper.header, rows=rows, problems=shaper.problems, labels=labels)


class _JsonShaper:
    """Shapes JSON records into cells under one header (the columns in the order first met)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.names = column_names(kind)
        self.header: list[str] = []
        self.problems: list[RowProblem] = []
        self._in_header: set[str] = set()
        # The record being shaped: its number, cells, where each came from, and what its registrations
        # give only when the record does not give it itself.
        self.number = 0
        self.cells: dict[str, str] = {}
        self.given_as: dict[str, str] = {}
        self.fallback: dict[str, tuple[str, str]] = {}

    def record(self, number: int, obj: Mapping[str, Any]) -> dict[str, str]:
        self.number, self.cells, self.given_as, self.fallback = number, {}, {}, {}
        for key, value in obj.items():
            self.walk((str(key),), value)
        for column, (value, given_as) in self.fallback.items():
            if not self.cells.get(column, "").strip():
                self.place(column, value, given_as)
        return self.cells

    def add_to_header(self, name: str) -> None:
        if name not in self._in_header:
            self._in_header.add(name)
            self.header.append(name)

    def place(self, column: str, value: str, given_as: str) -> None:
        held = self.cells.get(column, "")
        if held.strip() and value.strip() and held != value:
            self.problems.append(
                RowProblem(
                    self.number,
                    column,
                    f"both {self.given_as[column]} and {given_as} give the {column.replace('_', ' ')}",
                )
            )
            return
        if not held.strip():
            self.cells[column] = value
            self.given_as[column] = given_as
        self.add_to_header(column)

    def unknown(self, dotted: str, text: str) -> None:
        """A field no column takes: kept under its dotted path, so the report lists it as ignored."""
        self.add_to_header(dotted)
        self.cells.setdefault(dotted, text)

    def column_of(self, path: tuple[str, ...]) -> str | None:
        if len(path) == 1:
            return find_column(self.names, path[0])
        column = self.names.get("_".join(camel_key(p) for p in path))
        if column is None and camel_key(path[-1]) in _LEAF_NAMES:
            column = self.names.get(camel_key(path[-1]))
        return column

    def walk(self, path: tuple[str, ...], value: Any) -> None:
        dotted = ".".join(path)
        column = self.column_of(path)
        if isinstance(value, Mapping):
            small = _code_or_name(value)
            if small is not None and column is not None:
                self.place(column, small, dotted)
                return
            for key, inner in value.items():
                self.walk((*path, str(key)), inner)
            return
        if isinstance(value, list):
            if self.kind == "cases" and (column == "flags" or camel_key(path[-1]) in _REGISTRATION_LISTS):
                self.registrations(dotted, value)
                return
            cells = [_scalar(v) for v in value]
            if column is not None and all(c is not None for c in cells):
                self.place(column, ";".join(c for c in cells if c), dotted)
            else:
                self.unknown(dotted, "")
            return
        text = _scalar(value) or ""
        if column is None:
            self.unknown(dotted, text)
        else:
            self.place(column, text, dotted)

    def registrations(self, dotted: str, regs: list[Any]) -> None:
        flags: list[str] = []
        for reg in regs:
            found = _registration(reg)
            if found is None:
                continue
            code, review, raw = found
            upper = code.upper()
            if upper in ROSH_CODES:  # the RoSH register: the case's own RoSH, not a flag
                self.fallback.setdefault("rosh", (upper, f"{dotted} {upper}"))
                continue
            if upper == "MAPP":
                for key, column in (("registerLevel", "mappa_level"), ("registerCategory", "mappa_category")):
                    got = _small_code(raw.get(key))
                    if got:
                        self.fallback.setdefault(column, (got, f"{dotted} MAPP {key}"))
            flags.append(f"{code}:{review}" if review else code)
        self.place("flags", ";".join(flags), dotted)
