"""A table of fixed-width columns with a row cursor, drawn line by line.

Not a DataTable: that renders every cell through Rich and lays rows out for any content, which
costs tens of milliseconds per repaint. Here columns have fixed widths, each row is kept as its
cells' text and style, and a repaint only turns the lines in view into styled segments, so a new
filter, a search keystroke or a page of 100 more rows shows in the same frame as the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from spo_tui.domain.text import visible


@dataclass(frozen=True)
class Column:
    """A column: ``width`` cells, or at least that many with ``flex`` (it takes the width left over).

    ``drop`` > 0 marks a column left out when the table is too narrow to give the flexible column its
    ``width`` with it shown; the highest ``drop`` goes first. Cells are still given for it.
    """

    label: str
    width: int
    flex: bool = False
    drop: int = 0


#: Blank cells either side of each column's text.
PADDING = 1

Cell = tuple[str, str]  # text, Rich style


def _fit(text: str, width: int) -> str:
    """``text`` cut (with an ellipsis) or padded to exactly ``width`` cells."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


class LineTable(ScrollView, can_focus=True):
    """Rows of cells under a header line; ``set_rows`` and ``add_rows`` fill it."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("home,ctrl+home", "first", "First row", show=False),
        Binding("end,ctrl+end", "last", "Last row", show=False),
    ]

    COMPONENT_CLASSES = {"line-table--header", "line-table--cursor", "line-table--even-row"}

    DEFAULT_CSS = """
    LineTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        & > .line-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .line-table--even-row { background: $surface-lighten-1 50%; }
        &:dark > .line-table--even-row { background: $surface-darken-1 40%; }
        & > .line-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .line-table--cursor {
                background: $block-cursor-background;
                color: auto 100%;  /* the theme's 87% gives 3.8:1 on textual-dark's cursor; 100% gives 4.7:1 */
                text-style: $block-cursor-text-style;
            }
        }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    class _RowMessage(Message):
        def __init__(self, table: LineTable, cursor_row: int, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> LineTable:
            return self.table

    class RowHighlighted(_RowMessage):
        """The cursor moved onto a row."""

    class RowSelected(_RowMessage):
        """Enter (or a click on the highlighted row) chose the row."""

    #: The columns, left to right (a subclass sets them, or pass ``columns``).
    COLUMNS: tuple[Column, ...] = ()

    def __init__(self, columns: tuple[Column, ...] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns = columns or self.COLUMNS
        self._keys: list[str] = []
        self._cells: list[tuple[Cell, ...]] = []
        self._styles: dict[str, Style] = {}
        self._layout_for: int | None = None
        self._layout: tuple[tuple[int, int], ...] = ()  # (column index, width) of the columns shown

    def layout_for(self, width: int) -> tuple[tuple[int, int], ...]:
        """The columns shown at ``width`` cells, as (column index, width): the flexible column takes
        what is left; droppable columns go (highest ``drop`` first) until it has its ``width``."""
        if width == self._layout_for:
            return self._layout
        shown = list(range(len(self.columns)))
        droppable = sorted((c.drop, i) for i, c in enumerate(self.columns) if c.drop > 0)

        def needed() -> int:
            return sum(self.columns[i].width + 2 * PADDING for i in shown)

        while droppable and needed() > width:
            shown.remove(droppable.pop()[1])
        spare = max(width - needed(), 0)
        flexible = [i for i in shown if self.columns[i].flex]
        layout = tuple((i, self.columns[i].width + (spare if flexible and i == flexible[0] else 0)) for i in shown)
        self._layout_for, self._layout = width, layout
        return layout

    def shown_labels(self) -> list[str]:
        """The labels of the columns shown at the table's present width (for tests)."""
        return [self.columns[i].label for i, _w in self.layout_for(self.scrollable_content_region.width)]

    # --- Rows ------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    def row_key(self, row: int) -> str:
        return self._keys[row]

    def row_text(self, row: int) -> list[str]:
        """The row's cells as shown (for tests and screen readers)."""
        return [text for text, _style in self._cells[row]]

    def row_cells(self, row: int) -> tuple[Cell, ...]:
        """The row's cells: (text, Rich style) each."""
        return self._cells[row]

    def set_rows(self, rows: list[tuple[str, tuple[Cell, ...]]], keep_row: int | None = None) -> None:
        """Replace the rows (key, cells), putting the cursor back on the same row number."""
        row = self.cursor_row if keep_row is None else keep_row
        self._keys = []
        self._cells = []
        self.add_rows(rows)
        self.scroll_to(y=0, animate=False, immediate=True)
        self.move_cursor(row=row)

    def add_rows(self, rows: list[tuple[str, tuple[Cell, ...]]]) -> None:
        """Add rows (key, cells) at the end.

        A cell's text is drawn as it is, never read as markup; a control character in it (an
        escape, a line break) is shown as an escape (``\\x1b``, ``domain.text.visible``).
        """
        for key, cells in rows:
            self._keys.append(key)
            if not all(text.isprintable() for text, _style in cells):
                cells = tuple((visible(text, lines=False), style) for text, style in cells)
            self._cells.append(cells)
        self.virtual_size = Size(self._line_width(), len(self._keys) + 1)
        self.refresh()

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        """Put the cursor on ``row`` (kept within the rows) and scroll it into view."""
        self.cursor_row = min(max(row, 0), max(len(self._keys) - 1, 0))

    def validate_cursor_row(self, row: int) -> int:
        return min(max(row, 0), max(len(self._keys) - 1, 0))

    def watch_cursor_row(self, old: int, new: int) -> None:
        top = round(self.scroll_y)
        self._scroll_cursor_into_view()
        if round(self.scroll_y) == top:
            # Only the row the cursor left and the one it is on are drawn again (and written to the
            # terminal): a whole table's lines for each arrow press is several times the output.
            width = self.size.width
            self.refresh(*(Region(0, row - top + 1, width, 1) for row in {old, new}))
        else:
            self.refresh()
        if self._keys:
            self.post_message(self.RowHighlighted(self, new, self._keys[new]))

    def _scroll_cursor_into_view(self) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)  # less the header line
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self.virtual_size = Size(self._line_width(), len(self._keys) + 1)
        self._scroll_cursor_into_view()
        self.refresh()

    # --- Keys and mouse --------------------------------------------------------------------------

    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 2, 1)

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up(self) -> None:
        self.cursor_row -= self._page()

    def action_page_down(self) -> None:
        self.cursor_row += self._page()

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = len(self._keys) - 1

    def action_select_cursor(self) -> None:
        if self._keys:
            self.post_message(self.RowSelected(self, self.cursor_row, self._keys[self.cursor_row]))

    def on_click(self, event: events.Click) -> None:
        row = round(self.scroll_y) + event.y - 1
        if event.y < 1 or row >= len(self._keys):
            return
        if row == self.cursor_row:
            self.action_select_cursor()
        else:
            self.cursor_row = row

    # --- Drawing ---------------------------------------------------------------------------------

    def _line_width(self) -> int:
        return sum(w + 2 * PADDING for _i, w in self.layout_for(self.scrollable_content_region.width))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        """A cell's style: a Rich style, or ``.name`` for a component class styled in CSS with the
        theme's variables (so it stays readable in every theme)."""
        style = self._styles.get(name)
        if style is None:
            if name.startswith("."):
                style = self.get_component_rich_style(name[1:], partial=True)
            else:
                style = Style.parse(name) if name else Style()
            self._styles[name] = style
        return style

    def _cursor_style(self, name: str) -> Style:
        """A cell's style on the cursor row: its weight and decoration only, never its colours, so
        the cursor's own colours keep every cell readable (a red "VH" on a blue cursor is not)."""
        key = "cursor " + name
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self._style(name).without_color
        return style

    def _line(self, cells: tuple[Cell, ...], base: Style, width: int, *, cursor: bool = False) -> Strip:
        pad = " " * PADDING
        segments = []
        style_of = self._cursor_style if cursor else self._style
        for i, column_width in self.layout_for(width):
            text, style = cells[i] if i < len(cells) else ("", "")
            segments.append(Segment(pad + _fit(text, column_width) + pad, base + style_of(style) if style else base))
        # One segment per run of equally styled cells: fewer to draw, and no blank-only segments.
        left = round(self.scroll_x)
        return Strip(Segment.simplify(segments), self._line_width()).crop_extend(left, left + width, base)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = base + self.get_component_rich_style("line-table--header")
            return self._line(tuple((c.label, "") for c in self.columns), header, width)
        row = round(self.scroll_y) + y - 1
        if row >= len(self._keys):
            return Strip.blank(width, base)
        if row == self.cursor_row and self._keys:
            style = base + self.get_component_rich_style("line-table--cursor")
            return self._line(self._cells[row], style, width, cursor=True)
        style = base + self.get_component_rich_style("line-table--even-row") if row % 2 else base
        return self._line(self._cells[row], style, width)
