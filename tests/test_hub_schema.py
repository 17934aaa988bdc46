"""The team hub on a real PostgreSQL server (tests/pg_server.py): what its people, and anyone trying to
get round it, would notice. Members push with plain INSERTs through psycopg, as any client could."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from spo_tui.cli import main
from spo_tui.domain.chain import canonical, key_fingerprint
from spo_tui.domain.errors import SpoError, ValidationError
from spo_tui.domain.vocab import PRACTITIONER_ROLES, Role
from spo_tui.services import hub_admin
from spo_tui.store import hub_schema

ZERO = "0" * 64


def new_key() -> tuple[str, str]:
    """(key_id, public key hex) of a new Ed25519 device key."""
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )
    return key_fingerprint(raw), raw


@dataclass
class Member:
    """A person of the hub, connected as their own login, with a registered device."""

    login: str
    password: str
    staff_id: str
    team: str
    conn: psycopg.Connection
    key_id: str
    public_key: str
    device_seq: int = 0
    head: str = ZERO
    pushed: list[dict[str, Any]] = field(default_factory=list)

    def change(self, **overrides: Any) -> dict[str, Any]:
        """The next change of this device's chain (not yet pushed), a staff row by default."""
        content: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "hlc": f"{time.time_ns():020d}-0000-{self.key_id[:8]}",
            "actor": self.staff_id,
            "team": self.team,
            "tbl": "cases",
            "pk": "X123456",
            "op": "update",
            "data": {"name": "A Person"},
            "tx": str(uuid.uuid4()),
            "seen": "",
        }
        device_seq = overrides.pop("device_seq", self.device_seq + 1)
        prev = overrides.pop("prev", self.head)
        device = overrides.pop("device", self.key_id)
        content.update(overrides)
        digest = hashlib.sha256(f"{prev}\n{device_seq}\n{canonical(content)}".encode()).hexdigest()
        return {**content, "device": device, "device_seq": device_seq, "prev": prev, "hash": digest}

    def push(self, change: dict[str, Any], conn: psycopg.Connection | None = None) -> tuple[int, str]:
        """INSERT the change as this login: its (seq, login) at the hub. Moves the chain on."""
        row = push(conn or self.conn, change)
        self.device_seq, self.head = change["device_seq"], change["hash"]
        self.pushed.append(change)
        return row


def push(conn: psycopg.Connection, change: dict[str, Any], **extra: Any) -> tuple[int, str]:
    values = {**change, "data": json.dumps(change["data"]), **extra}
    columns = list(values)
    query = f"INSERT INTO spo.changes ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) RETURNING seq, login"
    got = conn.execute(query, [values[c] for c in columns]).fetchone()
    assert got is not None
    return int(got[0]), str(got[1])


@pytest.fixture
def hub_up(hub):
    """The test's hub database, set up."""
    assert hub_admin.init(hub.admin_url) == ["0001_hub"]
    return hub


def member(hub, name: str, role: str, team: str | None, *, admin_url: str | None = None) -> Member:
    """Add ``name`` to the hub (as its superuser, or the admin of ``admin_url``), connect as them,
    claim a staff id and register a device."""
    added = hub_admin.add_user(admin_url or hub.admin_url, name, role, team, login=hub.login(name.split()[0].lower()))
    assert added.password
    conn = hub.connect(hub.login_url(added.login, added.password))
    staff_id = str(uuid.uuid4())
    assert conn.execute("SELECT spo.claim_staff_id(%s)", (staff_id,)).fetchone() == (True,)
    key_id, public = new_key()
    assert conn.execute("SELECT spo.register_device(%s, %s, %s)", (key_id, public, "laptop")).fetchone() == (True,)
    return Member(added.login, added.password, staff_id, added.team, conn, key_id, public)


def refused(excinfo: pytest.ExceptionInfo[psycopg.Error]) -> str:
    message = excinfo.value.diag.message_primary or ""
    return message


# --- Setting the hub up ---------------------------------------------------------------------------


def test_init_twice_applies_nothing_the_second_time(hub, capsys):
    assert main(["hub", "init", hub.admin_url]) == 0
    first = capsys.readouterr().out
    assert "applied 0001_hub" in first
    assert hub.cluster.password not in first  # the URL is shown without its password
    assert main(["hub", "init", hub.admin_url]) == 0
    assert "up to date: nothing to apply" in capsys.readouterr().out
    admin = hub.connect()
    assert [r[0] for r in admin.execute("SELECT name FROM spo.migrations")] == ["0001_hub"]
    assert admin.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'spo_member'").fetchone() == (False,)


def test_two_admins_running_init_at_once_apply_it_once(hub):
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(hub_admin.init(hub.admin_url))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(results) == [[], ["0001_hub"]]


def test_the_roles_are_the_record_s_roles():
    assert tuple(r.value for r in Role) == hub_schema.ROLES
    assert set(hub_schema.PRACTITIONER_ROLES) == {r.value for r in PRACTITIONER_ROLES}


# --- People ---------------------------------------------------------------------------------------


def test_add_user_makes_a_login_that_connects_and_knows_who_it_is(hub_up, capsys):
    assert main(["hub", "add-user", "Sam Spo", "--role", "SPO", "--team", "North", "--hub", hub_up.admin_url]) == 0
    out = capsys.readouterr().out
    assert "Added Sam Spo (SPO, team North) to the hub as a new login sam_spo" in out
    password = out.split("privately): ")[1].strip()
    assert len(password) >= 32
    conn = hub_up.connect(hub_up.login_url("sam_spo", password))
    me = conn.execute("SELECT login, name, role, team, staff_id, active FROM spo.me()").fetchone()
    assert me == ("sam_spo", "Sam Spo", "SPO", "North", None, True)
    # The password never reached the server: what it keeps is a SCRAM verifier.
    admin = hub_up.connect()
    stored = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'sam_spo'").fetchone()
    assert stored is not None and stored[0].startswith("SCRAM-SHA-256$") and password not in stored[0]
    # Adding the same person again changes nothing, and says so.
    assert main(["hub", "add-user", "Sam Spo", "--role", "SPO", "--team", "North", "--hub", hub_up.admin_url]) == 0
    again = capsys.readouterr().out
    assert "already a person of this hub" in again and "nothing changed" in again and "Password" not in again
    assert admin.execute("SELECT count(*) FROM spo.people").fetchone() == (1,)


def test_add_user_maps_an_existing_login_and_takes_the_staff_id_from_the_record(hub_up, monkeypatch, capsys):
    spo = member(hub_up, "Sam Spo", "SPO", "North")
    bea_id = str(uuid.uuid4())
    spo.push(spo.change(tbl="staff", pk=bea_id, op="insert", team="", data={"id": bea_id, "name": "Bea Manager"}))
    admin = hub_up.connect()
    login = hub_up.login("bea")
    admin.execute(f"CREATE ROLE {login} LOGIN PASSWORD 'her-own'")
    monkeypatch.setenv("SPO_TUI_HUB", hub_up.admin_url)
    assert main(["hub", "add-user", "Bea Manager", "--role", "business manager", "--login", login]) == 0
    out = capsys.readouterr().out
    assert f"as the existing login {login}; staff id {bea_id} from the record" in out
    assert "Password" not in out
    conn = hub_up.connect(hub_up.login_url(login, "her-own"))
    assert conn.execute("SELECT staff_id, team FROM spo.me()").fetchone() == (bea_id, "")
    assert main(["hub", "people"]) == 0
    listed = capsys.readouterr().out
    assert "Bea Manager" in listed and "(whole PDU)" in listed and "Sam Spo" in listed


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["Pat Officer", "--role", "Probation"], "the role must be one of: SPO, PO, PSO, PQiP, NQO, CASPO, SAO"),
        (["Pat Officer", "--role", "PO"], "needs a team (--team)"),
        (["  ", "--role", "PO", "--team", "North"], "a name is needed"),
        (["Pat Officer", "--role", "PO", "--team", "North", "--login", "pg_pat"], "reserved"),
    ],
)
def test_add_user_refuses_bad_input_in_one_line(hub_up, capsys, args, says):
    assert main(["hub", "add-user", *args, "--hub", hub_up.admin_url]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_no_hub_url_says_how_to_give_one(monkeypatch, capsys):
    monkeypatch.delenv("SPO_TUI_HUB", raising=False)
    assert main(["hub", "people"]) == 2
    assert "give the hub's URL with --hub URL, or set SPO_TUI_HUB" in capsys.readouterr().err


def test_a_wrong_password_or_an_unset_hub_is_one_line_without_the_password(hub, capsys):
    bad = hub.login_url("postgres", "not-the-password-xyz")
    assert main(["hub", "people", "--hub", bad]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to the hub" in err and "not-the-password-xyz" not in err and "***" in err
    with pytest.raises(SpoError, match="not set up yet: run spo-tui hub init"):
        hub_admin.list_people(hub.admin_url)


def test_an_admin_who_may_not_create_logins_is_told_so(hub_up):
    admin = hub_up.connect()
    weak = hub_up.login("weak")
    admin.execute(f"CREATE ROLE {weak} LOGIN PASSWORD 'pw'")
    admin.execute(f"GRANT SELECT, INSERT ON spo.people, spo.teams TO {weak}")
    admin.execute(f"GRANT SELECT ON spo.migrations, spo.changes TO {weak}; GRANT USAGE ON SCHEMA spo TO {weak}")
    with pytest.raises(SpoError) as excinfo:
        hub_admin.add_user(hub_up.login_url(weak, "pw"), "Pat Officer", "PO", "North")
    message = str(excinfo.value)
    assert "permission denied to create role" in message and "\n" not in message and ":pw@" not in message


def test_login_names_from_names():
    assert hub_admin.login_from_name("Sam Spo") == "sam_spo"
    assert hub_admin.login_from_name("Zoë O'Neil-Smith") == "zoe_o_neil_smith"
    with pytest.raises(ValidationError, match="give one with --login"):
        hub_admin.login_from_name("李")


# --- Pushing changes ------------------------------------------------------------------------------


def test_a_well_formed_change_is_taken_and_the_hub_numbers_and_signs_it_in(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    change = sam.change()
    seq, login = push(sam.conn, change, login="someone_else", seq=999)  # what the client says is ignored
    sam.device_seq, sam.head = change["device_seq"], change["hash"]
    assert login == sam.login and seq != 999
    seq2, _ = sam.push(sam.change())
    assert seq2 > seq
    row = sam.conn.execute("SELECT login, received_at IS NOT NULL, data FROM spo.changes WHERE seq = %s", (seq,))
    assert row.fetchone() == (sam.login, True, {"name": "A Person"})
    heads = sam.conn.execute("SELECT device, device_seq, hash FROM spo.device_heads").fetchall()
    assert heads == [(sam.key_id, 2, sam.head)]
    # A checkpoint: stamped with who pushed it.
    sam.conn.execute(
        "INSERT INTO spo.checkpoints (device, device_seq, hash, signature, login) VALUES (%s, 2, %s, 'ab', 'x')",
        (sam.key_id, sam.head),
    )
    assert sam.conn.execute("SELECT login FROM spo.checkpoints").fetchall() == [(sam.login,)]


def test_the_same_change_twice_is_refused(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    change = sam.change()
    sam.push(change)
    with pytest.raises(psycopg.errors.UniqueViolation) as excinfo:
        push(sam.conn, sam.change(id=change["id"]))  # the same id, even carrying the chain on
    assert refused(excinfo) == f"refused: change {change['id']} is already at the hub"
    with pytest.raises(psycopg.Error, match="refused:"):
        push(sam.conn, change)  # replayed as it was
    assert sam.conn.execute("SELECT count(*) FROM spo.changes").fetchone() == (1,)


def test_a_change_in_another_person_s_name_is_refused(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    pat = member(hub_up, "Pat Officer", "PO", "North")
    change = pat.change(actor=sam.staff_id)
    with pytest.raises(psycopg.Error) as excinfo:
        pat.push(change)
    assert refused(excinfo).startswith(f"refused: change {change['id']} is made in another person's name")


def test_a_change_for_another_team_is_refused(hub_up):
    cas = member(hub_up, "Cas Admin", "CASPO", "South")
    with pytest.raises(psycopg.Error) as excinfo:
        cas.push(cas.change(team="North"))
    assert refused(excinfo).startswith("refused:") and 'belongs to team "North"' in refused(excinfo)
    cas.push(cas.change(team=""))  # shared rows (staff) are every team's
    head = member(hub_up, "Hal Head", "PDU head", None)
    head.push(head.change(team="North"))  # a PDU head writes for every team


def test_a_device_registered_to_someone_else_is_refused(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    pat = member(hub_up, "Pat Officer", "PO", "North")
    with pytest.raises(psycopg.Error) as excinfo:
        pat.push(pat.change(device=sam.key_id))
    assert refused(excinfo) == f"refused: device {sam.key_id} is not registered to {pat.login}"
    with pytest.raises(psycopg.Error) as excinfo:
        pat.conn.execute("SELECT spo.register_device(%s, %s, 'mine now')", (sam.key_id, sam.public_key))
    assert refused(excinfo) == f"refused: device {sam.key_id} is registered to another person"
    # Registering one's own key again is fine, and changes nothing.
    assert sam.conn.execute("SELECT spo.register_device(%s, %s, 'x')", (sam.key_id, sam.public_key)).fetchone() == (
        False,
    )
    # A key id that is not the key's fingerprint is refused.
    other_id, _ = new_key()
    with pytest.raises(psycopg.Error, match="is not the fingerprint of that public key"):
        pat.conn.execute("SELECT spo.register_device(%s, %s, '')", (other_id, pat.public_key))


def test_out_of_order_or_a_wrong_prev_is_refused(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    first = sam.change()
    sam.push(first)
    skipped = sam.change(device_seq=3)
    with pytest.raises(psycopg.Error) as excinfo:
        sam.push(skipped)
    assert refused(excinfo).startswith(f"refused: change {skipped['id']} is out of order")
    assert "next change is number 2" in refused(excinfo)
    with pytest.raises(psycopg.Error, match="out of order"):
        sam.push(sam.change(prev="f" * 64))
    with pytest.raises(psycopg.Error, match="out of order"):
        sam.push(sam.change(device_seq=1, prev=ZERO))  # starting the chain again
    sam.push(sam.change())  # the right next one is still taken


def test_a_practitioner_may_not_record_a_decision(hub_up):
    pat = member(hub_up, "Pat Officer", "PO", "North")
    entry = {"id": str(uuid.uuid4()), "decided_by": pat.staff_id, "entered_by": pat.staff_id, "decision": "x"}
    change = pat.change(tbl="oversight_entries", pk=entry["id"], op="insert", data=entry)
    with pytest.raises(psycopg.Error) as excinfo:
        pat.push(change)
    assert refused(excinfo).startswith(f"refused: change {change['id']} on oversight_entries: a PO may not write")
    with pytest.raises(psycopg.Error, match="may only answer a request for information on an SBAR"):
        pat.push(pat.change(tbl="sbars", pk="i1", op="update", data={"state": "decided"}))
    with pytest.raises(psycopg.Error, match="may not set an item closed"):
        pat.push(pat.change(tbl="items", pk="i1", op="update", data={"status": "closed"}))
    pat.push(pat.change(tbl="sbars", pk="i1", op="update", data={"info_answer": "seen him today"}))
    pat.push(pat.change(tbl="sbars", pk="i2", op="insert", data={"item_id": "i2", "state": "raised"}))


def test_a_caspo_enters_oversight_in_their_own_name_only(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    cas = member(hub_up, "Cas Admin", "CASPO", "North")
    entry = {"id": str(uuid.uuid4()), "decided_by": sam.staff_id, "entered_by": sam.staff_id}
    with pytest.raises(psycopg.Error, match="entered_by must be their own staff id"):
        cas.push(cas.change(tbl="oversight_entries", pk=entry["id"], op="insert", data=entry))
    entry["entered_by"] = cas.staff_id
    cas.push(cas.change(tbl="oversight_entries", pk=entry["id"], op="insert", data=entry))
    assert cas.conn.execute("SELECT spo.refusal('PO', 'oversight_entries', 'insert', '{}')").fetchone()[0]
    assert cas.conn.execute("SELECT spo.refusal('SPO', 'oversight_entries', 'insert', '{}')").fetchone() == (None,)


def test_someone_who_is_no_longer_active_cannot_push(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    hub_up.connect().execute("UPDATE spo.people SET active = false WHERE login = %s", (sam.login,))
    with pytest.raises(psycopg.Error) as excinfo:
        sam.push(sam.change())
    assert refused(excinfo) == f"refused: {sam.login} is not a person of this hub"


def test_a_staff_id_cannot_be_claimed_twice_or_for_someone_else(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    added = hub_admin.add_user(hub_up.admin_url, "Pat Officer", "PO", "North", login=hub_up.login("pat"))
    assert added.password
    pat = hub_up.connect(hub_up.login_url(added.login, added.password))
    with pytest.raises(psycopg.Error, match="already claimed by another person"):
        pat.execute("SELECT spo.claim_staff_id(%s)", (sam.staff_id,))
    cas_id = str(uuid.uuid4())
    sam.push(sam.change(tbl="staff", pk=cas_id, op="insert", team="", data={"id": cas_id, "name": "Cas Admin"}))
    with pytest.raises(psycopg.Error, match="is Cas Admin's in the record, not Pat Officer's"):
        pat.execute("SELECT spo.claim_staff_id(%s)", (cas_id,))
    with pytest.raises(psycopg.Error, match="already has staff id"):
        sam.conn.execute("SELECT spo.claim_staff_id(%s)", (cas_id,))


# --- Reading --------------------------------------------------------------------------------------


def test_a_team_reads_its_own_changes_and_the_pdu_head_reads_all(hub_up):
    north = member(hub_up, "Sam Spo", "SPO", "North")
    south = member(hub_up, "Cas Admin", "CASPO", "South")
    head = member(hub_up, "Hal Head", "PDU head", None)
    north_seqs = {north.push(north.change())[0] for _ in range(3)}
    shared, _ = north.push(north.change(team="", tbl="staff", op="insert", data={"name": "New Person"}))
    south_seq, _ = south.push(south.change())

    def seen(who: Member) -> set[int]:
        return {r[0] for r in who.conn.execute("SELECT seq FROM spo.changes")}

    assert seen(south) == {shared, south_seq}  # none of North's own rows
    assert seen(north) == north_seqs | {shared}
    assert seen(head) == north_seqs | {shared, south_seq}
    # Every member sees every device's head (numbers and hashes, no case data).
    assert {r[0] for r in south.conn.execute("SELECT device FROM spo.device_heads")} == {north.key_id, south.key_id}


def test_a_login_that_is_not_a_person_reads_and_writes_nothing(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    sam.push(sam.change())
    admin = hub_up.connect()
    stray = hub_up.login("stray")
    admin.execute(f"CREATE ROLE {stray} LOGIN PASSWORD 'pw'; GRANT spo_member TO {stray}")
    conn = hub_up.connect(hub_up.login_url(stray, "pw"))
    assert conn.execute("SELECT count(*) FROM spo.changes").fetchone() == (0,)
    assert conn.execute("SELECT * FROM spo.me()").fetchall() == []
    with pytest.raises(psycopg.Error, match=f"refused: {stray} is not a person of this hub"):
        push(conn, sam.change())


# --- Insert-only ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["UPDATE spo.changes SET team = 'South'", "DELETE FROM spo.changes", "TRUNCATE spo.changes"],
)
def test_the_record_is_insert_only_for_members_and_the_owner(hub_up, statement):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    sam.push(sam.change())
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sam.conn.execute(statement)
    admin = hub_up.connect()
    with pytest.raises(psycopg.Error, match="the hub's record is insert-only"):
        admin.execute(statement)
    assert admin.execute("SELECT count(*), min(team) FROM spo.changes").fetchone() == (1, "North")


def test_devices_and_checkpoints_are_insert_only_too(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    sam.push(sam.change())
    sam.conn.execute(
        "INSERT INTO spo.checkpoints (device, device_seq, hash, signature) VALUES (%s, 1, %s, 'ab')",
        (sam.key_id, sam.head),
    )
    admin = hub_up.connect()
    with pytest.raises(psycopg.Error, match="the hub's record is insert-only"):
        admin.execute("UPDATE spo.devices SET login = 'someone'")
    with pytest.raises(psycopg.Error, match="the hub's record is insert-only"):
        admin.execute("DELETE FROM spo.checkpoints")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sam.conn.execute("INSERT INTO spo.devices (key_id, public_key, login) VALUES (%s, %s, %s)", (*new_key(), "x"))


# --- Hub order is commit order --------------------------------------------------------------------


def test_seq_order_is_commit_order_under_two_concurrent_pushers(hub_up):
    sam = member(hub_up, "Sam Spo", "SPO", "North")
    cas = member(hub_up, "Cas Admin", "CASPO", "North")
    admin = hub_up.connect()
    first_conn = psycopg.connect(hub_up.login_url(sam.login, sam.password))  # not autocommit: one transaction
    second_conn = psycopg.connect(hub_up.login_url(cas.login, cas.password))
    try:
        first = sam.push(sam.change(), conn=first_conn)[0]  # holds the hub's lock until it commits
        second_pid = second_conn.info.backend_pid
        got: dict[str, Any] = {}

        def second_push() -> None:
            try:
                got["seq"] = cas.push(cas.change(), conn=second_conn)[0]
                second_conn.commit()
            except BaseException as error:  # reported below
                got["error"] = error

        worker = threading.Thread(target=second_push)
        worker.start()
        deadline = time.monotonic() + 20
        waiting = None
        while time.monotonic() < deadline:
            waiting = admin.execute(
                "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", (second_pid,)
            ).fetchone()
            if waiting == ("Lock", "advisory"):
                break
            time.sleep(0.02)
        assert waiting == ("Lock", "advisory")  # the second pusher waits for the first to commit
        assert "seq" not in got
        later = sam.push(sam.change(), conn=first_conn)[0]  # the first goes on in the same transaction
        first_conn.commit()
        worker.join(20)
        assert "error" not in got, got.get("error")
        assert first < later < got["seq"]
        rows = admin.execute("SELECT seq, login FROM spo.changes ORDER BY seq").fetchall()
        assert [r[1] for r in rows] == [sam.login, sam.login, cas.login]
    finally:
        first_conn.close()
        second_conn.close()


# --- A hub whose admin is not a superuser (as on a managed PostgreSQL service) -----------------------


def test_a_hub_run_by_an_admin_who_is_not_a_superuser(hub):
    admin_login = hub.login("hubadmin")
    hub.connect().execute(f"CREATE ROLE {admin_login} LOGIN CREATEROLE PASSWORD 'admin-pw'")
    hub.connect().execute(f"ALTER DATABASE {hub.dbname} OWNER TO {admin_login}")
    url = hub.login_url(admin_login, "admin-pw")
    assert hub_admin.init(url) == ["0001_hub"]
    sam = member(hub, "Sam Spo", "SPO", "North", admin_url=url)
    sam.push(sam.change())
    # Moved to another team, Sam's device carries on its chain: the hub still sees its earlier changes.
    admin = hub.connect(url)
    admin.execute("UPDATE spo.people SET team = 'South' WHERE login = %s", (sam.login,))
    sam.team = "South"
    sam.push(sam.change())
    assert sam.conn.execute("SELECT device_seq FROM spo.device_heads").fetchone() == (2,)
    assert sam.conn.execute("SELECT count(*) FROM spo.changes").fetchone() == (1,)  # only South's now
    # The owner reads everything, and cannot change or remove any of it.
    assert admin.execute("SELECT count(*) FROM spo.changes").fetchone() == (2,)
    with pytest.raises(psycopg.Error, match="the hub's record is insert-only"):
        admin.execute("TRUNCATE spo.changes")
    admin.execute("DELETE FROM spo.changes")  # row-level security leaves the owner no row to delete
    assert admin.execute("SELECT count(*) FROM spo.changes").fetchone() == (2,)
