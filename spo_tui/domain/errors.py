"""Errors the domain and services raise for the user to read."""

from __future__ import annotations


class SpoError(Exception):
    """Base for every error with a message meant for the user.

    A message often quotes what was typed or read: any control character in it is shown as an
    escape (``\\x1b``, ``spo_tui.domain.text.visible``), so the message is safe to print anywhere.
    """

    def __str__(self) -> str:
        from spo_tui.domain.text import visible  # text.py imports this module

        return visible(super().__str__(), lines=False)


class ValidationError(SpoError):
    """Bad input: the message says what was wrong; ``field`` names the input it came from."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(SpoError):
    """The thing asked for does not exist (an unknown CRN, item or staff member)."""


class NotAllowed(SpoError):
    """The acting user's role does not allow this action, or the item's state does not (or a rule of
    the work refuses it); ``field`` names the input the refusal turns on, where there is one (an
    import names it beside the record)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
