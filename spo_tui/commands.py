"""Every keyboard command, defined once: key, action, description, id and where it applies.

From these one definitions come each screen's ``BINDINGS`` (so the footer), the help screen and
the command palette. A user can remap any key by its ``id`` with Textual's keymap: the ``[keymap]``
table of their config file (``spo_tui.config.load_keymap``), applied when the app starts. Help, the
footer, the palette and the filter line then show the keys in force (``key_in_force``).
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
    #: Item statuses it applies to: ``open`` in the queue, ``waiting`` in the Waiting view,
    #: ``snoozed`` in the Snoozed view.
    statuses: tuple[str, ...] = ("open",)
    #: The permission (``domain.permissions``) the acting user needs; the key is hidden without it.
    permission: str | None = None
    #: For a countersign item, the kinds of report it applies to (None: any): a PSR's peer routing.
    reports: frozenset[str] | None = None

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.description,
            show=self.show,
            id=self.id,
            tooltip=self.help,
            key_display=self.key_display,
        )


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
    ("snoozed", "Snoozed", "snoozed"),
    ("catch_up", "Catch-up", "catch_up"),
    ("confirm", "To confirm", "confirm"),
)
#: The key of each view: digits for the first ten, a capital letter after that (``FILTER_COMMANDS``).
FILTER_KEYS = {name: str(n) for n, (name, _label, _kind) in enumerate(FILTERS[:10])} | {"catch_up": "C", "confirm": "V"}
#: The filter that shows items waiting on someone else rather than a kind of open item.
WAITING = "waiting"
#: The filter that shows items snoozed to a later day.
SNOOZED = "snoozed"
#: The filter that shows the catch-up list: touch points already long overdue when they reached the
#: queue (``spo_tui.domain.urgency``); they are in All and Touch points too, below ordinary work.
CATCH_UP = "catch_up"
#: Filters that are views of a status or a list rather than of a kind of open item.
STATUS_VIEWS = (WAITING, SNOOZED, CATCH_UP)

TODAY_COMMANDS: tuple[Command, ...] = (
    Command(
        "decide",
        "d",
        "decide",
        "Decide",
        "Record the decision as an oversight entry; on an entry to confirm, correct it",
        _k("sbar", "touch_point", "alert", "supervision", "confirm"),
    ),
    Command(
        "confirm",
        "v",
        "confirm",
        "Confirm",
        "Confirm an entry a CASPO made in your name: it stands as entered",
        _k("confirm"),
        permission="confirm_entry",
    ),
    Command(
        "book",
        "b",
        "book",
        "Book",
        "Book the SBAR into the next free protected-hour slot",
        _k("sbar"),
        permission="book_protected_hour",
    ),
    Command(
        "more_info",
        "i",
        "more_info",
        "Ask info",
        "Ask the practitioner for more information",
        _k("sbar"),
        permission="request_more_information",
    ),
    Command(
        "escalate",
        "e",
        "escalate",
        "Escalate",
        "Escalate the SBAR to the PDU head or MAPPA",
        _k("sbar"),
        permission="escalate_sbar",
    ),
    Command(
        "sign_off",
        "s",
        "sign_off",
        "Sign off",
        "Countersign with a verdict",
        _k("countersign"),
        permission="countersign",
    ),
    Command(
        "return",
        "r",
        "return_item",
        "Return",
        "Return with the deficits and guidance",
        _k("countersign"),
        permission="countersign",
    ),
    Command(
        "peer_gatekeep",
        "g",
        "peer_gatekeep",
        "To a peer",
        "Send the PSR to a qualified PO to gatekeep (medium or low RoSH); it waits on them in Waiting",
        _k("countersign"),
        permission="countersign",
        reports=frozenset({"PSR"}),
    ),
    Command(
        "waive",
        "w",
        "waive",
        "Waive",
        "Waive the touch point with a reason",
        _k("touch_point"),
        permission="waive_touch_point",
    ),
    Command(
        "delegate",
        "g",
        "delegate",
        "Delegate",
        "Delegate the task to the CASPO, SAO or business manager",
        _k("task"),
        permission="delegate_task",
    ),
    Command(
        "done",
        "x",
        "done",
        "Done",
        "Mark the task (with minutes) or agreed action done",
        _k("task", "action"),
        statuses=("open", "waiting"),
    ),
    Command(
        "answer",
        "y",
        "answer",
        "Answered",
        "Log the answer (practitioner's, PDU head's) or the resubmission: the item comes back to the queue",
        _k("sbar", "countersign"),
        statuses=("waiting",),
        permission="answer_information_request",
    ),
    Command(
        "snooze",
        "z",
        "snooze",
        "Snooze",
        "Hide until a date: tomorrow, mon, 3d, 25/12",
        _k("sbar", "touch_point", "countersign", "task", "action", "supervision"),
        permission="snooze",
    ),
    Command(
        "unsnooze",
        "z",
        "unsnooze",
        "Un-snooze",
        "Bring the snoozed item back into the queue now",
        _k("sbar", "touch_point", "countersign", "task", "action", "supervision"),
        statuses=("snoozed",),
        permission="snooze",
    ),
    Command(
        "reassign",
        "a",
        "reassign",
        "Reassign",
        "Give the item to another member of staff",
        _k("alert", "sbar", "touch_point", "countersign", "task", "action", "supervision"),
        permission="reassign",
    ),
    Command(
        "open_case",
        "c",
        "open_case",
        "Case",
        "Open the case of the selected item",
        _k("alert", "sbar", "touch_point", "countersign", "action", "confirm"),
        statuses=("open", "waiting", "snoozed"),
    ),
    Command("undo", "u", "undo", "Undo", "Undo your last action (as a superseding record)"),
    Command("goto_checkin", "k", "goto('checkin')", "Check-in", "The daily check-in: agenda, timer, notes and actions"),
    Command(
        "goto_protected_hour",
        "h",
        "goto('protected_hour')",
        "Protected hour",
        "Today's protected-hour running order and free slots",
        show=False,
    ),
    Command(
        "goto_supervision",
        "p",
        "goto('supervision')",
        "Supervision",
        "The supervision planner",
        show=False,
        permission="view_supervision",
    ),
    Command(
        "goto_team",
        "o",
        "goto('team')",
        "Team",
        "Team and coverage dashboard: who has not been looked at",
        show=False,
        permission="view_team",
    ),
    Command(
        "team_filter",
        "T",
        "choose_team",
        "Team filter",
        "A PDU head: show one team's queue, or every team's",
        show=False,
        permission="all_teams",
    ),
    Command("goto_monthly", "M", "goto('monthly')", "Monthly pack", "The monthly meeting pack", show=False),
    Command("search", "slash", "search", "Search", "Search by CRN, name or practitioner", key_display="/"),
    Command("admin", "m", "admin", "Admin", "The CASPO's admin screen: add work, diary, reviews, transfers"),
    Command("help", "question_mark", "app.help", "Help", "Every key on every screen", key_display="?"),
    Command("quit", "q", "app.quit", "Quit", "Leave spo-tui", show=False),
)

CASE_COMMANDS: tuple[Command, ...] = (
    Command("case_note", "n", "note", "Oversight", "Record an oversight entry on this case"),
    Command("case_back", "escape", "back", "Back", "Back to the queue", key_display="esc"),
    Command("case_help", "question_mark", "app.help", "Help", "Every key on every screen", key_display="?"),
)

#: The admin screen (the CASPO's home): r, s, y act on the diary's row, v on MAPPA's, p on a transfer's,
#: a on the R-CAT eligible list's.
ADMIN_COMMANDS: tuple[Command, ...] = (
    Command(
        "admin_arrange",
        "r",
        "arrange",
        "Arrange",
        "Diarise the touch-point meeting: a day and time, e.g. fri 10:30",
        permission="maintain",
    ),
    Command(
        "admin_reminder_sent",
        "s",
        "reminder_sent",
        "Reminded",
        "Mark the practitioner as reminded of the touch point",
        permission="maintain",
    ),
    Command(
        "admin_reminder_text", "y", "reminder_text", "Reminder", "Show the reminder text and copy it to the clipboard"
    ),
    Command(
        "admin_mappa_review",
        "v",
        "mappa_review",
        "Review date",
        "Set the MAPP registration's next review date",
        permission="maintain",
    ),
    Command(
        "admin_transfer_status",
        "p",
        "transfer_status",
        "Progress",
        "Move the transfer on: in progress, completed, cancelled",
        permission="maintain",
    ),
    Command(
        "admin_rcat_audit",
        "a",
        "rcat_audit",
        "R-CAT audit",
        "Record the R-CAT audit of the highlighted practitioner's case: who audited it, the outcome, the findings",
        permission="rcat",
    ),
    Command(
        "admin_next_list", "n", "next_list", "Next list", "Show the next list: diary, MAPPA level 1, transfers, R-CAT"
    ),
    Command(
        "admin_add_sbar",
        "1",
        "add_sbar",
        "Add SBAR",
        "Log an SBAR on behalf of a practitioner",
        show=False,
        permission="raise_sbar",
    ),
    Command(
        "admin_add_countersign",
        "2",
        "add_countersign",
        "Add countersign",
        "Put an assessment or report in the countersigning queue",
        show=False,
        permission="add_countersign",
    ),
    Command(
        "admin_add_task",
        "3",
        "add_task",
        "Add task",
        "Add a non-operational task (buildings, HR, IT)",
        show=False,
        permission="task",
    ),
    Command(
        "admin_add_alert",
        "4",
        "add_alert",
        "Add alert",
        "Log an immediate-risk alert: it goes to the top of the queue",
        show=False,
        permission="maintain",
    ),
    Command(
        "admin_add_case",
        "5",
        "add_case",
        "Add case",
        "Add a case with its risk and sentence facts",
        show=False,
        permission="maintain",
    ),
    Command(
        "admin_add_transfer",
        "6",
        "add_transfer",
        "Add transfer",
        "Start tracking a transfer in or out",
        show=False,
        permission="maintain",
    ),
    Command(
        "admin_add_absence",
        "7",
        "add_absence",
        "Add absence",
        "Record a staff absence: sickness, leave, training",
        show=False,
        permission="maintain",
    ),
    Command(
        "admin_export",
        "x",
        "export_ndelius",
        "nDelius export",
        "Write the oversight entries not yet in nDelius to a file beside the database, and mark them entered if you say so",
        permission="export",
    ),
    Command("admin_today", "t", "today", "Today", "The SPO's triaged queue"),
    Command(
        "admin_import",
        "i",
        "import_file",
        "Import",
        "Import a CSV extract: cases, staff, countersign or touch points",
        permission="import",
    ),
    Command("admin_edit_case", "e", "edit_case", "Edit case", "Correct a case's facts (by CRN)", permission="maintain"),
    Command(
        "admin_custody",
        "R",
        "custody",
        "Custody",
        "A case's release from prison, ROTL, OMiC handover, lifer panel and victim contact scheme (by CRN)",
        show=False,
        permission="maintain",
    ),
    Command(
        "admin_edit_sbar",
        "E",
        "edit_sbar",
        "Edit SBAR",
        "Correct an SBAR the SPO has not acted on yet",
        show=False,
        permission="raise_sbar",
    ),
    Command("admin_help", "question_mark", "app.help", "Help", "Every key on every screen", key_display="?"),
    Command("admin_quit", "q", "app.quit", "Quit", "Leave spo-tui", show=False),
)

#: What the palette and help say of a view, where "Show LABEL" would not say enough.
_FILTER_HELP = {
    "waiting": "Show waiting on others: information asked, escalated, returned for rework, delegated",
    "snoozed": "Show snoozed items, with the day each comes back (z brings one back now)",
    "catch_up": "Show the catch-up list: touch points already long overdue when they were made (an imported caseload)",
}

FILTER_COMMANDS: tuple[Command, ...] = tuple(
    Command(
        f"filter_{name}",
        FILTER_KEYS[name],
        f"filter('{name}')",
        label,
        _FILTER_HELP.get(name, f"Show {label.lower()}"),
        show=False,
    )
    for name, label, _kind in FILTERS
)


# --- The team-rhythm screens: check-in, protected hour, supervision, team dashboard, monthly pack.
# Every id is prefixed with its screen so a user keymap can remap any key on its own.
def _back(prefix: str) -> Command:
    return Command(f"{prefix}_back", "escape", "back", "Back", "Back to the previous screen", key_display="esc")


def _help(prefix: str) -> Command:
    return Command(f"{prefix}_help", "question_mark", "app.help", "Help", "Every key on every screen", key_display="?")


def _open_case(prefix: str) -> Command:
    return Command(f"{prefix}_open_case", "o", "open_case", "Case", "Open the case of the highlighted row (or Enter)")


def _sections(prefix: str, sections: tuple[tuple[str, str], ...]) -> tuple[Command, ...]:
    return tuple(
        Command(f"{prefix}_section_{pane}", str(n), f"section('{pane}')", label, f"Show {label.lower()}", show=False)
        for n, (pane, label) in enumerate(sections, start=1)
    )


#: The check-in's sections, in the order the meeting takes them: (pane id, label).
CHECKIN_SECTIONS: tuple[tuple[str, str], ...] = (
    ("absences", "Absences"),
    ("risk", "Risk points"),
    ("decisions", "Decisions"),
    ("team", "Team"),
    ("notes", "Notes"),
    # Individual workloads and the team's span [001, 002]: last, so keys 1–5 stay as they were learned.
    ("workload", "Workload"),
)

#: The team dashboard's panels: (pane id, label).
TEAM_SECTIONS: tuple[tuple[str, str], ...] = (
    ("people", "Team"),
    ("coverage", "Coverage"),
    ("unseen", "Not seen"),
    ("time", "Time"),
    ("trends", "Trends"),
)

CHECKIN_COMMANDS: tuple[Command, ...] = (
    Command("checkin_timer", "s", "timer", "Timer", "Start or pause the 15-minute check-in timer"),
    Command(
        "checkin_cover",
        "c",
        "cover",
        "Cover",
        "Have a practitioner at work cover the highlighted piece of work",
        permission="team_notes",
    ),
    Command(
        "checkin_reallocate",
        "r",
        "reallocate",
        "Reallocate",
        "Give the highlighted row's case to another practitioner for good (workload shown for each)",
        permission="maintain",
    ),
    Command(
        "checkin_note",
        "n",
        "note",
        "Note",
        "Note a concern, wellbeing, a success, an escalation, learning or a near miss",
        permission="team_notes",
    ),
    Command(
        "checkin_action",
        "a",
        "add_action",
        "Action",
        "Agree an action: what, who owns it, by when",
        permission="team_notes",
    ),
    Command(
        "checkin_export",
        "x",
        "export",
        "Export",
        "Write the check-in as Markdown (checkin-DATE.md) beside the database",
    ),
    _open_case("checkin"),
    *_sections("checkin", CHECKIN_SECTIONS),
    _back("checkin"),
    _help("checkin"),
)

PROTECTED_HOUR_COMMANDS: tuple[Command, ...] = (
    Command(
        "ph_decide",
        "d",
        "decide",
        "Decide",
        "Record the outcome of the highlighted booking as an oversight entry",
        permission="decide_sbar",
    ),
    Command(
        "ph_book",
        "b",
        "book",
        "Book",
        "Book an open SBAR into the highlighted free slot",
        permission="book_protected_hour",
    ),
    Command("ph_next_free", "n", "next_free", "Next free", "Go to the next free slot, today or a later day"),
    Command(
        "ph_prev_day",
        "left_square_bracket",
        "day(-1)",
        "Prev day",
        "The protected hour on the working day before",
        key_display="[",
    ),
    Command(
        "ph_next_day",
        "right_square_bracket",
        "day(1)",
        "Next day",
        "The protected hour on the next working day",
        key_display="]",
    ),
    _open_case("ph"),
    _back("ph"),
    _help("ph"),
)

SUPERVISION_COMMANDS: tuple[Command, ...] = (
    Command(
        "sv_book",
        "b",
        "book",
        "Book",
        "Book a one-to-one or RPSS session with the highlighted practitioner",
        permission="supervision",
    ),
    Command(
        "sv_postpone",
        "p",
        "postpone",
        "Postpone",
        "Move the practitioner's session to a later day",
        permission="supervision",
    ),
    Command(
        "sv_record",
        "r",
        "record",
        "Record",
        "Record the session as held today, an oversight entry per case discussed",
        permission="record_oversight",
    ),
    _back("sv"),
    _help("sv"),
)

TEAM_COMMANDS: tuple[Command, ...] = (
    Command(
        "team_touch_point",
        "t",
        "touch_point",
        "Touch point",
        "Put a touch point due today on the highlighted unseen case",
        permission="maintain",
    ),
    Command("team_window", "w", "window", "Window", "Coverage window: 90, 30 or 180 days"),
    Command(
        "team_rate_aqa",
        "a",
        "rate_aqa",
        "Rate OASys",
        "Record the AQA rating of the highlighted practitioner's OASys assessment (three Good: approved)",
        permission="rate_aqa",
    ),
    _open_case("team"),
    *_sections("team", TEAM_SECTIONS),
    _back("team"),
    _help("team"),
)

#: The PDU head's own section of the team dashboard, every team side by side: key 0, so everyone's
#: number keys stay as they are. Hidden from (and refused to) anyone else, and kept out of the help
#: screen's list, which every role sees; the section's tab title shows the key.
TEAM_PDU_COMMANDS: tuple[Command, ...] = (
    Command(
        "team_teams",
        "0",
        "teams",
        "Teams",
        "A PDU head: every team's coverage, backlog and cases not seen; Enter on a team shows that team",
        show=False,
        permission="all_teams",
    ),
)

MONTHLY_COMMANDS: tuple[Command, ...] = (
    Command(
        "monthly_answer",
        "a",
        "answer",
        "Answer",
        "Record the answer to the highlighted escalation",
        permission="team_notes",
    ),
    Command(
        "monthly_export", "x", "export", "Export", "Write the pack as Markdown (monthly-DATE.md) beside the database"
    ),
    _back("monthly"),
    _help("monthly"),
)

#: On a store connected to a team hub (``spo-tui connect``): exchange changes now rather than at the
#: next background sync. Not in ``ALL_COMMANDS``: help, the palette and the key offer it only on such
#: a store (``SpoApp.check_action``).
SYNC_NOW = Command(
    "sync_now",
    "S",
    "app.sync_now",
    "Sync with the hub now",
    "Send your changes to the team's hub and take in everyone else's",
    show=False,
)

#: The app's own commands, bound on every screen (``SpoApp.BINDINGS``).
APP_COMMANDS: tuple[Command, ...] = (SYNC_NOW,)

#: Screen title -> its commands, for ``commands.ALL_COMMANDS`` (the help screen).
RHYTHM_COMMANDS: dict[str, tuple[Command, ...]] = {
    "Daily check-in": CHECKIN_COMMANDS,
    "Protected hour": PROTECTED_HOUR_COMMANDS,
    "Supervision planner": SUPERVISION_COMMANDS,
    "Team and coverage": TEAM_COMMANDS + TEAM_PDU_COMMANDS,
    "Monthly meeting pack": MONTHLY_COMMANDS,
}

#: Screen title -> its commands, for the help screen.
ALL_COMMANDS: dict[str, tuple[Command, ...]] = {
    "Today (the queue)": TODAY_COMMANDS + FILTER_COMMANDS,
    "Case": CASE_COMMANDS,
    "Admin (the CASPO's home)": ADMIN_COMMANDS,
    **RHYTHM_COMMANDS,
}


#: How a key reads on screen where its name would not say it.
_KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "escape": "esc",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


def key_in_force(command: Command, keymap: dict[str, str] | None = None) -> str:
    """How the command's key reads: the user's key for its id if their keymap has one (``"D"``, or
    ``"D, ctrl+d"`` for several), else the display name if the command has one, else the key itself."""
    mapped = (keymap or {}).get(command.id)
    if mapped:
        return ", ".join(_KEY_NAMES.get(k.strip(), k.strip()) for k in mapped.split(",") if k.strip())
    if command.key_display:
        return command.key_display
    return _KEY_NAMES.get(command.key, command.key)


def pressed(command: Command, key: str, keymap: dict[str, str] | None = None) -> bool:
    """True when ``key`` (a Textual key name, as in ``events.Key.key``) is the command's key in force."""
    from textual.keys import _normalize_key_list

    mapped = (keymap or {}).get(command.id)
    if mapped:
        return key in _normalize_key_list(mapped).split(",")
    return key == command.key
