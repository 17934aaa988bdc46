"""R-CAT audits and facilities jobs' new facts travel through a real hub (PostgreSQL) [000 §3.3,
002 §9]: the CASPO records an audit and a helpdesk reference offline; after syncing, the SPO's and
the PDU head's replicas hold the same rows, and verify passes on each."""

from __future__ import annotations

import pytest
from conftest import HIGH_CRN, PO
from hub_replicas import team  # the fixture

pytestmark = pytest.mark.timeout(120)


def test_an_rcat_audit_and_a_helpdesk_reference_reach_every_replica(team):
    spo, caspo, head, _ids = team
    job = spo.ok("add", "task", "--title", "Lift out of order", "--category", "buildings").strip()
    spo.ok("sync")
    caspo.ok("sync")
    caspo.ok("rcat", "--record", HIGH_CRN, "--outcome", "good", "--by", "Sam Spo")
    caspo.ok("do", "helpdesk", job, "--text", "FM-40211")
    for replica in (caspo, spo, head):
        replica.ok("sync")
    audit = "SELECT crn, outcome, s.name FROM rcat_audits a JOIN staff s ON s.id = a.practitioner_id"
    assert spo.rows(audit) == caspo.rows(audit) == head.rows(audit) == [(HIGH_CRN, "good", PO)]
    ref = "SELECT helpdesk_ref, escalation_stage FROM tasks WHERE item_id = ?"
    assert spo.rows(ref, (job,)) == head.rows(ref, (job,)) == [("FM-40211", 0)]
    assert PO not in spo.ok("rcat")
    for replica in (spo, caspo, head):
        code, out, err = replica.run("verify")
        assert code == 0, (replica.name, out, err)
