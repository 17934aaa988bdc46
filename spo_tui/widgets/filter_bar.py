"""The filter line over the queue: each view with its number key, the current one marked."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.style import Style
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
        & > .filter-bar--active { color: $foreground; background: $primary-muted; text-style: bold underline; }
        & > .filter-bar--inactive { color: $foreground 75%; }
    }
    """
    COMPONENT_CLASSES = {"filter-bar--active", "filter-bar--inactive"}

    active: reactive[str] = reactive("all")

    #: Labels for a terminal too narrow for the full ones (80 columns).
    SHORT = {"touch_point": "Touch", "countersign": "Sign", "supervision": "Superv"}

    def render(self) -> Content:
        full = self._line(short=False)
        return full if full.cell_length <= self.content_region.width else self._line(short=True)

    def _line(self, *, short: bool) -> Content:
        pieces = []
        styles = {active: Style.from_rich_style(self.get_component_rich_style(f"filter-bar--{'active' if active else 'inactive'}"))
                  for active in (True, False)}  # fmt: skip
        for n, (name, label, _kind) in enumerate(FILTERS):
            label = self.SHORT.get(name, label) if short else label
            pad = "" if short else " "
            piece = Content.from_markup(f"[@click=screen.filter('{name}')]{pad}{n} {label}{pad}[/]")
            pieces.append(piece.stylize_before(styles[name == self.active]))
        return Content(" ").join(pieces)
