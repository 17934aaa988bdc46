"""Level-1 assurance and the facilities jobs that crowd it out: the rules, as plain functions.

**R-CAT** (the regional case assessment / audit tool) is the tier-1 audit of a case's supervision:
assessment and planning, risk management, enforcement and, in its latest version, the quality of
management oversight. It takes about an hour and a half, so "only one case per PP is planned to be
reviewed each year" [000 §3.3]; QDOs or SPOs complete it, and the CASPO keeps "the list of eligible
cases for review" [001 "the role of the case administrator"].

The eligible list (``choose_rcat_case``), documented here because the reports leave it open:

- a practitioner is eligible when none of their cases was audited in the last ``[rcat]
  months_between`` months (12: a rolling year, so an audit in December does not make the
  practitioner due again in January);
- for each eligible practitioner, one case they hold now that was itself not audited in that time;
- among those, cases supervised at least ``[rcat] min_months_supervised`` months come first (there is
  an assessment, a plan and risk management to audit), then the highest RoSH (R-CAT audits risk
  management, where an audit gives most assurance), then the longest-supervised, then the CRN, so
  the same store always offers the same case.

**Facilities and health-and-safety jobs** have a 10-working-day target [002 §9 "Buildings and
facilities management"], and the report asks for "a streamlined escalation process ... and monitor
performance at each stage" in place of the seven-stage one. ``escalation_stage`` counts the stages a
job not done by its target has reached: stage 1 on the first working day after the target, each
further stage ``[tasks] escalation_every_working_days`` working days later, each naming the role
that steps in (``[tasks] escalation_stages``: the business manager, then the SAO, then the PDU head).
Plain Python, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from spo_tui.domain.dates import add_working_days
from spo_tui.domain.rules import Rules
from spo_tui.domain.vocab import RoSH


class RcatOutcome(StrEnum):
    """The overall judgement an R-CAT audit records on the case's supervision [000 §3.3]."""

    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"

    @property
    def label(self) -> str:
        return {
            "good": "Good",
            "requires_improvement": "Requires improvement",
            "inadequate": "Inadequate",
        }[self.value]


@dataclass(frozen=True)
class RcatCase:
    """What the choice needs of one case a practitioner holds."""

    crn: str
    rosh: RoSH
    sentence_start: date
    last_audit: date | None = None


def rcat_window_start(today: date, rules: Rules) -> date:
    """The first day of the audit year ending today: an audit on or after it counts [000 §3.3]."""
    return today - relativedelta(months=rules.get("rcat", "months_between")) + relativedelta(days=1)


def practitioner_eligible(last_audit: date | None, today: date, rules: Rules) -> bool:
    """True when none of the practitioner's cases was audited in the last year (one case per PP per
    year [000 §3.3])."""
    return last_audit is None or last_audit < rcat_window_start(today, rules)


def choose_rcat_case(cases: Sequence[RcatCase], today: date, rules: Rules) -> tuple[RcatCase, str] | None:
    """The case to audit from those one practitioner holds, with why it was chosen; None if none can be.

    Not a case audited in the last year; supervised ``min_months_supervised`` months first, then the
    highest RoSH, then the longest-supervised, then the CRN (see the module's docstring)."""
    window = rcat_window_start(today, rules)
    open_cases = [c for c in cases if c.last_audit is None or c.last_audit < window]
    if not open_cases:
        return None
    settled_by = today - relativedelta(months=rules.get("rcat", "min_months_supervised"))
    settled = [c for c in open_cases if c.sentence_start <= settled_by]
    pool = settled or open_cases
    pick = min(pool, key=lambda c: (-c.rosh.rank, c.sentence_start, c.crn))
    months = rules.get("rcat", "min_months_supervised")
    why = f"{pick.rosh.value.replace('_', ' ').lower()} RoSH, supervised since {pick.sentence_start:%d/%m/%Y}"
    if not settled:
        why += f" (none supervised {months} months yet)"
    return pick, why


# --- Facilities jobs -----------------------------------------------------------------------------


def escalation_starts(target: date, rules: Rules) -> list[date]:
    """The day each escalation stage begins for a job with this target: stage 1 the first working
    day after it, each further stage ``escalation_every_working_days`` working days later [002 §9]."""
    every = rules.get("tasks", "escalation_every_working_days")
    stages = rules.get("tasks", "escalation_stages")
    return [add_working_days(target, 1 + n * every) for n in range(len(stages))]


def escalation_stage(target: date, today: date, rules: Rules) -> int:
    """How many escalation stages a job not done by ``target`` has reached by ``today`` (0: none)."""
    return sum(1 for start in escalation_starts(target, rules) if start <= today)


def escalation_role(stage: int, rules: Rules) -> str | None:
    """The role that steps in at ``stage`` (1 the first), or None at stage 0."""
    stages: list[str] = rules.get("tasks", "escalation_stages")
    return stages[stage - 1] if 1 <= stage <= len(stages) else None
