"""The filter line over the queue: each view with its number key, the current one marked."""

from __future__ import annotations

from functools import lru_cache

from textual.content import Content
from textual.reactive import reactive
from textual.style import Style
from textual.widgets import Static

from spo_tui.commands import FILTER_COMMANDS, FILTERS, key_in_force


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
    SHORT = {"touch_point": "Touch", "countersign": "Sign", "supervision": "Superv", "confirm": "Confirm"}
    #: Labels for when even the short ones do not fit.
    TINY = {
        **SHORT,
        "alert": "Alert",
        "sbar": "SBAR",
        "task": "Task",
        "action": "Act",
        "supervision": "Sup",
        "waiting": "Wait",
        "snoozed": "Snz",
        "catch_up": "Catch",
        "confirm": "Conf",
    }
    #: The last resort: twelve views in 78 cells (an 80-column terminal); help names them in full.
    MICRO = {**TINY, "alert": "Alrt", "touch_point": "TP", "catch_up": "CU"}

    def render(self) -> Content:
        """The widest form of the line that fits: full labels spaced out, full labels, short, tiny, micro."""
        width = self.content_region.width
        for labels, pad in (({}, " "), ({}, ""), (self.SHORT, ""), (self.TINY, ""), (self.MICRO, "")):
            line = self._line(labels, pad)
            if line.cell_length <= width:
                return line
        return line

    def _line(self, labels: dict[str, str], pad: str) -> Content:
        pieces = []
        styles = {
            active: Style.from_rich_style(
                self.get_component_rich_style(f"filter-bar--{'active' if active else 'inactive'}")
            )
            for active in (True, False)
        }
        keymap = getattr(self.app, "user_keymap", None)
        for (name, label, _kind), command in zip(FILTERS, FILTER_COMMANDS, strict=True):
            piece = _piece(name, labels.get(name, label), pad, key_in_force(command, keymap))
            pieces.append(piece.stylize_before(styles[name == self.active]))
        return Content(" ").join(pieces)


@lru_cache(maxsize=256)
def _piece(name: str, label: str, pad: str, key: str) -> Content:
    """One view's label with its key, a click on it running the filter: made once, not parsed from
    markup again at each redraw of the line (13 labels, at up to five widths tried)."""
    return Content.from_markup(f"[@click=screen.filter('{name}')]{pad}$key {label}{pad}[/]", key=key)
