"""The admin screen's lists: the touch-point diary for the next 14 days, MAPPA level 1 reviews
coming due, transfers in progress and the R-CAT eligible list (one case per practitioner a year
[000 §3.3], the list the CASPO keeps for the SPO or QDO [001]); how each reads, which row is
highlighted, and the keys that act on a row (arrange, reminded, reminder text, review date, transfer
progress, R-CAT audit)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable, Label, Static, TabbedContent

from spo_tui.domain.assurance import RcatOutcome
from spo_tui.domain.dates import from_iso, relative_due
from spo_tui.screens.acting import ActingScreen
from spo_tui.screens.rhythm_base import cell, uk
from spo_tui.screens.text_screen import TextScreen
from spo_tui.services import admin, assurance, intake
from spo_tui.services.admin import DiaryLine
from spo_tui.services.assurance import RcatLine
from spo_tui.services.base import ActionResult
from spo_tui.services.context import LONDON

PANES = ("diary", "mappa", "transfers", "rcat")
#: Commands that act on the highlighted row of one list.
PANE_OF = {
    "arrange": "diary",
    "reminder_sent": "diary",
    "reminder_text": "diary",
    "mappa_review": "mappa",
    "transfer_status": "transfers",
    "rcat_audit": "rcat",
}

TRANSFER_STATUS_LABELS = {
    "requested": "Requested",
    "in_progress": "In progress",
    "completed": "Completed",
    "cancelled": "Cancelled",
}


def arranged_text(value: str | None) -> str:
    """A diarised meeting as it reads in the diary: ``Fri 27/11 10:30`` or ``Fri 27/11``."""
    if not value:
        return ""
    try:
        if "T" in value:
            moment = datetime.fromisoformat(value).astimezone(LONDON)
            return f"{moment:%a %d/%m %H:%M}"
        return f"{date.fromisoformat(value):%a %d/%m}"
    except ValueError:
        return value


def sent_text(value: str | None) -> str:
    """When the reminder was sent, in London time."""
    if not value:
        return ""
    try:
        return f"sent {from_iso(value).astimezone(LONDON):%d/%m}"
    except ValueError:
        return value


class AdminLists(ActingScreen):
    """The lists' part of the admin screen (``AdminScreen`` composes the tables): read, fill, act on a row."""

    def __init__(self) -> None:
        super().__init__()
        self.diary: list[DiaryLine] = []
        self.mappa: list[dict[str, Any]] = []
        self.transfers: list[dict[str, Any]] = []
        self.rcat: list[RcatLine] = []
        self.rcat_done: list[dict[str, Any]] = []

    def setup_lists(self) -> None:
        """The three tables' columns, once."""
        diary = self.query_one("#diary-table", DataTable)
        diary.add_column("Practitioner", key="pp", width=13)
        diary.add_column("Due", key="due", width=11)
        diary.add_column("CRN", key="crn", width=7)
        diary.add_column("Name", key="name", width=12)
        diary.add_column("Arranged", key="arranged", width=15)
        diary.add_column("Reminder", key="reminder", width=10)
        diary.add_column("Title", key="title", width=36)
        mappa = self.query_one("#mappa-table", DataTable)
        mappa.add_column("CRN", key="crn", width=7)
        mappa.add_column("Name", key="name", width=18)
        mappa.add_column("PP", key="pp", width=16)
        mappa.add_column("Cat", key="cat", width=3)
        mappa.add_column("MAPP review", key="review", width=24)
        transfers = self.query_one("#transfers-table", DataTable)
        transfers.add_column("CRN", key="crn", width=7)
        transfers.add_column("Name", key="name", width=16)
        transfers.add_column("In/out", key="direction", width=6)
        transfers.add_column("Other area", key="area", width=18)
        transfers.add_column("Status", key="status", width=11)
        transfers.add_column("Due", key="due", width=11)
        transfers.add_column("Note", key="note", width=30)
        rcat = self.query_one("#rcat-table", DataTable)
        rcat.add_column("Practitioner", key="pp", width=16)
        rcat.add_column("Role", key="role", width=5)
        rcat.add_column("Last audit", key="last", width=10)
        rcat.add_column("CRN", key="crn", width=7)
        rcat.add_column("Name", key="name", width=16)
        rcat.add_column("Why this case", key="why", width=44)

    def reload(self) -> None:
        """Read the three lists (fast local reads) and show them, keeping each cursor's row."""
        ctx = self.ctx
        self.diary = [line for lines in admin.touch_point_diary(ctx).values() for line in lines]
        self.mappa = admin.mappa_level1_reviews(ctx)
        self.transfers = admin.transfers_in_progress(ctx)
        today = ctx.today
        self._show("diary", self._diary_rows(today))
        self._show("mappa", [(r["crn"], self._mappa_cells(r, today)) for r in self.mappa])
        self._show("transfers", [(t["id"], self._transfer_cells(t, today)) for t in self.transfers])
        self.rcat = assurance.rcat_eligible(ctx)
        self.rcat_done = assurance.rcat_done(ctx)
        self._show("rcat", [(line.practitioner_id, self._rcat_cells(line)) for line in self.rcat])
        self.query_one("#rcat-done", Static).update(self._rcat_done_text())
        tabs = self.query_one("#admin-tabs", TabbedContent)
        tabs.get_tab("diary").label = f"Diary {len(self.diary)}"
        tabs.get_tab("mappa").label = f"MAPPA L1 {len(self.mappa)}"
        tabs.get_tab("transfers").label = f"Transfers {len(self.transfers)}"
        tabs.get_tab("rcat").label = f"R-CAT {len(self.rcat)}"
        self.refresh_bindings()

    def _show(self, pane: str, rows: list[tuple[str, list[Text]]]) -> None:
        """Fill one list (the cursor kept on its row number), or say it is empty."""
        table = self.query_one(f"#{pane}-table", DataTable)
        self.fill(table, rows)
        self.query_one(f"#{pane}-empty", Label).set_class(not rows, "-shown")
        table.set_class(not rows, "-empty")

    def _diary_rows(self, today: date) -> list[tuple[str, list[Text]]]:
        out = []
        previous = None
        for line in self.diary:
            overdue = line.due < today
            pp = line.practitioner if line.practitioner != previous else ""
            previous = line.practitioner
            out.append(
                (
                    line.item_id,
                    [
                        cell(pp, "bold"),
                        cell(relative_due(line.due, today), self.overdue_style() if overdue else ""),
                        cell(line.crn),
                        cell(line.name),
                        cell(arranged_text(line.arranged_for) or "not yet", "" if line.arranged_for else "dim"),
                        cell(sent_text(line.reminder_sent_at) or "not sent", "" if line.reminder_sent_at else "dim"),
                        cell(line.title),
                    ],
                )
            )
        return out

    def overdue_style(self) -> Style:
        """A date that has passed: the theme's error text colour, bold, as in the queue, so it reads in
        every theme, light ones too."""
        return self.theme_style("text-error", bold=True)

    def _mappa_cells(self, r: dict[str, Any], today: date) -> list[Text]:
        if r.get("review_date"):
            review = date.fromisoformat(r["review_date"][:10])
            text = f"{review:%d/%m/%Y} ({relative_due(review, today)})"
            style: Style | str = self.overdue_style() if review < today else ""
        else:
            text, style = "not set", "italic"
        return [
            cell(r["crn"]),
            cell(r["name"]),
            cell(r.get("practitioner") or "unallocated"),
            cell(str(r.get("mappa_category") or "")),
            cell(text, style),
        ]

    def _transfer_cells(self, t: dict[str, Any], today: date) -> list[Text]:
        due = ""
        style: Style | str = ""
        if t.get("due"):
            day = date.fromisoformat(t["due"])
            due = relative_due(day, today)
            style = self.overdue_style() if day < today else ""
        return [
            cell(t["crn"]),
            cell(t.get("name")),
            cell((t.get("direction") or "").capitalize()),
            cell(t.get("other_area")),
            cell(TRANSFER_STATUS_LABELS.get(t["status"], t["status"])),
            cell(due, style),
            cell(t.get("note")),
        ]

    def _rcat_cells(self, line: RcatLine) -> list[Text]:
        return [
            cell(line.practitioner, "bold"),
            cell(line.role),
            cell(f"{line.last_audit:%d/%m/%Y}" if line.last_audit else "never", "" if line.last_audit else "dim"),
            cell(line.crn or ""),
            cell(line.name or ""),
            cell(line.why, "" if line.crn else "italic"),
        ]

    def _rcat_done_text(self) -> str:
        """The audits of the last 12 months, in a line: how many, and the latest."""
        if not self.rcat_done:
            return "R-CAT audits in the last 12 months: none yet. One case per practitioner a year."
        last = self.rcat_done[0]
        outcome = RcatOutcome(last["outcome"]).label
        return (
            f"R-CAT audits in the last 12 months: {len(self.rcat_done)}. Latest {date.fromisoformat(last['audited_on']):%d/%m/%Y}:"
            f" {last['crn']} ({last['practitioner']}) by {last['auditor']}, {outcome}."
        )

    def _current(self, pane: str) -> Any:
        panes: dict[str, list[Any]] = {
            "diary": self.diary,
            "mappa": self.mappa,
            "transfers": self.transfers,
            "rcat": self.rcat,
        }
        rows = panes[pane]
        return self.highlighted_row(self.query_one(f"#{pane}-table", DataTable), rows)

    def highlighted_crn(self) -> str | None:
        """The CRN of the row highlighted in the list on show (diary, MAPPA, transfers), if any."""
        row = self._current(self.active_pane) if self.is_mounted else None
        if row is None:
            return None
        return getattr(row, "crn", None) or (row.get("crn") if isinstance(row, dict) else None)

    @property
    def active_pane(self) -> str:
        return self.query_one("#admin-tabs", TabbedContent).active or "diary"

    # --- The diary -----------------------------------------------------------------------------

    def action_arrange(self) -> None:
        line: DiaryLine | None = self._current("diary")
        if line is None or not self._allowed("arrange"):
            return
        self._prompt(
            f"Arrange the touch point on {line.crn} with {line.practitioner}",
            "When? e.g. fri 10:30",
            lambda text: admin.mark_arranged(self.ctx, line.item_id, text),
            echo=lambda text: admin.meeting_echo(self.ctx, text),
        )

    def action_reminder_sent(self) -> None:
        line: DiaryLine | None = self._current("diary")
        if line is not None and self._allowed("reminder_sent"):
            self._call(lambda: admin.mark_reminder_sent(self.ctx, line.item_id))

    def action_reminder_text(self) -> None:
        line: DiaryLine | None = self._current("diary")
        if line is None:
            return
        text = line.reminder
        self.app.copy_to_clipboard(text)
        to = f" ({line.practitioner_email})" if line.practitioner_email else ""
        self.app.push_screen(TextScreen(f"Reminder for {line.practitioner}{to}", text))
        self.notify("Reminder copied", markup=False, timeout=3)

    # --- MAPPA level 1 and transfers ----------------------------------------------------------------

    def action_mappa_review(self) -> None:
        case = self._current("mappa")
        if case is None or not self._allowed("mappa_review"):
            return
        crn = case["crn"]

        def set_review(text: str) -> ActionResult:
            return admin.set_flag(self.ctx, crn, "MAPP", intake.parse_day(self.ctx, text, "review", "future"))

        self._prompt(
            f"MAPPA level 1 review for {crn} {case['name']}",
            "Review date, e.g. 3m, 25/02, 25/02/2027",
            set_review,
            value=uk(case.get("review_date")),
            echo=lambda text: intake.date_echo(self.ctx, text, "future"),
        )

    def action_transfer_status(self) -> None:
        transfer = self._current("transfers")
        if transfer is None or not self._allowed("transfer_status"):
            return
        choices = [(s, label) for s, label in TRANSFER_STATUS_LABELS.items() if s != transfer["status"]]
        self._choose(
            f"Transfer {transfer['direction']} of {transfer['crn']}: now",
            choices,
            lambda status: self._call(lambda: admin.set_transfer_status(self.ctx, transfer["id"], status)),
        )

    # --- R-CAT ---------------------------------------------------------------------------------------

    def action_rcat_audit(self) -> None:
        """Record the audit of the highlighted practitioner's case: the auditor (a QDO or SPO; the
        person at the keyboard if they are one), the outcome, then the findings [000 §3.3]."""
        line: RcatLine | None = self._current("rcat")
        if line is None or not self._allowed("rcat_audit"):
            return
        if line.crn is None:
            self.notify(f"{line.practitioner} {line.why}", severity="warning", markup=False)
            return
        crn = line.crn

        def outcome_then(auditor: str | None) -> None:
            self._choose(
                f"R-CAT of {crn} ({line.practitioner}): the outcome",
                [(o.value, o.label) for o in RcatOutcome],
                lambda outcome: self._prompt(
                    f"R-CAT of {crn} ({line.practitioner}): {RcatOutcome(outcome).label}",
                    "Findings" + (" (may be left empty)" if outcome == RcatOutcome.GOOD.value else ""),
                    lambda notes: assurance.record_rcat(self.ctx, crn, outcome, notes, by=auditor),
                ),
            )

        if self.ctx.actor["role"] in assurance.AUDITOR_ROLES:
            outcome_then(None)
            return
        auditors = [(s["name"], f"{s['name']} ({s['role']})") for s in assurance.auditors(self.ctx)]
        if not auditors:
            self.notify("No QDO or SPO is on the staff list to have audited it", severity="error", markup=False)
            return
        self._choose(f"R-CAT of {crn} ({line.practitioner}): who audited it?", auditors, outcome_then)
