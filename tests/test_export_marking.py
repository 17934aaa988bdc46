"""`spo-tui export oversight --mark-entered --output FILE` marks only what is safely on disk.

Every failure is caused for real, on a real `spo-tui` process: a missing folder, a full disk
(RLIMIT_FSIZE), a destination that cannot be written, SIGKILL at random moments and at the moments
that matter (while the temporary file is written; just after it is renamed). After each, every entry
that was pending is still pending, unless the whole file holding it was written and the batch that
marks it names exactly the entries in that file.
"""

from __future__ import annotations

import csv
import io
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CASPO, HIGH_CRN, LOW_CRN, PO, link_me

from spo_tui.services import decisions
from spo_tui.services.decisions import AgreedAction

ENV = {"SPO_TUI_TODAY": "2026-11-23"}
LONG = "A long account of what was discussed, as people really write them. " * 15  # about 1 KB an entry


@pytest.fixture
def pending(ctx):
    """A store with 60 pending oversight entries of about 1.5 KB each (so a full export is ~90 KB)."""
    for n in range(60):
        decisions.record_oversight(
            ctx,
            crn=HIGH_CRN if n % 2 else LOW_CRN,
            outcome="actions_set",
            discussed=f"{n}: {LONG}",
            decision=f"Decision {n}",
            actions=[AgreedAction(f"Action {n}", PO)] if n % 3 == 0 else [],
        )
    link_me(ctx.db)  # this login may act as anyone in the store, as the tests do with --as
    path = Path(ctx.db.conn.execute("PRAGMA database_list").fetchone()[2])
    ctx.db.close()
    return path


def spo(path, *args, preexec=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        timeout=timeout,
        preexec_fn=preexec,
    )


def start(path, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "spo_tui", "--db", str(path), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **ENV},
    )


def query(path, sql, params=()):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def pending_ids(path) -> set[str]:
    return {
        r[0]
        for r in query(
            path,
            """SELECT o.id FROM oversight_entries o WHERE NOT EXISTS (
        SELECT 1 FROM ndelius_marks m JOIN ndelius_batches b ON b.id = m.batch_id AND b.action = 'mark'
        WHERE m.oversight_id = o.id AND NOT EXISTS (SELECT 1 FROM ndelius_batches u WHERE u.undoes = b.id))""",
        )
    }


def audit_count(path) -> int:
    return query(path, "SELECT COUNT(*) FROM audit_log")[0][0]


def ids_in(file: Path) -> list[str]:
    return [r["oversight_id"] for r in csv.DictReader(io.StringIO(file.read_text(encoding="utf-8"), newline=""))]


def refused(result, message: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("spo-tui: "), result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def nothing_changed(path, before_pending, before_audit, folder: Path) -> None:
    assert pending_ids(path) == before_pending
    assert audit_count(path) == before_audit  # not even the export's own audit row: nothing was disclosed
    assert query(path, "SELECT COUNT(*) FROM ndelius_batches")[0][0] == 0
    assert not list(folder.glob(".*.part")), "a temporary file was left behind"


# --- What works ----------------------------------------------------------------------------------


def test_an_export_to_a_file_marks_exactly_the_entries_it_wrote(pending, tmp_path):
    everything = pending_ids(pending)
    out = tmp_path / "oversight.csv"
    result = spo(pending, "--as", CASPO, "export", "oversight", "--mark-entered", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    written = ids_in(out)
    assert set(written) == everything and len(written) == 60
    (batch,) = query(pending, "SELECT id, by_id, entries, note FROM ndelius_batches")
    assert batch[2:] == (60, "export to oversight.csv")
    assert {
        r[0] for r in query(pending, "SELECT oversight_id FROM ndelius_marks WHERE batch_id = ?", [batch[0]])
    } == everything
    assert (
        result.stderr.splitlines()[0]
        == f"60 oversight entries written to {out}; marked entered in nDelius as batch {batch[0]}"
    )
    assert pending_ids(pending) == set()
    assert not list(tmp_path.glob(".*.part"))
    assert spo(pending, "verify").returncode == 0


def test_mark_entered_without_a_file_is_refused(pending, tmp_path):
    before, audits = pending_ids(pending), audit_count(pending)
    refused(spo(pending, "export", "oversight", "--mark-entered"), "--mark-entered needs --output FILE")
    nothing_changed(pending, before, audits, tmp_path)


# --- What fails, and marks nothing ---------------------------------------------------------------


def test_a_missing_folder_marks_nothing(pending, tmp_path):
    before, audits = pending_ids(pending), audit_count(pending)
    out = tmp_path / "no-such-folder" / "oversight.csv"
    refused(
        spo(pending, "export", "oversight", "--mark-entered", "--output", str(out)),
        f"the folder {out.parent} does not exist; nothing was marked",
    )
    nothing_changed(pending, before, audits, tmp_path)


def test_a_full_disk_marks_nothing(pending, tmp_path):
    """RLIMIT_FSIZE stands in for a full disk: the export (about 90 KB) cannot grow past 48 KB."""
    before, audits = pending_ids(pending), audit_count(pending)
    out = tmp_path / "oversight.txt"

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (48 * 1024, 48 * 1024))

    result = spo(
        pending, "export", "oversight", "--format", "text", "--mark-entered", "--output", str(out), preexec=small_disk
    )
    refused(result, f"cannot write {out}: File too large; nothing was marked")
    assert not out.exists()
    nothing_changed(pending, before, audits, tmp_path)
    # With room again, the same export works and marks them all.
    assert (
        spo(pending, "export", "oversight", "--format", "text", "--mark-entered", "--output", str(out)).returncode == 0
    )
    assert pending_ids(pending) == set() and out.read_text(encoding="utf-8").count("Ref: ") == 60


@pytest.mark.parametrize("where", ["a folder", "a device", "under a file", "the database", "the WAL"])
def test_a_destination_that_cannot_be_a_file_marks_nothing(pending, tmp_path, where):
    before, audits = pending_ids(pending), audit_count(pending)
    (tmp_path / "plain.txt").write_text("keep me")
    out, message = {
        "a folder": (tmp_path, "is a folder: give a file name"),
        "a device": (Path("/dev/null"), "/dev/null is not a regular file"),
        "under a file": (tmp_path / "plain.txt" / "out.csv", "plain.txt is not a folder"),
        "the database": (pending, "is the database itself"),
        "the WAL": (Path(f"{pending}-wal"), "is the database itself"),
    }[where]
    refused(spo(pending, "export", "oversight", "--mark-entered", "--output", str(out)), message)
    nothing_changed(pending, before, audits, tmp_path)
    assert (tmp_path / "plain.txt").read_text() == "keep me"
    assert spo(pending, "verify").returncode == 0


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs /sys, where even root cannot make a file")
def test_an_unwritable_destination_marks_nothing(pending, tmp_path):
    before, audits = pending_ids(pending), audit_count(pending)
    refused(
        spo(pending, "export", "oversight", "--mark-entered", "--output", "/sys/oversight.csv"),
        "cannot write /sys/oversight.csv: Permission denied; nothing was marked",
    )
    nothing_changed(pending, before, audits, tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_marks_nothing(pending, tmp_path):
    before, audits = pending_ids(pending), audit_count(pending)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        refused(
            spo(pending, "export", "oversight", "--mark-entered", "--output", str(locked / "o.csv")),
            "Permission denied",
        )
    finally:
        locked.chmod(0o700)
    nothing_changed(pending, before, audits, tmp_path)


# --- Killed at any moment ------------------------------------------------------------------------


def check_after_kill(path, folder: Path, before: set[str], seen_batches: set[str]) -> set[str]:
    """The invariant after a kill: a new batch exists only if the whole file it names was written,
    holding exactly the entries it marks; every other entry that was pending still is."""
    new = [
        b for b in query(path, "SELECT id, note FROM ndelius_batches WHERE action = 'mark'") if b[0] not in seen_batches
    ]
    assert len(new) <= 1
    still = pending_ids(path)
    if new:
        batch_id, note = new[0]
        out = folder / note.removeprefix("export to ")
        marked = {r[0] for r in query(path, "SELECT oversight_id FROM ndelius_marks WHERE batch_id = ?", [batch_id])}
        assert out.is_file(), "entries were marked but their file is missing"
        assert set(ids_in(out)) == marked, "the file does not hold exactly the entries marked"
        assert still == before - marked
        seen_batches.add(batch_id)
    else:
        assert still == before, "an entry left the pending list without a batch"
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    return still


def kill_when(path, folder: Path, n: int, ready) -> None:
    """Start an export to ``folder/out-N.csv`` and SIGKILL it the moment ``ready(n, started)`` says
    so (or once it has finished)."""
    started = time.monotonic()
    proc = start(path, "export", "oversight", "--mark-entered", "--output", str(folder / f"out-{n}.csv"))
    while proc.poll() is None and time.monotonic() < started + 60 and not ready(n, started):
        time.sleep(0.0005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def test_sigkill_at_any_moment_never_loses_a_pending_entry(pending, tmp_path):
    """Kills while the temporary file is being written, just after it is renamed into place, and at
    random moments across the whole run; pending entries are topped up between kills."""
    folder = tmp_path / "out"
    folder.mkdir()
    rng = random.Random(11)
    seen: set[str] = set()
    before = pending_ids(pending)
    started = time.monotonic()
    assert spo(pending, "export", "oversight").returncode == 0
    typical = time.monotonic() - started

    def writing(n, _):
        return bool(list(folder.glob(f".out-{n}.csv.*.part")))

    def renamed(n, _):
        return (folder / f"out-{n}.csv").exists()

    def after(delay):
        return lambda n, begun: time.monotonic() >= begun + delay

    moments = [writing] * 4 + [renamed] * 4 + [after(rng.uniform(0, typical * 1.5)) for _ in range(10)]
    for n, ready in enumerate(moments):
        kill_when(pending, folder, n, ready)
        before = check_after_kill(pending, folder, before, seen)
        if len(before) < 20:
            db_refill(pending, 30)
            before = pending_ids(pending)
    assert spo(pending, "verify").returncode == 0


def db_refill(path, count: int) -> None:
    from conftest import NOW, fixed_clock

    from spo_tui.config import load_rules
    from spo_tui.services.context import make_context
    from spo_tui.store.db import open_db

    db = open_db(path)
    ctx = make_context(db, load_rules(), clock=fixed_clock(NOW))
    for n in range(count):
        decisions.record_oversight(
            ctx, crn=HIGH_CRN, outcome="agreed", discussed=f"More {n}: {LONG}", decision="Agreed"
        )
    db.close()


# --- Un-marking a batch --------------------------------------------------------------------------


def test_a_batch_can_be_unmarked_by_a_new_record_and_its_entries_come_back(pending, tmp_path):
    out = tmp_path / "first.csv"
    assert spo(pending, "--as", CASPO, "export", "oversight", "--mark-entered", "--output", str(out)).returncode == 0
    (batch_id,) = query(pending, "SELECT id FROM ndelius_batches")[0]
    listed = spo(pending, "export", "batches")
    assert listed.returncode == 0 and listed.stdout.startswith(f"{batch_id}  23/11/2026 08:45  Cas Admin")
    assert "marked 60  export to first.csv" in listed.stdout
    before = query(pending, "SELECT * FROM ndelius_batches") + query(pending, "SELECT * FROM ndelius_marks")

    undone = spo(pending, "export", "unmark", batch_id[:8])
    assert undone.returncode == 0, undone.stderr
    assert undone.stdout.startswith(
        f"Batch {batch_id} un-marked (60 entries, marked 23/11/2026 08:45): they will be in the next export"
    )
    # A new record; the batch and its marks are as they were.
    after = query(pending, "SELECT * FROM ndelius_batches") + query(pending, "SELECT * FROM ndelius_marks")
    assert all(row in after for row in before) and len(after) == len(before) + 1
    (unmark,) = query(pending, "SELECT action, undoes, entries FROM ndelius_batches WHERE action = 'unmark'")
    assert unmark == ("unmark", batch_id, 60)
    audit = query(pending, "SELECT action, entity, entity_id FROM audit_log ORDER BY id DESC LIMIT 1")
    assert audit == [("unmark_ndelius_entered", "ndelius_batch", batch_id)]
    assert len(pending_ids(pending)) == 60
    again = tmp_path / "second.csv"
    assert spo(pending, "export", "oversight", "--mark-entered", "--output", str(again)).returncode == 0
    assert set(ids_in(again)) == set(ids_in(out))
    assert "un-marked 23/11/2026 08:45" in spo(pending, "export", "batches").stdout
    assert spo(pending, "verify").returncode == 0


def test_unmarking_is_refused_for_a_batch_already_unmarked_or_unknown(pending, tmp_path):
    assert spo(pending, "export", "oversight", "--mark-entered", "--output", str(tmp_path / "o.csv")).returncode == 0
    (batch_id,) = query(pending, "SELECT id FROM ndelius_batches")[0]
    assert spo(pending, "export", "unmark", batch_id).returncode == 0
    state = query(pending, "SELECT COUNT(*) FROM ndelius_batches")
    refused(
        spo(pending, "export", "unmark", batch_id), f"batch {batch_id} was already un-marked on 23/11/2026 at 08:45"
    )
    refused(spo(pending, "export", "unmark", "ffffffff"), "no batch of nDelius marks has an id starting ffffffff")
    refused(spo(pending, "export", "unmark", "abc"), "at least its first 8 characters")
    unmark_id = query(pending, "SELECT id FROM ndelius_batches WHERE action = 'unmark'")[0][0]
    refused(spo(pending, "export", "unmark", unmark_id), "is itself an un-marking")
    refused(spo(pending, "--as", "Pat Officer", "export", "unmark", batch_id), "Pat Officer is PO")
    refused(spo(pending, "--as", "Pat Officer", "export", "batches"), "Pat Officer is PO")
    assert query(pending, "SELECT COUNT(*) FROM ndelius_batches") == state


# --- The export file anchors the record ----------------------------------------------------------


def test_a_text_export_ends_with_the_signed_head_and_verify_checks_it(pending, tmp_path):
    import re
    import shutil

    from spo_tui.domain.chain import signed_message
    from spo_tui.store.signing import check_signature

    out = tmp_path / "oversight.txt"
    assert spo(pending, "export", "oversight", "--format", "text", "--output", str(out)).returncode == 0
    last = out.read_text(encoding="utf-8").splitlines()[-1]
    found = re.fullmatch(
        r"spo-tui record: store (\S+), link (\d+), hash ([0-9a-f]{64}), key ([0-9a-f]{32}), signature ([0-9a-f]+)", last
    )
    assert found, last
    store, link, head, key, signature = found.groups()
    assert query(pending, "SELECT store_id FROM record_store") == [(store,)]
    assert query(pending, "SELECT hash FROM record_chain WHERE position = ?", [int(link)]) == [(head,)]
    (public,) = query(pending, "SELECT public_key FROM chain_keys WHERE key_id = ?", [key])[0]
    assert check_signature(public, signature, signed_message(head))
    assert spo(pending, "verify", "--against", str(out)).returncode == 0
    # The file alone finds a rollback, even with this user's anchors gone.
    older = tmp_path / "older.db"
    conn = sqlite3.connect(pending)
    conn.execute("VACUUM INTO ?", [str(older)])
    conn.close()
    assert spo(pending, "add", "task", "--title", "Later", "--category", "other").returncode == 0
    later = tmp_path / "later.txt"
    assert spo(pending, "export", "oversight", "--format", "text", "--output", str(later)).returncode == 0
    shutil.rmtree(Path(os.environ["XDG_DATA_HOME"]) / "spo-tui" / "anchors")
    result = spo(older, "verify", "--against", str(later))
    assert result.returncode == 1
    assert "than at the export later.txt" in result.stderr and "older copy" in result.stderr
