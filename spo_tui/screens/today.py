"""The Today screen: the one triaged queue, a detail pane, and every action from the keyboard."""

from __future__ import annotations

from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import Input

from spo_tui.commands import FILTER_COMMANDS, FILTERS, STATUS_VIEWS, TODAY_COMMANDS
from spo_tui.domain import permissions
from spo_tui.domain.errors import SpoError
from spo_tui.domain.vocab import CRN_PATTERN
from spo_tui.screens.sizing import take_breakpoints
from spo_tui.screens.today_actions import TodayActions
from spo_tui.services import decisions, lookup
from spo_tui.services.queue import QueueEntry, SearchIndex, build_queue, matching_ids, queue_entries, search_index
from spo_tui.widgets.filter_bar import FilterBar
from spo_tui.widgets.footer import QuietFooter
from spo_tui.widgets.header import AppHeader
from spo_tui.widgets.item_detail import ItemDetail
from spo_tui.widgets.queue_summary import QueueSummary
from spo_tui.widgets.queue_table import QueueTable

_BY_ACTION = {c.action: c for c in TODAY_COMMANDS}


class TodayScreen(TodayActions):
    """Home: what needs the SPO today, most urgent first."""

    CSS_PATH = "today.tcss"
    #: The detail pane goes beside the queue only where the queue keeps room for its title, the
    #: case name and the practitioner (160 columns); below that it sits under the queue.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (160, "-wide")]
    COMMAND_LIST = TODAY_COMMANDS + FILTER_COMMANDS
    BINDINGS = [c.binding() for c in COMMAND_LIST]

    filter_kind: var[str | None] = var(None)
    search_text: var[str] = var("")

    class DueWorkRefreshed(Message):
        """Rule-made work was added in the background; reload the queue."""

        def __init__(self, created: int) -> None:
            super().__init__()
            self.created = created

    def __init__(self) -> None:
        super().__init__()
        #: The rows read so far, top first: the table holds exactly these.
        self.entries: list[QueueEntry] = []
        #: How many rows the current view (filter and search) has in all.
        self.total = 0
        self._counts: dict[str, tuple[int, int]] = {}
        self._counts_read = 0  # how many times the counts were read: a view's total comes from them
        self._search_index: SearchIndex | None = None
        self._read_state: tuple[int, int] | None = None  # the store's state when last read
        self._read_audit = 0  # the newest audit row then: what was logged since tells a view from a change
        self._generation = 0  # counts changes of the store or view: stale search text is dropped
        self._matches: list[str] | None = None
        self._detail_timer: Timer | None = None
        self._detail_for: str | None = None  # the item the detail pane shows
        self._bindings_shape: tuple[str, str, str | None] | None = None
        self._search_log_timer: Timer | None = None
        self._search_logged: tuple[str, str] | None = None  # (text, view) of the search last logged
        #: What was read while the store and the day stay as they were (``_reads``): the top of each
        #: view shown, and each item's detail, so going back to a view, or an item, reads nothing again.
        self._read_for: tuple | None = None
        self._pages: dict[tuple, tuple[list[QueueEntry], int]] = {}
        self._details: dict[str, tuple[dict, dict | None, list]] = {}

    def compose(self) -> ComposeResult:
        take_breakpoints(self)
        yield AppHeader()
        yield QueueSummary(id="summary")
        yield FilterBar(id="filters")
        with Container(id="main"):
            yield QueueTable(id="queue", show_team=self.ctx.team is None and self._is_head)
            yield ItemDetail(id="detail")
        yield QuietFooter()

    @property
    def ctx(self):
        return self.app.ctx

    #: The team chosen with ``T`` (a PDU head): None is the acting person's own scope (every team).
    team_choice: str | None = None

    @property
    def _is_head(self) -> bool:
        return permissions.allowed("all_teams", self.ctx.actor["role"])

    def on_mount(self) -> None:
        # The queue first; the counts line and the detail pane follow in the next frame.
        self._show_rows(0, detail=False)
        self.query_one(QueueTable).focus()
        self.call_after_refresh(self._after_first_paint)
        self.set_timer(self.REFRESH_AFTER, self.refresh_due_work)  # after the first paint, not in its way

    def _after_first_paint(self) -> None:
        self._read_counts()
        if len(self.entries) >= self.PAGE:
            self.total = self._view_total()
        self.show_detail()
        self._note_read()
        # Logged once a session, off the start-up's path (a thread of its own, after the refresh starts).
        self.set_timer(
            self.REFRESH_AFTER,
            partial(
                self.app.record_view,
                lookup.record_today_view,
                once="today",
                view=self._view_name,
                shown=len(self.entries),
                total=self.total,
            ),
        )

    def _read_counts(self) -> None:
        self._counts = lookup.queue_counts(self.ctx, team=self.team_choice)
        self._counts_read += 1
        self.query_one(QueueSummary).show(self._counts)

    def store_changed(self) -> None:
        """Another process (or a sync with the hub) changed the store: reload, keeping the cursor on the
        same item where it is still in the view, else on the same row."""
        was = self.current
        self.reload()
        if was is not None:
            self.put_cursor_on(was.id)

    def put_cursor_on(self, item_id: str | None) -> None:
        """Move the cursor to ``item_id`` where it is in the rows read; else leave it where it is."""
        if item_id is None or (self.current is not None and self.current.id == item_id):
            return
        row = next((n for n, entry in enumerate(self.entries) if entry.id == item_id), None)
        if row is not None:
            self.query_one(QueueTable).move_cursor(row=row)
            self.show_detail()

    def on_screen_suspend(self) -> None:
        self._log_search()  # leaving with results on screen (to open a case, say): log the search now

    def on_screen_resume(self) -> None:
        """Back from another screen: read again if anything was written meanwhile (an action's own
        callback has usually read already; a cancelled prompt changed nothing). Views logged meanwhile
        (the case just looked at, on a thread of their own) change nothing on this screen: as the app's
        poll does (``SpoApp._poll_store``), they are told from changes by what the audit log says."""
        if not self.is_mounted or self._read_state is None:
            return
        state = self.app.store_state()
        if state == self._read_state:
            return
        if state[1] == self._read_state[1]:  # nothing saved on this app's own connection
            last, only_views = lookup.only_reads_since(self.ctx, self._read_audit)
            if only_views:
                self._read_state, self._read_audit = state, last
                return
        self.store_changed()

    def _note_read(self) -> None:
        """Remember where the store stood when the queue was read."""
        self._read_state = self.app.store_state()
        self._read_audit = lookup.last_audit_id(self.ctx)

    # --- Data ------------------------------------------------------------------------------------

    #: Rows read at a time. The table holds the top of the queue and reads the next page as the
    #: cursor nears its end, so a PDU's 15,000 open items cost no more to show than a team's 100.
    PAGE = 100
    #: Rows from the end of what is read at which the next page is read.
    PAGE_MARGIN = 10
    #: Seconds after the first paint before rule-made work is looked for in the background.
    REFRESH_AFTER = 0.3

    @property
    def _view_name(self) -> str:
        """The view as the access log names it: ``all``, a kind, ``waiting`` or ``snoozed``."""
        return self.filter_kind or "all"

    @property
    def _view(self) -> tuple[str | None, str]:
        """(kind, status) of the current filter."""
        if self.filter_kind in STATUS_VIEWS:
            return None, self.filter_kind
        return self.filter_kind, "open"

    @property
    def _search_view(self) -> tuple[str | None, str]:
        """(kind, status) search looks through: the view, except that search in All also finds
        what is waiting on others or snoozed (nothing open is out of reach of search)."""
        kind, status = self._view
        return (kind, "any") if kind is None and status == "open" else (kind, status)

    def reload(self, keep_row: int | None = None) -> None:
        """Read the queue again after the store changed, keeping the cursor on the same row number."""
        self._read_counts()
        self._forget_search_index()
        self._show_rows(keep_row)
        self._note_read()

    def _forget_search_index(self) -> None:
        """The store or the view changed: search must read its text again."""
        self._search_index = None
        self._generation += 1

    def _view_total(self) -> int:
        kind, status = self._view
        if status in STATUS_VIEWS:
            return self._counts.get(status, (0, 0))[0]
        if kind:
            return self._counts.get(kind, (0, 0))[0]
        return sum(count for name, (count, _overdue) in self._counts.items() if name not in STATUS_VIEWS)

    def _show_rows(self, keep_row: int | None = None, *, detail: bool = True) -> None:
        """Draw the top of the view (narrowed by the search text), enough to hold the cursor's row."""
        table = self.query_one(QueueTable)
        row = table.cursor_row if keep_row is None else keep_row
        wanted = max(self.PAGE, row + self.PAGE_MARGIN * 2)
        kind, status = self._view
        text = self.search_text.strip()
        if text:
            if self._search_index is None:
                self._search_index = search_index(
                    self.ctx, *self._search_view, rescore_all=False, team=self.team_choice
                )
            self._matches = matching_ids(self._search_index, text)
            self.total = len(self._matches)
            self.entries = queue_entries(self.ctx, self._matches[:wanted], rescore_all=False)
        else:
            self._matches = None
            page = (kind, status, self.team_choice, wanted)
            read = self._reads()[0].get(page)
            if read is None:
                entries = build_queue(
                    self.ctx, kind=kind, status=status, limit=wanted, rescore_all=False, team=self.team_choice
                )
                read = entries, self._view_total() if len(entries) == wanted else len(entries)
                self._reads()[0][page] = read  # asked again: reading may have scored items, a change
            self.entries, self.total = list(read[0]), read[1]
        table.show_entries(self.entries, self.ctx.today, row)
        if detail:
            self.show_detail()

    #: Items whose detail is kept at most (a long walk down the queue with nothing saved meanwhile).
    DETAILS_KEPT = 500

    def _reads(self) -> tuple[dict[tuple, tuple[list[QueueEntry], int]], dict[str, tuple[dict, dict | None, list]]]:
        """The pages and details read so far, forgotten as soon as anything is written to the store
        (by this app or another process: ``SpoApp.store_state``), the counts are read again (a view's
        total), or the day changes."""
        # (How the queue is ordered may also change without a write: on a day's first start, the
        # stored order of the day before until the day is scored, ``Context.provisional_order``.)
        state = (
            self.app.store_state(),
            self.ctx.today,
            self._counts_read,
            getattr(self.ctx, "provisional_order", None),
        )
        if state != self._read_for or len(self._details) > self.DETAILS_KEPT:
            self._read_for = state
            self._pages = {}
            self._details = {}
        return self._pages, self._details

    def _read_more(self) -> None:
        """Read the next page of the view onto the end of the table."""
        start = len(self.entries)
        if start >= self.total:
            return
        if self._matches is not None:
            more = queue_entries(self.ctx, self._matches[start : start + self.PAGE], rescore_all=False)
        else:
            kind, status = self._view
            more = build_queue(
                self.ctx,
                kind=kind,
                status=status,
                limit=self.PAGE,
                offset=start,
                rescore_all=False,
                team=self.team_choice,
            )
        if not more:
            self.total = start
            return
        self.entries.extend(more)
        self.query_one(QueueTable).add_entries(more, self.ctx.today)

    @work(thread=True, exclusive=True, exit_on_error=False, group="refresh")
    def refresh_due_work(self) -> None:
        """Create rule-made touch points and supervision items, and on a new day score every item
        again, on a connection of this thread's own: both in short transactions, while the queue
        is read (scored in the query until the stored scores are current) and saves go on."""
        from spo_tui.services.queue import update_scores
        from spo_tui.services.refresh import refresh_due_work

        with self.app.thread_context() as ctx:
            created = refresh_due_work(ctx)
            update_scores(ctx)
        if created:
            self.post_message(self.DueWorkRefreshed(created))

    @work(thread=True, exclusive=True, exit_on_error=False, group="search")
    def _read_search_index(self, generation: int, view: tuple[str | None, str], team: str | None = None) -> None:
        """Read what search looks through while the user starts typing."""
        with self.app.thread_context() as ctx:
            index = search_index(ctx, *view, rescore_all=False, team=team)
        self.app.call_from_thread(self._search_index_read, generation, view, index)

    def _search_index_read(self, generation: int, view: tuple[str | None, str], index: SearchIndex) -> None:
        if generation != self._generation or view != self._search_view or self._search_index is not None:
            return  # the store or the view changed meanwhile, or a keystroke read it first
        self._search_index = index
        if self.search_text.strip():
            self._show_rows(keep_row=0)

    def on_today_screen_due_work_refreshed(self, message: DueWorkRefreshed) -> None:
        """New rule-made work may go above the item the user has moved to in the meantime: the cursor
        stays on that item (``store_changed``), not on its row, so the next key acts on what they see."""
        self.store_changed()

    @property
    def current(self) -> QueueEntry | None:
        table = self.query_one(QueueTable)
        if not self.entries or table.cursor_row < 0 or table.cursor_row >= len(self.entries):
            return None
        return self.entries[table.cursor_row]

    #: Seconds the cursor must rest before the detail pane follows it: holding a key down stays fast.
    DETAIL_DELAY = 0.06

    def show_detail(self, immediate: bool = True) -> None:
        """Fill the detail pane for the highlighted item (now, or once the cursor rests)."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
            self._detail_timer = None
        entry = self.current
        shape = (entry.row.kind, entry.row.status, entry.row.countersign_kind) if entry else None
        if shape != self._bindings_shape:  # the footer's keys depend only on these (a PSR has its own)
            self._bindings_shape = shape
            self.refresh_bindings()
        if immediate:
            self._fill_detail()
        elif entry is None or entry.id != self._detail_for:
            self._detail_timer = self.set_timer(self.DETAIL_DELAY, self._fill_detail)

    def _fill_detail(self) -> None:
        self._detail_timer = None
        entry = self.current
        self._detail_for = entry.id if entry else None
        pane = self.query_one(ItemDetail)
        if entry is None:
            pane.show(None, None, [], None, self.ctx.today)
        else:
            details = self._reads()[1]
            if entry.id not in details:
                details[entry.id] = (
                    lookup.item_detail(self.ctx, entry.id),
                    lookup.case_summary(self.ctx, entry.row.crn) if entry.row.crn else None,
                    lookup.recent_oversight(self.ctx, entry.row.crn) if entry.row.crn else [],
                )
            item, case, recent = details[entry.id]
            pane.show(item, case, recent, entry.urgency, self.ctx.today)

    @on(QueueTable.RowHighlighted, "#queue")
    def _row_highlighted(self, event: QueueTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.entries) - self.PAGE_MARGIN:
            self._read_more()
        self.show_detail(immediate=False)

    @on(QueueTable.RowSelected, "#queue")
    async def _row_selected(self, event: QueueTable.RowSelected) -> None:
        """Enter does the item's main action."""
        entry = self.current
        if entry is None:
            return
        if entry.row.status == "snoozed":
            await self.run_action("unsnooze")
            return
        if entry.row.status == "waiting":
            primary = {"sbar": "answer", "countersign": "answer", "task": "done"}.get(entry.row.kind)
            if primary:
                await self.run_action(primary)
            return
        primary = {
            "sbar": "decide",
            "touch_point": "decide",
            "alert": "decide",
            "supervision": "decide",
            "countersign": "sign_off",
            "task": "done",
            "action": "done",
        }.get(entry.row.kind)
        if primary:  # an entry to confirm has no Enter: confirming is a deliberate v
            await self.run_action(primary)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the keys that apply to the highlighted item. A key the acting person's role may
        not use stays live, marked in the footer (``footer_mark``): pressing it says why not."""
        command = _BY_ACTION.get(action)
        if command is None or command.kinds is None:
            return True
        entry = self.current if self.is_mounted else None
        return not (
            entry is None
            or entry.row.kind not in command.kinds
            or entry.row.status not in command.statuses
            or (command.reports is not None and entry.row.countersign_kind not in command.reports)
        )

    def _permission(self, action: str) -> str | None:
        """The permission ``action`` needs on the highlighted item (``domain.permissions``)."""
        command = _BY_ACTION.get(action)
        if command is None:
            return None
        entry = self.current if self.is_mounted else None
        kind = entry.row.kind if entry else None
        if action == "decide":
            decide: dict[str | None, str] = {"sbar": "decide_sbar", "alert": "decide_alert", "confirm": "confirm_entry"}
            return decide.get(kind, "record_oversight")
        if action == "reassign" and kind == "alert":
            return "reassign_alert"
        return command.permission

    def offered(self, action: str) -> bool:
        """Whether the palette offers ``action``: it applies now and the acting person may do it."""
        permission = self._permission(action)
        return permission is None or permissions.allowed(permission, self.ctx.actor["role"])

    def footer_mark(self, action: str) -> str | None:
        """ "(SPO)" on a key only an SPO may use, when someone else is acting; "(not yours)" otherwise."""
        permission = self._permission(action)
        if permission is None or permissions.allowed(permission, self.ctx.actor["role"]):
            return None
        return "(SPO)" if permissions.spo_only(permission) else "(not yours)"

    #: Keys named for what they do to a PSR, which is gatekept, not countersigned [000 §3.2].
    PSR_LABELS = {"sign_off": "Gatekeep", "return_item": "Send back"}

    def footer_label(self, action: str) -> str | None:
        """The footer's name for ``action`` on the highlighted item, where it is not the command's own."""
        entry = self.current if self.is_mounted else None
        if entry is not None and entry.row.countersign_kind == "PSR":
            return self.PSR_LABELS.get(action)
        return None

    def _refused(self, action: str) -> bool:
        """True, saying why in one line, if the acting person may not do ``action`` here."""
        permission = self._permission(action)
        if permission is None:
            return False
        why = permissions.refusal(permission, self.ctx.actor["role"], self.ctx.actor["name"])
        if why:
            self.notify(why, severity="warning", markup=False)
            return True
        return False

    # --- Filters and search ----------------------------------------------------------------------

    def action_filter(self, name: str) -> None:
        self.query_one(FilterBar).active = name
        self.filter_kind = {n: k for n, _l, k in FILTERS}[name]

    def watch_filter_kind(self, old: str | None, new: str | None) -> None:
        if self.is_mounted:
            self._forget_search_index()
            self._show_rows(keep_row=0, detail=False)  # the counts stand: only the view changed
            self.call_after_refresh(self.show_detail)
            self.query_one(QueueTable).focus()
            if self.search_text.strip():
                self._search_shown()  # the same text in another view: another search

    async def action_search(self) -> None:
        found = self.query("#search")
        if found:
            search = found.first(Input)
        else:  # made on first use: an input costs a noticeable part of start-up
            search = Input(
                placeholder="Search CRN, name, practitioner or title (Enter to keep, Esc to clear)", id="search"
            )
            await self.mount(search, before="#main")
        search.add_class("-visible")
        search.focus()
        if self._search_index is None:
            self._read_search_index(self._generation, self._search_view, self.team_choice)

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search_text = event.value

    def watch_search_text(self, old: str, new: str) -> None:
        if self.is_mounted:
            self._show_rows(keep_row=0)  # searches the text read once per view: no new scan per key
            self._search_shown()

    #: Seconds the search text must rest before the search is logged: one row per search, not per key.
    SEARCH_LOG_AFTER = 1.0

    def _search_shown(self) -> None:
        """Search results are on screen: log the search once the text has rested (or on Enter or Esc)."""
        if self._search_log_timer is not None:
            self._search_log_timer.stop()
        self._search_log_timer = self.set_timer(self.SEARCH_LOG_AFTER, self._log_search)

    def _log_search(self) -> None:
        """Log the search now on screen, unless it is empty or was the last one logged."""
        if self._search_log_timer is not None:
            self._search_log_timer.stop()
            self._search_log_timer = None
        text = self.search_text.strip()
        if not text or (text, self._view_name) == self._search_logged:
            return
        self._search_logged = (text, self._view_name)
        self.app.record_view(lookup.record_search, text=text, view=self._view_name, matches=self.total)

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the search; a CRN typed in full opens its case (no need to find a row of it)."""
        self._log_search()
        self.query_one(QueueTable).focus()
        text = event.value.strip().upper()
        if CRN_PATTERN.match(text) and lookup.find_cases(self.ctx, text, limit=1):
            self.app.open_case(text)

    def key_escape(self) -> None:
        found = self.query("#search")
        if not found:
            return
        search = found.first(Input)
        if search.has_class("-visible"):
            self._log_search()  # what was found was seen, however briefly
            search.value = ""
            search.remove_class("-visible")
            self.query_one(QueueTable).focus()

    def action_open_case(self) -> None:
        entry = self.current
        if entry and entry.row.crn:
            self.app.open_case(entry.row.crn)

    def action_goto(self, name: str) -> None:
        """Open one of the team-rhythm screens over the queue."""
        from spo_tui.screens.checkin import CheckinScreen
        from spo_tui.screens.monthly import MonthlyScreen
        from spo_tui.screens.protected_hour import ProtectedHourScreen
        from spo_tui.screens.supervision import SupervisionScreen
        from spo_tui.screens.team import TeamScreen

        screens = {
            "checkin": CheckinScreen,
            "protected_hour": ProtectedHourScreen,
            "supervision": SupervisionScreen,
            "team": TeamScreen,
            "monthly": MonthlyScreen,
        }
        if self._refused(f"goto('{name}')"):  # screens outside the role's work are not opened
            return
        self.app.push_screen(screens[name]())

    def action_admin(self) -> None:
        """The admin screen (the CASPO's home), as it was left: a mode of the app (``SpoApp.MODES``)."""
        self.app.switch_mode("admin")

    def action_undo(self) -> None:
        """Undo this session's last action, after asking: a confirmation naming what will be
        withdrawn (only ``y`` says yes: Enter says no), then why, which goes into the correction."""
        from spo_tui.screens.prompts import ConfirmScreen, PromptScreen

        stack = self.app.undo_stack
        while stack and not decisions.is_undoable(self.ctx, stack[-1]):  # admin changes are not undone
            stack.pop()
        if not stack:
            self.notify("Nothing to undo in this session", severity="warning")
            return
        audit_id = stack[-1]
        try:
            what = decisions.describe_undo(self.ctx, audit_id)
        except SpoError as error:
            stack.pop()  # undone already, or moved on: it cannot be undone from here
            self.notify(str(error), severity="error", markup=False)
            return
        results: list = []

        def submit(reason: str) -> None:
            results.append(decisions.undo(self.ctx, audit_id, reason))

        def undone(_reason: str | None) -> None:
            if not results:
                return
            if audit_id in stack:
                stack.remove(audit_id)
            self.notify(results[-1].message, markup=False)
            self.reload()
            self.put_cursor_on(results[-1].item_id)  # the item undone is back: the cursor on it

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.app.push_screen(
                    PromptScreen(
                        "Why are you undoing it? (kept in the correction)",
                        "e.g. recorded on the wrong case, decision not yet made",
                        submit=submit,
                    ),
                    undone,
                )

        self.app.push_screen(
            ConfirmScreen(
                f"Undo {what}?\nThe record keeps both: a correction is added, nothing is deleted.", destructive=True
            ),
            confirmed,
        )
