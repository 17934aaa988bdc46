"""``spo-tui do ACTION ITEM_ID`` and ``spo-tui queue --view``: the Today screen's actions from a
shell, run as a real process; the database is read back after each."""

from __future__ import annotations

import json

import pytest
from conftest import NOW, fixed_clock, read_rows, ui_team
from test_cli import run

from spo_tui.config import load_rules
from spo_tui.services import intake
from spo_tui.services.context import make_context
from spo_tui.store.db import open_db

rows = read_rows


@pytest.fixture
def team(tmp_path, monkeypatch):
    """The UI team (Sam Spo, Pat Officer, Cas Admin, Sue Sao, all linked to this login) with one
    piece of work of each kind the SPO acts on."""
    monkeypatch.setenv("SPO_TUI_RULES", str(tmp_path / "no-rules.toml"))
    path = tmp_path / "team.db"
    ctx = ui_team(path)
    ids = {
        "sbar": intake.raise_sbar(
            ctx,
            "X123456",
            "Pat Officer",
            "Partner disclosed threats",
            "On licence",
            "Risk has risen",
            "Consider recall",
            "urgent",
        ).item_id,
        "sbar2": intake.raise_sbar(
            ctx,
            "Y123456",
            "Pat Officer",
            "Missed two appointments",
            "Community order",
            "Low risk",
            "Warning letter",
            "routine",
        ).item_id,
        "countersign": intake.add_countersign(ctx, "Y123456", "PSR", "Pat Officer", court_date="2026-12-01").item_id,
        "countersign2": intake.add_countersign(ctx, "X123456", "OASYS", "Pat Officer").item_id,
        "task": intake.add_task(ctx, "Heating broken in interview room 2", "buildings").item_id,
        "task2": intake.add_task(ctx, "Order more chairs", "buildings").item_id,
        "touch_point": intake.add_touch_point(ctx, "Y123456", "2026-11-20", "Check new address").item_id,
        "touch_point2": intake.add_touch_point(ctx, "X123456", "2026-11-25", "Review licence conditions").item_id,
    }
    ctx.db.close()
    return tmp_path, path, ids


def do(tmp, path, *args):
    return run("--db", str(path), "do", *args, tmp_path=tmp)


def one(path, sql, params=()):
    return rows(path, sql, params)[0]


def test_every_sbar_action_from_the_shell(team):
    tmp, path, ids = team
    sbar = ids["sbar"]
    asked = do(tmp, path, "ask", sbar[:8], "--text", "When was the last home visit?")
    assert (asked.returncode, asked.stdout.strip()) == (
        0,
        "Asked Pat Officer for more information; the SBAR is in Waiting until answered",
    )
    assert one(
        path,
        "SELECT i.status, i.waiting_on, s.info_request FROM items i JOIN sbars s ON s.item_id = i.id WHERE id = ?",
        [sbar],
    ) == ("waiting", "Pat Officer", "When was the last home visit?")
    answered = do(tmp, path, "answer", sbar, "--text", "Friday: partner present")
    assert answered.returncode == 0, answered.stderr
    assert one(
        path, "SELECT i.status, s.info_answer FROM items i JOIN sbars s ON s.item_id = i.id WHERE id = ?", [sbar]
    ) == ("open", "Friday: partner present")
    escalated = do(tmp, path, "escalate", sbar, "--to", "PDU head", "--text", "Recall decision needed today")
    assert escalated.returncode == 0, escalated.stderr
    assert one(path, "SELECT status, waiting_on FROM items WHERE id = ?", [sbar]) == ("waiting", "PDU head")
    back = do(tmp, path, "answer", sbar, "--text", "Go ahead with the recall")
    assert back.stdout.strip() == "Answer from PDU head logged; the SBAR is back in the queue"
    # decide: "what was discussed" is what the form pre-fills, with the question and the answers.
    decided = do(tmp, path, "decide", sbar, "--type", "recall", "--outcome", "recall", "--text", "Recall requested")
    assert decided.returncode == 0, decided.stderr
    discussed, decision, outcome = one(
        path,
        "SELECT discussed, decision, outcome FROM oversight_entries WHERE item_id = ? AND outcome = 'recall'",
        [sbar],
    )
    assert (decision, outcome) == ("Recall requested", "recall")
    assert "Asked of the practitioner: When was the last home visit?" in discussed
    assert "Practitioner's answer: Friday: partner present" in discussed
    assert "Answer from PDU head: Go ahead with the recall" in discussed
    assert one(path, "SELECT status FROM items WHERE id = ?", [sbar]) == ("closed",)
    undone = do(tmp, path, "undo", sbar, "--text", "Recorded in error on the wrong case")
    assert (undone.returncode, undone.stdout.strip()) == (0, "Undone: record oversight")
    assert one(path, "SELECT status FROM items WHERE id = ?", [sbar]) == ("open",)
    assert one(path, "SELECT COUNT(*) FROM oversight_entries WHERE outcome = 'withdrawn'") == (1,)
    booked = do(tmp, path, "book", ids["sbar2"])
    assert booked.returncode == 0, booked.stderr
    assert one(path, "SELECT state FROM sbars WHERE item_id = ?", [ids["sbar2"]]) == ("booked",)


def test_countersign_touch_point_task_and_any_item_actions_from_the_shell(team):
    tmp, path, ids = team
    assert do(tmp, path, "sign-off", ids["countersign2"], "--verdict", "Risk analysis sound").returncode == 0
    assert one(path, "SELECT state FROM countersigns WHERE item_id = ?", [ids["countersign2"]]) == ("COUNTERSIGNED",)
    returned = do(tmp, path, "return", ids["countersign"], "--verdict", "Add the DA call-out history")
    assert returned.returncode == 0, returned.stderr
    assert one(path, "SELECT status, waiting_on, waiting_until FROM items WHERE id = ?", [ids["countersign"]]) == (
        "waiting",
        "Pat Officer",
        "2026-11-30",
    )  # back at its deadline, the working day before court
    assert do(tmp, path, "answer", ids["countersign"], "--text", "History added").returncode == 0
    assert one(
        path,
        "SELECT i.status, c.state FROM items i JOIN countersigns c ON c.item_id = i.id WHERE id = ?",
        [ids["countersign"]],
    ) == ("open", "AWAITING_GATEKEEP")  # a PSR: back for gatekeeping, not countersigning [000 §3.2]
    assert do(tmp, path, "waive", ids["touch_point"], "--text", "Seen at court on Friday").returncode == 0
    assert one(path, "SELECT waived_reason FROM touch_points WHERE item_id = ?", [ids["touch_point"]]) == (
        "Seen at court on Friday",
    )
    assert do(tmp, path, "delegate", ids["task"], "--to", "Cas Admin").returncode == 0
    assert one(path, "SELECT status, waiting_on FROM items WHERE id = ?", [ids["task"]]) == ("waiting", "Cas Admin")
    done = do(tmp, path, "done", ids["task2"], "--minutes", "20")
    assert done.returncode == 0, done.stderr
    assert one(path, "SELECT minutes_spent FROM tasks WHERE item_id = ?", [ids["task2"]]) == (20,)
    assert do(tmp, path, "snooze", ids["touch_point2"], "--until", "fri").returncode == 0
    assert one(path, "SELECT snoozed_until FROM items WHERE id = ?", [ids["touch_point2"]]) == ("2026-11-27",)
    snoozed = json.loads(run("--db", str(path), "queue", "--view", "snoozed", "--json", tmp_path=tmp).stdout)
    assert [(i["id"], i["status"], i["snoozed_until"]) for i in snoozed] == [
        (ids["touch_point2"], "snoozed", "2026-11-27")
    ]
    assert do(tmp, path, "unsnooze", ids["touch_point2"]).returncode == 0
    assert one(path, "SELECT snoozed_until FROM items WHERE id = ?", [ids["touch_point2"]]) == (None,)
    assert do(tmp, path, "reassign", ids["touch_point2"], "--to", "Pat Officer").returncode == 0
    assert one(
        path, "SELECT s.name FROM items i JOIN staff s ON s.id = i.assigned_to WHERE i.id = ?", [ids["touch_point2"]]
    ) == ("Pat Officer",)


def test_queue_view_waiting_lists_on_whom_and_since_when(team):
    tmp, path, ids = team
    assert (
        do(tmp, path, "escalate", ids["sbar"], "--to", "mappa", "--text", "Needs a multi-agency view").returncode == 0
    )
    assert do(tmp, path, "return", ids["countersign"], "--verdict", "Add the DA history").returncode == 0
    assert do(tmp, path, "snooze", ids["task"], "--until", "mon").returncode == 0
    today = json.loads(run("--db", str(path), "queue", "--json", tmp_path=tmp).stdout)
    assert {i["status"] for i in today} == {"open"}
    assert not {ids["sbar"], ids["countersign"], ids["task"]} & {i["id"] for i in today}
    waiting = json.loads(run("--db", str(path), "queue", "--view", "waiting", "--json", tmp_path=tmp).stdout)
    assert sorted((i["id"], i["status"], i["waiting_on"], i["since"]) for i in waiting) == sorted(
        [
            (ids["sbar"], "waiting", "MAPPA", "2026-11-23T08:45:00Z"),
            (ids["countersign"], "waiting", "Pat Officer", "2026-11-23T08:45:00Z"),
        ]
    )
    everything = json.loads(run("--db", str(path), "queue", "--view", "all", "--json", tmp_path=tmp).stdout)
    assert {ids["sbar"], ids["countersign"], ids["task"]} <= {i["id"] for i in everything}
    text = run("--db", str(path), "queue", "--view", "waiting", tmp_path=tmp).stdout
    assert "(waiting on MAPPA since 23/11/2026)" in text


def test_bad_input_exits_2_with_one_line_and_writes_nothing(team):
    tmp, path, ids = team
    before = rows(path, "SELECT COUNT(*) FROM audit_log")
    cases = [
        (("ask", ids["sbar"]), "spo-tui: do ask needs --text"),
        (("ask", ids["sbar"], "--text", "   "), "the question for the practitioner is required"),
        (("snooze", ids["task"], "--until", "someday"), "cannot read 'someday' as a date"),
        (("done", ids["task"], "--minutes", "lots"), "minutes must be a whole number"),
        (("escalate", ids["sbar"], "--to", "the pope", "--text", "x y z"), "escalate to one of: PDU head, MAPPA"),
        (("sign-off", ids["task"], "--verdict", "Sound"), "this is a task, not a countersign"),
        (("unsnooze", ids["task"]), "is not snoozed"),
        (("book", "nosuchitem"), "no item with id nosuchitem"),
        (("undo", ids["task"], "--text", "Recorded on the wrong item"), "you have no action on this item to undo"),
        (("decide", ids["sbar"], "--outcome", "maybe", "--text", "Recall"), "unknown outcome 'maybe'"),
        (("launch", ids["sbar"]), "invalid choice: 'launch'"),
    ]
    for args, message in cases:
        result = do(tmp, path, *args)
        assert result.returncode == 2, (args, result.stdout)
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert rows(path, "SELECT COUNT(*) FROM audit_log") == before
    assert rows(path, "SELECT COUNT(*) FROM items WHERE status <> 'open' OR snoozed_until IS NOT NULL") == [(0,)]


def test_text_from_a_file_and_a_refusal_by_role(team):
    tmp, path, ids = team
    question = tmp / "question.txt"
    question.write_text("Has the partner been identified?\nIs there a DVDS referral?\n", encoding="utf-8")
    assert do(tmp, path, "ask", ids["sbar"], "--text", f"@{question}").returncode == 0
    assert one(path, "SELECT info_request FROM sbars WHERE item_id = ?", [ids["sbar"]]) == (
        "Has the partner been identified?\nIs there a DVDS referral?",
    )
    refused = run(
        "--db",
        str(path),
        "--as",
        "Cas Admin",
        "do",
        "decide",
        ids["sbar2"],
        "--outcome",
        "agreed",
        "--text",
        "Warning letter",
        tmp_path=tmp,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == "spo-tui: only an SPO can decide an SBAR; Cas Admin is CASPO"
    assert rows(path, "SELECT COUNT(*) FROM oversight_entries") == [(0,)]
    assert one(path, "SELECT status FROM items WHERE id = ?", [ids["sbar2"]]) == ("open",)


def test_an_entry_the_caspo_made_is_confirmed_by_the_spo_from_the_shell(team):
    tmp, path, ids = team
    entered = run(
        "--db",
        str(path),
        "--as",
        "Cas Admin",
        "do",
        "decide",
        ids["touch_point"],
        "--outcome",
        "agreed",
        "--text",
        "SPO agreed on the phone: home visit this week",
        tmp_path=tmp,
    )
    assert entered.returncode == 0, entered.stderr
    confirm = one(path, "SELECT item_id FROM confirms")[0]
    refused = run("--db", str(path), "--as", "Cas Admin", "do", "confirm", confirm, tmp_path=tmp)
    assert refused.returncode == 2 and "only an SPO" in refused.stderr
    assert one(path, "SELECT status FROM items WHERE id = ?", [confirm]) == ("open",)
    confirmed = do(tmp, path, "confirm", confirm)
    assert confirmed.returncode == 0, confirmed.stderr
    assert confirmed.stdout.startswith("Confirmed: ")
    assert one(
        path,
        "SELECT i.status, s.name FROM items i JOIN confirms c ON c.item_id = i.id "
        "JOIN staff s ON s.id = c.confirmed_by WHERE i.id = ?",
        [confirm],
    ) == ("closed", "Sam Spo")


def test_decide_takes_the_oversight_level(team):
    """``--level`` chooses the entry's oversight level [001]; a level that does not exist is refused."""
    tmp, path, ids = team
    bad = do(tmp, path, "decide", ids["sbar"], "--outcome", "guidance_given", "--text", "Visit", "--level", "5")
    assert bad.returncode != 0 and "level must be 1 (quality assurance)" in bad.stderr
    decided = do(tmp, path, "decide", ids["sbar"], "--outcome", "guidance_given", "--text", "Visit", "--level", "3")
    assert decided.returncode == 0, decided.stderr
    assert one(
        path,
        "SELECT l.level, l.chosen FROM oversight_levels l JOIN oversight_entries o ON o.id = l.oversight_id "
        "WHERE o.item_id = ?",
        [ids["sbar"]],
    ) == (3, 1)


def test_do_peer_sends_a_psr_to_a_qualified_po_and_refuses_its_author(team):
    """``spo-tui do peer ITEM --to NAME`` [000 §3.2]: the author is refused with one line and nothing
    changes; another qualified PO gets it, and it waits on them."""
    tmp, path, ids = team
    refused = do(tmp, path, "peer", ids["countersign"], "--to", "Pat Officer")
    assert refused.returncode == 2 and "not gatekept by its own author" in refused.stderr
    assert one(path, "SELECT status FROM items WHERE id = ?", [ids["countersign"]])[0] == "open"
    db = open_db(path)
    intake.add_staff(make_context(db, load_rules(), clock=fixed_clock(NOW)), "Nia Newly", "NQO")
    db.close()
    sent = do(tmp, path, "peer", ids["countersign"], "--to", "Nia Newly")
    assert sent.returncode == 0 and "is with Nia Newly for peer gatekeeping" in sent.stdout
    assert tuple(one(path, "SELECT status, waiting_on FROM items WHERE id = ?", [ids["countersign"]])) == (
        "waiting",
        "Nia Newly (peer gatekeeping)",
    )
