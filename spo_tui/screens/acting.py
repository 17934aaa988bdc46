"""What every screen that acts on the store does the same way: call a service, confirm, remember
the action for undo, and read the store again; ask for a line of text or a choice first if needed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from rich.style import Style
from rich.text import Text
from textual.screen import Screen
from textual.widgets import DataTable
from textual.worker import Worker

from spo_tui.commands import Command
from spo_tui.domain import permissions
from spo_tui.domain.errors import SpoError
from spo_tui.services.base import ActionResult
from spo_tui.widgets.theme import theme_style

if TYPE_CHECKING:
    from textual import getters

    from spo_tui.app import SpoApp

Row = TypeVar("Row")


class ActingScreen(Screen):
    """A screen whose actions end in a service call. Subclasses define ``reload()`` and may set
    ``COMMAND_LIST``, the commands whose keys it binds (``_allowed`` tests their permissions)."""

    if TYPE_CHECKING:
        app = getters.app(SpoApp)

    COMMAND_LIST: tuple[Command, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._by_action = {c.action.split("(")[0]: c for c in self.COMMAND_LIST}

    @property
    def ctx(self):
        return self.app.ctx

    def permitted(self, action: str) -> bool:
        """Whether the acting role may use ``action``'s key (the footer hides it otherwise)."""
        command = self._by_action.get(action)
        return not (command and command.permission) or permissions.allowed(command.permission, self.ctx.actor["role"])

    def _allowed(self, action: str) -> bool:
        """The footer's test, for a key pressed anyway (from the palette): a refusal says why."""
        command = self._by_action.get(action)
        if command and command.permission:
            try:
                permissions.check(command.permission, self.ctx.actor["role"], self.ctx.actor["name"])
            except SpoError as error:
                self.notify(str(error), severity="error", markup=False)
                return False
        return True

    def fill(self, table: DataTable, rows: list[tuple[str, list[Text]]], keep: int | None = None) -> None:
        """Replace ``table``'s rows, the cursor back on the record it was on where that is still
        listed (a change saved elsewhere, a sync, may have put rows above it: the next key must act on
        what the user is looking at), else on the same row number (the record acted on has gone: the
        one after it), or on row ``keep`` when given."""
        row = table.cursor_row if keep is None else keep
        was = self._cursor_key(table) if keep is None else None
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if not rows:
            return
        if was is not None:
            row = next((n for n, (key, _cells) in enumerate(rows) if key == was), row)
        table.move_cursor(row=min(max(row, 0), len(rows) - 1), animate=False)

    @staticmethod
    def _cursor_key(table: DataTable) -> str | None:
        """The key of the row under ``table``'s cursor, or None."""
        if not table.row_count or not 0 <= table.cursor_row < table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @staticmethod
    def highlighted_row(table: DataTable, rows: Sequence[Row]) -> Row | None:
        """The record on ``table``'s highlighted row (``rows`` in the table's order), or None."""
        if not rows or not 0 <= table.cursor_row < len(rows):
            return None
        return rows[table.cursor_row]

    def reload(self) -> None:  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A background job of this screen that failed is said, never silent (``worker_errors``)."""
        from spo_tui.screens.worker_errors import report_failure

        report_failure(self, event)

    def theme_style(self, variable: str, bold: bool = False) -> Style:
        """A Rich style in the theme's colour ``variable`` (``error``, ``text-error``, ``warning``...),
        for table cells."""
        return theme_style(self.app, variable, bold)

    def _done(self, result: ActionResult | None) -> None:
        """After any action: remember it for undo, confirm, read the store again."""
        if result is None:
            return
        if result.audit_id is not None:
            self.app.undo_stack.append(result.audit_id)
        self.notify(result.message, markup=False, timeout=4)
        self.reload()

    def _call(self, fn: Callable[[], ActionResult]) -> None:
        """Run a service call that needs no more input; a refusal is shown as an error."""
        try:
            self._done(fn())
        except SpoError as error:
            self.notify(str(error), severity="error", markup=False)

    def _prompt(
        self,
        title: str,
        placeholder: str,
        fn: Callable[[str], ActionResult],
        value: str = "",
        echo: Callable[[str], str] | None = None,
        note: str = "",
    ) -> None:
        """Ask for one line; the service validates it while the prompt stays open. ``echo``: what
        to show under the line as it is typed (a date field's resolved date); ``note``: what the
        answer answers, shown above the line (the question asked)."""
        from spo_tui.screens.prompts import PromptScreen

        results: list[ActionResult] = []

        def submit(text: str) -> None:
            results.append(fn(text))

        self.app.push_screen(
            PromptScreen(title, placeholder, value=value, submit=submit, echo=echo, note=note),
            lambda _text: self._done(results[-1] if results else None),
        )

    def _choose(self, title: str, choices: list[tuple[str, str]], then: Callable[[str], None]) -> None:
        """Offer a choice (number keys pick); ``then`` gets the chosen value."""
        from spo_tui.screens.prompts import ChoiceScreen

        self.app.push_screen(ChoiceScreen(title, choices), lambda value: then(value) if value else None)
