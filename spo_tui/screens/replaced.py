"""Shown over everything when the database file was replaced while the app had it open."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import ModalScreen
from textual.widgets import Label


class StoreReplacedScreen(ModalScreen[None]):
    """Says what happened and that nothing more is saved; q (or Enter, or Esc) quits with status 2.
    Also shown when the start-up check finds the database damaged (``SpoApp.on_spo_app_store_damaged``)."""

    DEFAULT_CSS = """
    StoreReplacedScreen { align: center middle; background: $background; }
    StoreReplacedScreen Label { color: $error; text-align: center; width: 80%; }
    """
    BINDINGS = [
        Binding("q", "quit_app", "Quit", id="replaced_quit"),
        Binding("enter", "quit_app", "Quit", show=False, id="replaced_enter"),
        Binding("escape", "quit_app", "Quit", show=False, id="replaced_escape"),
    ]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Label(f"{self.message}\n\nPress q to quit.", id="replaced-message", markup=False)

    def action_quit_app(self) -> None:
        farewell = f"spo-tui: {self.message}"
        if hasattr(self.app, "farewell"):  # printed as it is once the app has closed (``cmd_tui``)
            self.app.farewell = farewell
            self.app.exit(return_code=2)
        else:
            self.app.exit(return_code=2, message=farewell)
