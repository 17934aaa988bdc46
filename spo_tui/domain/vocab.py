"""The fixed vocabularies of the domain: roles, risk levels, item kinds, oversight types.

Every value stored in the database is one of these, spelled as the national systems spell it
where there is a national spelling (RoSH ``VERY_HIGH``, countersign ``AWAITING_COUNTERSIGN``).
Plain Python, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from spo_tui.domain.errors import ValidationError

CRN_PATTERN = re.compile(r"^[A-Z][0-9]{6}$")


def normalise_crn(text: str) -> str:
    """Return the CRN in canonical form (upper case, trimmed) or raise ValidationError."""
    crn = (text or "").strip().upper()
    if not crn:
        raise ValidationError("A CRN is needed: one letter and six digits, e.g. X123456", field="crn")
    if not CRN_PATTERN.match(crn):
        raise ValidationError(
            f"'{(text or '').strip()}' is not a CRN: expected one letter and six digits, e.g. X123456",
            field="crn",
        )
    return crn


class Role(StrEnum):
    SPO = "SPO"
    PO = "PO"
    PSO = "PSO"
    PQIP = "PQiP"
    NQO = "NQO"
    CASPO = "CASPO"
    SAO = "SAO"
    QDO = "QDO"
    BUSINESS_MANAGER = "business manager"
    PDU_HEAD = "PDU head"

    @property
    def is_practitioner(self) -> bool:
        return self in PRACTITIONER_ROLES


PRACTITIONER_ROLES = frozenset({Role.PO, Role.PSO, Role.PQIP, Role.NQO})
#: The practitioner roles' stored values, in the order of ``Role``: PO, PSO, PQiP, NQO.
PRACTITIONER_ROLE_VALUES = tuple(r.value for r in Role if r in PRACTITIONER_ROLES)
#: Roles a non-operational task can be delegated to with one keystroke.
DELEGATE_ROLES = (Role.CASPO, Role.SAO, Role.BUSINESS_MANAGER)


class TeamKind(StrEnum):
    """What a team does: manage sentences, or serve the courts (reports on the day, no cases held).

    The span of control differs (1:10 FTE in sentence management, 1:12 in courts [000, 002]), and
    court teams do not manage cases [000 §3.2]. A team nobody described is sentence management."""

    SENTENCE_MANAGEMENT = "sentence_management"
    COURT = "court"

    @property
    def label(self) -> str:
        return {"sentence_management": "sentence management", "court": "court"}[self.value]


class RoSH(StrEnum):
    """Risk of serious harm, lowest first."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    VERY_HIGH = "VERY_HIGH"

    @property
    def rank(self) -> int:
        return list(RoSH).index(self)

    @property
    def label(self) -> str:
        return {"LOW": "Low", "MEDIUM": "Medium", "HIGH": "High", "VERY_HIGH": "Very high"}[self.value]

    @property
    def short(self) -> str:
        return {"LOW": "L", "MEDIUM": "M", "HIGH": "H", "VERY_HIGH": "VH"}[self.value]


class Likelihood(StrEnum):
    """Likelihood of reoffending, lowest first."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    VERY_HIGH = "VERY_HIGH"


class SentenceType(StrEnum):
    COMMUNITY_ORDER = "COMMUNITY_ORDER"
    SUSPENDED_SENTENCE_ORDER = "SUSPENDED_SENTENCE_ORDER"
    LICENCE = "LICENCE"
    POST_SENTENCE_SUPERVISION = "POST_SENTENCE_SUPERVISION"
    #: Serving the custodial part of a sentence (parole reports are written here) [000 §3.3].
    CUSTODY = "CUSTODY"
    #: A defendant not yet sentenced: a court case whose ``sentence_start`` is the first hearing
    #: and whose sentence is still to come [000 §3.2]. Court teams write PSRs on such cases.
    PRE_SENTENCE = "PRE_SENTENCE"

    @property
    def label(self) -> str:
        return SENTENCE_LABELS[self.value]


SENTENCE_LABELS = {
    "COMMUNITY_ORDER": "Community order",
    "SUSPENDED_SENTENCE_ORDER": "Suspended sentence order",
    "LICENCE": "Licence",
    "POST_SENTENCE_SUPERVISION": "Post-sentence supervision",
    "CUSTODY": "Custody",
    "PRE_SENTENCE": "Not yet sentenced",
}


def sentence_span(value: str | None, start: str, end: str | None = None) -> str:
    """A sentence with its dates in words: "Licence from 01/08/2026 to 01/08/2027", or for a defendant
    not yet sentenced "Not yet sentenced (at court since 23/11/2026)". ``start``/``end`` are ISO dates."""

    def uk(iso: str) -> str:
        return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}" if len(iso) >= 10 else iso

    if value == SentenceType.PRE_SENTENCE.value:
        return f"{SENTENCE_LABELS[value]} (at court since {uk(start)})"
    return f"{sentence_label(value)} from {uk(start)}" + (f" to {uk(end)}" if end else "")


def sentence_label(value: str | None) -> str:
    """A stored sentence type in words ("Not yet sentenced" for a defendant before sentence);
    an unknown value shown as it is, underscores as spaces."""
    return SENTENCE_LABELS.get(value or "", (value or "").replace("_", " ").capitalize())


#: Registrations (nDelius flags) the app knows by name. nDelius codes stalking "SPO"; a bare "SPO"
#: would be read as the role, so stalking is stored as STAL.
FLAG_DESCRIPTIONS = {
    "ADVP": "Domestic abuse perpetrator",
    "RCPR": "Child protection",
    "RCCO": "Child concerns",
    "RMDO": "Mental health issues",
    "ALSH": "Risk of self-harm",
    "INLL": "Lifer",
    "RTAO": "Terrorism Act offender",
    "STAL": "Stalking",
    "MAPP": "MAPPA",
}

#: The registration that marks a life sentence (life licence): a case with it is a lifer [004].
LIFER_FLAG = "INLL"
#: The MAPPA registration; its next review date drives the level 1 reviews [000, 001].
MAPPA_FLAG = "MAPP"

#: MAPPA categories: 1 registered sexual offenders, 2 violent offenders, 3 other dangerous
#: offenders, 4 terrorist or terrorist-risk offenders (MAPPA guidance; domain.md).
MAPPA_CATEGORIES = {
    1: "registered sexual offender",
    2: "violent offender",
    3: "other dangerous offender",
    4: "terrorist or terrorist-risk offender",
}


def mappa_problem(category: int | None, level: int | None) -> str | None:
    """What is wrong with a MAPPA category and level together, or None.

    Category 3 (other dangerous offenders) exists only at levels 2 and 3: a person is category 3
    because they need active multi-agency management, so "category 3, level 1" (or category 3 with
    no level) is not a real registration and is refused at entry and import [domain.md "MAPPA"].
    """
    if level is not None and category is None:
        return "a MAPPA level needs a MAPPA category"
    if category == 3 and level not in (2, 3):
        shown = f"level {level}" if level is not None else "no level"
        return (
            f"MAPPA category 3 (other dangerous offender) is managed only at level 2 or 3, not {shown}: "
            "set level 2 or 3, or the category the person is registered under"
        )
    return None


class ItemKind(StrEnum):
    """The kinds of work in the SPO's one queue, in their display order."""

    ALERT = "alert"
    SBAR = "sbar"
    TOUCH_POINT = "touch_point"
    COUNTERSIGN = "countersign"
    TASK = "task"
    ACTION = "action"
    SUPERVISION = "supervision"
    #: An oversight entry a CASPO made in the SPO's name, waiting for the SPO to confirm or correct it.
    CONFIRM = "confirm"

    @property
    def label(self) -> str:
        return ITEM_KIND_LABELS[self]


ITEM_KIND_LABELS = {
    ItemKind.ALERT: "Alert",
    ItemKind.SBAR: "SBAR",
    ItemKind.TOUCH_POINT: "Touch point",
    ItemKind.COUNTERSIGN: "Countersign",
    ItemKind.TASK: "Task",
    ItemKind.ACTION: "Action",
    ItemKind.SUPERVISION: "Supervision",
    ItemKind.CONFIRM: "Confirm",
}


class ItemStatus(StrEnum):
    """Where an item stands in the queue.

    ``open`` items are in the queue; ``waiting`` items wait on someone else (more information
    asked of the practitioner, an SBAR escalated, work returned for rework, a task delegated) and
    are listed in the Waiting view instead; ``closed`` items are done. (An open item snoozed to a
    later day is in the Snoozed view until that day.)
    """

    OPEN = "open"
    WAITING = "waiting"
    CLOSED = "closed"


class SbarUrgency(StrEnum):
    """The practitioner's own view of how soon the SPO is needed."""

    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"


class SbarState(StrEnum):
    RAISED = "raised"
    AWAITING_INFO = "awaiting_info"
    BOOKED = "booked"
    DECIDED = "decided"
    ESCALATED = "escalated"


class CountersignKind(StrEnum):
    OASYS = "OASYS"
    PAROLE_REPORT = "PAROLE_REPORT"
    PSR = "PSR"
    DANGEROUSNESS = "DANGEROUSNESS"
    HVRA = "HVRA"

    @property
    def label(self) -> str:
        return {
            "OASYS": "OASys assessment",
            "PAROLE_REPORT": "Parole report",
            "PSR": "PSR gatekeeping",
            "DANGEROUSNESS": "Dangerousness assessment",
            "HVRA": "Home-visit risk assessment",
        }[self.value]


class CountersignState(StrEnum):
    """Countersigning states as the national assessment services name them."""

    AWAITING_COUNTERSIGN = "AWAITING_COUNTERSIGN"
    COUNTERSIGNED = "COUNTERSIGNED"
    REJECTED = "REJECTED"
    AWAITING_DOUBLE_COUNTERSIGN = "AWAITING_DOUBLE_COUNTERSIGN"
    DOUBLE_COUNTERSIGNED = "DOUBLE_COUNTERSIGNED"
    #: PSR gatekeeping has its own words: it is not countersigning [000 §3.2].
    AWAITING_GATEKEEP = "AWAITING_GATEKEEP"
    GATEKEPT = "GATEKEPT"
    RETURNED_TO_AUTHOR = "RETURNED_TO_AUTHOR"
    #: An approved PO's OASys: no countersignature needed [000 §3.3] (kept as a footprint).
    NOT_REQUIRED = "NOT_REQUIRED"

    @property
    def label(self) -> str:
        """The state in the SPO's words. The stored values stay the national systems' spelling
        (``REJECTED`` is what OASys calls a return), so exports and old records keep working."""
        return {
            "AWAITING_COUNTERSIGN": "awaiting countersignature",
            "COUNTERSIGNED": "signed off",
            "REJECTED": "returned for rework",
            "AWAITING_DOUBLE_COUNTERSIGN": "awaiting a second countersignature",
            "DOUBLE_COUNTERSIGNED": "signed off (second countersignature)",
            "AWAITING_GATEKEEP": "awaiting gatekeeping",
            "GATEKEPT": "gatekept — ready for court",
            "RETURNED_TO_AUTHOR": "returned to the author with changes",
            "NOT_REQUIRED": "no countersignature needed (approved PO)",
        }[self.value]


def closed_note_label(note: str | None) -> str:
    """A stored closing note as the screen shows it: a countersign state it starts with (``REJECTED:
    …``, as notes were written before #12) in the SPO's words (``Returned for rework: …``)."""
    text = note or ""
    head, sep, rest = text.partition(":")
    if sep and head in CountersignState.__members__:
        return f"{CountersignState(head).label.capitalize()}:{rest}"
    return text


#: Allowed countersigning transitions, old -> new.
COUNTERSIGN_TRANSITIONS = {
    CountersignState.AWAITING_COUNTERSIGN: {
        CountersignState.COUNTERSIGNED,
        CountersignState.REJECTED,
        CountersignState.AWAITING_DOUBLE_COUNTERSIGN,
    },
    CountersignState.AWAITING_DOUBLE_COUNTERSIGN: {
        CountersignState.DOUBLE_COUNTERSIGNED,
        CountersignState.REJECTED,
    },
    # Returned for rework: resubmitted by its author, or (back at its deadline without that) signed
    # off as it now stands or returned again.
    CountersignState.REJECTED: {
        CountersignState.AWAITING_COUNTERSIGN,
        CountersignState.COUNTERSIGNED,
        CountersignState.REJECTED,
        CountersignState.AWAITING_DOUBLE_COUNTERSIGN,
    },
    # Gatekeeping a PSR [000 §3.2]: ready for court, or back to the author with changes; a report
    # returned comes back when resubmitted, or is gatekept as it stands on the day.
    CountersignState.AWAITING_GATEKEEP: {CountersignState.GATEKEPT, CountersignState.RETURNED_TO_AUTHOR},
    CountersignState.RETURNED_TO_AUTHOR: {
        CountersignState.AWAITING_GATEKEEP,
        CountersignState.GATEKEPT,
        CountersignState.RETURNED_TO_AUTHOR,
    },
}


class AqaRating(StrEnum):
    """An AQA (assessment quality assurance) rating of one OASys assessment [000 §3.3]."""

    GOOD = "GOOD"
    REQUIRES_IMPROVEMENT = "REQUIRES_IMPROVEMENT"
    INADEQUATE = "INADEQUATE"

    @property
    def label(self) -> str:
        return {"GOOD": "Good", "REQUIRES_IMPROVEMENT": "Requires improvement", "INADEQUATE": "Inadequate"}[self.value]


class TouchPointReason(StrEnum):
    COMMENCEMENT = "commencement"
    QUARTERLY = "quarterly"
    RELEASE = "release"
    ROSH_RISE = "rosh_rise"
    MAPPA_RISE = "mappa_rise"
    TERMINATION = "termination"
    FLAG_REVIEW = "flag_review"
    MANUAL = "manual"
    # Custody to community [004 "minimum requirements for ... prison release and lifers"; 001].
    PRE_RELEASE = "pre_release"
    ROTL = "rotl"
    HANDOVER = "handover"
    LIFER = "lifer"
    LIFER_PANEL = "lifer_panel"
    VLO_CONTACT = "vlo_contact"
    MAPPA_L1_REVIEW = "mappa_l1_review"

    @property
    def label(self) -> str:
        return {
            "commencement": "First touch point after commencement",
            "quarterly": "Quarterly review (high/very high RoSH)",
            "release": "Release on licence",
            "rosh_rise": "RoSH has risen",
            "mappa_rise": "MAPPA level has risen",
            "termination": "Before termination",
            "flag_review": "Registration review due",
            "manual": "Touch point",
            "pre_release": "Before release from custody",
            "rotl": "Release on temporary licence (ROTL)",
            "handover": "OMiC handover: custody to community",
            "lifer": "Lifer review",
            "lifer_panel": "Lifer panel review",
            "vlo_contact": "Victim contact case: tell the VLO",
            "mappa_l1_review": "MAPPA level 1 review",
        }[self.value]


class AlertSource(StrEnum):
    ARREST = "arrest"
    CHARGE = "charge"
    CALL_OUT = "call_out"
    COURT = "court"
    SCREENING = "screening"
    RISK_CLASSIFICATION = "risk_classification"

    @property
    def label(self) -> str:
        return {
            "arrest": "Police arrest",
            "charge": "Charged",
            "call_out": "Police call-out",
            "court": "Further court appearance",
            "screening": "Screening shows raised risk",
            "risk_classification": "Risk classification needs management",
        }[self.value]


class TaskCategory(StrEnum):
    BUILDINGS = "buildings"
    HEALTH_SAFETY = "health_safety"
    HR_SICKNESS = "hr_sickness"
    HR_PERFORMANCE = "hr_performance"
    HR_LEAVE = "hr_leave"
    IT = "it"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "buildings": "Buildings and facilities",
            "health_safety": "Health and safety",
            "hr_sickness": "HR: sickness absence",
            "hr_performance": "HR: performance / pay progression",
            "hr_leave": "HR: leave request",
            "it": "IT order",
            "other": "Other",
        }[self.value]


#: Categories with a facilities target counted in working days (see rules.toml).
FACILITIES_CATEGORIES = frozenset({TaskCategory.BUILDINGS, TaskCategory.HEALTH_SAFETY})


class SupervisionKind(StrEnum):
    ONE_TO_ONE = "one_to_one"
    RPSS = "rpss"

    @property
    def label(self) -> str:
        return {"one_to_one": "One-to-one supervision", "rpss": "Reflective practice (RPSS)"}[self.value]


# --- Oversight entries -------------------------------------------------------------------------


@dataclass(frozen=True)
class OversightTypeInfo:
    label: str
    ndelius_code: str
    ndelius_label: str
    outcomes: tuple[str, ...]


class OversightType(StrEnum):
    """The small fixed set of oversight entry types, each mapped to an nDelius contact type."""

    MANAGEMENT_OVERSIGHT = "management_oversight"
    HOME_VISIT = "home_visit"
    RECALL = "recall"

    @property
    def info(self) -> OversightTypeInfo:
        return OVERSIGHT_TYPES[self]

    @property
    def label(self) -> str:
        return self.info.label


class OversightOutcome(StrEnum):
    """Outcomes of an oversight entry. Recall decisions map to nDelius outcomes MO10/MO11."""

    AGREED = "agreed"
    GUIDANCE_GIVEN = "guidance_given"
    ACTIONS_SET = "actions_set"
    ESCALATED = "escalated"
    MORE_INFO = "more_info"
    SIGNED_OFF = "signed_off"
    RETURNED = "returned"
    WAIVED = "waived"
    RECALL = "recall"
    NO_RECALL = "no_recall"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]

    @property
    def ndelius_code(self) -> str | None:
        return {"recall": "MO10", "no_recall": "MO11"}.get(self.value)


OUTCOME_LABELS = {
    OversightOutcome.AGREED: "Plan agreed",
    OversightOutcome.GUIDANCE_GIVEN: "Guidance given",
    OversightOutcome.ACTIONS_SET: "Actions set",
    OversightOutcome.ESCALATED: "Escalated",
    OversightOutcome.MORE_INFO: "More information needed",
    OversightOutcome.SIGNED_OFF: "Signed off",
    OversightOutcome.RETURNED: "Returned with guidance",
    OversightOutcome.WAIVED: "Touch point waived",
    OversightOutcome.RECALL: "Decision to recall",
    OversightOutcome.NO_RECALL: "Decision not to recall",
    OversightOutcome.WITHDRAWN: "Withdrawn (correction)",
}

_GENERAL_OUTCOMES = (
    "agreed",
    "guidance_given",
    "actions_set",
    "escalated",
    "more_info",
    "signed_off",
    "returned",
    "waived",
    "withdrawn",
)

OVERSIGHT_TYPES = {
    OversightType.MANAGEMENT_OVERSIGHT: OversightTypeInfo(
        "Management oversight", "MO1", "Management Oversight", _GENERAL_OUTCOMES
    ),
    OversightType.HOME_VISIT: OversightTypeInfo(
        "Home-visit risk assessment", "MO8", "Management Oversight - HVRA", _GENERAL_OUTCOMES
    ),
    OversightType.RECALL: OversightTypeInfo(
        "Recall decision", "MO5", "Management Oversight - Recall", ("recall", "no_recall", "withdrawn")
    ),
}


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum_cls: type[E], value: object, field: str) -> E:
    """Return ``enum_cls(value)`` accepting any case and spaces for underscores, or raise."""
    text = str(value if value is not None else "").strip()
    for member in enum_cls:
        if text.lower().replace(" ", "_").replace("-", "_") in (
            member.value.lower().replace(" ", "_"),
            member.name.lower(),
        ):
            return member
    allowed = ", ".join(m.value for m in enum_cls)
    raise ValidationError(f"unknown {field.replace('_', ' ')} '{text}': expected one of {allowed}", field=field)
