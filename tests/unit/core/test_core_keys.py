"""core.keys: every key is the exact string the old f-strings wrote (stored state holds them), and parses back."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from costwarden.core.keys import (
    BudgetKey,
    CommitmentKey,
    CostEpisodeRef,
    CostKey,
    ExpiryKey,
    ForecastKey,
    HashedKey,
    IdleKey,
    KeyFormatError,
    ReapedKey,
    ReportKey,
    SavingsKey,
    StorageBlockedKey,
    TagViolationKey,
)

ARN = "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc"

#: (key, the exact string the f-string it replaced wrote)
OLD_STRINGS: list[tuple[Any, str]] = [
    (CostKey("vision|fraud-v3", "2026-12-01", "critical"), "cost#vision|fraud-v3#2026-12-01#critical"),
    (CostKey("vision", "2026-12-01", CostKey.RETRACT), "cost#vision#2026-12-01#retract"),
    (CostEpisodeRef("vision|fraud-v3", "2026-11-30"), "cost#vision|fraud-v3#2026-11-30"),
    (BudgetKey("vision", "2026-12", "OVER_BUDGET"), "budget#vision#2026-12#OVER_BUDGET"),
    (ForecastKey("vision", "2027-01"), "forecast#vision#2027-01"),
    (SavingsKey("vision", "2026-06"), "savings#vision#2026-06"),
    (StorageBlockedKey("2026-12-07"), "savings#storage-blocked#2026-12-07"),
    (CommitmentKey(CommitmentKey.UTILISATION, "ri-123", "2026-12"), "commitment#util#ri-123#2026-12"),
    (CommitmentKey(CommitmentKey.EXPIRY, "sp-9", "30"), "commitment#expiry#sp-9#30"),
    (
        CommitmentKey(CommitmentKey.PURCHASE, "ComputeSavingsPlans", "2026-12"),
        "commitment#purchase#ComputeSavingsPlans#2026-12",
    ),
    (ReportKey("vision", "2026-11"), "report#vision#2026-11"),
    (IdleKey("nlp", "2026-W50"), "idle#nlp#2026-W50"),
    (IdleKey.account("2026-W50"), "idle#account#2026-W50"),
    (TagViolationKey("no team", "2026-W49"), "tag_violation#no team#2026-W49"),
    (ReapedKey("run-20261207-abc", "vision"), "reaped#run-20261207-abc#vision"),
    (ExpiryKey(ARN, "2026-12-31", 24), f"expiry#{ARN}#2026-12-31#24h"),
]


@pytest.mark.parametrize(("key", "text"), OLD_STRINGS, ids=[t for _, t in OLD_STRINGS])
def test_exact_old_string_and_round_trip(key: Any, text: str) -> None:
    assert key.to_str() == text
    assert type(key).parse(text) == key


def test_hashed_keys_are_the_old_digests() -> None:
    members = sorted([f"{ARN}=next week", "arn:aws:ec2:us-east-1:1:volume/vol-1=31/12/2026"])
    old = "tagviolation#" + hashlib.sha256("|".join(members).encode()).hexdigest()[:32]
    key = HashedKey.of(HashedKey.TAG_VIOLATION, members)
    assert key.to_str() == old and HashedKey.parse(old) == key
    lines = ["111111111111: 30 planned", "222222222222: 2 planned"]
    org = "reapblocked#org#" + hashlib.sha256("|".join(lines).encode()).hexdigest()[:32]
    assert HashedKey.of(HashedKey.ORG_REAP_BLOCKED, lines).to_str() == org
    assert HashedKey.parse(org).prefix == "reapblocked#org"
    empty = "reapblocked#" + hashlib.sha256(b"").hexdigest()[:32]
    assert HashedKey.of(HashedKey.REAP_BLOCKED, []).to_str() == empty


@pytest.mark.parametrize(
    "key",
    [
        CostKey("team#with#hashes|second|x", "2026-12-01", "warning"),
        CostKey("", "", ""),
        BudgetKey("a#b", "2026-12", "AT_RISK"),
        ReapedKey("run-1", "team#x|y"),
        IdleKey("|", "2026-W01"),
        ExpiryKey("arn:with#hash", "2026-12-31", 72),
        CommitmentKey("util", "id#odd", "2026-12"),
    ],
)
def test_the_free_part_may_hold_separators(key: Any) -> None:
    assert type(key).parse(key.to_str()) == key


@pytest.mark.parametrize(
    "build",
    [
        lambda: CostKey("vision", "2026-12#01", "warning"),
        lambda: CostKey("vision", "2026-12-01", "warn#ing"),
        lambda: BudgetKey("vision", "2026#12", "AT_RISK"),
        lambda: ReapedKey("run#1", "vision"),
        lambda: ExpiryKey(ARN, "2026#12", 24),
        lambda: ExpiryKey(ARN, "2026-12-31", "24"),  # type: ignore[arg-type]
        lambda: ExpiryKey(ARN, "2026-12-31", True),
        lambda: CostKey("vision", 20261201, "warning"),  # type: ignore[arg-type]
        lambda: HashedKey("reapblocked", "xyz"),
        lambda: HashedKey("other", "0" * 32),
    ],
)
def test_a_separator_in_a_fixed_part_is_refused_by_name(build: Any) -> None:
    with pytest.raises(KeyFormatError):
        build()


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (CostKey, "budget#vision#2026-12#AT_RISK"),
        (CostKey, "cost#vision#2026-12-01"),
        (CostKey, "cost"),
        (CostKey, ""),
        (ForecastKey, "forecast#vision"),
        (ExpiryKey, f"expiry#{ARN}#2026-12-31#24"),
        (ExpiryKey, "expiry#only"),
        (HashedKey, "reapblocked#" + "g" * 32),
        (HashedKey, "nohash"),
        (ReapedKey, "reaped#run-only"),
    ],
)
def test_parse_refuses_what_is_not_its_kind(kind: Any, text: str) -> None:
    with pytest.raises(KeyFormatError, match=kind.__name__):
        kind.parse(text)


def test_parse_of_a_non_string_is_a_key_error_not_a_traceback() -> None:
    with pytest.raises(KeyFormatError):
        CostKey.parse(None)  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError):
        ExpiryKey.parse(42)  # type: ignore[arg-type]
    with pytest.raises(KeyFormatError):
        HashedKey.parse(b"reapblocked#0")  # type: ignore[arg-type]


def test_retract_is_read_from_the_parsed_key() -> None:
    assert CostKey.parse("cost#a|b#2026-12-01#retract").retracted
    assert not CostKey.parse("cost#a|b#2026-12-01#critical").retracted
