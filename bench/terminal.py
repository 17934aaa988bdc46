"""Speed as a person feels it: the whole process, in a real terminal (tmux), against an empty app.

Each measurement starts when tmux is told to press a key (Enter on the typed command, for a start)
and stops when the terminal shows the effect: ``tmux capture-pane -e`` (text *and* colours, so a
moved highlight counts) differs from the screen before, or, for a start, shows the queue's first
row. The floor is an empty Textual app (Header, a DataTable of as many rows, Footer) started and
driven the same way in the same run: the ratios are what to read, not the milliseconds, on a
shared, noisy machine. Polling costs a few milliseconds (one ``capture-pane`` process each), the
same for both apps.

The first start of a day is made by taking away today's backup and the day's rescoring mark before
the start (as a new day would find them). Nothing here touches the user's own files: every store,
backup and setting lives in a temporary folder, and the tmux server has its own socket.

Run with ``python bench/run.py`` (this table first) or on its own: ``python bench/terminal.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOCKET = f"spo-bench-{os.getpid()}"
COLS, ROWS = 120, 40
CRN = re.compile(r"\b[A-Z]\d{6}\b")
#: The targets of issue 15, as ratios to the empty app's (start, or cursor down for keys).
TARGETS = {
    "start (a later start)": 1.6,
    "start (first start of a day)": 1.6,
    "cursor down": 2.5,
    "change filter": 2.5,
    "open a case": 2.5,
    "open the item's form (Enter)": 2.5,
    "open help": 2.5,
    "one letter of search": 2.5,
}

#: The empty app's table holds as many rows as there are open items, up to as many as spo-tui reads
#: for its first screen (``TodayScreen.PAGE``): a DataTable given a PDU's 15,000 rows lays every one
#: out before its first frame (3.5 s; 1.1 s for 1,000), which is no floor at all.
EMPTY_ROWS_AT_MOST = 100

EMPTY_APP = """
import sys
from textual.app import App
from textual.widgets import DataTable, Footer, Header

class Empty(App):
    def compose(self):
        yield Header()
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("Score", "Kind", "CRN", "Due", "Title")
        table.add_rows([(str(n), "SBAR", f"X{n:06d}", "today", "A row of the empty app") for n in range(int(sys.argv[1]))])
        table.focus()

Empty().run()
"""


def tmux(*args: str, check: bool = True) -> str:
    done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=check)
    return done.stdout


@dataclass
class Pane:
    """One tmux session running a bare shell, in which a command is typed and timed."""

    env: dict[str, str]
    name: str = "bench"
    _count: int = field(default=0)

    def __post_init__(self) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        tmux(
            "new-session", "-d", "-s", self.name, "-x", str(COLS), "-y", str(ROWS),
            f"env -i {exports} bash --norc --noprofile",
        )  # fmt: skip
        tmux("set-option", "-t", self.name, "status", "off")
        self.wait_until(lambda s: "$" in s or "#" in s, 5)

    def screen(self, colours: bool = False) -> str:
        return tmux("capture-pane", "-p", "-t", self.name, *(["-e"] if colours else []))

    def keys(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        tmux("send-keys", "-t", self.name, "-l", text)

    def wait_until(self, done: Callable[[str], bool], timeout: float, colours: bool = False) -> float:
        """Seconds until ``done(screen)``; raises TimeoutError after ``timeout``."""
        start = time.perf_counter()
        while True:
            if done(self.screen(colours)):
                return time.perf_counter() - start
            if time.perf_counter() - start > timeout:
                raise TimeoutError(self.screen()[-2000:])

    def settle(self, quiet: float = 0.25, timeout: float = 20) -> None:
        """Wait until the screen has not changed for ``quiet`` seconds."""
        last, since, start = self.screen(True), time.perf_counter(), time.perf_counter()
        while time.perf_counter() - since < quiet:
            time.sleep(0.02)
            now = self.screen(True)
            if now != last:
                last, since = now, time.perf_counter()
            if time.perf_counter() - start > timeout:
                return

    def press(self, *keys: str, timeout: float = 10) -> float:
        """Seconds from sending ``keys`` to the terminal showing any change."""
        before = self.screen(True)
        start = time.perf_counter()
        self.keys(*keys)
        while self.screen(True) == before:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"no change after {keys}")
        return time.perf_counter() - start

    def start(self, command: str, ready: Callable[[str], bool], timeout: float = 60) -> float:
        """Seconds from Enter on ``command`` to ``ready(screen)``."""
        self.type(command)
        time.sleep(0.05)
        start = time.perf_counter()
        self.keys("Enter")
        while not ready(self.screen()):
            if time.perf_counter() - start > timeout:
                raise TimeoutError(self.screen()[-2000:])
        return time.perf_counter() - start

    def quit(self, keys: tuple[str, ...] = ("q",)) -> None:
        for _ in range(20):
            self.keys(*keys)
            try:
                self.wait_until(lambda s: s.rstrip().endswith(("$", "#")), 1.0)
                return
            except TimeoutError:
                self.keys("Escape")
        self.keys("C-c")

    def close(self) -> None:
        tmux("kill-session", "-t", self.name, check=False)


def queue_shown(screen: str) -> bool:
    """The Today screen's table holds its first rows (a CRN on a line after the header)."""
    lines = screen.splitlines()
    return len(lines) > 6 and any(CRN.search(line) for line in lines[3:12])


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def _env(home: Path, today: str) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "SPO_TUI_RULES": str(home / "none.toml"),
        "SPO_TUI_TODAY": today,
        "PYTHONPATH": str(ROOT),
        "PS1": "$ ",
    }


def new_day(db: Path) -> None:
    """What the first start of a day finds: no backup from today, the day's rescoring not yet done."""
    backups = db.parent / "backups"
    if backups.exists():
        shutil.rmtree(backups)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'urgency_rescore'")


def measure(db: Path, today: str, runs: int = 5, presses: int = 15) -> dict[str, dict[str, float]]:
    """The table's rows for one store: medians (ms) for spo-tui and the empty app, and ratios."""
    home = Path(tempfile.mkdtemp(prefix="spo-bench-home-"))
    work = home / "store"
    work.mkdir()
    store = work / "spo.db"
    shutil.copy(db, store)
    open_items = sqlite3.connect(db).execute("SELECT COUNT(*) FROM items WHERE status = 'open'").fetchone()[0]
    rows = min(open_items, EMPTY_ROWS_AT_MOST)
    (home / "empty_app.py").write_text(EMPTY_APP)
    pane = Pane(_env(home, today))
    spo = f"python -m spo_tui --db {shlex.quote(str(store))}"
    empty = f"python {shlex.quote(str(home / 'empty_app.py'))} {rows}"
    times: dict[str, list[float]] = {name: [] for name in TARGETS}
    floor: dict[str, list[float]] = {"start": [], "cursor down": []}
    try:
        # One start first, unmeasured: the store links this login, the files are in the page cache.
        pane.start(spo, queue_shown)
        pane.settle(1.0)
        _wait_for_scores(store, today)
        pane.quit()
        for _ in range(runs):
            floor["start"].append(pane.start(empty, queue_shown))
            pane.settle()
            floor["cursor down"] += [_timed(pane, "Down") for _ in range(presses)]
            pane.quit(("C-q",))
            new_day(store)
            times["start (first start of a day)"].append(pane.start(spo, queue_shown))
            pane.settle(1.0)
            _wait_for_scores(store, today)  # as a person at work would: the day's scoring ends meanwhile
            pane.quit()
            _wait_for_daily_backup(store)  # its process would otherwise share the CPUs with the next start
            times["start (a later start)"].append(pane.start(spo, queue_shown))
            pane.settle(1.0)
            for n in range(presses):
                times["cursor down"].append(_timed(pane, "Down"))
                times["change filter"].append(_timed(pane, "2" if n % 2 == 0 else "0"))
                times["open a case"].append(_timed(pane, "c"))
                _untimed(pane, "Escape")
                times["open the item's form (Enter)"].append(_timed(pane, "Enter"))
                _untimed(pane, "Escape")
                times["open help"].append(_timed(pane, "?"))
                _untimed(pane, "Escape")
                _untimed(pane, "/")
                times["one letter of search"].append(_timed(pane, "a"))
                _untimed(pane, "Escape")
                _untimed(pane, "Escape")
            pane.quit()
    finally:
        pane.close()
        shutil.rmtree(home, ignore_errors=True)
    result = {}
    for name, values in times.items():
        base = floor["start"] if name.startswith("start") else floor["cursor down"]
        ours, empty_ms = median_ms(values), median_ms(base)
        result[name] = {
            "ms": ours,
            "empty_ms": empty_ms,
            "ratio": ours / empty_ms,
            "target": TARGETS[name],
            "n": len(values),
        }
    return result


def _wait_for_scores(store: Path, today: str, timeout: float = 120) -> None:
    """Wait until the app has stored every open item's score for ``today`` (its background worker
    scores the day after the first paint; a start after that reads the stored order by the index)."""
    from spo_tui.store.scoring import BASIS_KEY, RESCORE_KEY

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)) as conn:
            meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", [BASIS_KEY, RESCORE_KEY]))
            unscored = conn.execute(
                "SELECT 1 FROM items WHERE urgency IS NULL AND status <> 'closed' LIMIT 1"
            ).fetchone()
        if RESCORE_KEY not in meta and f'"day": "{today}"' in meta.get(BASIS_KEY, "") and unscored is None:
            return
        time.sleep(0.2)


def _wait_for_daily_backup(store: Path, timeout: float = 120) -> None:
    """Wait until the day's backup process (started after a first start's paint) has ended."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        running = subprocess.run(["pgrep", "-f", f"{store} backup --daily"], capture_output=True).returncode == 0
        if not running:
            return
        time.sleep(0.1)


def _timed(pane: Pane, key: str) -> float:
    seconds = pane.press(key)
    pane.settle(0.15)
    return seconds


def _untimed(pane: Pane, key: str) -> None:
    pane.keys(key)
    pane.settle(0.15)


def print_table(scale: str, result: dict[str, dict[str, float]]) -> None:
    print(f"\n[{scale}] a real terminal (tmux {COLS}x{ROWS}), whole process, medians")
    print("| what | spo-tui | empty app | ratio | target | meets |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, r in result.items():
        floor = "(start)" if name.startswith("start") else "(cursor down)"
        meets = "yes" if r["ratio"] <= r["target"] else "NO"
        print(
            f"| {name} | {r['ms']:.0f} ms | {r['empty_ms']:.0f} ms {floor} | {r['ratio']:.1f}× | ≤ {r['target']}× | {meets} |"
        )


def main() -> None:
    import argparse

    sys.path.insert(0, str(ROOT / "bench"))
    from run import TODAY, demo_db

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["team", "pdu"], choices=["team", "pdu"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--presses", type=int, default=15)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("tmux is needed for the real-terminal benchmark (apt install tmux)")
    for scale in args.scales:
        print_table(scale, measure(demo_db(scale), TODAY.isoformat(), args.runs, args.presses))


if __name__ == "__main__":
    main()
