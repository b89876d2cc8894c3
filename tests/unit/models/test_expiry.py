"""The expires_at parser: a table of real-world values, then properties over generated ones."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from costwarden.models.expiry import (
    MalformedExpiry,
    describe_expiry,
    describe_remaining,
    format_expiry,
    parse_expires_at,
)
from hypothesis import given
from hypothesis import strategies as st


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


VALID = [
    # date alone: lives through that UTC day
    ("2026-12-01", utc(2026, 12, 2)),
    ("2026-12-31", utc(2027, 1, 1)),
    ("2028-02-29", utc(2028, 3, 1)),  # leap day
    ("2026-02-28", utc(2026, 3, 1)),
    (" 2026-12-01 ", utc(2026, 12, 2)),  # surrounding whitespace from tag editors
    ("2026-12-01\n", utc(2026, 12, 2)),
    ("9999-12-31", datetime.max.replace(tzinfo=UTC)),  # "never"
    # naive date-time = UTC
    ("2026-12-01T18:00:00", utc(2026, 12, 1, 18)),
    ("2026-12-01T18:00", utc(2026, 12, 1, 18)),
    ("2026-12-01 18:00:00", utc(2026, 12, 1, 18)),
    ("2026-12-01t18:00:00", utc(2026, 12, 1, 18)),
    ("2026-12-01T00:00:00", utc(2026, 12, 1)),  # midnight at the start of the day, not the end
    ("2026-12-01T23:59:59", utc(2026, 12, 1, 23, 59, 59)),
    ("2026-12-01T18:00:00.123", utc(2026, 12, 1, 18, 0, 0, 123000)),
    ("2026-12-01T18:00:00.123456789", utc(2026, 12, 1, 18, 0, 0, 123456)),
    ("2026-12-01T18:00:00,5", utc(2026, 12, 1, 18, 0, 0, 500000)),
    # Z and offsets
    ("2026-12-01T18:00:00Z", utc(2026, 12, 1, 18)),
    ("2026-12-01T18:00:00z", utc(2026, 12, 1, 18)),
    ("2026-12-01T18:00:00+02:00", utc(2026, 12, 1, 16)),
    ("2026-12-01T18:00:00-05:00", utc(2026, 12, 1, 23)),
    ("2026-12-01T01:00:00+05:30", utc(2026, 11, 30, 19, 30)),  # offset crosses the day back
    ("2026-12-01T22:00:00-03:00", utc(2026, 12, 2, 1)),  # and forward
    ("2026-12-01T18:00:00+0200", utc(2026, 12, 1, 16)),
    ("2026-12-01T18:00:00+02", utc(2026, 12, 1, 16)),
    ("2026-12-01T18:00:00-00:00", utc(2026, 12, 1, 18)),
    ("2026-12-31T23:30:00-01:00", utc(2027, 1, 1, 0, 30)),  # year boundary
]

MALFORMED = [
    ("next week", "relative"),
    ("tomorrow", "relative"),
    ("31/12/2026", "YYYY-MM-DD"),
    ("12/31/2026", "YYYY-MM-DD"),
    ("2026/12/31", "YYYY-MM-DD"),
    ("31.12.2026", "YYYY-MM-DD"),
    ("2026-13-01", "month 13"),
    ("2026-00-10", "month 00"),
    ("2026-02-30", "day 30"),
    ("2027-02-29", "day 29"),
    ("2026-12-32", "day 32"),
    ("0000-01-01", "year 0000"),
    ("", "empty"),
    ("   ", "empty"),
    ("\t\n", "empty"),
    ("1767225600", "epoch"),
    ("1767225600000", "epoch"),
    ("1767225600.5", "epoch"),
    ("20261201", "basic format"),
    ("20261201T180000Z", "basic format"),
    ("2026-335", "ordinal"),
    ("2026-W49-2", "week"),
    ("2026W49", "week"),
    ("1st December 2026", "ISO 8601"),
    ("December 1, 2026", "ISO 8601"),
    ("2026-12-01T24:00:00", "hour 24"),
    ("2026-12-01T18:60", "minute 60"),
    ("2026-12-01T23:59:60Z", "leap seconds"),
    ("2026-12-01T18:00:00+24:00", "offset"),
    ("2026-12-01T18:00:00+02:60", "offset"),
    ("2026-12-01Z", "takes no UTC offset"),
    ("2026-12-01+02:00", "takes no UTC offset"),
    ("2026-12-1", "ISO 8601"),
    ("26-12-01", "ISO 8601"),
    ("2026-12-01T18", "ISO 8601"),
    ("2026-12-01T18:00:00 UTC", "ISO 8601"),
    ("2026-12-01T18:00:00+02:00[Europe/Paris]", "ISO 8601"),
    ("\uff12\uff10\uff12\uff16-\uff11\uff12-\uff10\uff11", "non-ASCII"),  # full-width digits
    ("never", "relative"),
    ("none", "relative"),
    ("2026-12-01 2026-12-02", "ISO 8601"),
]


@pytest.mark.parametrize(("value", "expected"), VALID)
def test_accepted_values(value: str, expected: datetime) -> None:
    assert parse_expires_at(value).expired_from == expected


@pytest.mark.parametrize(("value", "fragment"), MALFORMED)
def test_malformed_values_say_why(value: str, fragment: str) -> None:
    with pytest.raises(MalformedExpiry) as caught:
        parse_expires_at(value)
    assert fragment in caught.value.reason
    assert caught.value.value == value


def test_table_is_large() -> None:
    assert len(VALID) + len(MALFORMED) >= 30


def test_date_alone_boundary() -> None:
    expiry = parse_expires_at("2026-12-01")
    assert expiry.date_only
    assert not expiry.is_expired(utc(2026, 12, 1, 23, 59, 59, 999999))
    assert expiry.is_expired(utc(2026, 12, 2))


# -- properties ------------------------------------------------------------------------------------------------
dates = st.dates(min_value=datetime(1, 1, 2).date(), max_value=datetime(9999, 12, 30).date())
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)


@given(dates)
def test_date_alone_expires_at_next_utc_midnight(day: object) -> None:
    assert hasattr(day, "isoformat")
    expiry = parse_expires_at(day.isoformat())  # type: ignore[attr-defined]
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)  # type: ignore[attr-defined]
    assert expiry.expired_from == start + timedelta(days=1)
    assert not expiry.is_expired(start + timedelta(hours=23, minutes=59, seconds=59))


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)), offsets)
def test_offsets_are_honoured(moment: datetime, offset_minutes: int) -> None:
    moment = moment.replace(microsecond=0)
    tz = timezone(timedelta(minutes=offset_minutes))
    text = moment.replace(tzinfo=tz).isoformat()
    assert parse_expires_at(text).expired_from == moment.replace(tzinfo=tz).astimezone(UTC)


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_naive_is_utc_and_format_round_trips(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    parsed = parse_expires_at(moment.isoformat()).expired_from
    assert parsed == moment.replace(tzinfo=UTC)
    assert parse_expires_at(format_expiry(parsed)).expired_from == parsed


@given(st.integers(min_value=0, max_value=10**13))
def test_epoch_numbers_are_malformed(number: int) -> None:
    with pytest.raises(MalformedExpiry):
        parse_expires_at(str(number))


@given(st.text(max_size=40))
def test_any_text_parses_to_utc_or_is_malformed_with_a_reason(text: str) -> None:
    try:
        expiry = parse_expires_at(text)
    except MalformedExpiry as error:
        assert error.reason
    else:
        assert expiry.expired_from.tzinfo is not None
        assert expiry.expired_from.utcoffset() == timedelta(0)


@given(st.text(alphabet="0123456789-T:Z+ .", max_size=30))
def test_datelike_noise_never_crashes(text: str) -> None:
    with contextlib.suppress(MalformedExpiry):
        parse_expires_at(text)


def test_describe_remaining() -> None:
    assert describe_remaining(timedelta(days=2, hours=3, minutes=5)) == "2d 3h"
    assert describe_remaining(timedelta(hours=5, minutes=10)) == "5h 10m"
    assert describe_remaining(timedelta(minutes=12)) == "12m"
    assert describe_remaining(timedelta(minutes=-1)) == "already past"


# -- "never" and the calendar's edges (the validator once crashed on these with OverflowError) ------------------
NEVER = ["9999-12-31", "9999-12-31T23:59:59", "9999-12-31T23:59:59Z", "9999-12-31T20:00:00-05:00", " 9999-12-31 "]


@pytest.mark.parametrize("value", NEVER)
def test_end_of_calendar_means_never(value: str) -> None:
    expiry = parse_expires_at(value)
    assert expiry.never
    assert not expiry.is_expired(datetime.max.replace(tzinfo=UTC))
    assert "never" in describe_expiry(expiry)


def test_an_ordinary_date_is_not_never() -> None:
    expiry = parse_expires_at("9999-12-30T23:59:59Z")
    assert not expiry.never and expiry.is_expired(datetime.max.replace(tzinfo=UTC))


edge_days = st.sampled_from(["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31"])
edge_times = st.times().map(lambda t: t.replace(microsecond=0).isoformat())
offset_text = offsets.map(lambda m: f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}")


@given(edge_days, edge_times, st.one_of(st.just(""), st.just("Z"), offset_text))
def test_calendar_edges_never_raise_anything_but_malformed(day: str, time: str, tz: str) -> None:
    expiry = parse_expires_at(f"{day}T{time}{tz}")
    assert expiry.expired_from.utcoffset() == timedelta(0)
    assert expiry.is_expired(datetime.max.replace(tzinfo=UTC)) is not expiry.never


@given(st.text(alphabet="0123456789-:TZtz+ ,.W/", max_size=32))
def test_only_malformed_escapes(text: str) -> None:
    """The documented contract: an ``Expiry`` or ``MalformedExpiry``, never OverflowError/ValueError/IndexError."""
    try:
        expiry = parse_expires_at(text)
    except MalformedExpiry as error:
        assert type(error) is MalformedExpiry and error.reason
    else:
        assert expiry.expired_from.tzinfo is not None


@given(st.from_type(object).filter(lambda v: not isinstance(v, str)))
def test_non_strings_are_malformed(value: object) -> None:
    with pytest.raises(MalformedExpiry):
        parse_expires_at(value)  # type: ignore[arg-type]
