"""What a team does: sentence management (the default) or court [000 §3.2; span of control 1:10 /
1:12, 002]. Set by an SPO or CASPO for a team that has staff, audited, travelling to the hub as the
staff list does (every team reads it)."""

from __future__ import annotations

import pytest
from conftest import NOW, PO, fixed_clock, link_me, rows
from test_roles import cli

from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.services.admin import set_team_kind
from spo_tui.services.context import make_context
from spo_tui.store import queries


def test_a_team_is_sentence_management_until_said_to_be_a_court_team(ctx):
    assert queries.team_kind(ctx.db, "Team A") == "sentence_management"
    result = set_team_kind(ctx, "team a", "court")
    assert result.message == "Team A is now a court team"
    assert queries.team_kind(ctx.db, "Team A") == "court"
    assert queries.team_kinds(ctx.db) == {"Team A": "court"}
    (logged,) = rows(ctx.db, "SELECT action, entity, entity_id FROM audit_log WHERE action = 'set_team_kind'")
    assert logged == {"action": "set_team_kind", "entity": "team", "entity_id": "Team A"}
    assert set_team_kind(ctx, "Team A", "court").message == "Team A is already a court team"


def test_an_unknown_team_or_kind_is_refused_and_nothing_changes(ctx):
    with pytest.raises(ValidationError, match="no member of staff is in a team called Team Z"):
        set_team_kind(ctx, "Team Z", "court")
    with pytest.raises(ValidationError):
        set_team_kind(ctx, "Team A", "prison")
    assert queries.team_kinds(ctx.db) == {}


def test_a_practitioner_cannot_set_what_a_team_does(ctx, rules):
    po = make_context(ctx.db, rules, PO, clock=fixed_clock(NOW))
    with pytest.raises(NotAllowed):
        set_team_kind(po, "Team A", "court")
    assert queries.team_kinds(ctx.db) == {}


def test_team_kind_on_the_command_line(ctx, tmp_path):
    link_me(ctx.db)
    ctx.db.close()
    done = cli(tmp_path, "staff", "team-kind", "Team A", "court")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Team A is now a court team"
    wrong = cli(tmp_path, "staff", "team-kind", "Team A", "prison")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
