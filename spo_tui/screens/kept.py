"""Screens made once and shown again (``SpoApp._kept_screen``: a case, help).

Each time a screen is shown (``ScreenResume``) Textual styles every widget of it again, in case the
theme or the stylesheet changed while it was out of sight. A kept screen shown again with nothing of
the kind changed would come out the same: on the case screen that pass was half the time the screen
took to appear. So a kept screen is styled again on showing only when the app's styles changed since
it was last styled (Textual counts those changes, ``App._css_update_count``: a new theme, a reloaded
stylesheet). A widget whose classes change meanwhile is styled again by that change, as always.

(Textual calls each class's own ``_on_screen_resume`` in turn, the subclass's first: this one only
says whether Screen's, which follows, styles again.)
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen


class KeptScreen(Screen):
    """A screen kept to be shown again: styled again on showing only if the app's styles changed."""

    _styled_for: int | None = None

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        styles_now = self.app._css_update_count
        if self._styled_for == styles_now:
            event.refresh_styles = False
        self._styled_for = styles_now
