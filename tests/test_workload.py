"""Workload and span of control in the check-in, and reallocating a case [001, 002, 000]."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import HIGH_CRN, LOW_CRN, PO, PSO, row, staff_id

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
