"""Workload and span of control in the check-in, and reallocating a case [001, 002, 000]."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from conftest import HIGH_CRN, LOW_CRN, PO, PSO, row, select_item, staff_id

from spo_tui.domain.errors import ValidationError
from spo_tui.domain.rules import Rules, merge_config
from spo_tui.domain.vocab import TeamKind
from spo_tui.domain.workload import case_points, workload_problem
from spo_tui.services import admin, decisions, workload
from spo_tui.services.decisions import AgreedAction


def test_case_points_by_tier_letter_and_rosh(ctx):
    """A case's points are its tier's (first letter, so old 'B2' counts as B) plus its RoSH's [002]."""
    w = ctx.rules.workload
    assert case_points("B2", "HIGH", w) == w["tier"]["B"] + w["rosh"]["HIGH"]
    assert case_points("G", "LOW", w) == w["tier"]["G"]
    assert case_points(None, "MEDIUM", w) == w["tier"]["unknown"] + w["rosh"]["MEDIUM"]


def test_a_bad_workload_rule_is_refused_naming_the_key(ctx):
    """Thresholds live in data/rules.toml: a bad value gets a message naming the key [002]."""
    bad = merge_config(ctx.rules.raw, {"workload": {"watch_percent": 0}})
    with pytest.raises(ValidationError, match=r"\[workload\] watch_percent"):
        Rules.from_dict(bad)
    problem = workload_problem({**ctx.rules.workload, "rosh": {"LOW": 0}})
    assert problem is not None and problem.startswith("[workload.rosh] MEDIUM")


def test_each_pp_has_workload_as_a_share_of_fte_capacity_with_absence(ctx):
    """Workload is points as a per cent of capacity scaled by FTE; 120% is the line regions watch;
    absence today is shown beside it [002, 000]."""
    admin.add_absence(ctx, PSO, ctx.today, reason="Sick")
    team = workload.team_workload(ctx, "Team A")
    by_name = {w.name: w for w in team.people}
    w = ctx.rules.workload
    po = by_name[PO]
    assert po.cases == 1
    assert po.points == case_points("B2", "HIGH", w)
    assert po.capacity == w["points_per_fte"] * 1.0
    assert po.percent == pytest.approx(100 * po.points / po.capacity)
    assert by_name[PSO].absent == "Sick" and po.absent is None
    assert "absent today (Sick)" in by_name[PSO].label


def test_over_the_watch_line_and_fte_scales_capacity(ctx, tmp_path):
    """A part-time PP's capacity shrinks with FTE, so the same cases weigh more; over 120% is marked [002]."""
    rules = Rules.from_dict(merge_config(ctx.rules.raw, {"workload": {"points_per_fte": 10}}))
    import dataclasses

    small = dataclasses.replace(ctx, rules=rules)
    ctx.db.execute("UPDATE staff SET fte = 0.5 WHERE name = ?", [PO])
    po = next(w for w in workload.team_workload(small, "Team A").people if w.name == PO)
    assert po.capacity == 5.0
    assert po.over and po.percent > 120
    assert workload.team_workload(small, "Team A").over[0].name == PO


def test_span_is_pp_fte_per_spo_against_1_10_or_1_12_for_courts(ctx):
    """Span of control: 1:10 FTE in sentence management, 1:12 in courts [000, 002]."""
    span = workload.team_workload(ctx, "Team A").span
    assert span.team_kind == TeamKind.SENTENCE_MANAGEMENT
    assert (span.spos, span.pp_fte, span.standard) == (1, 2.0, 10)
    assert span.text == "span 1:2.0 (2 PP FTE) against 1:10 for sentence management"
    admin.set_team_kind(ctx, "Team A", "court")
    assert workload.team_workload(ctx, "Team A").span.standard == 12


def test_reallocating_a_case_moves_its_open_actions_and_is_audited(ctx):
    """Reallocating work is part of the check-in [001]: the case changes practitioner, the previous
    practitioner's open actions on it follow, it is audited; an absent PP may be chosen, and is named."""
    decisions.record_oversight(
        ctx,
        crn=HIGH_CRN,
        outcome="actions_set",
        discussed="Missed appointment",
        decision="Home visit",
        actions=[AgreedAction("Home visit", PO, date(2026, 11, 30))],
    )
    admin.add_absence(ctx, PSO, ctx.today, reason="Leave")
    result = workload.reallocate_case(ctx, HIGH_CRN, PSO, note="Pat moving to court team")
    assert "now Pip Services's case, with 1 open action" in result.message
    assert "absent today" in result.message
    assert row(ctx.db, "SELECT practitioner_id FROM cases WHERE crn = ?", [HIGH_CRN])["practitioner_id"] == staff_id(
        ctx.db, PSO
    )
    assert row(ctx.db, "SELECT owner_id FROM actions")["owner_id"] == staff_id(ctx.db, PSO)
    audit = row(ctx.db, "SELECT * FROM audit_log WHERE action = 'reallocate_case' AND entity = 'case'")
    assert audit["entity_id"] == HIGH_CRN
    with pytest.raises(ValidationError, match="already"):
        workload.reallocate_case(ctx, HIGH_CRN, PSO)
    with pytest.raises(ValidationError):
        workload.reallocate_case(ctx, LOW_CRN, "Cas Admin")  # not a practitioner


async def test_the_checkin_shows_workload_span_and_reallocates_with_workload_in_the_picker(ctx, tmp_path, running_app):
    """The check-in covers individual workloads and reallocating work [001]: the header shows the
    span against 1:10 [000, 002]; section 6 each PP's workload %, FTE and absence today; ``r`` on a
    row with a case reallocates it, the picker showing workload and marking the absent PP [002]."""
    from textual.widgets import DataTable, Static

    from spo_tui.screens.checkin import CheckinScreen
    from spo_tui.screens.prompts import ChoiceScreen
    from spo_tui.services import rhythm

    admin.add_absence(ctx, PSO, ctx.today, reason="Sick")
    rhythm.add_team_note(ctx, "concern", "Worried about housing", crn=HIGH_CRN)
    ctx.db.close()
    async with running_app(tmp_path / "t.db") as (app, pilot):
        await app.push_screen(CheckinScreen())
        await pilot.pause()
        screen = app.screen
        title = str(screen.query_one("#checkin-title", Static).render())
        assert "span 1:2.0 (set 1:10) · 0 over 120%" in title
        await pilot.press("6")
        await pilot.pause()
        table = screen.query_one("#workload-table", DataTable)
        rows = {str(table.get_row_at(n)[0]): [str(c) for c in table.get_row_at(n)] for n in range(table.row_count)}
        assert set(rows) == {PO, PSO}
        assert rows[PO][1].endswith("%") and rows[PO][3] == "1" and rows[PO][4] == "1"
        assert rows[PSO][6] == "absent (Sick)" and rows[PO][6] == "at work"
        assert screen.check_action("reallocate", ()) is None  # a person, not a case

        await pilot.press("3")
        await pilot.pause()
        assert screen.current.crn == HIGH_CRN
        await pilot.press("r")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        labels = dict(picker.choices)
        assert labels[PSO].startswith(f"{PSO} (PSO) · ") and labels[PSO].endswith("absent today (Sick)")
        assert "%" in labels[PO] and "absent" not in labels[PO]
        await pilot.press(str([v for v, _ in picker.choices].index(PSO) + 1))
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("6")
        await pilot.pause()
        rows = {str(table.get_row_at(n)[0]): [str(c) for c in table.get_row_at(n)] for n in range(table.row_count)}
        assert rows[PSO][4] == "2" and rows[PO][4] == "0"


async def test_the_reassign_picker_shows_workload_and_marks_the_absent(ctx, tmp_path, running_app):
    """Reassigning an item: the picker shows each practitioner's workload and marks whoever is absent
    today, still offering them [001, 002]."""
    from spo_tui.screens.prompts import ChoiceScreen
    from spo_tui.services import intake

    tp = intake.add_touch_point(ctx, LOW_CRN, "2026-11-20", "Check new address").item_id
    admin.add_absence(ctx, PO, ctx.today, reason="Leave")
    ctx.db.close()
    async with running_app(tmp_path / "t.db") as (app, pilot):
        await select_item(app, pilot, tp)
        await pilot.press("a")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        labels = dict(picker.choices)
        assert labels[PO].startswith(f"PO: {PO} · ") and labels[PO].endswith("%, absent today (Leave)")
        assert labels[PSO].startswith(f"PSO: {PSO} · ") and "absent" not in labels[PSO]
        assert labels["Cas Admin"] == "CASPO: Cas Admin"


async def test_at_80_columns_the_checkin_header_shows_the_span_whole(ctx, tmp_path, running_app):
    """The span of control in the check-in's header [000, 002] is read on the smallest screen too: at
    80 columns the header takes a second line rather than cutting the span off."""
    from textual.widgets import Static

    from spo_tui.screens.checkin import CheckinScreen

    ctx.db.close()
    async with running_app(tmp_path / "t.db", size=(80, 24)) as (app, pilot):
        await app.push_screen(CheckinScreen())
        await pilot.pause()
        title = str(app.screen.query_one("#checkin-title", Static).render())
        assert title.endswith("span 1:2.0 (set 1:10) · 0 over 120%") and len(title) > 70
        # What the terminal shows, not what the widget holds: the header's two lines (the timer beside
        # the first) hold the span's end, which one line at 80 columns cut off.
        assert app.screen.query_one("#checkin-bar").region.height == 2
        svg = app.export_screenshot()
        shown = " ".join(html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ").split())
        assert "0 noted today · span" in shown and "1:2.0 (set 1:10) · 0 over 120%" in shown
