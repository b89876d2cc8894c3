"""Which kind of Bedrock token a CUR line item bills: input, output, cache read or cache write.

Amazon Bedrock bills every request on separate line items per token kind, each with its own usage type and unit
price (docs: "Understanding your Amazon Bedrock Cost and Usage Report data"): ``*-input-tokens`` (also
``*-mantle-input-tokens-*`` and tier / cross-region suffixes such as ``-input-tokens-batch``), ``*-output-tokens``,
``*-cache-read-input-token-count`` and ``*-cache-write-input-token-count``. Models sold through AWS Marketplace spell
them in CamelCase (``USE1-MP:USE1_InputTokenCount-Units``, ``..._CacheReadInputTokenCount-Units``). Summing only
input and output is, in AWS's words, the most common source of reconciliation gaps, so the cache kinds are checked
first (a cache-read usage type also contains ``input-token``).

Pure and light (no pandas): the Bedrock spend guard imports ``token_kind`` for its hourly estimate.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

type TokenKind = Literal["input", "output", "cache_read", "cache_write"]
#: Every kind, in the order reports list them.
TOKEN_KINDS: tuple[TokenKind, ...] = get_args(TokenKind.__value__)

#: Checked in this order: a cache usage type also names input tokens.
_PATTERNS: tuple[tuple[TokenKind, re.Pattern[str]], ...] = (
    ("cache_read", re.compile(r"cache-?read-?input-?token")),
    ("cache_write", re.compile(r"cache-?write-?input-?token")),
    ("input", re.compile(r"input-?token")),
    ("output", re.compile(r"output-?token")),
)
#: Where the token kind starts in a first-party usage type (``USE1-NovaPro-input-tokens``): the model is before it.
_KIND_START = re.compile(r"-(?:mantle-)?(?:cache-(?:read|write)-)?(?:input|output)-tokens?", re.IGNORECASE)
_REGION_PREFIX = re.compile(r"^[A-Z]{2,4}\d?(?:-[A-Z]{2,4}\d)?-")


def _normal(usage_type: str) -> str:
    """Lower case, ``_`` as ``-``, CamelCase split:
    ``CacheReadInputTokenCount`` -> ``cache-read-input-token-count``."""
    split = re.sub(r"(?<=[a-z])(?=[A-Z])", "-", usage_type)
    return split.replace("_", "-").lower()


def token_kind(usage_type: object) -> TokenKind | None:
    """The token kind a Bedrock usage type bills, or None (not a token line: provisioned throughput, images, a
    guardrail, anything not a string)."""
    if not isinstance(usage_type, str) or not usage_type.strip():
        return None
    text = _normal(usage_type.strip())
    for kind, pattern in _PATTERNS:
        if pattern.search(text):
            return kind
    return None


def model_of(usage_type: str) -> str:
    """The model a first-party token usage type names (``USE1-Claude3.5Sonnet-input-tokens`` -> ``Claude3.5Sonnet``);
    the whole usage type when it does not follow that shape (a Marketplace line names its model elsewhere)."""
    text = usage_type.strip()
    match = _KIND_START.search(text)
    if match is None or ":" in text[: match.start()]:
        return text
    return _REGION_PREFIX.sub("", text[: match.start()], count=1) or text
