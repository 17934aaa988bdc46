"""The signed record: every tampering of issue 11 section 2 is named by `spo-tui verify`, run as a
real process (exit 1), and a clean store verifies (exit 0).

The tampering is done as someone with sqlite3, the source code and no scruples would do it: with the
triggers dropped and put back exactly as they were (so only the trigger test sees them missing), and
with the chain's hashes recomputed where the test says so. What they do not have is the user's
signing key, which lives outside the database.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import CASPO, HIGH_CRN, LOW_CRN, PO, fixed_clock, link_me
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlite_utils import Database

from spo_tui.domain import chain
from spo_tui.services import decisions, export, rhythm
from spo_tui.services.context import make_context
from spo_tui.services.decisions import AgreedAction
from spo_tui.store import queries
from spo_tui.store.db import open_db
from spo_tui.store.schema import record_triggers


@pytest.fixture
def store(ctx, rules, tmp_path):
    """Four oversight entries on the conftest team (one with agreed actions, one entered by the
    CASPO), a batch of nDelius marks, a team note, their audit rows; the database closed afterwards."""
    ids = [
        decisions.record_oversight(
            ctx, crn=HIGH_CRN, outcome="agreed", discussed="Discussed 1", decision="Decision 1"
        ).oversight_id,
        decisions.record_oversight(
            ctx,
            crn=HIGH_CRN,
            outcome="actions_set",
            discussed="Missed appointments",
            decision="Verify the address",
            actions=[AgreedAction("Verify new address with police", PO, date(2026, 11, 27))],
        ).oversight_id,
    ]
    caspo = make_context(ctx.db, rules, CASPO, clock=ctx.clock)
    ids.append(
        decisions.record_oversight(
            caspo, crn=LOW_CRN, outcome="agreed", discussed="Plan", decision="Agreed"
        ).oversight_id
    )
    export.mark_entered(caspo, ids[:2])
    rhythm.add_team_note(ctx, "wellbeing", "Lee back after a hard week")
    ids.append(
        decisions.record_oversight(
            ctx, crn=LOW_CRN, outcome="agreed", discussed="Discussed 4", decision="Decision 4"
        ).oversight_id
    )
    link_me(ctx.db)  # this login may act as anyone in the store, as the tests do with --as
    path = Path(ctx.db.conn.execute("PRAGMA database_list").fetchone()[2])
    ctx.db.close()
    return path, ids


def verify(path, *args):
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), "verify", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "SPO_TUI_TODAY": "2026-11-23"},
        timeout=120,
    )


def export_text(path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), "export", "oversight", "--format", "text"],
        capture_output=True,
        text=True,
        env={**os.environ, "SPO_TUI_TODAY": "2026-11-23"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.rsplit("spo-tui record:", 1)[0]  # the footer names the head, which the export itself moves on


def tamper(path, *statements, keep_triggers=True):
    """Change the file with sqlite3: the record's triggers dropped, the statements run, and the
    triggers put back exactly as they were (unless ``keep_triggers`` is False)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    for name in record_triggers():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    for sql in statements:
        conn.execute(sql)
    if keep_triggers:
        for sql in record_triggers().values():
            conn.execute(sql)
    conn.commit()
    conn.close()


def recompute_chain(path, start: int = 1) -> None:
    """Rehash every link from ``start`` on, as someone with the source code would after changing a
    record (they cannot sign: the signatures are left as they were)."""
    conn = sqlite3.connect(path)
    db = Database(conn)
    previous = (
        chain.GENESIS
        if start == 1
        else conn.execute("SELECT hash FROM record_chain WHERE position = ?", [start - 1]).fetchone()[0]
    )
    for triggers in (record_triggers(),):
        for name in triggers:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    for position, kind, ref, key_id in conn.execute(
        "SELECT position, kind, ref, key_id FROM record_chain WHERE position >= ? ORDER BY position", [start]
    ).fetchall():
        previous = chain.link_hash(previous, position, kind, ref, key_id, queries.record_content(db, kind, ref))
        conn.execute("UPDATE record_chain SET hash = ? WHERE position = ?", [previous, position])
    for sql in record_triggers().values():
        conn.execute(sql)
    conn.commit()
    conn.close()


def link_position(path, kind, ref) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT position FROM record_chain WHERE kind = ? AND ref = ?", [kind, ref]).fetchone()[0]
    finally:
        conn.close()


def one(path, sql, params=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchone()
    finally:
        conn.close()


def tampered(result, *expected: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.startswith("The oversight record has been tampered with:\n")
    for text in expected:
        assert text in result.stderr, result.stderr
    return result.stderr


# --- A clean store -------------------------------------------------------------------------------


def test_a_clean_store_verifies_and_the_check_is_anchored_outside_the_file(store):
    path, ids = store
    first = verify(path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "The oversight record is intact: 4 entries, every link holds."
    assert "4 oversight entries" in lines[1] and "1 nDelius batch" in lines[1] and "1 team note" in lines[1]
    assert ", yours)" in lines[1]
    assert lines[2] == "This is your first check of this store: its keys are now the ones you trust for it."
    store_id = one(path, "SELECT store_id FROM record_store")[0]
    anchor_file = Path(os.environ["XDG_DATA_HOME"]) / "spo-tui" / "anchors" / f"{store_id}.jsonl"
    (line,) = anchor_file.read_text().splitlines()
    count, head = one(path, "SELECT position, hash FROM record_chain ORDER BY position DESC LIMIT 1")
    assert (json.loads(line)["count"], json.loads(line)["head"], json.loads(line)["event"]) == (count, head, "verify")
    assert oct(anchor_file.stat().st_mode & 0o777) == "0o600"
    again = verify(path)
    assert again.returncode == 0 and again.stdout.splitlines()[2].startswith("It carries on from your last verify (")


def test_every_record_the_export_relies_on_is_linked_and_signed(store):
    path, ids = store
    kinds = dict(sqlite3.connect(path).execute("SELECT kind, COUNT(*) FROM record_chain GROUP BY kind").fetchall())
    audits = one(path, "SELECT COUNT(*) FROM audit_log")[0]
    assert kinds == {"store": 1, "key": 1, "oversight": 4, "ndelius": 1, "audit": audits, "team_note": 1}
    # The app signs each link it writes; a new store's first two links (its identity and the first
    # key) are written together, and the second signature vouches for both.
    assert one(path, "SELECT group_concat(position) FROM record_chain WHERE signature IS NULL")[0] == "1"
    snapshot = one(
        path,
        "SELECT decided_by_name, decided_by_role, entered_by_name, entered_by_role, actions, taken "
        "FROM oversight_snapshots WHERE oversight_id = ?",
        [ids[1]],
    )
    assert snapshot[:4] == ("Sam Spo", "SPO", "Sam Spo", "SPO") and snapshot[5] == "at the time"
    assert json.loads(snapshot[4]) == [
        {"description": "Verify new address with police", "owner": PO, "due": "2026-11-27"}
    ]
    assert one(
        path, "SELECT entered_by_name, entered_by_role FROM oversight_snapshots WHERE oversight_id = ?", [ids[2]]
    ) == (CASPO, "CASPO")


# --- Section 2, one tampering at a time ----------------------------------------------------------


def test_deleting_the_last_entries_with_their_links_is_found_against_the_last_anchor(store):
    path, ids = store
    assert verify(path).returncode == 0
    cut_from(path, link_position(path, "oversight", ids[3]))
    tampered(
        verify(path),
        "fewer links than at your verify of",
        "its last entries were removed, or the file was replaced by an older copy",
    )


def test_removing_the_newest_links_since_the_last_anchor_is_not_found(store):
    """What verify cannot prove: links made after the last anchor can be cut off with their records."""
    path, ids = store
    cut_from(path, link_position(path, "oversight", ids[3]))
    assert verify(path).returncode == 0


def cut_from(path, position: int) -> None:
    """Remove every link from ``position`` on and every record those links named."""
    conn = sqlite3.connect(path)
    named = conn.execute("SELECT kind, ref FROM record_chain WHERE position >= ?", [position]).fetchall()
    conn.close()
    tables = {
        "oversight": ["oversight_snapshots WHERE oversight_id", "oversight_entries WHERE id"],
        "audit": ["audit_log WHERE id"],
        "team_note": ["team_notes WHERE id"],
        "ndelius": ["ndelius_marks WHERE batch_id", "ndelius_batches WHERE id"],
    }
    tamper(
        path,
        f"DELETE FROM record_chain WHERE position >= {position}",
        *[f"DELETE FROM {where} = '{ref}'" for kind, ref in named for where in tables.get(kind, [])],
    )


def test_an_entry_removed_from_the_middle_with_its_link_is_named(store):
    path, ids = store
    position = link_position(path, "oversight", ids[0])
    tamper(
        path,
        f"DELETE FROM record_chain WHERE position = {position}",
        f"DELETE FROM oversight_entries WHERE id = '{ids[0]}'",
        f"DELETE FROM oversight_snapshots WHERE oversight_id = '{ids[0]}'",
    )
    tampered(verify(path), f"link {position} has been removed")


def test_an_entry_removed_without_its_link_is_named(store):
    path, ids = store
    tamper(path, f"DELETE FROM oversight_entries WHERE id = '{ids[2]}'")
    tampered(
        verify(path), f"oversight entry {ids[2]} (link {link_position(path, 'oversight', ids[2])}) has been removed"
    )


def test_an_edited_entry_is_named(store):
    path, ids = store
    tamper(path, f"UPDATE oversight_entries SET decision = 'Something else' WHERE id = '{ids[1]}'")
    tampered(
        verify(path),
        f"oversight entry {ids[1]} (link {link_position(path, 'oversight', ids[1])}, made 2026-11-23T09:00:00Z, "
        "decided by Sam Spo) has been altered",
    )


def test_an_edited_entry_with_the_chain_recomputed_is_named_by_its_signature(store):
    path, ids = store
    assert verify(path).returncode == 0
    position = link_position(path, "oversight", ids[1])
    tamper(path, f"UPDATE oversight_entries SET decision = 'Something else' WHERE id = '{ids[1]}'")
    recompute_chain(path, position)
    problems = tampered(
        verify(path),
        f"oversight entry {ids[1]} (link {position}, made 2026-11-23T09:00:00Z, decided by Sam Spo) "
        "has been altered or written outside spo-tui: its signature does not hold",
    )
    assert "is not the one your verify of" in problems  # the anchor sees the rewrite too


def test_a_forged_back_dated_entry_decided_by_the_spo_with_a_correct_hash_is_named(store):
    """Appended after the last anchor with sqlite3 and the source code: entry, snapshot and a link
    whose hash is right. Without the device key it cannot be signed."""
    path, ids = store
    assert verify(path).returncode == 0
    forge_entry(path, key_id=one(path, "SELECT key_id FROM chain_keys")[0], sign_with=None)
    tampered(
        verify(path),
        "oversight entry forged-1 (link",
        "made 2026-01-05T10:00:00Z, decided by Sam Spo) has been altered or "
        "written outside spo-tui: its signature does not hold",
    )


def test_a_forged_entry_signed_with_a_key_of_the_forgers_own_is_refused(store):
    path, ids = store
    assert verify(path).returncode == 0
    forger = Ed25519PrivateKey.generate()
    forge_entry(path, key_id=None, sign_with=forger)
    problems = tampered(
        verify(path),
        "device key ",
        "(mallory@elsewhere), which you have not trusted for this store",
        "run spo-tui verify --trust ",
    )
    assert "oversight entry forged-1" in problems or "device key" in problems


def test_on_a_first_check_the_keys_already_in_the_store_are_trusted(store):
    """What verify cannot prove: a store checked for the first time by this user trusts the keys in it."""
    path, ids = store
    forge_entry(path, key_id=None, sign_with=Ed25519PrivateKey.generate())
    result = verify(path)
    assert result.returncode == 0, result.stderr
    assert "(mallory@elsewhere)" in result.stdout and "first check" in result.stdout


def test_a_replaced_store_does_not_get_trust_on_first_use(store, tmp_path):
    """A file checked before that now holds another store (made with a forger's key) is refused."""
    path, ids = store
    assert verify(path).returncode == 0
    tamper(
        path,
        "DELETE FROM record_store",
        "INSERT INTO record_store(store_id, created_at) VALUES ('7a0e3c54-1d2b-4f6a-9c8e-0b1a2c3d4e5f', 'x')",
        "DELETE FROM record_chain",
        "DELETE FROM chain_keys",
    )
    rebuild_with_key(path, Ed25519PrivateKey.generate())
    tampered(verify(path), "which you have not trusted for this store")


def test_renaming_the_spo_changes_neither_the_export_nor_the_record(store):
    """The export reads the names and roles each entry recorded at the time; the staff table is
    today's list of people, not part of the record, so verify has nothing to report."""
    path, ids = store
    before = export_text(path)
    assert "Decided by: Sam Spo (SPO)" in before
    tamper(
        path,
        "UPDATE staff SET name = 'Someone Else' WHERE name = 'Sam Spo'",
        "UPDATE staff SET name = 'Not Cas', role = 'PO' WHERE name = 'Cas Admin'",
    )
    assert export_text(path) == before
    assert verify(path).returncode == 0


def test_editing_the_names_an_entry_recorded_is_named(store):
    path, ids = store
    tamper(path, f"UPDATE oversight_snapshots SET decided_by_name = 'Someone Else' WHERE oversight_id = '{ids[3]}'")
    tampered(
        verify(path), f"oversight entry {ids[3]} (link {link_position(path, 'oversight', ids[3])}", "has been altered"
    )


def test_editing_agreed_actions_changes_neither_the_export_nor_the_record(ctx, tmp_path):
    decisions.record_oversight(
        ctx,
        crn=HIGH_CRN,
        outcome="actions_set",
        discussed="Missed appointments",
        decision="Verify the address",
        actions=[AgreedAction("Verify new address with police", PO, date(2026, 11, 27))],
    )
    path = Path(ctx.db.conn.execute("PRAGMA database_list").fetchone()[2])
    ctx.db.close()
    before = export_text(path)
    assert "- Verify new address with police - Pat Officer - due 27/11/2026" in before
    tamper(
        path,
        "UPDATE actions SET description = 'Nothing to do', owner_id = (SELECT id FROM staff WHERE name = 'Cas Admin')",
        "UPDATE items SET due = '2027-01-01' WHERE kind = 'action'",
    )
    assert export_text(path) == before
    assert verify(path).returncode == 0


def test_editing_the_actions_an_entry_recorded_is_named(store):
    path, ids = store
    tamper(path, f"UPDATE oversight_snapshots SET actions = '[]' WHERE oversight_id = '{ids[1]}'")
    tampered(
        verify(path), f"oversight entry {ids[1]} (link {link_position(path, 'oversight', ids[1])}", "has been altered"
    )


def test_deleting_an_ndelius_mark_is_named(store):
    path, ids = store
    batch = one(path, "SELECT id FROM ndelius_batches")[0]
    tamper(path, f"DELETE FROM ndelius_marks WHERE oversight_id = '{ids[0]}'")
    tampered(
        verify(path),
        f"nDelius batch {batch} (link {link_position(path, 'ndelius', batch)}, mark of 2 entries",
        "has been altered",
    )


def test_adding_an_ndelius_mark_to_a_batch_is_named(store):
    path, ids = store
    batch = one(path, "SELECT id FROM ndelius_batches")[0]
    tamper(path, f"INSERT INTO ndelius_marks(batch_id, oversight_id) VALUES ('{batch}', '{ids[3]}')")
    tampered(verify(path), f"nDelius batch {batch} (link", "has been altered")


def test_adding_a_batch_of_ndelius_marks_is_named(store):
    path, ids = store
    tamper(
        path,
        "INSERT INTO ndelius_batches(id, action, by_id, at, entries) VALUES ('sneaky', 'mark', 'spo-0001', '2026-11-23T10:00:00Z', 1)",
        f"INSERT INTO ndelius_marks(batch_id, oversight_id) VALUES ('sneaky', '{ids[3]}')",
    )
    tampered(
        verify(path),
        "nDelius batch sneaky (no link, mark of 1 entries at 2026-11-23T10:00:00Z) was written outside spo-tui",
    )


def test_deleting_an_audit_row_is_named(store):
    path, ids = store
    audit_id = one(path, "SELECT MIN(id) FROM audit_log WHERE action = 'record_oversight'")[0]
    tamper(path, f"DELETE FROM audit_log WHERE id = {audit_id}")
    tampered(
        verify(path), f"audit row {audit_id} (link {link_position(path, 'audit', str(audit_id))}) has been removed"
    )


def test_deleting_an_audit_row_with_its_link_is_named(store):
    path, ids = store
    audit_id = one(path, "SELECT MIN(id) FROM audit_log WHERE action = 'record_oversight'")[0]
    position = link_position(path, "audit", str(audit_id))
    tamper(
        path, f"DELETE FROM audit_log WHERE id = {audit_id}", f"DELETE FROM record_chain WHERE position = {position}"
    )
    tampered(verify(path), f"link {position} has been removed")


def test_adding_an_audit_row_is_named(store):
    path, ids = store
    tamper(
        path,
        "INSERT INTO audit_log(at, actor_id, action, entity) VALUES ('2026-01-01T00:00:00Z', 'spo-0001', 'view_case', 'case')",
    )
    added = one(path, "SELECT MAX(id) FROM audit_log")[0]
    tampered(
        verify(path), f"audit row {added} (no link, view_case at 2026-01-01T00:00:00Z) was written outside spo-tui"
    )


def test_editing_an_audit_row_is_named_including_a_column_added_later(store):
    path, ids = store
    audit_id = one(path, "SELECT MIN(id) FROM audit_log")[0]
    tamper(path, "ALTER TABLE audit_log ADD COLUMN remark TEXT")
    assert verify(path).returncode == 0  # a new nullable column leaves the old links as they were
    tamper(path, f"UPDATE audit_log SET remark = 'mallory' WHERE id = {audit_id}")
    tampered(
        verify(path), f"audit row {audit_id} (link {link_position(path, 'audit', str(audit_id))}", "has been altered"
    )


def test_changing_the_computer_login_on_an_audit_row_is_named(store):
    path, ids = store
    audit_id = one(path, "SELECT MIN(id) FROM audit_log")[0]
    tamper(path, f"UPDATE audit_log SET os_user = 'mallory' WHERE id = {audit_id}")
    tampered(
        verify(path), f"audit row {audit_id} (link {link_position(path, 'audit', str(audit_id))}", "has been altered"
    )


def test_deleting_a_team_note_is_named(store):
    path, ids = store
    note = one(path, "SELECT id FROM team_notes")[0]
    tamper(path, f"DELETE FROM team_notes WHERE id = '{note}'")
    tampered(verify(path), f"team note {note} (link {link_position(path, 'team_note', note)}) has been removed")


@pytest.mark.parametrize(
    "name", ["oversight_entries_no_update", "audit_log_no_delete", "record_chain_no_update", "ndelius_marks_no_delete"]
)
def test_dropping_a_trigger_is_named(store, name):
    path, ids = store
    conn = sqlite3.connect(path)
    conn.execute(f"DROP TRIGGER {name}")
    conn.commit()
    conn.close()
    tampered(verify(path), f"the trigger {name}, which keeps {name.rsplit('_no_', 1)[0]} append-only, has been dropped")


def test_changing_or_adding_a_trigger_is_named(store):
    path, ids = store
    tamper(
        path,
        "CREATE TRIGGER oversight_entries_no_update BEFORE UPDATE ON oversight_entries WHEN 0 BEGIN SELECT 1; END",
        "CREATE TRIGGER sneaky AFTER INSERT ON audit_log BEGIN SELECT 1; END",
        keep_triggers=False,
    )
    conn = sqlite3.connect(path)
    for name, sql in record_triggers().items():
        if name != "oversight_entries_no_update":
            conn.execute(sql)
    conn.commit()
    conn.close()
    tampered(
        verify(path),
        "the trigger oversight_entries_no_update has been changed",
        "an unknown trigger sneaky has been added to audit_log",
    )


def test_replacing_the_file_with_an_older_copy_is_found_and_a_restore_can_be_accepted(store, ctx, rules, tmp_path):
    path, ids = store
    older = tmp_path / "older.db"
    shutil.copyfile(path, older)
    db = open_db(path)
    later = make_context(db, rules, clock=fixed_clock(ctx.now))
    decisions.record_oversight(later, crn=HIGH_CRN, outcome="agreed", discussed="Later", decision="Later")
    db.close()
    assert verify(path).returncode == 0
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(older, path)
    tampered(
        verify(path),
        "fewer links than at your verify of",
        "replaced by an older copy",
        "If you restored a backup on purpose, run spo-tui verify --after-restore",
    )
    accepted = verify(path, "--after-restore")
    assert accepted.returncode == 0 and "Restored copy accepted" in accepted.stdout
    assert verify(path).returncode == 0


def test_a_copy_rewritten_from_an_anchor_on_is_found(store):
    """Another copy of the same store that went its own way after the anchor (or a rewrite)."""
    path, ids = store
    assert verify(path).returncode == 0
    position = one(path, "SELECT MAX(position) FROM record_chain")[0]
    tamper(path, "UPDATE team_notes SET text = 'Changed' WHERE 1")
    recompute_chain(path, 1)
    tampered(verify(path), f"link {position} is not the one your verify of")


def test_the_store_id_cannot_be_swapped(store):
    path, ids = store
    assert verify(path).returncode == 0
    tamper(
        path,
        "UPDATE record_store SET store_id = '7a0e3c54-1d2b-4f6a-9c8e-0b1a2c3d4e5f'",
        "UPDATE record_chain SET ref = '7a0e3c54-1d2b-4f6a-9c8e-0b1a2c3d4e5f' WHERE position = 1",
    )
    tampered(verify(path), "the store's identity 7a0e3c54-1d2b-4f6a-9c8e-0b1a2c3d4e5f (link 1) has been altered")


def test_verify_on_a_file_that_is_not_a_database_says_so_in_one_line(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all, just some bytes" * 100)
    result = verify(bad)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and result.stderr.startswith("spo-tui: ")


# --- Helpers for forgeries -----------------------------------------------------------------------


def _raw(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def forge_entry(path, *, key_id: str | None, sign_with: Ed25519PrivateKey | None) -> None:
    """Append, with sqlite3 and the source code, an entry back-dated to 5 January "decided by" the
    SPO, its snapshot and a correctly hashed link; with ``sign_with``, the forger's own key is
    registered in the store first and signs both links."""
    tamper(
        path,
        """INSERT INTO oversight_entries(id, crn, type, outcome, discussed, decision, sensitive, decided_by, entered_by, created_at)
              VALUES ('forged-1', 'X123456', 'management_oversight', 'agreed', 'Backdated', 'Backdated', 0, 'spo-0001', 'spo-0001',
                      '2026-01-05T10:00:00Z')""",
        """INSERT INTO oversight_snapshots VALUES ('forged-1', 'Sam Spo', 'SPO', 'Sam Spo', 'SPO', '[]', 'at the time')""",
    )
    conn = sqlite3.connect(path)
    db = Database(conn)
    for name in record_triggers():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    records = []
    if sign_with is not None:
        key_id = chain.key_fingerprint(_raw(sign_with))
        conn.execute(
            "INSERT INTO chain_keys VALUES (?, ?, 'mallory@elsewhere', '2026-01-05T10:00:00Z')",
            [key_id, _raw(sign_with)],
        )
        records.append(("key", key_id))
    records.append(("oversight", "forged-1"))
    position, previous = conn.execute(
        "SELECT position, hash FROM record_chain ORDER BY position DESC LIMIT 1"
    ).fetchone()
    for kind, ref in records:
        position += 1
        previous = chain.link_hash(previous, position, kind, ref, key_id, queries.record_content(db, kind, ref))
        signature = sign_with.sign(chain.signed_message(previous)).hex() if sign_with else None
        conn.execute(
            "INSERT INTO record_chain VALUES (?, ?, ?, ?, ?, ?)", [position, kind, ref, key_id, previous, signature]
        )
    for sql in record_triggers().values():
        conn.execute(sql)
    conn.commit()
    conn.close()


def rebuild_with_key(path, key: Ed25519PrivateKey) -> None:
    """Link every record afresh under a forger's key (a whole store made up, or made over)."""
    conn = sqlite3.connect(path)
    db = Database(conn)
    for name in record_triggers():
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    key_id = chain.key_fingerprint(_raw(key))
    conn.execute(
        "INSERT INTO chain_keys VALUES (?, ?, 'mallory@elsewhere', '2026-01-05T10:00:00Z')", [key_id, _raw(key)]
    )
    store_id = conn.execute("SELECT store_id FROM record_store").fetchone()[0]
    records = [
        ("store", store_id, queries.record_content(db, "store", store_id)),
        ("key", key_id, queries.record_content(db, "key", key_id)),
    ]
    for kind in ("oversight", "ndelius", "audit", "team_note"):
        records += list(queries.all_record_contents(db, kind))
    previous = chain.GENESIS
    for position, (kind, ref, content) in enumerate(records, start=1):
        previous = chain.link_hash(previous, position, kind, ref, key_id, content)
        conn.execute(
            "INSERT INTO record_chain VALUES (?, ?, ?, ?, ?, ?)",
            [position, kind, ref, key_id, previous, key.sign(chain.signed_message(previous)).hex()],
        )
    for sql in record_triggers().values():
        conn.execute(sql)
    conn.commit()
    conn.close()


def test_a_backup_anchors_the_head_so_a_later_rollback_is_found(store, ctx, rules, tmp_path):
    path, ids = store
    older = tmp_path / "older.db"
    shutil.copyfile(path, older)
    db = open_db(path)
    decisions.record_oversight(
        make_context(db, rules, clock=fixed_clock(ctx.now)),
        crn=HIGH_CRN,
        outcome="agreed",
        discussed="Later",
        decision="Later",
    )
    db.close()
    backed = subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), "backup", "--to", str(tmp_path / "b.db")],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )
    assert backed.returncode == 0, backed.stderr
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(older, path)
    tampered(verify(path), "fewer links than at your backup of", "older copy")


def as_user(path, tmp_path, who, *args):
    """Run spo-tui as another user of this computer: their own config (key) and data (anchors) folders."""
    env = {
        **os.environ,
        "SPO_TUI_TODAY": "2026-11-23",
        "XDG_CONFIG_HOME": str(tmp_path / who / "config"),
        "XDG_DATA_HOME": str(tmp_path / who / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_colleagues_key_is_trusted_on_a_first_check_and_a_later_one_only_when_told(store, tmp_path):
    path, ids = store
    # The CASPO exports before ever verifying: an export anchors the head but decides no trust.
    out = tmp_path / "o.csv"
    assert as_user(path, tmp_path, "cas", "--as", CASPO, "export", "oversight", "--output", str(out)).returncode == 0
    first = as_user(path, tmp_path, "cas", "verify")
    assert first.returncode == 0, first.stderr
    assert "first check" in first.stdout
    assert verify(path).returncode == 0  # the SPO's own first check trusts the CASPO's key, already in the store
    # A third person starts writing to the file: the SPO has not trusted their key.
    assert (
        as_user(path, tmp_path, "third", "--as", CASPO, "add", "task", "--title", "X", "--category", "other").returncode
        == 0
    )
    problems = tampered(verify(path), "which you have not trusted for this store", "run spo-tui verify --trust ")
    key = problems.split("run spo-tui verify --trust ")[1][:8]
    trusted = verify(path, "--trust", key)
    assert trusted.returncode == 0, trusted.stderr
    assert verify(path).returncode == 0  # remembered in the anchor


def test_a_signing_key_others_can_read_is_refused_and_nothing_is_saved(store):
    path, ids = store
    key = Path(os.environ["XDG_CONFIG_HOME"]) / "spo-tui" / "record-key.pem"
    assert oct(key.stat().st_mode & 0o777) == "0o600" and oct(key.parent.stat().st_mode & 0o777) == "0o700"
    key.chmod(0o644)
    before = one(path, "SELECT COUNT(*) FROM record_chain")
    added = subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), "add", "task", "--title", "X", "--category", "other"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )
    assert added.returncode == 2
    assert (
        added.stderr
        == f"spo-tui: the record's signing key {key} can be read by other users: make it private (chmod 600 {key})\n"
    )
    assert one(path, "SELECT COUNT(*) FROM record_chain") == before
    assert one(path, "SELECT COUNT(*) FROM items WHERE title = 'X'") == (0,)


@pytest.mark.parametrize("table", ["record_chain", "ndelius_marks"])
def test_a_dropped_record_table_is_named(store, table):
    path, ids = store
    tamper(path, f"DROP TABLE {table}", keep_triggers=False)
    tampered(verify(path), f"the table {table}, part of the signed record, has been dropped")
