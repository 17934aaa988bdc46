"""The management-oversight entry form: type, outcome, what was discussed, the decision, agreed actions.

The form never writes: it hands the values to ``submit`` (a service call) and shows any
ValidationError beside the field it names. A half-typed form is kept as a draft in the store.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, TextArea

from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.levels import OversightLevel
from spo_tui.domain.text import visible
from spo_tui.domain.vocab import OversightOutcome, OversightType
from spo_tui.screens.prompts import ConfirmScreen
from spo_tui.screens.sizing import take_breakpoints
from spo_tui.services import drafts, intake
from spo_tui.services.decisions import AgreedAction
from spo_tui.store.db import db_errors
from spo_tui.widgets.tick_box import TickBox

if TYPE_CHECKING:
    from textual import getters

    from spo_tui.app import SpoApp
    from spo_tui.services.base import ActionResult

ACTION_ROWS = 3
DRAFT_DELAY = 0.5
DEFAULTS: dict[str, Any] = {
    "type": OversightType.MANAGEMENT_OVERSIGHT.value,
    "outcome": OversightOutcome.GUIDANCE_GIVEN.value,
    "discussed": "",
    "decision": "",
    "sensitive": False,
    "level": "auto",
}
#: The level choices [001]: "auto" leaves it to ``spo_tui.domain.levels.derive_level`` (what the entry is on).
LEVEL_OPTIONS: list[tuple[str, str]] = [
    ("From the work", "auto"),
    ("1 QA", "1"),  # quality assurance: kept short, the field is narrow
    *((f"{lv.value} {lv.label.capitalize()}", str(lv.value)) for lv in OversightLevel if lv.value > 1),
]
#: Fields a service may name that have their own input here (others go to the form-wide error).
FIELD_WIDGETS = {
    "type": "type",
    "outcome": "outcome",
    "discussed": "discussed",
    "decision": "decision",
    "level": "level",
}
_ACTION_FIELD = re.compile(r"^action_(\d+)(?:_(owner|due))?$")


def outcome_options(type_value: str, keep: str | None = None) -> list[tuple[str, str]]:
    """(label, value) of the outcomes that fit ``type_value``; a withdrawal is made by undo, not typed."""
    try:
        allowed = OversightType(type_value).info.outcomes
    except ValueError:
        allowed = OversightType.MANAGEMENT_OVERSIGHT.info.outcomes
    return [(OversightOutcome(v).label, v) for v in allowed if v != OversightOutcome.WITHDRAWN.value or v == keep]


def empty_actions() -> list[list[str]]:
    return [["", "", ""] for _ in range(ACTION_ROWS)]


class OversightForm(ModalScreen["ActionResult | None"]):
    """Record an oversight entry. Ctrl+S saves (from any field), Esc cancels (asking if anything was typed)."""

    if TYPE_CHECKING:
        app = getters.app(SpoApp)

    CSS_PATH = "oversight_form.tcss"
    AUTO_FOCUS = "#decision"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="oversight_save", priority=True, tooltip="Record the oversight entry"),
        Binding(
            "escape", "cancel", "Cancel", id="oversight_cancel", tooltip="Close the form (asks before losing text)"
        ),
    ]

    def __init__(
        self,
        *,
        heading: str,
        submit: Callable[[dict], ActionResult],
        prefill: dict | None = None,
        draft_key: str | None = None,
        on_behalf: str | None = None,
    ) -> None:
        """``on_behalf``: "Entering on behalf of NAME ..." (``decisions.on_behalf_banner``), shown above
        the fields when a CASPO enters the record in an SPO's name, so they see whose it will be."""
        super().__init__()
        self.heading = heading
        self.on_behalf = on_behalf
        self.submit = submit
        self.draft_key = draft_key
        base = {**DEFAULTS, **{k: v for k, v in (prefill or {}).items() if k in DEFAULTS and v is not None}}
        base["sensitive"] = bool(base["sensitive"])
        # Text from the store opens with any control character shown as an escape (seen, editable).
        base["discussed"], base["decision"] = visible(base["discussed"]), visible(base["decision"])
        #: What the form shows before the user types: typing is any difference from this.
        self.baseline: dict[str, Any] = {**base, "actions": empty_actions()}
        self._initial: dict[str, Any] = self.baseline
        self._draft_restored = False
        self._state: dict[str, Any] = self.baseline
        self._finished = False
        self._draft_timer: Timer | None = None
        self._outcomes_for: str | None = None

    # --- Building -------------------------------------------------------------------------------

    def _load_draft(self) -> None:
        if not self.draft_key or self.app.ctx is None:
            return
        try:
            body = drafts.load_draft(self.app.ctx, self.draft_key)
        except (SpoError,) + db_errors() + (ValueError,):
            body = None
        if not body:
            return
        merged = {**self.baseline, **{k: body[k] for k in DEFAULTS if k in body}}
        rows = body.get("actions") or []
        merged["actions"] = [
            [str(x or "") for x in (list(rows[n]) + ["", "", ""])[:3]] if n < len(rows) else ["", "", ""]
            for n in range(ACTION_ROWS)
        ]
        merged["sensitive"] = bool(merged["sensitive"])
        self._initial = merged
        self._state = merged
        self._draft_restored = True

    def _staff_suggester(self) -> SuggestFromList | None:
        """Staff names, completed as they are typed (→ or End accepts): an owner the service will find."""
        ctx = getattr(self.app, "ctx", None)
        if ctx is None:
            return None
        from spo_tui.services import lookup

        names = [visible(s["name"], lines=False) for s in lookup.staff(ctx)]
        return SuggestFromList(names, case_sensitive=False) if names else None

    def compose(self) -> ComposeResult:
        take_breakpoints(self)
        self._load_draft()
        initial = self._initial
        type_value = initial["type"] if initial["type"] in set(OversightType) else DEFAULTS["type"]
        outcomes = outcome_options(type_value, initial["outcome"])
        outcome_value = initial["outcome"] if initial["outcome"] in {v for _, v in outcomes} else outcomes[0][1]
        self._outcomes_for = type_value
        with Vertical(id="form-box"):
            yield Label(visible(self.heading, lines=False), id="form-title", markup=False)
            if self.on_behalf:
                yield Label(visible(self.on_behalf, lines=False), id="on-behalf", markup=False)
            with VerticalScroll(id="form-body"):
                with Horizontal(id="type-row"):
                    with Vertical(classes="field"):
                        yield Label("Type", classes="field-label")
                        yield Select(
                            [(t.label, t.value) for t in OversightType],
                            value=type_value,
                            allow_blank=False,
                            id="type",
                            compact=True,
                        )
                        yield Label("", id="error-type", classes="error", markup=False)
                    with Vertical(classes="field"):
                        yield Label("Outcome", classes="field-label")
                        yield Select(outcomes, value=outcome_value, allow_blank=False, id="outcome", compact=True)
                        yield Label("", id="error-outcome", classes="error", markup=False)
                    with Vertical(classes="field", id="level-field"):
                        yield Label("Level", classes="field-label")
                        level_value = initial["level"] if initial["level"] in {v for _, v in LEVEL_OPTIONS} else "auto"
                        yield Select(LEVEL_OPTIONS, value=level_value, allow_blank=False, id="level", compact=True)
                        yield Label("", id="error-level", classes="error", markup=False)
                yield Label("What was discussed", classes="field-label")
                yield TextArea(
                    visible(initial["discussed"]),
                    id="discussed",
                    compact=True,
                    tab_behavior="focus",
                    placeholder="What the practitioner brought, what you found",
                )
                yield Label("", id="error-discussed", classes="error", markup=False)
                yield Label("Decision or guidance", classes="field-label")
                yield TextArea(
                    visible(initial["decision"]),
                    id="decision",
                    compact=True,
                    tab_behavior="focus",
                    placeholder="The decision, or the guidance given",
                )
                yield Label("", id="error-decision", classes="error", markup=False)
                with Horizontal(classes="action-head"):
                    yield Label("Agreed action", classes="col-desc")
                    yield Label("Owner", classes="col-owner")
                    yield Label("Due", classes="col-due")
                suggester = self._staff_suggester()
                for n, (desc, owner, due) in enumerate(initial["actions"], start=1):
                    with Horizontal(classes="action-row"):
                        yield Input(
                            visible(desc, lines=False),
                            placeholder=f"Action {n}: what is to be done",
                            id=f"action-{n}-desc",
                            classes="col-desc",
                            compact=True,
                        )
                        yield Input(
                            visible(owner, lines=False),
                            placeholder="practitioner name",
                            id=f"action-{n}-owner",
                            classes="col-owner",
                            compact=True,
                            suggester=suggester,
                        )
                        yield Input(
                            visible(due, lines=False),
                            placeholder="e.g. 3d, fri, 25/12",
                            id=f"action-{n}-due",
                            classes="col-due",
                            compact=True,
                        )
                    yield Label("", id=f"error-action-{n}", classes="error", markup=False)
                    yield Label("", id=f"error-action-{n}-owner", classes="error", markup=False)
                    yield Label("", id=f"echo-action-{n}-due", classes="date-echo", markup=False)
                    yield Label("", id=f"error-action-{n}-due", classes="error", markup=False)
                yield TickBox("Sensitive", initial["sensitive"], id="sensitive", compact=True)
            yield Label("", id="error-form", classes="error", markup=False)
            yield Label("ctrl+s save · esc cancel · tab next field", id="form-hint", markup=False)

    def _echo_due(self, n: int) -> None:
        """Show under action ``n``'s due date the date it resolves to, or why it cannot be read."""
        ctx = self.app.ctx
        if ctx is None:
            return
        shown = intake.date_echo(ctx, self.query_one(f"#action-{n}-due", Input).value, "future")
        if shown.startswith("= "):
            shown = f"action {n} due {shown}"
        label = self.query_one(f"#echo-action-{n}-due", Label)
        label.update(visible(shown, lines=False))
        label.set_class(bool(shown), "-shown")

    @on(Input.Changed, ".col-due")
    def _due_changed(self, event: Input.Changed) -> None:
        match = re.match(r"^action-(\d+)-due$", event.input.id or "")
        if match:
            self._echo_due(int(match.group(1)))

    def on_mount(self) -> None:
        for n in range(1, ACTION_ROWS + 1):
            self._echo_due(n)
        if self._draft_restored:
            self.notify("Draft restored", markup=False)

    # --- Reading the form -----------------------------------------------------------------------

    def read_state(self) -> dict[str, Any]:
        """The form's values as plain JSON-able data (what a draft keeps)."""
        type_value = self.query_one("#type", Select).selection
        outcome_value = self.query_one("#outcome", Select).selection
        return {
            "type": type_value or "",
            "outcome": outcome_value or "",
            "discussed": self.query_one("#discussed", TextArea).text,
            "decision": self.query_one("#decision", TextArea).text,
            "sensitive": bool(self.query_one("#sensitive", Checkbox).value),
            "level": self.query_one("#level", Select).selection or "auto",
            "actions": [
                [self.query_one(f"#action-{n}-{part}", Input).value for part in ("desc", "owner", "due")]
                for n in range(1, ACTION_ROWS + 1)
            ],
        }

    @property
    def is_dirty(self) -> bool:
        """True when the form differs from what it opened with (before any draft)."""
        return self._state != self.baseline

    def has_typed_text(self) -> bool:
        """Anything typed not yet saved (what quitting would ask about)."""
        if self._finished:
            return False
        with contextlib.suppress(NoMatches):
            self._state = self.read_state()
        return self.is_dirty

    # --- Changes and drafts ---------------------------------------------------------------------

    @on(Select.Changed, "#type")
    def _type_changed(self, event: Select.Changed) -> None:
        type_value = event.value
        if isinstance(type_value, str) and type_value != self._outcomes_for:
            outcome = self.query_one("#outcome", Select)
            current = outcome.selection
            options = outcome_options(type_value, current)
            outcome.set_options(options)
            values = [v for _, v in options]
            outcome.value = current if current in values else values[0]
            self._outcomes_for = type_value
        self._changed()

    @on(Select.Changed, "#outcome")
    @on(Select.Changed, "#level")
    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        if self._finished or not self.is_mounted:
            return
        try:
            self._state = self.read_state()
        except NoMatches:  # the form is being built or taken down
            return
        if self.draft_key:
            if self._draft_timer is not None:
                self._draft_timer.stop()
            self._draft_timer = self.set_timer(DRAFT_DELAY, self._save_draft)

    def _save_draft(self) -> None:
        """Keep the current values (or forget the draft when the form is back to how it opened)."""
        self._draft_timer = None
        if not self.draft_key or self._finished or self.app.ctx is None:
            return
        try:
            if self.is_dirty:
                drafts.save_draft(self.app.ctx, self.draft_key, self._state)
            else:
                drafts.discard_draft(self.app.ctx, self.draft_key)
        except (SpoError,) + db_errors() as error:
            self.log.error(f"draft not saved: {error}")

    def _discard_draft(self) -> None:
        self._finished = True
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        if self.draft_key and self.app.ctx is not None:
            try:
                drafts.discard_draft(self.app.ctx, self.draft_key)
            except (SpoError,) + db_errors() as error:
                self.log.error(f"draft not discarded: {error}")

    def on_unmount(self) -> None:
        # Closing the app (or the screen going away) keeps what was typed.
        if self._finished:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        if self.draft_key and self.is_dirty:
            self._save_draft()

    # --- Errors ---------------------------------------------------------------------------------

    def _clear_errors(self) -> None:
        for label in self.query(".error").results(Label):
            label.update("")
            label.remove_class("-shown")

    def _show_error(self, label_id: str, message: str, focus_id: str | None = None) -> None:
        label = self.query_one(f"#{label_id}", Label)
        label.update(visible(message, lines=False))
        label.add_class("-shown")
        if focus_id:
            widget = self.query_one(f"#{focus_id}", Widget)
            widget.focus()
            widget.scroll_visible(animate=False)
        label.scroll_visible(animate=False)

    def _show_validation(self, error: ValidationError, rows: list[int]) -> None:
        """Put the message beside the field it names (action numbers are of the rows submitted)."""
        field = error.field or ""
        if field in FIELD_WIDGETS:
            self._show_error(f"error-{field}", str(error), FIELD_WIDGETS[field])
            return
        match = _ACTION_FIELD.match(field)
        if match and 1 <= int(match.group(1)) <= len(rows):
            n, part = rows[int(match.group(1)) - 1], match.group(2)
            suffix = f"-{part}" if part else ""
            self._show_error(f"error-action-{n}{suffix}", str(error), f"action-{n}-{part or 'desc'}")
            return
        self._show_error("error-form", str(error))

    # --- Actions --------------------------------------------------------------------------------

    def action_save(self) -> None:
        if self._finished:
            return
        self._clear_errors()
        state = self.read_state()
        self._state = state
        actions: list[AgreedAction] = []
        rows: list[int] = []
        ctx = self.app.ctx
        for n, (desc, owner, due) in enumerate(state["actions"], start=1):
            if not (desc.strip() or owner.strip() or due.strip()):
                continue
            if due.strip() and ctx is not None:
                try:
                    intake.parse_day(ctx, due, f"action_{n}_due", "future")
                except ValidationError as error:
                    self._show_error(f"error-action-{n}-due", f"action {n}: {error}", f"action-{n}-due")
                    return
            actions.append(AgreedAction(desc, owner, due.strip() or None))
            rows.append(n)
        values = {
            "type": state["type"],
            "outcome": state["outcome"],
            "discussed": state["discussed"],
            "decision": state["decision"],
            "sensitive": state["sensitive"],
            "actions": actions,
        }
        if state["level"] != "auto":
            values["level"] = int(state["level"])
        try:
            result = self.submit(values)
        except ValidationError as error:
            self._show_validation(error, rows)
            return
        except SpoError as error:
            self._show_error("error-form", str(error))
            return
        self._discard_draft()
        self.dismiss(result)

    def action_cancel(self) -> None:
        if self._finished:
            return
        with contextlib.suppress(NoMatches):
            self._state = self.read_state()
        if not self.is_dirty:
            self._discard_draft()
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self._discard_draft()
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Discard what you typed?", destructive=True, yes="discard it", no="keep typing"), answered
        )
