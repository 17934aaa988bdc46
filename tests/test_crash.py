"""A process killed with SIGKILL mid-write leaves the database consistent, with all or none of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import PO

from spo_tui.store.db import open_db

IMPORTER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from spo_tui.config import load_rules
    from spo_tui.services.context import make_context
    from spo_tui.services.importer import import_file
    from spo_tui.store.db import open_db

    db = open_db(sys.argv[1])
    ctx = make_context(db, load_rules(), clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    def progress(done, total):
        if done > total // 2:  # past checking: writing has begun
            print("writing", flush=True)

    import_file(ctx, "cases", sys.argv[2], progress=progress)
    print("finished", flush=True)
    """
)


def write_cases(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("crn,name,practitioner,rosh,sentence_type,sentence_start\n")
        for n in range(rows):
            f.write(f"Z{n:06d},Person {n},{PO},MEDIUM,COMMUNITY_ORDER,01/02/2026\n")


@pytest.mark.parametrize("rows", [30_000])
def test_sigkill_during_an_import_leaves_all_or_none(ctx, tmp_path, rows):
    db_path = tmp_path / "t.db"
    ctx.db.close()
    csv_path = tmp_path / "cases.csv"
    write_cases(csv_path, rows)
    env = {**os.environ, "SPO_TUI_RULES": str(tmp_path / "none.toml")}
    proc = subprocess.Popen(
        [sys.executable, "-c", IMPORTER, str(db_path), str(csv_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.strip() in ("writing", "finished"), proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    db = open_db(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    imported = db.execute("SELECT COUNT(*) FROM cases WHERE crn LIKE 'Z%'").fetchone()[0]
    audits = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'import_cases'").fetchone()[0]
    assert (imported, audits) in ((0, 0), (rows, 1))


def test_a_draft_survives_the_process_being_killed(ctx, tmp_path):
    """The form saves its draft as the user types; a killed process loses none of what was saved."""
    from spo_tui.services import drafts

    drafts.save_draft(ctx, "oversight:case:X123456", {"decision": "Half-typed decision"})
    script = textwrap.dedent(
        f"""
        import os, signal
        from datetime import UTC, datetime
        from spo_tui.config import load_rules
        from spo_tui.services import drafts
        from spo_tui.services.context import make_context
        from spo_tui.store.db import open_db
        ctx = make_context(open_db({str(tmp_path / "t.db")!r}), load_rules(), clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        drafts.save_draft(ctx, "oversight:case:X123456", {{"decision": "Typed a little more"}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {**os.environ, "SPO_TUI_RULES": str(tmp_path / "none.toml")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGKILL
    assert drafts.load_draft(ctx, "oversight:case:X123456") == {"decision": "Typed a little more"}
