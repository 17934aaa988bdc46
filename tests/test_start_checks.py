"""The first start of a day: the check of the file and the day's backup come after the first paint, in
a worker, and never in the way of a key; a failed backup is said once; a damaged store found then stops
saving and says how to restore. And the compressed backups: restored exactly, never half made, and a
fortnight of them far smaller than 14 copies (issue 15)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import HIGH_CRN, NOW, read_rows, snapshot
from file_tools import env_for
from test_backup import PART_MAKER
from test_today import team_db

from spo_tui.app import SpoApp
from spo_tui.domain.errors import SpoError
from spo_tui.services import decisions
from spo_tui.store import backup as bk
from spo_tui.store.db import StoreError, hold_writes, open_db, release_writes


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def queue_rows(app) -> int:
    screen = app.screen
    if type(screen).__name__ != "TodayScreen" or not screen.is_mounted:
        return 0
    return screen.query_one("#queue").row_count


async def until(pilot, condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await pilot.pause(0.02)
    return condition()


def record_first_drawn_queue(app) -> dict:
    """When the first frame showing queue rows was drawn (``App._display`` is called with each frame
    the compositor made, headless too, as ``bench/run.py`` measures start-up)."""
    seen: dict = {}
    display = app._display

    def recording(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None and "drawn" not in seen and queue_rows(app) > 0:
            seen["drawn"] = time.monotonic()

    app._display = recording
    return seen


def today_backups(path: Path) -> list[Path]:
    return [p for p in bk.list_backups(path) if p.name.startswith(f"spo-{datetime.now():%Y%m%d}")]


def leftovers(path: Path) -> list[str]:
    folder = path.parent / "backups"
    return [p.name for p in folder.iterdir() if ".part" in p.name] if folder.is_dir() else []


#: The day's backup as the app runs it, once ``release`` (a file) exists: a backup of a very large store.
WAIT_THEN_BACK_UP = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    while not Path(sys.argv[1]).exists():
        time.sleep(0.02)
    from spo_tui.cli import main
    sys.exit(main(["--db", sys.argv[2], "backup", "--daily"]))
    """
)


def slow_backup(monkeypatch, path: Path, release: Path) -> dict:
    """Make the app's backup wait for ``release``; returns when its process was started."""
    began: dict = {}

    def command(app) -> list[str]:
        began["at"] = time.monotonic()
        return [sys.executable, "-c", WAIT_THEN_BACK_UP, str(release), str(path)]

    monkeypatch.setattr(SpoApp, "daily_backup_command", command)
    return began


async def test_the_queue_is_drawn_before_the_backup_which_never_blocks_a_key(team_db, monkeypatch, tmp_path):
    path, _ids = team_db
    release = tmp_path / "release"
    began = slow_backup(monkeypatch, path, release)
    app = SpoApp(path, clock=lambda: NOW, start_checks=True)
    drawn = record_first_drawn_queue(app)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: "at" in began)
        assert drawn["drawn"] < began["at"]  # the queue was on screen before the backup began
        assert await until(pilot, lambda: app.BACKUP_NOTICE in notices(app))  # said while it runs
        table = app.screen.query_one("#queue")
        before = table.cursor_row
        started = time.monotonic()
        await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == before + 1 and time.monotonic() - started < 1.0  # a key works meanwhile
        decisions.record_oversight(app.ctx, crn=HIGH_CRN, outcome="agreed", discussed="Plan", decision="Saved")
        release.touch()
        assert await until(pilot, lambda: bool(today_backups(path)) and app.BACKUP_NOTICE not in notices(app))
        assert not any("could not" in n for n in notices(app))
    made = today_backups(path)
    assert [p.suffix for p in made] == [".zst"] and bk.check_integrity(made[0]).ok
    with bk.plain_copy(made[0]) as plain:
        assert read_rows(plain, "SELECT COUNT(*) FROM oversight_entries WHERE decision = 'Saved'") == [(1,)]
    assert leftovers(path) == []


async def test_quitting_never_waits_for_the_backup_which_finishes_by_itself(team_db, monkeypatch, tmp_path):
    path, _ids = team_db
    release = tmp_path / "release"
    began = slow_backup(monkeypatch, path, release)
    app = SpoApp(path, clock=lambda: NOW, start_checks=True)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: app.BACKUP_NOTICE in notices(app))
        quitting = time.monotonic()
        await pilot.press("q")
    assert time.monotonic() - quitting < 2.0 and "at" in began
    assert today_backups(path) == []
    release.touch()
    deadline = time.monotonic() + 30
    while not today_backups(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    made = today_backups(path)
    assert len(made) == 1 and bk.check_integrity(made[0]).ok


async def test_quitting_stops_the_background_record_check_at_once(team_db, monkeypatch):
    """The record check (4 s on a PDU) reads on a connection of its own; quitting interrupts it, and
    nothing is said of a check that did not finish (the next start checks again)."""
    from spo_tui.services import integrity

    path, _ids = team_db
    ended: list[str] = []

    def long_check(db, **_kwargs):  # a real query on the check's own connection, a minute long
        try:
            db.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000000) "
                "SELECT count(*) FROM n"
            ).fetchone()
        except Exception as error:
            ended.append(str(error))
            raise
        ended.append("finished")
        return integrity.check_record(db)

    monkeypatch.setattr(integrity, "check_record", long_check)
    monkeypatch.setattr(SpoApp, "VERIFY_AFTER", 0.1)
    app = SpoApp(path, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: app._checking is not None)
        await pilot.press("q")
    deadline = time.monotonic() + 10  # uninterrupted, the query would take a minute or more
    while not ended and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ended == ["interrupted"]
    assert not [n for n in notices(app) if "does not hold" in n]


async def test_a_later_start_of_the_day_makes_no_backup_and_shows_no_notice(team_db):
    path, _ids = team_db
    bk.daily_backup(path)
    app = SpoApp(path, clock=lambda: NOW, start_checks=True)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: app._write_hold is not None and app._write_hold.ended)
        await pilot.pause(0.3)
        assert notices(app) == []
    assert len(bk.list_backups(path)) == 1


#: The day's backup on a disk that is full: no file may grow past 40 KB (as ``file_tools.file_size_limit``).
ON_A_FULL_DISK = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))
    from spo_tui.cli import main
    sys.exit(main(["--db", sys.argv[1], "backup", "--daily"]))
    """
)


@pytest.mark.parametrize("how", ["a full disk", "a backups folder that cannot be one"])
async def test_a_backup_that_cannot_be_made_is_said_once_and_the_queue_works(team_db, monkeypatch, how):
    path, _ids = team_db
    if how == "a full disk":
        monkeypatch.setattr(
            SpoApp, "daily_backup_command", lambda app: [sys.executable, "-c", ON_A_FULL_DISK, str(path)]
        )
        why = "the disk"  # "is full", or "could not be written (it may be full)" as SQLite says it
    else:
        (path.parent / "backups").write_text("a file where the backups folder goes")
        why = "is not a folder"
    app = SpoApp(path, clock=lambda: NOW, start_checks=True)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: any("backup could not be made" in n for n in notices(app)))
        await pilot.pause(0.5)
        said = [n for n in notices(app) if "backup could not be made" in n]
        assert len(said) == 1 and why in said[0] and "spo-tui backup" in said[0] and "Traceback" not in said[0]
        assert app.BACKUP_NOTICE not in notices(app)
        table = app.screen.query_one("#queue")
        await pilot.press("down")
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen" and table.cursor_row == 1
        decisions.record_oversight(app.ctx, crn=HIGH_CRN, outcome="agreed", discussed="Plan", decision="Kept")
    assert bk.list_backups(path) == [] and leftovers(path) == []


def damage_a_page_the_queue_never_reads(path: Path) -> None:
    """Fill a table of its own, then overwrite one of its inner pages with junk, as a failing disk
    might: the queue draws as usual, and only a check of the whole file finds it."""
    db = open_db(path)
    db.execute("CREATE TABLE ballast (n INTEGER, text TEXT)")
    with db.atomic():
        db.conn.executemany("INSERT INTO ballast VALUES (?, ?)", [(n, "x" * 400) for n in range(3000)])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = [r[0] for r in db.execute("SELECT pageno FROM dbstat WHERE name = 'ballast' AND pagetype = 'leaf'")]
    db.close()
    with open(path, "r+b") as f:
        f.seek((pages[len(pages) // 2] - 1) * page_size)
        f.write(b"\xde\xad\xbe\xef" * (page_size // 4))


async def test_a_damaged_store_found_after_the_first_paint_stops_saving_and_says_how_to_restore(team_db):
    path, _ids = team_db
    good = bk.backup(path)
    damage_a_page_the_queue_never_reads(path)
    app = SpoApp(path, clock=lambda: NOW, start_checks=True)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: type(app.screen).__name__ == "StoreReplacedScreen")
        shown = str(app.screen.query_one("#replaced-message").render())
        assert "The database is damaged" in shown and "nothing more is saved" in shown
        assert f"restore {good}" in shown.replace("\n", "")
        assert "DAMAGED" in app.sub_title
        with pytest.raises(SpoError, match="damaged"):
            decisions.record_oversight(app.ctx, crn=HIGH_CRN, outcome="agreed", discussed="Plan", decision="Late")
        with pytest.raises(StoreError, match="damaged"), app.thread_context():
            pass  # nor from the app's background work
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 2 and f"restore {good}" in app.farewell
    assert bk.list_backups(path) == [good]  # the damaged store was not backed up over a good backup


def test_a_save_waits_for_the_start_up_check_and_is_refused_if_it_fails(tmp_path):
    path = tmp_path / "spo.db"
    open_db(path).close()
    hold = hold_writes(path)
    db = open_db(path)
    done: list[str] = []

    def save() -> None:
        try:
            with db.atomic():
                db.execute("CREATE TABLE saved (x)")
            done.append("saved")
        except StoreError as error:
            done.append(str(error))

    try:
        writer = threading.Thread(target=save)
        writer.start()
        time.sleep(0.3)
        assert done == []  # waiting for the check
        hold.end(refusal="the database is damaged")
        writer.join(5)
        assert done == ["the database is damaged"]
    finally:
        release_writes(path, hold)
        db.close()
    db = open_db(path)  # a new connection, the hold forgotten: writes as usual
    with db.atomic():
        db.execute("CREATE TABLE saved (x)")
    db.close()


# --- Compressed backups ------------------------------------------------------------------------------------


@pytest.fixture
def store(ctx, tmp_path):
    """The conftest team's database with entries, closed."""
    for n in range(20):
        decisions.record_oversight(ctx, crn=HIGH_CRN, outcome="agreed", discussed=f"Plan {n}", decision=f"Entry {n}")
    ctx.db.close()
    return tmp_path / "t.db"


def test_a_compressed_backup_restores_to_exactly_the_data(store, tmp_path):
    expected = snapshot(open_db(store))
    made = bk.backup(store, now=datetime(2026, 11, 23, 8, 0))
    plain = bk.backup(store, tmp_path / "plain-copy.db")  # the uncompressed copy of the same moment
    assert made.name.endswith(".db.zst") and made.stat().st_size < plain.stat().st_size / 2
    with bk.plain_copy(made) as copy:
        assert copy.read_bytes()[100:] == plain.read_bytes()[100:]  # page for page (the header counts changes)
    db = open_db(store)
    db.execute("INSERT INTO meta(key, value) VALUES ('later', 'change')")
    db.close()
    bk.restore(store, made, now=datetime(2026, 11, 23, 9, 0))
    assert snapshot(open_db(store)) == expected
    assert leftovers(store) == []


def test_a_damaged_or_cut_short_compressed_backup_is_refused_and_changes_nothing(store):
    made = bk.backup(store)
    data = made.read_bytes()
    before = store.read_bytes()
    for broken in (data[: len(data) // 2], data[:200] + bytes(64) + data[264:]):
        made.write_bytes(broken)
        assert not bk.check_integrity(made).ok
        with pytest.raises(bk.BackupError, match="will not restore"):
            bk.restore(store, made)
        assert store.read_bytes() == before
    assert leftovers(store) == []


def test_old_uncompressed_backups_still_list_rotate_and_restore(store):
    folder = store.parent / "backups"
    folder.mkdir(mode=0o700)
    old = bk.backup(store, folder / "spo-20261101-090000.db")  # as spo-tui wrote them before
    expected = snapshot(open_db(store))
    for day in range(2, 5):
        bk.daily_backup(store, keep=3, now=datetime(2026, 11, day, 9, 0))
    assert [p.name for p in bk.list_backups(store)] == [
        "spo-20261102-090000.db.zst",
        "spo-20261103-090000.db.zst",
        "spo-20261104-090000.db.zst",
    ]  # the old one was the oldest of the daily ones: rotated away
    old = bk.backup(store, folder / "spo-20261101-090000.db")
    assert bk.list_backups(store)[0] == old and bk.is_backup(old)
    db = open_db(store)
    db.execute("INSERT INTO meta(key, value) VALUES ('later', 'change')")
    db.close()
    bk.restore(store, old)
    assert snapshot(open_db(store)) == expected


KILLED_MID_COMPRESSION = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from spo_tui.store import backup as bk

    real = bk._write_all
    written = [0]

    def slow(fd, data):
        real(fd, data)
        written[0] += 1
        if written[0] == 2:  # some of the compressed backup is on disk
            print("compressing", flush=True)
            time.sleep(60)

    bk._write_all = slow
    bk.daily_backup(Path(sys.argv[1]))
    """
)


def test_a_backup_killed_while_compressing_leaves_no_half_backup(store, tmp_path):
    filler = open_db(store)
    with filler.atomic():
        filler.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)", [(f"filler-{n}", os.urandom(500).hex()) for n in range(4000)]
        )
    filler.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_COMPRESSION, str(store)],
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.strip() == "compressing", proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    folder = store.parent / "backups"
    assert bk.list_backups(store) == [] and any(".zst." in name for name in leftovers(store))
    made = bk.daily_backup(store)  # the next backup clears what the killed one left
    assert bk.list_backups(store) == [made] and bk.check_integrity(made).ok
    assert [p.name for p in folder.iterdir()] == [made.name]


#: A fortnight of daily backups of the team demo costs at most this share of 14 full copies (15% when
#: measured: each backup is about a seventh of the database; a PDU's, about a third).
FORTNIGHT_SHARE = 0.25


def test_a_fortnight_of_backups_of_the_team_demo_costs_far_less_than_14_copies(tmp_path):
    from spo_tui.demo import write_demo

    path = tmp_path / "demo.db"
    write_demo(path, seed=1, scale="team", today=NOW.date())
    for day in range(1, 15):
        db = open_db(path)
        with db.atomic():
            db.execute("INSERT INTO meta(key, value) VALUES (?, ?)", [f"day-{day}", "a day's work"])
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        bk.daily_backup(path, now=datetime(2026, 11, day, 9, 0))
    made = bk.list_backups(path)
    assert len(made) == 14
    full = path.stat().st_size
    share = sum(p.stat().st_size for p in made) / (14 * full)
    assert share < FORTNIGHT_SHARE, f"{share:.0%} of 14 copies of {full:,} bytes"


async def test_the_first_start_of_a_day_draws_in_the_day_befores_order_then_the_days(team_db, monkeypatch):
    """Scoring every item for the new day (0.3 s on a PDU, most of it the bank-holiday calendar) comes
    after the first paint: the queue is drawn in the stored order of the day before, then read again
    in the day's order once the start-up worker has scored it, the cursor kept on its item."""
    from datetime import timedelta

    from conftest import SPO

    from spo_tui.config import load_rules
    from spo_tui.services import queue
    from spo_tui.services.context import make_context
    from spo_tui.store import scoring

    path, _ids = team_db
    db = open_db(path)
    queue.update_scores(make_context(db, load_rules(), SPO, clock=lambda: NOW - timedelta(days=1)))
    db.close()
    monkeypatch.setattr(scoring, "RESCORE_BATCH", 1)  # a PDU's queue: more than one batch to score
    scored_in_query: list[bool] = []
    real_score_sql = scoring.score_sql
    monkeypatch.setattr(scoring, "score_sql", lambda *a, **k: scored_in_query.append(True) or real_score_sql(*a, **k))
    release = threading.Event()
    real_update = queue.update_scores

    def slow_update(ctx):
        release.wait(20)
        real_update(ctx)

    monkeypatch.setattr(queue, "update_scores", slow_update)
    app = SpoApp(path, clock=lambda: NOW, start_checks=True)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: queue_rows(app) > 0)
        assert app.ctx.provisional_order and scored_in_query == []  # drawn without scoring in the query
        table = app.screen.query_one("#queue")
        await pilot.press("down")
        await pilot.pause()
        held = app.screen.current.id
        release.set()
        assert await until(pilot, lambda: not app.ctx.provisional_order)
        await pilot.pause(0.2)
        assert app.screen.current.id == held  # the cursor stayed on its item
        shown = [entry.id for entry in app.screen.entries]
        assert table.row_count == len(shown)
        with app.thread_context() as ctx:
            assert scoring.scores_current(ctx.db, ctx.today, ctx.rules.urgency)
            assert shown == [entry.id for entry in queue.build_queue(ctx, limit=len(shown))]  # the day's order
