"""A second team in the store does not leak into one team's SPO's work (issue 16 "Done when": the
one-team demo carries a court team beside Team A [000 §3.2]).

Whose team it is: the deciding person's (``Context.team``); a PDU head's is every team. Pickers offer
the own team's people and the PDU-wide staff (an SAO, a business manager); notes, escalations and
check-in actions are their writer's team's; the protected hour is each team's own [000 §3.1, 001].
"""

from __future__ import annotations

from datetime import date

import pytest
from conftest import BM, CASPO, HIGH_CRN, NOW, PO, PSO, SAO, SPO, fixed_clock, select_item

from spo_tui.services import admin, decisions, intake, lookup, rhythm, team, workload
from spo_tui.services.context import make_context

OTHER_SPO = "Zoe Court"  # sorts after the hand-made team's SPO: the app still opens as Sam Spo
OTHER_PO = "Olu Court"
OTHER_CASPO = "Cara Court"
OTHER_CRN = "Z111111"
HEAD = "Hana Head"


@pytest.fixture
def two_teams(ctx):
    """The hand-made Team A and a court team, with its own SPO, CASPO and PO, a defendant not yet
    sentenced, check-in notes, an escalation, an agreed action and an SBAR booked into its protected
    hour; and a PDU head over both."""
    intake.add_staff(ctx, OTHER_SPO, "SPO", team="Court Team")
    intake.add_staff(ctx, OTHER_CASPO, "CASPO", team="Court Team")
    intake.add_staff(ctx, OTHER_PO, "PO", team="Court Team")
    intake.add_staff(ctx, HEAD, "PDU head", team="PDU")
    admin.set_team_kind(ctx, "Court Team", "court")
    intake.add_case(ctx, OTHER_CRN, "Dee Fendant", OTHER_PO, "MEDIUM", "PRE_SENTENCE", "2026-11-20")
    court = make_context(ctx.db, ctx.rules, OTHER_SPO, clock=fixed_clock(NOW))
    rhythm.add_team_note(court, "concern", "Court list overrunning", crn=OTHER_CRN)
    rhythm.add_team_note(court, "escalation", "Need a second PO for the remand court")
    rhythm.add_team_note(court, "learning", "Oral reports need the police summary first")
    rhythm.add_team_note(court, "action", "Chase the CPS bundle", crn=OTHER_CRN, owner=OTHER_PO)
    sbar = intake.raise_sbar(court, OTHER_CRN, OTHER_PO, "S", "B", "A", "R").item_id
    decisions.book_protected_hour(court, sbar)
    rhythm.add_team_note(ctx, "concern", "Team A's own concern", crn=HIGH_CRN)
    head = make_context(ctx.db, ctx.rules, HEAD, clock=fixed_clock(NOW))
    return ctx, court, head, sbar


def names(people) -> set[str]:
    return {p["name"] for p in people}


def test_pickers_offer_the_own_team_and_pdu_wide_staff(two_teams):
    """Reassign, cover, reallocate and the admin forms offer the SPO's own team's people and the
    PDU-wide staff, never another team's; a PDU head is offered everyone [000 §3.1]."""
    ctx, court, head, _ = two_teams
    assert names(lookup.staff(ctx)) == {SPO, PO, PSO, CASPO, SAO, BM, HEAD}
    assert names(lookup.practitioners(ctx)) == {PO, PSO}
    assert names(lookup.delegates(ctx)) == {CASPO, SAO, BM}
    assert set(workload.people_workload(ctx)) == {PO, PSO}
    assert names(lookup.practitioners(court)) == {OTHER_PO}
    assert set(workload.people_workload(court)) == {OTHER_PO}
    assert names(lookup.practitioners(head)) == {PO, PSO, OTHER_PO}
    assert set(workload.people_workload(head)) == {PO, PSO, OTHER_PO}


def test_a_partial_case_search_keeps_to_the_team_but_a_whole_crn_opens_any_case(two_teams):
    """Searching by name lists the own team's cases only; a whole CRN still finds a case anywhere
    (opened on purpose, and logged) [issue 16]."""
    ctx, court, head, _ = two_teams
    assert lookup.find_cases(ctx, "Fendant") == []
    assert [c["crn"] for c in lookup.find_cases(court, "Fendant")] == [OTHER_CRN]
    assert [c["crn"] for c in lookup.find_cases(head, "Fendant")] == [OTHER_CRN]
    assert [c["crn"] for c in lookup.find_cases(ctx, OTHER_CRN)] == [OTHER_CRN]


def test_the_checkin_shows_only_the_own_teams_notes_escalations_and_people(two_teams):
    """The check-in agenda (concerns, escalations awaiting an answer, workload) and the day's notes
    are the team's own: another team's check-in is not read out at this one [001]."""
    ctx, court, head, _ = two_teams
    agenda = rhythm.checkin_agenda(ctx)
    assert [n.text for n in agenda.concerns] == ["Team A's own concern"]
    assert agenda.escalations == ()
    assert {w.name for w in agenda.workload} == {PO, PSO}
    assert {n.text for n in rhythm.checkin_notes(ctx)} == {"Team A's own concern"}
    court_agenda = rhythm.checkin_agenda(court)
    assert [n.text for n in court_agenda.concerns] == ["Court list overrunning"]
    assert [t.note.text for t in court_agenda.escalations] == ["Need a second PO for the remand court"]
    assert len(rhythm.checkin_notes(head)) == 5  # a PDU head reads every team's


def test_the_monthly_pack_coverage_and_trends_are_the_teams_own(two_teams):
    """The monthly pack's escalations, learning, check-in actions, coverage and trends count the
    team's own work only [001, 000 §1.3]."""
    ctx, court, head, _ = two_teams
    pack = team.monthly_pack(ctx)
    assert pack.escalations == () and pack.learning == () and pack.actions == ()
    assert pack.coverage_end.total.cases == 2  # Team A's two cases, not the defendant
    sbars = next(s for s in pack.trends.backlog if s.key == "sbar")
    assert sbars.last == 0
    court_pack = team.monthly_pack(court)
    assert [a.note.text for a in court_pack.actions] == ["Chase the CPS bundle"]
    assert [n.text for n in court_pack.learning] == ["Oral reports need the police summary first"]
    assert next(s for s in court_pack.trends.backlog if s.key == "sbar").last == 1
    assert team.coverage(head).total.cases == 3
    assert {r.name for r in team.team_overview(ctx)} == {PO, PSO}
    assert {r.name for r in team.supervision_plan(ctx)} == {PO, PSO}


def test_each_team_has_its_own_protected_hour(two_teams):
    """The protected hour is the SPO's own: the court team's booking neither shows in Team A's
    running order nor takes its first slot [001]."""
    ctx, court, head, sbar = two_teams
    assert all(s.free for s in rhythm.protected_hour(ctx))
    assert [s.item_id for s in rhythm.protected_hour(court) if not s.free] == [sbar]
    mine = intake.raise_sbar(ctx, HIGH_CRN, PO, "S", "B", "A", "R").item_id
    decisions.book_protected_hour(ctx, mine)
    booked = {s.item_id: s.start for s in rhythm.protected_hour(head) if not s.free}
    assert booked[mine] == booked[sbar]  # the same 13:00 slot, in two teams' hours
    assert booked[mine].date() == date(2026, 11, 23)


async def test_the_reassign_picker_offers_no_one_from_another_team(two_teams, tmp_path, running_app):
    """On screen: Team A's SPO reassigning an item is offered Team A's people and the PDU-wide staff,
    not the court team's [000 §3.1]."""
    from spo_tui.screens.prompts import ChoiceScreen

    ctx, *_ = two_teams
    tp = intake.add_touch_point(ctx, HIGH_CRN, "2026-11-20", "Check new address").item_id
    ctx.db.close()
    async with running_app(tmp_path / "t.db") as (app, pilot):
        assert app.ctx.actor["name"] == SPO
        await select_item(app, pilot, tp)
        await pilot.press("a")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        offered = {value for value, _ in picker.choices}
        assert {PO, PSO, CASPO, SAO, BM} <= offered
        assert not offered & {OTHER_SPO, OTHER_PO, OTHER_CASPO}


def test_the_admin_lists_are_the_teams_own_cases(two_teams):
    """The CASPO's touch-point diary and MAPPA level-1 reviews list the own team's cases only (a
    sentence-management team's licence case beside the court team's) [001 "the role of the case
    administrator"]."""
    ctx, court, head, _ = two_teams
    other = "Z222222"
    intake.add_staff(ctx, "Ola Other", "PO", team="Team C")
    intake.add_staff(ctx, "Cy Chief", "SPO", team="Team C")
    intake.add_case(
        ctx, other, "Lee Licence", "Ola Other", "HIGH", "LICENCE", "2026-08-01", mappa_category=2, mappa_level=1
    )
    intake.add_touch_point(ctx, other, "2026-11-24", "Home visit")
    diary = {line.crn for lines in admin.touch_point_diary(ctx).values() for line in lines}
    assert other not in diary
    assert {r["crn"] for r in admin.mappa_level1_reviews(ctx)} == {HIGH_CRN}
    assert {r["crn"] for r in admin.mappa_level1_reviews(head)} == {HIGH_CRN, other}
    assert other in {line.crn for lines in admin.touch_point_diary(head).values() for line in lines}
