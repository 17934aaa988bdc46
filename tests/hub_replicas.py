"""Replicas for the hub's tests: each person's own store and own device (key, keyring, folders),
driven through the ``spo-tui`` command line in this process (or a real subprocess), against the
real PostgreSQL server of ``pg_server``.

Each replica has its own home: its own XDG folders (so its own device key and anchors) and its own
keyring file. ``replica.run("queue", "--json")`` runs the command as that person on that machine.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import CASPO, HIGH_CRN, LOW_CRN, NOW, PO, PSO, fixed_clock, insert_spo

from spo_tui.cli import main
from spo_tui.config import load_rules
from spo_tui.services import hub_admin, intake
from spo_tui.services.context import make_context
from spo_tui.store.db import open_db

_ENV_KEYS = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "SPO_TEST_KEYRING", "SPO_TUI_DB")


def add_person(hub: Any, name: str, role: str, team: str = "") -> str:
    """Add a person to the hub as its administrator does (``spo-tui hub add-user``: a PostgreSQL login
    with a one-time password, and a row in ``spo.people``); return the URL that logs in as them."""
    added = hub_admin.add_user(hub.admin_url, name, role, team or None, login=hub.login(name.lower().replace(" ", "_")))
    assert added.password, added.message
    return hub.login_url(added.login, added.password)


def init_hub(hub: Any) -> None:
    """``spo-tui hub init`` on the test's database, as its administrator."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["hub", "init", hub.admin_url]) == 0


@dataclass
class Replica:
    """One person's machine: a store file and a home of its own."""

    name: str
    home: Path
    url: str

    @property
    def path(self) -> Path:
        return self.home / "spo.db"

    def env(self) -> dict[str, str]:
        return {
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_STATE_HOME": str(self.home / "state"),
            "XDG_CACHE_HOME": str(self.home / "cache"),
            "SPO_TEST_KEYRING": str(self.home / "keyring.json"),
            "SPO_TUI_DB": str(self.path),
        }

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """This replica's machine, for the code run inside the block."""
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

    def run(self, *argv: str) -> tuple[int, str, str]:
        """``spo-tui ARGV`` as this person on their machine: (exit status, stdout, stderr)."""
        out, err = io.StringIO(), io.StringIO()
        with self.active(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--db", str(self.path), *argv])
        return code, out.getvalue(), err.getvalue()

    def ok(self, *argv: str) -> str:
        code, out, err = self.run(*argv)
        assert code == 0, f"spo-tui {' '.join(argv)} as {self.name}: exit {code}: {err}"
        return out

    def spawn(self, *argv: str) -> subprocess.Popen:
        """``spo-tui ARGV`` in a real subprocess, as this person on their machine."""
        return subprocess.Popen(
            [sys.executable, "-m", "spo_tui", "--db", str(self.path), *argv],
            env={**os.environ, **self.env()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def queue(self) -> list[dict[str, Any]]:
        return json.loads(self.ok("queue", "--json", "--view", "all", "--limit", "1000"))

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.active():
            db = open_db(self.path, create=False)
            try:
                return [tuple(r) for r in db.execute(sql, params).fetchall()]
            finally:
                db.close()

    def items(self) -> list[tuple]:
        """The state of every item: what every replica must agree on."""
        return self.rows(
            "SELECT id, kind, crn, status, due, snoozed_until, assigned_to, closed_note, waiting_on, waiting_until "
            "FROM items ORDER BY id"
        )


def build_team_store(replica: Replica) -> dict[str, str]:
    """The SPO's store before the hub: a PO, a PSO, the CASPO, two cases and two SBARs."""
    with replica.active():
        db = open_db(replica.path)
        try:
            insert_spo(db)
            ctx = make_context(db, load_rules(), clock=fixed_clock(NOW))
            intake.add_staff(ctx, PO, "PO", team="Team A")
            intake.add_staff(ctx, PSO, "PSO", team="Team A")
            intake.add_staff(ctx, CASPO, "CASPO", team="Team A")
            intake.add_case(
                ctx, HIGH_CRN, "Alex Example", PO, "HIGH", "LICENCE", "2026-08-01", sentence_end="2027-08-01"
            )
            intake.add_case(
                ctx, LOW_CRN, "Bo Sample", PSO, "LOW", "COMMUNITY_ORDER", "2026-11-10", sentence_end="2027-11-09"
            )
            first = intake.raise_sbar(
                ctx, HIGH_CRN, PO, "Missed two appointments", "On licence", "Risk rising", "Warning"
            )
            second = intake.raise_sbar(ctx, LOW_CRN, PSO, "New address", "Community order", "Stable", "Note it")
        finally:
            db.close()
    return {"first": first.item_id or "", "second": second.item_id or ""}


@pytest.fixture
def team(hub, tmp_path):
    """A hub with Team A's SPO (Sam Spo, whose store it is), CASPO (Cas Admin) and the PDU head (Dee Head),
    each connected from their own replica: ``(spo, caspo, head, ids)``, ids of the two SBARs."""
    init_hub(hub)
    spo = Replica("SPO", tmp_path / "spo-laptop", add_person(hub, "Sam Spo", "SPO", "Team A"))
    caspo = Replica("CASPO", tmp_path / "caspo-desktop", add_person(hub, CASPO, "CASPO", "Team A"))
    head = Replica("PDU head", tmp_path / "head", add_person(hub, "Dee Head", "PDU head"))
    ids = build_team_store(spo)
    assert "Connected" in spo.ok("connect", spo.url)
    caspo.ok("connect", caspo.url)
    head.ok("connect", head.url)
    return spo, caspo, head, ids
