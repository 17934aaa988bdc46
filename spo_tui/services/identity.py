"""Who is acting: the operating-system user, and the staff members the store links to them.

On one machine you are who you logged in to it as (``spo_tui.config.current_os_user``). The store
links OS users to staff members (``staff_links``); ``--as NAME`` may only choose among the staff
linked to you, and with one link that person is who you are. An SPO makes and removes links
(``spo-tui staff link NAME --os-user USER``); every link and unlink is audited.

Set-up: a store in which nobody is linked yet (a new store after its first staff import, or one made
before links existed) links the first OS user who opens it to its SPO, and only to an SPO, and says
so once. From then on an OS user nobody has linked is refused with one line saying how to be linked.

``who_is_acting`` is the one place this is decided; the CLI and the app call it and nothing else.
With a hub (``spo_tui.services.sync``) you are who you logged in to PostgreSQL as, and ``--as``
no longer applies: the hub's list of people, not this store's links, says who that is.

What this protects against, and what not: it stops ``--as`` from making anyone the SPO, and it
records the OS user on every audit row. Anyone who can write the database file with other tools can
still change it (``spo-tui verify`` and the chain are what notice that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from spo_tui.domain.dates import to_iso, utc_now
from spo_tui.domain.errors import NotAllowed, NotFound, ValidationError
from spo_tui.domain.vocab import Role
from spo_tui.services.base import ActionResult, audit
from spo_tui.services.context import Context
from spo_tui.services.sync import hub_person
from spo_tui.store import links, queries, writes
from spo_tui.store.db import SpoDatabase

#: The longest OS user name accepted by ``staff link`` (Windows allows 20, Linux 32; domains more).
MAX_OS_USER = 256


@dataclass(frozen=True)
class Acting:
    """The answer to "who is acting": the OS user, the staff member, and whom else they may act as."""

    os_user: str
    staff: dict[str, Any]
    #: Every staff member this OS user may act as (with ``--as``), SPOs first.
    linked: tuple[dict[str, Any], ...]
    #: Said once, when this call linked the OS user to the store's SPO at set-up; else None.
    notice: str | None = None


def how_to_link(os_user: str) -> str:
    return f'ask your SPO to run: spo-tui staff link "YOUR NAME" --os-user {os_user}'


def who_is_acting(
    db: SpoDatabase,
    os_user: str,
    requested_name: str | None = None,
    *,
    remembered: str | None = None,
    at: str | None = None,
) -> Acting:
    """Who ``os_user`` acts as on this store: ``requested_name`` (``--as``) if they are linked to that
    person, else ``remembered`` (their last ``--as``) if still linked, else their only link, else the
    SPO among their links. Raises NotAllowed, in one line saying what to do, for an OS user nobody
    has linked, a ``requested_name`` not linked to them, or several links and no way to choose.

    A store with staff and no links at all links ``os_user`` to its SPO first (see the module's
    docstring); ``Acting.notice`` then says so. A read-only store cannot be linked: there they act as
    the SPO, and nothing can be saved anyway. ``at`` is the time the set-up link is made (default now).
    """
    db.os_user = os_user  # an audit row written now (the set-up link) carries it
    person = hub_person(db)
    if person is not None:  # with a hub, you are who you logged in to it as
        if requested_name and requested_name.strip().casefold() != person["name"].casefold():
            raise NotAllowed(
                f"this store is connected to a hub, where you are {person['name']}: --as does not apply "
                "(log in to the hub as the other person on their own device)"
            )
        return Acting(os_user, person, (person,))
    linked = links.linked_staff(db, os_user)
    notice = None
    if not linked and not links.any_links(db):
        spo = _the_spo(db)
        if getattr(db, "read_only", False):
            linked = [spo]
        else:  # None if another process linked someone first: then this OS user is not linked
            notice = link_at_set_up(db, os_user, spo, at=at)
            linked = links.linked_staff(db, os_user)
    if not linked:
        raise NotAllowed(f"you ({os_user}) are not linked to any staff member in this database: {how_to_link(os_user)}")
    if requested_name:
        wanted = queries.find_staff(db, requested_name)
        if wanted is None:
            raise NotFound(f"no staff member called '{requested_name.strip()}'")
        match = next((s for s in linked if s["id"] == wanted["id"]), None)
        if match is None:
            raise NotAllowed(
                f"you ({os_user}) may act as {_names(linked)}, not as {wanted['name']}: an SPO links people with "
                f"spo-tui staff link NAME --os-user USER"
            )
        return Acting(os_user, match, tuple(linked), notice)
    chosen = next((s for s in linked if remembered and s["name"].casefold() == remembered.strip().casefold()), None)
    if chosen is None and len(linked) == 1:
        chosen = linked[0]
    if chosen is None:
        chosen = next((s for s in linked if s["role"] == Role.SPO.value), None)
    if chosen is None:
        raise NotAllowed(f"you ({os_user}) may act as {_names(linked)}: choose one with --as NAME")
    return Acting(os_user, chosen, tuple(linked), notice)


def _names(staff: list[dict[str, Any]]) -> str:
    names = [f"{s['name']} ({s['role']})" for s in staff]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _the_spo(db: Database) -> dict[str, Any]:
    spos = queries.staff_list(db, (Role.SPO.value,))
    if not spos:
        raise NotFound("there is no SPO in this database yet: import staff with an SPO, or create the demo")
    return spos[0]


def link_at_set_up(
    db: SpoDatabase, os_user: str, spo: dict[str, Any] | None = None, *, at: str | None = None
) -> str | None:
    """Link ``os_user`` to the store's SPO if nobody is linked to anyone yet; return what to tell them.

    Only ever to an SPO: set-up makes the person who set the store up its SPO, who then links the
    others (and, if that was not them, the real SPO) with ``spo-tui staff link``. Audited. Returns
    None, writing nothing, when the store already has links or has no SPO.
    """
    db.os_user = os_user
    at = at or to_iso(utc_now())
    with db.atomic():
        if links.any_links(db):
            return None
        spos = queries.staff_list(db, (Role.SPO.value,))
        if spo is None:
            if not spos:
                return None
            spo = spos[0]
        if spo["role"] != Role.SPO.value:  # pragma: no cover - callers pass an SPO
            raise NotAllowed(f"set-up links you only to an SPO; {spo['name']} is {spo['role']}")
        links.insert_links(db, os_user, [spo["id"]], None, at)
        writes.audit(
            db,
            at=at,
            actor_id=None,
            action="link_os_user",
            entity="staff",
            entity_id=spo["id"],
            new={"os_user": os_user, "staff": spo["name"], "role": spo["role"], "how": "set-up"},
        )
    return (
        f"Nobody was linked to this database yet, so you ({os_user}) are now linked to {spo['name']} (SPO) and act "
        f"as them. Link each colleague's computer login to their name with: spo-tui staff link NAME --os-user USER"
    )


def link_everyone(db: SpoDatabase, os_user: str, at: str) -> int:
    """Link ``os_user`` to every member of staff: the demo's way of letting a newcomer try each role.
    Never used on a real store. Call inside ``db.atomic()``; audited. Returns how many were linked."""
    db.os_user = os_user
    ids = [r[0] for r in db.execute("SELECT id FROM staff ORDER BY name")]
    links.insert_links(db, os_user, ids, None, at)
    writes.audit(
        db,
        at=at,
        actor_id=None,
        action="link_os_user",
        entity="staff",
        entity_id=None,
        new={"os_user": os_user, "staff": len(ids), "how": "demo: every member of staff"},
    )
    return len(ids)


def _os_user_name(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError("give the computer login to link with --os-user USER", field="os_user")
    if len(text) > MAX_OS_USER or not text.isprintable():
        raise ValidationError(
            "that is not a computer login name (too long, or it holds control characters)", field="os_user"
        )
    return text


def _staff(ctx: Context, name: str) -> dict[str, Any]:
    found = queries.find_staff(ctx.db, name or "")
    if found is None:
        raise NotFound(f"no staff member called '{(name or '').strip()}'")
    return found


def link(ctx: Context, name: str, os_user: str) -> ActionResult:
    """Let ``os_user`` act as the staff member ``name`` (an SPO only). Audited."""
    ctx.require("link_staff")
    os_user = _os_user_name(os_user)
    staff = _staff(ctx, name)
    if not staff["active"]:
        raise NotAllowed(f"{staff['name']} is no longer active: nobody can act as them")
    if links.is_linked(ctx.db, os_user, staff["id"]):
        return ActionResult(f"{os_user} is already linked to {staff['name']} ({staff['role']}): nothing changed")
    with ctx.db.atomic():
        links.insert_links(ctx.db, os_user, [staff["id"]], ctx.actor["id"], ctx.now_iso)
        audit_id = audit(
            ctx,
            "link_os_user",
            "staff",
            staff["id"],
            new={"os_user": os_user, "staff": staff["name"], "role": staff["role"]},
        )
    return ActionResult(f"{os_user} may now act as {staff['name']} ({staff['role']})", audit_id=audit_id)


def unlink(ctx: Context, name: str, os_user: str) -> ActionResult:
    """Stop ``os_user`` acting as ``name`` (an SPO only). Refused if no login would be left linked
    to an SPO: then nobody could link anyone again. Audited."""
    ctx.require("link_staff")
    os_user = _os_user_name(os_user)
    staff = _staff(ctx, name)
    if not links.is_linked(ctx.db, os_user, staff["id"]):
        raise NotFound(f"{os_user} is not linked to {staff['name']}")
    if staff["role"] == Role.SPO.value and links.spo_links_without(ctx.db, os_user, staff["id"]) == 0:
        raise NotAllowed(
            f"{os_user} is the only login linked to an SPO: link another first, or nobody could link anyone"
        )
    with ctx.db.atomic():
        links.delete_link(ctx.db, os_user, staff["id"])
        audit_id = audit(
            ctx,
            "unlink_os_user",
            "staff",
            staff["id"],
            old={"os_user": os_user, "staff": staff["name"], "role": staff["role"]},
        )
    return ActionResult(f"{os_user} may no longer act as {staff['name']}", audit_id=audit_id)


def all_links(ctx: Context) -> list[dict[str, Any]]:
    """Every link (SPO or CASPO), for ``spo-tui staff links``."""
    ctx.require("maintain")
    return links.all_links(ctx.db)
