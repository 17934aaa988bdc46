"""The whole builder, and ``generate_demo``: the parts in order, then one transaction to write them."""

from __future__ import annotations

from datetime import date

import sqlite_utils

from spo_tui.demo.assurance import _AssuranceBuilder
from spo_tui.demo.base import TABLES
from spo_tui.demo.cases import _CaseBuilder
from spo_tui.demo.coherence import _CoherenceBuilder
from spo_tui.demo.court import _CourtBuilder
from spo_tui.demo.custody import _CustodyBuilder
from spo_tui.demo.history import _HistoryBuilder
from spo_tui.demo.open_work import _OpenWorkBuilder
from spo_tui.demo.scales import SCALES, DemoSummary, summarise
from spo_tui.demo.staff import _StaffBuilder
from spo_tui.demo.sufficiency import _SufficiencyBuilder
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.rules import Rules
from spo_tui.store import demo_writes, writes
from spo_tui.store.db import set_meta


class _Builder(
    _CourtBuilder,
    _StaffBuilder,
    _CaseBuilder,
    _CoherenceBuilder,
    _SufficiencyBuilder,
    _HistoryBuilder,
    _OpenWorkBuilder,
    _CustodyBuilder,
    _AssuranceBuilder,
):
    """Builds every row of a demo in memory; ``generate_demo`` calls its parts in order."""


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
    b.build_custody()
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
    b.build_past_work()
    b.build_team_record()
    b.build_present_only()  # oversight present but not looking sufficient (issue 16 §6)
    b.build_court()  # court work and countersigning at source (issue 16 §1–2)

    # Case entries were kept per case; put them in date order with the supervision entries.
    case_entries = [e for c in b.cases for e in b.entries_by_crn.get(c["crn"], [])]
    b.rows["oversight_entries"] = sorted(
        b.rows["oversight_entries"] + case_entries, key=lambda e: (e["created_at"], e["id"])
    )
    b.build_ndelius_entries()
    b.build_assurance(seed)  # R-CAT audits, facilities escalation, delegated work: a generator of its own

    with demo_writes.big_page_cache(db), db.atomic():
        for table in TABLES:
            demo_writes.insert_rows(db, table, b.rows[table])
        writes.snapshot_all_oversight(db, taken="at the time")
        # Each entry's oversight level beside it [001]: derived from what it was made on.
        writes.derive_missing_levels(db)
        writes.link_all_records(db)
        for key, value in (
            ("demo", "1"),
            ("demo_seed", str(seed)),
            ("demo_scale", scale),
            ("demo_today", today.isoformat()),
        ):
            set_meta(db, key, value)
    return summarise(db, seed, scale, today)
