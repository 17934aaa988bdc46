"""Working as a team: connecting a store to a hub and exchanging changes with it (``spo-tui connect``,
``spo-tui sync``, the app's background sync).

The store stays the working copy: every screen reads and writes it and never waits on the network.
A sync sends this device's changes the hub does not hold yet (whole transactions, in the device's
chain order), records a signed checkpoint of the device's head, then takes in the changes of others
the hub lets this login read, a batch at a time, each batch in one local transaction with the
place reached. Killed at any point, the next sync carries on: the hub refuses a change it already
holds (its id, and its place in the device's chain), and a batch is taken in whole or not at all.

Who you are, with a hub: the person the hub knows your PostgreSQL login as. ``--as`` no longer
applies (``spo_tui.services.identity``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from spo_tui.domain.dates import to_iso, utc_now
from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.store import changes, hub_client, hub_trust, queries, signing, writes
from spo_tui.store.db import SpoDatabase
from spo_tui.store.hub_client import HubProblem, HubUnreachable, without_password

#: The keyring service under which a hub password given to ``connect`` is kept.
KEYRING_SERVICE = "spo-tui hub"


@dataclass(frozen=True)
class SyncResult:
    pushed: int
    pulled: int
    message: str


@dataclass(frozen=True)
class SyncStatus:
    """What the header and ``spo-tui sync --status`` say."""

    connected: bool
    hub: str | None = None
    login: str | None = None
    name: str | None = None
    last_sync: str | None = None
    waiting: int = 0
    offline: bool = False
    problem: str | None = None


def status(db: SpoDatabase) -> SyncStatus:
    if not changes.is_connected(db):
        return SyncStatus(False)
    problem = changes.get_state(db, "last_problem")
    return SyncStatus(
        True,
        hub=changes.get_state(db, "hub"),
        login=changes.get_state(db, "login"),
        name=changes.get_state(db, "name"),
        last_sync=changes.get_state(db, "last_sync"),
        waiting=changes.waiting_count(db),
        offline=changes.get_state(db, "offline") == "1",
        problem=problem,
    )


def hub_person(db: SpoDatabase) -> dict[str, Any] | None:
    """The staff member this store acts as, when it is connected to a hub (else None)."""
    if not changes.is_connected(db):
        return None
    staff_id = changes.get_state(db, "staff_id")
    person = queries.staff_by_id(db, staff_id) if staff_id else None
    if person is None:
        raise NotAllowed(
            f"this store is connected to a hub as {changes.get_state(db, 'login')}, but the hub's record of "
            "who that is has not arrived yet: run spo-tui sync"
        )
    return person


# --- connecting ----------------------------------------------------------------------------------


def _local_has_record(db: SpoDatabase) -> bool:
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM staff) OR EXISTS (SELECT 1 FROM items)").fetchone()[0])


def _remember_password(url: str) -> None:
    """Keep a password given in the URL in the OS keyring, so later syncs need not be given it."""
    from urllib.parse import urlsplit

    password = urlsplit(url).password
    if not password:
        return
    with contextlib.suppress(Exception):  # no keyring here: libpq's ~/.pgpass or PGPASSWORD then
        import keyring

        keyring.set_password(KEYRING_SERVICE, without_password(url), password)


def _with_password(url: str) -> str:
    """The stored URL with its password from the keyring, if one is kept there."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password or not parts.username:
        return url
    password = None
    with contextlib.suppress(Exception):
        import keyring

        password = keyring.get_password(KEYRING_SERVICE, url)
    if not password:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def hub_url(db: SpoDatabase) -> str:
    """The URL of the hub this store is connected to, with its password from the keyring if kept."""
    stored = changes.get_state(db, "hub")
    if stored is None:
        raise NotAllowed("this store is not connected to a hub: spo-tui connect postgresql://LOGIN@HOST/DATABASE")
    return _with_password(stored)


def connect(db: SpoDatabase, url: str, *, clock: Callable[[], datetime] = utc_now) -> SyncResult:
    """Connect this store to the hub at ``url`` as the URL's login, then sync.

    The first device of a team to connect, with a store that already holds the team's record,
    uploads it; a device with an empty store brings the team's record down. A store that holds a
    record of its own cannot join a hub that already holds its team's (two records of one team would
    be merged row by row): connect a new store instead. Connecting again to the same hub just syncs."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValidationError(f"'{without_password(url)}' is not a PostgreSQL URL (postgresql://login@host/database)")
    stored = changes.get_state(db, "hub")
    if stored is not None and stored != without_password(url):
        raise NotAllowed(f"this store is already connected to {stored}: it can only sync with that hub")
    key = signing.device_key()
    with hub_client.connect(url) as conn:
        person = hub_client.me(conn)
        if not person["active"]:
            raise NotAllowed(f"{person['name']} ({person['login']}) is no longer active at this hub")
        hub_client.register_device(conn, key.key_id, key.public_key, key.label)
        if stored is None:
            hub_has = hub_client.holds_team_record(conn, person["team"] or "")
            local_has = _local_has_record(db)
            if local_has and hub_has:
                raise NotAllowed(
                    "this store already holds a record, and the hub already holds your team's: connect a new, "
                    "empty store to join it (spo-tui --db NEW.db connect URL)"
                )
            staff_id = person["staff_id"]
            with db.atomic():
                if staff_id is None and local_has:
                    found = queries.find_staff(db, person["name"])
                    staff_id = found["id"] if found else None
                _remember_connection(db, url, person, staff_id)
                changes.install_capture(db)
                if local_has:
                    if staff_id is None:
                        staff_id = _add_self(db, person, clock)
                    changes.baseline(db)
            db.sealing = True
            if staff_id and person["staff_id"] is None:
                hub_client.claim_staff_id(conn, staff_id)
        _remember_password(url)
    return sync(db, url, clock=clock)


def _remember_connection(db: SpoDatabase, url: str, person: dict[str, Any], staff_id: str | None) -> None:
    changes.set_state(db, "hub", without_password(url))
    for key in ("login", "name", "role", "team"):
        changes.set_state(db, key, str(person[key] or ""))
    changes.set_state(db, "staff_id", staff_id)


def _add_self(db: SpoDatabase, person: dict[str, Any], clock: Callable[[], datetime]) -> str:
    staff_id = str(uuid.uuid4())
    db.execute(
        "INSERT INTO staff(id, name, role, team, created_at) VALUES (?, ?, ?, ?, ?)",
        [staff_id, person["name"], person["role"], person["team"] or "", to_iso(clock())],
    )
    changes.set_state(db, "staff_id", staff_id)
    return staff_id


# --- syncing -------------------------------------------------------------------------------------


def sync(db: SpoDatabase, url: str | None = None, *, clock: Callable[[], datetime] = utc_now) -> SyncResult:
    """Send this device's changes and take in everyone else's. Raises HubUnreachable (nothing lost:
    the changes wait) or HubRefused (the hub's words), and records either for the status line."""
    stored = changes.get_state(db, "hub")
    if stored is None:
        raise NotAllowed("this store is not connected to a hub: spo-tui connect postgresql://LOGIN@HOST/DATABASE")
    try:
        result = _exchange(db, url or _with_password(stored), clock)
    except HubUnreachable as error:
        _note(db, offline=True, problem=str(error))
        raise
    except HubProblem as error:
        _note(db, offline=False, problem=str(error))
        raise
    _note(db, offline=False, problem=None, synced=to_iso(clock()))
    return result


def _note(db: SpoDatabase, *, offline: bool, problem: str | None, synced: str | None = None) -> None:
    # The status line must never stop a sync's result reaching the user.
    with contextlib.suppress(Exception), db.atomic():
        changes.set_state(db, "offline", "1" if offline else None)
        changes.set_state(db, "last_problem", problem)
        if synced:
            changes.set_state(db, "last_sync", synced)


def _exchange(db: SpoDatabase, url: str, clock: Callable[[], datetime]) -> SyncResult:
    key = signing.device_key()
    pushed = pulled = 0
    with hub_client.connect(url) as conn:
        person = hub_client.me(conn)
        with db.atomic():  # anything written outside a transaction is sealed now
            changes.seal(db)
        at_hub = hub_client.device_head(conn, key.key_id)
        after = int(changes.get_state(db, "pulled") or 0)
        _settle_with_hub(db, conn, key, at_hub)
        with db.atomic():
            # A hub restored from a backup holds less than this device sent, or than it took in:
            # send again what it lost, and take in everything again (by id, nothing twice).
            changes.mark_unpushed_after(db, key.key_id, at_hub)
            if after and hub_client.last_seq(conn) < after:
                after = 0
                changes.set_state(db, "pulled", "0")
        while batch := changes.unpushed(db, key.key_id, hub_client.batch_size()):
            hub_client.push(conn, batch)
            with db.atomic():
                changes.mark_pushed(db, key.key_id, batch[-1]["device_seq"])
            pushed += len(batch)
        head_seq, head = changes.device_head(db, key.key_id)
        if head_seq and changes.get_state(db, "checkpoint") != str(head_seq):
            signature = key.sign(changes.checkpoint_message(key.key_id, head_seq, head))
            hub_client.checkpoint(conn, key.key_id, head_seq, head, signature)
            with db.atomic():
                changes.set_state(db, "checkpoint", str(head_seq))
        # Taken before pulling, so the changes each checkpoint vouches for are all pulled below.
        checkpoints = hub_client.latest_checkpoints(conn)
        while received := hub_client.pull(conn, after):
            with changes.references_unchecked(db), db.atomic():
                evidence = changes.take_in(db, received)
                writes.link_received(db, evidence)
                after = received[-1]["seq"]
                changes.set_state(db, "pulled", str(after))
            pulled += sum(1 for c in received if c["device"] != key.key_id)
        people = hub_client.people(conn)
        devices = hub_client.devices(conn)  # after pulling: every device whose changes came is listed
        with db.atomic():
            hub_trust.keep_devices(db, devices)
            hub_trust.keep_checkpoints(db, checkpoints)
            _people_into_staff(db, people, clock)
            _update_self(db, person)
            claim = None
            if not person["staff_id"]:  # the hub does not yet know which staff member this login is
                found = queries.find_staff(db, person["name"])
                claim = found["id"] if found else _add_self(db, person, clock)
                changes.set_state(db, "staff_id", claim)
        if claim:
            hub_client.claim_staff_id(conn, claim)
            # A member of staff added here goes to the hub now, not at the next sync.
            while batch := changes.unpushed(db, key.key_id, hub_client.batch_size()):
                hub_client.push(conn, batch)
                with db.atomic():
                    changes.mark_pushed(db, key.key_id, batch[-1]["device_seq"])
                pushed += len(batch)
    return SyncResult(pushed, pulled, _summary(pushed, pulled))


def _settle_with_hub(db: SpoDatabase, conn: Any, key: signing.DeviceKey, at_hub: int) -> None:
    """Agree with the hub on how far this device's chain has reached it.

    Changes the hub holds under the same place and id are marked sent (a sync killed after the hub
    took them). A change of this store whose place the hub holds under another id was made on a
    store restored from a backup after the hub had gone further: this device's later changes are
    moved, in order, to follow the hub's head (and signed again), and the changes the restore lost
    come back from the hub with the next pull, so nothing made on either side is lost."""
    waiting = changes.unpushed_places(db, key.key_id, up_to=at_hub)
    if not waiting:
        return
    at_hub_ids = hub_client.device_ids(conn, key.key_id, waiting[0][0], waiting[-1][0])
    same = [seq for seq, change_id in waiting if at_hub_ids.get(seq) == change_id]
    with db.atomic():
        changes.mark_pushed_places(db, key.key_id, same)
        if len(same) < len(waiting):
            changes.rechain(db, key, at_hub, hub_client.hash_at(conn, key.key_id, at_hub))


def _summary(pushed: int, pulled: int) -> str:
    if not pushed and not pulled:
        return "in step with the hub: nothing to send or take in"
    return f"sent {pushed} change{'s' if pushed != 1 else ''}, took in {pulled}"


def _people_into_staff(db: SpoDatabase, people: list[dict[str, Any]], clock: Callable[[], datetime]) -> None:
    """The hub's list of people is the authority for their names, roles and teams: bring the local
    staff rows into line (not as changes: every replica does the same from the same list)."""
    changes.set_state(db, "applying", "1")
    try:
        for p in people:
            if not p["staff_id"]:
                continue
            row = queries.staff_by_id(db, p["staff_id"])
            if row is None:
                if queries.find_staff(db, p["name"]) is not None:
                    continue  # someone of that name already here under another id: left as it is
                db.execute(
                    "INSERT INTO staff(id, name, role, team, active, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [p["staff_id"], p["name"], p["role"], p["team"] or "", 1, to_iso(clock())],
                )
            elif (row["name"], row["role"], row["team"] or "") != (p["name"], p["role"], p["team"] or ""):
                db.execute(
                    "UPDATE staff SET name = ?, role = ?, team = ? WHERE id = ?",
                    [p["name"], p["role"], p["team"] or "", p["staff_id"]],
                )
    finally:
        changes.set_state(db, "applying", None)


def _update_self(db: SpoDatabase, person: dict[str, Any]) -> None:
    for key in ("name", "role", "team"):
        changes.set_state(db, key, str(person[key] or ""))
    if person["staff_id"]:
        changes.set_state(db, "staff_id", person["staff_id"])
