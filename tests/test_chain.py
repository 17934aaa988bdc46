"""The tamper-evident oversight record: changes made behind the app's back are named by `verify`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import HIGH_CRN, LOW_CRN

from spo_tui.services import decisions
from spo_tui.services.integrity import verify_chain
from spo_tui.store.db import open_db


@pytest.fixture
def entries(ctx):
    """Three oversight entries on the conftest team, in order; the database closed afterwards."""
    ids = [
        decisions.record_oversight(ctx, crn=crn, outcome="agreed", discussed=f"Discussed {n}", decision=f"Decision {n}").oversight_id
        for n, crn in enumerate([HIGH_CRN, LOW_CRN, HIGH_CRN], start=1)
    ]
    path = ctx.db.conn.execute("PRAGMA database_list").fetchone()[2]
    ctx.db.close()
    return path, ids


def tamper(path, *statements):
    """Change the file as someone with sqlite3 and no scruples would: triggers dropped first."""
    db = open_db(path)
    db.conn.execute("PRAGMA foreign_keys = OFF")
    for sql in ("DROP TRIGGER oversight_entries_no_update", "DROP TRIGGER oversight_entries_no_delete",
                "DROP TRIGGER oversight_chain_no_delete", *statements):  # fmt: skip
        db.conn.execute(sql)
    db.conn.commit()
    db.close()


def run_verify(path, tmp_path):
    env = {**os.environ, "SPO_TUI_RULES": str(tmp_path / "none.toml")}
    return subprocess.run([sys.executable, "-m", "spo_tui", "--db", str(path), "verify"], capture_output=True, text=True,
                          env=env, timeout=60)  # fmt: skip


def test_an_untouched_record_verifies(entries, tmp_path):
    path, ids = entries
    assert verify_chain(open_db(path)) is None
    result = run_verify(path, tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "The oversight record is intact: 3 entries, every link holds."


def test_an_altered_entry_is_named(entries, tmp_path):
    path, ids = entries
    tamper(path, f"UPDATE oversight_entries SET decision = 'Something else' WHERE id = '{ids[1]}'")
    problem = verify_chain(open_db(path))
    assert (problem.kind, problem.oversight_id, problem.position) == ("altered", ids[1], 2)
    result = run_verify(path, tmp_path)
    assert result.returncode == 1
    assert f"entry {ids[1]} (link 2, made 2026-11-23T09:00:00Z) has been altered" in result.stderr


def test_a_removed_entry_is_named(entries, tmp_path):
    path, ids = entries
    tamper(path, f"DELETE FROM oversight_entries WHERE id = '{ids[0]}'")
    problem = verify_chain(open_db(path))
    assert (problem.kind, problem.oversight_id) == ("removed", ids[0])
    assert run_verify(path, tmp_path).returncode == 1


def test_an_entry_removed_with_its_link_is_found(entries, tmp_path):
    path, ids = entries
    tamper(path, f"DELETE FROM oversight_chain WHERE oversight_id = '{ids[1]}'",
           f"DELETE FROM oversight_entries WHERE id = '{ids[1]}'")  # fmt: skip
    problem = verify_chain(open_db(path))
    assert problem.kind == "removed" and problem.position == 2
    assert "link 2" in problem.message


def test_an_inserted_entry_is_named(entries, tmp_path):
    path, ids = entries
    tamper(path, """INSERT INTO oversight_entries(id, crn, type, outcome, discussed, decision, decided_by, entered_by, created_at)
                    SELECT 'forged-1', crn, type, outcome, 'Backdated', 'Backdated', decided_by, entered_by, '2026-01-01T00:00:00Z'
                    FROM oversight_entries LIMIT 1""")  # fmt: skip
    problem = verify_chain(open_db(path))
    assert (problem.kind, problem.oversight_id) == ("inserted", "forged-1")
    result = run_verify(path, tmp_path)
    assert result.returncode == 1 and "entry forged-1 (made 2026-01-01T00:00:00Z) was inserted outside the app" in result.stderr


def test_a_migrated_database_and_the_demo_are_chained(tmp_path):
    from datetime import date

    from spo_tui.demo import write_demo

    path = tmp_path / "demo.db"
    write_demo(path, seed=2, today=date(2026, 11, 23))
    db = open_db(path)
    assert db.execute("SELECT COUNT(*) FROM oversight_chain").fetchone() == db.execute("SELECT COUNT(*) FROM oversight_entries").fetchone()
    assert verify_chain(db) is None
