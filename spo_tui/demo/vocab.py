"""Vocabulary for the made-up records: the case mix, caseloads, and the words of oversight entries,
SBARs, alerts, tasks and actions."""

from __future__ import annotations

import itertools
from typing import Any

from spo_tui.domain.vocab import FLAG_DESCRIPTIONS

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
