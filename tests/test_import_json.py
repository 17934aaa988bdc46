"""Real extracts [issue 16 §7]: the case record's own field names as column aliases, and a JSON list of
records (nested as the national services give them) as well as CSV.

The names are those of the public case-record API shapes (``/work/shared/case-record-shapes.md``):
``crnNumber`` (community-api ManagedOffender), ``currentTier`` (StaffCase), ``overallRiskLevel``
(RoshRiskSummaryDto), a registration's ``type{code}`` and ``nextReviewDate`` (Registration), MAPPA
``level``/``category`` (MappaDetails), as numbers or M-codes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import LOW_CRN, PO, clock, read_rows, row, rows, snapshot, staff_id, ui_team

from spo_tui.domain import extracts
from spo_tui.domain.errors import ValidationError
from spo_tui.services.importer import import_file


def cases_of(db, crn: str) -> dict:
    return row(db, "SELECT * FROM cases WHERE crn = ?", [crn])


def flags_of(db, crn: str) -> list[tuple]:
    return [
        (r["code"], r["review_date"])
        for r in rows(db, "SELECT code, review_date FROM case_flags WHERE crn = ? ORDER BY code", [crn])
    ]


def test_csv_columns_named_as_the_case_record_names_them_are_read(ctx, db, tmp_path):
    """crnNumber → crn, overallRiskLevel → rosh, currentTier → tier, type.code + nextReviewDate → a
    flag CODE:date, mappa.level/mappa.category as M-codes [case record shapes; issue 16 §7]."""
    path = tmp_path / "caseload.csv"
    path.write_text(
        "crnNumber,caseName,staff,overallRiskLevel,sentenceType,sentenceStartDate,currentTier,"
        "type.code,nextReviewDate,mappa.level,mappa.category\n"
        "A111111,Ann One,Pat Officer,VERY_HIGH,LICENCE,2026-08-01,B2,ADVP,2027-03-01,M2,M1\n"
        "B222222,Ben Two,Pat Officer,LOW,CO,2026-09-01,D0,,,,\n"
    )
    report = import_file(ctx, "cases", path)

    assert report.ok, report.render()
    assert report.added == 2 and not report.ignored_columns
    ann = cases_of(db, "A111111")
    assert (ann["rosh"], ann["tier"], ann["mappa_level"], ann["mappa_category"]) == ("VERY_HIGH", "B2", 2, 1)
    assert flags_of(db, "A111111") == [("ADVP", "2027-03-01")]
    assert flags_of(db, "B222222") == []


def test_a_registration_date_without_its_code_is_refused_naming_the_line(ctx, db, tmp_path):
    """A nextReviewDate is a registration's; without its type.code it means nothing [issue 16 §7]."""
    path = tmp_path / "c.csv"
    path.write_text(
        "crn,name,practitioner,rosh,sentence_type,sentence_start,type_code,next_review_date\n"
        "A111111,Ann One,Pat Officer,LOW,CO,2026-08-01,,2027-03-01\n"
    )
    report = import_file(ctx, "cases", path)
    assert not report.ok
    assert "line 2, flag_review: a registration's review date needs its code (flag_code)" in report.render()
    assert db.execute("SELECT COUNT(*) FROM cases WHERE crn = 'A111111'").fetchone()[0] == 0


CASELOAD = [
    {
        "crnNumber": "A111111",
        "caseName": "Ann One",
        "staff": {"code": "N01A123", "forenames": "Pat", "surname": "Officer"},
        "roshSummary": {"overallRiskLevel": "HIGH", "assessedOn": "2026-10-01T10:15:00"},
        "sentenceType": "LICENCE",
        "sentenceStartDate": "2026-08-01",
        "currentTier": "B2",
        "mappa": {"level": 2, "levelDescription": "MAPPA Level 2", "category": 1, "startDate": "2026-08-01"},
        "registrations": [
            {"type": {"code": "ADVP", "description": "Domestic Abuse Perpetrator"}, "nextReviewDate": "2027-03-01"},
            {
                "type": {"code": "MAPP", "description": "MAPPA"},
                "registerLevel": {"code": "M2"},
                "registerCategory": {"code": "M1"},
                "nextReviewDate": "2027-01-10",
            },
            {"type": {"code": "RMDO"}, "active": False},
            {"type": {"code": "RCCO"}, "endDate": "2026-09-01"},
        ],
    },
    {
        "crnNumber": "B222222",
        "caseName": "Ben Two",
        "staff": {"forenames": "Pip", "surname": "Services"},
        "sentenceType": "CO",
        "sentenceStartDate": "2026-09-15T00:00:00Z",
        "currentTier": "D",
        # No RoSH field: the RoSH registration gives it; a MAPP registration gives level and category.
        "registrations": [
            {"type": {"code": "RMRH"}, "nextReviewDate": "2027-01-01"},
            {"type": {"code": "MAPP"}, "registerLevel": {"code": "M1"}, "registerCategory": {"code": "M2"}},
        ],
    },
]


def test_a_json_list_of_case_records_is_imported(ctx, db, tmp_path):
    """A JSON list of objects with nested type{code}, registrations[...] and mappa{level,category}
    [case record shapes: ManagedOffender, StaffCase, Registration, MappaDetails, RoshRiskSummary]."""
    path = tmp_path / "caseload.json"
    path.write_text(json.dumps(CASELOAD))
    report = import_file(ctx, "cases", path)

    assert report.ok, report.render()
    assert (report.rows, report.added) == (2, 2)
    ann = cases_of(db, "A111111")
    assert ann["practitioner_id"] == staff_id(db, PO)
    assert (ann["rosh"], ann["sentence_type"], ann["tier"], ann["mappa_level"], ann["mappa_category"]) == (
        "HIGH",
        "LICENCE",
        "B2",
        2,
        1,
    )
    # Registrations no longer current (inactive, or ended) are left out; MAPPA cases carry MAPP.
    assert flags_of(db, "A111111") == [("ADVP", "2027-03-01"), ("MAPP", "2027-01-10")]
    ben = cases_of(db, "B222222")
    assert (ben["rosh"], ben["sentence_start"], ben["mappa_level"], ben["mappa_category"]) == (
        "MEDIUM",
        "2026-09-15",
        1,
        2,
    )
    assert flags_of(db, "B222222") == [("MAPP", None)]
    # Fields no column takes are listed, not silently dropped.
    assert "mappa.levelDescription" in report.ignored_columns
    assert "mappa.startDate" in report.ignored_columns  # a nested startDate is not the sentence's start

    before = snapshot(db)
    again = import_file(ctx, "cases", path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert snapshot(db) == before


def test_a_page_of_records_and_standard_input_are_read_as_json(ctx, db, tmp_path):
    """A page as the national services return lists ({"content": [...]}), piped without a file name."""
    data = json.dumps({"content": CASELOAD[:1], "totalElements": 1}).encode()
    report = import_file(ctx, "cases", "standard input", data=data, dry_run=True)
    assert report.ok and report.added == 1 and report.dry_run


def test_a_bad_json_record_names_the_record_and_field_and_nothing_is_imported(ctx, db, tmp_path):
    """All or nothing, as for CSV; the problem names the record (and its CRN) and the field [issue 16 §7]."""
    bad = [dict(CASELOAD[0]), dict(CASELOAD[1], currentTier="not a tier", crnNumber="B222222")]
    bad[0]["roshSummary"] = {"overallRiskLevel": "SEVERE"}
    path = tmp_path / "caseload.json"
    path.write_text(json.dumps(bad))
    before = snapshot(db)

    report = import_file(ctx, "cases", path)

    assert not report.ok
    text = report.render()
    assert "2 problems in 2 rows. Nothing was written." in text
    assert "record 1 (A111111), rosh: " in text and "SEVERE" in text
    assert "record 2 (B222222), tier: 'not a tier' is not a tier" in text
    assert snapshot(db) == before


def test_two_fields_giving_one_column_differently_are_a_problem(ctx, db, tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps([dict(CASELOAD[0], crn="Z999999")]))
    report = import_file(ctx, "cases", path)
    assert not report.ok
    assert "record 1 (A111111), crn: both crnNumber and crn give the crn" in report.render()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[{", "is not valid JSON"),
        ('{"crn": "A111111"}', "not a list of records"),
        ('[{"crn": "A111111"}, 3]', "record 2: a record must be a JSON object"),
        ("[]", "holds no records"),
        ('[{"crnNumber": "A111111"}]', "no record gives name, practitioner, rosh, sentence_type, sentence_start"),
    ],
)
def test_json_that_is_not_a_list_of_records_is_refused_with_a_reason(ctx, db, tmp_path, text, message):
    path = tmp_path / "c.json"
    path.write_text(text)
    before = snapshot(db)
    with pytest.raises(ValidationError, match=message):
        import_file(ctx, "cases", path)
    assert snapshot(db) == before


def test_countersign_and_touch_point_records_in_json(ctx, db, tmp_path):
    """Other kinds take JSON too: a countersign record's type{code} is its kind, staff{…} its author."""
    path = tmp_path / "cs.json"
    path.write_text(
        json.dumps(
            [
                {
                    "offenderCrn": LOW_CRN,
                    "type": {"code": "OASYS", "description": "OASys assessment"},
                    "staff": {"forenames": "Pat", "surname": "Officer"},
                    "submitted": "2026-11-20",
                }
            ]
        )
    )
    report = import_file(ctx, "countersign", path)
    assert report.ok, report.render()
    assert row(db, "SELECT kind, author_id FROM countersigns") == {"kind": "OASYS", "author_id": staff_id(db, PO)}

    tp = tmp_path / "tp.json"
    tp.write_text(json.dumps([{"crnNumber": LOW_CRN, "due": "2026-12-01", "reason": "manual", "note": "Check-in"}]))
    assert import_file(ctx, "touchpoints", tp).added == 1


def test_names_are_read_as_camel_case_only_when_not_a_name_as_written():
    names = extracts.column_names("cases")
    assert extracts.find_column(names, "RoSH Level") == "rosh"
    assert extracts.find_column(names, "crnNumber") == "crn"
    assert extracts.find_column(names, "overallRiskLevel") == "rosh"
    assert extracts.find_column(names, "type.code") == "flag_code"
    assert extracts.find_column(names, "nextReviewDate") == "flag_review"


def run_cli(*args: str):
    return subprocess.run(
        [sys.executable, "-m", "spo_tui", *args],
        capture_output=True,
        timeout=60,
        env={**os.environ, "SPO_TUI_TODAY": "2026-11-23"},
    )


def test_the_cli_imports_a_json_caseload_and_refuses_a_bad_one(tmp_path):
    """``spo-tui import cases caseload.json``: imported; a bad record: exit 1, the record named, nothing
    written [issue 16 §7]."""
    path = tmp_path / "d.db"
    ui_team(path).db.close()
    good = [dict(CASELOAD[0], staff={"forenames": "Pat", "surname": "Officer"})]
    good_path = tmp_path / "caseload.json"
    good_path.write_text(json.dumps(good))
    result = run_cli("--db", str(path), "import", "cases", str(good_path))
    assert result.returncode == 0, result.stderr
    assert b"Import cases from caseload.json: 1 row: 1 added" in result.stdout

    bad_path = tmp_path / "bad.json"
    bad_path.write_text(json.dumps([dict(good[0], crnNumber="C333333", mappa={"level": 5, "category": 1})]))
    result = run_cli("--db", str(path), "import", "cases", str(bad_path))
    assert result.returncode == 1
    assert b"record 1 (C333333), mappa_level: mappa level must be 1 to 3, not '5'" in result.stdout
    assert b"Nothing was written" in result.stdout


async def test_the_admin_screen_checks_a_json_caseload_and_names_the_bad_record(tmp_path, monkeypatch):
    """The CASPO's import panel takes the JSON file too: the check names the bad record and field,
    and nothing is written [issue 16 §7]."""
    from spo_tui.app import SpoApp

    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ui_team(path).db.close()
    records = [
        dict(CASELOAD[0], staff={"forenames": "Pat", "surname": "Officer"}),
        dict(CASELOAD[0], crnNumber="C333333", staff={"forenames": "Pat", "surname": "Officer"}, currentTier="B22222"),
    ]
    json_path = tmp_path / "caseload.json"
    json_path.write_text(json.dumps(records), encoding="utf-8")
    app = SpoApp(path, actor="Cas Admin", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("2")  # cases
        await pilot.pause()
        await pilot.press(*str(json_path), "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "TextScreen"
        text = app.screen.query_one("#text-body").text
        assert "Import cases from caseload.json: 2 rows, 1 problem in 1 row. Nothing was written." in text
        assert "record 2 (C333333), tier:" in text
    assert read_rows(path, "SELECT COUNT(*) FROM cases WHERE crn IN ('A111111', 'C333333')") == [(0,)]
