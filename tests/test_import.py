"""Importing CSV extracts: whole or not at all, exact reports, upserts, messy files, speed."""

from __future__ import annotations

import csv
import json
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import CASPO, HIGH_CRN, LOW_CRN, NOW, PO, PSO, fixed_clock, insert_spo, row, rows, snapshot, staff_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spo_tui.domain import extracts
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.extracts import COLUMNS, Lookups, check_rows, name_key, read_header
from spo_tui.services.context import make_context, setup_context
from spo_tui.services.importer import KINDS, ImportReport, RowProblem, import_file

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
NOW_ISO = "2026-11-23T09:00:00Z"

CASES_HEADER = "crn,name,practitioner,rosh,sentence_type,sentence_start"


def write(folder: Path, name: str, text: str, *, bom: bool = False, crlf: bool = False) -> Path:
    """A file with exactly these bytes: UTF-8, optionally with a BOM and CRLF line ends."""
    if crlf:
        text = text.replace("\n", "\r\n")
    path = folder / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def audits(db, action: str) -> list[dict]:
    return rows(db, "SELECT * FROM audit_log WHERE action = ? ORDER BY id", [action])


# --- Cases ---------------------------------------------------------------------------------------

CLEAN_CASES = """\
crn,name,practitioner,rosh,sentence_type,sentence_start,sentence_end,mappa_category,mappa_level,tier,likelihood,flags
A111111,Ann One,Pat Officer,MEDIUM,COMMUNITY_ORDER,01/10/2026,30/09/2027,,,C1,LOW,ADVP:01/03/2027;RMDO
B222222,Ben Two,Pip Services,LOW,SUSPENDED_SENTENCE_ORDER,2026-09-15,,,,D0,,
X123456,Alex Example,Pat Officer,HIGH,LICENCE,01/08/2026,2027-08-01,2,1,B2,MEDIUM,
"""


def test_a_clean_cases_file_is_imported_with_a_summary_and_one_audit_row(ctx, db, tmp_path):
    report = import_file(ctx, "cases", write(tmp_path, "cases.csv", CLEAN_CASES))

    assert report.ok
    assert (report.rows, report.added, report.updated, report.unchanged) == (3, 2, 0, 1)
    assert report.render() == "Import cases from cases.csv: 3 rows: 2 added, 0 updated, 1 unchanged."
    ann = row(db, "SELECT * FROM cases WHERE crn = 'A111111'")
    assert ann == {
        "crn": "A111111",
        "name": "Ann One",
        "practitioner_id": staff_id(db, PO),
        "rosh": "MEDIUM",
        "likelihood": "LOW",
        "mappa_category": None,
        "mappa_level": None,
        "tier": "C1",
        "sentence_type": "COMMUNITY_ORDER",
        "sentence_start": "2026-10-01",
        "sentence_end": "2027-09-30",
        "created_at": NOW_ISO,
        "updated_at": NOW_ISO,
        "release_date": None,
        "rotl_date": None,
        "handover_date": None,
        "lifer_panel_date": None,
        "victim_contact": 0,
    }
    assert rows(db, "SELECT code, description, review_date FROM case_flags WHERE crn = 'A111111' ORDER BY code") == [
        {"code": "ADVP", "description": "Domestic abuse perpetrator", "review_date": "2027-03-01"},
        {"code": "RMDO", "description": "Mental health issues", "review_date": None},
    ]
    ben = row(db, "SELECT * FROM cases WHERE crn = 'B222222'")
    assert (ben["sentence_end"], ben["likelihood"], ben["tier"]) == (None, None, "D0")
    [audit] = audits(db, "import_cases")
    assert (audit["entity"], audit["entity_id"], audit["actor_id"], audit["at"]) == (
        "import",
        "cases.csv",
        "spo-0001",
        NOW_ISO,
    )
    assert json.loads(audit["new"]) == {"added": 2, "updated": 0, "unchanged": 1}
    assert audit["old"] is None


def test_importing_the_same_file_again_changes_nothing_and_writes_nothing(ctx, db, tmp_path):
    path = write(tmp_path, "cases.csv", CLEAN_CASES)
    import_file(ctx, "cases", path)
    before = snapshot(db)

    report = import_file(ctx, "cases", path)

    assert report.render() == "Import cases from cases.csv: 3 rows: 0 added, 0 updated, 3 unchanged."
    # Decision: an import that changes nothing writes no audit row either.
    assert snapshot(db) == before


def test_a_messy_file_with_bom_crlf_mixed_dates_blank_lines_and_spaces_imports(ctx, db, tmp_path):
    text = (
        " CRN , Name ,PRACTITIONER,RoSH,Sentence Type,sentence-start,Sentence_End,Likelihood_of_Reoffending\n"
        "\n"
        " a111111 ,  Ann One ,pat officer, medium ,community order, 1/10/2026 ,2027-09-30, very high \n"
        ",,,,,,,\n"
        "   \n"
        "B222222,Ben Two,PIP SERVICES,Very High,licence,2026-09-15,15/09/2027,\n"
        "\n"
    )
    report = import_file(ctx, "cases", write(tmp_path, "messy.csv", text, bom=True, crlf=True))

    assert report.render() == "Import cases from messy.csv: 2 rows: 2 added, 0 updated, 0 unchanged."
    assert rows(
        db,
        "SELECT crn, name, practitioner_id, rosh, sentence_type, sentence_start, sentence_end, likelihood "
        "FROM cases WHERE crn IN ('A111111', 'B222222') ORDER BY crn",
    ) == [
        {
            "crn": "A111111",
            "name": "Ann One",
            "practitioner_id": staff_id(db, PO),
            "rosh": "MEDIUM",
            "sentence_type": "COMMUNITY_ORDER",
            "sentence_start": "2026-10-01",
            "sentence_end": "2027-09-30",
            "likelihood": "VERY_HIGH",
        },
        {
            "crn": "B222222",
            "name": "Ben Two",
            "practitioner_id": staff_id(db, PSO),
            "rosh": "VERY_HIGH",
            "sentence_type": "LICENCE",
            "sentence_start": "2026-09-15",
            "sentence_end": "2027-09-15",
            "likelihood": None,
        },
    ]


BAD_CASES = """\
crn,name,practitioner,rosh,sentence_type,sentence_start
A111111,Ann One,Pat Officer,MEDIUM,COMMUNITY_ORDER,01/10/2026

A11111,Bad Crn,Pat Officer,LOW,COMMUNITY_ORDER,2026-10-01
a111111,Ann Again,Pat Officer,LOW,COMMUNITY_ORDER,2026-10-01
C333333,Cy Three,Nobody Known,LOW,LICENCE,2026-10-01
D444444,Di Four,Pip Services,HIGH,LICENCE,31/09/2026
"""

BAD_CASES_REPORT = """\
Import cases from bad.csv: 5 rows, 4 problems in 4 rows. Nothing was written.
line 4, crn: 'A11111' is not a CRN: expected one letter and six digits, e.g. X123456
line 5, crn: CRN A111111 is also on line 2
line 6, practitioner: no staff member called 'Nobody Known' (import staff first)
line 7, sentence_start: '31/09/2026' is not a real date"""


@pytest.mark.parametrize("dry_run", [False, True])
def test_any_bad_row_means_nothing_is_written_and_every_problem_is_listed(ctx, db, tmp_path, dry_run):
    before = snapshot(db)

    report = import_file(ctx, "cases", write(tmp_path, "bad.csv", BAD_CASES, crlf=True), dry_run=dry_run)

    assert not report.ok
    assert report.render() == BAD_CASES_REPORT
    assert report.problems == [
        RowProblem(4, "crn", "'A11111' is not a CRN: expected one letter and six digits, e.g. X123456"),
        RowProblem(5, "crn", "CRN A111111 is also on line 2"),
        RowProblem(6, "practitioner", "no staff member called 'Nobody Known' (import staff first)"),
        RowProblem(7, "sentence_start", "'31/09/2026' is not a real date"),
    ]
    assert (report.added, report.updated, report.unchanged) == (0, 0, 0)
    assert snapshot(db) == before


def test_every_bad_cell_of_a_row_is_reported_in_column_order(ctx, db, tmp_path):
    text = (
        "crn,name,practitioner,rosh,sentence_type,sentence_start,sentence_end,mappa_category,mappa_level,tier,"
        "likelihood,flags\n"
        "A111111,,Pat Officer,SEVERE,PRISON,2026/10/01,,5,,B 2,UNLIKELY,ADVP;advp\n"
        "B222222,Ben,Pat Officer,LOW,CO,02/10/2026,01/10/2026,,2,B2,LOW,AD-VP\n"
        "C333333,Cy,Pat Officer,LOW,SSO,02/10/2026,,M2,M4,B2,LOW,ADVP:31/02/2027\n"
    )
    report = import_file(ctx, "cases", write(tmp_path, "cells.csv", text))

    assert report.render() == (
        "Import cases from cells.csv: 3 rows, 13 problems in 3 rows. Nothing was written.\n"
        "line 2, name: required but empty\n"
        "line 2, rosh: unknown rosh 'SEVERE': expected one of LOW, MEDIUM, HIGH, VERY_HIGH\n"
        "line 2, sentence_type: unknown sentence type 'PRISON': expected one of COMMUNITY_ORDER, "
        "SUSPENDED_SENTENCE_ORDER, LICENCE, POST_SENTENCE_SUPERVISION, CUSTODY, PRE_SENTENCE\n"
        "line 2, sentence_start: '2026/10/01' is not a date: use dd/mm/yyyy or yyyy-mm-dd\n"
        "line 2, mappa_category: mappa category must be 1 to 4, not '5'\n"
        "line 2, tier: 'B 2' is not a tier: expected a letter (A to G) and perhaps a digit, e.g. B2\n"
        "line 2, likelihood: unknown likelihood 'UNLIKELY': expected one of LOW, MEDIUM, HIGH, VERY_HIGH\n"
        "line 2, flags: registration ADVP is listed twice\n"
        "line 3, sentence_end: sentence end 01/10/2026 is before its start 02/10/2026\n"
        "line 3, mappa_level: a MAPPA level needs a MAPPA category\n"
        "line 3, flags: 'AD-VP' is not a registration: use CODE or CODE:dd/mm/yyyy, e.g. ADVP:01/03/2027\n"
        "line 4, mappa_level: mappa level must be 1 to 3, not 'M4'\n"
        "line 4, flags: ADVP: '31/02/2027' is not a real date"
    )


def test_a_header_without_a_required_column_raises_naming_the_columns(ctx, db, tmp_path):
    before = snapshot(db)
    path = write(tmp_path, "cases.csv", "crn,name,rosh,sentence_type\nA111111,Ann,LOW,LICENCE\n")

    with pytest.raises(ValidationError) as error:
        import_file(ctx, "cases", path)

    assert str(error.value) == (
        "the header has no practitioner, sentence_start columns "
        "(a cases file needs crn, name, practitioner, rosh, sentence_type, sentence_start)"
    )
    assert error.value.field == "header"
    assert snapshot(db) == before


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(ctx, db, tmp_path):
    before = snapshot(db)
    calls = []

    report = import_file(
        ctx, "cases", write(tmp_path, "cases.csv", CLEAN_CASES), dry_run=True, progress=lambda *a: calls.append(a)
    )

    assert report.ok
    assert (
        report.render()
        == "Import cases from cases.csv: 3 rows: 2 added, 0 updated, 1 unchanged (dry run: nothing written)."
    )
    assert snapshot(db) == before
    assert calls[-1] == (3, 3)


def test_a_changed_rosh_counts_as_updated_and_a_rise_makes_a_touch_point(ctx, db, tmp_path):
    text = f"""{CASES_HEADER}
{HIGH_CRN},Alex Example,Pat Officer,MEDIUM,LICENCE,2026-08-01
{LOW_CRN},Bo Sample,Pip Services,HIGH,COMMUNITY_ORDER,2026-11-10
"""
    report = import_file(ctx, "cases", write(tmp_path, "risk.csv", text))

    assert report.render() == (
        "Import cases from risk.csv: 2 rows: 0 added, 2 updated, 0 unchanged; 1 touch point for a rise in risk."
    )
    high = row(db, "SELECT * FROM cases WHERE crn = ?", [HIGH_CRN])
    # Columns the file leaves out keep what is stored.
    assert (high["rosh"], high["mappa_category"], high["mappa_level"], high["tier"], high["sentence_end"]) == (
        "MEDIUM",
        2,
        1,
        "B2",
        "2027-08-01",
    )
    assert high["updated_at"] == NOW_ISO
    [tp] = rows(
        db, "SELECT i.crn, i.title, i.due, i.status, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id"
    )
    # Due two working days after Monday 23 November.
    assert tp == {
        "crn": LOW_CRN,
        "title": "RoSH rose Low → High",
        "due": "2026-11-25",
        "status": "open",
        "reason": "rosh_rise",
    }
    [audit] = audits(db, "import_cases")
    assert json.loads(audit["old"]) == {HIGH_CRN: {"rosh": "HIGH"}, LOW_CRN: {"rosh": "LOW"}}
    assert json.loads(audit["new"]) == {"added": 0, "updated": 2, "unchanged": 0}


def test_flags_are_replaced_as_a_set_and_an_empty_cell_clears_an_optional_value(ctx, db, tmp_path):
    header = f"{CASES_HEADER},sentence_end,flags\n"
    base = f"{HIGH_CRN},Alex Example,Pat Officer,HIGH,LICENCE,2026-08-01"

    def flags():
        return rows(db, "SELECT code, review_date FROM case_flags WHERE crn = ? ORDER BY code", [HIGH_CRN])

    first = import_file(ctx, "cases", write(tmp_path, "a.csv", header + f"{base},2027-08-01,ADVP:01/03/2027;rmdo\n"))
    assert (first.updated, flags()) == (
        1,
        [{"code": "ADVP", "review_date": "2027-03-01"}, {"code": "RMDO", "review_date": None}],
    )
    rmdo_id = row(db, "SELECT id FROM case_flags WHERE code = 'RMDO'")["id"]

    second = import_file(
        ctx, "cases", write(tmp_path, "b.csv", header + f"{base},2027-08-01, RMDO:15/01/2027 ; INLL ;SPO;\n")
    )
    # nDelius codes stalking SPO; it is stored as STAL so it is never read as the role.
    assert (second.updated, flags()) == (
        1,
        [
            {"code": "INLL", "review_date": None},
            {"code": "RMDO", "review_date": "2027-01-15"},
            {"code": "STAL", "review_date": None},
        ],
    )
    assert row(db, "SELECT id FROM case_flags WHERE code = 'RMDO'")["id"] == rmdo_id
    assert json.loads(audits(db, "import_cases")[-1]["old"]) == {
        HIGH_CRN: {"flags": {"ADVP": "2027-03-01", "RMDO": None}}
    }

    third = import_file(ctx, "cases", write(tmp_path, "c.csv", header + f"{base},,\n"))
    assert (third.updated, flags()) == (1, [])
    assert row(db, "SELECT sentence_end FROM cases WHERE crn = ?", [HIGH_CRN])["sentence_end"] is None


def test_line_numbers_are_physical_lines_and_unknown_columns_are_listed(ctx, db, tmp_path):
    text = (
        f"{CASES_HEADER},notes\n"
        'A111111,"Ann\nOne",Pat Officer,LOW,LICENCE,2026-10-01,"a note\nover\nthree lines"\n'
        "\n"
        "B22222,Ben,Pat Officer,LOW,LICENCE,2026-10-01,\n"
        "C333333,Cy,Pat Officer,LOW,LICENCE,2026-10-01,note,oops\n"
    )
    report = import_file(ctx, "cases", write(tmp_path, "lines.csv", text, crlf=True))

    assert report.render() == (
        "Import cases from lines.csv: 3 rows, 3 problems in 3 rows. Nothing was written.\n"
        "Ignored columns: notes\n"
        "line 2, name: holds a line break at character 4, but it takes one line: remove it\n"
        "line 7, crn: 'B22222' is not a CRN: expected one letter and six digits, e.g. X123456\n"
        "line 8: 8 cells but the header has 7 columns (a comma in a value needs quotes)"
    )


def test_render_lists_the_first_hundred_problems_then_counts_the_rest(ctx, db, tmp_path):
    text = CASES_HEADER + "\n" + "".join(f"Z{n:05d},N,Pat Officer,LOW,LICENCE,2026-10-01\n" for n in range(150))
    report = import_file(ctx, "cases", write(tmp_path, "many.csv", text))

    lines = report.render().splitlines()
    assert lines[0] == "Import cases from many.csv: 150 rows, 150 problems in 150 rows. Nothing was written."
    assert lines[1].startswith("line 2, crn: 'Z00000' is not a CRN")
    assert len(lines) == 102 and lines[-1] == "… and 50 more problems"
    assert len(report.render(limit=None).splitlines()) == 151


# --- Files that cannot be read -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "latin1.csv",
            f"{CASES_HEADER}\nA111111,Zoé,Pat Officer,LOW,LICENCE,2026-10-01\n".encode("latin-1"),
            "latin1.csv is not UTF-8 text (line 2): save it as 'CSV UTF-8'",
        ),
        (
            "utf16.csv",
            f"{CASES_HEADER}\n".encode("utf-16"),
            "utf16.csv is not a text file (it holds a NUL byte on line 1): save it as 'CSV UTF-8'",
        ),
        # A NUL far past the first 8 KB (the old check read only those) is found all the same.
        (
            "late-nul.csv",
            (f"{CASES_HEADER}\n" + "A111111,Zoe,Pat Officer,LOW,LICENCE,2026-10-01\n" * 400).encode()
            + b"A222222,Z\x00e,Pat Officer,LOW,LICENCE,2026-10-01\n",
            "late-nul.csv is not a text file (it holds a NUL byte on line 402): save it as 'CSV UTF-8'",
        ),
        ("empty.csv", b"\xef\xbb\xbf\r\n\r\n", "empty.csv is empty: its first line must be the header"),
        (
            "twice.csv",
            b"crn,name,practitioner,rosh,sentence_type,sentence_start,likelihood,Likelihood of reoffending\n",
            "the header names the likelihood column twice ('likelihood' and 'Likelihood of reoffending')",
        ),
        (
            "level.csv",
            f"{CASES_HEADER},mappa_level\n".encode(),
            "a mappa_level column needs a mappa_category column beside it",
        ),
    ],
)
def test_a_file_that_cannot_be_read_raises_and_writes_nothing(ctx, db, tmp_path, name, content, message):
    before = snapshot(db)
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(ValidationError) as error:
        import_file(ctx, "cases", path)

    assert str(error.value) == message
    assert snapshot(db) == before


def test_an_unknown_kind_or_a_missing_file_raises(ctx, tmp_path):
    with pytest.raises(
        ValidationError, match="unknown import kind 'sbars': expected one of cases, staff, countersign, touchpoints"
    ):
        import_file(ctx, "sbars", tmp_path / "x.csv")
    with pytest.raises(ValidationError, match="no file at"):
        import_file(ctx, "cases", tmp_path / "absent.csv")
    with pytest.raises(ValidationError, match="is a folder"):
        import_file(ctx, "cases", tmp_path)


def test_kinds_are_the_four_named_in_the_interface():
    assert KINDS == ("cases", "staff", "countersign", "touchpoints")
    assert tuple(COLUMNS) == KINDS


# --- Staff ---------------------------------------------------------------------------------------


def test_staff_are_upserted_by_name_case_insensitively(ctx, db, tmp_path):
    text = """name,role,team,fte,oasys_approved
pat officer,PO,Team A,0.8,Yes
Pip  Services,PSO,Team A,1,no
Nia New,pqip,Team B,,
Ola Other,business manager,,0.5,N
"""
    report = import_file(ctx, "staff", write(tmp_path, "staff.csv", text))

    assert report.render() == "Import staff from staff.csv: 4 rows: 2 added, 1 updated, 1 unchanged."
    pat = row(db, "SELECT * FROM staff WHERE id = ?", [staff_id(db, "pat officer")])
    assert (pat["role"], pat["fte"], pat["oasys_approved"]) == ("PO", 0.8, 1)
    nia = row(db, "SELECT * FROM staff WHERE name = 'Nia New'")
    assert (nia["role"], nia["team"], nia["fte"], nia["oasys_approved"], nia["created_at"]) == (
        "PQiP",
        "Team B",
        1.0,
        0,
        NOW_ISO,
    )
    assert row(db, "SELECT role FROM staff WHERE name = 'Ola Other'")["role"] == "business manager"
    [audit] = audits(db, "import_staff")
    assert json.loads(audit["old"]) == {PO: {"name": PO, "fte": 1.0, "oasys_approved": 0}}
    assert import_file(ctx, "staff", write(tmp_path, "staff.csv", text)).updated == 0


def test_bad_staff_rows_are_reported(ctx, db, tmp_path):
    text = """Name,Role,FTE,OASys Approved
Nia New,Boss,0,maybe
Nia new,PO,1.5,
Ola Other,PO,.5,true
"""
    before = snapshot(db)
    report = import_file(ctx, "staff", write(tmp_path, "staff.csv", text))

    assert report.render() == (
        "Import staff from staff.csv: 3 rows, 5 problems in 2 rows. Nothing was written.\n"
        "line 2, role: unknown role 'Boss': expected one of SPO, PO, PSO, PQiP, NQO, CASPO, SAO, QDO, "
        "business manager, PDU head\n"
        "line 2, fte: FTE must be more than 0 and at most 1, not '0'\n"
        "line 2, oasys_approved: 'maybe' is not yes or no: use yes/no, true/false, y/n or 1/0\n"
        "line 3, name: Nia new is also on line 2\n"
        "line 3, fte: FTE must be more than 0 and at most 1, not '1.5'"
    )
    assert snapshot(db) == before


def test_a_caspo_import_is_audited_on_behalf_of_the_spo(ctx, db, rules, tmp_path):
    caspo = make_context(db, rules, CASPO, clock=fixed_clock(NOW))
    import_file(caspo, "staff", write(tmp_path, "staff.csv", "name,role\nNia New,PSO\n"))

    [audit] = audits(db, "import_staff")
    assert (audit["actor_id"], audit["on_behalf_of"]) == (staff_id(db, CASPO), "spo-0001")


# --- Countersign items and touch points ----------------------------------------------------------

COUNTERSIGN = f"""crn,kind,author,submitted,court_date,link
{HIGH_CRN},PSR,Pat Officer,20/11/2026,27/11/2026,https://documents.example/psr/1
{LOW_CRN},oasys,pip services,2026-11-20,,
"""


def test_countersign_items_are_created_like_add_countersign_and_upserted_by_natural_key(ctx, db, tmp_path):
    report = import_file(ctx, "countersign", write(tmp_path, "cs.csv", COUNTERSIGN))

    assert report.render() == "Import countersign from cs.csv: 2 rows: 2 added, 0 updated, 0 unchanged."
    items = rows(
        db,
        """SELECT i.crn, i.title, i.status, i.due, i.raised_by, c.kind, c.author_id, c.state, c.submitted_at, c.court_date, c.link
           FROM items i JOIN countersigns c ON c.item_id = i.id ORDER BY i.crn""",
    )
    assert items == [
        # A PSR is due one working day before court (Friday 27th → Thursday 26th).
        {
            "crn": HIGH_CRN,
            "title": "PSR gatekeeping by Pat Officer",
            "status": "open",
            "due": "2026-11-26",
            "raised_by": staff_id(db, PO),
            "kind": "PSR",
            "author_id": staff_id(db, PO),
            "state": "AWAITING_GATEKEEP",  # gatekept, not countersigned [000 §3.2]
            "submitted_at": "2026-11-20T12:00:00Z",
            "court_date": "2026-11-27",
            "link": "https://documents.example/psr/1",
        },
        # OASys: five working days after submission on Friday 20th.
        {
            "crn": LOW_CRN,
            "title": "OASys assessment by Pip Services",
            "status": "open",
            "due": "2026-11-27",
            "raised_by": staff_id(db, PSO),
            "kind": "OASYS",
            "author_id": staff_id(db, PSO),
            "state": "AWAITING_COUNTERSIGN",
            "submitted_at": "2026-11-20T12:00:00Z",
            "court_date": None,
            "link": None,
        },
    ]
    before = snapshot(db)
    assert import_file(ctx, "countersign", write(tmp_path, "cs.csv", COUNTERSIGN)).unchanged == 2
    assert snapshot(db) == before

    moved = COUNTERSIGN.replace("27/11/2026", "04/12/2026")
    report = import_file(ctx, "countersign", write(tmp_path, "cs.csv", moved))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert row(
        db, "SELECT i.due, c.court_date FROM items i JOIN countersigns c ON c.item_id = i.id WHERE c.kind = 'PSR'"
    ) == {"due": "2026-12-03", "court_date": "2026-12-04"}


def test_bad_countersign_rows_are_reported(ctx, db, tmp_path):
    text = f"""crn,kind,author,submitted,court_date
{HIGH_CRN},PSR,Pat Officer,20/11/2026,
Z999999,OASYS,Pat Officer,20/11/2026,
{LOW_CRN},ESSAY,Nobody,20/11/2026,
{LOW_CRN},OASYS,Pip Services,20/11/2026,
{LOW_CRN},OASYS,Pip Services,2026-11-20,
"""
    before = snapshot(db)
    report = import_file(ctx, "countersign", write(tmp_path, "cs.csv", text))

    assert report.render() == (
        "Import countersign from cs.csv: 5 rows, 5 problems in 4 rows. Nothing was written.\n"
        "line 2, court_date: a PSR needs its court date\n"
        "line 3, crn: no case with CRN Z999999 (import cases first)\n"
        "line 4, kind: unknown kind 'ESSAY': expected one of OASYS, PAROLE_REPORT, PSR, DANGEROUSNESS, HVRA\n"
        "line 4, author: no staff member called 'Nobody' (import staff first)\n"
        "line 6: the same crn, kind, author and submitted date as line 5"
    )
    assert snapshot(db) == before


def test_touch_points_are_created_and_upserted_by_crn_due_and_reason(ctx, db, tmp_path):
    text = f"""crn,due,reason,note
{HIGH_CRN},30/11/2026,,Partner disclosed new concerns
{LOW_CRN},2026-12-01,quarterly,
"""
    report = import_file(ctx, "touch_points", write(tmp_path, "tp.csv", text))

    assert report.render() == "Import touchpoints from tp.csv: 2 rows: 2 added, 0 updated, 0 unchanged."
    assert rows(
        db,
        "SELECT i.crn, i.title, i.due, i.status, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id "
        "ORDER BY i.crn",
    ) == [
        {
            "crn": HIGH_CRN,
            "title": "Partner disclosed new concerns",
            "due": "2026-11-30",
            "status": "open",
            "reason": "manual",
        },
        {
            "crn": LOW_CRN,
            "title": "Quarterly review (high/very high RoSH)",
            "due": "2026-12-01",
            "status": "open",
            "reason": "quarterly",
        },
    ]
    before = snapshot(db)
    assert import_file(ctx, "touchpoints", write(tmp_path, "tp.csv", text)).unchanged == 2
    assert snapshot(db) == before

    changed = import_file(
        ctx, "touchpoints", write(tmp_path, "tp.csv", text.replace("new concerns", "new concerns again"))
    )
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 1)

    bad = import_file(ctx, "touchpoints", write(tmp_path, "bad.csv", f"crn,due,reason\n{HIGH_CRN},soon,whenever\n"))
    assert bad.render() == (
        "Import touchpoints from bad.csv: 1 row, 2 problems in 1 row. Nothing was written.\n"
        "line 2, due: 'soon' is not a date: use dd/mm/yyyy or yyyy-mm-dd\n"
        "line 2, reason: unknown reason 'whenever': expected one of commencement, quarterly, release, rosh_rise, "
        "mappa_rise, termination, flag_review, manual, pre_release, rotl, handover, lifer, lifer_panel, "
        "vlo_contact, mappa_l1_review"
    )


# --- The samples ---------------------------------------------------------------------------------


ORDER = ("staff", "cases", "countersign", "touchpoints")


def test_the_samples_import_in_order_into_a_database_with_one_spo(db, rules):
    insert_spo(db)
    ctx = make_context(db, rules, clock=fixed_clock(NOW))
    too_soon = import_file(ctx, "cases", SAMPLES / "cases.csv")
    assert (
        not too_soon.ok
        and "line 2, practitioner: no staff member called 'Priya Shah' (import staff first)" in too_soon.render()
    )

    first = [import_file(ctx, kind, SAMPLES / f"{kind}.csv") for kind in ORDER]
    again = [import_file(ctx, kind, SAMPLES / f"{kind}.csv") for kind in ORDER]

    assert [r.render() for r in first] == [
        "Import staff from staff.csv: 9 rows: 9 added, 0 updated, 0 unchanged.",
        "Import cases from cases.csv: 20 rows: 20 added, 0 updated, 0 unchanged.",
        "Import countersign from countersign.csv: 6 rows: 6 added, 0 updated, 0 unchanged.",
        "Import touchpoints from touchpoints.csv: 3 rows: 3 added, 0 updated, 0 unchanged.",
    ]
    assert [(r.added, r.updated, r.unchanged) for r in again] == [(0, 0, 9), (0, 0, 20), (0, 0, 6), (0, 0, 3)]
    assert db.execute("SELECT COUNT(*) FROM case_flags").fetchone()[0] == 14


def test_the_samples_set_up_an_empty_database_starting_with_staff(db, rules):
    """The first-run path: staff into an empty store (no actor yet), then the rest as its SPO."""
    setup = setup_context(db, rules, clock=fixed_clock(NOW))
    assert import_file(setup, "staff", SAMPLES / "staff.csv").added == 9
    ctx = make_context(db, rules, clock=fixed_clock(NOW))
    assert ctx.actor["name"] == "Sian Roberts"

    reports = [import_file(ctx, kind, SAMPLES / f"{kind}.csv") for kind in ORDER[1:]]

    assert all(r.ok and r.added == r.rows for r in reports), [r.render() for r in reports]
    assert [a["actor_id"] for a in rows(db, "SELECT actor_id FROM audit_log WHERE entity = 'import' ORDER BY id")] == [
        None,
        ctx.actor["id"],
        ctx.actor["id"],
        ctx.actor["id"],
    ]


# --- Size ----------------------------------------------------------------------------------------


def write_cases(path: Path, n: int, practitioners: list[str]) -> None:
    """A generated extract of ``n`` cases in both date formats (generated at run time, never committed)."""
    roshes = ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            [
                "crn",
                "name",
                "practitioner",
                "rosh",
                "sentence_type",
                "sentence_start",
                "sentence_end",
                "mappa_category",
                "mappa_level",
                "tier",
                "likelihood_of_reoffending",
                "flags",
            ]
        )
        for n_ in range(n):
            start = date(2025, 1 + n_ % 12, 1 + n_ % 28)
            out.writerow(
                [
                    f"G{n_:06d}",
                    f"Person {n_}",
                    practitioners[n_ % len(practitioners)],
                    roshes[n_ % 4],
                    "LICENCE" if n_ % 3 else "COMMUNITY_ORDER",
                    start.strftime("%d/%m/%Y") if n_ % 2 else start.isoformat(),
                    f"{2027 + n_ % 3}-06-30",
                    str(1 + n_ % 4) if n_ % 5 == 0 else "",
                    # MAPPA category 3 exists only at levels 2 and 3 [domain.md "MAPPA"].
                    ("2" if n_ % 4 == 2 else "1") if n_ % 10 == 0 else "",
                    "B2",
                    "MEDIUM",
                    "ADVP:01/03/2027;RMDO" if n_ % 7 == 0 else "",
                ]
            )


def test_a_large_file_imports_in_one_transaction_with_progress(ctx, db, tmp_path):
    path = tmp_path / "big.csv"
    write_cases(path, 20_000, [PO, PSO])
    calls: list[tuple[int, int]] = []

    started = time.perf_counter()
    report = import_file(ctx, "cases", path, progress=lambda done, total: calls.append((done, total)))
    elapsed = time.perf_counter() - started

    assert report.render() == "Import cases from big.csv: 20,000 rows: 20,000 added, 0 updated, 0 unchanged."
    assert db.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 20_002
    assert len(audits(db, "import_cases")) == 1
    assert len(calls) >= 10 and calls[-1] == (20_000, 20_000)
    assert all(total == 20_000 for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert elapsed < 20, f"20,000 rows took {elapsed:.1f}s"


def test_an_exception_from_progress_stops_the_import_and_writes_nothing(ctx, db, tmp_path):
    path = tmp_path / "big.csv"
    write_cases(path, 5_000, [PO, PSO])
    before = snapshot(db)

    def cancel(done: int, total: int) -> None:
        if done > total // 2:  # while writing
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(ctx, "cases", path, progress=cancel)
    assert snapshot(db) == before


# --- Arbitrary cells -----------------------------------------------------------------------------

LOOKUPS = Lookups(staff={name_key(PO): ("pp-1", PO)}, cases=frozenset({HIGH_CRN}))
PLAUSIBLE = st.sampled_from(
    [
        "",
        " ",
        HIGH_CRN,
        "x123456",
        PO,
        "HIGH",
        "very high",
        "RHRH",
        "LICENCE",
        "CO",
        "01/02/2026",
        "2026-02-01",
        "31/02/2026",
        "2",
        "M1",
        "B2",
        "yes",
        "0.5",
        "ADVP:01/03/2027;RMDO",
        "SPO",
        "PSR",
        "OASYS",
        "manual",
        "PO",
    ]
)
CELL = st.one_of(st.text(max_size=30), PLAUSIBLE)


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from(KINDS), data=st.lists(st.lists(CELL, max_size=14), max_size=8))
def test_arbitrary_cells_give_rows_or_problems_and_never_raise(kind, data):
    header = read_header(kind, [c.name for c in COLUMNS[kind]])
    numbered = [(n + 2, cells) for n, cells in enumerate(data)]

    checked = check_rows(kind, header, numbered, LOOKUPS)

    filled = [line for line, cells in numbered if not extracts.is_blank(cells)]
    assert checked.count == len(filled)
    bad_lines = {p.line for p in checked.problems}
    assert sorted([r.line for r in checked.rows] + sorted(bad_lines)) == filled
    names = {c.name for c in COLUMNS[kind]}
    assert all(p.column is None or p.column in names for p in checked.problems)
    assert all(isinstance(p.reason, str) and p.reason for p in checked.problems)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.lists(
        st.lists(
            st.one_of(
                st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20), PLAUSIBLE
            ),
            max_size=8,
        ),
        max_size=5,
    )
)
def test_arbitrary_text_in_a_file_gives_a_report_never_an_error(ctx, db, tmp_path, data):
    path = tmp_path / "any.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(CASES_HEADER.split(","))
        out.writerows(data)
    before = snapshot(db) if data else None

    report = import_file(ctx, "cases", path, dry_run=True)

    assert isinstance(report, ImportReport) and isinstance(report.render(), str)
    if data:
        assert snapshot(db) == before


# --- The documentation ---------------------------------------------------------------------------


def test_docs_name_every_column_and_alias():
    text = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    for columns in COLUMNS.values():
        for column in columns:
            for name in (column.name, *column.aliases):
                assert f"`{name}`" in text, name
