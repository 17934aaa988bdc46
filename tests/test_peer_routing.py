"""A PSR sent to a peer from the SPO's queue [000 §3.2]: "medium may be peer-gatekept by another
qualified PO (route it to a peer, with the SPO able to see it)". Entering a PSR with a gatekeeper
routes it at entry (tests/test_court_and_aqa.py); here the SPO routes one already in the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import HIGH_CRN, LOW_CRN, PO, PSO, TODAY, row, select_item, staff_id
from test_court_and_aqa import MED_CRN, NQO, PEER, PQIP, court  # the fixture

from spo_tui.domain.errors import NotAllowed, ValidationError
from spo_tui.services import countersigning, decisions, intake

COURT_DAY = TODAY + timedelta(days=3)


def _psr(ctx, crn=MED_CRN, author=PSO):
    return intake.add_countersign(ctx, crn, "PSR", author, court_date=COURT_DAY).item_id


def _state(ctx, item_id):
    return row(
        ctx.db,
        "SELECT i.status, i.waiting_on, i.waiting_until, c.state, c.gatekeeper_id"
        " FROM items i JOIN countersigns c ON c.item_id = i.id WHERE i.id = ?",
        [item_id],
    )


def test_the_spo_sends_a_medium_rosh_psr_to_a_peer_who_gatekeeps_it(court):
    """[000 §3.2] It waits on the peer (the SPO sees it in Waiting) until the court day; the peer's
    verdict is recorded as theirs; undoing the routing brings it back to the SPO."""
    item_id = _psr(court)
    assert _state(court, item_id)["status"] == "open"
    done = decisions.route_to_peer(court, item_id, PEER)
    assert done.message.endswith(f"is with {PEER} for peer gatekeeping (in Waiting)")
    assert dict(_state(court, item_id)) == {
        "status": "waiting",
        "waiting_on": f"{PEER} (peer gatekeeping)",
        "waiting_until": COURT_DAY.isoformat(),
        "state": "AWAITING_GATEKEEP",
        "gatekeeper_id": staff_id(court.db, PEER),
    }
    decisions.undo(court, done.audit_id, "Meant for another PSR")
    assert (_state(court, item_id)["status"], _state(court, item_id)["gatekeeper_id"]) == ("open", None)
    decisions.route_to_peer(court, item_id, PEER)
    verdict = countersigning.gatekeep(court, item_id, verdict="Proposal fits the risk", ready=True, peer=True)
    assert verdict.message.startswith(f"Gatekept — ready for court by {PEER}")


@pytest.mark.parametrize(
    ("crn", "author", "kind", "peer", "refusal"),
    [
        (HIGH_CRN, PO, "PSR", PEER, "gatekept by the SPO, not a peer"),  # high RoSH stays with the SPO
        (MED_CRN, PSO, "PSR", PSO, "not gatekept by its own author"),
        (MED_CRN, PSO, "PSR", PQIP, "must be a qualified PO"),  # a PQiP is not yet qualified
        (LOW_CRN, PO, "OASYS", PEER, "only a PSR awaiting gatekeeping goes to a peer"),
    ],
)
def test_what_may_not_go_to_a_peer_is_refused_and_nothing_changes(court, crn, author, kind, peer, refusal):
    """[000 §3.2] High and very high RoSH PSRs are the SPO's; a peer is a qualified PO, not the author;
    only PSRs are gatekept."""
    extra = {"court_date": COURT_DAY} if kind == "PSR" else {}
    item_id = intake.add_countersign(court, crn, kind, author, **extra).item_id
    before = dict(_state(court, item_id))
    with pytest.raises((NotAllowed, ValidationError), match=refusal):
        decisions.route_to_peer(court, item_id, peer)
    assert dict(_state(court, item_id)) == before


def test_the_picker_offers_qualified_pos_but_not_the_author(court):
    """The peers offered: POs and NQOs ([gatekeeping] peer_roles) of the team, not the report's author."""
    item_id = _psr(court, author=PEER)
    offered = {p["name"] for p in decisions.peer_choices(court, item_id)}
    assert offered == {PO, NQO}


async def _footer(pilot) -> list[str]:
    """The names of the keys the footer shows now."""
    from textual.widgets._footer import FooterKey

    await pilot.pause()
    await pilot.pause()
    return [key.description for key in pilot.app.screen.query(FooterKey) if key.display]


async def test_g_on_a_psr_in_the_queue_sends_it_to_a_peer(court, tmp_path, running_app):
    """Through the Today screen: ``g`` shows on a PSR (not on an OASys), offers the peers, and the
    PSR leaves the queue for Waiting."""
    from spo_tui.screens.prompts import ChoiceScreen

    psr = _psr(court)
    oasys = intake.add_countersign(court, LOW_CRN, "OASYS", PO).item_id
    high = _psr(court, HIGH_CRN, PO)
    court.db.close()
    async with running_app(tmp_path / "t.db") as (app, pilot):
        screen = app.screen
        await select_item(app, pilot, oasys)
        assert screen.check_action("peer_gatekeep", ()) is False
        keys = await _footer(pilot)
        assert "Sign off" in keys and "Return" in keys and "To a peer" not in keys
        # A high-RoSH PSR is the SPO's: said at once, before anyone is chosen.
        await select_item(app, pilot, high)
        await pilot.press("g")
        await pilot.pause()
        assert app.screen is screen
        assert any("gatekept by the SPO, not a peer" in n.message for n in app._notifications)
        await select_item(app, pilot, psr)
        assert screen.check_action("peer_gatekeep", ()) is True
        # Straight from the OASys to the PSR: the footer names the keys for a PSR [000 §3.2].
        keys = await _footer(pilot)
        assert "Gatekeep" in keys and "Send back" in keys and "To a peer" in keys and "Sign off" not in keys
        await pilot.press("g")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        names = [v for v, _label in picker.choices]
        assert PEER in names and PSO not in names
        await pilot.press(str(names.index(PEER) + 1))
        await pilot.pause()
        assert psr not in [e.id for e in screen.entries]
        assert any(f"is with {PEER} for peer gatekeeping" in n.message for n in app._notifications)
