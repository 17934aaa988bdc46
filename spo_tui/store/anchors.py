"""Anchors: the chain's head (how many links, the last hash) recorded outside the database.

Each export, backup and ``verify`` appends one line to a file for the store (named by the store id,
which the chain binds in its first link) in the user's data folder (``spo_tui.config.anchors_dir``):
JSON with when, what (``verify``, ``export``, ``backup``, ``app``, ``restore``), the count and hash
of the head, and the device keys this user trusts for the store. ``verify`` compares the record with
every anchor since the last ``restore`` line: a record with fewer links than an anchor, or whose
link at an anchor's position has another hash, has lost its last entries, been replaced by an older
copy, or been rewritten.

The file is appended to and flushed to disk; a line cut short by a crash is skipped when read.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from spo_tui.domain.errors import SpoError


class AnchorProblem(SpoError):
    """An anchor could not be written; the message says where and why."""


@dataclass(frozen=True)
class Anchor:
    at: str
    event: str
    count: int
    head: str
    trusted: tuple[str, ...] | None = None  # None: no check has decided which keys to trust yet
    db: str = ""


def _folder() -> Path:
    from spo_tui.config import anchors_dir

    return anchors_dir()


def anchor_path(store_id: str) -> Path:
    """The anchor file of a store. The id comes from the database, so it must be a UUID (never a path)."""
    return _folder() / f"{uuid.UUID(store_id)}.jsonl"


def read_anchors(store_id: str) -> list[Anchor]:
    """Every anchor of the store, oldest first (none if the store was never anchored by this user)."""
    try:
        text = anchor_path(store_id).read_text(encoding="utf-8")
    except (FileNotFoundError, ValueError):
        return []
    except OSError as error:
        raise AnchorProblem(f"cannot read the record's anchors in {_folder()}: {error.strerror}") from None
    found = []
    for line in text.splitlines():
        try:
            raw = json.loads(line)
            trusted = raw.get("trusted")
            found.append(
                Anchor(
                    str(raw["at"]),
                    str(raw["event"]),
                    int(raw["count"]),
                    str(raw["head"]),
                    None if trusted is None else tuple(str(k) for k in trusted),
                    str(raw.get("db", "")),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash, or not ours
    return found


def trusted_keys(anchors: list[Anchor]) -> tuple[str, ...] | None:
    """The keys the last check that decided trusted, or None if no check has yet."""
    for anchor in reversed(anchors):
        if anchor.trusted is not None:
            return anchor.trusted
    return None


def since_restore(anchors: list[Anchor]) -> list[Anchor]:
    """The anchors to compare with: those from the last accepted restore on."""
    for n in range(len(anchors) - 1, -1, -1):
        if anchors[n].event == "restore":
            return anchors[n:]
    return anchors


def append_anchor(store_id: str, anchor: Anchor) -> Path:
    """Add one line to the store's anchor file (made private, 0600 in a 0700 folder) and flush it to disk."""
    path = anchor_path(store_id)
    line = (
        json.dumps(
            {
                "at": anchor.at,
                "event": anchor.event,
                "count": anchor.count,
                "head": anchor.head,
                "trusted": None if anchor.trusted is None else sorted(anchor.trusted),
                "db": anchor.db,
            },
            sort_keys=True,
        )
        + "\n"
    )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise AnchorProblem(f"cannot record the chain head in {path}: {error.strerror}") from None
    return path


def stores_anchored_at(db_path: str) -> list[str]:
    """The stores whose last anchor was made on the database file at ``db_path`` (resolved)."""
    if not db_path:
        return []
    target = str(Path(db_path).resolve())
    found = []
    try:
        files = sorted(_folder().glob("*.jsonl"))
    except OSError:
        return []
    for path in files:
        try:
            history = read_anchors(path.stem)
        except (AnchorProblem, ValueError):
            continue
        if history and history[-1].db and str(Path(history[-1].db).resolve()) == target:
            found.append(path.stem)
    return found
