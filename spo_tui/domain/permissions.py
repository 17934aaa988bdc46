"""Who may do what: one table, read by every service.

Decisions on risk belong to the SPO: deciding an SBAR, asking for more on it or escalating it,
countersigning and waiving a touch point need the SPO at the keyboard. A CASPO maintains the queues
and may *enter* an oversight record on the SPO's behalf (both names are kept); practitioners may
raise SBARs and submit work for countersigning. Plain Python, no I/O.

Level-3 work (immediate-risk alerts) stays with the SPO: a CASPO logs alerts and may note them on the
case, but only an SPO closes (decides, acknowledges) or reassigns one. An entry a CASPO makes in the
SPO's name waits in that SPO's queue as a ``confirm`` item until the SPO confirms or corrects it.
A PDU head sees every team's queue (``all_teams``); everyone else sees their own team's.
Screens outside a role's work are not offered to it: a practitioner cannot open the supervision
planner (colleagues' absences) nor the team dashboard.
"""

from __future__ import annotations

from spo_tui.domain.errors import NotAllowed
from spo_tui.domain.vocab import PRACTITIONER_ROLES, Role

_SPO = frozenset({Role.SPO})
_ADMIN = frozenset({Role.SPO, Role.CASPO})
_RAISERS = _ADMIN | PRACTITIONER_ROLES
_TASKS = _ADMIN | {Role.SAO, Role.BUSINESS_MANAGER}
_MANAGERS = frozenset({Role.SPO, Role.CASPO, Role.PDU_HEAD})
_HEAD = frozenset({Role.PDU_HEAD})
#: Who keeps the R-CAT list and records audits: the QDO or an SPO audits, the CASPO keeps the list [000 §3.3, 001].
_ASSURANCE = _MANAGERS | {Role.QDO}

#: action -> (roles allowed to press the key, what the refusal calls the action)
PERMISSIONS: dict[str, tuple[frozenset[Role], str]] = {
    "decide_sbar": (_SPO, "decide an SBAR"),
    "request_more_information": (_SPO, "ask for more information on an SBAR"),
    "escalate_sbar": (_SPO, "escalate an SBAR"),
    "countersign": (_SPO, "countersign"),
    "waive_touch_point": (_SPO, "waive a touch point"),
    "decide_alert": (_SPO, "close an immediate-risk alert (level-3 work stays with the SPO)"),
    "reassign_alert": (_SPO, "reassign an immediate-risk alert (level-3 work stays with the SPO)"),
    "confirm_entry": (_SPO, "confirm an entry made in their name"),
    "all_teams": (_HEAD, "see every team's queue"),
    "view_team": (_MANAGERS, "open the team and coverage dashboard"),
    "view_supervision": (_MANAGERS, "open the supervision planner"),
    "record_oversight": (_ADMIN, "enter an oversight record"),
    "book_protected_hour": (_ADMIN, "book the protected hour"),
    "answer_information_request": (_ADMIN, "log a practitioner's answer"),
    "snooze": (_ADMIN, "snooze an item"),
    "reassign": (_ADMIN, "reassign an item"),
    "delegate_task": (_ADMIN, "delegate a task"),
    "complete_action": (_ADMIN, "mark an action done"),
    "maintain": (_ADMIN, "maintain cases, staff, alerts and touch points"),
    "team_notes": (_ADMIN, "keep the check-in's notes, answers and cover"),
    "supervision": (_ADMIN, "book or postpone supervision"),
    "import": (_ADMIN, "import extracts"),
    "export": (_ADMIN, "export oversight for nDelius"),
    "link_staff": (_SPO, "link a computer login to a member of staff"),
    "change_role": (_SPO, "change a member of staff's role or add an SPO"),
    "raise_sbar": (_RAISERS, "log an SBAR"),
    "add_countersign": (_RAISERS, "submit work for countersigning"),
    # AQA ratings are given by SPOs and QDOs [000 §3.3, §4].
    "rate_aqa": (frozenset({Role.SPO, Role.QDO}), "record an AQA rating"),
    "task": (_TASKS, "add or complete non-operational tasks"),
    "rcat": (_ASSURANCE, "record an R-CAT audit"),
}


def check(action: str, role: str, name: str) -> None:
    """Raise NotAllowed, saying why, unless ``role`` may do ``action``."""
    roles, words = PERMISSIONS[action]
    if role not in {r.value for r in roles}:
        allowed = " or ".join(_with_article(r.value) for r in sorted(roles, key=list(Role).index))
        raise NotAllowed(f"only {allowed} can {words}; {name} is {role}")


def _with_article(role: str) -> str:
    return f"{'an' if role in ('SPO', 'SAO', 'NQO') else 'a'} {role}"


def refusal(action: str, role: str, name: str) -> str | None:
    """The one line saying why ``role`` may not do ``action`` ("Only an SPO can decide an SBAR; ..."),
    or None if it may: what a screen shows when a refused key is pressed."""
    try:
        check(action, role, name)
    except NotAllowed as error:
        text = str(error)
        return text[:1].upper() + text[1:]
    return None


def spo_only(action: str) -> bool:
    """True if only an SPO may do ``action``: the footer and help mark such keys."""
    return PERMISSIONS[action][0] == _SPO


def allowed(action: str, role: str) -> bool:
    """True if ``role`` may do ``action`` (for greying out keys)."""
    return role in {r.value for r in PERMISSIONS[action][0]}
