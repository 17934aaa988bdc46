"""The nDelius export: field by field, as CSV and as text; marking entries entered as new rows only."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, date, datetime

import pytest
from conftest import CASPO, HIGH_CRN, LOW_CRN, PO, SPO, fixed_clock, row, rows, snapshot, staff_id

from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.domain.ndelius import CSV_COLUMNS, RULE, Contact, contact_from_entry, contact_text, contacts_csv
from spo_tui.services import decisions, export
from spo_tui.services.context import make_context
from spo_tui.services.decisions import AgreedAction


def at(ctx, stamp: str):
    """The same user acting at another moment (``stamp`` ISO UTC)."""
    return dataclasses.replace(ctx, clock=fixed_clock(datetime.fromisoformat(stamp.replace("Z", "+00:00"))))


@pytest.fixture
def entries(ctx, db, rules) -> dict[str, str]:
    """Oversight entries of every shape the export must handle, keyed by a short name, made in this order.

    bst:      SPO, 1 July 2026 12:30 UTC (13:30 BST), guidance given, text with a comma, quotes and a line break
    caspo:    the CASPO on behalf of the SPO, 20 Nov 10:15, plan agreed, on the low-RoSH case
    actions:  SPO, 21 Nov 16:05, actions set, two agreed actions
    recall:   SPO, 22 Nov 08:00, recall type, decision to recall (MO5 / MO10)
    hvra:     SPO, 23 Nov 09:00, home-visit risk assessment (MO8), sensitive
    undone:   SPO, 23 Nov 09:00 (same second as hvra), later undone
    withdrawn: the correction undo wrote at 11:45, superseding ``undone``
    """
    made = {}
    made["bst"] = decisions.record_oversight(
        at(ctx, "2026-07-01T12:30:00Z"),
        crn=HIGH_CRN,
        outcome="guidance_given",
        discussed='New partner disclosed, "not serious" per PP',
        decision="Complete DA enquiries.\nReview in 2 weeks.",
    ).oversight_id
    caspo = make_context(db, rules, CASPO, clock=fixed_clock(datetime(2026, 11, 20, 10, 15, tzinfo=UTC)))
    made["caspo"] = decisions.record_oversight(
        caspo,
        crn=LOW_CRN,
        outcome="agreed",
        discussed="Sentence plan at commencement",
        decision="Plan agreed as drafted",
    ).oversight_id
    made["actions"] = decisions.record_oversight(
        at(ctx, "2026-11-21T16:05:00Z"),
        crn=HIGH_CRN,
        outcome="actions_set",
        discussed="Missed two appointments; new address not verified",
        decision="Verify the address before the next home visit",
        actions=[
            AgreedAction("Verify new address with police", PO, date(2026, 11, 27)),
            AgreedAction("Review compliance at next supervision", SPO, date(2026, 12, 4)),
        ],
    ).oversight_id
    made["recall"] = decisions.record_oversight(
        at(ctx, "2026-11-22T08:00:00Z"),
        crn=HIGH_CRN,
        type="recall",
        outcome="recall",
        discussed="Arrested for assault on partner",
        decision="Recall: risk no longer manageable in the community",
    ).oversight_id
    made["hvra"] = decisions.record_oversight(
        ctx,
        crn=LOW_CRN,
        type="home_visit",
        outcome="signed_off",
        sensitive=True,
        discussed="Home visit risk assessment",
        decision="Visit in pairs",
    ).oversight_id
    undone = decisions.record_oversight(ctx, crn=HIGH_CRN, outcome="agreed", discussed="Wrong case", decision="Agreed")
    made["undone"] = undone.oversight_id
    decisions.undo(at(ctx, "2026-11-23T11:45:00Z"), undone.audit_id, "Recorded in error on the wrong case")
    made["withdrawn"] = row(db, "SELECT id FROM oversight_entries WHERE supersedes_id = ?", [made["undone"]])["id"]
    return made


def notes(*lines: str) -> str:
    return "\n".join(lines)


def expected_notes(e: dict[str, str]) -> dict[str, str]:
    return {
        "bst": notes(
            "Comment added by Sam Spo on 01/07/2026 at 13:30",
            "",
            "Discussed:",
            'New partner disclosed, "not serious" per PP',
            "",
            "Decision / guidance:",
            "Complete DA enquiries.",
            "Review in 2 weeks.",
            "",
            "Outcome: Guidance given",
            "Oversight level: 2 (supervision)",
            "",
            "Agreed actions: none",
            "",
            "Decided by: Sam Spo (SPO)",
        ),
        "caspo": notes(
            "Comment added by Cas Admin on 20/11/2026 at 10:15",
            "",
            "Discussed:",
            "Sentence plan at commencement",
            "",
            "Decision / guidance:",
            "Plan agreed as drafted",
            "",
            "Outcome: Plan agreed",
            "Oversight level: 2 (supervision)",
            "",
            "Agreed actions: none",
            "",
            "Decided by: Sam Spo (SPO)",
            "Entered on behalf of Sam Spo by Cas Admin",
        ),
        "actions": notes(
            "Comment added by Sam Spo on 21/11/2026 at 16:05",
            "",
            "Discussed:",
            "Missed two appointments; new address not verified",
            "",
            "Decision / guidance:",
            "Verify the address before the next home visit",
            "",
            "Outcome: Actions set",
            "Oversight level: 2 (supervision)",
            "",
            "Agreed actions:",
            "- Verify new address with police - Pat Officer - due 27/11/2026",
            "- Review compliance at next supervision - Sam Spo - due 04/12/2026",
            "",
            "Decided by: Sam Spo (SPO)",
        ),
        "recall": notes(
            "Comment added by Sam Spo on 22/11/2026 at 08:00",
            "",
            "Discussed:",
            "Arrested for assault on partner",
            "",
            "Decision / guidance:",
            "Recall: risk no longer manageable in the community",
            "",
            "Outcome: Decision to Recall",
            "Oversight level: 3 (immediate risk)",
            "",
            "Agreed actions: none",
            "",
            "Decided by: Sam Spo (SPO)",
        ),
        "hvra": notes(
            "Comment added by Sam Spo on 23/11/2026 at 09:00",
            "",
            "Discussed:",
            "Home visit risk assessment",
            "",
            "Decision / guidance:",
            "Visit in pairs",
            "",
            "Outcome: Signed off",
            "Oversight level: 1 (quality assurance)",
            "",
            "Agreed actions: none",
            "",
            "Decided by: Sam Spo (SPO)",
        ),
        "undone": notes(
            "Comment added by Sam Spo on 23/11/2026 at 09:00",
            "",
            "Discussed:",
            "Wrong case",
            "",
            "Decision / guidance:",
            "Agreed",
            "",
            "Outcome: Plan agreed",
            "Oversight level: 2 (supervision)",
            "",
            "Agreed actions: none",
            "",
            "Decided by: Sam Spo (SPO)",
        ),
        "withdrawn": notes(
            "Comment added by Sam Spo on 23/11/2026 at 11:45",
            "Correction: supersedes the entry of 23/11/2026 09:00",
            "",
            "Discussed:",
            "Wrong case",
            "",
            "Decision / guidance:",
            "Withdrawn by Sam Spo: the entry of 23/11/2026 09:00 was recorded in error. Reason: Recorded in error on the wrong case",
            "",
            "Outcome: Withdrawn (correction)",
            "Oversight level: 2 (supervision)",
            "",
            "Agreed actions: none",
            "",
            "Decided by: Sam Spo (SPO)",
        ),
    }


ORDER = ["bst", "caspo", "actions", "recall", "hvra", "undone", "withdrawn"]

#: name -> (crn, date, time, type_code, type_label, outcome_code, outcome_label, staff, sensitive, entered_by)
FIELDS = {
    "bst": (HIGH_CRN, "01/07/2026", "13:30", "MO1", "Management Oversight", "", "Guidance given", SPO, "N", SPO),
    "caspo": (LOW_CRN, "20/11/2026", "10:15", "MO1", "Management Oversight", "", "Plan agreed", SPO, "N", CASPO),
    "actions": (HIGH_CRN, "21/11/2026", "16:05", "MO1", "Management Oversight", "", "Actions set", SPO, "N", SPO),
    "recall": (
        HIGH_CRN,
        "22/11/2026",
        "08:00",
        "MO5",
        "Management Oversight - Recall",
        "MO10",
        "Decision to Recall",
        SPO,
        "N",
        SPO,
    ),
    "hvra": (LOW_CRN, "23/11/2026", "09:00", "MO8", "Management Oversight - HVRA", "", "Signed off", SPO, "Y", SPO),
    "undone": (HIGH_CRN, "23/11/2026", "09:00", "MO1", "Management Oversight", "", "Plan agreed", SPO, "N", SPO),
    "withdrawn": (
        HIGH_CRN,
        "23/11/2026",
        "11:45",
        "MO1",
        "Management Oversight",
        "",
        "Withdrawn (correction)",
        SPO,
        "N",
        SPO,
    ),
}


def parse_csv(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames) == CSV_COLUMNS
    return list(reader)


# --- CSV, field by field -------------------------------------------------------------------------


def test_csv_has_every_pending_entry_oldest_first_field_by_field(ctx, entries):
    text, count = export.export_oversight(ctx, fmt="csv")
    assert count == 7
    assert text.splitlines()[0] == (
        "crn,date,time,type_code,type_label,outcome_code,outcome_label,staff,sensitive,notes,entered_by,supersedes,oversight_id"
    )
    parsed = parse_csv(text)
    assert [r["oversight_id"] for r in parsed] == [entries[name] for name in ORDER]
    want_notes = expected_notes(entries)
    for name, got in zip(ORDER, parsed, strict=False):
        crn, day, hhmm, type_code, type_label, outcome_code, outcome_label, staff, sensitive, entered_by = FIELDS[name]
        assert got == {
            "crn": crn,
            "date": day,
            "time": hhmm,
            "type_code": type_code,
            "type_label": type_label,
            "outcome_code": outcome_code,
            "outcome_label": outcome_label,
            "staff": staff,
            "sensitive": sensitive,
            "notes": want_notes[name],
            "entered_by": entered_by,
            "supersedes": entries["undone"] if name == "withdrawn" else "",
            "oversight_id": entries[name],
        }, name


def test_csv_rows_end_with_newline_and_quote_what_needs_it(ctx, entries):
    text, _ = export.export_oversight(ctx, fmt="csv")
    assert "\r" not in text
    assert text.endswith("\n")
    # The notes hold commas, quotes and line breaks: quoted, quotes doubled.
    assert (
        '"Comment added by Sam Spo on 01/07/2026 at 13:30\n\nDiscussed:\nNew partner disclosed, ""not serious"" per PP\n'
        in text
    )


def test_csv_of_nothing_is_the_header_only(ctx):
    text, count = export.export_oversight(ctx, fmt="csv")
    assert (text, count) == (",".join(CSV_COLUMNS) + "\n", 0)


# --- Text, exactly -------------------------------------------------------------------------------


def test_text_is_one_block_per_entry_separated_by_a_blank_line_and_a_rule(ctx, entries):
    text, count = export.export_oversight(ctx, fmt="text")
    assert count == 7
    n = expected_notes(entries)
    e = entries
    blocks = {
        "bst": f"Ref: {e['bst']}\nCRN: X123456\nContact type: MO1 Management Oversight\n"
        "Outcome: (none in nDelius) Guidance given\nDate: 01/07/2026\nTime: 13:30\nSensitive: No\nStaff: Sam Spo\n"
        f"Notes:\n{n['bst']}\n",
        "caspo": f"Ref: {e['caspo']}\nCRN: Y654321\nContact type: MO1 Management Oversight\n"
        "Outcome: (none in nDelius) Plan agreed\nDate: 20/11/2026\nTime: 10:15\nSensitive: No\nStaff: Sam Spo\n"
        f"Notes:\n{n['caspo']}\n",
        "actions": f"Ref: {e['actions']}\nCRN: X123456\nContact type: MO1 Management Oversight\n"
        "Outcome: (none in nDelius) Actions set\nDate: 21/11/2026\nTime: 16:05\nSensitive: No\nStaff: Sam Spo\n"
        f"Notes:\n{n['actions']}\n",
        "recall": f"Ref: {e['recall']}\nCRN: X123456\nContact type: MO5 Management Oversight - Recall\n"
        "Outcome: MO10 Decision to Recall\nDate: 22/11/2026\nTime: 08:00\nSensitive: No\nStaff: Sam Spo\n"
        f"Notes:\n{n['recall']}\n",
        "hvra": f"Ref: {e['hvra']}\nCRN: Y654321\nContact type: MO8 Management Oversight - HVRA\n"
        "Outcome: (none in nDelius) Signed off\nDate: 23/11/2026\nTime: 09:00\nSensitive: Yes\nStaff: Sam Spo\n"
        f"Notes:\n{n['hvra']}\n",
        "undone": f"Ref: {e['undone']}\nCRN: X123456\nContact type: MO1 Management Oversight\n"
        "Outcome: (none in nDelius) Plan agreed\nDate: 23/11/2026\nTime: 09:00\nSensitive: No\nStaff: Sam Spo\n"
        f"Notes:\n{n['undone']}\n",
        "withdrawn": f"Ref: {e['withdrawn']}\nCRN: X123456\nContact type: MO1 Management Oversight\n"
        "Outcome: (none in nDelius) Withdrawn (correction)\nDate: 23/11/2026\nTime: 11:45\nSensitive: No\n"
        f"Staff: Sam Spo\nNotes:\n{n['withdrawn']}\n",
    }
    assert text == f"\n{RULE}\n\n".join(blocks[name] for name in ORDER)
    assert RULE == "=" * 72
    assert text.count(RULE) == 6


def test_text_of_nothing_is_empty(ctx):
    assert export.export_oversight(ctx, fmt="text") == ("", 0)


def test_contact_text_of_a_team_entry_without_a_case():
    contact = contact_from_entry(
        {
            "id": "e1",
            "crn": None,
            "type": "management_oversight",
            "outcome": "guidance_given",
            "discussed": "Caseload",
            "decision": "Fine",
            "sensitive": 0,
            "created_at": "2026-01-15T17:00:00Z",
            "supersedes_id": None,
        },
        decided_by="Sam Spo",
        entered_by="Sam Spo",
        actions=[{"description": "Book RPSS", "owner": "Pat Officer", "due": None}],
    )
    assert contact.crn is None
    assert contact_text(contact).splitlines()[:3] == [
        "Ref: e1",
        "CRN: (none: not a case record)",
        "Contact type: MO1 Management Oversight",
    ]
    assert "Agreed actions:\n- Book RPSS - Pat Officer - no due date\n" in contact.notes
    row_ = next(csv.DictReader(io.StringIO(contacts_csv([contact]))))
    assert row_["crn"] == "" and row_["outcome_code"] == "" and row_["supersedes"] == ""


# --- The Contact values --------------------------------------------------------------------------


def test_pending_contacts_carry_the_fields_as_values(ctx, entries):
    contacts = {c.oversight_id: c for c in export.pending_oversight(ctx)}
    recall = contacts[entries["recall"]]
    assert recall == Contact(
        oversight_id=entries["recall"],
        crn=HIGH_CRN,
        date="22/11/2026",
        time="08:00",
        type_code="MO5",
        type_label="Management Oversight - Recall",
        outcome_code="MO10",
        outcome_label="Decision to Recall",
        notes=expected_notes(entries)["recall"],
        sensitive=False,
        staff=SPO,
        entered_by=SPO,
        supersedes=None,
    )
    assert contacts[entries["hvra"]].sensitive is True
    assert contacts[entries["hvra"]].outcome_code is None
    assert contacts[entries["withdrawn"]].supersedes == entries["undone"]
    assert (contacts[entries["caspo"]].staff, contacts[entries["caspo"]].entered_by) == (SPO, CASPO)


def test_a_decision_not_to_recall_is_mo11(ctx):
    entry_id = decisions.record_oversight(
        ctx, crn=HIGH_CRN, type="recall", outcome="no_recall", discussed="Missed appointment", decision="Warning letter"
    ).oversight_id
    (contact,) = export.pending_oversight(ctx)
    assert (contact.oversight_id, contact.type_code, contact.outcome_code, contact.outcome_label) == (
        entry_id,
        "MO5",
        "MO11",
        "Decision not to Recall",
    )


# --- Local time and the since filter -------------------------------------------------------------


def test_bst_times_show_as_uk_local_time(ctx):
    decisions.record_oversight(
        at(ctx, "2026-07-01T12:30:00Z"), crn=HIGH_CRN, outcome="agreed", discussed="D", decision="A"
    )
    decisions.record_oversight(
        at(ctx, "2026-10-25T00:30:00Z"), crn=HIGH_CRN, outcome="agreed", discussed="D", decision="A"
    )
    decisions.record_oversight(
        at(ctx, "2026-10-25T01:30:00Z"), crn=HIGH_CRN, outcome="agreed", discussed="D", decision="A"
    )
    got = [(c.date, c.time, c.notes.splitlines()[0]) for c in export.pending_oversight(ctx)]
    assert got == [
        ("01/07/2026", "13:30", "Comment added by Sam Spo on 01/07/2026 at 13:30"),
        ("25/10/2026", "01:30", "Comment added by Sam Spo on 25/10/2026 at 01:30"),  # still BST
        ("25/10/2026", "01:30", "Comment added by Sam Spo on 25/10/2026 at 01:30"),  # GMT again
    ]


def test_since_keeps_entries_made_on_or_after_that_uk_date(ctx, entries):
    assert [c.oversight_id for c in export.pending_oversight(ctx, since=date(2026, 11, 22))] == [
        entries[name] for name in ("recall", "hvra", "undone", "withdrawn")
    ]
    text, count = export.export_oversight(ctx, since=date(2026, 11, 23), fmt="csv")
    assert count == 3
    assert [r["oversight_id"] for r in parse_csv(text)] == [entries[n] for n in ("hvra", "undone", "withdrawn")]
    assert export.export_oversight(ctx, since=date(2026, 11, 24), fmt="csv")[1] == 0


def test_since_uses_the_uk_date_not_the_utc_date(ctx):
    # 30 June 23:30 UTC is 1 July 00:30 in London.
    entry_id = decisions.record_oversight(
        at(ctx, "2026-06-30T23:30:00Z"), crn=HIGH_CRN, outcome="agreed", discussed="D", decision="A"
    ).oversight_id
    (contact,) = export.pending_oversight(ctx, since=date(2026, 7, 1))
    assert (contact.oversight_id, contact.date, contact.time) == (entry_id, "01/07/2026", "00:30")
    assert export.pending_oversight(ctx, since=date(2026, 7, 2)) == []


# --- Marking entered: new rows, never an edit ----------------------------------------------------


def marks(db) -> list[dict]:
    """The marks in force: entry, who marked it and when (the batch's), in the order marked."""
    return rows(
        db,
        """SELECT m.oversight_id, b.by_id AS entered_by, b.at AS entered_at FROM ndelius_marks m
                       JOIN ndelius_batches b ON b.id = m.batch_id
                       WHERE NOT EXISTS (SELECT 1 FROM ndelius_batches u WHERE u.undoes = b.id) ORDER BY m.rowid""",
    )


def test_export_with_mark_entered_records_who_and_when_and_leaves_oversight_rows_alone(
    ctx, db, rules, entries, tmp_path
):
    before = snapshot(db)
    caspo = make_context(db, rules, CASPO, clock=fixed_clock(datetime(2026, 11, 23, 14, 5, tzinfo=UTC)))
    done = export.export_oversight_to_file(caspo, tmp_path / "out.txt", fmt="text", mark_entered=True)
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert done.count == 7 and text.count("Ref: ") == 7
    after = snapshot(db)
    assert after["oversight_entries"] == before["oversight_entries"]
    assert after["actions"] == before["actions"] and after["items"] == before["items"]
    assert marks(db) == [
        {"oversight_id": entries[name], "entered_by": staff_id(db, CASPO), "entered_at": "2026-11-23T14:05:00Z"}
        for name in ORDER
    ]
    batch = row(db, "SELECT * FROM ndelius_batches")
    assert (batch["id"], batch["action"], batch["by_id"], batch["entries"], batch["note"]) == (
        done.batch_id,
        "mark",
        staff_id(db, CASPO),
        7,
        "export to out.txt",
    )
    audit = row(db, "SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")
    assert (audit["action"], audit["entity"], audit["actor_id"], audit["on_behalf_of"], audit["at"]) == (
        "export_oversight",
        "oversight",
        staff_id(db, CASPO),
        staff_id(db, SPO),
        "2026-11-23T14:05:00Z",
    )
    assert json.loads(audit["new"]) == {
        "count": 7,
        "format": "text",
        "marked": True,
        "batch": done.batch_id,
        "file": "out.txt",
    }
    # Nothing is pending any more; a new entry is.
    assert export.export_oversight(caspo, fmt="csv") == (",".join(CSV_COLUMNS) + "\n", 0)
    fresh = decisions.record_oversight(caspo, crn=LOW_CRN, outcome="agreed", discussed="D", decision="A").oversight_id
    assert [c.oversight_id for c in export.pending_oversight(caspo)] == [fresh]


def test_export_without_marking_writes_only_the_disclosure_audit_row(ctx, db, entries):
    before = snapshot(db)
    text, count = export.export_oversight(ctx, fmt="csv")
    after = snapshot(db)
    assert count == 7
    chained = ("audit_log", "record_chain")  # the audit row and its link in the signed record
    assert {t: r for t, r in after.items() if t not in chained} == {t: r for t, r in before.items() if t not in chained}
    (new_audit,) = [r for r in after["audit_log"] if r not in before["audit_log"]]
    audit = row(db, "SELECT * FROM audit_log WHERE id = ?", [new_audit[0]])
    assert (audit["action"], audit["entity"], audit["entity_id"], audit["actor_id"], audit["at"]) == (
        "export_oversight",
        "oversight",
        None,
        staff_id(db, SPO),
        "2026-11-23T09:00:00Z",
    )
    assert json.loads(audit["new"]) == {"count": 7, "format": "csv", "marked": False}
    # Still pending: the same output again.
    assert export.export_oversight(ctx, fmt="csv") == (text, 7)


def test_mark_entered_with_since_marks_only_what_was_exported(ctx, db, entries, tmp_path):
    count = export.export_oversight_to_file(
        ctx, tmp_path / "out.csv", since=date(2026, 11, 23), mark_entered=True
    ).count
    assert count == 3
    marked = {r["oversight_id"] for r in marks(db)}
    assert marked == {entries[n] for n in ("hvra", "undone", "withdrawn")}
    assert [c.oversight_id for c in export.pending_oversight(ctx)] == [
        entries[n] for n in ("bst", "caspo", "actions", "recall")
    ]


def test_pending_excludes_entries_marked_entered(ctx, db, entries):
    assert export.mark_entered(ctx, [entries["caspo"], entries["recall"]]) == 2
    assert [c.oversight_id for c in export.pending_oversight(ctx)] == [
        entries[n] for n in ("bst", "actions", "hvra", "undone", "withdrawn")
    ]
    assert marks(db) == [
        {"oversight_id": entries["caspo"], "entered_by": staff_id(db, SPO), "entered_at": "2026-11-23T09:00:00Z"},
        {"oversight_id": entries["recall"], "entered_by": staff_id(db, SPO), "entered_at": "2026-11-23T09:00:00Z"},
    ]
    audit = row(db, "SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")
    assert (audit["action"], audit["entity"]) == ("mark_ndelius_entered", "oversight")
    batch = row(db, "SELECT id FROM ndelius_batches")["id"]
    assert json.loads(audit["new"]) == {
        "count": 2,
        "oversight_ids": [entries["caspo"], entries["recall"]],
        "batch": batch,
    }


def test_the_superseded_entry_stays_pending_until_marked_its_correction_too(ctx, entries):
    export.mark_entered(ctx, [entries["undone"]])
    pending = [c.oversight_id for c in export.pending_oversight(ctx)]
    assert entries["undone"] not in pending and entries["withdrawn"] in pending


def test_mark_entered_twice_is_refused_and_writes_nothing(ctx, db, rules, entries):
    caspo = make_context(db, rules, CASPO, clock=fixed_clock(datetime(2026, 11, 23, 14, 5, tzinfo=UTC)))
    export.mark_entered(caspo, [entries["caspo"]])
    before = snapshot(db)
    with pytest.raises(ValidationError) as refused:
        export.mark_entered(ctx, [entries["actions"], entries["caspo"]])
    assert str(refused.value) == (
        f"already marked as entered in nDelius: {entries['caspo']} by Cas Admin on 23/11/2026 at 14:05"
    )
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "ids, message",
    [
        ([], "choose at least one oversight entry to mark as entered in nDelius"),
        (["  "], "choose at least one oversight entry to mark as entered in nDelius"),
        (["no-such-id"], "no oversight entry with id no-such-id"),
    ],
)
def test_mark_entered_refuses_an_empty_choice_or_unknown_ids(ctx, db, entries, ids, message):
    before = snapshot(db)
    with pytest.raises(ValidationError, match="^" + message + "$"):
        export.mark_entered(ctx, ids)
    assert snapshot(db) == before


def test_mark_entered_with_an_unknown_id_among_good_ones_marks_none(ctx, db, entries):
    with pytest.raises(ValidationError, match="no oversight entry with id nope"):
        export.mark_entered(ctx, [entries["bst"], "nope"])
    assert rows(db, "SELECT * FROM ndelius_marks") == []


def test_an_id_chosen_twice_is_marked_once(ctx, db, entries):
    assert export.mark_entered(ctx, [entries["bst"], entries["bst"]]) == 1
    assert len(rows(db, "SELECT * FROM ndelius_marks")) == 1


def test_an_unknown_format_is_refused_and_nothing_is_written(ctx, db, entries):
    before = snapshot(db)
    with pytest.raises(ValidationError, match="unknown format 'xml': expected csv or text"):
        export.export_oversight(ctx, fmt="xml", mark_entered=True)
    assert snapshot(db) == before


def test_oversight_entries_stay_append_only_under_the_export(ctx, db, entries, tmp_path):
    export.export_oversight_to_file(ctx, tmp_path / "out.csv", mark_entered=True)
    with pytest.raises(Exception, match="append-only"):
        db.execute("UPDATE oversight_entries SET decision = 'x' WHERE id = ?", [entries["bst"]])


def test_only_an_spo_or_a_caspo_may_export_or_mark(ctx, db, rules, entries):
    po = make_context(db, rules, PO, clock=fixed_clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)))
    before = snapshot(db)
    with pytest.raises(NotAllowed, match="can export oversight for nDelius; Pat Officer is PO$"):
        export.export_oversight(po, fmt="text")
    with pytest.raises(NotAllowed, match="Pat Officer is PO"):
        export.mark_entered(po, [entries["bst"]])
    assert snapshot(db) == before
