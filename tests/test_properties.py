"""Property tests: whatever a user types, services either succeed or refuse with a clear message,
and a refusal changes nothing. A fixed budget keeps CI predictable."""

from __future__ import annotations

from conftest import HIGH_CRN, PO, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spo_tui.domain.errors import SpoError
from spo_tui.services import decisions, intake

TEXT = st.text(max_size=40)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def refuses_cleanly_or_succeeds(ctx, call):
    before = snapshot(ctx.db)
    try:
        call()
    except SpoError as error:
        assert str(error)  # a message for the user
        assert snapshot(ctx.db) == before


@SETTINGS
@given(crn=TEXT, rosh=TEXT, start=TEXT, end=TEXT)
def test_add_case_with_any_text(ctx, crn, rosh, start, end):
    refuses_cleanly_or_succeeds(
        ctx, lambda: intake.add_case(ctx, crn, "Name", PO, rosh, "LICENCE", start, sentence_end=end)
    )


@SETTINGS
@given(parts=st.lists(TEXT, min_size=4, max_size=4), urgency=TEXT)
def test_raise_sbar_with_any_text(ctx, parts, urgency):
    refuses_cleanly_or_succeeds(ctx, lambda: intake.raise_sbar(ctx, HIGH_CRN, PO, *parts, urgency))


@SETTINGS
@given(title=TEXT, category=TEXT, due=TEXT)
def test_add_task_with_any_text(ctx, title, category, due):
    refuses_cleanly_or_succeeds(ctx, lambda: intake.add_task(ctx, title, category, due=due))


@SETTINGS
@given(when=TEXT)
def test_snooze_with_any_text(ctx, when):
    item = intake.add_touch_point(ctx, HIGH_CRN, "2026-11-30").item_id
    refuses_cleanly_or_succeeds(ctx, lambda: decisions.snooze(ctx, item, when))


@SETTINGS
@given(outcome=TEXT, discussed=TEXT, decision=TEXT, owner=TEXT, due=TEXT)
def test_record_oversight_with_any_text(ctx, outcome, discussed, decision, owner, due):
    refuses_cleanly_or_succeeds(
        ctx,
        lambda: decisions.record_oversight(
            ctx,
            crn=HIGH_CRN,
            outcome=outcome,
            discussed=discussed,
            decision=decision,
            actions=[decisions.AgreedAction("Do it", owner, due)],
        ),
    )


@SETTINGS
@given(verdict=TEXT, minutes=TEXT)
def test_countersign_and_task_minutes_with_any_text(ctx, verdict, minutes):
    cs = intake.add_countersign(ctx, HIGH_CRN, "OASYS", PO).item_id
    refuses_cleanly_or_succeeds(ctx, lambda: decisions.countersign(ctx, cs, verdict=verdict, signed_off=False))
    task = intake.add_task(ctx, "Heating", "buildings").item_id
    refuses_cleanly_or_succeeds(ctx, lambda: decisions.complete_task(ctx, task, minutes))
