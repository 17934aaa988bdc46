"""The store: migrations, pragmas, file permissions, bad files, append-only oversight and audit."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest
from conftest import HIGH_CRN, NOW, PO, insert_spo, row, rows, snapshot, staff_id
from sqlite_utils import Database

from spo_tui.domain.errors import NotFound
from spo_tui.services import decisions
from spo_tui.store import queries
from spo_tui.store.db import StoreError, get_meta, is_empty, open_db, set_meta
from spo_tui.store.schema import LATEST, migrations

TABLES = {
    "meta",
    "staff",
    "absences",
    "cases",
    "case_flags",
    "items",
    "sbars",
    "touch_points",
    "countersigns",
    "countersign_history",
    "alerts",
    "tasks",
    "supervision",
    "oversight_entries",
    "actions",
    "audit_log",
    "drafts",
    "transfers",
    "team_notes",
    "staff_links",
    "_sqlite_migrations",
    "record_store",
    "chain_keys",
    "record_chain",
    "oversight_snapshots",
    "oversight_levels",  # 0016_workload_levels
    "teams",  # 0014_team_kinds
    "ndelius_batches",
    "ndelius_marks",
    "confirms",
    "changes",
    "change_capture",
    "sync_state",
    "hub_devices",
    "hub_checkpoints",
    "rcat_audits",
    "aqa_ratings",
}


def table_names(db) -> set[str]:
    return {
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    }


def applied(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'spo_tui' ORDER BY id")]


def entry_row(db, entry_id) -> tuple:
    return db.execute("SELECT * FROM oversight_entries WHERE id = ?", [entry_id]).fetchone()


# --- Migrations ----------------------------------------------------------------------------------


ALL_MIGRATIONS = [
    "0001_initial",
    "0002_ndelius_entries",
    "0003_transfers",
    "0004_team_rhythm",
    "0005_oversight_chain",
    "0006_stored_urgency",
    "0007_identity",
    "0008_record_chain",
    "0009_catch_up",
    "0010_waiting_on_others",
    "0011_confirm_and_teams",
    "0012_sync",
    "0013_device_chains",
    "0014_team_kinds",
    "0015_court_and_aqa",
    "0016_workload_levels",
    "0017_custody_mappa",
    "0018_assurance",
]


def test_a_new_database_has_every_table_and_every_migration(tmp_path):
    db = open_db(tmp_path / "new.db")
    assert table_names(db) == TABLES
    assert applied(db) == ALL_MIGRATIONS
    assert ALL_MIGRATIONS[-1] == LATEST
    assert is_empty(db)


def test_opening_again_applies_nothing_twice(tmp_path):
    open_db(tmp_path / "again.db").close()
    db = open_db(tmp_path / "again.db")
    assert applied(db) == ALL_MIGRATIONS


def test_a_database_from_the_previous_version_is_brought_forward_with_its_data(tmp_path):
    path = tmp_path / "old.db"
    old = Database(str(path))
    migrations.apply(old, stop_before="0003_transfers")
    assert "transfers" not in table_names(old)
    assert applied(old) == ALL_MIGRATIONS[:2]
    insert_spo(old)
    old.execute(
        """INSERT INTO cases(crn, name, practitioner_id, rosh, sentence_type, sentence_start, created_at, updated_at)
           VALUES ('X123456', 'Alex Example', 'spo-0001', 'HIGH', 'LICENCE', '2026-08-01', 't', 't')"""
    )
    old.execute(
        """INSERT INTO oversight_entries(id, crn, type, outcome, discussed, decision, decided_by, entered_by, created_at)
           VALUES ('e1', 'X123456', 'management_oversight', 'agreed', 'Release plan', 'Agreed', 'spo-0001', 'spo-0001',
                   '2026-08-02T10:00:00Z')"""
    )
    old.conn.commit()
    before = snapshot(old)
    old.close()

    db = open_db(path)
    assert applied(db) == ALL_MIGRATIONS
    assert table_names(db) == TABLES
    after = snapshot(db)
    for table, content in before.items():
        if table not in ("_sqlite_migrations", "ndelius_entries"):  # ndelius_entries became batches in 0008
            # Kept as they were; columns added since (at their defaults) follow the old ones.
            assert [row[: len(old)] for row, old in zip(after[table], content, strict=True)] == content, table
    # The old entry is in the signed record, with the names as they are at the migration.
    assert db.execute("SELECT kind, ref FROM record_chain WHERE kind = 'oversight'").fetchall() == [("oversight", "e1")]
    assert db.execute("SELECT decided_by_name, taken FROM oversight_snapshots").fetchall() == [
        ("Sam Spo", "at migration 0008")
    ]
    # Its oversight level [001] is derived and kept beside it (the signed row above is unchanged):
    # a case discussion is level 2, supervision.
    assert db.execute("SELECT oversight_id, level, chosen, set_at FROM oversight_levels").fetchall() == [
        ("e1", 2, 0, "at migration 0016")
    ]


def test_foreign_keys_are_on_and_journal_is_wal(db):
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.execute(
            """INSERT INTO cases(crn, name, practitioner_id, rosh, sentence_type, sentence_start, created_at, updated_at)
               VALUES ('X123456', 'Alex', 'nobody', 'HIGH', 'LICENCE', '2026-08-01', 't', 't')"""
        )


def test_the_schema_refuses_a_malformed_crn_and_an_unknown_rosh(db):
    insert_spo(db)
    for crn, rosh in (("x123456", "HIGH"), ("X12345", "HIGH"), ("X123456", "EXTREME")):
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            db.execute(
                """INSERT INTO cases(crn, name, practitioner_id, rosh, sentence_type, sentence_start, created_at, updated_at)
                   VALUES (?, 'Alex', 'spo-0001', ?, 'LICENCE', '2026-08-01', 't', 't')""",
                [crn, rosh],
            )


def test_the_database_file_is_private_to_its_owner(tmp_path):
    path = tmp_path / "deep" / "er" / "spo.db"
    db = open_db(path)
    db.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    wal = path.with_name("spo.db-wal")
    if wal.exists():
        assert stat.S_IMODE(os.stat(wal).st_mode) == 0o600


def test_opening_a_folder_is_refused_with_a_clear_message(tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(StoreError, match=r"a-folder is a folder, not a database file"):
        open_db(folder)


def test_opening_a_garbage_file_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"These are my notes, not a database.\n" * 200)
    with pytest.raises(
        StoreError,
        match=r"notes\.db is not a spo-tui database \(it is not an SQLite database file.*: nothing was changed",
    ):
        open_db(path)
    assert path.read_bytes() == b"These are my notes, not a database.\n" * 200


def test_opening_a_missing_file_without_create_is_refused(tmp_path):
    with pytest.raises(StoreError, match=r"no database at .*missing\.db"):
        open_db(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_meta_values_are_set_and_replaced(db):
    assert get_meta(db, "demo") is None
    set_meta(db, "demo", "1")
    set_meta(db, "demo", "2")
    assert get_meta(db, "demo") == "2"


def test_is_empty_until_there_is_staff(db):
    assert is_empty(db)
    insert_spo(db)
    assert not is_empty(db)


# --- Append-only oversight entries and audit log -------------------------------------------------


@pytest.fixture
def entry(ctx):
    result = decisions.record_oversight(
        ctx, crn=HIGH_CRN, outcome="guidance_given", discussed="Missed appointment", decision="Warning letter"
    )
    return result


def test_an_oversight_entry_cannot_be_updated(ctx, entry):
    before = entry_row(ctx.db, entry.oversight_id)
    with pytest.raises(
        sqlite3.IntegrityError, match="oversight entries are append-only: record a correction as a new entry"
    ):
        ctx.db.execute("UPDATE oversight_entries SET decision = 'No action' WHERE id = ?", [entry.oversight_id])
    assert entry_row(ctx.db, entry.oversight_id) == before


def test_an_oversight_entry_cannot_be_deleted(ctx, entry):
    with pytest.raises(sqlite3.IntegrityError, match="oversight entries are append-only"):
        ctx.db.execute("DELETE FROM oversight_entries WHERE id = ?", [entry.oversight_id])
    assert entry_row(ctx.db, entry.oversight_id) is not None


def test_an_oversight_entry_cannot_be_replaced_by_an_insert(ctx, entry):
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ctx.db.execute(
            """INSERT OR REPLACE INTO oversight_entries(id, crn, type, outcome, discussed, decision, decided_by, entered_by, created_at)
               VALUES (?, ?, 'management_oversight', 'agreed', 'Rewritten', 'Rewritten', ?, ?, 't')""",
            [entry.oversight_id, HIGH_CRN, ctx.decider["id"], ctx.decider["id"]],
        )
    assert entry_row(ctx.db, entry.oversight_id)[6] == "Warning letter"


def test_the_audit_log_cannot_be_updated_or_deleted(ctx, entry):
    before = rows(ctx.db, "SELECT * FROM audit_log ORDER BY id")
    with pytest.raises(sqlite3.IntegrityError, match="the audit log is append-only"):
        ctx.db.execute("UPDATE audit_log SET actor_id = NULL")
    with pytest.raises(sqlite3.IntegrityError, match="the audit log is append-only"):
        ctx.db.execute("DELETE FROM audit_log")
    assert rows(ctx.db, "SELECT * FROM audit_log ORDER BY id") == before


def test_a_correction_is_a_new_entry_superseding_the_old_which_is_unchanged(ctx, entry):
    before = entry_row(ctx.db, entry.oversight_id)
    decisions.undo(ctx, entry.audit_id, "Recorded in error on the wrong case")
    assert entry_row(ctx.db, entry.oversight_id) == before
    correction = row(ctx.db, "SELECT * FROM oversight_entries WHERE supersedes_id = ?", [entry.oversight_id])
    assert correction["outcome"] == "withdrawn"
    assert correction["crn"] == HIGH_CRN
    assert correction["decision"] == (
        "Withdrawn by Sam Spo: the entry of 23/11/2026 09:00 was recorded in error. Reason: Recorded in error on the wrong case"
    )
    assert ctx.db.execute("SELECT COUNT(*) FROM oversight_entries").fetchone()[0] == 2
    by_id = {e["id"]: e for e in queries.recent_oversight(ctx.db, HIGH_CRN)}
    assert by_id[entry.oversight_id]["superseded_by"] == correction["id"]
    assert by_id[correction["id"]]["superseded_by"] is None
    assert by_id[entry.oversight_id]["decided_by_name"] == "Sam Spo"


# --- Reads ---------------------------------------------------------------------------------------


def test_unknown_ids_raise_not_found_with_the_id(ctx):
    with pytest.raises(NotFound, match="no item with id nope"):
        queries.get_item(ctx.db, "nope")
    with pytest.raises(NotFound, match="no case with CRN Z999999"):
        queries.get_case(ctx.db, "Z999999")
    with pytest.raises(NotFound, match="no oversight entry with id nope"):
        queries.get_oversight(ctx.db, "nope")


def test_a_case_reads_back_with_its_practitioner(ctx):
    case = queries.get_case(ctx.db, HIGH_CRN)
    assert (case["practitioner"], case["practitioner_role"], case["mappa_category"], case["mappa_level"]) == (
        PO,
        "PO",
        2,
        1,
    )
    assert case["practitioner_id"] == staff_id(ctx.db, PO)
    assert queries.find_staff(ctx.db, "  pat officer ")["name"] == PO


def test_a_database_without_write_permission_opens_read_only(tmp_path, monkeypatch):
    """Tests run as root, who may write anything, so "no write permission" is simulated."""
    from conftest import fixed_clock

    from spo_tui.config import load_rules
    from spo_tui.services import intake
    from spo_tui.services.context import make_context
    from spo_tui.store.db import StoreError

    path = tmp_path / "ro.db"
    db = open_db(path)
    insert_spo(db)
    db.close()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    ro = open_db(path)
    assert ro.read_only is True
    assert ro.execute("SELECT name FROM staff").fetchall() == [("Sam Spo",)]
    ctx = make_context(ro, load_rules(), clock=fixed_clock(NOW))
    with pytest.raises(StoreError, match="this database is read-only here"):
        intake.add_task(ctx, "Order chairs", "other")
