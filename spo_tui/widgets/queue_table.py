"""The triaged queue as a table: one row per item, keyed by item id."""

from __future__ import annotations

from datetime import date

from rich.text import Text
from textual.widgets import DataTable

from spo_tui.domain.vocab import ItemKind, RoSH
from spo_tui.services.queue import QueueEntry

ROSH_STYLE = {"VERY_HIGH": "bold red", "HIGH": "red", "MEDIUM": "yellow", "LOW": ""}


class QueueTable(DataTable):
    """Rows of the queue; the screen hands entries down with ``show_entries``."""

    DEFAULT_CSS = """
    QueueTable { height: 1fr; }
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        # Most telling first, so a narrow terminal still shows what matters.
        self.add_column("Kind", key="kind", width=11)
        self.add_column("Due", key="due", width=11)
        self.add_column("RoSH", key="rosh", width=4)
        self.add_column("CRN", key="crn", width=7)
        self.add_column("Title", key="title", width=30)
        self.add_column("Name", key="name", width=16)
        self.add_column("PP", key="pp", width=16)

    def show_entries(self, entries: list[QueueEntry], today: date, keep_row: int | None = None) -> None:
        """Replace the rows, putting the cursor back on the same row number (the next item)."""
        row = self.cursor_row if keep_row is None else keep_row
        self.clear()
        self.add_entries(entries, today)
        if entries:
            self.move_cursor(row=min(max(row, 0), len(entries) - 1), animate=False)

    def add_entries(self, entries: list[QueueEntry], today: date) -> None:
        """Add rows for ``entries`` at the end."""
        for entry in entries:
            r = entry.row
            due = entry.due
            overdue = due is not None and due < today
            kind = ItemKind(r.kind)
            self.add_row(
                Text(kind.label, style="bold" if kind == ItemKind.ALERT else ""),
                Text(entry.due_text(today), style="bold red" if overdue else ""),
                Text(RoSH(r.rosh).short if r.rosh else "", style=ROSH_STYLE.get(r.rosh or "", "")),
                Text(r.crn or ""),
                Text(r.title),
                Text(r.name or ""),
                Text(r.practitioner or ""),
                key=r.id,
            )
