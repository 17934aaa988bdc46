"""Every key on every screen, from the one list of commands."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from spo_tui.commands import ALL_COMMANDS, SYNC_NOW, Command, key_in_force
from spo_tui.domain import permissions
from spo_tui.screens.kept import KeptScreen
from spo_tui.screens.sizing import take_breakpoints
from spo_tui.widgets.footer import QuietFooter
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


class HelpScreen(KeptScreen):
    """Every command grouped by screen, then the keys that work everywhere. Esc, q or ? closes it."""

    CSS_PATH = "help.tcss"
    AUTO_FOCUS = "#help-body"
    BINDINGS = [
        Binding("escape", "close", "Close", id="help_close", key_display="esc"),
        Binding("q", "close", "Close", show=False, id="help_close_q"),
        Binding("question_mark", "close", "Close", show=False, id="help_close_question", key_display="?"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: What the keys shown depend on (``shows``), as composed; None until then.
        self.shown: tuple | None = None

    @staticmethod
    def shows(app: App) -> tuple:
        """What the screen shows depends on besides the commands: the user's keymap, and whether the
        store has a hub (the sync key). The app keeps one help screen while this stays the same."""
        keymap = getattr(app, "user_keymap", None)
        return tuple(sorted((keymap or {}).items())), getattr(app, "sync_status", None) is not None

    def compose(self) -> ComposeResult:
        take_breakpoints(self)
        keymap = getattr(self.app, "user_keymap", None)
        self.shown = self.shows(self.app)
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
            if self.shown[1]:  # a store with a hub
                everywhere.append((command_key(SYNC_NOW, keymap), "Sync now", SYNC_NOW.help))
            yield Static(key_table(everywhere), classes="help-keys")
        yield QuietFooter()

    def on_mount(self) -> None:
        self.title = "Help"

    def reopen(self) -> None:
        """Shown again (the app keeps this screen): from the top, as when it was new."""
        self.query_one("#help-body", VerticalScroll).scroll_to(x=0, y=0, animate=False, immediate=True)

    def action_close(self) -> None:
        self.app.pop_screen()
