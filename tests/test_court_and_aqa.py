"""Court work and less countersigning at source (issue 16 §1–2) [000 §3.2–3.3], through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import CASPO, HIGH_CRN, LOW_CRN, NOW, PO, PSO, TODAY, fixed_clock, row, rows

from spo_tui.domain import court as court_rules
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.rules import Rules
from spo_tui.services import aqa, countersigning, decisions, intake, team
from spo_tui.services.context import make_context
from spo_tui.services.refresh import refresh_due_work

MED_CRN = "M111111"
PEER = "Peta Peer"
NQO = "Nia Newly"
PQIP = "Pia Trainee"
QDO = "Quinn Quality"


@pytest.fixture
def court(ctx):
    """The small team plus a medium-RoSH case, a second PO (a peer), an NQO, a PQiP and a QDO."""
    intake.add_staff(ctx, PEER, "PO", team="Team A")
    intake.add_staff(ctx, NQO, "NQO", team="Team A")
    intake.add_staff(ctx, PQIP, "PQiP", team="Team A")
    intake.add_staff(ctx, QDO, "QDO", team="Team A")
    intake.add_case(ctx, MED_CRN, "Mo Medium", PSO, "MEDIUM", "COMMUNITY_ORDER", "2026-10-01")
    return ctx


def _cs(ctx, item_id):
    return row(
        ctx.db,
        "SELECT i.status, i.due, i.waiting_on, c.state, c.gatekeeper_id, c.court_time, c.oral, c.sampled"
        " FROM items i JOIN countersigns c ON c.item_id = i.id WHERE i.id = ?",
        [item_id],
    )


# --- §1 PSR gatekeeping ---------------------------------------------------------------------------


def test_a_psr_is_gatekept_in_its_own_words_not_countersigned(court):
    """[000 §3.2] Gatekeeping is not countersigning: "gatekept — ready for court" in the history."""
    made = intake.add_countersign(court, HIGH_CRN, "PSR", PO, court_date=TODAY + timedelta(days=3))
    assert _cs(court, made.item_id)["state"] == "AWAITING_GATEKEEP"
    done = countersigning.countersign(
        court, made.item_id, verdict="Risk analysis checked against the OASys", signed_off=True, minutes=25
    )
    assert done.message.startswith("Gatekept — ready for court")
    history = rows(
        court.db, "SELECT old_state, new_state, minutes FROM countersign_history WHERE item_id = ?", [made.item_id]
    )
    assert [(h["old_state"], h["new_state"], h["minutes"]) for h in history] == [("AWAITING_GATEKEEP", "GATEKEPT", 25)]
    assert "COUNTERSIGNED" not in {h["new_state"] for h in history}
    assert _cs(court, made.item_id)["status"] == "closed"


def test_a_psr_returned_to_its_author_comes_back_with_the_changes_asked_for(court):
    """[000 §3.2, 004] Returned to the author with changes; resubmitted, it is back for gatekeeping
    and shows what it was returned for."""
    made = intake.add_countersign(court, HIGH_CRN, "PSR", PO, court_date=TODAY + timedelta(days=3))
    countersigning.countersign(court, made.item_id, verdict="Add the domestic abuse call-outs", signed_off=False)
    assert _cs(court, made.item_id)["state"] == "RETURNED_TO_AUTHOR"
    assert _cs(court, made.item_id)["status"] == "waiting"
    decisions.log_answer(court, made.item_id, "Call-outs added")
    assert _cs(court, made.item_id)["state"] == "AWAITING_GATEKEEP"
    assert countersigning.returned_for(court, made.item_id) == "Add the domestic abuse call-outs"


def test_a_high_rosh_psr_goes_to_the_spo_never_to_a_peer(court):
    """[000 §3.2] High and very high RoSH reports are checked by the SPO."""
    with pytest.raises(NotAllowed, match="gatekept by the SPO"):
        intake.add_countersign(court, HIGH_CRN, "PSR", PO, court_date=TODAY + timedelta(days=3), gatekeeper=PEER)


def test_a_medium_rosh_psr_may_be_peer_gatekept_and_the_spo_sees_it(court):
    """[000 §3.2] Medium RoSH reports may be peer-gatekept by another qualified PO; the item waits on
    the peer in the SPO's Waiting view, and the peer's verdict is recorded as theirs."""
    made = intake.add_countersign(court, MED_CRN, "PSR", PSO, court_date=TODAY + timedelta(days=3), gatekeeper=PEER)
    cs = _cs(court, made.item_id)
    assert (cs["status"], cs["waiting_on"]) == ("waiting", f"{PEER} (peer gatekeeping)")
    other = make_context(court.db, court.rules, NQO, clock=fixed_clock(NOW))
    with pytest.raises(NotAllowed, match="only the peer"):
        countersigning.gatekeep(other, made.item_id, verdict="Checked the risk of harm section", ready=True, peer=True)
    peer_ctx = make_context(court.db, court.rules, PEER, clock=fixed_clock(NOW))
    countersigning.gatekeep(peer_ctx, made.item_id, verdict="Checked the risk of harm section", ready=True, peer=True)
    h = row(court.db, "SELECT new_state, by_id FROM countersign_history WHERE item_id = ?", [made.item_id])
    assert h["new_state"] == "GATEKEPT"
    assert h["by_id"] == row(court.db, "SELECT id FROM staff WHERE name = ?", [PEER])["id"]
    # a peer's check is not a manager's oversight entry
    assert row(court.db, "SELECT COUNT(*) AS n FROM oversight_entries WHERE item_id = ?", [made.item_id])["n"] == 0


def test_a_peer_gatekeeper_is_a_qualified_po_and_not_the_author(court):
    """[000 §3.2] The peer is another qualified PO."""
    court_day = TODAY + timedelta(days=3)
    with pytest.raises(ValidationError, match="qualified PO"):
        intake.add_countersign(court, MED_CRN, "PSR", PSO, court_date=court_day, gatekeeper=PQIP)
    with pytest.raises(ValidationError, match="own author"):
        intake.add_countersign(court, MED_CRN, "PSR", PEER, court_date=court_day, gatekeeper=PEER)


def test_only_qualified_pos_write_psrs_on_high_rosh_cases(court):
    """[000 §3.2] "Only qualified POs complete reports on cases assessed as high risk of serious harm."
    A PSO's or PQiP's is refused naming the rule; an NQO (qualified) may; a PSO may on medium."""
    court_day = TODAY + timedelta(days=3)
    for role_holder in (PSO, PQIP):
        with pytest.raises(NotAllowed, match=r"only qualified POs .* \[000 §3.2\]"):
            intake.add_countersign(court, HIGH_CRN, "PSR", role_holder, court_date=court_day)
    intake.add_countersign(court, HIGH_CRN, "PSR", NQO, court_date=court_day)
    intake.add_countersign(court, MED_CRN, "PSR", PSO, court_date=court_day)


def test_a_report_for_court_today_is_due_today_not_overdue(court):
    """[000 §3.2] Most reports are delivered on the day: due today by the court time, never overdue on
    entry (it was due "the working day before", yesterday)."""
    made = intake.add_countersign(court, MED_CRN, "PSR", PSO, court_date=TODAY, court_time="1400")
    cs = _cs(court, made.item_id)
    assert (cs["due"], cs["court_time"]) == (TODAY.isoformat(), "14:00")


def test_an_oral_report_is_due_on_the_court_day(court):
    """[000 §3.2] Oral reports: gatekeeping due on the day of court, flagged oral."""
    court_day = TODAY + timedelta(days=2)
    made = intake.add_countersign(court, MED_CRN, "PSR", PSO, court_date=court_day, oral=True)
    cs = _cs(court, made.item_id)
    assert (cs["due"], cs["oral"]) == (court_day.isoformat(), 1)
    assert row(court.db, "SELECT title FROM items WHERE id = ?", [made.item_id])["title"].startswith("Oral PSR")


def test_a_psr_for_court_tomorrow_submitted_today_is_due_today(court):
    """[000 §3.2] A report handed in the day before court is due today, not yesterday."""
    made = intake.add_countersign(court, MED_CRN, "PSR", PSO, court_date=TODAY + timedelta(days=1))
    assert _cs(court, made.item_id)["due"] == TODAY.isoformat()


def test_a_defendant_not_yet_sentenced(court):
    """[000 §3.2] A court case with no sentence yet: PRE_SENTENCE, shown as "Not yet sentenced",
    and the calendar makes no touch points for it (nobody manages it yet)."""
    intake.add_case(court, "D222222", "Dee Fendant", PO, "HIGH", "PRE_SENTENCE", TODAY)
    refresh_due_work(court)
    assert row(court.db, "SELECT COUNT(*) AS n FROM items WHERE crn = 'D222222'")["n"] == 0
    intake.add_countersign(court, "D222222", "DANGEROUSNESS", PO)
    intake.add_countersign(court, "D222222", "PSR", PO, court_date=TODAY, oral=True)


def test_a_court_teams_cases_get_no_touch_points(court):
    """[000 §3.2] Court teams do not manage cases: no touch points are made for a court team's cases."""
    from spo_tui.services import admin

    intake.add_staff(court, "Cora Court", "PO", team="Court Team")
    admin.set_team_kind(court, "Court Team", "court")
    intake.add_case(court, "C333333", "Cy Court", "Cora Court", "HIGH", "COMMUNITY_ORDER", TODAY - timedelta(days=30))
    intake.add_case(court, "S444444", "Si Same", PO, "HIGH", "COMMUNITY_ORDER", TODAY - timedelta(days=30))
    refresh_due_work(court)
    assert row(court.db, "SELECT COUNT(*) AS n FROM items WHERE crn = 'C333333'")["n"] == 0
    assert row(court.db, "SELECT COUNT(*) AS n FROM items WHERE crn = 'S444444'")["n"] > 0


def test_dangerousness_and_parole_reports_only_where_they_exist(court):
    """[000 §3.2–3.3] A dangerousness assessment is for the court before sentence; a parole report for
    a person in custody: refused elsewhere with the reason."""
    with pytest.raises(NotAllowed, match="before sentence: this case is licence"):
        intake.add_countersign(court, HIGH_CRN, "DANGEROUSNESS", PO)
    with pytest.raises(NotAllowed, match="in custody: this case is licence"):
        intake.add_countersign(court, HIGH_CRN, "PAROLE_REPORT", PO)
    intake.add_case(court, "P555555", "Pa Role", PO, "HIGH", "CUSTODY", "2025-01-01")
    intake.add_countersign(court, "P555555", "PAROLE_REPORT", PO)


def test_the_gatekeeping_rules_are_checked_naming_the_key(rules):
    """[000 §3.2] High RoSH may not be put in peer_rosh; a bad count names its key."""
    raw = dict(rules.raw)
    raw["gatekeeping"] = {**raw["gatekeeping"], "peer_rosh": ["MEDIUM", "HIGH"]}
    with pytest.raises(ValidationError, match=r"\[gatekeeping\] peer_rosh"):
        Rules.from_dict(raw)
    raw = dict(rules.raw)
    raw["aqa"] = {**raw["aqa"], "good_for_approval": 0}
    with pytest.raises(ValidationError, match=r"\[aqa\] good_for_approval"):
        Rules.from_dict(raw)


# --- §2 Less countersigning at source ---------------------------------------------------------------


def test_three_good_ratings_make_a_po_approved(court):
    """[000 §3.3] Three OASys assessments rated Good on the AQA tool make a PO approved; an Inadequate
    starts the count again; Requires improvement neither counts nor resets."""
    assert "1 of 3 Good" in aqa.rate_aqa(court, PO, "good").message
    aqa.rate_aqa(court, PO, "inadequate")
    assert "1 of 3 Good" in aqa.rate_aqa(court, PO, "Good").message
    aqa.rate_aqa(court, PO, "requires improvement")
    assert "2 of 3 Good" in aqa.rate_aqa(court, PO, "GOOD").message
    assert "now approved" in aqa.rate_aqa(court, PO, "good").message
    assert row(court.db, "SELECT oasys_approved FROM staff WHERE name = ?", [PO])["oasys_approved"] == 1
    assert row(court.db, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'aqa_approved'")["n"] == 1


def test_an_aqa_rating_is_given_by_an_spo_or_qdo(court):
    """[000 §3.3, §4] AQA is undertaken by SPOs and QDOs."""
    qdo = make_context(court.db, court.rules, QDO, clock=fixed_clock(NOW))
    aqa.rate_aqa(qdo, PO, "good")
    caspo = make_context(court.db, court.rules, CASPO, clock=fixed_clock(NOW))
    with pytest.raises(NotAllowed, match="AQA"):
        aqa.rate_aqa(caspo, PO, "good")
    with pytest.raises(ValidationError, match="rated on|not for"):
        aqa.rate_aqa(court, PO, "good", rated_on=TODAY + timedelta(days=1))


def test_who_is_close_to_approval_is_listed(court):
    """[000 §3.3] "2 of 3 Good": the closest first, the approved last."""
    aqa.rate_aqa(court, PEER, "good")
    aqa.rate_aqa(court, PEER, "good")
    for _ in range(3):
        aqa.rate_aqa(court, NQO, "good")
    standings = aqa.approval_standings(court)
    assert (standings[0].name, standings[0].label, standings[0].close) == (PEER, "2 of 3 Good", True)
    assert (standings[-1].name, standings[-1].label) == (NQO, "approved")


def _approved(ctx, name):
    ctx.db.execute("UPDATE staff SET oasys_approved = 1 WHERE name = ?", [name])


def _key_in_sample(ctx, want: bool) -> str:
    for n in range(200):
        link = f"https://oasys.example/assessment/{n}"
        if court_rules.in_sample(link, ctx.rules.raw) == want:
            return link
    raise AssertionError("no such link")


def test_an_approved_pos_oasys_skips_the_countersigning_queue(court):
    """[000 §3.3] An approved PO's OASys needs no countersignature: kept, closed, as a footprint."""
    _approved(court, PO)
    made = intake.add_countersign(court, HIGH_CRN, "OASYS", PO, link=_key_in_sample(court, False))
    cs = _cs(court, made.item_id)
    assert (cs["status"], cs["state"], cs["sampled"]) == ("closed", "NOT_REQUIRED", 0)
    assert "approved PO" in made.message


def test_a_sample_of_an_approved_pos_oasys_still_comes_to_the_spo(court):
    """[000 §3.3] The configurable sample (1 in 10 by default) still comes to the SPO, chosen from the
    assessment itself so the same one always gives the same answer."""
    _approved(court, PO)
    link = _key_in_sample(court, True)
    assert court_rules.in_sample(link, court.rules.raw)  # deterministic
    made = intake.add_countersign(court, HIGH_CRN, "OASYS", PO, link=link)
    cs = _cs(court, made.item_id)
    assert (cs["status"], cs["state"], cs["sampled"]) == ("open", "AWAITING_COUNTERSIGN", 1)
    assert "(sample: approved PO)" in row(court.db, "SELECT title FROM items WHERE id = ?", [made.item_id])["title"]


def test_the_sample_rate_comes_from_the_rules(rules):
    """[000 §3.3] sample_one_in = 1 samples every assessment; 0 none."""
    every = {**rules.raw, "aqa": {**rules.raw["aqa"], "sample_one_in": 1}}
    none = {**rules.raw, "aqa": {**rules.raw["aqa"], "sample_one_in": 0}}
    assert all(court_rules.in_sample(f"k{n}", every) for n in range(20))
    assert not any(court_rules.in_sample(f"k{n}", none) for n in range(20))


def test_an_unapproved_pos_oasys_still_queues(court):
    """[000 §3.3] Unapproved: countersigned as before."""
    made = intake.add_countersign(court, HIGH_CRN, "OASYS", PO)
    assert _cs(court, made.item_id)["state"] == "AWAITING_COUNTERSIGN"


def test_the_minutes_a_countersignature_took_show_in_the_time_view(court):
    """[000 §3.3] Countersigning took a third of SPO time: its minutes are recorded and counted in the
    time view beside tasks."""
    made = intake.add_countersign(court, HIGH_CRN, "OASYS", PO)
    countersigning.countersign(
        court, made.item_id, verdict="Risk of harm analysis is sound", signed_off=True, minutes="40"
    )
    spent = team.time_spent(court)
    assert spent.category("countersigning").minutes == 40
    with pytest.raises(ValidationError, match="minutes"):
        made2 = intake.add_countersign(court, HIGH_CRN, "OASYS", PO)
        countersigning.countersign(
            court, made2.item_id, verdict="Risk of harm analysis is sound", signed_off=True, minutes="lots"
        )


def test_a_returned_assessment_comes_back_with_its_deficits(court):
    """[000 §3.3, 004] Returned with deficits; resubmitted, it is back in the queue showing them."""
    made = intake.add_countersign(court, LOW_CRN, "OASYS", PSO)
    countersigning.countersign(court, made.item_id, verdict="Risk of serious harm section is missing", signed_off=False)
    countersigning.resubmit_countersign(court, made.item_id, "Section written")
    assert _cs(court, made.item_id)["state"] == "AWAITING_COUNTERSIGN"
    assert countersigning.returned_for(court, made.item_id) == "Risk of serious harm section is missing"


def test_aqa_ratings_approval_and_court_reports_on_the_command_line(court, tmp_path):
    """[000 §3.2–3.3] staff aqa / staff approval; countersign --oral --court-time --gatekeeper; do
    sign-off --minutes on a PSR records gatekeeping."""
    from conftest import link_me
    from test_roles import cli

    link_me(court.db)
    court.db.close()
    for _ in range(2):
        done = cli(tmp_path, "staff", "aqa", PEER, "good")
        assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Rated Good: {PEER} is at 2 of 3 Good towards approval"
    listing = cli(tmp_path, "staff", "approval")
    assert listing.returncode == 0, listing.stderr
    assert f"{PEER} (PO, Team A): 2 of 3 Good, last rated 23/11/2026 ← one Good away" in listing.stdout
    added = cli(
        tmp_path, "add", "countersign", "--crn", MED_CRN, "--kind", "PSR", "--author", PSO,
        "--court-date", TODAY.isoformat(), "--court-time", "10:30", "--oral",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    queue = cli(tmp_path, "queue", "--json")
    import json

    item = next(i for i in json.loads(queue.stdout) if i["crn"] == MED_CRN)
    signed = cli(tmp_path, "do", "sign-off", item["id"], "--verdict", "Risk section checked, ready", "--minutes", "15")
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.startswith("Gatekept — ready for court")
    peer = cli(
        tmp_path, "add", "countersign", "--crn", MED_CRN, "--kind", "PSR", "--author", PSO,
        "--court-date", TODAY.isoformat(), "--gatekeeper", PEER,
    )  # fmt: skip
    assert peer.returncode == 0, peer.stderr
    from spo_tui.store.db import open_db

    db = open_db(tmp_path / "t.db")
    try:
        waiting = db.execute("SELECT status, waiting_on FROM items WHERE id = ?", [peer.stdout.strip()]).fetchone()
    finally:
        db.close()
    assert waiting == ("waiting", f"{PEER} (peer gatekeeping)")


def test_a_court_teams_queue_leads_with_reports_to_gatekeep_by_court_date_and_time(court):
    """[000 §3.2] A court team's queue has its own shape: the reports to gatekeep first, soonest
    hearing first (date, then time); a sentence-management team's queue stays in triage order."""
    from spo_tui.services import admin
    from spo_tui.services.queue import build_queue

    intake.add_task(court, "Fire door broken", "health_safety", due=TODAY - timedelta(days=5))
    later = intake.add_countersign(court, MED_CRN, "PSR", PSO, court_date=TODAY + timedelta(days=6)).item_id
    afternoon = intake.add_countersign(court, MED_CRN, "PSR", PSO, court_date=TODAY, court_time="14:00").item_id
    morning = intake.add_countersign(court, HIGH_CRN, "PSR", PO, court_date=TODAY, court_time="09:30").item_id
    before = [e.id for e in build_queue(court)]
    assert before[:3] != [morning, afternoon, later]
    admin.set_team_kind(court, "Team A", "court")
    assert [e.id for e in build_queue(court)][:3] == [morning, afternoon, later]


# --- What the SPO sees ---------------------------------------------------------------------------------


async def test_the_item_pane_shows_the_court_time_oral_report_and_what_returned_work_was_returned_for(
    tmp_path, monkeypatch, running_app
):
    """[000 §3.2, 004] On screen: a same-day oral report with its court time, gatekeeping in its own
    words, and a resubmitted report showing the changes it was returned for."""
    from conftest import select_item, ui_team

    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    item_id = intake.add_countersign(
        ctx, "Y123456", "PSR", "Pat Officer", court_date=TODAY, court_time="14:00", oral=True
    ).item_id
    countersigning.countersign(ctx, item_id, verdict="Add the police call-out of 12/11", signed_off=False)
    countersigning.resubmit_countersign(ctx, item_id, "Call-out added")
    ctx.db.close()
    async with running_app(path) as (app, pilot):
        await select_item(app, pilot, item_id)
        detail = app.screen.query_one("#detail").text
    assert "Oral PSR by Pat Officer" in detail
    assert "awaiting gatekeeping" in detail
    assert "at 14:00" in detail and "oral report" in detail
    assert "Returned for: Add the police call-out of 12/11" in detail
    assert "overdue" not in detail  # due today, by the hearing


async def test_a_defendant_not_yet_sentenced_is_shown_so_on_the_case_screen(court):
    """[000 §3.2] Every screen that shows a sentence copes with none yet: "Not yet sentenced"."""
    from spo_tui.widgets.item_detail import case_section

    intake.add_case(court, "D222222", "Dee Fendant", PO, "HIGH", "PRE_SENTENCE", TODAY)
    from spo_tui.services import lookup

    text = " ".join(str(p) for p in case_section(lookup.case_summary(court, "D222222"), TODAY))
    assert "Not yet sentenced (at court since 23/11/2026)" in text
