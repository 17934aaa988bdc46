"""The header of every screen: who is acting, their team and the day (the app's sub-title), and, on a
store connected to a team hub, where it stands with the hub, at the right.

A store without a hub gets Textual's header exactly as it was (the same parts, the same width): the
sync words are made only when the app has a hub's status to show (``SpoApp.sync_status``).

The words, at 110 columns and more: ``synced 08:12`` (``synced Fri 20/11 08:12`` when not today;
``never synced``), then ``3 changes waiting`` when any are, then ``offline`` (in the theme's warning
colour) when the last try could not reach the hub. Below 110 columns (80 is the smallest the app
allows) the same in a dozen cells: ``⟳08:12 ·3 offline``, so the name and the day keep their room
and nothing wraps. For a few seconds after the hub refused a sync the words are
``sync refused: see spo-tui sync --status`` at any width (the hub's own words are in a notification).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Header, Static

from spo_tui.domain.dates import from_iso
from spo_tui.services.context import LONDON

if TYPE_CHECKING:
    from spo_tui.services.sync import SyncStatus

#: From this many columns the sync words are written out; below, the short form.
WIDE_FROM = 110
#: What the header says while the hub's refusal is shown.
REFUSED = "sync refused: see spo-tui sync --status"
OFFLINE_STYLE = "bold $warning"
REFUSED_STYLE = "bold $error"


def _last_sync(stamp: str | None, now: datetime, *, wide: bool) -> str:
    """When the last sync was, in England and Wales time: the time alone if today, else the day too."""
    if not stamp:
        return "never synced" if wide else "⟳never"
    try:
        moment = from_iso(stamp).astimezone(LONDON)
    except ValueError:
        return "synced" if wide else "⟳"
    today = moment.date() == now.astimezone(LONDON).date()
    if wide:
        return f"synced {moment:%H:%M}" if today else f"synced {moment:%a %d/%m %H:%M}"
    return f"⟳{moment:%H:%M}" if today else f"⟳{moment:%d/%m}"


def sync_words(state: SyncStatus, *, wide: bool, refused: bool = False, now: datetime | None = None) -> Content:
    """What the header says of a connected store (``state``): see the module's docstring."""
    if refused:
        return Content.assemble((REFUSED, REFUSED_STYLE))
    now = now or datetime.now(LONDON)
    parts: list[Any] = [_last_sync(state.last_sync, now, wide=wide)]
    if state.waiting:
        if wide:
            parts.append(f" · {state.waiting} change{'s' if state.waiting != 1 else ''} waiting")
        else:
            parts.append(f" ·{state.waiting}")
    if state.offline:
        parts.extend([" · " if wide else " ", ("offline", OFFLINE_STYLE)])
    return Content.assemble(*parts)


def sync_tooltip(state: SyncStatus) -> str:
    """The words in full, with the hub, for a pointer resting on them."""
    words = sync_words(state, wide=True).plain
    return f"{words}\nHub: {state.hub}\nSync now: Ctrl+P, Sync with the hub now. Details: spo-tui sync --status"


class SyncWords(Static):
    """Where the store stands with its hub, docked at the right of the header."""

    DEFAULT_CSS = """
    SyncWords {
        dock: right;
        width: auto;
        padding: 0 1;
        text-wrap: nowrap;
        color: $foreground;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "sync_status", self.show_state)
        self.watch(self.app, "sync_refused", self.show_state)

    def show_state(self, _value: object = None) -> None:
        state = getattr(self.app, "sync_status", None)
        if state is None:
            self.update("")
            return
        refused = bool(getattr(self.app, "sync_refused", False))
        self.update(sync_words(state, wide=self.app.size.width >= WIDE_FROM, refused=refused))
        self.tooltip = sync_tooltip(state)


class AppHeader(Header):
    """Textual's header, with the hub's status at the right (in place of the clock's empty space) on a
    connected store."""

    DEFAULT_CSS = """
    AppHeader.-hub HeaderClockSpace {
        display: none;
    }
    """

    def compose(self) -> ComposeResult:
        yield from super().compose()
        if getattr(self.app, "sync_status", None) is not None:  # no hub: Textual's header as it is
            self.add_class("-hub")
            yield SyncWords()

    def on_resize(self, event: events.Resize) -> None:
        for words in self.query(SyncWords):
            words.show_state()
