"""Hybrid logical clocks: a time for every change that orders changes the same way on every replica.

A stamp is wall-clock milliseconds, a counter and the device's id, written so that sorting the text
sorts the stamps: ``000001764844800123-00000-<device>``. A device never issues a stamp lower than one
it has issued or received, even when its own clock is behind (the counter goes up instead), so a
change made after seeing another always has the higher stamp; two devices never issue the same one,
because the device id is part of it. Plain Python, no I/O: the caller passes the wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass

ZERO = ""


@dataclass(frozen=True)
class Stamp:
    millis: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.millis:018d}-{self.counter:05d}-{self.node}"


def parse(text: str) -> Stamp | None:
    """The stamp written as ``text``, or None for ``""`` (no stamp yet) or text that is not one."""
    try:
        millis, counter, node = text.split("-", 2)
        return Stamp(int(millis), int(counter), node)
    except ValueError:
        return None


def tick(last: str, wall_millis: int, node: str) -> str:
    """The next stamp for a change made now on ``node``, after ``last`` (issued or received)."""
    previous = parse(last)
    if previous is None or wall_millis > previous.millis:
        return str(Stamp(wall_millis, 0, node))
    return str(Stamp(previous.millis, previous.counter + 1, node))


def observe(last: str, received: str) -> str:
    """The clock after receiving ``received``: the later of the two (the next tick goes past both)."""
    return max(last, received, key=_order_key)


def _order_key(text: str) -> tuple[int, int, str]:
    stamp = parse(text)
    return (stamp.millis, stamp.counter, stamp.node) if stamp else (-1, -1, "")
