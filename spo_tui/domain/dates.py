"""Dates as the SPO types and reads them: working days, "tomorrow", "3d", "2d overdue".

Working days skip weekends and England & Wales bank holidays (from the ``holidays`` package).
Timestamps are stored as ISO-8601 UTC text; dates as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal, overload

from dateutil.relativedelta import relativedelta

from spo_tui.domain.errors import ValidationError

#: The dates spo-tui accepts, typed or imported: a year outside these is a typing slip (0001, 9999),
#: and the working-day arithmetic and the bank-holiday calendar are only meaningful between them.
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(_england_and_wales(year).keys())


@lru_cache(maxsize=64)
def _bank_holiday_names(year: int) -> dict[date, str]:
    return dict(_england_and_wales(year).items())


def _england_and_wales(year: int) -> Mapping[date, str]:
    """The bank holidays of ``year`` in England and Wales, which share one set: the ``holidays``
    package's, as ``holidays.country_holidays("GB", subdiv="ENG", years=year)`` gives them."""
    return _united_kingdom()(subdiv="ENG", years=year)


_calendar_lock = threading.Lock()
_calendar: Callable[..., Mapping[date, str]] | None = None


def _united_kingdom() -> Callable[..., Mapping[date, str]]:
    """The ``holidays`` package's United Kingdom calendar, loaded on first use and on its own.

    Nothing of ``holidays`` is imported until a working day is first counted (not at start-up). Then
    the package itself is, but its calendar of the United Kingdom is loaded alone: asking the package
    for a country (``country_holidays``) imports its ``countries`` package, which imports all of its
    250 or so countries' calendars first (50 ms, and the memory they take), none of which the UK's
    needs. Were the package laid out otherwise, it is asked the usual way.
    """
    global _calendar
    with _calendar_lock:
        if _calendar is None:
            _calendar = _load_united_kingdom()
        return _calendar


def _load_united_kingdom() -> Callable[..., Mapping[date, str]]:
    import importlib.util
    import sys
    from functools import partial
    from pathlib import Path

    import holidays

    name = "holidays.countries.united_kingdom"
    try:
        if "holidays.countries" in sys.modules:  # loaded already, every country with it
            return sys.modules["holidays.countries"].UnitedKingdom
        countries = importlib.util.find_spec("holidays.countries")  # found, not imported
        assert countries is not None and countries.submodule_search_locations
        spec = importlib.util.spec_from_file_location(
            name, Path(countries.submodule_search_locations[0]) / "united_kingdom.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.UnitedKingdom
    except Exception:
        return partial(holidays.country_holidays, "GB")


def not_working_because(day: date) -> str | None:
    """Why ``day`` is not a working day ("a Saturday", "a bank holiday (Christmas Day)"), or None."""
    if day.weekday() >= 5:
        return f"a {day:%A}"
    name = _bank_holiday_names(day.year).get(day)
    return f"a bank holiday ({name})" if name else None


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def is_working_day(day: date) -> bool:
    """True on Monday to Friday when it is not an England & Wales bank holiday."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (before it, for a negative count)."""
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    current = start
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if end is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


# --- Parsing dates the way people type them ------------------------------------------------------

_WEEKDAYS = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
_OFFSET = re.compile(r"^\+?(\d{1,3})\s*(d|day|days|w|wk|week|weeks|m|month|months|wd|working days?)$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


#: Which way a day and month typed without a year is read: ``future`` (a snooze, a due date, a
#: booking: today or later), ``past`` (when something happened: today or earlier) or ``nearest``
#: (an absence, which may have begun last week or begin next month).
DIRECTIONS = ("future", "past", "nearest")

#: A day and month without a year is read only within this many months of today (``[dates]
#: short_date_within_months`` in the rules): further away, the year must be typed.
SHORT_DATE_WITHIN_MONTHS = 6


def parse_when(
    text: str, today: date, *, direction: str = "future", within_months: int = SHORT_DATE_WITHIN_MONTHS
) -> date:
    """Parse a date as an SPO types it, relative to ``today``.

    Accepts ``today``, ``tomorrow`` (``tmw``), a weekday (``mon``, ``friday``: the next one after
    today), ``next mon``, an offset (``3d``, ``2w``, ``1m``, ``5wd`` for working days), a UK day and
    month (``25/12``), ``25/12/2026`` or ISO ``2026-12-25``.

    A day and month without a year is the nearest such date in ``direction`` (``DIRECTIONS``), and
    only within ``within_months`` of today: on 01/12/2026, "30/11" for a snooze would be
    30/11/2027, a year away, and is refused (a typing slip for a date that has just passed), where
    the old reading silently saved it. Type the year to mean a date further away.
    Raises ValidationError with an example of what works.
    """
    raw = (text or "").strip()
    value = raw.lower()
    if not value:
        raise ValidationError("type a date, e.g. tomorrow, mon, 3d or 25/12", field="date")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    return plausible(_parse_when(raw, value, today, direction, within_months), raw, "date")


def show_day(day: date) -> str:
    """A date as the screens show it: ``Thu 03/12/2026``."""
    return f"{day:%a %d/%m/%Y}"


def echo_when(
    text: str, today: date, *, direction: str = "future", within_months: int = SHORT_DATE_WITHIN_MONTHS
) -> str:
    """What a date field shows under what is typed, before anything is saved: ``= Thu 03/12/2026``,
    or the reason it cannot be read (empty while nothing is typed)."""
    if not (text or "").strip():
        return ""
    try:
        return "= " + show_day(parse_when(text, today, direction=direction, within_months=within_months))
    except ValidationError as error:
        return str(error)


def plausible(day: date, raw: str, field: str = "date") -> date:
    """``day``, or ValidationError when it is outside EARLIEST–LATEST (1900 to 2100)."""
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(
            f"'{raw}' is outside the dates spo-tui accepts ({EARLIEST.year} to {LATEST.year})", field=field
        )
    return day


def _parse_when(raw: str, value: str, today: date, direction: str, within_months: int) -> date:
    if value in ("today", "tod"):
        return today
    if value in ("tomorrow", "tmw", "tom", "tmrw"):
        return today + timedelta(days=1)
    if value in ("next week", "nw"):
        return today + relativedelta(weekday=0, days=1)
    words = value.split()
    if len(words) == 2 and words[0] == "next" and words[1] in _WEEKDAYS:
        value = words[1]
    if value in _WEEKDAYS:
        return today + relativedelta(days=1, weekday=_WEEKDAYS[value])
    if m := _OFFSET.match(value):
        n, unit = int(m.group(1)), m.group(2)
        if unit.startswith("wd") or unit.startswith("working"):
            return add_working_days(today, n)
        if unit.startswith("w"):
            return today + timedelta(weeks=n)
        if unit.startswith("m"):
            return today + relativedelta(months=n)
        return today + timedelta(days=n)
    if m := _ISO.match(value):
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), raw)
    if m := _DAY_MONTH.match(value):
        day, month, year = int(m.group(1)), int(m.group(2)), m.group(3)
        if year is not None:
            full_year = int(year) + (2000 if len(year) == 2 else 0)
            return _make_date(full_year, month, day, raw)
        return _short_date(raw, day, month, today, direction, within_months)
    raise ValidationError(
        f"cannot read '{raw}' as a date: try tomorrow, mon, 3d, 2w, 25/12 or 2026-12-25", field="date"
    )


def _short_date(raw: str, day: int, month: int, today: date, direction: str, within_months: int) -> date:
    """The date a day and month without a year stands for, or ValidationError saying why none."""
    candidates = [
        d for d in (_make_date(today.year + k, month, day, raw, leap_ok=True) for k in (-2, -1, 0, 1, 2)) if d
    ]
    if not candidates:  # 29/02 with no leap year near: _make_date raises for a real non-date
        raise ValidationError(f"'{raw}' is not a real date", field="date")
    if direction == "future":
        pool = [d for d in candidates if d >= today]
    elif direction == "past":
        pool = [d for d in candidates if d <= today]
    else:
        pool = candidates
    best = min(pool or candidates, key=lambda d: (abs((d - today).days), d))
    if pool and today - relativedelta(months=within_months) <= best <= today + relativedelta(months=within_months):
        return best
    span = f"{within_months} month{'s' if within_months != 1 else ''}"
    passed = max((d for d in candidates if d < today), default=None)
    coming = min((d for d in candidates if d > today), default=None)
    if direction == "future":
        why = (f"{passed:%d/%m/%Y} has passed and " if passed and passed.year >= today.year - 1 else "") + (
            f"{best:%d/%m/%Y} is more than {span} ahead"
        )
    elif direction == "past":
        why = (f"{coming:%d/%m/%Y} is still to come and " if coming and coming.year <= today.year + 1 else "") + (
            f"{best:%d/%m/%Y} is more than {span} ago"
        )
    else:
        why = f"{best:%d/%m/%Y} is more than {span} away"
    raise ValidationError(f"'{raw}': {why}; type the year if you mean it, e.g. {best:%d/%m/%Y}", field="date")


@overload
def _make_date(year: int, month: int, day: int, raw: str, leap_ok: Literal[False] = False) -> date: ...
@overload
def _make_date(year: int, month: int, day: int, raw: str, leap_ok: bool) -> date | None: ...
def _make_date(year: int, month: int, day: int, raw: str, leap_ok: bool = False) -> date | None:
    """The date, or ValidationError; None only for 29/02 in a year without it when ``leap_ok``."""
    try:
        return date(year, month, day)
    except ValueError:
        if leap_ok and month == 2 and day == 29:
            return None
        raise ValidationError(f"'{raw}' is not a real date", field="date") from None


def parse_date(text: str, field: str = "date") -> date:
    """Parse a stored or imported date: ISO ``YYYY-MM-DD`` or UK ``dd/mm/yyyy``, from 1900 to 2100."""
    raw = (text or "").strip()
    if m := _ISO.match(raw):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", raw):
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        raise ValidationError(f"'{raw}' is not a date: use dd/mm/yyyy or yyyy-mm-dd", field=field)
    try:
        day = date(y, mo, d)
    except ValueError:
        raise ValidationError(f"'{raw}' is not a real date", field=field) from None
    return plausible(day, raw, field)


# --- Showing dates -------------------------------------------------------------------------------


def relative_due(due: date | None, today: date) -> str:
    """How a due date reads in the queue: ``today``, ``tomorrow``, ``in 3d``, ``2d overdue``."""
    if due is None:
        return ""
    delta = (due - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta > 1:
        return f"in {delta}d"
    return f"{-delta}d overdue"


def utc_now() -> datetime:
    """The current time in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def to_iso(moment: datetime) -> str:
    """ISO-8601 UTC text with a ``Z``, as every timestamp is stored."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> datetime:
    """Read a stored timestamp back as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_time(text: str) -> datetime:
    """A stored UTC timestamp in the machine's local time, for display."""
    return from_iso(text).astimezone()


def uk_moment(text: str) -> str:
    """A stored date or date-and-time (``2026-12-04T10:30+00:00``) as the screen shows it: ``Fri
    04/12/2026 10:30`` in England and Wales time, or ``Fri 04/12/2026`` for a date alone. Text that is
    neither is given back as it is."""
    from datetime import datetime as _datetime
    from zoneinfo import ZoneInfo

    try:
        if "T" not in text:
            return f"{date.fromisoformat(text):%a %d/%m/%Y}"
        moment = _datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo("Europe/London"))
    return f"{moment:%a %d/%m/%Y %H:%M}"
