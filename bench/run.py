"""The benchmark: start-up, keypresses, queue computation, the queue command, import, memory.

Run from the repository root with ``python bench/run.py`` (``--scales team`` for a quick run).
It builds the demo databases it needs under ``bench/results/`` (ignored by git), prints a table and
writes ``bench/results/bench-<date>.json`` so runs can be compared over time. It is not part of the
test suite: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual.app import App  # noqa: E402
from textual.keys import REPLACED_KEYS, _get_unicode_name_from_key  # noqa: E402
from textual.widgets import DataTable, Footer, Header  # noqa: E402

from spo_tui.app import SpoApp  # noqa: E402
from spo_tui.config import load_rules  # noqa: E402
from spo_tui.demo import write_demo  # noqa: E402
from spo_tui.services.context import make_context  # noqa: E402
from spo_tui.services.importer import import_file  # noqa: E402
from spo_tui.services.queue import build_queue, update_scores  # noqa: E402
from spo_tui.store.db import open_db  # noqa: E402
from spo_tui.store.queries import QUEUE_SQL  # noqa: E402
from spo_tui.store.queue_queries import IN_TEAM  # noqa: E402

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RESULTS = ROOT / "bench" / "results"
SIZE = (120, 40)


def clock():
    return NOW


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class EmptyApp(App):
    """The reference: a Header, a DataTable and a Footer, started the same way."""

    def compose(self):
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("Kind", "Due", "RoSH", "CRN", "Title", "Name", "PP")


class Frames:
    """Records when the app renders a frame, by wrapping ``App._display`` (the compositor has
    rendered the update when it is called; headless, nothing is written to a terminal). With
    ``ready``, also the first frame drawn while ``ready(app)`` holds."""

    def __init__(self, app: App, ready=None) -> None:
        self.times: list[tuple[float, object]] = []
        self.first_ready: float | None = None
        self.painted = asyncio.Event()
        display = app._display

        def recording_display(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.times.append((time.perf_counter(), screen))
                if ready is not None and self.first_ready is None and ready(app):
                    self.first_ready = self.times[-1][0]
                self.painted.set()

        app._display = recording_display

    def after(self, start: float) -> list[float]:
        return [t for t, _screen in self.times if t >= start]


async def _startup(make_app, ready) -> float:
    """Seconds from making the app to the first frame drawn with ``ready(app)`` true."""
    start = time.perf_counter()
    app = make_app()
    frames = Frames(app, ready)
    async with app.run_test(size=SIZE):
        while frames.first_ready is None:
            frames.painted.clear()
            await frames.painted.wait()
    return frames.first_ready - start


def _today_ready(app) -> bool:
    screen = app.screen
    return type(screen).__name__ == "TodayScreen" and screen.is_mounted and screen.query_one("#queue").row_count > 0


async def measure_startup(db: Path, runs: int) -> dict:
    await _startup(lambda: SpoApp(db, clock=clock), _today_ready)  # the day's first start
    update_scores(make_context(open_db(db), load_rules(), clock=clock))  # what its background worker does next
    ours = [await _startup(lambda: SpoApp(db, clock=clock), _today_ready) for _ in range(runs)]
    empty = [
        await _startup(EmptyApp, lambda app: app.query(DataTable) and app.query_one(DataTable).is_mounted)
        for _ in range(runs)
    ]
    return {
        "ours_s": statistics.median(ours),
        "empty_s": statistics.median(empty),
        "ratio": statistics.median(ours) / statistics.median(empty),
    }


def _busy(app) -> bool:
    """True while any message is queued for the app or the screen's widgets, or a repaint is due."""
    screen = app.screen
    nodes = [app, *screen.walk_children(with_self=True)]
    if any(node._message_queue.qsize() for node in nodes):
        return True
    return bool(screen._layout_required or screen._scroll_required or screen._repaint_required or screen._dirty_widgets)


async def _settle(app, pilot) -> None:
    for _ in range(1000):
        await pilot._wait_for_screen()
        if not _busy(app):
            return
        await asyncio.sleep(0.001)


async def _press(app, pilot, frames: Frames, key: str) -> tuple[float, float]:
    """Send ``key`` as a terminal would and return (seconds to the first frame showing its effect,
    seconds to the last frame before the screen is idle again, work deferred by timers included)."""
    try:  # as Pilot.press makes the event, without its waits for the process to look idle
        char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = key if len(key) == 1 else None
    start = time.perf_counter()
    app._driver.send_message(events.Key(key, char))
    await _settle(app, pilot)
    settled = time.perf_counter()
    await asyncio.sleep(DEFERRED)  # the detail pane follows a resting cursor after a short delay
    await _settle(app, pilot)
    painted = frames.after(start)
    if not painted:
        return settled - start, settled - start
    return painted[0] - start, painted[-1] - start


#: Seconds to wait after a key for work it deferred (debounced repaints) before the next key.
DEFERRED = 0.15


async def _press_times(
    app, pilot, frames, keys: list[str], repeat: int, measure: int = -1
) -> list[tuple[float, float]]:
    """Press ``keys`` ``repeat`` times; time the key at index ``measure``."""
    times = []
    for _ in range(repeat):
        for i, key in enumerate(keys):
            timed = await _press(app, pilot, frames, key)
            if i == (measure % len(keys)):
                times.append(timed)
    return times


async def measure_keys(db: Path, presses: int) -> dict:
    """Keypress to updated screen: from the key event to the frame that shows its effect, and to
    the last frame before the app is idle again (p50 and p95)."""
    work = tmp_copy(db)
    app = SpoApp(work, clock=clock)
    frames = Frames(app)
    out = {}
    async with app.run_test(size=SIZE) as pilot:
        while not _today_ready(app):
            await pilot.pause(0)
        await pilot.pause(SpoApp.VERIFY_AFTER + 0.5)  # let start-up's background checks finish first
        await app.workers.wait_for_complete()
        cases = {
            "cursor down": (["down"], presses, 0),
            "change filter": (["3", "0"], presses // 4, 0),
            "search (type a letter)": (["slash", "a", "escape"], presses // 4, 1),
            "open a case": (["c", "escape"], presses // 4, 0),
            "open help": (["question_mark", "escape"], presses // 4, 0),
            "snooze a task (enter)": (["5", "z", "t", "o", "m", "o", "r", "r", "o", "w", "enter"], presses // 10, -1),
        }
        for name, (keys, repeat, index) in cases.items():
            times = await _press_times(app, pilot, frames, keys, max(repeat, 5), index)
            first = [t[0] for t in times]
            last = [t[1] for t in times]
            out[name] = {
                "p50_ms": pct(first, 0.5) * 1000,
                "p95_ms": pct(first, 0.95) * 1000,
                "settled_p50_ms": pct(last, 0.5) * 1000,
                "settled_p95_ms": pct(last, 0.95) * 1000,
                "n": len(times),
            }
    return out


def measure_queue(db: Path, runs: int) -> dict:
    conn = open_db(db)
    ctx = make_context(conn, load_rules(), clock=clock)
    # The SPO's queue is their own team's (the demos have a court team beside it): the bare SQL too.
    params = {"today": TODAY.isoformat(), "owner": ctx.decider["id"], "team": ctx.team}

    def bare():
        return conn.execute(f"{QUEUE_SQL} AND {IN_TEAM}", params).fetchall()

    def ours():
        return build_queue(ctx)

    assert len(bare()) == len(ours())
    t_bare = min(_time(bare) for _ in range(runs))
    t_ours = min(_time(ours) for _ in range(runs))
    return {"rows": len(bare()), "queue_ms": t_ours * 1000, "bare_sql_ms": t_bare * 1000, "ratio": t_ours / t_bare}


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure_queue_command(db: Path, runs: int) -> dict:
    env = {**os.environ, "SPO_TUI_TODAY": TODAY.isoformat(), "SPO_TUI_RULES": str(RESULTS / "none.toml")}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "spo_tui", "--db", str(db), "queue", "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - start)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"median_s": statistics.median(times), "children_peak_rss_mb": usage.ru_maxrss / 1024}


def measure_import(rows: int) -> dict:
    folder = RESULTS / "import"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    csv_path = folder / "cases.csv"
    with open(csv_path, "w", encoding="utf-8") as f:
        f.write("crn,name,practitioner,rosh,sentence_type,sentence_start,sentence_end,tier,likelihood_of_reoffending\n")
        for n in range(rows):
            f.write(
                f"B{n:06d},Person {n},Pat Officer,{('LOW', 'MEDIUM', 'HIGH')[n % 3]},COMMUNITY_ORDER,"
                f"{1 + n % 28:02d}/0{1 + n % 9}/2026,2027-12-31,C{n % 3},MEDIUM\n"
            )
    db = open_db(folder / "ours.db")
    db.execute(
        "INSERT INTO staff(id, name, role, created_at) VALUES ('s1', 'Sam Spo', 'SPO', 't'), ('s2', 'Pat Officer', 'PO', 't')"
    )
    ctx = make_context(db, load_rules(), clock=clock)
    start = time.perf_counter()
    report = import_file(ctx, "cases", csv_path)
    ours = time.perf_counter() - start
    assert report.ok, report.render()
    sqlite_utils_cli = Path(sys.executable).with_name("sqlite-utils")
    start = time.perf_counter()
    subprocess.run(
        [str(sqlite_utils_cli), "insert", str(folder / "plain.db"), "cases", str(csv_path), "--csv"], check=True
    )
    plain = time.perf_counter() - start
    return {"rows": rows, "ours_s": ours, "sqlite_utils_insert_csv_s": plain, "ratio": ours / plain}


def measure_memory(db: Path) -> dict:
    """Peak resident memory of a child process that starts the TUI headless and walks the queue.

    On Linux it reads the process's own high-water mark (VmHWM): ``ru_maxrss`` survives ``exec``
    and would report this (large) benchmark process's size at the fork instead.
    """
    script = (
        f"import asyncio, resource, sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from datetime import UTC, datetime\nfrom spo_tui.app import SpoApp\n"
        "async def main():\n"
        f"    app = SpoApp({str(tmp_copy(db))!r}, clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        await pilot.pause(0.5)\n"
        "        for _ in range(50): await pilot.press('down')\n"
        "        await pilot.press('c'); await pilot.pause(); await pilot.press('escape')\n"
        "        await pilot.pause(SpoApp.VERIFY_AFTER + 0.5); await app.workers.wait_for_complete()\n"
        "asyncio.run(main())\n"
        "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0] if sys.platform == 'linux'\n"
        "      else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return {"tui_peak_rss_mb": int(out.stdout.strip().splitlines()[-1]) / 1024}


def tmp_copy(db: Path) -> Path:
    """A fresh copy of ``db`` to change, made with SQLite's backup (the source's WAL included)."""
    copy = db.with_name(db.stem + "-work.db")
    for path in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        path.unlink(missing_ok=True)
    source, target = sqlite3.connect(db), sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return copy


def demo_db(scale: str) -> Path:
    path = RESULTS / f"demo-{scale}.db"
    if not path.exists():
        print(f"building the {scale} demo …", file=sys.stderr)
        write_demo(path, seed=1, scale=scale, today=TODAY)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["team", "pdu"], choices=["team", "pdu"])
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument(
        "--no-terminal", action="store_true", help="leave out the real-terminal table (bench/terminal.py; needs tmux)"
    )
    parser.add_argument("--terminal-runs", type=int, default=5, help="starts of each kind in the real-terminal table")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ["SPO_TUI_RULES"] = str(RESULTS / "none.toml")
    results: dict = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "scales": {},
    }
    terminal_tables = {}
    if not args.no_terminal:
        import terminal

        for scale in args.scales:
            terminal_tables[scale] = terminal.measure(demo_db(scale), TODAY.isoformat(), args.terminal_runs)
            terminal.print_table(scale, terminal_tables[scale])
        results["terminal"] = terminal_tables
    for scale in args.scales:
        db = demo_db(scale)
        results["scales"][scale] = {
            "startup": asyncio.run(measure_startup(db, 9)),
            "keys": asyncio.run(measure_keys(db, args.presses)),
            "queue": measure_queue(db, 5),
            "queue_command": measure_queue_command(db, 3),
            "memory": measure_memory(db),
        }
    results["import"] = measure_import(args.import_rows)
    out = RESULTS / f"bench-{date.today().isoformat()}.json"
    out.write_text(json.dumps(results, indent=2))
    print_table(results)
    print(f"\nwritten to {out.relative_to(ROOT)}")


def print_table(r: dict) -> None:
    print(f"spo-tui benchmark, {r['date']}, {r['machine']}")
    for scale, s in r["scales"].items():
        print(f"\n[{scale}]")
        st = s["startup"]
        print(
            f"  start-up to painted Today     {st['ours_s'] * 1000:8.0f} ms   empty app {st['empty_s'] * 1000:.0f} ms   ratio {st['ratio']:.2f}"
        )
        print("  keys (to first frame; to settled screen)")
        for name, k in s["keys"].items():
            print(
                f"  key: {name:<24} p50 {k['p50_ms']:6.1f} ms  p95 {k['p95_ms']:6.1f} ms;"
                f"  settled p50 {k['settled_p50_ms']:6.1f}  p95 {k['settled_p95_ms']:6.1f} ms  (n={k['n']})"
            )
        q = s["queue"]
        print(
            f"  queue ({q['rows']} rows)            {q['queue_ms']:8.1f} ms   bare SQL {q['bare_sql_ms']:.1f} ms   ratio {q['ratio']:.2f}"
        )
        print(f"  spo-tui queue --json          {s['queue_command']['median_s'] * 1000:8.0f} ms")
        print(f"  peak memory (TUI)             {s['memory']['tui_peak_rss_mb']:8.0f} MB")
    i = r["import"]
    print(
        f"\nimport {i['rows']} cases               {i['ours_s']:8.2f} s    sqlite-utils insert --csv {i['sqlite_utils_insert_csv_s']:.2f} s   ratio {i['ratio']:.2f}"
    )


if __name__ == "__main__":
    main()
