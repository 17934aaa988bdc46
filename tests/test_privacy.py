"""Privacy on a shared laptop: free text kept out of the process list, and every screen that shows
people's data logged as seen (who, when, what), without making a key wait for the write lock."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import NOW, clock, read_rows, snapshot, ui_team

from spo_tui.app import SpoApp
from spo_tui.cli import main
from spo_tui.screens.case import CaseScreen
from spo_tui.services import intake, lookup
from spo_tui.store.db import open_db


@pytest.fixture
def team(tmp_path, monkeypatch):
    """A small team's database (SPO Sam Spo, PO Pat Officer, cases X123456 and Y123456) with some work."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    monkeypatch.setenv("SPO_TUI_TODAY", "2026-11-23")
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    intake.add_case(ctx, "Z111111", "Zoë Brontë", "Pat Officer", "MEDIUM", "COMMUNITY_ORDER", "2026-11-01")
    intake.raise_sbar(ctx, "Z111111", "Pat Officer", "Hostel place lost", "B", "A", "R")
    intake.add_alert(ctx, "X123456", "call_out", "Police call-out to home address")
    intake.add_task(ctx, "Heating broken in interview room 2", "buildings")
    ctx.db.close()
    return path


def run_cli(path: Path, *args: str, stdin: bytes | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPO_TUI_TODAY": "2026-11-23"}
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
    )


def db_snapshot(path: Path) -> dict:
    db = open_db(path)
    try:
        return snapshot(db)
    finally:
        db.close()


# --- Free text from a file or standard input -------------------------------------------------------

#: Every free-text argument of every ``add`` command: (command and its other arguments, the option,
#: the SQL that reads back what was stored for the new item ``?``).
FREE_TEXT = [
    (
        [
            "sbar",
            "--crn",
            "X123456",
            "--by",
            "Pat Officer",
            "--background",
            "b",
            "--assessment",
            "a",
            "--recommendation",
            "r",
        ],
        "--situation",
        "SELECT situation FROM sbars WHERE item_id = ?",
    ),
    (
        [
            "sbar",
            "--crn",
            "X123456",
            "--by",
            "Pat Officer",
            "--situation",
            "s",
            "--assessment",
            "a",
            "--recommendation",
            "r",
        ],
        "--background",
        "SELECT background FROM sbars WHERE item_id = ?",
    ),
    (
        [
            "sbar",
            "--crn",
            "X123456",
            "--by",
            "Pat Officer",
            "--situation",
            "s",
            "--background",
            "b",
            "--recommendation",
            "r",
        ],
        "--assessment",
        "SELECT assessment FROM sbars WHERE item_id = ?",
    ),
    (
        [
            "sbar",
            "--crn",
            "X123456",
            "--by",
            "Pat Officer",
            "--situation",
            "s",
            "--background",
            "b",
            "--assessment",
            "a",
        ],
        "--recommendation",
        "SELECT recommendation FROM sbars WHERE item_id = ?",
    ),
    (
        [
            "sbar",
            "--crn",
            "X123456",
            "--by",
            "Pat Officer",
            "--situation",
            "s",
            "--background",
            "b",
            "--assessment",
            "a",
            "--recommendation",
            "r",
        ],
        "--title",
        "SELECT title FROM items WHERE id = ?",
    ),
    (
        ["countersign", "--crn", "X123456", "--kind", "OASYS", "--author", "Pat Officer"],
        "--title",
        "SELECT title FROM items WHERE id = ?",
    ),
    (
        ["countersign", "--crn", "X123456", "--kind", "OASYS", "--author", "Pat Officer"],
        "--link",
        "SELECT link FROM countersigns WHERE item_id = ?",
    ),
    (["task", "--category", "other", "--details", "d"], "--title", "SELECT title FROM items WHERE id = ?"),
    (["task", "--category", "other", "--title", "t"], "--details", "SELECT details FROM tasks WHERE item_id = ?"),
    (["alert", "--crn", "X123456", "--source", "arrest"], "--details", "SELECT details FROM alerts WHERE item_id = ?"),
]


@pytest.mark.parametrize("command, option, stored", FREE_TEXT, ids=[f"{c[0]} {o}" for c, o, _s in FREE_TEXT])
def test_every_free_text_argument_reads_a_file(team, tmp_path, capsys, command, option, stored):
    text_file = tmp_path / "text.txt"
    one_line = option in ("--title", "--link")  # these take one line: a line break in them is refused
    body = "\ufeffSeen at home by Zoë\r\n" + (
        "" if one_line else "second line\r\n"
    )  # a BOM and CRLFs, as Notepad writes
    text_file.write_bytes(body.encode())
    assert main(["--db", str(team), "add", command[0], *command[1:], option, f"@{text_file}"]) == 0
    item_id = capsys.readouterr().out.strip()
    expected = "Seen at home by Zoë" if one_line else "Seen at home by Zoë\nsecond line"
    assert read_rows(team, stored, [item_id]) == [(expected,)]  # an SBAR's title is the first line of what is given


def test_standard_input_and_a_literal_at_sign(team, tmp_path):
    situation = tmp_path / "situation.txt"
    situation.write_text("He lost his hostel place today.\n", encoding="utf-8")
    done = run_cli(
        team,
        "add",
        "sbar",
        "--crn",
        "X123456",
        "--by",
        "Pat Officer",
        "--situation",
        f"@{situation}",
        "--background",
        "-",
        "--assessment",
        "@@home visit needed",
        "--recommendation",
        "Discuss at 2pm",
        stdin=b"On licence since October.\nNo previous breaches.\n",
    )
    assert done.returncode == 0, done.stderr
    item_id = done.stdout.decode().strip()
    assert read_rows(
        team, "SELECT situation, background, assessment, recommendation FROM sbars WHERE item_id = ?", [item_id]
    ) == [
        (
            "He lost his hostel place today.",
            "On licence since October.\nNo previous breaches.",
            "@home visit needed",
            "Discuss at 2pm",
        )
    ]


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_text_from_standard_input_is_not_in_the_process_list(team):
    """What another user of the machine could read (``/proc/PID/cmdline``) while the command runs."""
    secret = "Disclosed that her partner threatened to kill her"
    env = {**os.environ, "SPO_TUI_TODAY": "2026-11-23"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spo_tui",
            "--db",
            str(team),
            "add",
            "alert",
            "--crn",
            "X123456",
            "--source",
            "call_out",
            "--details",
            "-",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        time.sleep(0.5)  # it is waiting for standard input now
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert b"--details" in cmdline and secret.encode() not in cmdline
        out, err = proc.communicate(secret.encode(), timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert read_rows(team, "SELECT details FROM alerts WHERE item_id = ?", [out.decode().strip()]) == [(secret,)]


def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], bytes | None, str]]:
    """Name: (the --details argument(s) of `add alert`, standard input, what the message says)."""
    (tmp / "latin1.txt").write_bytes("Café".encode("latin-1"))
    (tmp / "nul.txt").write_bytes(b"Arrested\x00 last night")
    (tmp / "big.txt").write_bytes(b"x" * (1024 * 1024 + 1))
    unreadable = tmp / "unreadable.txt"
    unreadable.write_text("secret", encoding="utf-8")
    unreadable.chmod(0)
    os.mkfifo(tmp / "fifo")
    return {
        "missing": (["--details", f"@{tmp / 'no-such.txt'}"], None, "No such file or directory"),
        "inside a file, not a folder": (["--details", f"@{tmp / 'nul.txt' / 'x'}"], None, "cannot read"),
        "a folder": (["--details", f"@{tmp}"], None, "not a plain file"),
        "a FIFO (must not hang)": (["--details", f"@{tmp / 'fifo'}"], None, "not a plain file"),
        "a device": (["--details", "@/dev/null"], None, "not a plain file"),
        "not UTF-8": (["--details", f"@{tmp / 'latin1.txt'}"], None, "not UTF-8"),
        "a NUL byte": (["--details", f"@{tmp / 'nul.txt'}"], None, "NUL"),
        "over 1 MB": (["--details", f"@{tmp / 'big.txt'}"], None, "larger than 1 MB"),
        "no file name": (["--details", "@"], None, "file name"),
        "standard input not UTF-8": (["--details", "-"], "Café".encode("latin-1"), "standard input is not UTF-8"),
        "standard input with a NUL": (["--details", "-"], b"a\x00b", "NUL"),
        "two arguments reading standard input": (["--details", "-"], b"x", "only one argument"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "inside a file, not a folder",
        "a folder",
        "a FIFO (must not hang)",
        "a device",
        "not UTF-8",
        "a NUL byte",
        "over 1 MB",
        "no file name",
        "standard input not UTF-8",
        "standard input with a NUL",
        "two arguments reading standard input",
    ],
)
def test_a_bad_text_file_is_refused_in_one_line_and_nothing_is_written(team, tmp_path, case):
    args, stdin, says = _bad_inputs(tmp_path)[case]
    command = ["add", "alert", "--crn", "X123456", "--source", "arrest", *args]
    if case == "two arguments reading standard input":
        command = ["add", "task", "--category", "other", "--title", "-", "--details", "-"]
    before = db_snapshot(team)
    done = run_cli(team, *command, stdin=stdin or b"", timeout=30)
    err = done.stderr.decode()
    assert done.returncode == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("spo-tui add ") and says in err, err
    assert "Traceback" not in err
    assert db_snapshot(team) == before


def test_help_says_how_to_keep_text_out_of_the_process_list(team):
    for command, option, _stored in FREE_TEXT:
        shown = run_cli(team, "add", command[0], "--help").stdout.decode()
        line = " ".join(shown.split())  # argparse wraps help lines
        assert f"{option} TEXT" in line and "@FILE or - (standard input)" in line
        assert "written @@" in line and "only one argument can" in line


# --- What was seen is logged -------------------------------------------------------------------------


def access(path: Path) -> list[tuple[str, str | None, dict | None, str]]:
    """The access log, oldest first: (action, entity id, what was shown, who)."""
    found = read_rows(
        path,
        """SELECT a.action, a.entity_id, a.new, s.name FROM audit_log a LEFT JOIN staff s ON s.id = a.actor_id
                               WHERE a.action LIKE 'view_%' OR a.action = 'search' ORDER BY a.id""",
    )
    return [(action, entity, json.loads(new) if new else None, who) for action, entity, new, who in found]


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_the_today_queue_is_logged_once_a_session(team):
    for session in (1, 2):
        app = SpoApp(team, clock=clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(app.screen.REFRESH_AFTER + 0.2)
            await settle(app, pilot)
            await pilot.press("k")  # the check-in and back: Today shown again, not logged again
            await pilot.press("escape")
            await pilot.press("5")
            await settle(app, pilot)
        views = [row for row in access(team) if row[0] == "view_queue"]
        assert len(views) == session
    # At the first paint: the SBAR, the alert and the task (the touch points the rules make come a moment later).
    assert views[0] == ("view_queue", None, {"view": "all", "rows_shown": 3, "rows_in_view": 3}, "Sam Spo")


async def test_a_search_is_logged_with_its_text_and_what_it_found(team, monkeypatch):
    """Logged once the text rests (or on Enter or Esc): one row per search, not one per key."""
    from spo_tui.screens.today import TodayScreen

    monkeypatch.setattr(
        TodayScreen, "SEARCH_LOG_AFTER", 1.5
    )  # long enough that a loaded machine types " zzz" within it
    app = SpoApp(team, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("/", *"bront")
        await pilot.pause(2.0)
        await settle(app, pilot)
        await pilot.press(*" zzz")  # nothing matches: seen, and logged on Esc before the rest time
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("/", *"heating", "enter")
        await settle(app, pilot)
        await pilot.pause(2.0)
        await settle(app, pilot)
    searches = [row for row in access(team) if row[0] == "search"]
    assert searches == [
        ("search", None, {"text": "bront", "view": "all", "matches": 2}, "Sam Spo"),  # the SBAR and a first touch point
        ("search", None, {"text": "bront zzz", "view": "all", "matches": 0}, "Sam Spo"),
        ("search", None, {"text": "heating", "view": "all", "matches": 1}, "Sam Spo"),
    ]


@pytest.mark.parametrize(
    "key, action, shown",
    [
        ("k", "view_checkin", {"absences", "risk_points", "decisions", "team"}),
        ("o", "view_team", {"days", "people", "unseen_cases", "team"}),
        ("M", "view_monthly", {"rows", "team"}),
        ("h", "view_protected_hour", {"day", "booked"}),
        ("p", "view_supervision", {"practitioners", "team"}),
    ],
)
async def test_each_dashboard_is_logged_when_it_opens(team, key, action, shown):
    app = SpoApp(team, clock=clock)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press(key)
        await settle(app, pilot)
    [row] = [r for r in access(team) if r[0] == action]
    assert row[3] == "Sam Spo" and set(row[2]) == shown
    if action == "view_protected_hour":
        assert row[2]["day"] == "2026-11-23"


async def test_each_day_of_the_protected_hour_shown_is_logged(team):
    app = SpoApp(team, clock=clock)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(app, pilot)
        await pilot.press("h")
        await settle(app, pilot)
        app.screen.action_day(1)
        await settle(app, pilot)
    assert [r[2]["day"] for r in access(team) if r[0] == "view_protected_hour"] == ["2026-11-23", "2026-11-24"]


async def test_the_admin_screen_is_logged_for_a_caspo(team):
    app = SpoApp(team, actor="Cas Admin", clock=clock)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(app, pilot)
    [row] = [r for r in access(team) if r[0] == "view_admin"]
    assert row[3] == "Cas Admin" and set(row[2]) == {"diary", "mappa_reviews", "transfers"}


async def test_the_access_log_lists_every_kind_of_view(team):
    app = SpoApp(team, clock=clock)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause(app.screen.REFRESH_AFTER + 0.2)
        await settle(app, pilot)
        app.open_case("X123456")
        await settle(app, pilot)
        await pilot.press("escape", "o")
        await settle(app, pilot)
        log = lookup.access_log(app.ctx)
    assert [r["action"] for r in log] == ["view_team", "view_case", "view_queue"]
    assert json.loads(log[-1]["shown"])["view"] == "all"


async def test_a_busy_store_does_not_hold_up_a_screen_and_the_view_is_logged_after(team):
    """Another process holds the write lock (an import, say) while the case is opened: the screen opens
    at once, and the view is logged as soon as the lock is free."""
    app = SpoApp(team, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(app.screen.REFRESH_AFTER + 0.2)
        await settle(app, pilot)
        other = sqlite3.connect(team, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            start = time.monotonic()
            app.open_case("X123456")
            await pilot.pause()
            opened = time.monotonic() - start
            assert isinstance(app.screen, CaseScreen)
            await pilot.pause(0.3)
        finally:
            other.execute("COMMIT")
            other.close()
        await settle(app, pilot)
    assert opened < 3.0  # not the 5 s a save waits for the lock before giving up
    assert [r[:2] for r in access(team) if r[0] == "view_case"] == [("view_case", "X123456")]


@pytest.fixture
def read_only(monkeypatch):
    """Make ``path`` and its folder read-only (as far as open_db can tell, even for root), restoring after."""
    changed: list[tuple[Path, int]] = []
    real_access = os.access

    def make(path: Path) -> None:
        blocked = {str(path), str(path.parent)}
        for p in (path, path.parent):
            changed.append((p, stat.S_IMODE(p.stat().st_mode)))
            p.chmod(0o500 if p.is_dir() else 0o400)
        monkeypatch.setattr(
            os,
            "access",
            lambda p, mode, *a, **kw: (
                False if mode == os.W_OK and str(p) in blocked else real_access(p, mode, *a, **kw)
            ),
        )

    yield make
    for p, mode in reversed(changed):
        p.chmod(mode)


async def test_a_read_only_store_shows_every_screen_and_logs_nothing(team, read_only):
    before = db_snapshot(team)
    read_only(team)
    app = SpoApp(team, clock=clock)
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(app, pilot)
        assert "READ-ONLY" in app.sub_title
        for key in ("k", "o", "M", "h", "p"):
            await pilot.press(key)
            await settle(app, pilot)
            assert type(app.screen).__name__ != "TodayScreen"
            await pilot.press("escape")
            await settle(app, pilot)
        app.open_case("X123456")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case is not None
        await pilot.press("escape", "/", *"bront", "enter")
        await settle(app, pilot)
        assert [e.row.crn for e in app.screen.entries] == ["Z111111"]
    assert db_snapshot(team) == before
