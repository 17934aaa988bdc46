"""Two real processes writing to one database at once: every write lands, nobody sees a lock error."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from conftest import CASPO, SPO

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from spo_tui.config import load_rules
    from spo_tui.services import intake
    from spo_tui.services.context import make_context
    from spo_tui.store.db import open_db

    path, actor, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = open_db(path)
    ctx = make_context(db, load_rules(), actor, clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    for n in range(count):
        intake.add_task(ctx, f"{actor} task {n}", "other")
    print("done")
    """
)


def test_two_processes_writing_at_once_lose_nothing(ctx, tmp_path):
    path = tmp_path / "t.db"
    ctx.db.close()
    env = {**os.environ, "SPO_TUI_RULES": str(tmp_path / "none.toml")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), actor, "500"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for actor in (SPO, CASPO)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=False):
        assert proc.returncode == 0, err
        assert "locked" not in err and out.strip() == "done"
    from spo_tui.store.db import open_db

    db = open_db(path)
    titles = {r[0] for r in db.execute("SELECT title FROM items WHERE kind = 'task'")}
    assert titles == {f"{who} task {n}" for who in (SPO, CASPO) for n in range(500)}
    assert db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'add_task'").fetchone()[0] == 1000
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_database_held_too_long_gives_a_clear_message_and_writes_nothing(ctx, tmp_path):
    import sqlite3

    import pytest
    from conftest import snapshot

    from spo_tui.services import intake
    from spo_tui.store.db import StoreBusy

    other = sqlite3.connect(tmp_path / "t.db")
    other.execute("BEGIN IMMEDIATE")  # another process is mid-write
    ctx.db.execute("PRAGMA busy_timeout = 200")
    with pytest.raises(
        StoreBusy, match="the database is busy: someone else is saving a large change. Nothing was saved"
    ):
        intake.add_task(ctx, "Order chairs", "other")
    other.rollback()
    other.close()
    before = snapshot(ctx.db)
    assert not any(r for r in before["items"] if "Order chairs" in repr(r))
