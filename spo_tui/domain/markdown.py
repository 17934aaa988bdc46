"""The team's rhythm as plain data, and its Markdown exports: the daily check-in and the monthly pack.

The services (``spo_tui.services.rhythm`` and ``spo_tui.services.team``) fill these frozen
dataclasses from the store; the functions here turn them into Markdown. Everything is
deterministic: the same data gives the same text, byte for byte (dates as ``dd/mm/yyyy``, lists in
the order the service gave them). Plain Python, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from spo_tui.domain.coverage import Coverage, Series, Trends
from spo_tui.domain.dates import relative_due
from spo_tui.domain.text import visible
from spo_tui.domain.vocab import ITEM_KIND_LABELS, ItemKind, RoSH
from spo_tui.domain.workload import Span, Workload

# --- Team notes ----------------------------------------------------------------------------------

#: Kinds of note anyone at the check-in may add (``add_team_note``).
NOTE_KINDS = ("note", "action", "wellbeing", "success", "concern", "escalation", "learning", "near_miss")
#: Every kind stored: the above, plus ``answer`` (to an escalation) and ``cover`` (of an absent PP's item).
ALL_NOTE_KINDS = (*NOTE_KINDS, "answer", "cover")

NOTE_KIND_LABELS = {
    "note": "Note",
    "action": "Action",
    "wellbeing": "Wellbeing",
    "success": "Success",
    "concern": "Concern",
    "escalation": "Escalation",
    "learning": "Learning",
    "near_miss": "Near miss",
    "answer": "Answer",
    "cover": "Cover",
}


@dataclass(frozen=True)
class TeamNote:
    """One line said at a check-in (or after it), as recorded: never edited."""

    id: str
    day: date
    kind: str  # one of ALL_NOTE_KINDS
    text: str
    crn: str | None = None
    name: str | None = None  # the case's name
    owner_id: str | None = None
    owner: str | None = None  # the owner's name (an action's, a cover's)
    due: date | None = None
    item_id: str | None = None  # an action's queue item; the item a cover is for
    answers_id: str | None = None  # an answer's escalation
    created_by: str | None = None  # name
    created_at: str = ""

    @property
    def label(self) -> str:
        return NOTE_KIND_LABELS[self.kind]


@dataclass(frozen=True)
class EscalationThread:
    """An escalation raised at a check-in and the answers given to it, oldest first."""

    note: TeamNote
    answers: tuple[TeamNote, ...] = ()

    @property
    def answered(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class CheckinAction:
    """An action agreed at a check-in, with where its queue item stands now."""

    note: TeamNote
    status: str  # "open", "overdue" or "done"
    done_on: date | None = None


# --- The check-in agenda -------------------------------------------------------------------------

REASON_LABELS = {
    "alert": "Alert",
    "rosh_rise": "RoSH rise",
    "mappa_rise": "MAPPA level rise",
    "psr_due": "PSR due in court",
    "sbar": "SBAR",
    "touch_point": "Touch point",
}


@dataclass(frozen=True)
class AgendaRow:
    """One piece of work on the check-in agenda, with its case.

    ``reason`` says why it is there: ``alert``, ``rosh_rise``, ``mappa_rise``, ``psr_due`` (risk
    points), ``sbar``, ``touch_point`` (decisions expected), or for an absent practitioner's work
    the item's kind. ``detail`` is a short phrase the service wrote (``urgent``, ``court 24/11/2026``,
    ``booked 13:10``); ``covered_by`` names who covers it, once someone does.
    """

    item_id: str
    kind: str
    reason: str
    crn: str | None
    name: str | None
    practitioner: str | None
    rosh: str | None
    title: str
    due: date | None = None
    detail: str = ""
    covered_by: str | None = None

    @property
    def label(self) -> str:
        return REASON_LABELS.get(self.reason) or ITEM_KIND_LABELS[ItemKind(self.kind)]


@dataclass(frozen=True)
class Absence:
    """A practitioner (or other staff member) absent today, with their work due today or overdue."""

    staff_id: str
    name: str
    role: str
    reason: str
    start: date
    end: date
    work: tuple[AgendaRow, ...] = ()

    @property
    def uncovered(self) -> int:
        return sum(1 for w in self.work if w.covered_by is None)


@dataclass(frozen=True)
class CheckinAgenda:
    """Today's check-in, section by section, in the order the meeting takes them."""

    day: date
    absences: tuple[Absence, ...]
    risk_points: tuple[AgendaRow, ...]
    decisions: tuple[AgendaRow, ...]  # open SBARs, then touch points due today or overdue
    concerns: tuple[TeamNote, ...]  # concerns noted in the last week
    wellbeing: tuple[TeamNote, ...]  # ... wellbeing
    successes: tuple[TeamNote, ...]  # ... successes
    escalations: tuple[EscalationThread, ...]  # raised and still awaiting an answer, oldest first
    minutes: int = 15  # the meeting's length: the screen's timer
    #: Each practitioner's workload, highest first, and the team's span [001, 002, 000] (None: not read).
    workload: tuple[Workload, ...] = ()
    span: Span | None = None


# --- The monthly pack ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthlyPack:
    """What the monthly meeting reads back, for the month ``period_start`` to ``period_end``."""

    period_start: date
    period_end: date
    #: Escalations raised in the month, answered in it, or still waiting: oldest first.
    escalations: tuple[EscalationThread, ...]
    learning: tuple[TeamNote, ...]
    near_misses: tuple[TeamNote, ...]
    actions: tuple[CheckinAction, ...]
    coverage_start: Coverage
    coverage_end: Coverage
    trends: Trends


# --- Markdown ------------------------------------------------------------------------------------

_ESCAPE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|"})


def inline(text: str | None) -> str:
    """Text safe inside one Markdown list item or table cell: one line, control characters shown as
    escapes (``domain.text.visible``), Markdown characters escaped."""
    return visible(" ".join((text or "").split()), lines=False).translate(_ESCAPE)


def _d(day: date | None) -> str:
    return f"{day:%d/%m/%Y}" if day else ""


def _case(crn: str | None, name: str | None) -> str:
    return " ".join(p for p in (crn, inline(name) if name else None) if p)


def _agenda_line(row: AgendaRow, today: date) -> str:
    parts = (RoSH(row.rosh).label if row.rosh else None, inline(row.practitioner) if row.practitioner else None)
    who = ", ".join(p for p in parts if p)
    case = _case(row.crn, row.name)
    subject = f"{case} ({who})" if case and who else case or (inline(row.practitioner) if row.practitioner else "")
    extras = [row.detail] if row.detail else []
    if row.due and row.reason not in ("psr_due", "alert", "rosh_rise", "mappa_rise"):
        extras.append(f"due {_d(row.due)}, {relative_due(row.due, today)}")
    tail = f" ({'; '.join(extras)})" if extras else ""
    cover = f", covered by {inline(row.covered_by)}" if row.covered_by else ""
    head = f"{row.label}: {subject}: " if subject else f"{row.label}: "
    return f"- {head}{inline(row.title)}{tail}{cover}"


def _note_line(note: TeamNote, *, with_day: bool = True, with_kind: bool = True) -> str:
    parts = []
    if with_kind:
        parts.append(note.label)
    if with_day:
        parts.append(_d(note.day))
    lead = " ".join(parts)
    case = f" [{_case(note.crn, note.name)}]" if note.crn else ""
    owner = []
    if note.owner:
        owner.append(inline(note.owner))
    if note.due:
        owner.append(f"due {_d(note.due)}")
    tail = f" ({', '.join(owner)})" if owner else ""
    return f"- {lead}: {inline(note.text)}{case}{tail}" if lead else f"- {inline(note.text)}{case}{tail}"


def _section(title: str, lines: list[str], empty: str = "None.") -> list[str]:
    return [f"## {title}", "", *(lines or [empty]), ""]


def checkin_markdown(agenda: CheckinAgenda, notes: list[TeamNote] | tuple[TeamNote, ...], today: date) -> str:
    """The check-in as Markdown: the agenda, then the notes and actions taken at the meeting.

    ``notes`` are the day's notes in the order written (``checkin_notes``); answers and covers
    are listed with them.
    """
    out = [f"# Daily check-in: {today:%A} {_d(today)}", ""]

    absence_lines = []
    for a in agenda.absences:
        absence_lines.append(f"- {inline(a.name)} ({a.role}): {inline(a.reason) or 'absent'}, until {_d(a.end)}")
        absence_lines += ["  " + _agenda_line(w, today) for w in a.work] or ["  - No work due that needs cover"]
    out += _section("Absences and work needing cover", absence_lines, "No one is absent.")
    if agenda.span is not None:
        load_lines = [f"{agenda.span.text[:1].upper()}{agenda.span.text[1:]}.", ""]
        for w in agenda.workload:
            line = f"- {inline(w.name)} ({w.role}, FTE {w.fte:g}): {w.percent_text} ({w.cases} case{'s' if w.cases != 1 else ''})"
            if w.over:
                line += f", over {w.watch_percent:g}%"
            if w.absent:
                line += f", absent today ({inline(w.absent)})"
            load_lines.append(line)
        out += _section("Workload and span of control", load_lines)
    out += _section("Potential risk points", [_agenda_line(r, today) for r in agenda.risk_points])
    decisions = [_agenda_line(r, today) for r in agenda.decisions]
    decisions += [_note_line(n) for n in agenda.concerns]
    out += _section("Cases of concern and decisions expected today", decisions)
    out += _section("Wellbeing and successes", [_note_line(n) for n in (*agenda.wellbeing, *agenda.successes)])
    escalations = [f"- Raised {_d(t.note.day)}: {inline(t.note.text)}" for t in agenda.escalations]
    out += _section("Escalations awaiting an answer", escalations)
    out += _section("Notes and actions", [_note_line(n, with_day=False) for n in notes], "No notes taken.")
    return visible("\n".join(out).rstrip("\n") + "\n")


def _value(v: float | int | None) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)


def _series_row(s: Series) -> str:
    spark = s.spark if any(v is not None for v in s.values) else "no data"
    return f"| {s.label} | {spark} | {_value(s.first)} | {_value(s.last)} |"


def monthly_markdown(pack: MonthlyPack) -> str:
    """The monthly meeting pack as Markdown: escalations and answers, learning and near misses,
    check-in actions, coverage at the start and end of the month, and the weekly trends."""
    start, end = pack.period_start, pack.period_end
    out = [f"# Monthly team meeting: {_d(start)} to {_d(end)}", ""]

    lines = []
    for t in pack.escalations:
        by = f", raised by {inline(t.note.created_by)}" if t.note.created_by else ""
        lines.append(f"- {_d(t.note.day)}{by}: {inline(t.note.text)}")
        for a in t.answers:
            a_by = f" by {inline(a.created_by)}" if a.created_by else ""
            lines.append(f"  - Answered {_d(a.day)}{a_by}: {inline(a.text)}")
        if not t.answers:
            lines.append("  - Awaiting an answer")
    out += _section("Escalations from check-ins and their answers", lines)
    out += _section("Learning", [_note_line(n, with_kind=False) for n in pack.learning])
    out += _section("Near misses", [_note_line(n, with_kind=False) for n in pack.near_misses])
    action_lines = []
    for action in pack.actions:
        state = f"done {_d(action.done_on)}" if action.status == "done" and action.done_on else action.status
        action_lines.append(f"{_note_line(action.note, with_kind=False)}: {state}")
    out += _section("Actions agreed at check-ins", action_lines)

    cs, ce = pack.coverage_start, pack.coverage_end
    table = [
        f"Share of current cases with an oversight entry in the {ce.days} days before each date, and of those with "
        "an entry that looks sufficient (a decision, its agreed actions followed up) now. The inspectorate found "
        "oversight sufficient in the share of inspected cases shown: its finding, for reference, not a target.",
        "",
        f"| RoSH | {_d(cs.as_of)} | {_d(ce.as_of)} | Sufficient | Cases | Not seen | Inspectorate found |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for before, now in zip((*cs.bands, cs.total), (*ce.bands, ce.total), strict=True):
        table.append(
            f"| {now.label} | {before.percent_text} | {now.percent_text} | {now.sufficient_percent_text} | "
            f"{now.cases} | {now.unseen} | {now.found_text} |"
        )
    out += _section("Oversight coverage", table)

    tr = pack.trends
    weeks = len(tr.week_ends)
    trend = [
        f"Open work at the end of each week, {weeks} weeks to {_d(tr.week_ends[-1])}; countersign turnaround is the "
        "median days from submission to verdict of those closed that week.",
        "",
        f"| Queue | Trend | {_d(tr.week_ends[0])} | {_d(tr.week_ends[-1])} |",
        "|---|---|---:|---:|",
        *(_series_row(s) for s in tr.backlog),
        _series_row(tr.countersign_turnaround),
    ]
    out += _section("Backlog trends", trend)
    return visible("\n".join(out).rstrip("\n") + "\n")
