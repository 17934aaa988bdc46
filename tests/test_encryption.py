"""Encryption at rest: `spo-tui encrypt`, the key in the keyring, its recovery copy, encrypted backups.

Every test runs the real `spo-tui` on a real file, with the per-test keyring conftest sets up
(a file: spo-tui accepts it only because SPO_TUI_TRUSTED_KEYRING=1, as a test backend).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NOW, fixed_clock, ui_team

from spo_tui.app import SpoApp
from spo_tui.services import intake
from spo_tui.store import crypto
from spo_tui.store.backup import is_compressed
from spo_tui.store.db import StoreError, open_db

PASSPHRASE = "correct horse battery staple"
SECRET_NAME = "Joe Bloggs"  # a case name: must not be readable in an encrypted file
ENV = {"SPO_TUI_TODAY": "2026-11-23"}


def spo(path, *args, env=None, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV, **(env or {})},
        input=stdin,
        timeout=120,
    )


def refused(result, message: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("spo-tui: "), result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def team(tmp_path):
    """A team store with an SBAR on Joe Bloggs's case, closed; and the passphrase in a file."""
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    intake.raise_sbar(
        ctx, "X123456", "Pat Officer", "Partner disclosed threats", "On licence", "Risk up", "Recall", "urgent"
    )
    ctx.db.close()
    (tmp_path / "pass.txt").write_text(PASSPHRASE + "\n")
    return path


def encrypt(path: Path):
    return spo(path, "encrypt", "--passphrase-file", str(path.parent / "pass.txt"))


def test_encrypting_a_store_hides_its_text_and_everything_still_works(team):
    assert SECRET_NAME.encode() in team.read_bytes()
    done = encrypt(team)
    assert done.returncode == 0, done.stderr
    assert "keep a copy off this computer" in done.stdout
    for name in (team, Path(f"{team}-wal")):
        if name.exists():
            assert SECRET_NAME.encode() not in name.read_bytes(), name
    assert not team.read_bytes().startswith(b"SQLite format 3")
    recovery = Path(f"{team}.recovery")
    assert recovery.stat().st_mode & 0o777 == 0o600
    assert PASSPHRASE not in recovery.read_text()
    # Reading, writing and checking go on as before, and the encryption is in the audit log.
    queue = spo(team, "queue", "--json")
    assert queue.returncode == 0, queue.stderr
    added = spo(team, "add", "task", "--title", "After encryption", "--category", "it")
    assert added.returncode == 0, added.stderr
    assert spo(team, "verify").returncode == 0
    db = open_db(team)
    try:
        assert db.execute("SELECT COUNT(*) FROM items WHERE title = 'After encryption'").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'encrypt_store'").fetchone()[0] == 1
    finally:
        db.close()
    assert SECRET_NAME.encode() not in team.read_bytes()


def test_a_backup_of_an_encrypted_store_is_encrypted_and_restores(team):
    assert encrypt(team).returncode == 0
    made = spo(team, "backup")
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip().rsplit(" ", 1)[-1])
    assert backup.exists() and SECRET_NAME.encode() not in backup.read_bytes()
    assert backup.name.endswith(".db") and not is_compressed(backup)  # the SQLCipher copy, not compressed
    assert spo(team, "add", "task", "--title", "Made after the backup", "--category", "it").returncode == 0
    restored = spo(team, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    db = open_db(team)
    try:
        assert db.execute("SELECT COUNT(*) FROM items WHERE title = 'Made after the backup'").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 2
    finally:
        db.close()
    assert SECRET_NAME.encode() not in team.read_bytes()


def test_with_no_keyring_encrypting_says_so_and_changes_nothing(team):
    before = digest(team)
    result = spo(
        team,
        "encrypt",
        "--passphrase-file",
        str(team.parent / "pass.txt"),
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    refused(result, "no keyring to keep the database key in")
    assert digest(team) == before
    assert not Path(f"{team}.recovery").exists()


def test_a_plain_file_keyring_is_refused_outside_the_tests(team):
    before = digest(team)
    result = spo(
        team,
        "encrypt",
        "--passphrase-file",
        str(team.parent / "pass.txt"),
        env={"SPO_TUI_TRUSTED_KEYRING": "", "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"},
    )
    refused(result, "no keyring to keep the database key in")
    assert digest(team) == before


def test_a_lost_key_comes_back_with_the_recovery_passphrase_and_not_without(team, tmp_path):
    assert encrypt(team).returncode == 0
    Path(os.environ["SPO_TEST_KEYRING"]).unlink()  # a new laptop, or a rebuilt keyring
    refused(spo(team, "queue"), "spo-tui unlock --recovery FILE")
    recovery = str(Path(f"{team}.recovery"))
    refused(
        spo(team, "unlock", "--recovery", recovery, "--passphrase-file", "-", stdin="not the passphrase\n"),
        "that passphrase does not open this recovery file",
    )
    assert not Path(os.environ["SPO_TEST_KEYRING"]).exists()
    unlocked = spo(team, "unlock", "--recovery", recovery, "--passphrase-file", "-", stdin=PASSPHRASE + "\n")
    assert unlocked.returncode == 0, unlocked.stderr
    assert spo(team, "queue").returncode == 0


def test_encrypting_twice_or_while_the_store_is_open_is_refused(team):
    assert encrypt(team).returncode == 0
    refused(encrypt(team), "is already encrypted")
    other = team.parent / "other.db"
    ui_team(other).db.close()
    (other.parent / "pass.txt").write_text(PASSPHRASE + "\n")
    before = digest(other)
    held = open_db(other)  # the TUI, say, has it open
    try:
        refused(encrypt(other), "is open in spo-tui")
    finally:
        held.close()
    assert digest(other) == before


def test_a_short_passphrase_is_refused_and_changes_nothing(team):
    before = digest(team)
    refused(spo(team, "encrypt", "--passphrase-file", "-", stdin="short\n"), "at least 12 characters")
    assert digest(team) == before
    assert not Path(f"{team}.recovery").exists()


def test_a_new_store_can_be_encrypted_from_the_start(tmp_path):
    path = tmp_path / "new.db"
    made = spo(path, "encrypt", "--passphrase-file", "-", stdin=PASSPHRASE + "\n")
    assert made.returncode == 0, made.stderr
    staff = tmp_path / "staff.csv"
    staff.write_text("name,role\nSam Spo,SPO\nPat Officer,PO\n")
    imported = spo(path, "import", "staff", str(staff))
    assert imported.returncode == 0, imported.stderr
    assert b"Pat Officer" not in path.read_bytes()
    assert b"SQLite format 3" not in path.read_bytes()[:16]


def test_another_program_s_file_is_still_not_ours(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(os.urandom(4096))
    before = digest(path)
    refused(spo(path, "queue"), "is not a spo-tui database")
    assert digest(path) == before


async def test_the_app_opens_an_encrypted_store_on_the_today_screen(team):
    assert encrypt(team).returncode == 0
    crypto.forget_cached_key()
    app = SpoApp(team, clock=fixed_clock(NOW))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
        assert any("Partner disclosed threats" in e.row.title for e in app.screen.entries)


def test_opening_an_encrypted_store_without_the_key_is_refused_in_process(team):
    assert encrypt(team).returncode == 0
    Path(os.environ["SPO_TEST_KEYRING"]).unlink()
    crypto.forget_cached_key()
    with pytest.raises(StoreError, match="unlock --recovery"):
        open_db(team)


def test_a_store_encrypted_by_another_login_is_refused_in_one_line(team, tmp_path):
    """A login whose keyring holds a different key (its own stores') gets one line, not SQLCipher's log."""
    assert encrypt(team).returncode == 0
    other = tmp_path / "theirs.db"
    theirs = {"SPO_TEST_KEYRING": str(tmp_path / "their-keyring.json")}
    made = spo(other, "encrypt", "--passphrase-file", "-", stdin=PASSPHRASE + "\n", env=theirs)
    assert made.returncode == 0, made.stderr
    before = digest(team)
    refused(spo(team, "queue", env=theirs), "encrypted with a key this login does not have")
    assert digest(team) == before
