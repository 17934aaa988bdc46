"""The devices' chains checked on small hand-made chains (``spo_tui.domain.device_chains``): each
kind of tampering is named, and a reader who holds only part of a chain is not misled by its gaps."""

from __future__ import annotations

import json
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from spo_tui.domain.chain import GENESIS, key_fingerprint
from spo_tui.domain.device_chains import (
    Checkpoint,
    Device,
    change_hash,
    change_message,
    check_chain,
    checkpoint_message,
    compare_copies,
    content_of,
    describe_change,
    merge_problems,
)
from spo_tui.store.signing import check_signature


class Key:
    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        self.public = (
            self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
        )
        self.key_id = key_fingerprint(self.public)

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()

    def device(self, **kwargs) -> Device:
        return Device(self.key_id, self.public, kwargs.pop("name", "Sam Spo"), "sam@laptop", **kwargs)

    def checkpoint(self, change: dict) -> Checkpoint:
        seq, head = change["device_seq"], change["hash"]
        return Checkpoint(seq, head, self.sign(checkpoint_message(self.key_id, seq, head)), "2026-12-04T09:00")


def build(key: Key, transactions: list[int], team: str = "Team A") -> list[dict]:
    """A device's chain: transactions of the given sizes, each an oversight entry on a case, the
    last change of each signed, as ``spo_tui.store.changes`` makes them."""
    chain, prev, seq = [], GENESIS, 0
    for size in transactions:
        tx = str(uuid.uuid4())
        for n in range(size):
            seq += 1
            entry = str(uuid.uuid4())
            change = {
                "id": str(uuid.uuid4()),
                "device": key.key_id,
                "device_seq": seq,
                "prev": prev,
                "hlc": f"2026-12-04T09:00:00.000Z-{seq:04d}",
                "actor": "spo-0001",
                "team": team,
                "tbl": "oversight_entries",
                "pk": entry,
                "op": "insert",
                "data": json.dumps({"id": entry, "crn": f"X{seq:06d}", "decision": f"Decision {seq}"}),
                "tx": tx,
                "seen": "",
                "signature": None,
            }
            change["hash"] = change_hash(prev, seq, content_of(change))
            if n == size - 1:
                change["signature"] = key.sign(change_message(change["hash"]))
            prev = change["hash"]
            chain.append(change)
    return chain


def check(key: Key, chain: list[dict], checkpoints=(), **kwargs):
    kwargs.setdefault("whole", True)
    return check_chain(key.device(), chain, list(checkpoints), check_signature, **kwargs).problems


def set_data(change: dict, **fields) -> None:
    data = json.loads(change["data"])
    data.update(fields)
    change["data"] = json.dumps(data)


def rehash(chain: list[dict], start: int) -> None:
    """Recompute every hash from ``start`` (an index) on, as a forger without the key would."""
    prev = chain[start - 1]["hash"] if start else GENESIS
    for change in chain[start:]:
        change["prev"] = prev
        change["hash"] = change_hash(prev, change["device_seq"], content_of(change))
        prev = change["hash"]


@pytest.fixture
def key() -> Key:
    return Key()


def test_a_clean_chain_holds_whole_or_in_part(key):
    chain = build(key, [3, 1, 2])
    assert check(key, chain, [key.checkpoint(chain[3]), key.checkpoint(chain[5])]) == []
    assert check(key, chain[1:2] + chain[4:], whole=False) == []
    found = check_chain(key.device(), chain, [], check_signature, whole=True)
    assert (found.held, found.last) == (6, 6)


def test_a_change_altered_is_named_with_its_entry_and_case(key):
    chain = build(key, [3, 2])
    set_data(chain[1], decision="changed")
    [problem] = check(key, chain, at_hub=True)
    assert problem.kind == "altered" and problem.first == 2 and problem.change == chain[1]["id"]
    entry = json.loads(chain[1]["data"])["id"]
    assert problem.message.startswith(f"the oversight entry {entry[:8]}… on case X000002 (change 2 of device ")
    assert "Sam Spo, sam@laptop" in problem.message
    assert "altered at the hub: its content no longer matches its hash" in problem.message


def test_an_altered_change_with_its_hash_recomputed_breaks_the_next_link_or_its_signature(key):
    chain = build(key, [3, 2])
    set_data(chain[1], decision="changed")
    rehash(chain, 1)  # every hash after it recomputed too: only the signatures still tell
    problems = check(key, chain)
    assert [(p.kind, p.first) for p in problems] == [("altered", 3), ("altered", 5)]
    assert "signature on it does not hold" in problems[0].message
    chain = build(key, [3, 2])
    set_data(chain[1], decision="changed")
    chain[1]["hash"] = change_hash(chain[1]["prev"], 2, content_of(chain[1]))  # its own hash only
    [problem] = check(key, chain)
    assert (problem.kind, problem.first) == ("rewritten", 3)
    assert "does not follow change 2" in problem.message


def test_a_gap_is_a_removal_only_for_a_reader_who_should_hold_the_chain_whole(key):
    chain = build(key, [2, 2, 2])
    held = chain[:2] + chain[4:]
    [problem] = check(key, held)
    assert (problem.kind, problem.first, problem.last) == ("removed", 3, 4)
    assert "changes 3 to 4 of device" in problem.message and "removed from this store" in problem.message
    assert check(key, held, whole=False) == []
    [problem] = check(key, chain[2:])
    assert (problem.kind, problem.first, problem.last) == ("removed", 1, 2)


def test_links_are_checked_where_both_neighbours_are_held_even_in_part(key):
    chain = build(key, [2, 2, 2])
    held = [chain[0], chain[3], chain[4]]
    held[2] = dict(held[2], prev="f" * 64)
    held[2]["hash"] = change_hash(held[2]["prev"], 5, content_of(held[2]))
    problems = check(key, held, whole=False)
    assert [(p.kind, p.first) for p in problems] == [("rewritten", 5)]


def test_the_last_change_removed_is_named_by_the_checkpoint_not_taken_for_an_unsigned_head(key):
    chain = build(key, [2, 2])
    checkpoints = [key.checkpoint(chain[3])]
    [problem] = check(key, chain[:3], checkpoints, at_hub=True)
    assert (problem.kind, problem.first, problem.last) == ("removed", 4, 4)
    assert "checkpoint of 2026-12-04 09:00 says its chain had reached change 4; only 3 are at the hub" in (
        problem.message
    )
    assert check(key, chain[:3], checkpoints, whole=False) == []  # another team's reader: not theirs to say
    [problem] = check(key, chain[:3])  # no checkpoint yet: the unsigned end still shows
    assert (problem.kind, problem.first) == ("unsigned", 3)


def test_a_change_inserted_at_the_end_without_the_devices_signature_is_named(key):
    chain = build(key, [2, 1])
    forged = build(key, [1])[0]
    forged.update(device_seq=4, prev=chain[-1]["hash"], signature=None)
    forged["hash"] = change_hash(forged["prev"], 4, content_of(forged))
    checkpoints = [key.checkpoint(chain[-1])]
    [problem] = check(key, [*chain, forged], checkpoints, at_hub=True)
    assert (problem.kind, problem.first, problem.change) == ("unsigned", 4, forged["id"])
    assert "is the device's newest change but carries no signature" in problem.message
    # A reader of part of the chain learns from the hub that it is the head.
    [problem] = check(key, [chain[0], forged], checkpoints, whole=False, head=4)
    assert (problem.kind, problem.first) == ("unsigned", 4)
    assert check(key, [chain[0], forged], checkpoints, whole=False) == []
    # One with a signature that is not the device's is altered.
    forged["signature"] = Key().sign(change_message(forged["hash"]))
    [problem] = check(key, [*chain, forged], checkpoints)
    assert (problem.kind, problem.first) == ("altered", 4)


def test_an_unsigned_end_of_a_transaction_is_named_where_the_next_change_is_held(key):
    chain = build(key, [2, 2])
    chain[1]["signature"] = None
    [problem] = check(key, [chain[1], chain[2]], whole=False)
    assert (problem.kind, problem.first) == ("unsigned", 2)
    assert "the last change of its transaction" in problem.message


def test_checkpoints_catch_a_rewritten_chain_and_a_forged_checkpoint(key):
    chain = build(key, [2, 2])
    good = key.checkpoint(chain[1])
    forger = Key()
    forged = Checkpoint(4, "e" * 64, forger.sign(checkpoint_message(key.key_id, 4, "e" * 64)), "2026-12-05T10:00")
    problems = check(key, chain, [good, forged], at_hub=True)
    assert [(p.kind, p.first) for p in problems] == [("inserted", 4)]
    assert "does not carry the device's signature" in problems[0].message
    other = build(key, [2])  # another chain at the same places: the device's checkpoint names chain's
    [problem] = check(key, other, [good], whole=False)
    assert (problem.kind, problem.first) == ("rewritten", 2)
    assert "is not the change the device's checkpoint of 2026-12-04 09:00 recorded" in problem.message


def test_a_first_change_that_does_not_start_the_chain_and_a_second_at_one_place(key):
    chain = build(key, [1, 1])
    chain[0]["prev"] = "a" * 64
    rehash(chain, 0)
    chain[0]["prev"] = "a" * 64
    chain[0]["hash"] = change_hash("a" * 64, 1, content_of(chain[0]))
    assert ("rewritten", 1) in [(p.kind, p.first) for p in check(key, chain)]
    chain = build(key, [2])
    assert ("inserted", 2) in [(p.kind, p.first) for p in check(key, [chain[0], chain[1], chain[1]])]


def test_a_key_that_is_not_the_devices_is_refused(key):
    chain = build(key, [2])
    wrong = Device(key.key_id, Key().public, "Sam Spo")
    problems = check_chain(wrong, chain, [], check_signature, whole=True).problems
    assert [p.kind for p in problems] == ["altered"]
    assert "is not that device's key" in problems[0].message


def test_the_hubs_copy_against_this_stores(key):
    mine = build(key, [2, 2])
    for change in mine:
        change.update(origin="local", pushed=1)
    mine[-1]["pushed"] = 0  # not sent yet: not expected at the hub
    hub = [dict(c) for c in mine[:3]]
    del hub[1]  # removed at the hub
    set_data(hub[1], decision="changed")  # altered at the hub
    extra = build(key, [1])[0]
    hub.append(dict(extra, device_seq=9))  # never made by this device
    problems = compare_copies(key.device(own=True), hub, mine)
    assert [(p.kind, p.first) for p in problems] == [("removed", 2), ("altered", 3), ("inserted", 9)]
    assert "this store sent it, and the hub no longer holds it" in problems[0].message
    assert "its data differs from this store's copy" in problems[1].message
    assert "(yours)" in problems[2].message and "this device never made it" in problems[2].message
    # Another device's changes: only what this store received is expected; new ones are not inserted.
    theirs = [dict(c, origin="remote", pushed=1) for c in mine[:2]]
    problems = compare_copies(key.device(), [*hub[:1], dict(extra, device_seq=2)], theirs)
    assert [(p.kind, p.first) for p in problems] == [("rewritten", 2)]


def test_each_change_is_named_once(key):
    chain = build(key, [2, 2])
    hub = chain[:2]
    found = check(key, hub, [key.checkpoint(chain[3])], at_hub=True)
    assert [(p.kind, p.first, p.last) for p in found] == [("removed", 3, 4)]
    compared = compare_copies(key.device(), hub, [dict(c, origin="remote", pushed=1) for c in chain])
    assert [p.kind for p in merge_problems(found, compared)] == ["removed", "removed"]
    partly = compare_copies(key.device(), hub, [dict(c, origin="remote", pushed=1) for c in chain[:3]])
    assert [p.kind for p in merge_problems(found, partly)] == ["removed", "removed"]  # 4 is not held here


def test_changes_are_named_for_people():
    change = {"tbl": "audit_log", "pk": "17", "op": "insert", "data": {"action": "decided", "entity": "item"}}
    assert describe_change(change) == "the audit row 17 (decided)"
    change = {"tbl": "items", "pk": "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "op": "update", "data": {"crn": "X1"}}
    assert describe_change(change) == "the change to the item 1a2b3c4d… on case X1"
    assert describe_change({"tbl": "cases", "pk": "X123456", "op": "delete", "data": "{"}) == (
        "the deletion of the case X123456"
    )


def test_many_problems_of_one_kind_on_one_device_are_counted_not_all_listed(key):
    from spo_tui.services.device_verify import DeviceCheck

    chain = build(key, [12])
    for change in chain:
        set_data(change, decision="changed")
    found = DeviceCheck(False, True, problems=check(key, chain))
    assert len(found.problems) == 12
    assert len(found.messages) == 6
    assert found.messages[-1] == f"and 7 more changes of device {key.key_id[:8]} altered as well"
