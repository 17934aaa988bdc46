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
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.app import App  # noqa: E402
from textual.widgets import DataTable, Footer, Header  # noqa: E402

from spo_tui.app import SpoApp  # noqa: E402
from spo_tui.config import load_rules  # noqa: E402
from spo_tui.demo import write_demo  # noqa: E402
from spo_tui.services.context import make_context  # noqa: E402
from spo_tui.services.importer import import_file  # noqa: E402
from spo_tui.services.queue import build_queue  # noqa: E402
from spo_tui.store.db import open_db  # noqa: E402
from spo_tui.store.queries import QUEUE_SQL  # noqa: E402

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


async def _startup(make_app, ready) -> float:
    start = time.perf_counter()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        while not ready(app):
            await pilot.pause(0)
        return time.perf_counter() - start


def _today_ready(app) -> bool:
    screen = app.screen
    return type(screen).__name__ == "TodayScreen" and screen.is_mounted and screen.query_one("#queue").row_count > 0


async def measure_startup(db: Path, runs: int) -> dict:
    ours = [await _startup(lambda: SpoApp(db, clock=clock), _today_ready) for _ in range(runs)]
    empty = [await _startup(EmptyApp, lambda app: app.query(DataTable) and app.query_one(DataTable).is_mounted) for _ in range(runs)]
    return {"ours_s": statistics.median(ours), "empty_s": statistics.median(empty),
            "ratio": statistics.median(ours) / statistics.median(empty)}  # fmt: skip


async def _press_times(pilot, keys: list[str], repeat: int, measure: int = -1) -> list[float]:
    """Press ``keys`` ``repeat`` times; time the key at index ``measure`` (press to settled screen)."""
    times = []
    for _ in range(repeat):
        for i, key in enumerate(keys):
            start = time.perf_counter()
            await pilot.press(key)
            if i == (measure % len(keys)):
                times.append(time.perf_counter() - start)
    return times


async def measure_keys(db: Path, presses: int) -> dict:
    """Keypress to updated screen, net of the test harness's own cost per press (measured on the
    empty app pressing a key that does nothing)."""
    async with EmptyApp().run_test(size=SIZE) as pilot:
        baseline = statistics.median(await _press_times(pilot, ["x"], presses))
    work = tmp_copy(db)
    app = SpoApp(work, clock=clock)
    out = {}
    async with app.run_test(size=SIZE) as pilot:
        while not _today_ready(app):
            await pilot.pause(0)
        cases = {
            "cursor down": (["down"], presses, 0),
            "change filter": (["3", "0"], presses // 4, 0),
            "search (type a letter)": (["slash", "a", "escape"], presses // 4, 1),
            "open a case": (["c", "escape"], presses // 4, 0),
            "snooze a task (enter)": (["5", "z", "t", "o", "m", "o", "r", "r", "o", "w", "enter"], presses // 10, -1),
        }
        for name, (keys, repeat, index) in cases.items():
            times = await _press_times(pilot, keys, max(repeat, 5), index)
            out[name] = {"p50_ms": (pct(times, 0.5) - baseline) * 1000, "p95_ms": (pct(times, 0.95) - baseline) * 1000,
                         "raw_p95_ms": pct(times, 0.95) * 1000, "n": len(times)}  # fmt: skip
    out["harness_baseline_ms"] = baseline * 1000
    return out


def measure_queue(db: Path, runs: int) -> dict:
    conn = open_db(db)
    ctx = make_context(conn, load_rules(), clock=clock)
    params = [TODAY.isoformat(), ctx.decider["id"]]

    def bare():
        return conn.execute(QUEUE_SQL, params).fetchall()

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
        subprocess.run([sys.executable, "-m", "spo_tui", "--db", str(db), "queue", "--json"], env=env, check=True,
                       stdout=subprocess.DEVNULL, cwd=ROOT)  # fmt: skip
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
            f.write(f"B{n:06d},Person {n},Pat Officer,{('LOW', 'MEDIUM', 'HIGH')[n % 3]},COMMUNITY_ORDER,"
                    f"{1 + n % 28:02d}/0{1 + n % 9}/2026,2027-12-31,C{n % 3},MEDIUM\n")  # fmt: skip
    db = open_db(folder / "ours.db")
    db.execute("INSERT INTO staff(id, name, role, created_at) VALUES ('s1', 'Sam Spo', 'SPO', 't'), ('s2', 'Pat Officer', 'PO', 't')")
    ctx = make_context(db, load_rules(), clock=clock)
    start = time.perf_counter()
    report = import_file(ctx, "cases", csv_path)
    ours = time.perf_counter() - start
    assert report.ok, report.render()
    sqlite_utils_cli = Path(sys.executable).with_name("sqlite-utils")
    start = time.perf_counter()
    subprocess.run([str(sqlite_utils_cli), "insert", str(folder / "plain.db"), "cases", str(csv_path), "--csv"], check=True)
    plain = time.perf_counter() - start
    return {"rows": rows, "ours_s": ours, "sqlite_utils_insert_csv_s": plain, "ratio": ours / plain}


def measure_memory(db: Path) -> dict:
    """Peak resident memory of a child process that starts the TUI headless and walks the queue."""
    script = (
        "import asyncio, resource, sys; sys.path.insert(0, %r)\n"
        "from datetime import UTC, datetime\nfrom spo_tui.app import SpoApp\n"
        "async def main():\n"
        "    app = SpoApp(%r, clock=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        await pilot.pause(0.5)\n"
        "        for _ in range(50): await pilot.press('down')\n"
        "        await pilot.press('c'); await pilot.pause(); await pilot.press('escape')\n"
        "asyncio.run(main())\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    ) % (str(ROOT), str(tmp_copy(db)))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return {"tui_peak_rss_mb": int(out.stdout.strip().splitlines()[-1]) / 1024}


def tmp_copy(db: Path) -> Path:
    copy = db.with_name(db.stem + "-work.db")
    shutil.copy(db, copy)
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
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ["SPO_TUI_RULES"] = str(RESULTS / "none.toml")
    results: dict = {"date": datetime.now().isoformat(timespec="seconds"), "machine": f"{platform.node()} "
                     f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}", "scales": {}}  # fmt: skip
    for scale in args.scales:
        db = demo_db(scale)
        results["scales"][scale] = {
            "startup": asyncio.run(measure_startup(db, 5)),
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
        print(f"  start-up to painted Today     {st['ours_s'] * 1000:8.0f} ms   empty app {st['empty_s'] * 1000:.0f} ms   ratio {st['ratio']:.2f}")
        for name, k in s["keys"].items():
            if name != "harness_baseline_ms":
                print(f"  key: {name:<24} p50 {k['p50_ms']:6.1f} ms  p95 {k['p95_ms']:6.1f} ms  (n={k['n']})")
        print(f"  (harness cost per press, subtracted: {s['keys']['harness_baseline_ms']:.1f} ms)")
        q = s["queue"]
        print(f"  queue ({q['rows']} rows)            {q['queue_ms']:8.1f} ms   bare SQL {q['bare_sql_ms']:.1f} ms   ratio {q['ratio']:.2f}")
        print(f"  spo-tui queue --json          {s['queue_command']['median_s'] * 1000:8.0f} ms")
        print(f"  peak memory (TUI)             {s['memory']['tui_peak_rss_mb']:8.0f} MB")
    i = r["import"]
    print(f"\nimport {i['rows']} cases               {i['ours_s']:8.2f} s    sqlite-utils insert --csv {i['sqlite_utils_insert_csv_s']:.2f} s   ratio {i['ratio']:.2f}")


if __name__ == "__main__":
    main()
