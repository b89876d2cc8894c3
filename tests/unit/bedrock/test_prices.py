"""Bedrock token prices from the Price List: hostile products first, then the prices, the cache, the file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from costwarden.adapters.state import MemoryStateStore
from costwarden.bedrock.prices import NoPriceError, PriceBook, TokenPrices, parse_products, prices_from_file
from costwarden.bedrock.tokens import TokenKind

from tests.support.bedrock import REGION, SONNET, SONNET_NAME, product, sonnet_products


def _bad(usd: str) -> list[str]:
    return [product("Input tokens", "USE1-x-input-tokens", usd)]


def _parse(raw: list[str]) -> TokenPrices:
    return parse_products(raw, model=SONNET, region=REGION, name=SONNET_NAME)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["{not json"], "PriceList[0]: not JSON"),
        (["[1, 2]"], "PriceList[0]: not a product object"),
        ([json.dumps({"terms": {}})], "PriceList[0]: no product.attributes"),
        (_bad("-1"), "PriceList[0].pricePerUnit.USD: '-1' is not a price"),
        (
            [product("Input tokens", "USE1-x-input-tokens", "NaN")],
            "PriceList[0].pricePerUnit.USD: 'NaN' is not a price",
        ),
        (
            [product("Input tokens", "USE1-x-input-tokens", "cheap")],
            "PriceList[0].pricePerUnit.USD: 'cheap' is not a num",
        ),
    ],
)
def test_a_malformed_product_is_named(raw: list[str], message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        _parse(raw)


def test_a_model_without_an_output_price_has_no_price_not_a_zero_one() -> None:
    with pytest.raises(NoPriceError) as caught:
        _parse(sonnet_products(kinds=("input",)))
    assert str(caught.value) == (
        f"{SONNET} ({REGION}): the Price List has no on-demand output token price for model 'Claude 3.5 Sonnet' "
        "(AmazonBedrock, 2 product(s) read)"
    )


def test_no_products_at_all_is_no_price() -> None:
    with pytest.raises(NoPriceError, match="no on-demand input or output token price"):
        _parse([])


def test_each_kind_is_priced_per_token_and_batch_is_not_on_demand() -> None:
    prices = _parse(sonnet_products())
    assert prices.usd_per_token == pytest.approx(
        {
            TokenKind.INPUT: 0.003 / 1000,
            TokenKind.OUTPUT: 0.015 / 1000,
            TokenKind.CACHE_READ: 0.0003 / 1000,
            TokenKind.CACHE_WRITE: 0.00375 / 1000,
        }
    )
    assert prices.cost(TokenKind.OUTPUT, 1_000_000) == pytest.approx(15.0)


def test_the_unit_is_read_not_assumed() -> None:
    raw = [
        product("Input tokens", "USE1-M-input-tokens", "3", unit="1M tokens", sku="A"),
        product("Output tokens", "USE1-M-output-tokens", "15", unit="1M tokens", sku="B"),
        product("Output tokens", "USE1-M-output-tokens", "99", unit="Images", sku="C"),
    ]
    assert _parse(raw).usd_per_token == pytest.approx({TokenKind.INPUT: 3e-6, TokenKind.OUTPUT: 15e-6})


def test_a_kind_without_a_price_raises_where_it_is_used() -> None:
    prices = _parse(sonnet_products(kinds=("input", "output")))
    with pytest.raises(NoPriceError, match=r"no cache_read token price"):
        prices.cost(TokenKind.CACHE_READ, 10)


class _Fetch:
    def __init__(self, answer: list[str] | Exception) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str]] = []

    def __call__(self, name: str, region: str) -> list[str]:
        self.calls.append((name, region))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_model_without_a_price_name_is_refused_by_name_without_a_request() -> None:
    fetch = _Fetch(sonnet_products())
    book = PriceBook({}, fetch)
    with pytest.raises(
        NoPriceError, match=r"^amazon\.nova-pro-v1:0: no Price List name for it \(bedrock\.price_names\)"
    ):
        book.prices("amazon.nova-pro-v1:0", REGION)
    assert fetch.calls == []


def test_a_failed_request_is_no_price_with_the_reason() -> None:
    book = PriceBook({SONNET: SONNET_NAME}, _Fetch(RuntimeError("throttled")))
    with pytest.raises(NoPriceError, match=r"Price List request failed: RuntimeError: throttled"):
        book.prices(SONNET, REGION)


def test_prices_are_cached_in_the_state_table_and_a_broken_entry_is_fetched_again() -> None:
    store = MemoryStateStore()
    first = _Fetch(sonnet_products())
    assert PriceBook({SONNET: SONNET_NAME}, first, store).prices(SONNET, REGION).cost(TokenKind.INPUT, 1000) == 0.003
    again = _Fetch(RuntimeError("must not be called"))
    cached = PriceBook({SONNET: SONNET_NAME}, again, store).prices(SONNET, REGION)
    assert again.calls == [] and cached.cost(TokenKind.CACHE_WRITE, 1000) == pytest.approx(0.00375)
    store.put(f"price#bedrock#{REGION}", SONNET, {"usd_per_1m": {"input": "free"}})
    refetch = _Fetch(sonnet_products())
    assert PriceBook({SONNET: SONNET_NAME}, refetch, store).prices(SONNET, REGION).cost(TokenKind.INPUT, 1) > 0
    assert refetch.calls == [(SONNET_NAME, REGION)]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1], "prices: expected an object"),
        ({"m": {"input": 1}}, r"prices\['m'\]: input and output prices are required"),
        ({"m": {"input": 1, "output": "x"}}, r"prices\['m'\]: usd_per_1m\.output: 'x' is not a number"),
        ({"m": {"input": 1, "output": 2, "thinking": 3}}, r"prices\['m'\]: unknown token kind 'thinking'"),
        ({"m": "3"}, r"prices\['m'\]: usd_per_1m must be an object"),
        ({"m": {"input": True, "output": 2}}, r"usd_per_1m\.input: a price is a number, got bool"),
    ],
)
def test_a_hostile_prices_file_is_named(document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        prices_from_file(document, region=REGION)


def test_a_prices_file_is_usd_per_million_tokens() -> None:
    book = prices_from_file({SONNET: {"input": 3, "output": 15, "cache_read": 0.3}}, region=REGION)
    assert book[SONNET].cost(TokenKind.CACHE_READ, 1_000_000) == pytest.approx(0.3)
