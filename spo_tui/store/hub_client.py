"""A device talking to its hub (PostgreSQL, ``spo_tui.store.hub_schema``): who am I, register this
device, send this device's changes, fetch everyone else's, record checkpoints.

Each call runs on a connection the caller opened with :func:`connect` as the person's own login;
PostgreSQL's grants, row-level security and the insert trigger decide what it may read and write.
A refusal by the hub becomes :class:`HubRefused` with the hub's own words; a hub that cannot be
reached becomes :class:`HubUnreachable`. The password is never part of a message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from spo_tui.domain.errors import SpoError

#: How long to wait for the hub before calling it unreachable (seconds).
CONNECT_TIMEOUT = 5
#: How many changes one round trip sends or fetches (``SPO_TUI_SYNC_BATCH`` sets another: smaller
#: on a slow or unreliable link, so a sync cut off loses less of its work).
BATCH = 2000


def batch_size() -> int:
    try:
        return max(1, int(os.environ.get("SPO_TUI_SYNC_BATCH", BATCH)))
    except ValueError:
        return BATCH


class HubProblem(SpoError):
    """Something went wrong talking to the hub; the message says what."""


class HubUnreachable(HubProblem):
    """The hub cannot be reached now (offline, server down): try again later; nothing is lost."""


class HubRefused(HubProblem):
    """The hub refused what was sent (not allowed, not in order): the message is the hub's."""


def without_password(url: str) -> str:
    """The URL as it may be stored and shown: any password taken out."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1@", url)


def _psycopg() -> Any:
    import psycopg  # imported when a hub is used: a store without one never loads it

    return psycopg


def _refusal(error: Exception) -> str:
    diag = getattr(error, "diag", None)
    text = (getattr(diag, "message_primary", None) or str(error)).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def connect(url: str) -> Iterator[Any]:
    """A connection to the hub as the URL's login (password from the URL, ``~/.pgpass`` or ``PGPASSWORD``)."""
    psycopg = _psycopg()
    try:
        conn = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, application_name="spo-tui")
    except psycopg.OperationalError as error:
        message = _refusal(error)
        if "password authentication failed" in message or "no password supplied" in message:
            raise HubRefused(f"the hub {without_password(url)} refused the login: {message}") from None
        raise HubUnreachable(f"cannot reach the hub {without_password(url)}: {message}") from None
    except psycopg.Error as error:
        raise HubProblem(f"cannot use the hub {without_password(url)}: {_refusal(error)}") from None
    try:
        yield conn
    except psycopg.OperationalError as error:
        raise HubUnreachable(f"lost the hub {without_password(url)}: {_refusal(error)}") from None
    except psycopg.Error as error:
        raise HubRefused(f"the hub refused: {_refusal(error)}") from None
    finally:
        conn.close()


def me(conn: Any) -> dict[str, Any]:
    """The person this login is at the hub (login, staff_id, name, role, team, active)."""
    with conn.cursor() as cur:
        cur.execute("SELECT login, staff_id, name, role, team, active FROM spo.me()")
        row = cur.fetchone()
    conn.commit()
    if row is None or row[0] is None:
        raise HubRefused(
            "this login is not a person of the hub: ask the hub's administrator to add you (spo-tui hub add-user)"
        )
    return dict(zip(("login", "staff_id", "name", "role", "team", "active"), row, strict=True))


def register_device(conn: Any, key_id: str, public_key: str, label: str) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT spo.register_device(%s, %s, %s)", [key_id, public_key, label])
    conn.commit()


def claim_staff_id(conn: Any, staff_id: str) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT spo.claim_staff_id(%s)", [staff_id])
    conn.commit()


def people(conn: Any) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute("SELECT login, staff_id, name, role, team, active FROM spo.people ORDER BY name")
        rows = cur.fetchall()
    conn.commit()
    return [dict(zip(("login", "staff_id", "name", "role", "team", "active"), r, strict=True)) for r in rows]


def holds_team_record(conn: Any, team: str) -> bool:
    """True when the hub holds any of ``team``'s work ('' : any work at all that this login may read)."""
    with conn.cursor() as cur:
        if team:
            cur.execute("SELECT EXISTS (SELECT 1 FROM spo.changes WHERE team = %s)", [team])
        else:
            cur.execute("SELECT EXISTS (SELECT 1 FROM spo.changes WHERE team <> '')")
        (found,) = cur.fetchone()
    conn.commit()
    return bool(found)


def device_ids(conn: Any, device: str, low: int, high: int) -> dict[int, str]:
    """The ids of a device's changes the hub holds at places ``low`` to ``high``."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT device_seq, id::text FROM spo.changes WHERE device = %s AND device_seq BETWEEN %s AND %s",
            [device, low, high],
        )
        rows = cur.fetchall()
    conn.commit()
    return {int(seq): change_id for seq, change_id in rows}


def hash_at(conn: Any, device: str, device_seq: int) -> str:
    """The hash of a device's change at ``device_seq`` at the hub."""
    with conn.cursor() as cur:
        cur.execute("SELECT hash FROM spo.changes WHERE device = %s AND device_seq = %s", [device, device_seq])
        row = cur.fetchone()
    conn.commit()
    if row is None:
        raise HubProblem(f"the hub does not hold this device's change {device_seq}")
    return str(row[0])


def last_seq(conn: Any) -> int:
    """The hub's newest place this login can read (0: none)."""
    with conn.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(seq), 0) FROM spo.changes")
        (seq,) = cur.fetchone()
    conn.commit()
    return int(seq)


def device_head(conn: Any, device: str) -> int:
    """How far the hub holds this device's chain (0: nothing yet)."""
    with conn.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(device_seq), 0) FROM spo.changes WHERE device = %s", [device])
        (seq,) = cur.fetchone()
    conn.commit()
    return int(seq)


_PUSH = """INSERT INTO spo.changes(id, device, device_seq, prev, hash, signature, hlc, actor, team, tbl, pk, op, data,
    tx, seen) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)"""


def push(conn: Any, changes: list[dict[str, Any]]) -> None:
    """Send changes (one device's, in chain order) in one transaction: all are taken or none."""
    psycopg = _psycopg()
    try:
        with conn.cursor() as cur:
            cur.executemany(
                _PUSH,
                [
                    (
                        c["id"],
                        c["device"],
                        c["device_seq"],
                        c["prev"],
                        c["hash"],
                        c["signature"],
                        c["hlc"],
                        c["actor"],
                        c["team"],
                        c["tbl"],
                        c["pk"],
                        c["op"],
                        c["data"],
                        c["tx"],
                        c["seen"],
                    )
                    for c in changes
                ],
            )
        conn.commit()
    except psycopg.OperationalError:
        raise
    except psycopg.Error as error:
        conn.rollback()
        raise HubRefused(f"the hub refused this device's changes: {_refusal(error)}") from None


_PULL_COLUMNS = (
    "seq",
    "id",
    "device",
    "device_seq",
    "prev",
    "hash",
    "signature",
    "hlc",
    "actor",
    "team",
    "tbl",
    "pk",
    "op",
    "data",
    "tx",
    "seen",
)


_SELECT = """SELECT seq, id::text, device, device_seq, prev, hash, signature, hlc, actor, team, tbl, pk, op,
    data::text, tx::text, seen FROM spo.changes"""


#: Where the transaction that goes on after a place ends: the first later change of another
#: transaction (a push's changes are numbered together, so a transaction's changes follow one another).
_NEXT_TX = "SELECT MIN(seq) FROM spo.changes WHERE seq > %s AND tx <> %s::uuid"


def _rest_of_tx(cur: Any, last: int, tx: str) -> list[tuple[Any, ...]]:
    """The changes of transaction ``tx`` after place ``last``: the ones before the next transaction
    starts, found by the index on seq (``tx = ...`` alone made PostgreSQL read every change at the
    hub, for each batch: half of a PDU head's first sync)."""
    cur.execute(_NEXT_TX, [last, tx])
    (end,) = cur.fetchone()
    if end is None:  # nothing of another transaction after it: the rest is all this one's
        cur.execute(f"{_SELECT} WHERE seq > %s ORDER BY seq", [last])
    else:
        cur.execute(f"{_SELECT} WHERE seq > %s AND seq < %s AND tx = %s::uuid ORDER BY seq", [last, end, tx])
    return cur.fetchall()


def pull(conn: Any, after: int, limit: int | None = None) -> list[dict[str, Any]]:
    """The changes this login may read after hub place ``after``, in hub order (``data`` as JSON
    text): about ``limit`` (default :func:`batch_size`), always ending with a whole transaction."""
    limit = limit or batch_size()
    with conn.cursor() as cur:
        cur.execute(f"{_SELECT} WHERE seq > %s ORDER BY seq LIMIT %s", [after, limit])
        rows = cur.fetchall()
        if len(rows) == limit:
            rows += _rest_of_tx(cur, rows[-1][0], rows[-1][14])
    conn.commit()
    return [dict(zip(_PULL_COLUMNS, r, strict=True)) for r in rows]


def checkpoint(conn: Any, device: str, device_seq: int, head: str, signature: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO spo.checkpoints(device, device_seq, hash, signature) VALUES (%s, %s, %s, %s)",
            [device, device_seq, head, signature],
        )
    conn.commit()


def device_chain(conn: Any, device: str) -> list[dict[str, Any]]:
    """Every change of a device this login may read, in chain order (for verify against the hub)."""
    with conn.cursor() as cur:
        cur.execute(f"{_SELECT} WHERE device = %s ORDER BY device_seq", [device])
        rows = cur.fetchall()
    conn.commit()
    return [dict(zip(_PULL_COLUMNS, r, strict=True)) for r in rows]


def checkpoints(conn: Any) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute("SELECT device, device_seq, hash, signature, at::text FROM spo.checkpoints ORDER BY id")
        rows = cur.fetchall()
    conn.commit()
    return [dict(zip(("device", "device_seq", "hash", "signature", "at"), r, strict=True)) for r in rows]


def device_keys(conn: Any) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute("SELECT key_id, public_key FROM spo.devices")
        rows = cur.fetchall()
    conn.commit()
    return dict(rows)


def devices(conn: Any) -> list[dict[str, Any]]:
    """Every device the hub lists: its key, the login it is registered to, that person's name, its label."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT d.key_id, d.public_key, d.login, COALESCE(p.name, ''), d.label
               FROM spo.devices d LEFT JOIN spo.people p ON p.login = d.login ORDER BY d.key_id"""
        )
        rows = cur.fetchall()
    conn.commit()
    return [dict(zip(("key_id", "public_key", "login", "name", "label"), r, strict=True)) for r in rows]


def heads(conn: Any) -> dict[str, int]:
    """Each device's last place at the hub, whatever this login may read of its changes."""
    with conn.cursor() as cur:
        cur.execute("SELECT device, device_seq FROM spo.device_heads")
        rows = cur.fetchall()
    conn.commit()
    return {r[0]: int(r[1]) for r in rows}


def latest_checkpoints(conn: Any) -> list[dict[str, Any]]:
    """Each device's newest checkpoint (what a sync keeps for ``verify``)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT ON (device) device, device_seq, hash, signature, at::text FROM spo.checkpoints
               ORDER BY device, device_seq DESC, id DESC"""
        )
        rows = cur.fetchall()
    conn.commit()
    return [dict(zip(("device", "device_seq", "hash", "signature", "at"), r, strict=True)) for r in rows]
