"""The schema, as forward migrations applied in order when a database is opened.

Add a migration at the end; never edit one that has shipped. Identifiers of items, cases' flags,
oversight entries and staff are UUID text so copies of a database can later exchange changes;
times are ISO-8601 UTC text (``2026-11-21T08:45:00Z``), dates ``YYYY-MM-DD``.

This file is long on purpose: the migrations are one ordered history, registered in the order they
stand here, and a shipped one is never edited, so they stay together rather than split by size.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("spo_tui")

SCHEMA_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    team TEXT NOT NULL DEFAULT '',
    fte REAL NOT NULL DEFAULT 1.0 CHECK (fte > 0 AND fte <= 1.0),
    oasys_approved INTEGER NOT NULL DEFAULT 0 CHECK (oasys_approved IN (0, 1)),
    email TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE absences (
    id TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id),
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL CHECK (end_date >= start_date),
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX absences_by_dates ON absences(start_date, end_date);

CREATE TABLE cases (
    crn TEXT PRIMARY KEY CHECK (crn GLOB '[A-Z][0-9][0-9][0-9][0-9][0-9][0-9]'),
    name TEXT NOT NULL,
    practitioner_id TEXT REFERENCES staff(id),
    rosh TEXT NOT NULL CHECK (rosh IN ('LOW', 'MEDIUM', 'HIGH', 'VERY_HIGH')),
    likelihood TEXT CHECK (likelihood IN ('LOW', 'MEDIUM', 'HIGH', 'VERY_HIGH')),
    mappa_category INTEGER CHECK (mappa_category BETWEEN 1 AND 4),
    mappa_level INTEGER CHECK (mappa_level BETWEEN 1 AND 3),
    tier TEXT,
    sentence_type TEXT NOT NULL,
    sentence_start TEXT NOT NULL,
    sentence_end TEXT CHECK (sentence_end IS NULL OR sentence_end >= sentence_start),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX cases_by_practitioner ON cases(practitioner_id);
CREATE INDEX cases_by_name ON cases(name);

CREATE TABLE case_flags (
    id TEXT PRIMARY KEY,
    crn TEXT NOT NULL REFERENCES cases(crn),
    code TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    review_date TEXT,
    UNIQUE (crn, code)
);
CREATE INDEX case_flags_by_review ON case_flags(review_date);

-- Every piece of work in the SPO's queue is one row here; the kind's own facts are in the
-- table named after the kind, keyed by the same id.
CREATE TABLE items (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('alert', 'sbar', 'touch_point', 'countersign', 'task', 'action', 'supervision')),
    crn TEXT REFERENCES cases(crn),
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'waiting', 'closed')),
    due TEXT,
    snoozed_until TEXT,
    assigned_to TEXT REFERENCES staff(id),
    raised_by TEXT REFERENCES staff(id),
    rule_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    closed_note TEXT
);
CREATE INDEX items_queue ON items(status, kind, due);
CREATE INDEX items_by_case ON items(crn, created_at);
CREATE INDEX items_by_assignee ON items(assigned_to, status);

CREATE TABLE sbars (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    situation TEXT NOT NULL,
    background TEXT NOT NULL,
    assessment TEXT NOT NULL,
    recommendation TEXT NOT NULL,
    urgency TEXT NOT NULL CHECK (urgency IN ('routine', 'soon', 'urgent')),
    state TEXT NOT NULL CHECK (state IN ('raised', 'awaiting_info', 'booked', 'decided', 'escalated')),
    raised_at TEXT NOT NULL,
    booked_for TEXT,
    info_request TEXT,
    escalated_to TEXT,
    escalation_note TEXT
);

CREATE TABLE touch_points (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    reason TEXT NOT NULL,
    arranged_for TEXT,
    reminder_sent_at TEXT,
    waived_reason TEXT
);

CREATE TABLE countersigns (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    kind TEXT NOT NULL CHECK (kind IN ('OASYS', 'PAROLE_REPORT', 'PSR', 'DANGEROUSNESS', 'HVRA')),
    author_id TEXT NOT NULL REFERENCES staff(id),
    state TEXT NOT NULL CHECK (state IN ('AWAITING_COUNTERSIGN', 'COUNTERSIGNED', 'REJECTED', 'AWAITING_DOUBLE_COUNTERSIGN', 'DOUBLE_COUNTERSIGNED')),
    submitted_at TEXT NOT NULL,
    court_date TEXT,
    link TEXT
);
CREATE INDEX countersigns_by_author ON countersigns(author_id, state);

CREATE TABLE countersign_history (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES countersigns(item_id),
    old_state TEXT,
    new_state TEXT NOT NULL,
    verdict TEXT,
    by_id TEXT REFERENCES staff(id),
    at TEXT NOT NULL
);

CREATE TABLE alerts (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    source TEXT NOT NULL,
    details TEXT NOT NULL,
    received_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT REFERENCES staff(id)
);

CREATE TABLE tasks (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    category TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '',
    delegated_to TEXT REFERENCES staff(id),
    delegated_at TEXT,
    minutes_spent INTEGER CHECK (minutes_spent IS NULL OR minutes_spent >= 0)
);

CREATE TABLE supervision (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    practitioner_id TEXT NOT NULL REFERENCES staff(id),
    kind TEXT NOT NULL CHECK (kind IN ('one_to_one', 'rpss')),
    observation INTEGER NOT NULL DEFAULT 0,
    scheduled_for TEXT,
    held_on TEXT,
    postponed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX supervision_by_practitioner ON supervision(practitioner_id, kind, held_on);

-- Oversight entries are evidence: append-only, enforced by the triggers below. A correction is a
-- new entry whose supersedes_id names the entry it replaces.
CREATE TABLE oversight_entries (
    id TEXT PRIMARY KEY,
    crn TEXT REFERENCES cases(crn),
    item_id TEXT REFERENCES items(id),
    type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    discussed TEXT NOT NULL,
    decision TEXT NOT NULL,
    sensitive INTEGER NOT NULL DEFAULT 0 CHECK (sensitive IN (0, 1)),
    decided_by TEXT NOT NULL REFERENCES staff(id),
    entered_by TEXT NOT NULL REFERENCES staff(id),
    created_at TEXT NOT NULL,
    minutes INTEGER,
    supersedes_id TEXT REFERENCES oversight_entries(id)
);
CREATE INDEX oversight_by_case ON oversight_entries(crn, created_at);
CREATE INDEX oversight_by_item ON oversight_entries(item_id);
CREATE INDEX oversight_by_created ON oversight_entries(created_at);
CREATE INDEX oversight_by_supersedes ON oversight_entries(supersedes_id);

CREATE TRIGGER oversight_entries_no_update BEFORE UPDATE ON oversight_entries
BEGIN
    SELECT RAISE(ABORT, 'oversight entries are append-only: record a correction as a new entry');
END;
CREATE TRIGGER oversight_entries_no_delete BEFORE DELETE ON oversight_entries
BEGIN
    SELECT RAISE(ABORT, 'oversight entries are append-only: record a correction as a new entry');
END;

-- Agreed actions come from an oversight entry; the queue item carries owner (assigned_to) and due.
CREATE TABLE actions (
    item_id TEXT PRIMARY KEY REFERENCES items(id),
    oversight_id TEXT REFERENCES oversight_entries(id),
    owner_id TEXT NOT NULL REFERENCES staff(id),
    description TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX actions_by_oversight ON actions(oversight_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id TEXT,
    on_behalf_of TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    old TEXT,
    new TEXT
);
CREATE INDEX audit_by_entity ON audit_log(entity, entity_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE drafts (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    db.executescript(SCHEMA_V1)


@migrations(name="0002_ndelius_entries")
def m0002_ndelius_entries(db: Database) -> None:
    """Record, as new rows, that oversight entries were copied into nDelius (never an edit)."""
    db.executescript(
        """
        CREATE TABLE ndelius_entries (
            oversight_id TEXT PRIMARY KEY REFERENCES oversight_entries(id),
            entered_by TEXT NOT NULL REFERENCES staff(id),
            entered_at TEXT NOT NULL
        );
        CREATE INDEX items_snoozed ON items(snoozed_until) WHERE snoozed_until IS NOT NULL;
        """
    )


@migrations(name="0003_transfers")
def m0003_transfers(db: Database) -> None:
    """Transfers of cases in and out of the team, tracked by the CASPO until complete."""
    db.executescript(
        """
        CREATE TABLE transfers (
            id TEXT PRIMARY KEY,
            crn TEXT NOT NULL REFERENCES cases(crn),
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            other_area TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('requested', 'in_progress', 'completed', 'cancelled')),
            requested_on TEXT NOT NULL,
            due TEXT,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX transfers_by_status ON transfers(status, due);
        """
    )


@migrations(name="0004_team_rhythm")
def m0004_team_rhythm(db: Database) -> None:
    """The team's daily rhythm: what is said at the check-in, and what the monthly meeting reads back.

    ``team_notes`` is append-only, like oversight entries: notes are the record of what the team
    raised and when (a near miss, an escalation), read back at the monthly meeting. An answer to an
    escalation is therefore a new row of kind ``answer`` whose ``answers_id`` names the escalation
    (an escalation may get a holding reply and later a final one; both stay on the record with their
    own dates). A ``cover`` row records who covers an absent practitioner's item (``item_id``); an
    ``action`` row names the agreed-action queue item it created (``item_id``).

    Two indexes serve oversight coverage (``spo_tui.store.team_queries``): ``oversight_coverage``
    finds a case's latest entry on or before a date from the index alone (without it the coverage
    query scanned every entry), and the small partial ``oversight_withdrawn`` lists the withdrawn
    entries, which do not count as a manager having looked. ``countersigns_by_court`` finds the
    PSRs due in court soon (a check-in risk point) without reading every countersign item.
    """
    db.executescript(
        """
        CREATE TABLE team_notes (
            id TEXT PRIMARY KEY,
            day TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('note', 'action', 'wellbeing', 'success', 'concern', 'escalation',
                                               'learning', 'near_miss', 'answer', 'cover')),
            text TEXT NOT NULL CHECK (length(trim(text)) > 0),
            crn TEXT REFERENCES cases(crn),
            owner_id TEXT REFERENCES staff(id),
            due TEXT,
            item_id TEXT REFERENCES items(id),
            answers_id TEXT REFERENCES team_notes(id),
            created_by TEXT REFERENCES staff(id),
            created_at TEXT NOT NULL,
            CHECK ((kind = 'answer') = (answers_id IS NOT NULL))
        );
        CREATE INDEX team_notes_by_day ON team_notes(day);
        CREATE INDEX team_notes_by_kind ON team_notes(kind, day);
        CREATE INDEX team_notes_by_answers ON team_notes(answers_id) WHERE answers_id IS NOT NULL;
        CREATE INDEX team_notes_by_item ON team_notes(item_id) WHERE item_id IS NOT NULL;

        CREATE INDEX oversight_coverage ON oversight_entries(crn, created_at, outcome);
        CREATE INDEX oversight_withdrawn ON oversight_entries(supersedes_id) WHERE outcome = 'withdrawn';
        CREATE INDEX countersigns_by_court ON countersigns(court_date) WHERE court_date IS NOT NULL;

        CREATE TRIGGER team_notes_no_update BEFORE UPDATE ON team_notes
        BEGIN
            SELECT RAISE(ABORT, 'team notes are append-only: add a new note');
        END;
        CREATE TRIGGER team_notes_no_delete BEFORE DELETE ON team_notes
        BEGIN
            SELECT RAISE(ABORT, 'team notes are append-only: add a new note');
        END;
        """
    )


@migrations(name="0005_oversight_chain")
def m0005_oversight_chain(db: Database) -> None:
    """The tamper-evident chain: one append-only link per oversight entry, hashing the entry with the
    previous link (``spo_tui.domain.chain``). Entries already stored are linked in the order made."""
    from spo_tui.store.writes import append_to_chain

    db.executescript(
        """
        CREATE TABLE oversight_chain (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            oversight_id TEXT NOT NULL UNIQUE REFERENCES oversight_entries(id),
            hash TEXT NOT NULL
        );
        CREATE TRIGGER oversight_chain_no_update BEFORE UPDATE ON oversight_chain
        BEGIN
            SELECT RAISE(ABORT, 'the oversight chain is append-only');
        END;
        CREATE TRIGGER oversight_chain_no_delete BEFORE DELETE ON oversight_chain
        BEGIN
            SELECT RAISE(ABORT, 'the oversight chain is append-only');
        END;
        """
    )
    from spo_tui.domain.chain import HASHED_FIELDS

    cursor = db.execute(f"SELECT {', '.join(HASHED_FIELDS)} FROM oversight_entries ORDER BY created_at, rowid")
    append_to_chain(db, [dict(zip(HASHED_FIELDS, row, strict=False)) for row in cursor])


@migrations(name="0006_stored_urgency")
def m0006_stored_urgency(db: Database) -> None:
    """Each open item's urgency score, stored so the queue is read in triage order from an index,
    a page at a time (``spo_tui.store.scoring``). NULL means "score me": triggers clear the score
    whenever a fact it depends on changes, and the next write or queue read scores it again."""
    db.executescript(
        """
        ALTER TABLE items ADD COLUMN urgency INTEGER;

        -- The triage order: alerts first, then higher scores, earlier due dates (undated last), ids.
        CREATE INDEX items_triage ON items(status, kind <> 'alert', urgency DESC, COALESCE(due, '9999-12-31'), id);
        CREATE INDEX items_triage_by_kind ON items(status, kind, urgency DESC, COALESCE(due, '9999-12-31'), id);
        CREATE INDEX items_unscored ON items(id) WHERE urgency IS NULL AND status <> 'closed';
        -- The queue's counts per kind (queries.queue_counts) from the index alone.
        CREATE INDEX items_counts ON items(status, kind, due, snoozed_until, assigned_to);

        CREATE TRIGGER items_rescore AFTER UPDATE OF kind, crn, status, due, created_at ON items
        BEGIN
            UPDATE items SET urgency = NULL WHERE id = NEW.id;
        END;
        CREATE TRIGGER cases_rescore AFTER UPDATE OF rosh, mappa_level ON cases
        BEGIN
            UPDATE items SET urgency = NULL WHERE crn = NEW.crn AND status <> 'closed';
        END;
        CREATE TRIGGER sbars_rescore_insert AFTER INSERT ON sbars
        BEGIN
            UPDATE items SET urgency = NULL WHERE id = NEW.item_id;
        END;
        CREATE TRIGGER sbars_rescore AFTER UPDATE OF urgency ON sbars
        BEGIN
            UPDATE items SET urgency = NULL WHERE id = NEW.item_id;
        END;
        CREATE TRIGGER countersigns_rescore_insert AFTER INSERT ON countersigns
        BEGIN
            UPDATE items SET urgency = NULL WHERE id = NEW.item_id;
        END;
        CREATE TRIGGER countersigns_rescore AFTER UPDATE OF kind, court_date ON countersigns
        BEGIN
            UPDATE items SET urgency = NULL WHERE id = NEW.item_id;
        END;
        """
    )


@migrations(name="0007_identity")
def m0007_identity(db: Database) -> None:
    """Who may act as whom: operating-system users linked to staff members (``spo_tui.services.identity``).

    A link says that OS user may act as that staff member (``--as`` chooses among an OS user's links);
    ``linked_by`` is the SPO who made it, NULL when it was made at set-up. Unlinking deletes the row:
    the audit log keeps the history. Audit rows gain the OS user who acted. The name last chosen with
    ``--as`` was kept in ``meta``, shared by everyone on the file: it is now kept per OS user outside
    the database (``spo_tui.config.remembered_actor``), so the shared one is dropped."""
    db.executescript(
        """
        CREATE TABLE staff_links (
            os_user TEXT NOT NULL CHECK (length(os_user) > 0),
            staff_id TEXT NOT NULL REFERENCES staff(id),
            linked_by TEXT REFERENCES staff(id),
            linked_at TEXT NOT NULL,
            PRIMARY KEY (os_user, staff_id)
        );
        CREATE INDEX staff_links_by_staff ON staff_links(staff_id);

        ALTER TABLE audit_log ADD COLUMN os_user TEXT;

        DELETE FROM meta WHERE key = 'default_actor';
        """
    )


#: The append-only tables of the record, and what their triggers say to anyone who tries to change one.
APPEND_ONLY = {
    "oversight_entries": "oversight entries are append-only: record a correction as a new entry",
    "oversight_snapshots": "what an oversight entry recorded is append-only",
    "audit_log": "the audit log is append-only",
    "team_notes": "team notes are append-only: add a new note",
    "ndelius_batches": "nDelius marks are append-only: un-mark a batch with a new record",
    "ndelius_marks": "nDelius marks are append-only: un-mark a batch with a new record",
    "record_chain": "the record chain is append-only",
    "chain_keys": "the keys of the record are append-only",
    "record_store": "the identity of a store never changes",
}


def record_triggers() -> dict[str, str]:
    """Every trigger guarding the record, by name, with its exact SQL (as ``sqlite_master`` keeps it):
    ``spo-tui verify`` checks that each exists unchanged and that no other trigger is on these tables."""
    triggers = {}
    for table, message in APPEND_ONLY.items():
        for verb in ("UPDATE", "DELETE"):
            name = f"{table}_no_{verb.lower()}"
            triggers[name] = (
                f"CREATE TRIGGER {name} BEFORE {verb} ON {table}\nBEGIN\n    SELECT RAISE(ABORT, '{message}');\nEND"
            )
    triggers["record_store_only_one"] = (
        "CREATE TRIGGER record_store_only_one BEFORE INSERT ON record_store WHEN EXISTS (SELECT 1 FROM record_store)\n"
        "BEGIN\n    SELECT RAISE(ABORT, 'a store has one identity');\nEND"
    )
    return triggers


@migrations(name="0008_record_chain")
def m0008_record_chain(db: Database) -> None:
    """The signed record (``spo_tui.domain.chain``): one hash chain over everything the export or a
    reader relies on, each link signed by the device key of the user who wrote it.

    - ``record_store``: the store's id, bound into the chain as its first link (anchors kept outside
      the file are keyed by it), and what the old chain's own check found when it was moved in.
    - ``chain_keys``: the public half of each device key that has written to this store.
    - ``record_chain``: the links, in order: kind and id of the record, the key that wrote it, the
      hash, the signature.
    - ``oversight_snapshots``: what an entry recorded beyond its own row: the decider's and the
      enterer's names and roles, and the agreed actions as agreed (description, owner, due), so that
      renaming a member of staff or editing the actions table no longer changes the export.
    - ``ndelius_batches`` and ``ndelius_marks`` replace ``ndelius_entries``: entries are marked
      entered in nDelius in batches (who, when, how many), and a batch is un-marked by a new record,
      after which its entries are exported again.

    Moving an existing store in: the old chain (``oversight_chain``) is checked as before and the
    result kept in ``record_store`` (a break found then stays reported by ``verify``); its entries
    are linked in the old chain's order, then the nDelius marks (each former export's marks, grouped
    by who marked them and when, become one batch), the audit log and the team notes. The snapshots
    of existing entries are taken from the staff and actions rows as they are now, which is the
    best the past allows: a name or an action changed before this migration cannot be recovered
    (they are marked ``taken = 'at migration 0008'``). The append-only triggers of the older tables
    are made again with the exact SQL ``verify`` expects. Signing needs this user's device key,
    which is made on first use (``spo_tui.store.signing``).
    """
    from spo_tui.store import writes

    db.executescript(
        """
        CREATE TABLE record_store (
            store_id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            legacy_links INTEGER,
            legacy_head TEXT,
            legacy_problem TEXT
        );
        CREATE TABLE chain_keys (
            key_id TEXT PRIMARY KEY,
            public_key TEXT NOT NULL,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE record_chain (
            position INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('store', 'key', 'oversight', 'ndelius', 'audit', 'team_note')),
            ref TEXT NOT NULL,
            key_id TEXT NOT NULL,
            hash TEXT NOT NULL,
            signature TEXT,
            UNIQUE (kind, ref)
        );
        CREATE TABLE oversight_snapshots (
            oversight_id TEXT PRIMARY KEY REFERENCES oversight_entries(id),
            decided_by_name TEXT NOT NULL,
            decided_by_role TEXT NOT NULL,
            entered_by_name TEXT NOT NULL,
            entered_by_role TEXT NOT NULL,
            actions TEXT NOT NULL,
            taken TEXT NOT NULL CHECK (taken IN ('at the time', 'at migration 0008'))
        );
        CREATE TABLE ndelius_batches (
            id TEXT PRIMARY KEY,
            action TEXT NOT NULL CHECK (action IN ('mark', 'unmark')),
            undoes TEXT REFERENCES ndelius_batches(id),
            by_id TEXT REFERENCES staff(id),
            at TEXT NOT NULL,
            entries INTEGER NOT NULL CHECK (entries >= 0),
            note TEXT NOT NULL DEFAULT '',
            CHECK ((action = 'unmark') = (undoes IS NOT NULL))
        );
        CREATE UNIQUE INDEX ndelius_batches_undone ON ndelius_batches(undoes) WHERE undoes IS NOT NULL;
        CREATE INDEX ndelius_batches_by_time ON ndelius_batches(at);
        CREATE TABLE ndelius_marks (
            batch_id TEXT NOT NULL REFERENCES ndelius_batches(id),
            oversight_id TEXT NOT NULL REFERENCES oversight_entries(id),
            PRIMARY KEY (batch_id, oversight_id)
        );
        CREATE INDEX ndelius_marks_by_entry ON ndelius_marks(oversight_id);
        """
    )
    writes.move_legacy_marks(db)
    legacy = writes.check_legacy_chain(db)
    writes.snapshot_all_oversight(db, taken="at migration 0008")
    writes.create_store(db, legacy=legacy)
    writes.link_all_records(db, legacy_order=legacy is not None)
    db.executescript("DROP TABLE IF EXISTS oversight_chain; DROP TABLE IF EXISTS ndelius_entries;")
    for name, sql in record_triggers().items():
        db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute(sql)


@migrations(name="0009_catch_up")
def m0009_catch_up(db: Database) -> None:
    """The catch-up list (``spo_tui.domain.urgency``): ``items.catch_up`` is 1 on a touch point that
    was already long overdue on the day it reached the queue (``rules.is_catch_up``), set when the
    item is made and never changed by the rules after. The score reads it, so a change to it clears
    the stored score as the other facts do (the trigger of 0006, made again with the new column).
    Existing items are not marked: nobody can tell now what was inherited and what fell behind."""
    db.executescript(
        """
        ALTER TABLE items ADD COLUMN catch_up INTEGER NOT NULL DEFAULT 0 CHECK (catch_up IN (0, 1));
        DROP TRIGGER items_rescore;
        CREATE TRIGGER items_rescore AFTER UPDATE OF kind, crn, status, due, created_at, catch_up ON items
        BEGIN
            UPDATE items SET urgency = NULL WHERE id = NEW.id;
        END;
        -- The catch-up view and its count (queries.queue_counts) without reading every open item.
        CREATE INDEX items_catch_up ON items(status, due) WHERE catch_up = 1;
        """
    )


@migrations(name="0010_waiting_on_others")
def m0010_waiting_on_others(db: Database) -> None:
    """Work someone else owes: on whom an item waits, since when, and the day it comes back on its
    own if they have not answered (a returned PSR at its deadline); the answers an SBAR received.

    ``waiting_on`` is the name as the SPO would say it ("Pat Officer", "PDU head (Dee Head)",
    "MAPPA"), kept as text so it still reads right after a person leaves. Items already waiting
    (more information asked, tasks delegated) are filled in from what the store holds.
    """
    db.executescript(
        """
        ALTER TABLE items ADD COLUMN waiting_on TEXT;
        ALTER TABLE items ADD COLUMN waiting_since TEXT;
        ALTER TABLE items ADD COLUMN waiting_until TEXT;
        ALTER TABLE sbars ADD COLUMN info_answer TEXT;
        ALTER TABLE sbars ADD COLUMN escalation_answer TEXT;
        CREATE INDEX items_waiting_until ON items(waiting_until) WHERE status = 'waiting' AND waiting_until IS NOT NULL;

        UPDATE items SET waiting_since = updated_at,
            waiting_on = COALESCE(
                (SELECT s.name FROM tasks t JOIN staff s ON s.id = t.delegated_to WHERE t.item_id = items.id),
                (SELECT s.name FROM staff s WHERE s.id = items.raised_by),
                (SELECT s.name FROM cases c JOIN staff s ON s.id = c.practitioner_id WHERE c.crn = items.crn),
                'the practitioner')
        WHERE status = 'waiting';
        """
    )


_KINDS_V1 = "kind IN ('alert', 'sbar', 'touch_point', 'countersign', 'task', 'action', 'supervision')"
_KINDS_WITH_CONFIRM = (
    "kind IN ('alert', 'sbar', 'touch_point', 'countersign', 'task', 'action', 'supervision', 'confirm')"
)


@migrations(name="0011_confirm_and_teams")
def m0011_confirm_and_teams(db: Database) -> None:
    """Entries made in the SPO's name wait for the SPO (``confirm`` items), and queues are per team.

    - ``items.kind`` also allows ``confirm``: an oversight entry a CASPO entered on the SPO's behalf
      sits in that SPO's queue until the SPO confirms it (``confirmed_at``/``confirmed_by``) or
      corrects it (a new entry superseding it, ``corrected_by``). Widening a CHECK changes nothing
      stored, so it is done the way SQLite documents for that (editing the table's SQL in the schema,
      ``PRAGMA writable_schema``) rather than copying a PDU's items into a new table.
    - ``staff_by_team`` serves team scoping: an item's team is its case's practitioner's team (or,
      with no case, its supervisee's or raiser's), filtered while the queue is read from its index.
    """
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'items'").fetchone()[0]
    if _KINDS_V1 in sql:
        version = db.execute("PRAGMA schema_version").fetchone()[0]
        db.execute("PRAGMA writable_schema = ON")
        db.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'items'",
            [sql.replace(_KINDS_V1, _KINDS_WITH_CONFIRM)],
        )
        db.execute(f"PRAGMA schema_version = {version + 1}")
        db.execute("PRAGMA writable_schema = OFF")
    db.executescript(
        """
        CREATE TABLE confirms (
            item_id TEXT PRIMARY KEY REFERENCES items(id),
            oversight_id TEXT NOT NULL REFERENCES oversight_entries(id),
            confirmed_at TEXT,
            confirmed_by TEXT REFERENCES staff(id),
            corrected_by TEXT REFERENCES oversight_entries(id)
        );
        CREATE INDEX confirms_by_oversight ON confirms(oversight_id);
        CREATE INDEX staff_by_team ON staff(team, role);
        """
    )


@migrations(name="0012_sync")
def m0012_sync(db: Database) -> None:
    """Working as a team through a hub (``spo_tui.store.changes``, ``docs/hub.md``).

    - ``changes``: every change this store has made or received: its id, this device's chain
      (``device``, ``device_seq``, ``prev``, ``hash``, ``signature``), the hybrid-logical-clock stamp,
      who acted and for which team, the row (table, key, insert/update/delete, the data as JSON), the
      transaction it came in and the stamp of the entity's last change known when it was made
      (``seen``); ``entity`` groups an item with its details; ``pushed`` and ``hub_seq`` say where
      it stands with the hub.
    - ``change_capture``: rows the capture triggers copy during a transaction, turned into changes
      before it commits. The triggers exist only on a connected store.
    - ``sync_state``: the hub this store is connected to, who the hub knows this login as, the last
      change pulled, the clock, the last sync and its outcome.
    """
    db.executescript(
        """
        CREATE TABLE changes (
            id TEXT PRIMARY KEY,
            device TEXT NOT NULL,
            device_seq INTEGER NOT NULL,
            prev TEXT NOT NULL,
            hash TEXT NOT NULL,
            signature TEXT,
            hlc TEXT NOT NULL,
            actor TEXT NOT NULL,
            team TEXT NOT NULL,
            tbl TEXT NOT NULL,
            pk TEXT NOT NULL,
            op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
            data TEXT NOT NULL,
            tx TEXT NOT NULL,
            seen TEXT NOT NULL,
            entity TEXT NOT NULL,
            origin TEXT NOT NULL CHECK (origin IN ('local', 'remote')),
            pushed INTEGER NOT NULL DEFAULT 0 CHECK (pushed IN (0, 1)),
            hub_seq INTEGER,
            UNIQUE (device, device_seq)
        );
        CREATE INDEX changes_by_entity ON changes(entity, hlc);
        CREATE INDEX changes_to_push ON changes(device_seq) WHERE pushed = 0;
        CREATE TABLE change_capture (
            n INTEGER PRIMARY KEY,
            tbl TEXT NOT NULL,
            pk TEXT NOT NULL,
            op TEXT NOT NULL,
            old TEXT,
            new TEXT
        );
        CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """
    )


@migrations(name="0013_device_chains")
def m0013_device_chains(db: Database) -> None:
    """What ``spo-tui verify`` needs to check the devices' chains offline
    (``spo_tui.domain.device_chains``), kept at each sync:

    - ``hub_devices``: each device the hub lists, its Ed25519 public key as first received (its
      ``key_id`` is the key's fingerprint, so a key is never replaced), the login it is registered
      to, that person's name and the device's label (user@host);
    - ``hub_checkpoints``: each device's newest checkpoint received whose signature holds (its head:
      place and hash, and when the hub recorded it); never moved back to an older one.
    """
    db.executescript(
        """
        CREATE TABLE hub_devices (
            key_id TEXT PRIMARY KEY,
            public_key TEXT NOT NULL,
            login TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            label TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE hub_checkpoints (
            device TEXT PRIMARY KEY,
            device_seq INTEGER NOT NULL,
            hash TEXT NOT NULL,
            signature TEXT NOT NULL,
            at TEXT NOT NULL
        );
        """
    )


@migrations(name="0014_team_kinds")
def m0014_team_kinds(db: Database) -> None:
    """What each team does (``spo_tui.domain.vocab.TeamKind``): ``teams`` holds the teams whose kind
    was set; any other team is sentence management. Staff keep their team as text (``staff.team``)."""
    db.executescript(
        """
        CREATE TABLE teams (
            name TEXT PRIMARY KEY CHECK (name <> ''),
            kind TEXT NOT NULL DEFAULT 'sentence_management' CHECK (kind IN ('sentence_management', 'court')),
            set_at TEXT NOT NULL,
            set_by TEXT REFERENCES staff(id)
        );
        """
    )


_CS_STATES_V1 = "state IN ('AWAITING_COUNTERSIGN', 'COUNTERSIGNED', 'REJECTED', 'AWAITING_DOUBLE_COUNTERSIGN', 'DOUBLE_COUNTERSIGNED')"
_CS_STATES_WITH_GATEKEEPING = (
    "state IN ('AWAITING_COUNTERSIGN', 'COUNTERSIGNED', 'REJECTED', 'AWAITING_DOUBLE_COUNTERSIGN', 'DOUBLE_COUNTERSIGNED', "
    "'AWAITING_GATEKEEP', 'GATEKEPT', 'RETURNED_TO_AUTHOR', 'NOT_REQUIRED')"
)


@migrations(name="0015_court_and_aqa")
def m0015_court_and_aqa(db: Database) -> None:
    """Court work and less countersigning at source (issue 16 §1–2) [000 §3.2–3.3].

    - ``countersigns.state`` also allows the gatekeeping words (``AWAITING_GATEKEEP``, ``GATEKEPT``,
      ``RETURNED_TO_AUTHOR``: a PSR is gatekept, not countersigned) and ``NOT_REQUIRED`` (an approved
      PO's OASys that skipped the queue, kept as a footprint). Widened as 0011 widened ``items.kind``.
    - ``countersigns.gatekeeper_id``: the peer PO a medium-RoSH PSR was routed to (NULL: the SPO);
      ``court_time`` (HH:MM) and ``oral`` for same-day and oral reports; ``sampled`` marks an approved
      PO's OASys that came to the SPO as the sample.
    - ``countersign_history.minutes``: how long a countersignature or gatekeeping took (optional).
    - ``aqa_ratings``: each AQA rating of a practitioner's OASys assessment (Good / Requires
      improvement / Inadequate), who rated it (a QDO or SPO) and when; approval follows from them.
    """
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'countersigns'").fetchone()[0]
    if _CS_STATES_V1 in sql:
        version = db.execute("PRAGMA schema_version").fetchone()[0]
        db.execute("PRAGMA writable_schema = ON")
        db.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'countersigns'",
            [sql.replace(_CS_STATES_V1, _CS_STATES_WITH_GATEKEEPING)],
        )
        db.execute(f"PRAGMA schema_version = {version + 1}")
        db.execute("PRAGMA writable_schema = OFF")
    db.executescript(
        """
        ALTER TABLE countersigns ADD COLUMN gatekeeper_id TEXT REFERENCES staff(id);
        ALTER TABLE countersigns ADD COLUMN court_time TEXT;
        ALTER TABLE countersigns ADD COLUMN oral INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE countersigns ADD COLUMN sampled INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE countersign_history ADD COLUMN minutes INTEGER;
        CREATE TABLE aqa_ratings (
            id TEXT PRIMARY KEY,
            staff_id TEXT NOT NULL REFERENCES staff(id),
            crn TEXT,
            assessment TEXT NOT NULL DEFAULT '',
            rating TEXT NOT NULL CHECK (rating IN ('GOOD', 'REQUIRES_IMPROVEMENT', 'INADEQUATE')),
            rated_by TEXT NOT NULL REFERENCES staff(id),
            rated_on TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX aqa_ratings_by_staff ON aqa_ratings(staff_id, rated_on);
        """
    )


@migrations(name="0016_workload_levels")
def m0016_workload_levels(db: Database) -> None:
    """Each oversight entry's level [001]: 1 quality assurance, 2 supervision, 3 immediate risk.

    The entries are signed (``0008_record_chain``): adding a column to them would change neither
    their hash nor their signature, but the level is not what was signed, so it is kept *beside*
    the entry, in ``oversight_levels``: one row per entry, written with it (``chosen`` = 1 when the
    SPO chose it in the form, 0 when derived by ``spo_tui.domain.levels.derive_level``), append-only
    like the entries. Existing entries get their derived level here (``set_at`` = 'at migration
    0016'); the signed rows are not touched. An entry with no row (one that came from a device not
    yet migrated) is shown with its derived level.
    """
    db.executescript(
        """
        CREATE TABLE oversight_levels (
            oversight_id TEXT PRIMARY KEY REFERENCES oversight_entries(id),
            level INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
            chosen INTEGER NOT NULL DEFAULT 0 CHECK (chosen IN (0, 1)),
            set_at TEXT NOT NULL
        );
        CREATE TRIGGER oversight_levels_no_update BEFORE UPDATE ON oversight_levels
        BEGIN
            SELECT RAISE(ABORT, 'an oversight entry keeps the level it was recorded with');
        END;
        CREATE TRIGGER oversight_levels_no_delete BEFORE DELETE ON oversight_levels
        BEGIN
            SELECT RAISE(ABORT, 'an oversight entry keeps the level it was recorded with');
        END;
        """
    )
    from spo_tui.store import writes

    writes.derive_missing_levels(db, set_at="at migration 0016")


@migrations(name="0017_custody_mappa")
def m0017_custody_mappa(db: Database) -> None:
    """Custody to community, and registrations' review periods [004, 001]:

    - ``cases``: ``release_date`` (release from prison, expected or actual), ``rotl_date`` (the next
      release on temporary licence), ``handover_date`` (OMiC: responsibility passes from the prison
      to the community), ``lifer_panel_date`` (the next lifer panel; a lifer is a case with the INLL
      registration), ``victim_contact`` (1 when the case is in the victim contact scheme, so the
      victim liaison officer must hear of a release). Columns of ``cases``, so they travel through
      the hub with the case.
    - ``case_flags.review_period_months``: how often the registration is reviewed, as the case record
      has it (``reviewPeriodMonths``); its next review stays ``review_date`` (``nextReviewDate``).
    """
    db.executescript(
        """
        ALTER TABLE cases ADD COLUMN release_date TEXT;
        ALTER TABLE cases ADD COLUMN rotl_date TEXT;
        ALTER TABLE cases ADD COLUMN handover_date TEXT;
        ALTER TABLE cases ADD COLUMN lifer_panel_date TEXT;
        ALTER TABLE cases ADD COLUMN victim_contact INTEGER NOT NULL DEFAULT 0 CHECK (victim_contact IN (0, 1));
        ALTER TABLE case_flags ADD COLUMN review_period_months INTEGER CHECK (review_period_months > 0);
        """
    )


@migrations(name="0018_assurance")
def m0018_assurance(db: Database) -> None:
    """Level-1 assurance and real delegation (``spo_tui.services.assurance``).

    - ``rcat_audits``: each R-CAT case audit recorded (the case, the practitioner who held it then,
      who audited it, the day, the outcome and notes, who entered it). Evidence: only ever inserted,
      so a practitioner audited in the last 12 months drops off the eligible list [000 §3.3].
    - ``tasks`` gain the facilities helpdesk reference, the escalation stage reached (0 none), when
      and to whom it was escalated, and when a delegated job past its target came back as a chase
      [002 §9 "Buildings and facilities management"].
    """
    db.executescript(
        """
        CREATE TABLE rcat_audits (
            id TEXT PRIMARY KEY,
            crn TEXT NOT NULL REFERENCES cases(crn),
            practitioner_id TEXT REFERENCES staff(id),
            audited_by TEXT NOT NULL REFERENCES staff(id),
            audited_on TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('good', 'requires_improvement', 'inadequate')),
            notes TEXT NOT NULL DEFAULT '',
            entered_by TEXT NOT NULL REFERENCES staff(id),
            created_at TEXT NOT NULL
        );
        CREATE INDEX rcat_by_practitioner ON rcat_audits(practitioner_id, audited_on);
        CREATE INDEX rcat_by_case ON rcat_audits(crn, audited_on);
        ALTER TABLE tasks ADD COLUMN helpdesk_ref TEXT;
        ALTER TABLE tasks ADD COLUMN escalation_stage INTEGER NOT NULL DEFAULT 0 CHECK (escalation_stage >= 0);
        ALTER TABLE tasks ADD COLUMN escalated_to TEXT;
        ALTER TABLE tasks ADD COLUMN escalated_at TEXT;
        ALTER TABLE tasks ADD COLUMN chased_at TEXT;
        """
    )


# The newest migration's name; tests use it to check an old database is brought forward.
LATEST = migrations._migrations[-1].name
