"""The burn guard's wiring: one function (``evaluate``) that the Lambda and ``costwarden burn`` both call, and the AWS
side of its ports (the Price List and spot prices, the callers' role tags, the monitor's baselines, SNS).

``evaluate`` is ``burn.run.run_burn`` and nothing else, so the Lambda and the CLI give the same answer for the same
events, state and prices (``tests/functional/burn/test_same_answer.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from costwarden.burn import snapshot
from costwarden.burn.rate import UNIT_PK, Units
from costwarden.burn.run import BurnPorts, BurnResult, PriceKey, Prices, run_burn
from costwarden.core import baselines
from costwarden.models.idle_ports import Quote
from costwarden.models.ports import Clients, StateStore
from costwarden.resources.inventory import collect_every
from costwarden.settings import Settings

#: Why a managed-spot SageMaker job or a capacity block has no hourly price in the Price List.
UNPRICED_MARKETS = {
    "capacity-block": "a capacity block is billed its offering's upfront fee (DescribeCapacityBlockOfferings), "
    "not in the purchase event: priced as unknown",
}


def evaluate(events: Sequence[Any], settings: Settings, ports: BurnPorts, *, now: datetime) -> BurnResult:
    """One batch of EventBridge events judged (and, with a publisher, alerted): the Lambda's and the CLI's call."""
    return run_burn(events, settings, ports, now=now)


def stored_baseline(store: StateStore) -> Callable[[str, date], float | None]:
    """The daily detector's baseline as the cost monitor left it in the state table (``core.baselines``)."""

    def baseline(team: str, day: date) -> float | None:
        return baselines.baseline_of(store, team, day)[0]

    return baseline


@dataclass
class AwsPrices:
    """``Prices`` on AWS: on-demand from the Price List adapter (cached in the state table, one request per
    distinct type and region), spot from ``DescribeSpotPriceHistory`` (one request per region and batch)."""

    clients: Callable[[str, str], Any]
    state: StateStore | None = None
    price_list: Any = None
    spot_requests: int = 0
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.price_list is None:
            from costwarden.adapters.pricing import PriceList

            self.price_list = PriceList(self.clients, self.state)

    @property
    def requests(self) -> int:
        return int(self.price_list.requests) + self.spot_requests

    def quote_all(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]:
        quotes: dict[PriceKey, Quote] = {}
        spot: dict[str, list[PriceKey]] = defaultdict(list)
        for key in keys:
            service, itype, region, market, _zone = key
            if market in UNPRICED_MARKETS:
                quotes[key] = Quote(None, "Hrs", UNPRICED_MARKETS[market])
            elif market == "spot" and service == "ec2":
                spot[region].append(key)
            elif market == "spot":
                note = f"{service} managed spot is billed below on demand by a saving known only afterwards"
                quotes[key] = Quote(None, "Hrs", note)
            else:
                quotes[key] = self.price_list.on_demand_price(service, itype, region)
        for region, wanted in sorted(spot.items()):
            quotes.update(self._spot(region, wanted))
        return quotes

    def _spot(self, region: str, keys: list[PriceKey]) -> dict[PriceKey, Quote]:
        from costwarden.adapters.ec2_spot import SpotPrices

        reader = SpotPrices(region, ec2=self.clients("ec2", region))
        try:
            history = reader.history(sorted({k[1] for k in keys}), datetime.now(UTC))
        except Exception as error:  # every spot launch of the region is unknown, with the reason
            self.failures.append(f"spot prices in {region}: {type(error).__name__}")
            return {
                k: Quote(None, "Hrs", f"spot price request failed in {region}: {type(error).__name__}") for k in keys
            }
        finally:
            self.spot_requests += reader.requests
        return {key: spot_quote(history, key) for key in keys}


def spot_quote(history: Sequence[dict[str, Any]], key: PriceKey) -> Quote:
    """The spot price of ``key``'s type: in its zone when the request named one, else the highest zone's (what the
    launch may pay at most, said so)."""
    _service, itype, region, _market, zone = key
    prices: dict[str, float] = {}
    for item in history:
        if item.get("InstanceType") != itype:
            continue
        try:
            prices[str(item.get("AvailabilityZone", ""))] = float(item["SpotPrice"])
        except (KeyError, TypeError, ValueError):
            continue
    if zone and zone in prices:
        return Quote(prices[zone], "Hrs")
    if not prices:
        return Quote(None, "Hrs", f"no spot price for {itype} in {region}")
    return Quote(max(prices.values()), "Hrs", "the highest zone's (the request named no zone)")


def aws_ports(settings: Settings, store: StateStore, publish: Callable[..., object] | None) -> tuple[BurnPorts, Any]:
    """The deployed ports: Price List and spot prices, role tags, the monitor's baselines, SNS. Also returns the
    prices (its request count goes in the summary)."""
    from costwarden.adapters.iam_roles import RoleTags
    from costwarden.services.reaper import default_clients

    del settings  # every setting the run needs travels with it (run_burn reads them)
    prices = AwsPrices(default_clients, store)
    ports = BurnPorts(
        store=store, prices=prices, baseline=stored_baseline(store), role_tags=RoleTags(), publish=publish
    )
    return ports, prices


def seed_from_inventory(
    settings: Settings,
    *,
    regions: Sequence[str],
    clients: Clients,
    store: StateStore,
    now: datetime,
    prices: Prices | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """The inventory snapshot (``burn.snapshot``), on the reaper's hourly run: every EC2 instance of ``regions``
    listed (one ``DescribeInstances`` page per 1,000 instances), priced once per distinct type and region, the
    changed unit records written in batches. Returns the run's summary; a failure is in it, never raised (the
    reaper's own run is done by then) and never read as "nothing runs"."""
    try:
        return _seed(settings, regions=regions, clients=clients, store=store, now=now, prices=prices, account=account)
    except Exception as error:  # recorded in the reaper's summary; the next hourly run seeds again
        return {"error": f"burn snapshot: {type(error).__name__}: {str(error)[:200]}"}


def _seed(
    settings: Settings,
    *,
    regions: Sequence[str],
    clients: Clients,
    store: StateStore,
    now: datetime,
    prices: Prices | None,
    account: str | None,
) -> dict[str, Any]:
    listing = collect_every(clients, list(regions), [snapshot.RESOURCE_TYPE])
    if account is None:
        from costwarden.adapters.sts import caller_account

        account = caller_account(clients("sts", regions[0])) if regions else None
    accounts = {account} if account else {a for a in map(snapshot.account_of, (r.arn for r in listing.resources)) if a}
    failed = sorted({e.region for e in listing.errors})
    taken = snapshot.snapshot_of(
        listing.resources, at=now, listed=[(a, r) for a in accounts for r in regions], failed_regions=failed
    )
    keys = taken.price_keys()
    quotes = (prices or AwsPrices(clients, store)).quote_all(keys) if keys else {}
    units = Units.load(store.query(UNIT_PK))
    done = snapshot.seed(
        units,
        taken,
        previous=snapshot.previous_of(store.query(snapshot.SNAPSHOT_PK)),
        quotes=quotes,
        policy=settings.tags,
    )
    writes = len(units.changed)
    units.save(store, settings.burn.unit_ttl_days)
    store.put_many(snapshot.scopes_of(taken), ttl_days=settings.burn.unit_ttl_days)
    return {**done.totals(), "listed": len(taken.seen), "written": writes, "failed_regions": failed}
