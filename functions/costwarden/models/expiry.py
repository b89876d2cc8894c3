"""The ``expires_at`` tag, parsed exactly as DESIGN.md defines it — and nothing more lenient.

The one parser of the rule: the reaper, the tag validator (``costwarden tags validate``, the weekly tag audit, the
CDK Aspect) and the cost monitor's digest all import it from here, so a value one of them accepts is never one
another rejects or crashes on. The tag key it is read from is configurable (``settings.tags.expires_key``);
callers pass the value, never the key.

Accepted (the calendar-date profile of ISO 8601 that RFC 3339 also uses):

* ``YYYY-MM-DD`` — the resource may live through that UTC day: it is expired from the next UTC midnight
  (``2026-12-01`` → expired from ``2026-12-02T00:00:00Z``).
* ``YYYY-MM-DDTHH:MM[:SS[.fraction]]`` — no offset means UTC; ``Z``/``z``, ``±HH:MM``, ``±HHMM`` or ``±HH`` are
  honoured. ``T`` may be lowercase or a single space (RFC 3339 allows both; neither is ambiguous).
* Surrounding whitespace is ignored (tag editors add it; it changes nothing about the meaning).

Everything else is malformed, with a reason saying what is wrong, and the resource is never acted on. Decisions
recorded here on purpose (a wrong guess on a destructive tool is worse than a tag violation the owner fixes):

* Epoch numbers (``1767225600``) are malformed: seconds or milliseconds? local or UTC? the owner can't tell.
* ISO 8601 basic (``20261201``), week (``2026-W49-2``) and ordinal (``2026-335``) dates are malformed: valid ISO,
  but rare enough in tags that they are more likely typos, and ``20261201`` is indistinguishable from a number.
* Day-first/month-first (``31/12/2026``, ``12/31/2026``), words (``next week``, ``1st December 2026``), ``24:00``,
  leap seconds (``23:59:60``), out-of-range fields (``2026-13-01``, ``2026-02-30``) and offsets beyond ±23:59 are
  malformed.
* ``9999-12-31`` (a common "never", docs/reaper.md) never expires: anything that would expire on the calendar's
  last UTC day (``9999-12-31``, ``9999-12-31T20:00:00-05:00``...) is ``Expiry.never``, ``is_expired`` is False for
  every instant, and nothing here overflows on it (instants past the calendar clamp to its edges).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

_DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})")
_DATETIME = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})[Tt ](?P<H>\d{2}):(?P<M>\d{2})"
    r"(?::(?P<S>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?"
)
_EPOCH = re.compile(r"[+-]?\d{9,13}(?:\.\d+)?")
_BASIC = re.compile(r"\d{8}(?:[Tt]\d{4,6}(?:[Zz]|[+-]\d{2,4})?)?")
_ORDINAL = re.compile(r"\d{4}-\d{3}")
_WEEK = re.compile(r"\d{4}-?[Ww]\d{2}(?:-?\d)?")
_SLASHED = re.compile(r"\d{1,4}[/.]\d{1,2}[/.]\d{1,4}.*")
_DATE_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Zz]|[+-]\d{2}(?::?\d{2})?)")
_LAST_INSTANT = datetime.max.replace(tzinfo=UTC)
#: The calendar's last UTC day: an expiry falling on it means "never".
_NEVER_FROM = datetime(9999, 12, 31, tzinfo=UTC)


class MalformedExpiry(ValueError):  # noqa: N818 - reads as what it is: the tag value is malformed
    """The tag value is not an expiry this parser accepts; ``reason`` says why, for the owner's tag violation."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"malformed expires_at {value!r}: {reason}")
        self.value = value
        self.reason = reason


@dataclass(frozen=True)
class Expiry:
    """A parsed ``expires_at``: the first instant (aware, UTC) at which the resource counts as expired."""

    raw: str
    expired_from: datetime
    date_only: bool

    @property
    def never(self) -> bool:
        """True for ``9999-12-31`` (any expiry on the calendar's last UTC day): it never expires."""
        return self.expired_from >= _NEVER_FROM

    def is_expired(self, now: datetime) -> bool:
        return not self.never and now >= self.expired_from

    def remaining(self, now: datetime) -> timedelta:
        return self.expired_from - now


def _calendar_date(value: str, y: str, m: str, d: str) -> date:
    year, month, day = int(y), int(m), int(d)
    if year < 1:
        raise MalformedExpiry(value, "year 0000 does not exist")
    if not 1 <= month <= 12:
        raise MalformedExpiry(value, f"month {month:02d} is out of range (01-12); the format is YYYY-MM-DD")
    try:
        return date(year, month, day)
    except ValueError:
        raise MalformedExpiry(value, f"day {day:02d} does not exist in {year:04d}-{month:02d}") from None


def _offset(value: str, text: str | None) -> timezone:
    if text is None or text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise MalformedExpiry(value, f"UTC offset {text} is out of range (at most ±23:59)")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


#: The shapes people write instead of an accepted form, each with the reason its owner is told (first match wins).
_REJECTED: tuple[tuple[re.Pattern[str], str], ...] = (
    (_EPOCH, "looks like an epoch timestamp; write an ISO 8601 date such as 2026-12-31 or 2026-12-31T18:00:00Z"),
    (_BASIC, "ISO 8601 basic format (no dashes) is not accepted; write 2026-12-31 or 2026-12-31T18:00:00Z"),
    (_ORDINAL, "ordinal dates (YYYY-DDD) are not accepted; write the calendar date, e.g. 2026-12-31"),
    (_WEEK, "week dates (YYYY-Www) are not accepted; write the calendar date, e.g. 2026-12-31"),
    (_SLASHED, "day/month order is ambiguous; write the date as YYYY-MM-DD, e.g. 2026-12-31"),
    (_DATE_WITH_OFFSET, "a date alone takes no UTC offset; add a time (2026-12-31T18:00:00+02:00) or drop the offset"),
)


def _reject_reason(value: str) -> str:
    """Why a value that matched neither accepted form is malformed — specific enough for the owner to fix it."""
    for shape, reason in _REJECTED:
        if shape.fullmatch(value):
            return reason
    if not any(ch.isdigit() for ch in value):
        return "not a date; write an ISO 8601 date such as 2026-12-31 (relative expressions are not accepted)"
    return "not an ISO 8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SS with optional Z or ±HH:MM)"


def parse_expires_at(value: str) -> Expiry:
    """Parse an ``expires_at`` tag value or raise ``MalformedExpiry`` saying why it is not acceptable."""
    if not isinstance(value, str):
        raise MalformedExpiry(str(value), "tag values are strings")
    text = value.strip()
    if not text:
        raise MalformedExpiry(value, "empty value; write an ISO 8601 date such as 2026-12-31")
    if not text.isascii():
        raise MalformedExpiry(value, "contains non-ASCII characters; write an ISO 8601 date such as 2026-12-31")
    if match := _DATE.fullmatch(text):
        day = _calendar_date(value, match["y"], match["m"], match["d"])
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if day == date.max:
            return Expiry(value, _LAST_INSTANT, date_only=True)
        return Expiry(value, start + timedelta(days=1), date_only=True)
    if match := _DATETIME.fullmatch(text):
        day = _calendar_date(value, match["y"], match["m"], match["d"])
        hour, minute, second = int(match["H"]), int(match["M"]), int(match["S"] or 0)
        if hour > 23:
            raise MalformedExpiry(value, f"hour {hour:02d} is out of range (00-23; 24:00 is not accepted)")
        if minute > 59:
            raise MalformedExpiry(value, f"minute {minute:02d} is out of range (00-59)")
        if second > 59:
            raise MalformedExpiry(value, f"second {second:02d} is out of range (00-59; leap seconds are not accepted)")
        micro = int((match["frac"] or "0")[:6].ljust(6, "0"))
        tz = _offset(value, match["tz"])
        local = datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=tz)
        try:
            return Expiry(value, local.astimezone(UTC), date_only=False)
        except OverflowError:
            # Only at the edges of the calendar (year 1 / 9999 with an offset): clamp, never guess earlier.
            return Expiry(value, _LAST_INSTANT if local.year > 1 else datetime.min.replace(tzinfo=UTC), False)
    raise MalformedExpiry(value, _reject_reason(text))


def format_expiry(moment: datetime) -> str:
    """The canonical tag value Costwarden writes (``mark``): UTC, seconds, ``Z``."""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def describe_expiry(expiry: Expiry) -> str:
    """How a decision or warning names the moment: ``2026-12-02T00:00:00Z``, or ``never (9999-12-31)``."""
    return f"never ({expiry.raw.strip()})" if expiry.never else format_expiry(expiry.expired_from)


def describe_remaining(delta: timedelta) -> str:
    """``2d 3h``, ``5h 10m``, ``12m`` — for warnings and decision reasons."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 0:
        return "already past"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


def stored_instant(value: object) -> datetime | None:
    """A time Costwarden wrote into a state record (ISO 8601), read back as an aware datetime: naive means UTC;
    anything else (absent, not a string, not a time) is None, so a damaged record never raises where it is compared."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
