"""The hub's administration: set a hub up, add its people, list them (``spo-tui hub``).

Each operation validates what it was given, then does its work in one transaction on the hub, as
the admin's login (the URL's). Whatever goes wrong (the URL, the connection, a privilege the admin's
login lacks) ends in an :class:`HubError` (or a ``ValidationError``) whose message is one line and
never shows the URL's password. How the hub works: ``spo_tui.store.hub_schema``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import psycopg
from psycopg import sql

from spo_tui.domain.errors import NotAllowed, SpoError, ValidationError
from spo_tui.store import hub_schema

#: Roles whose people belong to the whole PDU: a team is optional for them.
PDU_WIDE_ROLES = ("PDU head", "SAO", "QDO", "business manager")
_URL_SCHEMES = ("postgresql://", "postgres://")
_MAX_LOGIN_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1
_CONNECT_TIMEOUT = 10  # seconds


class HubError(SpoError):
    """The hub could not be reached, or refused what was asked of it."""


@dataclass(frozen=True)
class AddedUser:
    """What ``add_user`` did. ``password`` is set only when it made a new login: show it once."""

    login: str
    name: str
    role: str
    team: str
    staff_id: str | None
    created_login: bool
    changed: bool
    message: str
    password: str | None = None


# --- URLs and connections -------------------------------------------------------------------------


def redact(url: str) -> str:
    """The URL with its password (if any) shown as ``***``."""
    return re.sub(r"^([a-z]+://[^:@/?#]*:)[^@/?#]*@", r"\1***@", url, flags=re.IGNORECASE)


def _password_of(url: str) -> str | None:
    found = re.match(r"^[a-z]+://[^:@/?#]*:([^@/?#]*)@", url, flags=re.IGNORECASE)
    query = re.search(r"[?&]password=([^&#]*)", url)
    return (found.group(1) if found else None) or (query.group(1) if query else None)


def _scrub(text: str, url: str) -> str:
    """``text`` on one line, with the URL and its password (as typed or decoded) hidden."""
    text = " ".join(text.split())
    text = text.replace(url, redact(url))
    password = _password_of(url)
    if password:
        for form in {password, unquote(password)}:
            if form:
                text = text.replace(form, "***")
    return text


def check_url(url: str) -> str:
    """The URL, stripped, if it looks like a PostgreSQL URL; otherwise a ValidationError."""
    url = (url or "").strip()
    if not url.lower().startswith(_URL_SCHEMES):
        shown = redact(url) if url else "an empty text"
        raise ValidationError(
            f"the hub URL must look like postgresql://LOGIN@HOST:PORT/DATABASE, not {shown}", field="url"
        )
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error as error:
        raise ValidationError(
            f"the hub URL {redact(url)} is not valid: {_scrub(str(error), url)}", field="url"
        ) from None
    return url


def _message(error: psycopg.Error, url: str) -> str:
    diag = getattr(error, "diag", None)
    primary = diag.message_primary if diag is not None else None
    return _scrub(primary or str(error) or type(error).__name__, url)


@contextmanager
def connect(url: str) -> Iterator[psycopg.Connection]:
    """A connection to the hub (autocommit: open a transaction with ``conn.transaction()``), closed
    after; every psycopg error on the way becomes a one-line HubError or NotAllowed."""
    url = check_url(url)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT)
    except psycopg.Error as error:
        raise HubError(f"cannot connect to the hub at {redact(url)}: {_message(error, url)}") from None
    try:
        yield conn
    except psycopg.errors.InsufficientPrivilege as error:
        raise NotAllowed(
            f"the hub at {redact(url)} refused: {_message(error, url)} (connect as the hub's admin: "
            "a login that owns the hub's database and may create roles)"
        ) from None
    except psycopg.Error as error:
        raise HubError(f"the hub at {redact(url)} refused: {_message(error, url)}") from None
    finally:
        conn.close()


def _require_set_up(conn: psycopg.Connection, url: str) -> None:
    applied = hub_schema.applied_migrations(conn)
    if not applied:
        raise HubError(f"the hub at {redact(url)} is not set up yet: run spo-tui hub init first")
    if hub_schema.LATEST not in applied:
        raise HubError(f"the hub at {redact(url)} needs its schema brought up to date: run spo-tui hub init")


# --- Operations -----------------------------------------------------------------------------------


def init(url: str) -> list[str]:
    """Set the hub up, or bring its schema up to date: the names of the migrations applied ([] when
    it already was)."""
    with connect(url) as conn:
        return hub_schema.init_hub(conn)


def add_user(url: str, name: str, role: str, team: str | None = None, login: str | None = None) -> AddedUser:
    """Make ``name`` a person of the hub, logging in as ``login`` (by default made from the name:
    "Sam Spo" logs in as ``sam_spo``).

    A new login gets a random password, returned once in ``password``; an existing PostgreSQL login
    is mapped as it is. The person's staff id is taken from the record when a staff member of that
    name is already in it; otherwise it is claimed when they first sync. Adding the same person
    again changes nothing and says so.
    """
    name, role, team, login = _validated(name, role, team, login)
    with connect(url) as conn, conn.transaction():
        _require_set_up(conn, url)
        found = conn.execute("SELECT name, role, team, staff_id FROM spo.people WHERE login = %s", (login,)).fetchone()
        if found is not None:
            same = (found[0], found[1], found[2]) == (name, role, team)
            if same:
                return AddedUser(
                    login=login,
                    name=name,
                    role=role,
                    team=team,
                    staff_id=found[3],
                    created_login=False,
                    changed=False,
                    message=f"{name} is already a person of this hub ({_described(role, team)}, login {login}): "
                    "nothing changed",
                )
            raise ValidationError(
                f"login {login} is already {found[0]}'s ({_described(found[1], found[2])}) at this hub: "
                "nothing changed; choose another login with --login",
                field="login",
            )
        other = conn.execute("SELECT login, role, team FROM spo.people WHERE name = %s", (name,)).fetchone()
        if other is not None:
            raise ValidationError(
                f"{name} is already a person of this hub ({_described(other[1], other[2])}, login {other[0]}): "
                "nothing changed",
                field="name",
            )
        existing = conn.execute("SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = %s", (login,)).fetchone()
        password = None
        if existing is None:
            password = _new_password()
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(login), sql.Literal(scram_verifier(password))
                )
            )
        elif not existing[0]:
            raise ValidationError(
                f"{login} is a PostgreSQL role that cannot log in: choose another login with --login", field="login"
            )
        conn.execute(sql.SQL("GRANT spo_member TO {}").format(sql.Identifier(login)))
        if team:
            conn.execute("INSERT INTO spo.teams (name) VALUES (%s) ON CONFLICT DO NOTHING", (team,))
        staff_id = _recorded_staff_id(conn, name)
        conn.execute(
            "INSERT INTO spo.people (login, staff_id, name, role, team) VALUES (%s, %s, %s, %s, %s)",
            (login, staff_id, name, role, team),
        )
    how = "a new login" if password else "the existing login"
    known = f"staff id {staff_id} from the record" if staff_id else "their staff id is filled in when they first sync"
    return AddedUser(
        login=login,
        name=name,
        role=role,
        team=team,
        staff_id=staff_id,
        created_login=password is not None,
        changed=True,
        message=f"Added {name} ({_described(role, team)}) to the hub as {how} {login}; {known}",
        password=password,
    )


def list_people(url: str) -> list[dict[str, Any]]:
    """Every person of the hub, by team then name: login, staff_id, name, role, team, active, added_at."""
    with connect(url) as conn:
        _require_set_up(conn, url)
        cur = conn.execute(
            "SELECT login, staff_id, name, role, team, active, added_at FROM spo.people ORDER BY team, name, login"
        )
        columns = [c.name for c in cur.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


# --- Validation and the pieces ---------------------------------------------------------------------


def _validated(name: str, role: str, team: str | None, login: str | None) -> tuple[str, str, str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("a name is needed", field="name")
    if len(name) > 100 or _has_control(name):
        raise ValidationError("a name is at most 100 characters, with no control characters", field="name")
    roles = {r.lower(): r for r in hub_schema.ROLES}
    canonical = roles.get(" ".join((role or "").split()).lower())
    if canonical is None:
        raise ValidationError(f"the role must be one of: {', '.join(hub_schema.ROLES)} (not {role!r})", field="role")
    team = " ".join((team or "").split())
    if not team and canonical not in PDU_WIDE_ROLES:
        raise ValidationError(
            f"{name} ({canonical}) needs a team (--team): only a {', '.join(PDU_WIDE_ROLES[:-1])} or "
            f"{PDU_WIDE_ROLES[-1]} belongs to the whole PDU",
            field="team",
        )
    if len(team) > 100 or _has_control(team):
        raise ValidationError("a team's name is at most 100 characters, with no control characters", field="team")
    return name, canonical, team, _checked_login(login) if login is not None else login_from_name(name)


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("C") for ch in text)


def _checked_login(login: str) -> str:
    login = login.strip()
    if not login or len(login.encode()) > _MAX_LOGIN_BYTES or _has_control(login):
        raise ValidationError(
            f"a login is 1 to {_MAX_LOGIN_BYTES} bytes long, with no control characters", field="login"
        )
    if login.lower().startswith("pg_") or login.lower() in ("spo_member", "public", "none"):
        raise ValidationError(f"{login} is reserved: choose another login", field="login")
    return login


def login_from_name(name: str) -> str:
    """A PostgreSQL login made from a person's name: "Sam Spo" -> ``sam_spo``, "Zoë O'Neil" -> ``zoe_o_neil``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    login = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")
    if login[:1].isdigit():
        login = f"u_{login}"
    login = login[:_MAX_LOGIN_BYTES].rstrip("_")
    if not login:
        raise ValidationError(f"cannot make a login from the name {name!r}: give one with --login", field="login")
    return _checked_login(login)


def _described(role: str, team: str) -> str:
    return f"{role}, team {team}" if team else f"{role}, the whole PDU"


def _recorded_staff_id(conn: psycopg.Connection, name: str) -> str | None:
    """The id of the staff member of this name in the record, unless another person has it."""
    row = conn.execute(
        """SELECT c.pk FROM spo.changes c
           WHERE c.tbl = 'staff' AND c.op = 'insert' AND c.data ->> 'name' = %s
             AND NOT EXISTS (SELECT FROM spo.people p WHERE p.staff_id = c.pk)
           ORDER BY c.seq DESC LIMIT 1""",
        (name,),
    ).fetchone()
    return str(row[0]) if row else None


def _new_password() -> str:
    """A random password, 32 characters safe in a URL (192 bits)."""
    return secrets.token_urlsafe(24)


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677), made here so
    that the password itself never reaches the server (nor its logs)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
