"""The configurable rules: touch points, risk rises, supervision, facilities and PSR deadlines."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import HIGH_CRN, LOW_CRN, NOW, PO, PSO, TODAY, fixed_clock, rows, staff_id

from spo_tui.config import load_rules
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.rules import (
    CaseFacts,
    PractitionerFacts,
    Rules,
    action_due,
    calendar_touch_points,
    countersign_due,
    merge_config,
    supervision_due,
    task_due,
)
from spo_tui.domain.vocab import CountersignKind, RoSH, SentenceType, TaskCategory
from spo_tui.services import decisions, intake, refresh


def case(**changes) -> CaseFacts:
    base = {
        "crn": "A111111",
        "rosh": RoSH.LOW,
        "sentence_type": SentenceType.COMMUNITY_ORDER,
        "sentence_start": date(2026, 11, 10),
        "sentence_end": None,
    }
    return CaseFacts(**{**base, **changes})


def reasons(work) -> dict[str, object]:
    return {w.reason: w.due for w in work}


# --- Calendar touch points -----------------------------------------------------------------------


def test_first_touch_point_is_21_days_after_commencement(rules):
    work = calendar_touch_points(case(), TODAY, rules)
    assert [(w.reason, w.due, w.key) for w in work] == [
        ("commencement", date(2026, 12, 1), "tp:commencement:A111111:2026-11-10")
    ]
    assert work[0].title == "First touch point after commencement"


def test_no_first_touch_point_when_a_manager_has_already_looked(rules):
    assert calendar_touch_points(case(last_oversight=date(2026, 11, 12)), TODAY, rules) == []
    # Oversight from an earlier sentence does not count.
    assert "commencement" in reasons(calendar_touch_points(case(last_oversight=date(2026, 1, 5)), TODAY, rules))


def test_first_touch_point_waits_until_it_is_within_the_lookahead(rules):
    # Started 20 Nov: due 11 Dec, beyond the 14-day look-ahead from 23 Nov (7 Dec).
    assert calendar_touch_points(case(sentence_start=date(2026, 11, 20)), TODAY, rules) == []
    later = calendar_touch_points(case(sentence_start=date(2026, 11, 20)), date(2026, 11, 27), rules)
    assert reasons(later) == {"commencement": date(2026, 12, 11)}


@pytest.mark.parametrize("rosh", [RoSH.HIGH, RoSH.VERY_HIGH])
def test_high_and_very_high_cases_are_reviewed_three_months_after_the_last_oversight(rules, rosh):
    facts = case(rosh=rosh, sentence_start=date(2026, 3, 2), last_oversight=date(2026, 8, 26))
    work = calendar_touch_points(facts, TODAY, rules)
    assert reasons(work) == {"quarterly": date(2026, 11, 26)}
    assert work[0].key == "tp:quarterly:A111111:2026-11-26"


@pytest.mark.parametrize("rosh", [RoSH.LOW, RoSH.MEDIUM])
def test_low_and_medium_cases_get_no_quarterly_review(rules, rosh):
    facts = case(rosh=rosh, sentence_start=date(2026, 3, 2), last_oversight=date(2026, 8, 26))
    assert calendar_touch_points(facts, TODAY, rules) == []


def test_quarterly_review_not_yet_due_when_oversight_was_recent(rules):
    facts = case(rosh=RoSH.HIGH, sentence_start=date(2026, 3, 2), last_oversight=date(2026, 10, 1))
    assert calendar_touch_points(facts, TODAY, rules) == []


def test_release_on_licence_makes_a_touch_point_within_seven_days(rules):
    facts = case(sentence_type=SentenceType.LICENCE, sentence_start=date(2026, 11, 20))
    assert reasons(calendar_touch_points(facts, TODAY, rules)) == {"release": date(2026, 11, 27)}
    # The same dates on a community order: no release touch point.
    assert calendar_touch_points(case(sentence_start=date(2026, 11, 20)), TODAY, rules) == []


def test_termination_touch_point_is_28_days_before_the_end(rules):
    facts = case(sentence_start=date(2025, 6, 1), sentence_end=date(2026, 12, 15), last_oversight=date(2025, 6, 20))
    work = calendar_touch_points(facts, TODAY, rules)
    assert reasons(work) == {"termination": date(2026, 11, 17)}
    assert work[0].title == "Before termination"
    # Ended already, or ending far off: nothing.
    assert calendar_touch_points(dataclasses.replace(facts, sentence_end=date(2026, 11, 1)), TODAY, rules) == []
    assert calendar_touch_points(dataclasses.replace(facts, sentence_end=date(2027, 6, 1)), TODAY, rules) == []


def test_registration_review_due_within_the_lookahead_is_a_touch_point(rules):
    facts = case(last_oversight=date(2026, 11, 11), flags=(("ADVP", date(2026, 11, 30)), ("RCPR", date(2027, 2, 1))))
    work = calendar_touch_points(facts, TODAY, rules)
    assert [(w.reason, w.due, w.title) for w in work] == [
        ("flag_review", date(2026, 11, 30), "Review ADVP registration")
    ]


# --- Touch points through the services -----------------------------------------------------------


def open_touch_points(db, crn):
    return rows(
        db,
        """SELECT i.title, i.due, i.status, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id
           WHERE i.crn = ? ORDER BY t.reason""",
        [crn],
    )


def test_refresh_puts_the_due_touch_points_and_supervision_in_the_queue(ctx):
    created = refresh.refresh_due_work(ctx)
    assert created == 7
    assert open_touch_points(ctx.db, HIGH_CRN) == [
        {
            "title": "First touch point after commencement",
            "due": "2026-08-22",
            "status": "open",
            "reason": "commencement",
        },
        {
            "title": "Quarterly review (high/very high RoSH)",
            "due": "2026-11-01",
            "status": "open",
            "reason": "quarterly",
        },
    ]
    assert [r["reason"] for r in open_touch_points(ctx.db, LOW_CRN)] == ["commencement"]
    supervision = rows(
        ctx.db,
        """SELECT s.kind, st.name, i.due FROM supervision s JOIN items i ON i.id = s.item_id
           JOIN staff st ON st.id = s.practitioner_id ORDER BY st.name, s.kind""",
    )
    assert supervision == [
        {"kind": "one_to_one", "name": PO, "due": "2026-11-23"},
        {"kind": "rpss", "name": PO, "due": "2026-11-23"},
        {"kind": "one_to_one", "name": PSO, "due": "2026-11-23"},
        {"kind": "rpss", "name": PSO, "due": "2026-11-23"},
    ]


def test_refresh_is_idempotent(ctx):
    first = refresh.refresh_due_work(ctx)
    count = ctx.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    assert first > 0
    assert refresh.refresh_due_work(ctx) == 0
    assert ctx.db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == count
    # Only the first refresh writes an audit row.
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'refresh_due_work'").fetchone()[0] == 1


def test_a_waived_touch_point_is_not_created_again(ctx):
    refresh.refresh_due_work(ctx)
    tp = ctx.db.execute(
        "SELECT i.id FROM items i JOIN touch_points t ON t.item_id = i.id WHERE i.crn = ? AND t.reason = 'commencement'",
        [LOW_CRN],
    ).fetchone()[0]
    decisions.waive_touch_point(ctx, tp, "seen at the allocation meeting")
    assert refresh.refresh_due_work(ctx) == 0


def test_two_registrations_due_for_review_make_two_touch_points(ctx):
    ctx.db.execute(
        "INSERT INTO case_flags(id, crn, code, review_date) VALUES ('f1', ?, 'ADVP', '2026-11-30'), ('f2', ?, 'RCPR', '2026-12-01')",
        [LOW_CRN, LOW_CRN],
    )
    refresh.refresh_due_work(ctx)
    titles = {r["title"] for r in open_touch_points(ctx.db, LOW_CRN) if r["reason"] == "flag_review"}
    assert titles == {"Review ADVP registration", "Review RCPR registration"}


def test_a_rise_in_rosh_creates_a_touch_point_due_in_two_working_days(ctx):
    result = intake.update_case_risk(ctx, HIGH_CRN, rosh="very high")
    assert result.message == "X123456: risk updated; touch point due 25/11"
    assert ctx.db.execute("SELECT rosh FROM cases WHERE crn = ?", [HIGH_CRN]).fetchone()[0] == "VERY_HIGH"
    assert open_touch_points(ctx.db, HIGH_CRN) == [
        {"title": "RoSH rose High → Very high", "due": "2026-11-25", "status": "open", "reason": "rosh_rise"}
    ]
    audit = rows(ctx.db, "SELECT old, new FROM audit_log WHERE action = 'update_case_risk'")
    assert audit == [{"old": '{"rosh": "HIGH"}', "new": '{"rosh": "VERY_HIGH"}'}]


def test_a_rise_on_friday_is_due_after_the_weekend(ctx):
    friday = dataclasses.replace(ctx, clock=fixed_clock(datetime(2026, 11, 27, 16, 0, tzinfo=UTC)))
    intake.update_case_risk(friday, LOW_CRN, rosh="MEDIUM")
    assert open_touch_points(ctx.db, LOW_CRN)[0]["due"] == "2026-12-01"


def test_a_fall_in_rosh_creates_no_touch_point(ctx):
    result = intake.update_case_risk(ctx, HIGH_CRN, rosh="MEDIUM")
    assert result.message == "X123456: risk updated"
    assert ctx.db.execute("SELECT rosh FROM cases WHERE crn = ?", [HIGH_CRN]).fetchone()[0] == "MEDIUM"
    assert open_touch_points(ctx.db, HIGH_CRN) == []


def test_a_rise_in_mappa_level_creates_a_touch_point_and_a_fall_none(ctx):
    intake.update_case_risk(ctx, HIGH_CRN, mappa_level=2)
    assert open_touch_points(ctx.db, HIGH_CRN) == [
        {"title": "MAPPA level rose 1 → 2", "due": "2026-11-25", "status": "open", "reason": "mappa_rise"}
    ]
    later = dataclasses.replace(ctx, clock=fixed_clock(NOW + timedelta(hours=1)))
    intake.update_case_risk(later, HIGH_CRN, mappa_level=1)
    assert len(open_touch_points(ctx.db, HIGH_CRN)) == 1
    assert ctx.db.execute("SELECT mappa_level FROM cases WHERE crn = ?", [HIGH_CRN]).fetchone()[0] == 1


def test_the_same_risk_is_no_change(ctx):
    before = ctx.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    assert intake.update_case_risk(ctx, HIGH_CRN, rosh="HIGH").message == "X123456: nothing changed"
    assert ctx.db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == before


# --- Supervision ---------------------------------------------------------------------------------


def pp(role="PO", last=None, rpss=()):
    return PractitionerFacts(
        staff_id="s1", name="Pat Officer", role=role, last_one_to_one=last, rpss_dates_last_year=rpss
    )


def one_to_one(work):
    return [w.due for w in work if w.reason == "one_to_one"]


def test_one_to_one_is_due_six_weeks_after_the_last(rules):
    last = TODAY - timedelta(weeks=6) + timedelta(days=3)
    assert one_to_one(supervision_due(pp(last=last, rpss=(TODAY,) * 4), TODAY, rules)) == [date(2026, 11, 26)]


def test_one_to_one_three_weeks_ago_is_not_yet_due_for_a_po(rules):
    assert one_to_one(supervision_due(pp(last=TODAY - timedelta(weeks=3)), TODAY, rules)) == []


@pytest.mark.parametrize("role", ["PQiP", "NQO"])
def test_new_practitioners_are_seen_every_four_weeks(rules, role):
    assert one_to_one(supervision_due(pp(role=role, last=TODAY - timedelta(weeks=3)), TODAY, rules)) == [
        TODAY + timedelta(weeks=1)
    ]


def test_a_practitioner_never_supervised_is_due_today(rules):
    work = supervision_due(pp(), TODAY, rules)
    assert one_to_one(work) == [TODAY]
    assert work[0].title == "One-to-one with Pat Officer"


def test_rpss_is_four_a_year_spaced_a_quarter_apart(rules):
    def rpss(dates):
        return [
            (w.due, w.title) for w in supervision_due(pp(last=TODAY, rpss=dates), TODAY, rules) if w.reason == "rpss"
        ]

    assert rpss(()) == [(TODAY, "RPSS with Pat Officer (0 of 4 this year)")]
    thirteen_weeks_ago = TODAY - timedelta(weeks=13)
    assert rpss((date(2026, 5, 1), thirteen_weeks_ago)) == [(TODAY, "RPSS with Pat Officer (2 of 4 this year)")]
    assert rpss((date(2026, 5, 1), date(2026, 10, 1))) == []  # next one due 31 Dec
    assert rpss((date(2026, 1, 5), date(2026, 4, 6), date(2026, 7, 6), date(2026, 10, 5))) == []  # four held


def test_holding_a_one_to_one_moves_the_next_one_six_weeks_on(ctx):
    refresh.refresh_due_work(ctx)
    item = ctx.db.execute(
        "SELECT s.item_id FROM supervision s WHERE s.kind = 'one_to_one' AND s.practitioner_id = ?",
        [staff_id(ctx.db, PO)],
    ).fetchone()[0]
    decisions.record_oversight(
        ctx, item_id=item, outcome="guidance_given", discussed="Caseload and wellbeing", decision="Carry on"
    )
    assert ctx.db.execute("SELECT held_on FROM supervision WHERE item_id = ?", [item]).fetchone()[0] == "2026-11-23"
    # Three days before the six weeks are up, the next one-to-one comes due on 4 January.
    later = dataclasses.replace(ctx, clock=fixed_clock(datetime(2027, 1, 1, 9, 0, tzinfo=UTC)))
    refresh.refresh_due_work(later)
    dues = rows(
        ctx.db,
        "SELECT i.due, i.status FROM items i JOIN supervision s ON s.item_id = i.id WHERE s.kind = 'one_to_one' AND s.practitioner_id = ? ORDER BY i.due",
        [staff_id(ctx.db, PO)],
    )
    assert dues == [{"due": "2026-11-23", "status": "closed"}, {"due": "2027-01-04", "status": "open"}]


# --- Overriding the rules ------------------------------------------------------------------------


def test_merge_config_replaces_values_and_keeps_the_rest():
    base = {
        "touch_points": {"first_within_days": 21, "quarterly_months": 3},
        "urgency": {"kind": {"task": 5, "sbar": 30}},
    }
    merged = merge_config(base, {"touch_points": {"first_within_days": 14}, "urgency": {"kind": {"task": 50}}})
    assert merged == {
        "touch_points": {"first_within_days": 14, "quarterly_months": 3},
        "urgency": {"kind": {"task": 50, "sbar": 30}},
    }
    assert base["touch_points"]["first_within_days"] == 21  # the base is not changed


def test_a_rules_file_overrides_one_value(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("[touch_points]\nfirst_within_days = 10\n")
    mine = load_rules(override=path)
    assert mine.get("touch_points", "first_within_days") == 10
    assert mine.get("touch_points", "quarterly_months") == 3
    assert reasons(calendar_touch_points(case(), TODAY, mine)) == {"commencement": date(2026, 11, 20)}


def test_the_rules_file_named_by_spo_tui_rules_is_read(tmp_path, monkeypatch):
    path = tmp_path / "team.toml"
    path.write_text("[supervision]\none_to_one_weeks = 3\n")
    monkeypatch.setenv("SPO_TUI_RULES", str(path))
    mine = load_rules()
    assert one_to_one(supervision_due(pp(last=TODAY - timedelta(weeks=2)), TODAY, mine)) == [TODAY + timedelta(weeks=1)]


def test_the_fixture_rules_are_the_shipped_defaults(rules):
    assert rules.get("touch_points", "first_within_days") == 21
    assert rules.get("supervision", "rpss_per_year") == 4
    assert rules.get("tasks", "facilities_working_days") == 10


def test_a_broken_rules_file_is_reported(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[touch_points\nfirst_within_days = 10\n")
    with pytest.raises(ValidationError, match=r"rules file .*broken\.toml is not valid TOML"):
        load_rules(override=path)


def test_a_mistyped_number_in_the_rules_is_reported(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text('[supervision]\none_to_one_weeks = "six"\n')
    with pytest.raises(
        ValidationError, match=r"rules: \[supervision\] one_to_one_weeks must be a whole number, not 'six'"
    ):
        load_rules(override=path)


def test_a_mistyped_rosh_level_in_the_rules_is_reported(tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text('[touch_points]\nquarterly_rosh = ["HIGH", "VERY HIGH"]\n')
    with pytest.raises(ValidationError, match="quarterly_rosh"):
        load_rules(override=path)


def test_the_hub_is_synced_every_minute_by_default(rules):
    assert rules.get("sync", "interval_seconds") == 60


@pytest.mark.parametrize("bad", ["0", "5", "-60", '"60"', "true", "1.5"])
def test_a_sync_interval_that_is_not_ten_seconds_or_more_is_refused(tmp_path, bad):
    path = tmp_path / "mine.toml"
    path.write_text(f"[sync]\ninterval_seconds = {bad}\n")
    with pytest.raises(ValidationError, match=r"rules: \[sync\] interval_seconds must be a whole number of seconds"):
        load_rules(override=path)


def test_a_missing_value_is_reported(rules):
    raw = {k: dict(v) for k, v in rules.raw.items()}
    del raw["tasks"]["facilities_working_days"]
    with pytest.raises(ValidationError, match=r"rules: \[tasks\] facilities_working_days is missing"):
        Rules.from_dict(raw)


# --- Facilities tasks and PSR deadlines ----------------------------------------------------------


def test_facilities_task_is_due_ten_working_days_later_across_christmas(rules):
    assert task_due(TaskCategory.BUILDINGS, date(2026, 12, 18), rules) == date(2027, 1, 6)
    assert task_due(TaskCategory.HEALTH_SAFETY, date(2027, 3, 19), rules) == date(2027, 4, 6)


def test_a_buildings_task_raised_the_friday_before_christmas_is_due_on_6_january(ctx):
    friday = dataclasses.replace(ctx, clock=fixed_clock(datetime(2026, 12, 18, 10, 0, tzinfo=UTC)))
    result = intake.add_task(friday, "Broken door entry system", "buildings", details="Interview room 2")
    assert result.message == "Added: Broken door entry system"
    assert ctx.db.execute("SELECT due FROM items WHERE id = ?", [result.item_id]).fetchone()[0] == "2027-01-06"


def test_a_task_with_its_own_due_date_keeps_it(ctx):
    result = intake.add_task(ctx, "Order laptop", "it", due="2026-12-01")
    assert ctx.db.execute("SELECT due FROM items WHERE id = ?", [result.item_id]).fetchone()[0] == "2026-12-01"


@pytest.mark.parametrize(
    "court, due",
    [
        (date(2026, 11, 30), date(2026, 11, 27)),  # Monday court: the Friday before
        (date(2027, 1, 4), date(2026, 12, 31)),  # Monday after New Year's Day (Fri): Thursday
        (date(2026, 12, 29), date(2026, 12, 24)),  # Tuesday after Christmas and substitute Boxing Day
        (date(2027, 3, 30), date(2027, 3, 25)),  # Tuesday after Easter 2027
        (date(2026, 11, 25), date(2026, 11, 24)),  # midweek
    ],
)
def test_psr_is_due_one_working_day_before_court(rules, court, due):
    assert countersign_due(CountersignKind.PSR, TODAY, court, rules) == due


def test_a_psr_through_the_service_is_due_the_thursday_before_a_bank_holiday_monday_court(ctx):
    result = intake.add_countersign(ctx, HIGH_CRN, "PSR", PO, court_date="04/01/2027")
    row = ctx.db.execute(
        "SELECT i.due, c.court_date, c.state FROM items i JOIN countersigns c ON c.item_id = i.id WHERE i.id = ?",
        [result.item_id],
    ).fetchone()
    assert row == ("2026-12-31", "2027-01-04", "AWAITING_GATEKEEP")  # gatekept, not countersigned [000 §3.2]


def test_psr_deadline_follows_the_rules(rules):
    two_days = Rules.from_dict(merge_config(rules.raw, {"countersign": {"psr_working_days_before_court": 2}}))
    assert countersign_due(CountersignKind.PSR, TODAY, date(2026, 11, 30), two_days) == date(2026, 11, 26)


def test_psr_without_a_court_date_is_refused_by_the_rule(rules):
    with pytest.raises(ValidationError, match="a PSR needs its court date"):
        countersign_due(CountersignKind.PSR, TODAY, None, rules)


def test_oasys_and_other_countersigning_deadlines_count_working_days(rules):
    assert countersign_due(CountersignKind.OASYS, date(2026, 12, 22), None, rules) == date(2026, 12, 31)
    assert countersign_due(CountersignKind.PAROLE_REPORT, TODAY, None, rules) == date(2026, 12, 7)


def test_an_agreed_action_defaults_to_fourteen_days(rules):
    assert action_due(TODAY, rules) == date(2026, 12, 7)
