"""On-demand prices from the AWS Price List API (``pricing:GetProducts``), cached in the state table for 30 days.

One general entry point, ``PriceList.on_demand_price(service, instance_type, region)``, for every part that prices
capacity (the idle finder, the savings advisor), and ``storage_price`` for EBS. The Price List API answers only
in a few regions (us-east-1 here) whatever region is priced. A price that cannot be found is ``Quote(None, ...)``
with the reason (and cached for a day only, so a fixed filter or a new instance type is seen soon).
"""

from __future__ import annotations

import contextlib
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


class PriceList:
    """``PriceBook`` on the Price List API with the state table as a cache (``state``; None: no cache)."""

    def __init__(self, clients: Clients, state: Store | None = None, cache_days: int = 30) -> None:
        self.clients = clients
        self.state = state
        self.cache_days = cache_days
        self.requests = 0
        self._memo: dict[tuple[str, str, str], Quote] = {}
        self._lock = Lock()

    def on_demand_price(self, service: str, instance_type: str, region: str) -> Quote:
        if service not in SERVICES:
            return Quote(None, "Hrs", f"no Price List mapping for service {service!r} (known: {', '.join(SERVICES)})")
        if not instance_type:
            return Quote(None, "Hrs", "instance type unknown")
        code, fixed, type_field = SERVICES[service]
        fields = {**fixed, type_field: instance_type, "regionCode": region}
        return self._cached(service, instance_type, region, code, fields, "Hrs")

    def storage_price(self, volume_type: str, region: str) -> Quote:
        if not volume_type:
            return Quote(None, "GB-Mo", "volume type unknown")
        fields = {"productFamily": "Storage", "volumeApiName": volume_type, "regionCode": region}
        return self._cached("ebs", volume_type, region, "AmazonEC2", fields, "GB-Mo")

    def _cached(  # noqa: PLR0917 - the cache key (service, name, region) and the request (code, fields, unit)
        self, service: str, name: str, region: str, code: str, fields: dict[str, str], unit: str
    ) -> Quote:
        key = (service, name, region)
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        pk, sk = f"price#{service}#{region}", name
        cached = self._read(pk, sk)
        if cached is not None:
            quote = cached
        else:
            quote = self._fetch(code, fields, unit, f"{name} ({service}, {region})")
            self._write(pk, sk, quote)
        with self._lock:
            self._memo[key] = quote
        return quote

    def _read(self, pk: str, sk: str) -> Quote | None:
        if self.state is None:
            return None
        try:
            item = self.state.get(pk, sk)
        except Exception:  # a cache miss: the price is fetched instead
            return None
        if not item or "unit" not in item:
            return None
        usd = item.get("usd")
        return Quote(float(usd) if usd is not None else None, str(item["unit"]), str(item.get("note", "")))

    def _write(self, pk: str, sk: str, quote: Quote) -> None:
        if self.state is None or quote.note.startswith("Price List request failed"):
            return
        data: dict[str, Any] = {
            "usd": quote.usd,
            "unit": quote.unit,
            "note": quote.note,
            "fetched_at": datetime.now(UTC).isoformat(),
        }
        ttl = self.cache_days if quote.usd is not None else NOT_FOUND_CACHE_DAYS
        # A failed cache write loses nothing but the cache: the price is used, and fetched again next run.
        with contextlib.suppress(Exception):
            self.state.put(pk, sk, data, ttl_days=ttl)

    def _fetch(self, code: str, fields: dict[str, str], unit: str, what: str) -> Quote:
        api = self.clients("pricing", PRICING_REGION)
        price_list: list[str] = []
        request: dict[str, Any] = {"ServiceCode": code, "Filters": _filters(fields), "MaxResults": 100}
        try:
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
            return Quote(None, unit, f"Price List request failed for {what}: {error_text(error)}")
        return on_demand_quote(price_list, unit, what)
