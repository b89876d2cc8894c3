"""Prices the burn guard reads when it runs offline: a price file (``costwarden burn --prices FILE``), pure.

The file is CSV with ``instance_type``, ``region``, ``usd_per_hour`` (one instance, on demand) and, optionally,
``market`` (``on-demand``, ``spot``, ``capacity-block``; default on-demand). A type, region and market the file
does not list is unknown, said so, never zero. The deployed guard prices from the Price List API instead
(``services/burn.py``): the same ``Prices`` port.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from costwarden.burn.run import PriceKey
from costwarden.models.idle_ports import Quote

REQUIRED = ("instance_type", "region", "usd_per_hour")
MARKETS = ("on-demand", "spot", "capacity-block")


class PriceFileError(ValueError):
    """A price file that cannot be read; the message names the line and the column."""


@dataclass
class FilePrices:
    """``Prices`` from a price file's rows: ``(instance_type, region, market) -> USD per hour``."""

    table: dict[tuple[str, str, str], float] = field(default_factory=dict)
    source: str = "the price file"

    @classmethod
    def parse(cls, text: str, source: str = "the price file") -> FilePrices:
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise PriceFileError(f"{source}: missing column(s) {', '.join(missing)} (need {', '.join(REQUIRED)})")
        table: dict[tuple[str, str, str], float] = {}
        for line, row in enumerate(reader, start=2):
            itype, region = (row.get("instance_type") or "").strip(), (row.get("region") or "").strip()
            market = (row.get("market") or "on-demand").strip() or "on-demand"
            if not itype or not region:
                raise PriceFileError(f"{source}, line {line}: instance_type and region are required")
            if market not in MARKETS:
                raise PriceFileError(
                    f"{source}, line {line}: market must be one of {', '.join(MARKETS)}, got {market!r}"
                )
            try:
                usd = float(row.get("usd_per_hour") or "")
            except ValueError:
                raise PriceFileError(f"{source}, line {line}: usd_per_hour is not a number") from None
            if not math.isfinite(usd) or usd < 0:
                raise PriceFileError(f"{source}, line {line}: usd_per_hour must be a finite amount >= 0")
            table[(itype, region, market)] = usd
        return cls(table, source)

    def quote_all(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]:
        quotes = {}
        for key in keys:
            _service, itype, region, market, _zone = key
            usd = self.table.get((itype, region, market))
            note = "" if usd is not None else f"{itype} ({market}, {region}) is not in {self.source}"
            quotes[key] = Quote(usd, "Hrs", note)
        return quotes
