"""Small modal prompts: type a line, choose one of a few, confirm yes or no.

Titles, choices and messages often hold stored names: they are drawn as plain text (never markup)
with any control character shown as an escape (``domain.text.visible``).
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from spo_tui.domain.errors import SpoError
from spo_tui.domain.text import visible


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text.

    With ``submit``, Enter calls ``submit(text)`` first: an SpoError is shown under the input and
    the prompt stays open (nothing changed); on success the prompt closes with the text.
    Without ``submit`` the prompt closes with any non-empty text. Esc closes with None.

    With ``echo``, what ``echo(text)`` returns is shown under the input as it is typed: a date
    field shows the date it resolves to ("= Thu 03/12/2026") or why it cannot be read, before
    anything is saved.
    """

    CSS_PATH = "prompts.tcss"
    AUTO_FOCUS = "#prompt-input"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt_cancel")]

    def __init__(
        self,
        title: str,
        placeholder: str = "",
        *,
        value: str = "",
        submit: Callable[[str], object] | None = None,
        echo: Callable[[str], str] | None = None,
        note: str = "",
    ) -> None:
        super().__init__()
        self.echo = echo
        self.prompt_title = visible(title, lines=False)
        #: What the answer answers (the question asked, the escalation note), shown above the input.
        self.note = visible(note)
        self.placeholder = visible(placeholder, lines=False)
        self.initial_value = visible(value, lines=False)
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box", classes="dialog"):
            yield Label(self.prompt_title, id="prompt-title", classes="dialog-title", markup=False)
            if self.note:
                yield Label(self.note, id="prompt-note", markup=False)
            yield Input(value=self.initial_value, placeholder=self.placeholder, id="prompt-input")
            yield Label("", id="prompt-echo", classes="prompt-echo", markup=False)
            yield Label("", id="prompt-error", classes="error", markup=False)
            yield Label("enter ok · esc cancel", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self._show_echo(self.initial_value)

    def _show_echo(self, text: str) -> None:
        if self.echo is None:
            return
        shown = self.echo(text)
        label = self.query_one("#prompt-echo", Label)
        label.update(visible(shown, lines=False))
        label.set_class(bool(shown), "-shown")

    def _show_error(self, message: str) -> None:
        label = self.query_one("#prompt-error", Label)
        label.update(visible(message, lines=False))
        label.set_class(bool(message), "-shown")

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if self.submit is None:
            if text.strip():
                self.dismiss(text)
            else:
                self._show_error("Type something, or Esc to cancel")
            return
        try:
            self.submit(text)
        except SpoError as error:
            self._show_error(str(error))
            return
        self.dismiss(text)

    @on(Input.Changed, "#prompt-input")
    def _changed(self, event: Input.Changed) -> None:
        self._show_error("")
        self._show_echo(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceScreen(ModalScreen[str | None]):
    """Choose one of up to nine values: its number key at once, or the arrows and Enter. Esc: None."""

    CSS_PATH = "prompts.tcss"
    AUTO_FOCUS = "#choice-list"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="choice_cancel"),
        *(Binding(str(n), f"choose({n})", f"Choose {n}", show=False, id=f"choice_{n}") for n in range(1, 10)),
    ]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.choice_title = visible(title, lines=False)
        self.choices = [(value, visible(label, lines=False)) for value, label in choices]

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-box", classes="dialog"):
            yield Label(self.choice_title, id="choice-title", classes="dialog-title", markup=False)
            yield OptionList(
                *(
                    Option(Content(f"{n} {label}" if n <= 9 else f"  {label}"))
                    for n, (_v, label) in enumerate(self.choices, 1)
                ),
                id="choice-list",
            )
            yield Label("1–9 choose · enter highlighted · esc cancel", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        if self.choices:
            self.query_one(OptionList).highlighted = 0

    def action_choose(self, number: int) -> None:
        if 1 <= number <= len(self.choices):
            self.dismiss(self.choices[number - 1][0])

    @on(OptionList.OptionSelected, "#choice-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[event.option_index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y for yes, n or Esc for no.

    Enter means yes for a question whose yes loses nothing (``Import 40 rows?``); for one whose yes
    throws something away (``destructive``, e.g. "Discard what you typed?") Enter means no, so a
    key pressed out of habit keeps the work: only ``y`` discards.
    """

    CSS_PATH = "prompts.tcss"
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes"),
        Binding("enter", "enter", "Yes", show=False, id="confirm_enter"),
        Binding("n", "answer(False)", "No", id="confirm_no"),
        Binding("escape", "answer(False)", "No", show=False, id="confirm_escape"),
    ]

    def __init__(self, question: str, *, destructive: bool = False, yes: str = "yes", no: str = "no") -> None:
        super().__init__()
        self.question = visible(question)
        self.destructive = destructive
        self.yes_word = yes
        self.no_word = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="dialog"):
            yield Label(self.question, id="confirm-question", classes="dialog-title", markup=False)
            if self.destructive:
                hint = f"y  {self.yes_word}    n / enter / esc  {self.no_word}"
            else:
                hint = f"y / enter  {self.yes_word}    n / esc  {self.no_word}"
            yield Label(hint, id="confirm-hint", classes="dialog-hint", markup=False)

    def action_enter(self) -> None:
        self.dismiss(not self.destructive)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
