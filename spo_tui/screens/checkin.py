"""The daily check-in: today's agenda from the store, a 15-minute timer, notes and actions, Markdown export.

The meeting takes the sections in order (1–6): absences and the work that needs cover, potential
risk points, cases of concern and decisions expected today, the team's wellbeing, successes and
escalations still awaiting an answer, the notes taken at this meeting, and each practitioner's
workload (WMT-style per cent of FTE capacity, the 120% line, absence today) [001, 002, 000]. The
header shows the team's span of control against 1:10 (sentence management) or 1:12 (courts). ``c``
has someone cover a piece of work for today; ``r`` reallocates the highlighted row's case for good.
Every write is a service call (``spo_tui.services.rhythm``, ``spo_tui.services.workload``).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Label, Static, TabbedContent, TabPane

from spo_tui.commands import CHECKIN_COMMANDS, CHECKIN_SECTIONS
from spo_tui.domain.dates import relative_due
from spo_tui.domain.markdown import NOTE_KIND_LABELS, NOTE_KINDS, AgendaRow, TeamNote
from spo_tui.screens.rhythm_base import RhythmScreen, cell, uk
from spo_tui.services import intake, lookup, rhythm, workload
from spo_tui.services.base import ActionResult
from spo_tui.widgets.header import AppHeader

#: The timer turns to a warning with this many seconds left.
WARNING_SECONDS = 120
_LEADING_CRN = re.compile(r"^\s*([A-Za-z][0-9]{6})\b[\s:,.;-]*(.*)$", re.DOTALL)


def split_crn(text: str) -> tuple[str | None, str]:
    """A note typed as ``X123456 what was said`` links the case: (CRN or None, the rest)."""
    found = _LEADING_CRN.match(text or "")
    if found and found.group(2).strip():
        return found.group(1).upper(), found.group(2).strip()
    return None, text


def clock_text(seconds: float) -> str:
    """Seconds left as ``mm:ss``, rounded up: a full 15 minutes reads 15:00 until a second has gone."""
    whole = max(0, math.ceil(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _case(crn: str | None, name: str | None) -> str:
    return " ".join(p for p in (crn, name) if p)


class CheckinScreen(RhythmScreen):
    """Today's check-in agenda, section by section, with the meeting's timer and notes."""

    CSS_PATH = "checkin.tcss"
    COMMAND_LIST = CHECKIN_COMMANDS
    BINDINGS = [c.binding() for c in COMMAND_LIST]

    def __init__(self) -> None:
        super().__init__()
        #: Each pane's rows, in table order: AgendaRow, Absence, TeamNote or EscalationThread.
        self.rows: dict[str, list[Any]] = {pane: [] for pane, _label in CHECKIN_SECTIONS}
        self.agenda: rhythm.CheckinAgenda | None = None
        self.workload: workload.TeamWorkload | None = None
        self.notes: list[TeamNote] = []
        #: The clock the timer reads (a test may replace it).
        self.monotonic: Callable[[], float] = time.monotonic
        self.timer_seconds = float(rhythm.CHECKIN_MINUTES * 60)
        self._left = self.timer_seconds
        self._started: float | None = None
        self._ticker: Timer | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Horizontal(id="checkin-bar"):
            yield Static("", id="checkin-title", markup=False)
            yield Static("", id="timer", markup=False)
        with TabbedContent(id="checkin-tabs", initial="absences"):
            for n, (pane, label) in enumerate(CHECKIN_SECTIONS, start=1):
                with TabPane(f"{n} {label}", id=pane):
                    yield DataTable(id=f"{pane}-table", cursor_type="row", zebra_stripes=True)
                    yield Label("", id=f"{pane}-empty", classes="empty", markup=False)
        yield Footer()

    def setup(self) -> None:
        self.title = "Daily check-in"
        # Most telling first, so a narrow terminal still shows what matters; the rest scrolls.
        columns = {
            "absences": (
                ("Absent / work", 18),
                ("CRN", 7),
                ("Due", 11),
                ("Covered by", 14),
                ("Title", 30),
                ("Name", 16),
            ),
            "risk": (("Risk", 16), ("CRN", 7), ("RoSH", 4), ("Title", 30), ("When", 16), ("Name", 16), ("PP", 16)),
            "decisions": (
                ("Decision", 11),
                ("CRN", 7),
                ("Due", 14),
                ("RoSH", 4),
                ("Title", 30),
                ("Name", 16),
                ("PP", 16),
            ),
            "team": (("Kind", 10), ("Day", 10), ("What was said", 40), ("CRN", 7), ("By", 16)),
            "notes": (("Kind", 10), ("What was said", 34), ("Owner", 14), ("Due", 10), ("CRN", 7)),
            "workload": (
                ("Practitioner", 18),
                ("Workload", 9),
                ("Role", 6),
                ("FTE", 4),
                ("Cases", 5),
                ("Points", 6),
                ("Today", 18),
            ),
        }
        for pane, cols in columns.items():
            table = self.query_one(f"#{pane}-table", DataTable)
            for label, width in cols:
                table.add_column(label, width=width)
        self._ticker = self.set_interval(1, self._tick, pause=True)
        self._show_timer()
        self.query_one("#absences-table", DataTable).focus()

    # --- Data ------------------------------------------------------------------------------------

    def log_view(self) -> None:
        a = self.agenda
        assert a is not None  # logged once reload has read it
        self.app.record_view(
            lookup.record_checkin_view,
            team=self.team,
            absences=len(a.absences),
            risk_points=len(a.risk_points),
            decisions=len(a.decisions),
        )

    def reload(self) -> None:
        ctx = self.ctx
        agenda = rhythm.checkin_agenda(ctx, self.team)
        self.agenda = agenda
        self.notes = rhythm.checkin_notes(ctx)
        today = ctx.today
        late = self.theme_style("error", bold=True)

        absences: list[tuple[str, list[Text]]] = []
        self.rows["absences"] = []
        for a in agenda.absences:
            status = (f"{a.uncovered} to cover" if a.uncovered else "all covered") if a.work else "no work due"
            absences.append(
                (
                    f"absence:{a.staff_id}",
                    [
                        cell(f"{a.name} ({a.role})", "bold"),
                        cell(""),
                        cell(f"to {a.end:%d/%m}"),
                        cell(status, late if a.uncovered else ""),
                        cell(a.reason or "Absent"),
                        cell(""),
                    ],
                )
            )
            self.rows["absences"].append(a)
            for w in a.work:
                absences.append(
                    (
                        f"work:{a.staff_id}:{w.item_id}",
                        [
                            cell(f"└ {w.label}"),
                            cell(w.crn),
                            cell(relative_due(w.due, today), late if w.due and w.due < today else ""),
                            cell(w.covered_by or "not covered", "" if w.covered_by else late),
                            cell(w.title),
                            cell(w.name),
                        ],
                    )
                )
                self.rows["absences"].append(w)

        risk = []
        for r in agenda.risk_points:
            risk.append(
                (
                    f"risk:{r.reason}:{r.item_id}",
                    [
                        cell(r.label, "bold" if r.reason == "alert" else ""),
                        cell(r.crn),
                        self.rosh_cell(r.rosh),
                        cell(r.title),
                        cell(r.detail),
                        cell(r.name),
                        cell(r.practitioner),
                    ],
                )
            )
        self.rows["risk"] = list(agenda.risk_points)

        decisions = []
        for r in agenda.decisions:
            due = relative_due(r.due, today)
            when = ", ".join(p for p in (r.detail, due) if p)
            decisions.append(
                (
                    f"decision:{r.item_id}",
                    [
                        cell(r.label),
                        cell(r.crn),
                        cell(when, late if r.due and r.due < today else ""),
                        self.rosh_cell(r.rosh),
                        cell(r.title),
                        cell(r.name),
                        cell(r.practitioner),
                    ],
                )
            )
        for n in agenda.concerns:
            decisions.append(
                (
                    f"concern:{n.id}",
                    [
                        cell("Concern", "bold"),
                        cell(n.crn),
                        cell(f"noted {n.day:%d/%m}"),
                        cell(""),
                        cell(n.text),
                        cell(n.name),
                        cell(n.created_by),
                    ],
                )
            )
        self.rows["decisions"] = [*agenda.decisions, *agenda.concerns]

        team = []
        for n in (*agenda.wellbeing, *agenda.successes):
            team.append(
                (
                    f"note:{n.id}",
                    [
                        cell(n.label),
                        cell(uk(n.day)),
                        cell(n.text),
                        cell(n.crn),
                        cell(n.created_by),
                    ],
                )
            )
        for t in agenda.escalations:
            team.append(
                (
                    f"escalation:{t.note.id}",
                    [
                        cell("Escalation", "bold"),
                        cell(uk(t.note.day)),
                        cell(f"{t.note.text} (awaiting an answer)"),
                        cell(t.note.crn),
                        cell(t.note.created_by),
                    ],
                )
            )
        self.rows["team"] = [*agenda.wellbeing, *agenda.successes, *agenda.escalations]

        notes = []
        for n in self.notes:
            notes.append(
                (
                    f"note:{n.id}",
                    [
                        cell(n.label, "bold" if n.kind in ("action", "escalation") else ""),
                        cell(n.text),
                        cell(n.owner),
                        cell(uk(n.due)),
                        cell(n.crn),
                    ],
                )
            )
        self.rows["notes"] = list(self.notes)

        team_load = workload.team_workload(ctx, self.team)
        self.workload = team_load
        load_rows = []
        for pp in team_load.people:
            load_rows.append(
                (
                    f"pp:{pp.staff_id}",
                    [
                        cell(pp.name, "bold" if pp.over else ""),
                        cell(f"{pp.percent_text}{' over' if pp.over else ''}", late if pp.over else ""),
                        cell(pp.role),
                        cell(f"{pp.fte:g}"),
                        cell(str(pp.cases)),
                        cell(f"{pp.points:g}"),
                        cell(f"absent ({pp.absent})" if pp.absent else "at work", "bold" if pp.absent else ""),
                    ],
                )
            )
        self.rows["workload"] = list(team_load.people)

        empty = {
            "absences": "No one is absent today.",
            "risk": "No alerts, risk rises or PSRs due in court.",
            "decisions": "No SBARs open, no touch points due and no concerns noted this week.",
            "team": "No wellbeing, successes or open escalations noted this week.",
            "notes": "No notes yet: n for a note, a for an action.",
            "workload": "No practitioners in this team.",
        }
        tabs = self.query_one("#checkin-tabs", TabbedContent)
        for number, ((pane, label), rows) in enumerate(
            zip(CHECKIN_SECTIONS, (absences, risk, decisions, team, notes, load_rows), strict=False), start=1
        ):
            table = self.query_one(f"#{pane}-table", DataTable)
            self.fill(table, rows)
            table.set_class(not rows, "-empty")
            message = self.query_one(f"#{pane}-empty", Label)
            message.update(empty[pane])
            message.set_class(not rows, "-shown")
            count = len(agenda.absences) if pane == "absences" else len(self.rows[pane])
            tabs.get_tab(pane).label = f"{number} {label} ({count})"

        uncovered = sum(a.uncovered for a in agenda.absences)
        self.query_one("#checkin-title", Static).update(
            f"{today:%a %d/%m/%Y} · {uncovered} to cover · {len(self.notes)} noted today · "
            f"{team_load.span.short} · {len(team_load.over)} over {team_load.span_watch_text}"
        )
        self.sync_bindings()

    @property
    def active_pane(self) -> str:
        return self.query_one("#checkin-tabs", TabbedContent).active or "absences"

    @property
    def current(self) -> Any:
        """The highlighted row's record in the active section, or None."""
        pane = self.active_pane
        rows = self.rows.get(pane, [])
        return self.highlighted_row(self.query_one(f"#{pane}-table", DataTable), rows)

    def applies(self, action: str) -> bool:
        current = self.current
        if action == "cover":
            return isinstance(current, AgendaRow) and current.kind not in ("supervision", "task")
        if action == "reallocate":
            return isinstance(getattr(current, "crn", None), str)
        if action == "open_case":
            return (
                getattr(current, "crn", None) is not None
                or getattr(getattr(current, "note", None), "crn", None) is not None
            )
        return True

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.sync_bindings()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_case()

    @on(TabbedContent.TabActivated, "#checkin-tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.query_one(f"#{event.pane.id}-table", DataTable).focus()
        self.sync_bindings()

    def action_section(self, pane: str) -> None:
        self.query_one("#checkin-tabs", TabbedContent).active = pane

    # --- The timer -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._started is not None

    def remaining(self) -> float:
        """Seconds left of the check-in."""
        left = self._left
        if self._started is not None:
            left -= self.monotonic() - self._started
        return max(0.0, left)

    def action_timer(self) -> None:
        """Start the timer, or pause it (and start it again from where it stopped)."""
        assert self._ticker is not None
        if self.running:
            self._left = self.remaining()
            self._started = None
            self._ticker.pause()
        else:
            if self._left <= 0:
                self._left = self.timer_seconds
            self._started = self.monotonic()
            self._ticker.resume()
        self._show_timer()

    def _tick(self) -> None:
        self._show_timer()
        if self.running and self.remaining() <= 0:
            self._left = 0.0
            self._started = None
            if self._ticker is not None:
                self._ticker.pause()
            self._show_timer()
            self.notify("Fifteen minutes: time to close the check-in", severity="warning", markup=False)

    def _show_timer(self) -> None:
        left = self.remaining()
        if self.running:
            text = f"Timer {clock_text(left)}"
        elif left <= 0:
            text = "Timer 00:00 time is up"
        elif left >= self.timer_seconds:
            text = f"Timer {clock_text(left)} · s to start"
        else:
            text = f"Timer {clock_text(left)} paused"
        label = self.query_one("#timer", Static)
        label.update(text)
        label.set_class(self.running, "-running")
        label.set_class(0 < left <= WARNING_SECONDS, "-warning")
        label.set_class(left <= 0, "-error")

    # --- Acting ----------------------------------------------------------------------------------

    def action_cover(self) -> None:
        row = self.current
        if not isinstance(row, AgendaRow) or not self._allowed("cover"):
            return
        # Cover is for today: someone at work (the service refuses an absent colleague).
        people = [
            (w.name, w.label)
            for w in workload.people_workload(self.ctx).values()
            if not w.absent and w.name != row.practitioner
        ]
        what = _case(row.crn, row.name) or row.title
        self._choose(
            f"Who covers {row.label.lower()}: {what}?",
            people,
            lambda name: self._call(lambda: rhythm.reallocate_case_work(self.ctx, row.item_id, name)),
        )

    def action_reallocate(self) -> None:
        """Reallocate the highlighted row's case: the picker shows each practitioner's workload and
        marks who is absent today (still offered: a case may go to someone back tomorrow) [001, 002]."""
        crn = getattr(self.current, "crn", None)
        if not isinstance(crn, str) or not self._allowed("reallocate"):
            return
        people = sorted(workload.people_workload(self.ctx).values(), key=lambda w: (w.percent, w.name))
        self._choose(
            f"Reallocate {crn} to (workload today)",
            [(w.name, w.label) for w in people],
            lambda name: self._call(lambda: workload.reallocate_case(self.ctx, crn, name)),
        )

    def action_note(self) -> None:
        if not self._allowed("note"):
            return
        kinds = [(k, NOTE_KIND_LABELS[k]) for k in NOTE_KINDS if k != "action"]

        def write(kind: str) -> None:
            def submit(text: str) -> ActionResult:
                crn, body = split_crn(text)
                return rhythm.add_team_note(self.ctx, kind, body, crn=crn)

            self._prompt(
                f"{NOTE_KIND_LABELS[kind]}: what was said", "Start with a CRN to link a case, e.g. X123456 ...", submit
            )

        self._choose("Note what?", kinds, write)

    def action_add_action(self) -> None:
        if not self._allowed("add_action"):
            return
        people = [(s["name"], f"{s['name']} ({s['role']})") for s in lookup.staff(self.ctx)]

        def with_owner(text: str, owner: str) -> None:
            crn, body = split_crn(text)
            self._prompt(
                f"Action for {owner}: due when?",
                "e.g. fri, 3d, 25/12 (empty: the usual time)",
                lambda due: rhythm.add_team_note(self.ctx, "action", body, crn=crn, owner=owner, due=due),
                echo=lambda due: intake.date_echo(self.ctx, due, "future"),
            )

        self._ask(
            "Action: what is to be done?",
            "Start with a CRN to link a case, e.g. X123456 ...",
            lambda text: self._choose("Who owns it?", people, lambda owner: with_owner(text, owner)),
        )

    def action_export(self) -> None:
        ctx = self.ctx
        self._export(f"checkin-{ctx.today:%Y-%m-%d}.md", rhythm.checkin_export(ctx, self.team))

    def action_open_case(self) -> None:
        current = self.current
        crn = getattr(current, "crn", None) or getattr(getattr(current, "note", None), "crn", None)
        self.open_crn(crn)
