"""Artefact storage run: find artefact buckets without useful lifecycle rules, price them, and (opt-in) put the
recommended rules — through one guard (``advisor.storage.apply_candidates``), capped, audited in the reaper's
record shape (``reaper.model.audit_items``), dry run unless ``storage.action: apply`` and ``storage.dry_run: false``.
"""

from __future__ import annotations

import fnmatch
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from costwarden.adapters.s3_storage import S3Reader
from costwarden.adapters.state import StateStore
from costwarden.advisor.storage import (
    TIERABLE,
    Bucket,
    LifecycleRules,
    StorageFinding,
    apply_candidates,
    artefact_reason,
    find_storage,
    lifecycle_state,
    sizes_from_objects,
)
from costwarden.resources.model import Decision, Status, audit_items, new_run_id
from costwarden.settings import Settings

log = logging.getLogger("costwarden.advisor")

ACTION = "put_lifecycle"
RESOURCE_TYPE = "s3:bucket"
#: Days of ``BucketSizeBytes`` read: the oldest age band the rules distinguish (expire after 180) plus one.
HISTORY_DAYS = 181

ReaderFactory = Callable[[str], S3Reader]


@dataclass
class StorageRun:
    run_id: str
    started_at: datetime
    dry_run: bool
    findings: list[StorageFinding] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    blocked: bool = False
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "findings": len(self.findings),
            "monthly_savings_usd": round(sum(f.monthly_savings_usd for f in self.findings), 2),
            "decisions": {s.value: sum(d.status is s for d in self.decisions) for s in Status},
            "blocked": self.blocked,
            "requests": dict(self.requests),
            "errors": self.errors,
        }


def rules_of(settings: Settings) -> LifecycleRules:
    s = settings.storage
    return LifecycleRules(s.abort_multipart_days, s.noncurrent_days, s.tiering_days, s.expire_days)


def artefact_tags(settings: Settings) -> dict[str, tuple[str, ...]]:
    return {
        settings.tags.environment_key: settings.storage.artefact_environments,
        **settings.storage.artefact_tag_values,
    }


def _discover(
    settings: Settings, regions: Sequence[str], readers: dict[str, S3Reader], run: StorageRun
) -> list[Bucket]:
    """Artefact buckets of ``regions`` with their tags, lifecycle rules and sizes."""
    tag_values = artefact_tags(settings)
    patterns = settings.storage.name_patterns
    found: dict[str, tuple[str, dict[str, str], str]] = {}
    for region in regions:
        try:
            for name, tags in readers[region].tagged_buckets().items():
                why = artefact_reason(name, tags, tag_values=tag_values, name_patterns=patterns)
                if why is not None:
                    found[name] = (region, tags, why)
        except Exception as error:  # one region's failure is reported; the others still run
            run.errors.append(f"{region}: listing bucket tags failed: {type(error).__name__}: {error}")
    names: dict[str, str | None] | None = None
    if patterns:
        names = _by_name(settings, regions, readers, run, found)
    by_region: dict[str, list[tuple[str, dict[str, str], list[dict[str, Any]] | None]]] = defaultdict(list)
    for name, (region, tags, _) in sorted(found.items()):
        try:
            rules = readers[region].lifecycle(name)
        except Exception as error:  # reported; the bucket is left out
            run.errors.append(f"{name}: reading lifecycle failed: {type(error).__name__}: {error}")
            continue
        if lifecycle_state(rules) != "useful":
            by_region[region].append((name, tags, rules))
    buckets = _sized(readers, run, by_region)
    if settings.storage.prefix_patterns:
        buckets += _by_prefix(settings, regions, readers, run, whole=set(found), names=names)
    return buckets


def _sized(
    readers: dict[str, S3Reader],
    run: StorageRun,
    by_region: dict[str, list[tuple[str, dict[str, str], list[dict[str, Any]] | None]]],
) -> list[Bucket]:
    """The buckets with their latest bytes per storage type and the daily history of their tierable bytes."""
    buckets: list[Bucket] = []
    today = run.started_at.date()
    for region, entries in by_region.items():
        unsized: str | None = None
        try:
            sizes = readers[region].sizes([n for n, _, _ in entries], today=today, history_days=HISTORY_DAYS)
        except Exception as error:  # sizes unknown: figures are null (never 0), the rules still recommended
            run.errors.append(f"{region}: reading BucketSizeBytes failed: {type(error).__name__}: {error}")
            sizes, unsized = {}, f"BucketSizeBytes could not be read in {region}"
        for name, tags, rules in entries:
            series = sizes.get(name, {})
            latest = {storage_type: points[-1][1] for storage_type, points in series.items() if points}
            totals: dict[Any, float] = defaultdict(float)
            for storage_type, points in series.items():
                if storage_type in TIERABLE:
                    for day, value in points:
                        totals[day] += value
            buckets.append(Bucket(name, region, tags, rules, latest, sorted(totals.items()), unsized=unsized))
    return buckets


def _by_name(
    settings: Settings,
    regions: Sequence[str],
    readers: dict[str, S3Reader],
    run: StorageRun,
    found: dict[str, tuple[str, dict[str, str], str]],
) -> dict[str, str | None]:
    """Add buckets that match a configured name pattern (tagged or not) to ``found``; the account's buckets."""
    tag_values = artefact_tags(settings)
    patterns = settings.storage.name_patterns
    first = readers[regions[0]]
    names = _bucket_names(first, run)
    for name, listed_region in names.items():
        if name in found or artefact_reason(name, {}, tag_values={}, name_patterns=patterns) is None:
            continue
        region = listed_region or first.bucket_region(name)
        if region in readers:
            tags = readers[region].bucket_tags(name)
            why = artefact_reason(name, tags, tag_values=tag_values, name_patterns=patterns) or ""
            found[name] = (region, tags, why)
    return names


def _bucket_names(reader: S3Reader, run: StorageRun) -> dict[str, str | None]:
    try:
        return reader.bucket_names()
    except Exception as error:  # reported in the run summary
        run.errors.append(f"listing buckets failed: {type(error).__name__}: {error}")
        return {}


def prefixes_for(bucket: str, prefix_patterns: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The artefact key prefixes configured for a bucket name (every matching pattern's, in order, once)."""
    out: dict[str, None] = {}
    for pattern, prefixes in prefix_patterns.items():
        if fnmatch.fnmatchcase(bucket, pattern):
            out.update(dict.fromkeys(prefixes))
    return tuple(out)


def _by_prefix(
    settings: Settings,
    regions: Sequence[str],
    readers: dict[str, S3Reader],
    run: StorageRun,
    *,
    whole: set[str],
    names: dict[str, str | None] | None,
) -> list[Bucket]:
    """Buckets that are not artefact buckets as a whole but hold artefacts under configured key prefixes, sized
    from the objects under those prefixes. Buckets in ``whole`` already get bucket-wide rules."""
    s = settings.storage
    first = readers[regions[0]]
    listed = _bucket_names(first, run) if names is None else names
    buckets: list[Bucket] = []
    for name, listed_region in sorted(listed.items()):
        prefixes = prefixes_for(name, s.prefix_patterns)
        if name in whole or not prefixes:
            continue
        try:
            region = listed_region or first.bucket_region(name)
            if region not in readers:
                continue
            reader = readers[region]
            tags = reader.bucket_tags(name)
            rules = reader.lifecycle(name)
            if lifecycle_state(rules, prefixes) == "useful":
                continue
            objects, cut = reader.objects(name, prefixes, max_objects=s.prefix_max_objects)
        except Exception as error:  # reported; the bucket is left out
            run.errors.append(f"{name}: reading artefact prefixes failed: {type(error).__name__}: {error}")
            continue
        if not objects:
            continue  # nothing under the prefixes: nothing to recommend
        if cut:
            run.errors.append(
                f"{name}: more than storage.prefix_max_objects={s.prefix_max_objects} objects under "
                f"{', '.join(prefixes)}: not sized (figures null), rules still recommended"
            )
            unsized = f"more than {s.prefix_max_objects} objects under the prefixes (storage.prefix_max_objects)"
            buckets.append(Bucket(name, region, tags, rules, {}, (), prefixes, unsized))
            continue
        size_bytes, history = sizes_from_objects(objects)
        buckets.append(Bucket(name, region, tags, rules, size_bytes, history, prefixes))
    return buckets


def run_storage(
    settings: Settings,
    *,
    regions: Sequence[str],
    reader_factory: ReaderFactory,
    now: datetime,
    state: StateStore | None = None,
    allow_apply: bool = True,
) -> StorageRun:
    """One run. Acts only when ``storage.action`` is ``apply``, ``storage.dry_run`` is false and ``allow_apply``
    (the CLI's ``--apply``); otherwise decisions are ``planned``. Decisions are audited when ``state`` is given."""
    s = settings.storage
    dry = not (s.action == "apply" and not s.dry_run and allow_apply)
    run = StorageRun(run_id=new_run_id(now), started_at=now, dry_run=dry)
    readers = {region: reader_factory(region) for region in regions}
    try:
        buckets = _discover(settings, regions, readers, run)
        run.findings = find_storage(
            buckets,
            team_key=settings.tags.team_key,
            tag_values=artefact_tags(settings),
            name_patterns=s.name_patterns,
            keep_key=s.keep_key,
            keep_value=s.keep_value,
            prices=s.usd_per_gb_month,
            rules=rules_of(settings),
            today=now.date(),
        )
        if s.action == "apply":
            _apply(settings, readers, run)
    finally:
        for reader in readers.values():
            for key, count in reader.requests.items():
                run.requests[key] += count
    if state is not None and run.decisions:
        state.put_many(
            audit_items(run.run_id, run.started_at, run.dry_run, run.decisions), ttl_days=settings.reaper.audit_ttl_days
        )
    for decision in run.decisions:
        log.info("advisor decision", extra={"run_id": run.run_id, "dry_run": run.dry_run, **decision.to_dict()})
    return run


def _decision(finding: StorageFinding, status: Status, reason: str) -> Decision:
    b = finding.bucket
    return Decision(
        arn=f"arn:aws:s3:::{b.name}",
        type=RESOURCE_TYPE,
        region=b.region,
        team=finding.team,
        expires_at=None,
        action=ACTION,
        status=status,
        reason=reason,
        id=b.name,
    )


def _apply(settings: Settings, readers: dict[str, S3Reader], run: StorageRun) -> None:
    s = settings.storage
    candidates = apply_candidates(
        run.findings,
        environment_key=settings.tags.environment_key,
        apply_environments=s.apply_environments,
        protect_key=settings.tags.protect_key,
        protect_value=settings.tags.protect_value,
    )
    eligible = [c for c in candidates if c.skip_reason is None]
    run.blocked = len(eligible) > s.max_actions_per_run
    for candidate in candidates:
        finding = candidate.finding
        if candidate.skip_reason is not None:
            run.decisions.append(_decision(finding, Status.SKIPPED, candidate.skip_reason))
        elif run.blocked:
            reason = f"blocked: {len(eligible)} puts exceed storage.max_actions_per_run={s.max_actions_per_run}"
            run.decisions.append(_decision(finding, Status.SKIPPED, reason))
        elif run.dry_run:
            run.decisions.append(_decision(finding, Status.PLANNED, "dry run: would put the recommended rules"))
        else:
            run.decisions.append(_put(readers[finding.bucket.region], finding))


def _put(reader: S3Reader, finding: StorageFinding) -> Decision:
    name = finding.bucket.name
    try:
        # Checked again right before the put: a configuration added since the scan is never replaced.
        if reader.lifecycle(name) is not None:
            return _decision(finding, Status.SKIPPED, "a lifecycle configuration appeared since the scan: not replaced")
        reader.put_lifecycle(name, finding.recommendation)
    except Exception as error:  # recorded in the decision; the run goes on
        return _decision(finding, Status.FAILED, f"{type(error).__name__}: {error}")
    return _decision(finding, Status.DONE, "put the recommended lifecycle rules")
