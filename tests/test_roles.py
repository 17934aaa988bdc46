"""Who may do what, and in whose name (issue 12, section 5): level-3 work stays with the SPO, a
CASPO's entry is the decision of the SPO of the case's team and waits in that SPO's queue to be
confirmed, queues are per team (a PDU head sees every team), ``--as`` on a print command is not
remembered, and a refused key says why."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import CASPO, HIGH_CRN, NOW, PO, SPO, fixed_clock, link_me, row, rows, select_item

from spo_tui.app import SpoApp
from spo_tui.domain.errors import NotAllowed
from spo_tui.services import decisions, intake
from spo_tui.services.context import make_context
from spo_tui.services.queue import build_queue
from spo_tui.store.db import open_db

SPO_B = "Aaron Atkinson"  # first SPO alphabetically: the old code credited every CASPO entry to him
CASPO_B = "Bee Admin"
PO_B = "Bo Officer"
HEAD = "Hana Head"
B_CRN = "Z111111"


@pytest.fixture
def two_teams(ctx, rules):
    """The conftest team (Team A: Sam Spo, Pat Officer, Cas Admin) and a Team B with its own SPO,
    CASPO, PO and case Z111111, plus a PDU head; one SBAR in each team and an alert in each."""
    intake.add_staff(ctx, SPO_B, "SPO", team="Team B")
    intake.add_staff(ctx, CASPO_B, "CASPO", team="Team B")
    intake.add_staff(ctx, PO_B, "PO", team="Team B")
    intake.add_staff(ctx, HEAD, "PDU head", team="PDU")
    intake.add_case(ctx, B_CRN, "Zed Case", PO_B, "VERY_HIGH", "LICENCE", "2026-06-01")
    ids = {
        "sbar_a": intake.raise_sbar(ctx, HIGH_CRN, PO, "A needs a decision", "b", "a", "r", "urgent").item_id,
        "sbar_b": intake.raise_sbar(ctx, B_CRN, PO_B, "B needs a decision", "b", "a", "r", "urgent").item_id,
        "alert_a": intake.add_alert(ctx, HIGH_CRN, "arrest", "Arrested last night").item_id,
        "alert_b": intake.add_alert(ctx, B_CRN, "call_out", "Police called to the address").item_id,
    }
    return ids


def as_(ctx, rules, name):
    return make_context(ctx.db, rules, name, clock=fixed_clock(NOW))


# --- Level-3 work stays with the SPO ---------------------------------------------------------------


def test_a_caspo_can_neither_close_nor_reassign_an_alert(ctx, rules, two_teams):
    caspo = as_(ctx, rules, CASPO)
    with pytest.raises(NotAllowed, match="only an SPO can close an immediate-risk alert"):
        decisions.record_oversight(caspo, item_id=two_teams["alert_a"], outcome="agreed", discussed="x", decision="y")
    with pytest.raises(NotAllowed, match="only an SPO can reassign an immediate-risk alert"):
        decisions.reassign(caspo, two_teams["alert_a"], PO)
    alert = row(ctx.db, "SELECT status, assigned_to FROM items WHERE id = ?", [two_teams["alert_a"]])
    assert alert == {"status": "open", "assigned_to": None}
    assert rows(ctx.db, "SELECT id FROM oversight_entries") == []
    # The CASPO still notes it on the case (an entry on the case, not closing the alert).
    decisions.record_oversight(
        caspo, crn=HIGH_CRN, outcome="guidance_given", discussed="Alert logged", decision="SPO told"
    )
    assert row(ctx.db, "SELECT status FROM items WHERE id = ?", [two_teams["alert_a"]])["status"] == "open"


# --- In whose name ---------------------------------------------------------------------------------


def test_a_caspos_entry_is_the_decision_of_the_spo_of_the_cases_team(ctx, rules, two_teams):
    caspo_b = as_(ctx, rules, CASPO_B)
    assert caspo_b.decider["name"] == SPO_B  # their own team's SPO
    decisions.record_oversight(caspo_b, crn=B_CRN, outcome="agreed", discussed="Plan", decision="Agreed")
    caspo_a = as_(ctx, rules, CASPO)
    assert caspo_a.decider["name"] == SPO  # not Aaron Atkinson, the first SPO alphabetically
    decisions.record_oversight(caspo_a, crn=HIGH_CRN, outcome="agreed", discussed="Plan", decision="Agreed")
    credited = rows(
        ctx.db,
        "SELECT o.crn, d.name AS decider, e.name AS enterer FROM oversight_entries o "
        "JOIN staff d ON d.id = o.decided_by JOIN staff e ON e.id = o.entered_by ORDER BY o.crn",
    )
    assert credited == [
        {"crn": HIGH_CRN, "decider": SPO, "enterer": CASPO},
        {"crn": B_CRN, "decider": SPO_B, "enterer": CASPO_B},
    ]
    # Each waits in its own SPO's queue as an entry to confirm, and only there.
    confirms = rows(
        ctx.db,
        "SELECT i.crn, s.name FROM items i JOIN staff s ON s.id = i.assigned_to "
        "WHERE i.kind = 'confirm' AND i.status = 'open' ORDER BY i.crn",
    )
    assert confirms == [{"crn": HIGH_CRN, "name": SPO}, {"crn": B_CRN, "name": SPO_B}]
    spo_b = as_(ctx, rules, SPO_B)
    assert [e.row.crn for e in build_queue(spo_b, kind="confirm")] == [B_CRN]
    assert [e.row.crn for e in build_queue(ctx, kind="confirm")] == [HIGH_CRN]


def test_the_spo_confirms_or_corrects_and_only_the_named_spo_can(ctx, rules, two_teams):
    caspo = as_(ctx, rules, CASPO)
    first = decisions.record_oversight(
        caspo, crn=HIGH_CRN, outcome="agreed", discussed="Plan", decision="Weekly contact"
    )
    second = decisions.record_oversight(caspo, crn=HIGH_CRN, outcome="agreed", discussed="Plan", decision="Wrong")
    confirm_1, confirm_2 = (
        row(ctx.db, "SELECT item_id FROM confirms WHERE oversight_id = ?", [r.oversight_id])["item_id"]
        for r in (first, second)
    )
    with pytest.raises(NotAllowed, match=f"only {SPO}, in whose name it was entered"):
        decisions.confirm_entry(as_(ctx, rules, SPO_B), confirm_1)
    decisions.confirm_entry(ctx, confirm_1)
    fixed = decisions.correct_entry(ctx, confirm_2, outcome="guidance_given", discussed="Plan", decision="Fortnightly")
    assert row(ctx.db, "SELECT status FROM items WHERE id = ?", [confirm_1])["status"] == "closed"
    assert row(ctx.db, "SELECT confirmed_by FROM confirms WHERE item_id = ?", [confirm_1])["confirmed_by"] == "spo-0001"
    new = row(
        ctx.db,
        "SELECT supersedes_id, decided_by, entered_by, decision FROM oversight_entries WHERE id = ?",
        [fixed.oversight_id],
    )
    assert new == {
        "supersedes_id": second.oversight_id,
        "decided_by": "spo-0001",
        "entered_by": "spo-0001",
        "decision": "Fortnightly",
    }
    assert (
        row(ctx.db, "SELECT corrected_by FROM confirms WHERE item_id = ?", [confirm_2])["corrected_by"]
        == fixed.oversight_id
    )
    assert rows(ctx.db, "SELECT id FROM items WHERE kind = 'confirm' AND status = 'open'") == []


# --- Team scoping ----------------------------------------------------------------------------------


def test_the_queue_counts_and_search_are_the_acting_persons_team(ctx, rules, two_teams):
    from spo_tui.services import lookup
    from spo_tui.services.queue import ALL_TEAMS

    spo_b = as_(ctx, rules, SPO_B)
    assert {e.row.crn for e in build_queue(spo_b)} == {B_CRN}
    assert {e.row.team for e in build_queue(spo_b)} == {"Team B"}
    assert lookup.queue_counts(spo_b) == {"alert": (1, 0), "sbar": (1, 0)}
    assert build_queue(spo_b, search="A needs") == []
    assert {e.row.crn for e in build_queue(ctx)} == {HIGH_CRN}
    head = as_(ctx, rules, HEAD)
    assert {e.row.crn for e in build_queue(head)} == {HIGH_CRN, B_CRN}
    assert {e.row.crn for e in build_queue(head, team="team b")} == {B_CRN}
    with pytest.raises(NotAllowed, match="only a PDU head sees every team's queue"):
        build_queue(spo_b, team=ALL_TEAMS)


def cli(tmp_path, *args):
    env = {**os.environ, "SPO_TUI_TODAY": NOW.date().isoformat(), "SPO_TUI_RULES": str(tmp_path / "none.toml")}
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(tmp_path / "t.db"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_queue_team_on_the_command_line(ctx, rules, two_teams, tmp_path):
    link_me(ctx.db)
    ctx.db.close()
    mine = cli(tmp_path, "--as", SPO_B, "queue", "--json")
    assert mine.returncode == 0, mine.stderr
    items = json.loads(mine.stdout)
    assert {i["team"] for i in items} == {"Team B"}  # its cases' work and its practitioners' supervision
    assert {i["crn"] for i in items if i["crn"]} == {B_CRN}
    refused = cli(tmp_path, "--as", SPO_B, "queue", "--team", "all")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        f"spo-tui: only a PDU head sees every team's queue; {SPO_B} is SPO in Team B"
    ]
    every = json.loads(cli(tmp_path, "--as", HEAD, "queue", "--json", "--team", "all").stdout)
    assert {i["team"] for i in every} == {"Team A", "Team B"}
    one = json.loads(cli(tmp_path, "--as", HEAD, "queue", "--json", "--team", "Team A").stdout)
    assert {i["crn"] for i in one if i["crn"]} == {HIGH_CRN, "Y654321"} and {i["team"] for i in one} == {"Team A"}
    unknown = cli(tmp_path, "--as", HEAD, "queue", "--team", "Team Z")
    assert unknown.returncode == 2 and "no team called 'Team Z'" in unknown.stderr
    # Printing the queue as someone is not choosing to be them: the next command is the SPO's again.
    assert cli(tmp_path, "--as", CASPO, "queue").returncode == 0
    assert cli(tmp_path, "add", "task", "--title", "After a print", "--category", "other").returncode == 0
    # Choosing explicitly is remembered.
    assert cli(tmp_path, "staff", "use", CASPO).returncode == 0
    assert cli(tmp_path, "add", "task", "--title", "After a choice", "--category", "other").returncode == 0
    db = open_db(tmp_path / "t.db")
    try:
        added = rows(
            db,
            "SELECT i.title, s.name FROM audit_log a JOIN staff s ON s.id = a.actor_id "
            "JOIN items i ON i.id = a.entity_id WHERE a.action = 'add_task' ORDER BY a.id",
        )
    finally:
        db.close()
    # (with nothing remembered, a login linked to several acts as its first SPO link)
    assert added == [{"title": "After a print", "name": SPO_B}, {"title": "After a choice", "name": CASPO}]


# --- On screen -------------------------------------------------------------------------------------


@pytest.fixture
def team_file(ctx, rules, two_teams):
    link_me(ctx.db)
    countersign = intake.add_countersign(ctx, HIGH_CRN, "PSR", PO, court_date="2026-11-30").item_id
    ctx.db.close()
    return {**two_teams, "countersign": countersign}


def db_path(tmp_path):
    return tmp_path / "t.db"


async def test_a_caspo_pressing_an_spo_key_is_told_why_and_nothing_is_written(team_file, tmp_path):
    app = SpoApp(db_path(tmp_path), actor=CASPO, clock=lambda: NOW)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        await pilot.press("t")  # from the CASPO's admin home to the queue
        await pilot.pause()
        for item, key, why in (
            ("sbar_a", "i", "Only an SPO can ask for more information on an SBAR"),
            ("sbar_a", "e", "Only an SPO can escalate an SBAR"),
            ("sbar_a", "d", "Only an SPO can decide an SBAR"),
            ("countersign", "s", "Only an SPO can countersign"),
            ("alert_a", "d", "Only an SPO can close an immediate-risk alert"),
        ):
            await select_item(app, pilot, team_file[item])
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            shown = [str(n.message) for n in app._notifications]
            assert any(m.startswith(why) and m.endswith(f"{CASPO} is CASPO") for m in shown), (key, shown)
            assert type(app.screen).__name__ == "TodayScreen"  # no form or prompt opened
        await select_item(app, pilot, team_file["sbar_a"])
        footer = " ".join(k.description for k in app.screen.query("FooterKey"))
        assert "Decide (SPO)" in footer and "Escalate (SPO)" in footer and "Book (SPO)" not in footer
        assert app.sub_title.startswith(
            f"{CASPO} (CASPO, Team A) for {SPO} · Mon 23/11/2026 · switch: spo-tui staff use NAME"
        )
    db = open_db(db_path(tmp_path))
    try:
        assert rows(db, "SELECT COUNT(*) AS n FROM oversight_entries") == [{"n": 0}]
        assert rows(db, "SELECT state FROM sbars WHERE item_id = ?", [team_file["sbar_a"]]) == [{"state": "raised"}]
        assert rows(db, "SELECT COUNT(*) AS n FROM countersign_history") == [{"n": 0}]
    finally:
        db.close()


async def test_the_caspos_form_names_the_spo_and_the_spo_confirms_with_one_key(team_file, tmp_path):
    app = SpoApp(db_path(tmp_path), actor=CASPO_B, clock=lambda: NOW)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        app.open_case(B_CRN)
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        banner = str(app.screen.query_one("#on-behalf").render())
        assert banner.startswith(f"Entering on behalf of {SPO_B} (SPO, Team B)")
        app.screen.query_one("#discussed").focus()
        await pilot.press(*"Discussed at the desk")
        app.screen.query_one("#decision").focus()
        await pilot.press(*"Agreed", "ctrl+s")
        await pilot.pause()
    db = open_db(db_path(tmp_path))
    try:
        entry = row(db, "SELECT id, decided_by, entered_by FROM oversight_entries WHERE crn = ?", [B_CRN])
        confirm = row(db, "SELECT item_id FROM confirms WHERE oversight_id = ?", [entry["id"]])["item_id"]
    finally:
        db.close()
    app = SpoApp(db_path(tmp_path), actor=SPO_B, clock=lambda: NOW)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert confirm in [e.id for e in app.screen.entries]
        assert "To confirm 1" in str(app.screen.query_one("#summary").render())
        await pilot.press("V")  # the To confirm filter
        await pilot.pause()
        assert [e.id for e in app.screen.entries] == [confirm]
        await pilot.press("v")
        await pilot.pause()
        assert app.screen.entries == []
    db = open_db(db_path(tmp_path))
    try:
        assert row(db, "SELECT status FROM items WHERE id = ?", [confirm])["status"] == "closed"
        done = row(
            db, "SELECT s.name FROM confirms c JOIN staff s ON s.id = c.confirmed_by WHERE c.item_id = ?", [confirm]
        )
        assert done["name"] == SPO_B
    finally:
        db.close()


async def test_a_po_is_not_offered_the_supervision_planner_or_the_team_dashboard(team_file, tmp_path):
    app = SpoApp(db_path(tmp_path), actor=PO, clock=lambda: NOW)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
        offered = [c.title for c in app.get_system_commands(app.screen)]
        assert not any(t.startswith(("Supervision (p)", "Team (o)")) for t in offered)
        for key, why in (
            ("p", "Only an SPO or a CASPO or a PDU head can open the supervision planner"),
            ("o", "Only an SPO or a CASPO or a PDU head can open the team and coverage dashboard"),
        ):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert type(app.screen).__name__ == "TodayScreen"
            assert any(str(n.message).startswith(why) for n in app._notifications)
