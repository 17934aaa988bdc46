"""Backups, restores and integrity checks, on real files and through the real command."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import HIGH_CRN, snapshot, ui_team
from file_tools import Writer, as_unprivileged, entries, env_for, file_size_limit, one_line_refusal
from file_tools import run as run_cli

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
    assert made.name == "spo-20261123-084500.db.zst"  # compressed (a plain store)
    assert oct(made.stat().st_mode & 0o777) == "0o600"
    assert oct(made.parent.stat().st_mode & 0o777) == "0o700"
    assert bk.check_integrity(made).ok
    with bk.plain_copy(made) as plain:
        copy, original = open_db(plain), open_db(live)
        assert snapshot(copy) == snapshot(original)
        copy.close(), original.close()
    assert [p.name for p in made.parent.iterdir()] == [made.name]  # the decompressed copy is gone


def test_daily_backup_runs_once_a_day_and_keeps_the_newest(live):
    for day in range(1, 6):
        assert bk.daily_backup(live, keep=3, now=datetime(2026, 11, day, 9, 0)) is not None
        assert bk.daily_backup(live, keep=3, now=datetime(2026, 11, day, 17, 0)) is None
    assert [p.name for p in bk.list_backups(live)] == [
        "spo-20261103-090000.db.zst",
        "spo-20261104-090000.db.zst",
        "spo-20261105-090000.db.zst",
    ]


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
    assert previous.name == "spo-20261123-090000-before-restore.db.zst"
    assert snapshot(open_db(live)) == expected
    with bk.plain_copy(previous) as plain:
        assert open_db(plain).execute("SELECT value FROM meta WHERE key = 'later'").fetchone() == ("change",)


def run(*args, tmp_path):
    env = {**os.environ, "SPO_TUI_RULES": str(tmp_path / "none.toml"), "SPO_TUI_TODAY": "2026-11-23"}
    return subprocess.run([sys.executable, "-m", "spo_tui", *args], capture_output=True, text=True, env=env, timeout=60)


def damage_the_schema(path):
    """Overwrite the schema (the first page, after the file's header) with junk: opening the file
    reads it, so the damage is found before anything is shown. (Damage where opening does not read
    is found by the check after the first paint: ``test_start_checks.py``.)"""
    with open(path, "r+b") as f:
        f.seek(120)
        f.write(b"\xde\xad\xbe\xef" * 900)


def test_damaged_database_opens_nothing_and_says_how_to_restore(live, tmp_path):
    made = bk.backup(live)
    damage_the_schema(live)
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


# --- Where a backup may be written (issue 11, section 1) -------------------------------------------------


@pytest.fixture
def store(tmp_path):
    """A small team's database in a folder of its own, closed."""
    path = tmp_path / "store" / "spo.db"
    ui_team(path).db.close()
    return path


def target_state(path):
    """What is at ``path`` (without following a link, without opening a pipe): to show it is untouched."""
    if not os.path.lexists(path):
        return None
    st = os.lstat(path)
    if os.path.islink(path):
        return ("link", os.readlink(path))
    if os.path.isfile(path):
        return ("file", st.st_ino, path.read_bytes())
    return ("other", st.st_ino, st.st_mode)


def leftovers(*folders):
    return [p.name for folder in folders for p in folder.iterdir() if ".part" in p.name]


DATABASE_ITSELF = {
    "the database": lambda db, tmp: db,
    "another spelling of it": lambda db, tmp: db.parent / ".." / db.parent.name / db.name,
    "a symlink to it": lambda db, tmp: _link(tmp / "link.db", db),
    "a hard link to it": lambda db, tmp: _hard_link(tmp / "hard.db", db),
    "its WAL": lambda db, tmp: db.with_name(db.name + "-wal"),
    "its shared memory": lambda db, tmp: db.with_name(db.name + "-shm"),
    "its rollback journal": lambda db, tmp: db.with_name(db.name + "-journal"),
    "its lock file": lambda db, tmp: db.with_name(db.name + "-lock"),
    "its name in capitals": lambda db, tmp: db.with_name(db.name.upper()),
}


def _link(link, target):
    link.symlink_to(target)
    return link


def _hard_link(link, target):
    os.link(target, link)
    return link


@pytest.mark.parametrize("where", list(DATABASE_ITSELF))
def test_backup_never_writes_over_the_database_or_its_files_while_a_writer_saves(tmp_path, store, where):
    """It used to replace the live database itself: malformed, or most of a session's entries lost."""
    writer = Writer(store, tmp_path, reopen=False)
    try:
        writer.wait_for(3)
        target = DATABASE_ITSELF[where](store, tmp_path)
        before = target_state(target)
        inode = store.stat().st_ino
        result = run_cli("--db", str(store), "backup", "--to", str(target), tmp_path=tmp_path)
        one_line_refusal(result, "will not back up", "the database itself or one of its working files")
        writer.wait_for(len(writer.saved) + 3)
    finally:
        saved = writer.stop()
    assert store.stat().st_ino == inode  # not replaced (its bytes change as the writer saves)
    if where in ("its rollback journal", "its lock file", "its name in capitals", "a symlink to it"):
        assert target_state(target) == before
    assert bk.check_integrity(store).ok
    assert saved <= entries(store)
    assert leftovers(store.parent, tmp_path) == []


def another_program_file(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, caption TEXT)")
    conn.execute("INSERT INTO photos (caption) VALUES ('Holiday')")
    conn.commit()
    conn.close()
    return path


NOT_A_BACKUP = {
    "another program's database": lambda tmp: another_program_file(tmp / "photos.db"),
    "a text file": lambda tmp: (tmp / "notes.txt").write_text("keep me\n") and tmp / "notes.txt",
    "an empty file": lambda tmp: (tmp / "empty.db").touch() or tmp / "empty.db",
    "another spo-tui database in use": lambda tmp: _other_store(tmp / "other-team.db"),
}


def _other_store(path):
    ui_team(path).db.close()
    return path


@pytest.mark.parametrize("what", list(NOT_A_BACKUP))
def test_backup_never_replaces_a_file_that_is_not_a_backup(tmp_path, store, what):
    target = NOT_A_BACKUP[what](tmp_path)
    before = target_state(target)
    result = run_cli("--db", str(store), "backup", "--to", str(target), tmp_path=tmp_path)
    one_line_refusal(result, "will not back up", "is not a spo-tui backup")
    assert target_state(target) == before
    assert leftovers(tmp_path) == []


def _fifo(path):
    os.mkfifo(path)
    return path


def _socket(path):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    return path


NOT_A_FILE = {
    "a device": lambda tmp: _link(tmp / "null.db", "/dev/null"),
    "a pipe": lambda tmp: _fifo(tmp / "pipe.db"),
    "a folder": lambda tmp: (tmp / "folder.db").mkdir() or tmp / "folder.db",
    "a socket": lambda tmp: _socket(tmp / "s.db"),
    "a link to a pipe": lambda tmp: _link(tmp / "to-pipe.db", _fifo(tmp / "pipe2")),
    "a link to nothing": lambda tmp: _link(tmp / "dangling.db", tmp / "nothing-here"),
}


@pytest.mark.parametrize("what", list(NOT_A_FILE))
def test_backup_never_writes_to_what_is_not_a_regular_file(tmp_path, store, what):
    target = NOT_A_FILE[what](tmp_path)
    before = target_state(target)
    result = run_cli("--db", str(store), "backup", "--to", str(target), tmp_path=tmp_path, timeout=30)
    one_line_refusal(result, "will not back up")
    assert target_state(target) == before
    assert leftovers(tmp_path) == []


def test_backup_to_dev_null_is_refused(tmp_path, store):
    result = run_cli("--db", str(store), "backup", "--to", "/dev/null", tmp_path=tmp_path)
    one_line_refusal(result, "will not back up", "not a regular file")
    assert not os.path.exists("/dev/null.part") and os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_backup_replaces_an_earlier_backup_and_writes_through_a_link_to_one(tmp_path, store):
    first = bk.backup(store, tmp_path / "copy.db")
    added = run_cli("--db", str(store), "add", "task", "--title", "Later work", "--category", "it", tmp_path=tmp_path)
    assert added.returncode == 0, added.stderr
    result = run_cli("--db", str(store), "backup", "--to", str(first), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert open_db(first).execute("SELECT COUNT(*) FROM items WHERE title = 'Later work'").fetchone() == (1,)
    (tmp_path / "kept").mkdir()
    link = _link(tmp_path / "latest.db", bk.backup(store, tmp_path / "kept" / "real.db"))
    result = run_cli("--db", str(store), "backup", "--to", str(link), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.path.islink(link) and bk.check_integrity(tmp_path / "kept" / "real.db").ok
    assert leftovers(tmp_path, tmp_path / "kept") == []


def test_backup_into_a_missing_folder_says_so_and_makes_nothing(tmp_path, store):
    result = run_cli("--db", str(store), "backup", "--to", str(tmp_path / "no" / "such" / "copy.db"), tmp_path=tmp_path)
    one_line_refusal(result, "does not exist")
    assert not (tmp_path / "no").exists()


def test_backup_beside_a_read_only_folder_says_so_and_leaves_nothing(tmp_path, store):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = run_cli(
            "--db", str(store), "backup", "--to", str(locked / "copy.db"), tmp_path=tmp_path, preexec_fn=as_unprivileged
        )
        one_line_refusal(result, "no permission to write in", "No backup was made")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_backup_on_a_full_disk_says_so_and_leaves_nothing(tmp_path, store):
    """The file-size limit stands in for a full disk: writes past it fail as they would on one."""
    for to in ([], ["--to", str(tmp_path / "copy.db")]):
        result = run_cli("--db", str(store), "backup", *to, tmp_path=tmp_path, preexec_fn=file_size_limit(40_000))
        one_line_refusal(result, "the disk", "No backup was made")
    assert not (tmp_path / "copy.db").exists()
    assert [p.name for p in (store.parent / "backups").iterdir()] == []
    assert leftovers(tmp_path) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KB tmpfs: a disk that really fills up (needs the right to mount; skipped without it)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_backup_onto_a_disk_that_fills_up_says_so_and_leaves_nothing(tmp_path, store, tiny_disk):
    conn = sqlite3.connect(store)
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [(f"filler-{n}", "x" * 1000) for n in range(600)])
    conn.commit()
    conn.close()
    result = run_cli("--db", str(store), "backup", "--to", str(tiny_disk / "copy.db"), tmp_path=tmp_path)
    one_line_refusal(result, "the disk is full", "No backup was made")
    assert list(tiny_disk.iterdir()) == []


PART_MAKER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from spo_tui.store.backup import _new_part\n"
    "part, fd = _new_part(Path(sys.argv[1]))\n"
    "print(part, flush=True)\n"
    "time.sleep(60)\n"
)


def test_the_next_backup_removes_killed_backups_parts_but_not_a_live_ones(tmp_path, store):
    """Killed backups used to leave full-size .part files for ever."""
    folder = store.parent / "backups"
    folder.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PART_MAKER, str(folder / "spo-x.db")],
            stdout=subprocess.PIPE,
            text=True,
            env=env_for(tmp_path),
        )
        for _ in range(2)
    ]
    killed, live = (Path(p.stdout.readline().strip()) for p in procs)
    procs[0].send_signal(signal.SIGKILL)
    procs[0].wait(timeout=30)
    Path(f"{killed}-journal").write_bytes(b"half a journal")
    legacy = folder / "spo-20260101-090000.db.part"  # as older versions named them
    legacy.write_bytes(b"x" * 1000)
    os.utime(legacy, (time.time() - 7200, time.time() - 7200))
    someone_elses = folder / "film.mkv.part"
    someone_elses.write_bytes(b"not ours")
    try:
        result = run_cli("--db", str(store), "backup", tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
        names = {p.name for p in folder.iterdir()}
        assert live.name in names and someone_elses.name in names
        assert killed.name not in names and f"{killed.name}-journal" not in names and legacy.name not in names
    finally:
        procs[1].kill()
        procs[1].wait(timeout=30)


def test_two_backups_in_the_same_second_are_both_kept(live):
    moment = datetime(2026, 11, 23, 8, 45)
    first = bk.backup(live, now=moment)
    db = open_db(live)
    db.execute("INSERT INTO meta(key, value) VALUES ('later', 'change')")
    db.close()
    second = bk.backup(live, now=moment)
    assert first != second and first.exists() and second.exists()
    assert second.name == "spo-20261123-084500-2.db.zst"
    with bk.plain_copy(first) as plain:
        assert open_db(plain).execute("SELECT COUNT(*) FROM meta WHERE key = 'later'").fetchone() == (0,)


def test_backups_taken_before_a_restore_are_never_rotated_away(live):
    made = bk.backup(live, now=datetime(2026, 11, 1, 8, 0))
    previous = bk.restore(live, made, now=datetime(2026, 11, 1, 9, 0))
    for day in range(2, 8):
        bk.daily_backup(live, keep=2, now=datetime(2026, 11, day, 9, 0))
    assert previous.exists()
    assert len([p for p in bk.list_backups(live) if bk.DAILY_NAME.fullmatch(p.name)]) == 2
