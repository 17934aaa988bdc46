"""One case: its risk facts at the top, everything recorded on it below, newest first."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Static

from spo_tui.commands import CASE_COMMANDS
from spo_tui.domain.dates import local_time
from spo_tui.domain.errors import SpoError
from spo_tui.domain.exchanges import exchanges
from spo_tui.domain.levels import CASE_WINDOW_DAYS, OversightLevel, case_sufficiency, sufficiency_text
from spo_tui.domain.text import visible
from spo_tui.domain.vocab import ItemKind, OversightOutcome, OversightType, RoSH, closed_note_label, sentence_span
from spo_tui.screens.kept import KeptScreen
from spo_tui.screens.oversight_form import OversightForm
from spo_tui.screens.sizing import take_breakpoints
from spo_tui.services import decisions, lookup
from spo_tui.services.base import ActionResult
from spo_tui.widgets.footer import QuietFooter
from spo_tui.widgets.header import AppHeader
from spo_tui.widgets.line_table import Cell, Column, LineTable

if TYPE_CHECKING:
    from textual import getters

    from spo_tui.app import SpoApp
    from spo_tui.services.context import Context

#: A flag review this many days away or fewer is shown as coming due.
REVIEW_SOON_DAYS = 14
SUPERSEDED_STYLE = "dim strike"
CORRECTION_STYLE = "italic"
#: The summary column is cut to this width; the detail below shows the row in full.
SUMMARY_WIDTH = 32

_MAPPA_CATEGORIES = {1: "RSO", 2: "violent", 3: "other dangerous", 4: "terrorist"}
#: The custody-to-community dates shown on the sentence line, in order (``admin.set_custody``).
_CUSTODY_LABELS = (
    ("release_date", "Release"),
    ("rotl_date", "ROTL"),
    ("handover_date", "OMiC handover"),
    ("lifer_panel_date", "Lifer panel"),
)


def short_id(value: str | None) -> str:
    return (value or "")[:8]


def local_stamp(iso: str | None) -> str:
    """A stored UTC timestamp as local dd/mm/yyyy HH:MM."""
    if not iso:
        return ""
    try:
        return f"{local_time(iso):%d/%m/%Y %H:%M}"
    except ValueError:
        return iso


def uk_date(iso: str | None) -> str:
    """A stored YYYY-MM-DD date as dd/mm/yyyy."""
    if not iso:
        return ""
    try:
        return f"{date.fromisoformat(iso[:10]):%d/%m/%Y}"
    except ValueError:
        return iso


def _label(enum_cls, value: str | None) -> str:
    try:
        return enum_cls(value).label
    except ValueError:
        return (value or "").replace("_", " ")


def _level(value: str | None) -> str:
    return _label(RoSH, value) if value else "not known"


def _status(row: dict[str, Any], today: date) -> str:
    """An item's status as the SPO says it: open, closed, waiting on whom, snoozed to when."""
    status = row.get("status") or ""
    if status == "waiting":
        return f"waiting on {row.get('waiting_on') or 'someone else'}"
    if status == "open" and row.get("snoozed_until") and row["snoozed_until"] > today.isoformat():
        return f"snoozed to {uk_date(row['snoozed_until'])}"
    return status


def first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


#: The timeline's columns: fixed widths, cut with an ellipsis (``LineTable``).
TIMELINE_COLUMNS = (
    Column("When", 16),
    Column("What", 11),
    Column("Summary", SUMMARY_WIDTH),
    Column("Type · outcome / status", 30),
    Column("By / due", 14),
    Column("Note", 22),
)


class CaseScreen(KeptScreen):
    """The case header, its timeline of oversight entries and items, and the highlighted row in full."""

    if TYPE_CHECKING:
        app = getters.app(SpoApp)

    CSS_PATH = "case.tcss"
    AUTO_FOCUS = "#timeline"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    COMMAND_LIST = CASE_COMMANDS
    BINDINGS = [c.binding() for c in COMMAND_LIST]

    @property
    def ctx(self) -> Context:
        """The acting context: the app sets it on start, before any case can be opened."""
        ctx = self.app.ctx
        assert ctx is not None
        return ctx

    def __init__(self, crn: str) -> None:
        super().__init__()
        self.crn = crn.strip().upper()
        self.case: dict[str, Any] | None = None
        self.rows: dict[str, dict[str, Any]] = {}
        self._detail_key: str | None = None  # the row shown in full below the timeline

    def compose(self) -> ComposeResult:
        take_breakpoints(self)
        yield AppHeader()
        with Vertical(id="case-header"):
            yield Static(visible(self.crn, lines=False), id="case-title", markup=False)
            yield Static("", id="case-risk", markup=False)
            yield Static("", id="case-sentence", markup=False)
            yield Horizontal(id="case-flags")
        yield LineTable(TIMELINE_COLUMNS, id="timeline")
        with VerticalScroll(id="timeline-detail-box"):
            yield Static("", id="timeline-detail", markup=False)
        yield QuietFooter()

    def on_mount(self) -> None:
        self._open()

    def show_case(self, crn: str) -> None:
        """Show the case ``crn`` on this screen, built before for another case (``SpoApp.open_case``
        keeps one to reuse: a screen made and styled anew costs several times a keypress). Every
        part is read and filled again, as a new screen's would be: nothing of the last case stays."""
        self.crn = crn.strip().upper()
        if self.is_mounted:
            self._open()

    def _open(self) -> None:
        """Show ``self.crn`` from the top, and log that it was seen."""
        self.query_one("#timeline", LineTable).scroll_to(x=0, y=0, animate=False, immediate=True)
        self.query_one("#timeline-detail-box", VerticalScroll).scroll_to(x=0, y=0, animate=False, immediate=True)
        self.load()
        if self.case is not None:  # logged once shown: its thread's write stays out of the first frame's way
            self.call_after_refresh(self.app.record_view, lookup.record_case_view, crn=self.crn)

    # --- Data -----------------------------------------------------------------------------------

    def store_changed(self) -> None:
        """Another process changed the store: show its changes, the cursor where it was."""
        if self.case is None:  # an unknown CRN: nothing on screen to bring up to date
            return
        table = self.query_one("#timeline", LineTable)
        row = table.cursor_row
        self.load()
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def load(self) -> None:
        """Read the case and its timeline (fast local reads) and show them."""
        ctx = self.ctx
        title = self.query_one("#case-title", Static)
        try:
            self.case = lookup.case_summary(ctx, self.crn)
            timeline = lookup.case_timeline(ctx, self.crn)
        except SpoError as error:
            self.case = None
            self.title = None  # the app's, as on a screen that never showed a case
            title.update(visible(f"{self.crn}: {error}", lines=False))
            title.add_class("-missing")
            self._show_nothing()
            return
        title.remove_class("-missing")
        self.title = visible(f"{self.crn} {self.case['name']}", lines=False)
        self._show_header(self.case, ctx.today, self._oversight_state(timeline, ctx.today))
        self._show_timeline(timeline)

    def _show_nothing(self) -> None:
        """No case: the parts below the title empty, as on a new screen."""
        self.rows = {}
        self._detail_key = None
        risk = self.query_one("#case-risk", Static)
        risk.update("")
        risk.remove_class("-high")
        self.query_one("#case-sentence", Static).update("")
        self.query_one("#case-flags", Horizontal).remove_children()
        self.query_one("#timeline", LineTable).set_rows([], keep_row=0)
        self.query_one("#timeline-detail", Static).update("")

    @staticmethod
    def _oversight_state(timeline: list[dict[str, Any]], today: date) -> str:
        """Presence and sufficiency of the case's oversight in the last ``CASE_WINDOW_DAYS`` [000, 004]."""
        since = (today - timedelta(days=CASE_WINDOW_DAYS)).isoformat()
        state = case_sufficiency(
            bool(r["sufficient"])
            for r in timeline
            if r["what"] == "oversight" and r.get("sufficient") is not None and r["at"] >= since
        )
        return f"Oversight in {CASE_WINDOW_DAYS} days: {state}"

    def _show_header(self, case: dict[str, Any], today: date, oversight: str = "") -> None:
        pp = case.get("practitioner") or "unallocated"
        if case.get("practitioner_role"):
            pp = f"{pp} ({case['practitioner_role']})"
        self.query_one("#case-title", Static).update(visible(f"{case['crn']}  {case['name']}  ·  PP {pp}", lines=False))
        mappa = "MAPPA none"
        if case.get("mappa_category"):
            category = _MAPPA_CATEGORIES.get(case["mappa_category"], "")
            mappa = f"MAPPA cat {case['mappa_category']} ({category})"
            mappa += f" level {case['mappa_level']}" if case.get("mappa_level") else " level not set"
        risk = self.query_one("#case-risk", Static)
        risk.update(
            visible(
                f"RoSH {_level(case.get('rosh'))}  ·  Likelihood {_level(case.get('likelihood'))}  ·  {mappa}"
                f"  ·  Tier {case.get('tier') or 'not set'}",
                lines=False,
            )
        )
        risk.set_class(case.get("rosh") in ("HIGH", "VERY_HIGH"), "-high")
        span = sentence_span(case.get("sentence_type"), case.get("sentence_start") or "", case.get("sentence_end"))
        # Custody to community [004]: the dates that make touch points, and the victim contact scheme.
        for key, label in _CUSTODY_LABELS:
            if case.get(key):
                span += f"  ·  {label} {uk_date(case[key])}"
        if case.get("victim_contact"):
            span += "  ·  Victim contact scheme (VLO)"
        line = span + (f"  ·  {oversight}" if oversight else "")
        self.query_one("#case-sentence", Static).update(visible(line, lines=False))
        labels: list[tuple[str, str]] = []
        for flag in case.get("flags") or []:
            text = flag["code"]
            if flag.get("description"):
                text += f" {flag['description']}"
            classes = "flag"
            if flag.get("review_date"):
                review = date.fromisoformat(flag["review_date"][:10])
                if review < today:
                    text += f" review OVERDUE {review:%d/%m/%Y}"
                    classes += " -overdue"
                elif (review - today).days <= REVIEW_SOON_DAYS:
                    text += f" review {review:%d/%m/%Y}"
                    classes += " -due-soon"
                else:
                    text += f" review {review:%d/%m/%Y}"
            if flag.get("review_period_months"):
                text += f" (every {flag['review_period_months']} months)"
            labels.append((visible(text, lines=False), classes))
        if not labels:
            labels.append(("No registrations", "flag -none"))
        self._show_flags(labels)

    def _show_flags(self, labels: list[tuple[str, str]]) -> None:
        """One label per (text, classes): those shown already are filled again (in this frame), and
        only the difference in number is mounted or removed."""
        flags_box = self.query_one("#case-flags", Horizontal)
        shown = list(flags_box.query_children(Label))
        for label, (text, classes) in zip(shown, labels, strict=False):
            label.update(text)
            label.set_classes(classes)
        if len(shown) > len(labels):
            flags_box.remove_children(shown[len(labels) :])
        elif len(labels) > len(shown):
            flags_box.mount_all(Label(text, classes=classes, markup=False) for text, classes in labels[len(shown) :])

    def _show_timeline(self, timeline: list[dict[str, Any]]) -> None:
        table = self.query_one("#timeline", LineTable)
        self.rows = {f"{row['what']}:{row['id']}": row for row in timeline}
        table.set_rows([(key, self._cells(row)) for key, row in self.rows.items()], keep_row=0)
        if timeline:
            self._show_detail(f"{timeline[0]['what']}:{timeline[0]['id']}", again=True)
        else:
            self._detail_key = None
            self.query_one("#timeline-detail", Static).update(
                "Nothing recorded on this case yet. Press n to add an oversight entry."
            )

    def _cells(self, row: dict[str, Any]) -> tuple[Cell, ...]:
        """The row's cells as (text, style): user text is shown as typed, never read as markup."""
        if row["what"] == "oversight":
            kind = f"{_label(OversightType, row['type'])} · {_label(OversightOutcome, row['outcome'])}"
            if row.get("level"):  # 1 quality assurance, 2 supervision, 3 immediate risk [001]
                kind = f"{OversightLevel(row['level']).short} {kind}"
            cells = [local_stamp(row["at"]), "Oversight", first_line(row["decision"]), kind, row.get("by_name") or ""]
            if row.get("superseded_by"):
                style, note = SUPERSEDED_STYLE, (f"SUPERSEDED by {short_id(row['superseded_by'])}", "dim bold")
            elif row.get("supersedes_id"):
                style, note = CORRECTION_STYLE, (f"corrects {short_id(row['supersedes_id'])}", "bold")
            elif row.get("sufficient") is not None:  # presence is not sufficiency [000, 004]
                style, note = "", (sufficiency_text(row["sufficient"]), "" if row["sufficient"] else "dim")
            else:
                style, note = "", ("", "")
            return tuple((c, style) for c in cells) + (note,)
        kind_label = _label(ItemKind, row.get("kind"))
        status = _status(row, self.ctx.today)
        due = f"due {uk_date(row['due'])}" if row.get("due") else ""
        style = "dim" if status == "closed" else ""
        item_note = closed_note_label(row.get("closed_note")) or (
            f"since {uk_date(row['waiting_since'][:10])}"
            if row.get("status") == "waiting" and row.get("waiting_since")
            else ""
        )
        cells = [local_stamp(row["at"]), kind_label, first_line(row.get("title")), status, due, item_note]
        return tuple((c, style) for c in cells)

    def _show_detail(self, key: str | None, *, again: bool = False) -> None:
        """Show the row ``key`` in full below the timeline; ``again``: even if it is the row shown (it
        was read anew), else only if it is another (the cursor's own message after a new read)."""
        if key == self._detail_key and not again:
            return
        self._detail_key = key
        detail = self.query_one("#timeline-detail", Static)
        row = self.rows.get(key or "")
        if row is None:
            detail.update("")
            return
        if row["what"] == "oversight":
            lines = [
                f"Oversight entry {short_id(row['id'])}  ·  {local_stamp(row['at'])}  ·  decided by {row.get('by_name') or ''}",
                f"{_label(OversightType, row['type'])}  ·  {_label(OversightOutcome, row['outcome'])}",
            ]
            if row.get("level"):
                level = OversightLevel(row["level"])
                how = "chosen" if row.get("level_chosen") else "from the work"
                line = f"Level {level.value}: {level.label} ({how})"
                if row.get("sufficient") is not None:
                    line += f"  ·  {sufficiency_text(row['sufficient'])}" + (
                        "" if row["sufficient"] else ": no decision, or an agreed action not followed up"
                    )
                lines.append(line)
            if row.get("superseded_by"):
                lines.append(
                    f"SUPERSEDED by entry {short_id(row['superseded_by'])}: read that entry for the correction."
                )
            if row.get("supersedes_id"):
                lines.append(f"This entry corrects entry {short_id(row['supersedes_id'])}.")
            lines += [
                "",
                "What was discussed:",
                (row.get("discussed") or "").strip(),
                "",
                "Decision or guidance:",
                (row.get("decision") or "").strip(),
            ]
        else:
            lines = [
                f"{_label(ItemKind, row.get('kind'))}  ·  {_status(row, self.ctx.today)}  ·  raised {local_stamp(row['at'])}",
                (row.get("title") or "").strip(),
            ]
            if row.get("status") == "waiting" and row.get("waiting_since"):
                lines.append(
                    f"Waiting on {row.get('waiting_on') or 'someone else'} since {local_stamp(row['waiting_since'])}"
                )
            if row.get("due"):
                lines.append(f"Due {uk_date(row['due'])}")
            lines += [f"{label}: {text}" for label, text in exchanges(row.get("kind") or "", row)]
            if row.get("closed_note"):
                lines.append(f"Closed: {row['closed_note']}")
        detail.update(visible("\n".join(lines)))

    @on(LineTable.RowHighlighted, "#timeline")
    def _highlighted(self, event: LineTable.RowHighlighted) -> None:
        self._show_detail(event.row_key)

    # --- Commands -------------------------------------------------------------------------------

    def action_note(self) -> None:
        if self.case is None:
            self.notify(f"No case with CRN {self.crn}", severity="warning", markup=False)
            return
        crn = self.crn

        def submit(values: dict) -> ActionResult:
            return decisions.record_oversight(self.ctx, crn=crn, **values)

        self.app.push_screen(
            OversightForm(
                heading=f"Oversight entry: {crn}",
                submit=submit,
                draft_key=f"oversight:case:{crn}",
                on_behalf=decisions.on_behalf_banner(self.ctx, crn=crn),
            ),
            self._recorded,
        )

    def _recorded(self, result: ActionResult | None) -> None:
        if result is None:
            return
        if result.audit_id is not None:
            self.app.undo_stack.append(result.audit_id)
        self.notify(result.message, markup=False)
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()
