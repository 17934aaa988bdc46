"""Every command defined in ``commands.py`` resolves to an action on the screen it is bound on (or
on the app, for ``app.…``): a key in the footer, help or palette that would do nothing fails here."""

from __future__ import annotations

import re

import pytest

from spo_tui import commands
from spo_tui.app import SpoApp
from spo_tui.screens.admin import AdminScreen
from spo_tui.screens.case import CaseScreen
from spo_tui.screens.checkin import CheckinScreen
from spo_tui.screens.monthly import MonthlyScreen
from spo_tui.screens.protected_hour import ProtectedHourScreen
from spo_tui.screens.supervision import SupervisionScreen
from spo_tui.screens.team import TeamScreen
from spo_tui.screens.today import TodayScreen

SCREENS = {
    "today": (TodayScreen, commands.TODAY_COMMANDS + commands.FILTER_COMMANDS),
    "case": (CaseScreen, commands.CASE_COMMANDS),
    "admin": (AdminScreen, commands.ADMIN_COMMANDS),
    "checkin": (CheckinScreen, commands.CHECKIN_COMMANDS),
    "protected_hour": (ProtectedHourScreen, commands.PROTECTED_HOUR_COMMANDS),
    "supervision": (SupervisionScreen, commands.SUPERVISION_COMMANDS),
    "team": (TeamScreen, commands.TEAM_COMMANDS),
    "monthly": (MonthlyScreen, commands.MONTHLY_COMMANDS),
}
ACTION = re.compile(r"^(?:(app|screen)\.)?([a-z_]+)(?:\(.*\))?$")


def cases():
    for screen_name, (screen, defined) in SCREENS.items():
        for command in defined:
            yield pytest.param(screen, command, id=f"{screen_name}:{command.id}")


@pytest.mark.parametrize("screen, command", cases())
def test_every_command_has_its_action(screen, command):
    match = ACTION.match(command.action)
    assert match, f"{command.id}: cannot read the action {command.action!r}"
    where, name = match.groups()
    owner = SpoApp if where == "app" else screen
    assert callable(getattr(owner, f"action_{name}", None)), f"{command.id}: {owner.__name__} has no action_{name}"


def test_every_screen_binds_the_commands_defined_for_it():
    for screen, defined in SCREENS.values():
        bound = {b.id for b in screen.BINDINGS if getattr(b, "id", None)}
        missing = [c.id for c in defined if c.id not in bound]
        assert missing == [], f"{screen.__name__} does not bind {missing}"


def test_ids_are_unique_so_a_keymap_names_one_binding():
    ids = [c.id for group in commands.ALL_COMMANDS.values() for c in group]
    assert len(ids) == len(set(ids))
