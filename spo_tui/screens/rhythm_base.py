"""What the team-rhythm screens share: reading on mount, acting through a service, keys that apply.

Each screen reads through the services (fast local reads) in ``reload`` and acts only through a
service call: on success the audit id goes on the app's undo stack and the service's message is
shown; a refusal (SpoError) is shown as an error and nothing changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.screen import ModalScreen

from spo_tui.commands import pressed
from spo_tui.domain.text import visible
from spo_tui.domain.vocab import RoSH
from spo_tui.screens.acting import ActingScreen
from spo_tui.services import lookup


def cell(text: Any, style: str | Style = "") -> Text:
    """User text as a table cell: never parsed as markup, control characters shown as escapes
    (``domain.text.visible``), cut with an ellipsis."""
    return Text(visible("" if text is None else str(text), lines=False), style=style, no_wrap=True, overflow="ellipsis")


def uk(day: date | str | None) -> str:
    """A day as ``25/12/2026``; a stored ISO date or moment is read first (blank for none)."""
    if not day:
        return ""
    if not isinstance(day, date):
        day = date.fromisoformat(str(day)[:10])
    return f"{day:%d/%m/%Y}"


def rosh_label(value: str | None) -> str:
    return RoSH(value).label if value else ""


def rosh_short(value: str | None) -> str:
    return RoSH(value).short if value else ""


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 action``, ``2 actions`` (``words`` for an irregular plural)."""
    return f"{n} {word if n == 1 else words or word + 's'}"


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` readable by this user only (0600): it names people and cases."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.chmod(path, 0o600)  # an earlier file of the same name keeps its mode otherwise
    return path


class RhythmScreen(ActingScreen):
    """A team-rhythm screen: subclasses set ``COMMAND_LIST`` and implement ``reload``.

    ``applies(action)`` says whether a row-dependent key applies to what is highlighted: the footer
    greys it out when it does not. Keys the acting role may not use are hidden.
    """

    def __init__(self) -> None:
        super().__init__()
        self._loaded = False
        self._applying: tuple[bool, ...] | None = None
        self._under_modal = False

    @property
    def team(self) -> str | None:
        """The decider's team: the screens read that team's practitioners and cases (all when unset)."""
        if self.ctx.actor.get("role") == "PDU head":  # a PDU head's screens read every team
            return None
        return self.ctx.decider.get("team") or None

    def on_mount(self) -> None:
        self.setup()
        self.reload()
        self._loaded = True
        self.log_view()

    def log_view(self) -> None:
        """Log that the screen showed people's data, through ``self.app.record_view`` (on opening)."""

    def on_screen_suspend(self) -> None:
        # A modal's result comes back through ``_done`` (which reads again); another screen
        # (a case, the queue) may have changed anything, so read again when it closes.
        self._under_modal = isinstance(self.app.screen, ModalScreen)

    def on_screen_resume(self) -> None:
        if self._loaded and not self._under_modal:
            self.reload()

    def store_changed(self) -> None:
        """Another process, or a sync with the hub, saved something while this screen is in front
        (``SpoApp._poll_store``): a team's screen reads again, each cursor kept on its record
        (``fill``), so a colleague's cover or note shows in the check-in as it is made (a tenth of a
        second for a team). A PDU head's screens span every team (about a second to read on a PDU of
        5,000 cases), so they read again only when they come back into view, never under the keys."""
        if self._loaded and self.ctx.actor.get("role") != "PDU head":
            self.reload()

    def setup(self) -> None:
        """Add table columns and the like, once."""

    def reload(self) -> None:
        raise NotImplementedError

    # --- Keys that apply ---------------------------------------------------------------------------

    def applies(self, action: str) -> bool:
        """True when a row-dependent ``action`` fits the highlighted row (default: always)."""
        return True

    def why_not(self, action: str) -> str | None:
        """Why ``action`` does not fit the highlighted row, said when its key is pressed anyway."""
        return None

    def on_key(self, event) -> None:
        """A key whose action does not fit the highlighted row (dimmed in the footer) says why,
        rather than doing nothing: Textual passes such a key on, unhandled, to here."""
        if self.app.ctx is None:
            return
        for action, command in self._by_action.items():
            if pressed(command, event.key, getattr(self.app, "user_keymap", None)) and not self.applies(action):
                message = self.why_not(action)
                if message:
                    event.stop()
                    self.notify(message, severity="warning", markup=False, timeout=4)
                return

    def sync_bindings(self) -> None:
        """Refresh the footer only when what applies to the highlighted row has changed (each
        refresh rebuilds the footer)."""
        applying = tuple(self.applies(a) for a in self._by_action)
        if applying != self._applying:
            self._applying = applying
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        command = self._by_action.get(action)
        if command is None:
            return True
        if self.app.ctx is None or not self.permitted(action):
            return False
        if not self.is_mounted:
            return True
        return True if self.applies(action) else None

    def rosh_cell(self, value: str | None, short: bool = True) -> Text:
        """A RoSH level as a cell, in the theme's error colour when high and warning colour when medium."""
        if not value:
            return cell("")
        style = {
            "VERY_HIGH": self.theme_style("error", bold=True),
            "HIGH": self.theme_style("error"),
            "MEDIUM": self.theme_style("warning"),
        }.get(value, "")
        return cell(rosh_short(value) if short else rosh_label(value), style)

    # --- Acting ----------------------------------------------------------------------------------

    def _ask(self, title: str, placeholder: str, then: Callable[[str], None]) -> None:
        """Ask for one line of text (not empty) and hand it on."""
        from spo_tui.screens.prompts import PromptScreen

        self.app.push_screen(PromptScreen(title, placeholder), lambda text: then(text) if text else None)

    def _export(self, filename: str, text: str) -> Path | None:
        """Write an export beside the database (mode 0600) and say where."""
        path = self.app.db_path.resolve().parent / filename
        try:
            write_private(path, text)
        except OSError as error:
            self.notify(f"Could not write {path}: {error.strerror or error}", severity="error", markup=False)
            return None
        lookup.record_file_export(self.ctx, filename)
        self.notify(f"Written to {path}", markup=False, timeout=6)
        return path

    def open_crn(self, crn: str | None) -> None:
        if crn:
            self.app.open_case(crn)
        else:
            self.notify("No case on this row", severity="warning", markup=False)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
