"""Background work that fails is said on screen, never silent: the check of the signed record, the
rule-made work and the search index each fail here on purpose (the function the worker runs raises,
as a broken disk or a bug would), and the message is seen. Once, a tamper check that could not run
was never shown."""

from __future__ import annotations

import pytest
from test_today import make_app, team_db


def boom(*_args, **_kwargs):
    raise OSError(5, "Input/output error")


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def wait_for(app, pilot, words: str) -> list[str]:
    for _ in range(150):
        if any(words in n for n in notices(app)):
            break
        await pilot.pause(0.02)
    return notices(app)


async def test_a_record_check_that_cannot_run_is_said(team_db, open_app, monkeypatch):
    path, _ids = team_db
    monkeypatch.setattr("spo_tui.services.integrity.check_record", boom)
    app = open_app(path)
    app.VERIFY_AFTER = 0.05
    async with app.run_test(size=(120, 40)) as pilot:
        shown = await wait_for(app, pilot, "signed oversight record")
    assert (
        "The check of the signed oversight record could not run: OSError: [Errno 5] Input/output error. "
        "Run spo-tui verify." in shown
    )


async def test_rule_made_work_that_cannot_be_refreshed_is_said(team_db, open_app, monkeypatch):
    path, _ids = team_db
    monkeypatch.setattr("spo_tui.services.refresh.refresh_due_work", boom)
    app = open_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        shown = await wait_for(app, pilot, "brought up to date")
        assert type(app.screen).__name__ == "TodayScreen"  # the queue is still there
    assert any(n.startswith("The work the rules make due could not be brought up to date: OSError") for n in shown)


async def test_a_search_that_cannot_read_the_queue_is_said(team_db, open_app, monkeypatch):
    path, _ids = team_db
    monkeypatch.setattr("spo_tui.screens.today.search_index", boom)
    app = open_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        shown = await wait_for(app, pilot, "Search could not")
    assert any(n.startswith("Search could not read the queue: OSError") for n in shown)


@pytest.mark.parametrize("group", ["verify", "refresh", "search", "import", "start-checks", None])
def test_every_message_names_what_failed_and_why(group):
    from spo_tui.domain.errors import ValidationError
    from spo_tui.screens.worker_errors import failure_message

    class Failed:
        name = "some_job"
        error = ValidationError("no such column 'crn'")

    Failed.group = group
    message = failure_message(Failed())  # type: ignore[arg-type]
    assert "no such column 'crn'" in message and message.count("\n") == 0
    assert ("some_job" in message) == (group is None)
