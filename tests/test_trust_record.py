"""Issue #12, sections 3 and 4: dates read as meant, and a record that only takes what an SPO would sign.

Each test drives a service as the screens and the CLI do and reads the database afterwards.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, date, datetime

import pytest
from conftest import HIGH_CRN, LOW_CRN, PO, fixed_clock, row, snapshot
from conftest import rows as dict_rows

from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.rules import Rules, merge_config
from spo_tui.services import decisions, export, intake, refresh, team
from spo_tui.services.decisions import AgreedAction


def at(ctx, moment: datetime):
    return dataclasses.replace(ctx, clock=fixed_clock(moment))


def rows(db, sql, params=()):
    return [tuple(r.values()) for r in dict_rows(db, sql, params)]


DEC_1 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday 01/12/2026


@pytest.fixture
def work(ctx):
    return {
        "touch_point": intake.add_touch_point(ctx, LOW_CRN, "2026-11-30", "Quarterly review").item_id,
        "countersign": intake.add_countersign(ctx, HIGH_CRN, "PSR", PO, court_date="2026-11-25").item_id,
        "task": intake.add_task(ctx, "Broken heating in reception", "buildings").item_id,
    }


# --- Section 3: dates -----------------------------------------------------------------------------


def test_snoozing_until_a_day_just_passed_is_refused_not_saved_a_year_ahead(ctx, work):
    later = at(ctx, DEC_1)
    before = snapshot(ctx.db)
    with pytest.raises(
        ValidationError, match=r"'30/11': 30/11/2026 has passed and 30/11/2027 is more than 6 months ahead"
    ):
        decisions.snooze(later, work["task"], "30/11")
    assert snapshot(ctx.db) == before
    decisions.snooze(later, work["task"], "3/12")
    assert row(ctx.db, "SELECT snoozed_until FROM items WHERE id = ?", [work["task"]])["snoozed_until"] == "2026-12-03"


def test_an_agreed_action_due_on_a_day_just_passed_is_refused(ctx):
    later = at(ctx, DEC_1)
    before = snapshot(ctx.db)
    with pytest.raises(ValidationError, match="action 1: '25/11': 25/11/2026 has passed") as info:
        decisions.record_oversight(
            later,
            crn=HIGH_CRN,
            outcome="actions_set",
            discussed="Missed appointments",
            decision="Warning letter",
            actions=[AgreedAction("Send the warning letter", PO, "25/11")],
        )
    assert info.value.field == "action_1_due"
    assert snapshot(ctx.db) == before


def test_an_absence_typed_without_a_year_is_the_nearest_date(ctx):
    from spo_tui.services import admin

    admin.add_absence(at(ctx, DEC_1), PO, "30/11", "4/12", "Sickness")
    assert rows(ctx.db, "SELECT start_date, end_date FROM absences") == [("2026-11-30", "2026-12-04")]


def test_the_short_date_window_comes_from_the_rules(ctx, work):
    with pytest.raises(ValidationError, match="more than 6 months ahead"):
        decisions.snooze(at(ctx, DEC_1), work["task"], "30/11")
    wider = dataclasses.replace(
        at(ctx, DEC_1), rules=Rules(raw=merge_config(ctx.rules.raw, {"dates": {"short_date_within_months": 12}}))
    )
    decisions.snooze(wider, work["task"], "30/11")
    assert row(ctx.db, "SELECT snoozed_until FROM items WHERE id = ?", [work["task"]])["snoozed_until"] == "2027-11-30"


def test_a_supervision_on_a_bank_holiday_or_a_weekend_is_refused(ctx):
    before = snapshot(ctx.db)
    with pytest.raises(
        ValidationError, match=r"Fri 25/12/2026 is a bank holiday \(Christmas Day\): choose a working day"
    ):
        team.book_supervision(ctx, PO, "one_to_one", "25/12 10:00")
    with pytest.raises(ValidationError, match="Sat 28/11/2026 is a Saturday: choose a working day"):
        team.book_supervision(ctx, PO, "one_to_one", "sat 10:00")
    assert snapshot(ctx.db) == before
    assert team.booking_echo(ctx, "25/12 10:00").startswith("Fri 25/12/2026 is a bank holiday")
    assert team.booking_echo(ctx, "fri 10:30") == "= Fri 27/11/2026 10:30"


def test_the_planner_proposes_a_working_day_after_a_bank_holiday(ctx):
    # A one-to-one held on Fri 20/11/2026: six weeks on is Fri 01/01/2027, New Year's Day.
    session = team.book_supervision(
        at(ctx, datetime(2026, 11, 16, 9, tzinfo=UTC)), PO, "one_to_one", "20/11/2026 10:00"
    )
    team.record_supervision(
        at(ctx, datetime(2026, 11, 20, 11, tzinfo=UTC)), session.item_id, [(HIGH_CRN, "Curfew", "Keep it")]
    )
    [pat] = [r for r in team.supervision_plan(ctx) if r.name == PO]
    assert (pat.last_one_to_one, pat.next_one_to_one) == (date(2026, 11, 20), date(2027, 1, 4))


# --- Section 4: reasons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "act",
    [
        lambda c, w: decisions.waive_touch_point(c, w["touch_point"], "x"),
        lambda c, w: decisions.countersign(c, w["countersign"], verdict="ok", signed_off=True),
        lambda c, w: decisions.countersign(c, w["countersign"], verdict="no", signed_off=False),
        lambda c, w: decisions.waive_touch_point(c, w["touch_point"], "fine fine fine fine fine"),
    ],
    ids=["waive x", "sign off ok", "return no", "one word repeated"],
)
def test_a_reason_without_content_is_refused_and_nothing_is_written(ctx, work, act):
    before = snapshot(ctx.db)
    with pytest.raises(ValidationError, match="must say why in at least 3 words and 15 characters"):
        act(ctx, work)
    assert snapshot(ctx.db) == before


def test_a_reason_of_a_few_words_is_taken(ctx, work):
    with pytest.raises(ValidationError, match="the reason for waiving must say why"):
        decisions.waive_touch_point(ctx, work["touch_point"], "x")
    decisions.waive_touch_point(ctx, work["touch_point"], "Seen at MAPPA on 20/11")
    decisions.countersign(ctx, work["countersign"], verdict="Risk analysis sound, proposal fits", signed_off=True)
    assert rows(ctx.db, "SELECT outcome FROM oversight_entries ORDER BY outcome") == [("signed_off",), ("waived",)]


def test_the_reason_minimum_is_configurable(ctx, work):
    with pytest.raises(ValidationError, match="the verdict"):
        decisions.countersign(ctx, work["countersign"], verdict="ok", signed_off=True)
    lenient = dataclasses.replace(
        ctx, rules=Rules(raw=merge_config(ctx.rules.raw, {"record": {"reason_min_words": 1, "reason_min_chars": 2}}))
    )
    decisions.countersign(lenient, work["countersign"], verdict="ok", signed_off=True)
    assert rows(ctx.db, "SELECT state FROM countersigns") == [("GATEKEPT",)]  # a PSR: gatekept [000 §3.2]


def test_undo_needs_a_reason_which_goes_in_the_correction(ctx, work):
    waived = decisions.waive_touch_point(ctx, work["touch_point"], "Seen at MAPPA on 20/11")
    assert decisions.describe_undo(ctx, waived.audit_id) == (
        "the waiver on Y654321 'Quarterly review' (made Mon 23/11/2026 09:00): 1 oversight entry withdrawn"
    )
    before = snapshot(ctx.db)
    with pytest.raises(ValidationError, match="the reason for the undo must say why"):
        decisions.undo(ctx, waived.audit_id, "oops")
    assert snapshot(ctx.db) == before
    decisions.undo(ctx, waived.audit_id, "Waived the wrong touch point")
    correction = row(ctx.db, "SELECT decision FROM oversight_entries WHERE outcome = 'withdrawn'")
    assert correction["decision"].endswith("Reason: Waived the wrong touch point")
    assert (
        '"reason": "Waived the wrong touch point"'
        in row(ctx.db, "SELECT new FROM audit_log WHERE action = 'undo'")["new"]
    )
    assert row(ctx.db, "SELECT status FROM items WHERE id = ?", [work["touch_point"]])["status"] == "open"


# --- Section 4: supervision is recorded when it has happened --------------------------------------


def test_a_session_booked_in_three_days_cannot_be_recorded_now(ctx):
    booked = team.book_supervision(ctx, PO, "one_to_one", "thu 10:00").item_id  # Thu 26/11/2026
    before = snapshot(ctx.db)
    with pytest.raises(
        NotAllowed, match=r"this session is booked for Thu 26/11/2026 10:00: record it once it has been held"
    ):
        team.record_supervision(ctx, booked, [])
    # Brought forward, it still needs what was discussed: never "0 cases discussed" for a future session.
    with pytest.raises(ValidationError, match="list the cases discussed or summarise the session"):
        team.record_supervision(ctx, booked, [], early=True)
    assert snapshot(ctx.db) == before
    assert team.session_not_yet_due(ctx, booked) == "Thu 26/11/2026 10:00"
    result = team.record_supervision(at(ctx, datetime(2026, 11, 26, 11, tzinfo=UTC)), booked, [])
    assert result.message == "One-to-one supervision with Pat Officer recorded, 0 cases discussed"
    assert row(ctx.db, "SELECT held_on FROM supervision WHERE item_id = ?", [booked])["held_on"] == "2026-11-26"


def test_a_session_brought_forward_is_recorded_when_confirmed_with_content(ctx):
    booked = team.book_supervision(ctx, PO, "one_to_one", "thu 10:00").item_id
    team.record_supervision(ctx, booked, [(HIGH_CRN, "Curfew breaches", "Warning letter")], early=True)
    assert row(ctx.db, "SELECT held_on FROM supervision WHERE item_id = ?", [booked])["held_on"] == "2026-11-23"


# --- Section 4: what reaches nDelius --------------------------------------------------------------


def test_a_supervision_session_on_no_case_is_not_exported_as_a_case_contact(ctx):
    booked = team.book_supervision(ctx, PO, "one_to_one", "today 10:00").item_id
    result = team.record_supervision(
        at(ctx, datetime(2026, 11, 23, 11, tzinfo=UTC)), booked, [(HIGH_CRN, "Curfew", "Keep it")]
    )
    assert row(ctx.db, "SELECT crn FROM oversight_entries WHERE id = ?", [result.oversight_id])["crn"] is None
    text, count = export.export_oversight(ctx, fmt="csv")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert count == 1
    assert [(r["crn"], r["oversight_id"]) for r in exported] == [(HIGH_CRN, result.created_ids[0])]
    text, _ = export.export_oversight(ctx, fmt="text")
    assert "CRN: \n" not in text and "(none)" not in text


# --- Section 4: a withdrawn entry does not count --------------------------------------------------


def test_a_withdrawn_entry_does_not_restart_the_quarterly_clock(ctx):
    # Seen on 10/08/2026; an entry made today in error and withdrawn: the quarterly review is overdue.
    decisions.record_oversight(
        at(ctx, datetime(2026, 8, 10, 9, tzinfo=UTC)),
        crn=HIGH_CRN,
        outcome="agreed",
        discussed="Release plan",
        decision="Plan agreed",
    )
    wrong = decisions.record_oversight(ctx, crn=HIGH_CRN, outcome="agreed", discussed="Wrong case", decision="Agreed")
    decisions.undo(ctx, wrong.audit_id, "Recorded on the wrong case")
    refresh.refresh_due_work(ctx)
    quarterly = rows(
        ctx.db,
        """SELECT i.due, i.status FROM items i JOIN touch_points t ON t.item_id = i.id
                                WHERE i.crn = ? AND t.reason = 'quarterly'""",
        [HIGH_CRN],
    )
    assert quarterly == [("2026-11-10", "open")]
