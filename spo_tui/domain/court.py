"""Court work and countersigning at source: the rules, as plain Python [000 §3.2–3.3].

- **PSR gatekeeping is not countersigning** [000 §3.2]. Reports on high and very high RoSH cases are
  checked by the SPO; medium (and, by default, low) may be peer-gatekept by another qualified PO of
  the team; only qualified POs write reports on high-RoSH cases ("Only qualified POs complete reports
  on cases assessed as high risk of serious harm. PSOs can complete reports on cases assessed as
  medium risk"). An NQO is a qualified PO in their first year, so may write them; a PSO or PQiP may
  not. Which roles count is ``[gatekeeping]`` in the rules.
- **Reports on the day** [000 §3.2]: "the vast majority of reports are now delivered on the day",
  some orally. A report for court today is due today, by the court time: never "overdue" on entry.
- **Dangerousness assessments and parole reports** exist only on some cases: a dangerousness
  assessment is written for the court before sentence; a parole report for a person in custody.
  The sentence types are ``[gatekeeping] dangerousness_sentence_types`` / ``parole_sentence_types``.
- **Approved POs** [000 §3.3]: three OASys assessments rated Good on the AQA tool make a PO approved;
  an approved PO's OASys needs no countersignature, except a sample (``[aqa] sample_one_in``) that
  still comes to the SPO, chosen from the assessment itself so the same assessment is always (or
  never) in it. An Inadequate rating starts the count again (the approval rests on a run of good
  work, not on a total); Requires improvement neither counts nor resets.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.vocab import AqaRating, CountersignKind, Role, RoSH, SentenceType, sentence_label

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]?([0-5]\d)$")


def rules_problem(raw: dict[str, Any]) -> str | None:
    """What is wrong with ``[gatekeeping]`` and ``[aqa]``, naming the key, or None."""
    g = raw.get("gatekeeping")
    if not isinstance(g, dict):
        return "[gatekeeping] is missing"
    roshes = {r.value for r in RoSH}
    for key in ("peer_rosh",):
        value = g.get(key)
        if not isinstance(value, list) or any(v not in roshes for v in value):
            return f"[gatekeeping] {key} must be a list of RoSH levels ({', '.join(sorted(roshes))}), not {value!r}"
        if {"HIGH", "VERY_HIGH"} & set(value):
            return f"[gatekeeping] {key}: high and very high RoSH reports are gatekept by the SPO [000 §3.2]"
    roles = {r.value for r in Role}
    for key in ("peer_roles", "qualified_roles"):
        value = g.get(key)
        if not isinstance(value, list) or not value or any(v not in roles for v in value):
            return f"[gatekeeping] {key} must be a list of roles ({', '.join(sorted(roles))}), not {value!r}"
    types = {t.value for t in SentenceType}
    for key in ("dangerousness_sentence_types", "parole_sentence_types"):
        value = g.get(key)
        if not isinstance(value, list) or not value or any(v not in types for v in value):
            return f"[gatekeeping] {key} must be a list of sentence types ({', '.join(sorted(types))}), not {value!r}"
    a = raw.get("aqa")
    if not isinstance(a, dict):
        return "[aqa] is missing"
    for key, low in (("good_for_approval", 1), ("sample_one_in", 0)):
        value = a.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            return f"[aqa] {key} must be a whole number, {low} or more, not {value!r}"
    return None


# --- PSR gatekeeping ------------------------------------------------------------------------------


def peer_may_gatekeep(rosh: RoSH, raw: dict[str, Any]) -> bool:
    """True if a PSR on a case of this RoSH may go to a peer PO rather than the SPO [000 §3.2]."""
    return rosh.value in raw["gatekeeping"]["peer_rosh"] and rosh not in (RoSH.HIGH, RoSH.VERY_HIGH)


def check_psr_writer(role: str, rosh: RoSH, raw: dict[str, Any]) -> None:
    """Refuse a PSR on a high or very high RoSH case written by anyone but a qualified PO [000 §3.2]."""
    qualified = raw["gatekeeping"]["qualified_roles"]
    if rosh in (RoSH.HIGH, RoSH.VERY_HIGH) and role not in qualified:
        raise NotAllowed(
            f"a {role} may not write a PSR on a {rosh.label.lower()} RoSH case: only qualified POs "
            f"({', '.join(qualified)}) write reports on high-RoSH cases [000 §3.2]",
            field="author",
        )


def check_peer(peer_role: str, peer_id: str, author_id: str, raw: dict[str, Any]) -> None:
    """A peer gatekeeper is a qualified PO (``peer_roles``) and not the report's author."""
    if peer_id == author_id:
        raise ValidationError("a report is not gatekept by its own author", field="gatekeeper")
    roles = raw["gatekeeping"]["peer_roles"]
    if peer_role not in roles:
        raise ValidationError(
            f"a peer gatekeeper must be a qualified PO ({', '.join(roles)}), not a {peer_role}", field="gatekeeper"
        )


def check_report_case(kind: CountersignKind, sentence_type: str, raw: dict[str, Any]) -> None:
    """Dangerousness assessments and parole reports only on the cases where they exist."""
    g = raw["gatekeeping"]
    if kind == CountersignKind.DANGEROUSNESS and sentence_type not in g["dangerousness_sentence_types"]:
        raise NotAllowed(
            "a dangerousness assessment is written for the court before sentence: this case is "
            f"{_sentence(sentence_type)} (allowed: {_sentences(g['dangerousness_sentence_types'])})",
            field="kind",
        )
    if kind == CountersignKind.PAROLE_REPORT and sentence_type not in g["parole_sentence_types"]:
        raise NotAllowed(
            "a parole report is written for a person in custody: this case is "
            f"{_sentence(sentence_type)} (allowed: {_sentences(g['parole_sentence_types'])})",
            field="kind",
        )


def _sentence(value: str) -> str:
    return sentence_label(value).lower()


def _sentences(values: list[str]) -> str:
    return ", ".join(_sentence(v) for v in values)


def parse_court_time(value: str | None) -> str | None:
    """A court time typed as 10:00, 1000 or 10.00, stored HH:MM; empty is None."""
    text = (value or "").strip()
    if not text:
        return None
    m = _TIME.match(text)
    if not m:
        raise ValidationError(f"court time '{text}' is not a time of day like 10:00", field="court_time")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def psr_due(court: date, submitted: date, before_court: date, *, same_day: bool) -> date:
    """A PSR's gatekeeping deadline: ``before_court`` (working days before the court date), but never before the day
    it was submitted (a report for court tomorrow handed in today is due today, not yesterday), and
    the court day itself for a report on the day or an oral report [000 §3.2]."""
    if same_day:
        return court
    return max(before_court, min(submitted, court))


# --- AQA and approval -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far a practitioner is towards approval: Good ratings counting, of those needed."""

    goods: int
    needed: int

    @property
    def approved(self) -> bool:
        return self.goods >= self.needed

    @property
    def label(self) -> str:
        return f"{min(self.goods, self.needed)} of {self.needed} Good"


def approval_progress(ratings: list[str], raw: dict[str, Any]) -> Progress:
    """``ratings`` oldest first: the Good ratings since the last Inadequate count towards approval."""
    goods = 0
    for r in ratings:
        if r == AqaRating.INADEQUATE.value:
            goods = 0
        elif r == AqaRating.GOOD.value:
            goods += 1
    return Progress(goods, raw["aqa"]["good_for_approval"])


def in_sample(key: str, raw: dict[str, Any]) -> bool:
    """True if an approved PO's assessment identified by ``key`` is one of the sample that still
    comes to the SPO: one in ``[aqa] sample_one_in`` (0: none), chosen by a hash of the key so the
    same assessment always gives the same answer."""
    one_in = raw["aqa"]["sample_one_in"]
    if one_in <= 0:
        return False
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") % one_in == 0
