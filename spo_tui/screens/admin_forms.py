"""The admin screen's forms: add work on the team's behalf (keys 1-7), correct a case or a waiting
SBAR, and export the oversight entries not yet in nDelius. Every write goes through a service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spo_tui.domain.errors import SpoError
from spo_tui.domain.vocab import (
    AlertSource,
    CountersignKind,
    Likelihood,
    RoSH,
    SbarState,
    SbarUrgency,
    SentenceType,
    TaskCategory,
    normalise_crn,
)
from spo_tui.screens.admin_lists import AdminLists
from spo_tui.screens.entry_form import EntryForm, Field
from spo_tui.screens.rhythm_base import uk
from spo_tui.services import admin, intake, lookup
from spo_tui.services.base import ActionResult
from spo_tui.services.context import LONDON

_SENTENCE_LABELS = {
    SentenceType.COMMUNITY_ORDER: "Community order",
    SentenceType.SUSPENDED_SENTENCE_ORDER: "Suspended sentence order",
    SentenceType.LICENCE: "Licence",
    SentenceType.POST_SENTENCE_SUPERVISION: "Post-sentence supervision",
}
_MAPPA_CATEGORIES = (
    ("1 Registered sexual offender", "1"),
    ("2 Violent offender", "2"),
    ("3 Other dangerous offender", "3"),
    ("4 Terrorist or terrorist risk", "4"),
)
_MAPPA_LEVELS = (
    ("1 Ordinary agency management", "1"),
    ("2 Active multi-agency", "2"),
    ("3 Active multi-agency (senior)", "3"),
)


def _enum_options(enum_cls, labels: dict | None = None) -> list[tuple[str, str]]:
    return [
        ((labels or {}).get(m) or getattr(m, "label", None) or m.value.replace("_", " ").capitalize(), m.value)
        for m in enum_cls
    ]


def _likelihood_options() -> list[tuple[str, str]]:
    return [(RoSH(m.value).label, m.value) for m in Likelihood]


class AdminForms(AdminLists):
    """The forms' part of the admin screen: each key opens a form or a prompt whose answer goes to a service."""

    def _form(
        self, heading: str, fields: list[Field], submit: Callable[[dict], ActionResult], changed_only: bool = False
    ) -> None:
        self.app.push_screen(
            EntryForm(heading=heading, fields=fields, submit=submit, changed_only=changed_only, today=self.ctx.today),
            self._done,
        )

    # --- Adding work -------------------------------------------------------------------------------

    def _practitioner_options(self, keep: str | None = None) -> list[tuple[str, str]]:
        names = [p["name"] for p in lookup.practitioners(self.ctx)]
        if keep and keep not in names:
            names.append(keep)
        return [(n, n) for n in names]

    def action_add_sbar(self) -> None:
        if not self._allowed("add_sbar"):
            return
        # Decided: the highlighted row's case, and its practitioner as the one who raised it (a CASPO
        # logs an SBAR for the PP far more often than for anyone else); both can be changed.
        crn = self.highlighted_crn()
        practitioner = (lookup.case_summary(self.ctx, crn).get("practitioner") if crn else None) or ""
        options = self._practitioner_options()
        practitioner = practitioner if practitioner in {v for _l, v in options} else ""
        fields = [
            Field("crn", "CRN", placeholder="X123456", value=crn or ""),
            Field(
                "raised_by", "Raised by", "select", options, "Choose the practitioner", blank=True, value=practitioner
            ),
            Field("situation", "Situation", "textarea", placeholder="What is happening now"),
            Field("background", "Background", "textarea", placeholder="What led to it"),
            Field("assessment", "Assessment", "textarea", placeholder="The practitioner's view of the risk"),
            Field("recommendation", "Recommendation", "textarea", placeholder="What they propose"),
            Field("urgency", "Urgency", "select", _enum_options(SbarUrgency), value=SbarUrgency.ROUTINE.value),
        ]
        self._form("Log an SBAR on behalf of a practitioner", fields, lambda v: intake.raise_sbar(self.ctx, **v))

    def action_add_countersign(self) -> None:
        if not self._allowed("add_countersign"):
            return
        fields = [
            Field("crn", "CRN", placeholder="X123456"),
            Field(
                "kind",
                "Kind",
                "select",
                _enum_options(CountersignKind),
                value=CountersignKind.OASYS.value,
            ),
            Field("author", "Author", "select", self._practitioner_options(), "Choose who wrote it", blank=True),
            Field("court_date", "Court date", "date", placeholder="PSRs: e.g. fri, 25/12 (otherwise blank)"),
            Field("court_time", "Court time", placeholder="PSRs: the hearing, e.g. 10:00 (optional)"),
            Field("oral", "Oral report", "checkbox"),
            Field(
                "gatekeeper",
                "Peer gatekeeper",
                "select",
                self._practitioner_options(),
                "PSRs on medium RoSH: a peer PO (blank: you)",
                blank=True,
            ),
            Field("link", "Link", placeholder="Where to read it (optional)"),
        ]

        def submit(v: dict) -> ActionResult:
            return intake.add_countersign(
                self.ctx,
                v["crn"],
                v["kind"],
                v["author"],
                court_date=v["court_date"] or None,
                link=v["link"].strip() or None,
                court_time=v["court_time"] or None,
                oral=bool(v["oral"]),
                gatekeeper=v["gatekeeper"] or None,
            )

        self._form("Put work in the countersigning queue", fields, submit)

    def action_add_task(self) -> None:
        if not self._allowed("add_task"):
            return
        fields = [
            Field("title", "Title", placeholder="e.g. Heating broken in interview room 2"),
            Field(
                "category",
                "Category",
                "select",
                _enum_options(TaskCategory),
                value=TaskCategory.BUILDINGS.value,
            ),
            Field("details", "Details", "textarea", placeholder="Anything the person doing it needs to know"),
            Field("due", "Due", "date", placeholder="blank: the category's target, or e.g. fri, 3d"),
            Field("helpdesk_ref", "Helpdesk ref", placeholder="facilities jobs: the helpdesk's job reference"),
        ]

        def submit(v: dict) -> ActionResult:
            return intake.add_task(
                self.ctx,
                v["title"],
                v["category"],
                details=v["details"],
                due=v["due"] or None,
                helpdesk_ref=v["helpdesk_ref"],
            )

        self._form("Add a non-operational task", fields, submit)

    def action_add_alert(self) -> None:
        if not self._allowed("add_alert"):
            return
        fields = [
            Field("crn", "CRN", placeholder="X123456"),
            Field("source", "Source", "select", _enum_options(AlertSource), value=AlertSource.ARREST.value),
            Field("details", "Details", "textarea", placeholder="What happened, when, who told us"),
        ]
        self._form("Log an immediate-risk alert", fields, lambda v: intake.add_alert(self.ctx, **v))

    def _case_fields(self, case: dict[str, Any] | None = None) -> list[Field]:
        c = case or {}
        return [
            Field("name", "Name", placeholder="Full name", value=c.get("name") or ""),
            Field(
                "practitioner",
                "Practitioner",
                "select",
                self._practitioner_options(c.get("practitioner")),
                "Choose the practitioner",
                value=c.get("practitioner") or "",
                blank=True,
            ),
            Field("rosh", "RoSH", "select", _enum_options(RoSH), value=c.get("rosh") or RoSH.LOW.value),
            Field(
                "sentence_type",
                "Sentence",
                "select",
                [(label, s.value) for s, label in _SENTENCE_LABELS.items()],
                value=c.get("sentence_type") or SentenceType.COMMUNITY_ORDER.value,
            ),
            Field(
                "sentence_start",
                "Sentence start",
                "date",
                direction="past",
                placeholder="e.g. 01/10/2026",
                value=uk(c.get("sentence_start")),
            ),
            Field(
                "sentence_end",
                "Sentence end",
                "date",
                direction="nearest",
                placeholder="optional",
                value=uk(c.get("sentence_end")),
            ),
            Field(
                "likelihood",
                "Likelihood",
                "select",
                _likelihood_options(),
                "not known",
                value=c.get("likelihood") or "",
                blank=True,
            ),
            Field(
                "mappa_category",
                "MAPPA category",
                "select",
                _MAPPA_CATEGORIES,
                "none",
                value=str(c["mappa_category"]) if c.get("mappa_category") else "",
                blank=True,
            ),
            Field(
                "mappa_level",
                "MAPPA level",
                "select",
                _MAPPA_LEVELS,
                "none",
                value=str(c["mappa_level"]) if c.get("mappa_level") else "",
                blank=True,
            ),
            Field("tier", "Tier", placeholder="e.g. B2 (optional)", value=c.get("tier") or ""),
        ]

    def action_add_case(self) -> None:
        if not self._allowed("add_case"):
            return
        fields = [Field("crn", "CRN", placeholder="X123456"), *self._case_fields()]

        def submit(v: dict) -> ActionResult:
            return intake.add_case(
                self.ctx,
                v["crn"],
                v["name"],
                v["practitioner"],
                v["rosh"],
                v["sentence_type"],
                v["sentence_start"],
                sentence_end=v["sentence_end"] or None,
                likelihood=v["likelihood"] or None,
                mappa_category=v["mappa_category"] or None,
                mappa_level=v["mappa_level"] or None,
                tier=v["tier"] or None,
            )

        self._form("Add a case", fields, submit)

    def action_add_transfer(self) -> None:
        if not self._allowed("add_transfer"):
            return
        fields = [
            Field("crn", "CRN", placeholder="X123456"),
            Field("direction", "Direction", "select", [("Transfer in", "in"), ("Transfer out", "out")], value="out"),
            Field("other_area", "Other area", placeholder="The other PDU or region"),
            Field("due", "Due", "date", placeholder="optional, e.g. 2w, 25/12"),
            Field("note", "Note", placeholder="optional"),
        ]

        def submit(v: dict) -> ActionResult:
            return admin.add_transfer(
                self.ctx, v["crn"], v["direction"], v["other_area"], due=v["due"] or None, note=v["note"]
            )

        self._form("Track a transfer in or out", fields, submit)

    def action_add_absence(self) -> None:
        if not self._allowed("add_absence"):
            return
        fields = [
            Field(
                "who",
                "Who",
                "select",
                [(s["name"], s["name"]) for s in lookup.staff(self.ctx)],
                "Choose who",
                blank=True,
            ),
            Field("start", "From", "date", direction="nearest", placeholder="e.g. today, mon, 25/12"),
            Field("end", "To", "date", direction="nearest", placeholder="blank: one day"),
            Field("reason", "Reason", placeholder="e.g. annual leave, sickness, training"),
        ]

        def submit(v: dict) -> ActionResult:
            return admin.add_absence(self.ctx, v["who"], v["start"], v["end"] or None, v["reason"])

        self._form("Record a staff absence", fields, submit)

    # --- Corrections -------------------------------------------------------------------------------

    def action_edit_case(self) -> None:
        if self._allowed("edit_case"):
            self._ask_for_case("Edit which case?", self._edit_case_form)

    def _ask_for_case(self, question: str, then: Callable[[dict[str, Any]], None]) -> None:
        """Ask for a CRN (the highlighted row's offered), refuse one that is not a case in the prompt
        itself, then go on with the case's summary."""
        from spo_tui.screens.prompts import PromptScreen

        found: list[dict[str, Any]] = []

        def check(text: str) -> None:
            found.append(lookup.case_summary(self.ctx, normalise_crn(text)))

        def go_on(text: str | None) -> None:
            if text and found:
                then(found[-1])

        self.app.push_screen(
            PromptScreen(question, "CRN, e.g. X123456", value=self.highlighted_crn() or "", submit=check), go_on
        )

    def _edit_case_form(self, case: dict[str, Any]) -> None:
        crn = case["crn"]
        self._form(
            f"Correct case {crn} {case['name']}",
            self._case_fields(case),
            lambda v: admin.update_case(self.ctx, crn, **v),
            changed_only=True,
        )

    def action_custody(self) -> None:
        """Record a case's custody-to-community dates (``admin.set_custody``) [004]."""
        if self._allowed("custody"):
            self._ask_for_case("Custody dates of which case?", self._custody_form)

    def _custody_form(self, case: dict[str, Any]) -> None:
        crn = case["crn"]
        fields = [
            Field(
                "release_date",
                "Release",
                "date",
                direction="nearest",
                placeholder="blank: none",
                value=uk(case.get("release_date")),
            ),
            Field("rotl_date", "ROTL", "date", placeholder="blank: none", value=uk(case.get("rotl_date"))),
            Field(
                "handover_date",
                "OMiC handover",
                "date",
                direction="nearest",
                placeholder="blank: none",
                value=uk(case.get("handover_date")),
            ),
            Field(
                "lifer_panel_date",
                "Lifer panel",
                "date",
                placeholder="lifers (INLL) only",
                value=uk(case.get("lifer_panel_date")),
            ),
            Field("victim_contact", "Victim contact scheme", "checkbox", value=bool(case.get("victim_contact"))),
        ]
        self._form(
            f"Custody to community: {crn} {case['name']}",
            fields,
            lambda v: admin.set_custody(self.ctx, crn, **v),
            changed_only=True,
        )

    def action_edit_sbar(self) -> None:
        from spo_tui.services.queue import build_queue

        if not self._allowed("edit_sbar"):
            return
        waiting: dict[str, dict[str, Any]] = {}
        for entry in build_queue(self.ctx, kind="sbar"):
            item = lookup.item_detail(self.ctx, entry.id)
            if item["detail"].get("state") == SbarState.RAISED.value:
                waiting[entry.id] = item
        if not waiting:
            self.notify("No SBAR is waiting for the SPO: there is nothing to correct", severity="warning", markup=False)
            return
        choices = [
            (item_id, f"{item['crn']} {item.get('raised_by_name') or ''}: {item['title']}")
            for item_id, item in waiting.items()
        ]
        self._choose("Correct which SBAR?", choices, lambda item_id: self._edit_sbar_form(waiting[item_id]))

    def _edit_sbar_form(self, item: dict[str, Any]) -> None:
        d = item["detail"]
        fields = [
            Field("title", "Title", value=item["title"]),
            Field("situation", "Situation", "textarea", value=d.get("situation") or ""),
            Field("background", "Background", "textarea", value=d.get("background") or ""),
            Field("assessment", "Assessment", "textarea", value=d.get("assessment") or ""),
            Field("recommendation", "Recommendation", "textarea", value=d.get("recommendation") or ""),
            Field(
                "urgency",
                "Urgency",
                "select",
                _enum_options(SbarUrgency),
                value=d.get("urgency") or SbarUrgency.ROUTINE.value,
            ),
        ]
        who = item.get("raised_by_name") or "the practitioner"
        self._form(
            f"Correct the SBAR on {item['crn']} from {who}",
            fields,
            lambda v: admin.update_sbar(self.ctx, item["id"], **v),
            changed_only=True,
        )

    # --- Export for nDelius -----------------------------------------------------------------------

    def action_export_ndelius(self) -> None:
        """Write the entries not yet in nDelius to ``ndelius-DATE-TIME.txt`` beside the database (as
        ``spo-tui export oversight --output FILE`` does), marking them entered only if the CASPO says
        so: marking keeps them out of the next export, and ``spo-tui export unmark`` takes it back."""
        if not self._allowed("export_ndelius"):
            return
        from spo_tui.services import export

        waiting = len(export.pending_oversight(self.ctx))
        if not waiting:
            self.notify("Every oversight entry is already marked entered in nDelius: nothing to export", markup=False)
            return
        name = f"ndelius-{self.ctx.now.astimezone(LONDON):%Y-%m-%d-%H%M}.txt"
        path = self.app.db_path.resolve().parent / name
        entries = f"{waiting} entr{'y' if waiting == 1 else 'ies'}"

        def chosen(value: str) -> None:
            try:
                done = export.export_oversight_to_file(self.ctx, path, fmt="text", mark_entered=value == "mark")
            except SpoError as error:
                self.notify(str(error), severity="error", markup=False)
                return
            marked = (
                f"; marked entered as batch {done.batch_id[:8]}"
                if done.batch_id
                else "; not marked: they will be in the next export too"
            )
            self.notify(f"{done.count} written to {done.path}{marked}", markup=False, timeout=8)

        self._choose(
            f"Export {entries} not yet in nDelius to {name}",
            [
                ("mark", "Write the file and mark them entered (they leave the next export)"),
                ("file", "Write the file only (mark them later)"),
            ],
            chosen,
        )
