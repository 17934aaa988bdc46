"""The case screen, the help screen and the first-run screen, driven through the real app."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from conftest import NOW, clock
from rich.console import Console

from spo_tui.app import SpoApp
from spo_tui.config import load_rules
from spo_tui.screens.case import CaseScreen
from spo_tui.screens.first_run import FirstRunScreen
from spo_tui.screens.help import HelpScreen
from spo_tui.screens.oversight_form import OversightForm
from spo_tui.screens.today import TodayScreen
from spo_tui.services import decisions, intake
from spo_tui.services.context import make_context
from spo_tui.store.db import open_db

CRN = "X123456"


def spo_context(db):
    return make_context(db, load_rules(), clock=clock)


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    """An SPO, a PO, one high-risk case with an overdue flag review, and one SBAR."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "case.db"
    db = open_db(path)
    db.table("staff").insert({"id": "spo-1", "name": "Sam Spo", "role": "SPO", "created_at": "2026-01-01T00:00:00Z"})
    ctx = spo_context(db)
    intake.add_staff(ctx, "Pat Officer", "PO")
    intake.add_case(
        ctx,
        CRN,
        "Joe [Bloggs]",
        "Pat Officer",
        "HIGH",
        "LICENCE",
        "2026-10-01",
        sentence_end="2027-10-01",
        likelihood="MEDIUM",
        mappa_category=2,
        mappa_level=1,
        tier="B2",
        flags=[("ADVP", date(2026, 11, 1)), ("RCPR", date(2027, 3, 1))],
    )
    intake.raise_sbar(ctx, CRN, "Pat Officer", "Partner disclosed threats", "On licence", "Risk up", "Consider recall")
    db.close()
    return path


def record(path, decision: str, undo: bool = False):
    """Record an oversight entry on the case outside the UI (and undo it, if asked)."""
    db = open_db(path)
    try:
        ctx = spo_context(db)
        result = decisions.record_oversight(
            ctx, crn=CRN, outcome="guidance_given", discussed="Threats", decision=decision
        )
        undone = decisions.undo(ctx, result.audit_id, "Recorded in error on the wrong case") if undo else None
        return result, undone
    finally:
        db.close()


def cell_texts(table, row_index: int) -> list[str]:
    return table.row_text(row_index)


async def open_case(app, pilot) -> CaseScreen:
    # Let start-up's background look for rule-made work (touch points) add its rows first.
    await pilot.pause(TodayScreen.REFRESH_AFTER + 0.05)
    await app.workers.wait_for_complete()
    app.push_screen(CaseScreen(CRN))
    await pilot.pause()
    assert isinstance(app.screen, CaseScreen)
    return app.screen


async def test_header_shows_case_facts_and_overdue_review(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot)
        title = str(screen.query_one("#case-title").render())
        assert "Joe [Bloggs]" in title and "Pat Officer" in title
        risk = str(screen.query_one("#case-risk").render())
        assert "RoSH High" in risk and "MAPPA cat 2" in risk and "level 1" in risk and "B2" in risk
        assert "01/10/2026 to 01/10/2027" in str(screen.query_one("#case-sentence").render())
        overdue = screen.query(".flag.-overdue")
        assert len(overdue) == 1 and "ADVP" in str(overdue.first().render())
        assert len(screen.query(".flag")) == 2


async def test_timeline_marks_superseded_and_correcting_entries(db_path):
    original, undone = record(db_path, "Visit weekly", undo=True)
    db = open_db(db_path)
    correction_id = db.execute(
        "SELECT id FROM oversight_entries WHERE supersedes_id = ?", [original.oversight_id]
    ).fetchone()[0]
    db.close()
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot)
        table = screen.query_one("#timeline")
        rows = {table.row_key(n): n for n in range(table.row_count)}
        superseded = table.row_cells(rows[f"oversight:{original.oversight_id}"])
        assert superseded[-1][0] == f"SUPERSEDED by {correction_id[:8]}"
        assert "strike" in superseded[2][1]
        correcting = cell_texts(table, rows[f"oversight:{correction_id}"])
        assert correcting[-1] == f"corrects {original.oversight_id[:8]}"
        assert correcting[1] == "Oversight" and "Withdrawn" in correcting[3]
        # Items are on the timeline too, user text kept as typed.
        assert any("Partner disclosed threats" in cell_texts(table, n)[2] for n in range(table.row_count))
        # The detail shows the highlighted entry in full.
        table.move_cursor(row=rows[f"oversight:{original.oversight_id}"])
        await pilot.pause()
        detail = str(screen.query_one("#timeline-detail").render())
        assert "Visit weekly" in detail and "Threats" in detail and "SUPERSEDED" in detail


async def test_n_opens_the_form_and_saving_adds_a_row(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(app, pilot)
        before = screen.query_one("#timeline").row_count
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, OversightForm)
        assert "X123456" in str(form.query_one("#form-title").render())
        await pilot.press(*"Keep the licence conditions")
        form.query_one("#discussed").focus()
        await pilot.press(*"Reviewed after the SBAR")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        table = screen.query_one("#timeline")
        assert table.row_count == before + 1
        # (Everything here happens at the same fixed instant, so look the row up rather than take row 0.)
        assert any(cell_texts(table, n)[2] == "Keep the licence conditions" for n in range(table.row_count))
        assert len(app.undo_stack) == 1
        assert any("Oversight recorded for X123456" in n.message for n in app._notifications)
    db = open_db(db_path)
    try:
        assert db.execute("SELECT COUNT(*) FROM oversight_entries WHERE crn = ?", [CRN]).fetchone()[0] == 1
    finally:
        db.close()


async def test_escape_goes_back(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        below = app.screen
        await open_case(app, pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is below


async def test_unknown_case_says_so(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(CaseScreen("Z999999"))
        await pilot.pause()
        assert "no case with CRN Z999999" in str(app.screen.query_one("#case-title").render())
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)


async def test_help_lists_every_command_and_closes(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        below = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, file=io.StringIO(), record=True)
        for widget in app.screen.query(".help-keys, .help-section"):
            console.print(widget.content)
        text = console.export_text()
        for expected in (
            "Sign off",
            "Countersign with a verdict",
            "Oversight",
            "Command palette",
            "ctrl+p",
            "Everywhere",
        ):
            assert expected in text
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is below


async def test_first_run_shows_import_commands_and_builds_the_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "empty.db"
    built: list = []

    def demo_builder(db_path):
        db = open_db(db_path)
        db.table("staff").insert(
            {"id": "spo-1", "name": "Sam Spo", "role": "SPO", "created_at": "2026-01-01T00:00:00Z"}
        )
        db.close()
        built.append(db_path)

    app = SpoApp(path, clock=clock, demo_builder=demo_builder)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        await pilot.press("i")
        await pilot.pause()
        help_text = app.screen.query_one("#first-run-import")
        assert help_text.display and "spo-tui import staff FILE" in str(help_text.render())
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert built == [path]
        assert type(app.screen).__name__ == "TodayScreen"
        assert app.ctx is not None and app.ctx.actor["name"] == "Sam Spo"


async def test_first_run_demo_failure_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))

    def broken_builder(db_path):
        raise OSError("disk full")

    app = SpoApp(tmp_path / "empty.db", clock=clock, demo_builder=broken_builder)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        assert "disk full" in str(app.screen.query_one("#first-run-status").render())


async def test_opening_a_case_is_logged(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_case(CRN)
        await pilot.pause()
        from spo_tui.services import lookup

        await app.workers.wait_for_complete()  # the view is logged on a thread of its own
        log = lookup.access_log(app.ctx, CRN)
    assert [(r["action"], r["entity_id"], r["actor"]) for r in log] == [("view_case", CRN, "Sam Spo")]
