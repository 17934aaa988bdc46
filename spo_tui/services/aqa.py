"""AQA ratings and approval: less countersigning at source [000 §3.3].

"POs could become approved and not have to submit their OASys assessments for countersigning. This
approval process involved the POs submitting three assessments rated 'Good' against the assessment
quality assurance (AQA) tool." An SPO or QDO records each rating; the rating that completes the run
(``[aqa] good_for_approval`` Good since the last Inadequate: ``spo_tui.domain.court``) makes the PO
approved (``staff.oasys_approved``), audited. Approval is not withdrawn by a later rating on its own:
that is a manager's decision (``admin`` keeps the flag editable); the message says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from spo_tui.domain import court as court_rules
from spo_tui.domain.errors import ValidationError
from spo_tui.domain.vocab import PRACTITIONER_ROLE_VALUES, AqaRating, normalise_crn, parse_enum
from spo_tui.services.base import ActionResult, audit
from spo_tui.services.context import Context
from spo_tui.services.intake import optional_text, read_date, resolve_staff
from spo_tui.store import writes
from spo_tui.store.rows import all_rows


def rate_aqa(
    ctx: Context,
    practitioner: str,
    rating: str,
    *,
    rated_on: date | str | None = None,
    crn: str | None = None,
    assessment: str = "",
) -> ActionResult:
    """Record an AQA rating of a practitioner's OASys assessment (Good / Requires improvement /
    Inadequate), by the SPO or QDO at the keyboard, on ``rated_on`` (today by default, not later).
    The rating that completes the run of Good makes the practitioner approved [000 §3.3]."""
    ctx.require("rate_aqa")
    pp = resolve_staff(ctx, practitioner, "practitioner", PRACTITIONER_ROLE_VALUES)
    value = parse_enum(AqaRating, rating, "rating")
    day = read_date(rated_on, "rated_on", required=False) or ctx.today
    if day > ctx.today:
        raise ValidationError(f"an AQA rating is recorded once made, not for {day:%d/%m/%Y}", field="rated_on")
    row: dict[str, Any] = {
        "id": writes.new_id(),
        "staff_id": pp["id"],
        "crn": normalise_crn(crn) if crn else None,
        "assessment": optional_text(assessment, "assessment"),
        "rating": value.value,
        "rated_by": ctx.actor["id"],
        "rated_on": day.isoformat(),
        "created_at": ctx.now_iso,
    }
    with ctx.db.atomic():
        ctx.db.table("aqa_ratings").insert(row)
        audit_id = audit(ctx, "rate_aqa", "staff", pp["id"], new=row)
        progress = _progress(ctx, pp["id"])
        newly = progress.approved and not pp["oasys_approved"]
        if newly:
            ctx.db.execute("UPDATE staff SET oasys_approved = 1 WHERE id = ?", [pp["id"]])
            audit(
                ctx,
                "aqa_approved",
                "staff",
                pp["id"],
                old={"oasys_approved": 0},
                new={"oasys_approved": 1, "goods": progress.goods},
            )
    if newly:
        message = f"{pp['name']} is now approved ({progress.label}): their OASys no longer needs countersigning"
    elif pp["oasys_approved"]:
        message = f"Rated {value.label}: {pp['name']} stays approved" + (
            " (an Inadequate rating: consider whether approval should stand)" if value == AqaRating.INADEQUATE else ""
        )
    else:
        message = f"Rated {value.label}: {pp['name']} is at {progress.label} towards approval"
    return ActionResult(message, item_id=row["id"], audit_id=audit_id)


def _progress(ctx: Context, staff_id: str) -> court_rules.Progress:
    ratings = [
        r[0]
        for r in ctx.db.execute(
            "SELECT rating FROM aqa_ratings WHERE staff_id = ? ORDER BY rated_on, created_at, rowid", [staff_id]
        ).fetchall()
    ]
    return court_rules.approval_progress(ratings, ctx.rules.raw)


@dataclass(frozen=True)
class Standing:
    """One practitioner's standing towards approval, for the listing."""

    staff_id: str
    name: str
    role: str
    team: str
    approved: bool
    progress: court_rules.Progress
    ratings: int
    last_rated: date | None

    @property
    def label(self) -> str:
        return "approved" if self.approved else self.progress.label

    @property
    def close(self) -> bool:
        """One Good rating away from approval."""
        return not self.approved and self.progress.needed - self.progress.goods == 1


def approval_standings(ctx: Context, team: str | None = None) -> list[Standing]:
    """Every active practitioner (of ``team``, or the SPO's team by default) with how far they are
    towards approval, the closest first; the approved last [000 §3.3]."""
    team = ctx.team if team is None else team
    where = "s.active = 1 AND s.role IN ({})".format(",".join("?" * len(PRACTITIONER_ROLE_VALUES)))
    params: list[Any] = list(PRACTITIONER_ROLE_VALUES)
    if team:
        where += " AND s.team = ?"
        params.append(team)
    rows = all_rows(
        ctx.db,
        f"""SELECT s.id, s.name, s.role, s.team, s.oasys_approved,
                   (SELECT group_concat(rating) FROM (SELECT rating FROM aqa_ratings a WHERE a.staff_id = s.id
                    ORDER BY rated_on, created_at, rowid)) AS ratings,
                   (SELECT MAX(rated_on) FROM aqa_ratings a WHERE a.staff_id = s.id) AS last_rated
            FROM staff s WHERE {where} ORDER BY s.name""",
        params,
    )
    out = []
    for r in rows:
        ratings = (r["ratings"] or "").split(",") if r["ratings"] else []
        progress = court_rules.approval_progress(ratings, ctx.rules.raw)
        out.append(
            Standing(
                staff_id=r["id"],
                name=r["name"],
                role=r["role"],
                team=r["team"],
                approved=bool(r["oasys_approved"]),
                progress=progress,
                ratings=len(ratings),
                last_rated=date.fromisoformat(r["last_rated"]) if r["last_rated"] else None,
            )
        )
    out.sort(key=lambda s: (s.approved, -s.progress.goods, s.name))
    return out
