"""A Footer that rebuilds itself only when the keys it shows change, and then at once, in place.

Textual's Footer recomposes on every bindings refresh, and a DataTable refreshes bindings on every
cursor move: with a dozen keys that made each arrow press cost tens of milliseconds for a footer
that looked the same. This one compares what it would show first. When the keys do change (the
cursor reaches another kind of item, a filter shows another kind), the key widgets there are take
the new keys' text in the frame after the one that shows what changed them, as Textual's footer
does, but without removing and mounting them all (a recompose costs tens of milliseconds, and two
more frames): spare ones are hidden, and only keys there is no widget for yet are mounted.

It uses Textual's Footer through the methods a subclass may override (``compose``, ``bindings_changed``)
and reads no private attribute. Two things it leans on are not Textual's public API: ``FooterKey``
(not exported from ``textual.widgets``; its ``key``, ``key_display``, ``action`` and ``description``)
and the shape of ``Screen.active_bindings``' values. ``tests/test_footer.py`` fails, saying which, if
a release changes them.
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
        """Textual's footer, each key named as the screen says where that differs from the binding
        (``footer_label(action)``, e.g. "Gatekeep" for "Sign off" on a PSR) and each key the acting
        person may not use marked as it says (``footer_mark(action)``, e.g. "(SPO)"): pressing it says
        why it is refused."""
        mark = getattr(self.screen, "footer_mark", None)
        label = getattr(self.screen, "footer_label", None)
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                named = label(widget.action) if label is not None else None
                if named:
                    widget.description = named
                suffix = mark(widget.action) if mark is not None else None
                if suffix:
                    widget.description = f"{widget.description} {suffix}"
            yield widget

    def bindings_changed(self, screen) -> None:
        mark = getattr(screen, "footer_mark", lambda _action: None)
        label = getattr(screen, "footer_label", lambda _action: None)
        shown = tuple(
            (binding.key, binding.description, enabled, mark(binding.action), label(binding.action))
            for (_node, binding, enabled, _tooltip) in screen.active_bindings.values()
            if binding.show
        )
        if shown == self._shown:  # never true on the first call: shown is a tuple, _shown still None
            return
        first = self._shown is None
        self._shown = shown
        if first or not (screen.app.app_focus and self.is_attached and screen is self.screen):
            super().bindings_changed(screen)
            return
        # After the frame that shows what changed the keys (the queue's rows), as Textual's own footer.
        self.call_after_refresh(self._show_keys)

    async def _show_keys(self) -> None:
        if not self._refill():
            await self.recompose()

    def _refill(self) -> bool:
        """Show the keys ``compose`` gives on the key widgets mounted, mounting only those there is no
        widget for yet and hiding the spare ones; False (nothing changed) where a plain rebuild is
        needed: keys in groups, or a key whose classes differ (shown disabled, the palette's)."""
        wanted = list(self.compose())  # in this footer's own callback: each key binds to its style (data_bind)
        mounted = list(self.query_children(FooterKey))
        if len(mounted) != len(self.children) or not all(isinstance(w, FooterKey) for w in wanted):
            return False
        if not wanted or not mounted or _kind(wanted[-1]) != _kind(mounted[-1]):
            return False
        # The palette's key (docked right) stays last; the others are filled in order.
        wanted_keys, last_wanted = wanted[:-1], wanted[-1]
        mounted_keys, last_mounted = mounted[:-1], mounted[-1]
        if any(_kind(new) != _kind(old) for new, old in zip(wanted_keys, mounted_keys, strict=False)):
            return False
        for new, old in [*zip(wanted_keys, mounted_keys, strict=False), (last_wanted, last_mounted)]:
            shown = (new.key, new.key_display, new.description, new.action, new.tooltip)
            if (old.key, old.key_display, old.description, old.action, old.tooltip) != shown or not old.display:
                old.key, old.key_display, old.description, old.action, old.tooltip = shown
                old.display = True
                old.refresh(layout=True)
        for spare in mounted_keys[len(wanted_keys) :]:
            spare.display = False
        if len(wanted_keys) > len(mounted_keys):
            self.mount_all(wanted_keys[len(mounted_keys) :], before=last_mounted)
        return True


def _kind(key: FooterKey) -> frozenset[str]:
    """A key's classes but the one its ``compact`` style sets once it is mounted."""
    return frozenset(key.classes - {"-compact"})
