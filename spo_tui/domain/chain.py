"""The signed record: one hash chain over everything the export or a reader relies on. Plain Python,
no I/O (signatures are checked by a function the caller passes in).

Each **link** names one record (``kind`` and ``ref``) and hashes, with the previous link's hash:
its position, kind, ref, the id of the device key that wrote it, and the record's **content**: every
column of each of its rows, by name, NULL values left out (so a nullable column added later, such
as ``audit_log.os_user``, is covered from then on without breaking older links). The kinds:

- ``store``: the store's identity (its id, bound into every hash after it) and, for a store made
  before the signed record, what the old chain's own check found when it was moved in;
- ``key``: a device's public key (Ed25519), recorded the first time that device writes;
- ``oversight``: an oversight entry with its snapshot (decider's and enterer's names and roles, and
  the agreed actions as agreed);
- ``ndelius``: a batch of nDelius marks (the entries marked) or the un-marking of a batch;
- ``audit``: an audit log row;  ``team_note``: a team note.

Each link carries the **signature** of its device key over its hash; a bulk write (the migration,
the demo) signs only its last link. Because every hash covers everything before it, one valid
signature vouches for the whole chain up to it; :func:`verify` therefore checks the signature at
the end of each run of links written by the same key, and that every key is one the verifier trusts.
Whoever can write the database file but does not hold a trusted key cannot add, alter or remove a
link without breaking a hash or a signature; removing links from the end (truncation) or going back
to an older copy is found by comparing with anchors kept outside the file.

Per-device chains (issue 14) extend this: each device keeps its own sequence of links under its own
key (``key_id`` already names the device on every link), and a hub records signed checkpoints of
every device's head, which play the part the local anchors play here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64

#: The kinds of link, and the tables whose rows make each one's content.
KINDS = {
    "store": ("record_store",),
    "key": ("chain_keys",),
    "oversight": ("oversight_entries", "oversight_snapshots"),
    "ndelius": ("ndelius_batches",),
    "audit": ("audit_log",),
    "team_note": ("team_notes",),
}

#: What a signature signs: this prefix and the link's hash (so a signature is never valid elsewhere).
SIGNED_PREFIX = b"spo-tui record link v1\n"


def without_nulls(row: dict[str, Any]) -> dict[str, Any]:
    """A row's columns by name, NULL values left out."""
    return {k: v for k, v in row.items() if v is not None}


def _bytes_as_hex(value: Any) -> str:
    if isinstance(value, bytes):
        return "hex:" + value.hex()
    raise TypeError(f"cannot hash a {type(value).__name__}")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_bytes_as_hex)


def canonical(content: dict[str, Any]) -> str:
    """The content as canonical JSON: keys sorted, no spaces, text as UTF-8 (not escaped), bytes as
    ``hex:…``."""
    return _ENCODER.encode(content)


def link_hash(previous: str, position: int, kind: str, ref: str, key_id: str, content: dict[str, Any]) -> str:
    """SHA-256 over the previous hash, where the link is, what it names, who wrote it and the content."""
    text = f"{previous}\n{position}\n{kind}\n{ref}\n{key_id}\n{canonical(content)}"
    return hashlib.sha256(text.encode()).hexdigest()


def signed_message(link_hash_hex: str) -> bytes:
    return SIGNED_PREFIX + link_hash_hex.encode()


def key_fingerprint(public_key_hex: str) -> str:
    """A key's id: the first 32 hex digits of the SHA-256 of its raw public key."""
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:32]


def short(key_id: str) -> str:
    """The first 8 hex digits, for messages (the full id is 32)."""
    return key_id[:8]


@dataclass(frozen=True)
class Link:
    """One stored link and the current content of the record it names (None when the row is gone)."""

    position: int
    kind: str
    ref: str
    key_id: str
    hash: str
    signature: str | None
    content: dict[str, Any] | None


@dataclass(frozen=True)
class Problem:
    """Something the record does not hold: what kind of thing, and a sentence naming it."""

    kind: str  # "altered", "removed", "inserted", "unsigned", "untrusted", "trigger", "anchor", "store"
    message: str
    position: int | None = None
    ref: str | None = None


@dataclass
class Walk:
    """What walking the chain found: how many links of each kind, the head, the keys that signed."""

    count: int = 0
    head: str = GENESIS
    head_signature: str | None = None
    head_key: str | None = None
    store_id: str | None = None
    store: dict[str, Any] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # key id -> the chain_keys row
    signers: dict[str, int] = field(default_factory=dict)  # key id -> links vouched for
    first_signed: dict[str, Link] = field(default_factory=dict)  # key id -> the first link it vouches for
    broken_run: tuple[int, int, str] | None = None  # (first, last position, key id) of a run whose signature fails
    problems: list[Problem] = field(default_factory=list)


def describe(kind: str, ref: str, content: dict[str, Any] | None, position: int | None = None) -> str:
    """A record named for a person reading the message: what it is, when, and by whom."""
    where = f"link {position}" if position is not None else "no link"
    tables = content or {}
    if kind == "oversight":
        entry = tables.get("oversight_entries", {})
        snap = tables.get("oversight_snapshots", {})
        by = f", decided by {snap['decided_by_name']}" if snap.get("decided_by_name") else ""
        made = f", made {entry['created_at']}" if entry.get("created_at") else ""
        return f"oversight entry {ref} ({where}{made}{by})"
    if kind == "audit":
        row = tables.get("audit_log", {})
        what = f", {row['action']} at {row['at']}" if row.get("action") else ""
        return f"audit row {ref} ({where}{what})"
    if kind == "ndelius":
        row = tables.get("ndelius_batches", {})
        what = f", {row['action']} of {row.get('entries')} entries at {row.get('at')}" if row.get("action") else ""
        return f"nDelius batch {ref} ({where}{what})"
    if kind == "team_note":
        row = tables.get("team_notes", {})
        made = f", made {row['created_at']}" if row.get("created_at") else ""
        return f"team note {ref} ({where}{made})"
    if kind == "key":
        row = tables.get("chain_keys", {})
        label = f", {row['label']}" if row.get("label") else ""
        return f"device key {short(ref)} ({where}{label})"
    return f"the store's identity {ref} ({where})"


def walk(links: Iterable[Link], check_signature: Callable[[str, str, bytes], bool]) -> Walk:
    """Walk the chain in order (streamed), recomputing every hash and checking the signature at the
    end of each run of links written by one key. ``check_signature(public_key_hex, signature_hex,
    message)`` says whether a signature is valid. Stops at the first break: everything after it is
    unproven. Which keys to trust is the caller's decision (:attr:`Walk.signers`)."""
    result = Walk()
    previous = GENESIS
    expected = 1
    run_start: Link | None = None
    run_end: Link | None = None
    run_links = 0

    def close_run() -> bool:
        if run_end is None:
            return True
        key = result.keys.get(run_end.key_id)
        label = describe(run_end.kind, run_end.ref, run_end.content, run_end.position)
        if key is None:
            result.problems.append(
                Problem(
                    "unsigned",
                    f"{label} names device key {short(run_end.key_id)}, which is not in the record",
                    run_end.position,
                    run_end.ref,
                )
            )
            return False
        if not run_end.signature or not check_signature(
            key["public_key"], run_end.signature, signed_message(run_end.hash)
        ):
            result.broken_run = (
                run_start.position if run_start else run_end.position,
                run_end.position,
                run_end.key_id,
            )
            result.problems.append(
                Problem(
                    "unsigned",
                    f"{label} does not carry a valid signature of device key {short(run_end.key_id)} "
                    f"({key.get('label')}): it was written outside spo-tui",
                    run_end.position,
                    run_end.ref,
                )
            )
            return False
        result.signers[run_end.key_id] = result.signers.get(run_end.key_id, 0) + run_links
        if run_start is not None:
            result.first_signed.setdefault(run_end.key_id, run_start)
        return True

    for link in links:
        if link.position != expected:
            result.problems.append(
                Problem(
                    "removed",
                    f"link {expected} has been removed (the next link is {link.position}, "
                    f"{describe(link.kind, link.ref, link.content)})",
                    expected,
                    link.ref,
                )
            )
            return result
        expected += 1
        if link.content is None:
            result.problems.append(
                Problem(
                    "removed",
                    f"{describe(link.kind, link.ref, None, link.position)} has been removed",
                    link.position,
                    link.ref,
                )
            )
            return result
        if link.position == 1 and link.kind != "store":
            result.problems.append(Problem("store", "the first link is not the store's identity", 1, link.ref))
            return result
        if link_hash(previous, link.position, link.kind, link.ref, link.key_id, link.content) != link.hash:
            result.problems.append(
                Problem(
                    "altered",
                    f"{describe(link.kind, link.ref, link.content, link.position)} has been altered",
                    link.position,
                    link.ref,
                )
            )
            return result
        if link.kind == "store":
            if link.position != 1:
                result.problems.append(
                    Problem("store", f"a second store identity was added at link {link.position}", link.position)
                )
                return result
            result.store_id = link.ref
            result.store = dict(link.content.get("record_store", {}))
        if link.kind == "key":
            row = link.content.get("chain_keys", {})
            if key_fingerprint(row.get("public_key", "")) != link.ref:
                result.problems.append(
                    Problem(
                        "altered",
                        f"device key {short(link.ref)} (link {link.position}) does not match its id",
                        link.position,
                        link.ref,
                    )
                )
                return result
            result.keys[link.ref] = row
        if run_end is not None and link.key_id != run_end.key_id:
            if not close_run():
                return result
            run_start, run_links = None, 0
        run_start = run_start or link
        run_end = link
        run_links += 1
        previous = link.hash
        result.count = link.position
        result.head = link.hash
        result.head_signature = link.signature
        result.head_key = link.key_id
        result.kinds[link.kind] = result.kinds.get(link.kind, 0) + 1
    close_run()
    return result


# --- The old chain (migrations 0005 to 0007), read once when migration 0008 moves it in -----------

#: The fields of an oversight entry the old chain hashed.
LEGACY_FIELDS = (
    "id",
    "crn",
    "item_id",
    "type",
    "outcome",
    "discussed",
    "decision",
    "sensitive",
    "decided_by",
    "entered_by",
    "created_at",
    "minutes",
    "supersedes_id",
)


def legacy_entry_hash(previous: str, entry: dict[str, Any]) -> str:
    content = json.dumps(
        {k: entry.get(k) for k in LEGACY_FIELDS}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(f"{previous}\n{content}".encode()).hexdigest()


def legacy_check(
    links: Iterator[tuple[int, str, str, dict[str, Any] | None]], unlinked: int
) -> tuple[int, str, str | None]:
    """The old chain's own check: (links, head hash, the first problem or None)."""
    previous, expected, count = GENESIS, 1, 0
    for position, oversight_id, stored, entry in links:
        if position != expected:
            return count, previous, f"link {expected}, before entry {oversight_id}, had been removed with its entry"
        expected += 1
        if entry is None:
            return count, previous, f"entry {oversight_id} (link {position}) had been removed"
        if legacy_entry_hash(previous, entry) != stored:
            return count, previous, f"entry {oversight_id} (link {position}) had been altered"
        previous, count = stored, position
    if unlinked:
        return count, previous, f"{unlinked} entr{'y' if unlinked == 1 else 'ies'} had been inserted outside the app"
    return count, previous, None


# Names migration 0005 uses (a migration that has shipped is never edited).
HASHED_FIELDS = LEGACY_FIELDS
entry_hash = legacy_entry_hash
