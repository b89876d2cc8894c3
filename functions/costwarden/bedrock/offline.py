"""The guard's arithmetic on files (``costwarden bedrock``): token counts from a CSV, prices from a JSON file (pure).

The CSV has a header and the columns ``profile`` (an application inference profile ARN, or a model id for calls
made without one), ``team`` (the profile's team tag; empty: nobody's), ``model`` (the foundation model id it is
priced as), ``kind`` (``input``, ``output``, ``cache_read``, ``cache_write``, or the CloudWatch metric name) and
``tokens`` (today so far). Every malformed cell is named by line and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from costwarden.bedrock.guard import Profile, TeamSpend, daily_budget, judge, team_spend
from costwarden.bedrock.prices import NoPriceError, TokenPrices, quantity
from costwarden.bedrock.tokens import METRICS, TokenKind
from costwarden.core.owner import UNOWNED_TEAM
from costwarden.settings import Settings

COLUMNS = ("profile", "team", "model", "kind", "tokens")
_BY_METRIC = {name: kind for kind, name in METRICS.items()}


def _kind(text: str, where: str) -> TokenKind:
    if text in _BY_METRIC:
        return _BY_METRIC[text]
    try:
        return TokenKind(text)
    except ValueError:
        known = ", ".join([*TokenKind, *_BY_METRIC])
        raise ValueError(f"{where}: kind {text[:40]!r} is not a token kind ({known})") from None


def read_usage(text: str, *, region: str) -> tuple[list[Profile], dict[tuple[str, TokenKind], float]]:
    """Profiles (the rows naming a team) and tokens per (profile or model id, kind) from the CSV ``text``."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"line 1: missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})")
    profiles: dict[str, Profile] = {}
    usage: dict[tuple[str, TokenKind], float] = {}
    for number, row in enumerate(reader, start=2):
        cells = {c: (row.get(c) or "").strip() for c in COLUMNS}
        if not cells["profile"]:
            raise ValueError(f"line {number}, column profile: empty")
        kind = _kind(cells["kind"], f"line {number}, column kind")
        tokens = quantity(cells["tokens"], f"line {number}, column tokens", kind="count")
        profile = Profile(cells["profile"], cells["team"] or UNOWNED_TEAM, cells["model"] or cells["profile"], region)
        known = profiles.setdefault(profile.arn, profile)
        if known != profile:
            raise ValueError(f"line {number}: {profile.arn[:80]} has another team or model on an earlier line")
        usage[(profile.arn, kind)] = usage.get((profile.arn, kind), 0.0) + tokens
    return list(profiles.values()), usage


def _result(spend: TeamSpend, settings: Settings, day: date) -> dict[str, Any]:
    verdict = judge(spend.usd, daily_budget(settings, spend.team, day), None, settings)
    return {
        "team": spend.team,
        "spend_usd": round(spend.usd, 6),
        "parts_usd": {k.value: round(v, 6) for k, v in spend.parts.items()},
        "tokens": {k.value: v for k, v in spend.tokens.items()},
        "profiles": spend.profiles,
        "daily_budget_usd": verdict.budget_usd,
        "severity": verdict.severity.value if verdict.severity else None,
        "reasons": list(verdict.reasons),
        "unpriced": spend.unpriced,
    }


def estimate(
    settings: Settings, text: str, prices: Mapping[str, TokenPrices], *, day: date, region: str
) -> list[dict[str, Any]]:
    """One result per team: its spend by kind, judged against its daily budget (no baseline offline)."""
    profiles, usage = read_usage(text, region=region)

    def price(model: str, _region: str) -> TokenPrices:
        if model not in prices:
            raise NoPriceError(f"{model}: not in the prices file")
        return prices[model]

    spends = team_spend(profiles, usage, price, region=region)
    return [_result(spend, settings, day) for spend in spends.values()]
