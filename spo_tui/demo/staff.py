"""The staff: each team's SPO, CASPO and practitioners, the PDU's shared staff, and absences."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from spo_tui.demo.base import _BuilderBase


class _StaffBuilder(_BuilderBase):
    """Staff and their absences."""

    def add_staff(
        self, first_last: tuple[str, str], role: str, team: str, *, fte: float = 1.0, approved: int = 0
    ) -> dict[str, Any]:
        first, last = first_last
        email_name = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        row: dict[str, Any] = {
            "id": self.uid(),
            "name": f"{first} {last}",
            "role": role,
            "team": team,
            "fte": fte,
            "oasys_approved": approved,
            "email": f"{email_name}@probation.example",
            "active": 1,
            "created_at": self.at(self.today - timedelta(days=self.rng.randint(120, 3000)), 9 * 60),
        }
        self.rows["staff"].append(row)
        self.staff_by_id[row["id"]] = row
        return row

    def build_staff(self) -> None:
        spec, rng = self.spec, self.rng
        spo_names = sorted((self.staff_name() for _ in range(spec.teams)), key=lambda n: f"{n[0]} {n[1]}")
        shared: dict[str, list[dict[str, Any]]] = {}
        for t in range(spec.teams):
            team_name = f"Team {chr(ord('A') + t)}"
            spo = self.add_staff(spo_names[t], "SPO", team_name, approved=1)
            caspo = self.add_staff(self.staff_name(), "CASPO", team_name)
            n = rng.randint(*spec.practitioners_per_team)
            roles = ["PO"] * round(n * 0.45) + ["PSO"] * round(n * 0.3) + ["PQiP"] * max(1, round(n * 0.13))
            roles += ["NQO"] * max(1, n - len(roles))
            roles = roles[:n]
            rng.shuffle(roles)
            part_time = set(rng.sample(range(n), rng.randint(2, 3)))
            pos = [i for i, r in enumerate(roles) if r == "PO"]
            approved = set(rng.sample(pos, max(1, round(len(pos) * 0.6))))
            pps = [
                self.add_staff(
                    self.staff_name(),
                    role,
                    team_name,
                    fte=rng.choice((0.6, 0.8)) if i in part_time else 1.0,
                    approved=int(i in approved),
                )
                for i, role in enumerate(roles)
            ]
            self.teams.append({"name": team_name, "spo": spo, "caspo": caspo, "pps": pps})
            if t == 0 or t % 5 == 0:
                # Shared PDU staff after the first team, so the team's SPO is the first SPO inserted.
                shared.setdefault("SAO", []).append(self.add_staff(self.staff_name(), "SAO", "PDU"))
            if t == 0:
                shared["business manager"] = [self.add_staff(self.staff_name(), "business manager", "PDU")]
                shared["PDU head"] = [self.add_staff(self.staff_name(), "PDU head", "PDU")]
                if spec.teams > 1:
                    shared["QDO"] = [self.add_staff(self.staff_name(), "QDO", "PDU")]
        self.shared = shared
        self.team_of = {}
        for team in self.teams:
            for person in (team["spo"], team["caspo"], *team["pps"]):
                self.team_of[person["id"]] = team

    def build_absences(self) -> None:
        rng, today = self.rng, self.today
        for team in self.teams:
            pps = list(team["pps"])
            rng.shuffle(pps)
            off_today, back_from_sick, past_leave, future_leave = pps[0], pps[1], pps[2], pps[3]
            team["off_today"], team["back_from_sick"] = off_today, back_from_sick
            self.absent_today.add(off_today["id"])
            spans = [
                (
                    off_today,
                    today - timedelta(days=rng.randint(0, 2)),
                    today + timedelta(days=rng.randint(1, 4)),
                    rng.choice(("Sickness", "Sickness", "Carer's leave")),
                ),
                (back_from_sick, today - timedelta(days=9), today - timedelta(days=3), "Sickness"),
                (past_leave, today - timedelta(days=40), today - timedelta(days=36), "Annual leave"),
                (future_leave, today + timedelta(days=20), today + timedelta(days=24), "Annual leave"),
            ]
            for person, start, end, reason in spans:
                self.rows["absences"].append(
                    {
                        "id": self.uid(),
                        "staff_id": person["id"],
                        "start_date": start.isoformat(),
                        "end_date": end.isoformat(),
                        "reason": reason,
                        "created_at": self.stamp(min(start, today) - timedelta(days=1)),
                    }
                )
