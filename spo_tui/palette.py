"""The command palette's case finder: type a CRN (or part of a name) and Enter opens the case."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import Hit, Hits, Provider
from textual.content import Content

from spo_tui.domain.text import visible
from spo_tui.domain.vocab import CRN_PATTERN

if TYPE_CHECKING:
    from spo_tui.app import SpoApp


class CaseFinder(Provider):
    """Cases whose CRN or name holds what was typed (two characters or more), a CRN typed in full
    first: ``Ctrl+P X123456 Enter`` opens that case, as the "Go to case" prompt does."""

    #: Cases offered at most, so a PDU's 5,000 keep the palette quick.
    LIMIT = 8

    async def search(self, query: str) -> Hits:
        app = cast("SpoApp", self.app)  # the palette is SpoApp's (its COMMANDS)
        ctx = getattr(app, "ctx", None)
        text = query.strip()
        if ctx is None or len(text) < 2:
            return
        from spo_tui.services import lookup

        exact = text.upper() if CRN_PATTERN.match(text.upper()) else None
        for case in lookup.find_cases(ctx, text, limit=self.LIMIT):
            crn, name = case["crn"], visible(case["name"] or "", lines=False)
            score = 1.0 if crn == exact else 0.5
            yield Hit(
                score,
                Content(f"Open case {crn} {name}"),
                partial(app.open_case, crn),
                text=f"Open case {crn} {name}",
                help="The case: risk, registrations, timeline",
            )
