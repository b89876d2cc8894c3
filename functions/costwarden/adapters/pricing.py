"""On-demand prices from the AWS Price List API (``pricing:GetProducts``), a snapshot per region in the state table.

One general entry point, ``PriceList.on_demand_price(service, instance_type, region)``, for every part that prices
capacity (the idle finder, the savings advisor), and ``storage_price`` for EBS. The Price List API answers only
in a few regions (us-east-1 here) whatever region is priced. A price that cannot be found is ``Quote(None, ...)``
with the reason (and cached for a day only, so a fixed filter or a new instance type is seen soon).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock
from typing import Any

from costwarden.models.idle_ports import Quote, Store
from costwarden.models.ports import Clients, error_text
from costwarden.models.pricing import on_demand_quote

PRICING_REGION = "us-east-1"
NOT_FOUND_CACHE_DAYS = 1

#: ``service`` → (Price List service code, fixed filters, the attribute holding the instance type).
SERVICES: dict[str, tuple[str, dict[str, str], str]] = {
    "ec2": (
        "AmazonEC2",
        {
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
            "capacitystatus": "Used",
            "licenseModel": "No License required",
        },
        "instanceType",
    ),
    "sagemaker-hosting": ("AmazonSageMaker", {"component": "Hosting"}, "instanceName"),
    "sagemaker-notebook": ("AmazonSageMaker", {"component": "Notebook"}, "instanceName"),
    "sagemaker-training": ("AmazonSageMaker", {"component": "Training"}, "instanceName"),
}


def _filters(fields: dict[str, str]) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in fields.items()]


@dataclass(frozen=True)
class Family:
    """What one priced kind shares: its cache partition, its Price List service code and fixed filters (the region
    last), the attribute naming the type, and the unit."""

    service: str
    region: str
    code: str
    fields: dict[str, str]
    type_field: str
    unit: str

    @property
    def pk(self) -> str:
        return f"price#{self.service}#{self.region}"

    def what(self, name: str) -> str:
        return f"{name} ({self.service}, {self.region})"


def family_of(name: str) -> str:
    """``p4d.24xlarge`` → ``p4d``, ``ml.g5.xlarge`` → ``g5``, ``gp3`` → ``gp3``: the types refreshed together."""
    return name.removeprefix("ml.").split(".", 1)[0]


def _quote_of(item: dict[str, Any]) -> Quote | None:
    """A cached record as a quote; None (a miss, fetched again) when the record is not one this adapter wrote."""
    if "unit" not in item or "sk" not in item:
        return None
    usd = item.get("usd")
    try:
        return Quote(float(usd) if usd is not None else None, str(item["unit"]), str(item.get("note", "")))
    except (TypeError, ValueError):
        return None


def _by_attribute(price_list: list[str], field: str) -> dict[str, list[str]]:
    """The products of one any-of answer grouped by the attribute that names their type."""
    out: dict[str, list[str]] = {}
    for raw in price_list:
        try:
            name = json.loads(raw)["product"]["attributes"][field]
        except (TypeError, ValueError, KeyError):
            continue
        if isinstance(name, str):
            out.setdefault(name, []).append(raw)
    return out


class PriceList:
    """``PriceBook`` on the Price List API with the state table as a cache (``state``; None: no cache).

    The cache is a snapshot per service and region: the partition ``price#<service>#<region>`` holds one record
    per instance (or volume) type, and the whole partition is read with one query the first time the region is
    priced. A warm run therefore sends no Price List request at all. A type that is missing or older than its TTL
    is fetched together with every other stale type of its family (``p4d``, ``g5``, ``gp3``) in one
    ``GetProducts`` request (``ANY_OF`` on the type attribute), and the answers are written back in one batch.
    """

    def __init__(self, clients: Clients, state: Store | None = None, cache_days: int = 30) -> None:
        self.clients = clients
        self.state = state
        self.cache_days = cache_days
        self.requests = 0
        self._memo: dict[tuple[str, str, str], Quote] = {}
        self._snapshots: dict[tuple[str, str], dict[str, tuple[Quote, bool]]] = {}
        self._lock = Lock()
        self._fetching = Lock()

    def on_demand_price(self, service: str, instance_type: str, region: str) -> Quote:
        if service not in SERVICES:
            return Quote(None, "Hrs", f"no Price List mapping for service {service!r} (known: {', '.join(SERVICES)})")
        if not instance_type:
            return Quote(None, "Hrs", "instance type unknown")
        code, fixed, type_field = SERVICES[service]
        return self._cached(
            Family(service, region, code, {**fixed, "regionCode": region}, type_field, "Hrs"), instance_type
        )

    def storage_price(self, volume_type: str, region: str) -> Quote:
        if not volume_type:
            return Quote(None, "GB-Mo", "volume type unknown")
        fields = {"productFamily": "Storage", "regionCode": region}
        return self._cached(Family("ebs", region, "AmazonEC2", fields, "volumeApiName", "GB-Mo"), volume_type)

    def _cached(self, family: Family, name: str) -> Quote:
        key = (family.service, name, family.region)
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        # One fetch at a time: concurrent regions asking for the same stale family refresh it once.
        with self._fetching:
            with self._lock:
                if key in self._memo:
                    return self._memo[key]
            snapshot = self._snapshot(family)
            held = snapshot.get(name)
            if held is not None and held[1]:
                quotes = {name: held[0]}
            else:
                stale = sorted(n for n, (_, fresh) in snapshot.items() if not fresh and family_of(n) == family_of(name))
                batch = sorted({name, *stale})
                quotes = self._fetch(family, batch)
                self._write(family, quotes)
                snapshot.update({n: (q, True) for n, q in quotes.items()})
            with self._lock:
                for n, quote in quotes.items():
                    self._memo[(family.service, n, family.region)] = quote
                return self._memo[key]

    def _snapshot(self, family: Family) -> dict[str, tuple[Quote, bool]]:
        """The region's cached prices (name → (quote, fresh)), read with one query the first time."""
        pk = family.pk
        if (family.service, family.region) in self._snapshots:
            return self._snapshots[(family.service, family.region)]
        snapshot: dict[str, tuple[Quote, bool]] = {}
        if self.state is not None:
            try:
                items = self.state.query(pk)
            except Exception:  # a cache miss: every price is fetched instead
                items = []
            now = time.time()
            for item in items:
                quote = _quote_of(item)
                if quote is not None:
                    expiration = item.get("expiration")
                    fresh = not isinstance(expiration, int | float) or expiration > now
                    snapshot[str(item["sk"])] = (quote, fresh)
        self._snapshots[(family.service, family.region)] = snapshot
        return snapshot

    def _write(self, family: Family, quotes: dict[str, Quote]) -> None:
        if self.state is None:
            return
        fetched_at = datetime.now(UTC).isoformat()
        kept = {n: q for n, q in quotes.items() if not q.note.startswith("Price List request failed")}
        for ttl, found in ((self.cache_days, True), (NOT_FOUND_CACHE_DAYS, False)):
            items = [
                (family.pk, n, {"usd": q.usd, "unit": q.unit, "note": q.note, "fetched_at": fetched_at})
                for n, q in kept.items()
                if (q.usd is not None) is found
            ]
            # A failed cache write loses nothing but the cache: the price is used, and fetched again next run.
            if items:
                with contextlib.suppress(Exception):
                    self.state.put_many(items, ttl_days=ttl)

    def _fetch(self, family: Family, names: list[str]) -> dict[str, Quote]:
        """Every name's quote from one ``GetProducts`` request (its pages): term match for one name, any-of for more."""
        price_list: list[str] = []
        filters = _filters(family.fields)
        if len(names) == 1:
            filters.insert(len(filters) - 1, {"Type": "TERM_MATCH", "Field": family.type_field, "Value": names[0]})
        else:
            filters.insert(len(filters) - 1, {"Type": "ANY_OF", "Field": family.type_field, "Value": ",".join(names)})
        request: dict[str, Any] = {"ServiceCode": family.code, "Filters": filters, "MaxResults": 100}
        try:
            api = self.clients("pricing", PRICING_REGION)  # in the try: a client that cannot be built is a failure too
            while True:
                with self._lock:
                    self.requests += 1
                response = api.get_products(**request)
                price_list.extend(response.get("PriceList", []))
                token = response.get("NextToken")
                if not token:
                    break
                request["NextToken"] = token
        except Exception as error:  # the finding gets a null price with this reason
            return {
                n: Quote(None, family.unit, f"Price List request failed for {family.what(n)}: {error_text(error)}")
                for n in names
            }
        if len(names) == 1:
            return {names[0]: on_demand_quote(price_list, family.unit, family.what(names[0]))}
        by_name = _by_attribute(price_list, family.type_field)
        return {n: on_demand_quote(by_name.get(n, []), family.unit, family.what(n)) for n in names}
