"""One idle scan: inventory (the reaper's registry) → metric queries → judgement → prices → findings.

Per region: the registry lists every instance, group, cluster, endpoint, notebook and volume (``list_every``);
GPU metric dimension sets are discovered with ``ListMetrics`` (one paged call per GPU metric name); every metric is
then read with batched ``GetMetricData`` (one pass for the hourly lookback, one for EMR's last hours). A region, a
source or a metric batch that fails is reported in the result and never read as idle; the rest goes on.

Cluster members roll up to their parent: Auto Scaling group and EKS node-group members are judged one by one and
combined (the group is idle only when every member is), EMR members are priced into their cluster, which is judged
by ``IsIdle``. AWS comes in through ``Ports`` only (no boto3 here).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from costwarden.core.owner import team_of
from costwarden.idle.judge import (
    Verdict,
    combine_members,
    days_since,
    is_gpu_type,
    judge_emr,
    judge_endpoint,
    judge_instance,
    stopped_since,
)
from costwarden.idle.model import Finding, Kind, NotJudged, Window
from costwarden.idle.recommend import recommend
from costwarden.models.idle_ports import Describer, Dimensions, MetricBatch, MetricQuery, MetricReader, PriceBook
from costwarden.models.pricing import monthly, total
from costwarden.reaper.inventory import collect_every
from costwarden.resources import Clients
from costwarden.resources.base import error_text
from costwarden.resources.model import Resource
from costwarden.settings import Settings

#: The registry types the idle finder scans.
SCANNED_TYPES = (
    "ec2:instance",
    "autoscaling:group",
    "eks:nodegroup",
    "emr:cluster",
    "sagemaker:endpoint",
    "sagemaker:notebook-instance",
    "ec2:volume",
)
HOUR = 3600
EMR_PERIOD = 300


@dataclass
class Ports:
    """Everything AWS the scan needs, injected (the handler and CLI wire ``costwarden.adapters``)."""

    clients: Clients
    metrics: MetricReader
    prices: PriceBook
    describe: Describer


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


def lookback(now: datetime, days: int) -> Window:
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return Window(end - timedelta(days=days), end)


def _aware(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


class _Region:
    """The scan of one region (its own queries, judgements and findings)."""

    def __init__(self, region: str, resources: list[Resource], ports: Ports, settings: Settings, now: datetime):
        self.region = region
        self.resources = resources
        self.ports = ports
        self.settings = settings
        self.cfg = settings.idle
        self.now = now
        self.window = lookback(now, self.cfg.lookback_days)
        self.findings: list[Finding] = []
        self.not_judged: list[NotJudged] = []
        self.busy: list[str] = []
        self.errors: list[str] = []
        self.requests = 0
        self.metrics = 0
        self.gpu_listing_failed = False
        self.queries: list[MetricQuery] = []
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        for resource in resources:
            self.by_type[resource.type].append(resource)

    # -- helpers -------------------------------------------------------------------------------------------
    def query(self, namespace: str, name: str, dimensions: Dimensions, stat: str, period: int = HOUR) -> int:
        self.queries.append(MetricQuery(namespace, name, dimensions, stat, period))
        return len(self.queries) - 1

    def instance_price(self, instance_type: str) -> tuple[float | None, str]:
        quote = self.ports.prices.on_demand_price("ec2", instance_type, self.region)
        return monthly(quote), quote.note

    def add(self, resource: Resource, kind: Kind, evidence: str, price: tuple[float | None, str], **extra: Any) -> None:
        usd, note = price
        recommendation, commands = recommend(resource, kind, self.settings, **extra)
        self.findings.append(
            Finding(
                arn=resource.arn,
                id=resource.id,
                type=resource.type,
                region=self.region,
                team=team_of(resource.tags, self.settings.tags),
                kind=kind,
                monthly_usd=usd,
                evidence=evidence,
                recommendation=recommendation,
                price_note=note,
                environment=str(resource.tags.get(self.settings.tags.environment_key, "")),
                commands=commands,
            )
        )

    def skip(self, resource: Resource, reason: str) -> None:
        self.not_judged.append(NotJudged(resource.arn, resource.type, self.region, reason))

    # -- the scan ------------------------------------------------------------------------------------------
    def run(self) -> None:
        instances = [r for r in self.by_type["ec2:instance"] if r.active]
        running = [r for r in instances if r.state == "running"]
        parents = {
            (r.type, r.key or r.id): r
            for t in ("autoscaling:group", "eks:nodegroup", "emr:cluster")
            for r in self.by_type[t]
        }
        standalone, groups, emr_members = [], defaultdict(list), defaultdict(list)
        for instance in running:
            parent = instance.parent
            if parent is not None and parent.type == "emr:cluster":
                emr_members[parent.key].append(instance)
            elif parent is not None and (parent.type, parent.key) in parents:
                groups[(parent.type, parent.key)].append(instance)
            else:
                standalone.append(instance)  # alone, or its parent is gone: judged as itself
        judged = standalone + [m for members in groups.values() for m in members]
        gpu_dims = self.gpu_dimensions([r for r in judged if is_gpu_type(r.details.get("instance_type", ""), self.cfg)])
        cpu_q = {r.id: self.query("AWS/EC2", "CPUUtilization", (("InstanceId", r.id),), "Average") for r in judged}
        gpu_q: dict[str, list[int]] = {
            instance_id: [self.query(self.cfg.gpu_namespace, name, dims, "Average") for name, dims in sets]
            for instance_id, sets in gpu_dims.items()
        }
        endpoints = [r for r in self.by_type["sagemaker:endpoint"] if r.active and r.state == "InService"]
        variants, endpoint_q = self.endpoint_queries(endpoints)
        batch = self.fetch(self.queries, self.window.start, self.window.end)

        verdicts: dict[str, Verdict] = {}
        for instance in judged:
            verdicts[instance.id] = self.judge_one(instance, batch, cpu_q, gpu_q, gpu_dims)
        for instance in standalone:
            self.report_instance(instance, verdicts[instance.id])
        for key, members in sorted(groups.items()):
            self.report_group(parents[key], members, verdicts)
        for endpoint in endpoints:
            self.report_endpoint(endpoint, variants.get(endpoint.id), endpoint_q.get(endpoint.id, []), batch)
        self.report_emr(emr_members)
        self.report_notebooks()
        self.report_stopped([r for r in instances if r.state == "stopped" and r.parent is None])
        self.report_volumes()

    def fetch(self, queries: Sequence[MetricQuery], start: datetime, end: datetime) -> MetricBatch:
        if not queries:
            return MetricBatch()
        try:
            batch = self.ports.metrics.fetch(self.region, queries, start, end)
        except Exception as error:  # every query of the region failed; reported, nothing read as idle
            self.errors.append(f"{self.region}: metrics could not be read: {error_text(error)}")
            return MetricBatch(failed=set(range(len(queries))))
        self.requests += batch.requests
        self.metrics += len(queries)
        self.errors.extend(batch.errors)
        return batch

    def gpu_dimensions(self, gpu_instances: list[Resource]) -> dict[str, list[tuple[str, Dimensions]]]:
        """Per GPU instance, every (metric name, dimension set) of its GPUs (one per ``index``)."""
        wanted = {r.id for r in gpu_instances}
        out: dict[str, list[tuple[str, Dimensions]]] = defaultdict(list)
        if not wanted:
            return out
        for name in self.cfg.gpu_metrics:
            try:
                sets = self.ports.metrics.dimensions(self.region, self.cfg.gpu_namespace, name)
            except Exception as error:  # GPU boxes are then not judged (never guessed from the CPU)
                self.errors.append(f"{self.region}: ListMetrics {self.cfg.gpu_namespace}/{name}: {error_text(error)}")
                for instance_id in wanted:
                    out.setdefault(instance_id, [])
                self.gpu_listing_failed = True
                continue
            for dims in sets:
                owner = dict(dims).get("InstanceId", "")
                if owner in wanted:
                    out[owner].append((name, dims))
        return out

    def judge_one(
        self,
        instance: Resource,
        batch: MetricBatch,
        cpu_q: dict[str, int],
        gpu_q: dict[str, list[int]],
        gpu_dims: dict[str, list[tuple[str, Dimensions]]],
    ) -> Verdict:
        indexes = [cpu_q[instance.id], *gpu_q.get(instance.id, [])]
        if any(i in batch.failed for i in indexes) or (
            self.gpu_listing_failed and instance.id in gpu_dims and not gpu_q.get(instance.id)
        ):
            return Verdict(None, "its metrics could not be read this run", judged=False)
        gpus = [batch.points.get(i, []) for i in gpu_q.get(instance.id, [])]
        return judge_instance(
            instance.details.get("instance_type", ""),
            _aware(instance.details.get("launch_time")),
            batch.points.get(cpu_q[instance.id], []),
            gpus,
            self.window,
            self.cfg,
        )

    def report_instance(self, instance: Resource, verdict: Verdict) -> None:
        if not verdict.judged:
            self.skip(instance, verdict.evidence)
        elif verdict.kind is None:
            self.busy.append(instance.arn)
        else:
            self.add(instance, verdict.kind, verdict.evidence, self.instance_price(instance.details["instance_type"]))

    def report_group(self, parent: Resource, members: list[Resource], verdicts: dict[str, Verdict]) -> None:
        verdict = combine_members([verdicts[m.id] for m in members])
        if not verdict.judged:
            self.skip(parent, verdict.evidence)
            return
        if verdict.kind is None:
            self.busy.append(parent.arn)
            return
        price = total([self.instance_price(m.details.get("instance_type", "")) for m in members])
        self.add(parent, verdict.kind, f"{len(members)} instances; {verdict.evidence}", price, members=len(members))

    def endpoint_queries(self, endpoints: list[Resource]) -> tuple[dict[str, Any], dict[str, list[int]]]:
        variants: dict[str, Any] = {}
        queries: dict[str, list[int]] = {}
        for endpoint in endpoints:
            try:
                found = self.ports.describe.endpoint_variants(self.region, endpoint.id)
            except Exception as error:  # this endpoint is reported as not judged
                self.skip(endpoint, f"could not be described: {error_text(error)}")
                continue
            variants[endpoint.id] = found
            queries[endpoint.id] = [
                self.query(
                    "AWS/SageMaker",
                    "Invocations",
                    (("EndpointName", endpoint.id), ("VariantName", v.name)),
                    "Sum",
                )
                for v in found
            ]
        return variants, queries

    def report_endpoint(self, endpoint: Resource, variants: Any, indexes: list[int], batch: MetricBatch) -> None:
        if variants is None:
            return
        if any(i in batch.failed for i in indexes):
            self.skip(endpoint, "its metrics could not be read this run")
            return
        verdict = judge_endpoint(
            _aware(endpoint.details.get("created")), [batch.points.get(i, []) for i in indexes], self.window, self.cfg
        )
        if not verdict.judged:
            self.skip(endpoint, verdict.evidence)
            return
        if verdict.kind is None:
            self.busy.append(endpoint.arn)
            return
        parts: list[tuple[float | None, str]] = []
        for variant in variants:
            if not variant.instance_type:
                parts.append((0.0, ""))  # serverless: paid per request, nothing idles
                continue
            quote = self.ports.prices.on_demand_price("sagemaker-hosting", variant.instance_type, self.region)
            parts.append((monthly(quote, variant.count), quote.note))
        self.add(endpoint, verdict.kind, verdict.evidence, total(parts))

    def report_emr(self, members: dict[str, list[Resource]]) -> None:
        clusters = [r for r in self.by_type["emr:cluster"] if r.active and r.state in ("RUNNING", "WAITING")]
        if not clusters:
            return
        start = self.now - timedelta(hours=self.cfg.emr_idle_hours)
        indexes = {
            c.id: self.query("AWS/ElasticMapReduce", "IsIdle", (("JobFlowId", c.id),), "Average", EMR_PERIOD)
            for c in clusters
        }
        batch = self.fetch([self.queries[i] for i in indexes.values()], start, self.now)
        for position, cluster in enumerate(clusters):
            if position in batch.failed:
                self.skip(cluster, "its IsIdle metric could not be read this run")
                continue
            verdict = judge_emr(
                _aware(cluster.details.get("created")), batch.points.get(position, []), self.now, self.cfg
            )
            if not verdict.judged:
                self.skip(cluster, verdict.evidence)
                continue
            if verdict.kind is None:
                self.busy.append(cluster.arn)
                continue
            usd, note = self.emr_price(cluster, members.get(cluster.id, []))
            policy = self.ports.describe.emr_auto_termination(self.region, cluster.id)
            self.add(cluster, verdict.kind, verdict.evidence, (usd, note), auto_termination=policy)

    def emr_price(self, cluster: Resource, members: list[Resource]) -> tuple[float | None, str]:
        """EC2 on-demand price of the cluster's instance groups (the EMR fee is not included, and says so)."""
        try:
            groups = self.ports.describe.emr_instance_groups(self.region, cluster.id)
        except Exception as error:  # fall back to the members the inventory saw
            groups = []
            self.errors.append(f"{self.region}: instance groups of {cluster.id}: {error_text(error)}")
        if not groups:
            groups = [(m.details.get("instance_type", ""), 1) for m in members]
        if not groups:
            return None, "its instances could not be found"
        parts = []
        for instance_type, count in groups:
            quote = self.ports.prices.on_demand_price("ec2", instance_type, self.region)
            parts.append((monthly(quote, count), quote.note))
        usd, note = total(parts)
        return usd, note or "EC2 on-demand price of its instances (the EMR fee is not included)"

    def report_notebooks(self) -> None:
        for notebook in self.by_type["sagemaker:notebook-instance"]:
            if not notebook.active or notebook.state != "InService":
                continue
            config = str(notebook.details.get("lifecycle_config") or "")
            autostop = self.ports.describe.notebook_autostop(self.region, config) if config else False
            if autostop:
                self.busy.append(notebook.arn)
                continue
            what = (
                "InService without a lifecycle configuration"
                if not config
                else f"InService; its lifecycle configuration {config!r} has no idle auto-stop"
                if autostop is False
                else f"InService; its lifecycle configuration {config!r} could not be read"
            )
            evidence = f"{what} (SageMaker publishes no server-side idle metric for notebooks: usage cannot be judged)"
            quote = self.ports.prices.on_demand_price(
                "sagemaker-notebook", str(notebook.details.get("instance_type", "")), self.region
            )
            self.add(notebook, Kind.NO_AUTOSTOP, evidence, (monthly(quote), quote.note))

    def volume_price(self, volumes: list[Resource]) -> tuple[float | None, str]:
        parts: list[tuple[float | None, str]] = []
        for volume in volumes:
            quote = self.ports.prices.storage_price(str(volume.details.get("volume_type", "")), self.region)
            parts.append((monthly(quote, float(volume.details.get("size_gib") or 0)), quote.note))
        return total(parts) if parts else (None, "its volumes were not found in the inventory")

    def report_stopped(self, stopped: list[Resource]) -> None:
        volumes = {r.id: r for r in self.by_type["ec2:volume"]}
        for instance in stopped:
            since = stopped_since(str(instance.details.get("state_reason", "")))
            days = days_since(since, self.now)
            if days is None:
                self.skip(instance, "stopped, but since when is unknown (no date in its state transition reason)")
                continue
            if days <= self.cfg.stopped_days:
                continue
            attached = [volumes[v] for v in instance.details.get("volumes", []) if v in volumes]
            evidence = f"stopped for {days:.0f} days (since {since:%Y-%m-%d}); its {len(attached)} volume(s) still bill"
            self.add(instance, Kind.STOPPED, evidence, self.volume_price(attached))

    def report_volumes(self) -> None:
        for volume in self.by_type["ec2:volume"]:
            if volume.state != "available":
                continue
            days = days_since(_aware(volume.details.get("created")), self.now)
            if days is None or days <= self.cfg.volume_unattached_days:
                continue
            evidence = (
                f"unattached, {volume.details.get('size_gib')} GiB {volume.details.get('volume_type')}, "
                f"created {days:.0f} days ago"
            )
            self.add(volume, Kind.UNATTACHED, evidence, self.volume_price([volume]))


def scan(settings: Settings, *, regions: Sequence[str], ports: Ports, now: datetime | None = None) -> Scan:
    """Scan every region (concurrently) and return the findings, sorted by USD per month (unpriced last)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    result = Scan(started_at=now, regions=list(regions), window=lookback(now, settings.idle.lookback_days))
    inventory = collect_every(ports.clients, list(regions), SCANNED_TYPES)
    result.errors += [f"{e.region}: could not list {e.source}: {e.error}" for e in inventory.errors]
    kept = [r for r in inventory.resources if not _expected_idle(r, settings)]
    result.expected_idle = len(inventory.resources) - len(kept)
    result.resources = inventory.resources
    by_region: dict[str, list[Resource]] = defaultdict(list)
    for resource in kept:
        by_region[resource.region].append(resource)

    def one(region: str) -> _Region:
        scanner = _Region(region, by_region.get(region, []), ports, settings, now)
        try:
            scanner.run()
        except Exception as error:  # the region is reported; the others go on
            scanner.errors.append(f"{region}: scan failed: {error_text(error)}")
        return scanner

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(regions))), thread_name_prefix="idle-scan") as pool:
        for scanner in pool.map(one, list(regions)):
            result.findings += scanner.findings
            result.not_judged += scanner.not_judged
            result.busy += scanner.busy
            result.errors += scanner.errors
            result.metric_requests += scanner.requests
            result.metrics_queried += scanner.metrics
    result.findings.sort(key=lambda f: (f.monthly_usd is None, -(f.monthly_usd or 0.0), f.region, f.arn))
    return result


def _expected_idle(resource: Resource, settings: Settings) -> bool:
    return str(resource.tags.get(settings.idle.expected_idle_key, "")).strip().lower() == "true"
