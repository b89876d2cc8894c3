"""What an idle check declares, and the region scan every check runs in.

An idle check (one module per idle resource type) declares its IAM reads, the inventory types or the listing it
reads, its price lookup keys and its finding kinds, and implements four steps the scan runs for it:
``candidates`` (what to judge), ``queries`` (its CloudWatch ``GetMetricData`` metrics), ``judge`` (busy, idle or not
judged: a ``Verdict``), ``price`` and ``suggest`` (the sentence and commands). ``prepare`` and ``report`` tie them
together; a check whose resources roll up into a parent (EC2 instances into their Auto Scaling group) overrides
those two.

``RegionScan`` is the shared state of one region's scan: every check's metric queries are registered first and read
together, one batched fetch per window (``GetMetricData`` in batches of 500, whatever the number of checks), so
requests grow with metrics / 500, never with resources or checks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from costwarden.core.owner import person_of, team_of
from costwarden.idle.judge import Points, Verdict
from costwarden.idle.model import Finding, Kind, NotJudged, Window
from costwarden.idle.recommend import recommend
from costwarden.models.idle_ports import Describer, Listing, MetricBatch, MetricQuery, MetricReader, PriceBook
from costwarden.models.pricing import monthly
from costwarden.resources import Clients
from costwarden.resources.base import error_text
from costwarden.resources.model import Resource, is_protected
from costwarden.settings import Settings

HOUR = 3600
#: The price lookup key of EBS storage (``PriceBook.storage_price``); every other key is an on-demand service.
STORAGE = "ebs"
#: Every check prices its findings through the Price List API.
PRICE_READ = "pricing:GetProducts"

#: ``(USD per month or None, the reason when None)``.
type Priced = tuple[float | None, str]


@dataclass
class Ports:
    """Everything AWS the scan needs, injected (the handler and CLI wire ``costwarden.adapters``)."""

    clients: Clients
    metrics: MetricReader
    prices: PriceBook
    describe: Describer


@dataclass(frozen=True)
class Handle:
    """Where a registered metric query's points will be: its window's batch, its index in that batch."""

    window: Window
    index: int


@dataclass
class Candidate:
    """A resource a check will judge, its metric handles and what ``describe`` learnt about it."""

    resource: Resource
    handles: tuple[Handle, ...] = ()
    facts: Any = None


def lookback(now: datetime, days: int) -> Window:
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return Window(end - timedelta(days=days), end)


def aware(value: Any) -> datetime | None:
    """A datetime (boto3) or ISO string (the inventory's details) as an aware UTC datetime; None if neither."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def expected_idle(resource: Resource, settings: Settings) -> bool:
    return str(resource.tags.get(settings.idle.expected_idle_key, "")).strip().lower() == "true"


class RegionScan:
    """One region's scan: its resources by type, metric queries per window, findings, what was not judged."""

    def __init__(self, region: str, resources: list[Resource], ports: Ports, settings: Settings, now: datetime):
        self.region = region
        self.ports = ports
        self.settings = settings
        self.cfg = settings.idle
        self.now = now
        self.window = lookback(now, self.cfg.lookback_days)
        self.findings: list[Finding] = []
        self.not_judged: list[NotJudged] = []
        self.busy: list[str] = []
        self.errors: list[str] = []
        self.listed: list[Resource] = []
        self.expected_idle = 0
        self.requests = 0
        self.metrics = 0
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        for resource in resources:
            self.by_type[resource.type].append(resource)
        self._queries: dict[Window, list[MetricQuery]] = {}
        self._batches: dict[Window, MetricBatch] = {}

    # -- metrics -------------------------------------------------------------------------------------------
    def query(self, query: MetricQuery, window: Window | None = None) -> Handle:
        """Register ``query`` over ``window`` (the lookback by default); read by ``fetch_all``."""
        window = window or self.window
        queries = self._queries.setdefault(window, [])
        queries.append(query)
        return Handle(window, len(queries) - 1)

    def fetch_all(self) -> None:
        """One batched fetch per window, in the order the windows were first used."""
        for window, queries in self._queries.items():
            self._batches[window] = self._fetch(queries, window)

    def _fetch(self, queries: Sequence[MetricQuery], window: Window) -> MetricBatch:
        try:
            batch = self.ports.metrics.fetch(self.region, queries, window.start, window.end)
        except Exception as error:  # every query of the window failed; reported, nothing read as idle
            self.errors.append(f"{self.region}: metrics could not be read: {error_text(error)}")
            return MetricBatch(failed=set(range(len(queries))))
        self.requests += batch.requests
        self.metrics += len(queries)
        self.errors.extend(batch.errors)
        return batch

    def failed(self, handles: Sequence[Handle]) -> bool:
        return any(h.index in self._batches[h.window].failed for h in handles)

    def points(self, handle: Handle) -> Points:
        return self._batches[handle.window].points.get(handle.index, [])

    # -- inventory beyond the registry ---------------------------------------------------------------------
    def list(self, check: IdleCheck) -> list[Resource]:
        """The check's own ``listing`` (paged), as resources; expected-idle ones are counted and left out."""
        if check.listing is None:
            return []
        try:
            items = self.ports.describe.list_all(self.region, check.listing)
        except Exception as error:  # reported like the inventory's sources; nothing of this type is judged
            self.errors.append(f"{self.region}: could not list {check.listing.source}: {error_text(error)}")
            return []
        resources = [check.resource(item, self.region) for item in items]
        self.listed += resources
        kept = [r for r in resources if not expected_idle(r, self.settings)]
        self.expected_idle += len(resources) - len(kept)
        return kept

    # -- outcomes ------------------------------------------------------------------------------------------
    def price(self, check: IdleCheck, key: str, name: str, quantity: float = 1.0) -> Priced:
        """USD per month of ``quantity`` x ``name`` under the price lookup ``key`` (one the check declares)."""
        if key not in check.prices:
            raise LookupError(f"idle check {check.name} prices with {key!r} but declares {check.prices}")
        prices = self.ports.prices
        quote = (
            prices.storage_price(name, self.region)
            if key == STORAGE
            else prices.on_demand_price(key, name, self.region)
        )
        return monthly(quote, quantity), quote.note

    def skip(self, resource: Resource, reason: str) -> None:
        self.not_judged.append(NotJudged(resource.arn, resource.type, self.region, reason))

    def settle(self, resource: Resource, verdict: Verdict) -> bool:
        """Record a verdict that makes no finding (not judged, or busy); True when it was one of those."""
        if not verdict.judged:
            self.skip(resource, verdict.evidence)
            return True
        if verdict.kind is None:
            self.busy.append(resource.arn)
            return True
        return False

    def add(self, check: IdleCheck, resource: Resource, kind: Kind, evidence: str, price: Priced, **extra: Any) -> None:
        usd, note = price
        recommendation, commands = recommend(check.suggest(resource, kind, **extra), resource, self.settings)
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
                judged_hours=check.window(self).hours,
                protected=is_protected(resource.tags, self.settings.tags),
                person=person_of(resource.tags, self.settings.tags),
            )
        )


class IdleCheck:
    """One idle resource type. Subclasses set the declarations and implement the steps (see the module docstring).

    Declarations (class attributes; the completeness test reads them):

    * ``name``: the check's name; ``types``: the resource types its findings carry; ``kinds``: their kinds.
    * ``inventory``: the reaper registry types it reads from the inventory (their read permissions join the role);
      or ``listing``: its own paged describe call, for a type the registry does not hold.
    * ``reads``: every IAM action its reads need beyond the inventory's (metrics, describe calls, ``listing``).
    * ``prices``: its price lookup keys (``ec2``, ``sagemaker-hosting``, ``sagemaker-notebook``, ``ebs``).
    """

    name: ClassVar[str]
    types: ClassVar[tuple[str, ...]]
    kinds: ClassVar[frozenset[Kind]]
    prices: ClassVar[tuple[str, ...]]
    inventory: ClassVar[tuple[str, ...]] = ()
    listing: ClassVar[Listing | None] = None
    reads: ClassVar[tuple[str, ...]] = ()
    #: Why a candidate whose metric read failed is not judged.
    unreadable: ClassVar[str] = "its metrics could not be read this run"

    # -- the steps ----------------------------------------------------------------------------------------
    def candidates(self, scan: RegionScan) -> list[Resource]:
        """The resources to judge (from ``scan.by_type`` or ``scan.list(self)``)."""
        raise NotImplementedError

    def describe(self, scan: RegionScan, resource: Resource) -> Any:
        """What the judgement or price needs beyond the inventory (a describe call); raising: not judged."""
        return None

    def queries(self, scan: RegionScan, resource: Resource, facts: Any) -> list[MetricQuery]:
        """The metrics to read for ``resource`` over ``window`` (none by default)."""
        return []

    def window(self, scan: RegionScan) -> Window:
        return scan.window

    def judge(self, scan: RegionScan, candidate: Candidate, series: list[Points]) -> Verdict | None:
        """Busy, idle or not judged, from one point series per query; None: nothing to say (not even busy)."""
        raise NotImplementedError

    def price(self, scan: RegionScan, candidate: Candidate) -> Priced:
        raise NotImplementedError

    def suggestion_facts(self, scan: RegionScan, candidate: Candidate) -> dict[str, Any]:
        """What ``suggest`` needs beyond the resource and kind, read only for a finding (none by default)."""
        return {}

    def suggest(self, resource: Resource, kind: Kind, **extra: Any) -> tuple[str, list[str]]:
        """The recommendation sentence and the exact commands (the expected-idle tag is added by the scan)."""
        raise NotImplementedError

    def resource(self, item: dict[str, Any], region: str) -> Resource:
        """One item of ``listing`` as a resource (checks with a ``listing`` only)."""
        raise NotImplementedError

    # -- the loop ------------------------------------------------------------------------------------------
    def prepare(self, scan: RegionScan) -> list[Candidate]:
        """Candidates with their metric queries registered (read later, with every other check's)."""
        out: list[Candidate] = []
        for resource in self.candidates(scan):
            try:
                facts = self.describe(scan, resource)
            except Exception as error:  # this resource is reported as not judged
                scan.skip(resource, f"could not be described: {error_text(error)}")
                continue
            window = self.window(scan)
            handles = tuple(scan.query(q, window) for q in self.queries(scan, resource, facts))
            out.append(Candidate(resource, handles, facts))
        return out

    def verdict(self, scan: RegionScan, candidate: Candidate) -> Verdict | None:
        if candidate.handles and scan.failed(candidate.handles):
            return Verdict(None, self.unreadable, judged=False)
        return self.judge(scan, candidate, [scan.points(h) for h in candidate.handles])

    def report(self, scan: RegionScan, candidates: list[Candidate]) -> None:
        """Judge every candidate; busy and not judged are recorded, the rest become priced findings."""
        for candidate in candidates:
            verdict = self.verdict(scan, candidate)
            if verdict is None or scan.settle(candidate.resource, verdict) or verdict.kind is None:
                continue
            price = self.price(scan, candidate)
            scan.add(
                self,
                candidate.resource,
                verdict.kind,
                verdict.evidence,
                price,
                **self.suggestion_facts(scan, candidate),
            )
