"""What this store keeps from the hub so that ``spo-tui verify`` can check every device's chain
offline (``spo_tui.domain.device_chains``): the devices' public keys and each device's newest
checkpoint whose signature holds (tables ``hub_devices`` and ``hub_checkpoints``, migration 0013).

A key, once received, is kept as it was (its id is its fingerprint: it never changes); a checkpoint
is replaced only by a later one, so a hub that loses or rolls back checkpoints cannot make this
store forget how far a device's chain had reached.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from spo_tui.domain.device_chains import checkpoint_message
from spo_tui.store.signing import check_signature


def keep_devices(db: Database, devices: Iterable[dict[str, Any]]) -> None:
    """Keep the hub's devices (key_id, public_key, login, name, label); call in a transaction."""
    for d in devices:
        db.execute(
            """INSERT INTO hub_devices(key_id, public_key, login, name, label) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT(key_id) DO UPDATE SET name = excluded.name
               WHERE hub_devices.public_key = excluded.public_key""",
            [d["key_id"], d["public_key"], d["login"], d.get("name") or "", d.get("label") or ""],
        )


def keep_checkpoints(db: Database, checkpoints: Iterable[dict[str, Any]]) -> None:
    """Keep each device's newest checkpoint whose signature holds by the device's kept key; call in
    a transaction, after :func:`keep_devices`. Checkpoints of a device whose key is not kept yet wait
    for a later sync."""
    keys = dict(db.execute("SELECT key_id, public_key FROM hub_devices").fetchall())
    have = {r[0]: r[1] for r in db.execute("SELECT device, device_seq FROM hub_checkpoints")}
    newest: dict[str, dict[str, Any]] = {}
    for cp in checkpoints:
        key = keys.get(cp["device"])
        seq = int(cp["device_seq"])
        if key is None or seq <= max(have.get(cp["device"], 0), int(newest.get(cp["device"], {}).get("device_seq", 0))):
            continue
        if check_signature(key, cp["signature"], checkpoint_message(cp["device"], seq, cp["hash"])):
            newest[cp["device"]] = cp
    for device, cp in newest.items():
        db.execute(
            """INSERT INTO hub_checkpoints(device, device_seq, hash, signature, at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT(device) DO UPDATE SET device_seq = excluded.device_seq, hash = excluded.hash,
               signature = excluded.signature, at = excluded.at""",
            [device, int(cp["device_seq"]), cp["hash"], cp["signature"], str(cp.get("at") or "")],
        )


def kept_devices(db: Database) -> dict[str, dict[str, Any]]:
    cols = ("key_id", "public_key", "login", "name", "label")
    return {r[0]: dict(zip(cols, r, strict=True)) for r in db.execute(f"SELECT {', '.join(cols)} FROM hub_devices")}


def kept_checkpoints(db: Database) -> dict[str, dict[str, Any]]:
    cols = ("device", "device_seq", "hash", "signature", "at")
    return {r[0]: dict(zip(cols, r, strict=True)) for r in db.execute(f"SELECT {', '.join(cols)} FROM hub_checkpoints")}
