"""The layers stay apart: domain, store and services never load the UI; screens and widgets hold no SQL."""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import spo_tui

PACKAGE = Path(spo_tui.__file__).resolve().parent
SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE TABLE|ALTER TABLE|DROP TABLE)\s")


def modules_of(package: str) -> list[str]:
    path = PACKAGE / package.split(".", 1)[1]
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]


def test_the_layers_have_modules_to_check():
    assert "spo_tui.domain.rules" in modules_of("spo_tui.domain")
    assert "spo_tui.store.db" in modules_of("spo_tui.store")
    assert "spo_tui.services.decisions" in modules_of("spo_tui.services")


def test_domain_store_and_services_import_no_textual():
    modules = modules_of("spo_tui.domain") + modules_of("spo_tui.store") + modules_of("spo_tui.services")
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not loaded, loaded\n"
        "print(len(" + repr(modules) + "))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(len(modules))


def test_the_domain_does_no_io_and_knows_no_database():
    code = (
        "import importlib, sys\n"
        f"for name in {modules_of('spo_tui.domain')!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlite3', 'sqlite_utils', 'textual', 'rich')\n"
        "             or m.startswith('spo_tui.store') or m.startswith('spo_tui.services'))\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def ui_sources() -> list[Path]:
    return [
        p
        for folder in ("screens", "widgets")
        for p in sorted((PACKAGE / folder).glob("**/*.py"))
        if p.name != "__init__.py"
    ]


def test_screens_and_widgets_contain_no_sql():
    sources = ui_sources()
    if not sources:
        pytest.skip("no screens or widgets yet")
    offenders = [
        f"{p.relative_to(PACKAGE)}:{n}: {line.strip()}"
        for p in sources
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if SQL.search(line)
    ]
    assert offenders == []


def test_the_sql_check_would_catch_sql():
    assert SQL.search('db.execute("SELECT * FROM items")')
    assert SQL.search("UPDATE items SET status = 'closed'")
    assert not SQL.search("Select a case to see its timeline")
