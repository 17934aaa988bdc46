"""The Today screen: the one triaged queue, a detail pane, and every action from the keyboard."""

from __future__ import annotations

from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Container
from textual.message import Message
from textual.reactive import var
from textual.widgets import Header, Input

from spo_tui.screens.acting import ActingScreen
from spo_tui.commands import FILTER_COMMANDS, FILTERS, TODAY_COMMANDS, WAITING
from spo_tui.domain import permissions
from spo_tui.domain.errors import SpoError
from spo_tui.domain.vocab import CRN_PATTERN
from spo_tui.services import decisions, lookup
from spo_tui.services.queue import QueueEntry, SearchIndex, build_queue, matching_ids, queue_entries, search_index
from spo_tui.widgets.filter_bar import FilterBar
from spo_tui.widgets.footer import QuietFooter
from spo_tui.widgets.item_detail import ItemDetail
from spo_tui.widgets.queue_summary import QueueSummary
from spo_tui.widgets.queue_table import QueueTable

_BY_ACTION = {c.action: c for c in TODAY_COMMANDS}


class TodayScreen(ActingScreen):
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
        self._search_index: SearchIndex | None = None
        self._read_state: tuple[int, int] | None = None  # the store's state when last read
        self._generation = 0  # counts changes of the store or view: stale search text is dropped
        self._matches: list[str] | None = None
        self._detail_timer = None
        self._detail_for: str | None = None  # the item the detail pane shows
        self._bindings_shape: tuple[str, str] | None = None
        self._search_log_timer = None
        self._search_logged: tuple[str, str] | None = None  # (text, view) of the search last logged

    def compose(self) -> ComposeResult:
        yield Header()
        yield QueueSummary(id="summary")
        yield FilterBar(id="filters")
        with Container(id="main"):
            yield QueueTable(id="queue")
            yield ItemDetail(id="detail")
        yield QuietFooter()

    @property
    def ctx(self):
        return self.app.ctx

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
        self._read_state = self.app.store_state()
        # Logged once a session, off the start-up's path (a thread of its own, after the refresh starts).
        self.set_timer(self.REFRESH_AFTER, partial(self.app.record_view, lookup.record_today_view, once="today",
                                                   view=self._view_name, shown=len(self.entries), total=self.total))  # fmt: skip

    def _read_counts(self) -> None:
        self._counts = lookup.queue_counts(self.ctx)
        self.query_one(QueueSummary).show(self._counts)

    def store_changed(self) -> None:
        """Another process changed the store: reload, keeping the cursor where it was."""
        self.reload()

    def on_screen_suspend(self) -> None:
        self._log_search()  # leaving with results on screen (to open a case, say): log the search now

    def on_screen_resume(self) -> None:
        """Back from another screen: read again if anything was written meanwhile (an action's own
        callback has usually read already; a cancelled prompt changed nothing)."""
        if self.is_mounted and self._read_state is not None and self._read_state != self.app.store_state():
            self.reload()

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
        """The view as the access log names it: ``all``, a kind, or ``waiting``."""
        return self.filter_kind or "all"

    @property
    def _view(self) -> tuple[str | None, str]:
        """(kind, status) of the current filter."""
        if self.filter_kind == WAITING:
            return None, "waiting"
        return self.filter_kind, "open"

    def reload(self, keep_row: int | None = None) -> None:
        """Read the queue again after the store changed, keeping the cursor on the same row number."""
        self._read_counts()
        self._forget_search_index()
        self._show_rows(keep_row)
        self._read_state = self.app.store_state()

    def _forget_search_index(self) -> None:
        """The store or the view changed: search must read its text again."""
        self._search_index = None
        self._generation += 1

    def _view_total(self) -> int:
        kind, status = self._view
        if status == "waiting":
            return self._counts.get("waiting", (0, 0))[0]
        if kind:
            return self._counts.get(kind, (0, 0))[0]
        return sum(count for name, (count, _overdue) in self._counts.items() if name != "waiting")

    def _show_rows(self, keep_row: int | None = None, *, detail: bool = True) -> None:
        """Draw the top of the view (narrowed by the search text), enough to hold the cursor's row."""
        table = self.query_one(QueueTable)
        row = table.cursor_row if keep_row is None else keep_row
        wanted = max(self.PAGE, row + self.PAGE_MARGIN * 2)
        kind, status = self._view
        text = self.search_text.strip()
        if text:
            if self._search_index is None:
                self._search_index = search_index(self.ctx, kind, status, rescore_all=False)
            self._matches = matching_ids(self._search_index, text)
            self.total = len(self._matches)
            self.entries = queue_entries(self.ctx, self._matches[:wanted], rescore_all=False)
        else:
            self._matches = None
            self.entries = build_queue(self.ctx, kind=kind, status=status, limit=wanted, rescore_all=False)
            self.total = self._view_total() if len(self.entries) == wanted else len(self.entries)
        table.show_entries(self.entries, self.ctx.today, row)
        if detail:
            self.show_detail()

    def _read_more(self) -> None:
        """Read the next page of the view onto the end of the table."""
        start = len(self.entries)
        if start >= self.total:
            return
        if self._matches is not None:
            more = queue_entries(self.ctx, self._matches[start : start + self.PAGE], rescore_all=False)
        else:
            kind, status = self._view
            more = build_queue(self.ctx, kind=kind, status=status, limit=self.PAGE, offset=start, rescore_all=False)
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
    def _read_search_index(self, generation: int, view: tuple[str | None, str]) -> None:
        """Read what search looks through while the user starts typing."""
        with self.app.thread_context() as ctx:
            index = search_index(ctx, *view, rescore_all=False)
        self.app.call_from_thread(self._search_index_read, generation, view, index)

    def _search_index_read(self, generation: int, view: tuple[str | None, str], index: SearchIndex) -> None:
        if generation != self._generation or view != self._view or self._search_index is not None:
            return  # the store or the view changed meanwhile, or a keystroke read it first
        self._search_index = index
        if self.search_text.strip():
            self._show_rows(keep_row=0)

    def on_today_screen_due_work_refreshed(self, message: DueWorkRefreshed) -> None:
        self.reload()

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
        shape = (entry.row.kind, entry.row.status) if entry else None
        if shape != self._bindings_shape:  # the footer's keys depend only on the kind and status
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
            item = lookup.item_detail(self.ctx, entry.id)
            case = lookup.case_summary(self.ctx, entry.row.crn) if entry.row.crn else None
            recent = lookup.recent_oversight(self.ctx, entry.row.crn) if entry.row.crn else []
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
        if entry.row.status == "waiting":
            primary = {"sbar": "answer", "task": "done"}.get(entry.row.kind)
            if primary:
                await self.run_action(primary)
            return
        primary = {"sbar": "decide", "touch_point": "decide", "alert": "decide", "supervision": "decide",
                   "countersign": "sign_off", "task": "done", "action": "done"}[entry.row.kind]  # fmt: skip
        await self.run_action(primary)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the keys that apply to the highlighted item."""
        command = _BY_ACTION.get(action)
        if command is None or command.kinds is None:
            return True
        entry = self.current if self.is_mounted else None
        if entry is None or entry.row.kind not in command.kinds or entry.row.status not in command.statuses:
            return False
        permission = command.permission
        if action == "decide":
            permission = "decide_sbar" if entry.row.kind == "sbar" else "record_oversight"
        return permission is None or permissions.allowed(permission, self.ctx.actor["role"])

    # --- Filters and search ----------------------------------------------------------------------

    def action_filter(self, name: str) -> None:
        self.query_one(FilterBar).active = name
        self.filter_kind = dict((n, k) for n, _l, k in FILTERS)[name]

    def watch_filter_kind(self, old: str | None, new: str | None) -> None:
        if self.is_mounted:
            self._forget_search_index()
            self._show_rows(keep_row=0)  # the counts stand: only the view changed
            self.query_one(QueueTable).focus()
            if self.search_text.strip():
                self._search_shown()  # the same text in another view: another search

    async def action_search(self) -> None:
        found = self.query("#search")
        if found:
            search = found.first(Input)
        else:  # made on first use: an input costs a noticeable part of start-up
            search = Input(placeholder="Search CRN, name, practitioner or title (Enter to keep, Esc to clear)", id="search")
            await self.mount(search, before="#main")
        search.add_class("-visible")
        search.focus()
        if self._search_index is None:
            self._read_search_index(self._generation, self._view)

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

    # --- Acting ----------------------------------------------------------------------------------

    def action_decide(self) -> None:
        from spo_tui.screens.oversight_form import OversightForm

        entry = self.current
        if entry is None:
            return
        item = lookup.item_detail(self.ctx, entry.id)
        self.app.push_screen(
            OversightForm(
                heading=f"{entry.kind.label}: {entry.row.crn or ''} {entry.row.name or ''}".strip(),
                submit=lambda values: decisions.record_oversight(self.ctx, item_id=entry.id, **values),
                prefill={"discussed": _discussed(item)},
                draft_key=f"oversight:{entry.id}",
            ),
            self._done,
        )

    def action_book(self) -> None:
        """Book the SBAR into the next free slot; one booked already is moved only if the SPO says so."""
        from spo_tui.domain.dates import uk_moment
        from spo_tui.screens.prompts import ConfirmScreen

        entry = self.current
        if entry is None:
            return
        booked = (lookup.item_detail(self.ctx, entry.id)["detail"] or {}).get("booked_for")
        if not booked:
            self._call(lambda: decisions.book_protected_hour(self.ctx, entry.id))
            return
        question = f"This SBAR is already booked into the protected hour {uk_moment(booked)}. Move it to the next free slot?"
        self.app.push_screen(
            ConfirmScreen(question, destructive=True, yes="move it", no="keep the booking"),
            lambda move: self._call(lambda: decisions.book_protected_hour(self.ctx, entry.id)) if move else None,
        )

    def action_more_info(self) -> None:
        entry = self.current
        if entry:
            self._prompt(f"Ask {entry.row.practitioner} for more information", "What do you need to know?",
                         lambda text: decisions.request_more_information(self.ctx, entry.id, text))  # fmt: skip

    def action_escalate(self) -> None:
        entry = self.current
        if entry is None:
            return

        def with_note(target: str) -> None:
            self._prompt(f"Escalate to {target}: note", "Why, and what you need from them",
                         lambda text: decisions.escalate_sbar(self.ctx, entry.id, target, text))  # fmt: skip

        self._choose("Escalate to", [(t, t) for t in decisions.ESCALATION_TARGETS], with_note)

    def action_sign_off(self) -> None:
        entry = self.current
        if entry:
            self._prompt("Sign off: your verdict", "What you checked and found (required)",
                         lambda text: decisions.countersign(self.ctx, entry.id, verdict=text, signed_off=True))  # fmt: skip

    def action_return_item(self) -> None:
        entry = self.current
        if entry:
            self._prompt("Return: deficits and guidance", "What must change before you sign (required)",
                         lambda text: decisions.countersign(self.ctx, entry.id, verdict=text, signed_off=False))  # fmt: skip

    def action_waive(self) -> None:
        entry = self.current
        if entry:
            self._prompt("Waive touch point: reason", "Why no touch point is needed now (required)",
                         lambda text: decisions.waive_touch_point(self.ctx, entry.id, text))  # fmt: skip

    def action_delegate(self) -> None:
        entry = self.current
        if entry is None:
            return
        people = [(s["name"], f"{s['role']}: {s['name']}") for s in lookup.delegates(self.ctx)]
        self._choose("Delegate to", people, lambda name: self._call(lambda: decisions.delegate_task(self.ctx, entry.id, name)))

    def action_done(self) -> None:
        entry = self.current
        if entry is None:
            return
        if entry.row.kind == "task":
            self._prompt("Done: minutes it took", "e.g. 30",
                         lambda text: decisions.complete_task(self.ctx, entry.id, text))  # fmt: skip
        else:
            self._call(lambda: decisions.complete_action(self.ctx, entry.id))

    def action_answer(self) -> None:
        entry = self.current
        if entry:
            self._prompt(f"Answer from {entry.row.practitioner}", "What the practitioner told you",
                         lambda text: decisions.answer_information_request(self.ctx, entry.id, text))  # fmt: skip

    def action_snooze(self) -> None:
        entry = self.current
        if entry:
            self._prompt("Snooze until", "tomorrow, mon, 3d, 2w, 25/12",
                         lambda text: decisions.snooze(self.ctx, entry.id, text))  # fmt: skip

    def action_reassign(self) -> None:
        entry = self.current
        if entry is None:
            return
        people = [(s["name"], f"{s['role']}: {s['name']}") for s in lookup.staff(self.ctx) if s["id"] != self.ctx.decider["id"]]
        self._choose("Reassign to", people, lambda name: self._call(lambda: decisions.reassign(self.ctx, entry.id, name)))

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

        screens = {"checkin": CheckinScreen, "protected_hour": ProtectedHourScreen, "supervision": SupervisionScreen,
                   "team": TeamScreen, "monthly": MonthlyScreen}  # fmt: skip
        self.app.push_screen(screens[name]())

    def action_admin(self) -> None:
        """The admin screen: back to it if it is underneath (a CASPO's home), else over the queue."""
        from spo_tui.screens.admin import AdminScreen

        stack = self.app.screen_stack
        if len(stack) >= 2 and isinstance(stack[-2], AdminScreen) and stack[-1] is self:
            self.app.pop_screen()
        else:
            self.app.push_screen(AdminScreen())

    def action_undo(self) -> None:
        stack = self.app.undo_stack
        if not stack:
            self.notify("Nothing to undo in this session", severity="warning")
            return
        audit_id = stack.pop()
        while stack and not decisions.is_undoable(self.ctx, audit_id):  # admin changes are not undone
            audit_id = stack.pop()
        try:
            result = decisions.undo(self.ctx, audit_id)
        except SpoError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        self.notify(result.message, markup=False)
        self.reload()


def _discussed(item: dict) -> str:
    """What the oversight form's "discussed" starts with, from the item itself."""
    d = item["detail"]
    if item["kind"] == "sbar":
        who = item.get("raised_by_name") or "the practitioner"
        return f"SBAR from {who}. S: {d['situation']} R: {d['recommendation']}"
    if item["kind"] == "alert":
        return f"Immediate-risk alert: {d['details']}"
    return item["title"]
