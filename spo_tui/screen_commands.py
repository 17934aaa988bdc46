"""The keys of the team-rhythm screens: check-in, protected hour, supervision, team dashboard, monthly pack.

Defined as ``spo_tui.commands.Command`` so each screen's ``BINDINGS``, the help screen and the
command palette come from the same definitions; ``commands.ALL_COMMANDS`` takes these tuples.
Every id is prefixed with its screen so a user keymap can remap any key on its own.
"""

from __future__ import annotations

from spo_tui.commands import Command


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
    Command("checkin_cover", "c", "cover", "Cover", "Have a practitioner at work cover the highlighted piece of work",
            permission="team_notes"),
    Command("checkin_note", "n", "note", "Note", "Note a concern, wellbeing, a success, an escalation, learning or a near miss",
            permission="team_notes"),
    Command("checkin_action", "a", "add_action", "Action", "Agree an action: what, who owns it, by when",
            permission="team_notes"),
    Command("checkin_export", "x", "export", "Export", "Write the check-in as Markdown (checkin-DATE.md) beside the database"),
    _open_case("checkin"),
    *_sections("checkin", CHECKIN_SECTIONS),
    _back("checkin"),
    _help("checkin"),
)  # fmt: skip

PROTECTED_HOUR_COMMANDS: tuple[Command, ...] = (
    Command("ph_decide", "d", "decide", "Decide", "Record the outcome of the highlighted booking as an oversight entry",
            permission="decide_sbar"),
    Command("ph_book", "b", "book", "Book", "Book an open SBAR into the highlighted free slot", permission="book_protected_hour"),
    Command("ph_next_free", "n", "next_free", "Next free", "Go to the next free slot, today or a later day"),
    Command("ph_prev_day", "left_square_bracket", "day(-1)", "Prev day", "The protected hour on the working day before",
            key_display="["),
    Command("ph_next_day", "right_square_bracket", "day(1)", "Next day", "The protected hour on the next working day",
            key_display="]"),
    _open_case("ph"),
    _back("ph"),
    _help("ph"),
)  # fmt: skip

SUPERVISION_COMMANDS: tuple[Command, ...] = (
    Command("sv_book", "b", "book", "Book", "Book a one-to-one or RPSS session with the highlighted practitioner",
            permission="supervision"),
    Command("sv_postpone", "p", "postpone", "Postpone", "Move the practitioner's session to a later day",
            permission="supervision"),
    Command("sv_record", "r", "record", "Record", "Record the session as held today, an oversight entry per case discussed",
            permission="record_oversight"),
    _back("sv"),
    _help("sv"),
)  # fmt: skip

TEAM_COMMANDS: tuple[Command, ...] = (
    Command("team_touch_point", "t", "touch_point", "Touch point", "Put a touch point due today on the highlighted unseen case",
            permission="maintain"),
    Command("team_window", "w", "window", "Window", "Coverage window: 90, 30 or 180 days"),
    _open_case("team"),
    *_sections("team", TEAM_SECTIONS),
    _back("team"),
    _help("team"),
)  # fmt: skip

MONTHLY_COMMANDS: tuple[Command, ...] = (
    Command("monthly_answer", "a", "answer", "Answer", "Record the answer to the highlighted escalation",
            permission="team_notes"),
    Command("monthly_export", "x", "export", "Export", "Write the pack as Markdown (monthly-DATE.md) beside the database"),
    _back("monthly"),
    _help("monthly"),
)  # fmt: skip

#: Screen title -> its commands, for ``commands.ALL_COMMANDS`` (the help screen).
RHYTHM_COMMANDS: dict[str, tuple[Command, ...]] = {
    "Daily check-in": CHECKIN_COMMANDS,
    "Protected hour": PROTECTED_HOUR_COMMANDS,
    "Supervision planner": SUPERVISION_COMMANDS,
    "Team and coverage": TEAM_COMMANDS,
    "Monthly meeting pack": MONTHLY_COMMANDS,
}
