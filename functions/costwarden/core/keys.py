"""Typed dedup keys: every ``AlertEvent.dedup_key`` is built here, and every reader parses it back here.

A dedup key is a small protocol: the producer writes it, the state table stores it (for months, in real accounts),
the notifier deduplicates on it and the Slack app reads the anomaly series back out of it. Free-form f-strings
written in one module and split in another drift apart; a type per kind with ``to_str()`` / ``parse()`` cannot.

The strings are frozen: ``to_str()`` writes exactly what the f-strings it replaced wrote, byte for byte (stored state
holds them), so no part is escaped. ``#`` separates the parts, hence the one rule that keeps ``parse`` exact: at
most one part of a kind may contain ``#`` (its *free* part: a team, an anomaly series, an ARN; AWS tag values
cannot hold ``#``, a CSV given to ``costwarden detect`` can), every other part is refused with ``KeyFormatError``
if it does. ``|`` has no meaning to the split (an anomaly series is ``team|second``). Parse with the kind you
expect: some kinds share a prefix (``cost#<series>#<start>`` is a ``CostEpisodeRef``, ``cost#<series>#<day>#<sev>``
a ``CostKey``; ``savings#storage-blocked#<day>`` also reads as a ``SavingsKey`` of a team named
``storage-blocked``, as it always did).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import ClassVar, Protocol, Self

SEP = "#"
_HEX32 = re.compile(r"[0-9a-f]{32}")


class KeyFormatError(ValueError):
    """A key that cannot be built (a separator in a fixed part) or parsed (not of the expected kind)."""


class DedupKey(Protocol):
    """What the alert builder takes: anything that writes its frozen string."""

    def to_str(self) -> str: ...


def _clip(text: str) -> str:
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass(frozen=True)
class _PartsKey:
    """A key ``<PREFIX>#<part>#<part>...``: the dataclass fields in order, all strings, ``FREE`` may hold ``#``."""

    PREFIX: ClassVar[str]
    #: Index of the one field that may contain ``#`` (parsed as "whatever the fixed parts around it leave").
    FREE: ClassVar[int] = 0

    def __post_init__(self) -> None:
        for index, f in enumerate(fields(self)):
            value = getattr(self, f.name)
            if not isinstance(value, str):
                raise KeyFormatError(f"{type(self).__name__}.{f.name} must be a string, got {type(value).__name__}")
            if index != self.FREE and SEP in value:
                raise KeyFormatError(
                    f"{type(self).__name__}.{f.name} may not contain {SEP!r} (the key separator): {_clip(value)!r}"
                )

    def to_str(self) -> str:
        return SEP.join((self.PREFIX, *(getattr(self, f.name) for f in fields(self))))

    @classmethod
    def parse(cls, text: str) -> Self:
        """The key ``text`` reads as; ``KeyFormatError`` naming the kind when it is not one."""
        if not isinstance(text, str) or not text.startswith(cls.PREFIX + SEP):
            raise KeyFormatError(f"not a {cls.__name__} (expected {cls.PREFIX}{SEP}...): {_clip(str(text))!r}")
        count = len(fields(cls))
        body = text[len(cls.PREFIX) + 1 :]
        head = body.split(SEP, cls.FREE) if cls.FREE else [body]
        rest = head.pop()
        tail = rest.rsplit(SEP, count - cls.FREE - 1) if count - cls.FREE - 1 else [rest]
        parts = [*head, *tail]
        if len(parts) != count:
            raise KeyFormatError(f"not a {cls.__name__}: {count} parts expected after {cls.PREFIX!r}: {_clip(text)!r}")
        return cls(*parts)


@dataclass(frozen=True)
class CostKey(_PartsKey):
    """``cost#<series>#<day>#<severity>``: one anomaly alert (``severity`` is ``retract`` for a withdrawal)."""

    PREFIX: ClassVar[str] = "cost"
    RETRACT: ClassVar[str] = "retract"
    series: str
    day: str
    severity: str

    @property
    def retracted(self) -> bool:
        return self.severity == self.RETRACT


@dataclass(frozen=True)
class CostEpisodeRef(_PartsKey):
    """``cost#<series>#<start>``: the episode a withdrawal retracts (``details["retracts"]``)."""

    PREFIX: ClassVar[str] = "cost"
    series: str
    start: str


@dataclass(frozen=True)
class BudgetKey(_PartsKey):
    """``budget#<team>#<month>#<status>``: a worsened budget status, once per status and month."""

    PREFIX: ClassVar[str] = "budget"
    team: str
    month: str
    status: str


@dataclass(frozen=True)
class _TeamPeriodKey(_PartsKey):
    """``<PREFIX>#<team>#<period>``: once per team and period (a month ``2026-12`` or an ISO week ``2026-W50``)."""

    team: str
    period: str


class ForecastKey(_TeamPeriodKey):
    """``forecast#<team>#<month>``: next month's forecast over budget."""

    PREFIX: ClassVar[str] = "forecast"


class SavingsKey(_TeamPeriodKey):
    """``savings#<team>#<month>``: a team's savings alert, once a month."""

    PREFIX: ClassVar[str] = "savings"


class ReportKey(_TeamPeriodKey):
    """``report#<team>#<month>``: the monthly report's link."""

    PREFIX: ClassVar[str] = "report"


class IdleKey(_TeamPeriodKey):
    """``idle#<team>#<week>``: a team's weekly idle alert; ``idle#account#<week>`` the account summary."""

    PREFIX: ClassVar[str] = "idle"
    ACCOUNT: ClassVar[str] = "account"

    @classmethod
    def account(cls, week: str) -> IdleKey:
        return cls(cls.ACCOUNT, week)


class TagViolationKey(_TeamPeriodKey):
    """``tag_violation#<team>#<week>``: the weekly tag audit of one team (or of ``no team``)."""

    PREFIX: ClassVar[str] = "tag_violation"


@dataclass(frozen=True)
class StorageBlockedKey(_PartsKey):
    """``savings#storage-blocked#<day>``: the lifecycle apply was over its cap, once a day."""

    PREFIX: ClassVar[str] = "savings#storage-blocked"
    day: str


@dataclass(frozen=True)
class CommitmentKey(_PartsKey):
    """``commitment#<topic>#<subject>#<period>``: ``util#<id>#<month>``, ``expiry#<id>#<days>``,
    ``purchase#<plan type>#<month>`` (a commitment's low use, its coming end, a Savings Plan to buy)."""

    PREFIX: ClassVar[str] = "commitment"
    FREE: ClassVar[int] = 1
    UTILISATION: ClassVar[str] = "util"
    EXPIRY: ClassVar[str] = "expiry"
    PURCHASE: ClassVar[str] = "purchase"
    topic: str
    subject: str
    period: str


@dataclass(frozen=True)
class ReapedKey(_PartsKey):
    """``reaped#<run id>#<team>``: one team's summary of one reaper run."""

    PREFIX: ClassVar[str] = "reaped"
    FREE: ClassVar[int] = 1
    run_id: str
    team: str


@dataclass(frozen=True)
class ExpiryKey:
    """``expiry#<arn>#<expires_at>#<hours>h``: one resource crossing one warning threshold of one expiry."""

    PREFIX: ClassVar[str] = "expiry"
    arn: str
    expires_at: str
    threshold_hours: int

    def __post_init__(self) -> None:
        if SEP in self.expires_at:
            raise KeyFormatError(f"ExpiryKey.expires_at may not contain {SEP!r}: {_clip(self.expires_at)!r}")
        if isinstance(self.threshold_hours, bool) or not isinstance(self.threshold_hours, int):
            raise KeyFormatError(f"ExpiryKey.threshold_hours must be an int, got {self.threshold_hours!r}")

    def to_str(self) -> str:
        return f"{self.PREFIX}{SEP}{self.arn}{SEP}{self.expires_at}{SEP}{self.threshold_hours}h"

    @classmethod
    def parse(cls, text: str) -> ExpiryKey:
        if not isinstance(text, str) or not text.startswith(cls.PREFIX + SEP):
            raise KeyFormatError(f"not an ExpiryKey (expected expiry#...): {_clip(str(text))!r}")
        parts = text[len(cls.PREFIX) + 1 :].rsplit(SEP, 2)
        if len(parts) != 3 or not re.fullmatch(r"-?[0-9]+h", parts[2]):
            raise KeyFormatError(f"not an ExpiryKey (expected expiry#<arn>#<expires_at>#<hours>h): {_clip(text)!r}")
        return cls(parts[0], parts[1], int(parts[2][:-1]))


@dataclass(frozen=True)
class HashedKey:
    """``<prefix>#<32 hex>``: a key naming a *set* (the sha256 of its members joined by ``|``, first 32 digits).

    Used where the alert is about a list (malformed tags, a blocked plan): the same list is the same alert, a
    changed list a new one. Pass the members in a stable order (sorted) when their order means nothing. A member
    holding ``|`` could in theory join like another list; ARNs and the lines hashed here hold none.
    """

    PREFIXES: ClassVar[tuple[str, ...]] = ("tagviolation", "reapblocked", "reapblocked#org")
    TAG_VIOLATION: ClassVar[str] = "tagviolation"
    REAP_BLOCKED: ClassVar[str] = "reapblocked"
    ORG_REAP_BLOCKED: ClassVar[str] = "reapblocked#org"
    prefix: str
    digest: str

    def __post_init__(self) -> None:
        if self.prefix not in self.PREFIXES:
            raise KeyFormatError(f"HashedKey.prefix must be one of {', '.join(self.PREFIXES)}, got {self.prefix!r}")
        if not _HEX32.fullmatch(self.digest):
            raise KeyFormatError(f"HashedKey.digest must be 32 lower-case hex digits, got {_clip(self.digest)!r}")

    @classmethod
    def of(cls, prefix: str, members: Iterable[str]) -> HashedKey:
        return cls(prefix, hashlib.sha256("|".join(members).encode()).hexdigest()[:32])

    def to_str(self) -> str:
        return f"{self.prefix}{SEP}{self.digest}"

    @classmethod
    def parse(cls, text: str) -> HashedKey:
        if not isinstance(text, str):
            raise KeyFormatError(f"not a HashedKey: {text!r}")
        prefix, sep, digest = text.rpartition(SEP)
        if not sep:
            raise KeyFormatError(f"not a HashedKey (expected <prefix>#<32 hex>): {_clip(text)!r}")
        return cls(prefix, digest)


# -- state records more than one capability reads (the key is the contract between writer and reader) -----------
#: First time Costwarden saw a resource (the reaper writes it, a Slack extension reads it): anchor of
#: ``reaper.max_lifetime_days`` where a service gives no creation date.
FIRST_SEEN_PK = "firstseen"
#: The savings advisor's latest findings (the advisor writes, the digest reads the "savings on the table" line).
SAVINGS_PK, SAVINGS_SK = "advisor#latest", "savings"
#: The idle finder's latest summary (the idle finder writes, the digest reads its idle section).
IDLE_SUMMARY_PK, IDLE_SUMMARY_SK = "idle#summary", "latest"
#: Unit costs (issue 26): the month's results and regressions (sk: ``YYYY-MM``; the monthly report's section) and
#: yesterday's moves (the digest's unit-cost lines), written by the unit-cost run.
UNITCOST_MONTH_PK = "unitcost#month"
#: A unit-cost episode's second key starts with this (``<team>|unit:<model>/<unit>``, under ``dedup#cost`` so the
#: anomaly buttons act on it): the cost monitor's digest lists spend anomalies only, not these.
UNIT_COST_SERIES_PREFIX = "unit:"
UNITCOST_DIGEST_PK, UNITCOST_DIGEST_SK = "unitcost#digest", "latest"
#: Idle keeps (a Slack *Keep* writes ``{until, reason, by, at, team, type}`` under sk = the resource ARN; the idle
#: finder leaves the resource out of its report until ``until``).
IDLE_KEEP_PK = "idle#keep"


@dataclass(frozen=True)
class BedrockKey(_PartsKey):
    """``bedrock#<team>#<day>#<severity>``: a team's Bedrock spend today past its budget or baseline, once per day
    and severity (a warning in the morning, critical later the same day: two alerts)."""

    PREFIX: ClassVar[str] = "bedrock"
    team: str
    day: str
    severity: str


#: A team's application inference profiles as the Bedrock guard last read them (the guard writes
#: ``{profiles: [arn...], at}`` under sk = the team; the Slack *Deny Bedrock* button reads which ARNs to deny).
BEDROCK_PROFILES_PK = "bedrock#profiles"
#: The Bedrock guard's reconciliation of a day (the guard writes ``{teams: [{team, estimate_usd, billed_usd, ...}],
#: at, bill_estimated}`` under sk = the day; the digest shows the estimate and the bill side by side).
BEDROCK_RECONCILED_PK = "bedrock#reconciled"
