"""A Footer that rebuilds itself only when the keys it shows change.

Textual's Footer recomposes on every bindings refresh, and a DataTable refreshes bindings on every
cursor move: with a dozen keys that made each arrow press cost tens of milliseconds for a footer
that looked the same. This one compares what it would show first.

It uses Textual's Footer through the methods a subclass may override (``compose``, ``bindings_changed``)
and no private attribute. Two things it leans on are not Textual's public API: ``FooterKey`` (not
exported from ``textual.widgets``; its ``action`` and ``description``) and the shape of
``Screen.active_bindings``' values. ``tests/test_footer.py`` fails, saying which, if a release changes them.
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class QuietFooter(Footer):
    """Footer whose keys are rebuilt only when the shown keys, labels or enabled states differ."""

    #: The keys the footer was last rebuilt for; None until Footer's own ``bindings_changed`` has run
    #: once, which is what readies a Footer to show keys at all (so the first call always goes through).
    _shown: tuple | None = None

    def compose(self):
        """Textual's footer, each key the acting person may not use marked as the screen says
        (``footer_mark(action)``, e.g. "(SPO)"): pressing it says why it is refused."""
        mark = getattr(self.screen, "footer_mark", None)
        for widget in super().compose():
            if mark is not None and isinstance(widget, FooterKey):
                suffix = mark(widget.action)
                if suffix:
                    widget.description = f"{widget.description} {suffix}"
            yield widget

    def bindings_changed(self, screen) -> None:
        mark = getattr(screen, "footer_mark", lambda _action: None)
        shown = tuple(
            (binding.key, binding.description, enabled, mark(binding.action))
            for (_node, binding, enabled, _tooltip) in screen.active_bindings.values()
            if binding.show
        )
        if shown == self._shown:  # never true on the first call: shown is a tuple, _shown still None
            return
        self._shown = shown
        super().bindings_changed(screen)
