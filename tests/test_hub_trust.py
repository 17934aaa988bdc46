"""What the hub guarantees when things go wrong: a sync killed midway, a client that lies about who
is acting, a reader of another team, a practitioner writing a decision."""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import pytest
from conftest import PSO
from hub_replicas import Replica, add_person, init_hub, team  # team: the fixture

pytestmark = pytest.mark.timeout(180)


def hub_count(hub, sql: str = "SELECT COUNT(*) FROM spo.changes") -> int:
    with hub.connect() as conn:
        return conn.execute(sql).fetchone()[0]


def local_count(replica: Replica, sql: str = "SELECT COUNT(*) FROM changes") -> int:
    with sqlite3.connect(replica.path) as conn:
        return conn.execute(sql).fetchone()[0]


def kill_when(process, reached, timeout: float = 60.0) -> None:
    """SIGKILL ``process`` as soon as ``reached()`` is true (fail if it ends first)."""
    deadline = time.monotonic() + timeout
    while not reached():
        assert process.poll() is None, f"it finished before it could be killed: {process.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.fixture
def demo_team(hub, tmp_path):
    """The SPO's laptop holding the team demo (~350 cases, ~3,700 rows), and the team's CASPO."""
    init_hub(hub)
    spo = Replica("SPO", tmp_path / "spo", "")
    spo.ok("demo", "--db", str(spo.path))
    (spo_id, name, team_name), *_ = spo.rows("SELECT id, name, team FROM staff WHERE role = 'SPO' ORDER BY name")
    spo.url = add_person(hub, name, "SPO", team_name)
    (caspo_name,) = spo.rows("SELECT name FROM staff WHERE role = 'CASPO' ORDER BY name")[0]
    caspo = Replica("CASPO", tmp_path / "caspo", add_person(hub, caspo_name, "CASPO", team_name))
    return spo, caspo


def test_a_sync_killed_midway_and_run_again_loses_and_duplicates_nothing(hub, demo_team, monkeypatch):
    spo, caspo = demo_team
    monkeypatch.setenv("SPO_TUI_SYNC_BATCH", "100")  # many round trips, so there is a middle to kill in
    pushing = spo.spawn("connect", spo.url)
    kill_when(pushing, lambda: hub_count(hub) >= 300)
    sent = hub_count(hub)
    made = local_count(spo)
    assert 0 < sent < made  # killed midway: part of the store is at the hub
    spo.ok("sync")
    assert hub_count(hub) == made
    assert hub_count(hub, "SELECT COUNT(DISTINCT (device, device_seq)) FROM spo.changes") == made
    assert hub_count(hub, "SELECT MAX(device_seq) FROM spo.changes") == made  # one unbroken chain
    assert local_count(spo, "SELECT COUNT(*) FROM changes WHERE pushed = 0") == 0

    pulling = caspo.spawn("connect", caspo.url)
    kill_when(pulling, lambda: caspo.path.exists() and _safe_count(caspo) >= 500)
    assert _safe_count(caspo) < made
    caspo.ok("sync")
    assert caspo.items() == spo.items()
    for table in ("oversight_entries", "audit_log", "ndelius_marks", "cases", "case_flags"):
        assert caspo.rows(f"SELECT COUNT(*) FROM {table}") >= spo.rows(f"SELECT COUNT(*) FROM {table}"), table
    assert caspo.rows("SELECT id FROM oversight_entries ORDER BY id") == spo.rows(
        "SELECT id FROM oversight_entries ORDER BY id"
    )
    code, out, err = caspo.run("verify")
    assert code == 0, out + err


def _safe_count(replica: Replica) -> int:
    try:
        return local_count(replica, "SELECT COUNT(*) FROM changes WHERE origin = 'remote'")
    except sqlite3.Error:
        return 0


def test_a_change_forged_in_another_persons_name_is_refused_by_the_hub(hub, team):
    spo, caspo, _head, ids = team
    # A tampered client: the CASPO's store claims to be the SPO when it seals its changes.
    (spo_id,) = caspo.rows("SELECT id FROM staff WHERE name = 'Sam Spo'")[0]
    with sqlite3.connect(caspo.path) as conn:
        conn.execute("UPDATE sync_state SET value = ? WHERE key = 'staff_id'", [spo_id])
    caspo.run("do", "snooze", ids["second"], "--until", "2027-01-04")
    before = hub_count(hub)
    code, _out, err = caspo.run("sync")
    assert code == 2
    assert "refused" in err and "another person" in err
    assert hub_count(hub) == before
    assert "another person" in caspo.ok("sync", "--status")


def test_a_caspo_of_another_team_reads_nothing_of_team_a(hub, team, tmp_path):
    spo, _caspo, _head, ids = team
    other = Replica("CASPO B", tmp_path / "caspo-b", add_person(hub, "Cy Other", "CASPO", "Team B"))
    other.ok("connect", other.url)
    assert other.rows("SELECT COUNT(*) FROM cases") == [(0,)]
    assert other.rows("SELECT COUNT(*) FROM items WHERE id IN (?, ?)", (ids["first"], ids["second"])) == [(0,)]
    assert other.rows("SELECT COUNT(*) FROM oversight_entries") == [(0,)]
    # ...while the PDU head, who sees every team, has Team A's work.
    assert len(spo.items()) > 0


def test_a_practitioners_decision_is_refused_by_the_hub_even_from_a_tampered_client(hub, team, tmp_path):
    _spo, caspo, _head, ids = team
    officer = Replica("PO", tmp_path / "po", add_person(hub, "Pat Officer", "PO", "Team A"))
    officer.ok("connect", officer.url)
    # Through spo-tui, a practitioner cannot decide an SBAR at all:
    code, _out, err = officer.run("do", "decide", ids["first"], "--outcome", "agreed", "--text", "I decide this one")
    assert code == 2 and "only an spo" in err.lower()
    # A tampered client writes an oversight entry into its store anyway (its capture trigger copies
    # it, as it copies every row written), and syncs it:
    with sqlite3.connect(officer.path) as conn:
        (po_id,) = conn.execute("SELECT value FROM sync_state WHERE key = 'staff_id'").fetchone()
        conn.execute(
            "INSERT INTO oversight_entries(id, crn, item_id, type, outcome, discussed, decision, sensitive, decided_by,"
            " entered_by, created_at, minutes) VALUES ('forged-1', 'X123456', NULL, 'management_oversight', 'agreed',"
            " 'x', 'a decision', 0, ?, ?, '2026-12-04T09:00:00Z', 5)",
            [po_id, po_id],
        )
    code, _out, err = officer.run("sync")
    assert code == 2 and "refused" in err
    assert hub_count(hub, "SELECT COUNT(*) FROM spo.changes WHERE tbl = 'oversight_entries'") == 0
    caspo.ok("sync")
    assert caspo.rows("SELECT COUNT(*) FROM oversight_entries WHERE id = 'forged-1'") == [(0,)]


def test_a_store_with_its_own_record_cannot_join_a_hub_holding_its_teams(hub, team, tmp_path):
    _spo, _caspo, _head, _ids = team
    laptop = Replica("second SPO store", tmp_path / "old-laptop", add_person(hub, "Sid Second", "SPO", "Team A"))
    laptop.ok("demo", "--db", str(laptop.path))  # a store that already holds a record of its own
    code, _out, err = laptop.run("connect", laptop.url)
    assert code == 2
    assert "connect a new, empty store" in err
    assert laptop.rows("SELECT COUNT(*) FROM sync_state") == [(0,)]  # not connected: nothing changed


def test_a_hub_restored_from_an_older_backup_gets_back_what_the_devices_hold(hub, team):
    spo, caspo, _head, ids = team
    caspo.ok("sync")
    restored_to = hub_count(hub, "SELECT MAX(seq) FROM spo.changes")
    spo.ok("do", "snooze", ids["second"], "--until", "2027-01-04")
    spo.ok("sync")
    caspo.ok("sync")
    # The hub is put back to before the snooze (as a restore from last night's dump would), and its
    # numbering goes back too.
    with hub.connect() as conn:
        conn.execute("ALTER TABLE spo.changes DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE spo.checkpoints DISABLE TRIGGER USER")
        conn.execute("DELETE FROM spo.checkpoints")
        conn.execute("DELETE FROM spo.changes WHERE seq > %s", [restored_to])
        conn.execute("SELECT setval('spo.changes_seq', %s)", [restored_to])
        conn.execute("ALTER TABLE spo.changes ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE spo.checkpoints ENABLE TRIGGER USER")
    assert (
        hub_count(
            hub, "SELECT COUNT(*) FROM spo.changes WHERE tbl = 'items' AND op = 'update' AND data ? 'snoozed_until'"
        )
        == 0
    )
    spo.ok("sync")  # the SPO's laptop sends again what the hub lost
    assert (
        hub_count(
            hub, "SELECT COUNT(*) FROM spo.changes WHERE tbl = 'items' AND op = 'update' AND data ? 'snoozed_until'"
        )
        == 1
    )
    caspo.ok("do", "reassign", ids["first"], "--to", "Pat Officer")
    caspo.ok("sync")  # the CASPO had read past the hub's new numbering: it takes everything in again
    spo.ok("sync")
    assert spo.items() == caspo.items()
    assert caspo.rows("SELECT snoozed_until FROM items WHERE id = ?", (ids["second"],)) == [("2027-01-04",)]


def test_a_store_restored_from_its_backup_loses_nothing_the_hub_holds_and_keeps_syncing(hub, team, tmp_path):
    spo, caspo, _head, ids = team
    backup = tmp_path / "last-night.db"
    spo.ok("backup", "--to", str(backup))
    spo.ok("do", "snooze", ids["first"], "--until", "2027-01-04")  # after the backup, and sent
    spo.ok("sync")
    code, out, err = spo.run("restore", str(backup))
    assert code == 0, out + err
    assert spo.rows("SELECT snoozed_until FROM items WHERE id = ?", (ids["first"],)) == [(None,)]  # lost here...
    spo.ok("do", "reassign", ids["second"], "--to", PSO)  # new work on the restored store, before any sync
    spo.ok("sync")
    # ...and back from the hub; the new work follows the hub's head in this device's chain.
    assert spo.rows("SELECT snoozed_until FROM items WHERE id = ?", (ids["first"],)) == [("2027-01-04",)]
    caspo.ok("sync")
    assert spo.items() == caspo.items()
    (assigned,) = caspo.rows(
        "SELECT s.name FROM items i JOIN staff s ON s.id = i.assigned_to WHERE i.id = ?", (ids["second"],)
    )
    assert assigned == (PSO,)
    assert spo.run("verify", "--hub")[0] == 0
