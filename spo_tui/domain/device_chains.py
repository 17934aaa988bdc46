"""Each device's own signed chain of changes, and its check (issue 14). Plain Python, no I/O
(signatures are checked by a function the caller passes in, as in ``spo_tui.domain.chain``).

A store connected to a hub records every write as **changes** (``spo_tui.store.changes``). Each
device (one Ed25519 key) numbers its own changes 1, 2, 3 … (``device_seq``); each change's ``hash``
is SHA-256 over the hash of the device's change before it (``prev``), its place and its content
(:func:`change_hash`), and the last change of each transaction carries the device's **signature**
over its hash, which vouches for the whole chain up to it. At each sync the device records a signed
**checkpoint** of its head (place and hash) at the hub.

:func:`check_chain` checks one device's changes as one reader holds them (in this store, or the
hub's copy) and names each change that does not hold:

- **altered**: its content no longer gives its hash, or it carries a signature that fails;
- **removed**: a gap in a run the reader should hold whole (``whole``: the device's own chain on its
  own store, or every device's for a reader who sees every team), a checkpoint's place missing,
  or fewer changes than the newest checkpoint says the device had made;
- **rewritten / inserted**: a change whose ``prev`` is not the hash of the change before it (when
  both are held), one that is not the change a checkpoint recorded at its place, one that ends a
  transaction or the device's chain (at or beyond its newest checkpoint) without a signature, two
  changes at one place, and a checkpoint whose signature fails.

The limit: a reader of one team does not receive other teams' changes (row-level security at the
hub), so holds only part of other devices' chains. Gaps there are expected and say nothing; only
links whose both neighbours are held are checked, and only checkpoints at places the reader holds.
A change removed from the middle of another team's part of a chain is found by a reader who sees
it (its device's owner, the PDU head) or by comparing copies (:func:`compare_copies`), not here.

:func:`compare_copies` compares the hub's copy of a device's changes with this store's copy of the
same changes: a change this store sent or received that the hub no longer has was removed at the
hub; the same id with other content, hash or place was altered there; a change of this device
the device never made was inserted there.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from spo_tui.domain.chain import GENESIS, canonical, key_fingerprint

#: What a change's signature signs: this prefix and the change's hash.
CHANGE_PREFIX = b"spo-tui change v1\n"
#: What a checkpoint's signature signs: this prefix and "device\\nseq\\nhash".
CHECKPOINT_PREFIX = b"spo-tui checkpoint v1\n"

CheckSignature = Callable[[str, str, bytes], bool]


def change_hash(prev: str, device_seq: int, content: dict[str, Any]) -> str:
    """SHA-256 over the previous change's hash, the place in the device's chain and the content."""
    return hashlib.sha256(f"{prev}\n{device_seq}\n{canonical(content)}".encode()).hexdigest()


def _data(change: dict[str, Any]) -> Any:
    data = change["data"]
    return json.loads(data) if isinstance(data, str) else data


def content_of(change: dict[str, Any]) -> dict[str, Any]:
    """What a change's hash covers (``data`` as a dict)."""
    return {
        "id": change["id"],
        "hlc": change["hlc"],
        "actor": change["actor"],
        "team": change["team"],
        "tbl": change["tbl"],
        "pk": change["pk"],
        "op": change["op"],
        "data": _data(change),
        "tx": change["tx"],
        "seen": change["seen"],
    }


def checkpoint_message(device: str, device_seq: int, head: str) -> bytes:
    return CHECKPOINT_PREFIX + f"{device}\n{device_seq}\n{head}".encode()


def change_message(hash_hex: str) -> bytes:
    return CHANGE_PREFIX + hash_hex.encode()


# --- naming things for the reader ----------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    """A device as the verifier knows it: its key id, public key (None: not known, so signatures
    are not checked; the caller says why), and who it is for messages."""

    key_id: str
    public_key: str | None
    name: str = ""  # the person (or login) the device is registered to
    label: str = ""  # user@host
    own: bool = False  # this store's own device

    def named(self) -> str:
        who = "yours" if self.own else ", ".join(p for p in (self.name, self.label) if p)
        return f"device {self.key_id[:8]}" + (f" ({who})" if who else "")


@dataclass(frozen=True)
class Checkpoint:
    """A device's signed record of its head: its place and hash."""

    device_seq: int
    hash: str
    signature: str
    at: str = ""  # when the hub recorded it
    source: str = "the hub"  # where the verifier got it (for messages)


@dataclass(frozen=True)
class ChainProblem:
    """A change (or a run of places) of one device that does not hold, and a sentence naming it."""

    kind: str  # "altered", "removed", "rewritten", "inserted", "unsigned"
    message: str
    device: str
    first: int | None = None  # the place named (or the first of a run)
    last: int | None = None  # the last place of a run (== first for one change)
    change: str | None = None  # the change's id, when one is named


@dataclass
class ChainCheck:
    """What checking one device's chain found."""

    device: str
    held: int = 0  # changes checked
    last: int = 0  # the highest place held
    problems: list[ChainProblem] = field(default_factory=list)


_NOUNS = {
    "oversight_entries": "oversight entry",
    "oversight_snapshots": "snapshot of oversight entry",
    "oversight_levels": "level of oversight entry",
    "audit_log": "audit row",
    "team_notes": "team note",
    "items": "item",
    "cases": "case",
    "case_flags": "case flag",
    "staff": "staff record",
    "absences": "absence",
    "transfers": "transfer",
    "sbars": "SBAR of item",
    "touch_points": "touch point of item",
    "countersigns": "countersign of item",
    "alerts": "alert of item",
    "tasks": "task of item",
    "supervision": "supervision of item",
    "actions": "action of item",
    "confirms": "confirmation of item",
    "ndelius_batches": "nDelius batch",
    "ndelius_marks": "nDelius mark",
    "countersign_history": "countersign history row",
    "aqa_ratings": "AQA rating",
}


def _short(ref: Any) -> str:
    text = str(ref)
    return f"{text[:8]}…" if len(text) > 12 else text


def describe_change(change: dict[str, Any]) -> str:
    """A change named for a person: what it records and on which case, e.g. ``the oversight entry
    1a2b3c4d… on case X123456``."""
    try:
        data = _data(change)
    except (ValueError, TypeError):
        data = None
    data = data if isinstance(data, dict) else {}
    table, pk, op = str(change.get("tbl")), str(change.get("pk")), change.get("op")
    noun = _NOUNS.get(table, f"{table} row")
    if table == "cases":
        what = f"case {pk}"
    elif table == "audit_log" and data.get("action"):
        about = f" on {data.get('entity')} {_short(data.get('entity_id'))}" if data.get("entity_id") else ""
        what = f"audit row {_short(pk)} ({data['action']}{about})"
    else:
        what = f"{noun} {_short(pk)}"
    crn = data.get("crn")
    if crn and table != "cases":
        what += f" on case {crn}"
    elif data.get("item_id") and not noun.endswith("of item"):
        what += f" on item {_short(data['item_id'])}"
    if op == "update":
        return f"the change to the {what}"
    if op == "delete":
        return f"the deletion of the {what}"
    return f"the {what}"


def _phrase(at_hub: bool, kind: str, own: bool = True) -> str:
    """Where a change was tampered with, as far as the reader can tell: a change received from the
    hub and found wrong in this store may have been tampered with at the hub before it came."""
    if at_hub:
        return "at the hub"
    here = "from this store" if kind == "removed" else "in this store"
    return here if own else f"{here} or at the hub before this store received {'them' if kind == 'removed' else 'it'}"


# --- one device's chain --------------------------------------------------------------------------


def _lookahead(changes: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    iterator = iter(changes)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        yield current, following
        current = following


def check_chain(
    device: Device,
    changes: Iterable[dict[str, Any]],
    checkpoints: Sequence[Checkpoint],
    check_signature: CheckSignature,
    *,
    whole: bool,
    at_hub: bool = False,
    head: int | None = None,
) -> ChainCheck:
    """Check one device's changes as one reader holds them: any subset, in ``device_seq`` order
    (streamed). ``whole``: the reader should hold the device's chain whole (its own device on its
    own store; every device for a reader who sees every team), so a gap is a removal. ``head``: the
    place of the device's last change as the hub reports it (that change must be signed).
    ``at_hub``: the changes are the hub's copy (for the messages). Which device to trust is the
    caller's decision: here the key is the one given."""
    result = ChainCheck(device.key_id)
    problems = result.problems
    where = device.named()

    def place(kind: str) -> str:
        return _phrase(at_hub, kind, device.own)

    key = device.public_key
    if key is not None and key_fingerprint(key) != device.key_id:
        problems.append(
            ChainProblem(
                "altered",
                f"the public key held for {where} is not that device's key (its fingerprint differs): "
                f"it was altered {place('altered')}",
                device.key_id,
            )
        )
        key = None

    valid: dict[int, Checkpoint] = {}
    if key is not None:
        for cp in checkpoints:
            if not check_signature(key, cp.signature, checkpoint_message(device.key_id, cp.device_seq, cp.hash)):
                problems.append(
                    ChainProblem(
                        "inserted",
                        f"the checkpoint of {where} at change {cp.device_seq}{_when(cp)}, from {cp.source}, does "
                        "not carry the device's signature: it was written by someone else",
                        device.key_id,
                        cp.device_seq,
                        cp.device_seq,
                    )
                )
                continue
            other = valid.get(cp.device_seq)
            if other is not None and other.hash != cp.hash:
                problems.append(
                    ChainProblem(
                        "rewritten",
                        f"two checkpoints of {where} at change {cp.device_seq} name different changes: its chain "
                        "was forked, by someone holding the device's key",
                        device.key_id,
                        cp.device_seq,
                        cp.device_seq,
                    )
                )
            valid.setdefault(cp.device_seq, cp)
    newest = max(valid, default=0)

    def name(change: dict[str, Any]) -> str:
        return f"{describe_change(change)} (change {change['device_seq']} of {where})"

    def add(kind: str, message: str, change: dict[str, Any] | None, first: int, last: int | None = None) -> None:
        problems.append(
            ChainProblem(
                kind, message, device.key_id, first, first if last is None else last, change["id"] if change else None
            )
        )

    def removed(first: int, last: int, before: str) -> None:
        run = f"change {first}" if first == last else f"changes {first} to {last}"
        verb = "has" if first == last else "have"
        add("removed", f"{run} of {where} {verb} been removed {place('removed')} ({before})", None, first, last)

    previous: dict[str, Any] | None = None
    for change, following in _lookahead(changes):
        seq = int(change["device_seq"])
        result.held += 1
        result.last = max(result.last, seq)
        if previous is None:
            if seq == 1 and change["prev"] != GENESIS:
                add(
                    "rewritten",
                    f"{name(change)} does not start the device's chain, though it is its first: "
                    f"it was rewritten {place('rewritten')}",
                    change,
                    seq,
                )
            elif seq > 1 and whole:
                removed(1, seq - 1, f"the chain starts at change {seq}")
        else:
            before = int(previous["device_seq"])
            if seq == before:
                add(
                    "inserted",
                    f"{name(change)} is a second change at place {seq}: one of the two was inserted "
                    f"{place('inserted')}",
                    change,
                    seq,
                )
            elif seq == before + 1:
                if change["prev"] != previous["hash"]:
                    add(
                        "rewritten",
                        f"{name(change)} does not follow change {before} ({describe_change(previous)}): one of them "
                        f"was rewritten, or a change inserted or removed between them, {place('rewritten')}",
                        change,
                        seq,
                    )
            elif whole:
                removed(before + 1, seq - 1, f"the chain goes from change {before} to change {seq}")
        try:
            recomputed = change_hash(change["prev"], seq, content_of(change))
        except (ValueError, TypeError):
            recomputed = None
        if recomputed != change["hash"]:
            add(
                "altered",
                f"{name(change)} has been altered {place('altered')}: its content no longer matches its hash",
                change,
                seq,
            )
        ends_transaction = following is not None and (
            int(following["device_seq"]) == seq + 1 and following["tx"] != change["tx"]
        )
        is_head = seq >= newest and ((following is None and whole) or seq == head)
        signature = change["signature"]
        if signature:
            if key is not None and not check_signature(key, signature, change_message(change["hash"])):
                add(
                    "altered",
                    f"{name(change)} has been altered {place('altered')}: the device's signature on it does not hold",
                    change,
                    seq,
                )
        elif ends_transaction or seq in valid or is_head:
            ends = "the device's newest change" if is_head else "the last change of its transaction"
            add(
                "unsigned",
                f"{name(change)} is {ends} but carries no signature of the device: it was inserted "
                f"{place('inserted')}, or the changes after it removed",
                change,
                seq,
            )
        at_place = valid.get(seq)
        if at_place is not None and at_place.hash != change["hash"]:
            add(
                "rewritten",
                f"{name(change)} is not the change the device's checkpoint{_when(at_place)} recorded at that place: "
                f"the chain was rewritten {place('rewritten')}",
                change,
                seq,
            )
        previous = change

    if whole and newest > result.last:
        cp = valid[newest]
        holds = f"only {result.last} are" if result.last else "none is"
        removed(
            result.last + 1,
            newest,
            f"the device's checkpoint{_when(cp)} says its chain had reached change {newest}; {holds} "
            f"{'at the hub' if at_hub else 'here'}",
        )
    return result


def _when(cp: Checkpoint) -> str:
    return f" of {cp.at[:16].replace('T', ' ')}" if cp.at else ""


# --- the hub's copy against this store's ---------------------------------------------------------


def _differences(hub: dict[str, Any], here: dict[str, Any]) -> list[str]:
    found = []
    if int(hub["device_seq"]) != int(here["device_seq"]):
        found.append(f"its place ({hub['device_seq']}, here {here['device_seq']})")
    try:
        hub_content, here_content = content_of(hub), content_of(here)
    except (ValueError, TypeError):
        hub_content, here_content = {"unreadable": hub["data"]}, {}
    for key in sorted(here_content):
        if canonical({"v": hub_content.get(key)}) != canonical({"v": here_content.get(key)}):
            found.append(f"its {key}")
    if hub["prev"] != here["prev"] or hub["hash"] != here["hash"]:
        found.append("its hash")
    if (hub["signature"] or None) != (here["signature"] or None):
        found.append("its signature")
    return found


def compare_copies(
    device: Device,
    hub: Sequence[dict[str, Any]],
    here: Iterable[dict[str, Any]],
) -> list[ChainProblem]:
    """Compare the hub's copy of a device's changes (those this login may read) with this store's
    (``here``: each with ``origin``, 'local' or 'remote', and ``pushed``, 0 or 1). A change this
    store sent, or received from the hub, that the hub no longer holds was removed there (or
    replaced, when another is at its place); one whose content, hash or place differs was altered
    there; a change of this store's own device (``device.own``) that this store never made was
    inserted there."""
    problems: list[ChainProblem] = []
    by_id = {c["id"]: c for c in hub}
    by_seq = {int(c["device_seq"]): c for c in hub}
    where = device.named()
    seen: set[str] = set()
    for mine in here:
        seen.add(mine["id"])
        seq = int(mine["device_seq"])
        theirs = by_id.get(mine["id"])
        named = f"{describe_change(mine)} (change {seq} of {where})"
        if theirs is None:
            expected = mine.get("origin") == "remote" or bool(mine.get("pushed"))
            other = by_seq.get(seq)
            if other is not None:
                problems.append(
                    ChainProblem(
                        "rewritten",
                        f"{named} has been replaced at the hub by another change ({describe_change(other)})",
                        device.key_id,
                        seq,
                        seq,
                        mine["id"],
                    )
                )
            elif expected:
                how = "received it from the hub" if mine.get("origin") == "remote" else "sent it"
                problems.append(
                    ChainProblem(
                        "removed",
                        f"{named} has been removed at the hub: this store {how}, and the hub no longer holds it",
                        device.key_id,
                        seq,
                        seq,
                        mine["id"],
                    )
                )
            continue
        differs = _differences(theirs, mine)
        if differs:
            problems.append(
                ChainProblem(
                    "altered",
                    f"{named} has been altered at the hub: {', '.join(differs)} "
                    f"{'differ' if len(differs) > 1 else 'differs'} from this store's copy",
                    device.key_id,
                    seq,
                    seq,
                    mine["id"],
                )
            )
    if device.own:
        for theirs in hub:
            if theirs["id"] not in seen:
                seq = int(theirs["device_seq"])
                problems.append(
                    ChainProblem(
                        "inserted",
                        f"{describe_change(theirs)} (change {seq} of {where}) was inserted at the hub: "
                        "this device never made it",
                        device.key_id,
                        seq,
                        seq,
                        theirs["id"],
                    )
                )
    return problems


def merge_problems(found: Sequence[ChainProblem], compared: Sequence[ChainProblem]) -> list[ChainProblem]:
    """One list naming each change once: where comparing with this store's copy named a change (it
    says more: what this store holds), the chain's own problem about the same change or the same
    places is left out."""
    named_ids = {p.change for p in compared if p.change}
    named_places = {(p.device, p.first) for p in compared if p.first is not None}
    kept = []
    for p in found:
        if p.change and p.change in named_ids:
            continue
        if (
            p.kind == "removed"
            and p.first is not None
            and p.last is not None
            and p.last - p.first < len(named_places)
            and all((p.device, s) in named_places for s in range(p.first, p.last + 1))
        ):
            continue
        kept.append(p)
    return [*compared, *kept]
