"""What the tamper-evident record costs: one save (an oversight entry with two agreed actions) and
``spo-tui verify`` on a demo database. Not part of the tests.

    python bench/record.py --db /tmp/record-pdu.db [--saves 200]

Saves go into a copy of the database (the original is left alone); verify runs on the original as a
real subprocess, three times, and the median is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spo_tui.config import load_rules  # noqa: E402
from spo_tui.services import decisions  # noqa: E402
from spo_tui.services.context import make_context  # noqa: E402
from spo_tui.store.db import open_db  # noqa: E402


def time_saves(path: Path, saves: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.db"
        shutil.copyfile(path, copy)
        db = open_db(copy)
        now = datetime.now(UTC)
        ctx = make_context(db, load_rules(), clock=lambda: now)
        crns = [r[0] for r in db.execute("SELECT crn FROM cases LIMIT ?", [saves])]
        owner = db.execute("SELECT name FROM staff WHERE role = 'PO' LIMIT 1").fetchone()[0]
        actions = [
            decisions.AgreedAction("Home visit within 5 working days", owner),
            decisions.AgreedAction("Review the risk management plan", owner),
        ]
        took, cpu = [], []
        for n in range(saves):
            start, start_cpu = time.perf_counter(), time.process_time()
            decisions.record_oversight(
                ctx,
                crn=crns[n % len(crns)],
                outcome="agreed",
                discussed=f"Bench {n}",
                decision="Carry on with the plan",
                actions=actions,
            )
            took.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        db.close()
    return took, cpu


def time_verify(path: Path) -> list[float]:
    took = []
    for _ in range(3):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "spo_tui", "--db", str(path), "verify"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        took.append(time.perf_counter() - start)
        print(f"  verify exit {done.returncode}: {(done.stdout or done.stderr).splitlines()[0]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--no-verify", action="store_true", help="time the saves only")
    args = parser.parse_args()
    saves, cpu = time_saves(args.db, args.saves)
    q = statistics.quantiles(saves, n=20)
    print(
        f"one save (oversight entry + 2 actions): median {statistics.median(saves):.2f} ms, p95 {q[-1]:.2f} ms, "
        f"CPU median {statistics.median(cpu):.2f} ms, over {len(saves)}"
    )
    if not args.no_verify:
        took = time_verify(args.db)
        print(f"verify: median {statistics.median(took):.2f} s ({', '.join(f'{t:.2f}' for t in took)})")


if __name__ == "__main__":
    main()
