"""The Textual application: opens the store, picks the first screen, hosts the palette."""

from __future__ import annotations

import contextlib
import gc
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from rich.segment import Segment
from textual import events, work
from textual.app import App, SystemCommand
from textual.color import Color
from textual.filter import LineFilter
from textual.message import Message
from textual.notifications import Notification, Notify, SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from spo_tui.commands import APP_COMMANDS, SYNC_NOW, key_in_force
from spo_tui.config import load_rules
from spo_tui.domain.dates import utc_now
from spo_tui.domain.errors import SpoError
from spo_tui.domain.text import strip_controls, visible
from spo_tui.services import lookup
from spo_tui.services.context import Context, make_context
from spo_tui.store.db import (
    StoreError,
    WriteHold,
    db_errors,
    file_identity,
    hold_writes,
    is_empty,
    open_db,
    release_writes,
)

if TYPE_CHECKING:
    from spo_tui.services.sync import SyncResult, SyncStatus


class NoControlCharacters(LineFilter):
    """The last guard before the terminal: no control character in any text drawn reaches it.

    Every screen shows stored text through ``domain.text.visible``, which writes an escape (``\\x1b``)
    in place of a control character. Should one slip past (a widget that shows text as it is),
    this filter, which Textual runs over every line of every widget, drops it: a terminal then never
    obeys an escape sequence held in a name or a note. Dropping it keeps the line's width, as the
    layout measured control characters as taking no cells.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if all(segment.text.isprintable() for segment in segments):
            return segments
        return [
            segment
            if segment.control or segment.text.isprintable()
            else Segment(strip_controls(segment.text), segment.style)
            for segment in segments
        ]


def acting_line(ctx: Context, acting) -> str:
    """The header's "who is acting": name, role, team (or every team), for whom a CASPO enters records,
    the day, and how to switch when this login may act as someone else (``spo-tui staff use NAME``, or
    ``--as NAME`` on the run that opens the TUI: both are remembered as an explicit choice)."""
    actor = ctx.actor
    team = "every team" if ctx.team is None and actor["role"] == "PDU head" else (ctx.team or "")
    who = f"{actor['name']} ({actor['role']}{', ' + team if team else ''})"
    if ctx.on_behalf_of:
        who += f" for {ctx.decider['name']}"
    who += f" · {ctx.today:%a %d/%m/%Y}"
    if len(getattr(acting, "linked", ())) > 1:
        who += " · switch: spo-tui staff use NAME"
    return who


def known_binding_ids() -> set[str]:
    """Every binding id a keymap may name: the commands (``spo_tui.commands``), and the bindings with
    an id on every screen and widget of spo-tui (forms, prompts, help) and of Textual's App and Screen.
    Here, not in ``commands``, because it imports every screen (widgets import ``commands``)."""
    import importlib
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import spo_tui.screens
    import spo_tui.widgets
    from spo_tui.commands import ALL_COMMANDS

    ids = {c.id for commands in (*ALL_COMMANDS.values(), APP_COMMANDS) for c in commands}
    classes: list[type] = [App, Screen]
    for package in (spo_tui.screens, spo_tui.widgets):
        for module_info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            classes.extend(v for v in vars(module).values() if isinstance(v, type) and issubclass(v, DOMNode))
    for cls in classes:
        for binding in getattr(cls, "BINDINGS", ()):
            if isinstance(binding, Binding) and binding.id:
                ids.add(binding.id)
    return ids


def _case_finder():
    from spo_tui.palette import CaseFinder

    return CaseFinder


@dataclass(frozen=True)
class SyncOutcome:
    """What a background sync came to: the engine's result (None if it did not finish), where the
    store stands after it, and what went wrong (``refused``: the hub said no)."""

    result: SyncResult | None
    status: SyncStatus
    problem: str | None = None
    refused: bool = False


def _home(name: str) -> Screen:
    """The home screen of a mode (imported when first shown, not at start-up)."""
    if name == "admin":
        from spo_tui.screens.admin import AdminScreen

        return AdminScreen()
    from spo_tui.screens.today import TodayScreen

    return TodayScreen()


class SpoApp(App[None]):
    """spo-tui. Given its database path; nothing is opened until the app mounts."""

    CSS_PATH = "app.tcss"
    TITLE = "spo-tui"
    #: The palette: the screen's commands (``get_system_commands``) and, as a CRN or name is typed, cases.
    COMMANDS = App.COMMANDS | {lambda: _case_finder()}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    #: The two homes, as the Textual demo does it: the SPO's queue and the CASPO's admin screen. Each
    #: keeps its own stack, so going from one to the other and back finds it as it was left; the
    #: screens never import each other (import-linter keeps the screens acyclic).
    MODES = {"today": lambda: _home("today"), "admin": lambda: _home("admin")}
    #: Keys of the app's own, on every screen (the sync key applies only on a store with a hub).
    BINDINGS = [c.binding() for c in APP_COMMANDS]

    #: Where this store stands with its team hub, for the header (``widgets.header``); None on a store
    #: without a hub, which then shows and does nothing of syncing.
    sync_status: var[SyncStatus | None] = var(None)
    #: True for ``REFUSAL_SHOWN`` seconds after the hub refused a sync: the header says so.
    sync_refused: var[bool] = var(False)

    def __init__(
        self,
        db_path: str | Path,
        *,
        actor: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        demo_builder: Callable[[Path], None] | None = None,
        theme: str = "textual-dark",
        notice: str | None = None,
        keymap: dict[str, str] | None = None,
        start_checks: bool = False,
    ) -> None:
        super().__init__()
        # No animation: every frame shows a result, and a busy manager's keys are never kept waiting.
        self.animation_level = "none"
        self.db_path = Path(db_path)
        #: Who to act as (``--as``): one of the staff linked to this computer login, checked on start.
        self.actor_name = actor
        #: Something to tell the user once on start (that set-up linked them to the SPO).
        self.notice = notice
        self.clock = clock
        self.demo_builder = demo_builder
        self.start_theme = theme
        self.ctx: Context | None = None
        #: Set to the message shown once the database file was found replaced under the app (or found
        #: damaged by the start-up check): nothing more is saved from this window.
        self.store_replaced: str | None = None
        #: Check the database and make the day's backup in the background once the first screen is
        #: drawn (``spo-tui`` asks for it; tests that drive the app leave it off unless testing it).
        self.start_checks = start_checks
        #: Said on standard error, line for line as it is, after the app has closed (``cmd_tui`` prints
        #: it: Textual's exit message would be wrapped at the terminal's width, mid-path).
        self.farewell: str | None = None
        self._write_hold: WriteHold | None = None
        self._first_paint = threading.Event()
        #: The connection the background record check reads on, while it runs (``check_record``).
        self._checking: object | None = None
        self._closing = False
        #: The notice shown while the day's backup is made (taken down when it ends).
        self._backup_notice: object | None = None
        self._last_key_at = time.monotonic()
        #: Audit ids of this session's actions, newest last: what `u` undoes.
        self.undo_stack: list[int] = []
        self._no_controls = NoControlCharacters()
        #: The views logged once per session (the home screens) that have been logged.
        self.views_logged: set[str] = set()
        #: The user's keys (binding id -> key) from the ``[keymap]`` of their config file, applied on
        #: mount; None: read the file then (``spo_tui.config.load_keymap``).
        self.user_keymap: dict[str, str] | None = keymap
        #: A background sync with the hub is under way (only one at a time); how many have ended.
        self.syncing = False
        self.syncs_ended = 0
        self._sync_asked = False  # the user asked for the sync under way: say how it went
        self._sync_told: set[str] = set()  # sync problems already shown: each is shown once
        self._own_sealed = 0  # changes sealed on this app's connection (its saves) when last looked
        self._hub_version = 0  # the store's data_version when the header's count was last read
        self._push_timer: Timer | None = None
        self._refusal_timer: Timer | None = None

    def get_line_filters(self) -> list[LineFilter]:
        return [*super().get_line_filters(), self._no_controls]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notification, with any control character in the text shown as an escape."""
        super().notify(visible(message), title=visible(title), severity=severity, timeout=timeout, markup=markup)

    #: What the terminal's own title bar (or tab) says: set on start, restored on quit.
    terminal_title: str = ""

    def watch_sub_title(self, sub_title: str) -> None:
        """The terminal's title follows the header: ``spo-tui — NAME (ROLE)``, so a tab or a window
        list shows which app, and as whom, without switching to it. The date is left out of it."""
        who = sub_title.split(" · ")[0] if sub_title else ""
        self._set_terminal_title(f"{self.title} — {who}" if who else self.title)

    def _set_terminal_title(self, text: str) -> None:
        """Say ``text`` in the terminal's title (OSC 2), first keeping the terminal's own title on its
        title stack (XTWINOPS 22) so quitting puts it back; terminals without a stack ignore that."""
        text = visible(text, lines=False).replace("\x07", "")
        driver = self._driver
        if driver is None or text == self.terminal_title:
            return
        if not self.terminal_title:
            driver.write("\x1b[22;0t")
        self.terminal_title = text
        driver.write(f"\x1b]2;{text}\x07")
        driver.flush()

    def on_unmount(self) -> None:
        self._first_paint.set()  # a start-up worker waiting for it goes on, sees the app closing, and stops
        self._closing = True
        checking = self._checking
        if checking is not None:  # the record check (4 s on a PDU) stops now: quitting does not wait for it
            checking.interrupt()  # type: ignore[attr-defined]  # sqlite3's and SQLCipher's connections
        if self._write_hold is not None:
            release_writes(self.db_path, self._write_hold)
        if self.terminal_title and self._driver is not None:
            self._driver.write("\x1b[23;0t")  # the terminal's own title back
            self._driver.flush()

    def on_mount(self) -> None:
        self._set_terminal_title(self.title)
        self.theme = self.start_theme if self.start_theme in self.available_themes else "textual-dark"
        if self.user_keymap is None:
            from spo_tui.config import load_keymap

            try:
                self.user_keymap = load_keymap(known_binding_ids)
            except SpoError as error:
                self.user_keymap = {}
                self.exit(return_code=2, message=visible(str(error), lines=False))
                return
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        db = open_db(self.db_path)
        if is_empty(db):
            from spo_tui.screens.first_run import FirstRunScreen

            db.close()
            self.push_screen(FirstRunScreen(self.db_path))
            return
        self.start(db)

    def start(self, db=None) -> None:
        """Build the acting context and show the home screen: Today, or Admin for a CASPO or a QDO.

        Who is acting is decided by ``services.identity.who_is_acting``: this computer login's link to
        a member of staff (``actor`` chooses among several); a login nobody linked gets a one-line refusal.
        """
        from spo_tui.config import current_os_user, remembered_actor
        from spo_tui.domain.vocab import Role
        from spo_tui.services.identity import who_is_acting

        db = db or open_db(self.db_path)
        if self.start_checks and self._write_hold is None:
            self._check_store_in_background(db)
        os_user = current_os_user()
        try:
            acting = who_is_acting(db, os_user, self.actor_name, remembered=remembered_actor(self.db_path))
            self.ctx = make_context(db, load_rules(), acting.staff["name"], clock=self.clock, os_user=os_user)
        except SpoError as error:
            self.exit(message=visible(str(error), lines=False))
            return
        if self.start_checks:
            self._order_provisionally_until_scored()
        notice = self.notice or acting.notice
        if notice:
            self.notify(notice, timeout=30, markup=False)
        read_only = " · READ-ONLY: nothing can be saved" if getattr(db, "read_only", False) else ""
        self._start_syncing(db)  # before the home screen's header is made: it shows the hub's status
        self.sub_title = visible(acting_line(self.ctx, acting) + read_only, lines=False)
        self._data_version = self._store_version()
        self._file_identity = file_identity(self.db_path)
        self._audit_seen = lookup.last_audit_id(self.ctx)
        self.set_interval(self.POLL_SECONDS, self._poll_store, name="store-poll")
        self.set_timer(self.VERIFY_AFTER, self.check_record)  # after the first paint, not in its way
        gc.set_threshold(700, 10, 1000)  # full collections rare: the app makes them when idle
        self.set_timer(self.SETTLE_AFTER, self._warm_up)
        self.set_interval(self.TIDY_EVERY, self._tidy_memory_if_idle, name="tidy-memory")
        if len(self.screen_stack) > 1:  # coming from the first-run screen
            self.pop_screen()
        # The CASPO's home is the admin screen, and so is the QDO's: their work there is the R-CAT list.
        self.switch_mode("admin" if self.ctx.actor["role"] in (Role.CASPO.value, Role.QDO.value) else "today")
        if self.start_checks:
            self.call_after_refresh(self._when_drawn)

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

    #: Modules of the screens opened most, imported once the first screen is up rather than on their
    #: first opening (the case screen and the oversight form it reaches: 40 ms of a first case).
    WARM_MODULES = ("spo_tui.screens.case", "spo_tui.screens.oversight_form", "spo_tui.screens.help")

    def _warm_up(self) -> None:
        """After start-up: import the screens opened most (on a thread: no key waits for it), then
        settle memory (``_settle_memory``) with them in it."""
        self._warm_imports()

    @work(thread=True, exit_on_error=False, group="warm-up")
    def _warm_imports(self) -> None:
        import importlib

        for name in self.WARM_MODULES:
            importlib.import_module(name)
        if self.is_running:
            with contextlib.suppress(RuntimeError):  # the app ended meanwhile: nothing to settle
                self.call_from_thread(self._settle_memory)

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
        """``PRAGMA data_version`` changes when another connection commits: then the screen reloads.

        First, the file at the database's path must still be the one the app opened (same inode,
        same header): if another file was moved, renamed or copied onto it, nothing more is saved.
        Nothing while the app is closing (its screens gone): the change is left for no one to show.
        """
        if self.store_replaced or self._closing_down():
            return
        if file_identity(self.db_path) != self._file_identity:
            self._store_was_replaced()
            return
        if self.sync_status is not None:
            self._notice_writes()
            if self.syncing:
                return  # the sync's own commits: looked at once it ends (``_sync_finished``)
        version = self._store_version()
        if version != self._data_version:
            self._data_version = version
            assert self.ctx is not None  # polled only once started
            self._audit_seen, only_views = lookup.only_reads_since(self.ctx, self._audit_seen)
            if only_views:
                return  # only views logged (this app's own, on their thread): nothing on screen changed
            self._reload_front_screen()

    def _closing_down(self) -> bool:
        """True once the app has begun to close: Textual stops running it first, then takes its
        screens down one by one (a screen's widgets may be gone while it is still on the stack),
        while the app's own timers still tick."""
        return not self.is_running or not self.screen_stack

    def _reload_front_screen(self) -> None:
        """The screen in front reads the store again (``store_changed``), if it has one and is on
        show; the ones beneath read again when they return. Nothing while the app is closing (its
        screens already gone): a poll or a message that arrives then has nothing to show."""
        if self._closing_down():
            return
        front = self.screen
        reload = getattr(front, "store_changed", None)
        if reload is not None and front.is_mounted and front.is_attached:
            reload()

    #: Shown (and given for every refused save) once the database file was replaced under the app.
    REPLACED_MESSAGE = (
        "The database file {path} was replaced while spo-tui had it open (another file was copied, moved "
        "or renamed onto it). To keep the record safe, nothing more is saved from this window: "
        "quit (q) and start spo-tui again, then check the record with: spo-tui verify"
    )

    def _store_was_replaced(self) -> None:
        """Stop saving on the old connection (its writes would go to a file no longer there, or into
        the middle of another one) and cover the screen, whose data may no longer be what is in the
        file, with a message until the user quits. Decided: no reopening behind the user's back, since
        the new file may be an older copy or someone else's; starting again opens it with every check."""
        from spo_tui.screens.replaced import StoreReplacedScreen

        message = self.REPLACED_MESSAGE.format(path=self.db_path)
        self.store_replaced = message
        assert self.ctx is not None  # found by the poll, which runs once started
        self.ctx.db.refuse_all_writes(message)
        self.sub_title = "DATABASE FILE REPLACED: nothing more is saved. Quit and start again"
        self.notify(message, title="The database was replaced", severity="error", timeout=24 * 3600, markup=False)
        self.push_screen(StoreReplacedScreen(message))

    @contextlib.contextmanager
    def thread_context(self) -> Iterator[Context]:
        """The acting context on a connection of its own, for a worker thread (a connection may be
        used only by the thread that opened it)."""
        if self.store_replaced:
            raise StoreError(self.store_replaced)
        ctx = self.ctx
        assert ctx is not None  # asked for only once started
        db = open_db(self.db_path, migrate=False)
        try:
            yield make_context(db, ctx.rules, ctx.actor["name"], clock=ctx.clock, os_user=ctx.os_user)
        finally:
            db.close()

    def record_view(self, record: Callable[..., object], /, *, once: str | None = None, **shown: object) -> None:
        """Log what the user was shown: ``record(ctx, **shown)`` is one of ``services.lookup``'s
        ``record_…`` functions. It runs on a worker thread with a connection of its own, so the
        screen never waits for the write lock (another process may hold it for a moment). With
        ``once``, only the first such view of the session is logged. A view that cannot be logged
        (a read-only store, or one busy past the timeout) is still shown."""
        if self.ctx is None or getattr(self.ctx.db, "read_only", False) or once in self.views_logged:
            return
        if once is not None:
            self.views_logged.add(once)
        self._write_view_record(record, shown)

    @work(thread=True, exit_on_error=False, group="access-log")
    def _write_view_record(self, record: Callable[..., object], shown: dict[str, object]) -> None:
        try:
            with self.thread_context() as ctx:
                record(ctx, **shown)
        except (SpoError,) + db_errors():
            pass  # not logged: the screen is shown all the same

    @work(thread=True, exclusive=True, exit_on_error=False, group="verify")
    def check_record(self) -> None:
        """Check the signed oversight record on a connection of this thread's own (streamed, as
        ``spo-tui verify`` does); anchor its head if it holds, warn if it does not."""
        from spo_tui.services.integrity import anchor, check_record

        db = open_db(self.db_path, migrate=False)
        self._checking = db.conn
        try:
            if self._closing:
                return
            check = check_record(db)
            if check.ok:
                anchor(db, "app", trusted=check.trusted, db_path=str(self.db_path))
        except db_errors("OperationalError"):
            if self._closing:  # interrupted by quitting (``on_unmount``): the next start checks again
                return
            raise
        finally:
            self._checking = None
            db.close()
        if not check.ok:
            more = f" (and {len(check.problems) - 1} more)" if len(check.problems) > 1 else ""
            self.call_from_thread(
                self.notify,
                f"The oversight record does not hold: {check.problems[0].message}{more}. Run spo-tui verify.",
                severity="error",
                timeout=30,
                markup=False,
            )

    # --- The start-up's background work: the check of the file, the day's backup --------------------------

    #: Said (and printed again on quitting) when the start-up check finds the database damaged.
    DAMAGED_MESSAGE = (
        "The database is damaged: {problem}. To keep the record safe, nothing more is saved from this "
        "window: quit (q), then {advice}"
    )
    #: Shown while the day's backup is made, then taken down.
    BACKUP_NOTICE = "Backing up today's copy of the database…"
    #: Seconds the notice may stay if it cannot be taken down (see ``_take_down_backup_notice``).
    BACKUP_NOTICE_AT_MOST = 60.0
    #: How often the start-up worker looks whether the backup's process has ended.
    BACKUP_POLL = 0.05
    #: Seconds the start-up worker waits for the first screen to be drawn before it goes on anyway.
    PAINT_WAIT_AT_MOST = 30.0

    class StoreDamaged(Message):
        """The start-up check found the database damaged (posted from its worker)."""

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class DayScored(Message):
        """The day's rescoring ended (or could not run): the queue may be read in the day's order."""

    class BackupStarted(Message):
        """The day's backup began (posted from the start-up worker)."""

    class BackupEnded(Message):
        """The day's backup ended: ``problem`` says why it failed, None if it was made."""

        def __init__(self, problem: str | None) -> None:
            super().__init__()
            self.problem = problem

    def _check_store_in_background(self, db) -> None:
        """Hold every write to the database (``store.db.WriteHold``), then start the start-up worker:
        it checks the file (``quick_check``) at once, on a thread of its own beside the drawing of the
        first screen, and once that screen is drawn makes the day's backup. Nothing of it stands
        between Enter and the queue; a save waits for the check only if made before the check ends
        (0.2 s on a PDU's 200 MB), so nothing is saved to, and acknowledged on, a damaged store."""
        self._write_hold = hold_writes(self.db_path)
        db.write_hold = self._write_hold
        self._start_worker(self._write_hold)

    def _order_provisionally_until_scored(self) -> None:
        """On the first start of a day, draw the queue in the stored order of the day before (read by
        the index) rather than scoring every item in the query first (0.3 s on a PDU): the start-up
        worker scores the day, then the screen reads again in the day's order (``on_spo_app_day_scored``)."""
        from spo_tui.store import scoring

        assert self.ctx is not None
        db = self.ctx.db
        if not getattr(db, "read_only", False) and not scoring.scores_current(
            db, self.ctx.today, self.ctx.rules.urgency
        ):
            self.ctx.provisional_order = True

    def _when_drawn(self) -> None:
        """Called after a refresh: once a home screen has been drawn, the day's backup may begin."""
        if self._closing_down():
            return  # closed before anything was drawn
        if self.ctx is not None and self.screen.is_mounted and self.screen.id != "_default":
            self._first_paint.set()
        else:
            self.call_after_refresh(self._when_drawn)

    @work(thread=True, exclusive=True, exit_on_error=False, group="start-checks")
    def _start_worker(self, hold: WriteHold) -> None:
        from spo_tui.store.backup import check_integrity, restore_advice

        worker = get_current_worker()
        try:
            result = check_integrity(self.db_path, quick=True)
        except BaseException:
            hold.end()  # the check could not run (said as the worker's failure): saves go on
            raise
        if not result.ok:
            message = self.DAMAGED_MESSAGE.format(
                problem=result.message.removeprefix(f"{self.db_path} is damaged: "), advice=restore_advice(self.db_path)
            )
            hold.end(refusal=message)
            self.post_message(self.StoreDamaged(message))
            return
        hold.end()
        self._first_paint.wait(self.PAINT_WAIT_AT_MOST)
        if worker.is_cancelled or not self.is_running:
            return
        self._score_the_day()
        if worker.is_cancelled or not self.is_running:
            return
        self._back_up_today(lambda: worker.is_cancelled)

    def _score_the_day(self) -> None:
        """Score every item for the day if the day moved on (``services.queue.update_scores``, in short
        transactions), then have the screen read again (``on_spo_app_day_scored``)."""
        from spo_tui.services.queue import update_scores

        try:
            if self.ctx is not None and self.ctx.provisional_order:
                with self.thread_context() as ctx:
                    update_scores(ctx)
        finally:
            self.post_message(self.DayScored())

    def daily_backup_command(self) -> list[str]:
        """The command that makes the day's backup: ``spo-tui --db PATH backup --daily``."""
        return [sys.executable, "-m", "spo_tui", "--db", str(self.db_path), "backup", "--daily"]

    def _back_up_today(self, stop: Callable[[], bool]) -> None:
        """Make the day's backup if none was made today, saying so while it runs.

        It runs as a process of its own (``daily_backup_command``: compressed, checked, the oldest
        daily ones rotated away), started in a session of its own: it takes nothing from the app's
        share of the interpreter, and it finishes even when the app is quit a moment after it starts
        (or its terminal is closed); quitting never waits for it. A process killed half-way leaves no
        half backup (``store.backup``), and the next start makes the day's. A read-only store is not
        backed up here: nothing is saved from this window, and its owner's app backs it up."""
        from spo_tui.store.backup import backup_due

        if getattr(self.ctx and self.ctx.db, "read_only", False) or not backup_due(self.db_path):
            return
        self.post_message(self.BackupStarted())
        problem = None
        try:
            with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as said:
                try:
                    process = subprocess.Popen(
                        self.daily_backup_command(),
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=said,
                        start_new_session=True,
                    )
                except OSError as error:
                    problem = f"it could not be started ({error.strerror or error})"
                    return
                while process.poll() is None:
                    if stop():
                        return  # the app is closing: the backup goes on by itself
                    time.sleep(self.BACKUP_POLL)
                if process.returncode != 0:
                    said.seek(0)
                    lines = [line.strip() for line in said.read().splitlines() if line.strip()]
                    last = lines[-1] if lines else f"it ended with status {process.returncode}"
                    problem = last.removeprefix("spo-tui: ")
        finally:
            self.post_message(self.BackupEnded(problem))

    def _handle_exception(self, error: Exception) -> None:
        """A damaged database met while drawing (before the start-up check has said so, or later) ends
        the app with how to restore it, not a traceback. Textual's hook for an unhandled error: kept to
        this one case, everything else is Textual's."""
        text = str(error).lower()
        if isinstance(error, db_errors("DatabaseError")) and ("malformed" in text or "not a database" in text):
            from spo_tui.store.backup import restore_advice

            if self._write_hold is not None:
                self._write_hold.end(refusal=f"the database is damaged ({error})")
            self.farewell = visible(
                f"spo-tui: the database {self.db_path} is damaged ({error}). Nothing more was saved; "
                f"{restore_advice(self.db_path)}",
                lines=False,
            )
            self.exit(return_code=2)
            return
        super()._handle_exception(error)

    def on_spo_app_store_damaged(self, message: StoreDamaged) -> None:
        """Stop saving, and cover the screen with what happened and how to restore; quitting prints it
        again and ends with status 2 (``StoreReplacedScreen``)."""
        from spo_tui.screens.replaced import StoreReplacedScreen

        if self.store_replaced:
            return
        self.store_replaced = message.message
        if self.ctx is not None:
            self.ctx.db.refuse_all_writes(message.message)
        self.sub_title = "DATABASE DAMAGED: nothing more is saved. Quit and restore a backup"
        self.notify(message.message, title="The database is damaged", severity="error", timeout=24 * 3600, markup=False)
        self.push_screen(StoreReplacedScreen(message.message))

    def on_spo_app_day_scored(self, _message: DayScored) -> None:
        """The first screen of the day was read in the day before's order: read it again now, the cursor
        kept on its item (``store_changed``). Should the rescoring have failed (a busy store), the reads
        score in the query from now on, so the order is the day's either way."""
        if self.ctx is None or not self.ctx.provisional_order:
            return
        self.ctx.provisional_order = False
        if self.store_replaced:
            return
        self._reload_front_screen()

    def on_spo_app_backup_started(self, _message: BackupStarted) -> None:
        notice = Notification(self.BACKUP_NOTICE, "", "information", self.BACKUP_NOTICE_AT_MOST, markup=False)
        self._backup_notice = notice
        self.post_message(Notify(notice))

    def on_spo_app_backup_ended(self, message: BackupEnded) -> None:
        self.call_later(self._take_down_backup_notice)  # after the notice itself (a message too) is shown
        if message.problem:
            problem = message.problem.removesuffix(". No backup was made")
            self.notify(
                f"Today's backup could not be made: {problem}. Nothing else is affected; the next start tries "
                "again, or run: spo-tui backup",
                title="Backup",
                severity="error",
                timeout=30,
                markup=False,
            )

    def _take_down_backup_notice(self) -> None:
        """Take the backup's notice down (Textual offers no public way to remove one notification: where
        ``_unnotify`` is missing, the notice goes by itself after ``BACKUP_NOTICE_AT_MOST`` seconds)."""
        notice, self._backup_notice = self._backup_notice, None
        unnotify = getattr(self, "_unnotify", None)
        if notice is not None and unnotify is not None:
            with contextlib.suppress(KeyError):
                unnotify(notice)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own background work (the record's check, the access log) that failed is said."""
        from spo_tui.screens.worker_errors import report_failure

        if event.worker.group == "sync":
            self._sync_finished(event)
            return
        report_failure(self, event)

    # --- The team hub ----------------------------------------------------------------------------

    #: Seconds after start-up before the first sync with the hub (after the first paint).
    SYNC_AFTER = 1.0
    #: Seconds after the last save before it is sent to the hub (saves in quick succession go together).
    PUSH_AFTER = 2.0
    #: Seconds the header says the hub refused a sync.
    REFUSAL_SHOWN = 30.0

    def _start_syncing(self, db) -> None:
        """On a store connected to a hub: show where it stands in the header, and exchange changes in
        the background, after the first paint, every ``[sync] interval_seconds`` and soon after each
        save. A store without a hub reads one row here (``sync_state``) and nothing else changes."""
        from spo_tui.services import sync  # loaded already (who is acting); psycopg is not

        state = sync.status(db)
        if not state.connected:
            return
        self.sync_status = state
        if getattr(db, "read_only", False):
            return  # nothing could be taken in: the header says where it stood
        assert self.ctx is not None
        self._own_sealed = db.sealed
        self._hub_version = self._store_version()
        self.set_timer(self.SYNC_AFTER, lambda: self.call_after_refresh(self.sync_now))
        self.set_interval(self.ctx.rules.get("sync", "interval_seconds"), self.sync_now, name="hub-sync")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sync_now":
            return self.sync_status is not None and not getattr(self.ctx and self.ctx.db, "read_only", False)
        return super().check_action(action, parameters)

    def action_sync_now(self) -> None:
        """Sync with the hub now (the palette or ``S``), saying how it went."""
        if self.syncing:
            self.notify("A sync with the hub is under way already", markup=False)
            return
        self._sync_asked = True
        self.sync_now()

    def sync_now(self) -> None:
        """Exchange changes with the hub on a worker thread; skipped while one is under way."""
        if self.sync_status is None or self.syncing or self.store_replaced:
            return
        self.syncing = True
        self._sync_with_hub()

    def _notice_writes(self) -> None:
        """Keep the header's count of changes waiting for the hub current, and send what this app
        saved (changes sealed on its own connection) ``PUSH_AFTER`` seconds after the last save, so a
        decision reaches the team quickly. What the app's threads write (views logged, rule-made
        work) and what other processes write waits for the next sync."""
        from spo_tui.services import sync

        assert self.ctx is not None
        sealed, version = self.ctx.db.sealed, self._store_version()
        if sealed == self._own_sealed and version == self._hub_version:
            return
        saved = sealed != self._own_sealed
        self._own_sealed, self._hub_version = sealed, version
        self.sync_status = sync.status(self.ctx.db)
        if saved:
            if self._push_timer is not None:
                self._push_timer.stop()
            self._push_timer = self.set_timer(self.PUSH_AFTER, self._push_saved)

    def _push_saved(self) -> None:
        self._push_timer = None
        if self.syncing:  # this save missed the sync under way: the next one takes it
            self._push_timer = self.set_timer(self.PUSH_AFTER, self._push_saved)
            return
        self.sync_now()

    @work(thread=True, exit_on_error=False, group="sync")
    def _sync_with_hub(self) -> SyncOutcome:
        """One sync, on a connection of this thread's own (closed after). The hub out of reach is
        no failure (the header says offline; the changes wait); nor is its refusal (said once)."""
        from spo_tui.services import sync
        from spo_tui.store.hub_client import HubRefused, HubUnreachable

        db = open_db(self.db_path, create=False, migrate=False)
        try:
            try:
                result = sync.sync(db)
            except HubUnreachable:
                return SyncOutcome(None, sync.status(db))
            except HubRefused as error:
                return SyncOutcome(None, sync.status(db), str(error), refused=True)
            except SpoError as error:
                return SyncOutcome(None, sync.status(db), str(error))
            return SyncOutcome(result, sync.status(db))
        finally:
            db.close()

    def _sync_finished(self, event: Worker.StateChanged) -> None:
        """Back on the main thread: show where the store stands, say a problem once, and redraw the
        screen if the sync took in others' changes (or another process wrote meanwhile)."""
        from spo_tui.screens.worker_errors import failure_message

        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        self.syncing = False
        self.syncs_ended += 1
        asked, self._sync_asked = self._sync_asked, False
        outcome = event.worker.result if event.state == WorkerState.SUCCESS else None
        if outcome is None:  # failed unexpectedly (or cancelled as the app closed)
            if event.state == WorkerState.ERROR:
                self._tell_sync_problem(failure_message(event.worker), asked)
            self._after_sync(0)
            return
        self.sync_status = outcome.status
        if outcome.refused:
            self._show_refusal()
        if outcome.problem:
            self._tell_sync_problem(outcome.problem, asked)
        elif outcome.result is not None:
            self._sync_told.clear()  # in step again: a problem that comes back is said again
            if asked:
                message = outcome.result.message
                self.notify(message[0].upper() + message[1:], title="Synced with the hub", markup=False)
        elif asked:  # out of reach
            waiting = outcome.status.waiting
            self.notify(
                f"Offline: the hub cannot be reached. {waiting} change{'s' if waiting != 1 else ''} wait here "
                "and go at the next sync.",
                severity="warning",
                markup=False,
            )
        self._after_sync(outcome.result.pulled if outcome.result else 0)

    def _tell_sync_problem(self, message: str, asked: bool) -> None:
        if message in self._sync_told and not asked:
            return
        self._sync_told.add(message)
        self.notify(message, title="Sync with the hub", severity="error", timeout=20, markup=False)

    def _show_refusal(self) -> None:
        self.sync_refused = True
        if self._refusal_timer is not None:
            self._refusal_timer.stop()

        def done() -> None:
            self._refusal_timer = None
            self.sync_refused = False

        self._refusal_timer = self.set_timer(self.REFUSAL_SHOWN, done)

    def _after_sync(self, pulled: int) -> None:
        """The poll stood aside while the sync ran: take its place. The screen in front reads again
        when others' changes came in, or when another process saved something meanwhile."""
        if self.ctx is None or self.store_replaced:
            return
        self._data_version = self._store_version()
        seen = self._audit_seen
        self._audit_seen, only_views = lookup.only_reads_since(self.ctx, seen)
        if not pulled and (self._audit_seen == seen or only_views):
            return
        self._reload_front_screen()

    def on_resize(self, event: events.Resize) -> None:
        from spo_tui.screens.too_small import TooSmallScreen

        small = event.size.width < self.MIN_SIZE[0] or event.size.height < self.MIN_SIZE[1]
        showing = isinstance(self.screen, TooSmallScreen)
        if small and not showing:
            self.push_screen(TooSmallScreen(self.MIN_SIZE))
        elif not small and showing:
            self.pop_screen()

    async def action_quit(self) -> None:
        """Quit (``q``, ``Ctrl+Q``, the palette); from a form with text typed in it, ask first: the
        answer is ``y`` to quit, and Enter or Esc keep the form open (an oversight entry's text is
        kept as a draft either way, but an admin form's is not)."""
        from spo_tui.screens.prompts import ConfirmScreen

        typed = getattr(self.screen, "has_typed_text", None)
        if typed is not None and typed():

            def answered(quit_now: bool | None) -> None:
                if quit_now:
                    self.exit()

            self.push_screen(
                ConfirmScreen(
                    "Quit spo-tui? What you typed in this form has not been saved.",
                    destructive=True,
                    yes="quit",
                    no="back to the form",
                ),
                answered,
            )
            return
        self.exit()

    def action_help(self) -> None:
        from spo_tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        shows = HelpScreen.shows(self)

        def reuse(kept: Screen) -> bool:
            assert isinstance(kept, HelpScreen)
            if kept.shown != shows:  # another keymap or hub since it was made
                return False
            kept.reopen()
            return True

        self.push_screen(self._kept_screen("help", HelpScreen, HelpScreen, reuse))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: the screen's own commands that apply now, then go-to-case, help and Textual's."""
        for command in getattr(screen, "COMMAND_LIST", ()):
            if command.action.startswith("app.") or not screen.check_action(command.action, ()):
                continue
            if not getattr(screen, "offered", lambda _action: True)(command.action):  # not this role's work
                continue
            key = key_in_force(command, self.user_keymap)
            yield SystemCommand(
                f"{command.description} ({key})", command.help, partial(screen.run_action, command.action)
            )
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help: every key", "Show every key on every screen", self.action_help)
        if self.check_action("sync_now", ()):
            yield SystemCommand(
                f"{SYNC_NOW.description} ({key_in_force(SYNC_NOW, self.user_keymap)})",
                SYNC_NOW.help,
                self.action_sync_now,
            )
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
        from spo_tui.services import lookup

        assert self.ctx is not None
        matches = lookup.find_cases(self.ctx, crn_or_name, limit=2)
        exact = [m for m in matches if m["crn"] == crn_or_name.strip().upper()]
        if exact or len(matches) == 1:
            self.push_screen(self._case_screen((exact or matches)[0]["crn"]))
        elif not matches:
            self.notify(f"No case matches '{crn_or_name}'", severity="warning", markup=False)
        else:
            self.notify(f"More than one case matches '{crn_or_name}': type the CRN", severity="warning", markup=False)

    def _case_screen(self, crn: str) -> Screen:
        """The case screen, showing ``crn`` (see ``_kept_screen``)."""
        from spo_tui.screens.case import CaseScreen

        def reuse(kept: Screen) -> bool:
            assert isinstance(kept, CaseScreen)
            kept.show_case(crn)
            return True

        return self._kept_screen("case", CaseScreen, lambda: CaseScreen(crn), reuse)

    def _kept_screen(
        self, name: str, kind: type[Screen], make: Callable[[], Screen], reuse: Callable[[Screen], bool]
    ) -> Screen:
        """A screen opened often (a case, help), made once per mode and kept (installed) to be shown
        again: made and styled anew, it costs several times a keypress; kept, it is only filled again.
        ``reuse(kept)`` fills the kept one for what is asked, or says False when it cannot (help for
        another keymap): then a new one is made and kept instead. While the kept one is in use (a case
        opened from the palette over a case), a new one is made for the occasion, as before."""
        name = f"{name}-{self.current_mode}"
        if self.is_screen_installed(name):
            kept = self.get_screen(name, kind)
            if kept in self.screen_stack:
                return make()
            if reuse(kept):
                return kept
            self.uninstall_screen(name)
            kept.remove()
        screen = make()
        self.install_screen(screen, name)
        return screen
