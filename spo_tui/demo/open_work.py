"""The open work people raised: SBARs, countersigning, alerts, tasks (open and closed), agreed
actions and manual touch points, each on a case that fits it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from spo_tui.demo.base import _BuilderBase
from spo_tui.demo.vocab import _ACTIONS, _ALERTS, _MANUAL_TOUCH_POINTS, _SBARS, _TASKS
from spo_tui.domain.dates import add_working_days
from spo_tui.domain.rules import (
    countersign_due,
    task_due,
)
from spo_tui.domain.vocab import (
    AlertSource,
    CountersignKind,
    CountersignState,
    SbarState,
    TaskCategory,
    TouchPointReason,
)


class _OpenWorkBuilder(_BuilderBase):
    """The open work people raised, each on a case that fits it."""

    def pool(self, need: str, high: bool = False) -> list[dict[str, Any]]:
        """Cases that fit ``need`` (held by someone at work today), computed once per need."""
        key = (need, high)
        if key not in self._pools:
            found = [c for c in self.cases if self._fits(c, need) and (not high or c["rosh"] in ("HIGH", "VERY_HIGH"))]
            self._pools[key] = found or [c for c in self.cases if self._fits(c, "")] or self.cases
        return self._pools[key]

    def _fits(self, c: dict[str, Any], need: str) -> bool:
        if c["pp"]["id"] in self.absent_today:
            return False
        if need == "LICENCE":
            return c["sentence_type"] == "LICENCE" and c["end"] is not None
        if need == "COMMUNITY":
            return c["sentence_type"] in ("COMMUNITY_ORDER", "SUSPENDED_SENTENCE_ORDER")
        return need in c["flags"] if need else True

    def pick(self, need: str, used: set[str], prefer_high: bool = False) -> dict[str, Any]:
        """A case for a piece of work, not one already used while there are others to choose."""
        pool = self.pool(need, prefer_high)
        for _ in range(20):
            c = self.rng.choice(pool)
            if c["crn"] not in used:
                break
        used.add(c["crn"])
        return c

    def build_sbars(self, n: int) -> None:
        rng, used = self.rng, set[str]()
        for i in range(n):
            t = _SBARS[i % len(_SBARS)]
            c = self.pick(t["needs"], used, prefer_high=t.get("high", False))
            w = self.words(c)
            day = self.working_days_ago(t["day"]) if n <= len(_SBARS) else self.working_days_ago(rng.randint(0, 8))
            raised = self.stamp(day)
            item_id = self.item(
                "sbar",
                t["title"],
                raised,
                crn=c["crn"],
                raised_by=c["pp"]["id"],
                due=day if t["urgency"] == "urgent" else None,
            )
            self.rows["sbars"].append(
                {
                    "item_id": item_id,
                    "situation": t["situation"].format(**w),
                    "background": t["background"].format(**w),
                    "assessment": t["assessment"].format(**w),
                    "recommendation": t["recommendation"].format(**w),
                    "urgency": t["urgency"],
                    "state": SbarState.RAISED.value,
                    "raised_at": raised,
                    "booked_for": None,
                    "info_request": None,
                    "escalated_to": None,
                    "escalation_note": None,
                }
            )

    def build_countersigns(self, n: int) -> None:
        rng, today = self.rng, self.today
        n_psr = max(3, round(n * 0.12))
        n_parole = max(1, round(n * 0.04))
        n_danger = max(1, round(n * 0.04))
        n_hvra = max(1, round(n * 0.06))
        kinds = ["PSR"] * n_psr + ["PAROLE_REPORT"] * n_parole + ["DANGEROUSNESS"] * n_danger + ["HVRA"] * n_hvra
        kinds += ["OASYS"] * max(0, n - len(kinds))
        next_court_day = add_working_days(today, 1)
        psr_seen = 0
        at_work = self.pool("")
        pools = {
            # Approved POs need no countersignature on OASys.
            "OASYS": [c for c in at_work if not c["pp"]["oasys_approved"]],
            # Reports on high RoSH cases are gatekept by the SPO; written by qualified officers.
            "REPORT": [c for c in at_work if c["rosh"] in ("HIGH", "VERY_HIGH") and c["pp"]["role"] in ("PO", "NQO")],
        }
        for kind in kinds:
            pool = pools["OASYS"] if kind == "OASYS" else pools["REPORT"] if kind != "HVRA" else at_work
            c = rng.choice(pool or at_work)
            author = c["pp"]
            court = None
            if kind == "PSR":
                court = next_court_day if psr_seen % 3 != 2 else add_working_days(today, rng.randint(3, 8))
                psr_seen += 1
                submitted = self.working_days_ago(rng.randint(0, 2))
            elif kind == "OASYS":
                submitted = self.working_days_ago(rng.randint(0, 12))
            else:
                submitted = self.working_days_ago(rng.randint(0, 8))
            cs_kind = CountersignKind(kind)
            due = countersign_due(cs_kind, submitted, court, self.rules)
            stamp = self.stamp(submitted)
            item_id = self.item(
                "countersign",
                f"{cs_kind.label} by {author['name']}",
                stamp,
                crn=c["crn"],
                due=due,
                raised_by=author["id"],
            )
            ref = rng.randrange(100_000, 999_999)
            link = (
                f"https://oasys.example/assessment/{ref}"
                if kind == "OASYS"
                else f"https://documents.probation.example/reports/{ref}"
            )
            self.rows["countersigns"].append(
                {
                    "item_id": item_id,
                    "kind": kind,
                    "author_id": author["id"],
                    "state": CountersignState.AWAITING_COUNTERSIGN.value,
                    "submitted_at": stamp,
                    "court_date": court.isoformat() if court else None,
                    "link": link,
                }
            )

    def build_alerts(self, n: int) -> None:
        rng, today, used = self.rng, self.today, set[str]()
        for i in range(n):
            source, need, text = _ALERTS[i % len(_ALERTS)]
            c = self.pick(need, used, prefer_high=True)
            details = text.format(**self.words(c))
            if n <= 2:
                received_day, received = today, self.at(today, self.earlier_today(45 + 30 * i, 60 + 30 * i))
            else:
                received_day = today - timedelta(days=rng.choice((0, 0, 0, 1, 2)))
                received = self.stamp(received_day)
            title = f"{AlertSource(source).label}: {details.splitlines()[0][:60]}"
            item_id = self.item("alert", title, received, crn=c["crn"], due=received_day)
            self.rows["alerts"].append(
                {
                    "item_id": item_id,
                    "source": source,
                    "details": details,
                    "received_at": received,
                    "acknowledged_at": None,
                    "acknowledged_by": None,
                }
            )

    def build_tasks(self, n: int) -> None:
        rng, today = self.rng, self.today
        for i in range(n):
            category, title, details, by, ago = _TASKS[i % len(_TASKS)]
            team = self.teams[0] if n <= len(_TASKS) else rng.choice(self.teams)
            if n > len(_TASKS):
                ago = rng.randint(0, 14)
            present = [p for p in team["pps"] if p["id"] not in self.absent_today]
            who = rng.choice(present)
            if by == "pp":
                raiser = who
            elif by == "caspo":
                raiser = team["caspo"]
            else:
                raiser = self.shared["SAO" if by == "sao" else by][0]
            leave_start = today + timedelta(days=rng.randint(14, 45))
            fill = {
                "who": who["name"],
                "absent": team["back_from_sick"]["name"],
                "ref": rng.randrange(10_000, 99_999),
                "leave": f"{leave_start:%d %b} to {leave_start + timedelta(days=3):%d %b}",
            }
            raised = self.working_days_ago(ago)
            cat = TaskCategory(category)
            item_id = self.item(
                "task",
                title.format(**fill),
                self.stamp(raised),
                due=task_due(cat, raised, self.rules),
                raised_by=raiser["id"],
            )
            self.rows["tasks"].append(
                {
                    "item_id": item_id,
                    "category": category,
                    "details": details.format(**fill),
                    "delegated_to": None,
                    "delegated_at": None,
                    "minutes_spent": None,
                }
            )

    def build_closed_tasks(self) -> None:
        """Non-operational work done in the last two months, with the minutes it took."""
        rng = self.rng
        for team in self.teams:
            for _ in range(12):
                category, title, details, _, _ = rng.choice(_TASKS)
                who = rng.choice(team["pps"])
                raised = self.working_days_ago(rng.randint(10, 45))
                done = add_working_days(raised, rng.randint(1, 8))
                delegate = rng.random() < 0.4
                fill = {
                    "who": who["name"],
                    "absent": who["name"],
                    "ref": rng.randrange(10_000, 99_999),
                    "leave": "two days",
                }
                closed = self.stamp(min(done, self.today - timedelta(days=1)))
                minutes = rng.choice((10, 15, 20, 30, 45, 60, 90))
                item_id = self.item(
                    "task",
                    title.format(**fill),
                    self.stamp(raised),
                    due=task_due(TaskCategory(category), raised, self.rules),
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
                        "delegated_at": self.stamp(raised) if delegate else None,
                        "minutes_spent": minutes,
                    }
                )

    def build_actions(self, n_open: int) -> None:
        """Agreed actions: open ones from recent entries (some overdue), closed ones from older entries."""
        today = self.today
        days = self.rules.get("actions", "default_days")
        case_entries = [e for c in self.cases for e in self.entries_by_crn.get(c["crn"], []) if e["item_id"] is None]
        fresh_from = (today - timedelta(days=days - 1)).isoformat()
        late_from, late_to = (
            (today - timedelta(days=days + 30)).isoformat(),
            (today - timedelta(days=days + 1)).isoformat(),
        )
        recent = [e for e in case_entries if e["created_at"][:10] >= fresh_from]
        older = [e for e in case_entries if late_from <= e["created_at"][:10] <= late_to]
        n_overdue = max(2, n_open // 3)
        chosen = self._some(older, n_overdue) + self._some(recent, n_open - n_overdue)
        for e in chosen:
            self._action(e, due_days=days, open_=True)
        year_ago = (today - timedelta(days=365)).isoformat()
        taken = {e["id"] for e in chosen}
        for e in case_entries:
            if e["outcome"] == "actions_set" and e["id"] not in taken and e["created_at"] >= year_ago:
                self._action(e, due_days=days, open_=False)

    def _some(self, pool: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
        """``n`` of ``pool``: distinct while the pool is big enough, else some entries agree two actions."""
        if not pool or n <= 0:
            return []
        if n <= len(pool):
            return self.rng.sample(pool, n)
        return pool + self.rng.choices(pool, k=n - len(pool))

    def _action(self, e: dict[str, Any], *, due_days: int, open_: bool) -> None:
        rng = self.rng
        c = self.case_by_crn[e["crn"]]
        description = rng.choice(_ACTIONS)
        made = date.fromisoformat(e["created_at"][:10])
        due = made + timedelta(days=due_days)
        agreed = f"{description} ({c['pp']['name']}, by {due:%d/%m/%Y})"
        if e["type"] != "management_oversight":
            # A recall decision or a home-visit assessment keeps its own outcome; the action is added to it.
            e["decision"] += f" Action agreed: {agreed}."
        elif e["outcome"] == "actions_set" and e["decision"].startswith("Actions agreed: "):
            e["decision"] = e["decision"].replace(". Review when complete.", f"; {agreed}. Review when complete.")
        else:
            e["outcome"] = "actions_set"
            e["decision"] = f"Actions agreed: {agreed}. Review when complete."
        closed_at = None
        if not open_:
            done = min(made + timedelta(days=rng.randint(2, due_days)), self.today - timedelta(days=1))
            closed_at = max(self.stamp(done), e["created_at"])
        item_id = self.item(
            "action",
            description,
            e["created_at"],
            crn=c["crn"],
            due=due,
            raised_by=e["decided_by"],
            status="open" if open_ else "closed",
            closed_at=closed_at,
            closed_note=None if open_ else "done",
        )
        self.rows["actions"].append(
            {
                "item_id": item_id,
                "oversight_id": e["id"],
                "owner_id": c["pp"]["id"],
                "description": description,
                "done_at": closed_at,
            }
        )

    def build_manual_touch_points(self, n: int) -> None:
        rng, today, used = self.rng, self.today, set[str]()
        for i in range(n):
            title, due_in = _MANUAL_TOUCH_POINTS[i % len(_MANUAL_TOUCH_POINTS)]
            if n > len(_MANUAL_TOUCH_POINTS):
                due_in = rng.randint(-7, 10)
            c = self.pick("", used, prefer_high=True)
            due = today + timedelta(days=due_in)
            created = self.working_days_ago(rng.randint(max(0, -due_in), max(0, -due_in) + 5))
            item_id = self.item(
                "touch_point", title, self.stamp(created), crn=c["crn"], due=due, raised_by=c["pp"]["id"]
            )
            self.rows["touch_points"].append(
                {
                    "item_id": item_id,
                    "reason": TouchPointReason.MANUAL.value,
                    "arranged_for": None,
                    "reminder_sent_at": None,
                    "waived_reason": None,
                }
            )
