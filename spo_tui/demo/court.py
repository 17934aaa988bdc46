"""The demo's court work and countersigning at source (issue 16 §1–2) [000 §3.2–3.3].

``build_court`` runs after the rest of the open work and adds, deterministically from the seed and
never later than the demo's "now":

- beside the sentence-management team (or teams, at PDU scale), a **court team** (``teams`` kind
  ``court``) with its own SPO and CASPO, two POs and two PSOs, and
  defendants **not yet sentenced** (``PRE_SENTENCE``) whose reports are due: a written PSR on a high
  RoSH case for court this afternoon (the SPO gatekeeps it), an **oral** report for this morning,
  a PSR **peer-gatekept** by a PO yesterday (its history in gatekeeping words), another waiting on
  its peer, and a **dangerousness assessment** before sentence. Open the demo as the court SPO to see
  the court queue's shape (reports by court date and time). Team A's SPO, whom the demo opens as,
  sees none of it: the queue, check-in, planner, team screen, monthly pack and the pickers are
  scoped to the deciding person's team;
- in the first sentence-management team: the reports that exist only on some cases put right (the
  generic builder's dangerousness assessments and parole reports on licence cases become home-visit
  risk assessments; a **parole report** is added on a case in **custody**), the PSRs awaiting
  gatekeeping rather than countersignature;
- **AQA**: an approved PO with the three Good ratings that approved them and an OASys that
  **skipped countersigning** (closed, ``NOT_REQUIRED``); a PO at **2 of 3 Good**; an OASys
  **resubmitted** after it was returned, with the deficits it was returned for in its history.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from spo_tui.demo.history import _HistoryBuilder
from spo_tui.demo.staff import _StaffBuilder
from spo_tui.domain.court import in_sample
from spo_tui.domain.dates import add_working_days
from spo_tui.domain.rules import countersign_due
from spo_tui.domain.vocab import CountersignKind, CountersignState

_CS_DEFAULTS = {"court_time": None, "oral": 0, "gatekeeper_id": None, "sampled": 0}


class _CourtBuilder(_StaffBuilder, _HistoryBuilder):
    def build_court(self) -> None:
        today = self.today
        for row in self.rows["countersigns"]:
            for key, value in _CS_DEFAULTS.items():
                row.setdefault(key, value)
        self._reports_where_they_exist()
        # A court team of its own, in the one-team demo as in the PDU's: every view and picker of a
        # sentence-management SPO is scoped to their own team, so it shows none of the court's work.
        court = self._court_team()
        self._court_reports(court)
        self._aqa(self.teams[0])
        self._resubmitted(self.teams[0])
        assert all(i["created_at"][:10] <= today.isoformat() for i in self.rows["items"])
        for item in self.rows["items"]:  # every row has the same keys (one bulk insert)
            for key in ("waiting_on", "waiting_since", "waiting_until"):
                item.setdefault(key, None)

    # --- helpers ----------------------------------------------------------------------------------

    def _crn(self) -> str:
        while True:
            crn = f"{self.rng.choice('CDKRTW')}{self.rng.randrange(100_000, 999_999)}"
            if crn not in self.case_by_crn and all(r["crn"] != crn for r in self.rows["cases"]):
                return crn

    def _case(self, pp: dict[str, Any], rosh: str, sentence: str, start: Any, *, female: bool = False) -> str:
        first, last = self.person(female)
        crn = self._crn()
        minute = 9 * 60 + self.rng.randint(0, 300)
        # never later than the demo's now: a defendant first seen today was entered this morning
        created = self.at(self.today, self.earlier_today(5, 40)) if start >= self.today else self.at(start, minute)
        self.rows["cases"].append(
            {
                "crn": crn,
                "name": f"{first} {last}",
                "practitioner_id": pp["id"],
                "rosh": rosh,
                "likelihood": self.rng.choice(("MEDIUM", "HIGH")),
                "mappa_category": None,
                "mappa_level": None,
                "tier": None if sentence == "PRE_SENTENCE" else "B",  # the caseload's one scheme: A–G
                "sentence_type": sentence,
                "sentence_start": start.isoformat(),
                "sentence_end": None,
                "created_at": created,
                "updated_at": created,
            }
        )
        return crn

    def _countersign(
        self,
        kind: str,
        crn: str,
        author: dict[str, Any],
        *,
        state: str,
        submitted: Any,
        court: Any = None,
        due: Any = None,
        title: str | None = None,
        status: str = "open",
        closed_note: str | None = None,
        **detail: Any,
    ) -> str:
        cs_kind = CountersignKind(kind)
        stamp = self.stamp(submitted)
        due = due or countersign_due(cs_kind, submitted, court, self.rules)
        item_id = self.item(
            "countersign",
            title or f"{cs_kind.label} by {author['name']}",
            stamp,
            crn=crn,
            due=due,
            raised_by=author["id"],
            status=status,
            closed_at=self.at(self.today, self.earlier_today(5, 30)) if status == "closed" else None,
            closed_note=closed_note,
        )
        ref = self.rng.randrange(100_000, 999_999)
        site = "oasys.example/assessment" if kind == "OASYS" else "documents.probation.example/reports"
        self.rows["countersigns"].append(
            {
                "item_id": item_id,
                "kind": kind,
                "author_id": author["id"],
                "state": state,
                "submitted_at": stamp,
                "court_date": court.isoformat() if court else None,
                "link": detail.pop("link", None) or f"https://{site}/{ref}",
                **{**_CS_DEFAULTS, **detail},
            }
        )
        return item_id

    def _history(self, item_id: str, old: str | None, new: str, verdict: str, by: str, at: str, minutes: Any) -> None:
        self.rows["countersign_history"].append(
            {
                "item_id": item_id,
                "old_state": old,
                "new_state": new,
                "verdict": verdict,
                "by_id": by,
                "at": at,
                "minutes": minutes,
            }
        )

    # --- parts ------------------------------------------------------------------------------------

    def _reports_where_they_exist(self) -> None:
        """PSRs are gatekept; dangerousness assessments and parole reports only where they exist: the
        generic ones (on licence cases) become home-visit risk assessments, and a parole report is
        written on a case in custody [000 §3.2–3.3]."""
        items = {i["id"]: i for i in self.rows["items"]}
        for cs in self.rows["countersigns"]:
            if cs["kind"] == "PSR" and cs["state"] == CountersignState.AWAITING_COUNTERSIGN.value:
                cs["state"] = CountersignState.AWAITING_GATEKEEP.value
            elif cs["kind"] in ("DANGEROUSNESS", "PAROLE_REPORT"):
                cs["kind"] = CountersignKind.HVRA.value
                author = self.staff_by_id[cs["author_id"]]
                items[cs["item_id"]]["title"] = f"{CountersignKind.HVRA.label} by {author['name']}"
        team = self.teams[0]
        po = next(p for p in team["pps"] if p["role"] == "PO" and p["id"] not in self.absent_today)
        crn = self._case(po, "HIGH", "CUSTODY", self.today - timedelta(days=700))
        seen = self.working_days_ago(15)
        self.rows["oversight_entries"].append(
            {
                "id": self.uid(),
                "crn": crn,
                "item_id": None,
                "type": "management_oversight",
                "outcome": "guidance_given",
                "discussed": f"Parole preparation with {po['name']}: the pre-release risk management plan.",
                "decision": "Parole report to address the victim's concerns and the release address checks.",
                "sensitive": 0,
                "decided_by": team["spo"]["id"],
                "entered_by": team["spo"]["id"],
                "created_at": self.at(seen, 11 * 60),
                "minutes": 20,
                "supersedes_id": None,
            }
        )
        self._countersign(
            "PAROLE_REPORT",
            crn,
            po,
            state=CountersignState.AWAITING_COUNTERSIGN.value,
            submitted=self.working_days_ago(2),
            title=f"Parole report by {po['name']} (pre-release review)",
        )

    def _court_team(self) -> dict[str, Any]:
        name = "Court Team"
        # Named after the first team's SPO in order, so the demo still opens as that SPO (the first
        # SPO by name is who a store's first user acts as).
        first = min(t["spo"]["name"] for t in self.teams)
        spo_name = self.staff_name()
        while f"{spo_name[0]} {spo_name[1]}" <= first:
            spo_name = self.staff_name()
        spo = self.add_staff(spo_name, "SPO", name, approved=1)
        caspo = self.add_staff(self.staff_name(), "CASPO", name)
        pos = [self.add_staff(self.staff_name(), "PO", name, approved=a) for a in (1, 0)]
        psos = [self.add_staff(self.staff_name(), "PSO", name) for _ in range(2)]
        team = {"name": name, "spo": spo, "caspo": caspo, "pps": [*pos, *psos]}
        for person in (spo, caspo, *pos, *psos):
            self.team_of[person["id"]] = team
        self.rows["teams"].append(
            {
                "name": name,
                "kind": "court",
                "set_at": self.at(self.today - timedelta(days=60), 9 * 60),
                "set_by": spo["id"],
            }
        )
        self.supervise_team(team)  # court practitioners are supervised as any others are
        return team

    def _court_reports(self, team: dict[str, Any]) -> None:
        """Defendants not yet sentenced and their reports, most of them for court today [000 §3.2]."""
        today = self.today
        po, po2 = team["pps"][0], team["pps"][1]
        pso, pso2 = team["pps"][2], team["pps"][3]
        tomorrow = add_working_days(today, 1)
        high = self._case(po, "HIGH", "PRE_SENTENCE", today)
        self._countersign(
            "PSR",
            high,
            po,
            state=CountersignState.AWAITING_GATEKEEP.value,
            submitted=today,
            court=today,
            due=today,
            court_time="14:00",
        )
        self._countersign(
            "DANGEROUSNESS",
            high,
            po,
            state=CountersignState.AWAITING_COUNTERSIGN.value,
            submitted=today,
        )
        oral = self._case(pso, "MEDIUM", "PRE_SENTENCE", today, female=True)
        self._countersign(
            "PSR",
            oral,
            pso,
            state=CountersignState.AWAITING_GATEKEEP.value,
            submitted=today,
            court=today,
            due=today,
            court_time="10:00",
            oral=1,
            title=f"Oral PSR by {pso['name']}",
        )
        peer_done = self._case(pso2, "MEDIUM", "PRE_SENTENCE", today - timedelta(days=1))
        gatekept = self._countersign(
            "PSR",
            peer_done,
            pso2,
            state=CountersignState.GATEKEPT.value,
            submitted=today,
            court=tomorrow,
            due=today,
            court_time="10:00",
            gatekeeper_id=po2["id"],
            status="closed",
            closed_note="Gatekept — ready for court: risk of harm section checked against the police records",
        )
        at = self.at(today, self.earlier_today(5, 25))
        self._history(
            gatekept,
            CountersignState.AWAITING_GATEKEEP.value,
            CountersignState.GATEKEPT.value,
            "Risk of harm section checked against the police records",
            po2["id"],
            at,
            15,
        )
        waiting = self._case(pso, "MEDIUM", "PRE_SENTENCE", today - timedelta(days=2))
        waiting_id = self._countersign(
            "PSR",
            waiting,
            pso,
            state=CountersignState.AWAITING_GATEKEEP.value,
            submitted=today,
            court=tomorrow,
            due=today,
            gatekeeper_id=po["id"],
        )
        item = next(i for i in self.rows["items"] if i["id"] == waiting_id)
        item.update(
            status="waiting",
            waiting_on=f"{po['name']} (peer gatekeeping)",
            waiting_since=item["created_at"],
            waiting_until=tomorrow.isoformat(),  # back on the court day if the peer has not gatekept it
        )

    def _aqa(self, team: dict[str, Any]) -> None:
        """An approved PO with the three Good ratings behind it and an OASys that skipped the queue; a
        PO at 2 of 3 Good [000 §3.3]."""
        today, spo = self.today, team["spo"]
        approved = next(p for p in team["pps"] if p["role"] == "PO" and p["oasys_approved"])
        close = next(p for p in team["pps"] if p["role"] in ("PO", "NQO") and not p["oasys_approved"])
        for pp, ratings in (
            (approved, ("GOOD", "REQUIRES_IMPROVEMENT", "GOOD", "GOOD")),
            (close, ("REQUIRES_IMPROVEMENT", "GOOD", "GOOD")),
        ):
            for n, rating in enumerate(ratings):
                day = today - timedelta(days=40 * (len(ratings) - n))
                self.rows["aqa_ratings"].append(
                    {
                        "id": self.uid(),
                        "staff_id": pp["id"],
                        "crn": None,
                        "assessment": f"OASys review {n + 1}",
                        "rating": rating,
                        "rated_by": spo["id"],
                        "rated_on": day.isoformat(),
                        "created_at": self.at(day, 11 * 60),
                    }
                )
        crn = next(r["crn"] for r in self.rows["cases"] if r["practitioner_id"] == approved["id"])
        link = next(
            f"https://oasys.example/assessment/{n}"
            for n in range(500_000, 600_000)
            if not in_sample(f"https://oasys.example/assessment/{n}", self.rules.raw)
        )
        self._countersign(
            "OASYS",
            crn,
            approved,
            state=CountersignState.NOT_REQUIRED.value,
            submitted=today,
            status="closed",
            closed_note=f"No countersignature needed: {approved['name']} is an approved PO [000 §3.3]",
            link=link,
        )

    def _resubmitted(self, team: dict[str, Any]) -> None:
        """An OASys returned with its deficits three working days ago and resubmitted this morning."""
        today, spo = self.today, team["spo"]
        author = next(
            p for p in team["pps"] if not p["oasys_approved"] and p["role"] != "PO" and p["id"] not in self.absent_today
        )
        crn = next(r["crn"] for r in self.rows["cases"] if r["practitioner_id"] == author["id"])
        submitted = self.working_days_ago(5)
        item_id = self._countersign(
            "OASYS",
            crn,
            author,
            state=CountersignState.AWAITING_COUNTERSIGN.value,
            submitted=submitted,
            title=f"OASys assessment by {author['name']} (resubmitted)",
        )
        returned_day = self.working_days_ago(3)
        deficits = (
            "Returned: the risk of serious harm analysis does not use the police call-outs of last month; "
            "the risk management plan needs contingency actions for the partner's safety."
        )
        returned_at = self.at(returned_day, 15 * 60)
        self._history(
            item_id,
            CountersignState.AWAITING_COUNTERSIGN.value,
            CountersignState.REJECTED.value,
            deficits,
            spo["id"],
            returned_at,
            35,
        )
        self._history(
            item_id,
            CountersignState.REJECTED.value,
            CountersignState.AWAITING_COUNTERSIGN.value,
            "resubmitted: call-outs analysed and contingency plan added",
            author["id"],
            self.at(today, self.earlier_today(10, 40)),
            None,
        )
        self.rows["oversight_entries"].append(
            {
                "id": self.uid(),
                "crn": crn,
                "item_id": item_id,
                "type": "management_oversight",
                "outcome": "returned",
                "discussed": f"Countersigning: OASys assessment by {author['name']}",
                "decision": deficits,
                "sensitive": 0,
                "decided_by": spo["id"],
                "entered_by": spo["id"],
                "created_at": returned_at,
                "minutes": 35,
                "supersedes_id": None,
            }
        )
