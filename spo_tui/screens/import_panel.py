"""The import bar of the admin screen: a widget that asks for a CSV extract, checks it (a dry run) and
imports it in a thread of its own, with a progress bar.

It owns its worker: the worker's ``Worker.StateChanged`` comes to this widget only (it does not bubble),
so a failed import is said here (``worker_errors.report_failure``). When a check or an import ends it
posts ``ImportPanel.Finished``, which bubbles to the screen: an import that wrote means reading again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label, ProgressBar
from textual.worker import Worker, WorkerState

from spo_tui.domain.errors import ValidationError
from spo_tui.domain.text import visible
from spo_tui.screens.text_screen import TextScreen
from spo_tui.screens.worker_errors import report_failure

if TYPE_CHECKING:
    from textual import getters

    from spo_tui.app import SpoApp

#: Staff first: a cases extract names its practitioners, who must already be on the staff list.
IMPORT_KINDS = (
    ("staff", "Staff"),
    ("cases", "Cases"),
    ("countersign", "Countersign items"),
    ("touchpoints", "Touch points"),
)


class ImportPanel(Horizontal):
    """What is being checked or imported, and how far it has gone; hidden when nothing is running."""

    if TYPE_CHECKING:
        app = getters.app(SpoApp)

    class Finished(Message):
        """An import (or its dry run) finished in its thread."""

        def __init__(self, kind: str, path: str, dry_run: bool, report: Any) -> None:
            super().__init__()
            self.kind = kind
            self.path = path
            self.dry_run = dry_run
            self.report = report

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.importing = False

    @property
    def ctx(self):
        return self.app.ctx

    def compose(self) -> ComposeResult:
        yield Label("", id="import-label", markup=False)
        yield ProgressBar(id="import-progress", show_eta=False)

    def ask(self) -> None:
        """Which extract, then which file (it must exist), then check it."""
        from spo_tui.screens.prompts import ChoiceScreen, PromptScreen

        if self.importing:
            self.notify("An import is already running", severity="warning", markup=False)
            return

        def ask_path(kind: str) -> None:
            def check(text: str) -> None:
                path = Path(text.strip()).expanduser()
                if not path.is_file():
                    raise ValidationError(f"no file at {path}", field="path")

            def chosen(text: str | None) -> None:
                if text:
                    self.start(kind, str(Path(text.strip()).expanduser()), dry_run=True)

            label = dict(IMPORT_KINDS)[kind]
            self.app.push_screen(
                PromptScreen(
                    f"Import {label.lower()}: the CSV or JSON file",
                    "e.g. ~/Downloads/extract.csv or caseload.json",
                    submit=check,
                ),
                chosen,
            )

        self.app.push_screen(
            ChoiceScreen("Import which extract?", list(IMPORT_KINDS)),
            lambda value: ask_path(value) if value else None,
        )

    def start(self, kind: str, path: str, *, dry_run: bool) -> None:
        """Check (dry run) or import ``path`` in a thread, with the progress bar showing."""
        self.importing = True
        verb = "Checking" if dry_run else "Importing"
        self.query_one("#import-label", Label).update(visible(f"{verb} {Path(path).name}", lines=False))
        self.query_one("#import-progress", ProgressBar).update(total=None, progress=0)
        self.add_class("-running")
        ctx = self.ctx
        self.run_import(kind, path, dry_run, self.app.db_path, ctx.rules, ctx.actor["name"], ctx.clock)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import")
    def run_import(self, kind: str, path: str, dry_run: bool, db_path: Path, rules, actor: str, clock) -> None:
        """On a connection of this thread's own (a sqlite connection cannot cross threads)."""
        from spo_tui.services.context import make_context
        from spo_tui.services.importer import import_file
        from spo_tui.store.db import open_db

        app = self.app

        def progress(done: int, total: int) -> None:
            app.call_from_thread(self._show_progress, done, total)

        db = open_db(db_path, migrate=False)
        try:
            report = import_file(
                make_context(db, rules, actor, clock=clock),
                kind,
                path,
                dry_run=dry_run,
                progress=progress,
                refresh=True,
            )
        finally:
            db.close()
        self.post_message(self.Finished(kind, path, dry_run, report))

    def _show_progress(self, done: int, total: int) -> None:
        self.query_one("#import-progress", ProgressBar).update(total=max(total, 1), progress=done)

    def _stopped(self) -> None:
        self.importing = False
        self.remove_class("-running")

    def on_import_panel_finished(self, message: Finished) -> None:
        """An import: say what it did. A check: show its report, then ask whether to import."""
        self._stopped()
        report = message.report
        if not message.dry_run:
            summary = report.render(limit=0).splitlines()[0]
            made = report.made_line()  # touch points the new cases made due, and how many are catch-up
            self.notify(
                summary + (f"\n{made}" if made else ""),
                severity="information" if report.ok else "error",
                markup=False,
                timeout=10 if made else 6,
            )
            return

        def after_report(go_on: bool | None) -> None:
            if not (go_on and report.ok):
                return
            if not (report.added or report.updated):
                self.notify("Nothing to import: every row is already in the store", markup=False)
                return
            from spo_tui.screens.prompts import ConfirmScreen

            question = f"Import {report.rows:,} rows? ({report.added:,} to add, {report.updated:,} to update)"
            self.app.push_screen(
                ConfirmScreen(question),
                lambda yes: self.start(message.kind, message.path, dry_run=False) if yes else None,
            )

        hint = "enter continue · c copy · esc close" if report.ok else "c copy · esc close: nothing was written"
        self.app.push_screen(TextScreen("Import check", report.render(), hint), after_report)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The import stopped (an unreadable file, a missing column...): hide the bar and say why."""
        if event.worker.group == "import" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._stopped()
            report_failure(self, event)
