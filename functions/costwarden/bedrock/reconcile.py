"""The next day: the guard's estimate beside the bill's Bedrock line items, per team and token kind (pure).

The bill is Cost Explorer's ``GetCostAndUsage`` for the day, filtered to ``bedrock.bill_services`` and grouped by
the team tag (application inference profiles carry it; activate it as a cost allocation tag) and ``USAGE_TYPE``;
each usage type's token kind is ``bedrock.tokens.token_kind`` (``USE1-...-cache-read-input-token-count``). Line
items of no token kind (images, provisioned throughput) are ``other``: billed, not estimated by the guard, shown.
The record (``RECONCILED_PK`` / day) is what the digest's Bedrock line reads (``digest_lines``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from costwarden.bedrock.tokens import TokenKind, token_kind
from costwarden.core.keys import BEDROCK_RECONCILED_PK
from costwarden.core.money import usd
from costwarden.core.owner import UNOWNED_TEAM

RECONCILED_PK = BEDROCK_RECONCILED_PK
OTHER = "other"
#: A gap larger than this share of the bill is named in the digest (issue 26: the parts sum within 1 %).
GAP_SHARE = 0.01


class BillError(ValueError):
    """A Cost Explorer page that is not of the shape asked for (the message names where)."""


def _amount(group: Mapping[str, Any], metric: str, where: str) -> float:
    try:
        return float(group["Metrics"][metric]["Amount"])
    except (KeyError, TypeError, ValueError):
        raise BillError(f"{where}: no Metrics.{metric}.Amount") from None


def billed(pages: Sequence[Mapping[str, Any]], *, team_key: str, metric: str) -> dict[str, dict[str, dict[str, float]]]:
    """``day -> team -> (token kind or other) -> USD`` from pages grouped by ``TAG team_key`` and ``USAGE_TYPE``."""
    found: dict[str, dict[str, dict[str, float]]] = {}
    prefix = f"{team_key}$"
    for p, page in enumerate(pages):
        for r, result in enumerate(page.get("ResultsByTime", []) or []):
            where = f"page {p}, ResultsByTime[{r}]"
            try:
                day = str(result["TimePeriod"]["Start"])[:10]
            except (KeyError, TypeError):
                raise BillError(f"{where}: no TimePeriod.Start") from None
            for g, group in enumerate(result.get("Groups", []) or []):
                keys = group.get("Keys") if isinstance(group, Mapping) else None
                if not isinstance(keys, list) or len(keys) != 2:
                    raise BillError(f"{where}, Groups[{g}]: Keys must be [tag, usage type]")
                tag, usage_type = str(keys[0]), str(keys[1])
                team = tag[len(prefix) :].strip() if tag.startswith(prefix) else ""
                kind = token_kind(usage_type)
                part = kind.value if kind is not None else OTHER
                teams = found.setdefault(day, {}).setdefault(team or UNOWNED_TEAM, {})
                teams[part] = teams.get(part, 0.0) + _amount(group, metric, f"{where}, Groups[{g}]")
    return found


@dataclass
class Reconciled:
    """One team's day: the guard's estimate and the bill, per part (token kinds and ``other``)."""

    team: str
    estimate: dict[str, float] = field(default_factory=dict)
    bill: dict[str, float] = field(default_factory=dict)

    @property
    def estimate_usd(self) -> float:
        return sum(self.estimate.values())

    @property
    def billed_usd(self) -> float:
        return sum(self.bill.values())

    def to_dict(self) -> dict[str, Any]:
        """The stored row: the parts and their sums (what the digest reads)."""
        return {**asdict(self), "estimate_usd": self.estimate_usd, "billed_usd": self.billed_usd}


def reconcile(
    estimates: Mapping[str, Mapping[str, float]], bill: Mapping[str, Mapping[str, float]]
) -> list[Reconciled]:
    """Every team in either, sorted: its estimated parts (``run`` records ``parts``) beside its billed parts."""
    teams = sorted(set(estimates) | set(bill))
    return [Reconciled(t, dict(estimates.get(t, {})), dict(bill.get(t, {}))) for t in teams]


def digest_lines(record: Mapping[str, Any]) -> list[str]:
    """The digest's Bedrock lines for one reconciled day: estimate and bill side by side, the gap named."""
    lines: list[str] = []
    for row in record.get("teams", []) or []:
        if not isinstance(row, Mapping):
            continue
        estimate, bill = float(row.get("estimate_usd", 0) or 0), float(row.get("billed_usd", 0) or 0)
        line = f"{row.get('team', '?')}: estimated {usd(estimate, cents=True)}, billed {usd(bill, cents=True)}"
        if bill and abs(estimate - bill) > GAP_SHARE * bill:
            missing = [
                k.value
                for k in TokenKind
                if (row.get("bill") or {}).get(k.value) and not (row.get("estimate") or {}).get(k.value)
            ]
            line += (
                f" (gap {usd(bill - estimate, cents=True)}"
                + (f": not estimated {', '.join(missing)}" if missing else "")
                + ")"
            )
        lines.append(line)
    return lines
