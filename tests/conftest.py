"""Shared fixtures: rules from the shipped file only, a fresh database, and a small hand-made team.

Everything lives under ``tmp_path`` so tests run in parallel (pytest-xdist) and never touch the
developer's own database or rules file.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

# The hub's PostgreSQL server: pg_cluster (one per worker) and hub (a fresh database per test).
from pg_server import hub, pg_cluster

from spo_tui.config import load_rules
from spo_tui.services import intake
from spo_tui.services.context import Context, make_context
from spo_tui.store import crypto
from spo_tui.store.db import open_db

#: The fixed "now" of the hand-made team: Monday 23 November 2026, 09:00 (GMT = UTC in November).
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)

SPO = "Sam Spo"
PO = "Pat Officer"
PSO = "Pip Services"
CASPO = "Cas Admin"
SAO = "Sal Senior"
BM = "Bea Manager"

HIGH_CRN = "X123456"
LOW_CRN = "Y654321"


def fixed_clock(moment: datetime):
    """A clock for a Context that always says ``moment``."""
    return lambda: moment


def clock() -> datetime:
    """The tests' clock: always ``NOW`` (import it rather than defining another)."""
    return NOW


@pytest.fixture
def running_app(open_app):
    """A function that runs the app on a database at ``NOW``, in a terminal of ``size``, and gives
    ``(app, pilot)`` once the first screen is drawn::

        async with running_app(path) as (app, pilot):
            await pilot.press("d")
    """
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def run(path, size=(120, 40), **kwargs):
        app = open_app(path, **kwargs)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            yield app, pilot

    return run


@pytest.fixture
def open_app():
    """A function that makes the app on a database at ``NOW``: ``open_app(path, actor="Cas Admin")``."""
    from spo_tui.app import SpoApp

    def make(path, **kwargs):
        return SpoApp(path, clock=kwargs.pop("clock", clock), **kwargs)

    return make


@pytest.fixture(scope="session", autouse=True)
def _isolated_session_paths(tmp_path_factory: pytest.TempPathFactory):
    """The user's folders for fixtures made once per module or session (made before any test's
    own): never the real home, where a signing key or anchors would otherwise be written."""
    home = tmp_path_factory.mktemp("session-home")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            patch.setenv(name, str(home / name.lower()))
        yield


@pytest.fixture(autouse=True)
def _isolated_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the database, the user's rules file and the user's folders at paths under tmp_path."""
    monkeypatch.setenv("SPO_TUI_DB", str(tmp_path / "env-spo.db"))
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-such-rules.toml"))
    # Files spo-tui keeps outside the database (keys, chain anchors, who you last acted as) go in the
    # user's data, config and state folders: platformdirs reads these on Linux, so each test has its own.
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "home" / name.lower()))
    # An encrypted store's key goes in a keyring: each test has its own, a file (tests/spo_test_keyring.py)
    # that spo-tui accepts only because SPO_TUI_TRUSTED_KEYRING says so. Subprocesses find it on PYTHONPATH.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "spo_test_keyring.TestKeyring")
    monkeypatch.setenv("SPO_TEST_KEYRING", str(tmp_path / "home" / "keyring.json"))
    monkeypatch.setenv("SPO_TUI_TRUSTED_KEYRING", "1")
    tests = str(Path(__file__).resolve().parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH", "")) if p))
    crypto.forget_cached_key()


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The shipped rules only: SPO_TUI_RULES points at a file that does not exist."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "absent-rules.toml"))
    return load_rules()


@pytest.fixture
def db(tmp_path: Path):
    database = open_db(tmp_path / "t.db")
    yield database
    database.close()


def insert_spo(db, name: str = SPO) -> str:
    """Insert an SPO row directly (the first staff member cannot be added through a context)."""
    staff_id = "spo-0001"
    db.table("staff").insert(
        {
            "id": staff_id,
            "name": name,
            "role": "SPO",
            "team": "Team A",
            "fte": 1.0,
            "oasys_approved": 1,
            "created_at": "2026-01-05T09:00:00Z",
        }
    )
    return staff_id


@pytest.fixture
def ctx(db, rules) -> Context:
    """The SPO's context over a small team: a PO, a PSO, a CASPO, an SAO, a business manager, two cases.

    X123456: HIGH RoSH, on LICENCE since 1 August 2026, MAPPA category 2 level 1, with Pat Officer.
    Y654321: LOW RoSH, community order since 10 November 2026, with Pip Services.
    """
    insert_spo(db)
    context = make_context(db, rules, clock=fixed_clock(NOW))
    intake.add_staff(context, PO, "PO", team="Team A")
    intake.add_staff(context, PSO, "PSO", team="Team A")
    intake.add_staff(context, CASPO, "CASPO", team="Team A")
    intake.add_staff(context, SAO, "SAO")
    intake.add_staff(context, BM, "business manager")
    intake.add_case(
        context,
        HIGH_CRN,
        "Alex Example",
        PO,
        "HIGH",
        "LICENCE",
        "2026-08-01",
        sentence_end="2027-08-01",
        likelihood="MEDIUM",
        mappa_category=2,
        mappa_level=1,
        tier="B2",
    )
    intake.add_case(
        context,
        LOW_CRN,
        "Bo Sample",
        PSO,
        "LOW",
        "COMMUNITY_ORDER",
        "2026-11-10",
        sentence_end="2027-11-09",
    )
    return context


def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table, sorted, so a test can show nothing at all was written.

    Stored urgency scores are left out: they are a cache of the rules applied to the day
    (``spo_tui.store.scoring``), rewritten whenever the day or the weights change.
    """
    tables = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    derived = {"items": "urgency", "meta": None}
    out = {}
    for t in tables:
        cursor = db.execute(f'SELECT * FROM "{t}"' + (" WHERE key <> 'urgency_basis'" if t == "meta" else ""))
        names = [c[0] for c in cursor.description]
        keep = [n for n, name in enumerate(names) if name != derived.get(t)]
        out[t] = sorted((tuple(row[n] for n in keep) for row in cursor.fetchall()), key=repr)
    return out


def staff_id(db, name: str) -> str:
    return db.execute("SELECT id FROM staff WHERE name = ?", [name]).fetchone()[0]


def row(db, sql: str, params=()) -> dict:
    """One row as a dict (fails the test if there is none)."""
    cursor = db.execute(sql, params)
    found = cursor.fetchone()
    assert found is not None, f"no row for {sql} {params}"
    return dict(zip([c[0] for c in cursor.description], found, strict=False))


def rows(db, sql: str, params=()) -> list[dict]:
    cursor = db.execute(sql, params)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=False)) for r in cursor.fetchall()]


# --- A small team in a database file, for tests that drive the app ---------------------------------


def link_me(db, *names: str) -> None:
    """Link the computer login running the tests to these staff members (every member if none is
    named), as an SPO would with ``spo-tui staff link``. Tests that act as several people with
    ``--as`` (or ``SpoApp(actor=...)``) need it, as a real user would; the login is looked up, never
    assumed, so this works as root (CI) and as anyone else. ``db`` is a database or its path."""
    from spo_tui.config import current_os_user
    from spo_tui.store import links

    opened = open_db(db) if isinstance(db, (str, Path)) else None
    database = opened or db
    try:
        where = f"WHERE name IN ({', '.join('?' * len(names))}) COLLATE NOCASE" if names else ""
        ids = [r[0] for r in database.execute(f"SELECT id FROM staff {where}", list(names))]
        assert len(ids) == len(names) or not names, f"not all of {names} are staff"
        with database.atomic():
            links.insert_links(database, current_os_user(), ids, None, "2026-01-01T00:00:00Z")
    finally:
        if opened is not None:
            opened.close()


def ui_team(path: Path):
    """A database file at ``path`` with an SPO (id ``spo-1``), Pat Officer (PO), Cas Admin (CASPO),
    Sue Sao (SAO), all four linked to the computer login running the tests, case X123456 (HIGH,
    licence, MAPPA 2/1, tier B2) and Y123456 (LOW, community order). Returns the SPO's open context
    so a test adds its own work, then closes ``ctx.db``."""
    db = open_db(path)
    db.table("staff").insert({"id": "spo-1", "name": "Sam Spo", "role": "SPO", "created_at": "2026-01-01T00:00:00Z"})
    context = make_context(db, load_rules(), clock=fixed_clock(NOW))
    intake.add_staff(context, "Pat Officer", "PO")
    intake.add_staff(context, "Cas Admin", "CASPO")
    intake.add_staff(context, "Sue Sao", "SAO")
    link_me(db)  # the UI tests act as each of them, as on the demo
    intake.add_case(
        context,
        "X123456",
        "Joe Bloggs",
        "Pat Officer",
        "HIGH",
        "LICENCE",
        "2026-10-01",
        mappa_category=2,
        mappa_level=1,
        tier="B2",
    )
    intake.add_case(context, "Y123456", "Ann Smith", "Pat Officer", "LOW", "COMMUNITY_ORDER", "2025-01-01")
    return context


def read_rows(path: Path, sql: str, params=()) -> list[tuple]:
    """Rows from the database file at ``path``, read on a connection of the test's own."""
    db = open_db(path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


async def select_item(app, pilot, item_id):
    """Put the queue cursor on ``item_id`` and wait until the detail pane follows it. The queue may
    be read again just after the app starts (the start-up check, the day's scores), which puts the
    cursor back: it is put on the item again until it stays there."""
    screen = app.screen
    for _ in range(150):
        current = screen.current
        if current is None or current.id != item_id:
            screen.query_one("#queue").move_cursor(row=[e.id for e in screen.entries].index(item_id))
        await pilot.pause(0.02)
        current = screen.current
        if current is not None and current.id == item_id and getattr(screen, "_detail_for", item_id) == item_id:
            return
    raise AssertionError(f"the cursor would not stay on item {item_id}")
