"""Putting rule-made work in the queue: calendar touch points, registration reviews, supervision.

``refresh_due_work`` is idempotent: every piece of rule-made work has a stable key, and an item is
created only if no item with that key exists, and (for the recurring kinds) none of that kind is
still open for the same case or practitioner.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from spo_tui.domain.rules import CaseFacts, PractitionerFacts, calendar_touch_points, supervision_due
from spo_tui.domain.vocab import RoSH, SentenceType
from spo_tui.services.context import Context
from spo_tui.store import queries, writes


def refresh_due_work(ctx: Context) -> int:
    """Create the touch-point and supervision items the rules make due; return how many."""
    today = ctx.today
    db = ctx.db
    existing_keys = {r[0] for r in db.execute("SELECT rule_key FROM items WHERE rule_key IS NOT NULL").fetchall()}
    # (crn or staff id, reason) pairs that already have work waiting: don't stack a second one.
    open_pairs = {
        (r[0], r[1])
        for r in db.execute(
            """SELECT i.crn, t.reason FROM items i JOIN touch_points t ON t.item_id = i.id WHERE i.status != 'closed'
               UNION ALL
               SELECT s.practitioner_id, s.kind FROM items i JOIN supervision s ON s.item_id = i.id WHERE i.status != 'closed'"""
        ).fetchall()
    }
    flags = defaultdict(list)
    horizon = today + timedelta(days=ctx.rules.get("flags", "review_lookahead_days"))
    for f in queries.flags_with_reviews(db, horizon):
        flags[f["crn"]].append((f["code"], date.fromisoformat(f["review_date"])))

    new_items = []
    for row in queries.case_facts_rows(db):
        case = CaseFacts(
            crn=row["crn"],
            rosh=RoSH(row["rosh"]),
            sentence_type=SentenceType(row["sentence_type"]),
            sentence_start=date.fromisoformat(row["sentence_start"]),
            sentence_end=date.fromisoformat(row["sentence_end"]) if row["sentence_end"] else None,
            last_oversight=date.fromisoformat(row["last_oversight"]) if row["last_oversight"] else None,
            flags=tuple(flags.get(row["crn"], ())),
        )
        for work in calendar_touch_points(case, today, ctx.rules):
            # Recurring reasons get one open item per case; each registration review stands alone.
            pair = (case.crn, work.reason) if work.reason != "flag_review" else (case.crn, work.key)
            if work.key in existing_keys or pair in open_pairs:
                continue
            open_pairs.add(pair)
            new_items.append(("touch_point", case.crn, work, {"reason": work.reason}))

    for row in queries.practitioner_supervision_rows(db, today - timedelta(days=365)):
        pp = PractitionerFacts(
            staff_id=row["id"],
            name=row["name"],
            role=row["role"],
            last_one_to_one=date.fromisoformat(row["last_one_to_one"]) if row["last_one_to_one"] else None,
            rpss_dates_last_year=tuple(sorted(date.fromisoformat(d) for d in (row["rpss_dates"] or "").split(",") if d)),
        )
        for work in supervision_due(pp, today, ctx.rules):
            if work.key in existing_keys or (pp.staff_id, work.reason) in open_pairs:
                continue
            open_pairs.add((pp.staff_id, work.reason))
            new_items.append(("supervision", None, work, {"practitioner_id": pp.staff_id, "kind": work.reason}))

    if not new_items:
        return 0
    with db.atomic():
        for kind, crn, work, detail in new_items:
            writes.insert_item(
                db,
                {"kind": kind, "crn": crn, "title": work.title, "due": work.due.isoformat(), "rule_key": work.key,
                 "status": "open", "created_at": ctx.now_iso},
                detail,
            )  # fmt: skip
        writes.audit(
            db, at=ctx.now_iso, actor_id=ctx.actor["id"], action="refresh_due_work", entity="items",
            entity_id=None, new={"created": len(new_items)},
        )  # fmt: skip
    return len(new_items)
