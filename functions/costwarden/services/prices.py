"""The one price book on real AWS: the Price List adapter with its per-region snapshot in the state table.

The idle finder, the reaper's alert (what a reap saves per month, issue 22) and the CLI build it here, so they share
one cache partition per service and region (``price#<service>#<region>``) with one TTL: a type the idle finder
priced this month costs the reaper no Price List request, and the other way round.
"""

from __future__ import annotations

from costwarden.adapters.pricing import PriceList
from costwarden.models.idle_ports import Store
from costwarden.models.ports import Clients
from costwarden.settings import Settings


def price_book(clients: Clients, state: Store | None, settings: Settings) -> PriceList:
    """On-demand prices through ``clients`` (``pricing`` in ``adapters.pricing.PRICING_REGION``), cached in
    ``state`` for ``settings.idle.price_cache_days`` (None: no cache, every run asks the Price List)."""
    return PriceList(clients, state, cache_days=settings.idle.price_cache_days)
