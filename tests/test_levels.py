"""Oversight levels [001] and sufficiency beside presence [000, 004]."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from conftest import HIGH_CRN, LOW_CRN, PO, fixed_clock, row

from spo_tui.domain.errors import ValidationError
from spo_tui.domain.levels import ActionFollowUp, OversightLevel, case_sufficiency, derive_level, entry_sufficient
from spo_tui.services import decisions, intake, lookup, team
from spo_tui.services.decisions import AgreedAction
from spo_tui.services.integrity import check_record


def level_of(ctx, entry_id: str) -> tuple[int, int]:
    r = row(ctx.db, "SELECT level, chosen FROM oversight_levels WHERE oversight_id = ?", [entry_id])
    return r["level"], r["chosen"]


def entry_on(ctx, item_id: str) -> str:
    return row(ctx.db, "SELECT id FROM oversight_entries WHERE item_id = ?", [item_id])["id"]


def test_each_entry_carries_its_derived_level(ctx):
    """Level 3 immediate risk (an alert, a recall), 2 supervision (a case discussion), 1 quality
    assurance (a countersignature) [001 "Level 3", "the three levels"]."""
    alert = intake.add_alert(ctx, HIGH_CRN, "call_out", "Police call-out to home address").item_id
    decisions.record_oversight(ctx, item_id=alert, outcome="guidance_given", discussed="Call-out", decision="Visit")
    assert level_of(ctx, entry_on(ctx, alert)) == (3, 0)
    plain = decisions.record_oversight(ctx, crn=LOW_CRN, outcome="agreed", discussed="Plan", decision="Agreed")
    assert level_of(ctx, plain.oversight_id) == (2, 0)
    recall = decisions.record_oversight(
        ctx, crn=HIGH_CRN, type="recall", outcome="recall", discussed="Arrest", decision="Recall"
    )
    assert level_of(ctx, recall.oversight_id) == (3, 0)
    cs = intake.add_countersign(ctx, HIGH_CRN, "OASYS", PO).item_id
    decisions.countersign(ctx, cs, verdict="Sound analysis, plan complete", signed_off=True)
    assert level_of(ctx, entry_on(ctx, cs)) == (1, 0)
    assert derive_level("management_oversight", "guidance_given", "touch_point", "rosh_rise") == 3
    assert derive_level("management_oversight", "guidance_given", "touch_point", "quarterly") == 2


def test_the_spo_may_choose_the_level_and_the_signed_record_still_holds(ctx):
    """The level chosen in the form is kept beside the entry (chosen = 1); the signed entry row is not
    altered, so the record still verifies [001]."""
    entry = decisions.record_oversight(
        ctx, crn=LOW_CRN, outcome="guidance_given", discussed="Child concerns raised", decision="Refer", level=3
    )
    assert level_of(ctx, entry.oversight_id) == (3, 1)
    assert "level" not in row(ctx.db, "SELECT * FROM oversight_entries WHERE id = ?", [entry.oversight_id])
    assert check_record(ctx.db).ok
    with pytest.raises(ValidationError, match="level must be 1") as error:
        decisions.record_oversight(ctx, crn=LOW_CRN, outcome="agreed", discussed="x", decision="y", level="4")
    assert error.value.field == "level"
    assert OversightLevel(3).label == "immediate risk"


def test_sufficiency_needs_a_decision_and_actions_followed_up():
    """Presence is not sufficiency: an entry looks sufficient with a decision and its agreed actions
    followed up (done, or not yet due) [000, 004 "not monitored to see if they were followed through"]."""
    today = date(2026, 11, 23)
    assert entry_sufficient("agreed", "Plan agreed", [], today)
    assert not entry_sufficient("more_info", "Ask for the police log", [], today)
    assert not entry_sufficient("agreed", "  ", [], today)
    done = ActionFollowUp(due=date(2026, 11, 1), done=True, closed=True)
    pending = ActionFollowUp(due=date(2026, 11, 30), done=False, closed=False)
    overdue = ActionFollowUp(due=date(2026, 11, 20), done=False, closed=False)
    dropped = ActionFollowUp(due=date(2026, 11, 30), done=False, closed=True)
    assert entry_sufficient("actions_set", "Visit", [done, pending], today)
    assert not entry_sufficient("actions_set", "Visit", [done, overdue], today)
    assert not entry_sufficient("actions_set", "Visit", [dropped], today)
    assert [case_sufficiency(x) for x in ([True, False], [False], [])] == ["sufficient", "present only", "none"]


def test_the_case_timeline_and_coverage_show_sufficiency_beside_presence(ctx):
    """Per case (each entry on the timeline) and in coverage, both numbers: with an entry, and with
    an entry that looks sufficient; the SQL count agrees with the domain's rule [000, 004]."""
    earlier = dataclasses.replace(ctx, clock=fixed_clock(datetime(2026, 11, 2, 10, tzinfo=UTC)))
    late = decisions.record_oversight(
        earlier,
        crn=HIGH_CRN,
        outcome="actions_set",
        discussed="New address",
        decision="Verify it",
        actions=[AgreedAction("Verify the address with police", PO, date(2026, 11, 10))],
    )
    decisions.record_oversight(ctx, crn=LOW_CRN, outcome="agreed", discussed="Plan", decision="Agreed")
    timeline = {r["id"]: r for r in lookup.case_timeline(ctx, HIGH_CRN) if r["what"] == "oversight"}
    assert timeline[late.oversight_id]["sufficient"] is False and timeline[late.oversight_id]["level"] == 2
    cov = team.coverage(ctx)
    assert (cov.total.cases, cov.total.seen, cov.total.sufficient) == (2, 2, 1)
    assert [(r.key, r.seen, r.sufficient) for r in cov.by_rosh if r.cases] == [("LOW", 1, 1), ("HIGH", 1, 0)]
    decisions.complete_action(ctx, late.created_ids[0])
    assert [r for r in lookup.case_timeline(ctx, HIGH_CRN) if r.get("id") == late.oversight_id][0]["sufficient"]
    assert team.coverage(ctx).total.sufficient == 2


async def test_the_timeline_shows_level_and_sufficiency_and_the_form_sets_a_level(ctx, tmp_path, running_app):
    """The SPO sees each entry's level and whether it looks sufficient or is only present, and may
    choose the level in the oversight form [001, 000]."""
    from textual.widgets import Select

    from spo_tui.screens.case import CaseScreen
    from spo_tui.screens.oversight_form import OversightForm

    asked = decisions.record_oversight(
        ctx, crn=HIGH_CRN, outcome="more_info", discussed="Police log", decision="Get the log first"
    )
    ctx.db.close()
    async with running_app(tmp_path / "t.db") as (app, pilot):
        app.push_screen(CaseScreen(HIGH_CRN))
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#timeline")
        rows = {table.row_key(n): n for n in range(table.row_count)}
        cells = table.row_text(rows[f"oversight:{asked.oversight_id}"])
        assert cells[3].startswith("L2 ") and cells[-1] == "present only"
        detail = str(screen.query_one("#timeline-detail").render())
        assert "Level 2: supervision (from the work)" in detail and "present only" in detail
        # Per case: presence without sufficiency is said in the header.
        assert "Oversight in 90 days: present only" in str(screen.query_one("#case-sentence").render())

        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, OversightForm)
        form.query_one("#level", Select).value = "3"
        form.query_one("#decision").text = "Joint visit with police today"
        form.query_one("#discussed").text = "Partner called police last night"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        rows = {table.row_key(n): n for n in range(table.row_count)}
        newest = table.row_text(0)
        assert newest[3].startswith("L3 ") and newest[-1] == "sufficient"
        assert "Oversight in 90 days: sufficient" in str(screen.query_one("#case-sentence").render())
    from spo_tui.store.db import open_db

    db = open_db(tmp_path / "t.db")
    try:
        assert db.execute(
            "SELECT l.level, l.chosen FROM oversight_levels l JOIN oversight_entries o ON o.id = l.oversight_id "
            "WHERE o.decision = 'Joint visit with police today'"
        ).fetchall() == [(3, 1)]
    finally:
        db.close()
