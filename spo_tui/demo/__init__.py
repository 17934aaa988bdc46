"""The demo database: a believable team (or a whole PDU), the same every time for the same seed.

``generate_demo`` fills an empty, migrated database in one transaction with staff, cases, their
registrations, a history of oversight entries and supervision, and the open work an SPO finds on a
Monday morning: SBARs, a countersigning backlog, touch points, two immediate-risk alerts,
non-operational tasks and agreed actions. Everything is derived from ``random.Random(seed)`` (and
the people's names from a second generator seeded from the same seed, drawing on the shipped list
``data/demo_names.toml``), and every date is relative to ``today``: the same seed and the same day
give the same rows, ids included, on every install.

The calendar touch points and supervision that the rules make due are generated with the rule
functions themselves (and the same stable keys), so ``refresh_due_work`` finds nothing left to add.

``write_demo`` is what the CLI calls: it refuses to overwrite a database holding real work, replaces
an earlier demo, generates, and refreshes the due work.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from spo_tui.demo.builder import _Builder as _Builder
from spo_tui.demo.builder import generate_demo
from spo_tui.demo.names import demo_names
from spo_tui.demo.scales import SCALES, DemoSummary, summarise
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.rules import Rules
from spo_tui.services.context import LONDON
from spo_tui.store import demo_writes
from spo_tui.store.db import get_meta, open_db

__all__ = ["DemoSummary", "SCALES", "demo_names", "demo_now", "generate_demo", "summarise", "write_demo"]


def demo_now(today: date) -> datetime:
    """08:45 London time on ``today``, as an aware UTC datetime: the demo's fixed clock."""
    return datetime.combine(today, time(8, 45), LONDON).astimezone(UTC)


def write_demo(
    path: str | Path,
    *,
    seed: int = 1,
    scale: str = "team",
    today: date | None = None,
    rules: Rules | None = None,
    force: bool = False,
) -> DemoSummary:
    """Write a demo database at ``path`` and put the rule-made work in its queue.

    Every member of the demo staff is linked to the OS user who made it, so they can try each role
    with ``--as`` (a real store links only its SPO at set-up). An existing demo database there is replaced. A database holding real work (``meta`` has no
    ``demo = 1``) is refused with SpoError and left untouched, unless ``force`` is given.
    """
    from spo_tui.config import current_os_user, load_rules
    from spo_tui.services.context import make_context
    from spo_tui.services.identity import link_everyone
    from spo_tui.services.refresh import refresh_due_work

    if scale not in SCALES:
        raise ValidationError(f"unknown demo scale '{scale}': expected one of {', '.join(SCALES)}", field="scale")
    path = Path(path).expanduser()
    rules = rules or load_rules()
    today = today or datetime.now(LONDON).date()
    if path.exists():
        existing = open_db(path, create=False, migrate=False)
        try:
            has_tables = demo_writes.has_meta_table(existing)
            is_demo = has_tables and get_meta(existing, "demo") == "1"
            holds_data = has_tables and demo_writes.holds_work(existing)
        finally:
            existing.close()
        if holds_data and not is_demo and not force:
            raise SpoError(
                f"{path} holds real work, not a demo: refusing to overwrite it (choose another path for the demo)"
            )
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    moment = demo_now(today)
    db = open_db(path)
    try:
        now_iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        generate_demo(db, seed=seed, scale=scale, today=today, now_iso=now_iso, rules=rules)
        with db.atomic():
            link_everyone(db, current_os_user(), now_iso)
        ctx = make_context(db, rules, clock=lambda: moment)
        refresh_due_work(ctx)
        return summarise(db, seed, scale, today)
    finally:
        db.close()
