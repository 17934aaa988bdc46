"""The demo database: a believable team (or a whole PDU), the same every time for the same seed.

``generate_demo`` fills an empty, migrated database in one transaction with staff, cases, their
registrations, a history of oversight entries and supervision, and the open work an SPO finds on a
Monday morning: SBARs, a countersigning backlog, touch points, two immediate-risk alerts,
non-operational tasks and agreed actions. Everything is derived from ``random.Random(seed)`` (and
the people's names from a second generator seeded from the same seed, drawing on the shipped list
``data/demo_names.toml``), and every date is relative to ``today``: the same seed and the same day
give the same rows, ids included, on every install.

The calendar touch points and supervision that the rules make due are generated with the rule
functions themselves (and the same stable keys), so ``refresh_due_work`` finds nothing left to add.

``write_demo`` is what the CLI calls: it refuses to overwrite a database holding real work, replaces
an earlier demo, generates, and refreshes the due work.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from spo_tui.config import data_dir
from spo_tui.domain.dates import add_working_days, from_iso, is_working_day
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.rules import (
    CaseFacts,
    PractitionerFacts,
    Rules,
    calendar_touch_points,
    countersign_due,
    supervision_due,
    task_due,
)
from spo_tui.domain.vocab import (
    FLAG_DESCRIPTIONS,
    AlertSource,
    CountersignKind,
    CountersignState,
    RoSH,
    SbarState,
    SentenceType,
    TaskCategory,
    TouchPointReason,
)
from spo_tui.services.context import LONDON
from spo_tui.store import demo_writes, writes
from spo_tui.store.db import get_meta, open_db, set_meta

__all__ = ["DemoSummary", "SCALES", "generate_demo", "write_demo"]

# --- Scales --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    teams: int
    practitioners_per_team: tuple[int, int]
    cases: int
    #: Oversight history reaches back this far (days).
    history_days: int
    #: Total oversight entries wanted (None: what the case mix gives, about two per case a year).
    oversight_target: int | None
    #: Open items wanted in all (None: a team's day, counted kind by kind).
    open_target: int | None


SCALES = {
    "team": _Scale(
        teams=1, practitioners_per_team=(12, 15), cases=350, history_days=365, oversight_target=None, open_target=None
    ),
    "pdu": _Scale(
        teams=10,
        practitioners_per_team=(12, 14),
        cases=5000,
        history_days=5 * 365,
        oversight_target=150_000,
        open_target=15_000,
    ),
}


@dataclass(frozen=True)
class DemoSummary:
    """What a demo database holds: counts for a one-line report."""

    seed: int
    scale: str
    staff: int
    practitioners: int
    cases: int
    case_flags: int
    oversight_entries: int
    open_items: int
    open_by_kind: dict[str, int] = field(default_factory=dict)
    absent_today: int = 0

    def __str__(self) -> str:
        kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(self.open_by_kind.items()))
        return (
            f"{self.staff} staff ({self.practitioners} practitioners, {self.absent_today} absent today), "
            f"{self.cases} cases, {self.case_flags} registrations, {self.oversight_entries} oversight entries, "
            f"{self.open_items} open items ({kinds})"
        )


def summarise(db: sqlite_utils.Database, seed: int, scale: str, today: date) -> DemoSummary:
    """Count what the database holds (after generation, or after the refresh that follows it)."""
    counts = demo_writes.demo_counts(db, today)
    return DemoSummary(seed=seed, scale=scale, open_items=sum(counts["open_by_kind"].values()), **counts)


# --- Vocabulary for the made-up records ----------------------------------------------------------

_ROSH_SHARE = (("LOW", 30), ("MEDIUM", 45), ("HIGH", 22), ("VERY_HIGH", 3))
_LIKELIHOOD = {
    "LOW": (45, 35, 17, 3),
    "MEDIUM": (25, 40, 28, 7),
    "HIGH": (15, 35, 35, 15),
    "VERY_HIGH": (10, 30, 40, 20),
}
_LEVELS = ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")
_RANK = {level: n for n, level in enumerate(_LEVELS)}
#: Chance a case at this RoSH is MAPPA-eligible (about 35% overall), and its category weights 1, 2, 3.
_MAPPA = {
    "LOW": (0.14, (1, 0, 0)),
    "MEDIUM": (0.31, (55, 45, 0)),
    "HIGH": (0.5, (40, 50, 10)),
    "VERY_HIGH": (0.9, (30, 50, 20)),
}
_SENTENCE_SHARE = (
    ("COMMUNITY_ORDER", 40),
    ("SUSPENDED_SENTENCE_ORDER", 22),
    ("LICENCE", 28),
    ("POST_SENTENCE_SUPERVISION", 10),
)
#: Lengths in months, with weights.
_LENGTHS = {
    "COMMUNITY_ORDER": ((6, 1), (12, 5), (18, 3), (24, 4), (36, 1)),
    "SUSPENDED_SENTENCE_ORDER": ((12, 3), (18, 3), (24, 4)),
    "LICENCE": ((6, 2), (9, 2), (12, 3), (18, 3), (24, 3), (36, 2), (48, 1), (60, 1)),
    "POST_SENTENCE_SUPERVISION": ((12, 1),),
}
_ON_SENTENCE = {
    "COMMUNITY_ORDER": "subject to a community order",
    "SUSPENDED_SENTENCE_ORDER": "subject to a suspended sentence order",
    "LICENCE": "on licence",
    "POST_SENTENCE_SUPERVISION": "on post-sentence supervision",
}
#: Registration code, description, base chance.
#: How often each registration is on a case.
_FLAGS = tuple(
    (code, FLAG_DESCRIPTIONS[code], chance)
    for code, chance in (
        ("ADVP", 0.30),
        ("RCPR", 0.06),
        ("RCCO", 0.10),
        ("RMDO", 0.20),
        ("ALSH", 0.08),
        ("STAL", 0.03),
        ("RTAO", 0.004),
    )
)
#: Caseload weight of each practitioner role per RoSH level (times FTE).
_CASELOAD = {
    "PO": {"LOW": 0.6, "MEDIUM": 1.0, "HIGH": 1.6, "VERY_HIGH": 2.0},
    "NQO": {"LOW": 0.8, "MEDIUM": 1.2, "HIGH": 0.8, "VERY_HIGH": 0.0},
    "PQiP": {"LOW": 0.5, "MEDIUM": 0.4, "HIGH": 0.08, "VERY_HIGH": 0.0},
    "PSO": {"LOW": 1.6, "MEDIUM": 1.1, "HIGH": 0.0, "VERY_HIGH": 0.0},
}
#: Days between routine oversight entries on a case, by RoSH.
_INTERVAL = {"LOW": (240, 540), "MEDIUM": (150, 330), "HIGH": (60, 89), "VERY_HIGH": (42, 80)}

_CONCERNS = (
    "a missed appointment",
    "the loss of accommodation",
    "a new relationship",
    "a positive test for cocaine",
    "a reported alcohol relapse",
    "a change of address at short notice",
    "concerns from children's services",
    "low mood and thoughts of self-harm",
    "contact with a known associate",
    "non-attendance at unpaid work",
    "an exclusion zone alert from electronic monitoring",
    "a request to travel abroad",
    "debt and rent arrears",
    "a police intelligence report",
    "a verbal altercation in reception",
)
_PROGRESS = (
    "engaging well with Building Better Relationships",
    "completed the Thinking Skills Programme",
    "started full-time work",
    "settled in CAS3 accommodation",
    "negative drug tests for three months",
    "attending every appointment",
    "stable at the home address",
    "re-engaged with the GP",
    "completed the unpaid work hours",
    "attending the dependency and recovery service",
)
_FACTORS = (
    "domestic abuse and alcohol misuse",
    "thinking and behaviour, accommodation",
    "attitudes and relationships",
    "lifestyle and associates",
    "emotional wellbeing",
    "drug misuse and finance",
    "employment and education",
)
_EVENTS = (
    "a change in circumstances",
    "new information from police",
    "release on licence",
    "transfer in from another PDU",
    "a sentence plan review",
    "a change of address",
    "an arrest with no further action",
)
_DISCUSSED = (
    "Quarterly review with {pp}. {mr} reporting as required; {progress}.",
    "{pp} raised {concern}. Reviewed the RMP and recent contacts.",
    "Review of OASys following {event}. Key risk factors: {factors}.",
    "Discussed at check-in: {concern}.",
    "Case discussed in supervision with {pp}: compliance, {factors} and protective factors reviewed.",
    "Police information received about {mr} regarding {concern}; discussed with {pp}.",
    "Review with {pp}: {mr} {progress}; no new concerns from partner agencies.",
)
_DECISIONS = {
    "agreed": (
        "RMP remains appropriate. Continue fortnightly reporting; review at the next touch point.",
        "Current plan agreed. No change to RoSH. Next review in three months.",
        "Agreed with the PP's assessment; rationale recorded on the case record.",
        "Plan agreed: reduce reporting to monthly given sustained progress.",
    ),
    "guidance_given": (
        "Guidance: complete DA and safeguarding checks before the next appointment and update the RMP.",
        "Guidance: record a defensible decision on why enforcement is not being taken at this point.",
        "Guidance: consider a home visit with police given the new information; review RoSH in OASys.",
        "Guidance: refer to CRS for accommodation and dependency services; review in four weeks.",
        "Guidance: share information with children's services and ask to be invited to the next meeting.",
    ),
    "actions_set": (
        "Actions agreed with the PP; review when complete.",
        "Actions set to address the gaps in the RMP; follow up at the next touch point.",
    ),
    "escalated": (
        "Escalated to the PDU head: risk may not be manageable in the community.",
        "Escalated to the MAPPA coordinator for consideration at level 2.",
    ),
    "more_info": (
        "More information needed: police call-out history and children's services checks before a decision.",
    ),
    "signed_off": ("OASys assessment countersigned: analysis of risk is sound and the RMP is proportionate.",),
    "returned": (
        "OASys returned: the RoSH summary does not explain the risk to children; add the DA history and update the RMP.",
        "OASys returned: sentence plan objectives are not linked to the risk factors identified.",
    ),
    "waived": ("Touch point waived: case discussed at the MAPPA meeting with equivalent oversight.",),
}
_OUTCOME_SHARE = (
    ("agreed", 30),
    ("guidance_given", 33),
    ("actions_set", 14),
    ("signed_off", 10),
    ("more_info", 4),
    ("returned", 5),
    ("escalated", 2),
    ("waived", 2),
)
_ACTIONS = (
    "Complete DA enquiry with police and children's services",
    "Update the RMP to reflect the new address",
    "Refer to CAS3 for accommodation",
    "Arrange a joint home visit with police",
    "Review OASys following the change in circumstances",
    "Make a MAPPA referral and send it to the coordinator",
    "Share the licence conditions with the victim liaison officer",
    "Book a three-way meeting with the approved premises key worker",
    "Request a drug test at the next appointment",
    "Refer to the GP and the mental health liaison service",
)
_OUTCOMES = tuple(o for o, _ in _OUTCOME_SHARE)
_OUTCOME_CUM = tuple(itertools.accumulate(w for _, w in _OUTCOME_SHARE))
_MINUTES = (5, 10, 10, 15, 15, 20, 20, 30, 45)

# SBARs: the four parts as a practitioner writes them. Placeholders filled from the case.
_SBARS: tuple[dict[str, Any], ...] = (
    {
        "needs": "ADVP",
        "urgency": "soon",
        "day": 1,
        "title": "New relationship disclosed: DA and safeguarding checks needed",
        "situation": "{mr} told me at today's appointment that {he} has started a relationship with a woman who has two children aged 3 and 6, and that {he} stays at her address most nights.",
        "background": "{mr} is {on_sentence} for assault on a former partner. ADVP registration; RoSH {rosh}. Police recorded three domestic call-outs to {his} previous address before sentence.",
        "assessment": "I think the risk to the new partner and the children has risen. {He} was open about the relationship, which is positive, but has not told her about {his} offending. No call-outs at the new address so far.",
        "recommendation": "Request police DA and children's services checks today, consider a Clare's Law disclosure, and review the RMP and RoSH in OASys. I'd like 10 minutes in the protected hour.",
    },
    {
        "needs": "COMMUNITY",
        "urgency": "routine",
        "day": 3,
        "title": "Two missed appointments: warning or breach?",
        "situation": "{mr} has missed two appointments in a row and has not answered texts or calls.",
        "background": "{He} is {on_sentence} with a rehabilitation activity requirement. Compliance was good for the first four months. {He} told reception last week that {he} had been asked to leave {his} sister's flat.",
        "assessment": "The absences look linked to losing {his} accommodation rather than to a rise in risk. No new police information. One absence has already been judged unacceptable.",
        "recommendation": "Issue a final warning rather than start breach, make a home visit this week and refer to CRS accommodation. Please confirm you agree with not starting breach proceedings.",
    },
    {
        "needs": "LICENCE",
        "high": True,
        "urgency": "urgent",
        "day": 0,
        "title": "Late back to approved premises: recall decision needed",
        "situation": "{mr} returned to the approved premises at 01:30 this morning, four and a half hours after curfew, smelling of alcohol.",
        "background": "{He} was released on licence {since} for a violent offence. RoSH {rosh}; {mappa}. Alcohol is a key risk factor. This is {his} second curfew breach in a month.",
        "assessment": "Risk is increasing: alcohol use, non-compliance and a report that {he} was seen near the victim's area. The AP manager is concerned. I do not think the risk is manageable in the community for much longer.",
        "recommendation": "Consider recall today. If you agree I will complete the recall report this morning; otherwise an alcohol monitoring condition and a three-way meeting with AP staff.",
    },
    {
        "needs": "",
        "urgency": "soon",
        "day": 1,
        "title": "Low mood and thoughts of suicide disclosed",
        "situation": "{mr} said at today's appointment that {he} has had thoughts of ending {his} life since losing {his} job two weeks ago.",
        "background": "{He} is {on_sentence}. History of self-harm and depression; not currently seeing the GP. Lives alone.",
        "assessment": "No plan or intent disclosed and {he} agreed a safety plan with me, but protective factors have fallen away. Risk to self has risen; risk to others is unchanged.",
        "recommendation": "Refer to the GP and the crisis team with consent, weekly contact for a month, and update the self-harm section of OASys. For your awareness and agreement.",
    },
    {
        "needs": "LICENCE",
        "high": True,
        "urgency": "urgent",
        "day": 0,
        "title": "Victim reports possible exclusion zone breach",
        "situation": "The victim liaison officer phoned this morning: the victim reports seeing {mr} near her workplace, inside {his} exclusion zone, yesterday afternoon.",
        "background": "{He} is {on_sentence} for harassment of a former partner, with an exclusion zone and a no-contact condition, and a GPS tag.",
        "assessment": "I have asked EMS for yesterday's GPS trail; not received yet. If it is confirmed this is a serious breach and the risk to the victim is high.",
        "recommendation": "Decide on recall once the GPS data is in (expected by midday); meanwhile inform police and agree safety planning with the VLO. Can we speak before 12?",
    },
    {
        "needs": "",
        "urgency": "routine",
        "day": 5,
        "title": "Asks to move to another area to care for a parent",
        "situation": "{mr} has asked to move out of the area to live with {his} mother, who is unwell.",
        "background": "{He} is {on_sentence}, RoSH {rosh}. Stable address here for a year and in work.",
        "assessment": "No victim or exclusion issues at the proposed address. The move would interrupt the programme (six sessions left) but family support is a protective factor.",
        "recommendation": "Agree the move in principle and start the transfer request once the programme ends in five weeks.",
    },
    {
        "needs": "",
        "urgency": "soon",
        "day": 2,
        "title": "Children's services strategy meeting tomorrow",
        "situation": "Children's services have invited us to a strategy meeting tomorrow about {mr}'s contact with {his} ex-partner's children.",
        "background": "{He} is {on_sentence}; RoSH {rosh}. Contact with the children was not part of the plan agreed at sentence.",
        "assessment": "I don't yet know how often {he} has seen the children. Risk to children may have been underestimated in the last OASys.",
        "recommendation": "I attend the meeting, share our risk information, and review OASys afterwards. Please confirm what I can share.",
    },
)

_ALERTS = (
    (
        "call_out",
        "ADVP",
        "Domestic abuse call-out to partner's address overnight\n"
        "Police attended {his} partner's address at 23:40 last night after a neighbour reported shouting. {mr} had left "
        "before officers arrived. The partner declined to make a statement; DASH completed as high risk and a MARAC "
        "referral made by police. Reported by the police domestic abuse unit this morning.",
    ),
    (
        "arrest",
        "LICENCE",
        "Arrested on suspicion of assault, in custody\n"
        "{mr} was arrested at 02:10 this morning after a fight outside a pub in the town centre and is held at the custody "
        "suite awaiting interview. The custody sergeant told the duty officer. {He} is {on_sentence}.",
    ),
    (
        "charge",
        "",
        "Charged with possession of a bladed article\n"
        "Police report {mr} was charged last night and bailed to the magistrates' court next week.",
    ),
    (
        "court",
        "",
        "Listed at court tomorrow for a new offence\n"
        "The court duty team report {mr} is listed tomorrow for theft; a report may be requested.",
    ),
    (
        "screening",
        "",
        "Screening shows raised risk to children\n"
        "Safeguarding screening returned new children's services involvement at {his} address.",
    ),
    (
        "risk_classification",
        "",
        "MAPPA level 2 referral may be needed\n"
        "New police information meets the threshold to consider active multi-agency management for {mr}.",
    ),
)

# Tasks: category, title, details, who raised it (a role; "pp" for a practitioner), working days ago.
_TASKS = (
    (
        "buildings",
        "Heating broken in interview rooms 2-4",
        "Reported to the facilities helpdesk (ref FM-{ref}); rooms below 16°C, interviews moved to the ground floor.",
        "pp",
        12,
    ),
    (
        "health_safety",
        "Health and safety report: verbal abuse in reception",
        "Incident form completed by {who}; review the reception screen and lone-working arrangements.",
        "pp",
        3,
    ),
    (
        "hr_sickness",
        "Return-to-work interview: {absent}",
        "Back from five days' sickness absence; complete the return-to-work form and check the trigger points.",
        "caspo",
        2,
    ),
    ("hr_leave", "Annual leave request: {who}, {leave}", "Four days; cover checked with the CASPO.", "pp", 1),
    ("hr_leave", "Annual leave request: {who}, {leave}", "Two days; overlaps one other team member.", "pp", 0),
    (
        "it",
        "IT order: replacement laptop for {who}",
        "Screen cracked; order through the IT portal, needs cost-centre approval.",
        "pp",
        6,
    ),
    (
        "hr_performance",
        "Pay progression meeting: {who}",
        "Annual review due this month; evidence folder shared.",
        "caspo",
        4,
    ),
    (
        "buildings",
        "Panic alarm in interview room 3 failed its weekly test",
        "Logged with facilities (ref FM-{ref}); room closed until fixed.",
        "sao",
        8,
    ),
    (
        "other",
        "Fire warden cover for the office next week",
        "Two of the three wardens are on leave; need a volunteer and the training booked.",
        "business manager",
        5,
    ),
    ("it", "Smartphone for new PQiP", "Starter next month needs a phone and nDelius access.", "sao", 9),
)

_MANUAL_TOUCH_POINTS = (
    ("Police intelligence: seen with co-defendant", -3),
    ("New information: moved in with partner; review RMP", 0),
    ("Review after exit from DA perpetrator programme", 4),
)


# --- The builder ---------------------------------------------------------------------------------

# Version 4, RFC 4122 variant: the bits uuid.UUID(int=..., version=4) clears and sets.
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID_SET = (0x8000 << 48) | (4 << 76)


def _apportion(n: int, shares: tuple[tuple[str, int], ...]) -> list[str]:
    """``n`` labels in the given proportions (largest remainders), unshuffled."""
    total = sum(w for _, w in shares)
    exact = [(label, n * w / total) for label, w in shares]
    counts = {label: int(x) for label, x in exact}
    rest = n - sum(counts.values())
    for label, _x in sorted(exact, key=lambda p: (-(p[1] - int(p[1])), p[0]))[:rest]:
        counts[label] += 1
    return [label for label, _ in shares for _ in range(counts[label])]


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Names:
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]


@functools.cache
def demo_names() -> _Names:
    """The shipped name list (``data/demo_names.toml``): first names by sex, and surnames."""
    with open(data_dir() / "demo_names.toml", "rb") as f:
        raw = tomllib.load(f)
    return _Names(female=tuple(raw["female"]), male=tuple(raw["male"]), surnames=tuple(raw["surnames"]))


class _Builder:
    def __init__(self, seed: int, scale: _Scale, today: date, now_iso: str, rules: Rules) -> None:
        self.rng = random.Random(seed)
        # Names come from a generator of their own, so the name list can change without changing
        # anything else the seed gives (a str seed is hashed with SHA-512: the same on every install).
        self.name_rng = random.Random(f"spo-tui demo names {seed}")
        self.name_list = demo_names()
        self.spec = scale
        self.today = today
        self.rules = rules
        self.now_iso = now_iso
        now_local = from_iso(now_iso).astimezone(LONDON)
        self.now_minute = now_local.hour * 60 + now_local.minute if now_local.date() == today else 8 * 60 + 45
        self._offsets: dict[date, tuple[str, int]] = {}
        self.names: set[str] = set()
        self.rows: dict[str, list[dict[str, Any]]] = {
            t: []
            for t in (
                "staff",
                "absences",
                "cases",
                "case_flags",
                "items",
                "sbars",
                "touch_points",
                "countersigns",
                "alerts",
                "tasks",
                "supervision",
                "oversight_entries",
                "actions",
                "ndelius_batches",
                "ndelius_marks",
            )
        }
        self.staff_by_id: dict[str, dict[str, Any]] = {}
        self.teams: list[dict[str, Any]] = []
        self.cases: list[dict[str, Any]] = []
        self.case_by_crn: dict[str, dict[str, Any]] = {}
        self.flags_by_crn: dict[str, list[tuple[str, date | None]]] = {}
        self.entries_by_crn: dict[str, list[dict[str, Any]]] = {}
        self.absent_today: set[str] = set()
        self._pools: dict[tuple[str, bool], list[dict[str, Any]]] = {}

    # -- small helpers --

    def uid(self) -> str:
        """``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, written out for speed."""
        n = (self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def at(self, day: date, minute: int) -> str:
        """ISO UTC text for ``minute`` past local midnight on ``day`` in England and Wales."""
        cached = self._offsets.get(day)
        if cached is None:
            offset = datetime(day.year, day.month, day.day, 12, tzinfo=LONDON).utcoffset()
            assert offset is not None  # LONDON is a real zone
            cached = (day.isoformat(), int(offset.total_seconds() // 60))
            self._offsets[day] = cached
        utc_minute = minute - cached[1]
        if 0 <= utc_minute < 24 * 60:
            return f"{cached[0]}T{utc_minute // 60:02d}:{utc_minute % 60:02d}:00Z"
        moment = datetime(day.year, day.month, day.day) + timedelta(minutes=utc_minute)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def office_minute(self) -> int:
        return 8 * 60 + 30 + int(self.rng.random() * 541)

    def earlier_today(self, lo: int, hi: int) -> int:
        """A minute of today between ``hi`` and ``lo`` minutes before now (never before midnight)."""
        return max(0, self.now_minute - self.rng.randint(lo, hi))

    def stamp(self, day: date) -> str:
        """An office-hours timestamp on ``day``, or earlier this morning when ``day`` is today."""
        if day >= self.today:
            return self.at(self.today, self.earlier_today(5, 40))
        return self.at(day, self.office_minute())

    def working_day(self, day: date, lo: date, hi: date) -> date | None:
        """A working day near ``day`` (back first, then forward) within ``lo``..``hi``."""
        d = min(day, hi)
        while d >= lo:
            if is_working_day(d):
                return d
            d -= timedelta(days=1)
        d = day + timedelta(days=1)
        while d <= hi:
            if is_working_day(d):
                return d
            d += timedelta(days=1)
        return None

    def working_days_ago(self, n: int) -> date:
        return add_working_days(self.today, -n) if n else self.today

    def person(self, female: bool) -> tuple[str, str]:
        names, pick = self.name_list, self.name_rng.choice
        first = pick(names.female) if female else pick(names.male)
        return first, pick(names.surnames)

    def staff_name(self) -> tuple[str, str]:
        while True:
            first, last = self.person(self.rng.random() < 0.62)
            if f"{first} {last}" not in self.names:
                self.names.add(f"{first} {last}")
                return first, last

    # -- people --

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
        self.team_of: dict[str, dict[str, Any]] = {}
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

    # -- cases --

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
        score = _RANK[c["rosh"]] * 2 + _RANK[c["likelihood"]]  # 0..9
        if c["start"] > self.today - timedelta(days=365):
            return "ABCDEFG"[6 - round(score * 6 / 9)]  # the newer model: one letter, A most serious
        return f"{'DCBA'[_RANK[c['rosh']]]}{_RANK[c['likelihood']]}"

    def build_flags(self) -> None:
        rng, today = self.rng, self.today
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
                self.flags_by_crn[c["crn"]].append((code, review))
                self.rows["case_flags"].append(
                    {
                        "id": self.uid(),
                        "crn": c["crn"],
                        "code": code,
                        "description": description,
                        "review_date": review.isoformat(),
                    }
                )

    # -- oversight history --

    def words(self, c: dict[str, Any]) -> dict[str, str]:
        he = "he" if c["male"] else "she"
        mappa = (
            f"MAPPA category {c['mappa_category']} level {c['mappa_level']}"
            if c["mappa_category"]
            else "not MAPPA-eligible"
        )
        since = (self.today - c["start"]).days
        return {
            "mr": c["mr"],
            "name": c["name"],
            "he": he,
            "He": he.capitalize(),
            "his": "his" if c["male"] else "her",
            "him": "him" if c["male"] else "her",
            "pp": c["pp"]["name"],
            "on_sentence": _ON_SENTENCE[c["sentence_type"]],
            "rosh": RoSH(c["rosh"]).label.lower(),
            "mappa": mappa,
            "since": f"{since // 7} weeks ago" if since < 120 else f"{round(since / 30.4)} months ago",
        }

    def one(self, seq: tuple | list) -> Any:
        """``rng.choice`` for the hot paths: one float per pick (still fully determined by the seed)."""
        return seq[int(self.rng.random() * len(seq))]

    def entry(
        self,
        c: dict[str, Any],
        day: date,
        *,
        outcome: str | None = None,
        type_: str = "management_oversight",
        discussed: str | None = None,
        decision: str | None = None,
        item_id: str | None = None,
    ) -> dict[str, Any]:
        one, rnd = self.one, self.rng.random
        team = self.teams[c["team"]]
        if outcome is None:
            outcome = _OUTCOMES[bisect.bisect(_OUTCOME_CUM, rnd() * _OUTCOME_CUM[-1])]
        if discussed is None:
            discussed = one(_DISCUSSED).format(
                pp=c["pp"]["name"],
                mr=c["mr"],
                progress=one(_PROGRESS),
                concern=one(_CONCERNS),
                event=one(_EVENTS),
                factors=one(_FACTORS),
            )
        if decision is None:
            decision = one(_DECISIONS[outcome])
        spo = team["spo"]["id"]
        row = {
            "id": self.uid(),
            "crn": c["crn"],
            "item_id": item_id,
            "type": type_,
            "outcome": outcome,
            "discussed": discussed,
            "decision": decision,
            "sensitive": int(rnd() < 0.02),
            "decided_by": spo,
            "entered_by": team["caspo"]["id"] if rnd() < 0.2 else spo,
            "created_at": self.stamp(day),
            "minutes": one(_MINUTES),
            "supersedes_id": None,
        }
        self.entries_by_crn.setdefault(c["crn"], []).append(row)
        return row

    def _special_entry(self, c: dict[str, Any], day: date) -> dict[str, Any]:
        """An occasional home-visit risk assessment or recall decision instead of routine oversight."""
        rng, w = self.rng, self.words(c)
        roll = rng.random()
        if roll < 0.06 or (roll < 0.12 and any(f in c["flags"] for f in ("ADVP", "RCPR", "RCCO"))):
            return self.entry(
                c,
                day,
                type_="home_visit",
                outcome=rng.choice(("agreed", "guidance_given")),
                discussed=f"Home-visit risk assessment by {w['pp']} for a visit to {w['mr']}'s address.",
                decision=rng.choice(
                    (
                        "Visit agreed: two staff, police check of the address beforehand, dog on the premises noted.",
                        "Visit agreed with a colleague present; check in by phone at the start and end.",
                        "Visit to go ahead jointly with police given the DA history.",
                    )
                ),
            )
        if roll < 0.135 and c["sentence_type"] == "LICENCE":
            return self.entry(
                c,
                day,
                type_="recall",
                outcome="no_recall",
                discussed=f"Licence breach reported by {w['pp']}: {rng.choice(_CONCERNS)}.",
                decision="Decision not to recall: risk is manageable with an additional licence condition and weekly reporting.",
            )
        return self.entry(c, day)

    def build_history(self) -> None:
        rng, today, spec = self.rng, self.today, self.spec
        yesterday = today - timedelta(days=1)
        window = today - timedelta(days=spec.history_days)
        for c in self.cases:
            start, rosh = c["start"], c["rosh"]
            lo, hi = _INTERVAL[rosh]
            dates: list[date] = []
            chain_from = max(start, window)
            neglected = rng.random() < (0.1 if rosh in ("HIGH", "VERY_HIGH") else 0.12)
            new_case = start >= chain_from
            if new_case:
                first = start + timedelta(days=rng.randint(3, 20))
                missed = 25 <= (today - start).days <= 100 and rng.random() < 0.05
                if missed:
                    c["missed_commencement"] = True
                else:
                    d = self.working_day(first, start + timedelta(days=1), yesterday) if first <= yesterday else None
                    if d:
                        dates.append(d)
                step_from = first
            else:
                step_from = chain_from - timedelta(days=rng.randint(0, lo))
            if not c.get("missed_commencement"):
                d = step_from + timedelta(days=rng.randint(lo, hi))
                while d <= yesterday:
                    day = self.working_day(d, max(start + timedelta(days=1), window), yesterday)
                    if day:
                        dates.append(day)
                    d += timedelta(days=rng.randint(lo, hi))
            if neglected and not c.get("missed_commencement"):
                # Nothing in the last 90 days or more (the first touch point after commencement stays).
                cutoff = today - timedelta(days=rng.randint(91, 150))
                dates = [d for n, d in enumerate(dates) if d < cutoff or (n == 0 and new_case)]
            for n, day in enumerate(dates):
                if n == 0 and new_case:
                    w = self.words(c)
                    self.entry(
                        c,
                        day,
                        outcome=rng.choice(("agreed", "guidance_given")),
                        discussed=f"First touch point after commencement: {w['pp']} presented the initial assessment and sentence plan for {w['mr']}, {w['on_sentence']}.",
                        decision=rng.choice(_DECISIONS["agreed"][:3] + _DECISIONS["guidance_given"][:2]),
                    )
                else:
                    self._special_entry(c, day)

        if spec.oversight_target:
            self._earlier_history(window)

    def _earlier_history(self, window: date) -> None:
        """Entries from earlier sentences, to bring a PDU's history up to the target size."""
        rng = self.rng
        have = sum(len(v) for v in self.entries_by_crn.values())
        target = self.spec.oversight_target
        assert target is not None  # only a PDU asks for earlier history
        want = max(0, target - have)
        weights = [(_RANK[c["rosh"]] + 1) for c in self.cases]
        total = sum(weights)
        carry = 0.0
        for c, w in zip(self.cases, weights, strict=False):
            carry += want * w / total
            k = int(carry)
            carry -= k
            span = (c["start"] - window).days - 1
            if span < 30 or k == 0:
                continue
            for off in sorted(rng.randrange(span) for _ in range(k)):
                day = self.working_day(window + timedelta(days=off), window, c["start"] - timedelta(days=1))
                if day:
                    self.entry(c, day)

    # -- items --

    def item(
        self,
        kind: str,
        title: str,
        created_at: str,
        *,
        crn: str | None = None,
        due: date | None = None,
        raised_by: str | None = None,
        rule_key: str | None = None,
        status: str = "open",
        closed_at: str | None = None,
        closed_note: str | None = None,
        item_id: str | None = None,
    ) -> str:
        item_id = item_id or self.uid()
        self.rows["items"].append(
            {
                "id": item_id,
                "kind": kind,
                "crn": crn,
                "title": title[:200],
                "status": status,
                "due": due.isoformat() if due else None,
                "snoozed_until": None,
                "assigned_to": None,
                "raised_by": raised_by,
                "rule_key": rule_key,
                "created_at": created_at,
                "updated_at": closed_at or created_at,
                "closed_at": closed_at,
                "closed_note": closed_note,
            }
        )
        return item_id

    def build_terminations_done(self) -> None:
        """Termination reviews already held: a closed touch point with its oversight entry."""
        rng, today = self.rng, self.today
        tp = self.rules.raw["touch_points"]
        self.done_termination: dict[str, str] = {}
        for c in self.cases:
            end = c["end"]
            if end is None or (end - today).days > tp["before_termination_days"] + tp["lookahead_days"]:
                continue
            due = max(end - timedelta(days=tp["before_termination_days"]), c["start"])
            if due >= today - timedelta(days=2) or rng.random() >= 0.7:
                continue
            day = self.working_day(
                due + timedelta(days=rng.randint(-5, 2)), c["start"] + timedelta(days=1), today - timedelta(days=1)
            )
            if day is None:
                continue
            item_id = self.uid()
            w = self.words(c)
            entry = self.entry(
                c,
                day,
                outcome="agreed",
                item_id=item_id,
                discussed=f"Termination review: {w['mr']}'s sentence ends on {end:%d/%m/%Y}. Outstanding risks, exit plan and onward referrals reviewed with {w['pp']}.",
                decision="Agreed: no outstanding risk issues; termination summary to be completed and partner agencies informed.",
            )
            self.done_termination[c["crn"]] = item_id
            c["termination_entry"] = entry

    def build_calendar_work(self) -> None:
        """The touch points the rules make due, written with the rules' own keys."""
        lookahead = timedelta(days=self.rules.raw["touch_points"]["lookahead_days"])
        for c in self.cases:
            entries = self.entries_by_crn.get(c["crn"], [])
            last = max((e["created_at"][:10] for e in entries), default=None)
            facts = CaseFacts(
                crn=c["crn"],
                rosh=RoSH(c["rosh"]),
                sentence_type=SentenceType(c["sentence_type"]),
                sentence_start=c["start"],
                sentence_end=c["end"],
                last_oversight=date.fromisoformat(last) if last else None,
                flags=tuple(self.flags_by_crn.get(c["crn"], ())),
            )
            seen: set[str] = set()
            for work in calendar_touch_points(facts, self.today, self.rules):
                # As refresh_due_work: one open item per case and reason; each registration review stands alone.
                pair = work.key if work.reason == TouchPointReason.FLAG_REVIEW.value else work.reason
                if pair in seen:
                    continue
                seen.add(pair)
                created_day = min(max(work.due - lookahead, c["start"]), self.today)
                if work.reason == TouchPointReason.TERMINATION.value and c["crn"] in self.done_termination:
                    entry = c["termination_entry"]
                    item_id = self.item(
                        "touch_point",
                        work.title,
                        self.at(created_day, 8 * 60 + 45) if created_day < self.today else entry["created_at"],
                        crn=c["crn"],
                        due=work.due,
                        rule_key=work.key,
                        status="closed",
                        closed_at=entry["created_at"],
                        closed_note=f"oversight entry {entry['id']}",
                        item_id=self.done_termination[c["crn"]],
                    )
                else:
                    created = self.at(created_day, 8 * 60 + 45) if created_day < self.today else self.now_iso
                    item_id = self.item(
                        "touch_point", work.title, created, crn=c["crn"], due=work.due, rule_key=work.key
                    )
                self.rows["touch_points"].append(
                    {
                        "item_id": item_id,
                        "reason": work.reason,
                        "arranged_for": None,
                        "reminder_sent_at": None,
                        "waived_reason": None,
                    }
                )

    def build_supervision(self) -> None:
        rng, today, rules = self.rng, self.today, self.rules
        sup = rules.raw["supervision"]
        year_ago = today - timedelta(days=365)
        for team in self.teams:
            pps = team["pps"]
            overdue = {p["id"] for p in rng.sample(pps, max(2, round(len(pps) * 0.25)))}
            for pp in pps:
                weeks = (
                    sup["one_to_one_weeks_new_practitioner"]
                    if pp["role"] in sup["new_practitioner_roles"]
                    else sup["one_to_one_weeks"]
                )
                if pp["id"] in overdue:
                    last = today - timedelta(days=weeks * 7 + rng.randint(5, 25))
                else:
                    last = today - timedelta(days=rng.randint(3, weeks * 7 - 10))
                held: list[date] = []
                d = last
                while d > year_ago:
                    day = self.working_day(d, year_ago, today - timedelta(days=1))
                    if day:
                        held.append(day)
                    d -= timedelta(days=weeks * 7 + rng.randint(-3, 7))
                for day in reversed(held):
                    self._held_supervision(team, pp, "one_to_one", day)
                n_rpss = rng.choice((2, 3, 4, 4)) if pp["id"] not in overdue else rng.choice((1, 2, 3))
                d = today - timedelta(days=rng.randint(10, 80))
                rpss: list[date] = []
                for _ in range(n_rpss):
                    day = self.working_day(d, year_ago + timedelta(days=1), today - timedelta(days=1))
                    if day:
                        rpss.append(day)
                    d -= timedelta(days=rng.randint(80, 95))
                observed = rng.randrange(len(rpss)) if rpss else -1
                for n, day in enumerate(reversed(rpss)):
                    self._held_supervision(team, pp, "rpss", day, observation=n == observed)
                facts = PractitionerFacts(
                    staff_id=pp["id"],
                    name=pp["name"],
                    role=pp["role"],
                    last_one_to_one=max(held, default=None),
                    rpss_dates_last_year=tuple(sorted(r for r in rpss if r >= year_ago)),
                )
                for work in supervision_due(facts, today, rules):
                    created_day = min(work.due - timedelta(days=sup["lookahead_days"]), today)
                    created = self.at(created_day, 8 * 60 + 45) if created_day < today else self.now_iso
                    item_id = self.item("supervision", work.title, created, due=work.due, rule_key=work.key)
                    self.rows["supervision"].append(
                        {
                            "item_id": item_id,
                            "practitioner_id": pp["id"],
                            "kind": work.reason,
                            "observation": 0,
                            "scheduled_for": None,
                            "held_on": None,
                            "postponed": 0,
                        }
                    )

    def _held_supervision(
        self, team: dict[str, Any], pp: dict[str, Any], kind: str, day: date, observation: bool = False
    ) -> None:
        rng = self.rng
        postponed = rng.random() < 0.1
        scheduled = day - timedelta(days=rng.randint(2, 7)) if postponed else day
        minute = rng.choice((9 * 60 + 30, 11 * 60, 14 * 60, 15 * 60 + 30))
        held_at = self.at(day, minute + (90 if kind == "rpss" else 60))
        label = "One-to-one with" if kind == "one_to_one" else "RPSS with"
        item_id = self.item(
            "supervision",
            f"{label} {pp['name']}",
            self.at(scheduled - timedelta(days=14), 8 * 60 + 45),
            due=scheduled,
            status="closed",
            closed_at=held_at,
            closed_note="held",
        )
        self.rows["supervision"].append(
            {
                "item_id": item_id,
                "practitioner_id": pp["id"],
                "kind": kind,
                "observation": int(observation),
                "scheduled_for": self.at(scheduled, minute),
                "held_on": day.isoformat(),
                "postponed": int(postponed),
            }
        )
        if kind == "one_to_one":
            discussed = f"One-to-one supervision with {pp['name']}: caseload, wellbeing, learning and cases of concern."
            decision = rng.choice(
                (
                    "Workload manageable; no cases to reallocate. Next one-to-one as scheduled.",
                    "Caseload high: two low-risk cases to be reallocated at the next check-in.",
                    "Wellbeing discussed; agreed a reflective session on a recent difficult case.",
                    "Training need identified: DA risk assessment refresher booked.",
                )
            )
        else:
            discussed = f"Reflective practice supervision with {pp['name']}" + (
                " (live observation of a supervision session)." if observation else "."
            )
            decision = rng.choice(
                (
                    "Reflection on professional curiosity in a DA case; practice strengths noted.",
                    "Observation feedback given: good use of motivational interviewing; record rationale more fully.",
                    "Discussed managing a hostile person on probation; agreed approach for the next appointment.",
                )
            )
        self.rows["oversight_entries"].append(
            {
                "id": self.uid(),
                "crn": None,
                "item_id": item_id,
                "type": "management_oversight",
                "outcome": "agreed",
                "discussed": discussed,
                "decision": decision,
                "sensitive": 0,
                "decided_by": team["spo"]["id"],
                "entered_by": team["spo"]["id"],
                "created_at": held_at,
                "minutes": 90 if kind == "rpss" else 60,
                "supersedes_id": None,
            }
        )

    # -- today's work, raised by people --

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
        if e["outcome"] == "actions_set" and e["decision"].startswith("Actions agreed: "):
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

    def build_ndelius_entries(self) -> None:
        """Older oversight entries have been copied into nDelius by the team's CASPO, in batches (one
        per CASPO a day, marked when the last of them was entered)."""
        cutoff = add_working_days(self.today, -3).isoformat()
        yesterday = self.today - timedelta(days=1)
        later: dict[tuple[str, int], date] = {}
        batches: dict[tuple[str, date], list[tuple[str, str]]] = {}
        for e in self.rows["oversight_entries"]:
            made = e["created_at"][:10]
            if made >= cutoff:
                continue
            caspo = self.team_of[e["decided_by"]]["caspo"]["id"]
            lag = 0 if e["entered_by"] == caspo else self.rng.randint(1, 3)
            day = later.get((made, lag))
            if day is None:
                day = later[(made, lag)] = min(add_working_days(date.fromisoformat(made), lag), yesterday)
            entered = self.at(day, self.office_minute())
            batches.setdefault((caspo, day), []).append((max(entered, e["created_at"]), e["id"]))
        for (caspo, day), marked in sorted(batches.items(), key=lambda b: (b[0][1], b[0][0])):
            batch_id = str(uuid.uuid5(_BATCH_NAMESPACE, f"{caspo} {day}"))
            at = max(when for when, _ in marked)
            self.rows["ndelius_batches"].append(
                {
                    "id": batch_id,
                    "action": "mark",
                    "undoes": None,
                    "by_id": caspo,
                    "at": at,
                    "entries": len(marked),
                    "note": "",
                }
            )
            self.rows["ndelius_marks"] += [{"batch_id": batch_id, "oversight_id": i} for _, i in marked]


_BATCH_NAMESPACE = uuid.UUID("2d0c6f0e-8f1a-4c52-9a57-5b1f0e6c3d21")


#: People-raised open work on a team's day (countersigns are chosen between 22 and 28).
_TEAM_DAY = {"alert": 2, "sbar": 6, "countersign": 25, "task": 10, "action": 6, "manual_tp": 3}


def generate_demo(
    db: sqlite_utils.Database,
    *,
    seed: int = 1,
    scale: str = "team",
    today: date,
    now_iso: str,
    rules: Rules,
) -> DemoSummary:
    """Fill an empty, migrated database with a demo team (``scale="team"``) or PDU (``"pdu"``).

    Deterministic: the same ``seed`` and ``today`` give identical rows, ids included. Writes in one
    transaction and records ``demo``, ``demo_seed``, ``demo_scale`` and ``demo_today`` in ``meta``.
    """
    spec = SCALES.get(scale)
    if spec is None:
        raise ValidationError(f"unknown demo scale '{scale}': expected one of {', '.join(SCALES)}", field="scale")
    if demo_writes.holds_work(db):
        raise SpoError("the demo can only be generated into an empty database")

    b = _Builder(seed, spec, today, now_iso, rules)
    b.build_staff()
    b.build_absences()
    b.build_cases()
    b.build_flags()
    b.build_history()
    b.build_terminations_done()
    b.build_calendar_work()
    b.build_supervision()

    if spec.open_target is None:
        counts = dict(_TEAM_DAY, countersign=b.rng.randint(22, 28))
    else:
        rule_made = sum(1 for i in b.rows["items"] if i["status"] == "open")
        budget = max(0, spec.open_target - rule_made)
        total = sum(_TEAM_DAY.values())
        counts = {k: max(v, round(budget * v / total)) for k, v in _TEAM_DAY.items()}
    b.build_alerts(counts["alert"])
    b.build_sbars(counts["sbar"])
    b.build_countersigns(counts["countersign"])
    b.build_tasks(counts["task"])
    b.build_closed_tasks()
    b.build_manual_touch_points(counts["manual_tp"])
    b.build_actions(counts["action"])

    # Case entries were kept per case; put them in date order with the supervision entries.
    case_entries = [e for c in b.cases for e in b.entries_by_crn.get(c["crn"], [])]
    b.rows["oversight_entries"] = sorted(
        b.rows["oversight_entries"] + case_entries, key=lambda e: (e["created_at"], e["id"])
    )
    b.build_ndelius_entries()

    order = (
        "staff",
        "absences",
        "cases",
        "case_flags",
        "items",
        "sbars",
        "touch_points",
        "countersigns",
        "alerts",
        "tasks",
        "supervision",
        "oversight_entries",
        "actions",
        "ndelius_batches",
        "ndelius_marks",
    )
    with demo_writes.big_page_cache(db), db.atomic():
        for table in order:
            demo_writes.insert_rows(db, table, b.rows[table])
        writes.snapshot_all_oversight(db, taken="at the time")
        writes.link_all_records(db)
        for key, value in (
            ("demo", "1"),
            ("demo_seed", str(seed)),
            ("demo_scale", scale),
            ("demo_today", today.isoformat()),
        ):
            set_meta(db, key, value)
    return summarise(db, seed, scale, today)


def demo_now(today: date) -> datetime:
    """08:45 London time on ``today``, as an aware UTC datetime: the demo's fixed clock."""
    return datetime.combine(today, time(8, 45), LONDON).astimezone(UTC)


def write_demo(
    path: str | Path,
    *,
    seed: int = 1,
    scale: str = "team",
    today: date | None = None,
    rules: Rules | None = None,
    force: bool = False,
) -> DemoSummary:
    """Write a demo database at ``path`` and put the rule-made work in its queue.

    Every member of the demo staff is linked to the OS user who made it, so they can try each role
    with ``--as`` (a real store links only its SPO at set-up). An existing demo database there is replaced. A database holding real work (``meta`` has no
    ``demo = 1``) is refused with SpoError and left untouched, unless ``force`` is given.
    """
    from spo_tui.config import current_os_user, load_rules
    from spo_tui.services.context import make_context
    from spo_tui.services.identity import link_everyone
    from spo_tui.services.refresh import refresh_due_work

    if scale not in SCALES:
        raise ValidationError(f"unknown demo scale '{scale}': expected one of {', '.join(SCALES)}", field="scale")
    path = Path(path).expanduser()
    rules = rules or load_rules()
    today = today or datetime.now(LONDON).date()
    if path.exists():
        existing = open_db(path, create=False, migrate=False)
        try:
            has_tables = demo_writes.has_meta_table(existing)
            is_demo = has_tables and get_meta(existing, "demo") == "1"
            holds_data = has_tables and demo_writes.holds_work(existing)
        finally:
            existing.close()
        if holds_data and not is_demo and not force:
            raise SpoError(
                f"{path} holds real work, not a demo: refusing to overwrite it (choose another path for the demo)"
            )
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    moment = demo_now(today)
    db = open_db(path)
    try:
        now_iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        generate_demo(db, seed=seed, scale=scale, today=today, now_iso=now_iso, rules=rules)
        with db.atomic():
            link_everyone(db, current_os_user(), now_iso)
        ctx = make_context(db, rules, clock=lambda: moment)
        refresh_due_work(ctx)
        return summarise(db, seed, scale, today)
    finally:
        db.close()
