"""The admin screen: the CASPO's home, and the SPO's when they do their own admin.

Three lists (the touch-point diary for the next 14 days, MAPPA level 1 reviews coming due,
transfers in progress), forms to add work on the team's behalf (keys 1-7), corrections to a case
or a waiting SBAR, and CSV import in a background thread with a progress bar. Every write goes
through a service; this screen only reads what the services return and shows it.

This module is the shell (what it shows, its keys, going elsewhere). The lists are in
``admin_lists``, the forms and the nDelius export in ``admin_forms``, and the import bar, which runs
its own worker, in ``import_panel``.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Label, Static, TabbedContent, TabPane

from spo_tui.commands import ADMIN_COMMANDS, key_in_force
from spo_tui.screens.admin_forms import AdminForms
from spo_tui.screens.admin_lists import PANE_OF, PANES, TRANSFER_STATUS_LABELS, arranged_text, sent_text
from spo_tui.screens.import_panel import IMPORT_KINDS, ImportPanel
from spo_tui.screens.text_screen import TextScreen
from spo_tui.services import lookup
from spo_tui.widgets.header import AppHeader

__all__ = [
    "IMPORT_KINDS",
    "PANE_OF",
    "PANES",
    "TRANSFER_STATUS_LABELS",
    "AdminScreen",
    "TextScreen",
    "arranged_text",
    "sent_text",
]

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
    "custody": "Custody",
}


class AdminScreen(AdminForms):
    """Diary, MAPPA level 1 reviews and transfers; add or correct work; import extracts."""

    CSS_PATH = "admin.tcss"
    COMMAND_LIST = ADMIN_COMMANDS
    BINDINGS = [c.binding() for c in COMMAND_LIST]

    class DueWorkRefreshed(Message):
        """Rule-made touch points were added in the background; reload the lists."""

    @property
    def importing(self) -> bool:
        """Whether a check or an import of an extract is running."""
        return self.query_one(ImportPanel).importing

    def compose(self) -> ComposeResult:
        yield AppHeader()
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
            with TabPane("R-CAT", id="rcat"):
                yield Static("", id="rcat-done", markup=False)
                yield DataTable(id="rcat-table", cursor_type="row", zebra_stripes=True)
                yield Label(
                    "Every practitioner has had a case audited in the last 12 months.", id="rcat-empty", classes="empty"
                )
        yield ImportPanel(id="import-bar")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Admin"
        self.setup_lists()
        self.query_one("#admin-keys", Static).update(self._keys_hint(_ADD_KEYS, "Add: "))
        self.query_one("#admin-keys-more", Static).update(self._keys_hint(("edit_case", "edit_sbar"), "Correct: "))
        self.reload()
        self.query_one("#diary-table", DataTable).focus()
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

    def _keys_hint(self, actions: tuple[str, ...], lead: str) -> str:
        """The keys among ``actions`` the acting role may use, e.g. ``Add: 1 SBAR  2 Countersign``."""
        keymap = getattr(self.app, "user_keymap", None)
        parts = [
            f"{key_in_force(self._by_action[action], keymap)} {_KEY_WORDS[action]}"
            for action in actions
            if self.permitted(action)
        ]
        return lead + "  ".join(parts) if parts else ""

    def store_changed(self) -> None:
        """Another process changed the store: show its changes."""
        self.reload()

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
        if action not in self._by_action:
            return True
        if self.ctx is None or not self.permitted(action):
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

    # --- Import ----------------------------------------------------------------------------------

    def action_import_file(self) -> None:
        if self._allowed("import_file"):
            self.query_one(ImportPanel).ask()

    def on_import_panel_finished(self, message: ImportPanel.Finished) -> None:
        """An import that wrote: read the lists again; new cases and dates can make touch points due."""
        report = message.report
        if message.dry_run:
            return
        self.reload()
        if report.ok and (report.added or report.updated):
            self.refresh_due_work()

    # --- Going elsewhere -------------------------------------------------------------------------

    def action_today(self) -> None:
        """The SPO's queue, as it was left: a mode of the app (``SpoApp.MODES``)."""
        self.app.switch_mode("today")
