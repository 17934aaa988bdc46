"""Screens styled once, not again each time they are shown.

Each time a screen is shown (``ScreenResume``) Textual styles every widget of it again, in case the
theme or the stylesheet changed while it was out of sight. A screen shown with nothing of the kind
changed since its widgets were styled would come out the same: on the case screen, kept and shown
again (``SpoApp._kept_screen``), that pass was half the time the screen took to appear; on a new
oversight form, just styled as its seventy widgets were mounted, it was most of it.

So these screens are styled again on showing only when the app's styles changed since they were last
styled (Textual counts those changes, ``App._css_update_count``: a new theme, a reloaded stylesheet).
A widget whose classes change meanwhile is styled again by that change, as always.

(Textual calls each class's own ``_on_screen_resume`` in turn, the subclass's first: this one only
says whether Screen's, which follows, styles again.)
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen


class StyledOnce:
    """Mixed into a screen: no second styling of every widget when it is shown, unless styles changed."""

    _styled_for: int | None = None

    def _on_mount(self, event: events.Mount) -> None:
        self._styled_for = self.app._css_update_count  # type: ignore[attr-defined]  # its widgets are styled as mounted

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        styles_now = self.app._css_update_count  # type: ignore[attr-defined]
        if self._styled_for == styles_now:
            event.refresh_styles = False
        self._styled_for = styles_now


class KeptScreen(StyledOnce, Screen):
    """A screen kept to be shown again (a case, help)."""
