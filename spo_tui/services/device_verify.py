"""``spo-tui verify`` on a store connected to a hub: every device's signed chain of changes, in this
store (:func:`check_here`, offline) and at the hub (:func:`check_hub`, ``verify --hub``).

The check itself is ``spo_tui.domain.device_chains``; this module reads the changes, the devices'
keys and checkpoints (kept at each sync by ``spo_tui.store.hub_trust``, or fetched from the hub)
and decides which chains the reader should hold whole: its own device's, and every device's for a
reader who sees every team (the PDU head). Others' chains are held in part (row-level security
sends a reader only their own team's changes and the shared ones), so their gaps say nothing.

Against the hub, the hub's copy is checked the same way, with this store's checkpoint of each
device as well as the hub's (so a hub that lost a checkpoint cannot hide the changes it vouched
for), and compared with this store's copy of the same changes: what this store sent or received and
the hub no longer holds, or holds otherwise, is named "at the hub".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from spo_tui.domain.device_chains import (
    ChainProblem,
    Checkpoint,
    Device,
    change_hash,
    check_chain,
    compare_copies,
    content_of,
    merge_problems,
)
from spo_tui.store import changes, hub_client, hub_trust, signing

#: After this many problems of one kind on one device, the rest are counted, not listed.
LISTED = 5


@dataclass
class DeviceCheck:
    """What checking the devices' chains found, in this store or at the hub."""

    at_hub: bool
    reads_all: bool  # the reader sees every team, so holds every chain whole
    devices: int = 0
    changes: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def messages(self) -> list[str]:
        return [p.message for p in _capped(self.problems)]


_KINDS = {
    "altered": "altered",
    "removed": "removed",
    "rewritten": "rewritten",
    "inserted": "inserted",
    "unsigned": "without the signature they should carry",
}


def _capped(problems: list[ChainProblem]) -> list[ChainProblem]:
    counts: dict[tuple[str, str], int] = {}
    kept: list[ChainProblem] = []
    for p in problems:
        n = counts[(p.device, p.kind)] = counts.get((p.device, p.kind), 0) + 1
        if n <= LISTED:
            kept.append(p)
    for (device, kind), n in counts.items():
        if n > LISTED:
            what = _KINDS.get(kind, kind)
            kept.append(
                ChainProblem(kind, f"and {n - LISTED} more changes of device {device[:8]} {what} as well", device)
            )
    return kept


def _own_key() -> signing.DeviceKey | None:
    return signing.device_key(create=False)


def _device(key_id: str, listed: dict[str, dict[str, Any]], own: signing.DeviceKey | None) -> Device:
    if own is not None and key_id == own.key_id:
        return Device(key_id, own.public_key, own=True)
    row = listed.get(key_id)
    if row is None:
        return Device(key_id, None)
    return Device(key_id, row["public_key"], row.get("name") or row.get("login") or "", row.get("label") or "")


def _checkpoint(row: dict[str, Any] | None, source: str) -> list[Checkpoint]:
    if row is None:
        return []
    return [Checkpoint(int(row["device_seq"]), row["hash"], row["signature"], str(row.get("at") or ""), source)]


def _unknown(device: Device, count: int, where: str) -> ChainProblem:
    return ChainProblem(
        "inserted",
        f"{count} change{'s' if count != 1 else ''} of device {device.key_id[:8]} {where}, a device the hub has not "
        "listed to this store: their signatures cannot be checked (run spo-tui sync and verify again; if this stays, "
        "they were inserted)",
        device.key_id,
    )


def check_here(db: Database) -> DeviceCheck | None:
    """Check every device's chain as this store holds it (None: the store is not connected)."""
    if not changes.is_connected(db):
        return None
    reads_all = changes.get_state(db, "role") == "PDU head"
    result = DeviceCheck(False, reads_all)
    own = _own_key()
    listed = hub_trust.kept_devices(db)
    kept = hub_trust.kept_checkpoints(db)
    for key_id in changes.devices(db):
        device = _device(key_id, listed, own)
        found = check_chain(
            device,
            changes.device_changes(db, key_id),
            _checkpoint(kept.get(key_id), "this store's last sync") if device.public_key else [],
            signing.check_signature,
            whole=reads_all or device.own,
        )
        result.devices += 1
        result.changes += found.held
        result.problems += found.problems
        if device.public_key is None:
            if listed:
                result.problems.append(_unknown(device, found.held, "are in this store"))
            else:
                result.notes.append(
                    "the hub's device keys have not reached this store yet: other devices' signatures were not "
                    "checked (run spo-tui sync, then verify again)"
                )
    result.notes = list(dict.fromkeys(result.notes))
    return result


_HERE_COLUMNS = (*changes.CHANGE_COLUMNS, "origin", "pushed")


def _here(db: Database, key_id: str) -> Iterator[dict[str, Any]]:
    cursor = db.execute(
        f"SELECT {', '.join(_HERE_COLUMNS)} FROM changes WHERE device = ? ORDER BY device_seq", [key_id]
    )
    for r in cursor:
        yield dict(zip(_HERE_COLUMNS, r, strict=True))


def _holds(change: dict[str, Any]) -> bool:
    """This store's copy of a change gives its own hash (else the check of this store names it)."""
    try:
        return change_hash(change["prev"], int(change["device_seq"]), content_of(change)) == change["hash"]
    except (ValueError, TypeError):
        return False


def check_hub(db: Database, url: str) -> DeviceCheck:
    """Check the hub's copy of every device's chain this login may read, and compare it with this
    store's copy. Raises HubUnreachable when the hub cannot be reached."""
    own = _own_key()
    listed_here = hub_trust.kept_devices(db)
    kept = hub_trust.kept_checkpoints(db)
    with hub_client.connect(url) as conn:
        person = hub_client.me(conn)
        reads_all = person["role"] == "PDU head"
        # Checkpoints and heads first: every change they vouch for was at the hub before them.
        checkpoints: dict[str, list[dict[str, Any]]] = {}
        for cp in hub_client.checkpoints(conn):
            checkpoints.setdefault(cp["device"], []).append(cp)
        heads = hub_client.heads(conn)
        listed = {d["key_id"]: d for d in hub_client.devices(conn)}
        result = DeviceCheck(True, reads_all)
        for key_id in sorted(set(listed) | set(changes.devices(db))):
            at_hub = hub_client.device_chain(conn, key_id)
            result.devices += 1 if at_hub else 0
            result.changes += len(at_hub)
            result.problems += _check_one(
                db, key_id, at_hub, listed, listed_here, own, checkpoints, kept, heads, reads_all
            )
    return result


def _check_one(
    db: Database,
    key_id: str,
    at_hub: list[dict[str, Any]],
    listed: dict[str, dict[str, Any]],
    listed_here: dict[str, dict[str, Any]],
    own: signing.DeviceKey | None,
    checkpoints: dict[str, list[dict[str, Any]]],
    kept: dict[str, dict[str, Any]],
    heads: dict[str, int],
    reads_all: bool,
) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    # The key this store received before (or its own) is the one trusted; the hub's must match it.
    device = _device(key_id, listed_here, own) if key_id in listed_here or (own and own.key_id == key_id) else None
    hub_row = listed.get(key_id)
    if device is None:
        device = _device(key_id, listed, own)
    elif hub_row is not None and device.public_key and hub_row["public_key"] != device.public_key:
        problems.append(
            ChainProblem(
                "altered",
                f"the hub's public key for {device.named()} is not the one this store received before: it was "
                "replaced at the hub",
                key_id,
            )
        )
    if hub_row is None and at_hub:
        problems.append(_unknown(device, len(at_hub), "are at the hub"))
    elif hub_row is None and any(True for _ in _here(db, key_id)):
        problems.append(
            ChainProblem("removed", f"{device.named()} is no longer listed at the hub: it was removed there", key_id)
        )
    at_hub_checkpoints = [
        Checkpoint(int(cp["device_seq"]), cp["hash"], cp["signature"], cp["at"] or "", "the hub")
        for cp in checkpoints.get(key_id, [])
    ]
    mine = kept.get(key_id)
    if mine is not None and not any(
        cp.device_seq == int(mine["device_seq"]) and cp.hash == mine["hash"] for cp in at_hub_checkpoints
    ):
        problems.append(
            ChainProblem(
                "removed",
                f"the checkpoint of {device.named()} at change {mine['device_seq']}, which this store received from "
                "the hub, is no longer at the hub: it was removed there",
                key_id,
            )
        )
    found = check_chain(
        device,
        at_hub,
        [*at_hub_checkpoints, *_checkpoint(mine, "this store's last sync")],
        signing.check_signature,
        whole=reads_all or device.own,
        at_hub=True,
        head=heads.get(key_id),
    )
    compared = compare_copies(device, at_hub, (c for c in _here(db, key_id) if _holds(c)))
    return problems + merge_problems(found.problems, compared)
