"""The demo's oversight that is present but does not look sufficient (issue 16 §6) [000 §1.3, 004].

Presence of an entry is not sufficiency (``spo_tui.domain.levels``): an entry looks sufficient when it
records a decision and its agreed actions were followed up. The inspectorate found oversight
sufficient in only 23% (low RoSH), 27% (medium) and 45% (high/very high) of inspected cases, better
for high RoSH cases [000 §1.3, Figure 1]; of the 1,629 that needed it, management oversight was
effective in 461 (28%) and "insufficient, ineffective, or absent" in 1,168 (72%) [000 §1.3, Table 1;
likewise 408 against 1,028 in 004 Annex B, Table B1]. Where it was recorded it was often
"process-led", adding "nothing to management of the case" [004 §2.2], or set actions "not monitored
to see if they were followed through" [004 §2.1.1].

The generic builder's entries nearly all record a decision, so the coverage view and the monthly pack
barely showed the difference. ``build_present_only`` (decided here) makes about a third of the cases
seen in the coverage window (``PRESENT_ONLY_SHARE``, in each RoSH band) *present only*: every entry
in the window on such a case is one of

- a request for more information with no decision after it (outcome ``more_info``), or
- on the case's latest entry, when it is older than the actions' usual time: actions agreed and one
  still open past its due date (in the SPO's queue as an overdue action).

A third leaves the team's demo well above the inspectorate's sufficient shares (the demo team is not
an inspected sample), yet big enough to show in every band. Only cases whose entries in the window
are all case discussions or touch-point reviews (none on a countersign or an SBAR, whose verdicts
and decisions stand, and no action agreed yet) are chosen, so nothing else in the demo changes
meaning. So fewer high-RoSH cases are chosen (their countersigning verdicts are decisions), as the
inspectorate found oversight sufficient more often there [000 §1.3, Figure 1]. It draws from a generator of its own: the rest of the demo is as the seed gave it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from spo_tui.demo.history import _HistoryBuilder
from spo_tui.demo.open_work import _OpenWorkBuilder
from spo_tui.demo.vocab import _ACTIONS, _DECISIONS
from spo_tui.domain.levels import CASE_WINDOW_DAYS

#: The share of the cases seen in the window whose oversight is present only, per RoSH band.
PRESENT_ONLY_SHARE = 1 / 3

#: Entries that ask for more and decide nothing: process-led oversight [004 §2.2].
_MORE_INFO = (
    *_DECISIONS["more_info"],
    "More information needed: the PP to update the risk management plan before the case is discussed again.",
    "More information needed: the latest OASys and the PP's view of the licence conditions first.",
    "Case noted; more information requested from the PP on contact with the victim before a decision.",
)

#: Outcomes that are a case discussion's own (not a countersigning verdict, a waiver, an escalation
#: or a recall decision, whose words are the record of what was done).
_CHANGEABLE = frozenset({"agreed", "guidance_given", "actions_set", "more_info"})

_BANDS = {"LOW": "LOW", "MEDIUM": "MEDIUM", "HIGH": "HIGH", "VERY_HIGH": "HIGH"}


class _SufficiencyBuilder(_HistoryBuilder, _OpenWorkBuilder):
    def build_present_only(self) -> None:
        """Make about a third of the seen cases' oversight present only (module docstring)."""
        saved, self.rng = self.rng, random.Random(f"spo-tui demo present only {self.seed}")
        try:
            self._present_only()
        finally:
            self.rng = saved

    def _present_only(self) -> None:
        today = self.today
        since = (today - timedelta(days=CASE_WINDOW_DAYS)).isoformat()
        kinds = {i["id"]: i["kind"] for i in self.rows["items"]}
        with_action = {a["oversight_id"] for a in self.rows["actions"] if a["oversight_id"]}
        elsewhere = {e["crn"] for e in self.rows["oversight_entries"] if e["crn"] and e["created_at"] >= since}
        seen: dict[str, int] = {}
        present_only: dict[str, int] = {}
        pools: dict[str, list[tuple[dict[str, Any], list[dict[str, Any]]]]] = {}
        for c in self.cases:
            window = [
                e
                for e in self.entries_by_crn.get(c["crn"], [])
                if e["created_at"] >= since and e["outcome"] != "withdrawn"
            ]
            if not window:
                continue
            band = _BANDS.get(c["rosh"], "LOW")
            seen[band] = seen.get(band, 0) + 1
            if all(e["outcome"] == "more_info" for e in window):
                present_only[band] = present_only.get(band, 0) + 1
            elif c["crn"] not in elsewhere and all(
                kinds.get(e["item_id"]) in (None, "touch_point")
                and e["type"] == "management_oversight"
                and e["outcome"] in _CHANGEABLE
                and e["id"] not in with_action
                and e["supersedes_id"] is None
                for e in window
            ):
                pools.setdefault(band, []).append((c, window))
        days = int(self.rules.get("actions", "default_days"))
        for band in sorted(pools):
            wanted = round(seen[band] * PRESENT_ONLY_SHARE) - present_only.get(band, 0)
            pool = pools[band]
            for n, (c, window) in enumerate(self.rng.sample(pool, min(max(0, wanted), len(pool)))):
                latest = max(window, key=lambda e: e["created_at"])
                overdue = n % 3 == 0 and date.fromisoformat(latest["created_at"][:10]) + timedelta(days=days) < today
                for e in window:
                    if overdue and e is latest and e["item_id"] is None:
                        self._not_followed_up(c, e, days)
                    else:
                        e["outcome"] = "more_info"
                        e["decision"] = self.rng.choice(_MORE_INFO)

    def _not_followed_up(self, c: dict[str, Any], e: dict[str, Any], days: int) -> None:
        """Actions agreed on ``e`` and one left open past its due date [004 §2.1.1]."""
        case = self.case_by_crn[c["crn"]]
        description = self.rng.choice(_ACTIONS)
        made = date.fromisoformat(e["created_at"][:10])
        due = made + timedelta(days=days)
        e["outcome"] = "actions_set"
        e["decision"] = (
            f"Actions agreed: {description} ({case['pp']['name']}, by {due:%d/%m/%Y}). Review when complete."
        )
        item_id = self.item(
            "action", description, e["created_at"], crn=c["crn"], due=due, raised_by=e["decided_by"], status="open"
        )
        self.rows["actions"].append(
            {
                "item_id": item_id,
                "oversight_id": e["id"],
                "owner_id": case["pp"]["id"],
                "description": description,
                "done_at": None,
            }
        )
