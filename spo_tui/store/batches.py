"""Long work done as short transactions, resting between them so that other people's saves go through.

A save that finds the write lock taken waits in SQLite's busy handler, which looks again after 1, 2,
5, 10 … ms and then every 100 ms, for up to the busy timeout (5 s). Work done in batches must leave
the lock free between batches for long enough, and not in step with those looks: a rest exactly as
long as each batch makes a regular beat that a waiting save can keep missing for seconds (measured:
0.8 s, on a 2-CPU VM). So the rest is as long as the batch took, times a random factor between 1
and 2: the lock is free at least half of the time, at moments no beat can follow.
"""

from __future__ import annotations

import random
import time

#: The shortest rest between batches, in seconds.
MIN_PAUSE = 0.005


def rest_after(held: float) -> None:
    """Rest after a batch that held the write lock for ``held`` seconds (see the module's note)."""
    time.sleep(max(MIN_PAUSE, held) * random.uniform(1.0, 2.0))
