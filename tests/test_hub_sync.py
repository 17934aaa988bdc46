"""Working as a team through a real hub (PostgreSQL): three replicas (the SPO's laptop, the CASPO's
desktop, the PDU head's) connect, work offline, and sync in different orders."""

from __future__ import annotations

import json

import pytest
from conftest import CASPO, NOW, PO, PSO, fixed_clock
from hub_replicas import Replica, add_person, team  # team: the fixture

from spo_tui.config import load_rules
from spo_tui.services import intake
from spo_tui.services.context import make_context
from spo_tui.store.db import open_db

pytestmark = pytest.mark.timeout(120)


def test_a_new_device_brings_down_the_teams_record_and_everyone_has_the_same_queue(team):
    spo, caspo, head, ids = team
    assert spo.items() == caspo.items() == head.items()
    assert {e["id"] for e in caspo.queue()} >= {ids["first"], ids["second"]}
    assert [e["id"] for e in spo.queue()] == [e["id"] for e in caspo.queue()]
    assert caspo.rows("SELECT name FROM staff WHERE role = 'SPO'") == [("Sam Spo",)]
    caspo.ok("sync")  # reading the queue made today's rule-made work here too: it goes to the hub
    status = caspo.ok("sync", "--status")
    assert "You: Cas Admin" in status and "Changes waiting to send: 0" in status


@pytest.mark.parametrize("first_to_sync", ["SPO", "CASPO"])
def test_offline_edits_of_the_same_items_synced_in_either_order_give_identical_queues(team, first_to_sync):
    spo, caspo, head, ids = team
    # Offline, each on their own machine: the SPO decides the first SBAR while the CASPO snoozes it;
    # both give the second SBAR to someone else.
    spo.ok("do", "decide", ids["first"], "--outcome", "agreed", "--text", "Warning letter agreed, review in a week")
    caspo.ok("do", "snooze", ids["first"], "--until", "2027-01-04")
    caspo.ok("do", "reassign", ids["second"], "--to", PO)
    spo.ok("do", "reassign", ids["second"], "--to", PSO)
    order = [spo, caspo] if first_to_sync == "SPO" else [caspo, spo]
    for replica in [*order, *order, head]:
        replica.ok("sync")
    assert spo.items() == caspo.items() == head.items()
    first = dict(zip(("status",), spo.rows("SELECT status FROM items WHERE id = ?", (ids["first"],))[0], strict=True))
    assert first["status"] == "closed"  # a closing decision beats a snooze
    (assigned,) = spo.rows(
        "SELECT s.name FROM items i JOIN staff s ON s.id = i.assigned_to WHERE i.id = ?", (ids["second"],)
    )
    assert assigned == (PSO,)  # the SPO's change beats the CASPO's
    # Evidence is a union: the SPO's entry and both people's audit rows are on every replica.
    entries = [r[0] for r in head.rows("SELECT id FROM oversight_entries")]
    assert len(entries) == 1 and spo.rows("SELECT id FROM oversight_entries") == caspo.rows(
        "SELECT id FROM oversight_entries"
    )
    actions = sorted(r[0] for r in head.rows("SELECT action FROM audit_log"))
    assert sorted(r[0] for r in spo.rows("SELECT action FROM audit_log")) == actions
    assert [e["id"] for e in spo.queue()] == [e["id"] for e in caspo.queue()]


def test_syncing_twice_applies_nothing_twice(team):
    spo, caspo, _head, ids = team
    caspo.ok("do", "snooze", ids["second"], "--until", "2027-01-04")
    caspo.ok("sync")
    before = spo.rows("SELECT COUNT(*) FROM audit_log")
    spo.ok("sync")
    spo.ok("sync")
    after = spo.rows("SELECT COUNT(*) FROM audit_log")
    assert after[0][0] == before[0][0] + 1
    assert "in step" in spo.ok("sync").lower()


def test_with_a_hub_you_are_who_you_logged_in_as(team):
    spo, caspo, _head, ids = team
    code, _out, err = caspo.run(
        "--as", "Sam Spo", "do", "decide", ids["first"], "--outcome", "agreed", "--text", "x y z"
    )
    assert code == 2
    assert "--as does not apply" in err
    assert caspo.rows("SELECT COUNT(*) FROM oversight_entries") == [(0,)]


def test_verify_passes_on_every_replica_after_syncing(team):
    spo, caspo, head, ids = team
    spo.ok("do", "decide", ids["first"], "--outcome", "agreed", "--text", "Warning letter agreed, review in a week")
    spo.ok("sync")
    caspo.ok("sync")
    head.ok("sync")
    for replica in (spo, caspo, head):
        code, out, err = replica.run("verify")
        assert code == 0, (replica.name, out, err)


def test_the_pdu_head_sees_every_teams_coverage_backlog_and_unseen_cases_from_the_hub(hub, team, tmp_path):
    spo, _caspo, head, _ids = team
    # A second team: its SPO's own store, with one case, uploaded by the SPO's first connect.
    other = Replica("SPO B", tmp_path / "spo-b", add_person(hub, "Bo Bee", "SPO", "Team B"))
    with other.active():
        db = open_db(other.path)
        try:
            db.table("staff").insert(
                {"id": "spo-b", "name": "Bo Bee", "role": "SPO", "team": "Team B", "created_at": "2026-01-05T09:00:00Z"}
            )
            ctx = make_context(db, load_rules(), clock=fixed_clock(NOW))
            intake.add_staff(ctx, "Ola Officer", "PO", team="Team B")
            intake.add_case(ctx, "Z111111", "Cam Case", "Ola Officer", "VERY_HIGH", "LICENCE", "2026-06-01")
        finally:
            db.close()
    other.ok("connect", other.url)
    head.ok("sync")
    picture = json.loads(head.ok("pdu", "--json"))
    teams = {t["team"]: t for t in picture["teams"]}
    assert set(teams) == {"Team A", "Team B"}
    assert teams["Team A"]["cases"] == 2 and teams["Team A"]["spo"] == "Sam Spo"
    assert teams["Team B"]["cases"] == 1 and teams["Team B"]["not_seen"] == 1
    assert teams["Team A"]["open_items"] >= 2  # the two SBARs at least
    assert picture["synced"]
    printed = head.ok("pdu")
    assert "Team B" in printed and "Bo Bee" in printed
    # Only the PDU head has it; Team A's SPO never receives Team B's case at all.
    code, _out, err = spo.run("pdu")
    assert code == 2 and "only a PDU head" in err
    spo.ok("sync")
    assert spo.rows("SELECT COUNT(*) FROM cases WHERE crn = 'Z111111'") == [(0,)]


def test_a_laptop_offline_keeps_working_and_sends_everything_when_it_is_back(team):
    spo, caspo, _head, ids = team
    spo.ok("do", "snooze", ids["first"], "--until", "2027-01-04")
    spo.ok("do", "reassign", ids["second"], "--to", PSO)
    code, _out, err = spo.run("sync", "--hub", "postgresql://sam@127.0.0.1:1/nowhere")  # no hub there
    assert code == 3
    assert err.startswith("spo-tui: offline:") and "wait here" in err
    status = spo.ok("sync", "--status")
    assert "Offline" in status and "Changes waiting to send: 0" not in status
    caspo.ok("sync")
    assert caspo.rows("SELECT snoozed_until FROM items WHERE id = ?", (ids["first"],)) == [(None,)]  # not yet
    spo.ok("sync")  # back on the network
    assert "Offline" not in spo.ok("sync", "--status")
    caspo.ok("sync")
    assert spo.items() == caspo.items()
    assert caspo.rows("SELECT snoozed_until FROM items WHERE id = ?", (ids["first"],)) == [("2027-01-04",)]
