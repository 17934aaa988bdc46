"""The protected hour: the day's running order, slot by slot, and the outcome of each consultation.

SBARs are booked into it from the queue (``b`` on Today books the next free slot) or here into the
highlighted free slot; ``d`` on a booking records its outcome through the oversight form, as on
the queue. ``[`` and ``]`` show another working day; ``n`` goes to the next free slot.
"""

from __future__ import annotations

from datetime import date, timedelta

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Static

from spo_tui.commands import PROTECTED_HOUR_COMMANDS
from spo_tui.domain.dates import is_working_day
from spo_tui.domain.errors import SpoError
from spo_tui.domain.text import visible
from spo_tui.screens.rhythm_base import RhythmScreen, cell
from spo_tui.services import decisions, lookup, rhythm
from spo_tui.services.queue import build_queue
from spo_tui.services.rhythm import Slot
from spo_tui.widgets.header import AppHeader

STATE_LABELS = {None: "free", "booked": "booked", "decided": "decided", "escalated": "escalated"}


def _working_day(day: date, step: int) -> date:
    day += timedelta(days=step)
    while not is_working_day(day):
        day += timedelta(days=step)
    return day


class ProtectedHourScreen(RhythmScreen):
    """One day's protected hour: every slot, free or booked, and the highlighted SBAR in full."""

    CSS_PATH = "protected_hour.tcss"
    AUTO_FOCUS = "#slots"
    COMMAND_LIST = PROTECTED_HOUR_COMMANDS
    BINDINGS = [c.binding() for c in COMMAND_LIST]

    def __init__(self, day: date | None = None) -> None:
        super().__init__()
        self.day = day
        self.slots: list[Slot] = []
        self._logged_day: date | None = None  # the day whose running order was last logged as seen

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("", id="ph-title", markup=False)
        yield DataTable(id="slots", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="ph-detail-box"):
            yield Static("", id="ph-detail", markup=False)
        yield Footer()

    def setup(self) -> None:
        self.title = "Protected hour"
        self.day = self.day or self.ctx.today
        table = self.query_one("#slots", DataTable)
        for label, width in (
            ("Time", 11),
            ("State", 9),
            ("CRN", 7),
            ("RoSH", 4),
            ("PP", 14),
            ("Title", 30),
            ("Urgency", 7),
            ("Name", 16),
        ):
            table.add_column(label, width=width)

    # --- Data ------------------------------------------------------------------------------------

    def log_view(self) -> None:
        """Logged on opening and for each other day shown: each day's running order names other cases."""
        if self.day != self._logged_day:
            self._logged_day = self.day
            self.app.record_view(
                lookup.record_protected_hour_view, day=self.day, booked=sum(1 for s in self.slots if not s.free)
            )

    def reload(self) -> None:
        ctx = self.ctx
        assert self.day is not None  # setup sets it before the first reload
        self.slots = rhythm.protected_hour(ctx, self.day)
        muted = "dim"
        rows = []
        for s in self.slots:
            state = STATE_LABELS.get(s.state, s.state or "")
            if s.free and s.past:
                state = "past"
            style = muted if s.past or s.done else ""
            when = f"{s.start:%H:%M}–{s.end:%H:%M}" + ("*" if s.off_grid else "")
            rows.append(
                (
                    f"{s.start.isoformat()}:{s.item_id or 'free'}",
                    [
                        cell(when, style),
                        cell(state, "bold" if s.state == "booked" else style),
                        cell(s.crn, style),
                        self.rosh_cell(s.rosh),
                        cell(s.practitioner, style),
                        cell(s.title, style),
                        cell(s.urgency, style),
                        cell(s.name, style),
                    ],
                )
            )
        self.fill(self.query_one("#slots", DataTable), rows)
        booked = [s for s in self.slots if not s.free]
        free = [s for s in self.slots if s.free and not s.past]
        first, last = (self.slots[0].start, self.slots[-1].end) if self.slots else (None, None)
        hours = f" {first:%H:%M}–{last:%H:%M}" if first and last else ""
        waiting = sum(1 for s in booked if s.state == "booked")
        self.query_one("#ph-title", Static).update(
            f"{self.day:%a %d/%m/%Y}{hours} · {len(booked)} booked ({waiting} to hear) · {len(free)} free"
            + (" · not a working day" if not is_working_day(self.day) else "")
        )
        self.show_detail()

    @property
    def current(self) -> Slot | None:
        return self.highlighted_row(self.query_one("#slots", DataTable), self.slots)

    def show_detail(self) -> None:
        slot = self.current
        detail = self.query_one("#ph-detail", Static)
        if slot is None:
            detail.update("")
        elif slot.free:
            detail.update(
                "This slot has passed."
                if slot.past
                else f"Free: b books an open SBAR into {slot.start:%H:%M}; SBARs booked from the queue take the next free slot."
            )
        else:
            assert slot.item_id is not None  # a slot that is not free holds an SBAR
            item = lookup.item_detail(self.ctx, slot.item_id)
            d = item["detail"]
            lines = [
                f"{slot.start:%H:%M} · {slot.crn or ''} {slot.name or ''} · SBAR from "
                f"{item.get('raised_by_name') or slot.practitioner or 'the practitioner'} · {slot.urgency or ''} · "
                f"{STATE_LABELS.get(slot.state, slot.state)}",
                item["title"],
                f"S: {d.get('situation', '')}",
                f"B: {d.get('background', '')}",
                f"A: {d.get('assessment', '')}",
                f"R: {d.get('recommendation', '')}",
            ]
            detail.update(visible("\n".join(lines)))
        self.sync_bindings()

    def applies(self, action: str) -> bool:
        slot = self.current
        if action == "decide":
            return slot is not None and slot.state == "booked"
        if action == "book":
            return slot is not None and slot.free and not slot.past
        if action == "open_case":
            return slot is not None and slot.crn is not None
        return True

    def why_not(self, action: str) -> str | None:
        slot = self.current
        if slot is None:
            return "No slot is highlighted"
        if action == "decide":
            if slot.free:
                return f"The {slot.start:%H:%M} slot is free: nothing to decide (b books an SBAR into it)"
            return (
                f"The SBAR in the {slot.start:%H:%M} slot is already {STATE_LABELS.get(slot.state, slot.state)}: "
                "its entry is on the case (o opens it)"
            )
        if action == "book":
            if slot.past:
                return f"The {slot.start:%H:%M} slot has passed: n goes to the next free slot"
            return f"The {slot.start:%H:%M} slot is taken: n goes to the next free slot"
        if action == "open_case":
            return "This slot has no case: book an SBAR into it with b"
        return None

    @on(DataTable.RowHighlighted, "#slots")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    @on(DataTable.RowSelected, "#slots")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if self.applies("decide"):
            self.action_decide()
        elif self.applies("book"):
            self.action_book()

    # --- Moving about ----------------------------------------------------------------------------

    def action_day(self, step: int) -> None:
        assert self.day is not None  # set in setup
        self.day = _working_day(self.day, step)
        self.reload()
        self.log_view()
        self.query_one("#slots", DataTable).move_cursor(row=0, animate=False)

    def action_next_free(self) -> None:
        try:
            slot = decisions.next_free_slot(self.ctx)
        except SpoError as error:
            self.notify(str(error), severity="warning", markup=False)
            return
        if slot.date() != self.day:
            self.day = slot.date()
            self.reload()
            self.log_view()
        row = next((n for n, s in enumerate(self.slots) if s.free and s.start == slot), None)
        if row is not None:
            self.query_one("#slots", DataTable).move_cursor(row=row, animate=False)
        self.notify(f"Next free slot: {slot:%a %d/%m %H:%M}", markup=False, timeout=3)

    # --- Acting ----------------------------------------------------------------------------------

    def action_book(self) -> None:
        slot = self.current
        if slot is None or not slot.free or slot.past or not self._allowed("book"):
            return
        booked = {s.item_id for s in self.slots if not s.free}
        sbars = [e for e in build_queue(self.ctx, kind="sbar") if e.id not in booked]
        if not sbars:
            self.notify("No open SBAR to book", severity="warning", markup=False)
            return
        choices = [
            (e.id, f"{e.row.sbar_urgency or ''} · {e.row.crn or ''} {e.row.name or ''}: {e.row.title}") for e in sbars
        ]
        self._choose(
            f"Book into {slot.start:%a %d/%m %H:%M}",
            choices,
            lambda item_id: self._call(lambda: decisions.book_protected_hour(self.ctx, item_id, slot=slot.start)),
        )

    def action_decide(self) -> None:
        from spo_tui.screens.oversight_form import OversightForm

        slot = self.current
        if slot is None or slot.state != "booked" or not self._allowed("decide"):
            return
        assert slot.item_id is not None  # a booked slot holds an SBAR
        item = lookup.item_detail(self.ctx, slot.item_id)
        d = item["detail"]
        who = item.get("raised_by_name") or slot.practitioner or "the practitioner"
        discussed = f"SBAR from {who}, protected hour {slot.start:%H:%M}. S: {d['situation']} R: {d['recommendation']}"
        item_id = slot.item_id
        self.app.push_screen(
            OversightForm(
                heading=f"Protected hour {slot.start:%H:%M}: {slot.crn or ''} {slot.name or ''}".strip(),
                submit=lambda values: decisions.record_oversight(self.ctx, item_id=item_id, **values),
                prefill={"discussed": discussed},
                draft_key=f"oversight:{item_id}",
            ),
            self._done,
        )

    def action_open_case(self) -> None:
        slot = self.current
        self.open_crn(slot.crn if slot else None)
