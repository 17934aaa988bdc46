"""Putting rule-made work in the queue: calendar touch points, registration reviews, supervision.

``refresh_due_work`` is idempotent: every piece of rule-made work has a stable key, and an item is
created only if no item with that key exists, and (for the recurring kinds) none of that kind is
still open for the same case or practitioner.

It works out what is due from one consistent read of the store, which takes no lock, then writes
the new items in short transactions of a few hundred items, each with its audit row, and rests
between them (``spo_tui.store.batches``). After an import of 100,000 cases that is about 115,000 items: written in one
transaction they held the write lock for half a minute and other people's saves were refused as
busy; in batches, a save made meanwhile waits a few hundredths of a second. Each batch checks
again, under the lock, that its items are still missing, so a refresh stopped half-way (a kill,
a power cut) leaves only whole batches, and the next refresh makes exactly what is left.

A touch point already overdue by more than ``[touch_points] catch_up_after_days`` when it is made
goes on the catch-up list (``rules.is_catch_up``): on the first refresh after a caseload is imported,
that is most of the calendar's touch points, and they must not bury today's work.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlite_utils import Database

from spo_tui.domain.rules import (
    ONE_PER_KEY,
    CaseFacts,
    DueWork,
    PractitionerFacts,
    calendar_touch_points,
    is_catch_up,
    supervision_due,
)
from spo_tui.domain.vocab import RoSH, SentenceType
from spo_tui.services.context import Context
from spo_tui.store import queries, writes
from spo_tui.store.batches import Pace
from spo_tui.store.db import read_snapshot

#: Items in the first batch (each next one is sized to hold the lock about 0.1 s,
#: ``spo_tui.store.batches``): 20–90 ms on a 2-CPU VM.
BATCH_SIZE = 500

#: (kind, crn, the work, the detail row) of one item to make.
_Work = tuple[str, str | None, DueWork, dict]


@dataclass
class Made:
    """What one refresh made: items in all, and of the touch points how many were already overdue
    and how many of those went on the catch-up list."""

    items: int = 0
    touch_points: int = 0
    overdue: int = 0
    catch_up: int = 0
    #: Waiting items put back in the queue because their day to come back has come.
    back: int = 0

    def add(self, ctx: Context, written: list[_Work]) -> None:
        self.items += len(written)
        for kind, _crn, work, _detail in written:
            if kind == "touch_point":
                self.touch_points += 1
                self.overdue += work.due < ctx.today
                self.catch_up += is_catch_up(work.due, ctx.today, ctx.rules)


def refresh_due_work(
    ctx: Context, *, batch_size: int | None = None, after_batch: Callable[[int], object] | None = None
) -> int:
    """Create the touch-point and supervision items the rules make due, and put back in the queue
    returned work not resubmitted by its deadline; return how many items that made or brought back.

    The items are written a batch at a time, one transaction (with its audit row) per batch: each
    ``batch_size`` items, or by default as many as hold the lock about 0.1 s (``Pace``), starting
    at ``BATCH_SIZE``. ``after_batch(created so far)`` is called after each batch commits.
    """
    made = refresh_counted(ctx, batch_size=batch_size, after_batch=after_batch)
    return made.items + made.back


def refresh_counted(
    ctx: Context, *, batch_size: int | None = None, after_batch: Callable[[int], object] | None = None
) -> Made:
    """``refresh_due_work``, saying what it made (for the import report)."""
    from spo_tui.services.assurance import escalate_facilities
    from spo_tui.services.decisions import bring_back_due

    escalated = escalate_facilities(ctx)  # facilities jobs past their target: escalated, chased [002 §9]
    made = Made(back=bring_back_due(ctx) + escalated)  # returned work not resubmitted by its deadline comes back first
    work = _due_work(ctx)
    pace = Pace(batch_size, BATCH_SIZE)
    start = 0
    while start < len(work):
        began = time.monotonic()
        batch = work[start : start + pace.size]
        made.add(ctx, _write_batch(ctx, batch))
        start += len(batch)
        held = time.monotonic() - began
        if after_batch is not None:
            after_batch(made.items)
        if start < len(work):
            pace.done(held)  # size the next batch, and let anyone waiting for the lock have it
    return made


def _due_work(ctx: Context) -> list[_Work]:
    """What the rules make due that the store does not have yet, from one read of the store."""
    with read_snapshot(ctx.db):
        return _plan(ctx)


def _plan(ctx: Context) -> list[_Work]:
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

    new_items: list[_Work] = []
    for row in queries.case_facts_rows(db):
        case = CaseFacts(
            crn=row["crn"],
            rosh=RoSH(row["rosh"]),
            sentence_type=SentenceType(row["sentence_type"]),
            sentence_start=date.fromisoformat(row["sentence_start"]),
            sentence_end=date.fromisoformat(row["sentence_end"]) if row["sentence_end"] else None,
            last_oversight=date.fromisoformat(row["last_oversight"]) if row["last_oversight"] else None,
            flags=tuple(flags.get(row["crn"], ())),
            mappa_level=row["mappa_level"],
            lifer=bool(row["lifer"]),
            release_date=_day(row["release_date"]),
            rotl_date=_day(row["rotl_date"]),
            handover_date=_day(row["handover_date"]),
            lifer_panel_date=_day(row["lifer_panel_date"]),
            victim_contact=bool(row["victim_contact"]),
        )
        for work in calendar_touch_points(case, today, ctx.rules):
            # Recurring reasons get one open item per case; each dated one (a registration review, a
            # ROTL, a release...) stands alone.
            pair = (case.crn, work.reason) if work.reason not in ONE_PER_KEY else (case.crn, work.key)
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
            rpss_dates_last_year=tuple(
                sorted(date.fromisoformat(d) for d in (row["rpss_dates"] or "").split(",") if d)
            ),
        )
        for work in supervision_due(pp, today, ctx.rules):
            if work.key in existing_keys or (pp.staff_id, work.reason) in open_pairs:
                continue
            open_pairs.add((pp.staff_id, work.reason))
            new_items.append(("supervision", None, work, {"practitioner_id": pp.staff_id, "kind": work.reason}))

    return new_items


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _write_batch(ctx: Context, batch: list[_Work]) -> list[_Work]:
    """Write the items of ``batch`` that are still missing, in one transaction with its audit row;
    return them.

    The batch was planned from a read that may be seconds old: another refresh (another person's
    app) may have made some of its items since, so what exists now is checked under the lock.
    """
    db = ctx.db
    with db.atomic():
        missing = _still_missing(db, batch)
        if not missing:
            return []
        writes.insert_rule_items(
            db,
            [
                (
                    {
                        "kind": kind,
                        "crn": crn,
                        "title": work.title,
                        "due": work.due.isoformat(),
                        "rule_key": work.key,
                        "status": "open",
                        "created_at": ctx.now_iso,
                        "catch_up": int(kind == "touch_point" and is_catch_up(work.due, ctx.today, ctx.rules)),
                    },
                    detail,
                )
                for kind, crn, work, detail in missing
            ],
        )
        catch_up = sum(
            kind == "touch_point" and is_catch_up(work.due, ctx.today, ctx.rules) for kind, _c, work, _d in missing
        )
        writes.audit(
            db,
            at=ctx.now_iso,
            actor_id=ctx.actor["id"],
            action="refresh_due_work",
            entity="items",
            entity_id=None,
            new={"created": len(missing), **({"catch_up": catch_up} if catch_up else {})},
        )
    return missing


def _still_missing(db: Database, batch: list[_Work]) -> list[_Work]:
    """The work of ``batch`` whose key is not in the store and, for recurring work, with no item of
    the same reason still open for the same case or practitioner."""
    existing = queries.existing_rule_keys(db, [work.key for _kind, _crn, work, _detail in batch])
    open_pairs = queries.open_work_pairs(
        db,
        crns={crn for _kind, crn, _work, _detail in batch if crn},
        practitioner_ids={d["practitioner_id"] for kind, _crn, _work, d in batch if kind == "supervision"},
    )
    missing = []
    for kind, crn, work, detail in batch:
        if work.key in existing:
            continue
        pair: tuple[str | None, str] | None
        if kind == "supervision":
            pair = (detail["practitioner_id"], work.reason)
        else:
            pair = (crn, work.reason) if work.reason not in ONE_PER_KEY else None
        if pair in open_pairs:
            continue
        missing.append((kind, crn, work, detail))
    return missing
