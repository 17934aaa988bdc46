"""Every key on every screen, from the one list of commands."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from spo_tui.commands import ALL_COMMANDS, SYNC_NOW, Command, key_in_force
from spo_tui.domain import permissions
from spo_tui.widgets.header import AppHeader

#: Keys that work everywhere: (key, what it does).
GLOBAL_KEYS: tuple[tuple[str, str, str], ...] = (
    ("ctrl+p", "Command palette", "Find any command by name, or go to a case by CRN"),
    ("?", "Help", "This screen: every key on every screen"),
    ("q", "Quit", "Leave spo-tui (on the queue)"),
    ("esc", "Back", "Back to the previous screen, or cancel a form"),
    ("ctrl+s", "Save", "Save the form you are typing in"),
)


def command_key(command: Command, keymap: dict[str, str] | None = None) -> str:
    """How the key in force reads: the user's own from their keymap, else the display name if the
    command has one, else the key itself."""
    return key_in_force(command, keymap)


def help_text(command: Command) -> str:
    """The command's help, marked "(SPO only)" when only an SPO may use it (``domain.permissions``):
    a CASPO pressing it is told why it is refused."""
    if command.permission and permissions.spo_only(command.permission):
        return f"{command.help} (SPO only)"
    if command.id == "decide":
        return f"{command.help} (SPO only on an SBAR or alert)"
    return command.help


def key_table(rows: list[tuple[str, str, str]]) -> Table:
    table = Table(box=None, show_header=False, expand=True, padding=(0, 1), pad_edge=False)
    table.add_column("key", width=8, no_wrap=True, style="bold")
    table.add_column("command", width=16)
    table.add_column("help", ratio=1)
    for key, description, help_text in rows:
        table.add_row(Text(key), Text(description), Text(help_text))
    return table


class HelpScreen(Screen):
    """Every command grouped by screen, then the keys that work everywhere. Esc, q or ? closes it."""

    CSS_PATH = "help.tcss"
    AUTO_FOCUS = "#help-body"
    BINDINGS = [
        Binding("escape", "close", "Close", id="help_close", key_display="esc"),
        Binding("q", "close", "Close", show=False, id="help_close_q"),
        Binding("question_mark", "close", "Close", show=False, id="help_close_question", key_display="?"),
    ]

    def compose(self) -> ComposeResult:
        keymap = getattr(self.app, "user_keymap", None)
        yield AppHeader()
        with VerticalScroll(id="help-body"):
            yield Label("Every key, by screen", classes="help-title")
            for screen_name, commands in ALL_COMMANDS.items():
                yield Label(screen_name, classes="help-section", markup=False)
                yield Static(
                    key_table([(command_key(c, keymap), c.description, help_text(c)) for c in commands]),
                    classes="help-keys",
                )
            yield Label("Everywhere", classes="help-section")
            everywhere = list(GLOBAL_KEYS)
            if getattr(self.app, "sync_status", None) is not None:  # a store with a hub
                everywhere.append((command_key(SYNC_NOW, keymap), "Sync now", SYNC_NOW.help))
            yield Static(key_table(everywhere), classes="help-keys")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Help"

    def action_close(self) -> None:
        self.app.pop_screen()
