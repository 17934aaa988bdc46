"""Level-1 assurance and real delegation (issue 16 §5): the R-CAT eligible list and audits
[000 §3.3, 001], facilities jobs' helpdesk reference, 10-working-day target, staged escalation and
chase [002 §9]."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import BM, CASPO, HIGH_CRN, LOW_CRN, NOW, PO, PSO, SAO, SPO, fixed_clock, row, staff_id

from spo_tui.domain import assurance as rules_of
from spo_tui.domain.assurance import RcatCase
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.rules import Rules
from spo_tui.domain.vocab import RoSH
from spo_tui.services import assurance, decisions, intake, lookup
from spo_tui.services.context import make_context
from spo_tui.services.refresh import refresh_due_work
from spo_tui.store import queries

QDO = "Quinn Dee"
TODAY = date(2026, 11, 23)


@pytest.fixture
def team(ctx):
    intake.add_staff(ctx, QDO, "QDO", team="Team A")
    # A second, older high-RoSH case for Pat Officer, and a new one (under 3 months supervised).
    intake.add_case(ctx, "Z111111", "Cal Older", PO, "HIGH", "COMMUNITY_ORDER", "2026-02-01")
    intake.add_case(ctx, "Z222222", "Di Newer", PO, "VERY_HIGH", "COMMUNITY_ORDER", "2026-10-20")
    return ctx


def as_(ctx, name: str, days: int = 0):
    return make_context(ctx.db, ctx.rules, name, clock=fixed_clock(NOW + timedelta(days=days)))


# --- R-CAT ---------------------------------------------------------------------------------------


def test_the_eligible_list_has_one_case_per_practitioner_chosen_by_the_documented_rule(team):
    """[000 §3.3] one case per PP per year: supervised 3 months first, then highest RoSH, then longest."""
    lines = {line.practitioner: line for line in assurance.rcat_eligible(team)}
    assert set(lines) == {PO, PSO}  # practitioners only: not the CASPO, SAO, QDO
    # Z222222 is very high but supervised a month: X123456 (high, since August) and Z111111 (high,
    # since February) are settled; the longer-supervised wins.
    assert (lines[PO].crn, lines[PO].rosh) == ("Z111111", "HIGH")
    assert "supervised since 01/02/2026" in lines[PO].why
    # Pip Services holds only a case started this month: offered it, saying none is settled yet.
    assert lines[PSO].crn == LOW_CRN and "none supervised 3 months yet" in lines[PSO].why


def test_recording_an_audit_takes_the_practitioner_off_the_list_for_a_year(team):
    """[000 §3.3, 001] the audit is recorded (who, when, the case, outcome, notes) and the PP is not
    eligible again that year; on the audit's anniversary they are again."""
    result = assurance.record_rcat(
        as_(team, CASPO),
        "Z111111",
        "requires_improvement",
        "Risk plan not reviewed after the arrest",
        by=QDO,
        on="20/11/2026",
    )
    assert result.message.startswith(f"R-CAT recorded: Z111111 ({PO}) by {QDO}, Requires improvement")
    audit = row(team.db, "SELECT * FROM rcat_audits")
    assert (audit["practitioner_id"], audit["audited_by"], audit["entered_by"], audit["audited_on"]) == (
        staff_id(team.db, PO),
        staff_id(team.db, QDO),
        staff_id(team.db, CASPO),
        "2026-11-20",
    )
    assert row(team.db, "SELECT action FROM audit_log WHERE entity = 'rcat'")["action"] == "record_rcat"
    assert PO not in {line.practitioner for line in assurance.rcat_eligible(team)}
    assert [a["crn"] for a in assurance.rcat_done(team)] == ["Z111111"]
    assert PO not in {line.practitioner for line in assurance.rcat_eligible(as_(team, SPO, days=360))}  # 18/11/2027
    assert PO in {line.practitioner for line in assurance.rcat_eligible(as_(team, SPO, days=362))}  # 20/11/2027


def test_recording_an_audit_is_checked(team):
    """[000 §3.3] a QDO or SPO audits; the CASPO must say who; findings are required unless good;
    not in the future; not the same case twice in a day; only QDO/SPO/CASPO/PDU head record."""
    caspo = as_(team, CASPO)
    with pytest.raises(ValidationError, match="say who audited"):
        assurance.record_rcat(caspo, HIGH_CRN, "good")
    with pytest.raises(ValidationError, match="not QDO or SPO or PDU head"):
        assurance.record_rcat(caspo, HIGH_CRN, "good", by=SAO)
    with pytest.raises(ValidationError, match="notes"):
        assurance.record_rcat(team, HIGH_CRN, "inadequate", "")
    with pytest.raises(ValidationError, match="after today"):
        assurance.record_rcat(team, HIGH_CRN, "good", on="2026-11-30")
    with pytest.raises(ValidationError):
        assurance.record_rcat(team, HIGH_CRN, "excellent")
    with pytest.raises(NotAllowed, match="record an R-CAT audit"):
        assurance.record_rcat(as_(team, PO), HIGH_CRN, "good", by=QDO)
    assurance.record_rcat(as_(team, QDO), HIGH_CRN, "good")  # a QDO records their own
    with pytest.raises(NotAllowed, match="already recorded"):
        assurance.record_rcat(team, HIGH_CRN, "good")


def test_choice_is_deterministic_and_skips_cases_audited_this_year(rules):
    """[000 §3.3] the same cases always give the same choice; a case audited in the year is not offered."""
    cases = [
        RcatCase("A000001", RoSH.HIGH, date(2026, 1, 1), last_audit=date(2026, 3, 1)),
        RcatCase("A000002", RoSH.MEDIUM, date(2025, 1, 1)),
        RcatCase("A000003", RoSH.MEDIUM, date(2025, 1, 1)),
    ]
    assert rules_of.choose_rcat_case(cases, TODAY, rules)[0].crn == "A000002"
    assert rules_of.choose_rcat_case(cases[:1], TODAY, rules) is None
    assert rules_of.practitioner_eligible(date(2025, 11, 23), TODAY, rules)
    assert not rules_of.practitioner_eligible(date(2025, 11, 24), TODAY, rules)


def test_rcat_rules_are_checked(rules):
    """[000 §3.3, 002 §9] a bad value in [rcat] or [tasks] is refused naming its key."""
    for section, key, value in (
        ("rcat", "months_between", 0),
        ("rcat", "practitioner_roles", ["PO", "Wizard"]),
        ("tasks", "escalation_stages", ["business manager", "the janitor"]),
        ("tasks", "escalation_every_working_days", "5"),
    ):
        raw = {**rules.raw, section: {**rules.raw[section], key: value}}
        with pytest.raises(ValidationError, match=key):
            Rules.from_dict(raw)


# --- Facilities jobs -----------------------------------------------------------------------------


def test_escalation_stages_follow_the_target_in_working_days(rules):
    """[002 §9] stage 1 the first working day after the 10-working-day target, then every 5 working days."""
    target = date(2026, 12, 4)  # a Friday
    assert rules_of.escalation_starts(target, rules) == [date(2026, 12, 7), date(2026, 12, 14), date(2026, 12, 21)]
    assert rules_of.escalation_stage(target, date(2026, 12, 6), rules) == 0  # the weekend: not yet
    assert rules_of.escalation_stage(target, date(2026, 12, 7), rules) == 1
    assert rules_of.escalation_stage(target, date(2027, 1, 30), rules) == 3
    assert rules_of.escalation_role(1, rules) == "business manager"
    assert rules_of.escalation_role(2, rules) == "SAO"


def test_a_facilities_job_carries_its_helpdesk_reference_and_target(ctx):
    """[002 §9] a helpdesk reference, and the 10-working-day target from rules.toml."""
    result = intake.add_task(ctx, "Lift out of order", "buildings", helpdesk_ref="KBR-40211")
    item = lookup.item_detail(ctx, result.item_id)
    assert item["due"] == "2026-12-07"  # 10 working days after Monday 23/11
    assert item["detail"]["helpdesk_ref"] == "KBR-40211"
    assert item["detail"]["facilities_lines"] == [
        "Target Mon 07/12/2026 (10 working days)",
        "Stage 1 on Tue 08/12/2026: the business manager steps in",
    ]
    assurance.set_helpdesk_ref(ctx, result.item_id, "KBR-40212")
    assert queries.get_item(ctx.db, result.item_id)["detail"]["helpdesk_ref"] == "KBR-40212"


def test_a_delegated_job_past_its_target_comes_back_as_a_chase_and_escalates(ctx):
    """[002 §9] delegated work shows whom it waits on; past its target it comes back to the
    delegator's queue as a chase, escalated to stage 1 (the business manager steps in), then stage 2
    (the SAO) five working days later."""
    job = intake.add_task(ctx, "Fire door does not close", "health_safety", helpdesk_ref="KBR-1").item_id
    decisions.delegate_task(ctx, job, CASPO)
    item = lookup.item_detail(ctx, job)
    assert (item["status"], item["waiting_on"], item["detail"]["delegated_role"]) == ("waiting", CASPO, "CASPO")
    assert refresh_due_work(as_(ctx, SPO, days=14)) >= 0  # Mon 07/12: the target day itself
    assert queries.get_item(ctx.db, job)["status"] == "waiting"
    later = as_(ctx, SPO, days=15)  # Tue 08/12: past the target
    refresh_due_work(later)
    item = lookup.item_detail(later, job)
    assert (item["status"], item["assigned_to"], item["waiting_on"]) == ("open", None, None)
    d = item["detail"]
    assert (d["escalation_stage"], d["escalated_to"], d["delegated_to_name"]) == (1, f"business manager ({BM})", CASPO)
    assert d["chased_at"] == "2026-12-08T09:00:00Z"
    assert row(ctx.db, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'escalate_facilities'")["n"] == 1
    refresh_due_work(later)  # the same day again: nothing more
    assert row(ctx.db, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'escalate_facilities'")["n"] == 1
    decisions.delegate_task(later, job, BM)  # handed on again; a week later stage 2
    stage2 = as_(ctx, SPO, days=22)  # Tue 15/12
    refresh_due_work(stage2)
    item = lookup.item_detail(stage2, job)
    assert item["status"] == "open"
    assert (item["detail"]["escalation_stage"], item["detail"]["escalated_to"]) == (2, f"SAO ({SAO})")


def test_other_delegated_tasks_are_chased_once_but_not_escalated(ctx):
    """[002 §9] the staged escalation is for facilities and health-and-safety jobs only; another
    delegated task still waiting after its due date comes back as a chase, once."""
    job = intake.add_task(ctx, "Laptop for new starter", "it").item_id  # due Mon 07/12
    decisions.delegate_task(ctx, job, CASPO)
    refresh_due_work(as_(ctx, SPO, days=14))
    assert queries.get_item(ctx.db, job)["status"] == "waiting"  # due today: not yet
    later = as_(ctx, SPO, days=15)
    refresh_due_work(later)
    item = queries.get_item(ctx.db, job)
    assert (item["status"], item["detail"]["escalation_stage"]) == ("open", 0)
    assert item["detail"]["chased_at"] == "2026-12-08T09:00:00Z"
    decisions.delegate_task(as_(ctx, SPO, days=16), job, SAO)  # handed on again: not chased again
    refresh_due_work(as_(ctx, SPO, days=40))
    assert queries.get_item(ctx.db, job)["status"] == "waiting"


# --- The demo ------------------------------------------------------------------------------------


def test_the_demo_shows_rcat_facilities_escalation_and_delegated_work(tmp_path, rules):
    """[000 §3.3, 001, 002 §9] the team demo: one R-CAT audit this year (that practitioner is off the
    eligible list), facilities jobs with helpdesk references, one past its target, escalated and
    waiting on the business manager, and delegated work waiting on the CASPO and the SAO; the day's
    refresh finds nothing to escalate (the demo is as the rules leave it)."""
    from spo_tui.demo import demo_now, generate_demo
    from spo_tui.store.db import open_db

    db = open_db(tmp_path / "demo.db")
    generate_demo(db, seed=2, today=TODAY, now_iso="2026-11-23T08:45:00Z", rules=rules)
    ctx = make_context(db, rules, clock=lambda: demo_now(TODAY))
    done = assurance.rcat_done(ctx)
    assert len(done) == 1 and done[0]["audited_on"] < TODAY.isoformat()
    eligible = {line.practitioner for line in assurance.rcat_eligible(ctx)}
    assert done[0]["practitioner"] not in eligible and len(eligible) >= 10
    jobs = [
        dict(zip(("title", "status", "ref", "stage", "to", "on", "role"), r, strict=True))
        for r in db.execute(
            """SELECT i.title, i.status, t.helpdesk_ref, t.escalation_stage, t.escalated_to, i.waiting_on, s.role
               FROM items i JOIN tasks t ON t.item_id = i.id LEFT JOIN staff s ON s.id = t.delegated_to
               WHERE t.category IN ('buildings', 'health_safety') AND i.status <> 'closed'"""
        )
    ]
    # Helpdesk jobs carry its reference (an incident report to review is not a helpdesk job).
    assert all(j["ref"] and j["ref"].startswith("FM-") for j in jobs if j["title"].startswith(("Lift", "Fire", "Heat")))
    assert sum(1 for j in jobs if j["ref"]) >= 3
    lift = next(j for j in jobs if j["title"].startswith("Lift"))
    assert (lift["status"], lift["stage"], lift["role"]) == ("waiting", 1, "business manager")
    assert lift["to"].startswith("business manager (")
    waiting_roles = {
        r[0]
        for r in db.execute(
            "SELECT s.role FROM items i JOIN tasks t ON t.item_id = i.id "
            "JOIN staff s ON s.id = t.delegated_to WHERE i.status = 'waiting'"
        )
    }
    assert waiting_roles == {"business manager", "SAO", "CASPO"}
    assert assurance.escalate_facilities(ctx) == 0
    db.close()
