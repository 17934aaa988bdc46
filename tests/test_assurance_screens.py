"""Level-1 assurance on the screens (issue 16 §5): the admin screen's R-CAT list and recording an
audit from it [000 §3.3, 001]; a facilities job's helpdesk reference, target, escalation and
delegate in the detail pane, and whom delegated work waits on in the Waiting view [002 §9]."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import NOW, clock, read_rows, select_item, ui_team

from spo_tui.app import SpoApp
from spo_tui.services import decisions, intake, refresh
from spo_tui.services.context import make_context

rows = read_rows


@pytest.fixture
def team_db(tmp_path, monkeypatch):
    """The UI team plus a QDO, and a buildings job delegated to the SAO 15 days ago (past its target)."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    intake.add_staff(ctx, "Quinn Dee", "QDO")
    intake.add_staff(ctx, "Bea Manager", "business manager")
    earlier = make_context(ctx.db, ctx.rules, clock=lambda: NOW - timedelta(days=15))
    late = intake.add_task(earlier, "Lift out of order", "buildings", helpdesk_ref="KBR-40211").item_id
    decisions.delegate_task(earlier, late, "Sue Sao")
    fresh = intake.add_task(ctx, "Fire door sticks", "health_safety", helpdesk_ref="KBR-40300").item_id
    decisions.delegate_task(ctx, fresh, "Cas Admin")
    refresh.refresh_due_work(ctx)
    ctx.db.close()
    return path, {"late": late, "fresh": fresh}


def detail(app) -> str:
    return " ".join(app.screen.query_one("#detail").text.split())


async def test_rcat_list_and_recording_an_audit_from_the_admin_screen(team_db):
    """[000 §3.3, 001] the CASPO's R-CAT list: one case per practitioner; a records the audit (who,
    outcome, findings) and the practitioner leaves the list."""
    path, _ids = team_db
    app = SpoApp(path, actor="Cas Admin", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert [(line.practitioner, line.crn) for line in screen.rcat] == [("Pat Officer", "Y123456")]
        assert screen.check_action("rcat_audit", ()) is False  # another list is on show
        await pilot.press("n", "n", "n")  # diary → MAPPA → transfers → R-CAT
        await pilot.pause()
        assert screen.active_pane == "rcat"
        assert screen.check_action("rcat_audit", ()) is True
        await pilot.press("a")
        await pilot.pause()
        assert type(app.screen).__name__ == "ChoiceScreen"
        await pilot.press("1")  # the QDO comes first
        await pilot.pause()
        await pilot.press("2")  # requires improvement
        await pilot.pause()
        await pilot.press("enter")  # findings are needed for this outcome
        await pilot.pause()
        assert "notes" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press(*"Sentence plan not reviewed", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
        assert screen.rcat == []
        assert "Y123456 (Pat Officer) by Quinn Dee, Requires improvement" in str(
            screen.query_one("#rcat-done").render()
        )
    assert rows(
        path,
        """SELECT a.crn, a.outcome, a.notes, au.name, en.name FROM rcat_audits a
           JOIN staff au ON au.id = a.audited_by JOIN staff en ON en.id = a.entered_by""",
    ) == [("Y123456", "requires_improvement", "Sentence plan not reviewed", "Quinn Dee", "Cas Admin")]


async def test_a_late_delegated_job_is_back_in_the_queue_with_its_chase_and_stage(team_db):
    """[002 §9] past its 10-working-day target the delegated job is back in the SPO's queue: the
    detail says the helpdesk reference, whom it was delegated to, the stage and who steps in."""
    path, ids = team_db
    app = SpoApp(path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert ids["late"] in [e.id for e in app.screen.entries]
        await select_item(app, pilot, ids["late"])
        text = detail(app)
        assert "Helpdesk reference: KBR-40211" in text
        assert "Delegated to Sue Sao (SAO) on Sun 08/11/2026" in text
        assert "Back from Sue Sao on Mon 23/11/2026: past its target" in text
        assert "Escalated: stage 1, business manager (Bea Manager) steps in since Mon 23/11/2026" in text
        assert "Target Fri 20/11/2026 (10 working days)" in text
        assert "Stage 2 on Mon 30/11/2026: the SAO steps in" in text


async def test_delegated_work_shows_whom_it_waits_on(team_db):
    """[002 §9, 000] delegated work in the Waiting view says whom it waits on, and so does its detail."""
    path, ids = team_db
    app = SpoApp(path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("8")  # Waiting
        await pilot.pause()
        assert [e.id for e in app.screen.entries] == [ids["fresh"]]
        await select_item(app, pilot, ids["fresh"])
        text = detail(app)
        assert "Waiting on Cas Admin since Mon 23/11/2026" in text
        assert "Delegated to Cas Admin (CASPO)" in text
        assert "Stage 1 on Tue 08/12/2026: the business manager steps in" in text


# --- The command line ------------------------------------------------------------------------------


def test_rcat_from_the_command_line(team_db, tmp_path):
    """[000 §3.3, 001] spo-tui rcat lists the eligible cases, records an audit (the CASPO naming the
    auditor), and lists the year's audits; a bad outcome exits 2 with one line."""
    from test_cli import run

    path, _ids = team_db
    listed = run("--db", str(path), "rcat", "--json", tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [(line["practitioner"], line["crn"]) for line in json.loads(listed.stdout)] == [("Pat Officer", "Y123456")]
    bad = run(
        "--db", str(path), "--as", "Cas Admin", "rcat", "--record", "Y123456", "--outcome", "superb", tmp_path=tmp_path
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    done = run(
        "--db", str(path), "--as", "Cas Admin", "rcat", "--record", "Y123456", "--outcome", "good", "--by", "Quinn Dee",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "R-CAT recorded: Y123456 (Pat Officer) by Quinn Dee, Good" in done.stdout
    assert run("--db", str(path), "rcat", tmp_path=tmp_path).stdout.startswith("Every practitioner has had")
    year = run("--db", str(path), "rcat", "--done", tmp_path=tmp_path)
    assert "Y123456" in year.stdout and "by Quinn Dee" in year.stdout


def test_helpdesk_reference_from_the_command_line(team_db, tmp_path):
    """[002 §9] a facilities job's helpdesk reference, given when the job is added or later."""
    from test_cli import run

    path, ids = team_db
    added = run(
        "--db", str(path), "add", "task", "--title", "Boiler leaking", "--category", "buildings", "--helpdesk", "FM-777",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert rows(path, "SELECT helpdesk_ref FROM tasks WHERE item_id = ?", [added.stdout.strip()]) == [("FM-777",)]
    changed = run("--db", str(path), "do", "helpdesk", ids["fresh"], "--text", "FM-40301", tmp_path=tmp_path)
    assert changed.returncode == 0, changed.stderr
    assert rows(path, "SELECT helpdesk_ref FROM tasks WHERE item_id = ?", [ids["fresh"]]) == [("FM-40301",)]


async def test_a_qdo_starts_on_the_admin_screen_and_records_their_own_audit(team_db):
    """[000 §3.3] the QDO audits: their home is the admin screen; a records the audit in their name,
    with no question of who audited it."""
    path, _ids = team_db
    from conftest import link_me

    link_me(path, "Quinn Dee")
    app = SpoApp(path, actor="Quinn Dee", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "AdminScreen"
        screen.query_one("#admin-tabs").active = "rcat"
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("1")  # good: the first choice is the outcome
        await pilot.pause()
        await pilot.press("enter")  # no findings needed for good
        await pilot.pause()
        assert screen.rcat == []
    assert rows(path, "SELECT a.outcome, s.name FROM rcat_audits a JOIN staff s ON s.id = a.audited_by") == [
        ("good", "Quinn Dee")
    ]
