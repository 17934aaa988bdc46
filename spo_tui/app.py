"""The Textual application: opens the store, picks the first screen, hosts the palette."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from datetime import datetime
from pathlib import Path

from textual import events, work
from textual.app import App, SystemCommand
from textual.screen import Screen

from spo_tui.config import load_rules
from spo_tui.domain.dates import utc_now
from spo_tui.domain.errors import SpoError
from spo_tui.services.context import Context, make_context
from spo_tui.store.db import is_empty, open_db


class SpoApp(App[None]):
    """spo-tui. Given its database path; nothing is opened until the app mounts."""

    CSS_PATH = "app.tcss"
    TITLE = "spo-tui"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

    def __init__(
        self,
        db_path: str | Path,
        *,
        actor: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        demo_builder: Callable[[Path], None] | None = None,
        theme: str = "textual-dark",
    ) -> None:
        super().__init__()
        # No animation: every frame shows a result, and a busy manager's keys are never kept waiting.
        self.animation_level = "none"
        self.db_path = Path(db_path)
        self.actor_name = actor
        self.clock = clock
        self.demo_builder = demo_builder
        self.start_theme = theme
        self.ctx: Context | None = None
        self._last_key_at = time.monotonic()
        #: Audit ids of this session's actions, newest last: what `u` undoes.
        self.undo_stack: list[int] = []

    def on_mount(self) -> None:
        self.theme = self.start_theme if self.start_theme in self.available_themes else "textual-dark"
        db = open_db(self.db_path)
        if is_empty(db):
            from spo_tui.screens.first_run import FirstRunScreen

            db.close()
            self.push_screen(FirstRunScreen(self.db_path))
            return
        self.start(db)

    def start(self, db=None) -> None:
        """Build the acting context and show the home screen: Today, or Admin for a CASPO."""
        from spo_tui.domain.vocab import Role
        from spo_tui.screens.admin import AdminScreen
        from spo_tui.screens.today import TodayScreen

        db = db or open_db(self.db_path)
        try:
            self.ctx = make_context(db, load_rules(), self.actor_name, clock=self.clock)
        except SpoError as error:
            self.exit(message=str(error))
            return
        read_only = " · READ-ONLY: nothing can be saved" if getattr(db, "read_only", False) else ""
        self.sub_title = f"{self.ctx.actor['name']} ({self.ctx.actor['role']}) · {self.ctx.today:%A %d %B %Y}{read_only}"
        self._data_version = self._store_version()
        self.set_interval(self.POLL_SECONDS, self._poll_store, name="store-poll")
        self.set_timer(self.VERIFY_AFTER, self.check_record)  # after the first paint, not in its way
        gc.set_threshold(700, 10, 1000)  # full collections rare: the app makes them when idle
        self.set_timer(self.SETTLE_AFTER, self._settle_memory)
        self.set_interval(self.TIDY_EVERY, self._tidy_memory_if_idle, name="tidy-memory")
        home = AdminScreen if self.ctx.actor["role"] == Role.CASPO.value else TodayScreen
        if len(self.screen_stack) > 1:  # coming from the first-run screen
            self.switch_screen(home())
        else:
            self.push_screen(home())

    #: How often the app looks for changes made by another process (the CASPO's, say).
    POLL_SECONDS = 1.0
    #: Seconds after start-up before the oversight chain is verified in the background.
    VERIFY_AFTER = 2.0
    #: Seconds after start-up before the objects made so far are set aside from garbage collection.
    SETTLE_AFTER = 1.0
    #: How often, and after how many seconds without a key, memory is tidied while the user is idle.
    TIDY_EVERY = 30.0
    IDLE_BEFORE_TIDY = 3.0

    def _settle_memory(self) -> None:
        """Collect garbage, then freeze what is alive out of the collector's way.

        A full collection over what a running app holds takes 50–130 ms on a modest laptop, and
        Python starts one whenever enough objects have piled up: in the middle of a keypress, now
        and then. So the app makes full collections rare (``gc.set_threshold``) and does them
        itself: once after start-up, then every ``TIDY_EVERY`` seconds if no key was pressed for
        ``IDLE_BEFORE_TIDY``. Unfreezing first means nothing frozen earlier is kept for ever.
        """
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def _tidy_memory_if_idle(self) -> None:
        if time.monotonic() - self._last_key_at >= self.IDLE_BEFORE_TIDY:
            self._settle_memory()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key_at = time.monotonic()
        await super().on_event(event)

    #: Below this size the screens cannot draw properly; the app says so instead.
    MIN_SIZE = (80, 24)

    def store_state(self) -> tuple[int, int]:
        """Changes as this app can see them: another process's commits (data_version) and this
        connection's own (total_changes). Equal states mean nothing was written in between."""
        if self.ctx is None:
            return (0, 0)
        return self._store_version(), self.ctx.db.conn.total_changes

    def _store_version(self) -> int:
        return self.ctx.db.execute("PRAGMA data_version").fetchone()[0] if self.ctx else 0

    def _poll_store(self) -> None:
        """``PRAGMA data_version`` changes when another connection commits: then the screen reloads."""
        version = self._store_version()
        if version != self._data_version:
            self._data_version = version
            # Only the screen in front reloads now; the ones beneath read again when they return.
            reload = getattr(self.screen, "store_changed", None)
            if reload is not None and self.screen.is_mounted and self.screen.is_attached:
                reload()

    @contextlib.contextmanager
    def thread_context(self) -> Iterator[Context]:
        """The acting context on a connection of its own, for a worker thread (a connection may be
        used only by the thread that opened it)."""
        ctx = self.ctx
        db = open_db(self.db_path, migrate=False)
        try:
            yield make_context(db, ctx.rules, ctx.actor["name"], clock=ctx.clock)
        finally:
            db.close()

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify")
    def check_record(self) -> None:
        """Check the signed oversight record on a connection of this thread's own (streamed, as
        ``spo-tui verify`` does); anchor its head if it holds, warn if it does not."""
        from spo_tui.services.integrity import anchor, check_record

        db = open_db(self.db_path, migrate=False)
        try:
            check = check_record(db)
            if check.ok:
                anchor(db, "app", trusted=check.trusted, db_path=str(self.db_path))
        finally:
            db.close()
        if not check.ok:
            more = f" (and {len(check.problems) - 1} more)" if len(check.problems) > 1 else ""
            self.call_from_thread(
                self.notify,
                f"The oversight record does not hold: {check.problems[0].message}{more}. Run spo-tui verify.",
                severity="error", timeout=30, markup=False,
            )  # fmt: skip

    def on_resize(self, event: events.Resize) -> None:
        from spo_tui.screens.too_small import TooSmallScreen

        small = event.size.width < self.MIN_SIZE[0] or event.size.height < self.MIN_SIZE[1]
        showing = isinstance(self.screen, TooSmallScreen)
        if small and not showing:
            self.push_screen(TooSmallScreen(self.MIN_SIZE))
        elif not small and showing:
            self.pop_screen()

    def action_help(self) -> None:
        from spo_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: the screen's own commands that apply now, then go-to-case, help and Textual's."""
        for command in getattr(screen, "COMMAND_LIST", ()):
            if command.action.startswith("app.") or not screen.check_action(command.action, ()):
                continue
            key = command.key_display or command.key
            yield SystemCommand(f"{command.description} ({key})", command.help, partial(screen.run_action, command.action))
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help: every key", "Show every key on every screen", self.action_help)
        if self.ctx is not None:
            yield SystemCommand("Go to case by CRN", "Type a CRN or name to open the case", self.action_goto_case)

    def action_goto_case(self) -> None:
        from spo_tui.screens.prompts import PromptScreen

        def open_case(text: str | None) -> None:
            if text:
                self.open_case(text)

        self.push_screen(PromptScreen("Go to case", "CRN or name, e.g. X123456"), open_case)

    def open_case(self, crn_or_name: str) -> None:
        """Open the case screen for a CRN (or the only case matching a name)."""
        from spo_tui.screens.case import CaseScreen
        from spo_tui.services import lookup

        assert self.ctx is not None
        matches = lookup.find_cases(self.ctx, crn_or_name, limit=2)
        exact = [m for m in matches if m["crn"] == crn_or_name.strip().upper()]
        if exact or len(matches) == 1:
            self.push_screen(CaseScreen((exact or matches)[0]["crn"]))
        elif not matches:
            self.notify(f"No case matches '{crn_or_name}'", severity="warning", markup=False)
        else:
            self.notify(f"More than one case matches '{crn_or_name}': type the CRN", severity="warning", markup=False)
