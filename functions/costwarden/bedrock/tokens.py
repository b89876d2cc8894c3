"""The four kinds of Bedrock token and how each is named where it is counted, priced and billed (pure).

Bedrock bills input, output, cache-read and cache-write tokens on separate line items; summing only input and
output is (in AWS's words) the most common source of reconciliation gaps. One classification serves the three
places that name a kind: CloudWatch's metric names (``AWS/Bedrock``), the Price List's ``usagetype`` /
``inferenceType`` and the bill's usage types (``USE1-Claude3.5Sonnet-cache-read-input-token-count``).

Written here because ``unitcost.tokens.token_kind`` is not on main yet; the two should become one.
"""

from __future__ import annotations

import re
from enum import StrEnum


class TokenKind(StrEnum):
    INPUT = "input"
    OUTPUT = "output"
    CACHE_READ = "cache_read"
    CACHE_WRITE = "cache_write"


#: CloudWatch ``AWS/Bedrock`` metric per kind (dimension ``ModelId``: a model id or an inference profile ARN).
METRICS: dict[TokenKind, str] = {
    TokenKind.INPUT: "InputTokenCount",
    TokenKind.OUTPUT: "OutputTokenCount",
    TokenKind.CACHE_READ: "CacheReadInputTokenCount",
    TokenKind.CACHE_WRITE: "CacheWriteInputTokenCount",
}
#: Pricing variants that are not the on-demand price of a token (batch, provisioned, priority tiers, ...).
OTHER_VARIANTS = ("batch", "provisioned", "priority", "flex", "latency", "reserved", "custom", "image", "video")


def _squash(text: str) -> str:
    """``CacheReadInputTokenCount``, ``cache-read-input-token-count`` and ``Cache Read Input Tokens`` alike."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return " ".join(spaced.lower().replace("-", " ").replace("_", " ").split())


def token_kind(name: str) -> TokenKind | None:
    """The kind of token a usage type, ``inferenceType`` or metric name counts; None when it counts none of them
    (images, requests, storage). Cache kinds are recognised first: their names contain ``input`` too."""
    text = _squash(name)
    if "token" not in text:
        return None
    if "cache read" in text:
        return TokenKind.CACHE_READ
    if "cache write" in text:
        return TokenKind.CACHE_WRITE
    if "input" in text:
        return TokenKind.INPUT
    if "output" in text:
        return TokenKind.OUTPUT
    return None


def is_on_demand(name: str) -> bool:
    """Whether a Price List usage type / inference type is the standard on-demand price (no batch or tier)."""
    text = _squash(name)
    return not any(variant in text for variant in OTHER_VARIANTS)
