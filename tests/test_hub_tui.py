"""The app on a store connected to a team hub: the header says where the store stands with the hub,
changes flow in the background while the queue keeps answering keys, and the team's changes appear
without restarting. A store without a hub shows and loads nothing of it."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from conftest import select_item, ui_team
from hub_replicas import team  # the fixture

from spo_tui.widgets.header import REFUSED

pytestmark = pytest.mark.timeout(120)

SIZES = [(120, 40), (80, 24)]
SYNC_WORDS = ("sync", "offline", "waiting", "⟳")


def header(app) -> str:
    """The header line as the user sees it."""
    return app.screen._compositor.render_strips()[0].text


async def until(pilot, condition, seconds: float = 20.0) -> bool:
    """Wait (the app running) until ``condition()`` holds, or ``seconds`` pass."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        await pilot.pause(0.05)
    return bool(condition())


async def synced(app, pilot, ended: int = 1) -> None:
    """Wait until ``ended`` background syncs have ended (the first: the start-up one)."""
    assert await until(pilot, lambda: app.syncs_ended >= ended and not app.syncing)
    await pilot.pause()


def point_hub_at(replica, url: str) -> None:
    """Change the hub a replica's store syncs with, as if the hub had moved (a direct write)."""
    with sqlite3.connect(replica.path) as conn:
        conn.execute("UPDATE sync_state SET value = ? WHERE key = 'hub'", [url])
    conn.close()


def waiting(replica) -> int:
    return replica.rows("SELECT COUNT(*) FROM changes WHERE pushed = 0")[0][0]


def run_elsewhere(replica, *argv: str) -> str:
    """``spo-tui ARGV`` as another person on their own machine (a process of its own: the app under
    test keeps this process's folders and device key)."""
    done = replica.spawn(*argv)
    out, err = done.communicate(timeout=60)
    assert done.returncode == 0, f"spo-tui {' '.join(argv)} as {replica.name}: {err}"
    return out


# --- Without a hub -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_store_without_a_hub_says_nothing_of_syncing(tmp_path, running_app, size):
    path = tmp_path / "team.db"
    ui_team(path).db.close()
    async with running_app(path, size=size) as (app, pilot):
        await pilot.pause(1.2)  # past the moment a connected store's first sync would start
        line = header(app)
        assert "Sam Spo (SPO)" in line
        assert not any(word in line.lower() for word in SYNC_WORDS), line
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert not any("hub" in title.lower() for title in titles)
        await pilot.press("S")
        await pilot.pause()
        assert app.sync_status is None and not app.syncing


def test_a_store_without_a_hub_never_loads_the_postgresql_driver(tmp_path):
    path = tmp_path / "team.db"
    ui_team(path).db.close()
    script = textwrap.dedent(
        """
        import asyncio, sys
        from spo_tui.app import SpoApp

        async def main():
            app = SpoApp(sys.argv[1])
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause(1.5)
                assert type(app.screen).__name__ == "TodayScreen", app.screen
            print(sorted(m for m in sys.modules if m.split(".")[0] == "psycopg"))

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


# --- A hub out of reach --------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_hub_out_of_reach_shows_offline_and_what_waits(team, running_app, size):
    spo, _caspo, _head, _ids = team
    point_hub_at(spo, "postgresql://x@127.0.0.1:1/none")
    with spo.active():
        async with running_app(spo.path, size=size) as (app, pilot):
            await synced(app, pilot)
            assert app.sync_status.offline
            await pilot.pause(1.2)  # the header's count follows the rule-made work written at start
            line = header(app)
            count = waiting(spo)
            assert count > 0  # the rule-made work of the day, made here while offline
            if size[0] >= 110:
                assert re.search(rf"synced \d\d:\d\d · {count} changes waiting · offline", line), line
            else:
                assert re.search(rf"⟳\d\d:\d\d ·{count} offline", line), line
                assert "Sam Spo (SPO, Team A)" in line  # the short form leaves room for who is acting
            assert [c.title for c in app.get_system_commands(app.screen) if "hub" in c.title] == [
                "Sync with the hub now (S)"
            ]
            assert not [n for n in app._notifications if "hub" in str(n.message)]  # the header says it


async def test_the_queue_answers_keys_while_a_sync_waits_for_the_hub(team, running_app, monkeypatch):
    spo, _caspo, _head, ids = team
    from spo_tui.store import hub_client

    monkeypatch.setattr(hub_client, "CONNECT_TIMEOUT", 4)
    with socket.socket() as silent:  # a hub that takes the connection and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        point_hub_at(spo, f"postgresql://x@127.0.0.1:{silent.getsockname()[1]}/none")
        with spo.active():
            async with running_app(spo.path) as (app, pilot):
                assert await until(pilot, lambda: app.syncing, 5)
                screen = app.screen
                assert {ids["first"], ids["second"]} <= {e.id for e in screen.entries}
                await pilot.press("2")  # SBARs
                assert app.syncing and {e.kind.value for e in screen.entries} == {"sbar"}
                await pilot.press("down")
                assert app.syncing and screen.current.id == screen.entries[1].id
                await pilot.press("0")
                assert app.syncing and len(screen.entries) > 2
                assert await until(pilot, lambda: not app.syncing, 15)
                assert app.sync_status.offline and "offline" in header(app)


# --- With the hub --------------------------------------------------------------------------------


async def test_a_change_made_on_another_machine_appears_after_a_sync_from_the_palette(team, running_app):
    spo, caspo, _head, ids = team
    with spo.active():
        async with running_app(spo.path) as (app, pilot):
            await synced(app, pilot)
            screen = app.screen
            shown = [e.id for e in screen.entries]
            first = shown.index(ids["first"])
            keep = shown[first + 1] if first + 1 < len(shown) else shown[first - 1]
            screen.query_one("#queue").move_cursor(row=shown.index(keep))
            await pilot.pause()
            # Meanwhile, on the CASPO's desktop:
            run_elsewhere(caspo, "do", "snooze", ids["first"], "--until", "2027-01-04")
            run_elsewhere(caspo, "sync")
            assert ids["first"] in [e.id for e in screen.entries]  # nothing comes in by itself yet

            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Sync with the hub", "enter")
            assert await until(pilot, lambda: ids["first"] not in [e.id for e in screen.entries])
            await synced(app, pilot, 2)
            assert screen.current.id == keep  # the cursor stays on the item it was on
            assert re.search(r"synced \d\d:\d\d(?! ·)", header(app)), header(app)
            assert any("took in" in str(n.message).lower() for n in app._notifications)
    assert spo.rows("SELECT snoozed_until FROM items WHERE id = ?", (ids["first"],)) == [("2027-01-04",)]


async def test_a_decision_made_in_the_app_reaches_the_hub_within_seconds(team, running_app):
    spo, caspo, _head, ids = team
    with spo.active():
        async with running_app(spo.path) as (app, pilot):
            await synced(app, pilot)
            await select_item(app, pilot, ids["second"])
            await pilot.press("z")
            await pilot.pause()
            await pilot.press(*"04/01/2027", "enter")
            await pilot.pause()
            assert spo.rows("SELECT snoozed_until FROM items WHERE id = ?", (ids["second"],)) == [("2027-01-04",)]
            assert await until(pilot, lambda: app.sync_status.waiting > 0, 5)  # the header counts it
            assert await until(pilot, lambda: waiting(spo) == 0 and not app.syncing, 15)  # sent, unasked
            assert "waiting" not in header(app)
    run_elsewhere(caspo, "sync")
    assert caspo.rows("SELECT snoozed_until FROM items WHERE id = ?", (ids["second"],)) == [("2027-01-04",)]


async def test_a_refusal_by_the_hub_is_said_once_and_shown_briefly(team, running_app):
    spo, _caspo, _head, _ids = team
    (hub_url,) = spo.rows("SELECT value FROM sync_state WHERE key = 'hub'")[0]
    point_hub_at(spo, re.sub(r"://[^@]+@", "://nobody_here@", hub_url))  # a login the hub does not know
    with spo.active():
        async with running_app(spo.path) as (app, pilot):
            assert await until(pilot, lambda: app.sync_refused)
            assert REFUSED in header(app)
            await synced(app, pilot)
            app.sync_now()  # the next sync is refused the same way: not said again
            await synced(app, pilot, 2)
            said = [str(n.message) for n in app._notifications if "refused" in str(n.message)]
            assert len(said) == 1 and "nobody_here" in said[0], said
            assert not app.sync_status.offline
            app.sync_refused = False  # the few seconds are up
            await pilot.pause()
            assert REFUSED not in header(app) and "synced" in header(app)


def test_the_sync_key_can_be_moved_by_its_id_like_every_other():
    from spo_tui.app import known_binding_ids

    assert "sync_now" in known_binding_ids()
