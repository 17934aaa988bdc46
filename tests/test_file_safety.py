"""Whose file it is, which version made it, who has it open, and what a crash, a kill or a full disk
leaves behind: tested through the real command, real processes and real files.
"""

from __future__ import annotations

import ast
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ui_team
from file_tools import (
    Tui,
    Writer,
    as_unprivileged,
    entries,
    env_for,
    file_size_limit,
    integrity,
    limits,
    one_line_refusal,
    rows,
    run,
    spo,
)

from spo_tui.store import backup as bk
from spo_tui.store.db import APPLICATION_ID, open_db

STAFF_CSV = "name,role\nNew Person,PO\n"


@pytest.fixture
def store(tmp_path) -> Path:
    """A small team's database file (closed), in a folder of its own."""
    path = tmp_path / "store" / "spo.db"
    ctx = ui_team(path)
    ctx.db.close()
    return path


def folder_state(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` with its bytes: to show nothing was written or added."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- Someone else's file ----------------------------------------------------------------------------


def another_programs_file(folder: Path, kind: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "their.sqlite"
    if kind == "text":
        path.write_bytes(b"Meeting notes, not a database.\n" * 300)
        return path
    conn = sqlite3.connect(path)
    if kind == "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    if kind == "marked":
        conn.execute("PRAGMA application_id = 1234567")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"note {n}" * 20,) for n in range(200)])
    conn.commit()
    conn.close()
    return path


FOREIGN_KINDS = ["rollback", "wal", "marked", "text"]
COMMANDS = {
    "tui": [],
    "verify": ["verify"],
    "queue": ["queue"],
    "add": ["add", "task", "--title", "Fix the lock", "--category", "buildings"],
    "import": ["import", "staff", "{csv}"],
    "export": ["export", "oversight"],
    "backup": ["backup"],
    "restore over it": ["restore", "{backup}"],
    "demo": ["demo", "--db", "{db}"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_another_programs_file_is_refused_by_every_command_and_left_byte_for_byte(tmp_path, store, command):
    """``spo-tui --db other.sqlite verify`` used to add 24 tables to it and switch it to WAL."""
    backup = bk.backup(store, tmp_path / "spo-backup.db")
    csv = tmp_path / "staff.csv"
    csv.write_text(STAFF_CSV)
    for kind in FOREIGN_KINDS:
        theirs = another_programs_file(tmp_path / kind, kind)
        before = folder_state(theirs.parent)
        args = [a.format(csv=csv, backup=backup, db=theirs) for a in COMMANDS[command]]
        result = run("--db", str(theirs), *args, tmp_path=tmp_path)
        one_line_refusal(result, f"{theirs} is not a spo-tui database")
        assert folder_state(theirs.parent) == before, f"{kind}: the file or its folder changed"


def test_restore_accepts_only_our_backups(tmp_path, store):
    before = store.read_bytes()
    for kind in FOREIGN_KINDS:
        theirs = another_programs_file(tmp_path / kind, kind)
        mine = folder_state(theirs.parent)
        result = run("--db", str(store), "restore", str(theirs), tmp_path=tmp_path)
        one_line_refusal(result, "will not restore", "is not a spo-tui database")
        assert folder_state(theirs.parent) == mine
    assert store.read_bytes() == before


def test_new_and_migrated_databases_are_marked_as_ours(tmp_path, store):
    assert store.read_bytes()[68:72] == b"SPOT" and int.from_bytes(b"SPOT", "big") == APPLICATION_ID
    conn = sqlite3.connect(store)  # a database made before the mark existed
    conn.execute("PRAGMA application_id = 0")
    conn.commit()
    conn.close()
    assert rows(store, "PRAGMA application_id") == [(0,)]
    result = run("--db", str(store), "verify", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert rows(store, "PRAGMA application_id") == [(APPLICATION_ID,)]


def make_newer(path: Path) -> int:
    """Record a migration this version does not know, as a newer spo-tui would; returns the count."""
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('spo_tui', '0099_from_the_future', '2027-01-01')"
    )
    conn.commit()
    count = conn.execute("SELECT COUNT(*) FROM _sqlite_migrations WHERE migration_set = 'spo_tui'").fetchone()[0]
    conn.close()
    return count


@pytest.mark.parametrize("command", ["tui", "verify", "queue", "add", "import", "export", "backup"])
def test_a_database_from_a_newer_spo_tui_is_refused_for_reads_and_writes(tmp_path, store, command):
    schema = make_newer(store)
    csv = tmp_path / "staff.csv"
    csv.write_text(STAFF_CSV)
    before = store.read_bytes()
    args = [a.format(csv=csv, backup="", db="") for a in COMMANDS[command]]
    result = run("--db", str(store), *args, tmp_path=tmp_path)
    one_line_refusal(result, f"made by a newer spo-tui (schema {schema}); upgrade")
    assert store.read_bytes() == before
    assert not any(".part" in p.name or p.name.startswith("spo-2") for p in store.parent.rglob("*"))


def test_a_backup_from_a_newer_spo_tui_is_not_restored(tmp_path, store):
    newer = bk.backup(store, tmp_path / "newer.db")
    schema = make_newer(newer)
    before = store.read_bytes()
    result = run("--db", str(store), "restore", str(newer), tmp_path=tmp_path)
    one_line_refusal(result, "will not restore", f"made by a newer spo-tui (schema {schema}); upgrade")
    assert store.read_bytes() == before


# --- Folders and core dumps -------------------------------------------------------------------------


def test_every_folder_spo_tui_creates_is_private_whatever_the_umask(tmp_path):
    csv = tmp_path / "staff.csv"
    csv.write_text("name,role\nSam Spo,SPO\n")
    deep = tmp_path / "a" / "b" / "c" / "spo.db"
    result = subprocess.run(
        spo("--db", str(deep), "import", "staff", str(csv)),
        capture_output=True,
        text=True,
        env=env_for(tmp_path),
        preexec_fn=lambda: os.umask(0o022),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert oct(folder.stat().st_mode & 0o777) == "0o700", folder
    # The default place, in a user data folder that does not exist yet.
    env = {k: v for k, v in env_for(tmp_path).items() if k != "SPO_TUI_DB"}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg" / "data")
    result = subprocess.run(
        spo("import", "staff", str(csv)),
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=lambda: os.umask(0o022),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for folder in (tmp_path / "xdg", tmp_path / "xdg" / "data", tmp_path / "xdg" / "data" / "spo-tui"):
        assert oct(folder.stat().st_mode & 0o777) == "0o700", folder
    made = subprocess.run(
        spo("backup"), capture_output=True, text=True, env=env, preexec_fn=lambda: os.umask(0o022), timeout=60
    )
    assert made.returncode == 0, made.stderr
    assert oct((tmp_path / "xdg" / "data" / "spo-tui" / "backups").stat().st_mode & 0o777) == "0o700"


def allow_core_dumps() -> None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="reads /proc/PID/limits (Linux)")
def test_core_dumps_are_off_in_a_running_spo_tui(tmp_path, store):
    """Started where core dumps are allowed, the running TUI's /proc/PID/limits says 0."""
    import resource

    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        pytest.skip("core dumps cannot be allowed here, so the test could not tell")
    tui = Tui(store, tmp_path, preexec_fn=allow_core_dumps)
    try:
        tui.wait_for(b"Sam Spo")
        assert limits(tui.proc.pid, "Max core file size") == ("0", "0")
    finally:
        tui.close()


# --- Restore while the database is open ---------------------------------------------------------------


def test_restore_refuses_while_the_tui_has_the_database_open(tmp_path, store):
    backup = bk.backup(store, tmp_path / "spo-backup.db")
    added = run(
        "--db", str(store), "add", "task", "--title", "Saved after the backup", "--category", "it", tmp_path=tmp_path
    )
    assert added.returncode == 0, added.stderr
    task = [(added.stdout.strip(),)]
    # Today's backup made first: otherwise the TUI starts it in a process of its own, which holds the
    # database open (and so refuses the restore) for a while after the TUI is gone.
    assert bk.daily_backup(store) is not None
    tui = Tui(store, tmp_path)
    try:
        tui.wait_for(b"Sam Spo")
        result = run("--db", str(store), "restore", str(backup), tmp_path=tmp_path)
        one_line_refusal(result, "will not restore", "is open in spo-tui", "nothing was changed")
        assert rows(store, "SELECT id FROM items WHERE title = 'Saved after the backup'") == task
        assert not any(p.name.endswith("before-restore.db") for p in (store.parent / "backups").glob("*"))
    finally:
        tui.close()
    result = run("--db", str(store), "restore", str(backup), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert rows(store, "SELECT id FROM items WHERE title = 'Saved after the backup'") == []


def test_restore_refuses_while_a_writer_has_the_database_open(tmp_path, store):
    backup = bk.backup(store, tmp_path / "spo-backup.db")
    writer = Writer(store, tmp_path, reopen=False)
    try:
        writer.wait_for(3)
        result = run("--db", str(store), "restore", str(backup), tmp_path=tmp_path)
        one_line_refusal(result, "is open in spo-tui")
    finally:
        saved = writer.stop()
    assert saved <= entries(store)


def test_restore_while_a_writer_saves_loses_no_saved_entry(tmp_path, store):
    """Restores run again and again while another process saves entries between them. Every entry
    the writer was told was saved is in the restored database or in a before-restore backup."""
    backup = bk.backup(store, tmp_path / "spo-backup.db")
    (store.parent / "backups").mkdir()  # (a restore without it is tested below)
    writer = Writer(store, tmp_path, reopen=True)
    outcomes = []
    try:
        writer.wait_for(2)
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and outcomes.count(0) < 5:
            result = run("--db", str(store), "restore", str(backup), tmp_path=tmp_path)
            assert result.returncode in (0, 2), result.stderr
            if result.returncode == 2:
                one_line_refusal(result, "is open in spo-tui")
            outcomes.append(result.returncode)
    finally:
        saved = writer.stop()
    assert 0 in outcomes, "no restore got in between the writer's entries: the test proved nothing"
    kept = set(entries(store))
    for previous in (store.parent / "backups").glob("*-before-restore*.db*"):
        if ".part" not in previous.name:
            with bk.plain_copy(previous) as plain:
                kept |= entries(plain)
    assert saved - kept == set()
    assert integrity(store) == "ok"


def test_a_command_started_during_a_restore_waits_for_it_then_says_so(tmp_path, store):
    """While a restore holds the database alone, another command waits (up to 5 s) rather than
    opening the file half-way through; past that it says a restore is under way."""
    from spo_tui.store.db import StoreLock

    lock = StoreLock.exclusive(store)  # as a restore holds it
    proc = subprocess.Popen(
        spo("--db", str(store), "queue"),
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    assert proc.poll() is None  # still waiting
    lock.release()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    lock = StoreLock.exclusive(store)
    try:
        result = run("--db", str(store), "add", "task", "--title", "Too soon", "--category", "it", tmp_path=tmp_path)
    finally:
        lock.release()
    one_line_refusal(result, "being restored", "try again")
    assert rows(store, "SELECT COUNT(*) FROM items WHERE title = 'Too soon'") == [(0,)]


def test_restore_works_when_there_is_no_backups_folder_yet(tmp_path, store):
    backup = bk.backup(store, tmp_path / "spo-backup.db")
    shutil.rmtree(store.parent / "backups", ignore_errors=True)
    result = run("--db", str(store), "restore", str(backup), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    folder = store.parent / "backups"
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert [p.name.endswith("-before-restore.db.zst") for p in folder.iterdir()] == [True]  # compressed


def test_restore_into_a_new_folder_makes_the_database(tmp_path, store):
    backup = bk.backup(store, tmp_path / "spo-backup.db")
    fresh = tmp_path / "new-laptop" / "data" / "spo.db"
    result = run("--db", str(fresh), "restore", str(backup), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert rows(fresh, "SELECT COUNT(*) FROM staff") == rows(store, "SELECT COUNT(*) FROM staff")
    assert oct(fresh.parent.stat().st_mode & 0o777) == "0o700"


def test_restore_on_a_full_disk_changes_nothing(tmp_path, store):
    backup = bk.backup(store, tmp_path / "spo-backup.db")
    before = folder_state(store.parent)
    result = run(
        "--db",
        str(store),
        "restore",
        str(backup),
        tmp_path=tmp_path,
        preexec_fn=file_size_limit(store.stat().st_size // 2),
    )
    one_line_refusal(result, "will not restore", "could not be backed up first", "the disk", "Nothing was changed")
    assert folder_state(store.parent) == before
    assert list((store.parent / "backups").iterdir()) == []


def test_restore_refuses_the_database_itself(tmp_path, store):
    link = tmp_path / "link.db"
    link.symlink_to(store)
    before = store.read_bytes()
    for source in (store, link):
        result = run("--db", str(store), "restore", str(source), tmp_path=tmp_path)
        one_line_refusal(result, "is the database itself")
    assert store.read_bytes() == before


# --- An open app whose file is replaced -------------------------------------------------------------------


async def _replaced_under_the_app(store, tmp_path, replace):
    from conftest import NOW

    from spo_tui.app import SpoApp
    from spo_tui.domain.errors import SpoError
    from spo_tui.services import decisions, drafts

    app = SpoApp(store, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        assert app.store_replaced is None
        await pilot.press("d", *"Half typed")  # a form open, its draft being kept as the user types
        await pilot.pause(0.2)
        replace()
        await pilot.pause(1.5)  # the app looks once a second
        assert type(app.screen).__name__ == "StoreReplacedScreen"
        shown = str(app.screen.query_one("#replaced-message").render())
        assert "was replaced while spo-tui had it open" in shown and "nothing more is saved" in shown
        assert "REPLACED" in app.sub_title
        changes = app.ctx.db.conn.total_changes
        await pilot.press(*"more", "ctrl+s")  # keys go to the message, not to the form beneath
        with pytest.raises(SpoError, match="was replaced"):
            decisions.record_oversight(app.ctx, crn="X123456", outcome="agreed", discussed="Plan", decision="Late")
        with pytest.raises(sqlite3.Error):
            drafts.save_draft(app.ctx, "oversight:test", {"decision": "Late"})
        assert app.ctx.db.conn.total_changes == changes  # nothing written through the old connection
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 2


async def test_the_app_stops_saving_when_another_file_is_renamed_onto_its_database(tmp_path, store):
    other = tmp_path / "other.db"
    shutil.copyfile(store, other)  # a live copy: same header, another file

    def rename() -> None:
        os.replace(other, store)

    await _replaced_under_the_app(store, tmp_path, rename)


async def test_the_app_stops_saving_when_a_backup_is_copied_over_its_database(tmp_path, store):
    backup = bk.backup(store, tmp_path / "spo-backup.db")

    def copy_over() -> None:
        shutil.copyfile(backup, store)  # same file, new contents

    await _replaced_under_the_app(store, tmp_path, copy_over)


# --- One way in ---------------------------------------------------------------------------------------------


def test_every_sqlite_connection_in_the_store_is_made_by_connect():
    """Encryption (and anything else a connection needs) hooks into store.db.connect alone."""
    root = Path(__file__).resolve().parent.parent / "spo_tui"
    found = []
    for source in root.rglob("*.py"):
        tree = ast.parse(source.read_text(), str(source))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            for node in ast.walk(func):
                call = node.func if isinstance(node, ast.Call) else None
                if (
                    isinstance(call, ast.Attribute)
                    and call.attr == "connect"
                    and ast.unparse(call.value).startswith(("sqlite3", "sqlcipher"))
                ):
                    found.append(f"{source.relative_to(root)}:{func.name}")
                if isinstance(call, ast.Name) and call.id in ("Database", "SpoDatabase") and node.args:
                    arg = node.args[0]  # a connection (from connect), never a path that Database would open itself
                    if isinstance(arg, (ast.Constant, ast.JoinedStr)) or (
                        isinstance(arg, ast.Call) and ast.unparse(arg.func) in ("str", "Path", "os.fspath")
                    ):
                        found.append(f"{source.relative_to(root)}:{func.name} makes a Database from a path")
    assert sorted(set(found)) == ["store/db.py:connect"]


# --- Kill at random points -----------------------------------------------------------------------------------


def fill(path: Path, megabytes: int) -> None:
    """Make the database big enough that a backup or restore takes a while to copy."""
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)", [(f"filler-{n}", "x" * 1000) for n in range(megabytes * 1000)]
    )
    conn.commit()
    conn.close()


def no_half_backups(folder: Path) -> None:
    """Everything under a backup's name in ``folder`` is a whole, checked spo-tui database."""
    for path in [*folder.glob("spo-*.db"), *folder.glob("spo-*.db.zst")]:
        assert bk.check_integrity(path).ok, path


def timed(*args: str, tmp_path: Path) -> float:
    """How long ``spo-tui ARGS`` takes here, start to finish (so kills can land anywhere in it)."""
    started = time.monotonic()
    result = run(*args, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return time.monotonic() - started


def kill_at_random(args: list[str], within: float, rng: random.Random, tmp_path: Path) -> bool:
    """Start ``spo-tui ARGS``, SIGKILL it after a random part of ``within`` seconds; True if it was killed."""
    proc = subprocess.Popen(spo(*args), env=env_for(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(rng.uniform(0.02, within))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return proc.returncode == -signal.SIGKILL


def test_sigkill_during_backups_while_a_writer_saves(tmp_path, store):
    """Backups killed at random moments while entries are being saved: the database stays whole with
    every saved entry, no half backup sits under a backup's name, and the next backup clears the rest."""
    fill(store, 4)
    within = timed("--db", str(store), "backup", tmp_path=tmp_path)
    writer = Writer(store, tmp_path, reopen=False)
    rng = random.Random(11)
    kills = tries = 0
    try:
        writer.wait_for(2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and kills < 6:
            to = ["--to", str(tmp_path / "copy.db")] if tries % 2 else []
            tries += 1
            kills += kill_at_random(["--db", str(store), "backup", *to], within, rng, tmp_path)
            no_half_backups(store.parent / "backups")
            if (tmp_path / "copy.db").exists():
                assert bk.check_integrity(tmp_path / "copy.db").ok
        assert kills >= 3, "the backups finished before they could be killed: the test proved nothing"
    finally:
        saved = writer.stop()
    assert integrity(store) == "ok"
    assert saved - entries(store) == set()
    for to in ([], ["--to", str(tmp_path / "copy.db")]):
        result = run("--db", str(store), "backup", *to, tmp_path=tmp_path)
        assert result.returncode == 0, result.stderr
    assert [p.name for p in (store.parent / "backups").iterdir() if ".part" in p.name] == []
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []
    no_half_backups(store.parent / "backups")


def test_sigkill_during_restores_while_a_writer_saves(tmp_path, store):
    """Restores killed at random moments, with a writer saving between them: the database stays whole,
    every saved entry is in it or in a before-restore backup, and the next backup clears the rest."""
    fill(store, 4)
    backup = bk.backup(store, tmp_path / "spo-backup.db")
    within = timed("--db", str(store), "restore", str(backup), tmp_path=tmp_path)
    writer = Writer(store, tmp_path, reopen=True)
    rng = random.Random(7)
    kills = 0
    try:
        writer.wait_for(2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and kills < 5:
            kills += kill_at_random(["--db", str(store), "restore", str(backup)], within, rng, tmp_path)
            no_half_backups(store.parent / "backups")
        assert kills >= 2, "the restores finished before they could be killed: the test proved nothing"
    finally:
        saved = writer.stop()
    assert integrity(store) == "ok"
    kept = entries(store)
    for previous in (store.parent / "backups").glob("*-before-restore*.db*"):
        if ".part" not in previous.name:
            with bk.plain_copy(previous) as plain:
                kept |= entries(plain)
    assert saved - kept == set()
    result = run("--db", str(store), "backup", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (store.parent / "backups").iterdir() if ".part" in p.name] == []


async def test_marking_an_old_database_is_not_taken_for_a_replacement(tmp_path, store):
    """A database made before the mark is marked when the app opens it; the mark reaches the file at
    a later checkpoint, which must not look like another file put in its place."""
    from conftest import NOW

    from spo_tui.app import SpoApp

    conn = sqlite3.connect(store)
    conn.execute("PRAGMA application_id = 0")
    conn.commit()
    conn.close()
    app = SpoApp(store, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        app.ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert store.read_bytes()[68:72] == b"SPOT"
        await pilot.pause(1.5)
        assert app.store_replaced is None


def test_checking_the_file_under_an_open_database_keeps_its_locks(tmp_path):
    """Reading the header of a database this process has open (as the app does every second, and as
    a worker does when it opens its own connection) must not drop SQLite's locks on it: otherwise the
    next process to close the file takes itself for the last user, deletes the WAL, and the open
    connection reads "database disk image is malformed"."""
    import sys

    from spo_tui.store.db import file_identity, identify

    path = tmp_path / "spo.db"
    db = open_db(path)
    db.execute("CREATE TABLE notes (text TEXT)")
    with db.atomic():
        db.execute("INSERT INTO notes VALUES ('first')")
    for _ in range(3):
        assert file_identity(path) is not None
        identify(path)
    other = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO notes VALUES ('second')\"); c.commit(); c.close()"
    subprocess.run([sys.executable, "-c", other, str(path)], check=True, timeout=60)
    assert Path(f"{path}-wal").exists(), "the other process deleted the WAL under our connection"
    assert [r[0] for r in db.execute("SELECT text FROM notes ORDER BY rowid")] == ["first", "second"]
    db.close()
