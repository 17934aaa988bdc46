"""What the user is told when background work fails.

Textual's ``Worker.StateChanged`` goes only to the node that started the worker; it does not bubble.
So the app (for its own workers: the check of the signed record, the access log) and every acting
screen (the rule-made work, the search index) each handle it, and both say it in the same words,
from here. A worker started with ``exit_on_error=False`` that fails is otherwise silent: once, a
tamper check that could not run was never shown.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from spo_tui.domain.errors import SpoError

#: What each group of background work was doing, as the message about its failure starts.
WHAT_FAILED = {
    "verify": "The check of the signed oversight record could not run",
    "refresh": "The work the rules make due could not be brought up to date",
    "search": "Search could not read the queue",
    "access-log": "A view of the record could not be logged",
    "import": "The import stopped",
    "sync": "The sync with the hub could not run",
    "start-checks": "The start-up check and backup of the database could not run",
}

#: What the user can do, after the message.
NEXT_STEP = {
    "verify": "Run spo-tui verify.",
    "refresh": "The queue shows what is stored; it will try again at the next start.",
    "search": "Try the search again.",
    "sync": "Your changes are kept here and go at the next sync (spo-tui sync --status says where it stands).",
    "start-checks": "Saving goes on; back the database up (and so check it) with: spo-tui backup.",
}


def failure_message(worker: Worker) -> str:
    """One line for a failed worker: what it was doing, why it failed, and what to do."""
    error = worker.error
    why = str(error) if isinstance(error, SpoError) else f"{type(error).__name__}: {error}"
    what = WHAT_FAILED.get(worker.group or "", f"Background work ({worker.name}) failed")
    step = NEXT_STEP.get(worker.group or "")
    return f"{what}: {why}." + (f" {step}" if step else "")


def report_failure(node: App[Any] | Widget, event: Worker.StateChanged) -> bool:
    """If ``event`` is a worker that failed, tell the user (an error notice) and return True."""
    if event.state != WorkerState.ERROR:
        return False
    node.log.error(f"{event.worker.name} failed: {event.worker.error!r}")
    node.notify(failure_message(event.worker), severity="error", timeout=20, markup=False)
    return True
