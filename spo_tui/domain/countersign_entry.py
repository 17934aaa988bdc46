"""What a new countersign item is when it comes in: its state, due date, title, and whether it is
closed or waiting on a peer at once — decided once, for every way work enters [000 §3.2–3.3].

``services.intake.add_countersign`` (the form, ``spo-tui add countersign``) and the importer
(``services.import_plans``, a countersign extract in CSV or JSON) both call :func:`decide`, so an
imported row obeys exactly the rules a typed one does:

- a PSR is *gatekept*, not countersigned (``AWAITING_GATEKEEP``) [000 §3.2]; on a high or very high
  RoSH case only a qualified PO writes it (``court.check_psr_writer``, refused naming the rule);
- a peer gatekeeper (``[gatekeeping] peer_rosh`` / ``peer_roles``) only on a PSR of a RoSH that
  allows it, never its author; the item then waits on the peer until the court day [000 §3.2];
- a report for court today, or an oral report, is due on the court day (never overdue on entry);
  oral reports and peer gatekeeping are for PSRs only (another kind with either is refused, rather
  than the word being silently dropped);
- dangerousness assessments and parole reports only on the cases where they exist
  (``court.check_report_case``);
- an approved PO's OASys needs no countersignature [000 §3.3]: kept, closed as ``NOT_REQUIRED``,
  unless the sample (``[aqa] sample_one_in``, ``court.in_sample``) picks it — then it comes to the
  SPO titled "(sample: approved PO)".

A court date already past is the caller's to judge: the form refuses it (a typing slip), an import
accepts it and the item shows as overdue (an extract may hold a report nobody gatekept: that is
worth seeing; docs/import.md).

Every refusal is a ``ValidationError`` or ``NotAllowed`` whose ``field`` names the input it turns
on (``author``, ``kind``, ``gatekeeper``, ``court_date``, ``court_time``, ``oral``), so an import
names the record and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from spo_tui.domain import court as court_rules
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.rules import Rules, countersign_due
from spo_tui.domain.vocab import CountersignKind, CountersignState, RoSH


@dataclass(frozen=True)
class Person:
    """A member of staff as the rules need them: who, their role, whether an approved PO."""

    id: str
    name: str
    role: str
    approved: bool = False


@dataclass(frozen=True)
class NewCountersign:
    """What a new countersign item is: its detail's state and the item's due date, title, and
    whether it is closed at once (``closed_note``) or waiting on a peer gatekeeper."""

    state: CountersignState
    due: date
    title: str
    court_time: str | None
    oral: bool
    sampled: bool
    gatekeeper: Person | None = None
    #: With a peer gatekeeper: when it comes back to the SPO's queue (the court day), or None.
    waiting_until: date | None = None
    #: Closed on entry (an approved PO's OASys, not sampled): the closing note.
    closed_note: str | None = None

    @property
    def closed(self) -> bool:
        return self.closed_note is not None

    @property
    def waiting_on(self) -> str | None:
        return f"{self.gatekeeper.name} (peer gatekeeping)" if self.gatekeeper else None


def sample_key(crn: str, author_id: str, submitted: date, title: str | None, link: str | None) -> str:
    """What picks an approved PO's assessment for the sample: its link, else its natural key, so the
    same assessment (typed or imported again) always gives the same answer."""
    return link or f"{crn}:{author_id}:{submitted.isoformat()}:{title or ''}"


def decide(
    kind: CountersignKind,
    *,
    crn: str,
    rosh: RoSH,
    sentence_type: str,
    author: Person,
    submitted: date,
    court: date | None,
    today: date,
    rules: Rules,
    court_time: str | None = None,
    oral: bool = False,
    gatekeeper: Person | None = None,
    title: str | None = None,
    link: str | None = None,
) -> NewCountersign:
    """The new item as the rules of court work and countersigning at source make it, or the
    refusal (module docstring; [000 §3.2–3.3])."""
    raw = rules.raw
    if kind == CountersignKind.PSR and court is None:
        raise ValidationError("a PSR needs its court date", field="court_date")
    at = court_rules.parse_court_time(court_time)
    court_rules.check_report_case(kind, sentence_type, raw)
    if kind != CountersignKind.PSR:
        if gatekeeper is not None:
            raise ValidationError(
                f"only a PSR is gatekept by a peer; {_a(kind.label)} comes to the SPO [000 §3.2]", field="gatekeeper"
            )
        if oral:
            raise ValidationError(f"only a PSR is given orally, not {_a(kind.label)}", field="oral")
    if kind == CountersignKind.PSR:
        assert court is not None
        court_rules.check_psr_writer(author.role, rosh, raw)
        if gatekeeper is not None:
            if not court_rules.peer_may_gatekeep(rosh, raw):
                raise NotAllowed(
                    f"a PSR on a {rosh.label.lower()} RoSH case is gatekept by the SPO, not a peer [000 §3.2]",
                    field="gatekeeper",
                )
            court_rules.check_peer(gatekeeper.role, gatekeeper.id, author.id, raw)
        before = countersign_due(kind, submitted, court, rules)
        due = court_rules.psr_due(court, submitted, before, same_day=oral or court == today)
        label = "Oral PSR" if oral else kind.label
        # Waiting on the peer; back in the SPO's queue on the court day if the peer has not gatekept
        # it by then. A report for court today stays in Waiting: it would otherwise bounce straight back.
        until = court if gatekeeper is not None and court > today else None
        return NewCountersign(
            CountersignState.AWAITING_GATEKEEP,
            due,
            title or f"{label} by {author.name}",
            at,
            oral,
            False,
            gatekeeper=gatekeeper,
            waiting_until=until,
        )
    due = countersign_due(kind, submitted, court, rules)
    state, sampled, note = CountersignState.AWAITING_COUNTERSIGN, False, None
    if kind == CountersignKind.OASYS and author.approved:
        sampled = court_rules.in_sample(sample_key(crn, author.id, submitted, title, link), raw)
        if not sampled:
            state = CountersignState.NOT_REQUIRED
            note = f"No countersignature needed: {author.name} is an approved PO [000 §3.3]"
    shown = (title or f"{kind.label} by {author.name}") + (" (sample: approved PO)" if sampled else "")
    return NewCountersign(state, due, shown, at, False, sampled, closed_note=note)


def _a(label: str) -> str:
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label
