"""Imports apply court work and countersigning at source [000 §3.2–3.3] (issue 16): an imported
countersign row is decided by the same rules as one typed in (``domain.countersign_entry.decide``);
a refused row names its line (or record) and column, and then nothing is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from conftest import HIGH_CRN, LOW_CRN, PO, PSO, TODAY, row, rows, snapshot, staff_id, ui_team
from test_court_and_aqa import _key_in_sample  # an OASys link the sample picks, or leaves out

from spo_tui.services import intake
from spo_tui.services.importer import import_file

MED_CRN = "M111111"
PEER = "Peta Peer"
COURT = (TODAY + timedelta(days=7)).strftime("%d/%m/%Y")  # Monday 30/11/2026


@pytest.fixture
def court(ctx):
    intake.add_staff(ctx, PEER, "PO", team="Team A")
    intake.add_case(ctx, MED_CRN, "Mo Medium", PSO, "MEDIUM", "COMMUNITY_ORDER", "2026-10-01")
    return ctx


def _csv(tmp_path, text, name="cs.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _items(db):
    return rows(
        db,
        """SELECT i.crn, i.title, i.status, i.due, i.waiting_on, i.waiting_until, i.closed_note, c.state,
                  c.gatekeeper_id, c.court_time, c.oral, c.sampled
           FROM items i JOIN countersigns c ON c.item_id = i.id ORDER BY i.rowid""",
    )


def test_a_psos_psr_on_a_high_rosh_case_is_refused_at_import_and_nothing_is_written(court, tmp_path):
    """[000 §3.2] Only qualified POs write reports on high-RoSH cases: the row is a problem naming the
    line and the author column; the good row beside it is not written either (all or nothing)."""
    text = f"crn,kind,author,submitted,court_date\n{LOW_CRN},OASYS,{PSO},20/11/2026,\n{HIGH_CRN},PSR,{PSO},20/11/2026,{COURT}\n"
    before = snapshot(court.db)
    report = import_file(court, "countersign", _csv(tmp_path, text))
    assert not report.ok
    assert report.render().splitlines() == [
        "Import countersign from cs.csv: 2 rows, 1 problem in 1 row. Nothing was written.",
        "line 3, author: a PSO may not write a PSR on a high RoSH case: only qualified POs (PO, NQO) write "
        "reports on high-RoSH cases [000 §3.2]",
    ]
    assert snapshot(court.db) == before


def test_a_bad_cell_and_a_refused_row_are_reported_together(court, tmp_path):
    """One pass: a file with a bad date on one line and a row the rules refuse [000 §3.2] on another
    names both problems at once, in line order, and writes nothing."""
    text = (
        f"crn,kind,author,submitted,court_date\n{HIGH_CRN},PSR,{PSO},20/11/2026,{COURT}\n"
        f"{LOW_CRN},OASYS,{PO},31/02/2026,\n"
    )
    before = snapshot(court.db)
    report = import_file(court, "countersign", _csv(tmp_path, text))
    lines = report.render().splitlines()
    assert lines[0] == "Import countersign from cs.csv: 2 rows, 2 problems in 2 rows. Nothing was written."
    assert lines[1].startswith("line 2, author: a PSO may not write a PSR on a high RoSH case")
    assert lines[2].startswith("line 3, submitted:")
    assert snapshot(court.db) == before


def test_report_kinds_only_on_the_cases_where_they_exist_at_import(court, tmp_path):
    """[000 §3.2] A parole report is for a person in custody, a dangerousness assessment before sentence."""
    text = (
        f"crn,kind,author,submitted\n{LOW_CRN},PAROLE_REPORT,{PO},20/11/2026\n{LOW_CRN},DANGEROUSNESS,{PO},20/11/2026\n"
    )
    report = import_file(court, "countersign", _csv(tmp_path, text))
    lines = report.render().splitlines()
    assert lines[1].startswith("line 2, kind: a parole report is written for a person in custody")
    assert lines[2].startswith("line 3, kind: a dangerousness assessment is written for the court before sentence")
    assert not rows(court.db, "SELECT * FROM countersigns")


def test_peer_gatekeeping_oral_and_court_time_columns_route_as_the_form_does(court, tmp_path):
    """[000 §3.2] A medium-RoSH PSR with a gatekeeper waits on that peer until the court day; an oral
    report for court today is due today with its court time (never overdue on entry)."""
    today = TODAY.strftime("%d/%m/%Y")
    text = (
        "crn,kind,author,submitted,court_date,gatekeeper,oral,court_time\n"
        f"{MED_CRN},PSR,{PSO},20/11/2026,{COURT},{PEER},,\n"
        f"{HIGH_CRN},PSR,{PO},23/11/2026,{today},,yes,14.00\n"
    )
    report = import_file(court, "countersign", _csv(tmp_path, text))
    assert report.ok, report.render()
    peer, oral = _items(court.db)
    assert peer == {
        "crn": MED_CRN,
        "title": f"PSR gatekeeping by {PSO}",
        "status": "waiting",
        "due": "2026-11-27",
        "waiting_on": f"{PEER} (peer gatekeeping)",
        "waiting_until": "2026-11-30",
        "closed_note": None,
        "state": "AWAITING_GATEKEEP",
        "gatekeeper_id": staff_id(court.db, PEER),
        "court_time": None,
        "oral": 0,
        "sampled": 0,
    }
    assert (oral["title"], oral["status"], oral["due"], oral["court_time"], oral["oral"]) == (
        f"Oral PSR by {PO}",
        "open",
        TODAY.isoformat(),
        "14:00",
        1,
    )
    # Imported again: the same rows, nothing changes.
    before = snapshot(court.db)
    assert import_file(court, "countersign", _csv(tmp_path, text)).unchanged == 2
    assert snapshot(court.db) == before


def test_bad_gatekeeping_cells_name_the_column(court, tmp_path):
    """[000 §3.2] High-RoSH reports go to the SPO, not a peer; a peer is not the author; oral and
    gatekeeping are for PSRs; a court time is a time of day."""
    text = (
        "crn,kind,author,submitted,court_date,gatekeeper,oral,court_time\n"
        f"{HIGH_CRN},PSR,{PO},20/11/2026,{COURT},{PEER},,\n"
        f"{MED_CRN},PSR,{PEER},20/11/2026,{COURT},{PEER},,\n"
        f"{LOW_CRN},OASYS,{PO},20/11/2026,,,yes,\n"
    )
    bad_time = f"{MED_CRN},PSR,{PO},21/11/2026,{COURT},,,after lunch\n"
    # One pass: the bad cell and the rules' refusals together, in line order.
    report = import_file(court, "countersign", _csv(tmp_path, text + bad_time))
    assert report.render().splitlines()[1:] == [
        "line 2, gatekeeper: a PSR on a high RoSH case is gatekept by the SPO, not a peer [000 §3.2]",
        "line 3, gatekeeper: a report is not gatekept by its own author",
        "line 4, oral: only a PSR is given orally, not an OASys assessment",
        "line 5, court_time: court time 'after lunch' is not a time of day like 10:00",
    ]
    assert not rows(court.db, "SELECT * FROM countersigns")


def test_an_approved_pos_oasys_imported_is_closed_not_required_unless_sampled(court, tmp_path):
    """[000 §3.3] An approved PO's OASys needs no countersignature (kept, closed, NOT_REQUIRED); the
    sample ([aqa] sample_one_in) still comes to the SPO, the same as when typed in."""
    court.db.execute("UPDATE staff SET oasys_approved = 1 WHERE name = ?", [PO])
    skip, sample = _key_in_sample(court, False), _key_in_sample(court, True)
    text = f"crn,kind,author,submitted,link\n{HIGH_CRN},OASYS,{PO},20/11/2026,{skip}\n{LOW_CRN},OASYS,{PO},20/11/2026,{sample}\n"
    report = import_file(court, "countersign", _csv(tmp_path, text))
    assert report.ok and report.added == 2, report.render()
    skipped, sampled = _items(court.db)
    assert (skipped["status"], skipped["state"], skipped["sampled"]) == ("closed", "NOT_REQUIRED", 0)
    assert skipped["closed_note"] == f"No countersignature needed: {PO} is an approved PO [000 §3.3]"
    assert (sampled["status"], sampled["state"], sampled["sampled"]) == ("open", "AWAITING_COUNTERSIGN", 1)
    assert sampled["title"] == f"OASys assessment by {PO} (sample: approved PO)"
    # The same row typed in decides the same: one rule, two ways in.
    typed = intake.add_countersign(court, HIGH_CRN, "OASYS", PO, link=skip, submitted="2026-11-21")
    assert row(court.db, "SELECT state FROM countersigns WHERE item_id = ?", [typed.item_id])["state"] == "NOT_REQUIRED"
    # Imported again: unchanged (the sample's title is kept).
    assert import_file(court, "countersign", _csv(tmp_path, text)).unchanged == 2


def test_a_json_extract_is_refused_naming_the_record_and_field(court, tmp_path):
    """[000 §3.2] JSON records obey the same rules; the problem names the record."""
    path = tmp_path / "cs.json"
    record = {
        "offenderCrn": HIGH_CRN,
        "type": {"code": "PSR"},
        "staff": {"forenames": "Pip", "surname": "Services"},
        "submitted": "2026-11-20",
        "courtDate": "2026-11-30",
    }
    path.write_text(json.dumps([record]))
    report = import_file(court, "countersign", path)
    assert not report.ok
    assert (
        report.render()
        .splitlines()[1]
        .startswith(f"record 1 ({HIGH_CRN}), author: a PSO may not write a PSR on a high RoSH case")
    )
    path.write_text(json.dumps([dict(record, offenderCrn=MED_CRN, gatekeeper=PEER, oralReport="no")]))
    report = import_file(court, "countersign", path)
    assert report.ok, report.render()
    assert row(court.db, "SELECT status, waiting_on FROM items WHERE crn = ?", [MED_CRN]) == {
        "status": "waiting",
        "waiting_on": f"{PEER} (peer gatekeeping)",
    }


def test_the_cli_import_refuses_a_row_the_rules_refuse(tmp_path):
    """``spo-tui import countersign``: exit 1, the line and column named, nothing written [000 §3.2]."""
    path = tmp_path / "d.db"
    ctx = ui_team(path)
    intake.add_staff(ctx, "Pia Pso", "PSO")
    ctx.db.close()
    csv_path = _csv(tmp_path, f"crn,kind,author,submitted,court_date\nX123456,PSR,Pia Pso,20/11/2026,{COURT}\n")
    result = subprocess.run(
        [sys.executable, "-m", "spo_tui", "--db", str(path), "import", "countersign", str(csv_path)],
        capture_output=True,
        timeout=60,
        env={**os.environ, "SPO_TUI_TODAY": "2026-11-23"},
    )
    assert result.returncode == 1, result.stdout
    assert b"line 2, author: a PSO may not write a PSR on a high RoSH case" in result.stdout
    assert b"Nothing was written" in result.stdout


async def test_the_import_panel_shows_the_refused_row_and_writes_nothing(tmp_path, monkeypatch):
    """The CASPO's import panel (admin screen, ``i``): a countersign file with a PSO's PSR on a
    high-RoSH case is refused, the line and column named on screen, nothing written [000 §3.2]."""
    from conftest import clock, read_rows

    from spo_tui.app import SpoApp

    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    intake.add_staff(ctx, "Pia Pso", "PSO")
    ctx.db.close()
    csv_path = _csv(tmp_path, f"crn,kind,author,submitted,court_date\nX123456,PSR,Pia Pso,20/11/2026,{COURT}\n")
    app = SpoApp(path, actor="Cas Admin", clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("3")  # countersign items
        await pilot.pause()
        await pilot.press(*str(csv_path), "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = app.screen.query_one("#text-body").text
        assert "Import countersign from cs.csv: 1 row, 1 problem in 1 row. Nothing was written." in text
        assert "line 2, author: a PSO may not write a PSR on a high RoSH case" in text
    assert read_rows(path, "SELECT COUNT(*) FROM countersigns") == [(0,)]


def test_a_psr_imported_again_takes_a_peer_or_oral_the_file_now_names(court, tmp_path):
    """[000 §3.2] A PSR first imported for the SPO, then named with a peer gatekeeper in the next
    extract, goes to that peer (as ``g`` sends it); named oral, it is due on the court day. An empty
    cell never undoes the app's routing, a peer the rules refuse names the line, and a PSR already
    gatekept keeps its record."""
    from spo_tui.services import countersigning

    head = "crn,kind,author,submitted,court_date,gatekeeper,oral\n"
    first = f"{MED_CRN},PSR,{PSO},20/11/2026,{COURT},,\n{HIGH_CRN},PSR,{PO},20/11/2026,{COURT},,\n"
    assert import_file(court, "countersign", _csv(tmp_path, head + first)).ok
    medium, high = _items(court.db)
    assert (medium["status"], medium["gatekeeper_id"], high["due"]) == ("open", None, "2026-11-27")

    named = f"{MED_CRN},PSR,{PSO},20/11/2026,{COURT},{PEER},\n{HIGH_CRN},PSR,{PO},20/11/2026,{COURT},,yes\n"
    report = import_file(court, "countersign", _csv(tmp_path, head + named))
    assert (report.ok, report.updated, report.unchanged) == (True, 2, 0)
    medium, high = _items(court.db)
    assert (medium["status"], medium["waiting_on"], medium["waiting_until"], medium["gatekeeper_id"]) == (
        "waiting",
        f"{PEER} (peer gatekeeping)",
        "2026-11-30",
        staff_id(court.db, PEER),
    )
    assert (high["title"], high["due"], high["oral"], high["status"]) == (f"Oral PSR by {PO}", "2026-11-30", 1, "open")
    changed = json.loads(
        row(court.db, "SELECT old FROM audit_log WHERE action = 'import_countersign' ORDER BY rowid DESC")["old"]
    )
    assert sorted(changed.values(), key=len)[0] == {"due": "2026-11-27", "oral": 0, "title": f"PSR gatekeeping by {PO}"}

    # The first file again (empty cells): the peer and the oral report stay.
    before = snapshot(court.db)
    assert import_file(court, "countersign", _csv(tmp_path, head + first)).unchanged == 2
    assert snapshot(court.db) == before

    # A high-RoSH PSR is the SPO's: the row is refused, naming its line and column, and nothing changes.
    refused = f"{HIGH_CRN},PSR,{PO},20/11/2026,{COURT},{PEER},yes\n"
    report = import_file(court, "countersign", _csv(tmp_path, head + named.splitlines(keepends=True)[0] + refused))
    assert report.render().splitlines()[1:] == [
        "line 3, gatekeeper: a PSR on a high RoSH case is gatekept by the SPO, not a peer [000 §3.2]"
    ]
    assert snapshot(court.db) == before

    # Gatekept: another peer named later changes nothing.
    medium_id = row(court.db, "SELECT id FROM items WHERE crn = ?", [MED_CRN])["id"]
    countersigning.gatekeep(court, medium_id, verdict="Proposal fits the risk", ready=True)
    intake.add_staff(court, "Other Peer", "PO", team="Team A")
    gatekept = snapshot(court.db)
    later = f"{MED_CRN},PSR,{PSO},20/11/2026,{COURT},Other Peer,\n"
    assert import_file(court, "countersign", _csv(tmp_path, head + later)).unchanged == 1
    assert snapshot(court.db) == gatekept
