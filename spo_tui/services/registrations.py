"""A registration's review, done: its next review date moves on [000, 001].

A registration (``case_flags``) carries a next review date and a review period, as the case record
has them (``nextReviewDate``, ``reviewPeriodMonths``). The review coming due is a touch point made
by the calendar (``rules.calendar_touch_points``, reason ``flag_review``; for the MAPP registration
of a level 1 case, the MAPPA level 1 review). When that touch point is closed — an oversight entry
recorded on it, or waived with a reason — the review has been dealt with, so the registration's
next review date moves on by its period (``[flags] default_review_period_months`` when it has none),
and the next refresh makes the next review on the new date, never again on the old one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from spo_tui.domain import rules as domain_rules
from spo_tui.services.base import audit
from spo_tui.services.context import Context


def advance_review(ctx: Context, item: dict[str, Any]) -> dict[str, Any] | None:
    """If ``item`` is a registration review touch point whose registration still has that review
    date, move the date on (``rules.next_review``), audited, and return what changed
    (``{"crn", "code", "old", "new"}``, kept in the closing action's audit row so undo can put it
    back); else None. Call inside the transaction that closes the item.

    A registration removed since, or whose date was changed by hand since the touch point was made,
    is left as it is: the review date it has now is someone's later decision.
    """
    found = domain_rules.flag_review_of(item.get("rule_key"))
    if found is None:
        return None
    crn, code, review = found
    flag = ctx.db.execute(
        "SELECT id, review_date, review_period_months FROM case_flags WHERE crn = ? AND code = ?", [crn, code]
    ).fetchone()
    if flag is None or flag[1] != review.isoformat():
        return None
    period = flag[2] or ctx.rules.get("flags", "default_review_period_months")
    new = domain_rules.next_review(review, period, ctx.today)
    ctx.db.table("case_flags").update(flag[0], {"review_date": new.isoformat()})
    moved = {"crn": crn, "code": code, "old": review.isoformat(), "new": new.isoformat(), "months": period}
    audit(
        ctx,
        "registration_reviewed",
        "case",
        crn,
        old={"code": code, "review_date": review.isoformat()},
        new={"code": code, "review_date": new.isoformat(), "review_period_months": period, "item": item["id"]},
    )
    return moved


def undo_advance(ctx: Context, moved: dict[str, Any] | None) -> None:
    """Put a registration's review date back as it was before :func:`advance_review` (the closing
    action was undone), if nobody has changed it since."""
    if not moved:
        return
    ctx.db.execute(
        "UPDATE case_flags SET review_date = ? WHERE crn = ? AND code = ? AND review_date = ?",
        [moved["old"], moved["crn"], moved["code"], moved["new"]],
    )


def shown(moved: dict[str, Any] | None) -> str:
    """ "; next ADVP review 01/06/2027" for a message, or ""."""
    if not moved:
        return ""
    return f"; next {moved['code']} review {date.fromisoformat(moved['new']):%d/%m/%Y}"
