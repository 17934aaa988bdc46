"""Counts per queue for the header line; overdue counts stand out."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from spo_tui.commands import FILTERS


class QueueSummary(Static):
    """One line: ``Alerts 2 · SBARs 6 · Touch points 14 (5 overdue) …``; empty queues are left out."""

    def show(self, counts: dict[str, tuple[int, int]]) -> None:
        pieces = []
        for _name, label, kind in FILTERS[1:]:  # kinds, then Waiting
            count, overdue = counts.get(kind, (0, 0))
            if not count:
                continue
            piece = Content.assemble((label, "bold"), f" {count}")
            if overdue:
                piece += Content.assemble(" ", (f"({overdue} overdue)", "$error bold"))
            pieces.append(piece)
        self.update(Content(" · ").join(pieces) if pieces else Content("Nothing waiting: the queue is clear."))
