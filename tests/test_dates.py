"""Dates as the SPO types and reads them: working days, bank holidays, "mon", "3d", "2d overdue"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spo_tui.domain.dates import (
    add_working_days,
    echo_when,
    from_iso,
    is_working_day,
    parse_date,
    parse_when,
    relative_due,
    to_iso,
    working_days_between,
)
from spo_tui.domain.errors import ValidationError

MONDAY = date(2026, 11, 23)
ENG = holidays.country_holidays("GB", subdiv="ENG", years=[2026, 2027, 2028])


# --- Working days and bank holidays ---------------------------------------------------------------


def test_holidays_package_agrees_with_the_christmas_and_easter_dates_used_below():
    # Christmas 2026: Friday 25th; Boxing Day is a Saturday so Monday 28th is the substitute day.
    assert date(2026, 12, 25) in ENG
    assert date(2026, 12, 26).weekday() == 5
    assert date(2026, 12, 28) in ENG
    assert date(2027, 1, 1) in ENG
    # Easter 2027: Good Friday 26 March, Easter Monday 29 March.
    assert date(2027, 3, 26) in ENG
    assert date(2027, 3, 29) in ENG
    assert date(2026, 12, 24) not in ENG and date(2026, 12, 29) not in ENG


@pytest.mark.parametrize(
    "day, working",
    [
        (date(2026, 11, 23), True),  # Monday
        (date(2026, 11, 28), False),  # Saturday
        (date(2026, 11, 29), False),  # Sunday
        (date(2026, 12, 25), False),  # Christmas Day
        (date(2026, 12, 28), False),  # substitute Boxing Day
        (date(2026, 12, 24), True),
        (date(2027, 3, 26), False),  # Good Friday
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2026, 8, 31), False),  # summer bank holiday
    ],
)
def test_is_working_day_skips_weekends_and_bank_holidays(day, working):
    assert is_working_day(day) is working


def test_ten_working_days_across_christmas_skips_the_bank_holidays():
    # Raised Friday 18 Dec 2026. Counting by hand: 21, 22, 23, 24 (4); 25 Fri BH, 26-27 weekend,
    # 28 Mon substitute BH; 29, 30, 31 (7); 1 Jan BH, 2-3 weekend; 4, 5, 6 Jan (10).
    expected = date(2027, 1, 6)
    counted = [
        d for d in (date(2026, 12, 18) + timedelta(days=n) for n in range(1, 20)) if d.weekday() < 5 and d not in ENG
    ]
    assert counted[9] == expected
    assert add_working_days(date(2026, 12, 18), 10) == expected


def test_ten_working_days_across_easter_2027_skips_good_friday_and_easter_monday():
    # Raised Friday 19 March 2027: 22, 23, 24, 25 (4); 26 Good Friday; 27-28 weekend; 29 Easter
    # Monday; 30, 31, 1 Apr, 2 Apr (8); 3-4 weekend; 5, 6 Apr (10).
    expected = date(2027, 4, 6)
    counted = [
        d for d in (date(2027, 3, 19) + timedelta(days=n) for n in range(1, 20)) if d.weekday() < 5 and d not in ENG
    ]
    assert counted[9] == expected
    assert add_working_days(date(2027, 3, 19), 10) == expected


def test_working_days_backwards_step_over_a_bank_holiday_weekend():
    # One working day before Tuesday 29 Dec 2026 is Thursday 24 Dec (25 and 28 are bank holidays).
    assert add_working_days(date(2026, 12, 29), -1) == date(2026, 12, 24)
    # One before Tuesday 30 March 2027 is Thursday 25 March (Good Friday, Easter Monday).
    assert add_working_days(date(2027, 3, 30), -1) == date(2027, 3, 25)


def test_zero_working_days_is_the_same_day():
    assert add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 25)


def test_working_days_between_counts_both_ways():
    assert working_days_between(date(2026, 12, 18), date(2027, 1, 6)) == 10
    assert working_days_between(date(2027, 1, 6), date(2026, 12, 18)) == -10
    assert working_days_between(MONDAY, MONDAY) == 0


# --- parse_when ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("today", date(2026, 11, 23)),
        ("Today", date(2026, 11, 23)),
        ("tomorrow", date(2026, 11, 24)),
        ("tmw", date(2026, 11, 24)),
        ("mon", date(2026, 11, 30)),  # today is a Monday: the following Monday
        ("next mon", date(2026, 11, 30)),
        ("wed", date(2026, 11, 25)),
        ("friday", date(2026, 11, 27)),
        ("sun", date(2026, 11, 29)),
        ("3d", date(2026, 11, 26)),
        ("0d", date(2026, 11, 23)),
        ("+3 days", date(2026, 11, 26)),
        ("2w", date(2026, 12, 7)),
        ("1m", date(2026, 12, 23)),
        ("5wd", date(2026, 11, 30)),
        ("25/12", date(2026, 12, 25)),
        ("25/12/2026", date(2026, 12, 25)),
        ("25/12/26", date(2026, 12, 25)),
        ("25.12.2026", date(2026, 12, 25)),
        ("2026-12-25", date(2026, 12, 25)),
        ("  2026-12-25  ", date(2026, 12, 25)),
    ],
)
def test_parse_when_reads_what_an_spo_types(text, expected):
    assert parse_when(text, MONDAY) == expected


def test_a_weekday_from_a_midweek_day_is_the_next_one():
    wednesday = date(2026, 11, 25)
    assert parse_when("mon", wednesday) == date(2026, 11, 30)
    assert parse_when("wed", wednesday) == date(2026, 12, 2)  # never today
    assert parse_when("thu", wednesday) == date(2026, 11, 26)


def test_working_day_offset_skips_christmas():
    # Friday 18 Dec 2026 + 5 working days: 21, 22, 23, 24, then 29 (25 and 28 are bank holidays).
    assert parse_when("5wd", date(2026, 12, 18)) == date(2026, 12, 29)


def test_one_month_from_the_31st_lands_on_the_last_day_of_a_short_month():
    assert parse_when("1m", date(2027, 1, 31)) == date(2027, 2, 28)


def test_day_and_month_already_past_this_year_means_next_year_when_that_is_near():
    assert parse_when("01/01", date(2026, 11, 23)) == date(2027, 1, 1)
    assert parse_when("3/1", date(2026, 12, 28)) == date(2027, 1, 3)
    # Today itself is not "past".
    assert parse_when("25/12", date(2026, 12, 25)) == date(2026, 12, 25)


def test_a_day_and_month_just_passed_is_refused_never_saved_a_year_away():
    # Issue #12: on 01/12/2026 "until 30/11" saved 30/11/2027 and the item vanished for a year.
    with pytest.raises(ValidationError) as info:
        parse_when("30/11", date(2026, 12, 1))
    assert str(info.value) == (
        "'30/11': 30/11/2026 has passed and 30/11/2027 is more than 6 months ahead; "
        "type the year if you mean it, e.g. 30/11/2027"
    )
    assert info.value.field == "date"
    with pytest.raises(ValidationError, match="25/11/2026 has passed"):
        parse_when("25/11", date(2026, 12, 1))
    # The year typed: taken as meant.
    assert parse_when("30/11/2027", date(2026, 12, 1)) == date(2027, 11, 30)


def test_the_window_for_a_short_date_is_configurable():
    assert parse_when("30/11", date(2026, 12, 1), within_months=12) == date(2027, 11, 30)
    with pytest.raises(ValidationError, match="more than 1 month ahead"):
        parse_when("15/2", date(2026, 12, 1), within_months=1)


@pytest.mark.parametrize(
    "text, direction, expected",
    [
        ("30/11", "past", date(2026, 11, 30)),
        ("30/11", "nearest", date(2026, 11, 30)),
        ("3/12", "nearest", date(2026, 12, 3)),
        ("3/12", "future", date(2026, 12, 3)),
        ("2/6", "past", date(2026, 6, 2)),
        ("1/6", "nearest", date(2027, 6, 1)),
    ],
)
def test_a_short_date_is_the_nearest_in_the_direction_asked(text, direction, expected):
    assert parse_when(text, date(2026, 12, 1), direction=direction) == expected


def test_a_short_date_in_the_past_direction_refuses_a_date_to_come():
    with pytest.raises(ValidationError, match="03/12/2026 is still to come"):
        parse_when("3/12", date(2026, 12, 1), direction="past")


def test_the_echo_shows_the_resolved_date_or_why_not():
    assert echo_when("3/12", date(2026, 12, 1)) == "= Thu 03/12/2026"
    assert echo_when("tomorrow", date(2026, 12, 1)) == "= Wed 02/12/2026"
    assert echo_when("", date(2026, 12, 1)) == ""
    assert echo_when("30/11", date(2026, 12, 1)).startswith("'30/11': 30/11/2026 has passed")


def test_29_february_finds_the_leap_year_when_it_is_near():
    assert parse_when("29/02", date(2028, 1, 10)) == date(2028, 2, 29)
    assert parse_when("29/02", date(2027, 10, 1)) == date(2028, 2, 29)


def test_29_february_far_away_is_refused_with_a_message():
    # From November 2026 the next 29 February is in 2028: the code refuses rather than guess.
    with pytest.raises(ValidationError, match=r"^'29/02': 29/02/2028 is more than 6 months ahead") as info:
        parse_when("29/02", MONDAY)
    assert info.value.field == "date"


@pytest.mark.parametrize(
    "text, message",
    [
        ("blah", "cannot read 'blah' as a date: try tomorrow, mon, 3d, 2w, 25/12 or 2026-12-25"),
        ("31/02", "'31/02' is not a real date"),
        ("31/02/2027", "'31/02/2027' is not a real date"),
        ("2026-02-30", "'2026-02-30' is not a real date"),
        ("13/13", "'13/13' is not a real date"),
        ("", "type a date, e.g. tomorrow, mon, 3d or 25/12"),
        ("   ", "type a date, e.g. tomorrow, mon, 3d or 25/12"),
        ("3x", "cannot read '3x' as a date"),
    ],
)
def test_parse_when_refuses_bad_input_with_a_helpful_message(text, message):
    with pytest.raises(ValidationError) as info:
        parse_when(text, MONDAY)
    assert str(info.value).startswith(message)
    assert info.value.field == "date"


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=20),
        st.from_regex(r"\A[+]?\d{1,3} ?(d|w|m|wd|days|weeks|months|working days)\Z"),
        st.from_regex(r"\A\d{1,2}[/.-]\d{1,2}([/.-](\d{2}|\d{4}))?\Z"),
        st.from_regex(r"\A\d{4}-\d{2}-\d{2}\Z"),
        st.sampled_from(["mon", "next fri", "tomorrow", "today", "next week", "nw", "29/02", "00/00/0000"]),
    )
)
def test_parse_when_returns_a_date_or_a_validation_error_never_anything_else(text):
    try:
        result = parse_when(text, MONDAY)
    except ValidationError as error:
        assert str(error)
    else:
        assert isinstance(result, date)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=0, max_value=999), today=st.dates(date(2000, 1, 1), date(2098, 1, 1)))
def test_an_offset_in_days_is_always_today_plus_n(n, today):
    assert parse_when(f"{n}d", today) == today + timedelta(days=n)
    assert parse_when(f"{n} days", today) == today + timedelta(days=n)


@settings(max_examples=100, deadline=None)
@given(
    today=st.dates(date(2020, 1, 1), date(2040, 12, 31)),
    weekday=st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
)
def test_a_weekday_is_always_one_to_seven_days_ahead(today, weekday):
    result = parse_when(weekday, today)
    assert 1 <= (result - today).days <= 7
    assert result.strftime("%a").lower() == weekday


# --- parse_date, relative_due, timestamps --------------------------------------------------------


def test_parse_date_accepts_iso_and_uk_forms():
    assert parse_date("2026-12-25") == date(2026, 12, 25)
    assert parse_date("25/12/2026") == date(2026, 12, 25)
    assert parse_date("5/1/2027") == date(2027, 1, 5)


@pytest.mark.parametrize(
    "text, message",
    [
        ("2026/12/25", "'2026/12/25' is not a date: use dd/mm/yyyy or yyyy-mm-dd"),
        ("31/02/2026", "'31/02/2026' is not a real date"),
    ],
)
def test_parse_date_refuses_with_the_field_named(text, message):
    with pytest.raises(ValidationError, match=message) as info:
        parse_date(text, field="sentence_start")
    assert info.value.field == "sentence_start"


@pytest.mark.parametrize(
    "due, text",
    [
        (None, ""),
        (date(2026, 11, 23), "today"),
        (date(2026, 11, 24), "tomorrow"),
        (date(2026, 11, 26), "in 3d"),
        (date(2026, 11, 22), "1d overdue"),
        (date(2026, 11, 21), "2d overdue"),
        (date(2026, 10, 24), "30d overdue"),
    ],
)
def test_relative_due_reads_like_the_queue(due, text):
    assert relative_due(due, MONDAY) == text


def test_timestamps_are_stored_as_utc_with_a_z_and_read_back_equal():
    summer = datetime(2026, 7, 1, 14, 30, tzinfo=timezone(timedelta(hours=1)))  # 14:30 BST
    text = to_iso(summer)
    assert text == "2026-07-01T13:30:00Z"
    assert from_iso(text) == summer
    assert from_iso(text).tzinfo is not None
    assert to_iso(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == "2026-11-23T09:00:00Z"
