"""Artefact storage: which buckets hold experiment/training artefacts without a useful lifecycle, what they cost
now, what they would cost under the recommended rules, and the exact rules to put.

The recovery this lever is modelled on found 95,000 USD of S3 storage for artefacts no live model used. Artefacts
are written once and rarely read again, so the recommended rules are: abort incomplete multipart uploads after 7
days, expire noncurrent versions after 30, move to Intelligent-Tiering after 30, expire after 180 (unless the bucket
is tagged to keep: S3 lifecycle filters can only include tags, not exclude them, so "keep" is decided per bucket).

The estimate "under the recommended rules" uses the bucket's own growth, read from the daily ``BucketSizeBytes``
series: the bytes the bucket held N days ago are (at least) N days old today. Artefacts being unread, bytes aged
30-60 days sit in Intelligent-Tiering's frequent tier, 60-120 in its infrequent tier, 120-180 in archive instant
access, and older bytes are expired. Deletions and noncurrent versions make the true figure lower still; the
monitoring fee per object is not counted (``NumberOfObjects`` is not read) — the notes say so.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

GIB = 1024**3
#: Storage types whose bytes the recommended rules move (current classes written by training jobs).
TIERABLE = frozenset({"StandardStorage", "ReducedRedundancyStorage", "StandardIAStorage", "OneZoneIAStorage"})
RULE_PREFIX = "costwarden-"


@dataclass(frozen=True)
class LifecycleRules:
    """The recommended rules' day counts (settings ``storage``)."""

    abort_multipart_days: int = 7
    noncurrent_days: int = 30
    tiering_days: int = 30
    expire_days: int = 180


@dataclass(frozen=True)
class Bucket:
    """One bucket as the adapter read it. ``lifecycle`` is None when the bucket has no lifecycle configuration."""

    name: str
    region: str
    tags: Mapping[str, str]
    lifecycle: Sequence[Mapping[str, Any]] | None = None
    #: bytes per StorageType, latest daily value
    size_bytes: Mapping[str, float] = field(default_factory=dict)
    #: daily total bytes of the tierable storage types, oldest first (date, bytes)
    history: Sequence[tuple[date, float]] = ()


@dataclass(frozen=True)
class StorageFinding:
    bucket: Bucket
    team: str
    why_artefact: str
    lifecycle_state: str
    """``none`` (no configuration) or ``not_useful`` (rules that neither expire nor tier)."""
    monthly_usd_now: float | None
    monthly_usd_after: float | None
    recommendation: dict[str, Any]
    keep: bool
    notes: tuple[str, ...] = ()

    @property
    def monthly_savings_usd(self) -> float:
        if self.monthly_usd_now is None or self.monthly_usd_after is None:
            return 0.0
        return max(self.monthly_usd_now - self.monthly_usd_after, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket.name,
            "region": self.bucket.region,
            "team": self.team,
            "why": self.why_artefact,
            "lifecycle": self.lifecycle_state,
            "size_gib_by_storage_type": {k: round(v / GIB, 3) for k, v in sorted(self.bucket.size_bytes.items())},
            "monthly_usd_now": _round(self.monthly_usd_now),
            "monthly_usd_after": _round(self.monthly_usd_after),
            "monthly_savings_usd": round(self.monthly_savings_usd, 2),
            "keep": self.keep,
            "put_bucket_lifecycle_configuration": self.recommendation,
            "command": put_command(self.bucket.name, self.recommendation),
            "notes": list(self.notes),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def artefact_reason(
    bucket_name: str,
    tags: Mapping[str, str],
    *,
    tag_values: Mapping[str, Sequence[str]],
    name_patterns: Sequence[str],
) -> str | None:
    """Why a bucket counts as experiment/training artefacts (a tag, or a configured name pattern), or None."""
    for key, values in tag_values.items():
        value = tags.get(key)
        if value is not None and value in values:
            return f"tag {key}={value}"
    for pattern in name_patterns:
        if fnmatch.fnmatchcase(bucket_name, pattern):
            return f"name matches {pattern!r}"
    return None


def _rule_enabled(rule: Mapping[str, Any]) -> bool:
    return str(rule.get("Status", "")).lower() == "enabled"


def lifecycle_state(rules: Sequence[Mapping[str, Any]] | None) -> str:
    """``none``, ``not_useful`` (enabled rules that neither expire nor tier current objects) or ``useful``."""
    if rules is None:
        return "none"
    for rule in rules:
        if not _rule_enabled(rule):
            continue
        if rule.get("Expiration") or rule.get("Transitions") or rule.get("Transition"):
            return "useful"
    return "not_useful"


def recommended_lifecycle(rules: LifecycleRules, *, keep: bool) -> dict[str, Any]:
    """The exact ``LifecycleConfiguration`` for ``put-bucket-lifecycle-configuration`` (the CLI's JSON shape)."""
    every: dict[str, Any] = {"Filter": {"Prefix": ""}, "Status": "Enabled"}
    out: list[dict[str, Any]] = [
        {
            "ID": f"{RULE_PREFIX}abort-incomplete-multipart",
            **every,
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": rules.abort_multipart_days},
        },
        {
            "ID": f"{RULE_PREFIX}expire-noncurrent",
            **every,
            "NoncurrentVersionExpiration": {"NoncurrentDays": rules.noncurrent_days},
        },
        {
            "ID": f"{RULE_PREFIX}intelligent-tiering",
            **every,
            "Transitions": [{"Days": rules.tiering_days, "StorageClass": "INTELLIGENT_TIERING"}],
        },
    ]
    if not keep:
        out.append({"ID": f"{RULE_PREFIX}expire", **every, "Expiration": {"Days": rules.expire_days}})
    return {"Rules": out}


def put_command(bucket: str, configuration: Mapping[str, Any]) -> str:
    import json

    return (
        f"aws s3api put-bucket-lifecycle-configuration --bucket {bucket} "
        f"--lifecycle-configuration '{json.dumps(configuration, separators=(',', ':'))}'"
    )


def monthly_usd(size_bytes: Mapping[str, float], prices: Mapping[str, float]) -> tuple[float | None, list[str]]:
    """USD per month of the bytes per storage type; None (with the reason) if a type has no configured price."""
    unpriced = sorted(k for k, v in size_bytes.items() if v > 0 and k not in prices)
    if unpriced:
        return None, [f"no price configured for storage type(s) {', '.join(unpriced)} (storage.usd_per_gb_month)"]
    return sum(v / GIB * prices[k] for k, v in size_bytes.items()), []


def _bytes_at(history: Sequence[tuple[date, float]], day: date) -> float:
    """Bytes the bucket held on ``day`` (the latest point on or before it; 0 before the series starts)."""
    value = 0.0
    for when, size in history:
        if when > day:
            break
        value = size
    return value


def monthly_usd_under_rules(
    bucket: Bucket, prices: Mapping[str, float], rules: LifecycleRules, *, keep: bool, today: date
) -> tuple[float | None, list[str]]:
    """Steady-state USD per month under the recommended rules, by age band of the tierable bytes (module doc)."""
    now_cost, notes = monthly_usd(bucket.size_bytes, prices)
    if now_cost is None:
        return None, notes
    needed = ("IntelligentTieringFAStorage", "IntelligentTieringIAStorage", "IntelligentTieringAIAStorage")
    missing = [k for k in needed if k not in prices]
    if missing:
        return None, [f"no price configured for {', '.join(missing)} (storage.usd_per_gb_month)"]
    tierable_now = sum(v for k, v in bucket.size_bytes.items() if k in TIERABLE)
    others = {k: v for k, v in bucket.size_bytes.items() if k not in TIERABLE}
    history = list(bucket.history) or [(today, tierable_now)]

    def older_than(days: int) -> float:
        return min(_bytes_at(history, today - timedelta(days=days)), tierable_now)

    tier = rules.tiering_days
    bands = [
        (0, tier, "current"),
        (tier, tier + 30, "IntelligentTieringFAStorage"),
        (tier + 30, tier + 90, "IntelligentTieringIAStorage"),
        (tier + 90, None, "IntelligentTieringAIAStorage"),
    ]
    cost = 0.0
    current_price = (
        sum(prices[k] * v for k, v in bucket.size_bytes.items() if k in TIERABLE) / tierable_now if tierable_now else 0
    )
    horizon = None if keep else rules.expire_days
    for start, end, klass in bands:
        if horizon is not None and start >= horizon:
            break
        upper = end if end is not None else horizon
        if upper is not None and horizon is not None:
            upper = min(upper, horizon)
        young = older_than(start) if start else tierable_now
        old = older_than(upper) if upper is not None else 0.0
        band = max(young - old, 0.0)
        price = current_price if klass == "current" else prices[klass]
        cost += band / GIB * price
    other_cost, _ = monthly_usd(others, prices)
    cost += other_cost or 0.0
    if not bucket.history:
        notes.append("no BucketSizeBytes history: bytes' ages unknown, all treated as new (an upper bound)")
    notes.append("Intelligent-Tiering's monitoring fee per object is not counted; deletions would lower the figure")
    return cost, notes


def find_storage(
    buckets: Sequence[Bucket],
    *,
    team_key: str,
    tag_values: Mapping[str, Sequence[str]],
    name_patterns: Sequence[str],
    keep_key: str,
    keep_value: str,
    prices: Mapping[str, float],
    rules: LifecycleRules,
    today: date,
) -> list[StorageFinding]:
    """Findings for artefact buckets without a useful lifecycle, largest saving first."""
    findings: list[StorageFinding] = []
    for bucket in buckets:
        why = artefact_reason(bucket.name, bucket.tags, tag_values=tag_values, name_patterns=name_patterns)
        if why is None:
            continue
        state = lifecycle_state(bucket.lifecycle)
        if state == "useful":
            continue
        keep = bucket.tags.get(keep_key) == keep_value
        now, notes = monthly_usd(bucket.size_bytes, prices)
        after, after_notes = monthly_usd_under_rules(bucket, prices, rules, keep=keep, today=today)
        if state == "not_useful":
            notes.append("has a lifecycle configuration that neither expires nor tiers: merge the rules by hand")
        if keep:
            notes.append(f"tagged {keep_key}={keep_value}: no expiration rule")
        findings.append(
            StorageFinding(
                bucket=bucket,
                team=bucket.tags.get(team_key) or "unowned",
                why_artefact=why,
                lifecycle_state=state,
                monthly_usd_now=now,
                monthly_usd_after=after,
                recommendation=recommended_lifecycle(rules, keep=keep),
                keep=keep,
                notes=tuple(dict.fromkeys([*notes, *after_notes])),
            )
        )
    findings.sort(key=lambda f: (-f.monthly_savings_usd, f.bucket.name))
    return findings


@dataclass(frozen=True)
class ApplyCandidate:
    """A finding the apply path may act on, or the reason it may not (``skip_reason``)."""

    finding: StorageFinding
    skip_reason: str | None


def apply_candidates(
    findings: Sequence[StorageFinding],
    *,
    environment_key: str,
    apply_environments: Sequence[str],
    protect_key: str,
    protect_value: str,
) -> list[ApplyCandidate]:
    """The one guard for putting rules: tagged environment in ``apply_environments``, no lifecycle at all (never
    replace one), not protected."""
    out: list[ApplyCandidate] = []
    for finding in findings:
        tags = finding.bucket.tags
        reason: str | None = None
        if tags.get(protect_key) == protect_value:
            reason = f"protected ({protect_key}={protect_value})"
        elif tags.get(environment_key) not in apply_environments:
            reason = f"not tagged {environment_key} in {list(apply_environments)}: report only"
        elif finding.lifecycle_state != "none":
            reason = "has a lifecycle configuration: never replaced"
        out.append(ApplyCandidate(finding, reason))
    return out
