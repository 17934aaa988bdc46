"""A screen's breakpoint classes, given before its widgets are made.

Textual gives a screen the classes of its breakpoints (``-narrow``, ``-wide``, ``-short``, ``-tall``:
``HORIZONTAL_BREAKPOINTS`` and ``VERTICAL_BREAKPOINTS``, the screen's or else the app's) on its first
Resize event, after every widget of it has been styled without them: they are then all styled again.
On the oversight form (some seventy widgets) that second pass was a fifth of the time it took to open.
Given at the start of ``compose``, for the terminal's present size, the classes are already those
Textual then works out, so it changes nothing, and nothing is styled twice. What is shown is the same.
"""

from __future__ import annotations

from textual.screen import Screen


def take_breakpoints(screen: Screen) -> None:
    """Give ``screen`` the breakpoint classes of the app's present size (call it first in ``compose``)."""
    app = screen.app
    width, height = app.size
    if not width or not height:
        return  # not sized yet: the first Resize gives them, as it would have
    horizontal = (
        app.HORIZONTAL_BREAKPOINTS if screen.HORIZONTAL_BREAKPOINTS is None else screen.HORIZONTAL_BREAKPOINTS
    ) or []
    vertical = (app.VERTICAL_BREAKPOINTS if screen.VERTICAL_BREAKPOINTS is None else screen.VERTICAL_BREAKPOINTS) or []
    classes = {name: False for _, name in horizontal + vertical}
    for dimension, breakpoints in ((width, horizontal), (height, vertical)):
        for threshold, name in sorted(breakpoints, reverse=True):  # as Textual's Screen chooses them
            if dimension >= threshold:
                classes[name] = True
                break
    screen.update_classes(classes)
