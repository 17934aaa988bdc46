"""A checkbox that shows its state by its mark, not by colour alone."""

from __future__ import annotations

from textual.widgets import Checkbox


class TickBox(Checkbox):
    """Textual's Checkbox draws an X whether ticked or not (only its colour changes, which a compact
    box, a light theme or a colour-blind user loses): this one shows ``X`` when ticked and a blank
    when not."""

    @property
    def BUTTON_INNER(self) -> str:  # type: ignore[override]
        return "X" if self.value else " "
