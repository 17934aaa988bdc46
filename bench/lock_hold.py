"""How long the first queue read after a big import holds the write lock, and what it does to writers.

Run from the repository root: ``python bench/lock_hold.py`` (``--cases 20000`` for a quicker run).
It builds a store under ``bench/results/lock/`` (ignored by git) with one SPO, one PO and
``--cases`` generated cases imported through the importer, as an office's first nDelius extract
would be. Then, for each scenario, on a fresh copy of that store, it runs ``spo-tui queue --json``
while, at the same time,

- a prober takes the write lock (``BEGIN IMMEDIATE``) over and over on a connection of its own that
  waits as long as it must, and records how long each wait took: the longest wait is (at least) the
  longest time anybody held the lock;
- another process runs ``spo-tui add task`` in a loop, as a CASPO's script would, and counts how many
  were refused as busy (each waits the app's usual 5 s before giving up).

Scenarios: ``same-day`` (the first queue read the day of the import: the rule-made work is made
and scored) and ``next-day`` (the import and a first read the day before, so this first read of a
new day scores every open item again and makes the work that fell due overnight).
It is not part of the tests; ``tests/test_refresh_batches.py`` checks the same on a small store.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spo_tui.config import load_rules  # noqa: E402
from spo_tui.services.context import make_context  # noqa: E402
from spo_tui.services.importer import import_file  # noqa: E402
from spo_tui.store.db import open_db  # noqa: E402

FOLDER = ROOT / "bench" / "results" / "lock"
TODAY = date(2026, 11, 23)


def build_store(cases: int, import_day: date, *, read_that_day: bool) -> Path:
    """A store with an SPO, a PO and ``cases`` cases imported on ``import_day`` (kept between runs);
    with ``read_that_day``, the queue was read that day too (its rule-made work made and scored)."""
    path = FOLDER / f"store-{cases}-{import_day.isoformat()}{'-read' if read_that_day else ''}.db"
    if path.exists():
        return path
    FOLDER.mkdir(parents=True, exist_ok=True)
    csv_path = FOLDER / f"cases-{cases}.csv"
    rosh = ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")
    with open(csv_path, "w", encoding="utf-8") as f:
        f.write("crn,name,practitioner,rosh,sentence_type,sentence_start,sentence_end,tier\n")
        for n in range(cases):
            # Starts spread over the last 18 months: some new enough for a first touch point, the
            # high-risk ones due their quarterly review, the licences their release visit.
            start = TODAY - timedelta(days=n % 540)
            kind = ("COMMUNITY_ORDER", "LICENCE", "SUSPENDED_SENTENCE_ORDER")[n % 3]
            f.write(
                f"B{n:06d},Person {n},Pat Officer,{rosh[n % 4]},{kind},{start:%d/%m/%Y},"
                f"{start + timedelta(days=730):%d/%m/%Y},C{n % 3}\n"
            )
    partial = path.with_name(path.name + ".part")
    partial.unlink(missing_ok=True)
    db = open_db(partial)
    db.execute(
        "INSERT INTO staff(id, name, role, created_at) VALUES ('s1', 'Sam Spo', 'SPO', 't'), ('s2', 'Pat Officer', 'PO', 't')"
    )
    db.conn.commit()
    moment = datetime.combine(import_day, clock_time(9, 0), UTC)
    ctx = make_context(db, load_rules(), clock=lambda: moment)
    start = time.perf_counter()
    report = import_file(ctx, "cases", csv_path)
    assert report.ok, report.render()
    print(f"imported {cases:,} cases in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    if read_that_day:
        from spo_tui.services.queue import build_queue
        from spo_tui.services.refresh import refresh_due_work

        refresh_due_work(ctx)
        build_queue(ctx, limit=10)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    partial.rename(path)
    return path


def fresh_copy(source: Path, name: str) -> Path:
    copy = FOLDER / name
    for p in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        p.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(copy)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    os.chmod(copy, 0o600)
    return copy


def run(db: Path, day: date) -> dict:
    env = {
        **os.environ,
        "SPO_TUI_TODAY": day.isoformat(),
        "PYTHONPATH": str(ROOT),
        "SPO_TUI_RULES": str(FOLDER / "none.toml"),
    }
    spo = [sys.executable, "-m", "spo_tui", "--db", str(db)]
    waits: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        conn = sqlite3.connect(db, timeout=600, isolation_level=None)
        while not stop.is_set():
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            waits.append(time.perf_counter() - start)
            conn.execute("ROLLBACK")
            time.sleep(0.005)
        conn.close()

    adds = {"ok": 0, "busy": 0, "other": 0, "longest_s": 0.0}

    def add_loop() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            done = subprocess.run(
                [*spo, "add", "task", "--title", "Fire door check", "--category", "buildings"],
                env=env,
                capture_output=True,
                text=True,
            )
            adds["longest_s"] = max(adds["longest_s"], time.perf_counter() - start)
            if done.returncode == 0:
                adds["ok"] += 1
            elif "busy" in done.stderr:
                adds["busy"] += 1
            else:
                adds["other"] += 1
                print(done.stderr.strip(), file=sys.stderr)

    threads = [threading.Thread(target=probe), threading.Thread(target=add_loop)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # the writers get going first
    start = time.perf_counter()
    queue = subprocess.run(
        [*spo, "queue", "--json"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    queue_s = time.perf_counter() - start
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    conn = sqlite3.connect(db)
    items = conn.execute("SELECT COUNT(*) FROM items WHERE rule_key IS NOT NULL").fetchone()[0]
    conn.close()
    return {
        "queue_s": round(queue_s, 2),
        "queue_exit": queue.returncode,
        "rule_made_items": items,
        "longest_lock_wait_s": round(max(waits), 3),
        "lock_probes": len(waits),
        "adds_ok": adds["ok"],
        "adds_busy": adds["busy"],
        "adds_other": adds["other"],
        "longest_add_s": round(adds["longest_s"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--scenarios", nargs="+", default=["same-day", "next-day"], choices=["same-day", "next-day"])
    args = parser.parse_args()
    FOLDER.mkdir(parents=True, exist_ok=True)
    results = {}
    for scenario in args.scenarios:
        import_day = TODAY if scenario == "same-day" else TODAY - timedelta(days=1)
        store = build_store(args.cases, import_day, read_that_day=scenario == "next-day")
        db = fresh_copy(store, f"work-{scenario}.db")
        results[scenario] = run(db, TODAY)
        print(scenario, json.dumps(results[scenario]))
    out = FOLDER / f"lock-{args.cases}-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"cases": args.cases, "results": results}, indent=2))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
