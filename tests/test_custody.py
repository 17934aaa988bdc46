"""Custody to community and the events that must create oversight (issue 16, section 4).

Sources: [004] (touch points: "a Touch Point discussion ... within three weeks of commencement.
Following that initial Touch Point, the model specifies minimum requirements for various types of
case, including prison release and lifers"), [000] (responsive oversight: events, not only the
calendar), [001] (MAPPA level 1 reviews and lifer panel reviews kept as priorities), and the MAPPA
facts in domain.md (category 3 only at levels 2 and 3; category 4 terrorism).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import HIGH_CRN, LOW_CRN, PO, TODAY, clock, read_rows, rows, ui_team

from spo_tui.app import SpoApp
from spo_tui.config import load_rules
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.rules import CaseFacts, Rules, custody_touch_points
from spo_tui.domain.vocab import MAPPA_CATEGORIES, RoSH, SentenceType, mappa_problem
from spo_tui.screens.case import CaseScreen
from spo_tui.screens.today import TodayScreen
from spo_tui.services import admin, intake
from spo_tui.services.importer import import_file
from spo_tui.services.refresh import refresh_due_work


def touch_points(db, crn: str) -> list[dict]:
    return rows(
        db,
        """SELECT i.title, i.due, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id
           WHERE i.crn = ? AND i.status != 'closed' ORDER BY i.due, t.reason""",
        [crn],
    )


def reasons(db, crn: str) -> list[str]:
    """The open touch points' reasons, leaving out the calendar's first one (the small team's
    community-order case commenced on 10 November)."""
    return [tp["reason"] for tp in touch_points(db, crn) if tp["reason"] != "commencement"]


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


# --- Release from prison ---------------------------------------------------------------------------


def test_a_release_next_week_makes_the_pre_release_point_and_later_the_first_week_point(ctx, db):
    """[004]: prison release has its own touch-point minimums: a pre-release point
    ([custody] pre_release_days before) and a first-week point ([touch_points] release_within_days after)."""
    admin.set_custody(ctx, LOW_CRN, release_date=day(7))
    refresh_due_work(ctx)
    pre, first_week = [tp for tp in touch_points(db, LOW_CRN) if tp["reason"] != "commencement"]
    assert pre["reason"] == "pre_release"
    assert pre["due"] == TODAY.isoformat()  # 14 days before a release 7 days away: due now, not in the past
    assert "Release from custody" in pre["title"]
    # The first week's point is due a week after the release, already within the look-ahead.
    assert (first_week["reason"], first_week["due"]) == ("release", day(14))
    assert "First week after release" in first_week["title"]

    # The release moves three days into the past: the new date's first-week point is due in four days
    # (the old date's points are closed as the date moves: tests/test_moved_dates.py).
    admin.set_custody(ctx, LOW_CRN, release_date=day(-3))
    refresh_due_work(ctx)
    assert [tp["due"] for tp in touch_points(db, LOW_CRN) if tp["reason"] == "release"] == [day(4)]


def test_an_oversight_entry_since_the_release_meets_the_first_week_point(ctx, db):
    """[004] the first-week point after release: met by any oversight since the release (responsive
    oversight counts [000])."""
    facts = CaseFacts(
        crn=LOW_CRN,
        rosh=RoSH.LOW,
        sentence_type=SentenceType.LICENCE,
        sentence_start=TODAY - timedelta(days=200),
        sentence_end=None,
        release_date=TODAY - timedelta(days=3),
    )
    assert [w.reason for w in custody_touch_points(facts, TODAY, ctx.rules)] == ["release"]
    seen = CaseFacts(**{**facts.__dict__, "last_oversight": TODAY - timedelta(days=1)})
    assert custody_touch_points(seen, TODAY, ctx.rules) == []


def test_a_victim_contact_case_with_a_release_prompts_contact_with_the_vlo(ctx, db):
    """[004, 001] release planning: on a victim contact scheme case the victim liaison officer must
    know of the release; a case outside the scheme gets no prompt."""
    admin.set_custody(ctx, LOW_CRN, release_date=day(10), victim_contact=True)
    admin.set_custody(ctx, HIGH_CRN, release_date=day(10))
    refresh_due_work(ctx)
    [vlo] = [tp for tp in touch_points(db, LOW_CRN) if tp["reason"] == "vlo_contact"]
    assert "VLO" in vlo["title"] and vlo["due"] == TODAY.isoformat()
    assert "vlo_contact" not in reasons(db, HIGH_CRN)


def test_rotl_and_omic_handover_are_events_with_their_own_points(ctx, db):
    """[004, 001] custody to community: a release on temporary licence and the OMiC handover each
    make a touch point before their date; a date already past makes none."""
    admin.set_custody(ctx, LOW_CRN, rotl_date=day(9), handover_date=day(12))
    admin.set_custody(ctx, HIGH_CRN, rotl_date=day(-2))
    refresh_due_work(ctx)
    got = {tp["reason"]: tp["due"] for tp in touch_points(db, LOW_CRN)}
    assert got["rotl"] == day(2) and got["handover"] == day(5)
    assert "rotl" not in reasons(db, HIGH_CRN)
    # The next ROTL moved before it happened: the old date's point is closed, the new date's made
    # (a ROTL already past is a second event: tests/test_moved_dates.py).
    admin.set_custody(ctx, LOW_CRN, rotl_date=day(13))
    refresh_due_work(ctx)
    assert [tp["due"] for tp in touch_points(db, LOW_CRN) if tp["reason"] == "rotl"] == [day(6)]


def test_custody_dates_are_checked_and_audited(ctx, db):
    """The dates are the CASPO's to keep [001]: audited old → new; nonsense refused."""
    with pytest.raises(ValidationError, match="is not a date"):
        admin.set_custody(ctx, LOW_CRN, release_date="soon")
    with pytest.raises(ValidationError, match="cannot set parole"):
        admin.set_custody(ctx, LOW_CRN, parole="2027-01-01")
    result = admin.set_custody(ctx, LOW_CRN, release_date="2026-12-01", victim_contact=True)
    assert result.message == f"{LOW_CRN}: release from custody 01/12/2026, victim contact yes"
    [audit] = rows(db, "SELECT old, new FROM audit_log WHERE action = 'set_custody'")
    assert '"release_date": "2026-12-01"' in audit["new"]
    assert admin.set_custody(ctx, LOW_CRN, release_date="2026-12-01").message == f"{LOW_CRN}: nothing changed"


# --- Lifers ------------------------------------------------------------------------------------------


def test_a_lifer_has_a_lifer_review_minimum_and_panel_reviews(ctx, db):
    """[004] lifers have their own touch-point minimum ([custody] lifer_months, from the last oversight
    or commencement) and [000, 001] lifer panel reviews are work the SPO keeps as a priority."""
    intake.add_case(ctx, "L100001", "Lee Lifer", PO, "MEDIUM", "LICENCE", day(-100), flags=[("INLL", None)])
    admin.set_custody(ctx, "L100001", lifer_panel_date=day(20))
    refresh_due_work(ctx)
    got = {tp["reason"]: tp for tp in touch_points(db, "L100001")}
    assert got["lifer"]["due"] == "2026-11-15"  # three months after commencement on 15 August
    assert got["lifer_panel"]["due"] == day(6) and "Lifer panel review" in got["lifer_panel"]["title"]


def test_a_high_rosh_lifer_is_not_given_two_reviews_for_one_quarter(ctx, db):
    """[004, 000]: a high-RoSH lifer is already reviewed quarterly; the lifer minimum adds nothing
    when the quarterly period is as short."""
    facts = CaseFacts(
        crn=HIGH_CRN,
        rosh=RoSH.HIGH,
        sentence_type=SentenceType.LICENCE,
        sentence_start=TODAY - timedelta(days=100),
        sentence_end=None,
        lifer=True,
    )
    assert custody_touch_points(facts, TODAY, ctx.rules, quarterly=True) == []
    assert [w.reason for w in custody_touch_points(facts, TODAY, ctx.rules)] == ["lifer"]


def test_a_lifer_panel_needs_the_lifer_registration(ctx):
    """[004] a lifer is a case with the INLL registration: a panel date on any other is refused."""
    with pytest.raises(ValidationError, match="record the INLL registration"):
        admin.set_custody(ctx, LOW_CRN, lifer_panel_date=day(20))


# --- MAPPA -------------------------------------------------------------------------------------------


def test_a_case_newly_at_mappa_level_2_from_none_gets_a_touch_point(ctx, db):
    """domain.md "MAPPA": a case newly at level 2 or 3 is an event that needs oversight, including a
    rise from no MAPPA (which made nothing before) [000 responsive oversight]."""
    result = admin.update_case(ctx, LOW_CRN, mappa_category=2, mappa_level=2)
    assert "touch point due" in result.message
    [tp] = touch_points(db, LOW_CRN)
    assert (tp["reason"], tp["title"]) == ("mappa_rise", "Newly at MAPPA level 2")
    assert tp["due"] == "2026-11-25"  # two working days


def test_a_case_newly_at_mappa_level_1_makes_no_event(ctx, db):
    """Level 1 is ordinary agency management: its reviews follow the MAPP registration, no event."""
    admin.update_case(ctx, LOW_CRN, mappa_category=1, mappa_level=1)
    assert touch_points(db, LOW_CRN) == []


def test_a_reimport_newly_at_level_3_is_an_event_and_an_unchanged_level_is_not(ctx, db, tmp_path: Path):
    """domain.md "MAPPA" through the importer: none → 3 makes the touch point; a RoSH change on a case
    whose level stays 2 makes only the RoSH one."""
    admin.update_case(ctx, HIGH_CRN, mappa_category=2, mappa_level=2)
    db.execute("DELETE FROM touch_points")
    db.execute("DELETE FROM items")
    header = "crn,name,practitioner,rosh,sentence_type,sentence_start,mappa_category,mappa_level"
    text = (
        f"{header}\n{HIGH_CRN},Alex Example,Pat Officer,VERY_HIGH,LICENCE,2026-08-01,2,2\n"
        f"{LOW_CRN},Bo Sample,Pip Services,LOW,COMMUNITY_ORDER,2026-11-10,4,3\n"
    )
    path = tmp_path / "cases.csv"
    path.write_text(text)
    report = import_file(ctx, "cases", path)
    assert report.ok
    assert reasons(db, HIGH_CRN) == ["rosh_rise"]
    assert [tp["title"] for tp in touch_points(db, LOW_CRN)] == ["Newly at MAPPA level 3"]


def test_mappa_category_3_exists_only_at_levels_2_and_3_and_category_4_exists():
    """domain.md "MAPPA": category 3 (other dangerous offenders) only at levels 2 and 3; 4 is terrorism."""
    assert mappa_problem(3, 2) is None and mappa_problem(3, 3) is None
    assert "only at level 2 or 3, not level 1" in (mappa_problem(3, 1) or "")
    assert "not no level" in (mappa_problem(3, None) or "")
    assert mappa_problem(4, 1) is None and MAPPA_CATEGORIES[4].startswith("terrorist")


def test_category_3_at_level_1_is_refused_at_entry(ctx):
    """domain.md "MAPPA" at entry: adding, correcting, and lowering the level."""
    with pytest.raises(ValidationError, match="category 3 .* only at level 2 or 3"):
        intake.add_case(ctx, "A111111", "Cy", PO, "HIGH", "LICENCE", "2026-11-01", mappa_category=3, mappa_level=1)
    with pytest.raises(ValidationError, match="only at level 2 or 3"):
        admin.update_case(ctx, HIGH_CRN, mappa_category=3)  # the case is at level 1
    admin.update_case(ctx, HIGH_CRN, mappa_category=3, mappa_level=2)
    with pytest.raises(ValidationError, match="only at level 2 or 3"):
        intake.update_case_risk(ctx, HIGH_CRN, mappa_level=1)


def test_category_3_at_level_1_is_refused_at_import(ctx, db, tmp_path: Path):
    """domain.md "MAPPA" at import: the row is refused with the message, nothing written."""
    path = tmp_path / "cases.csv"
    path.write_text(
        "crn,name,practitioner,rosh,sentence_type,sentence_start,mappa_category,mappa_level\n"
        "A111111,Cy,Pat Officer,HIGH,LICENCE,2026-11-01,M3,M1\n"
    )
    report = import_file(ctx, "cases", path)
    assert not report.ok
    assert "line 2, mappa_level: MAPPA category 3 (other dangerous offender) is managed only at level 2 or 3" in (
        report.render()
    )


def test_the_mapp_registration_drives_the_level_1_review(ctx, db):
    """[000, 001] MAPPA level 1 reviews, driven from the MAPP registration's next review date."""
    admin.set_flag(ctx, HIGH_CRN, "MAPP", day(5))
    admin.set_flag(ctx, LOW_CRN, "ADVP", day(5))
    refresh_due_work(ctx)
    assert [(tp["reason"], tp["title"]) for tp in touch_points(db, HIGH_CRN) if tp["due"] == day(5)] == [
        ("mappa_l1_review", "MAPPA level 1 review")
    ]
    assert reasons(db, LOW_CRN) == ["flag_review"]


# --- Registrations ---------------------------------------------------------------------------------


def test_a_registration_keeps_its_review_period_and_next_review(ctx, db):
    """domain.md: registrations carry a review period (reviewPeriodMonths) and a next review date
    (nextReviewDate); a review coming due is oversight work."""
    admin.set_flag(ctx, LOW_CRN, "ADVP", review_period_months=3)
    [flag] = rows(db, "SELECT review_date, review_period_months FROM case_flags WHERE crn = ?", [LOW_CRN])
    assert flag == {"review_date": "2027-02-23", "review_period_months": 3}
    admin.set_flag(ctx, LOW_CRN, "ADVP", day(3))  # a new date keeps the period
    [flag] = rows(db, "SELECT review_date, review_period_months FROM case_flags WHERE crn = ?", [LOW_CRN])
    assert flag == {"review_date": day(3), "review_period_months": 3}
    refresh_due_work(ctx)
    assert reasons(db, LOW_CRN) == ["flag_review"]
    # Reviewed today, no date given: the next review is the period away.
    admin.set_flag(ctx, LOW_CRN, "ADVP")
    [flag] = rows(db, "SELECT review_date, review_period_months FROM case_flags WHERE crn = ?", [LOW_CRN])
    assert flag == {"review_date": "2027-02-23", "review_period_months": 3}
    with pytest.raises(ValidationError, match="review period is a whole number of months"):
        admin.set_flag(ctx, LOW_CRN, "ADVP", review_period_months="often")


# --- Rules ---------------------------------------------------------------------------------------------


def test_a_bad_custody_rule_is_refused_naming_its_key(tmp_path: Path):
    """Thresholds live in rules.toml; a bad value names its key [004: the numbers are the region's]."""
    path = tmp_path / "rules.toml"
    path.write_text("[custody]\npre_release_days = -1\n")
    with pytest.raises(ValidationError, match=r"\[custody\] pre_release_days must be a whole number"):
        load_rules(path)
    path.write_text("[custody]\nlifer_months = 0\n")
    with pytest.raises(ValidationError, match=r"\[custody\] lifer_months must be 1 or more"):
        load_rules(path)
    assert isinstance(load_rules(tmp_path / "absent.toml"), Rules)


def test_dates_in_the_past_make_no_custody_work(ctx):
    """A past ROTL, handover or panel is history, not work; nothing floods the catch-up list."""
    facts = CaseFacts(
        crn=LOW_CRN,
        rosh=RoSH.LOW,
        sentence_type=SentenceType.COMMUNITY_ORDER,
        sentence_start=date(2026, 1, 1),
        sentence_end=None,
        lifer=True,
        rotl_date=TODAY - timedelta(days=1),
        handover_date=TODAY - timedelta(days=1),
        lifer_panel_date=TODAY - timedelta(days=1),
        last_oversight=TODAY,
    )
    assert custody_touch_points(facts, TODAY, ctx.rules) == []


# --- What the SPO sees ---------------------------------------------------------------------------------


@pytest.fixture
def custody_db(tmp_path, monkeypatch):
    """The UI team, with Y123456 released next week in the victim contact scheme with a 6-monthly
    ADVP registration, and X123456 newly at MAPPA level 2."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "custody.db"
    ctx = ui_team(path)
    admin.set_custody(ctx, "Y123456", release_date="2026-11-30", rotl_date="2026-11-27", victim_contact=True)
    admin.set_flag(ctx, "Y123456", "ADVP", "2027-01-15", review_period_months=6)
    admin.update_case(ctx, "X123456", mappa_level=2)
    ctx.db.close()
    return path


async def test_the_queue_shows_the_custody_points_and_the_mappa_event(custody_db, running_app):
    """[004] release and ROTL points, the VLO prompt, and a case newly at MAPPA level 2
    (domain.md "MAPPA") reach the SPO's queue, titled for what they are."""
    async with running_app(custody_db) as (app, pilot):
        await pilot.pause(TodayScreen.REFRESH_AFTER + 0.05)
        await app.workers.wait_for_complete()
        await pilot.pause()
        titles = [e.row.title for e in app.screen.entries]
    assert "MAPPA level rose 1 → 2" in titles
    assert any(t.startswith("Release from custody 30/11/2026") for t in titles)
    assert any(t.startswith("Victim contact case: check the VLO") for t in titles)
    assert "ROTL on 27/11/2026" in titles


async def test_the_case_shows_its_custody_dates_and_registration_period(custody_db, running_app):
    """[004] the SPO sees the release, the ROTL and the victim contact scheme on the case; a
    registration shows its review period (reviewPeriodMonths)."""
    async with running_app(custody_db) as (app, pilot):
        app.push_screen(CaseScreen("Y123456"))
        await pilot.pause()
        screen = app.screen
        sentence = str(screen.query_one("#case-sentence").render())
        flags = [str(label.render()) for label in screen.query(".flag")]
    assert "Release 30/11/2026" in sentence and "ROTL 27/11/2026" in sentence
    assert "Victim contact scheme (VLO)" in sentence
    assert any("ADVP" in f and "every 6 months" in f for f in flags)


def test_custody_dates_come_in_with_an_import(ctx, db, tmp_path: Path):
    """[004] a caseload extract may carry the custody dates: they make their points at the next
    refresh; a lifer panel for a case without the INLL registration is refused."""
    header = (
        "crn,name,practitioner,rosh,sentence_type,sentence_start,flags,release_date,victim_contact,lifer_panel_date"
    )
    path = tmp_path / "custody.csv"
    path.write_text(
        f"{header}\nA111111,Cy Custody,Pat Officer,MEDIUM,LICENCE,2026-12-01,INLL,01/12/2026,yes,20/12/2026\n"
    )
    report = import_file(ctx, "cases", path)
    assert report.ok, report.render()
    [case] = rows(db, "SELECT release_date, victim_contact, lifer_panel_date FROM cases WHERE crn = 'A111111'")
    assert case == {"release_date": "2026-12-01", "victim_contact": 1, "lifer_panel_date": "2026-12-20"}
    refresh_due_work(ctx)
    assert {"pre_release", "vlo_contact", "lifer_panel"} <= set(reasons(db, "A111111"))

    path.write_text(f"{header}\nB222222,Di Other,Pat Officer,MEDIUM,LICENCE,2026-12-01,ADVP,,no,20/12/2026\n")
    refused = import_file(ctx, "cases", path)
    assert not refused.ok
    assert "line 2, lifer_panel_date: a lifer panel is for a lifer: add the INLL registration" in refused.render()


async def test_a_caspo_records_a_release_from_the_admin_screen(custody_db):
    """[001] the CASPO keeps the dates: R on the admin screen, the CRN, the release date typed as
    people type dates; only what changed is sent (the audit row), and it is the CASPO's action."""
    app = SpoApp(custody_db, actor="Cas Admin", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        await pilot.press(*"x123456", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "EntryForm"
        app.screen.query_one("#field-release_date").focus()
        await pilot.press(*"14/12/2026")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
    assert read_rows(custody_db, "SELECT release_date FROM cases WHERE crn = 'X123456'") == [("2026-12-14",)]
    assert read_rows(
        custody_db, "SELECT new FROM audit_log WHERE action = 'set_custody' AND entity_id = 'X123456'"
    ) == [('{"release_date": "2026-12-14"}',)]
