"""Every keyboard command, defined once: key, action, description, id and where it applies.

From these one definitions come each screen's ``BINDINGS`` (so the footer), the help screen and
the command palette. A user can remap any key by its ``id`` with Textual's keymap.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Command:
    id: str
    key: str
    action: str
    description: str
    help: str
    #: Item kinds the command applies to; None means it does not depend on the selected item.
    kinds: frozenset[str] | None = None
    show: bool = True
    key_display: str | None = None
    #: Item statuses it applies to: ``open`` in the queue, ``waiting`` in the Waiting view.
    statuses: tuple[str, ...] = ("open",)
    #: The permission (``domain.permissions``) the acting user needs; the key is hidden without it.
    permission: str | None = None

    def binding(self) -> Binding:
        return Binding(
            self.key, self.action, self.description, show=self.show, id=self.id,
            tooltip=self.help, key_display=self.key_display,
        )  # fmt: skip


def _k(*kinds: str) -> frozenset[str]:
    return frozenset(kinds)


FILTERS = (
    ("all", "All", None),
    ("alert", "Alerts", "alert"),
    ("sbar", "SBARs", "sbar"),
    ("touch_point", "Touch points", "touch_point"),
    ("countersign", "Countersign", "countersign"),
    ("task", "Tasks", "task"),
    ("action", "Actions", "action"),
    ("supervision", "Supervision", "supervision"),
    ("waiting", "Waiting", "waiting"),
)
#: The filter that shows items waiting on someone else rather than a kind of open item.
WAITING = "waiting"

TODAY_COMMANDS: tuple[Command, ...] = (
    Command("decide", "d", "decide", "Decide", "Record the decision or discussion as an oversight entry",
            _k("sbar", "touch_point", "alert", "supervision")),
    Command("book", "b", "book", "Book", "Book the SBAR into the next free protected-hour slot", _k("sbar"), permission="book_protected_hour"),
    Command("more_info", "i", "more_info", "Ask info", "Ask the practitioner for more information", _k("sbar"),
            permission="request_more_information"),
    Command("escalate", "e", "escalate", "Escalate", "Escalate the SBAR to the PDU head or MAPPA", _k("sbar"),
            permission="escalate_sbar"),
    Command("sign_off", "s", "sign_off", "Sign off", "Countersign with a verdict", _k("countersign"),
            permission="countersign"),
    Command("return", "r", "return_item", "Return", "Return with the deficits and guidance", _k("countersign"),
            permission="countersign"),
    Command("waive", "w", "waive", "Waive", "Waive the touch point with a reason", _k("touch_point"),
            permission="waive_touch_point"),
    Command("delegate", "g", "delegate", "Delegate", "Delegate the task to the CASPO, SAO or business manager", _k("task"),
            permission="delegate_task"),
    Command("done", "x", "done", "Done", "Mark the task (with minutes) or agreed action done", _k("task", "action"),
            statuses=("open", "waiting")),
    Command("answer", "y", "answer", "Answered", "Log the practitioner's answer: the SBAR comes back to the queue",
            _k("sbar"), statuses=("waiting",), permission="answer_information_request"),
    Command("snooze", "z", "snooze", "Snooze", "Hide until a date: tomorrow, mon, 3d, 25/12",
            _k("sbar", "touch_point", "countersign", "task", "action", "supervision"), permission="snooze"),
    Command("reassign", "a", "reassign", "Reassign", "Give the item to another member of staff",
            _k("alert", "sbar", "touch_point", "countersign", "task", "action", "supervision"), show=False,
            permission="reassign"),
    Command("open_case", "c", "open_case", "Case", "Open the case of the selected item",
            _k("alert", "sbar", "touch_point", "countersign", "action"), statuses=("open", "waiting")),
    Command("undo", "u", "undo", "Undo", "Undo your last action (as a superseding record)"),
    Command("search", "slash", "search", "Search", "Search by CRN, name or practitioner", key_display="/"),
    Command("help", "question_mark", "app.help", "Help", "Every key on every screen", key_display="?"),
    Command("quit", "q", "app.quit", "Quit", "Leave spo-tui", show=False),
)  # fmt: skip

CASE_COMMANDS: tuple[Command, ...] = (
    Command("case_note", "n", "note", "Oversight", "Record an oversight entry on this case"),
    Command("case_back", "escape", "back", "Back", "Back to the queue", key_display="esc"),
    Command("case_help", "question_mark", "app.help", "Help", "Every key on every screen", key_display="?"),
)

FILTER_COMMANDS: tuple[Command, ...] = tuple(
    Command(f"filter_{name}", str(n), f"filter('{name}')", label, f"Show {label.lower()}", show=False)
    for n, (name, label, _kind) in enumerate(FILTERS)
)

#: Screen title -> its commands, for the help screen.
ALL_COMMANDS: dict[str, tuple[Command, ...]] = {
    "Today (the queue)": TODAY_COMMANDS + FILTER_COMMANDS,
    "Case": CASE_COMMANDS,
}
