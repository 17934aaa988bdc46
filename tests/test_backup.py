"""Backups, restores and integrity checks, on real files and through the real command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest
from conftest import HIGH_CRN, snapshot

from spo_tui.services import decisions
from spo_tui.store import backup as bk
from spo_tui.store.db import open_db


def damage(path):
    """Overwrite the middle of the file with junk, as a failing disk might."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\xde\xad\xbe\xef" * 1024)


@pytest.fixture
def live(ctx, tmp_path):
    """The conftest team's database file, with an oversight entry, checkpointed and closed."""
    decisions.record_oversight(ctx, crn=HIGH_CRN, outcome="agreed", discussed="Plan", decision="Agreed")
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ctx.db.close()
    return tmp_path / "t.db"


def test_backup_is_complete_private_and_checked(live):
    made = bk.backup(live, now=datetime(2026, 11, 23, 8, 45))
    assert made.name == "spo-20261123-084500.db"
    assert oct(made.stat().st_mode & 0o777) == "0o600"
    assert oct(made.parent.stat().st_mode & 0o777) == "0o700"
    assert bk.check_integrity(made).ok
    assert snapshot(open_db(made)) == snapshot(open_db(live))


def test_daily_backup_runs_once_a_day_and_keeps_the_newest(live):
    for day in range(1, 6):
        assert bk.daily_backup(live, keep=3, now=datetime(2026, 11, day, 9, 0)) is not None
        assert bk.daily_backup(live, keep=3, now=datetime(2026, 11, day, 17, 0)) is None
    assert [p.name for p in bk.list_backups(live)] == [
        "spo-20261103-090000.db", "spo-20261104-090000.db", "spo-20261105-090000.db"]


def test_restore_refuses_a_damaged_backup_and_changes_nothing(live, tmp_path):
    made = bk.backup(live)
    damage(made)
    before = live.read_bytes()
    with pytest.raises(bk.BackupError, match="will not restore"):
        bk.restore(live, made)
    assert live.read_bytes() == before


def test_restore_refuses_a_file_that_is_not_ours(live, tmp_path):
    other = tmp_path / "other.db"
    import sqlite3

    sqlite3.connect(other).execute("CREATE TABLE x(y)").connection.commit()
    with pytest.raises(bk.BackupError, match="is not a spo-tui database"):
        bk.restore(live, other)


def test_restore_brings_back_the_backup_and_keeps_what_it_replaced(live):
    made = bk.backup(live, now=datetime(2026, 11, 23, 8, 0))
    db = open_db(live)
    expected = snapshot(db)
    db.execute("INSERT INTO meta(key, value) VALUES ('later', 'change')")
    db.close()
    previous = bk.restore(live, made, now=datetime(2026, 11, 23, 9, 0))
    assert previous.name == "spo-20261123-090000-before-restore.db"
    assert snapshot(open_db(live)) == expected
    assert open_db(previous).execute("SELECT value FROM meta WHERE key = 'later'").fetchone() == ("change",)


def run(*args, tmp_path):
    env = {**os.environ, "SPO_TUI_RULES": str(tmp_path / "none.toml"), "SPO_TUI_TODAY": "2026-11-23"}
    return subprocess.run([sys.executable, "-m", "spo_tui", *args], capture_output=True, text=True, env=env, timeout=60)


def test_damaged_database_opens_nothing_and_says_how_to_restore(live, tmp_path):
    made = bk.backup(live)
    damage(live)
    result = run("--db", str(live), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "is damaged" in result.stderr and f"restore {made}" in result.stderr
    restored = run("--db", str(live), "restore", str(made), tmp_path=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert bk.check_integrity(live).ok


def test_backup_command(live, tmp_path):
    result = run("--db", str(live), "backup", "--to", str(tmp_path / "copy.db"), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert bk.check_integrity(tmp_path / "copy.db").ok
    missing = run("--db", str(tmp_path / "nope.db"), "backup", tmp_path=tmp_path)
    assert missing.returncode == 2 and "no database at" in missing.stderr
