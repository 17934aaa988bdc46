"""The monthly meeting pack: escalations raised at check-ins and their answers, learning and near
misses, the actions agreed and where they stand, oversight coverage a month ago and now, and the
eight-week backlog trends; exported to Markdown for the meeting.

The month ends today and starts the day after the same date a month ago (``team.monthly_pack``).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Label, Static

from spo_tui.commands import MONTHLY_COMMANDS
from spo_tui.domain.markdown import EscalationThread, MonthlyPack
from spo_tui.screens.rhythm_base import RhythmScreen, cell, plural, uk
from spo_tui.screens.team import TREND_KEYS, CoverageGrid, TrendRow
from spo_tui.services import lookup, rhythm, team
from spo_tui.widgets.header import AppHeader

#: (table id, heading, columns) of the sections listed as tables.
SECTIONS: tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...] = (
    (
        "escalations",
        "Escalations from check-ins and their answers",
        (("Raised", 6), ("Escalation", 28), ("Answers", 34), ("By", 16)),
    ),
    ("learning", "Learning", (("Day", 5), ("What was learned", 50), ("CRN", 7), ("By", 16))),
    ("near", "Near misses", (("Day", 5), ("What nearly went wrong", 50), ("CRN", 7), ("By", 16))),
    (
        "actions",
        "Actions agreed at check-ins",
        (("Agreed", 6), ("Action", 32), ("Status", 12), ("Owner", 16), ("Due", 10)),
    ),
)


def answers_text(thread: EscalationThread) -> str:
    if not thread.answers:
        return "awaiting an answer"
    return "; ".join(f"{a.day:%d/%m} {a.created_by or ''}: {a.text}".replace("  ", " ") for a in thread.answers)


class MonthlyScreen(RhythmScreen):
    """The pack, section by section, on one scrolling page."""

    CSS_PATH = ["rhythm.tcss", "monthly.tcss"]
    AUTO_FOCUS = "#monthly-body"
    COMMAND_LIST = MONTHLY_COMMANDS
    BINDINGS = [c.binding() for c in COMMAND_LIST]

    def __init__(self) -> None:
        super().__init__()
        self.pack: MonthlyPack | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("", id="monthly-title", markup=False)
        with VerticalScroll(id="monthly-body"):
            for name, heading, _columns in SECTIONS:
                yield Label(heading, classes="section-title", markup=False)
                yield DataTable(id=f"{name}-table", cursor_type="row", zebra_stripes=True, classes="section-table")
                yield Label("None.", id=f"{name}-empty", classes="empty", markup=False)
            yield Label("Oversight coverage", classes="section-title", markup=False)
            yield Static("", id="monthly-coverage-note", markup=False)
            yield CoverageGrid(compare=True, id="monthly-coverage")
            yield Label("Backlog trends", classes="section-title", markup=False)
            yield Static("", id="monthly-trends-note", markup=False)
            for key in TREND_KEYS:
                yield TrendRow(key)
        yield Footer()

    def setup(self) -> None:
        self.title = "Monthly meeting pack"
        for name, _heading, columns in SECTIONS:
            table = self.query_one(f"#{name}-table", DataTable)
            for label, width in columns:
                table.add_column(label, width=width)
            if name != "escalations":  # only an escalation is acted on (answered)
                table.can_focus = False
                table.cursor_type = "none"

    # --- Data ------------------------------------------------------------------------------------

    def log_view(self) -> None:
        p = self.pack
        assert p is not None  # logged once reload has read it
        rows = len(p.escalations) + len(p.learning) + len(p.near_misses) + len(p.actions)
        self.app.record_view(lookup.record_monthly_view, team=self.team, rows=rows)

    def reload(self) -> None:
        ctx = self.ctx
        pack = team.monthly_pack(ctx, team=self.team)
        self.pack = pack
        waiting = self.theme_style("warning", bold=True)
        late = self.theme_style("error", bold=True)
        rows: dict[str, list[tuple[str, list[Text]]]] = {
            "escalations": [
                (
                    t.note.id,
                    [
                        cell(f"{t.note.day:%d/%m}"),
                        cell(t.note.text),
                        cell(answers_text(t), "" if t.answered else waiting),
                        cell(t.note.created_by),
                    ],
                )
                for t in pack.escalations
            ],
            "learning": [
                (n.id, [cell(f"{n.day:%d/%m}"), cell(n.text), cell(n.crn), cell(n.created_by)]) for n in pack.learning
            ],
            "near": [
                (n.id, [cell(f"{n.day:%d/%m}"), cell(n.text), cell(n.crn), cell(n.created_by)])
                for n in pack.near_misses
            ],
            "actions": [
                (
                    a.note.id,
                    [
                        cell(f"{a.note.day:%d/%m}"),
                        cell(a.note.text),
                        cell(
                            f"done {a.done_on:%d/%m}" if a.status == "done" and a.done_on else a.status,
                            late if a.status == "overdue" else "",
                        ),
                        cell(a.note.owner),
                        cell(uk(a.note.due)),
                    ],
                )
                for a in pack.actions
            ],
        }
        for name, found in rows.items():
            table = self.query_one(f"#{name}-table", DataTable)
            self.fill(table, found)
            table.set_class(not found, "-empty")
            self.query_one(f"#{name}-empty", Label).set_class(not found, "-shown")

        start, end = pack.coverage_start, pack.coverage_end
        self.query_one("#monthly-coverage-note", Static).update(
            f"Share of current cases with an oversight entry in the {end.days} days before each date; beside it, what "
            "the inspectorate found (sufficient oversight in the cases it inspected): a finding, not a target."
        )
        self.query_one("#monthly-coverage", CoverageGrid).show(end, before=start)
        tr = pack.trends
        self.query_one("#monthly-trends-note", Static).update(
            f"Open work at the end of each week, {len(tr.week_ends)} weeks {tr.week_ends[0]:%d/%m} to "
            f"{tr.week_ends[-1]:%d/%m/%Y}."
        )
        for series in (*tr.backlog, tr.countersign_turnaround, tr.countersigns_closed):
            self.query_one(f"#trend-{series.key}", TrendRow).show(series)

        open_escalations = sum(1 for t in pack.escalations if not t.answered)
        self.query_one("#monthly-title", Static).update(
            f"{pack.period_start:%d/%m}–{pack.period_end:%d/%m/%Y} · {plural(len(pack.escalations), 'escalation')} "
            f"({open_escalations} open) · {len(pack.learning)} learning · "
            f"{plural(len(pack.near_misses), 'near miss', 'near misses')} · {plural(len(pack.actions), 'action')}"
        )
        self.sync_bindings()

    @property
    def current_escalation(self) -> EscalationThread | None:
        if self.pack is None or not self.pack.escalations:
            return None
        return self.highlighted_row(self.query_one("#escalations-table", DataTable), self.pack.escalations)

    def applies(self, action: str) -> bool:
        if action == "answer":
            return self.current_escalation is not None
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.sync_bindings()

    # --- Acting ----------------------------------------------------------------------------------

    def action_answer(self) -> None:
        thread = self.current_escalation
        if thread is None or not self._allowed("answer"):
            return
        note_id = thread.note.id
        self._prompt(
            f"Answer to: {thread.note.text}",
            "The answer, or where it stands",
            lambda text: rhythm.answer_escalation(self.ctx, note_id, text),
        )

    def action_export(self) -> None:
        ctx = self.ctx
        end = self.pack.period_end if self.pack else ctx.today
        self._export(f"monthly-{end:%Y-%m-%d}.md", team.monthly_export(ctx, end, self.team))
