"""What a user configures: their keys (``[keymap]`` in config.toml) and their rules (rules.toml).

Real files in each test's own folders (``conftest._isolated_paths``): the config file is found where
spo-tui looks for it, in the user config folder under ``XDG_CONFIG_HOME``.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import NOW, clock, read_rows, ui_team
from rich.console import Console

from spo_tui.app import SpoApp, known_binding_ids
from spo_tui.cli import main
from spo_tui.config import data_dir, load_keymap, load_rules, user_config_path
from spo_tui.domain.errors import ValidationError
from spo_tui.screens.help import HelpScreen
from spo_tui.services import intake


def write_config(text: str) -> Path:
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def team_db(tmp_path, monkeypatch):
    """A small team with one urgent SBAR in the queue."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    intake.raise_sbar(
        ctx, "X123456", "Pat Officer", "Partner disclosed threats", "On licence", "Risk has risen", "Recall?", "urgent"
    )
    ctx.db.close()
    return path


def help_text(app) -> str:
    console = Console(width=120, file=io.StringIO(), record=True)
    for widget in app.screen.query(".help-keys, .help-section"):
        console.print(widget.content)
    return console.export_text()


# --- Keys ----------------------------------------------------------------------------------------


def test_the_config_file_is_config_toml_in_the_user_config_folder(tmp_path):
    assert user_config_path() == tmp_path / "home" / "xdg_config_home" / "spo-tui" / "config.toml"
    assert load_keymap(known_binding_ids) == {}  # no file: no keymap


async def test_a_keymap_in_the_config_file_moves_a_key(team_db):
    write_config('# my keys\n[keymap]\ndecide = "D"\n')
    app = SpoApp(team_db, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("2")  # SBARs: the SBAR is highlighted
        await pilot.pause()
        await pilot.press("d")  # the old key does nothing now
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
        shown = {
            binding.key: binding.description
            for binding in app.screen.active_bindings.values()
            for binding in [binding.binding]
            if binding.show
        }
        assert shown.get("D") == "Decide" and "d" not in shown  # the footer shows the key in force
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Decide (D)" in titles
        await pilot.press("D")  # the new key decides
        await pilot.pause()
        assert type(app.screen).__name__ == "OversightForm"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = help_text(app)
    decide = next(line for line in text.splitlines() if "Record the decision as an oversight entry" in line)
    assert re.match(r"\s*D\s+Decide\b", decide), decide
    assert read_rows(team_db, "SELECT COUNT(*) FROM oversight_entries") == [(0,)]


async def test_a_keymap_moves_a_view_key_on_the_filter_line(team_db):
    write_config('[keymap]\nfilter_sbar = "S"\n')
    app = SpoApp(team_db, clock=clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        assert "S SBARs" in str(app.screen.query_one("#filters").render())
        await pilot.press("S")
        await pilot.pause()
        assert app.screen.filter_kind == "sbar"


async def test_an_unknown_binding_id_stops_the_app_with_one_line(team_db, capsys):
    path = write_config('[keymap]\ndecid = "D"\n')
    app = SpoApp(team_db, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
    assert app.return_code == 2
    said = capsys.readouterr().err  # printed as the app exits, folded to the terminal's width
    expected = f"{path} line 2: [keymap] decid: no key has that id; did you mean decide?"
    assert "".join(said.split()) == "".join(expected.split())


def test_the_cli_refuses_an_unknown_binding_id_before_the_screen_opens(team_db, capsys):
    path = write_config('[keymap]\nfilter_wating = "w"\n')
    assert main(["--db", str(team_db)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"spo-tui: {path} line 2: [keymap] filter_wating: no key has that id; did you mean filter_waiting?"
    ]


def test_a_key_that_is_not_text_is_refused():
    path = write_config("[keymap]\ndecide = 4\n")
    with pytest.raises(ValidationError) as refused:
        load_keymap(known_binding_ids)
    assert str(refused.value) == f'{path} line 2: [keymap] decide must be a key in quotes, e.g. decide = "D", not 4'


def test_an_unknown_table_in_the_config_file_is_refused():
    path = write_config('[keymaps]\ndecide = "D"\n')
    with pytest.raises(
        ValidationError, match=re.escape(f"{path} line 1: unknown section [keymaps]; did you mean [keymap]?")
    ):
        load_keymap(known_binding_ids)


def test_a_key_outside_the_keymap_table_is_refused():
    path = write_config('decide = "D"\n')
    with pytest.raises(ValidationError) as refused:
        load_keymap(known_binding_ids)
    assert str(refused.value) == f"{path} line 1: decide is outside any table: put it under [keymap]"


def test_every_command_and_form_key_has_an_id_a_keymap_may_name():
    ids = known_binding_ids()
    assert {"decide", "filter_waiting", "case_note", "oversight_save", "help_close", "confirm_yes"} <= ids


# --- Rules ---------------------------------------------------------------------------------------


def test_the_shipped_rules_load_and_a_copy_of_them_is_accepted(tmp_path):
    shipped = load_rules(tmp_path / "absent.toml")
    assert shipped.get("touch_points", "first_within_days") == 21
    copy = tmp_path / "rules.toml"
    copy.write_text((data_dir() / "rules.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_rules(copy).raw == shipped.raw


def test_a_misspelt_section_is_refused_naming_the_line_and_the_nearest_section(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("# my team's rules\n\n[touch_point]\nfirst_within_days = 14\n", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        load_rules(path)
    assert str(refused.value) == f"{path} line 3: unknown section [touch_point]; did you mean [touch_points]?"


def test_an_unknown_key_in_a_known_section_is_refused(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[supervision]\none_to_one_weeks = 5\none_to_one_week = 4\n", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        load_rules(path)
    assert (
        str(refused.value)
        == f"{path} line 3: unknown key one_to_one_week in [supervision]; did you mean one_to_one_weeks?"
    )


def test_a_misspelt_nested_section_and_key_are_refused(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[urgency.kinds]\nsbar = 40\n", encoding="utf-8")
    with pytest.raises(
        ValidationError, match=re.escape("line 1: unknown section [urgency.kinds]; did you mean [urgency.kind]?")
    ):
        load_rules(path)
    path.write_text("[urgency]\noverdue = 25\ntime_critical.pionts = 2000\n", encoding="utf-8")
    with pytest.raises(
        ValidationError, match=re.escape("line 3: unknown key pionts in [urgency.time_critical]; did you mean points?")
    ):
        load_rules(path)


def test_the_cli_refuses_a_misspelt_rules_file_in_one_line(team_db, tmp_path, monkeypatch, capsys):
    path = tmp_path / "team-rules.toml"
    path.write_text("[touch_point]\nfirst_within_days = 14\n", encoding="utf-8")
    monkeypatch.setenv("SPO_TUI_RULES", str(path))
    assert main(["--db", str(team_db), "queue"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"spo-tui: {path} line 1: unknown section [touch_point]; did you mean [touch_points]?"
    ]
