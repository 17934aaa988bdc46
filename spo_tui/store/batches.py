"""Long work done as short transactions, resting between them so that other people's saves go through.

Each batch should hold the write lock for about ``TARGET_HOLD``: how many items that is depends on
the machine, how busy it is and how big the store is (each new item touches index pages all over
it), so ``Pace`` sizes each batch from how long the last one took, unless a fixed size is asked for.

A save that finds the write lock taken waits in SQLite's busy handler, which looks again after 1, 2,
5, 10 … ms and then every 100 ms, for up to the busy timeout (5 s). So the lock must be left free
between batches for long enough, and not in step with those looks: a rest exactly as long as each
batch makes a regular beat that a waiting save can keep missing for seconds (measured: 0.8 s, on a
2-CPU VM). The rest is as long as the batch took, times a random factor between 0.5 and 1.5: the
lock is free half of the time, at moments no beat can follow, so a waiting save finds it free
within a few looks.
"""

from __future__ import annotations

import random
import time

#: How long one batch should hold the write lock, in seconds.
TARGET_HOLD = 0.1
#: The shortest rest between batches, in seconds.
MIN_PAUSE = 0.005


def rest_after(held: float) -> None:
    """Rest after a batch that held the write lock for ``held`` seconds (see the module's note)."""
    time.sleep(max(MIN_PAUSE, held) * random.uniform(0.5, 1.5))


class Pace:
    """The size of the next batch, and the rest after each.

    ``size`` fixes every batch's size (tests ask for small ones); without it, batches start at
    ``start`` items and each is sized from the last so that it holds the lock about ``TARGET_HOLD``.
    """

    SMALLEST = 20
    LARGEST = 50_000

    def __init__(self, size: int | None, start: int) -> None:
        self.fixed = size is not None
        self.size = max(1, size) if size is not None else start

    def done(self, held: float) -> None:
        """A batch held the lock ``held`` seconds: size the next one, and rest."""
        if not self.fixed:
            factor = min(2.0, max(0.5, TARGET_HOLD / max(held, 1e-4)))  # change by at most half or double
            self.size = min(self.LARGEST, max(self.SMALLEST, int(self.size * factor)))
        rest_after(held)
