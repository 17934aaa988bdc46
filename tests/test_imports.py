"""What starting the TUI imports: only what the first screen needs (the rest on first use).

Each check runs in a new interpreter and looks at ``sys.modules`` (what was imported), not at times:
a change that brings a heavy module back onto the start-up path fails here, whatever the machine.
Measured with ``python -X importtime -c "import spo_tui.app"`` (see the README's benchmark).

What ``import spo_tui.app`` still brings and why: sqlite-utils, and with it click and pluggy
(``sqlite_utils.utils`` and ``sqlite_utils.hookspecs`` import click at module level), since the store
opens the database through sqlite-utils before the first screen is drawn.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def imported_after(code: str) -> set[str]:
    """The modules imported once ``code`` has run in a new interpreter."""
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def under(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_importing_the_app_leaves_out_what_the_first_screen_does_not_need():
    modules = imported_after("import spo_tui.app")
    # holidays: on the first working-day sum (the background refresh, after the first paint).
    # cryptography: when the device key is first read or a signature checked (a save, the record's check).
    # psycopg: the hub's client, on the first sync; keyring and SQLCipher: an encrypted store only.
    assert under(modules, "holidays", "cryptography", "psycopg", "keyring", "sqlcipher3") == []
    # The screens other than the first, and the demo, are imported when first shown or asked for.
    assert under(modules, "spo_tui.screens.case", "spo_tui.screens.help", "spo_tui.screens.admin", "spo_tui.demo") == []


def test_working_days_load_the_england_and_wales_calendar_alone():
    modules = imported_after(
        """
        from datetime import date
        import spo_tui.app
        from spo_tui.domain.dates import add_working_days, is_working_day, not_working_because
        assert not is_working_day(date(2026, 12, 25)) and not is_working_day(date(2026, 12, 28))
        assert not_working_because(date(2027, 5, 3)) == "a bank holiday (May Day)"
        assert is_working_day(date(2027, 3, 17))  # St Patrick's Day: Northern Ireland's, not England's
        assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
        """
    )
    assert "holidays" in modules
    # holidays' countries package imports every country's calendar (some 250): none is loaded.
    assert under(modules, "holidays.countries", "holidays.financial") == []


def test_the_calendar_loaded_alone_is_the_one_holidays_gives_for_england():
    import holidays

    from spo_tui.domain.dates import _england_and_wales

    for year in (1995, 2002, 2012, 2020, 2022, 2023, 2026, 2027, 2099):
        assert dict(_england_and_wales(year).items()) == dict(
            holidays.country_holidays("GB", subdiv="ENG", years=year).items()
        )


def test_opening_the_store_does_not_look_for_sqlite_utils_plugins(tmp_path):
    """sqlite-utils' plugins are looked for in every installed package's entry points (15 ms of each
    start): spo-tui uses none, and none should touch the record's connection."""
    path = tmp_path / "t.db"
    modules = imported_after(
        f"""
        import pluggy
        looked: list = []
        load = pluggy.PluginManager.load_setuptools_entrypoints
        pluggy.PluginManager.load_setuptools_entrypoints = lambda self, *a, **k: (looked.append(a), load(self, *a, **k))[1]
        from spo_tui.store.db import open_db
        open_db({str(path)!r}).close()
        assert looked == [], looked
        """
    )
    assert "spo_tui.store.db" in modules
