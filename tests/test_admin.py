"""The CASPO's maintenance services: absences, transfers, the diary, MAPPA reviews, corrections."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import CASPO, HIGH_CRN, LOW_CRN, PO, SPO, row, rows, snapshot

from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.services import admin, decisions, intake
from spo_tui.services.context import make_context


@pytest.fixture
def cas(ctx):
    return make_context(ctx.db, ctx.rules, CASPO, clock=ctx.clock)


def test_absence_recorded_and_bad_dates_refused(cas):
    result = admin.add_absence(cas, PO, "today", "fri", "Annual leave")
    assert result.message == "Pat Officer absent 23/11 to 27/11"
    assert row(cas.db, "SELECT start_date, end_date, reason FROM absences") == {
        "start_date": "2026-11-23",
        "end_date": "2026-11-27",
        "reason": "Annual leave",
    }
    before = snapshot(cas.db)
    with pytest.raises(ValidationError, match="ends 20/11/2026, before it starts 23/11/2026"):
        admin.add_absence(cas, PO, "2026-11-23", "2026-11-20")
    with pytest.raises(ValidationError, match="no staff member called 'Nobody'"):
        admin.add_absence(cas, "Nobody", "today")
    assert snapshot(cas.db) == before


def test_transfer_moves_through_its_states(cas):
    t = admin.add_transfer(cas, HIGH_CRN, "out", "Cardiff PDU", due="2w", note="Moving to family")
    assert [x["crn"] for x in admin.transfers_in_progress(cas)] == [HIGH_CRN]
    admin.set_transfer_status(cas, t.item_id, "in_progress")
    admin.set_transfer_status(cas, t.item_id, "completed")
    assert admin.transfers_in_progress(cas) == []
    with pytest.raises(NotAllowed, match="already completed"):
        admin.set_transfer_status(cas, t.item_id, "cancelled")
    with pytest.raises(ValidationError, match="direction must be 'in' or 'out'"):
        admin.add_transfer(cas, HIGH_CRN, "sideways", "Leeds")
    audit = rows(cas.db, "SELECT action FROM audit_log WHERE entity = 'transfer' ORDER BY id")
    assert [a["action"] for a in audit] == ["add_transfer", "set_transfer_status", "set_transfer_status"]


def test_a_reminder_for_an_overdue_touch_point_says_how_late_it_is(cas):
    """Once, an item 109 days overdue was "due by Friday 14 August 2026"."""
    intake.add_touch_point(cas, HIGH_CRN, "2026-08-06", "Quarterly review")
    (line,) = admin.touch_point_diary(cas)[PO]
    assert "was due on Thursday 06 August 2026 (109 days overdue): Quarterly review." in line.reminder
    assert "is due by" not in line.reminder


def test_touch_point_diary_groups_by_practitioner_with_marks_and_reminder(cas):
    tp = intake.add_touch_point(cas, HIGH_CRN, "2026-11-30", "Review after call-out")
    intake.add_touch_point(cas, LOW_CRN, "2026-12-20", "Too far ahead")  # beyond 14 days
    diary = admin.touch_point_diary(cas)
    assert list(diary) == [PO]
    (line,) = diary[PO]
    assert (line.crn, line.due, line.arranged_for, line.reminder_sent_at) == (HIGH_CRN, date(2026, 11, 30), None, None)
    admin.mark_arranged(cas, tp.item_id, "fri 10:30")
    admin.mark_reminder_sent(cas, tp.item_id)
    (line,) = admin.touch_point_diary(cas)[PO]
    assert line.arranged_for == "2026-11-27T10:30+00:00"
    assert line.reminder_sent_at == "2026-11-23T09:00:00Z"
    assert line.reminder.startswith(
        "Hello Pat, a management-oversight touch point on X123456 (Alex Example) is due by Monday 30 November 2026"
    )
    assert "It is arranged for Friday 27 November at 10:30." in line.reminder
    with pytest.raises(ValidationError, match="'25:99' is not a time"):
        admin.mark_arranged(cas, tp.item_id, "fri 25:99")


def test_mappa_level1_reviews_lists_due_and_unset(cas):
    assert [r["crn"] for r in admin.mappa_level1_reviews(cas)] == [HIGH_CRN]  # no MAPP review date yet
    admin.set_flag(cas, HIGH_CRN, "MAPP", "2027-06-01")
    assert admin.mappa_level1_reviews(cas) == []
    admin.set_flag(cas, HIGH_CRN, "MAPP", "2026-12-01")
    assert [r["review_date"] for r in admin.mappa_level1_reviews(cas)] == ["2026-12-01"]
    with pytest.raises(ValidationError, match="'SPO' is ambiguous"):
        admin.set_flag(cas, HIGH_CRN, "spo")


def test_sbar_can_be_corrected_until_the_spo_acts(ctx, cas):
    sbar = intake.raise_sbar(cas, HIGH_CRN, PO, "Sitch", "Back", "Assess", "Recommend")
    admin.update_sbar(cas, sbar.item_id, situation="Situation corrected", urgency="urgent")
    assert row(cas.db, "SELECT situation, urgency FROM sbars") == {
        "situation": "Situation corrected",
        "urgency": "urgent",
    }
    assert row(cas.db, "SELECT due FROM items WHERE id = ?", [sbar.item_id]) == {"due": "2026-11-23"}
    with pytest.raises(ValidationError, match="situation is required"):
        admin.update_sbar(cas, sbar.item_id, situation="  ")
    decisions.book_protected_hour(ctx, sbar.item_id)
    with pytest.raises(NotAllowed, match="can no longer be edited"):
        admin.update_sbar(cas, sbar.item_id, situation="Too late")


def test_case_correction_and_a_rise_makes_a_touch_point(cas):
    result = admin.update_case(cas, LOW_CRN, rosh="HIGH", tier="b1")
    assert result.message.startswith("Y654321: RoSH, tier updated; touch point due")
    assert row(cas.db, "SELECT rosh, tier FROM cases WHERE crn = ?", [LOW_CRN]) == {"rosh": "HIGH", "tier": "B1"}
    assert rows(
        cas.db, "SELECT t.reason FROM items i JOIN touch_points t ON t.item_id = i.id WHERE i.crn = ?", [LOW_CRN]
    ) == [{"reason": "rosh_rise"}]
    before = snapshot(cas.db)
    with pytest.raises(ValidationError, match="sentence end"):
        admin.update_case(cas, LOW_CRN, sentence_end="2020-01-01")
    with pytest.raises(ValidationError, match="cannot edit practitioner_id"):
        admin.update_case(cas, LOW_CRN, practitioner_id="x")
    assert snapshot(cas.db) == before


def test_a_practitioner_cannot_maintain(ctx):
    pat = make_context(ctx.db, ctx.rules, PO, clock=ctx.clock)
    with pytest.raises(NotAllowed, match="only an SPO or a CASPO can maintain"):
        admin.add_absence(pat, SPO, "today")
