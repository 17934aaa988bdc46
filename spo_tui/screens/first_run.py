"""The first screen on an empty database: create the demo team, or see how to import real data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Static

from spo_tui.domain.text import visible

if TYPE_CHECKING:
    from textual import getters

    from spo_tui.app import SpoApp

IMPORT_HELP = (
    "Import your own data from the command line, staff first:\n"
    "\n"
    "    spo-tui import staff FILE\n"
    "    spo-tui import cases FILE\n"
    "\n"
    "then start spo-tui again: you act as the staff file's SPO, and link\n"
    "others with: spo-tui staff link NAME --os-user LOGIN"
)


class FirstRunScreen(Screen):
    """An empty database: explain, and offer the demo team (d), import instructions (i) or quit (q)."""

    if TYPE_CHECKING:
        app = getters.app(SpoApp)

    CSS_PATH = "first_run.tcss"
    BINDINGS = [
        Binding("d", "demo", "Create demo", id="first_run_demo", tooltip="Create the demo team in this database"),
        Binding("i", "import_help", "Import", id="first_run_import", tooltip="How to import your own staff and cases"),
        Binding("q", "app.quit", "Quit", id="first_run_quit"),
    ]

    def __init__(self, db_path: str | Path) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.building = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="first-run-box"):
            yield Label("Welcome to spo-tui", id="first-run-title")
            yield Static(
                f"This database is empty: it has no staff and no cases yet ({self.db_path}).\n"
                "Start with a made-up demo team to try it out, or import your own team's data.",
                id="first-run-intro",
                markup=False,
            )
            yield Static("d  Create the demo team here", classes="first-run-choice", markup=False)
            yield Static("i  Import your own data", classes="first-run-choice", markup=False)
            yield Static("q  Quit", classes="first-run-choice", markup=False)
            yield Static(IMPORT_HELP, id="first-run-import", markup=False)
            yield Static("", id="first-run-status", markup=False)
        yield Footer()

    def _status(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#first-run-status", Static)
        status.update(visible(message))
        status.set_class(bool(message), "-shown")
        status.set_class(error, "-error")

    def action_import_help(self) -> None:
        self.query_one("#first-run-import", Static).add_class("-shown")

    def action_demo(self) -> None:
        if self.building:
            return
        if self.app.demo_builder is None:
            self._status(
                "The demo builder is not available in this installation: import your own data instead.", error=True
            )
            return
        self.building = True
        self._status("Creating the demo team…")
        self.build_demo()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def build_demo(self) -> None:
        """Run the demo builder off the main thread (it opens its own connection), then start the app."""
        builder = self.app.demo_builder
        assert builder is not None  # action_demo checked
        try:
            builder(self.db_path)
        except Exception as error:  # never a traceback on the first screen
            self.app.call_from_thread(self._failed, f"{type(error).__name__}: {error}")
            return
        self.app.call_from_thread(self.app.start)

    def _failed(self, message: str) -> None:
        self.building = False
        self._status(f"The demo could not be created: {message}", error=True)
