"""The CUR token-kind classification (shared with the Bedrock spend guard)."""

from __future__ import annotations

import pytest
from costwarden.unitcost.tokens import TOKEN_KINDS, model_of, token_kind

#: usage type -> kind: first-party (with tier and cross-region suffixes) and AWS Marketplace spellings.
KINDS = """
USE1-Claude3.5Sonnet-input-tokens input
USE1-Claude3.5Sonnet-output-tokens output
USE1-Claude3.5Sonnet-cache-read-input-token-count cache_read
USE1-Claude3.5Sonnet-cache-write-input-token-count cache_write
USE1-NovaPro-mantle-input-tokens-flex input
EUC1-NovaLite-output-tokens-batch output
USE1-MP:USE1_InputTokenCount-Units input
USE1-MP:USE1_OutputTokenCount-Units output
USE1-MP:USE1_CacheReadInputTokenCount-Units cache_read
USE1-MP:USE1_CacheWriteInputTokenCount-Units cache_write
"""


@pytest.mark.parametrize(("usage_type", "kind"), [line.split() for line in KINDS.strip().splitlines()])
def test_each_token_usage_type_has_its_kind(usage_type: str, kind: str) -> None:
    assert token_kind(usage_type) == kind


@pytest.mark.parametrize(
    "hostile", ["", "   ", None, 42, b"USE1-X-input-tokens", "USW2-TitanEmbed-ProvisionedThroughput", "USE1-Host:ml.g5"]
)
def test_what_is_not_a_token_line_has_no_kind(hostile: object) -> None:
    assert token_kind(hostile) is None


def test_kinds_and_model_names() -> None:
    assert TOKEN_KINDS == ("input", "output", "cache_read", "cache_write")
    assert model_of("USE1-Claude3.5Sonnet-cache-read-input-token-count") == "Claude3.5Sonnet"
    assert model_of("EUC1-NovaLite-input-tokens-batch") == "NovaLite"
    assert model_of("USE1-MP:USE1_InputTokenCount-Units") == "USE1-MP:USE1_InputTokenCount-Units"
