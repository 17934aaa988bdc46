"""The history: oversight entries reaching back a year (five at PDU scale), terminations done,
the rule-made calendar work, supervision held and booked, and the entries already copied into
nDelius."""

from __future__ import annotations

import bisect
import uuid
from datetime import date, timedelta
from typing import Any

from spo_tui.demo.base import _BuilderBase
from spo_tui.demo.vocab import (
    _CONCERNS,
    _DECISIONS,
    _DISCUSSED,
    _EVENTS,
    _FACTORS,
    _INTERVAL,
    _MINUTES,
    _OUTCOME_CUM,
    _OUTCOMES,
    _PROGRESS,
    _RANK,
)
from spo_tui.domain.dates import add_working_days
from spo_tui.domain.rules import (
    ONE_PER_KEY,
    CaseFacts,
    PractitionerFacts,
    calendar_touch_points,
    supervision_due,
)
from spo_tui.domain.vocab import (
    RoSH,
    SentenceType,
    TouchPointReason,
)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class _HistoryBuilder(_BuilderBase):
    """Oversight and supervision history, and the rule-made calendar work."""

    def entry(
        self,
        c: dict[str, Any],
        day: date,
        *,
        outcome: str | None = None,
        type_: str = "management_oversight",
        discussed: str | None = None,
        decision: str | None = None,
        item_id: str | None = None,
    ) -> dict[str, Any]:
        one, rnd = self.one, self.rng.random
        team = self.teams[c["team"]]
        if outcome is None:
            outcome = _OUTCOMES[bisect.bisect(_OUTCOME_CUM, rnd() * _OUTCOME_CUM[-1])]
        if discussed is None:
            discussed = one(_DISCUSSED).format(
                pp=c["pp"]["name"],
                mr=c["mr"],
                progress=one(_PROGRESS),
                concern=one(_CONCERNS),
                event=one(_EVENTS),
                factors=one(_FACTORS),
            )
        if decision is None:
            decision = one(_DECISIONS[outcome])
            if type_ == "management_oversight" and item_id is None:
                outcome, discussed, decision = self._fitting(c, outcome, discussed, decision)
        spo = team["spo"]["id"]
        row = {
            "id": self.uid(),
            "crn": c["crn"],
            "item_id": item_id,
            "type": type_,
            "outcome": outcome,
            "discussed": discussed,
            "decision": decision,
            "sensitive": int(rnd() < 0.02),
            "decided_by": spo,
            "entered_by": team["caspo"]["id"] if rnd() < 0.2 else spo,
            "created_at": self.stamp(day),
            "minutes": one(_MINUTES),
            "supersedes_id": None,
        }
        self.entries_by_crn.setdefault(c["crn"], []).append(row)
        return row

    def _fitting(self, c: dict[str, Any], outcome: str, discussed: str, decision: str) -> tuple[str, str, str]:
        """Words that fit the entry [issue 16 §7]: a countersigning verdict reads as one (as the
        countersigning service writes it, "Countersigning: …"), and only for work that needs a
        countersignature (an approved PO's OASys does not [000 §3.3]); a waiver names the touch point;
        a MAPPA escalation only on a MAPPA level-1 case; a quarterly review only where RoSH is high
        [000]. Chosen without drawing from the generator, so the rest of the demo is unchanged."""
        pick = len(discussed)  # a stable choice from what was already drawn
        pp, mr = c["pp"], c["mr"]
        if outcome in ("signed_off", "returned"):
            if pp["oasys_approved"]:
                outcome = "agreed" if outcome == "signed_off" else "guidance_given"
                decision = _DECISIONS[outcome][pick % len(_DECISIONS[outcome])]
            else:
                discussed = f"Countersigning: OASys assessment by {pp['name']}"
                return outcome, discussed, decision
        if outcome == "waived":
            reason = "Quarterly review" if c["rosh"] in ("HIGH", "VERY_HIGH") else "Review"
            discussed = f"{reason} touch point for {mr} with {pp['name']}."
            if not c["mappa_category"]:
                decision = (
                    "Touch point waived: the case was reviewed in full at the practitioner's supervision this "
                    "week, with equivalent oversight recorded there."
                )
            return outcome, discussed, decision
        if outcome == "escalated" and "MAPPA" in decision and c["mappa_level"] != 1:
            decision = _DECISIONS["escalated"][0]
        if discussed.startswith("Quarterly review") and c["rosh"] not in ("HIGH", "VERY_HIGH"):
            discussed = "Review" + discussed[len("Quarterly review") :]
        return outcome, discussed, decision

    def _special_entry(self, c: dict[str, Any], day: date) -> dict[str, Any]:
        """An occasional home-visit risk assessment or recall decision instead of routine oversight."""
        rng, w = self.rng, self.words(c)
        roll = rng.random()
        if roll < 0.06 or (roll < 0.12 and any(f in c["flags"] for f in ("ADVP", "RCPR", "RCCO"))):
            return self.entry(
                c,
                day,
                type_="home_visit",
                outcome=rng.choice(("agreed", "guidance_given")),
                discussed=f"Home-visit risk assessment by {w['pp']} for a visit to {w['mr']}'s address.",
                decision=rng.choice(
                    (
                        "Visit agreed: two staff, police check of the address beforehand, dog on the premises noted.",
                        "Visit agreed with a colleague present; check in by phone at the start and end.",
                        "Visit to go ahead jointly with police given the DA history.",
                    )
                ),
            )
        if roll < 0.135 and c["sentence_type"] == "LICENCE":
            return self.entry(
                c,
                day,
                type_="recall",
                outcome="no_recall",
                discussed=f"Licence breach reported by {w['pp']}: {rng.choice(_CONCERNS)}.",
                decision="Decision not to recall: risk is manageable with an additional licence condition and weekly reporting.",
            )
        return self.entry(c, day)

    def build_history(self) -> None:
        rng, today, spec = self.rng, self.today, self.spec
        yesterday = today - timedelta(days=1)
        window = today - timedelta(days=spec.history_days)
        for c in self.cases:
            start, rosh = c["start"], c["rosh"]
            lo, hi = _INTERVAL[rosh]
            dates: list[date] = []
            chain_from = max(start, window)
            neglected = rng.random() < (0.1 if rosh in ("HIGH", "VERY_HIGH") else 0.12)
            c["neglected"] = neglected  # the queues' past leaves these quiet too (demo/coherence.py)
            new_case = start >= chain_from
            if new_case:
                first = start + timedelta(days=rng.randint(3, 20))
                missed = 25 <= (today - start).days <= 100 and rng.random() < 0.05
                if missed:
                    c["missed_commencement"] = True
                else:
                    d = self.working_day(first, start + timedelta(days=1), yesterday) if first <= yesterday else None
                    if d:
                        dates.append(d)
                step_from = first
            else:
                step_from = chain_from - timedelta(days=rng.randint(0, lo))
            if not c.get("missed_commencement"):
                d = step_from + timedelta(days=rng.randint(lo, hi))
                while d <= yesterday:
                    day = self.working_day(d, max(start + timedelta(days=1), window), yesterday)
                    if day:
                        dates.append(day)
                    d += timedelta(days=rng.randint(lo, hi))
            if neglected and not c.get("missed_commencement"):
                # Nothing in the last 90 days or more (the first touch point after commencement stays).
                cutoff = today - timedelta(days=rng.randint(91, 150))
                dates = [d for n, d in enumerate(dates) if d < cutoff or (n == 0 and new_case)]
            for n, day in enumerate(dates):
                if n == 0 and new_case:
                    w = self.words(c)
                    self.entry(
                        c,
                        day,
                        outcome=rng.choice(("agreed", "guidance_given")),
                        discussed=f"First touch point after commencement: {w['pp']} presented the initial assessment and sentence plan for {w['mr']}, {w['on_sentence']}.",
                        decision=rng.choice(_DECISIONS["agreed"][:3] + _DECISIONS["guidance_given"][:2]),
                    )
                else:
                    self._special_entry(c, day)

        if spec.oversight_target:
            self._earlier_history(window)

    def _earlier_history(self, window: date) -> None:
        """Entries from earlier sentences, to bring a PDU's history up to the target size."""
        rng = self.rng
        have = sum(len(v) for v in self.entries_by_crn.values())
        target = self.spec.oversight_target
        assert target is not None  # only a PDU asks for earlier history
        want = max(0, target - have)
        weights = [(_RANK[c["rosh"]] + 1) for c in self.cases]
        total = sum(weights)
        carry = 0.0
        for c, w in zip(self.cases, weights, strict=False):
            carry += want * w / total
            k = int(carry)
            carry -= k
            span = (c["start"] - window).days - 1
            if span < 30 or k == 0:
                continue
            for off in sorted(rng.randrange(span) for _ in range(k)):
                day = self.working_day(window + timedelta(days=off), window, c["start"] - timedelta(days=1))
                if day:
                    self.entry(c, day)

    def build_terminations_done(self) -> None:
        """Termination reviews already held: a closed touch point with its oversight entry."""
        rng, today = self.rng, self.today
        tp = self.rules.raw["touch_points"]
        self.done_termination = {}
        for c in self.cases:
            end = c["end"]
            if end is None or (end - today).days > tp["before_termination_days"] + tp["lookahead_days"]:
                continue
            due = max(end - timedelta(days=tp["before_termination_days"]), c["start"])
            if due >= today - timedelta(days=2) or rng.random() >= 0.7:
                continue
            day = self.working_day(
                due + timedelta(days=rng.randint(-5, 2)), c["start"] + timedelta(days=1), today - timedelta(days=1)
            )
            if day is None:
                continue
            item_id = self.uid()
            w = self.words(c)
            entry = self.entry(
                c,
                day,
                outcome="agreed",
                item_id=item_id,
                discussed=f"Termination review: {w['mr']}'s sentence ends on {end:%d/%m/%Y}. Outstanding risks, exit plan and onward referrals reviewed with {w['pp']}.",
                decision="Agreed: no outstanding risk issues; termination summary to be completed and partner agencies informed.",
            )
            self.done_termination[c["crn"]] = item_id
            c["termination_entry"] = entry

    def build_calendar_work(self) -> None:
        """The touch points the rules make due, written with the rules' own keys."""
        lookahead = timedelta(days=self.rules.raw["touch_points"]["lookahead_days"])
        for c in self.cases:
            entries = self.entries_by_crn.get(c["crn"], [])
            last = max((e["created_at"][:10] for e in entries), default=None)
            custody = c.get("custody") or {}
            facts = CaseFacts(
                crn=c["crn"],
                rosh=RoSH(c["rosh"]),
                sentence_type=SentenceType(c["sentence_type"]),
                sentence_start=c["start"],
                sentence_end=c["end"],
                last_oversight=date.fromisoformat(last) if last else None,
                flags=tuple(self.flags_by_crn.get(c["crn"], ())),
                mappa_level=c["mappa_level"],
                lifer=bool(c.get("lifer")),
                release_date=_day(custody.get("release_date")),
                rotl_date=_day(custody.get("rotl_date")),
                handover_date=_day(custody.get("handover_date")),
                lifer_panel_date=_day(custody.get("lifer_panel_date")),
                victim_contact=bool(custody.get("victim_contact")),
            )
            seen: set[str] = set()
            for work in calendar_touch_points(facts, self.today, self.rules):
                # As refresh_due_work: one open item per case and reason; each registration review stands alone.
                pair = work.key if work.reason in ONE_PER_KEY else work.reason
                if pair in seen:
                    continue
                seen.add(pair)
                created_day = min(max(work.due - lookahead, c["start"]), self.today)
                if work.reason == TouchPointReason.TERMINATION.value and c["crn"] in self.done_termination:
                    entry = c["termination_entry"]
                    item_id = self.item(
                        "touch_point",
                        work.title,
                        self.at(created_day, 8 * 60 + 45) if created_day < self.today else entry["created_at"],
                        crn=c["crn"],
                        due=work.due,
                        rule_key=work.key,
                        status="closed",
                        closed_at=entry["created_at"],
                        closed_note=f"oversight entry {entry['id']}",
                        item_id=self.done_termination[c["crn"]],
                    )
                else:
                    created = self.at(created_day, 8 * 60 + 45) if created_day < self.today else self.now_iso
                    item_id = self.item(
                        "touch_point", work.title, created, crn=c["crn"], due=work.due, rule_key=work.key
                    )
                self.rows["touch_points"].append(
                    {
                        "item_id": item_id,
                        "reason": work.reason,
                        "arranged_for": None,
                        "reminder_sent_at": None,
                        "waived_reason": None,
                    }
                )

    def build_supervision(self) -> None:
        for team in self.teams:
            self.supervise_team(team)

    def supervise_team(self, team: dict[str, Any]) -> None:
        """One team's supervision history and the supervision now due."""
        rng, today, rules = self.rng, self.today, self.rules
        sup = rules.raw["supervision"]
        year_ago = today - timedelta(days=365)
        pps = team["pps"]
        overdue = {p["id"] for p in rng.sample(pps, max(2, round(len(pps) * 0.25)))}
        for pp in pps:
            weeks = (
                sup["one_to_one_weeks_new_practitioner"]
                if pp["role"] in sup["new_practitioner_roles"]
                else sup["one_to_one_weeks"]
            )
            if pp["id"] in overdue:
                last = today - timedelta(days=weeks * 7 + rng.randint(5, 25))
            else:
                last = today - timedelta(days=rng.randint(3, weeks * 7 - 10))
            held: list[date] = []
            d = last
            while d > year_ago:
                day = self.working_day(d, year_ago, today - timedelta(days=1))
                if day:
                    held.append(day)
                d -= timedelta(days=weeks * 7 + rng.randint(-3, 7))
            for day in reversed(held):
                self._held_supervision(team, pp, "one_to_one", day)
            n_rpss = rng.choice((2, 3, 4, 4)) if pp["id"] not in overdue else rng.choice((1, 2, 3))
            d = today - timedelta(days=rng.randint(10, 80))
            rpss: list[date] = []
            for _ in range(n_rpss):
                day = self.working_day(d, year_ago + timedelta(days=1), today - timedelta(days=1))
                if day:
                    rpss.append(day)
                d -= timedelta(days=rng.randint(80, 95))
            observed = rng.randrange(len(rpss)) if rpss else -1
            for n, day in enumerate(reversed(rpss)):
                self._held_supervision(team, pp, "rpss", day, observation=n == observed)
            facts = PractitionerFacts(
                staff_id=pp["id"],
                name=pp["name"],
                role=pp["role"],
                last_one_to_one=max(held, default=None),
                rpss_dates_last_year=tuple(sorted(r for r in rpss if r >= year_ago)),
            )
            for work in supervision_due(facts, today, rules):
                created_day = min(work.due - timedelta(days=sup["lookahead_days"]), today)
                created = self.at(created_day, 8 * 60 + 45) if created_day < today else self.now_iso
                item_id = self.item("supervision", work.title, created, due=work.due, rule_key=work.key)
                self.rows["supervision"].append(
                    {
                        "item_id": item_id,
                        "practitioner_id": pp["id"],
                        "kind": work.reason,
                        "observation": 0,
                        "scheduled_for": None,
                        "held_on": None,
                        "postponed": 0,
                    }
                )

    def _held_supervision(
        self, team: dict[str, Any], pp: dict[str, Any], kind: str, day: date, observation: bool = False
    ) -> None:
        rng = self.rng
        postponed = rng.random() < 0.1
        scheduled = day - timedelta(days=rng.randint(2, 7)) if postponed else day
        minute = rng.choice((9 * 60 + 30, 11 * 60, 14 * 60, 15 * 60 + 30))
        held_at = self.at(day, minute + (90 if kind == "rpss" else 60))
        label = "One-to-one with" if kind == "one_to_one" else "RPSS with"
        item_id = self.item(
            "supervision",
            f"{label} {pp['name']}",
            self.at(scheduled - timedelta(days=14), 8 * 60 + 45),
            due=scheduled,
            status="closed",
            closed_at=held_at,
            closed_note="held",
        )
        self.rows["supervision"].append(
            {
                "item_id": item_id,
                "practitioner_id": pp["id"],
                "kind": kind,
                "observation": int(observation),
                "scheduled_for": self.at(scheduled, minute),
                "held_on": day.isoformat(),
                "postponed": int(postponed),
            }
        )
        if kind == "one_to_one":
            discussed = f"One-to-one supervision with {pp['name']}: caseload, wellbeing, learning and cases of concern."
            decision = rng.choice(
                (
                    "Workload manageable; no cases to reallocate. Next one-to-one as scheduled.",
                    "Caseload high: two low-risk cases to be reallocated at the next check-in.",
                    "Wellbeing discussed; agreed a reflective session on a recent difficult case.",
                    "Training need identified: DA risk assessment refresher booked.",
                )
            )
        else:
            discussed = f"Reflective practice supervision with {pp['name']}" + (
                " (live observation of a supervision session)." if observation else "."
            )
            decision = rng.choice(
                (
                    "Reflection on professional curiosity in a DA case; practice strengths noted.",
                    "Observation feedback given: good use of motivational interviewing; record rationale more fully.",
                    "Discussed managing a hostile person on probation; agreed approach for the next appointment.",
                )
            )
        self.rows["oversight_entries"].append(
            {
                "id": self.uid(),
                "crn": None,
                "item_id": item_id,
                "type": "management_oversight",
                "outcome": "agreed",
                "discussed": discussed,
                "decision": decision,
                "sensitive": 0,
                "decided_by": team["spo"]["id"],
                "entered_by": team["spo"]["id"],
                "created_at": held_at,
                "minutes": 90 if kind == "rpss" else 60,
                "supersedes_id": None,
            }
        )

    def build_ndelius_entries(self) -> None:
        """Older oversight entries have been copied into nDelius by the team's CASPO, in batches (one
        per CASPO a day, marked when the last of them was entered)."""
        cutoff = add_working_days(self.today, -3).isoformat()
        yesterday = self.today - timedelta(days=1)
        later: dict[tuple[str, int], date] = {}
        batches: dict[tuple[str, date], list[tuple[str, str]]] = {}
        for e in self.rows["oversight_entries"]:
            made = e["created_at"][:10]
            if made >= cutoff:
                continue
            caspo = self.team_of[e["decided_by"]]["caspo"]["id"]
            lag = 0 if e["entered_by"] == caspo else self.rng.randint(1, 3)
            day = later.get((made, lag))
            if day is None:
                day = later[(made, lag)] = min(add_working_days(date.fromisoformat(made), lag), yesterday)
            entered = self.at(day, self.office_minute())
            batches.setdefault((caspo, day), []).append((max(entered, e["created_at"]), e["id"]))
        for (caspo, day), marked in sorted(batches.items(), key=lambda b: (b[0][1], b[0][0])):
            batch_id = str(uuid.uuid5(_BATCH_NAMESPACE, f"{caspo} {day}"))
            at = max(when for when, _ in marked)
            self.rows["ndelius_batches"].append(
                {
                    "id": batch_id,
                    "action": "mark",
                    "undoes": None,
                    "by_id": caspo,
                    "at": at,
                    "entries": len(marked),
                    "note": "",
                }
            )
            self.rows["ndelius_marks"] += [{"batch_id": batch_id, "oversight_id": i} for _, i in marked]


_BATCH_NAMESPACE = uuid.UUID("2d0c6f0e-8f1a-4c52-9a57-5b1f0e6c3d21")
