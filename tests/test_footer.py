"""QuietFooter (``spo_tui.widgets.footer``): marks keys the acting person may not use, and rebuilds
only when the keys shown change.

It leans on parts of Textual that are not its public API; the first test says plainly which one a
Textual release has changed, so that the pin on ``textual`` in pyproject.toml can be moved knowingly.
"""

from __future__ import annotations

import inspect

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

UPGRADE = "Textual changed something spo_tui/widgets/footer.py (QuietFooter) relies on: "


def test_textual_still_has_what_quiet_footer_relies_on():
    try:
        from textual.widgets._footer import FooterKey
    except ImportError as error:
        pytest.fail(f"{UPGRADE}FooterKey is no longer in textual.widgets._footer ({error})")
    params = inspect.signature(FooterKey.__init__).parameters
    for name in ("key", "key_display", "description", "action", "disabled"):
        assert name in params, f"{UPGRADE}FooterKey() no longer takes {name!r}"
    key = FooterKey("d", "d", "Decide", "decide")
    assert (key.description, key.action) == ("Decide", "decide"), (
        f"{UPGRADE}FooterKey no longer keeps its description and action as attributes"
    )
    assert list(inspect.signature(Footer.bindings_changed).parameters) == ["self", "screen"], (
        f"{UPGRADE}Footer.bindings_changed(screen) has a different signature"
    )


class Probe(Screen):
    BINDINGS = [Binding("d", "decide", "Decide"), Binding("b", "book", "Book")]
    book: bool | None = True  # check_action: True shown, None shown disabled

    def compose(self) -> ComposeResult:
        from spo_tui.widgets.footer import QuietFooter

        yield QuietFooter()

    def footer_mark(self, action: str) -> str | None:
        return "(SPO)" if action == "decide" else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.book if action == "book" else True

    def action_decide(self) -> None:
        pass

    def action_book(self) -> None:
        pass


class ProbeApp(App):
    def on_mount(self) -> None:
        self.push_screen(Probe())


def _keys(app: App) -> dict[str, object]:
    from textual.widgets._footer import FooterKey

    return {k.action: k for k in app.screen.query(FooterKey) if k.action in ("decide", "book")}


async def test_quiet_footer_marks_keys_and_rebuilds_only_when_they_change():
    app = ProbeApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        first = _keys(app)
        assert {a: k.description for a, k in first.items()} == {"decide": "Decide (SPO)", "book": "Book"}, (
            f"{UPGRADE}the footer's keys are not shown, or not marked, on the first bindings refresh"
        )

        app.screen.refresh_bindings()  # nothing shown changes: the same key widgets stay
        await pilot.pause()
        await pilot.pause()
        assert all(k is first[a] for a, k in _keys(app).items())

        app.screen.book = None  # Book now shown disabled: the footer is rebuilt
        app.screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        after = _keys(app)
        assert after["book"] is not first["book"] and after["book"].has_class("-disabled")
        assert after["decide"].description == "Decide (SPO)"
