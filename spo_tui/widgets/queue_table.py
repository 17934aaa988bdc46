"""The triaged queue as a table: one row per item, keyed by item id (see ``LineTable``)."""

from __future__ import annotations

from datetime import date

from spo_tui.domain.vocab import ItemKind, RoSH
from spo_tui.services.queue import QueueEntry
from spo_tui.widgets.line_table import Cell, Column, LineTable

#: Cell styles: component classes of ``QueueTable``, coloured in its CSS with the theme's variables.
ROSH_STYLE = {
    "VERY_HIGH": ".queue-table--rosh-very-high",
    "HIGH": ".queue-table--rosh-high",
    "MEDIUM": ".queue-table--rosh-medium",
    "LOW": "",
}


def cells_of(entry: QueueEntry, today: date) -> tuple[Cell, ...]:
    """What a queue row shows, column by column."""
    r = entry.row
    due = entry.due
    kind = ItemKind(r.kind)
    return (
        (kind.label, "bold" if kind == ItemKind.ALERT else ""),
        (entry.due_text(today), ".queue-table--overdue" if due is not None and due < today else ""),
        (RoSH(r.rosh).short if r.rosh else "", ROSH_STYLE.get(r.rosh or "", "")),
        (r.crn or "", ""),
        (_title(entry), ""),
        (r.name or "", ""),
        (r.practitioner or "", ""),
    )


def _title(entry: QueueEntry) -> str:
    """The title, led in the Waiting and Snoozed views by on whom and since when, or until when."""
    r = entry.row
    if r.status == "waiting":
        since = f" since {date.fromisoformat(r.waiting_since[:10]):%d/%m}" if r.waiting_since else ""
        return f"[{r.waiting_on or 'someone else'}{since}] {r.title}"
    if r.status == "snoozed" and r.snoozed_until:
        return f"[snoozed to {date.fromisoformat(r.snoozed_until):%a %d/%m}] {r.title}"
    return r.title


class QueueTable(LineTable):
    """Rows of the queue; the screen hands entries down with ``show_entries`` and ``add_entries``.

    Colours come from the theme's text colours ($text-error, $text-warning), which are made to be
    read on its surfaces (4.5:1 or better in textual-dark and textual-light); on the cursor row the
    cursor's own colours apply and the cells keep only their weight (``LineTable._cursor_style``).
    """

    COMPONENT_CLASSES = LineTable.COMPONENT_CLASSES | {
        "queue-table--overdue",
        "queue-table--rosh-very-high",
        "queue-table--rosh-high",
        "queue-table--rosh-medium",
    }

    DEFAULT_CSS = """
    QueueTable {
        & > .queue-table--overdue { color: $text-error; text-style: bold; }
        & > .queue-table--rosh-very-high { color: $text-error; text-style: bold; }
        & > .queue-table--rosh-high { color: $text-error; }
        & > .queue-table--rosh-medium { color: $text-warning; }
        &:light > .queue-table--rosh-medium { color: $warning-darken-3; }
    }
    """

    # Most telling first. The title takes the width left over, at least 28 cells; the case name and
    # the practitioner fit beside it from 120 columns, and below that are reached by scrolling
    # sideways (→), as before: hidden outright they could not be seen at all.
    COLUMNS = (
        Column("Kind", 11),
        Column("Due", 12),
        Column("RoSH", 4),
        Column("CRN", 7),
        Column("Title", 28, flex=True),
        Column("Name", 16),
        Column("PP", 16),
    )

    def __init__(self, *, show_team: bool = False, **kwargs) -> None:
        """``show_team``: a Team column after Kind, for a PDU head who sees every team's work."""
        columns = (self.COLUMNS[0], Column("Team", 8), *self.COLUMNS[1:]) if show_team else None
        super().__init__(columns, **kwargs)
        self.show_team = show_team

    def _row_cells(self, entry: QueueEntry, today: date) -> tuple[Cell, ...]:
        cells = cells_of(entry, today)
        return (cells[0], (entry.row.team or "", ""), *cells[1:]) if self.show_team else cells

    def show_entries(self, entries: list[QueueEntry], today: date, keep_row: int | None = None) -> None:
        """Replace the rows, putting the cursor back on the same row number (the next item)."""
        self.set_rows([(e.id, self._row_cells(e, today)) for e in entries], keep_row)

    def add_entries(self, entries: list[QueueEntry], today: date) -> None:
        """Add rows for ``entries`` at the end."""
        self.add_rows([(e.id, self._row_cells(e, today)) for e in entries])
