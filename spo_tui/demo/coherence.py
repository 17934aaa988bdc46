"""What makes the demo hang together [issue 16 §7]: MAPPA registrations on MAPPA cases, a past for
every queue (work opened and closed over the weeks before today, so the trends do not jump from 0
to today's size in the last week), and the team's own record (check-in notes, escalations and their
answers, learning, near misses, check-in actions, transfers) so the monthly pack and the admin
screens have something to show.

Every part is deterministic from the seed and nothing is timed later than the demo's "now".
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from spo_tui.demo.base import _UUID_CLEAR, _UUID_SET
from spo_tui.demo.history import _HistoryBuilder
from spo_tui.demo.open_work import _OpenWorkBuilder
from spo_tui.demo.vocab import _DECISIONS, _SBARS, _TASKS
from spo_tui.domain.dates import add_working_days, is_working_day
from spo_tui.domain.rules import countersign_due, task_due
from spo_tui.domain.vocab import CountersignKind, TaskCategory

#: How far back the past of the queues reaches: the eight weeks of the trends and a fortnight more,
#: so the first week shown already has the work made before it (the monthly pack reads a month).
PAST_DAYS = 70
#: How often each RoSH level's cases are the subject of an SBAR or a countersign, relative to one
#: another: risk is what a practitioner consults on and what needs a second look [000 §3.3], and the
#: coverage the team view shows stays the demo's story (gaps on low and medium RoSH cases).
_RISK_WEIGHT = {"LOW": 0.3, "MEDIUM": 1.0, "HIGH": 3.0, "VERY_HIGH": 4.0}
#: A queue's past backlog aims at its size today, at most this many items in all: a team's queues
#: are smaller, and a PDU's thousands of open items are a bench load, not a flow to replay (its
#: oversight history is held to its target size).
PAST_BACKLOG_MAX = 40


def _uid(rng: random.Random) -> str:
    n = (rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _CoherenceBuilder(_HistoryBuilder, _OpenWorkBuilder):
    """MAPPA registrations, the queues' past, and the team's record."""

    # --- MAPPA registrations -------------------------------------------------------------------

    # --- The queues' past ----------------------------------------------------------------------

    def _arrivals(self, open_now: int, mean_days: float) -> list[date]:
        """Working days on which work arrived over the past, so that with a life of ``mean_days``
        (calendar days) the backlog stays about ``open_now`` (Little's law: backlog = rate x life)."""
        target = min(open_now, PAST_BACKLOG_MAX)
        per_day = target / mean_days * 7 / 5  # arrivals come on working days only
        days: list[date] = []
        for back in range(PAST_DAYS, 0, -1):
            day = self.today - timedelta(days=back)
            if is_working_day(day):
                days += [day] * int(per_day + self.rng.random())
        return days

    def _open_count(self, kind: str) -> int:
        return sum(1 for i in self.rows["items"] if i["kind"] == kind and i["status"] == "open")

    def build_past_work(self) -> None:
        """Countersigns, SBARs and tasks opened and closed over the last ``PAST_DAYS``, and the touch
        points the entries of those weeks met, each closed as the services close them (a verdict or a
        decision recorded as an oversight entry on the item), and never one still open today."""
        self._past_countersigns()
        self._past_sbars()
        self._past_tasks()
        self._past_touch_points()

    def _seen(self) -> list[dict[str, Any]]:
        """The cases the past work may be about: not the ones left without oversight for months (the
        gaps the coverage view is there to show), nor a missed first touch point."""
        return [c for c in self.cases if not (c.get("neglected") or c.get("missed_commencement"))] or self.cases

    def _weighted(self, pool: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[float]]:
        """``pool`` with cumulative weights by RoSH (``_RISK_WEIGHT``), for ``rng.choices``."""
        cum, total = [], 0.0
        for c in pool:
            total += _RISK_WEIGHT[c["rosh"]]
            cum.append(total)
        return pool, cum

    def _past_countersigns(self) -> None:
        rng = self.rng
        seen = self._seen()
        reports = [c for c in seen if c["rosh"] in ("HIGH", "VERY_HIGH") and c["pp"]["role"] in ("PO", "NQO")] or seen
        oasys = [c for c in seen if not c["pp"]["oasys_approved"]] or seen  # approved POs need none
        yesterday = self.today - timedelta(days=1)
        weighted = {
            name: self._weighted(pool) for name, pool in (("OASYS", oasys), ("HVRA", seen), ("REPORT", reports))
        }
        for submitted in self._arrivals(self._open_count("countersign"), 9.5):
            roll = rng.random()
            kind = "OASYS" if roll < 0.74 else "PSR" if roll < 0.86 else "HVRA" if roll < 0.93 else "PAROLE_REPORT"
            pool, cum = weighted[kind if kind in ("OASYS", "HVRA") else "REPORT"]
            c = rng.choices(pool, cum_weights=cum)[0]
            if kind == "PAROLE_REPORT" and c["sentence_type"] != "LICENCE":
                kind = "OASYS" if not c["pp"]["oasys_approved"] else "HVRA"
            court = add_working_days(submitted, rng.randint(1, 6)) if kind == "PSR" else None
            returned = kind == "OASYS" and rng.random() < 0.15
            first = add_working_days(submitted, rng.randint(1, 12) if court is None else 0)
            last = add_working_days(first, rng.randint(2, 5)) if returned else first
            if last > yesterday:
                continue  # still with the SPO today: today's open work stands for it
            cs_kind = CountersignKind(kind)
            author = c["pp"]
            title = f"{cs_kind.label} by {author['name']}"
            stamp = self.stamp(submitted)
            item_id = self.uid()
            history: list[tuple[str, str, str, str]] = []
            if returned:
                back = self.entry(
                    c,
                    first,
                    outcome="returned",
                    discussed=f"Countersigning: {title}",
                    decision=rng.choice(_DECISIONS["returned"]),
                    item_id=item_id,
                )
                history += [
                    ("AWAITING_COUNTERSIGN", "REJECTED", back["decision"], back["created_at"]),
                    ("REJECTED", "AWAITING_COUNTERSIGN", "", self.stamp(last)),
                ]
            verdict = rng.choice(_VERDICTS[kind])
            entry = self.entry(
                c, last, outcome="signed_off", discussed=f"Countersigning: {title}", decision=verdict, item_id=item_id
            )
            entry["minutes"] = rng.choice(_VERDICT_MINUTES[kind])
            if history:
                entry["created_at"] = max(entry["created_at"], history[-1][3])
            history.append(("AWAITING_COUNTERSIGN", "COUNTERSIGNED", verdict, entry["created_at"]))
            self.item(
                "countersign",
                title,
                stamp,
                crn=c["crn"],
                due=countersign_due(cs_kind, submitted, court, self.rules),
                raised_by=author["id"],
                status="closed",
                closed_at=entry["created_at"],
                closed_note=f"Countersigned: {verdict[:60]}",
                item_id=item_id,
            )
            self.rows["countersigns"].append(
                {
                    "item_id": item_id,
                    "kind": kind,
                    "author_id": author["id"],
                    "state": "COUNTERSIGNED",
                    "submitted_at": stamp,
                    "court_date": court.isoformat() if court else None,
                    "link": f"https://documents.probation.example/reports/{rng.randrange(100_000, 999_999)}",
                }
            )
            spo = self.teams[c["team"]]["spo"]["id"]
            for old, new, words, at in history:
                self.rows["countersign_history"].append(
                    {
                        "item_id": item_id,
                        "old_state": old,
                        "new_state": new,
                        "verdict": words or None,
                        "by_id": spo if new != "AWAITING_COUNTERSIGN" else author["id"],
                        "at": at,
                    }
                )

    def _past_sbars(self) -> None:
        rng = self.rng
        seen = {c["crn"] for c in self._seen()}
        pools: dict[tuple[str, bool], tuple[list[dict[str, Any]], list[float]]] = {}
        yesterday = self.today - timedelta(days=1)
        for raised_day in self._arrivals(self._open_count("sbar"), 4.0):
            t = rng.choice(_SBARS)
            decided = add_working_days(raised_day, rng.choice((0, 1, 1, 2, 3, 4, 5, 6)))
            if decided > yesterday:
                continue
            key = (t["needs"], t.get("high", False))
            if key not in pools:
                pools[key] = self._weighted([c for c in self.pool(*key) if c["crn"] in seen] or self.pool(*key))
            pool, cum = pools[key]
            c = rng.choices(pool, cum_weights=cum)[0]
            w = self.words(c)
            parts = {p: t[p].format(**w) for p in ("situation", "background", "assessment", "recommendation")}
            raised = self.stamp(raised_day)
            item_id = self.uid()
            if rng.random() < 0.6:
                outcome = "agreed"
                decision = "Agreed with the recommendation: " + parts["recommendation"].split(". ")[0].rstrip(".") + "."
            else:
                outcome = "guidance_given"
                decision = rng.choice(_DECISIONS["guidance_given"])
            entry = self.entry(
                c, decided, outcome=outcome, discussed=parts["situation"], decision=decision, item_id=item_id
            )
            entry["created_at"] = max(entry["created_at"], raised)
            self.item(
                "sbar",
                t["title"],
                raised,
                crn=c["crn"],
                raised_by=c["pp"]["id"],
                due=raised_day if t["urgency"] == "urgent" else None,
                status="closed",
                closed_at=entry["created_at"],
                closed_note=f"oversight entry {entry['id']}",
                item_id=item_id,
            )
            self.rows["sbars"].append(
                {
                    "item_id": item_id,
                    **parts,
                    "urgency": t["urgency"],
                    "state": "decided",
                    "raised_at": raised,
                    "booked_for": None,
                    "info_request": None,
                    "escalated_to": None,
                    "escalation_note": None,
                }
            )

    def _past_tasks(self) -> None:
        rng = self.rng
        yesterday = self.today - timedelta(days=1)
        for raised_day in self._arrivals(self._open_count("task"), 9.0):
            category, title, details, _, _ = rng.choice(_TASKS)
            done = add_working_days(raised_day, rng.randint(1, 10))
            if done > yesterday:
                continue
            team = rng.choice(self.teams)
            who = rng.choice(team["pps"])
            fill = {
                "who": who["name"],
                "absent": who["name"],
                "ref": rng.randrange(10_000, 99_999),
                "leave": "two days",
            }
            raised = self.stamp(raised_day)
            closed = max(self.stamp(done), raised)
            minutes = rng.choice((10, 15, 20, 30, 45, 60))
            delegate = rng.random() < 0.4
            item_id = self.item(
                "task",
                title.format(**fill),
                raised,
                due=task_due(TaskCategory(category), raised_day, self.rules),
                raised_by=who["id"],
                status="closed",
                closed_at=closed,
                closed_note=f"done in {minutes} min",
            )
            self.rows["tasks"].append(
                {
                    "item_id": item_id,
                    "category": category,
                    "details": details.format(**fill),
                    "delegated_to": team["caspo"]["id"] if delegate else None,
                    "delegated_at": raised if delegate else None,
                    "minutes_spent": minutes,
                }
            )

    def _past_touch_points(self) -> None:
        """The touch points that the past weeks' entries met: a quarterly review on a high or very high
        RoSH case [000], or the first touch point after commencement [004], each due near the day it
        was met, made ``lookahead_days`` before, and closed by its entry."""
        lookahead = self.rules.raw["touch_points"]["lookahead_days"]
        since = (self.today - timedelta(days=PAST_DAYS)).isoformat()
        keys = {i["rule_key"] for i in self.rows["items"] if i["rule_key"]}
        for c in self.cases:
            for e in self.entries_by_crn.get(c["crn"], []):
                if e["item_id"] is not None or e["created_at"] < since or e["type"] != "management_oversight":
                    continue
                first = e["discussed"].startswith("First touch point")
                if not first and c["rosh"] not in ("HIGH", "VERY_HIGH"):
                    continue
                met = date.fromisoformat(e["created_at"][:10])
                due = met + timedelta(days=self.rng.randint(-4, 10))
                created = min(due - timedelta(days=lookahead), met)
                reason = "commencement" if first else "quarterly"
                anchor = c["start"].isoformat() if first else due.isoformat()
                key = f"tp:{reason}:{c['crn']}:{anchor}"
                if key in keys:
                    continue  # one touch point a case a day: a second entry that day met the same one
                keys.add(key)
                item_id = self.item(
                    "touch_point",
                    "First touch point after commencement" if first else "Quarterly review (high/very high RoSH)",
                    self.at(created, 8 * 60 + 45),
                    crn=c["crn"],
                    due=due,
                    rule_key=key,
                    status="closed",
                    closed_at=e["created_at"],
                    closed_note=f"oversight entry {e['id']}",
                )
                e["item_id"] = item_id
                self.rows["touch_points"].append(
                    {
                        "item_id": item_id,
                        "reason": reason,
                        "arranged_for": None,
                        "reminder_sent_at": None,
                        "waived_reason": None,
                    }
                )

    # --- The team's own record -----------------------------------------------------------------

    def build_team_record(self) -> None:
        """Check-in notes per team (concerns, wellbeing, successes; escalations with the
        answers that came back, most within a fortnight, the latest still awaited; learning and near
        misses for the monthly meeting; check-in actions in the queue [001 "the daily check-in", "the
        monthly meeting"]) over the last ``PAST_DAYS``, and transfers in and out tracked by the CASPO [000, 001 "the role of the
        case administrator"]. Nothing dated today: the check-in is at 09:00 and the demo's now is 08:45."""
        rng = self.rng
        yesterday = self.today - timedelta(days=1)
        days = [
            self.today - timedelta(days=back)
            for back in range(PAST_DAYS, 0, -1)
            if is_working_day(self.today - timedelta(days=back))
        ]
        for team in self.teams:
            cases = [c for c in self.cases if c["team"] == self.teams.index(team)] or self.cases
            spo, caspo = team["spo"], team["caspo"]
            escalations: list[tuple[dict[str, Any], date, str]] = []
            # What the monthly meeting reads back comes every so many check-ins (never a month without).
            offsets = {kind: rng.randrange(every) for kind, every in _NOTE_EVERY.items()}
            for n, day in enumerate(days):
                minute = 9 * 60 + rng.randint(2, 14)
                for kind, chance in _NOTE_CHANCE:
                    every = _NOTE_EVERY.get(kind)
                    if (n + offsets[kind]) % every if every else rng.random() >= chance:
                        continue
                    template = rng.choice(_NOTE_TEXTS[kind])
                    # A note about a licence is on a case on licence; a MAPPA referral on a level-1 case.
                    fits = [c for c in cases if _NOTE_FITS.get(template, _ANY)(c)] or cases
                    c = rng.choice(fits)
                    pp = c["pp"]
                    text = template.format(pp=pp["name"], mr=c["mr"], crn=c["crn"])
                    about_case = kind in ("concern", "escalation", "near_miss", "action") and "{mr}" in template
                    note = self._note(
                        day,
                        minute,
                        kind,
                        text,
                        crn=c["crn"] if about_case else None,
                        by=spo if kind in ("escalation", "action") or rng.random() < 0.5 else caspo,
                    )
                    minute += 1
                    if kind == "escalation":
                        escalations.append((note, day, template))
                    elif kind == "action":
                        self._checkin_action(note, c, day)
            # Answers: most within a fortnight (a holding reply first, now and then); the latest awaited.
            for n, (note, day, template) in enumerate(escalations):
                if n >= len(escalations) - 1 and rng.random() < 0.8:
                    continue
                if rng.random() < 0.25:
                    holding = add_working_days(day, rng.randint(1, 3))
                    if holding <= yesterday:
                        self._note(holding, 9 * 60 + 20, "answer", rng.choice(_HOLDING), by=spo, answers=note)
                answered = add_working_days(day, rng.randint(3, 12))
                if answered <= yesterday:
                    self._note(answered, 9 * 60 + 25, "answer", rng.choice(_ANSWERS[template]), by=spo, answers=note)
            self._transfers(team, cases)

    def _note(
        self,
        day: date,
        minute: int,
        kind: str,
        text: str,
        *,
        by: dict[str, Any],
        crn: str | None = None,
        answers: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        note = {
            "id": self.uid(),
            "day": day.isoformat(),
            "kind": kind,
            "text": text,
            "crn": answers["crn"] if answers else crn,
            "owner_id": None,
            "due": None,
            "item_id": None,
            "answers_id": answers["id"] if answers else None,
            "created_by": by["id"],
            "created_at": self.at(day, minute),
        }
        self.rows["team_notes"].append(note)
        return note

    def _checkin_action(self, note: dict[str, Any], c: dict[str, Any], day: date) -> None:
        """An action agreed at the check-in goes into the queue as an agreed action owned by the PP."""
        days = self.rules.get("actions", "default_days")
        due = day + timedelta(days=days)
        done = add_working_days(day, self.rng.randint(2, 15))
        closed = self.at(done, self.office_minute()) if done < self.today else None
        item_id = self.item(
            "action",
            note["text"][:80],
            note["created_at"],
            crn=c["crn"],
            due=due,
            raised_by=note["created_by"],
            status="closed" if closed else "open",
            closed_at=closed,
            closed_note="done" if closed else None,
        )
        self.rows["actions"].append(
            {
                "item_id": item_id,
                "oversight_id": None,
                "owner_id": c["pp"]["id"],
                "description": note["text"],
                "done_at": closed,
            }
        )
        note["owner_id"], note["due"], note["item_id"] = c["pp"]["id"], due.isoformat(), item_id

    def _transfers(self, team: dict[str, Any], cases: list[dict[str, Any]]) -> None:
        """Transfers in and out: two in progress each way, one requested, one completed in."""
        rng = self.rng
        picks = rng.sample(cases, min(6, len(cases)))
        plan = (
            ("out", "in_progress"),
            ("out", "requested"),
            ("in", "in_progress"),
            ("in", "requested"),
            ("in", "completed"),
            ("out", "cancelled"),
        )
        for c, (direction, status) in zip(picks, plan, strict=False):
            requested = max(self.working_days_ago(rng.randint(2, 30)), c["start"] + timedelta(days=1))
            if requested >= self.today:
                continue
            updated = (
                requested
                if status == "requested"
                else min(add_working_days(requested, rng.randint(1, 8)), self.today - timedelta(days=1))
            )
            updated = max(updated, requested)
            self.rows["transfers"].append(
                {
                    "id": self.uid(),
                    "crn": c["crn"],
                    "direction": direction,
                    "other_area": rng.choice(_AREAS),
                    "status": status,
                    "requested_on": requested.isoformat(),
                    "due": add_working_days(requested, 15).isoformat(),
                    "note": rng.choice(_TRANSFER_NOTES[direction]),
                    "created_at": self.at(requested, self.office_minute()),
                    "updated_at": self.at(updated, 16 * 60 + 30),
                }
            )


#: A countersigning verdict, by kind: what was checked and found, never a bare tick [004].
_VERDICTS = {
    "OASYS": (
        "OASys assessment countersigned: analysis of risk is sound and the RMP is proportionate.",
        "Countersigned: RoSH rationale is clear and the sentence plan addresses the risk factors identified.",
        "Countersigned: risk to children now set out; the DA history is fully considered.",
    ),
    "PSR": (
        "Gatekept: the proposal is proportionate and the risk assessment supports it.",
        "Gatekept: clear analysis of the offence; the proposal addresses the DA risk.",
    ),
    "HVRA": ("Home-visit risk assessment agreed: two staff, police checks of the address beforehand.",),
    "PAROLE_REPORT": (
        "Parole report countersigned: the risk management plan is robust and the recommendation follows.",
    ),
}
#: Minutes a verdict took: countersigning is about a third of an SPO's time [000 §3.3: 32.86%].
_VERDICT_MINUTES = {"OASYS": (15, 20, 25, 30, 45), "PSR": (10, 15, 20), "HVRA": (10, 15), "PAROLE_REPORT": (45, 60)}

#: Chance on a check-in day of each kind of note.
_NOTE_CHANCE = (
    ("concern", 0.35),
    ("wellbeing", 0.15),
    ("success", 0.2),
    ("note", 0.1),
    ("action", 0.2),
    ("escalation", 0.0),
    ("learning", 0.0),
    ("near_miss", 0.0),
)
#: Kinds of note that come every so many check-ins instead (escalations, learning, near misses).
_NOTE_EVERY = {"escalation": 9, "learning": 11, "near_miss": 13}
_NOTE_TEXTS = {
    "concern": (
        "{pp} concerned about {mr}: missed two appointments and not answering calls.",
        "{pp} reports {mr} has lost accommodation; risk to partner may rise.",
        "Police intelligence about {mr} associating with a co-defendant; {pp} to review the RMP.",
    ),
    "wellbeing": (
        "{pp} finding the caseload heavy this week; agreed to hold new allocations until Friday.",
        "Team tired after the office move; reminder of the employee assistance programme.",
    ),
    "success": (
        "{pp}: {mr} completed the Building Better Relationships programme.",
        "{pp}: {mr} started full-time work this week.",
        "Good feedback from the court on {pp}'s oral report.",
    ),
    "note": (
        "Reception screen repaired; lone-working procedure reissued.",
        "Two PSOs on training Thursday: duty cover arranged.",
    ),
    "action": (
        "Chase children's services for the strategy meeting outcome on {mr}.",
        "Complete the DA enquiry with police for {mr} before the next appointment.",
        "Book a joint home visit with police for {mr}.",
    ),
    "escalation": (
        "Escalated to the PDU head: {mr} must leave the approved premises and no move-on bed is found; risk to the victim if housed locally.",
        "Escalated to the PDU head: caseloads over 120% for three practitioners; reallocation needs cover from another team.",
        "Escalated to the MAPPA coordinator: {mr} may need level 2 management after new police information.",
    ),
    "learning": (
        "Learning from the SFO review: record the rationale when deciding not to recall.",
        "Learning: check the victim contact scheme before agreeing exclusion-zone changes.",
    ),
    "near_miss": (
        "Near miss: a licence variation for {mr} was almost sent to the old address; addresses to be checked before sending.",
        "Near miss: {mr}'s child safeguarding check had not been requested at allocation; now done.",
    ),
}


def _ANY(c: dict[str, Any]) -> bool:
    return True


#: Notes that fit only some cases.
_NOTE_FITS = {
    _NOTE_TEXTS["near_miss"][0]: lambda c: c["sentence_type"] == "LICENCE",
    _NOTE_TEXTS["escalation"][0]: lambda c: c["sentence_type"] == "LICENCE" and c["end"] is not None,
    _NOTE_TEXTS["escalation"][2]: lambda c: c["mappa_level"] == 1,
}
_HOLDING = ("Holding reply: looking into it, an answer by the end of next week.",)
#: The answers that came back, for each escalation.
_ANSWERS = {
    _NOTE_TEXTS["escalation"][0]: (
        "PDU head: a bed has been found in another approved premises from Monday; licence conditions to be varied.",
        "PDU head: CAS3 accommodation agreed out of area; exclusion zone to be added to the licence.",
    ),
    _NOTE_TEXTS["escalation"][1]: (
        "PDU head: two cases each will move to the neighbouring team next week; review at the monthly meeting.",
        "PDU head: agreed; overtime approved for a month and a PSO post advertised.",
    ),
    _NOTE_TEXTS["escalation"][2]: (
        "MAPPA coordinator: referred to the next level 2 meeting; interim plan agreed with police.",
        "MAPPA coordinator: stays at level 1 with a multi-agency review in four weeks; police to share updates.",
    ),
}
_AREAS = (
    "Cardiff and Vale PDU",
    "Swansea Neath Port Talbot PDU",
    "Bristol, South Gloucestershire and Somerset PDU",
    "Birmingham North, East and Solihull PDU",
    "Dyfed-Powys PDU",
    "Gwent PDU",
)
_TRANSFER_NOTES = {
    "in": (
        "Moving to live with family in the area; transfer papers received, allocation to follow.",
        "Released to approved premises here; OASys and RMP received from the prison.",
    ),
    "out": (
        "Moving for work; receiving area has the OASys and RMP, awaiting their acceptance.",
        "Rehoused by the council in the receiving area; three-way handover booked.",
    ),
}
