"""The tamper-evident record across machines (issue 14, item 5), against a real hub: ``spo-tui
verify`` on each replica, and ``verify --hub`` against the hub's copy, name a change altered,
removed or inserted at the hub by someone with the database's superuser rights, or in a replica's
own store with sqlite3; and a reader of one team is not misled by the changes it is never sent."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest
from hub_replicas import team  # the fixture

from spo_tui.domain.device_chains import change_hash, content_of

pytestmark = pytest.mark.timeout(120)

DECISION = "Warning letter agreed, review in a week"


def decided(team):
    """The SPO decides the first SBAR (an oversight entry) and everyone syncs: its entry id."""
    spo, caspo, head, ids = team
    spo.ok("do", "decide", ids["first"], "--outcome", "agreed", "--text", DECISION)
    for replica in (spo, caspo, head):
        replica.ok("sync")
    [(entry,)] = spo.rows("SELECT id FROM oversight_entries")
    return entry


def own_device(replica) -> str:
    [(device,)] = replica.rows("SELECT DISTINCT device FROM changes WHERE origin = 'local'")
    return device


def tampered(replica, *argv) -> str:
    code, out, err = replica.run("verify", *argv)
    assert code == 1, (replica.name, out, err)
    assert err.startswith("The oversight record has been tampered with:\n"), err
    return err


def test_a_clean_team_verifies_on_every_replica_and_against_the_hub(team):
    decided(team)
    for replica in team[:3]:
        out = replica.ok("verify")
        assert "The changes exchanged with the hub hold: " in out
        out = replica.ok("verify", "--hub")
        assert "The hub's copy holds: " in out and "matching its checkpoints and this store's copy" in out
    assert "(every device's whole)" in team[2].ok("verify")  # the PDU head holds every chain whole
    # What verify needs offline was kept at the sync: the devices' keys and their checkpoints.
    spo, caspo, _head, _ids = team
    device = own_device(spo)
    assert len(caspo.rows("SELECT key_id FROM hub_devices")) == 3
    assert caspo.rows("SELECT device_seq, hash FROM hub_checkpoints WHERE device = ?", (device,)) == spo.rows(
        "SELECT device_seq, hash FROM changes WHERE device = ? ORDER BY device_seq DESC LIMIT 1", (device,)
    )


def test_an_update_made_directly_at_the_hub_is_named(team, hub):
    spo, caspo, head, _ids = team
    entry = decided(team)
    admin = hub.connect()
    admin.execute("ALTER TABLE spo.changes DISABLE TRIGGER USER")
    updated = admin.execute(
        """UPDATE spo.changes SET data = jsonb_set(data, '{decision}', '"changed"')
           WHERE tbl = 'oversight_entries'"""
    ).rowcount
    assert updated == 1
    for replica in (spo, head, caspo):
        err = tampered(replica, "--hub")
        assert f"the oversight entry {entry[:8]}… on case " in err
        assert "has been altered at the hub" in err and "its data differs from this store's copy" in err
        assert len(err.splitlines()) == 2  # named once
        replica.ok("verify")  # this store's own copy is intact: the change is named at the hub only


def test_a_change_deleted_at_the_hub_is_named_as_removed(team, hub):
    spo, caspo, head, _ids = team
    decided(team)
    device = own_device(spo)
    admin = hub.connect()
    admin.execute("ALTER TABLE spo.changes DISABLE TRIGGER USER")
    [(seq, change_id)] = admin.execute(
        """DELETE FROM spo.changes WHERE device = %s
           AND device_seq = (SELECT max(device_seq) FROM spo.changes WHERE device = %s) RETURNING device_seq, id::text""",
        [device, device],
    ).fetchall()
    err = tampered(spo, "--hub")
    assert f"(change {seq} of device {device[:8]} (yours)) has been removed at the hub: this store sent it" in err
    err = tampered(head, "--hub")
    assert f"(change {seq} of device {device[:8]} (Sam Spo, " in err
    assert "has been removed at the hub: this store received it from the hub" in err
    # Even with its checkpoints deleted too, the checkpoint this store kept still says how far it reached.
    admin.execute("ALTER TABLE spo.checkpoints DISABLE TRIGGER USER")
    admin.execute("DELETE FROM spo.checkpoints WHERE device = %s", [device])
    err = tampered(spo, "--hub")
    assert f"the checkpoint of device {device[:8]} (yours) at change {seq}, which this store received" in err
    assert "is no longer at the hub: it was removed there" in err
    assert change_id in {r[0] for r in spo.rows("SELECT id FROM changes")}


def test_a_change_inserted_at_the_hub_without_the_devices_signature_is_named(team, hub):
    spo, caspo, head, _ids = team
    decided(team)
    device = own_device(spo)
    admin = hub.connect()
    seq, prev, login = admin.execute(
        "SELECT device_seq, hash, login FROM spo.changes WHERE device = %s ORDER BY device_seq DESC LIMIT 1", [device]
    ).fetchone()
    entry = str(uuid.uuid4())
    forged = {
        "id": str(uuid.uuid4()),
        "hlc": "2026-12-04T10:00:00.000Z-0000-" + device,
        "actor": "spo-0001",
        "team": "Team A",
        "tbl": "oversight_entries",
        "pk": entry,
        "op": "insert",
        "data": {"id": entry, "crn": "X123456", "decision": "Breach not pursued", "decided_by": "spo-0001"},
        "tx": str(uuid.uuid4()),
        "seen": "",
    }
    digest = change_hash(prev, seq + 1, content_of(forged))  # a valid place and hash: only the signature is missing
    admin.execute("ALTER TABLE spo.changes DISABLE TRIGGER USER")
    admin.execute(
        """INSERT INTO spo.changes(seq, id, device, device_seq, prev, hash, signature, hlc, actor, team, tbl, pk, op,
           data, tx, seen, login, received_at) VALUES (nextval('spo.changes_seq'), %s, %s, %s, %s, %s, NULL, %s, %s,
           %s, %s, %s, %s, %s::jsonb, %s, %s, %s, now())""",
        [
            forged["id"],
            device,
            seq + 1,
            prev,
            digest,
            forged["hlc"],
            forged["actor"],
            forged["team"],
            forged["tbl"],
            forged["pk"],
            forged["op"],
            json.dumps(forged["data"]),
            forged["tx"],
            forged["seen"],
            login,
        ],
    )
    err = tampered(spo, "--hub")
    assert f"the oversight entry {entry[:8]}… on case X123456 (change {seq + 1} of device {device[:8]} (yours))" in err
    assert "was inserted at the hub: this device never made it" in err
    for replica in (caspo, head):  # readers of another's chain: the hub says it is the head, and it is unsigned
        err = tampered(replica, "--hub")
        assert f"the oversight entry {entry[:8]}… on case X123456 (change {seq + 1} of device {device[:8]}" in err
        assert "is the device's newest change but carries no signature of the device: it was inserted at the hub" in (
            err
        )
    head.ok("sync")  # the PDU head takes it in: its own store's check names it from then on, offline
    err = tampered(head)
    assert f"(change {seq + 1} of device {device[:8]}" in err
    assert "inserted in this store or at the hub before this store received it" in err


def test_a_change_altered_or_removed_in_a_replicas_own_store_is_named_by_plain_verify(team):
    spo, caspo, _head, _ids = team
    entry = decided(team)
    with sqlite3.connect(caspo.path) as conn:  # someone with sqlite3 on the CASPO's desktop
        conn.execute(
            "UPDATE changes SET data = json_set(data, '$.decision', 'changed') WHERE tbl = 'oversight_entries'"
        )
    err = tampered(caspo)
    assert f"the oversight entry {entry[:8]}… on case " in err
    assert "has been altered in this store or at the hub before this store received it: its content no longer" in err
    # Against the hub, the hub's copy is not blamed for this store's alteration.
    err = tampered(caspo, "--hub")
    assert "altered at the hub" not in err and len(err.splitlines()) == 2
    spo.ok("verify")
    device = own_device(spo)
    with sqlite3.connect(spo.path) as conn:  # a change removed from the middle of the SPO's own chain
        conn.execute("DELETE FROM changes WHERE device = ? AND device_seq = 3", [device])
    err = tampered(spo)
    assert f"change 3 of device {device[:8]} (yours) has been removed from this store" in err


def test_a_reader_of_one_team_is_not_misled_by_the_changes_it_is_not_sent(team):
    spo, caspo, head, _ids = team
    decided(team)
    # The PDU head works for Team B too: a case there (which Team A never receives) between two
    # shared staff records (which everyone receives).
    with head.active():
        from spo_tui.store.db import open_db

        db = open_db(head.path, create=False)
        try:
            for staff_id, name, team_name in (("po-b", "Bea Other", "Team B"), ("po-c", "Cy Third", "Team A")):
                with db.atomic():
                    db.execute(
                        "INSERT INTO staff(id, name, role, team, created_at) VALUES (?, ?, 'PO', ?, 't')",
                        [staff_id, name, team_name],
                    )
                if staff_id == "po-b":
                    with db.atomic():
                        db.execute(
                            """INSERT INTO cases(crn, name, practitioner_id, rosh, sentence_type, sentence_start,
                               created_at, updated_at) VALUES ('B000001', 'Di Beeson', 'po-b', 'LOW', 'LICENCE',
                               '2026-08-01', 't', 't')"""
                        )
        finally:
            db.close()
    for replica in (head, spo, caspo):
        replica.ok("sync")
    device = own_device(head)
    held = [r[0] for r in caspo.rows("SELECT device_seq FROM changes WHERE device = ? ORDER BY 1", (device,))]
    whole = [r[0] for r in head.rows("SELECT device_seq FROM changes WHERE device = ? ORDER BY 1", (device,))]
    assert held != whole and set(held) < set(whole) and whole == list(range(1, len(whole) + 1))
    assert caspo.rows("SELECT crn FROM cases WHERE crn = 'B000001'") == []
    for replica in (caspo, spo):
        assert "the others' as far as your team's changes show" in replica.ok("verify")
        assert "The hub's copy holds: " in replica.ok("verify", "--hub")
    assert "(every device's whole)" in head.ok("verify")


def test_verify_against_a_hub_that_cannot_be_reached_says_so_in_one_line(team):
    spo, _caspo, _head, _ids = team
    code, out, err = spo.run("verify", "--hub-url", "postgresql://nobody@127.0.0.1:1/nohub")
    assert code == 3 and out == ""
    assert err.count("\n") == 1 and "cannot reach the hub" in err and "was not checked" in err
