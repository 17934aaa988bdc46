"""Shown instead of a garbled screen when the terminal is smaller than the app can draw."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import ModalScreen
from textual.widgets import Label


class TooSmallScreen(ModalScreen[None]):
    """Says how big the terminal must be; goes away by itself when it is big enough."""

    DEFAULT_CSS = """
    TooSmallScreen { align: center middle; background: $background; }
    TooSmallScreen Label { color: $warning; text-align: center; width: auto; }
    """

    def __init__(self, minimum: tuple[int, int]) -> None:
        super().__init__()
        self.minimum = minimum

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Label(
                f"The terminal is too small.\nspo-tui needs at least {self.minimum[0]}×{self.minimum[1]}.",
                id="too-small",
                markup=False,
            )
