"""Bedrock token prices: the Price List's AmazonBedrock products read into USD per token kind, cached (pure).

The Price List names a model by its marketing name (attribute ``model``: ``Claude 3.5 Sonnet``), not its id, so
``bedrock.price_names`` maps the foundation model id to that name; the adapter asks ``GetProducts`` for
``ServiceCode=AmazonBedrock``, ``regionCode`` and ``model``. Each product's ``usagetype`` / ``inferenceType``
says its token kind (``bedrock.tokens.token_kind``); only on-demand prices count (batch, provisioned and priority
tiers are other prices). The unit (``1K tokens``, ``1M tokens``) is read, never assumed.

A model with no mapping, no product or no input and output price raises ``NoPriceError`` naming it: a guard that priced
an unknown model at zero would let its spend through unseen. Cache prices may be absent (many models have no
prompt caching); a cache token counted for a model without a cache price is ``NoPriceError`` too, where it is used.

Parsed prices are cached in the state table (``price#bedrock#<region>``, sk = model id) for ``CACHE_DAYS``.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from costwarden.bedrock.tokens import TokenKind, is_on_demand, token_kind
from costwarden.models.ports import StateStore

CACHE_DAYS = 30
#: Tokens per unit the Price List states (``pricePerUnit`` is USD per one such unit).
UNITS = {"1k tokens": 1_000, "1m tokens": 1_000_000, "tokens": 1, "token": 1}
#: ``(Price List model name, region)`` -> the raw ``PriceList`` strings of ``GetProducts`` (the adapter's call).
FetchProducts = Callable[[str, str], list[str]]


class NoPriceError(LookupError):
    """A model (or one of its token kinds) has no price: its spend cannot be estimated (never zero)."""


@dataclass(frozen=True)
class TokenPrices:
    """USD per token, per kind, of one model in one region (kinds without a price are absent)."""

    model: str
    region: str
    usd_per_token: Mapping[TokenKind, float]
    source: str = "Price List"

    def cost(self, kind: TokenKind, tokens: float) -> float:
        """USD for ``tokens`` of ``kind``; ``NoPriceError`` naming the model and kind when it has no price."""
        if kind not in self.usd_per_token:
            raise NoPriceError(f"{self.model} ({self.region}): no {kind.value} token price ({self.source})")
        return tokens * self.usd_per_token[kind]

    def to_item(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "region": self.region,
            "source": self.source,
            "usd_per_1m": {k.value: v * 1_000_000 for k, v in self.usd_per_token.items()},
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> TokenPrices:
        per_1m = item.get("usd_per_1m")
        if not isinstance(per_1m, Mapping):
            raise ValueError("usd_per_1m must be an object of token kind -> USD per 1M tokens")
        prices: dict[TokenKind, float] = {}
        for kind, value in per_1m.items():
            try:
                parsed = TokenKind(kind)
            except ValueError:
                raise ValueError(f"unknown token kind {kind!r} (known: {', '.join(TokenKind)})") from None
            prices[parsed] = quantity(value, f"usd_per_1m.{kind}") / 1_000_000
        return cls(str(item.get("model", "")), str(item.get("region", "")), prices, str(item.get("source", "cache")))


def quantity(value: object, where: str, *, kind: str = "price") -> float:
    """A finite amount at least 0 (a price, a token count) from a number or its text; ``ValueError`` naming
    ``where`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{where}: a {kind} is a number, got {type(value).__name__}")
    try:
        amount = float(value)
    except ValueError:
        raise ValueError(f"{where}: {str(value)[:40]!r} is not a number") from None
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"{where}: {str(value)[:40]!r} is not a {kind} (finite, at least 0)")
    return amount


def _dimensions(product: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    terms = product.get("terms")
    on_demand = terms.get("OnDemand") if isinstance(terms, Mapping) else None
    if not isinstance(on_demand, Mapping):
        return []
    found: list[Mapping[str, Any]] = []
    for term in on_demand.values():
        dims = term.get("priceDimensions") if isinstance(term, Mapping) else None
        if isinstance(dims, Mapping):
            found += [d for d in dims.values() if isinstance(d, Mapping)]
    return found


def _product_price(product: Mapping[str, Any], where: str) -> tuple[TokenKind, float] | None:
    """``(kind, USD per token)`` of one on-demand token product; None for any other product."""
    info = product.get("product")
    attributes = info.get("attributes") if isinstance(info, Mapping) else None
    if not isinstance(attributes, Mapping):
        raise ValueError(f"{where}: no product.attributes")
    names = [str(attributes.get(k, "")) for k in ("inferenceType", "usagetype")]
    kind = next((k for k in map(token_kind, names) if k is not None), None)
    if kind is None or not all(is_on_demand(n) for n in names):
        return None
    for dimension in _dimensions(product):
        unit = str(dimension.get("unit", "")).strip().lower()
        per_unit = dimension.get("pricePerUnit")
        if unit not in UNITS or not isinstance(per_unit, Mapping) or "USD" not in per_unit:
            continue
        return kind, quantity(per_unit["USD"], f"{where}.pricePerUnit.USD") / UNITS[unit]
    return None


def parse_products(raw: Sequence[str], *, model: str, region: str, name: str) -> TokenPrices:
    """The token prices of ``model`` from ``GetProducts``' ``PriceList`` strings (``name``: its Price List name).

    ``ValueError`` naming the product for a malformed one; ``NoPriceError`` when input or output has no price. Two
    products of one kind (a region's duplicate) keep the higher price: an estimate errs towards the alert.
    """
    prices: dict[TokenKind, float] = {}
    for index, text in enumerate(raw):
        where = f"PriceList[{index}]"
        try:
            product = json.loads(text) if isinstance(text, str) else text
        except ValueError:
            raise ValueError(f"{where}: not JSON") from None
        if not isinstance(product, Mapping):
            raise ValueError(f"{where}: not a product object")
        found = _product_price(product, where)
        if found is not None:
            kind, usd = found
            prices[kind] = max(usd, prices.get(kind, 0.0))
    missing = [k.value for k in (TokenKind.INPUT, TokenKind.OUTPUT) if k not in prices]
    if missing:
        raise NoPriceError(
            f"{model} ({region}): the Price List has no on-demand {' or '.join(missing)} token price for model "
            f"{name!r} (AmazonBedrock, {len(raw)} product(s) read)"
        )
    return TokenPrices(model, region, prices)


@dataclass
class PriceBook:
    """Token prices per (model id, region): memo, then the state table (``store``), then the Price List."""

    names: Mapping[str, str]
    fetch: FetchProducts
    store: StateStore | None = None
    requests: int = 0
    _memo: dict[tuple[str, str], TokenPrices | NoPriceError] = field(default_factory=dict)

    def prices(self, model: str, region: str) -> TokenPrices:
        """``model``'s prices in ``region``, or ``NoPriceError`` saying why there are none."""
        key = (model, region)
        if key not in self._memo:
            try:
                self._memo[key] = self._look_up(model, region)
            except NoPriceError as error:
                self._memo[key] = error
        found = self._memo[key]
        if isinstance(found, NoPriceError):
            raise found
        return found

    def _look_up(self, model: str, region: str) -> TokenPrices:
        name = self.names.get(model)
        if not name:
            raise NoPriceError(f"{model}: no Price List name for it (bedrock.price_names); its spend is not estimated")
        pk = f"price#bedrock#{region}"
        cached = self._read(pk, model)
        if cached is not None:
            return cached
        self.requests += 1
        try:
            raw = self.fetch(name, region)
        except Exception as error:  # the run reports the model unpriced with the reason
            raise NoPriceError(
                f"{model} ({region}): Price List request failed: {type(error).__name__}: {error}"
            ) from None
        prices = parse_products(raw, model=model, region=region, name=name)
        if self.store is not None:  # a failed cache write loses only the cache
            with contextlib.suppress(Exception):
                self.store.put(pk, model, prices.to_item(), ttl_days=CACHE_DAYS)
        return prices

    def _read(self, pk: str, sk: str) -> TokenPrices | None:
        """The cached prices, or None (no store, no entry, or one that no longer reads: priced afresh)."""
        try:
            item = None if self.store is None else self.store.get(pk, sk)
            return TokenPrices.from_item(item) if item else None
        except Exception:  # a broken or unreadable cache entry
            return None


def prices_from_file(document: object, *, region: str) -> dict[str, TokenPrices]:
    """``{model id: {kind: USD per 1M tokens}}`` (the CLI's ``--prices``), each checked, naming the model."""
    if not isinstance(document, Mapping):
        raise ValueError("prices: expected an object of model id -> {input, output, cache_read, cache_write}")
    book: dict[str, TokenPrices] = {}
    for model, per_1m in document.items():
        try:
            prices = TokenPrices.from_item({"model": model, "region": region, "usd_per_1m": per_1m, "source": "file"})
        except ValueError as error:
            raise ValueError(f"prices[{str(model)[:80]!r}]: {error}") from None
        if TokenKind.INPUT not in prices.usd_per_token or TokenKind.OUTPUT not in prices.usd_per_token:
            raise ValueError(f"prices[{str(model)[:80]!r}]: input and output prices are required")
        book[str(model)] = prices
    return book
