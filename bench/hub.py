"""The hub benchmark: a simulated PDU exchanging changes through a real PostgreSQL hub.

Run from the repository root with ``python bench/hub.py`` (about a quarter of an hour at full size;
``--small`` for a smoke check in under a minute). It starts its own PostgreSQL cluster in a
temporary folder, makes a hub, adds the people, builds the demo store the first device uploads,
measures, prints a Markdown table and the method, and removes everything it made. It writes nothing
into the repository (``--json PATH`` writes the numbers where you say).

The simulated PDU (full size): the PDU demo (``spo-tui demo --scale pdu``: 10 teams, 5,000 cases,
about 150,000 oversight entries) is the PDU head's store; the PDU head's device connects first and
uploads it (the baseline). Then every team's SPO and CASPO and some practitioners connect a new,
empty store from a device of their own (each device a home of its own: its own key), bringing down
their team's share; each practitioner's device then pushes a few changes of its own. Two more new
devices of the PDU head bring down everything. 50 devices in all.

Measured: each first sync (a team's share; everything), push and pull throughput (the baseline;
1,000 snoozes and 1,000 oversight entries made through the services on the SPO's laptop, sent in one sync and
taken in by the CASPO's desktop and the PDU head's), a sync with nothing to do (in this process and
as a whole ``spo-tui sync`` process), the hub's size and the local stores' sizes. And that a store
that is not connected is as fast as before the hub existed (``--embedded``): the start-up, queue and
decision timings of ``bench/run.py`` at commit 8264d56 (main before issue 14) and at this tree, in
alternating child processes on the same machine, as ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import pg_cluster  # noqa: E402

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
#: main just before issue 14's first commit: the embedded baseline.
BEFORE_HUB = "8264d56"
_ENV_KEYS = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "SPO_TUI_DB")


def clock() -> datetime:
    return NOW


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


# --- timing where the time goes ------------------------------------------------------------------


class Phases:
    """Seconds spent inside chosen functions of the sync engine, by name, while ``active``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextlib.contextmanager
    def active(self) -> Iterator[Phases]:
        from spo_tui.services import sync
        from spo_tui.store import changes, hub_client, writes

        targets = [
            (changes, "baseline", "local: baseline (rows to signed changes)"),
            (changes, "seal", "local: seal"),
            (changes, "take_in", "local: take in (store + apply)"),
            (writes, "link_received", "local: link evidence to the record"),
            (hub_client, "push", "hub: push"),
            (hub_client, "pull", "hub: pull"),
            (changes, "unpushed", "local: read unpushed"),
            (sync, "_people_into_staff", "local: people into staff"),
        ]
        saved = []
        for module, name, label in targets:
            original = getattr(module, name)
            saved.append((module, name, original))
            setattr(module, name, self._timed(label, original))
        try:
            yield self
        finally:
            for module, name, original in saved:
                setattr(module, name, original)

    def _timed(self, label: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        return timed

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in sorted(self.seconds.items(), key=lambda kv: -kv[1])}


#: Steps to run under cProfile (``--profile``): its top functions go to stderr.
PROFILED: set[str] = set()


@contextlib.contextmanager
def profiled(step: str) -> Iterator[None]:
    """Run the block under cProfile when ``step`` was asked for (once each), then print where the time went."""
    if step not in PROFILED:
        yield
        return
    import cProfile
    import io
    import pstats

    PROFILED.discard(step)
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)
        print(f"\n--- profile: {step} ---\n{out.getvalue()}", file=sys.stderr, flush=True)


# --- people and their devices --------------------------------------------------------------------


@dataclass
class Person:
    name: str
    role: str
    team: str
    staff_id: str | None
    login: str
    url: str


@dataclass
class Device:
    """One person's machine: a store file and a home of its own (its own XDG folders, so its own key)."""

    label: str
    person: Person
    home: Path

    @property
    def path(self) -> Path:
        return self.home / "spo.db"

    def env(self) -> dict[str, str]:
        return {
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_STATE_HOME": str(self.home / "state"),
            "XDG_CACHE_HOME": str(self.home / "cache"),
            "SPO_TUI_DB": str(self.path),
        }

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        saved = {k: os.environ.get(k) for k in _ENV_KEYS}
        os.environ.update(self.env())
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    @contextlib.contextmanager
    def store(self) -> Iterator[Any]:
        from spo_tui.store.db import open_db

        self.home.mkdir(parents=True, exist_ok=True)
        with self.active():
            db = open_db(self.path)
            try:
                yield db
            finally:
                db.close()

    def connect(self, phases: Phases | None = None) -> tuple[float, Any]:
        """``spo-tui connect`` on this device, in this process: (seconds, SyncResult)."""
        from spo_tui.services import sync

        with self.store() as db, phases.active() if phases else contextlib.nullcontext():
            start = time.perf_counter()
            result = sync.connect(db, self.person.url, clock=clock)
            return time.perf_counter() - start, result

    def sync(self, phases: Phases | None = None) -> tuple[float, Any]:
        """``spo-tui sync`` on this device, in this process (the store already open): (seconds, SyncResult)."""
        from spo_tui.services import sync

        with self.store() as db, phases.active() if phases else contextlib.nullcontext():
            start = time.perf_counter()
            result = sync.sync(db, self.person.url, clock=clock)
            return time.perf_counter() - start, result

    def size_mb(self) -> float:
        return sum(p.stat().st_size for p in self.home.glob("spo.db*")) / 1e6


class Hub:
    """The hub database on the private cluster, set up and given its people by the administrator's
    own commands (``spo-tui hub init``, ``spo-tui hub add-user``)."""

    def __init__(self, cluster: pg_cluster.Cluster, dbname: str = "hub") -> None:
        import psycopg
        from psycopg import sql

        from spo_tui.services import hub_admin

        self.cluster = cluster
        self.dbname = dbname
        with psycopg.connect(cluster.admin_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        hub_admin.init(cluster.admin_url(dbname))
        self.admin = psycopg.connect(cluster.admin_url(dbname), autocommit=True)

    def add_person(self, name: str, role: str, team: str) -> Person:
        """``spo-tui hub add-user NAME --role ROLE --team TEAM``: a login with a new password and a
        ``spo.people`` row (the staff id from the record when it is already at the hub)."""
        from spo_tui.services import hub_admin

        added = hub_admin.add_user(self.cluster.admin_url(self.dbname), name, role, team or None)
        assert added.password, added.message
        url = self.cluster.url(added.login, added.password, self.dbname)
        return Person(name, role, team, added.staff_id, added.login, url)

    def sizes(self) -> dict[str, float]:
        one = self.admin.execute
        return {
            "database_mb": one("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6,
            "changes_total_mb": one("SELECT pg_total_relation_size('spo.changes')").fetchone()[0] / 1e6,
            "changes_table_mb": one("SELECT pg_relation_size('spo.changes')").fetchone()[0] / 1e6,
            "changes_toast_mb": one(
                "SELECT COALESCE(pg_total_relation_size(reltoastrelid), 0) FROM pg_class WHERE oid = 'spo.changes'::regclass"
            ).fetchone()[0]
            / 1e6,
            "changes_indexes_mb": one("SELECT pg_indexes_size('spo.changes')").fetchone()[0] / 1e6,
            "changes_rows": one("SELECT COUNT(*) FROM spo.changes").fetchone()[0],
            "devices": one("SELECT COUNT(*) FROM spo.devices").fetchone()[0],
            "people": one("SELECT COUNT(*) FROM spo.people").fetchone()[0],
        }

    def close(self) -> None:
        self.admin.close()


# --- what a store holds --------------------------------------------------------------------------

COUNTED = ("cases", "items", "oversight_entries", "audit_log", "changes")


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = {}
        for table in COUNTED:
            try:
                out[table] = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            except sqlite3.OperationalError:
                out[table] = 0
        return out
    finally:
        conn.close()


def synced_rows(path: Path) -> int:
    from spo_tui.store.changes import SYNCED

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return sum(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in SYNCED)
    finally:
        conn.close()


# --- the simulated PDU ---------------------------------------------------------------------------


def backup_copy(source: Path, target: Path) -> None:
    """A copy of ``source`` (its WAL included) made with SQLite's backup."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def build_demo(scale: str, path: Path, reuse: Path | None) -> dict[str, Any]:
    from spo_tui.demo import write_demo

    if reuse is not None:
        log(f"copying the {scale} demo from {reuse} …")
        backup_copy(reuse, path)
        return {"summary": f"copied from {reuse}"}
    log(f"building the {scale} demo …")
    start = time.perf_counter()
    summary = write_demo(path, seed=1, scale=scale, today=TODAY)
    return {"summary": str(summary), "seconds": time.perf_counter() - start}


def demo_staff(path: Path) -> list[dict[str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT id, name, role, team FROM staff WHERE active = 1 ORDER BY team, role, name")
        return [dict(zip(("id", "name", "role", "team"), r, strict=True)) for r in rows]
    finally:
        conn.close()


def plan_people(staff: list[dict[str, str]], scale: str, devices: int) -> dict[str, Any]:
    """Who connects, from which device: the uploader; each team's SPO, CASPO and practitioners; the
    PDU head's new devices. ``devices`` in all."""
    teams = sorted({s["team"] for s in staff if s["role"] == "SPO"})
    by = defaultdict(list)
    for s in staff:
        by[(s["team"], s["role"])].append(s)
    head = next((s for s in staff if s["role"] == "PDU head"), None)
    plan: dict[str, Any] = {"teams": teams, "head": head}
    if scale == "pdu":
        assert head is not None, "the PDU demo has a PDU head"
        plan["uploader"] = ("head", head)
        plan["head_new_devices"] = 2
        fixed = 1 + 2 * len(teams) + plan["head_new_devices"]
    else:
        plan["uploader"] = ("spo", by[(teams[0], "SPO")][0])
        plan["head_new_devices"] = 1
        fixed = 1 + 2 * len(teams) + plan["head_new_devices"]  # the uploader, a new SPO device, the CASPO
    practitioners = max(0, devices - fixed)
    pps: dict[str, list[dict[str, str]]] = {t: [] for t in teams}
    for n in range(practitioners):
        team = teams[n % len(teams)]
        pool = [s for role in ("PO", "PSO", "PQiP", "NQO") for s in by[(team, role)]]
        pps[team].append(pool[len(pps[team]) % len(pool)])
    plan["practitioners"] = pps
    plan["devices"] = fixed + practitioners
    return plan


def first_sync_sample(device: Device, kind: str) -> dict[str, Any]:
    phases = Phases()
    with profiled("head" if kind == "PDU head" else "team"):
        seconds, result = device.connect(phases)
    sample = {
        "device": device.label,
        "kind": kind,
        "seconds": seconds,
        "pulled": result.pulled,
        "pushed": result.pushed,
        "rows": counts(device.path),
        "store_mb": device.size_mb(),
        "phases": phases.as_dict(),
    }
    log(
        f"  {device.label}: first sync {seconds:.2f} s, {result.pulled} changes in, "
        f"{sample['rows']['cases']} cases, {sample['rows']['items']} items, {sample['store_mb']:.1f} MB"
    )
    return sample


def practitioner_work(device: Device, crn: str, n: int) -> int:
    """A practitioner's few changes: ``n`` SBARs raised on one of their cases; returns changes sealed."""
    from spo_tui.config import load_rules
    from spo_tui.services import intake
    from spo_tui.services.context import make_context

    with device.store() as db:
        ctx = make_context(db, load_rules(), device.person.name, clock=clock)
        before = db.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
        for i in range(n):
            intake.raise_sbar(
                ctx,
                crn,
                device.person.name,
                f"Missed appointment {i + 1}",
                "On licence since the summer",
                "Engagement dropping",
                "Warning letter",
            )
        return db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] - before


def ordinary_work(device: Device, action: str, limit: int) -> dict[str, Any]:
    """``limit`` snoozes, or oversight entries on cases (decisions), made through the services on ``device``."""
    from spo_tui.config import load_rules
    from spo_tui.services import decisions, oversight
    from spo_tui.services.context import make_context

    with device.store() as db:
        ctx = make_context(db, load_rules(), device.person.name, clock=clock)
        before = db.execute("SELECT COUNT(*) FROM changes").fetchone()[0]
        times = []
        if action == "snooze":
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM items WHERE status = 'open' AND kind <> 'alert' AND snoozed_until IS NULL "
                    "ORDER BY id LIMIT ?",
                    [limit],
                )
            ]
            for item_id in ids:
                start = time.perf_counter()
                decisions.snooze(ctx, item_id, date(2026, 12, 14))
                times.append(time.perf_counter() - start)
        else:
            crns = [r[0] for r in db.execute("SELECT crn FROM cases ORDER BY crn")]
            for n in range(limit):
                start = time.perf_counter()
                oversight.record_oversight(
                    ctx,
                    crn=crns[n % len(crns)],
                    outcome="agreed",
                    discussed="Reviewed the case with the practitioner",
                    decision="Carry on with the plan; review in a month",
                )
                times.append(time.perf_counter() - start)
        made = db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] - before
    return {
        "action": action,
        "decisions": len(times),
        "changes": made,
        "per_decision_ms": spread([t * 1000 for t in times]),
    }


def idle_process(device: Device, runs: int) -> list[float]:
    """``spo-tui sync`` as a whole process with nothing to do (password from the device's keyring)."""
    times = []
    env = {**os.environ, **device.env(), "PYTHONPATH": str(ROOT)}
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "spo_tui", "--db", str(device.path), "sync"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0 or "in step" not in done.stdout.lower():
            raise RuntimeError(f"spo-tui sync failed ({done.returncode}): {done.stdout}{done.stderr}")
    return times


def simulate(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    scale = "team" if args.small else "pdu"
    demo = work / "demo.db"
    out["demo"] = build_demo(scale, demo, args.demo)
    out["demo"]["rows"] = counts(demo)
    out["demo"]["synced_rows"] = synced_rows(demo)
    out["demo"]["store_mb"] = sum(p.stat().st_size for p in work.glob("demo.db*")) / 1e6
    staff = demo_staff(demo)
    plan = plan_people(staff, scale, args.devices)
    out["devices"] = plan["devices"]

    bin_dir = pg_cluster.find_pg_bin()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL server binaries (set SPO_TUI_PG_BIN, or install postgresql-15)")
    log(f"starting PostgreSQL from {bin_dir} …")
    cluster = pg_cluster.start(bin_dir, durable=not args.no_fsync)
    hub = None
    try:
        version = subprocess.run(
            [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        out["postgres"] = version
        hub = Hub(cluster)
        homes = work / "devices"
        made: list[Device] = []

        def device(label: str, person: Person) -> Device:
            made.append(Device(label, person, homes / f"device-{len(made) + 1:02d}"))
            return made[-1]

        people: dict[str, Person] = {}

        def person_for(s: dict[str, str], *, pdu_wide: bool = False) -> Person:
            if s["id"] not in people:
                people[s["id"]] = hub.add_person(s["name"], s["role"], "" if pdu_wide else s["team"])
            return people[s["id"]]

        # The baseline: the first device uploads the whole store. Its person is added first (with no
        # staff id yet: connect finds them in the store by name and claims it); everyone else after,
        # when the hub's record already names them.
        kind, uploader_staff = plan["uploader"]
        uploader = device(f"{kind} (uploads the store)", person_for(uploader_staff, pdu_wide=kind == "head"))
        uploader.home.mkdir(parents=True)
        backup_copy(demo, uploader.path)
        before_mb = uploader.size_mb()
        log(f"{uploader.label}: connect, uploading the {scale} store ({out['demo']['synced_rows']} rows) …")
        phases = Phases()
        with profiled("baseline"):
            seconds, result = uploader.connect(phases)
        push_s = phases.seconds["hub: push"]
        out["baseline"] = {
            "device": uploader.label,
            "seconds": seconds,
            "pushed": result.pushed,
            "pulled_back": result.pulled,
            "push_seconds": push_s,
            "push_changes_per_s": result.pushed / push_s,
            "end_to_end_changes_per_s": result.pushed / seconds,
            "store_mb_before": before_mb,
            "store_mb_after": uploader.size_mb(),
            "phases": phases.as_dict(),
        }
        log(f"  baseline: {result.pushed} changes in {seconds:.1f} s (push {push_s:.1f} s) {phases.as_dict()}")
        out["hub_after_baseline"] = hub.sizes()
        for team in plan["teams"]:
            for s in staff:
                if s["team"] == team and s["role"] in ("SPO", "CASPO"):
                    person_for(s)
            for s in plan["practitioners"][team]:
                person_for(s)
        # The team demo has no PDU head: one is added, with no staff id until their first sync.
        head = person_for(plan["head"], pdu_wide=True) if plan["head"] else hub.add_person("Dee Head", "PDU head", "")

        # Every team's people connect from devices of their own.
        team_samples = []
        team_devices: dict[str, dict[str, Device]] = {}
        sbar_changes = []
        for team in plan["teams"]:
            log(f"{team}: its people connect …")
            mine: dict[str, Device] = {}
            spo_s = next(s for s in staff if s["team"] == team and s["role"] == "SPO")
            caspo_s = next(s for s in staff if s["team"] == team and s["role"] == "CASPO")
            for role, s in (("SPO", spo_s), ("CASPO", caspo_s)):
                d = device(f"{team} {role}", person_for(s))
                team_samples.append(first_sync_sample(d, role))
                mine[role] = d
            for n, s in enumerate(plan["practitioners"][team]):
                d = device(f"{team} {s['role']} {n + 1}", person_for(s))
                team_samples.append(first_sync_sample(d, s["role"]))
                with d.store() as db:
                    crn = db.execute("SELECT crn FROM cases WHERE practitioner_id = ? LIMIT 1", [s["id"]]).fetchone()
                if crn:
                    sbar_changes.append(practitioner_work(d, crn[0], 3))
                    d.sync()
                mine[f"pp{n}"] = d
            team_devices[team] = mine
        out["team_first_sync"] = {
            "samples": team_samples,
            "seconds": spread([s["seconds"] for s in team_samples]),
            "pulled": spread([s["pulled"] for s in team_samples]),
            "cases": spread([s["rows"]["cases"] for s in team_samples]),
            "items": spread([s["rows"]["items"] for s in team_samples]),
            "oversight_entries": spread([s["rows"]["oversight_entries"] for s in team_samples]),
            "store_mb": spread([s["store_mb"] for s in team_samples]),
            "pull_changes_per_s": spread([s["pulled"] / s["seconds"] for s in team_samples]),
        }
        out["practitioner_pushes"] = {"devices": len(sbar_changes), "changes_each": sbar_changes}

        # The PDU head's new devices bring down everything.
        head_samples = []
        head_devices = []
        for n in range(plan["head_new_devices"]):
            log(f"a new device of the PDU head ({n + 1} of {plan['head_new_devices']}) …")
            head_devices.append(device(f"PDU head new device {n + 1}", head))
            head_samples.append(first_sync_sample(head_devices[-1], "PDU head"))
        out["head_first_sync"] = {
            "samples": head_samples,
            "seconds": spread([s["seconds"] for s in head_samples]),
            "pulled": spread([s["pulled"] for s in head_samples]),
            "pull_changes_per_s": spread([s["pulled"] / s["seconds"] for s in head_samples]),
        }
        out["devices_registered"] = hub.sizes()["devices"]

        # Ordinary work: snoozes, then oversight entries on cases, on team A's SPO laptop, sent in one sync, taken in by
        # the team's CASPO and by the PDU head's first new device.
        first = plan["teams"][0]
        spo = team_devices[first]["SPO"]
        caspo = team_devices[first]["CASPO"]
        head_reader = head_devices[0]
        rounds = []
        for action in ("snooze", "oversight entry"):
            log(f"{first} SPO: {args.decisions} × {action}, then sync …")
            made = ordinary_work(spo, action, args.decisions)
            phases = Phases()
            push_s, pushed = spo.sync(phases)
            sample = {**made, "push": {"seconds": push_s, "pushed": pushed.pushed, "phases": phases.as_dict()}}
            sample["push"]["changes_per_s"] = pushed.pushed / push_s
            for name, reader in (("caspo", caspo), ("head", head_reader)):
                phases = Phases()
                pull_s, pulled = reader.sync(phases)
                sample[f"pull_{name}"] = {
                    "seconds": pull_s,
                    "pulled": pulled.pulled,
                    "changes_per_s": pulled.pulled / pull_s,
                    "phases": phases.as_dict(),
                }
            log(
                f"  {made['changes']} changes: push {push_s:.2f} s; CASPO pull {sample['pull_caspo']['seconds']:.2f} s; "
                f"head pull {sample['pull_head']['seconds']:.2f} s"
            )
            rounds.append(sample)
        out["ordinary_work"] = rounds

        # Idle: a sync with nothing to do.
        for d in (spo, caspo, head_reader, uploader):
            d.sync()
        idle: dict[str, Any] = {}
        for name, d in (
            (f"{first}'s SPO (a new device)", spo),
            ("the PDU head (a new device)", head_reader),
            ("the first device (uploaded the store)", uploader),
        ):
            times = []
            for _ in range(args.idle_runs):
                with profiled("idle"):
                    seconds, result = d.sync()
                assert result.pushed == 0 and result.pulled == 0, result
                times.append(seconds * 1000)
            idle[name] = {"in_process_ms": spread(times), "store_changes": counts(d.path)["changes"]}
            idle[name]["process_ms"] = spread([t * 1000 for t in idle_process(d, args.process_runs)])
            log(
                f"  idle sync, {name}: {idle[name]['in_process_ms']['median']:.1f} ms in process, "
                f"{idle[name]['process_ms']['median']:.0f} ms as a process"
            )
        out["idle"] = idle
        out["hub"] = hub.sizes()
        out["stores_mb"] = {
            "demo store before connecting": before_mb,
            "same store after connecting (uploader)": uploader.size_mb(),
            f"{first} SPO (new device)": spo.size_mb(),
            "PDU head (new device)": head_reader.size_mb(),
        }
    finally:
        if hub is not None:
            hub.close()
        cluster.stop()
    return out


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a smoke check: the team demo, a few devices")
    parser.add_argument("--json", metavar="PATH", type=Path, help="also write the numbers here")
    parser.add_argument("--demo", metavar="PATH", type=Path, help="copy this demo store instead of building one")
    parser.add_argument("--devices", type=int, help="devices in all (default 50; 6 with --small)")
    parser.add_argument("--decisions", type=int, help="snoozes, then oversight entries, per round (default 1000; 50)")
    parser.add_argument("--idle-runs", type=int, default=20, help="idle syncs in process (median)")
    parser.add_argument("--process-runs", type=int, default=5, help="idle spo-tui sync processes (median)")
    parser.add_argument("--no-fsync", action="store_true", help="run PostgreSQL without fsync (as the tests do)")
    parser.add_argument(
        "--profile",
        nargs="+",
        default=[],
        choices=["baseline", "team", "head", "idle"],
        help="run these steps under cProfile (the first of each) and print where the time went",
    )
    parser.add_argument("--skip-hub", action="store_true", help="only the embedded comparison")
    parser.add_argument("--skip-embedded", action="store_true", help="only the hub")
    parser.add_argument("--embedded-rounds", type=int, help="alternating rounds per tree (default 6; 1)")
    args = parser.parse_args()
    PROFILED.update(args.profile)
    # Stopped (kill PID), still stop the PostgreSQL cluster and remove the temporary folders.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.devices = args.devices or (6 if args.small else 50)
    args.decisions = args.decisions or (50 if args.small else 1000)
    if args.small:
        args.idle_runs = min(args.idle_runs, 10)
        args.process_runs = min(args.process_runs, 2)
    args.embedded_rounds = args.embedded_rounds or (1 if args.small else 6)

    results: dict[str, Any] = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "small": args.small,
        "code": subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip(),
    }
    work = Path(tempfile.mkdtemp(prefix="spo-hub-bench-work-"))
    saved_env = {k: os.environ.get(k) for k in ("SPO_TUI_RULES", *_ENV_KEYS)}
    os.environ["SPO_TUI_RULES"] = str(work / "no-rules.toml")  # the default rules, whatever this user set
    failed = []
    try:
        for name, skip, phase in (("hub", args.skip_hub, simulate), ("embedded", args.skip_embedded, embedded)):
            if skip:
                continue
            try:
                results[name] = phase(args, work)
            except Exception as error:  # the other phase's numbers are still worth printing
                import traceback

                traceback.print_exc()
                failed.append(f"{name}: {error}")
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    print_report(results)
    if failed:
        raise SystemExit("failed: " + "; ".join(failed))


# --- the embedded store, before the hub and now --------------------------------------------------

#: Run in a child process with one tree's code: its own bench/run.py measures its own spo_tui.
_EMBEDDED_CHILD = r"""
import asyncio, json, statistics, sys, time
from datetime import date
from pathlib import Path
tree, db, runs = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
sys.path[:0] = [str(tree), str(tree / "bench")]
import run  # that tree's bench/run.py (it puts the tree first on sys.path too)
import spo_tui
assert Path(spo_tui.__file__).resolve().is_relative_to(tree.resolve()), spo_tui.__file__
from spo_tui.config import load_rules
from spo_tui.services import decisions, oversight
from spo_tui.services.context import make_context
from spo_tui.store.db import open_db
from spo_tui.services.queue import build_queue
out = {"startup": asyncio.run(run.measure_startup(db, runs))}
qdb = open_db(db)
qctx = make_context(qdb, load_rules(), clock=run.clock)
def timed_queue():
    start = time.perf_counter()
    found = build_queue(qctx)
    return time.perf_counter() - start, len(found)
times = [timed_queue() for _ in range(7)]
out["queue"] = {"rows": times[0][1], "queue_ms": min(t for t, _ in times) * 1000}
qdb.close()
work = run.tmp_copy(db)
conn = open_db(work)
ctx = make_context(conn, load_rules(), clock=run.clock)
out["connected"] = bool(conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sync_state'").fetchone()[0]
                        and conn.execute("SELECT COUNT(*) FROM sync_state WHERE key = 'hub'").fetchone()[0])
team = ctx.decider["team"]
ids = [r[0] for r in conn.execute(
    "SELECT i.id FROM items i JOIN cases c ON c.crn = i.crn JOIN staff s ON s.id = c.practitioner_id "
    "WHERE i.status = 'open' AND i.kind NOT IN ('alert') AND i.snoozed_until IS NULL AND s.team = ? "
    "ORDER BY i.id LIMIT 200", [team])]
times = []
for item_id in ids:
    start = time.perf_counter()
    decisions.snooze(ctx, item_id, date(2026, 12, 14))
    times.append((time.perf_counter() - start) * 1000)
out["snooze_ms"] = statistics.median(times)
crns = [r[0] for r in conn.execute(
    "SELECT c.crn FROM cases c JOIN staff s ON s.id = c.practitioner_id WHERE s.team = ? ORDER BY c.crn LIMIT 100",
    [team])]
times = []
for crn in crns:
    start = time.perf_counter()
    oversight.record_oversight(ctx, crn=crn, outcome="agreed", discussed="Reviewed the case with the PP",
                               decision="Carry on with the plan; review in a month")
    times.append((time.perf_counter() - start) * 1000)
out["oversight_entry_ms"] = statistics.median(times)
out["queue_command"] = run.measure_queue_command(db, 3)
print(json.dumps(out))
"""


def _export_tree(commit: str, target: Path) -> Path:
    """The tree at ``commit``, written out with git archive (nothing is written into the repository)."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return env


def _demo_with(tree: Path, scale: str, path: Path) -> None:
    code = (
        "import sys; from datetime import date; sys.path.insert(0, sys.argv[1]);"
        "from spo_tui.demo import write_demo;"
        "print(write_demo(sys.argv[2], seed=1, scale=sys.argv[3], today=date(2026, 11, 23)))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(tree), str(path), scale], env=_child_env(), check=True, capture_output=True
    )


def embedded(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The embedded store's key timings with the code before the hub and now, in alternating child
    processes; each tree builds its own demo store (same seed, same day) and never connects it."""
    scale = "team" if args.small else "pdu"
    trees = {"before": _export_tree(BEFORE_HUB, work / "before"), "now": ROOT}
    stores = {}
    for name, tree in trees.items():
        log(f"embedded: building the {scale} demo with the code {name} …")
        stores[name] = work / f"embedded-{name}" / f"demo-{scale}.db"
        stores[name].parent.mkdir(parents=True, exist_ok=True)
        _demo_with(tree, scale, stores[name])
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for r in range(args.embedded_rounds):
        for name in trees if r % 2 == 0 else reversed(list(trees)):
            log(f"embedded: round {r + 1} of {args.embedded_rounds}, the code {name} …")
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _EMBEDDED_CHILD,
                    str(trees[name]),
                    str(stores[name]),
                    "5" if args.small else "9",
                ],
                env={**_child_env(), "SPO_TUI_RULES": str(work / "no-rules.toml")},
                capture_output=True,
                text=True,
                check=False,
                cwd=work,
            )
            if done.returncode != 0:
                raise RuntimeError(f"the embedded child ({name}) failed: {done.stderr[-3000:]}")
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    measures = {
        "start-up to the first frame with the queue (ms)": lambda r: r["startup"]["ours_s"] * 1000,
        "start-up, ratio to the empty app": lambda r: r["startup"]["ratio"],
        "queue computation (ms)": lambda r: r["queue"]["queue_ms"],
        "a snooze through the services (ms)": lambda r: r["snooze_ms"],
        "an oversight entry on a case (ms)": lambda r: r["oversight_entry_ms"],
        "spo-tui queue --json, whole process (ms)": lambda r: r["queue_command"]["median_s"] * 1000,
    }
    table = {}
    for label, get in measures.items():
        before = [get(r) for r in runs["before"]]
        now = [get(r) for r in runs["now"]]
        table[label] = {
            "before": statistics.median(before),
            "now": statistics.median(now),
            "ratio": statistics.median(now) / statistics.median(before),
            "before_runs": before,
            "now_runs": now,
        }
    return {
        "scale": scale,
        "before": BEFORE_HUB,
        "rounds": args.embedded_rounds,
        "table": table,
        "runs": runs,
        "connected_now": [r["connected"] for r in runs["now"]],
    }


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _s(d: dict[str, float], unit: str = "s", digits: int = 1) -> str:
    """median (min–max, n) of a spread."""
    if d["n"] == 1:
        return f"{d['median']:.{digits}f} {unit}"
    return f"{d['median']:.{digits}f} {unit} ({d['min']:.{digits}f}–{d['max']:.{digits}f}, n={d['n']})"


def _phases(p: dict[str, float], top: int = 4) -> str:
    return "; ".join(f"{k} {v:.1f} s" for k, v in list(p.items())[:top] if v >= 0.05)


def print_report(r: dict[str, Any]) -> None:
    print(
        f"spo-tui hub benchmark, {r['date']}, code {r.get('code', '?')}, {r['machine']}"
        + (" (--small)" if r["small"] else "")
    )
    if "hub" in r:
        print_hub(r["hub"])
    if "embedded" in r:
        print_embedded(r["embedded"])
    print("\n" + METHOD)


METHOD = """How it was measured (bench/hub.py). A private PostgreSQL cluster in a temporary folder, with its
durable defaults (fsync on), on the same machine as every device; the hub made and its people added
with the administrator's own functions (hub init, hub add-user). The first device (the PDU head's,
holding the PDU demo) connects and uploads its store; then each team's SPO, CASPO and practitioners
connect a new, empty store from a device of their own (each with its own XDG folders, so its own
key), and each practitioner's device sends three SBARs; then new devices of the PDU head connect.
Each device runs spo_tui.services.sync in this process, timed around connect() and sync(); the time
inside the engine's steps (push, pull, take in, baseline, ...) is summed by wrapping them. Idle:
sync() again with nothing to do (in process, opening the store included), and `spo-tui sync` as a new process (Python's start
and imports included, the password from the device's keyring). Throughput is changes over the
whole sync's time unless it says "the push alone". Sizes: pg_database_size and
pg_total_relation_size('spo.changes'); a store's size is its file with its WAL. Embedded: the
code at the commit before the hub and this tree each build their own demo (same seed, same day,
never connected) and measure it in child processes taking turns: start-up with that tree's
bench/run.py (median of 9), the queue with build_queue (best of 7), 200 snoozes and 100 oversight
entries through the services (median), `spo-tui queue --json` (median of 3). The machine is shared
(2 CPUs, other work running): ratios and medians mean more than single times."""


def print_hub(h: dict[str, Any]) -> None:
    demo, rows = h["demo"], h["demo"]["rows"]
    print(f"\n{h['postgres']}; {h['devices']} devices ({h['devices_registered']} registered at the hub)\n")
    print("| measure | result | notes |")
    print("| --- | --- | --- |")
    print(
        f"| the store uploaded (the demo) | {_n(rows['cases'])} cases, {_n(rows['items'])} items, "
        f"{_n(rows['oversight_entries'])} oversight entries; {_n(demo['synced_rows'])} rows in synced tables; "
        f"{demo['store_mb']:.0f} MB | {demo['summary']} |"
    )
    b = h["baseline"]
    print(
        f"| first device's connect: uploads the store (baseline) | {b['seconds']:.1f} s for {_n(b['pushed'])} changes: "
        f"{_n(b['end_to_end_changes_per_s'])} changes/s end to end; the push alone {b['push_seconds']:.1f} s, "
        f"{_n(b['push_changes_per_s'])} changes/s | {_phases(b['phases'], 6)} |"
    )
    t = h["team_first_sync"]
    print(
        f"| a new device's first sync, one team's share (SPO, CASPO, practitioners) | {_s(t['seconds'])} | "
        f"{_n(t['pulled']['median'])} changes in ({_n(t['pull_changes_per_s']['median'])} changes/s); "
        f"{_n(t['cases']['median'])} cases ({_n(t['cases']['min'])}–{_n(t['cases']['max'])}), "
        f"{_n(t['items']['median'])} items, {_n(t['oversight_entries']['median'])} oversight entries; "
        f"store {t['store_mb']['median']:.0f} MB |"
    )
    hd = h["head_first_sync"]
    sample = hd["samples"][0]
    print(
        f"| a new device's first sync, the PDU head (everything) | {_s(hd['seconds'])} | "
        f"{_n(hd['pulled']['median'])} changes in ({_n(hd['pull_changes_per_s']['median'])} changes/s); "
        f"{_n(sample['rows']['cases'])} cases, {_n(sample['rows']['items'])} items, "
        f"{_n(sample['rows']['oversight_entries'])} oversight entries; store {sample['store_mb']:.0f} MB; "
        f"{_phases(sample['phases'])} |"
    )
    for w in h["ordinary_work"]:
        what = f"{w['decisions']} {w['action']}s on the SPO's laptop ({_n(w['changes'])} changes)"
        what = what.replace("entrys", "entries")
        print(
            f"| push: {what}, then one sync | {w['push']['seconds']:.2f} s: {_n(w['push']['changes_per_s'])} changes/s | "
            f"each {w['action']} took {w['per_decision_ms']['median']:.1f} ms locally (median) |"
        )
        for who, key in (("the team's CASPO", "pull_caspo"), ("the PDU head", "pull_head")):
            p = w[key]
            print(
                f"| pull: {who} takes them in | {p['seconds']:.2f} s: {_n(p['changes_per_s'])} changes/s | "
                f"{_n(p['pulled'])} changes |"
            )
    for name, i in h["idle"].items():
        print(
            f"| a sync with nothing to do, {name} | {_s(i['in_process_ms'], 'ms', 0)} in process; "
            f"{_s(i['process_ms'], 'ms', 0)} as a whole `spo-tui sync` process | "
            f"the store holds {_n(i['store_changes'])} changes |"
        )
    hub = h["hub"]
    print(
        f"| the hub's size | database {hub['database_mb']:.0f} MB; spo.changes {hub['changes_total_mb']:.0f} MB "
        f"(table {hub['changes_table_mb']:.0f}, TOAST {hub['changes_toast_mb']:.0f}, indexes "
        f"{hub['changes_indexes_mb']:.0f}) | {_n(hub['changes_rows'])} changes, "
        f"{hub['changes_total_mb'] * 1e6 / max(hub['changes_rows'], 1):.0f} bytes each; {hub['people']} people, "
        f"{hub['devices']} devices |"
    )
    sizes = "; ".join(f"{k} {v:.0f} MB" for k, v in h["stores_mb"].items())
    print(f"| local stores | {sizes} | |")


def print_embedded(e: dict[str, Any]) -> None:
    print(
        f"\nA store not connected to a hub, {e['scale']} demo: the code at {e['before']} (before the hub) and now, "
        f"{e['rounds']} alternating rounds each (median)\n"
    )
    print("| measure | before | now | now / before |")
    print("| --- | --- | --- | --- |")
    for label, row in e["table"].items():
        digits = 2 if row["before"] < 10 else 0
        print(f"| {label} | {row['before']:.{digits}f} | {row['now']:.{digits}f} | {row['ratio']:.2f} |")


if __name__ == "__main__":
    main()
