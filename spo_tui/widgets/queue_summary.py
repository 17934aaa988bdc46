"""Counts per queue for the header line; overdue counts stand out."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from spo_tui.commands import FILTERS


class QueueSummary(Static):
    """``Alerts 2 · SBARs 6 · Touch points 14 (5 overdue) …``; empty queues are left out.

    Never cut: where the line is wider than the screen it wraps, between one queue's count and the
    next (never inside "Actions 6 (2 overdue)"), onto as many lines as it needs.
    """

    DEFAULT_CSS = """
    QueueSummary { height: auto; }
    """
    #: Theme variables: $text-error is the theme's error colour made readable as text on its panels.
    OVERDUE_STYLE = "$text-error bold"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._counts: dict[str, tuple[int, int]] = {}

    def show(self, counts: dict[str, tuple[int, int]]) -> None:
        self._counts = counts
        self.refresh(layout=True)

    def _pieces(self) -> list[Content]:
        pieces = []
        for _name, label, kind in FILTERS[1:]:  # kinds, then Waiting
            if kind is None:
                continue
            count, overdue = self._counts.get(kind, (0, 0))
            if not count:
                continue
            piece = Content.assemble((label, "bold"), f" {count}")
            if overdue:
                piece += Content.assemble(" ", (f"({overdue} overdue)", self.OVERDUE_STYLE))
            pieces.append(piece)
        return pieces

    def render(self) -> Content:
        pieces = self._pieces()
        if not pieces:
            return Content("Nothing waiting: the queue is clear.")
        width = max(self.content_region.width, 20)
        lines: list[Content] = []
        line = pieces[0]
        for piece in pieces[1:]:
            if line.cell_length + 3 + piece.cell_length <= width:
                line = line + Content(" · ") + piece
            else:
                lines.append(line)
                line = piece
        lines.append(line)
        return Content("\n").join(lines)
