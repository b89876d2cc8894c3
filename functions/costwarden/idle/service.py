"""One idle scan: inventory (the reaper's registry) → every idle check (``costwarden.idle.checks``) → findings.

Per region, the checks run in three generic steps: each ``prepare``s its candidates and registers its metric
queries (GPU dimension sets found with one paged ``ListMetrics`` per GPU metric name, a check's own listing paged);
every query is then read together, one batched ``GetMetricData`` pass per window (the hourly lookback, EMR's last
hours); then each check ``report``s (judges, prices, suggests). A region, a source or a metric batch that fails is
reported in the result and never read as idle; the rest goes on. AWS comes in through ``Ports`` only (no boto3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from costwarden.core.owner import UNOWNED_TEAM
from costwarden.idle.checks import CHECKS, scanned_types
from costwarden.idle.checks.base import Ports, RegionScan, expected_idle, lookback
from costwarden.idle.model import Finding, NotJudged, Window
from costwarden.resources.base import error_text
from costwarden.resources.inventory import collect_every
from costwarden.resources.model import Resource
from costwarden.settings import Settings

#: The registry types the idle finder scans (the checks' ``inventory``).
SCANNED_TYPES = scanned_types()

__all__ = ["SCANNED_TYPES", "UNOWNED_TEAM", "Ports", "Scan", "lookback", "scan"]


@dataclass
class Scan:
    """What one scan found: findings, what it could not judge and why, errors, the resources it saw."""

    started_at: datetime
    regions: list[str]
    window: Window
    findings: list[Finding] = field(default_factory=list)
    not_judged: list[NotJudged] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    expected_idle: int = 0
    metric_requests: int = 0
    metrics_queried: int = 0

    def waste_by_team(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for finding in self.findings:
            if finding.is_waste and finding.monthly_usd is not None:
                out[finding.team] += finding.monthly_usd
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def absorb(self, region: RegionScan) -> None:
        self.findings += region.findings
        self.not_judged += region.not_judged
        self.busy += region.busy
        self.errors += region.errors
        self.resources += region.listed
        self.expected_idle += region.expected_idle
        self.metric_requests += region.requests
        self.metrics_queried += region.metrics


def scan_region(region: RegionScan) -> None:
    """Every check over one region: prepare (queries registered), one read per window, report."""
    prepared = [(check, check.prepare(region)) for check in CHECKS]
    region.fetch_all()
    for check, candidates in prepared:
        check.report(region, candidates)


def scan(settings: Settings, *, regions: Sequence[str], ports: Ports, now: datetime | None = None) -> Scan:
    """Scan every region (concurrently) and return the findings, sorted by USD per month (unpriced last)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    result = Scan(started_at=now, regions=list(regions), window=lookback(now, settings.idle.lookback_days))
    inventory = collect_every(ports.clients, list(regions), SCANNED_TYPES)
    result.errors += [f"{e.region}: could not list {e.source}: {e.error}" for e in inventory.errors]
    kept = [r for r in inventory.resources if not expected_idle(r, settings)]
    result.expected_idle = len(inventory.resources) - len(kept)
    result.resources = inventory.resources
    by_region: dict[str, list[Resource]] = defaultdict(list)
    for resource in kept:
        by_region[resource.region].append(resource)

    def one(name: str) -> RegionScan:
        region = RegionScan(name, by_region.get(name, []), ports, settings, now)
        try:
            scan_region(region)
        except Exception as error:  # the region is reported; the others go on
            region.errors.append(f"{name}: scan failed: {error_text(error)}")
        return region

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(regions))), thread_name_prefix="idle-scan") as pool:
        for region in pool.map(one, list(regions)):
            result.absorb(region)
    result.findings.sort(key=lambda f: (f.monthly_usd is None, -(f.monthly_usd or 0.0), f.region, f.arn))
    return result
