"""The team hub's schema in PostgreSQL: forward migrations, and ``init_hub`` to apply them.

How the hub works, in plain English
-----------------------------------
Each person keeps their own SQLite store. A store connected to the hub records every row its
services insert, update or delete as a *change*, and sync sends those changes to the hub, a
PostgreSQL database, and brings back everybody else's. There is no server program of our own: each
device talks to PostgreSQL directly, logging in as its person, and **PostgreSQL itself is the
authority** on who may write what and who may read what. Everything lives in the schema ``spo``.

Who is who. ``spo.people`` maps each PostgreSQL login to a person: their name, role (SPO, PO,
CASPO, PDU head ...), team, and their staff id in the record (``claim_staff_id`` fills it in when it
is not known when the person is added). Every person's login is granted the role ``spo_member``,
which is what the hub grants its rights to. ``spo-tui hub add-user`` makes the login and the row.
A device is a person's Ed25519 key (the one that signs their oversight record), registered to their
login with ``spo.register_device``; a key registered to one person can never push for another.

The record is append-only. ``spo.changes`` is one long list in hub order (``seq``). Members may
only SELECT and INSERT it: no UPDATE, DELETE or TRUNCATE is granted, and triggers refuse those to the
owner too ("the hub's record is insert-only"; a superuser who switches triggers off is what
``spo-tui verify`` is for). Devices and checkpoints are append-only in the same way.

Every change is checked when it arrives, by a trigger the pusher cannot get round, and refused with
a message starting ``refused:`` when

1. the login is not an active person of the hub;
2. the device is not registered to that login;
3. the change claims to be made by anyone but that person (its ``actor`` is not their staff id);
4. it belongs to another team (only a PDU head writes for every team; ``''`` is shared by all);
5. the role may not make it (``spo.refusal``): a practitioner (PO, PSO, PQiP, NQO) records no
   oversight decision, decides no SBAR (only answers a request for information on one), and
   closes, snoozes or parks no item; a CASPO enters oversight only in their own name;
6. it does not carry on the device's own hash chain: each device numbers its changes 1, 2, 3 ...
   and each names the hash of the one before, so a change cannot be dropped, reordered or
   replayed, and a change already at the hub is refused rather than applied twice.

The trigger then gives the change its ``seq`` while holding a lock that lasts until the pushing
transaction commits, so changes are numbered in the order they are committed: a device that has
pulled up to seq N will never later find a change numbered below N appear. It also records which
login pushed it and when, whatever the device said.

Who reads what. Row-level security (forced, so the owner is bound too) lets a person read the
changes of their own team and the shared ones (``team = ''``, such as staff rows); a PDU head reads
every team's. Checkpoints (signed chain heads, no case data), people, teams and devices are
readable by every member. ``spo.device_heads`` tells a pusher where its device is at the hub.

The functions members call run as the hub's owner (SECURITY DEFINER with a fixed search_path) and
work out who called them themselves (``spo.caller``), so no one can act through them in another's
name: ``spo.me()``, ``spo.register_device(key_id, public_key, label)``,
``spo.claim_staff_id(staff_id)`` and ``spo.refusal(role, tbl, op, data)``.

Migrations are applied in order by ``init_hub`` (``spo-tui hub init URL``), each in its own
transaction under an advisory lock, and recorded in ``spo.migrations``: running it again, or two
admins running it at once, applies nothing twice. Add a migration at the end; never edit one that
has shipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

#: The transaction-level advisory lock that numbers changes (``seq``) in commit order.
CHANGES_LOCK = 7_350_001_014
#: The advisory lock ``init_hub`` holds while it applies a migration.
MIGRATIONS_LOCK = 7_350_001_015

#: Every role a person of the hub can have (the local store's ``spo_tui.domain.vocab.Role``).
ROLES = ("SPO", "PO", "PSO", "PQiP", "NQO", "CASPO", "SAO", "QDO", "business manager", "PDU head")
#: Roles whose people may write for and read every team.
ALL_TEAMS_ROLES = ("PDU head",)
#: The practitioners' roles (``spo.refusal`` limits what they may write).
PRACTITIONER_ROLES = ("PO", "PSO", "PQiP", "NQO")

#: Where ``init_hub`` keeps what it applied; made before the first migration runs.
_BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS spo;
CREATE TABLE IF NOT EXISTS spo.migrations (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""

_0001_HUB = (
    """
-- The role every person's login is granted. Roles belong to the whole cluster, so it may exist
-- already (another hub database on the same server made it).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'spo_member') THEN
        CREATE ROLE spo_member NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- made by another database's init at the same moment
END
$$;

CREATE TABLE spo.teams (
    name text PRIMARY KEY CHECK (name <> '')
);

CREATE TABLE spo.people (
    login text PRIMARY KEY,
    staff_id text UNIQUE CHECK (staff_id <> ''),
    name text NOT NULL CHECK (name <> ''),
    role text NOT NULL CHECK (role IN ('SPO', 'PO', 'PSO', 'PQiP', 'NQO', 'CASPO', 'SAO', 'QDO',
                                       'business manager', 'PDU head')),
    team text NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    added_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE spo.devices (
    key_id text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{32}$'),
    public_key text NOT NULL CHECK (public_key ~ '^[0-9a-f]{64}$'),
    login text NOT NULL REFERENCES spo.people(login),
    label text NOT NULL DEFAULT '',
    registered_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE spo.changes (
    seq bigint PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    device text NOT NULL REFERENCES spo.devices(key_id),
    device_seq bigint NOT NULL CHECK (device_seq >= 1),
    prev text NOT NULL,
    hash text NOT NULL,
    signature text,
    hlc text NOT NULL,
    actor text NOT NULL,
    team text NOT NULL,
    tbl text NOT NULL,
    pk text NOT NULL,
    op text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    data jsonb NOT NULL,
    tx uuid NOT NULL,
    seen text NOT NULL DEFAULT '',
    login text NOT NULL,
    received_at timestamptz NOT NULL,
    UNIQUE (device, device_seq)
);
CREATE INDEX changes_by_entity ON spo.changes (tbl, pk);
CREATE SEQUENCE spo.changes_seq AS bigint OWNED BY spo.changes.seq;

CREATE TABLE spo.checkpoints (
    id bigserial PRIMARY KEY,
    device text NOT NULL REFERENCES spo.devices(key_id),
    device_seq bigint NOT NULL,
    hash text NOT NULL,
    signature text NOT NULL,
    login text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

-- Who is calling: the login (or the role it SET ROLE to), also inside a SECURITY DEFINER function,
-- where current_user is the function's owner.
CREATE FUNCTION spo.caller() RETURNS text
LANGUAGE sql STABLE SET search_path = spo, pg_temp AS $$
    SELECT CASE WHEN pg_catalog.current_setting('role') = 'none' THEN session_user::text
                ELSE pg_catalog.current_setting('role') END
$$;

-- Row-level security's questions about the current user. The hub's owner (and so the functions
-- that run as it, such as the insert trigger) reads everything; so does a PDU head.
CREATE FUNCTION spo.reads_all() RETURNS boolean
LANGUAGE sql STABLE SET search_path = spo, pg_temp AS $$
    SELECT pg_catalog.pg_has_role(current_user,
                                  (SELECT c.relowner FROM pg_catalog.pg_class c
                                   WHERE c.oid = 'spo.changes'::pg_catalog.regclass), 'MEMBER')
        OR EXISTS (SELECT FROM spo.people p WHERE p.login = current_user AND p.active AND p.role = 'PDU head')
$$;

-- The current user's team ('' for a PDU-wide person), or NULL when they are not an active person.
CREATE FUNCTION spo.reader_team() RETURNS text
LANGUAGE sql STABLE SET search_path = spo, pg_temp AS $$
    SELECT p.team FROM spo.people p WHERE p.login = current_user AND p.active
$$;

-- Why a person with this role may not make this change, in plain English; NULL when they may.
-- ``actor`` (the person's staff id) is what a CASPO's oversight entry must be entered by; without it,
-- the caller's own staff id.
CREATE FUNCTION spo.refusal(role text, tbl text, op text, data jsonb, actor text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = spo, pg_temp AS $$
DECLARE
    keys text;
    decided text;
BEGIN
    IF role IN ('PO', 'PSO', 'PQiP', 'NQO') THEN
        IF tbl = 'oversight_entries' THEN
            RETURN format('a %s may not write oversight entries: recording a decision is for an SPO '
                          '(or a CASPO entering it for them)', role);
        END IF;
        IF tbl = 'sbars' THEN
            IF op = 'delete' THEN
                RETURN format('a %s may not delete an SBAR', role);
            END IF;
            IF op = 'update' THEN
                SELECT string_agg(k, ', ' ORDER BY k) INTO keys
                FROM jsonb_object_keys(data) AS k WHERE k <> 'info_answer';
                IF keys IS NOT NULL THEN
                    RETURN format('a %s may only answer a request for information on an SBAR, not change its %s',
                                  role, keys);
                END IF;
            END IF;
            IF op = 'insert' THEN
                SELECT string_agg(k, ', ' ORDER BY k) INTO decided
                FROM unnest(ARRAY['booked_for', 'info_request', 'escalated_to', 'escalation_note',
                                  'escalation_answer']) AS k
                WHERE data ? k AND data -> k <> 'null'::jsonb;
                IF coalesce(data ->> 'state', 'raised') <> 'raised' OR decided IS NOT NULL THEN
                    RETURN format('a %s may raise an SBAR but not decide it (state %s%s)', role,
                                  coalesce(data ->> 'state', 'raised'),
                                  CASE WHEN decided IS NULL THEN '' ELSE ', ' || decided END);
                END IF;
            END IF;
        END IF;
        IF tbl = 'items' AND op IN ('insert', 'update') THEN
            IF data ->> 'status' IN ('closed', 'snoozed', 'waiting') THEN
                RETURN format('a %s may not set an item %s: closing, snoozing and parking work is for an SPO '
                              'or a CASPO', role, data ->> 'status');
            END IF;
            IF data ? 'snoozed_until' AND data -> 'snoozed_until' <> 'null'::jsonb THEN
                RETURN format('a %s may not snooze an item: that is for an SPO or a CASPO', role);
            END IF;
        END IF;
    ELSIF role = 'CASPO' AND tbl = 'oversight_entries' AND op = 'insert' THEN
        IF actor IS NULL THEN
            SELECT p.staff_id INTO actor FROM spo.people p WHERE p.login = spo.caller();
        END IF;
        IF (data ->> 'entered_by') IS DISTINCT FROM actor THEN
            RETURN 'a CASPO enters an oversight entry in their own name: entered_by must be their own staff id';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- The checks on every change pushed (see the module's docstring), then its place in hub order.
CREATE FUNCTION spo.changes_before_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spo, pg_temp AS $$
DECLARE
    who text := spo.caller();
    person spo.people%ROWTYPE;
    holder text;
    why text;
    last_seq bigint;
    last_hash text;
BEGIN
    SELECT * INTO person FROM spo.people p WHERE p.login = who AND p.active;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'refused: % is not a person of this hub', who USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT d.login INTO holder FROM spo.devices d WHERE d.key_id = NEW.device;
    IF holder IS DISTINCT FROM who THEN
        RAISE EXCEPTION 'refused: device % is not registered to %', NEW.device, who
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF person.staff_id IS NULL THEN
        RAISE EXCEPTION 'refused: change % is made in another person''s name: % has no staff id at this hub '
                        'yet (spo.claim_staff_id)', NEW.id, who USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.actor IS DISTINCT FROM person.staff_id THEN
        RAISE EXCEPTION 'refused: change % is made in another person''s name (staff id %, not %''s %)',
                        NEW.id, NEW.actor, who, person.staff_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF person.role <> 'PDU head' AND NEW.team IS DISTINCT FROM person.team AND NEW.team IS DISTINCT FROM '' THEN
        RAISE EXCEPTION 'refused: change % belongs to team "%": % writes only for their own team "%"',
                        NEW.id, NEW.team, who, person.team USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF jsonb_typeof(NEW.data) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'refused: change %''s data is not a JSON object', NEW.id;
    END IF;
    why := spo.refusal(person.role, NEW.tbl, NEW.op, NEW.data, person.staff_id);
    IF why IS NOT NULL THEN
        RAISE EXCEPTION 'refused: change % on %: %', NEW.id, NEW.tbl, why USING ERRCODE = 'insufficient_privilege';
    END IF;

    -- Held until this transaction ends: changes are numbered in the order their pushes commit.
    PERFORM pg_advisory_xact_lock("""
    + str(CHANGES_LOCK)
    + """);
    IF EXISTS (SELECT FROM spo.changes c WHERE c.id = NEW.id) THEN
        RAISE EXCEPTION 'refused: change % is already at the hub', NEW.id USING ERRCODE = 'unique_violation';
    END IF;
    SELECT c.device_seq, c.hash INTO last_seq, last_hash
    FROM spo.changes c WHERE c.device = NEW.device ORDER BY c.device_seq DESC LIMIT 1;
    IF NOT FOUND THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    IF NEW.device_seq IS DISTINCT FROM last_seq + 1 OR NEW.prev IS DISTINCT FROM last_hash THEN
        RAISE EXCEPTION 'refused: change % is out of order: device %''s next change is number % after %, '
                        'not number % after %', NEW.id, NEW.device, last_seq + 1, left(last_hash, 12),
                        NEW.device_seq, left(NEW.prev, 12);
    END IF;
    NEW.seq := nextval('spo.changes_seq');
    NEW.login := who;
    NEW.received_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER changes_check BEFORE INSERT ON spo.changes
    FOR EACH ROW EXECUTE FUNCTION spo.changes_before_insert();

-- A checkpoint comes from an active person's own device; the hub records who pushed it and when.
CREATE FUNCTION spo.checkpoints_before_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spo, pg_temp AS $$
DECLARE
    who text := spo.caller();
    holder text;
BEGIN
    IF NOT EXISTS (SELECT FROM spo.people p WHERE p.login = who AND p.active) THEN
        RAISE EXCEPTION 'refused: % is not a person of this hub', who USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT d.login INTO holder FROM spo.devices d WHERE d.key_id = NEW.device;
    IF holder IS DISTINCT FROM who THEN
        RAISE EXCEPTION 'refused: device % is not registered to %', NEW.device, who
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.login := who;
    NEW.at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER checkpoints_check BEFORE INSERT ON spo.checkpoints
    FOR EACH ROW EXECUTE FUNCTION spo.checkpoints_before_insert();

-- Insert-only, for the owner too.
CREATE FUNCTION spo.insert_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = spo, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'the hub''s record is insert-only: % on spo.% is refused', TG_OP, TG_TABLE_NAME;
END
$$;
CREATE TRIGGER changes_insert_only BEFORE UPDATE OR DELETE ON spo.changes
    FOR EACH ROW EXECUTE FUNCTION spo.insert_only();
CREATE TRIGGER changes_no_truncate BEFORE TRUNCATE ON spo.changes
    FOR EACH STATEMENT EXECUTE FUNCTION spo.insert_only();
CREATE TRIGGER checkpoints_insert_only BEFORE UPDATE OR DELETE ON spo.checkpoints
    FOR EACH ROW EXECUTE FUNCTION spo.insert_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON spo.checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION spo.insert_only();
CREATE TRIGGER devices_insert_only BEFORE UPDATE OR DELETE ON spo.devices
    FOR EACH ROW EXECUTE FUNCTION spo.insert_only();
CREATE TRIGGER devices_no_truncate BEFORE TRUNCATE ON spo.devices
    FOR EACH STATEMENT EXECUTE FUNCTION spo.insert_only();

-- Who reads what.
ALTER TABLE spo.changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE spo.changes FORCE ROW LEVEL SECURITY;
CREATE POLICY changes_read ON spo.changes FOR SELECT
    USING ((SELECT spo.reads_all())
           OR team = (SELECT spo.reader_team())
           OR (team = '' AND (SELECT spo.reader_team()) IS NOT NULL));
CREATE POLICY changes_push ON spo.changes FOR INSERT WITH CHECK (true);

ALTER TABLE spo.checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE spo.checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY checkpoints_read ON spo.checkpoints FOR SELECT USING (true);
CREATE POLICY checkpoints_push ON spo.checkpoints FOR INSERT WITH CHECK (true);

-- The functions members call.
CREATE FUNCTION spo.me() RETURNS SETOF spo.people
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spo, pg_temp AS $$
    SELECT * FROM spo.people p WHERE p.login = spo.caller()
$$;

-- Register the caller's device key: true if registered now, false if it already was (theirs).
CREATE FUNCTION spo.register_device(key_id text, public_key text, label text DEFAULT '') RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spo, pg_temp AS $$
DECLARE
    who text := spo.caller();
    holder text;
BEGIN
    IF NOT EXISTS (SELECT FROM spo.people p WHERE p.login = who AND p.active) THEN
        RAISE EXCEPTION 'refused: % is not a person of this hub', who USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF register_device.key_id IS NULL OR register_device.key_id !~ '^[0-9a-f]{32}$'
       OR register_device.public_key IS NULL OR register_device.public_key !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'refused: a device key id is 32 lower-case hex digits and its public key 64'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF left(encode(sha256(decode(register_device.public_key, 'hex')), 'hex'), 32) <> register_device.key_id THEN
        RAISE EXCEPTION 'refused: key id % is not the fingerprint of that public key', register_device.key_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO spo.devices (key_id, public_key, login, label)
    VALUES (register_device.key_id, register_device.public_key, who, coalesce(register_device.label, ''))
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN true;
    END IF;
    SELECT d.login INTO holder FROM spo.devices d
    WHERE d.key_id = register_device.key_id AND d.public_key = register_device.public_key;
    IF holder IS DISTINCT FROM who THEN
        RAISE EXCEPTION 'refused: device % is registered to another person', register_device.key_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN false;
END
$$;

-- Set the caller's staff id when it is not yet known: true if set now, false if it already was.
CREATE FUNCTION spo.claim_staff_id(staff_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = spo, pg_temp AS $$
DECLARE
    who text := spo.caller();
    person spo.people%ROWTYPE;
    recorded_name text;
BEGIN
    SELECT * INTO person FROM spo.people p WHERE p.login = who AND p.active FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'refused: % is not a person of this hub', who USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF coalesce(claim_staff_id.staff_id, '') = '' THEN
        RAISE EXCEPTION 'refused: a staff id is needed' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF person.staff_id = claim_staff_id.staff_id THEN
        RETURN false;
    END IF;
    IF person.staff_id IS NOT NULL THEN
        RAISE EXCEPTION 'refused: % already has staff id %', who, person.staff_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT FROM spo.people p WHERE p.staff_id = claim_staff_id.staff_id) THEN
        RAISE EXCEPTION 'refused: staff id % is already claimed by another person', claim_staff_id.staff_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- When the record already has this member of staff, it must be the caller.
    SELECT c.data ->> 'name' INTO recorded_name FROM spo.changes c
    WHERE c.tbl = 'staff' AND c.pk = claim_staff_id.staff_id AND c.op IN ('insert', 'update') AND c.data ? 'name'
    ORDER BY c.seq DESC LIMIT 1;
    IF FOUND AND recorded_name IS DISTINCT FROM person.name THEN
        RAISE EXCEPTION 'refused: staff id % is %''s in the record, not %''s', claim_staff_id.staff_id,
                        recorded_name, person.name USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE spo.people p SET staff_id = claim_staff_id.staff_id WHERE p.login = who;
    RETURN true;
END
$$;

-- Each device's last change at the hub: where a pusher carries on from. Every member sees every
-- device's (numbers and hashes only, like the checkpoints), whatever their team.
CREATE FUNCTION spo.heads() RETURNS TABLE (device text, device_seq bigint, hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = spo, pg_temp AS $$
    SELECT DISTINCT ON (c.device) c.device, c.device_seq, c.hash
    FROM spo.changes c ORDER BY c.device, c.device_seq DESC
$$;
CREATE VIEW spo.device_heads AS SELECT h.device, h.device_seq, h.hash FROM spo.heads() h;

-- What members may do: read, and add to the record; nothing else.
REVOKE ALL ON SCHEMA spo FROM PUBLIC;
GRANT USAGE ON SCHEMA spo TO spo_member;
GRANT SELECT ON spo.teams, spo.people, spo.devices, spo.device_heads TO spo_member;
GRANT SELECT, INSERT ON spo.changes, spo.checkpoints TO spo_member;
GRANT USAGE ON SEQUENCE spo.checkpoints_id_seq TO spo_member;
REVOKE ALL ON FUNCTION spo.caller(), spo.reads_all(), spo.reader_team(),
    spo.refusal(text, text, text, jsonb, text), spo.changes_before_insert(), spo.checkpoints_before_insert(),
    spo.insert_only(), spo.me(), spo.register_device(text, text, text), spo.claim_staff_id(text), spo.heads()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION spo.caller(), spo.reads_all(), spo.reader_team(),
    spo.refusal(text, text, text, jsonb, text), spo.me(), spo.register_device(text, text, text),
    spo.claim_staff_id(text), spo.heads()
    TO spo_member;
"""
)

#: The hub's forward migrations, in order: (name, SQL). Add at the end; never edit a shipped one.
MIGRATIONS: list[tuple[str, str]] = [
    ("0001_hub", _0001_HUB),
]

LATEST = MIGRATIONS[-1][0]


def applied_migrations(conn: psycopg.Connection) -> list[str]:
    """The names of the migrations this hub has, oldest first ([] when it has not been set up)."""
    if conn.execute("SELECT to_regclass('spo.migrations')").fetchone() in (None, (None,)):
        return []
    return [row[0] for row in conn.execute("SELECT name FROM spo.migrations ORDER BY applied_at, name")]


def init_hub(conn: psycopg.Connection) -> list[str]:
    """Apply the migrations this hub lacks, each in its own transaction, and return their names.

    A second run applies nothing. Two admins running it at once are safe: each migration is checked
    for and applied while holding an advisory lock, so the second waits and then finds it done.
    ``conn`` must not be inside a transaction.
    """
    from psycopg.pq import TransactionStatus

    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("init_hub applies each migration in a transaction of its own: call it outside one")
    applied: list[str] = []
    for name, script in MIGRATIONS:
        with conn.transaction():
            conn.execute(f"SELECT pg_advisory_xact_lock({MIGRATIONS_LOCK})")
            if conn.execute("SELECT to_regclass('spo.migrations')").fetchone() in (None, (None,)):
                conn.execute(_BOOTSTRAP)
            if conn.execute("SELECT FROM spo.migrations WHERE name = %s", (name,)).fetchone() is not None:
                continue
            conn.execute(script)
            conn.execute("INSERT INTO spo.migrations (name) VALUES (%s)", (name,))
        applied.append(name)
    return applied
