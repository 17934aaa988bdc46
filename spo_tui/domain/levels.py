"""Oversight levels and sufficiency: plain Python, no I/O.

**Levels** [001]: the Wales model names three levels of management oversight: 1 quality assurance
of processes, 2 oversight through supervision, 3 oversight of immediate risk. Each entry carries
one. By default it is derived from what the entry was made on (:func:`derive_level`); the SPO may
choose another in the oversight form. The mapping, decided here:

- level 3 (immediate risk): an entry on an alert (police arrest, charge, call-out, safeguarding
  [001 "Level 3"]); a recall decision (type ``recall``); an entry on a touch point made by a rise
  in RoSH or MAPPA level (a risk classification that requires formal management involvement).
- level 1 (quality assurance): countersigning or gatekeeping verdicts (outcomes signed off,
  returned, waived, or an entry on a countersign item); a home-visit risk assessment (type
  ``home_visit``), which the domain counts among the documents an SPO countersigns.
- level 2 (supervision): everything else: SBAR decisions, touch points, supervision sessions,
  agreed actions, a case discussion.

**Sufficiency**: the inspectorate judged oversight *sufficient* in 23% (low RoSH), 27% (medium)
and 45% (high/very high) of inspected cases that needed it [000, 004]: a finding, never a target.
Presence of an entry is not sufficiency. Here an entry *looks sufficient* when it (a) records a
decision (not withdrawn or superseded by a withdrawal, its outcome is not "more information
requested", and its decision text is not empty) and (b) its agreed actions were followed up: each
is done, or still open and not yet due; one open past its due date, or closed without being done,
fails it [004: actions "not monitored to see if they were followed through"]. A case looks
sufficiently overseen in a window when it has at least one such entry in it. This is our reading
for the SPO's own view, not the inspectorate's judgement, which reads the record's substance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import IntEnum

from spo_tui.domain.errors import ValidationError


class OversightLevel(IntEnum):
    """The three levels of management oversight [001]."""

    QUALITY_ASSURANCE = 1
    SUPERVISION = 2
    IMMEDIATE_RISK = 3

    @property
    def label(self) -> str:
        return {1: "quality assurance", 2: "supervision", 3: "immediate risk"}[self.value]

    @property
    def short(self) -> str:
        """How a narrow column shows it: ``L3``."""
        return f"L{self.value}"


#: Outcomes that are quality-assurance verdicts (countersigning, gatekeeping).
_QA_OUTCOMES = frozenset({"signed_off", "returned", "waived"})
#: Touch-point reasons that are immediate risk: a rise in risk classification.
_RISK_RISES = frozenset({"rosh_rise", "mappa_rise"})


def derive_level(
    type_: str, outcome: str, item_kind: str | None = None, touch_point_reason: str | None = None
) -> OversightLevel:
    """The level an entry carries unless the SPO chose another (the mapping is in the module's docstring) [001]."""
    if item_kind == "alert" or type_ == "recall" or outcome in ("recall", "no_recall"):
        return OversightLevel.IMMEDIATE_RISK
    if item_kind == "touch_point" and touch_point_reason in _RISK_RISES:
        return OversightLevel.IMMEDIATE_RISK
    if item_kind == "countersign" or outcome in _QA_OUTCOMES or type_ == "home_visit":
        return OversightLevel.QUALITY_ASSURANCE
    return OversightLevel.SUPERVISION


def parse_level(value: object) -> OversightLevel | None:
    """A level chosen in the form or on the command line (1, 2, 3, "L2", or a label); None when empty."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower().removeprefix("l").replace("_", " ")
    for level in OversightLevel:
        if text in (str(level.value), level.label):
            return level
    raise ValidationError(
        f"level must be 1 (quality assurance), 2 (supervision) or 3 (immediate risk), not {value!r}", field="level"
    )


@dataclass(frozen=True)
class ActionFollowUp:
    """What sufficiency needs to know of one agreed action: its due date and whether it is done/closed."""

    due: date | None
    done: bool
    closed: bool


#: Outcomes that record no decision.
NO_DECISION_OUTCOMES = frozenset({"more_info", "withdrawn"})


def entry_sufficient(outcome: str, decision: str, actions: Iterable[ActionFollowUp], today: date) -> bool:
    """True when an entry looks sufficient: it records a decision and its agreed actions were
    followed up (done, or open and not yet due) [000, 004]. Withdrawn entries are excluded by the caller."""
    if outcome in NO_DECISION_OUTCOMES or not (decision or "").strip():
        return False
    for a in actions:
        if a.done:
            continue
        if a.closed or (a.due is not None and a.due < today):
            return False
    return True


def sufficiency_text(entry_ok: bool) -> str:
    """How the timeline names it: ``sufficient`` or ``present only``."""
    return "sufficient" if entry_ok else "present only"


#: The window over which the case header says whether a case's oversight looks sufficient (the
#: coverage view's default window).
CASE_WINDOW_DAYS = 90


def case_sufficiency(entries: Iterable[bool]) -> str:
    """A case's oversight in a window, from its valid entries' sufficiency: ``sufficient`` when any
    entry looks sufficient, ``present only`` when there are entries but none does, else ``none``."""
    found = list(entries)
    if any(found):
        return "sufficient"
    return "present only" if found else "none"
