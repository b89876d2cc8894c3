"""Pricing math (pure): the on-demand price in a Price List ``GetProducts`` answer, and USD per month.

A price that cannot be found is None with the reason — never a guess: no product, several products with different
prices (the filters were not precise enough to tell which one applies), or only zero prices.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from costwarden.models.idle_ports import Quote

#: AWS's own convention for monthly prices (Price List, Cost Explorer's estimates): 730 hours a month.
HOURS_PER_MONTH = 730.0


def on_demand_quote(price_list: Sequence[str], unit: str, what: str) -> Quote:
    """The single on-demand USD price per ``unit`` in ``price_list`` (GetProducts' ``PriceList`` JSON strings)."""
    prices: set[Decimal] = set()
    for raw in price_list:
        try:
            item = json.loads(raw)
        except (TypeError, ValueError):
            continue
        for term in item.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                if dimension.get("unit") != unit:
                    continue
                try:
                    usd = Decimal(str(dimension.get("pricePerUnit", {}).get("USD")))
                except InvalidOperation:
                    continue
                if usd > 0:
                    prices.add(usd)
    if not prices:
        return Quote(None, unit, f"no on-demand price per {unit} for {what} in the Price List")
    if len(prices) > 1:
        shown = ", ".join(f"{p.normalize()}" for p in sorted(prices))
        return Quote(None, unit, f"{len(prices)} different on-demand prices for {what} ({shown} USD): not guessed")
    return Quote(float(prices.pop()), unit)


def monthly(quote: Quote, quantity: float = 1.0) -> float | None:
    """USD per month: hourly prices over 730 hours, GB-month prices as they are; times ``quantity``."""
    if quote.usd is None:
        return None
    per_month = quote.usd * HOURS_PER_MONTH if quote.unit == "Hrs" else quote.usd
    return per_month * quantity


def total(parts: Sequence[tuple[float | None, str]]) -> tuple[float | None, str]:
    """A sum of priced parts; None (with the first missing part's reason) when any part has no price."""
    missing = [note for usd, note in parts if usd is None]
    if missing:
        return None, missing[0]
    return sum(usd for usd, _ in parts if usd is not None), ""
