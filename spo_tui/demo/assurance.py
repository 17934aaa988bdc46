"""The demo's level-1 assurance and delegated work (issue 16 §5): an R-CAT audit done this year in
each team, so its eligible list has one practitioner fewer [000 §3.3]; facilities jobs with helpdesk
references, at the escalation stage the rules give today (one delegated, chased and escalated past
its target) [002 §9]; and work delegated to the CASPO and the SAO, waiting on them."""

from __future__ import annotations

import random
import re
from datetime import date
from typing import Any

from spo_tui.demo.base import _BuilderBase
from spo_tui.domain.assurance import RcatCase, choose_rcat_case, escalation_role, escalation_stage, escalation_starts
from spo_tui.domain.dates import add_working_days
from spo_tui.domain.rules import task_due
from spo_tui.domain.vocab import FACILITIES_CATEGORIES, RoSH, TaskCategory

#: Columns a demo row leaves to their defaults unless this part sets them (every row gets each key).
_ITEM_DEFAULTS = {"waiting_on": None, "waiting_since": None}
_TASK_DEFAULTS = {
    "helpdesk_ref": None,
    "escalation_stage": 0,
    "escalated_to": None,
    "escalated_at": None,
    "chased_at": None,
}
_FM_REF = re.compile(r"\bFM-\d+\b")


class _AssuranceBuilder(_BuilderBase):
    """R-CAT audits, facilities escalation and delegated work, from a generator of its own."""

    def build_assurance(self, seed: int) -> None:
        rng = random.Random(f"spo-tui demo assurance {seed}")
        self._rcat_audits(rng)
        self._delegated_jobs(rng)
        self._escalate_open_facilities()
        for row in self.rows["items"]:
            for key, value in _ITEM_DEFAULTS.items():
                row.setdefault(key, value)
        for row in self.rows["tasks"]:
            for key, value in _TASK_DEFAULTS.items():
                row.setdefault(key, value)
            if row["helpdesk_ref"] is None and (found := _FM_REF.search(row.get("details") or "")):
                row["helpdesk_ref"] = found.group(0)

    def _id(self, rng: random.Random) -> str:
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"

    def _auditor(self, team: dict[str, Any]) -> dict[str, Any]:
        """A QDO where the PDU has one, else the team's SPO (SPOs do R-CAT in some regions [000 §3.3])."""
        return (self.shared.get("QDO") or [team["spo"]])[0]

    def _rcat_audits(self, rng: random.Random) -> None:
        """One R-CAT audit per team some months ago, of the case the rule picks for one practitioner."""
        held: dict[str, list[RcatCase]] = {}
        for c in self.cases:
            held.setdefault(c["pp"]["id"], []).append(RcatCase(c["crn"], RoSH(c["rosh"]), c["start"]))
        for team in self.teams:
            day = add_working_days(self.today, -rng.randint(40, 110))
            # The case the rule offered on the day of the audit, among those begun by then.
            candidates = [p for p in team["pps"] if any(c.sentence_start <= day for c in held.get(p["id"], []))]
            if not candidates:
                continue
            pp = rng.choice(candidates)
            chosen = choose_rcat_case([c for c in held[pp["id"]] if c.sentence_start <= day], day, self.rules)
            if chosen is None:
                continue
            case = chosen[0]
            outcome, notes = rng.choice(
                (
                    (
                        "requires_improvement",
                        "Risk management plan not reviewed after the change of address; contingency plan generic. "
                        "Management oversight recorded but no actions followed up. Discussed with the PP in supervision.",
                    ),
                    (
                        "good",
                        "Assessment and plan current; enforcement appropriate; oversight entries have decisions "
                        "and actions followed through.",
                    ),
                )
            )
            self.rows["rcat_audits"].append(
                {
                    "id": self._id(rng),
                    "crn": case.crn,
                    "practitioner_id": pp["id"],
                    "audited_by": self._auditor(team)["id"],
                    "audited_on": day.isoformat(),
                    "outcome": outcome,
                    "notes": notes,
                    "entered_by": team["caspo"]["id"],
                    "created_at": self.stamp(day),
                }
            )

    def _steps_in(self, stage: int) -> str | None:
        role = escalation_role(stage, self.rules)
        if role is None:
            return None
        people = self.shared.get(role) or []
        return f"{role} ({people[0]['name']})" if people else role

    def _delegated_jobs(self, rng: random.Random) -> None:
        """In the first team: a lift job delegated to the CASPO, past its target, come back as a chase
        at stage 1 and handed to the business manager; a fire-door job with the SAO, inside its
        target; an IT order with the CASPO."""
        team = self.teams[0]
        caspo, spo = team["caspo"], team["spo"]
        sao = self.shared["SAO"][0]
        manager = (self.shared.get("business manager") or [sao])[0]
        today = self.today

        raised = add_working_days(today, -13)
        target = task_due(TaskCategory.BUILDINGS, raised, self.rules)
        stage1 = escalation_starts(target, self.rules)[0]
        lift = self._task(
            rng,
            "buildings",
            "Lift out of order at the main office",
            "Wheelchair users cannot reach the first-floor interview rooms; appointments moved downstairs.",
            raised,
            spo,
            helpdesk=f"FM-{rng.randrange(10_000, 99_999)}",
            delegate_to=manager,
            delegated_on=stage1,
        )
        lift["task"].update(
            escalation_stage=1,
            escalated_to=self._steps_in(1),
            escalated_at=self.at(stage1, 7 * 60),
            chased_at=self.at(stage1, 7 * 60),
        )

        raised = add_working_days(today, -4)
        self._task(
            rng,
            "health_safety",
            "Fire exit door alarm not sounding",
            "Found at the weekly check; door propped shut with a sign until repaired.",
            raised,
            spo,
            helpdesk=f"FM-{rng.randrange(10_000, 99_999)}",
            delegate_to=sao,
            delegated_on=raised,
        )
        who = rng.choice(team["pps"])
        raised = add_working_days(today, -2)
        self._task(
            rng,
            "it",
            f"Laptop docking station for {who['name']}",
            "Reasonable adjustment agreed at the one-to-one; order through the IT portal.",
            raised,
            spo,
            delegate_to=caspo,
            delegated_on=raised,
        )

    def _task(
        self,
        rng: random.Random,
        category: str,
        title: str,
        details: str,
        raised: date,
        raiser: dict[str, Any],
        *,
        helpdesk: str | None = None,
        delegate_to: dict[str, Any],
        delegated_on: date,
    ) -> dict[str, Any]:
        """A task raised by the SPO on ``raised`` and delegated on ``delegated_on``: waiting on the delegate."""
        item_id = self._id(rng)
        created = self.stamp(raised)
        delegated_at = max(self.stamp(delegated_on), created)
        item = {
            "id": item_id,
            "kind": "task",
            "crn": None,
            "title": title,
            "status": "waiting",
            "due": task_due(TaskCategory(category), raised, self.rules).isoformat(),
            "snoozed_until": None,
            "assigned_to": delegate_to["id"],
            "raised_by": raiser["id"],
            "rule_key": None,
            "created_at": created,
            "updated_at": delegated_at,
            "closed_at": None,
            "closed_note": None,
            "waiting_on": delegate_to["name"],
            "waiting_since": delegated_at,
        }
        task = {
            "item_id": item_id,
            "category": category,
            "details": details,
            "delegated_to": delegate_to["id"],
            "delegated_at": delegated_at,
            "minutes_spent": None,
            "helpdesk_ref": helpdesk,
        }
        self.rows["items"].append(item)
        self.rows["tasks"].append(task)
        return {"item": item, "task": task}

    def _escalate_open_facilities(self) -> None:
        """Facilities jobs not done, at the stage the rules give today (as the day's refresh would)."""
        items = {i["id"]: i for i in self.rows["items"]}
        categories = {c.value for c in FACILITIES_CATEGORIES}
        for task in self.rows["tasks"]:
            item = items[task["item_id"]]
            if task["category"] not in categories or item["status"] == "closed" or not item["due"]:
                continue
            target = date.fromisoformat(item["due"])
            stage = escalation_stage(target, self.today, self.rules)
            if stage > task.get("escalation_stage", 0):
                start = escalation_starts(target, self.rules)[stage - 1]
                task.update(
                    escalation_stage=stage,
                    escalated_to=self._steps_in(stage),
                    escalated_at=min(self.at(start, 7 * 60), self.now_iso),
                )
