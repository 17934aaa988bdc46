"""scratch"""
from __future__ import annotations

import pytest
from hub_replicas import team  # noqa: F401

pytestmark = pytest.mark.timeout(120)


def test_scratch(team):
    spo, caspo, head, ids = team
    spo.ok("do", "decide", ids["first"], "--outcome", "agreed", "--text", "Warning letter agreed, review in a week")
    spo.ok("sync")
    caspo.ok("sync")
    head.ok("sync")
    for r in (spo, caspo, head):
        print(r.name, r.run("verify"))
        print(r.name, r.run("verify", "--hub"))
    assert 0
