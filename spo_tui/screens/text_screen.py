"""A modal of text to read and copy: an import check's report, a touch-point reminder."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from spo_tui.domain.text import visible


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
