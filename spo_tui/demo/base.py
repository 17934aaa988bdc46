"""What every part of the builder shares: the seeded generators, the rows being built, ids, times
and days, names, and the open items all kinds of work are made of."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from spo_tui.demo.names import demo_names
from spo_tui.demo.scales import _Scale
from spo_tui.demo.vocab import _ON_SENTENCE
from spo_tui.domain.dates import add_working_days, from_iso, is_working_day
from spo_tui.domain.rules import Rules
from spo_tui.domain.vocab import RoSH
from spo_tui.services.context import LONDON

# Version 4, RFC 4122 variant: the bits uuid.UUID(int=..., version=4) clears and sets.
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID_SET = (0x8000 << 48) | (4 << 76)


def _apportion(n: int, shares: tuple[tuple[str, int], ...]) -> list[str]:
    """``n`` labels in the given proportions (largest remainders), unshuffled."""
    total = sum(w for _, w in shares)
    exact = [(label, n * w / total) for label, w in shares]
    counts = {label: int(x) for label, x in exact}
    rest = n - sum(counts.values())
    for label, _x in sorted(exact, key=lambda p: (-(p[1] - int(p[1])), p[0]))[:rest]:
        counts[label] += 1
    return [label for label, _ in shares for _ in range(counts[label])]


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


#: The tables the demo fills, in the order they are written (each row's references come first).
TABLES = (
    "staff",
    "teams",
    "aqa_ratings",
    "absences",
    "cases",
    "case_flags",
    "rcat_audits",
    "items",
    "sbars",
    "touch_points",
    "countersigns",
    "countersign_history",
    "alerts",
    "tasks",
    "supervision",
    "oversight_entries",
    "actions",
    "ndelius_batches",
    "ndelius_marks",
    "countersign_history",
    "transfers",
    "team_notes",
)


class _BuilderBase:
    """The state every part of the builder shares, and the small helpers they all use."""

    # Set by build_staff and build_terminations_done, read by later parts.
    shared: dict[str, list[dict[str, Any]]]
    team_of: dict[str, dict[str, Any]]
    done_termination: dict[str, str]

    def __init__(self, seed: int, scale: _Scale, today: date, now_iso: str, rules: Rules) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        # Names come from a generator of their own, so the name list can change without changing
        # anything else the seed gives (a str seed is hashed with SHA-512: the same on every install).
        self.name_rng = random.Random(f"spo-tui demo names {seed}")
        self.name_list = demo_names()
        self.spec = scale
        self.today = today
        self.rules = rules
        self.now_iso = now_iso
        now_local = from_iso(now_iso).astimezone(LONDON)
        self.now_minute = now_local.hour * 60 + now_local.minute if now_local.date() == today else 8 * 60 + 45
        self._offsets: dict[date, tuple[str, int]] = {}
        self.names: set[str] = set()
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        self.staff_by_id: dict[str, dict[str, Any]] = {}
        self.teams: list[dict[str, Any]] = []
        self.cases: list[dict[str, Any]] = []
        self.case_by_crn: dict[str, dict[str, Any]] = {}
        self.flags_by_crn: dict[str, list[tuple[str, date | None]]] = {}
        self.entries_by_crn: dict[str, list[dict[str, Any]]] = {}
        self.absent_today: set[str] = set()
        self._pools: dict[tuple[str, bool], list[dict[str, Any]]] = {}

    def uid(self) -> str:
        """``str(uuid.UUID(int=rng.getrandbits(128), version=4))``, written out for speed."""
        n = (self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def at(self, day: date, minute: int) -> str:
        """ISO UTC text for ``minute`` past local midnight on ``day`` in England and Wales."""
        cached = self._offsets.get(day)
        if cached is None:
            offset = datetime(day.year, day.month, day.day, 12, tzinfo=LONDON).utcoffset()
            assert offset is not None  # LONDON is a real zone
            cached = (day.isoformat(), int(offset.total_seconds() // 60))
            self._offsets[day] = cached
        utc_minute = minute - cached[1]
        if 0 <= utc_minute < 24 * 60:
            return f"{cached[0]}T{utc_minute // 60:02d}:{utc_minute % 60:02d}:00Z"
        moment = datetime(day.year, day.month, day.day) + timedelta(minutes=utc_minute)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def office_minute(self) -> int:
        return 8 * 60 + 30 + int(self.rng.random() * 541)

    def earlier_today(self, lo: int, hi: int) -> int:
        """A minute of today between ``hi`` and ``lo`` minutes before now (never before midnight)."""
        return max(0, self.now_minute - self.rng.randint(lo, hi))

    def stamp(self, day: date) -> str:
        """An office-hours timestamp on ``day``, or earlier this morning when ``day`` is today."""
        if day >= self.today:
            return self.at(self.today, self.earlier_today(5, 40))
        return self.at(day, self.office_minute())

    def working_day(self, day: date, lo: date, hi: date) -> date | None:
        """A working day near ``day`` (back first, then forward) within ``lo``..``hi``.

        A Saturday or Sunday moves to a weekday of its own week chosen by the week (not always the
        Friday before: that gave Fridays three days' worth of entries, 322 against 85–120 on other
        days [issue 16 §7]), so work spreads evenly over the week; a bank holiday moves back.
        """
        if lo <= day <= hi and day.weekday() >= 5:
            monday = day - timedelta(days=day.weekday())
            spread = monday + timedelta(days=(day.toordinal() // 7 * 2 + day.weekday()) % 5)
            if lo <= spread <= hi and is_working_day(spread):
                return spread
        d = min(day, hi)
        while d >= lo:
            if is_working_day(d):
                return d
            d -= timedelta(days=1)
        d = day + timedelta(days=1)
        while d <= hi:
            if is_working_day(d):
                return d
            d += timedelta(days=1)
        return None

    def working_days_ago(self, n: int) -> date:
        return add_working_days(self.today, -n) if n else self.today

    def person(self, female: bool) -> tuple[str, str]:
        names, pick = self.name_list, self.name_rng.choice
        first = pick(names.female) if female else pick(names.male)
        return first, pick(names.surnames)

    def staff_name(self) -> tuple[str, str]:
        while True:
            first, last = self.person(self.rng.random() < 0.62)
            if f"{first} {last}" not in self.names:
                self.names.add(f"{first} {last}")
                return first, last

    def words(self, c: dict[str, Any]) -> dict[str, str]:
        he = "he" if c["male"] else "she"
        mappa = (
            f"MAPPA category {c['mappa_category']} level {c['mappa_level']}"
            if c["mappa_category"]
            else "not MAPPA-eligible"
        )
        since = (self.today - c["start"]).days
        return {
            "mr": c["mr"],
            "name": c["name"],
            "he": he,
            "He": he.capitalize(),
            "his": "his" if c["male"] else "her",
            "him": "him" if c["male"] else "her",
            "pp": c["pp"]["name"],
            "on_sentence": _ON_SENTENCE[c["sentence_type"]],
            "rosh": RoSH(c["rosh"]).label.lower(),
            "mappa": mappa,
            "since": f"{since // 7} weeks ago" if since < 120 else f"{round(since / 30.4)} months ago",
        }

    def one(self, seq: tuple | list) -> Any:
        """``rng.choice`` for the hot paths: one float per pick (still fully determined by the seed)."""
        return seq[int(self.rng.random() * len(seq))]

    def item(
        self,
        kind: str,
        title: str,
        created_at: str,
        *,
        crn: str | None = None,
        due: date | None = None,
        raised_by: str | None = None,
        rule_key: str | None = None,
        status: str = "open",
        closed_at: str | None = None,
        closed_note: str | None = None,
        item_id: str | None = None,
    ) -> str:
        item_id = item_id or self.uid()
        self.rows["items"].append(
            {
                "id": item_id,
                "kind": kind,
                "crn": crn,
                "title": title[:200],
                "status": status,
                "due": due.isoformat() if due else None,
                "snoozed_until": None,
                "assigned_to": None,
                "raised_by": raised_by,
                "rule_key": rule_key,
                "created_at": created_at,
                "updated_at": closed_at or created_at,
                "closed_at": closed_at,
                "closed_note": closed_note,
            }
        )
        return item_id
