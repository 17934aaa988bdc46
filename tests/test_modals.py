"""The modal screens driven by keys: the oversight form (save, errors, cancel, drafts) and the prompts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import NOW, clock

from spo_tui.app import SpoApp
from spo_tui.config import load_rules
from spo_tui.domain.errors import ValidationError
from spo_tui.screens.oversight_form import OversightForm
from spo_tui.screens.prompts import ChoiceScreen, ConfirmScreen, PromptScreen
from spo_tui.services import decisions, intake
from spo_tui.services.context import make_context
from spo_tui.store.db import open_db

CRN = "X123456"
DRAFT_KEY = f"oversight:case:{CRN}"


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    """An SPO, a PO, one case and one SBAR."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "modals.db"
    db = open_db(path)
    db.table("staff").insert({"id": "spo-1", "name": "Sam Spo", "role": "SPO", "created_at": "2026-01-01T00:00:00Z"})
    ctx = make_context(db, load_rules(), clock=clock)
    intake.add_staff(ctx, "Pat Officer", "PO")
    intake.add_case(ctx, CRN, "Joe Bloggs", "Pat Officer", "HIGH", "LICENCE", "2026-10-01")
    intake.raise_sbar(ctx, CRN, "Pat Officer", "Partner disclosed threats", "On licence", "Risk up", "Consider recall")
    db.close()
    return path


def count(path, sql, params=()):
    db = open_db(path)
    try:
        return db.execute(sql, params).fetchone()[0]
    finally:
        db.close()


def open_form(app, results: list, draft_key: str | None = DRAFT_KEY) -> None:
    form = OversightForm(
        heading=f"Oversight entry: {CRN}",
        submit=lambda values: decisions.record_oversight(app.ctx, crn=CRN, **values),
        draft_key=draft_key,
    )
    app.push_screen(form, results.append)


async def type_into(pilot, widget_id: str, text: str) -> None:
    pilot.app.screen.query_one(f"#{widget_id}").focus()
    await pilot.press(*text)


def error_text(app, field: str) -> str:
    return str(app.screen.query_one(f"#error-{field}").render())


async def test_ctrl_s_records_entry_and_action(db_path):
    app = SpoApp(db_path, clock=clock)
    results: list = []
    async with app.run_test(size=(120, 40)) as pilot:
        open_form(app, results)
        await pilot.pause()
        assert app.screen.focused.id == "decision"
        await pilot.press(*"Increase contact to weekly")
        await type_into(pilot, "discussed", "Partner disclosed threats")
        await type_into(pilot, "action-1-desc", "Home visit")
        await type_into(pilot, "action-1-owner", "Pat Officer")
        await type_into(pilot, "action-1-due", "fri")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, OversightForm)
    assert len(results) == 1 and results[0].oversight_id
    assert count(db_path, "SELECT COUNT(*) FROM oversight_entries") == 1
    assert count(db_path, "SELECT decision FROM oversight_entries") == "Increase contact to weekly"
    db = open_db(db_path)
    try:
        owner, due = db.execute(
            "SELECT s.name, i.due FROM items i JOIN actions a ON a.item_id = i.id JOIN staff s ON s.id = a.owner_id"
        ).fetchone()
        drafts = db.execute("SELECT COUNT(*) FROM drafts").fetchone()[0]
    finally:
        db.close()
    assert (owner, due) == ("Pat Officer", "2026-11-27")
    assert drafts == 0


async def test_empty_decision_is_shown_beside_the_field_and_nothing_written(db_path):
    app = SpoApp(db_path, clock=clock)
    results: list = []
    async with app.run_test(size=(120, 40)) as pilot:
        open_form(app, results)
        await pilot.pause()
        await type_into(pilot, "discussed", "Partner disclosed threats")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, OversightForm)
        assert "required" in error_text(app, "decision")
        assert app.screen.focused.id == "decision"
        assert error_text(app, "discussed") == ""
    assert results == []
    assert count(db_path, "SELECT COUNT(*) FROM oversight_entries") == 0


async def test_unknown_owner_is_shown_beside_the_owner_and_nothing_written(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        open_form(app, [])
        await pilot.pause()
        await pilot.press(*"Visit")
        await type_into(pilot, "discussed", "Threats")
        await type_into(pilot, "action-2-desc", "Check address")
        await type_into(pilot, "action-2-owner", "Nobody Known")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, OversightForm)
        # The empty first row is skipped; the error still lands on the row the user typed in.
        assert "Nobody Known" in error_text(app, "action-2-owner")
        assert app.screen.focused.id == "action-2-owner"
    assert count(db_path, "SELECT COUNT(*) FROM oversight_entries") == 0
    assert count(db_path, "SELECT COUNT(*) FROM items WHERE kind = 'action'") == 0


async def test_bad_due_date_is_shown_beside_the_due_field(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        open_form(app, [])
        await pilot.pause()
        await pilot.press(*"Visit")
        await type_into(pilot, "discussed", "Threats")
        await type_into(pilot, "action-1-desc", "Check address")
        await type_into(pilot, "action-1-owner", "Pat Officer")
        await type_into(pilot, "action-1-due", "someday")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "someday" in error_text(app, "action-1-due")
    assert count(db_path, "SELECT COUNT(*) FROM oversight_entries") == 0


async def test_changing_type_limits_the_outcomes(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        open_form(app, [])
        await pilot.pause()
        app.screen.query_one("#type").value = "recall"
        await pilot.pause()
        outcome = app.screen.query_one("#outcome")
        assert outcome.value == "recall"
        assert [v for _label, v in outcome._options] == ["recall", "no_recall"]


async def test_escape_with_typed_text_asks_first(db_path):
    app = SpoApp(db_path, clock=clock)
    results: list = []
    async with app.run_test(size=(120, 40)) as pilot:
        open_form(app, results)
        await pilot.pause()
        await pilot.press(*"Half a thought")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, OversightForm)
        assert app.screen.query_one("#decision").text == "Half a thought"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert not isinstance(app.screen, (OversightForm, ConfirmScreen))
    assert results == [None]
    assert count(db_path, "SELECT COUNT(*) FROM drafts") == 0


async def test_escape_on_untouched_form_closes_at_once(db_path):
    app = SpoApp(db_path, clock=clock)
    results: list = []
    async with app.run_test(size=(120, 40)) as pilot:
        open_form(app, results)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, (OversightForm, ConfirmScreen))
    assert results == [None]


async def test_draft_survives_the_app_closing(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        open_form(app, [])
        await pilot.pause()
        await pilot.press(*"Typed before lunch")
        await type_into(pilot, "action-1-owner", "Pat")
    assert count(db_path, "SELECT COUNT(*) FROM drafts WHERE key = ?", [DRAFT_KEY]) == 1

    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        open_form(app, [])
        await pilot.pause()
        form = app.screen
        assert form.query_one("#decision").text == "Typed before lunch"
        assert form.query_one("#action-1-owner").value == "Pat"
        assert any(n.message == "Draft restored" for n in app._notifications)


async def test_draft_is_saved_after_a_pause_in_typing(db_path):
    app = SpoApp(db_path, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        open_form(app, [])
        await pilot.pause()
        await pilot.press(*"Still typing")
        await pilot.pause(0.7)
        assert count(db_path, "SELECT COUNT(*) FROM drafts WHERE key = ?", [DRAFT_KEY]) == 1


async def test_prompt_with_failing_submit_stays_open_with_the_message(db_path):
    app = SpoApp(db_path, clock=clock)
    results: list = []
    calls: list[str] = []

    def submit(text: str) -> None:
        calls.append(text)
        if text != "ok":
            raise ValidationError("say ok", field="text")

    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(PromptScreen("Say it", "ok", submit=submit), results.append)
        await pilot.pause()
        await pilot.press(*"no", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert str(app.screen.query_one("#prompt-error").render()) == "say ok"
        app.screen.query_one("#prompt-input").value = ""
        await pilot.press(*"ok", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
    assert calls == ["no", "ok"]
    assert results == ["ok"]


async def test_prompt_without_submit_wants_text_and_escape_cancels(db_path):
    app = SpoApp(db_path, clock=clock)
    results: list = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(PromptScreen("Go to case"), results.append)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "Esc to cancel" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("escape")
        await pilot.pause()
    assert results == [None]


async def test_choice_by_number_key(db_path):
    app = SpoApp(db_path, clock=clock)
    results: list = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ChoiceScreen("Escalate to", [("pdu", "PDU head"), ("mappa", "[MAPPA]")]), results.append)
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        app.push_screen(ChoiceScreen("Again", [("a", "A"), ("b", "B")]), results.append)
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        app.push_screen(ChoiceScreen("Again", [("a", "A")]), results.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert results == ["mappa", "b", None]


async def test_confirm_keys(db_path):
    app = SpoApp(db_path, clock=clock)
    results: list = []
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("y", "enter", "n", "escape"):
            app.push_screen(ConfirmScreen("Sure?"), results.append)
            await pilot.pause()
            await pilot.press(key)
            await pilot.pause()
    assert results == [True, True, False, False]
