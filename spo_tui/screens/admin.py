"""The admin screen: the CASPO's home, and the SPO's when they do their own admin.

Three lists (the touch-point diary for the next 14 days, MAPPA level 1 reviews coming due,
transfers in progress), forms to add work on the team's behalf (keys 1-7), corrections to a case
or a waiting SBAR, and CSV import in a background thread with a progress bar. Every write goes
through a service; this screen only reads what the services return and shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Label, ProgressBar, Static, TabbedContent, TabPane, TextArea
from textual.worker import Worker, WorkerState

from spo_tui.commands import ADMIN_COMMANDS, key_in_force
from spo_tui.domain import permissions
from spo_tui.domain.dates import from_iso, relative_due
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.text import visible
from spo_tui.domain.vocab import (
    AlertSource,
    CountersignKind,
    Likelihood,
    RoSH,
    SbarState,
    SbarUrgency,
    SentenceType,
    TaskCategory,
    normalise_crn,
)
from spo_tui.screens.acting import ActingScreen
from spo_tui.screens.entry_form import EntryForm, Field
from spo_tui.services import admin, intake, lookup
from spo_tui.services.admin import DiaryLine
from spo_tui.services.base import ActionResult
from spo_tui.services.context import LONDON

PANES = ("diary", "mappa", "transfers")
#: Commands that act on the highlighted row of one list.
PANE_OF = {
    "arrange": "diary",
    "reminder_sent": "diary",
    "reminder_text": "diary",
    "mappa_review": "mappa",
    "transfer_status": "transfers",
}
_BY_ACTION = {c.action: c for c in ADMIN_COMMANDS}
_ADD_KEYS = ("add_sbar", "add_countersign", "add_task", "add_alert", "add_case", "add_transfer", "add_absence")
_KEY_WORDS = {
    "add_sbar": "SBAR",
    "add_countersign": "Countersign",
    "add_task": "Task",
    "add_alert": "Alert",
    "add_case": "Case",
    "add_transfer": "Transfer",
    "add_absence": "Absence",
    "edit_case": "Case",
    "edit_sbar": "SBAR",
}
#: Staff first: a cases extract names its practitioners, who must already be on the staff list.
IMPORT_KINDS = (
    ("staff", "Staff"),
    ("cases", "Cases"),
    ("countersign", "Countersign items"),
    ("touchpoints", "Touch points"),
)
TRANSFER_STATUS_LABELS = {
    "requested": "Requested",
    "in_progress": "In progress",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
_SENTENCE_LABELS = {
    SentenceType.COMMUNITY_ORDER: "Community order",
    SentenceType.SUSPENDED_SENTENCE_ORDER: "Suspended sentence order",
    SentenceType.LICENCE: "Licence",
    SentenceType.POST_SENTENCE_SUPERVISION: "Post-sentence supervision",
}
_MAPPA_CATEGORIES = (
    ("1 Registered sexual offender", "1"),
    ("2 Violent offender", "2"),
    ("3 Other dangerous offender", "3"),
    ("4 Terrorist or terrorist risk", "4"),
)
_MAPPA_LEVELS = (
    ("1 Ordinary agency management", "1"),
    ("2 Active multi-agency", "2"),
    ("3 Active multi-agency (senior)", "3"),
)


def _cell(text: str | None, style: str | Style = "") -> Text:
    """User text as a table cell: never parsed as markup, control characters shown as escapes
    (``domain.text.visible``), cut with an ellipsis."""
    return Text(visible(text or "", lines=False), style=style, no_wrap=True, overflow="ellipsis")


def _uk(value: str | date | None) -> str:
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day:%d/%m/%Y}"


def arranged_text(value: str | None) -> str:
    """A diarised meeting as it reads in the diary: ``Fri 27/11 10:30`` or ``Fri 27/11``."""
    if not value:
        return ""
    try:
        if "T" in value:
            moment = datetime.fromisoformat(value).astimezone(LONDON)
            return f"{moment:%a %d/%m %H:%M}"
        return f"{date.fromisoformat(value):%a %d/%m}"
    except ValueError:
        return value


def sent_text(value: str | None) -> str:
    """When the reminder was sent, in London time."""
    if not value:
        return ""
    try:
        return f"sent {from_iso(value).astimezone(LONDON):%d/%m}"
    except ValueError:
        return value


def _enum_options(enum_cls, labels: dict | None = None) -> list[tuple[str, str]]:
    return [
        ((labels or {}).get(m) or getattr(m, "label", None) or m.value.replace("_", " ").capitalize(), m.value)
        for m in enum_cls
    ]


def _rosh_options() -> list[tuple[str, str]]:
    return [(r.label, r.value) for r in RoSH]


def _likelihood_options() -> list[tuple[str, str]]:
    return [(RoSH(m.value).label, m.value) for m in Likelihood]


class TextScreen(ModalScreen[bool]):
    """Text to read and copy: selected on opening, ``c`` (or ctrl+c) copies it. Enter closes with True, Esc with False."""

    CSS_PATH = "admin.tcss"
    AUTO_FOCUS = "#text-body"
    BINDINGS = [
        Binding("escape", "close(False)", "Close", id="text_close"),
        Binding("enter", "close(True)", "Continue", show=False, id="text_close_enter"),
        Binding("c", "copy", "Copy", id="text_copy", tooltip="Copy the whole text to the clipboard"),
    ]

    def __init__(self, title: str, text: str, hint: str = "c copy · esc close") -> None:
        super().__init__()
        self.text_title = visible(title, lines=False)
        self.body = visible(text)
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="text-box", classes="dialog"):
            yield Label(self.text_title, id="text-title", classes="dialog-title", markup=False)
            yield TextArea(self.body, id="text-body", read_only=True, soft_wrap=True, compact=True)
            yield Label(self.hint, classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        """All of it selected, with the cursor (and so the view) at the top: a report is read from
        its first line (the summary), not its last."""
        from textual.widgets.text_area import Selection

        area = self.query_one("#text-body", TextArea)
        area.selection = Selection(area.document.end, (0, 0))
        area.scroll_home(animate=False, immediate=True)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.body)
        self.notify("Copied", markup=False, timeout=2)

    def action_close(self, go_on: bool) -> None:
        self.dismiss(go_on)


class AdminScreen(ActingScreen):
    """Diary, MAPPA level 1 reviews and transfers; add or correct work; import extracts."""

    CSS_PATH = "admin.tcss"
    COMMAND_LIST = ADMIN_COMMANDS
    BINDINGS = [c.binding() for c in COMMAND_LIST]

    class DueWorkRefreshed(Message):
        """Rule-made touch points were added in the background; reload the lists."""

    class ImportFinished(Message):
        """An import (or its dry run) finished in its thread."""

        def __init__(self, kind: str, path: str, dry_run: bool, report: Any) -> None:
            super().__init__()
            self.kind = kind
            self.path = path
            self.dry_run = dry_run
            self.report = report

    def __init__(self) -> None:
        super().__init__()
        self.diary: list[DiaryLine] = []
        self.mappa: list[dict[str, Any]] = []
        self.transfers: list[dict[str, Any]] = []
        self.importing = False

    @property
    def ctx(self):
        return self.app.ctx

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="admin-keys-row"):
            yield Static("", id="admin-keys", markup=False)
            yield Static("", id="admin-keys-more", markup=False)
        with TabbedContent(id="admin-tabs", initial="diary"):
            with TabPane("Diary", id="diary"):
                yield DataTable(id="diary-table", cursor_type="row", zebra_stripes=True)
                yield Label("No touch points due in the next 14 days.", id="diary-empty", classes="empty")
            with TabPane("MAPPA L1", id="mappa"):
                yield DataTable(id="mappa-table", cursor_type="row", zebra_stripes=True)
                yield Label("No MAPPA level 1 review due in the next 28 days.", id="mappa-empty", classes="empty")
            with TabPane("Transfers", id="transfers"):
                yield DataTable(id="transfers-table", cursor_type="row", zebra_stripes=True)
                yield Label("No transfers in progress.", id="transfers-empty", classes="empty")
        with Horizontal(id="import-bar"):
            yield Label("", id="import-label", markup=False)
            yield ProgressBar(id="import-progress", show_eta=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Admin"
        diary = self.query_one("#diary-table", DataTable)
        diary.add_column("Practitioner", key="pp", width=13)
        diary.add_column("Due", key="due", width=11)
        diary.add_column("CRN", key="crn", width=7)
        diary.add_column("Name", key="name", width=12)
        diary.add_column("Arranged", key="arranged", width=15)
        diary.add_column("Reminder", key="reminder", width=10)
        diary.add_column("Title", key="title", width=36)
        mappa = self.query_one("#mappa-table", DataTable)
        mappa.add_column("CRN", key="crn", width=7)
        mappa.add_column("Name", key="name", width=18)
        mappa.add_column("PP", key="pp", width=16)
        mappa.add_column("Cat", key="cat", width=3)
        mappa.add_column("MAPP review", key="review", width=24)
        transfers = self.query_one("#transfers-table", DataTable)
        transfers.add_column("CRN", key="crn", width=7)
        transfers.add_column("Name", key="name", width=16)
        transfers.add_column("In/out", key="direction", width=6)
        transfers.add_column("Other area", key="area", width=18)
        transfers.add_column("Status", key="status", width=11)
        transfers.add_column("Due", key="due", width=11)
        transfers.add_column("Note", key="note", width=30)
        self.query_one("#admin-keys", Static).update(self._keys_hint(_ADD_KEYS, "Add: "))
        self.query_one("#admin-keys-more", Static).update(self._keys_hint(("edit_case", "edit_sbar"), "Correct: "))
        self.reload()
        diary.focus()
        self.app.record_view(
            lookup.record_admin_view,
            once="admin",
            diary=len(self.diary),
            mappa_reviews=len(self.mappa),
            transfers=len(self.transfers),
        )
        self.refresh_due_work()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.reload()

    # --- Data ------------------------------------------------------------------------------------

    def _keys_hint(self, actions: tuple[str, ...], lead: str) -> str:
        """The keys among ``actions`` the acting role may use, e.g. ``Add: 1 SBAR  2 Countersign``."""
        role = self.ctx.actor["role"]
        keymap = getattr(self.app, "user_keymap", None)
        parts = []
        for action in actions:
            command = _BY_ACTION[action]
            if command.permission is None or permissions.allowed(command.permission, role):
                parts.append(f"{key_in_force(command, keymap)} {_KEY_WORDS[action]}")
        return lead + "  ".join(parts) if parts else ""

    def store_changed(self) -> None:
        """Another process changed the store: show its changes."""
        self.reload()

    def reload(self) -> None:
        """Read the three lists (fast local reads) and show them, keeping each cursor's row."""
        ctx = self.ctx
        self.diary = [line for lines in admin.touch_point_diary(ctx).values() for line in lines]
        self.mappa = admin.mappa_level1_reviews(ctx)
        self.transfers = admin.transfers_in_progress(ctx)
        today = ctx.today
        self._fill("diary", self._diary_rows(today))
        self._fill("mappa", [(r["crn"], self._mappa_cells(r, today)) for r in self.mappa])
        self._fill("transfers", [(t["id"], self._transfer_cells(t, today)) for t in self.transfers])
        tabs = self.query_one("#admin-tabs", TabbedContent)
        tabs.get_tab("diary").label = f"Diary {len(self.diary)}"
        tabs.get_tab("mappa").label = f"MAPPA L1 {len(self.mappa)}"
        tabs.get_tab("transfers").label = f"Transfers {len(self.transfers)}"
        self.refresh_bindings()

    def _fill(self, pane: str, rows: list[tuple[str, list[Text]]]) -> None:
        table = self.query_one(f"#{pane}-table", DataTable)
        keep = table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if rows:
            table.move_cursor(row=min(max(keep, 0), len(rows) - 1), animate=False)
        self.query_one(f"#{pane}-empty", Label).set_class(not rows, "-shown")
        table.set_class(not rows, "-empty")

    def _diary_rows(self, today: date) -> list[tuple[str, list[Text]]]:
        out = []
        previous = None
        for line in self.diary:
            overdue = line.due < today
            pp = line.practitioner if line.practitioner != previous else ""
            previous = line.practitioner
            out.append(
                (
                    line.item_id,
                    [
                        _cell(pp, "bold"),
                        _cell(relative_due(line.due, today), self.overdue_style() if overdue else ""),
                        _cell(line.crn),
                        _cell(line.name),
                        _cell(arranged_text(line.arranged_for) or "not yet", "" if line.arranged_for else "dim"),
                        _cell(sent_text(line.reminder_sent_at) or "not sent", "" if line.reminder_sent_at else "dim"),
                        _cell(line.title),
                    ],
                )
            )
        return out

    def overdue_style(self) -> Style:
        """A date that has passed: the theme's error text colour, bold, as in the queue, so it reads in
        every theme, light ones too."""
        return self.theme_style("text-error", bold=True)

    def _mappa_cells(self, r: dict[str, Any], today: date) -> list[Text]:
        if r.get("review_date"):
            review = date.fromisoformat(r["review_date"][:10])
            text = f"{review:%d/%m/%Y} ({relative_due(review, today)})"
            style: Style | str = self.overdue_style() if review < today else ""
        else:
            text, style = "not set", "italic"
        return [
            _cell(r["crn"]),
            _cell(r["name"]),
            _cell(r.get("practitioner") or "unallocated"),
            _cell(str(r.get("mappa_category") or "")),
            _cell(text, style),
        ]

    def _transfer_cells(self, t: dict[str, Any], today: date) -> list[Text]:
        due = ""
        style: Style | str = ""
        if t.get("due"):
            day = date.fromisoformat(t["due"])
            due = relative_due(day, today)
            style = self.overdue_style() if day < today else ""
        return [
            _cell(t["crn"]),
            _cell(t.get("name")),
            _cell((t.get("direction") or "").capitalize()),
            _cell(t.get("other_area")),
            _cell(TRANSFER_STATUS_LABELS.get(t["status"], t["status"])),
            _cell(due, style),
            _cell(t.get("note")),
        ]

    def _current(self, pane: str) -> Any:
        panes: dict[str, list[Any]] = {"diary": self.diary, "mappa": self.mappa, "transfers": self.transfers}
        rows = panes[pane]
        table = self.query_one(f"#{pane}-table", DataTable)
        if not rows or not 0 <= table.cursor_row < len(rows):
            return None
        return rows[table.cursor_row]

    def highlighted_crn(self) -> str | None:
        """The CRN of the row highlighted in the list on show (diary, MAPPA, transfers), if any."""
        row = self._current(self.active_pane) if self.is_mounted else None
        if row is None:
            return None
        return getattr(row, "crn", None) or (row.get("crn") if isinstance(row, dict) else None)

    @property
    def active_pane(self) -> str:
        return self.query_one("#admin-tabs", TabbedContent).active or "diary"

    @work(thread=True, exclusive=True, exit_on_error=False, group="refresh")
    def refresh_due_work(self) -> None:
        """Create rule-made touch points on a connection of this thread's own (as the Today screen does)."""
        from spo_tui.services.context import make_context
        from spo_tui.services.refresh import refresh_due_work
        from spo_tui.store.db import open_db

        ctx = self.ctx
        db = open_db(self.app.db_path, migrate=False)
        try:
            created = refresh_due_work(make_context(db, ctx.rules, ctx.actor["name"], clock=ctx.clock))
        finally:
            db.close()
        if created:
            self.post_message(self.DueWorkRefreshed())

    def on_admin_screen_due_work_refreshed(self, message: DueWorkRefreshed) -> None:
        self.reload()

    # --- Keys that apply ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys the acting role may not use and list keys off their list; grey them on an empty list."""
        command = _BY_ACTION.get(action)
        if command is None:
            return True
        if self.ctx is None:
            return False
        if command.permission and not permissions.allowed(command.permission, self.ctx.actor["role"]):
            return False
        pane = PANE_OF.get(action)
        if pane is None:
            return True
        if not self.is_mounted or self.active_pane != pane:
            return False
        return True if self._current(pane) is not None else None

    @on(TabbedContent.TabActivated, "#admin-tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id or "diary"
        self.query_one(f"#{pane}-table", DataTable).focus()
        self.refresh_bindings()

    def action_next_list(self) -> None:
        tabs = self.query_one("#admin-tabs", TabbedContent)
        tabs.active = PANES[(PANES.index(self.active_pane) + 1) % len(PANES)]

    # --- Acting ----------------------------------------------------------------------------------

    def _form(
        self, heading: str, fields: list[Field], submit: Callable[[dict], ActionResult], changed_only: bool = False
    ) -> None:
        self.app.push_screen(
            EntryForm(heading=heading, fields=fields, submit=submit, changed_only=changed_only, today=self.ctx.today),
            self._done,
        )

    def _allowed(self, action: str) -> bool:
        """The same test the footer uses; a refused key says why (e.g. from the palette)."""
        command = _BY_ACTION[action]
        if command.permission and not permissions.allowed(command.permission, self.ctx.actor["role"]):
            try:
                permissions.check(command.permission, self.ctx.actor["role"], self.ctx.actor["name"])
            except SpoError as error:
                self.notify(str(error), severity="error", markup=False)
            return False
        return True

    # --- The diary -----------------------------------------------------------------------------

    def action_arrange(self) -> None:
        line: DiaryLine | None = self._current("diary")
        if line is None or not self._allowed("arrange"):
            return
        self._prompt(
            f"Arrange the touch point on {line.crn} with {line.practitioner}",
            "When? e.g. fri 10:30",
            lambda text: admin.mark_arranged(self.ctx, line.item_id, text),
            echo=lambda text: admin.meeting_echo(self.ctx, text),
        )

    def action_reminder_sent(self) -> None:
        line: DiaryLine | None = self._current("diary")
        if line is not None and self._allowed("reminder_sent"):
            self._call(lambda: admin.mark_reminder_sent(self.ctx, line.item_id))

    def action_reminder_text(self) -> None:
        line: DiaryLine | None = self._current("diary")
        if line is None:
            return
        text = line.reminder
        self.app.copy_to_clipboard(text)
        to = f" ({line.practitioner_email})" if line.practitioner_email else ""
        self.app.push_screen(TextScreen(f"Reminder for {line.practitioner}{to}", text))
        self.notify("Reminder copied", markup=False, timeout=3)

    # --- MAPPA level 1 and transfers ----------------------------------------------------------------

    def action_mappa_review(self) -> None:
        case = self._current("mappa")
        if case is None or not self._allowed("mappa_review"):
            return
        crn = case["crn"]

        def set_review(text: str) -> ActionResult:
            return admin.set_flag(self.ctx, crn, "MAPP", intake.parse_day(self.ctx, text, "review", "future"))

        self._prompt(
            f"MAPPA level 1 review for {crn} {case['name']}",
            "Review date, e.g. 3m, 25/02, 25/02/2027",
            set_review,
            value=_uk(case.get("review_date")),
            echo=lambda text: intake.date_echo(self.ctx, text, "future"),
        )

    def action_transfer_status(self) -> None:
        transfer = self._current("transfers")
        if transfer is None or not self._allowed("transfer_status"):
            return
        choices = [(s, label) for s, label in TRANSFER_STATUS_LABELS.items() if s != transfer["status"]]
        self._choose(
            f"Transfer {transfer['direction']} of {transfer['crn']}: now",
            choices,
            lambda status: self._call(lambda: admin.set_transfer_status(self.ctx, transfer["id"], status)),
        )

    # --- Adding work -------------------------------------------------------------------------------

    def _practitioner_options(self, keep: str | None = None) -> list[tuple[str, str]]:
        names = [p["name"] for p in lookup.practitioners(self.ctx)]
        if keep and keep not in names:
            names.append(keep)
        return [(n, n) for n in names]

    def action_add_sbar(self) -> None:
        if not self._allowed("add_sbar"):
            return
        # Decided: the highlighted row's case, and its practitioner as the one who raised it (a CASPO
        # logs an SBAR for the PP far more often than for anyone else); both can be changed.
        crn = self.highlighted_crn()
        practitioner = (lookup.case_summary(self.ctx, crn).get("practitioner") if crn else None) or ""
        options = self._practitioner_options()
        practitioner = practitioner if practitioner in {v for _l, v in options} else ""
        fields = [
            Field("crn", "CRN", placeholder="X123456", value=crn or ""),
            Field(
                "raised_by", "Raised by", "select", options, "Choose the practitioner", blank=True, value=practitioner
            ),
            Field("situation", "Situation", "textarea", placeholder="What is happening now"),
            Field("background", "Background", "textarea", placeholder="What led to it"),
            Field("assessment", "Assessment", "textarea", placeholder="The practitioner's view of the risk"),
            Field("recommendation", "Recommendation", "textarea", placeholder="What they propose"),
            Field("urgency", "Urgency", "select", _enum_options(SbarUrgency), value=SbarUrgency.ROUTINE.value),
        ]
        self._form("Log an SBAR on behalf of a practitioner", fields, lambda v: intake.raise_sbar(self.ctx, **v))

    def action_add_countersign(self) -> None:
        if not self._allowed("add_countersign"):
            return
        fields = [
            Field("crn", "CRN", placeholder="X123456"),
            Field(
                "kind",
                "Kind",
                "select",
                [(k.label, k.value) for k in CountersignKind],
                value=CountersignKind.OASYS.value,
            ),
            Field("author", "Author", "select", self._practitioner_options(), "Choose who wrote it", blank=True),
            Field("court_date", "Court date", "date", placeholder="PSRs: e.g. fri, 25/12 (otherwise blank)"),
            Field("link", "Link", placeholder="Where to read it (optional)"),
        ]

        def submit(v: dict) -> ActionResult:
            return intake.add_countersign(
                self.ctx,
                v["crn"],
                v["kind"],
                v["author"],
                court_date=v["court_date"] or None,
                link=v["link"].strip() or None,
            )

        self._form("Put work in the countersigning queue", fields, submit)

    def action_add_task(self) -> None:
        if not self._allowed("add_task"):
            return
        fields = [
            Field("title", "Title", placeholder="e.g. Heating broken in interview room 2"),
            Field(
                "category",
                "Category",
                "select",
                [(c.label, c.value) for c in TaskCategory],
                value=TaskCategory.BUILDINGS.value,
            ),
            Field("details", "Details", "textarea", placeholder="Anything the person doing it needs to know"),
            Field("due", "Due", "date", placeholder="blank: the category's target, or e.g. fri, 3d"),
        ]

        def submit(v: dict) -> ActionResult:
            return intake.add_task(self.ctx, v["title"], v["category"], details=v["details"], due=v["due"] or None)

        self._form("Add a non-operational task", fields, submit)

    def action_add_alert(self) -> None:
        if not self._allowed("add_alert"):
            return
        fields = [
            Field("crn", "CRN", placeholder="X123456"),
            Field(
                "source", "Source", "select", [(s.label, s.value) for s in AlertSource], value=AlertSource.ARREST.value
            ),
            Field("details", "Details", "textarea", placeholder="What happened, when, who told us"),
        ]
        self._form("Log an immediate-risk alert", fields, lambda v: intake.add_alert(self.ctx, **v))

    def _case_fields(self, case: dict[str, Any] | None = None) -> list[Field]:
        c = case or {}
        return [
            Field("name", "Name", placeholder="Full name", value=c.get("name") or ""),
            Field(
                "practitioner",
                "Practitioner",
                "select",
                self._practitioner_options(c.get("practitioner")),
                "Choose the practitioner",
                value=c.get("practitioner") or "",
                blank=True,
            ),
            Field("rosh", "RoSH", "select", _rosh_options(), value=c.get("rosh") or RoSH.LOW.value),
            Field(
                "sentence_type",
                "Sentence",
                "select",
                [(label, s.value) for s, label in _SENTENCE_LABELS.items()],
                value=c.get("sentence_type") or SentenceType.COMMUNITY_ORDER.value,
            ),
            Field(
                "sentence_start",
                "Sentence start",
                "date",
                direction="past",
                placeholder="e.g. 01/10/2026",
                value=_uk(c.get("sentence_start")),
            ),
            Field(
                "sentence_end",
                "Sentence end",
                "date",
                direction="nearest",
                placeholder="optional",
                value=_uk(c.get("sentence_end")),
            ),
            Field(
                "likelihood",
                "Likelihood",
                "select",
                _likelihood_options(),
                "not known",
                value=c.get("likelihood") or "",
                blank=True,
            ),
            Field(
                "mappa_category",
                "MAPPA category",
                "select",
                _MAPPA_CATEGORIES,
                "none",
                value=str(c["mappa_category"]) if c.get("mappa_category") else "",
                blank=True,
            ),
            Field(
                "mappa_level",
                "MAPPA level",
                "select",
                _MAPPA_LEVELS,
                "none",
                value=str(c["mappa_level"]) if c.get("mappa_level") else "",
                blank=True,
            ),
            Field("tier", "Tier", placeholder="e.g. B2 (optional)", value=c.get("tier") or ""),
        ]

    def action_add_case(self) -> None:
        if not self._allowed("add_case"):
            return
        fields = [Field("crn", "CRN", placeholder="X123456"), *self._case_fields()]

        def submit(v: dict) -> ActionResult:
            return intake.add_case(
                self.ctx,
                v["crn"],
                v["name"],
                v["practitioner"],
                v["rosh"],
                v["sentence_type"],
                v["sentence_start"],
                sentence_end=v["sentence_end"] or None,
                likelihood=v["likelihood"] or None,
                mappa_category=v["mappa_category"] or None,
                mappa_level=v["mappa_level"] or None,
                tier=v["tier"] or None,
            )

        self._form("Add a case", fields, submit)

    def action_add_transfer(self) -> None:
        if not self._allowed("add_transfer"):
            return
        fields = [
            Field("crn", "CRN", placeholder="X123456"),
            Field("direction", "Direction", "select", [("Transfer in", "in"), ("Transfer out", "out")], value="out"),
            Field("other_area", "Other area", placeholder="The other PDU or region"),
            Field("due", "Due", "date", placeholder="optional, e.g. 2w, 25/12"),
            Field("note", "Note", placeholder="optional"),
        ]

        def submit(v: dict) -> ActionResult:
            return admin.add_transfer(
                self.ctx, v["crn"], v["direction"], v["other_area"], due=v["due"] or None, note=v["note"]
            )

        self._form("Track a transfer in or out", fields, submit)

    def action_add_absence(self) -> None:
        if not self._allowed("add_absence"):
            return
        fields = [
            Field(
                "who",
                "Who",
                "select",
                [(s["name"], s["name"]) for s in lookup.staff(self.ctx)],
                "Choose who",
                blank=True,
            ),
            Field("start", "From", "date", direction="nearest", placeholder="e.g. today, mon, 25/12"),
            Field("end", "To", "date", direction="nearest", placeholder="blank: one day"),
            Field("reason", "Reason", placeholder="e.g. annual leave, sickness, training"),
        ]

        def submit(v: dict) -> ActionResult:
            return admin.add_absence(self.ctx, v["who"], v["start"], v["end"] or None, v["reason"])

        self._form("Record a staff absence", fields, submit)

    # --- Corrections -------------------------------------------------------------------------------

    def action_edit_case(self) -> None:
        from spo_tui.screens.prompts import PromptScreen

        if not self._allowed("edit_case"):
            return
        found: list[dict[str, Any]] = []

        def check(text: str) -> None:
            found.append(lookup.case_summary(self.ctx, normalise_crn(text)))

        def open_form(text: str | None) -> None:
            if text and found:
                self._edit_case_form(found[-1])

        self.app.push_screen(
            PromptScreen("Edit which case?", "CRN, e.g. X123456", value=self.highlighted_crn() or "", submit=check),
            open_form,
        )

    def _edit_case_form(self, case: dict[str, Any]) -> None:
        crn = case["crn"]
        self._form(
            f"Correct case {crn} {case['name']}",
            self._case_fields(case),
            lambda v: admin.update_case(self.ctx, crn, **v),
            changed_only=True,
        )

    def action_edit_sbar(self) -> None:
        from spo_tui.services.queue import build_queue

        if not self._allowed("edit_sbar"):
            return
        waiting: dict[str, dict[str, Any]] = {}
        for entry in build_queue(self.ctx, kind="sbar"):
            item = lookup.item_detail(self.ctx, entry.id)
            if item["detail"].get("state") == SbarState.RAISED.value:
                waiting[entry.id] = item
        if not waiting:
            self.notify("No SBAR is waiting for the SPO: there is nothing to correct", severity="warning", markup=False)
            return
        choices = [
            (item_id, f"{item['crn']} {item.get('raised_by_name') or ''}: {item['title']}")
            for item_id, item in waiting.items()
        ]
        self._choose("Correct which SBAR?", choices, lambda item_id: self._edit_sbar_form(waiting[item_id]))

    def _edit_sbar_form(self, item: dict[str, Any]) -> None:
        d = item["detail"]
        fields = [
            Field("title", "Title", value=item["title"]),
            Field("situation", "Situation", "textarea", value=d.get("situation") or ""),
            Field("background", "Background", "textarea", value=d.get("background") or ""),
            Field("assessment", "Assessment", "textarea", value=d.get("assessment") or ""),
            Field("recommendation", "Recommendation", "textarea", value=d.get("recommendation") or ""),
            Field(
                "urgency",
                "Urgency",
                "select",
                _enum_options(SbarUrgency),
                value=d.get("urgency") or SbarUrgency.ROUTINE.value,
            ),
        ]
        who = item.get("raised_by_name") or "the practitioner"
        self._form(
            f"Correct the SBAR on {item['crn']} from {who}",
            fields,
            lambda v: admin.update_sbar(self.ctx, item["id"], **v),
            changed_only=True,
        )

    # --- Export for nDelius -----------------------------------------------------------------------

    def action_export_ndelius(self) -> None:
        """Write the entries not yet in nDelius to ``ndelius-DATE-TIME.txt`` beside the database (as
        ``spo-tui export oversight --output FILE`` does), marking them entered only if the CASPO says
        so: marking keeps them out of the next export, and ``spo-tui export unmark`` takes it back."""
        if not self._allowed("export_ndelius"):
            return
        from spo_tui.services import export

        waiting = len(export.pending_oversight(self.ctx))
        if not waiting:
            self.notify("Every oversight entry is already marked entered in nDelius: nothing to export", markup=False)
            return
        name = f"ndelius-{self.ctx.now.astimezone(LONDON):%Y-%m-%d-%H%M}.txt"
        path = self.app.db_path.resolve().parent / name
        entries = f"{waiting} entr{'y' if waiting == 1 else 'ies'}"

        def chosen(value: str) -> None:
            try:
                done = export.export_oversight_to_file(self.ctx, path, fmt="text", mark_entered=value == "mark")
            except SpoError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            marked = (
                f"; marked entered as batch {done.batch_id[:8]}"
                if done.batch_id
                else "; not marked: they will be in the next export too"
            )
            self.notify(f"{done.count} written to {done.path}{marked}", markup=False, timeout=8)

        self._choose(
            f"Export {entries} not yet in nDelius to {name}",
            [
                ("mark", "Write the file and mark them entered (they leave the next export)"),
                ("file", "Write the file only (mark them later)"),
            ],
            chosen,
        )

    # --- Import ----------------------------------------------------------------------------------

    def action_import_file(self) -> None:
        from spo_tui.screens.prompts import PromptScreen

        if not self._allowed("import_file"):
            return
        if self.importing:
            self.notify("An import is already running", severity="warning", markup=False)
            return

        def ask_path(kind: str) -> None:
            def check(text: str) -> None:
                path = Path(text.strip()).expanduser()
                if not path.is_file():
                    raise ValidationError(f"no file at {path}", field="path")

            def chosen(text: str | None) -> None:
                if text:
                    self.start_import(kind, str(Path(text.strip()).expanduser()), dry_run=True)

            label = dict(IMPORT_KINDS)[kind]
            self.app.push_screen(
                PromptScreen(f"Import {label.lower()}: the CSV file", "e.g. ~/Downloads/extract.csv", submit=check),
                chosen,
            )

        self._choose("Import which extract?", list(IMPORT_KINDS), ask_path)

    def start_import(self, kind: str, path: str, *, dry_run: bool) -> None:
        """Check (dry run) or import ``path`` in a thread, with the progress bar showing."""
        self.importing = True
        verb = "Checking" if dry_run else "Importing"
        self.query_one("#import-label", Label).update(visible(f"{verb} {Path(path).name}", lines=False))
        self.query_one("#import-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#import-bar").add_class("-running")
        ctx = self.ctx
        self.run_import(kind, path, dry_run, self.app.db_path, ctx.rules, ctx.actor["name"], ctx.clock)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import")
    def run_import(self, kind: str, path: str, dry_run: bool, db_path: Path, rules, actor: str, clock) -> None:
        """On a connection of this thread's own (a sqlite connection cannot cross threads)."""
        from spo_tui.services.context import make_context
        from spo_tui.services.importer import import_file
        from spo_tui.store.db import open_db

        app = self.app

        def progress(done: int, total: int) -> None:
            app.call_from_thread(self._show_progress, done, total)

        db = open_db(db_path, migrate=False)
        try:
            report = import_file(
                make_context(db, rules, actor, clock=clock),
                kind,
                path,
                dry_run=dry_run,
                progress=progress,
                refresh=True,
            )
        finally:
            db.close()
        self.post_message(self.ImportFinished(kind, path, dry_run, report))

    def _show_progress(self, done: int, total: int) -> None:
        self.query_one("#import-progress", ProgressBar).update(total=max(total, 1), progress=done)

    def _import_stopped(self) -> None:
        self.importing = False
        self.query_one("#import-bar").remove_class("-running")

    def on_admin_screen_import_finished(self, message: ImportFinished) -> None:
        self._import_stopped()
        report = message.report
        if not message.dry_run:
            summary = report.render(limit=0).splitlines()[0]
            made = report.made_line()  # touch points the new cases made due, and how many are catch-up
            self.notify(
                summary + (f"\n{made}" if made else ""),
                severity="information" if report.ok else "error",
                markup=False,
                timeout=10 if made else 6,
            )
            self.reload()
            if report.ok and (report.added or report.updated):
                self.refresh_due_work()  # new cases and dates can make touch points due
            return

        def after_report(go_on: bool | None) -> None:
            if not (go_on and report.ok):
                return
            if not (report.added or report.updated):
                self.notify("Nothing to import: every row is already in the store", markup=False)
                return
            from spo_tui.screens.prompts import ConfirmScreen

            question = f"Import {report.rows:,} rows? ({report.added:,} to add, {report.updated:,} to update)"
            self.app.push_screen(
                ConfirmScreen(question),
                lambda yes: self.start_import(message.kind, message.path, dry_run=False) if yes else None,
            )

        hint = "enter continue · c copy · esc close" if report.ok else "c copy · esc close: nothing was written"
        self.app.push_screen(TextScreen("Import check", report.render(), hint), after_report)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed: say why (an import's unreadable file, a missing column...)."""
        if event.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        if event.worker.group == "import":
            self._import_stopped()
            error = event.worker.error
            if event.state == WorkerState.ERROR:
                message = str(error) if isinstance(error, SpoError) else f"Import failed: {error}"
                self.notify(message, severity="error", markup=False, timeout=8)
        else:
            super().on_worker_state_changed(event)

    # --- Going elsewhere -------------------------------------------------------------------------

    def action_today(self) -> None:
        """The SPO's queue, as it was left: a mode of the app (``SpoApp.MODES``)."""
        self.app.switch_mode("today")
