"""Snapshots of the main screens on the demo team at 80×24 and 120×40.

Regenerate after an intended change with ``pytest tests/test_snapshots.py --snapshot-update`` and
look at the report before committing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from conftest import NOW

from spo_tui.app import SpoApp
from spo_tui.demo import write_demo

TODAY = date(2026, 11, 23)
SIZES = [(80, 24), (120, 40)]


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("snap") / "demo.db"
    write_demo(path, seed=1, scale="team", today=TODAY)
    return path


def app_for(path):
    return SpoApp(path, clock=lambda: NOW)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_today(snap_compare, demo_path, size):
    assert snap_compare(app_for(demo_path), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_case(snap_compare, demo_path, size):
    assert snap_compare(app_for(demo_path), terminal_size=size, press=["c"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_oversight_form(snap_compare, demo_path, size):
    assert snap_compare(app_for(demo_path), terminal_size=size, press=["2", "d"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, demo_path, size):
    assert snap_compare(app_for(demo_path), terminal_size=size, press=["question_mark"])
