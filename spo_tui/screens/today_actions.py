"""The Today screen's actions on the highlighted queue item: decide, confirm, book, ask for more
information, escalate, sign off, return, waive, delegate, mark done, answer, snooze and reassign.
Each ends in a service call (``ActingScreen``); ``TodayScreen`` shows the queue they act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spo_tui.domain.dates import local_time
from spo_tui.domain.errors import SpoError
from spo_tui.domain.exchanges import discussed_prefill, exchanges
from spo_tui.screens.acting import ActingScreen
from spo_tui.services import decisions, intake, lookup, workload

if TYPE_CHECKING:
    from spo_tui.services.queue import QueueEntry


def _correction(values: dict) -> dict:
    """The oversight form's values as ``decisions.correct_entry`` takes them (a correction has no
    actions or minutes of its own: the SPO agrees new actions with a new entry)."""
    return {k: values[k] for k in ("outcome", "discussed", "decision", "type", "sensitive") if k in values}


def _since(stamp: str | None) -> str:
    """`` on Wed 02/12/2026`` for a waiting item's since, or nothing."""
    if not stamp:
        return ""
    return f" on {local_time(stamp):%a %d/%m/%Y}"


class TodayActions(ActingScreen):
    """The acting part of the Today screen: what each key does to the highlighted item."""

    if TYPE_CHECKING:
        team_choice: str | None

        @property
        def current(self) -> QueueEntry | None: ...

        def _refused(self, action: str) -> bool: ...

        def reload(self, keep_row: int | None = None) -> None: ...

    def action_decide(self) -> None:
        from spo_tui.screens.oversight_form import OversightForm

        entry = self.current
        if entry is None or self._refused("decide"):
            return
        item = lookup.item_detail(self.ctx, entry.id)
        if entry.row.kind == "confirm":  # correcting an entry made in your name: a new entry superseding it
            e = item["detail"]["entry"]
            self.app.push_screen(
                OversightForm(
                    heading=f"Correct the entry {e['entered_by_name']} made: {entry.row.crn or ''} {entry.row.name or ''}".strip(),
                    submit=lambda values: decisions.correct_entry(self.ctx, entry.id, **_correction(values)),
                    prefill={"discussed": e["discussed"], "decision": e["decision"]},
                    draft_key=f"correct:{entry.id}",
                ),
                self._done,
            )
            return
        self.app.push_screen(
            OversightForm(
                heading=f"{entry.kind.label}: {entry.row.crn or ''} {entry.row.name or ''}".strip(),
                submit=lambda values: decisions.record_oversight(self.ctx, item_id=entry.id, **values),
                prefill={"discussed": discussed_prefill(item)},
                draft_key=f"oversight:{entry.id}",
                on_behalf=decisions.on_behalf_banner(self.ctx, item_id=entry.id),
            ),
            self._done,
        )

    def action_confirm(self) -> None:
        """Confirm the entry a CASPO made in your name: it stands as entered."""
        entry = self.current
        if entry is None or self._refused("confirm"):
            return
        self._call(lambda: decisions.confirm_entry(self.ctx, entry.id))

    def action_choose_team(self) -> None:
        """A PDU head chooses one team's queue, or every team's (the Team column shows whose)."""
        if self._refused("choose_team"):
            return
        choices = [("*", "All teams"), *((t, t) for t in lookup.teams(self.ctx))]

        def chosen(value: str) -> None:
            self.team_choice = None if value == "*" else value
            self.reload(keep_row=0)
            self.notify(f"Showing {'every team' if value == '*' else value}", markup=False)

        self._choose("Show the queue of", choices, chosen)

    def action_book(self) -> None:
        """Book the SBAR into the next free slot; one booked already is moved only if the SPO says so."""
        if self._refused("book"):
            return
        from spo_tui.domain.dates import uk_moment
        from spo_tui.screens.prompts import ConfirmScreen

        entry = self.current
        if entry is None:
            return
        booked = (lookup.item_detail(self.ctx, entry.id)["detail"] or {}).get("booked_for")
        if not booked:
            self._call(lambda: decisions.book_protected_hour(self.ctx, entry.id))
            return
        question = (
            f"This SBAR is already booked into the protected hour {uk_moment(booked)}. Move it to the next free slot?"
        )
        self.app.push_screen(
            ConfirmScreen(question, destructive=True, yes="move it", no="keep the booking"),
            lambda move: self._call(lambda: decisions.book_protected_hour(self.ctx, entry.id)) if move else None,
        )

    def action_more_info(self) -> None:
        if self._refused("more_info"):
            return
        entry = self.current
        if entry:
            self._prompt(
                f"Ask {entry.row.practitioner} for more information",
                "What do you need to know?",
                lambda text: decisions.request_more_information(self.ctx, entry.id, text),
            )

    def action_escalate(self) -> None:
        if self._refused("escalate"):
            return
        entry = self.current
        if entry is None:
            return

        def with_note(target: str) -> None:
            self._prompt(
                f"Escalate to {target}: note",
                "Why, and what you need from them",
                lambda text: decisions.escalate_sbar(self.ctx, entry.id, target, text),
            )

        self._choose("Escalate to", [(t, t) for t in decisions.ESCALATION_TARGETS], with_note)

    def action_sign_off(self) -> None:
        if self._refused("sign_off"):
            return
        entry = self.current
        if entry:
            self._verdict_then_minutes(entry, signed_off=True)

    def action_return_item(self) -> None:
        if self._refused("return_item"):
            return
        entry = self.current
        if entry:
            self._verdict_then_minutes(entry, signed_off=False)

    def _verdict_then_minutes(self, entry: QueueEntry, *, signed_off: bool) -> None:
        """The verdict (checked as it is entered), then the minutes it took (optional: Enter skips),
        so the time view counts countersigning as it counts tasks [000 §3.3]. A PSR is gatekept,
        not countersigned: its prompts say so [000 §3.2]."""
        from spo_tui.screens.prompts import PromptScreen
        from spo_tui.services import countersigning

        psr = entry.row.countersign_kind == "PSR"
        if signed_off:
            title = "Gatekeep: ready for court" if psr else "Sign off: your verdict"
            placeholder = "What you checked and found (required)"
        else:
            title = "Return to the author with changes" if psr else "Return: deficits and guidance"
            placeholder = "What must change before " + ("court (required)" if psr else "you sign (required)")
        kept: list[str] = []

        def check(text: str) -> None:
            kept.append(countersigning.check_verdict(self.ctx, text, signed_off=signed_off))

        def ask_minutes(_text: str | None) -> None:
            if not kept:
                return
            self._prompt(
                "Minutes it took (optional)",
                "e.g. 20, or Enter to skip",
                lambda m: decisions.countersign(
                    self.ctx, entry.id, verdict=kept[-1], signed_off=signed_off, minutes=m.strip() or None
                ),
            )

        self.app.push_screen(PromptScreen(title, placeholder, submit=check), ask_minutes)

    def action_waive(self) -> None:
        if self._refused("waive"):
            return
        entry = self.current
        if entry:
            self._prompt(
                "Waive touch point: reason",
                "Why no touch point is needed now (required)",
                lambda text: decisions.waive_touch_point(self.ctx, entry.id, text),
            )

    def action_delegate(self) -> None:
        if self._refused("delegate"):
            return
        entry = self.current
        if entry is None:
            return
        people = [(s["name"], f"{s['role']}: {s['name']}") for s in lookup.delegates(self.ctx)]
        self._choose(
            "Delegate to", people, lambda name: self._call(lambda: decisions.delegate_task(self.ctx, entry.id, name))
        )

    def action_done(self) -> None:
        entry = self.current
        if entry is None or self._refused("done"):
            return
        if entry.row.kind == "task":
            self._prompt(
                "Done: minutes it took", "e.g. 30", lambda text: decisions.complete_task(self.ctx, entry.id, text)
            )
        else:
            self._call(lambda: decisions.complete_action(self.ctx, entry.id))

    def action_answer(self) -> None:
        """Log what came back on a waiting item: the practitioner's answer to the question asked,
        the answer to an escalation, or the resubmission of returned work. The dialog shows what
        was asked (and of whom, since when)."""
        if self._refused("answer"):
            return
        entry = self.current
        if entry is None:
            return
        item = lookup.item_detail(self.ctx, entry.id)
        state = item["detail"].get("state")
        since = _since(entry.row.waiting_since)
        if item["kind"] == "countersign":
            title, hint = (
                f"Resubmitted by {entry.row.waiting_on or 'the author'}",
                "What changed (optional); Enter to log it",
            )
            note = f"Returned for rework{since}"
        elif state == "escalated":
            title, hint = (
                f"Answer from {entry.row.waiting_on or item['detail']['escalated_to']}",
                "What they decided or advised",
            )
            note = "\n".join(
                f"{label}{since}: {text}"
                for label, text in exchanges("sbar", item["detail"])
                if label.startswith("Escalated")
            )
        else:
            title, hint = (
                f"Answer from {entry.row.waiting_on or entry.row.practitioner}",
                "What the practitioner told you",
            )
            note = f"You asked{since}: {item['detail'].get('info_request') or ''}"
        self._prompt(title, hint, lambda text: decisions.log_answer(self.ctx, entry.id, text), note=note)

    def action_unsnooze(self) -> None:
        if self._refused("unsnooze"):
            return
        entry = self.current
        if entry:
            self._call(lambda: decisions.unsnooze(self.ctx, entry.id))

    def action_snooze(self) -> None:
        if self._refused("snooze"):
            return
        entry = self.current
        if entry:
            self._prompt(
                "Snooze until",
                "tomorrow, mon, 3d, 2w, 25/12",
                lambda text: decisions.snooze(self.ctx, entry.id, text),
                echo=lambda text: intake.date_echo(self.ctx, text, "future"),
            )

    def action_peer_gatekeep(self) -> None:
        """A PSR (medium or low RoSH) to a qualified PO to gatekeep [000 §3.2]: the picker offers the
        team's qualified POs with their workload, less the author; a PSR that may not go to a peer (high
        RoSH) is refused before anyone is chosen."""
        if self._refused("peer_gatekeep"):
            return
        entry = self.current
        if entry is None:
            return
        try:
            peers = decisions.peer_choices(self.ctx, entry.id)
        except SpoError as error:  # a high-RoSH PSR, say: told before choosing anyone
            self.notify(str(error), severity="error", markup=False)
            return
        loads = workload.people_workload(self.ctx)
        people = [
            (
                p["name"],
                f"{p['role']}: {p['name']}" + (f" · {loads[p['name']].percent_text}" if p["name"] in loads else ""),
            )
            for p in peers
        ]
        self._choose(
            "Gatekept by (a qualified PO)",
            people,
            lambda name: self._call(lambda: decisions.route_to_peer(self.ctx, entry.id, name)),
        )

    def action_reassign(self) -> None:
        if self._refused("reassign"):
            return
        entry = self.current
        if entry is None:
            return
        # Each practitioner's workload and anyone's absence today beside the name [001, 002]: an
        # absent colleague is still offered (the work may wait for them), but marked.
        loads = workload.people_workload(self.ctx)
        away = workload.absent_today(self.ctx)
        people = []
        for s in lookup.staff(self.ctx):
            if s["id"] == self.ctx.decider["id"]:
                continue
            label = f"{s['role']}: {s['name']}"
            if s["name"] in loads:
                label += f" · {loads[s['name']].percent_text}"
            if s["id"] in away:
                label += f", absent today ({away[s['id']] or 'Absent'})"
            people.append((s["name"], label))
        self._choose(
            "Reassign to", people, lambda name: self._call(lambda: decisions.reassign(self.ctx, entry.id, name))
        )
