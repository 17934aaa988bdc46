"""The team and coverage dashboard: per-practitioner table, oversight coverage by RoSH (presence and
sufficiency, with what the inspectorate found beside them: a finding, not a target), the cases no manager has looked at (each one keystroke from a touch point),
where the SPO's time goes and what was delegated, and eight-week trends as sparklines.

A PDU head sees a section before these, every team side by side (``services.pdu``), read-only:
Enter on a team scopes the rest of the dashboard to it, Enter on All teams to every team again.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Footer, Label, Sparkline, Static, TabbedContent, TabPane

from spo_tui.commands import TEAM_COMMANDS, TEAM_PDU_COMMANDS, TEAM_SECTIONS
from spo_tui.domain import permissions
from spo_tui.domain.coverage import (
    Coverage,
    CoverageRow,
    Series,
    Trends,
    percent_text,
)
from spo_tui.domain.dates import from_iso
from spo_tui.domain.vocab import AqaRating, ItemKind, sentence_label
from spo_tui.screens.rhythm_base import RhythmScreen, cell
from spo_tui.services import aqa, lookup, pdu, team
from spo_tui.services.context import LONDON
from spo_tui.services.pdu import PduPicture, TeamPicture
from spo_tui.services.team import PractitionerRow, TimeSpent, UnseenCase
from spo_tui.widgets.header import AppHeader

#: The coverage windows ``w`` steps through, in days.
WINDOWS = (90, 30, 180)
#: Rows of the coverage grid: each RoSH level, then the inspectorate's high/very-high band and the whole caseload.
COVERAGE_KEYS = ("LOW", "MEDIUM", "HIGH", "VERY_HIGH", "HIGH_VERY_HIGH", "ALL")
COVERAGE_NOTE = (
    "With entry: the share of current cases with an oversight entry in the window (not withdrawn). Sufficient: "
    "the share with an entry that records a decision and whose agreed actions were followed up. The inspectorate "
    "found oversight sufficient in 23% (low RoSH), 27% (medium) and 45% (high/very high) of the cases it inspected: "
    "its finding, shown for reference, not a target."
)
BAR_WIDTH = 20
#: The trend lines, in the order shown: open work per queue kind, then countersign turnaround and throughput.
TREND_KEYS = (*(k.value for k in ItemKind if k != ItemKind.CONFIRM), "countersign_turnaround", "countersigns_closed")


#: The PDU head's section, every team side by side: its own key (``TEAM_PDU_COMMANDS``), not one of
#: ``TEAM_SECTIONS``, so everyone else's number keys stay as they are.
TEAMS_PANE = "teams"
TEAMS_KEY = TEAM_PDU_COMMANDS[0].key
#: The Teams table's number columns, right-aligned: (label, width). Two-line labels keep every
#: column on an 80-column screen; the Team and SPO columns share what is left (``_name_widths``).
TEAMS_NUMBERS = (
    ("Cases", 5),
    ("Seen %", 6),
    ("Looks\nsuff. %", 7),  # sufficiency beside presence [issue 16 §6]
    ("High/VH\nseen %", 7),
    ("Not\nseen", 4),
    ("Open", 4),
    ("Over-\ndue", 5),
    ("Wait-\ning", 5),
)
#: The Teams table's last row: every team together; Enter on it shows every team again.
ALL_TEAMS = "All teams"


def _tab(pane: str) -> str:
    """A panel's tab title: its number key, then its name."""
    if pane == TEAMS_PANE:
        return f"{TEAMS_KEY} Teams"
    number = [p for p, _label in TEAM_SECTIONS].index(pane) + 1
    return f"{number} {dict(TEAM_SECTIONS)[pane]}"


def _number(value: str | int, style: str | Style = "") -> Text:
    """A number as a right-aligned cell."""
    text = cell(value, style)
    text.justify = "right"
    return text


def _name_widths(width: int, padding: int) -> tuple[int, int]:
    """The Team and SPO columns' widths in a Teams table ``width`` cells wide: what the numbers leave
    (and a scrollbar's width), a little more to the team, neither wider than a long name needs."""
    numbers = sum(w for _label, w in TEAMS_NUMBERS) + 2 * padding * (len(TEAMS_NUMBERS) + 2)
    room = max(width - numbers - 2, 16)
    team = min(24, (room + 1) // 2 + 1)
    return team, min(20, room - team)


def _sync_text(stamp: str | None) -> str:
    """``, as of the sync at 09:30 on 23/11/2026`` (England and Wales time), or nothing without a hub."""
    if not stamp:
        return ""
    try:
        moment = from_iso(stamp).astimezone(LONDON)
    except ValueError:
        return f", as of the sync at {stamp}"
    return f", as of the sync at {moment:%H:%M} on {moment:%d/%m/%Y}"


def _all_teams(picture: PduPicture) -> TeamPicture:
    """The teams added together, for the table's last row."""
    t = picture.teams

    def total(field: str) -> int:
        return sum(getattr(p, field) for p in t)

    return TeamPicture(
        ALL_TEAMS,
        None,
        cases=total("cases"),
        seen=total("seen"),
        high_cases=total("high_cases"),
        high_seen=total("high_seen"),
        not_seen=total("not_seen"),
        open_items=total("open_items"),
        overdue=total("overdue"),
        waiting=total("waiting"),
        sufficient=total("sufficient"),
    )


def _rows(coverage: Coverage) -> dict[str, CoverageRow]:
    return {r.key: r for r in (*coverage.by_rosh, *coverage.bands, coverage.total)}


def _minutes(total: int) -> str:
    return f"{total // 60}h {total % 60:02d}m"


def _value(v: float | int | None) -> str:
    if v is None:
        return "–"
    return f"{v:.1f}" if isinstance(v, float) else str(v)


class CoverageGrid(Grid):
    """Coverage by RoSH as a grid of labels, a share below the inspectorate's figure in the error colour.

    ``compare=True`` shows two dates side by side (the monthly pack): a month ago and now.
    """

    def __init__(self, *, compare: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="coverage-grid" + (" -compare" if compare else ""))
        self.compare = compare

    @property
    def columns(self) -> tuple[str, ...]:
        if self.compare:
            return ("label", "before", "percent", "cases", "unseen", "benchmark")
        return ("label", "cases", "seen", "unseen", "percent", "sufficient", "benchmark")

    def compose(self) -> ComposeResult:
        heads = {
            "label": "RoSH",
            "cases": "Cases",
            "seen": "Seen",
            "unseen": "Not seen",
            "percent": "With entry",
            "sufficient": "Sufficient",
            "before": "Before",
            "benchmark": "Insp. found",
        }
        for column in self.columns:
            yield Label(heads[column], id=f"{self.id}-head-{column}", classes="head", markup=False)
        for key in COVERAGE_KEYS:
            for column in self.columns:
                classes = "cell" + (" -band" if key in ("HIGH_VERY_HIGH", "ALL") else "")
                yield Label("", id=f"{self.id}-{key}-{column}", classes=classes, markup=False)

    def show(self, coverage: Coverage, before: Coverage | None = None) -> None:
        rows = _rows(coverage)
        earlier = _rows(before) if before else {}
        if self.compare:
            self.query_one(f"#{self.id}-head-before", Label).update(f"{before.as_of:%d/%m/%Y}" if before else "Before")
            self.query_one(f"#{self.id}-head-percent", Label).update(f"{coverage.as_of:%d/%m/%Y}")
        for key in COVERAGE_KEYS:
            r = rows[key]
            values = {
                "label": r.label,
                "cases": str(r.cases),
                "seen": str(r.seen),
                "unseen": str(r.unseen),
                "percent": r.percent_text,
                "sufficient": r.sufficient_percent_text,
                # What the inspectorate found [000, 004]: a finding shown for reference, never a floor
                # (nothing here is coloured as failing against it).
                "benchmark": r.found_text,
                "before": earlier[key].percent_text if key in earlier else "",
            }
            for column in self.columns:
                self.query_one(f"#{self.id}-{key}-{column}", Label).update(values[column])


class TrendRow(Horizontal):
    """One weekly series: its name, a sparkline, and the first and last values.

    A series with a gap (a week without data) is drawn as text with the gap left blank.
    """

    def __init__(self, key: str) -> None:
        super().__init__(id=f"trend-{key}", classes="trend-row")
        self.key = key
        self.series: Series | None = None

    def compose(self) -> ComposeResult:
        yield Label("", classes="trend-label", markup=False)
        yield Sparkline([], id=f"spark-{self.key}", classes="trend-spark")
        yield Label("", id=f"sparktext-{self.key}", classes="trend-spark -text", markup=False)
        yield Label("", classes="trend-values", markup=False)

    def show(self, series: Series) -> None:
        self.series = series
        known = [v for v in series.values if v is not None]
        whole = bool(known) and len(known) == len(series.values)
        self.query_one(".trend-label", Label).update(series.label)
        spark = self.query_one(Sparkline)
        spark.data = [float(v) for v in known] if whole else []
        spark.display = whole
        text = self.query_one(f"#sparktext-{self.key}", Label)
        text.update("" if whole else (series.spark if known else "no data"))
        text.display = not whole
        self.query_one(".trend-values", Label).update(f"{_value(series.first)} → {_value(series.last)}")


class TeamScreen(RhythmScreen):
    """How the team stands: people, coverage, cases not seen, the SPO's time and the trends."""

    CSS_PATH = ["rhythm.tcss", "team.tcss"]
    COMMAND_LIST = TEAM_COMMANDS + TEAM_PDU_COMMANDS
    BINDINGS = [c.binding() for c in COMMAND_LIST]

    def __init__(self) -> None:
        super().__init__()
        self.days = WINDOWS[0]
        self.overview: list[PractitionerRow] = []
        self.coverage: Coverage | None = None
        self.unseen: list[UnseenCase] = []
        self.spent: TimeSpent | None = None
        self.trends: Trends | None = None
        #: The PDU head's picture across teams (None for anyone else), and the team they chose in it
        #: (None: every team).
        self.picture: PduPicture | None = None
        self.team_choice: str | None = None

    @property
    def is_pdu_head(self) -> bool:
        return permissions.allowed("all_teams", self.ctx.actor["role"])

    @property
    def team(self) -> str | None:
        """The decider's team; for a PDU head, the team chosen in the Teams section (None: every team)."""
        return self.team_choice if self.is_pdu_head else super().team

    def compose(self) -> ComposeResult:
        head = self.is_pdu_head
        yield AppHeader()
        yield Static("", id="team-title", markup=False)
        with TabbedContent(id="team-tabs", initial=TEAMS_PANE if head else "people"):
            if head:
                with TabPane(_tab(TEAMS_PANE), id=TEAMS_PANE), Vertical(id="teams-box"):
                    yield Static("", id="teams-heading", markup=False)
                    yield DataTable(id="teams-table", cursor_type="row", zebra_stripes=True)
            with TabPane(_tab("people"), id="people"):
                yield DataTable(id="people-table", cursor_type="row", zebra_stripes=True)
            with TabPane(_tab("coverage"), id="coverage"), VerticalScroll(id="coverage-box"):
                yield Static("", id="coverage-heading", markup=False)
                yield CoverageGrid(id="coverage-grid")
                yield Static(COVERAGE_NOTE, id="coverage-note", markup=False)
            with TabPane(_tab("unseen"), id="unseen"):
                yield DataTable(id="unseen-table", cursor_type="row", zebra_stripes=True)
                yield Label(
                    "Every current case has an oversight entry in the window.", id="unseen-empty", classes="empty"
                )
            with TabPane(_tab("time"), id="time"), Vertical(id="time-box"):
                yield Static("", id="time-heading", markup=False)
                yield DataTable(id="time-table", cursor_type="row", show_cursor=False)
                yield Static("", id="delegated-heading", markup=False)
                yield DataTable(id="delegated-table", cursor_type="row", zebra_stripes=True)
            with TabPane(_tab("trends"), id="trends"), VerticalScroll(id="trends-box"):
                yield Static("", id="trends-heading", markup=False)
                for key in TREND_KEYS:
                    yield TrendRow(key)
        yield Footer()

    def setup(self) -> None:
        self.title = "Team and coverage"
        columns = {
            "people": (
                ("Practitioner", 16),
                ("Role", 4),
                ("Cases", 5),
                ("Not seen", 8),
                ("SBARs", 5),
                ("TP late", 7),
                ("To sign", 7),
                ("1:1", 11),
                ("L", 3),
                ("M", 3),
                ("H", 3),
                ("VH", 3),
                ("OASys AQA", 12),
                ("Notes", 12),
            ),
            "unseen": (
                ("Last seen", 11),
                ("CRN", 7),
                ("RoSH", 4),
                ("PP", 16),
                ("Touch point", 11),
                ("Name", 16),
                ("Sentence", 26),
            ),
            "time": (("Where the time went", 22), ("Time", 8), ("Share", 5), ("", BAR_WIDTH), ("Entries", 7)),
            "delegated": (("Delegated task", 30), ("To", 20), ("On", 10), ("Status", 7), ("Done", 10)),
        }
        for name, cols in columns.items():
            table = self.query_one(f"#{name}-table", DataTable)
            for n, (label, width) in enumerate(cols):
                table.add_column(label, width=width, key=f"c{n}")
        if self.is_pdu_head:
            self._teams_columns()
            self.query_one("#teams-table", DataTable).focus()
        else:
            self.query_one("#people-table", DataTable).focus()

    # --- Data ------------------------------------------------------------------------------------

    def log_view(self) -> None:
        self.app.record_view(
            lookup.record_team_view,
            team=self.team,
            days=self.days,
            people=len(self.overview),
            unseen_cases=len(self.unseen),
        )

    def reload(self) -> None:
        ctx = self.ctx
        days = self.days
        if self.is_pdu_head:
            self._show_teams(pdu.pdu_picture(ctx, days))
        self.overview = team.team_overview(ctx, self.team, days=days)
        self.coverage = team.coverage(ctx, days=days, team=self.team)
        self.unseen = team.unseen_cases(ctx, days=days, team=self.team)
        self.spent = team.time_spent(ctx, team=self.team)
        self.trends = team.trends(ctx, team=self.team)
        late = self.theme_style("error", bold=True)
        # Towards approval as an OASys assessor: "approved", or "2 of 3 Good" once rated, the close
        # ones (one Good away) in the accent colour [000 §3.3].
        standings = {s.staff_id: s for s in aqa.approval_standings(ctx, self.team)}
        close = self.theme_style("accent", bold=True)

        people = []
        for r in self.overview:
            sv = r.supervision
            notes = "absent today" if r.absent_today else ""
            people.append(
                (
                    r.staff_id,
                    [
                        cell(r.name),
                        cell(r.role),
                        cell(r.cases.total),
                        cell(r.unseen or ""),
                        cell(r.open_sbars or ""),
                        cell(r.overdue_touch_points or "", late if r.overdue_touch_points else ""),
                        cell(r.countersigns_waiting or ""),
                        cell(sv.status, late if sv.one_to_one_overdue else ""),
                        cell(r.cases.low or ""),
                        cell(r.cases.medium or ""),
                        cell(r.cases.high or ""),
                        cell(r.cases.very_high or ""),
                        self._approval_cell(r, standings.get(r.staff_id), close),
                        cell(notes),
                    ],
                )
            )
        self.fill(self.query_one("#people-table", DataTable), people)

        cov = self.coverage
        self.query_one("#coverage-heading", Static).update(
            f"Oversight coverage on {cov.as_of:%d/%m/%Y}: cases with an oversight entry since {cov.since:%d/%m/%Y} "
            f"({cov.days} days). w changes the window."
        )
        self.query_one("#coverage-grid", CoverageGrid).show(cov)

        unseen = []
        for u in self.unseen:
            since = "never" if u.days_since is None else f"{u.days_since}d ago"
            tp = ""
            if u.touch_point_id:
                tp = f"due {u.touch_point_due:%d/%m}" if u.touch_point_due else "open"
            sentence = f"{sentence_label(u.sentence_type).lower()} from {u.sentence_start:%d/%m/%Y}"
            unseen.append(
                (
                    u.crn,
                    [
                        cell(since, late if u.days_since is None else ""),
                        cell(u.crn),
                        self.rosh_cell(u.rosh),
                        cell(u.practitioner or "unallocated"),
                        cell(tp),
                        cell(u.name),
                        cell(sentence),
                    ],
                )
            )
        unseen_table = self.query_one("#unseen-table", DataTable)
        self.fill(unseen_table, unseen)
        unseen_table.set_class(not unseen, "-empty")
        self.query_one("#unseen-empty", Label).set_class(not unseen, "-shown")

        spent = self.spent
        top = max((c.minutes for c in spent.categories), default=0)
        time_rows = []
        for c in spent.categories:
            bar = "█" * round(BAR_WIDTH * c.minutes / top) if top else ""
            missing = f" ({c.without_minutes} without minutes)" if c.without_minutes else ""
            time_rows.append(
                (
                    c.key,
                    [
                        cell(c.label),
                        cell(_minutes(c.minutes)),
                        cell(percent_text(c.percent)),
                        cell(bar, "bold"),
                        cell(f"{c.entries}{missing}"),
                    ],
                )
            )
        self.fill(self.query_one("#time-table", DataTable), time_rows)
        self.query_one("#time-heading", Static).update(
            f"Time recorded {spent.since:%d/%m/%Y} to {spent.until:%d/%m/%Y} (4 weeks): {_minutes(spent.total_minutes)}"
        )
        delegated = []
        for d in spent.delegated:
            to = f"{d.delegated_to} ({d.delegated_role})" if d.delegated_to else ""
            delegated.append(
                (
                    d.item_id,
                    [
                        cell(d.title),
                        cell(to),
                        cell(f"{d.delegated_on:%d/%m/%Y}" if d.delegated_on else ""),
                        cell("done" if d.status == "closed" else d.status),
                        cell(f"{d.done_on:%d/%m/%Y}" if d.done_on else ""),
                    ],
                )
            )
        self.fill(self.query_one("#delegated-table", DataTable), delegated)
        self.query_one("#delegated-heading", Static).update(
            f"Delegated in that time: {len(spent.delegated)} task{'s' if len(spent.delegated) != 1 else ''}"
            + ("" if spent.delegated else ". g on a task in the queue delegates it in one keystroke.")
        )

        self._show_trends()

        tabs = self.query_one("#team-tabs", TabbedContent)
        tabs.get_tab("unseen").label = f"{_tab('unseen')} ({len(self.unseen)})"
        total = cov.total
        self.query_one("#team-title", Static).update(
            (f"{self.team_choice} · " if self.team_choice else "")
            + f"{len(self.overview)} practitioners · {total.cases} cases · {total.percent_text} seen in {cov.days} days · "
            f"{len(self.unseen)} not seen"
        )
        self.sync_bindings()

    @staticmethod
    def _approval_cell(row: PractitionerRow, standing: aqa.Standing | None, close: Style) -> Text:
        """The OASys AQA column: approved, else the Good ratings counting towards approval (blank
        before the first rating), marked when one more Good makes the practitioner approved."""
        if row.oasys_approved:
            return cell("approved")
        if standing is None or not standing.ratings:
            return cell("")
        return cell(standing.label, close if standing.close else "")

    def _teams_columns(self) -> bool:
        """Give the Teams table its columns, Team and SPO as wide as the screen allows; True when
        they changed (the rows must then be put back)."""
        table = self.query_one("#teams-table", DataTable)
        team_width, spo_width = _name_widths(self.app.size.width, table.cell_padding)
        if [c.width for c in table.ordered_columns[:2]] == [team_width, spo_width]:
            return False
        table.clear(columns=True)
        table.add_column("Team", width=team_width, key="c0")
        table.add_column("SPO", width=spo_width, key="c1")
        for n, (label, width) in enumerate(TEAMS_NUMBERS, start=2):
            table.add_column(Text(label, justify="right"), width=width, key=f"c{n}")
        table.header_height = 2
        return True

    def on_resize(self) -> None:
        if self.is_pdu_head and self.picture is not None and self._teams_columns():
            self._show_teams(self.picture)

    def _show_teams(self, picture: PduPicture) -> None:
        """The PDU head's Teams section: a row per team, then every team together."""
        self.picture = picture
        late = self.theme_style("error", bold=True)
        rows = []
        for t in (*picture.teams, _all_teams(picture)):
            whole = t.team == ALL_TEAMS
            rows.append(
                (
                    "*" if whole else f"team:{t.team}",
                    [
                        cell(t.team, "bold" if whole or t.team == self.team_choice else ""),
                        cell("" if whole else t.spo or "no SPO"),
                        _number(t.cases),
                        _number(t.coverage_text),
                        _number(t.sufficient_text),
                        _number(t.high_coverage_text),
                        _number(t.not_seen),
                        _number(t.open_items),
                        _number(t.overdue, late if t.overdue else ""),
                        _number(t.waiting),
                    ],
                )
            )
        self.fill(self.query_one("#teams-table", DataTable), rows)
        shown = self.team_choice or "every team"
        self.query_one("#teams-heading", Static).update(
            f"Every team: oversight in the last {picture.days} days (w changes it), and work open, overdue and "
            f"waiting today{_sync_text(picture.synced)}. Enter on a team shows its people, coverage and cases not "
            f"seen; on {ALL_TEAMS}, every team's. Showing: {shown}. Looks sufficient: an entry with a decision, "
            "its actions followed up (the inspectorate found 23–45%: a finding, not a target)."
        )

    def _show_trends(self) -> None:
        tr = self.trends
        assert tr is not None  # shown after reload read them
        self.query_one("#trends-heading", Static).update(
            f"Open work at the end of each week, {len(tr.week_ends)} weeks {tr.week_ends[0]:%d/%m} to "
            f"{tr.week_ends[-1]:%d/%m/%Y}; countersign turnaround: median days from submission to verdict of those "
            "closed that week."
        )
        for series in (*tr.backlog, tr.countersign_turnaround, tr.countersigns_closed):
            self.query_one(f"#trend-{series.key}", TrendRow).show(series)

    @property
    def active_pane(self) -> str:
        return self.query_one("#team-tabs", TabbedContent).active or "people"

    @property
    def current_unseen(self) -> UnseenCase | None:
        if self.active_pane != "unseen":
            return None
        return self.highlighted_row(self.query_one("#unseen-table", DataTable), self.unseen)

    @property
    def current_person(self) -> PractitionerRow | None:
        if self.active_pane != "people":
            return None
        return self.highlighted_row(self.query_one("#people-table", DataTable), self.overview)

    def applies(self, action: str) -> bool:
        if action == "rate_aqa":
            return self.current_person is not None
        if action == "touch_point":
            case = self.current_unseen
            return case is not None and case.touch_point_id is None
        if action == "open_case":
            return self.current_unseen is not None
        return True

    def why_not(self, action: str) -> str | None:
        if action == "rate_aqa" and self.current_person is None:
            return "That key works on the Team list (1): choose a practitioner there"
        if action not in ("touch_point", "open_case"):
            return None
        case = self.current_unseen
        if case is None:
            return "That key works on the Not seen list (3): choose a case there"
        if action == "touch_point" and case.touch_point_id is not None:
            due = f", due {case.touch_point_due:%d/%m/%Y}" if case.touch_point_due else ""
            return f"{case.crn} already has an open touch point{due}: act on it from the queue"
        return None

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.sync_bindings()

    @on(DataTable.RowSelected, "#unseen-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_case()

    @on(TabbedContent.TabActivated, "#team-tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        focus: dict[str | None, str] = {
            TEAMS_PANE: "#teams-table",
            "people": "#people-table",
            "unseen": "#unseen-table",
            "time": "#delegated-table",
            "coverage": "#coverage-box",
            "trends": "#trends-box",
        }
        self.query_one(focus[event.pane.id]).focus()
        self.sync_bindings()

    def action_section(self, pane: str) -> None:
        self.query_one("#team-tabs", TabbedContent).active = pane

    def action_teams(self) -> None:
        """A PDU head: every team side by side (the key is hidden from, and does nothing for, anyone else)."""
        if self.is_pdu_head:
            self.action_section(TEAMS_PANE)

    @on(DataTable.RowSelected, "#teams-table")
    def _team_chosen(self, event: DataTable.RowSelected) -> None:
        """Enter on a team: the rest of the dashboard shows that team (All teams: every team). Reads only."""
        picture = self.picture
        if picture is None:
            return
        names = [t.team for t in picture.teams]
        row = event.cursor_row
        self.team_choice = names[row] if 0 <= row < len(names) else None
        self.reload()
        self.log_view()  # another team's people and cases are now on screen
        self.action_section("people")
        self.notify(f"Showing {self.team_choice or 'every team'}", markup=False, timeout=2)

    def action_window(self) -> None:
        self.days = WINDOWS[(WINDOWS.index(self.days) + 1) % len(WINDOWS)]
        self.reload()
        self.notify(f"Coverage window: {self.days} days", markup=False, timeout=2)

    # --- Acting ----------------------------------------------------------------------------------

    def action_touch_point(self) -> None:
        case = self.current_unseen
        if case is None or not self._allowed("touch_point"):
            return
        self._call(lambda: team.make_touch_point_for(self.ctx, case.crn))

    def action_rate_aqa(self) -> None:
        """Record an AQA rating of the highlighted practitioner's OASys assessment [000 §3.3]: the
        column then shows how close they are to approval (three Good: approved, and their OASys
        skips countersigning but for the sample)."""
        person = self.current_person
        if person is None or not self._allowed("rate_aqa"):
            return
        self._choose(
            f"AQA rating of {person.name}'s OASys assessment",
            [(r.value, r.label) for r in AqaRating],
            lambda rating: self._call(lambda: aqa.rate_aqa(self.ctx, person.name, rating)),
        )

    def action_open_case(self) -> None:
        case = self.current_unseen
        self.open_crn(case.crn if case else None)
