"""Migration 0008_record_chain: a store made by an earlier spo-tui is moved into the signed record."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import insert_spo
from sqlite_utils import Database

from spo_tui.store import writes
from spo_tui.store.db import open_db
from spo_tui.store.schema import migrations


def old_store(path, *, break_old_chain: bool = False):
    """A store as spo-tui wrote it before 0008: two entries (one with an agreed action) in the old
    chain, marked entered by two exports, an audit row and a team note."""
    old = Database(str(path))
    migrations.apply(old, stop_before="0008_record_chain")
    insert_spo(old)
    old.execute("INSERT INTO staff(id, name, role, created_at) VALUES ('po-1', 'Pat Officer', 'PO', 't')")
    old.execute("INSERT INTO staff(id, name, role, created_at) VALUES ('cas-1', 'Cas Admin', 'CASPO', 't')")
    old.execute("""INSERT INTO cases(crn, name, practitioner_id, rosh, sentence_type, sentence_start, created_at, updated_at)
                   VALUES ('X123456', 'Alex Example', 'po-1', 'HIGH', 'LICENCE', '2026-08-01', 't', 't')""")
    entries = [
        {
            "id": "e1",
            "crn": "X123456",
            "item_id": None,
            "type": "management_oversight",
            "outcome": "actions_set",
            "discussed": "Release plan",
            "decision": "Agreed",
            "sensitive": 0,
            "decided_by": "spo-0001",
            "entered_by": "cas-1",
            "created_at": "2026-08-02T10:00:00Z",
            "minutes": None,
            "supersedes_id": None,
        },
        {
            "id": "e2",
            "crn": "X123456",
            "item_id": None,
            "type": "management_oversight",
            "outcome": "agreed",
            "discussed": "Review",
            "decision": "Carry on",
            "sensitive": 0,
            "decided_by": "spo-0001",
            "entered_by": "spo-0001",
            "created_at": "2026-08-03T10:00:00Z",
            "minutes": None,
            "supersedes_id": None,
        },
    ]
    for entry in entries:
        old.table("oversight_entries").insert(entry)
    writes.append_to_chain(old, entries)
    old.execute("""INSERT INTO items(id, kind, crn, title, status, due, created_at, updated_at)
                   VALUES ('a1', 'action', 'X123456', 'Home visit', 'open', '2026-08-10', 't', 't')""")
    old.execute(
        "INSERT INTO actions(item_id, oversight_id, owner_id, description) VALUES ('a1', 'e1', 'po-1', 'Home visit')"
    )
    old.execute("INSERT INTO ndelius_entries VALUES ('e1', 'cas-1', '2026-08-04T09:00:00Z')")
    old.execute("INSERT INTO ndelius_entries VALUES ('e2', 'cas-1', '2026-08-05T09:00:00Z')")
    old.execute(
        "INSERT INTO audit_log(at, actor_id, action, entity, entity_id) VALUES ('2026-08-02T10:00:00Z', 'cas-1', 'record_oversight', 'item', NULL)"
    )
    old.execute(
        "INSERT INTO team_notes(id, day, kind, text, created_by, created_at) VALUES ('n1', '2026-08-02', 'note', 'Hello', 'spo-0001', 't')"
    )
    if break_old_chain:
        old.execute("DROP TRIGGER oversight_entries_no_update")
        old.execute("UPDATE oversight_entries SET decision = 'Changed before the move' WHERE id = 'e2'")
    old.conn.commit()
    old.close()


def verify(path):
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), "verify"],
        capture_output=True,
        text=True,
        env={**os.environ, "SPO_TUI_TODAY": "2026-11-23"},
        timeout=120,
    )


def test_an_old_store_is_moved_into_the_signed_record_and_verifies(tmp_path):
    path = tmp_path / "old.db"
    old_store(path)
    db = open_db(path)
    kinds = db.execute("SELECT kind, ref FROM record_chain ORDER BY position").fetchall()
    assert [k for k, _ in kinds] == [
        "store",
        "key",
        "oversight",
        "oversight",
        "ndelius",
        "ndelius",
        "audit",
        "team_note",
    ]
    assert [r for k, r in kinds if k == "oversight"] == ["e1", "e2"]  # in the old chain's order
    # Only the last link is signed: one signature vouches for the whole move.
    assert db.execute("SELECT COUNT(*) FROM record_chain WHERE signature IS NOT NULL").fetchone()[0] == 1
    # The snapshots are what the rows say now: the best the past allows, and marked as such.
    snap = db.execute(
        "SELECT decided_by_name, entered_by_name, entered_by_role, actions, taken FROM oversight_snapshots "
        "WHERE oversight_id = 'e1'"
    ).fetchone()
    assert snap[:3] == ("Sam Spo", "Cas Admin", "CASPO") and snap[4] == "at migration 0008"
    assert json.loads(snap[3]) == [{"description": "Home visit", "owner": "Pat Officer", "due": "2026-08-10"}]
    # Each former export's marks are one batch; both entries stay marked.
    batches = db.execute("SELECT action, by_id, at, entries, note FROM ndelius_batches ORDER BY at").fetchall()
    assert batches == [
        ("mark", "cas-1", "2026-08-04T09:00:00Z", 1, "marked before batches were kept"),
        ("mark", "cas-1", "2026-08-05T09:00:00Z", 1, "marked before batches were kept"),
    ]
    assert db.execute("SELECT legacy_links, legacy_problem FROM record_store").fetchone() == (2, None)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "oversight_chain" not in tables and "ndelius_entries" not in tables
    db.close()
    result = verify(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("The oversight record is intact: 2 entries, every link holds.")


def test_an_old_chain_already_broken_stays_reported_after_the_move(tmp_path):
    path = tmp_path / "old.db"
    old_store(path, break_old_chain=True)
    result = verify(path)
    assert result.returncode == 1
    assert "the old chain had already been broken: entry e2 (link 2) had been altered" in result.stderr
