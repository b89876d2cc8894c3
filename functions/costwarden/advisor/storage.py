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

Artefacts also live under key prefixes (``experiments/``, ``checkpoints/``) of buckets that are not artefact
buckets as a whole (settings ``storage.prefix_patterns``). Such a bucket's finding carries its ``prefixes``: the
rules are scoped with ``Filter.Prefix`` to each, its lifecycle counts as useful only when every prefix is covered by
an enabled rule that expires or tiers, and it is sized from the objects under the prefixes (``BucketSizeBytes`` is
per bucket), their ``LastModified`` giving the ages the bucket-wide estimate reads from the daily series.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from costwarden.core.money import usd
from costwarden.core.owner import UNOWNED_TEAM

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
    #: artefact key prefixes of a bucket that is not an artefact bucket as a whole (empty: the whole bucket)
    prefixes: tuple[str, ...] = ()
    #: why the bytes are unknown (the figures are then null, never 0)
    unsized: str | None = None


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

    @property
    def worth_it(self) -> bool:
        """False when the rules would cost more than today (Intelligent-Tiering dearer than the bucket's current
        class); unknown figures are reported as before, with their reason."""
        if self.monthly_usd_now is None or self.monthly_usd_after is None:
            return True
        return self.monthly_usd_after <= self.monthly_usd_now

    def not_worth_it(self) -> str | None:
        if self.worth_it:
            return None
        return (
            f"not worth it: {usd(self.monthly_usd_after, cents=True)}/month under the rules against "
            f"{usd(self.monthly_usd_now, cents=True)} now"
        )

    def to_dict(self) -> dict[str, Any]:
        dearer = self.not_worth_it()
        return {
            "bucket": self.bucket.name,
            "region": self.bucket.region,
            "team": self.team,
            "prefixes": list(self.bucket.prefixes),
            "why": self.why_artefact,
            "lifecycle": self.lifecycle_state,
            "size_gib_by_storage_type": {k: round(v / GIB, 3) for k, v in sorted(self.bucket.size_bytes.items())},
            "monthly_usd_now": _round(self.monthly_usd_now),
            "monthly_usd_after": _round(self.monthly_usd_after),
            "monthly_savings_usd": round(self.monthly_savings_usd, 2),
            "worth_it": self.worth_it,
            "keep": self.keep,
            "put_bucket_lifecycle_configuration": self.recommendation,
            "command": put_command(self.bucket.name, self.recommendation),
            "notes": [*self.notes, *([dearer] if dearer else [])],
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


def _rule_useful(rule: Mapping[str, Any]) -> bool:
    return _rule_enabled(rule) and bool(rule.get("Expiration") or rule.get("Transitions") or rule.get("Transition"))


def _rule_prefix(rule: Mapping[str, Any]) -> str | None:
    """The key prefix a rule applies to all objects under; None when it is narrowed by tags or object size (it then
    covers only some of them)."""
    if "Filter" not in rule:
        return str(rule.get("Prefix", ""))  # the legacy rule-level Prefix
    rule_filter = rule.get("Filter") or {}
    if "And" in rule_filter:
        both = rule_filter["And"] or {}
        narrowed = both.get("Tags") or "ObjectSizeGreaterThan" in both or "ObjectSizeLessThan" in both
        return None if narrowed else str(both.get("Prefix", ""))
    if "Tag" in rule_filter or "ObjectSizeGreaterThan" in rule_filter or "ObjectSizeLessThan" in rule_filter:
        return None
    return str(rule_filter.get("Prefix", ""))


def lifecycle_state(rules: Sequence[Mapping[str, Any]] | None, prefixes: Sequence[str] = ()) -> str:
    """``none``, ``not_useful`` (enabled rules that neither expire nor tier current objects) or ``useful``.

    With ``prefixes``, useful means every prefix lies under the prefix of an enabled rule that expires or tiers.
    """
    if rules is None:
        return "none"
    if not prefixes:
        return "useful" if any(_rule_useful(rule) for rule in rules) else "not_useful"
    covering = [p for rule in rules if _rule_useful(rule) and (p := _rule_prefix(rule)) is not None]
    if all(any(prefix.startswith(c) for c in covering) for prefix in prefixes):
        return "useful"
    return "not_useful"


def recommended_lifecycle(rules: LifecycleRules, *, keep: bool, prefixes: Sequence[str] = ()) -> dict[str, Any]:
    """The exact ``LifecycleConfiguration`` for ``put-bucket-lifecycle-configuration`` (the CLI's JSON shape).

    With ``prefixes`` the rules are repeated per prefix, each scoped with ``Filter.Prefix`` and named after it
    (rule IDs are unique within a configuration and at most 255 characters).
    """
    out: list[dict[str, Any]] = []
    for prefix in prefixes or ("",):
        every: dict[str, Any] = {"Filter": {"Prefix": prefix}, "Status": "Enabled"}

        def rule_id(what: str, prefix: str = prefix) -> str:
            return f"{RULE_PREFIX}{what}" + (f" {prefix}" if prefix else "")[: 255 - len(RULE_PREFIX) - len(what)]

        out += [
            {
                "ID": rule_id("abort-incomplete-multipart"),
                **every,
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": rules.abort_multipart_days},
            },
            {
                "ID": rule_id("expire-noncurrent"),
                **every,
                "NoncurrentVersionExpiration": {"NoncurrentDays": rules.noncurrent_days},
            },
            {
                "ID": rule_id("intelligent-tiering"),
                **every,
                "Transitions": [{"Days": rules.tiering_days, "StorageClass": "INTELLIGENT_TIERING"}],
            },
        ]
        if not keep:
            out.append({"ID": rule_id("expire"), **every, "Expiration": {"Days": rules.expire_days}})
    return {"Rules": out}


#: ``ListObjectsV2`` StorageClass -> CloudWatch ``StorageType`` (the keys of ``storage.usd_per_gb_month``). Objects
#: in Intelligent-Tiering are counted in its frequent tier: the listing does not say which tier holds them.
STORAGE_TYPE_OF_CLASS = {
    "STANDARD": "StandardStorage",
    "REDUCED_REDUNDANCY": "ReducedRedundancyStorage",
    "STANDARD_IA": "StandardIAStorage",
    "ONEZONE_IA": "OneZoneIAStorage",
    "INTELLIGENT_TIERING": "IntelligentTieringFAStorage",
    "GLACIER_IR": "GlacierInstantRetrievalStorage",
    "GLACIER": "GlacierStorage",
    "DEEP_ARCHIVE": "DeepArchiveStorage",
}


def sizes_from_objects(
    objects: Sequence[tuple[str, float, date]],
) -> tuple[dict[str, float], list[tuple[date, float]]]:
    """(storage class, bytes, last modified day) of the objects under a bucket's artefact prefixes → bytes per
    storage type and the daily history of the tierable bytes (bytes of today's objects written on or before each
    day), the same shape the bucket-wide estimate reads from ``BucketSizeBytes``."""
    size_bytes: dict[str, float] = {}
    written: dict[date, float] = {}
    for storage_class, size, day in objects:
        storage_type = STORAGE_TYPE_OF_CLASS.get(storage_class or "STANDARD", storage_class)
        size_bytes[storage_type] = size_bytes.get(storage_type, 0.0) + size
        if storage_type in TIERABLE:
            written[day] = written.get(day, 0.0) + size
    history: list[tuple[date, float]] = []
    total = 0.0
    for day in sorted(written):
        total += written[day]
        history.append((day, total))
    return size_bytes, history


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
        if bucket.prefixes:
            why: str | None = f"key prefixes {', '.join(bucket.prefixes)} (storage.prefix_patterns)"
        else:
            why = artefact_reason(bucket.name, bucket.tags, tag_values=tag_values, name_patterns=name_patterns)
        if why is None:
            continue
        state = lifecycle_state(bucket.lifecycle, bucket.prefixes)
        if state == "useful":
            continue
        keep = bucket.tags.get(keep_key) == keep_value
        now: float | None
        after: float | None
        after_notes: list[str]
        if bucket.unsized is not None:
            now, notes, after, after_notes = None, [f"not sized: {bucket.unsized}"], None, []
        else:
            now, notes = monthly_usd(bucket.size_bytes, prices)
            after, after_notes = monthly_usd_under_rules(bucket, prices, rules, keep=keep, today=today)
        if state == "not_useful" and bucket.prefixes:
            notes.append(
                "has a lifecycle configuration whose rules neither expire nor tier these prefixes: merge the rules by "
                "hand (a put replaces the whole configuration)"
            )
        elif state == "not_useful":
            notes.append("has a lifecycle configuration that neither expires nor tiers: merge the rules by hand")
        if keep:
            notes.append(f"tagged {keep_key}={keep_value}: no expiration rule")
        findings.append(
            StorageFinding(
                bucket=bucket,
                team=str(bucket.tags.get(team_key) or "").strip() or UNOWNED_TEAM,
                why_artefact=why,
                lifecycle_state=state,
                monthly_usd_now=now,
                monthly_usd_after=after,
                recommendation=recommended_lifecycle(rules, keep=keep, prefixes=bucket.prefixes),
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
    """The one guard for putting rules: never rules that would cost more, tagged environment in
    ``apply_environments``, no lifecycle at all (never replace one), not protected."""
    out: list[ApplyCandidate] = []
    for finding in findings:
        tags = finding.bucket.tags
        reason: str | None = None
        if (dearer := finding.not_worth_it()) is not None:
            reason = dearer
        elif tags.get(protect_key) == protect_value:
            reason = f"protected ({protect_key}={protect_value})"
        elif tags.get(environment_key) not in apply_environments:
            reason = f"not tagged {environment_key} in {list(apply_environments)}: report only"
        elif finding.lifecycle_state != "none":
            reason = "has a lifecycle configuration: never replaced"
        out.append(ApplyCandidate(finding, reason))
    return out
