"""The rules replicas agree by (spo_tui.domain.merge, spo_tui.domain.hlc): the same set of changes
gives the same rows, whatever order they arrived in."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from spo_tui.domain import hlc, merge
from spo_tui.domain.merge import Change

ITEM = "item-1"


def stamp(millis: int, node: str = "a", counter: int = 0) -> str:
    return str(hlc.Stamp(millis, counter, node))


def insert(at: int = 1) -> Change:
    return Change("c0", stamp(at, "a"), 1, "items", ITEM, "insert", {"id": ITEM, "status": "open"}, "t0", "")


def update(cid: str, at: int, node: str, data: dict, seen: str, role: str = "SPO") -> Change:
    return Change(cid, stamp(at, node), at, "items", ITEM, "update", data, f"tx-{cid}", seen, role)


def status_after(changes: list[Change]) -> str:
    row = merge.fold(changes)[("items", ITEM)]
    assert row is not None
    return row["status"]


def test_a_stamp_never_goes_back_and_orders_as_text():
    first = hlc.tick("", 1000, "a")
    behind = hlc.tick(first, 900, "a")  # this machine's clock went back: the counter goes up instead
    assert behind > first
    received = hlc.observe(behind, stamp(5000, "b"))
    assert hlc.tick(received, 1000, "a") > stamp(5000, "b")


def test_a_closing_decision_beats_a_concurrent_snooze_whichever_is_later():
    base = insert()
    seen = base.hlc
    close = update("close", 10, "spo", {"status": "closed"}, seen)
    snooze = update("snooze", 20, "caspo", {"status": "snoozed", "snoozed_until": "2026-12-07"}, seen, "CASPO")
    assert status_after([base, close, snooze]) == "closed"
    assert status_after([snooze, base, close]) == "closed"


def test_an_spos_change_beats_a_concurrent_caspos_even_when_earlier():
    base = insert()
    spo = update("spo", 10, "spo", {"assigned_to": "pat"}, base.hlc, "SPO")
    caspo = update("caspo", 20, "caspo", {"assigned_to": "pip"}, base.hlc, "CASPO")
    rows = merge.fold([base, caspo, spo])
    assert rows[("items", ITEM)]["assigned_to"] == "pat"


def test_otherwise_the_later_stamp_wins():
    base = insert()
    early = update("early", 10, "a", {"assigned_to": "pat"}, base.hlc)
    late = update("late", 20, "b", {"assigned_to": "pip"}, base.hlc)
    assert merge.fold([late, early, base])[("items", ITEM)]["assigned_to"] == "pip"


def test_a_change_made_after_seeing_a_close_applies_over_it():
    """Undo on the machine that closed the item (or any machine that had seen the close) reopens it."""
    base = insert()
    close = update("close", 10, "spo", {"status": "closed"}, base.hlc)
    reopen = update("reopen", 20, "spo", {"status": "open"}, close.hlc)
    assert status_after([reopen, close, base]) == "open"


def test_the_first_insert_of_a_row_made_on_two_replicas_is_kept():
    one = Change("i1", stamp(5, "a"), 1, "items", ITEM, "insert", {"id": ITEM, "title": "from a"}, "ta", "")
    two = Change("i2", stamp(3, "b"), 1, "items", ITEM, "insert", {"id": ITEM, "title": "from b"}, "tb", "")
    assert merge.fold([one, two])[("items", ITEM)]["title"] == "from b"


def test_a_decision_on_the_item_and_its_detail_stands_or_falls_together():
    base = insert()
    detail = Change("d0", base.hlc, 2, "sbars", ITEM, "insert", {"item_id": ITEM, "state": "new"}, "t0", "")
    close = update("close", 10, "spo", {"status": "closed"}, base.hlc)
    decided = Change("d1", close.hlc, 11, "sbars", ITEM, "update", {"state": "decided"}, close.tx, base.hlc, "SPO")
    snooze = update("snooze", 20, "caspo", {"status": "snoozed"}, base.hlc, "CASPO")
    rows = merge.fold([snooze, decided, base, close, detail])
    assert rows[("items", ITEM)]["status"] == "closed"
    assert rows[("sbars", ITEM)]["state"] == "decided"


statuses = st.sampled_from(["open", "closed", "snoozed", "waiting"])
roles = st.sampled_from(["SPO", "CASPO", "PO"])


@given(st.lists(st.tuples(statuses, roles, st.integers(2, 50), st.booleans()), min_size=1, max_size=6))
def test_every_order_of_arrival_gives_the_same_rows(edits):
    """Property: the fold depends on the set of changes, never on the order they came in."""
    base = insert()
    changes = [base]
    for n, (status, role, at, saw_previous) in enumerate(edits):
        seen = changes[-1].hlc if saw_previous else base.hlc
        changes.append(update(f"u{n}", at, f"n{n}", {"status": status}, seen, role))
    results = {str(merge.fold(list(order))) for order in itertools.islice(itertools.permutations(changes), 40)}
    assert len(results) == 1
