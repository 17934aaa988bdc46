"""The cases: RoSH, MAPPA, sentences and their practitioners, and registrations (flags)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from spo_tui.demo.base import _add_months, _apportion, _BuilderBase
from spo_tui.demo.vocab import (
    _CASELOAD,
    _FLAGS,
    _LENGTHS,
    _LEVELS,
    _LIKELIHOOD,
    _MAPPA,
    _RANK,
    _ROSH_SHARE,
    _SENTENCE_SHARE,
)
from spo_tui.domain.vocab import FLAG_DESCRIPTIONS

#: Review periods of the demo's registrations, in months (the case record's reviewPeriodMonths);
#: any other is six. Demo data, not a rule: the period is the registration's own.
_REVIEW_MONTHS = {"RCPR": 3, "MAPP": 6, "INLL": 12}


class _CaseBuilder(_BuilderBase):
    """Cases and their registrations."""

    def build_cases(self) -> None:
        spec, rng, today = self.spec, self.rng, self.today
        n = spec.cases
        roshes = _apportion(n, _ROSH_SHARE)
        rng.shuffle(roshes)
        crns: set[str] = set()
        # Caseload weights per team, RoSH and "PO only" (MAPPA levels 2-3, category 3, lifers).
        pickers: dict[tuple[int, str, bool], tuple[list[dict], list[float]]] = {}
        for t, team in enumerate(self.teams):
            for level in _LEVELS:
                for po_only in (False, True):
                    pps = [
                        p for p in team["pps"] if (p["role"] == "PO" or not po_only) and _CASELOAD[p["role"]][level] > 0
                    ]
                    cum, total = [], 0.0
                    for p in pps:
                        total += _CASELOAD[p["role"]][level] * p["fte"]
                        cum.append(total)
                    pickers[(t, level, po_only)] = (pps, cum)

        for i in range(n):
            rosh = roshes[i]
            while True:
                crn = f"{chr(ord('A') + rng.randrange(26))}{rng.randrange(1_000_000):06d}"
                if crn not in crns:
                    crns.add(crn)
                    break
            male = rng.random() < 0.88
            first, last = self.person(not male)
            likelihood = rng.choices(_LEVELS, weights=_LIKELIHOOD[rosh])[0]
            chance, cat_weights = _MAPPA[rosh]
            category = rng.choices((1, 2, 3), weights=cat_weights)[0] if rng.random() < chance else None
            if category in (2, 3):
                sentence = "LICENCE" if rng.random() < 0.85 else "POST_SENTENCE_SUPERVISION"
            else:
                sentence = rng.choices([s for s, _ in _SENTENCE_SHARE], weights=[w for _, w in _SENTENCE_SHARE])[0]
            months = rng.choices([m for m, _ in _LENGTHS[sentence]], weights=[w for _, w in _LENGTHS[sentence]])[0]
            start, end = self._sentence_dates(months)
            self.cases.append(
                {
                    "crn": crn,
                    "name": f"{first} {last}",
                    "first": first,
                    "last": last,
                    "male": male,
                    "rosh": rosh,
                    "mr": f"{'Mr' if male else 'Ms'} {last}",
                    "likelihood": likelihood,
                    "mappa_category": category,
                    "mappa_level": 1 if category else None,
                    "sentence_type": sentence,
                    "start": start,
                    "end": end,
                    "team": rng.randrange(spec.teams),
                }
            )

        # MAPPA levels: mostly 1, a few 2, one or two at level 3 in a team.
        mappa = [c for c in self.cases if c["mappa_category"]]
        high = [c for c in mappa if c["rosh"] in ("HIGH", "VERY_HIGH") and c["mappa_category"] in (2, 3)]
        n3 = rng.randint(1, 2) if spec.teams == 1 else max(1, round(len(mappa) * 0.01))
        for c in rng.sample(high, min(n3, len(high))):
            c["mappa_level"] = 3
        level2_pool = [c for c in mappa if c["mappa_level"] == 1 and c["rosh"] != "LOW"]
        for c in rng.sample(level2_pool, min(max(3, round(len(mappa) * 0.05)), len(level2_pool))):
            c["mappa_level"] = 2
        # Category 3 (other dangerous offenders) exists only at levels 2 and 3 [domain.md "MAPPA"]:
        # one the draw left at level 1 is a violent offender (category 2) at level 1 instead.
        for c in mappa:
            if c["mappa_category"] == 3 and c["mappa_level"] == 1:
                c["mappa_category"] = 2
        # Lifers: on licence with no end date.
        lifer_pool = [c for c in self.cases if c["rosh"] in ("HIGH", "VERY_HIGH") and c["mappa_level"] == 1]
        for c in rng.sample(lifer_pool, min(max(2, round(n * 0.006)), len(lifer_pool))):
            c["sentence_type"], c["end"], c["lifer"] = "LICENCE", None, True
            c["start"] = today - timedelta(days=rng.randint(200, 1095))

        for c in self.cases:
            po_only = bool(c.get("lifer")) or (c["mappa_level"] or 0) >= 2 or c["mappa_category"] == 3
            pps, cum = pickers[(c["team"], c["rosh"], po_only)]
            c["pp"] = rng.choices(pps, cum_weights=cum)[0]
            c["tier"] = self._tier(c)
            created = self.at(c["start"], 9 * 60 + rng.randint(0, 420))
            self.rows["cases"].append(
                {
                    "crn": c["crn"],
                    "name": c["name"],
                    "practitioner_id": c["pp"]["id"],
                    "rosh": c["rosh"],
                    "likelihood": c["likelihood"],
                    "mappa_category": c["mappa_category"],
                    "mappa_level": c["mappa_level"],
                    "tier": c["tier"],
                    "sentence_type": c["sentence_type"],
                    "sentence_start": c["start"].isoformat(),
                    "sentence_end": c["end"].isoformat() if c["end"] else None,
                    "created_at": created,
                    "updated_at": created,
                    # Custody to community: set for a few cases by build_custody.
                    "release_date": None,
                    "rotl_date": None,
                    "handover_date": None,
                    "lifer_panel_date": None,
                    "victim_contact": 0,
                }
            )
            self.case_by_crn[c["crn"]] = c

    def _sentence_dates(self, months: int) -> tuple[date, date]:
        rng, today = self.rng, self.today
        length = (_add_months(today, months) - today).days
        offset = rng.randint(2, min(1095, length - 1))
        if length - offset <= 42 and rng.random() < 0.5:
            offset = rng.randint(2, min(1095, length - 1))  # fewer orders ending in the next six weeks
        start = today - timedelta(days=offset)
        end = _add_months(start, months) - timedelta(days=1)
        if end <= today:
            end = today + timedelta(days=1)
        return start, end

    def _tier(self, c: dict[str, Any]) -> str:
        """The current tiering model for every case: one letter, A most serious.

        One scheme per caseload [issue 16 §7]: the case record re-tiers every case when the model
        changes, so a caseload never mixes A–G with the older A–D and 0–3 ("B2").
        """
        score = _RANK[c["rosh"]] * 2 + _RANK[c["likelihood"]]  # 0..9
        return "ABCDEFG"[6 - round(score * 6 / 9)]

    def build_flags(self) -> None:
        """Each case's registrations with a next review date and a review period; every MAPPA case
        has the MAPP registration [domain.md], and one level 1 case's MAPP review falls due this week
        (the MAPPA level 1 review in the queue [000, 001])."""
        rng, today = self.rng, self.today
        level1_due = False
        for c in self.cases:
            flags: list[tuple[str, str]] = []
            for code, description, chance in _FLAGS:
                if code == "ADVP" and c["mappa_category"] == 2:
                    chance += 0.15
                if code == "RCPR" and c["mappa_category"] == 1:
                    chance += 0.15
                if rng.random() >= chance:
                    continue
                flags.append((code, description))
            if c.get("lifer"):
                flags.append(("INLL", FLAG_DESCRIPTIONS["INLL"]))
            if c["mappa_category"]:
                # MAPPA cases carry the MAPP registration; its review drives the level 1 reviews.
                flags.append(("MAPP", FLAG_DESCRIPTIONS["MAPP"]))
            c["flags"] = [code for code, _ in flags]
            self.flags_by_crn[c["crn"]] = []
            for code, description in flags:
                roll = rng.random()
                if roll < 0.012:
                    review = today - timedelta(days=rng.randint(1, 30))
                elif roll < 0.037:
                    review = today + timedelta(days=rng.randint(0, 14))
                else:
                    review = today + timedelta(days=rng.randint(15, 365 if code == "INLL" else 182))
                if code == "MAPP" and c["mappa_level"] == 1 and not level1_due:
                    review = today + timedelta(days=5)
                    level1_due = True
                self.flags_by_crn[c["crn"]].append((code, review))
                self.rows["case_flags"].append(
                    {
                        "id": self.uid(),
                        "crn": c["crn"],
                        "code": code,
                        "description": description,
                        "review_date": review.isoformat(),
                        # As the case record has it (reviewPeriodMonths).
                        "review_period_months": _REVIEW_MONTHS.get(code, 6),
                    }
                )
