"""Rich styles in the theme's colours, for text drawn as Rich renderables (table cells, the detail
pane) where CSS does not reach: so every theme, light ones included, keeps them readable."""

from __future__ import annotations

from rich.style import Style
from textual.app import App
from textual.color import Color, ColorParseError


def theme_style(app: App, variable: str, bold: bool = False) -> Style:
    """A Rich style in the theme's colour ``variable`` (``error``, ``text-error``, ``warning``...);
    bold only if the variable is not a plain colour (e.g. "auto 60%")."""
    try:
        colour = Color.parse(app.theme_variables[variable]).rich_color
    except (KeyError, ColorParseError):
        return Style(bold=bold)
    return Style(color=colour, bold=bold)
