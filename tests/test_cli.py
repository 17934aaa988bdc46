"""The ``spo-tui`` command run as a real process, as scripts and new users run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

TODAY = "2026-11-23"


def run(*args, env_extra=None, tmp_path=None):
    env = {**os.environ, "SPO_TUI_TODAY": TODAY}
    if tmp_path is not None:
        env["SPO_TUI_RULES"] = str(tmp_path / "no-rules.toml")
        env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
        env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
        env.pop("SPO_TUI_DB", None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    path = tmp / "demo.db"
    result = run("demo", "--db", str(path), "--seed", "7", tmp_path=tmp)
    assert result.returncode == 0, result.stderr
    return tmp, path


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert re.match(r"^spo-tui \d+\.\d+\.\d+$", result.stdout.strip())


def test_bad_argument_exits_2_with_one_line():
    result = run("queue", "--kind", "nonsense")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nonsense" in result.stderr


def test_bad_database_path_exits_2(tmp_path):
    result = run("--db", str(tmp_path / "missing" / "x.db"), "queue", tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("spo-tui: no database at")
    folder = run("--db", str(tmp_path), "queue", tmp_path=tmp_path)
    assert folder.returncode == 2
    assert "is a folder" in folder.stderr


def test_garbage_file_exits_2(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    result = run("--db", str(junk), "queue", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "is not a spo-tui database (it is not an SQLite database file" in result.stderr
    assert "Traceback" not in result.stderr


def test_queue_json_on_demo(demo_db):
    tmp, path = demo_db
    result = run("--db", str(path), "queue", "--json", tmp_path=tmp)
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert len(items) > 30
    for item in items:
        assert {"id", "kind", "crn", "title", "due", "urgency", "reasons"} <= item.keys()
        assert item["kind"] in {"alert", "sbar", "touch_point", "countersign", "task", "action", "supervision"}
        assert sum(r["points"] for r in item["reasons"]) == item["urgency"]
        assert item["due"] is None or re.match(r"^\d{4}-\d{2}-\d{2}$", item["due"])
    # Immediate-risk alerts first, then by falling urgency.
    kinds = [i["kind"] for i in items]
    assert kinds[:2] == ["alert", "alert"] and "alert" not in kinds[2:]
    rest = [i["urgency"] for i in items[2:]]
    assert rest == sorted(rest, reverse=True)


def test_queue_kind_and_limit(demo_db):
    tmp, path = demo_db
    result = run("--db", str(path), "queue", "--json", "--kind", "countersign", "--limit", "5", tmp_path=tmp)
    items = json.loads(result.stdout)
    assert len(items) == 5 and {i["kind"] for i in items} == {"countersign"}


def test_queue_text_output(demo_db):
    tmp, path = demo_db
    result = run("--db", str(path), "queue", "--limit", "3", tmp_path=tmp)
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert "Alert" in lines[0]
    # Each line starts with the start of the item's id, which ``spo-tui do`` takes as it is.
    task = run("--db", str(path), "queue", "--kind", "task", "--limit", "1", tmp_path=tmp).stdout
    short = task.split()[0]
    assert len(short) == 8
    acted = run("--db", str(path), "do", "done", short, "--minutes", "5", tmp_path=tmp)
    assert acted.returncode == 0, acted.stderr
    assert short not in run("--db", str(path), "queue", tmp_path=tmp).stdout


def test_demo_refuses_to_overwrite_real_database(tmp_path):
    path = tmp_path / "real.db"
    from spo_tui.store.db import open_db

    db = open_db(path)
    db.table("staff").insert({"id": "s1", "name": "Real Person", "role": "SPO", "created_at": "2026-01-01T00:00:00Z"})
    db.close()
    result = run("demo", "--db", str(path), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "not a demo" in result.stderr
    db = open_db(path)
    assert db.execute("SELECT name FROM staff").fetchall() == [("Real Person",)]


def test_demo_is_deterministic_through_the_cli(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    assert run("demo", "--db", str(a), "--seed", "3", tmp_path=tmp_path).returncode == 0
    assert run("demo", "--db", str(b), "--seed", "3", tmp_path=tmp_path).returncode == 0
    qa = run("--db", str(a), "queue", "--json", tmp_path=tmp_path).stdout
    qb = run("--db", str(b), "queue", "--json", tmp_path=tmp_path).stdout
    assert qa == qb and qa.strip() != "[]"


def test_database_file_is_private(demo_db):
    tmp, path = demo_db
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def _first_crn(tmp, path):
    items = json.loads(run("--db", str(path), "queue", "--json", "--kind", "alert", tmp_path=tmp).stdout)
    return items[0]["crn"]


def test_add_commands_print_the_new_id_and_validate(tmp_path):
    path = tmp_path / "add.db"
    assert run("demo", "--db", str(path), tmp_path=tmp_path).returncode == 0
    crn = _first_crn(tmp_path, path)
    from spo_tui.store.db import open_db

    db = open_db(path)
    pp = db.execute("SELECT name FROM staff WHERE role = 'PO' ORDER BY name LIMIT 1").fetchone()[0]
    db.close()
    added = run(
        "--db",
        str(path),
        "add",
        "task",
        "--title",
        "Fire door sticks",
        "--category",
        "health_safety",
        tmp_path=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    task_id = added.stdout.strip()
    assert re.match(r"^[0-9a-f-]{36}$", task_id)
    sbar = run(
        "--db",
        str(path),
        "add",
        "sbar",
        "--crn",
        crn,
        "--by",
        pp,
        "--situation",
        "S",
        "--background",
        "B",
        "--assessment",
        "A",
        "--recommendation",
        "R",
        "--urgency",
        "urgent",
        tmp_path=tmp_path,
    )
    assert sbar.returncode == 0, sbar.stderr
    bad = run(
        "--db", str(path), "add", "alert", "--crn", "12345", "--source", "arrest", "--details", "x", tmp_path=tmp_path
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "spo-tui: '12345' is not a CRN: expected one letter and six digits, e.g. X123456"
    psr = run("--db", str(path), "add", "countersign", "--crn", crn, "--kind", "PSR", "--author", pp, tmp_path=tmp_path)
    assert psr.returncode == 2 and "court date" in psr.stderr
    db = open_db(path)
    assert db.execute("SELECT title FROM items WHERE id = ?", [task_id]).fetchone() == ("Fire door sticks",)
    assert db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 2  # the demo's two; the bad one not added
    db.close()


def test_as_is_checked_a_choice_remembered_and_roles_enforced(tmp_path):
    path = tmp_path / "as.db"
    assert run("demo", "--db", str(path), tmp_path=tmp_path).returncode == 0
    from spo_tui.store.db import open_db

    db = open_db(path)
    caspo = db.execute("SELECT name FROM staff WHERE role = 'CASPO'").fetchone()[0]
    po = db.execute("SELECT name FROM staff WHERE role = 'PO' ORDER BY name LIMIT 1").fetchone()[0]
    db.close()
    unknown = run("--db", str(path), "--as", "Nobody Here", "queue", tmp_path=tmp_path)
    assert unknown.returncode == 2 and "no staff member called 'Nobody Here'" in unknown.stderr
    # Choosing the CASPO (not printing as them) makes them the default next time.
    assert run("--db", str(path), "staff", "use", caspo, tmp_path=tmp_path).returncode == 0
    added = run("--db", str(path), "add", "task", "--title", "Order chairs", "--category", "other", tmp_path=tmp_path)
    db = open_db(path)
    actor = db.execute(
        "SELECT s.name FROM audit_log a JOIN staff s ON s.id = a.actor_id WHERE a.action = 'add_task'"
    ).fetchall()
    db.close()
    assert added.returncode == 0 and actor == [(caspo,)]
    refused = run(
        "--db", str(path), "--as", po, "add", "task", "--title", "X", "--category", "other", tmp_path=tmp_path
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().endswith(f"can add or complete non-operational tasks; {po} is PO")


def test_export_to_a_file_is_private_and_marks_entries(tmp_path):
    path = tmp_path / "exp.db"
    assert run("demo", "--db", str(path), tmp_path=tmp_path).returncode == 0
    out = tmp_path / "oversight.csv"
    result = run(
        "--db",
        str(path),
        "export",
        "oversight",
        "--since",
        "2026-11-01",
        "--output",
        str(out),
        "--mark-entered",
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    import csv

    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["crn", "date", "time", "type_code"]
    assert result.stderr.startswith(f"{len(rows) - 1} oversight entries written to")
    again = run("--db", str(path), "export", "oversight", "--since", "2026-11-01", tmp_path=tmp_path)
    assert again.stdout.splitlines() == [",".join(rows[0])]  # all marked entered: only the header is left


def test_the_oversight_export_has_no_staff_record_on_no_case(demo_db):
    """Issue #12: a staff one-to-one is not a case contact: never an MO1 on an empty CRN."""
    import csv
    import io
    import sqlite3

    tmp, path = demo_db
    con = sqlite3.connect(path)
    try:
        no_case = con.execute("SELECT COUNT(*) FROM oversight_entries WHERE crn IS NULL").fetchone()[0]
        on_cases = con.execute("SELECT COUNT(*) FROM oversight_entries WHERE crn IS NOT NULL").fetchone()[0]
    finally:
        con.close()
    assert no_case > 0  # the demo holds supervision sessions
    result = run("--db", str(path), "export", "oversight", tmp_path=tmp)
    assert result.returncode == 0, result.stderr
    exported = list(csv.DictReader(io.StringIO(result.stdout)))
    assert exported and all(r["crn"] for r in exported)
    assert len(exported) <= on_cases
    text = run("--db", str(path), "export", "oversight", "--format", "text", tmp_path=tmp)
    assert "CRN: \n" not in text.stdout and "(none)" not in text.stdout
