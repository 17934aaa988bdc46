"""Dates that move, and the touch points they made (issue 16, §4) [004, 000, 001].

- A custody date moved or cleared (release, ROTL, OMiC handover, lifer panel): the old date's open
  touch points are closed, audited, saying the date moved; the refresh makes the new date's [004].
- A registration review closed (an entry recorded on it, or waived): the registration's next review
  date moves on by its period, so the next review comes due on the new date and not again on the
  old one [000, 001]; MAPPA level 1 reviews (the MAPP registration) likewise.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from conftest import HIGH_CRN, LOW_CRN, NOW, TODAY, fixed_clock, row, rows

from spo_tui.domain.errors import ValidationError
from spo_tui.domain.rules import Rules, merge_config, next_review
from spo_tui.services import admin, decisions
from spo_tui.services.context import make_context
from spo_tui.services.refresh import refresh_due_work


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def dmy(offset: int) -> str:
    return f"{TODAY + timedelta(days=offset):%d/%m/%Y}"


def points(db, crn: str, reason: str) -> list[dict]:
    return rows(
        db,
        """SELECT i.id, i.rule_key, i.status, i.due, i.closed_note FROM items i JOIN touch_points t ON t.item_id = i.id
           WHERE i.crn = ? AND t.reason = ? ORDER BY i.rowid""",
        [crn, reason],
    )


# --- A moved custody date -----------------------------------------------------------------------------


def test_a_moved_release_date_closes_the_old_dates_points_and_the_refresh_makes_the_new_ones(ctx, db):
    """[004] Prison release has its own touch points: when the release date moves, the old date's
    open pre-release point is closed in the same change, audited, saying the date moved; the refresh
    then makes the new date's point and not the old one again."""
    admin.set_custody(ctx, LOW_CRN, release_date=day(7))
    refresh_due_work(ctx)
    [old] = points(db, LOW_CRN, "pre_release")
    assert old["rule_key"] == f"tp:pre_release:{LOW_CRN}:{day(7)}" and old["status"] == "open"

    result = admin.set_custody(ctx, LOW_CRN, release_date=day(12))
    assert "touch point" in result.message and "for the old date closed" in result.message
    closed = row(db, "SELECT status, closed_note FROM items WHERE id = ?", [old["id"]])
    assert closed == {
        "status": "closed",
        "closed_note": f"Release from custody date moved from {dmy(7)} to {dmy(12)}: "
        "the touch point for the new date replaces this one",
    }
    audit = row(db, "SELECT old, new FROM audit_log WHERE action = 'close_moved_date' AND entity_id = ?", [old["id"]])
    assert json.loads(audit["old"]) == {"status": "open"}
    assert json.loads(audit["new"])["status"] == "closed"

    refresh_due_work(ctx)
    refresh_due_work(ctx)
    open_now = [p["rule_key"] for p in points(db, LOW_CRN, "pre_release") if p["status"] != "closed"]
    assert open_now == [f"tp:pre_release:{LOW_CRN}:{day(12)}"]
    # The old date's first-week point went too; the new one comes within the look-ahead, later.
    assert [(p["rule_key"], p["status"]) for p in points(db, LOW_CRN, "release")] == [
        (f"tp:release:{LOW_CRN}:{day(7)}", "closed")
    ]


def test_a_cleared_rotl_date_closes_its_point_and_a_done_point_keeps_its_record(ctx, db):
    """[004] A ROTL cleared: its open point is closed, the note saying so. A handover point already
    acted on (waived, with its oversight entry) is never touched when its date moves."""
    admin.set_custody(ctx, LOW_CRN, rotl_date=day(9), handover_date=day(12))
    refresh_due_work(ctx)
    [handover] = points(db, LOW_CRN, "handover")
    decisions.waive_touch_point(ctx, handover["id"], "Handover met at the OMiC meeting this week")
    done = row(db, "SELECT status, closed_note, closed_at FROM items WHERE id = ?", [handover["id"]])
    entries = rows(db, "SELECT * FROM oversight_entries")

    admin.set_custody(ctx, LOW_CRN, rotl_date="", handover_date=day(13))
    [rotl] = points(db, LOW_CRN, "rotl")
    assert rotl["status"] == "closed"
    assert rotl["closed_note"] == f"ROTL date cleared (was {dmy(9)}): this touch point is no longer due"
    assert row(db, "SELECT status, closed_note, closed_at FROM items WHERE id = ?", [handover["id"]]) == done
    assert rows(db, "SELECT * FROM oversight_entries") == entries


def test_a_rotl_already_past_is_an_event_that_happened_and_the_next_one_is_a_second_point(ctx, db, rules):
    """[004] The ROTL date names the next ROTL: once past, a new date is the next one, and the past
    one's point, if still open, is work still to do (not "moved")."""
    admin.set_custody(ctx, LOW_CRN, rotl_date=day(2))
    refresh_due_work(ctx)
    later = make_context(db, rules, clock=fixed_clock(NOW + timedelta(days=3)))
    admin.set_custody(later, LOW_CRN, rotl_date=day(10))
    refresh_due_work(later)
    assert [p["status"] for p in points(db, LOW_CRN, "rotl")] == ["open", "open"]


def test_a_date_moved_back_reopens_the_point_closed_by_the_move(ctx, db):
    """[004] Moved and moved back (a typing slip put right): the first point is open again, not lost
    (the refresh would not make a second item with its key)."""
    admin.set_custody(ctx, HIGH_CRN, rotl_date=day(5))
    refresh_due_work(ctx)
    admin.set_custody(ctx, HIGH_CRN, rotl_date=day(6))
    refresh_due_work(ctx)
    admin.set_custody(ctx, HIGH_CRN, rotl_date=day(5))
    refresh_due_work(ctx)
    states = {p["rule_key"].rsplit(":", 1)[1]: p["status"] for p in points(db, HIGH_CRN, "rotl")}
    assert states == {day(5): "open", day(6): "closed"}


def test_a_registration_review_date_changed_by_hand_closes_the_old_review_point(ctx, db):
    """[000, 001] A registration's review date changed by hand: the old date's open review point is
    replaced by the new date's."""
    admin.set_flag(ctx, LOW_CRN, "ADVP", review=day(5))
    refresh_due_work(ctx)
    admin.set_flag(ctx, LOW_CRN, "ADVP", review=day(10))
    refresh_due_work(ctx)
    assert [(p["due"], p["status"]) for p in points(db, LOW_CRN, "flag_review")] == [
        (day(5), "closed"),
        (day(10), "open"),
    ]


# --- A registration review closed ------------------------------------------------------------------


def test_closing_a_registration_review_moves_its_next_review_date_and_the_refresh_follows(ctx, db, rules):
    """[000, 001] A registration's review coming due is oversight work; once reviewed (an entry on
    the touch point), its next review date is its review period later, audited, and the refresh makes
    the next review on the new date, never again on the old one."""
    admin.set_flag(ctx, LOW_CRN, "ADVP", review=day(5), review_period_months=3)
    refresh_due_work(ctx)
    [review] = points(db, LOW_CRN, "flag_review")
    result = decisions.record_oversight(
        ctx, item_id=review["id"], outcome="agreed", discussed="ADVP review", decision="Registration stays"
    )
    new_date = "2027-02-28"  # 28/11/2026 + 3 months
    assert f"next ADVP review {date.fromisoformat(new_date):%d/%m/%Y}" in result.message
    assert row(db, "SELECT review_date FROM case_flags WHERE crn = ? AND code = 'ADVP'", [LOW_CRN]) == {
        "review_date": new_date
    }
    audit = row(db, "SELECT old, new FROM audit_log WHERE action = 'registration_reviewed'")
    assert json.loads(audit["old"]) == {"code": "ADVP", "review_date": day(5)}
    assert json.loads(audit["new"])["review_date"] == new_date

    refresh_due_work(ctx)
    assert [p["due"] for p in points(db, LOW_CRN, "flag_review") if p["status"] != "closed"] == []  # not yet in view
    later = make_context(db, rules, clock=fixed_clock(NOW + timedelta(days=95)))
    refresh_due_work(later)
    assert [(p["due"], p["status"]) for p in points(db, LOW_CRN, "flag_review")] == [
        (day(5), "closed"),
        (new_date, "open"),
    ]


def test_a_waived_review_moves_on_by_the_default_period_and_undo_puts_it_back(ctx, db):
    """[000, 001] A registration with no period of its own moves on by [flags]
    default_review_period_months when its review is waived; undoing the waiver puts the date back."""
    admin.set_flag(ctx, LOW_CRN, "RMDO", review=day(3))
    refresh_due_work(ctx)
    [review] = points(db, LOW_CRN, "flag_review")
    waived = decisions.waive_touch_point(ctx, review["id"], "Reviewed at the mental health panel")
    expected = next_review(date.fromisoformat(day(3)), 6, TODAY).isoformat()
    assert row(db, "SELECT review_date FROM case_flags WHERE code = 'RMDO'")["review_date"] == expected
    decisions.undo(ctx, waived.audit_id, "Waived on the wrong registration")
    assert row(db, "SELECT review_date FROM case_flags WHERE code = 'RMDO'")["review_date"] == day(3)


def test_a_mappa_level_1_review_moves_the_mapp_registration_on(ctx, db):
    """[000, 001] MAPPA level 1 reviews come from the MAPP registration; done, its date moves on."""
    admin.set_flag(ctx, HIGH_CRN, "MAPP", review=day(4), review_period_months=4)
    refresh_due_work(ctx)
    mappa = points(db, HIGH_CRN, "mappa_l1_review") or points(db, HIGH_CRN, "flag_review")
    assert mappa, "the small team's high-RoSH case is at MAPPA level 1"
    decisions.record_oversight(
        ctx, item_id=mappa[0]["id"], outcome="agreed", discussed="MAPPA level 1 review", decision="Stays at level 1"
    )
    moved = row(db, "SELECT review_date FROM case_flags WHERE crn = ? AND code = 'MAPP'", [HIGH_CRN])["review_date"]
    assert moved == next_review(date.fromisoformat(day(4)), 4, TODAY).isoformat()


def test_a_late_review_restarts_the_cycle_from_today():
    """[000, 001] Reviewed so late that the period from the old date is past: due a period from today."""
    assert next_review(date(2026, 1, 10), 3, date(2026, 11, 23)) == date(2027, 2, 23)
    assert next_review(date(2026, 11, 10), 3, date(2026, 11, 23)) == date(2027, 2, 10)


def test_the_default_period_is_checked_naming_its_key(rules):
    """A bad [flags] default_review_period_months is refused with the key named."""
    bad = merge_config(rules.raw, {"flags": {"default_review_period_months": 0}})
    with pytest.raises(ValidationError, match=r"\[flags\] default_review_period_months"):
        Rules.from_dict(bad)


def test_an_imported_case_whose_release_date_moved_closes_the_old_dates_points(ctx, db, tmp_path):
    """[004] The same rule when the date comes in an extract: the old date's open points close, the
    import's audit names them, the refresh makes the new date's."""
    from spo_tui.services.importer import import_file

    admin.set_custody(ctx, LOW_CRN, release_date=day(7))
    admin.set_flag(ctx, LOW_CRN, "ADVP", review=day(5))
    refresh_due_work(ctx)
    [pre] = points(db, LOW_CRN, "pre_release")
    case = row(
        db, "SELECT c.*, s.name AS pp FROM cases c JOIN staff s ON s.id = c.practitioner_id WHERE crn = ?", [LOW_CRN]
    )
    path = tmp_path / "cases.csv"
    path.write_text(
        "crn,name,practitioner,rosh,sentence_type,sentence_start,release_date,flags\n"
        f"{LOW_CRN},{case['name']},{case['pp']},{case['rosh']},{case['sentence_type']},{case['sentence_start']},"
        f"{day(12)},ADVP:{day(9)}\n"
    )
    report = import_file(ctx, "cases", path)
    assert report.ok and report.updated == 1, report.render()
    assert row(db, "SELECT status, closed_note FROM items WHERE id = ?", [pre["id"]]) == {
        "status": "closed",
        "closed_note": f"Release from custody date moved from {dmy(7)} to {dmy(12)}: "
        "the touch point for the new date replaces this one",
    }
    [review] = points(db, LOW_CRN, "flag_review")
    assert review["status"] == "closed" and review["closed_note"].startswith(f"ADVP review date moved from {dmy(5)}")
    audit = json.loads(row(db, "SELECT old FROM audit_log WHERE action = 'import_cases'")["old"])
    first_week = f"tp:release:{LOW_CRN}:{day(7)}"
    assert set(audit[LOW_CRN]["touch points closed"]) == {pre["rule_key"], first_week, review["rule_key"]}
    refresh_due_work(ctx)
    assert [p["due"] for p in points(db, LOW_CRN, "flag_review") if p["status"] == "open"] == [day(9)]
