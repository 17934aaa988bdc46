"""The filter line over the queue: each view with its number key, the current one marked."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from spo_tui.commands import FILTERS


class FilterBar(Static):
    """``0 All  1 Alerts  2 SBARs …``; a click runs the screen's ``filter`` action, as the key does.

    One line of text rather than a Tabs widget of nine tabs: the same information, drawn at a
    fraction of the start-up cost.
    """

    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        padding: 0 1;
        link-style: none;
        link-style-hover: underline;
        link-background-hover: transparent;
    }
    """

    active: reactive[str] = reactive("all")

    #: Labels for a terminal too narrow for the full ones (80 columns).
    SHORT = {"touch_point": "Touch", "countersign": "Sign", "supervision": "Superv", "confirm": "Confirm"}

    def render(self) -> Content:
        full = self._line(short=False)
        return full if full.cell_length <= self.content_region.width else self._line(short=True)

    def _line(self, *, short: bool) -> Content:
        pieces = []
        for n, (name, label, _kind) in enumerate(FILTERS):
            label = self.SHORT.get(name, label) if short else label
            style = "bold $text on $primary" if name == self.active else "$text-muted"
            pad = "" if short else " "
            pieces.append(Content.from_markup(f"[{style} @click=screen.filter('{name}')]{pad}{n} {label}{pad}[/]"))
        return Content(" ").join(pieces)
