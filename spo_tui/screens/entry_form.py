"""A reusable form built from field specs: add or correct a case, an SBAR, a task, an absence...

The form never writes: Ctrl+S hands the values to ``submit`` (a service call). A ValidationError
is shown beside the field it names and that field is focused; any other SpoError is shown under
the form. Esc cancels, asking first if anything was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, TextArea

from spo_tui.domain.dates import SHORT_DATE_WITHIN_MONTHS, echo_when, parse_when
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.text import visible
from spo_tui.screens.prompts import ConfirmScreen
from spo_tui.widgets.tick_box import TickBox

if TYPE_CHECKING:
    from spo_tui.services.base import ActionResult

FieldKind = Literal["text", "textarea", "select", "checkbox", "date"]


@dataclass(frozen=True)
class Field:
    """One input of an EntryForm.

    ``kind`` is ``text`` (one line), ``textarea``, ``select`` (``options`` are (label, value)
    pairs; ``blank`` allows no choice, read as ""), ``checkbox`` or ``date``: one line typed as
    people type dates (``fri``, ``3d``, ``25/12``), handed to ``submit`` as a ``date``. A date field
    shows the date it resolves to as it is typed ("= Thu 03/12/2026"), or why it cannot be read;
    ``direction`` says which way a day and month without a year is read (``future``, ``past`` or
    ``nearest``: ``spo_tui.domain.dates.parse_when``).
    """

    name: str
    label: str
    kind: FieldKind = "text"
    options: Sequence[tuple[str, str]] = ()
    placeholder: str = ""
    value: Any = ""
    blank: bool = False
    direction: str = "future"


def field_id(name: str) -> str:
    return f"field-{name}"


class EntryForm(ModalScreen["ActionResult | None"]):
    """Fill in the fields, Ctrl+S to save (from any field), Esc to cancel.

    With ``changed_only`` the form hands ``submit`` only the fields that differ from how they
    opened (for corrections); saving with nothing changed just closes it.
    """

    CSS_PATH = "entry_form.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="entry_save", priority=True, tooltip="Save what the form holds"),
        Binding("escape", "cancel", "Cancel", id="entry_cancel", tooltip="Close the form (asks before losing text)"),
    ]

    def __init__(
        self,
        *,
        heading: str,
        fields: Sequence[Field],
        submit: Callable[[dict[str, Any]], ActionResult],
        changed_only: bool = False,
        today: date | None = None,
    ) -> None:
        super().__init__()
        self.heading = visible(heading, lines=False)
        self.fields = list(fields)
        self.submit = submit
        self.changed_only = changed_only
        self.today = today
        self._finished = False

    # --- Building -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="entry-box"):
            yield Label(self.heading, id="entry-title", markup=False)
            with VerticalScroll(id="entry-body"):
                for spec in self.fields:
                    with Horizontal(classes=f"entry-row -{spec.kind}"):
                        yield Label(spec.label, classes="entry-label", markup=False)
                        yield self._widget(spec)
                    if spec.kind == "date":
                        yield Label("", id=f"echo-{spec.name}", classes="date-echo", markup=False)
                    yield Label("", id=f"error-{spec.name}", classes="error", markup=False)
            yield Label("", id="error-form", classes="error", markup=False)
            yield Label("ctrl+s save · esc cancel · tab next field", id="entry-hint", markup=False)

    def _widget(self, spec: Field) -> Widget:
        wid = field_id(spec.name)
        if spec.kind == "textarea":
            # Stored text opens with any control character shown as an escape, to be seen and edited.
            return TextArea(
                visible(spec.value or ""),
                id=wid,
                compact=True,
                tab_behavior="focus",
                placeholder=spec.placeholder,
                classes="entry-input",
            )
        if spec.kind == "select":
            values = [v for _, v in spec.options]
            initial = spec.value if spec.value in values else Select.NULL
            allow_blank = spec.blank or not values
            if initial is Select.NULL and not allow_blank:
                initial = values[0]
            # Labels are names from the store: plain text (a str label would be read as markup).
            options = [(Content(visible(label, lines=False)), value) for label, value in spec.options]
            return Select(
                options,
                value=initial,
                allow_blank=allow_blank,
                id=wid,
                compact=True,
                prompt=spec.placeholder or "Choose",
                classes="entry-input",
            )
        if spec.kind == "checkbox":
            return TickBox("", bool(spec.value), id=wid, compact=True, classes="entry-input")
        return Input(
            visible(spec.value or "", lines=False),
            placeholder=spec.placeholder,
            id=wid,
            compact=True,
            classes="entry-input",
        )

    def _window(self) -> int:
        from spo_tui.services.intake import short_date_months

        ctx = getattr(self.app, "ctx", None)
        return short_date_months(ctx) if ctx is not None else SHORT_DATE_WITHIN_MONTHS

    def _echo(self, spec: Field) -> None:
        """Show under a date field the date it resolves to, or why it cannot be read."""
        text = self.query_one(f"#{field_id(spec.name)}", Input).value
        shown = echo_when(text, self._today(), direction=spec.direction, within_months=self._window())
        label = self.query_one(f"#echo-{spec.name}", Label)
        label.update(visible(shown, lines=False))
        label.set_class(bool(shown), "-shown")

    @on(Input.Changed, ".entry-input")
    def _date_changed(self, event: Input.Changed) -> None:
        spec = next((f for f in self.fields if f.kind == "date" and field_id(f.name) == event.input.id), None)
        if spec is not None:
            self._echo(spec)

    def on_mount(self) -> None:
        for spec in self.fields:
            if spec.kind == "date":
                self._echo(spec)
        self._baseline = self.read_raw()
        for area in self.query(TextArea).results(TextArea):
            area.move_cursor(area.document.end)  # a correction usually adds to the end
        if self.fields:
            self.query_one(f"#{field_id(self.fields[0].name)}", Widget).focus()

    # --- Reading --------------------------------------------------------------------------------

    def read_raw(self) -> dict[str, Any]:
        """Each field's value as the widget holds it: text, the chosen value ("" for none) or a bool."""
        raw: dict[str, Any] = {}
        for spec in self.fields:
            widget = self.query_one(f"#{field_id(spec.name)}", Widget)
            if isinstance(widget, TextArea):
                raw[spec.name] = widget.text
            elif isinstance(widget, Select):
                raw[spec.name] = widget.selection if widget.selection is not None else ""
            elif isinstance(widget, Checkbox):
                raw[spec.name] = bool(widget.value)
            elif isinstance(widget, Input):
                raw[spec.name] = widget.value
        return raw

    @property
    def is_dirty(self) -> bool:
        try:
            return self.read_raw() != getattr(self, "_baseline", {})
        except NoMatches:
            return False

    def has_typed_text(self) -> bool:
        """Anything typed not yet saved (what quitting would ask about)."""
        return not self._finished and self.is_dirty

    def _today(self) -> date:
        if self.today is not None:
            return self.today
        ctx = getattr(self.app, "ctx", None)
        return ctx.today if ctx is not None else date.today()

    def values(self) -> dict[str, Any]:
        """What ``submit`` receives: dates parsed (raising ValidationError naming the field)."""
        raw = self.read_raw()
        if self.changed_only:
            raw = {k: v for k, v in raw.items() if v != self._baseline.get(k)}
        out: dict[str, Any] = {}
        specs = {spec.name: spec for spec in self.fields}
        for name, value in raw.items():
            if specs[name].kind == "date" and str(value).strip():
                try:
                    value = parse_when(
                        str(value), self._today(), direction=specs[name].direction, within_months=self._window()
                    )
                except ValidationError as error:
                    raise ValidationError(str(error), field=name) from None
            out[name] = value
        return out

    # --- Errors ---------------------------------------------------------------------------------

    def _clear_errors(self) -> None:
        for label in self.query(".error").results(Label):
            label.update("")
            label.remove_class("-shown")

    def _show_error(self, error: SpoError) -> None:
        names = {spec.name for spec in self.fields}
        field = getattr(error, "field", None)
        if isinstance(error, ValidationError) and field in names:
            label = self.query_one(f"#error-{field}", Label)
            widget = self.query_one(f"#{field_id(field)}", Widget)
            label.update(visible(str(error), lines=False))
            label.add_class("-shown")
            widget.focus()
            widget.scroll_visible(animate=False)
            label.scroll_visible(animate=False)
            return
        label = self.query_one("#error-form", Label)
        label.update(visible(str(error), lines=False))
        label.add_class("-shown")

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event) -> None:
        """Typing in a field clears the message beside it."""
        widget_id = getattr(event.control, "id", None) or ""
        if not widget_id.startswith("field-"):
            return
        try:
            label = self.query_one(f"#error-{widget_id.removeprefix('field-')}", Label)
        except NoMatches:
            return
        label.update("")
        label.remove_class("-shown")

    # --- Actions --------------------------------------------------------------------------------

    def action_save(self) -> None:
        if self._finished:
            return
        self._clear_errors()
        try:
            values = self.values()
            if self.changed_only and not values:
                self._finished = True
                self.dismiss(None)
                self.notify("Nothing changed", markup=False)
                return
            result = self.submit(values)
        except SpoError as error:
            self._show_error(error)
            return
        self._finished = True
        self.dismiss(result)

    def action_cancel(self) -> None:
        if self._finished:
            return
        if not self.is_dirty:
            self._finished = True
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self._finished = True
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Discard what you typed?", destructive=True, yes="discard it", no="keep typing"), answered
        )
