"""Custody to community in the demo: a lifer with a panel review due, a release next week with its
points and a victim liaison prompt, a ROTL, an OMiC handover, and a case newly at MAPPA level 2
[004, 001, domain.md "MAPPA"].

Each picks a case of the first team that no other part of this module has used, chosen by the
seed; the dates are all relative to the demo's today, and nothing is timed after its now. The
touch points the dates make are written by ``build_calendar_work``, as the rules make them; only
the MAPPA event, which a change to the case makes at the moment of the change, is written here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from spo_tui.demo.base import _add_months, _BuilderBase
from spo_tui.domain.dates import add_working_days
from spo_tui.domain.vocab import TouchPointReason


class _CustodyBuilder(_BuilderBase):
    """Custody dates and the MAPPA event, on a handful of cases."""

    def build_custody(self) -> None:
        today = self.today
        rows = {r["crn"]: r for r in self.rows["cases"]}
        used: set[str] = set()

        def pick(test: Any) -> dict[str, Any] | None:
            pool = [c for c in self.cases if c["team"] == 0 and c["crn"] not in used and test(c)]
            if not pool:
                return None
            c = pool[int(self.rng.random() * len(pool))]
            used.add(c["crn"])
            return c

        def in_custody(c: dict[str, Any], release: Any, **dates: Any) -> None:
            """The case is in prison until ``release``: its licence starts then, 12 months long."""
            c["start"], c["end"] = release, _add_months(release, 12) - timedelta(days=1)
            row = rows[c["crn"]]
            row.update(
                sentence_type="LICENCE",
                sentence_start=release.isoformat(),
                sentence_end=c["end"].isoformat(),
                release_date=release.isoformat(),
                **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in dates.items()},
            )
            c["sentence_type"] = "LICENCE"
            c["custody"] = row

        # Not a case whose termination review is already held (``build_terminations_done``): moving its
        # sentence would leave that review's entry pointing at a touch point the calendar never makes.
        plain = lambda c: not c.get("lifer") and c["end"] is not None and c["crn"] not in self.done_termination  # noqa: E731
        # A lifer whose panel sits in 18 days: the review is due in four (lifer_panel_before_days 14).
        lifer = pick(lambda c: bool(c.get("lifer")))
        if lifer is not None:
            rows[lifer["crn"]]["lifer_panel_date"] = (today + timedelta(days=18)).isoformat()
            lifer["custody"] = rows[lifer["crn"]]
        # Released next week, a victim contact scheme case: pre-release point, first-week point, VLO prompt.
        release = pick(lambda c: plain(c) and c["rosh"] in ("MEDIUM", "HIGH") and (c["mappa_level"] or 1) == 1)
        if release is not None:
            in_custody(release, today + timedelta(days=7), victim_contact=1)
        # Still in prison, out on temporary licence in nine days; released in about four months.
        rotl = pick(lambda c: plain(c) and c["rosh"] == "MEDIUM" and not c["mappa_category"])
        if rotl is not None:
            in_custody(rotl, today + timedelta(days=120), rotl_date=today + timedelta(days=9))
        # OMiC handover in ten days: the community takes the case over; release in seven months.
        handover = pick(lambda c: plain(c) and c["rosh"] in ("MEDIUM", "HIGH") and not c["mappa_category"])
        if handover is not None:
            in_custody(handover, today + timedelta(days=220), handover_date=today + timedelta(days=10))
        # Newly at MAPPA level 2 yesterday: the event made its touch point then, due in two working days.
        newly = pick(lambda c: c["mappa_level"] == 2 and not c.get("lifer"))
        if newly is not None:
            yesterday = today - timedelta(days=1)
            due = add_working_days(yesterday, self.rules.raw["touch_points"]["rise_within_working_days"])
            item_id = self.item(
                "touch_point",
                "Newly at MAPPA level 2",
                self.at(yesterday, 15 * 60 + 20),
                crn=newly["crn"],
                due=due,
                rule_key=f"tp:{TouchPointReason.MAPPA_RISE.value}:{newly['crn']}:{self.uid()}",
            )
            self.rows["touch_points"].append(
                {
                    "item_id": item_id,
                    "reason": TouchPointReason.MAPPA_RISE.value,
                    "arranged_for": None,
                    "reminder_sent_at": None,
                    "waived_reason": None,
                }
            )
