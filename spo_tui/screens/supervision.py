"""The supervision planner: per practitioner, one-to-ones against the six-weekly rule (four-weekly for
PQiPs and NQOs), RPSS and observations held in the last 12 months against the standard,
postponements, and the sessions still to hold; booking, postponing and recording them.

Recording a session writes the session's own oversight entry and one per case discussed
(``team.record_supervision``), so a case's calendar touch points are met as by any oversight.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from spo_tui.commands import SUPERVISION_COMMANDS
from spo_tui.domain.errors import SpoError
from spo_tui.domain.text import visible
from spo_tui.domain.vocab import SupervisionKind, normalise_crn
from spo_tui.screens.prompts import ConfirmScreen
from spo_tui.screens.rhythm_base import RhythmScreen, cell
from spo_tui.services import lookup, team
from spo_tui.services.team import Session, SupervisionRow
from spo_tui.widgets.header import AppHeader

if TYPE_CHECKING:
    from spo_tui.services.base import ActionResult

KIND_SHORT = {"one_to_one": "One-to-one", "rpss": "RPSS"}
BOOK_CHOICES = [
    ("one_to_one", "One-to-one supervision"),
    ("rpss", "RPSS: reflective discussion"),
    ("rpss_observation", "RPSS: live observation"),
]


def when_text(session: Session) -> str:
    """When a session is: its booked time, or the day it falls due."""
    s = session.scheduled_for
    if s is None:
        return f"due {session.due:%d/%m/%Y}, not booked" if session.due else "not booked"
    if isinstance(s, datetime):
        return f"{s:%a %d/%m/%Y %H:%M}"
    return f"{s:%a %d/%m/%Y}"


def short_when(session: Session) -> str:
    """A booked session's time for the table: ``Fri 27/11 10:30``."""
    s = session.scheduled_for
    return f"{s:%a %d/%m %H:%M}" if isinstance(s, datetime) else f"{s:%a %d/%m}" if s else ""


def session_label(session: Session) -> str:
    extra = " (live observation)" if session.observation else ""
    moved = f", postponed {session.postponed}×" if session.postponed else ""
    return f"{KIND_SHORT.get(session.kind, session.kind)}{extra}: {when_text(session)}{moved}"


class SupervisionScreen(RhythmScreen):
    """Every practitioner's supervision at a glance, the highlighted one's sessions below."""

    CSS_PATH = "supervision.tcss"
    AUTO_FOCUS = "#plan"
    COMMAND_LIST = SUPERVISION_COMMANDS
    BINDINGS = [c.binding() for c in COMMAND_LIST]

    def __init__(self) -> None:
        super().__init__()
        self.plan: list[SupervisionRow] = []

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("", id="sv-title", markup=False)
        yield DataTable(id="plan", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="sv-detail-box"):
            yield Static("", id="sv-detail", markup=False)
        yield Footer()

    def setup(self) -> None:
        self.title = "Supervision planner"
        table = self.query_one("#plan", DataTable)
        for label, width in (
            ("Practitioner", 16),
            ("Role", 4),
            ("1:1", 11),
            ("RPSS", 4),
            ("Obs", 3),
            ("Booked", 15),
            ("Last 1:1", 10),
            ("Next 1:1", 10),
            ("Next RPSS", 10),
            ("Moved", 5),
            ("Notes", 8),
        ):
            table.add_column(label, width=width)

    # --- Data ------------------------------------------------------------------------------------

    def log_view(self) -> None:
        self.app.record_view(lookup.record_supervision_view, team=self.team, practitioners=len(self.plan))

    def reload(self) -> None:
        ctx = self.ctx
        self.plan = team.supervision_plan(ctx, self.team)
        late = self.theme_style("error", bold=True)
        short = self.theme_style("warning")
        rows = []
        for r in self.plan:
            booked = r.booked
            notes = []
            if r.flagged_for_more:
                notes.append(f"{r.one_to_one_weeks}-weekly")
            if r.absent_today:
                notes.append("absent")
            rows.append(
                (
                    r.staff_id,
                    [
                        cell(r.name, "bold" if r.one_to_one_overdue else ""),
                        cell(r.role),
                        cell(r.status, late if r.one_to_one_overdue or r.last_one_to_one is None else ""),
                        cell(f"{r.rpss_held}/{r.rpss_target}", short if r.rpss_short else ""),
                        cell(f"{r.observations_held}/{r.observations_target}", short if r.observations_short else ""),
                        cell(short_when(booked) if booked else ""),
                        cell(f"{r.last_one_to_one:%d/%m/%Y}" if r.last_one_to_one else "never"),
                        cell(f"{r.next_one_to_one:%d/%m/%Y}"),
                        cell(f"{r.next_rpss:%d/%m/%Y}" if r.next_rpss else "met"),
                        cell(str(r.postponed) if r.postponed else ""),
                        cell(", ".join(notes)),
                    ],
                )
            )
        self.fill(self.query_one("#plan", DataTable), rows)
        overdue = sum(1 for r in self.plan if r.one_to_one_overdue)
        rpss_short = sum(1 for r in self.plan if r.rpss_short)
        booked_count = sum(1 for r in self.plan for s in r.sessions if s.scheduled_for is not None)
        self.query_one("#sv-title", Static).update(
            f"{len(self.plan)} practitioners · {overdue} one-to-ones overdue · {rpss_short} short of RPSS · {booked_count} booked"
        )
        self.show_detail()

    @property
    def current(self) -> SupervisionRow | None:
        return self.highlighted_row(self.query_one("#plan", DataTable), self.plan)

    def show_detail(self) -> None:
        r = self.current
        detail = self.query_one("#sv-detail", Static)
        if r is None:
            detail.update("No practitioners on the team.")
        else:
            last = f"last {r.last_one_to_one:%d/%m/%Y}" if r.last_one_to_one else "none held yet"
            lines = [
                f"{r.name} ({r.role}) · one-to-one every {r.one_to_one_weeks} weeks, {last}, "
                f"next {r.next_one_to_one:%d/%m/%Y} ({r.status})",
                f"RPSS in the last 12 months: {r.rpss_held} of {r.rpss_target}, observations {r.observations_held} of "
                f"{r.observations_target}"
                + (f" · next RPSS due {r.next_rpss:%d/%m/%Y}" if r.next_rpss else "")
                + (f" · sessions postponed {r.postponed}×" if r.postponed else ""),
            ]
            if r.sessions:
                lines += ["To hold:", *(f"• {session_label(s)}" for s in r.sessions)]
            else:
                lines.append("Nothing in the queue to hold: b books a session.")
            detail.update(visible("\n".join(lines)))
        self.sync_bindings()

    def applies(self, action: str) -> bool:
        r = self.current
        if action in ("postpone", "record"):
            return r is not None and bool(r.sessions)
        if action == "book":
            return r is not None
        return True

    def why_not(self, action: str) -> str | None:
        r = self.current
        if r is None:
            return "No practitioner is highlighted"
        if action in ("postpone", "record"):
            return f"Nothing is booked with {r.name} to {action}: b books a session first"
        return None

    @on(DataTable.RowHighlighted, "#plan")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    # --- Acting ----------------------------------------------------------------------------------

    def _session(self, r: SupervisionRow, title: str, then: Callable[[Session], None]) -> None:
        """The practitioner's one session, or the one chosen of several (booked first)."""
        sessions = sorted(r.sessions, key=lambda s: s.scheduled_for is None)
        if len(sessions) == 1:
            then(sessions[0])
            return
        by_id = {s.item_id: s for s in sessions}
        self._choose(title, [(s.item_id, session_label(s)) for s in sessions], lambda item_id: then(by_id[item_id]))

    def action_book(self) -> None:
        r = self.current
        if r is None or not self._allowed("book"):
            return

        def when(choice: str) -> None:
            kind = "rpss" if choice.startswith("rpss") else "one_to_one"
            observation = choice == "rpss_observation"
            label = dict(BOOK_CHOICES)[choice]
            self._prompt(
                f"{label} with {r.name}: when?",
                "a day and time, e.g. fri 10:30, 25/11 14:00, tomorrow 9:30",
                lambda text: team.book_supervision(self.ctx, r.name, kind, text, observation=observation),
                echo=lambda text: team.booking_echo(self.ctx, text),
            )

        self._choose(f"Book with {r.name}", BOOK_CHOICES, when)

    def action_postpone(self) -> None:
        r = self.current
        if r is None or not r.sessions or not self._allowed("postpone"):
            return

        def until(session: Session) -> None:
            self._prompt(
                f"Postpone {KIND_SHORT.get(session.kind, session.kind).lower()} with {r.name} to",
                "a later day (keeps the time) or day and time, e.g. mon, 2w, 4/12 10:00",
                lambda text: team.postpone_supervision(self.ctx, session.item_id, text),
                echo=lambda text: team.booking_echo(self.ctx, text),
            )

        self._session(r, f"Postpone which session with {r.name}?", until)

    def action_record(self) -> None:
        r = self.current
        if r is None or not r.sessions or not self._allowed("record"):
            return
        ctx = self.ctx

        def check_crn(text: str) -> str:
            return lookup.case_summary(ctx, normalise_crn(text))["crn"]

        def form(session: Session, early: bool) -> None:
            label = SupervisionKind(session.kind).label
            self.app.push_screen(
                RecordSupervisionForm(
                    heading=f"{label} with {r.name}, held today" + (" (before its booked time)" if early else ""),
                    submit=lambda cases, summary, minutes: team.record_supervision(
                        ctx, session.item_id, cases, summary=summary, minutes=minutes, early=early
                    ),
                    check_crn=check_crn,
                ),
                self._done,
            )

        def record(session: Session) -> None:
            booked = team.session_not_yet_due(ctx, session.item_id)
            if booked is None:
                form(session, False)
                return
            self.app.push_screen(
                ConfirmScreen(
                    f"This session is booked for {booked}. Was it held early, today? (y records it now)",
                    destructive=True,
                ),
                lambda yes: form(session, True) if yes else None,
            )

        self._session(r, f"Record which session with {r.name}?", record)


class RecordSupervisionForm(ModalScreen["ActionResult | None"]):
    """The cases discussed in a session, one at a time, then the session recorded.

    Type a CRN, what was discussed and the decision; Enter adds the case and clears the line for
    the next. Ctrl+S records the session (with the case still on the line, if complete) through
    ``submit(cases, summary, minutes)``; a refusal is shown and nothing is written. Esc cancels.
    """

    CSS_PATH = "supervision.tcss"
    AUTO_FOCUS = "#case-crn"
    BINDINGS = [
        Binding("ctrl+s", "save", "Record", id="sv_record_save", priority=True, tooltip="Record the session"),
        Binding(
            "escape", "cancel", "Cancel", id="sv_record_cancel", tooltip="Close (asks before losing what you typed)"
        ),
    ]

    def __init__(
        self,
        *,
        heading: str,
        submit: Callable[[list[tuple[str, str, str]], str, int | None], ActionResult],
        check_crn: Callable[[str], str],
    ) -> None:
        super().__init__()
        self.heading = heading
        self.submit = submit
        self.check_crn = check_crn
        self.cases: list[tuple[str, str, str]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="record-box", classes="dialog"):
            yield Label(visible(self.heading, lines=False), classes="dialog-title", markup=False)
            yield Static("", id="record-cases", markup=False)
            with Horizontal(id="case-row"):
                yield Input(placeholder="CRN", id="case-crn", compact=True)
                yield Input(placeholder="What was discussed", id="case-discussed", compact=True)
                yield Input(placeholder="Decision or guidance", id="case-decision", compact=True)
            yield Input(placeholder="Summary of the session (optional)", id="summary", compact=True)
            yield Input(placeholder="Minutes it took (optional), e.g. 60", id="minutes", compact=True)
            yield Label("", id="record-error", classes="error", markup=False)
            yield Label(
                "enter adds the case · ctrl+s records the session · esc cancel", classes="dialog-hint", markup=False
            )

    def on_mount(self) -> None:
        self._show_cases()

    def _line(self) -> tuple[str, str, str]:
        crn, discussed, decision = (
            self.query_one(f"#case-{p}", Input).value.strip() for p in ("crn", "discussed", "decision")
        )
        return crn, discussed, decision

    def _show_cases(self) -> None:
        box = self.query_one("#record-cases", Static)
        if not self.cases:
            box.update("No cases yet: type a CRN, what was discussed and the decision, then Enter.")
            return
        box.update(
            "\n".join(
                visible(f"{n}. {crn}: {said} → {decided}", lines=False)
                for n, (crn, said, decided) in enumerate(self.cases, 1)
            )
        )

    def _show_error(self, message: str) -> None:
        label = self.query_one("#record-error", Label)
        label.update(visible(message, lines=False))
        label.set_class(bool(message), "-shown")

    def add_case(self) -> bool:
        """Add the case on the line (True), or say what is missing (False). An empty line adds nothing."""
        crn, discussed, decision = self._line()
        if not (crn or discussed or decision):
            return True
        if not (crn and discussed and decision):
            self._show_error("Give the CRN, what was discussed and the decision or guidance")
            return False
        try:
            crn = self.check_crn(crn)
        except SpoError as error:
            self._show_error(str(error))
            self.query_one("#case-crn", Input).focus()
            return False
        if crn in {c[0] for c in self.cases}:
            self._show_error(f"{crn} is already listed")
            return False
        self.cases.append((crn, discussed, decision))
        for part in ("crn", "discussed", "decision"):
            self.query_one(f"#case-{part}", Input).value = ""
        self._show_cases()
        self._show_error("")
        self.query_one("#case-crn", Input).focus()
        return True

    @on(Input.Submitted, "#case-row Input")
    def _case_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not any(self._line()):
            self.query_one("#summary", Input).focus()
            return
        self.add_case()

    @on(Input.Submitted, "#summary, #minutes")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        if not self.add_case():
            return
        text = self.query_one("#minutes", Input).value.strip()
        minutes = None
        if text:
            if not text.isdigit():
                self._show_error("Minutes: a whole number, e.g. 60")
                self.query_one("#minutes", Input).focus()
                return
            minutes = int(text)
        summary = self.query_one("#summary", Input).value
        try:
            result = self.submit(list(self.cases), summary, minutes)
        except SpoError as error:
            self._show_error(str(error))
            return
        self.dismiss(result)

    def has_typed_text(self) -> bool:
        """Anything typed not yet recorded (what quitting would ask about)."""
        return bool(
            self.cases or any(self._line()) or any(self.query_one(f"#{n}", Input).value for n in ("summary", "minutes"))
        )

    def action_cancel(self) -> None:
        if not self.has_typed_text():
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Discard this record?", destructive=True, yes="discard it", no="keep typing"), answered
        )
