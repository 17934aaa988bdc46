"""Checking the signed oversight record, and anchoring its head outside the database.

:func:`check_record` is what ``spo-tui verify`` and the app's background check run: it walks the
chain (every hash, the signature at the end of each run of links by one key), looks for records no
link names, checks the triggers that keep the record append-only, checks that every signing key is
one this user trusts, and compares the chain with this user's anchors (``spo_tui.store.anchors``).
:func:`anchor` records the head after a check that passed, an export or a backup.

Trust: this user's own key always; the keys trusted at the last anchor; keys named with
``--trust``; and, the first time this user checks a store (no anchor yet), the keys already in it
(trust on first use, said so in the report). A key added after that is refused until trusted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from spo_tui.domain.chain import Problem, Walk, describe, short, signed_message, walk
from spo_tui.domain.dates import from_iso, to_iso, utc_now
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.services.context import LONDON
from spo_tui.store import anchors, changes, queries, signing
from spo_tui.store.anchors import Anchor
from spo_tui.store.db import connect, db_errors, open_db
from spo_tui.store.schema import APPEND_ONLY, record_triggers

#: The tables the signed record lives in: a store without one of them cannot be checked at all.
RECORD_TABLES = (
    "record_store",
    "chain_keys",
    "record_chain",
    "oversight_entries",
    "oversight_snapshots",
    "ndelius_batches",
    "ndelius_marks",
    "audit_log",
    "team_notes",
)


@dataclass
class RecordCheck:
    """What :func:`check_record` found."""

    walk: Walk
    problems: list[Problem]
    store_id: str | None
    links: int  # links stored (the walk may have stopped before the end)
    own_key: str | None
    trusted: set[str]
    first_use: list[str] = field(default_factory=list)  # keys trusted now because this is the first check
    last_anchor: Anchor | None = None
    first_check: bool = False  # no check of this store by this user has decided which keys to trust

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def entries(self) -> int:
        return self.walk.kinds.get("oversight", 0)


def _when(stamp: str) -> str:
    try:
        return f"{from_iso(stamp).astimezone(LONDON):%d/%m/%Y %H:%M}"
    except ValueError:
        return stamp


def check_record(
    db: Database,
    *,
    trust: tuple[str, ...] = (),
    after_restore: bool = False,
    against: Sequence[tuple[str, Anchor]] = (),
) -> RecordCheck:
    """Check the whole record (streamed); the problems found, worst first, and what holds.

    ``trust``: key ids (or their first 8 or more hex digits) to trust from now on. ``after_restore``:
    the user restored an older copy on purpose, so the anchors made before are not compared.
    ``against``: (store id, anchor) read from the footers of text exports (:func:`export_anchor`).
    """
    missing = [t for t in RECORD_TABLES if not queries.table_exists(db, t)]
    if missing:
        gone = [Problem("removed", f"the table {t}, part of the signed record, has been dropped") for t in missing]
        return RecordCheck(Walk(), gone, None, 0, None, set())
    result = walk(queries.chain_links(db), signing.check_signature)
    problems = [_first_bad_signature(db, result) or p if p.kind == "unsigned" else p for p in result.problems]
    links = queries.chain_head(db)[0]
    store_id = result.store_id or queries.store_id(db)
    problems += _store_problems(db, result)
    problems += _unlinked_problems(db)
    problems += _trigger_problems(db)
    own = signing.device_key(create=False)
    own_id = own.key_id if own else None
    history = anchors.read_anchors(store_id) if store_id else []
    trusted = {own_id} if own_id else set()
    decided = anchors.trusted_keys(history)
    trusted |= set(decided or ())
    for wanted in trust:
        trusted.add(_resolve_key(wanted, result))
    first_use = []
    if decided is None and not [s for s in anchors.stores_anchored_at(_db_file(db)) if s != store_id]:
        # Trust on first use: the keys already in a store this user has never checked. Not for a
        # file that held another store when last checked: that store was replaced by this one.
        first_use = sorted(k for k in result.signers if k not in trusted)
        trusted |= set(first_use)
    for key_id, first in result.first_signed.items():
        if key_id not in trusted:
            label = result.keys.get(key_id, {}).get("label", "unknown")
            problems.append(
                Problem(
                    "untrusted",
                    f"{describe(first.kind, first.ref, first.content, first.position)} and {result.signers[key_id] - 1} "
                    f"more links are signed by device key {short(key_id)} ({label}), which you have not trusted for this store: "
                    f"if it is a colleague's, check the key with them and run spo-tui verify --trust {short(key_id)}",
                    first.position,
                    key_id,
                )
            )
    compared = anchors.since_restore(history)
    if after_restore and history:
        compared = []
    problems += _anchor_problems(db, compared, links)
    for footer_store, footer in against:
        if footer_store != store_id:
            problems.append(
                Problem("anchor", f"{footer.event} records another store ({footer_store}), not this one ({store_id})")
            )
        else:
            problems += _anchor_problems(db, [footer], links)
    return RecordCheck(
        result, problems, store_id, links, own_id, trusted, first_use, history[-1] if history else None, decided is None
    )


def _first_bad_signature(db: Database, result: Walk) -> Problem | None:
    """Name where a run of links stops being vouched for. Links saved by the app are each signed, so
    the first whose own signature fails, or the first after the last that holds, is the first one
    altered or added outside spo-tui (the signature at the end of the run only says that something
    in the run was). A bulk write (the migration, the demo) signs only its last link."""
    if result.broken_run is None:
        return None
    start, end, key_id = result.broken_run
    key = result.keys.get(key_id)
    if key is None:
        return None
    first = last_good = None
    for link in queries.links_between(db, start, end):
        first = first or link
        if link["signature"] is None:
            continue
        if not signing.check_signature(key["public_key"], link["signature"], signed_message(link["hash"])):
            return _named_altered(db, link)
        last_good = link
    if last_good is None and first is not None and first["position"] != end:
        return Problem(
            "altered",
            f"one of links {start} to {end}, written together by device key {short(key_id)}, has been altered "
            "or written outside spo-tui: their signature does not hold",
            start,
        )
    following = queries.link_at(db, last_good["position"] + 1) if last_good else first
    return _named_altered(db, following) if following else None


def _named_altered(db: Database, link: dict) -> Problem:
    content = queries.record_content(db, link["kind"], link["ref"])
    return Problem(
        "altered",
        f"{describe(link['kind'], link['ref'], content, link['position'])} has been altered or "
        "written outside spo-tui: its signature does not hold, nor does the chain's from there on",
        link["position"],
        link["ref"],
    )


def _db_file(db: Database) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return row[2] if row and row[2] else ""


def _resolve_key(wanted: str, result: Walk) -> str:
    wanted = wanted.strip().lower()
    matches = [k for k in result.keys if k.startswith(wanted)] if len(wanted) >= 8 else []
    if len(matches) != 1:
        raise ValidationError(
            f"--trust {wanted}: no single device key in this record starts with that (give 8 or more hex digits)"
        )
    return matches[0]


def _store_problems(db: Database, result: Walk) -> list[Problem]:
    rows = queries.record_store_rows(db)
    problems = []
    if len(rows) != 1 or (result.store_id and rows[0]["store_id"] != result.store_id):
        problems.append(Problem("store", "the store's identity has been replaced or a second one added"))
    legacy = result.store.get("legacy_problem")
    if legacy:
        made = _when(result.store.get("created_at", ""))
        problems.append(
            Problem(
                "store",
                f"when this store moved to the signed record ({made}), the old chain had already been broken: {legacy}",
            )
        )
    return problems


def _unlinked_problems(db: Database) -> list[Problem]:
    problems = []
    for kind, ref, content, total in queries.unlinked_records(db):
        more = f" (one of {total} such)" if total > 1 else ""
        problems.append(
            Problem(
                "inserted",
                f"{describe(kind, ref, content)} was written outside spo-tui: no link names it{more}",
                None,
                ref,
            )
        )
    for batch_id in queries.orphan_marks(db):
        problems.append(
            Problem(
                "inserted",
                f"nDelius marks of batch {batch_id} were written outside spo-tui: no link names that batch",
                None,
                batch_id,
            )
        )
    return problems


def _trigger_problems(db: Database) -> list[Problem]:
    expected = record_triggers()
    present = queries.triggers(db)
    if changes.is_connected(db):  # a store connected to a hub copies each row written (exactly so)
        capture = changes.capture_triggers(db)
        expected |= {name: sql for name, sql in capture.items() if present.get(name, ("", None))[0] in APPEND_ONLY}
    problems = []
    for name, sql in expected.items():
        if name not in present:
            table = name.rsplit("_no_", 1)[0] if "_no_" in name else "record_store"
            problems.append(
                Problem("trigger", f"the trigger {name}, which keeps {table} append-only, has been dropped")
            )
        elif present[name][1] != sql:
            problems.append(Problem("trigger", f"the trigger {name} has been changed"))
    for name, (table, _) in present.items():
        if table in APPEND_ONLY and name not in expected:
            problems.append(Problem("trigger", f"an unknown trigger {name} has been added to {table}"))
    return problems


def _anchor_problems(db: Database, compared: list[Anchor], links: int) -> list[Problem]:
    """The newest anchor the record does not carry on from, if any."""
    for anchor in reversed(compared):
        when = f"your {anchor.event} of {_when(anchor.at)}" if anchor.at else anchor.event
        if links < anchor.count:
            return [
                Problem(
                    "anchor",
                    f"the record has {anchor.count - links} fewer links than at {when} ({anchor.count} "
                    f"links, now {links}): its last entries were removed, or the file was replaced by an older copy. "
                    "If you restored a backup on purpose, run spo-tui verify --after-restore",
                    anchor.count,
                )
            ]
        stored = queries.link_at(db, anchor.count) if anchor.count else None
        if anchor.count and (stored is None or stored["hash"] != anchor.head):
            return [
                Problem(
                    "anchor",
                    f"link {anchor.count} is not the one {when} recorded: the chain has been rewritten "
                    "since (or this is another copy of the store)",
                    anchor.count,
                )
            ]
    return []


def anchor(db: Database, event: str, *, trusted: set[str] | None = None, db_path: str = "") -> str | None:
    """Record the chain head in this user's anchors; None, or a warning if it could not be written.

    ``trusted`` is the set of keys to trust from now on (a check that passed); an export or a backup
    keeps the set the last anchor had."""
    head = queries.chain_head_link(db)
    if head is None or not head.get("store_id"):
        return None
    return _append(head["store_id"], event, head["position"], head["hash"], trusted, _db_file(db) or db_path)


def anchor_file(path: Path, event: str, *, fallback: Path | None = None) -> str | None:
    """Record the chain head of the database file at ``path`` (a backup just made, read without
    changing it), else that of the database at ``fallback`` (the live one, e.g. when the backup
    cannot be read here): for ``spo-tui backup``. Never raises: a warning, or None."""
    try:
        conn = connect(path, read_only=True)
        try:
            store = conn.execute("SELECT ref FROM record_chain WHERE position = 1 AND kind = 'store'").fetchone()
            head = conn.execute("SELECT position, hash FROM record_chain ORDER BY position DESC LIMIT 1").fetchone()
        finally:
            conn.close()
        if store and head:
            where = str(Path(fallback).resolve()) if fallback else str(Path(path).resolve())
            return _append(store[0], event, head[0], head[1], None, where)
    except db_errors():
        pass
    if fallback is None:
        return None
    try:
        db = open_db(fallback, create=False, migrate=False)
    except (SpoError,) + db_errors():
        return None
    try:
        return anchor(db, event)
    except db_errors():
        return None
    finally:
        db.close()


def _append(store_id: str, event: str, count: int, head: str, trusted: set[str] | None, db_path: str) -> str | None:
    try:
        kept = anchors.trusted_keys(anchors.read_anchors(store_id)) if trusted is None else tuple(sorted(trusted))
        anchors.append_anchor(store_id, Anchor(to_iso(utc_now()), event, count, head, kept, db_path))
    except (anchors.AnchorProblem, ValueError) as error:
        return str(error) if isinstance(error, anchors.AnchorProblem) else "the store id in this database is not valid"
    return None


def link_summary(check: RecordCheck) -> str:
    """The kinds of link, for the report: ``12 links: 3 oversight entries, 8 audit rows, …``."""
    names = {
        "oversight": ("oversight entry", "oversight entries"),
        "ndelius": ("nDelius batch", "nDelius batches"),
        "audit": ("audit row", "audit rows"),
        "team_note": ("team note", "team notes"),
        "key": ("device key", "device keys"),
    }
    parts = [f"{n} {names[k][n != 1]}" for k, n in check.walk.kinds.items() if k in names]
    return f"{check.walk.count} links ({', '.join(parts)})"


_FOOTER = re.compile(
    r"^spo-tui record: store (\S+), link (\d+), hash ([0-9a-f]{64}), key ([0-9a-f]+), signature (\S+)$"
)


def export_anchor(path: Path) -> tuple[str, Anchor]:
    """The chain head a text export recorded in its last line (:func:`spo_tui.services.export.record_footer`)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror}") from None
    found = _FOOTER.match(lines[-1]) if lines else None
    if found is None:
        raise ValidationError(f"{path} does not end with the record line of a text export (spo-tui record: …)")
    return found[1], Anchor("", f"the export {path.name}", int(found[2]), found[3])
