"""Urgency: one explainable score across every kind of work, and the order of the SPO's queue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import HIGH_CRN, LOW_CRN, PO, PSO, TODAY, fixed_clock

from spo_tui.domain.rules import Rules, merge_config
from spo_tui.domain.urgency import ItemFacts, explain, sort_key
from spo_tui.domain.vocab import ItemKind
from spo_tui.services import decisions, intake
from spo_tui.services.context import make_context
from spo_tui.services.queue import build_queue
from spo_tui.store import queries


def item(id="a", kind=ItemKind.TASK, due=None, created=TODAY, **facts) -> ItemFacts:
    return ItemFacts(id=id, kind=kind, due=due, created=created, **facts)


def order(items, weights, today=TODAY) -> list[str]:
    return [i.id for i in sorted(items, key=lambda i: sort_key(i, explain(i, today, weights)))]


# --- explain -------------------------------------------------------------------------------------


def test_explain_lists_every_reason_and_the_points_add_up(rules):
    sbar = item(
        kind=ItemKind.SBAR,
        due=TODAY,
        created=TODAY - timedelta(days=3),
        rosh="HIGH",
        mappa_level=2,
        sbar_urgency="urgent",
    )
    u = explain(sbar, TODAY, rules.urgency)
    assert u.reasons == (
        ("time-critical: an SBAR marked urgent", 1000),
        ("SBAR", 30),
        ("due today", 15),
        ("RoSH high", 20),
        ("MAPPA level 2", 15),
        ("practitioner marked it urgent", 25),
        ("waiting 3 days", 3),
    )
    assert u.score == 1108 == sum(points for _, points in u.reasons)


# --- the tiers: time-critical work above backlog, the catch-up list below ordinary work ------------

#: Monday 23/11/2026; Friday 25/12/2026 is Christmas Day, Monday 28/12 the Boxing Day holiday.
FRIDAY_BEFORE_CHRISTMAS = date(2026, 12, 18)
CHRISTMAS_EVE = date(2026, 12, 24)

#: The worst backlog there is: a touch point 109 days overdue on a very high RoSH, MAPPA level 3 case.
BACKLOG = item(
    id="backlog",
    kind=ItemKind.TOUCH_POINT,
    due=TODAY - timedelta(days=109),
    created=TODAY - timedelta(days=200),
    rosh="VERY_HIGH",
    mappa_level=3,
)


@pytest.mark.parametrize(
    "critical, why",
    [
        (item(kind=ItemKind.SBAR, sbar_urgency="urgent", rosh="LOW"), "an SBAR marked urgent"),
        (item(kind=ItemKind.COUNTERSIGN, countersign_kind="PSR", court_date=TODAY), "PSR for court today"),
        (
            item(kind=ItemKind.COUNTERSIGN, countersign_kind="PSR", court_date=TODAY + timedelta(days=1)),
            "PSR for court on Tue 24/11/2026",
        ),
        (item(kind=ItemKind.COUNTERSIGN, countersign_kind="OASYS", due=TODAY), "deadline today"),
        (item(kind=ItemKind.ACTION, due=TODAY), "deadline today"),
        (
            item(kind=ItemKind.COUNTERSIGN, countersign_kind="PSR", due=TODAY, court_date=TODAY + timedelta(days=1)),
            "PSR for court on Tue 24/11/2026; deadline today",
        ),
    ],
)
def test_time_critical_work_ranks_above_any_backlog_and_says_why(rules, critical, why):
    u = explain(critical, TODAY, rules.urgency)
    assert u.reasons[0] == (f"time-critical: {why}", 1000)
    assert u.score > explain(BACKLOG, TODAY, rules.urgency).score
    alert = item(id="z-alert", kind=ItemKind.ALERT, rosh="LOW")
    assert order([BACKLOG, critical, alert], rules.urgency) == ["z-alert", critical.id, "backlog"]


@pytest.mark.parametrize(
    "backlog",
    [
        item(kind=ItemKind.SBAR, sbar_urgency="soon", due=TODAY),  # soon is not urgent
        item(kind=ItemKind.COUNTERSIGN, countersign_kind="PSR", court_date=TODAY + timedelta(days=2)),  # Wednesday
        item(kind=ItemKind.COUNTERSIGN, countersign_kind="PSR", court_date=TODAY - timedelta(days=1)),  # court has sat
        item(kind=ItemKind.COUNTERSIGN, countersign_kind="OASYS", due=TODAY - timedelta(days=1)),  # overdue: backlog
        item(kind=ItemKind.ACTION, due=TODAY + timedelta(days=1)),
        item(kind=ItemKind.TOUCH_POINT, due=TODAY),  # a calendar touch point is never time-critical
        item(kind=ItemKind.TASK, due=TODAY),
    ],
)
def test_other_work_is_not_time_critical(rules, backlog):
    assert not any(r.startswith("time-critical") for r, _ in explain(backlog, TODAY, rules.urgency).reasons)


@pytest.mark.parametrize(
    "today, court, critical",
    [
        (FRIDAY_BEFORE_CHRISTMAS, date(2026, 12, 21), True),  # Friday: Monday is the next working day
        (FRIDAY_BEFORE_CHRISTMAS, date(2026, 12, 22), False),
        (CHRISTMAS_EVE, date(2026, 12, 29), True),  # Christmas Day and the Boxing Day holiday skipped
        (CHRISTMAS_EVE, date(2026, 12, 30), False),
    ],
)
def test_a_psrs_next_working_day_skips_weekends_and_bank_holidays(rules, today, court, critical):
    psr = item(kind=ItemKind.COUNTERSIGN, countersign_kind="PSR", court_date=court)
    reasons = explain(psr, today, rules.urgency).reasons
    assert any(r.startswith("time-critical: PSR for court") for r, _ in reasons) is critical


def test_the_time_critical_rules_are_configurable(rules):
    weights = merge_config(
        rules.urgency,
        {
            "time_critical": {
                "sbar_urgency": ["soon", "urgent"],
                "deadline_today": ["task"],
                "psr_court_within_working_days": 0,
            }
        },
    )
    soon = item(kind=ItemKind.SBAR, sbar_urgency="soon")
    task = item(kind=ItemKind.TASK, due=TODAY)
    action = item(kind=ItemKind.ACTION, due=TODAY)
    psr = item(kind=ItemKind.COUNTERSIGN, countersign_kind="PSR", court_date=TODAY + timedelta(days=1))
    assert [
        explain(i, TODAY, weights).reasons[0][0].startswith("time-critical") for i in (soon, task, action, psr)
    ] == [True, True, False, False]


def test_the_catch_up_list_ranks_below_ordinary_work_in_its_own_order(rules):
    inherited = dataclasses.replace(BACKLOG, id="inherited", catch_up=True)
    inherited_low = item(
        id="inherited-low", kind=ItemKind.TOUCH_POINT, due=TODAY - timedelta(days=60), rosh="LOW", catch_up=True
    )
    routine = item(id="routine", kind=ItemKind.TASK, due=TODAY + timedelta(days=30))
    u = explain(inherited, TODAY, rules.urgency)
    assert u.reasons[0] == ("on the catch-up list: long overdue when it reached the queue", -1000)
    assert u.score == explain(BACKLOG, TODAY, rules.urgency).score - 1000
    assert order([inherited_low, inherited, routine, BACKLOG], rules.urgency) == [
        "backlog",
        "routine",
        "inherited",
        "inherited-low",
    ]


@pytest.mark.parametrize(
    "override, message",
    [
        ({"time_critical": {"points": 240}}, "[urgency.time_critical] points must be a whole number more than 240"),
        ({"catch_up": -100}, "[urgency] catch_up must be a whole number less than -240"),
        ({"kind": {"sbar": 900}}, "[urgency.time_critical] points must be a whole number more than 1110"),
        ({"overdue": -5}, "[urgency] overdue must be a whole number, 0 or more"),
        ({"time_critical": {"sbar_urgency": "urgent"}}, "[urgency.time_critical] sbar_urgency must be a list of"),
        (
            {"time_critical": {"deadline_today": ["meeting"]}},
            "[urgency.time_critical] deadline_today must be a list of",
        ),
    ],
)
def test_rules_that_would_let_work_cross_a_tier_are_refused(rules, override, message):
    from spo_tui.domain.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        Rules.from_dict(merge_config(rules.raw, {"urgency": override}))
    assert str(refused.value).startswith(f"rules: {message}")


@pytest.mark.parametrize(
    "due, reason, points",
    [
        (TODAY + timedelta(days=1), "due tomorrow", 8),
        (TODAY + timedelta(days=3), "due in 3 days", 4),
        (TODAY - timedelta(days=1), "overdue by 1 day", 22),
        (TODAY - timedelta(days=3), "overdue by 3 days", 26),
        (TODAY - timedelta(days=40), "overdue by 40 days", 80),  # capped at 30 days' worth
    ],
)
def test_due_dates_add_points_that_grow_with_lateness(rules, due, reason, points):
    u = explain(item(kind=ItemKind.TASK, due=due), TODAY, rules.urgency)
    assert u.reasons == (("Task", 5), (reason, points))
    assert u.score == 5 + points


def test_far_off_and_undated_items_score_only_their_kind(rules):
    assert explain(item(due=TODAY + timedelta(days=10)), TODAY, rules.urgency).reasons == (("Task", 5),)
    assert explain(item(), TODAY, rules.urgency).reasons == (("Task", 5),)


def test_waiting_points_are_capped(rules):
    u = explain(item(created=TODAY - timedelta(days=60)), TODAY, rules.urgency)
    assert u.reasons == (("Task", 5), ("waiting 60 days", 10))


def test_low_rosh_adds_no_reason(rules):
    u = explain(item(kind=ItemKind.TOUCH_POINT, rosh="LOW"), TODAY, rules.urgency)
    assert u.reasons == (("Touch point", 20),)


@pytest.mark.parametrize(
    "court, text", [(TODAY, "PSR: court today"), (TODAY + timedelta(days=1), "PSR: court tomorrow")]
)
def test_a_psr_with_court_imminent_gets_a_reason(rules, court, text):
    psr = item(kind=ItemKind.COUNTERSIGN, countersign_kind="PSR", court_date=court)
    assert (text, 40) in explain(psr, TODAY, rules.urgency).reasons


def test_a_psr_with_court_next_week_gets_no_court_reason(rules):
    psr = item(kind=ItemKind.COUNTERSIGN, countersign_kind="PSR", court_date=TODAY + timedelta(days=7))
    assert not any(r.startswith("PSR") for r, _ in explain(psr, TODAY, rules.urgency).reasons)


# --- sort order ----------------------------------------------------------------------------------


def test_an_alert_comes_first_even_with_a_lower_score(rules):
    alert = item(id="z-alert", kind=ItemKind.ALERT, due=TODAY, rosh="LOW")
    sbar = item(
        id="a-sbar",
        kind=ItemKind.SBAR,
        due=TODAY - timedelta(days=30),
        created=TODAY - timedelta(days=30),
        rosh="VERY_HIGH",
        mappa_level=3,
        sbar_urgency="urgent",
    )
    assert explain(sbar, TODAY, rules.urgency).score > explain(alert, TODAY, rules.urgency).score
    assert order([sbar, alert], rules.urgency) == ["z-alert", "a-sbar"]


def test_higher_score_comes_before_lower(rules):
    low = item(id="a", kind=ItemKind.TASK, due=TODAY)
    high = item(id="b", kind=ItemKind.TOUCH_POINT, due=TODAY, rosh="HIGH")
    assert order([low, high], rules.urgency) == ["b", "a"]


def test_ties_are_broken_by_due_date_then_id(rules):
    weights = merge_config(rules.urgency, {"due_soon_days": 0, "due_tomorrow": 0})  # equal scores whatever the date
    later = item(id="a", due=TODAY + timedelta(days=9))
    sooner = item(id="b", due=TODAY + timedelta(days=5))
    undated = item(id="0")
    same_1 = item(id="d", due=TODAY + timedelta(days=5))
    same_2 = item(id="c", due=TODAY + timedelta(days=5))
    assert len({explain(i, TODAY, weights).score for i in (later, sooner, undated, same_1, same_2)}) == 1
    assert order([later, undated, same_1, sooner, same_2], weights) == ["b", "c", "d", "a", "0"]


def test_the_same_items_always_sort_the_same_way(rules):
    items = [item(id=str(n), kind=k, due=TODAY + timedelta(days=n % 4)) for n, k in enumerate(ItemKind)]
    assert order(items, rules.urgency) == order(list(reversed(items)), rules.urgency)


# --- the queue -----------------------------------------------------------------------------------


def queue_ids(ctx, **kw) -> list[str]:
    return [e.id for e in build_queue(ctx, **kw)]


def with_weights(ctx, override):
    return dataclasses.replace(ctx, rules=Rules.from_dict(merge_config(ctx.rules.raw, {"urgency": override})))


def test_an_urgent_sbar_ranks_above_touch_points_months_overdue(ctx):
    """Issue #12: an urgent SBAR ranked 12th, below touch points up to 109 days overdue."""
    old = [
        intake.add_touch_point(ctx, HIGH_CRN, TODAY - timedelta(days=d), f"Quarterly review {d}").item_id
        for d in (25, 49, 109)
    ]
    sbar = intake.raise_sbar(
        ctx, LOW_CRN, PSO, "Late back to approved premises", "B", "A", "Recall decision needed", urgency="urgent"
    ).item_id
    ids = queue_ids(ctx)
    assert ids[0] == sbar and set(ids[1:]) == set(old)
    [entry] = [e for e in build_queue(ctx) if e.id == sbar]
    assert entry.as_json(TODAY)["reasons"][0] == {"reason": "time-critical: an SBAR marked urgent", "points": 1000}


def test_the_queue_puts_an_alert_on_a_low_case_above_an_urgent_sbar(ctx):
    sbar = intake.raise_sbar(
        ctx, HIGH_CRN, PO, "Threats to ex-partner", "Known DA", "Risk imminent", "Discuss recall", urgency="urgent"
    )
    task = intake.add_task(ctx, "Fire alarm test", "health_safety")
    alert = intake.add_alert(ctx, LOW_CRN, "call_out", "Police called to address last night")
    # Even with alerts weighted at nothing, they stay on top.
    for context in (ctx, with_weights(ctx, {"kind": {"alert": 0}})):
        assert queue_ids(context) == [alert.item_id, sbar.item_id, task.item_id]


def test_raising_the_task_weight_moves_tasks_up(ctx):
    task = intake.add_task(ctx, "Leaking roof", "buildings", due="2026-11-23")
    tp = intake.add_touch_point(ctx, LOW_CRN, "2026-11-23", "New information from police")
    assert queue_ids(ctx) == [tp.item_id, task.item_id]
    assert queue_ids(with_weights(ctx, {"kind": {"task": 50}})) == [task.item_id, tp.item_id]


def test_a_psr_with_court_tomorrow_shows_why_it_is_urgent(ctx):
    psr = intake.add_countersign(ctx, LOW_CRN, "PSR", PSO, court_date="24/11/2026")
    [entry] = build_queue(ctx)
    assert entry.id == psr.item_id
    assert ("PSR: court tomorrow", 40) in entry.urgency.reasons
    assert entry.due_text(TODAY) == "today"  # gatekept one working day before court
    shown = entry.as_json(TODAY)
    assert shown["urgency"] == sum(r["points"] for r in shown["reasons"])
    assert {"reason": "PSR: court tomorrow", "points": 40} in shown["reasons"]
    assert shown["crn"] == LOW_CRN and shown["practitioner"] == PSO and shown["rosh"] == "LOW"


def test_a_snoozed_item_is_hidden_until_its_date(ctx):
    tp = intake.add_touch_point(ctx, LOW_CRN, "2026-11-23")
    decisions.snooze(ctx, tp.item_id, "wed")
    assert queue_ids(ctx) == []
    tuesday = dataclasses.replace(ctx, clock=fixed_clock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC)))
    wednesday = dataclasses.replace(ctx, clock=fixed_clock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC)))
    assert queue_ids(tuesday) == []
    assert queue_ids(wednesday) == [tp.item_id]


def test_reassigning_an_item_takes_it_out_of_the_spos_queue_and_into_theirs(ctx):
    tp = intake.add_touch_point(ctx, HIGH_CRN, "2026-11-30")
    other = intake.add_touch_point(ctx, LOW_CRN, "2026-11-30")
    decisions.reassign(ctx, tp.item_id, PO)
    assert queue_ids(ctx) == [other.item_id]
    pat = make_context(ctx.db, ctx.rules, PO, clock=ctx.clock)
    assert tp.item_id in queue_ids(pat)


def test_queue_counts_agree_with_the_queue_after_a_reassignment(ctx):
    tp = intake.add_touch_point(ctx, HIGH_CRN, "2026-11-30")
    intake.add_touch_point(ctx, LOW_CRN, "2026-11-30")
    decisions.reassign(ctx, tp.item_id, PO)
    assert (
        queries.queue_counts(ctx.db, ctx.today, ctx.decider["id"])["touch_point"][0]
        == len(build_queue(ctx, kind="touch_point"))
        == 1
    )


def test_queue_counts_count_open_and_overdue_per_kind(ctx):
    intake.add_touch_point(ctx, HIGH_CRN, "2026-11-20")
    intake.add_touch_point(ctx, LOW_CRN, "2026-11-30")
    task = intake.add_task(ctx, "Order chairs", "other")
    decisions.delegate_task(ctx, task.item_id, "Cas Admin")
    # The delegated task is out of the queue and counted as waiting on someone else.
    assert queries.queue_counts(ctx.db, ctx.today, ctx.decider["id"]) == {"touch_point": (2, 1), "waiting": (1, 0)}


def test_the_queue_can_be_filtered_by_kind_and_search_and_limited(ctx):
    a = intake.add_touch_point(ctx, HIGH_CRN, "2026-11-23")
    b = intake.add_touch_point(ctx, LOW_CRN, "2026-11-24")
    intake.add_task(ctx, "Order chairs", "other")
    assert set(queue_ids(ctx, kind="touch_point")) == {a.item_id, b.item_id}
    assert queue_ids(ctx, search="bo sample") == [b.item_id]  # the case name
    assert queue_ids(ctx, search="pat off") == [a.item_id]  # the practitioner
    assert queue_ids(ctx, search="chairs", kind="touch_point") == []
    assert len(queue_ids(ctx, limit=2)) == 2


def test_closed_and_waiting_items_are_not_in_the_queue(ctx):
    done = intake.add_task(ctx, "Fire drill", "health_safety")
    away = intake.add_task(ctx, "Car park lights", "buildings")
    decisions.complete_task(ctx, done.item_id, 15)
    decisions.delegate_task(ctx, away.item_id, "Bea Manager")
    assert queue_ids(ctx) == []


def test_queue_order_scores_case_risk(ctx):
    low = intake.add_touch_point(ctx, LOW_CRN, "2026-11-30")
    high = intake.add_touch_point(ctx, HIGH_CRN, "2026-11-30")
    entries = build_queue(ctx)
    assert [e.id for e in entries] == [high.item_id, low.item_id]
    assert ("RoSH high", 20) in entries[0].urgency.reasons and ("MAPPA level 1", 5) in entries[0].urgency.reasons
    assert entries[0].kind == ItemKind.TOUCH_POINT and entries[0].due == date(2026, 11, 30)
