"""The admin screen driven as a CASPO drives it: keys pressed, database read back afterwards.

Snapshots of the screen at 80×24 and 120×40 are at the end; regenerate after an intended change
with ``pytest tests/test_admin_screen.py --snapshot-update`` and look at them before committing.
"""

from __future__ import annotations

import pytest
from conftest import clock, read_rows, ui_team

from spo_tui.app import SpoApp
from spo_tui.config import load_rules
from spo_tui.services import admin, intake, refresh
from spo_tui.services.context import make_context
from spo_tui.store.db import open_db

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def team_db(tmp_path, monkeypatch):
    """SPO, PO, CASPO, SAO; a MAPPA level 1 case with a touch point due in 5 days; a transfer; an SBAR."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    ids = {
        "touch_point": intake.add_touch_point(ctx, "X123456", "2026-11-28", "Review after call-out").item_id,
        "transfer": admin.add_transfer(ctx, "Y123456", "out", "Cardiff PDU", due="2026-12-07").item_id,
        "sbar": intake.raise_sbar(
            ctx,
            "Y123456",
            "Pat Officer",
            "Missed two appointments",
            "On a community order",
            "Low risk",
            "Warning letter",
        ).item_id,
    }
    refresh.refresh_due_work(ctx)
    ctx.db.close()
    return path, ids


rows = read_rows


def make_app(path, actor="Cas Admin"):
    return SpoApp(path, actor=actor, clock=clock)


async def select_row(app, pilot, table_id: str, key: str) -> None:
    """Put the cursor of ``table_id`` on the row keyed ``key``."""
    table = app.screen.query_one(f"#{table_id}")
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()


async def fill(pilot, field: str, text: str) -> None:
    """Focus a form field and type into it."""
    pilot.app.screen.query_one(f"#field-{field}").focus()
    await pilot.press(*text)


async def choose(pilot, field: str, downs: int = 1) -> None:
    """Open a form's select, move down ``downs`` options and take it."""
    pilot.app.screen.query_one(f"#field-{field}").focus()
    await pilot.press("enter", *["down"] * downs, "enter")
    await pilot.pause()


def error_text(app, name: str) -> str:
    return str(app.screen.query_one(f"#error-{name}").render())


async def test_caspo_home_is_admin_with_the_three_lists(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "AdminScreen"
        assert ids["touch_point"] in [line.item_id for line in screen.diary]
        assert [r["crn"] for r in screen.mappa] == ["X123456"]
        assert [t["id"] for t in screen.transfers] == [ids["transfer"]]
        # Keys of other lists are hidden; the diary's apply.
        assert screen.check_action("arrange", ()) is True
        assert screen.check_action("transfer_status", ()) is False


async def test_add_sbar_shows_error_beside_empty_situation_then_saves(team_db):
    path, _ids = team_db
    app = make_app(path)
    before = rows(path, "SELECT COUNT(*) FROM items WHERE kind = 'sbar'")[0][0]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        assert type(app.screen).__name__ == "EntryForm"
        # The form starts on the highlighted case, raised by its practitioner.
        assert {k: app.screen.read_raw()[k] for k in ("crn", "raised_by")} == {
            "crn": "X123456",
            "raised_by": "Pat Officer",
        }
        for name in ("background", "assessment", "recommendation"):
            await fill(pilot, name, name[:4])
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "EntryForm"
        assert "situation is required" in error_text(app, "situation")
        assert app.screen.focused.id == "field-situation"
        assert rows(path, "SELECT COUNT(*) FROM items WHERE kind = 'sbar'")[0][0] == before
        await pilot.press(*"Threats")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
        assert app.undo_stack
    assert rows(
        path,
        """SELECT i.crn, i.raised_by = (SELECT id FROM staff WHERE name = 'Pat Officer'), s.situation, s.background,
                                s.urgency, a.on_behalf_of
                         FROM items i JOIN sbars s ON s.item_id = i.id JOIN audit_log a ON a.entity_id = i.id
                         WHERE s.situation = 'Threats'""",
    ) == [("X123456", 1, "Threats", "back", "routine", "spo-1")]


async def test_add_task(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        await pilot.press(*"Fix lock")
        await fill(pilot, "due", "fri")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
    assert rows(path, "SELECT i.title, i.due, t.category FROM items i JOIN tasks t ON t.item_id = i.id") == [
        ("Fix lock", "2026-11-27", "buildings")
    ]


async def test_add_absence_bad_date_then_good(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("7")
        await pilot.pause()
        await choose(pilot, "who", downs=2)  # blank, Cas Admin, Pat Officer
        await fill(pilot, "start", "32/13")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not a real date" in error_text(app, "start")
        assert app.screen.focused.id == "field-start"
        assert rows(path, "SELECT COUNT(*) FROM absences") == [(0,)]
        await pilot.press(*["backspace"] * 5, *"mon")
        await fill(pilot, "end", "2/12")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
    assert rows(path, "SELECT s.name, a.start_date, a.end_date FROM absences a JOIN staff s ON s.id = a.staff_id") == [
        ("Pat Officer", "2026-11-30", "2026-12-02")
    ]


async def test_escape_with_text_asks_before_discarding(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("x", "escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("y")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
    assert rows(path, "SELECT COUNT(*) FROM items WHERE kind = 'task'") == [(0,)]


async def test_diary_arrange_remind_and_reminder_text(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await select_row(app, pilot, "diary-table", ids["touch_point"])
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"fri 10:30", "enter")
        await pilot.pause()
        await select_row(app, pilot, "diary-table", ids["touch_point"])
        await pilot.press("s")
        await pilot.pause()
        await select_row(app, pilot, "diary-table", ids["touch_point"])
        await pilot.press("y")
        await pilot.pause()
        assert type(app.screen).__name__ == "TextScreen"
        text = app.screen.query_one("#text-body").text
        assert text.startswith("Hello Pat")
        assert app.clipboard == text
        assert app.screen.query_one("#text-body").selected_text == text
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
    assert rows(
        path, "SELECT arranged_for, reminder_sent_at FROM touch_points WHERE item_id = ?", [ids["touch_point"]]
    ) == [("2026-11-27T10:30+00:00", "2026-11-23T09:00:00Z")]


async def test_set_mapp_review_date(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n")  # MAPPA L1
        await pilot.pause()
        assert app.screen.active_pane == "mappa"
        await pilot.press("v")
        await pilot.pause()
        await pilot.press(*"1/12", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
    assert rows(path, "SELECT crn, review_date FROM case_flags WHERE code = 'MAPP'") == [("X123456", "2026-12-01")]


async def test_progress_a_transfer(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n", "n")  # Transfers
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert type(app.screen).__name__ == "ChoiceScreen"
        await pilot.press("1")  # in progress (the first status it is not in)
        await pilot.pause()
    assert rows(path, "SELECT status FROM transfers WHERE id = ?", [ids["transfer"]]) == [("in_progress",)]


async def test_edit_case_sends_only_what_changed(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"y123456", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "EntryForm"
        assert app.screen.query_one("#field-sentence_start").value == "01/01/2025"
        await fill(pilot, "tier", "c")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
    assert rows(path, "SELECT new FROM audit_log WHERE action = 'update_case'") == [('{"tier": "C"}',)]


async def test_edit_waiting_sbar(team_db):
    path, ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()
        assert type(app.screen).__name__ == "ChoiceScreen"
        await pilot.press("1")
        await pilot.pause()
        await fill(pilot, "recommendation", " now")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
    assert rows(path, "SELECT recommendation FROM sbars WHERE item_id = ?", [ids["sbar"]]) == [("Warning letter now",)]


async def test_import_staff_csv_end_to_end(team_db, tmp_path):
    pytest.importorskip("spo_tui.services.importer")
    path, _ids = team_db
    csv_path = tmp_path / "s.csv"
    csv_path.write_text("name,role\nNia New,PSO\nOla Other,PO\n", encoding="utf-8")
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("1")  # staff: first, as it must be imported first
        await pilot.pause()
        await pilot.press(*str(csv_path), "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "TextScreen"
        assert "2 added" in app.screen.query_one("#text-body").text
        assert rows(path, "SELECT COUNT(*) FROM staff WHERE name = 'Nia New'") == [(0,)]  # dry run
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmScreen"
        await pilot.press("y")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
        assert not app.screen.importing
    assert rows(path, "SELECT name, role FROM staff WHERE name IN ('Nia New', 'Ola Other') ORDER BY name") == [
        ("Nia New", "PSO"),
        ("Ola Other", "PO"),
    ]


async def test_an_import_that_fails_is_said_once_and_its_bar_hides(team_db, tmp_path, monkeypatch):
    """The import bar owns its worker: a failure (an unreadable disk here) is said by it, in the words
    every failed worker is said in (``worker_errors``), and the bar goes."""
    pytest.importorskip("spo_tui.services.importer")

    def boom(*_args, **_kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("spo_tui.services.importer.import_file", boom)
    path, _ids = team_db
    csv_path = tmp_path / "s.csv"
    csv_path.write_text("name,role\nNia New,PSO\n", encoding="utf-8")
    app = make_app(path)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("i", "1")
        await pilot.pause()
        await pilot.press(*str(csv_path), "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"
        assert not app.screen.importing
        assert not app.screen.query_one("#import-bar").has_class("-running")
        said = [str(n.message) for n in app._notifications if "import" in str(n.message).lower()]
    assert said == ["The import stopped: OSError: [Errno 5] Input/output error."]


async def test_import_of_a_missing_file_is_refused_in_the_prompt(team_db, tmp_path):
    pytest.importorskip("spo_tui.services.importer")
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("i", "2")
        await pilot.pause()
        await pilot.press(*"/no", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "PromptScreen"
        assert "no file at /no" in str(app.screen.query_one("#prompt-error").render())


async def test_spo_opens_admin_with_m_and_t_returns(team_db):
    path, _ids = team_db
    app = make_app(path, actor=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
        today = app.screen
        await pilot.press("m")
        await pilot.pause()
        assert (type(app.screen).__name__, app.current_mode) == ("AdminScreen", "admin")
        await pilot.press("t")
        await pilot.pause()
        # The two homes are modes: each is found as it was left, and nothing piles up.
        assert (app.screen, app.current_mode, len(app.screen_stack)) == (today, "today", 1)


async def test_caspo_goes_to_today_and_back(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert type(app.screen).__name__ == "TodayScreen"
        await pilot.press("m")
        await pilot.pause()
        assert (type(app.screen).__name__, app.current_mode, len(app.screen_stack)) == ("AdminScreen", "admin", 1)


async def test_practitioner_sees_only_the_keys_their_role_allows(team_db):
    path, _ids = team_db
    app = make_app(path, actor="Pat Officer")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "AdminScreen"
        assert screen.check_action("add_sbar", ()) is True
        for action in ("add_case", "add_absence", "arrange", "import_file", "edit_case"):
            assert screen.check_action(action, ()) is False, action
        assert "5 Case" not in str(screen.query_one("#admin-keys").render())
        await pilot.press("5")  # hidden: nothing opens
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"


def set_fields(app, **values) -> None:
    """Fill a form's fields directly (each widget as the user would leave it)."""
    for name, value in values.items():
        widget = app.screen.query_one(f"#field-{name}")
        if hasattr(widget, "load_text"):
            widget.load_text(value)
        else:
            widget.value = value


async def save_form(app, pilot, key: str, **values) -> None:
    await pilot.press(key)
    await pilot.pause()
    set_fields(app, **values)
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert type(app.screen).__name__ == "AdminScreen", [str(w.render()) for w in app.screen.query(".error.-shown")]


async def test_the_other_add_forms_write_through_their_services(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await save_form(
            app,
            pilot,
            "2",
            crn="X123456",
            kind="PSR",
            author="Pat Officer",
            court_date="fri",
            court_time="1000",
            oral=True,
            link="http://x",
        )
        await save_form(app, pilot, "4", crn="Y123456", source="charge", details="Charged with assault")
        await save_form(
            app,
            pilot,
            "5",
            crn="z000001",
            name="Zed New",
            practitioner="Pat Officer",
            rosh="MEDIUM",
            sentence_type="LICENCE",
            sentence_start="01/11/2026",
            mappa_category="2",
            mappa_level="1",
        )
        await save_form(app, pilot, "6", crn="X123456", direction="in", other_area="Leeds PDU", due="2w")
        assert [t["crn"] for t in app.screen.transfers] == ["Y123456", "X123456"]
        assert [r["crn"] for r in app.screen.mappa] == ["X123456", "Z000001"]
    assert rows(path, "SELECT kind, court_date, link, court_time, oral FROM countersigns") == [
        ("PSR", "2026-11-27", "http://x", "10:00", 1)
    ]  # a same-day/oral report's hearing time [000 §3.2]
    assert rows(path, "SELECT source, details FROM alerts") == [("charge", "Charged with assault")]
    assert rows(path, "SELECT name, rosh, sentence_start, mappa_level FROM cases WHERE crn = 'Z000001'") == [
        ("Zed New", "MEDIUM", "2026-11-01", 1)
    ]
    assert rows(path, "SELECT direction, other_area, due FROM transfers WHERE crn = 'X123456'") == [
        ("in", "Leeds PDU", "2026-12-07")
    ]


async def test_psr_without_court_date_is_refused_beside_the_field(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause()
        set_fields(app, crn="X123456", kind="PSR", author="Pat Officer")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "court date is required" in error_text(app, "court_date")
        assert app.screen.focused.id == "field-court_date"
    assert rows(path, "SELECT COUNT(*) FROM countersigns") == [(0,)]


async def test_a_refusal_that_names_no_field_is_shown_under_the_form(team_db):
    from spo_tui.domain.errors import NotAllowed
    from spo_tui.screens.entry_form import EntryForm, Field

    path, _ids = team_db
    app = make_app(path)

    def refuse(values):
        raise NotAllowed("only an SPO can do that")

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        results = []
        app.push_screen(EntryForm(heading="Test", fields=[Field("note", "Note")], submit=refuse), results.append)
        await pilot.pause()
        await pilot.press("a", "ctrl+s")
        await pilot.pause()
        assert "only an SPO can do that" in error_text(app, "form")
        assert results == []


async def test_palette_lists_the_admin_commands_the_role_may_use(team_db):
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Arrange (r)" in titles and "Add case (5)" in titles and "Import (i)" in titles
        assert "Progress (p)" not in titles  # a transfers key, and the diary is showing


# --- Snapshots -------------------------------------------------------------------------------------


@pytest.fixture
def snap_db(team_db):
    """The team with one touch point already arranged and reminded, so the diary shows both marks."""
    path, ids = team_db
    db = open_db(path)
    ctx = make_context(db, load_rules(), "Cas Admin", clock=clock)
    admin.mark_arranged(ctx, ids["touch_point"], "fri 10:30")
    admin.mark_reminder_sent(ctx, ids["touch_point"])
    db.close()
    return path


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_admin_snapshot(snap_compare, snap_db, size):
    assert snap_compare(make_app(snap_db), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_sbar_form_snapshot(snap_compare, snap_db, size):
    assert snap_compare(make_app(snap_db), terminal_size=size, press=["1"])


async def test_absence_dates_echo_the_date_they_resolve_to_as_typed(team_db):
    """Issue #12: every date field shows the date it will save, before it is saved. Today is Mon 23/11/2026."""
    path, _ids = team_db
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("7")
        await pilot.pause()
        await choose(pilot, "who", downs=2)  # Pat Officer
        await fill(pilot, "start", "20/11")  # last Friday: an absence may have begun already
        await pilot.pause()
        assert str(app.screen.query_one("#echo-start").render()) == "= Fri 20/11/2026"
        await fill(pilot, "end", "3/12")
        await pilot.pause()
        assert str(app.screen.query_one("#echo-end").render()) == "= Thu 03/12/2026"
        await pilot.press(*["backspace"] * 4, *"31/11")
        await pilot.pause()
        assert str(app.screen.query_one("#echo-end").render()) == "'31/11' is not a real date"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not a real date" in error_text(app, "end")
        assert rows(path, "SELECT COUNT(*) FROM absences") == [(0,)]
        await pilot.press(*["backspace"] * 5, *"3/12")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert rows(path, "SELECT a.start_date, a.end_date FROM absences a") == [("2026-11-20", "2026-12-03")]


async def test_the_caspo_exports_for_ndelius_from_the_admin_screen(team_db):
    """Once the admin screen had no export: a CASPO had to leave the app for the shell."""
    path, _ids = team_db
    db = open_db(path)
    ctx = make_context(db, load_rules(), "Sam Spo", clock=clock)
    from spo_tui.services import decisions

    decisions.record_oversight(
        ctx, crn="X123456", outcome="guidance_given", discussed="Threats", decision="Home visit this week"
    )
    db.close()
    app = make_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert type(app.screen).__name__ == "ChoiceScreen"
        assert "Export 1 entry not yet in nDelius to ndelius-2026-11-23-0900.txt" in str(
            app.screen.query_one("#choice-title").render()
        )
        await pilot.press("2")  # the file only
        await pilot.pause()
        written = path.parent / "ndelius-2026-11-23-0900.txt"
        assert "Home visit this week" in written.read_text()
        assert rows(path, "SELECT COUNT(*) FROM ndelius_marks") == [(0,)]
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("1")  # write and mark
        await pilot.pause()
        assert rows(path, "SELECT COUNT(*) FROM ndelius_marks") == [(1,)]
        await pilot.press("x")
        await pilot.pause()
        assert type(app.screen).__name__ == "AdminScreen"  # nothing left to export: said, not asked
        assert any("nothing to export" in str(n.message) for n in app._notifications)
