"""The Bedrock spend guard's arithmetic (pure): today's tokens x prices per team, judged against its daily budget
and its baseline.

* **Who spent it.** CloudWatch counts tokens per ``ModelId``; an application inference profile's ARN *is* the
  ``ModelId`` of calls made through it, and the profile's team is its tag (``core.owner.team_of``, the one owner
  rule). Tokens counted under a plain model id went through no profile: they are shown as the unowned team's,
  never spread over the teams.
* **What it cost.** Tokens x the profile's model's price per kind (input, output, cache read, cache write: each
  priced on its own, as billed). A kind without a price is named in ``unpriced``; the spend shown is then a floor,
  and the alert says so, never counting it as zero.
* **Against what.** The daily budget is the team's monthly budget (``teams.<team>.monthly_usd``) over the days of
  the month; the baseline is the median of the guard's own daily estimates of the previous
  ``anomaly.baseline_days`` days (with at least ``anomaly.min_history_days`` of them). Spend *so far today* is
  compared with a whole day's budget and baseline: it can only cross them early, never by projection.
* **How bad.** Warning from 100 % of the daily budget or ``anomaly.warn_ratio`` x the baseline; critical from
  ``anomaly.critical_ratio`` x either (the hard limit's threshold). The baseline judgement also needs
  ``anomaly.min_impact_usd`` of extra spend, like the anomaly detector.
"""

from __future__ import annotations

import calendar
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from costwarden.bedrock.prices import NoPriceError, TokenPrices
from costwarden.bedrock.tokens import TokenKind
from costwarden.core.owner import UNOWNED_TEAM
from costwarden.models.alert import Severity
from costwarden.settings import Settings

#: ``(model id, region)`` -> its prices, or ``NoPriceError``.
Prices = Callable[[str, str], TokenPrices]


@dataclass(frozen=True)
class Profile:
    """An application inference profile: its ARN (the ``ModelId`` dimension), its team, the model it serves."""

    arn: str
    team: str
    model: str
    region: str
    name: str = ""


@dataclass
class TeamSpend:
    """One team's Bedrock spend today so far (USD), by token kind, with what could not be priced."""

    team: str
    usd: float = 0.0
    parts: dict[TokenKind, float] = field(default_factory=dict)
    tokens: dict[TokenKind, float] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)

    def add(self, kind: TokenKind, tokens: float, usd: float) -> None:
        self.tokens[kind] = self.tokens.get(kind, 0.0) + tokens
        self.parts[kind] = self.parts.get(kind, 0.0) + usd
        self.usd += usd


def model_of(profile_model_arns: Sequence[str]) -> str:
    """The foundation model id of a profile's ``models`` (``arn:...:foundation-model/<id>``, one per region of a
    cross-region profile, all the same id); "" when it lists none."""
    ids = {arn.rsplit("/", 1)[-1] for arn in profile_model_arns if "/" in arn}
    return sorted(ids)[0] if ids else ""


def team_spend(
    profiles: Sequence[Profile], usage: Mapping[tuple[str, TokenKind], float], prices: Prices, *, region: str
) -> dict[str, TeamSpend]:
    """Spend per team from ``usage`` (``(ModelId dimension, kind)`` -> tokens today): through a profile its team
    and model, a plain model id the unowned team's. Sorted by team."""
    by_arn = {p.arn: p for p in profiles}
    spends: dict[str, TeamSpend] = {}
    for team in sorted({p.team for p in profiles}):
        spends[team] = TeamSpend(team, profiles=sorted(p.arn for p in profiles if p.team == team))
    for (model_id, kind), tokens in sorted(usage.items()):
        if tokens <= 0:
            continue
        profile = by_arn.get(model_id)
        team = profile.team if profile is not None else UNOWNED_TEAM
        model = profile.model if profile is not None else model_id
        spend = spends.setdefault(team, TeamSpend(team))
        try:
            usd = prices(model, profile.region if profile is not None else region).cost(kind, tokens)
        except NoPriceError as error:
            note = str(error)
            if note not in spend.unpriced:
                spend.unpriced.append(note)
            spend.tokens[kind] = spend.tokens.get(kind, 0.0) + tokens
            continue
        spend.add(kind, tokens, usd)
    return dict(sorted(spends.items()))


def daily_budget(settings: Settings, team: str, day: date) -> float | None:
    """The team's monthly budget over the days of ``day``'s month (None: the team has no budget)."""
    monthly = settings.monthly_budgets().get(team)
    if monthly is None:
        return None
    return monthly / calendar.monthrange(day.year, day.month)[1]


def baseline(history: Iterable[tuple[date, float]], day: date, settings: Settings) -> float | None:
    """The median of the daily estimates before ``day`` within ``anomaly.baseline_days``; None with fewer than
    ``anomaly.min_history_days`` of them (a new team has no baseline, only its budget)."""
    window = settings.anomaly.baseline_days
    values = [usd for d, usd in history if 0 < (day - d).days <= window]
    if len(values) < settings.anomaly.min_history_days:
        return None
    return float(statistics.median(values))


@dataclass(frozen=True)
class Verdict:
    """How a team's day stands: the severity (None: fine) and why, in words."""

    severity: Severity | None
    reasons: tuple[str, ...]
    budget_usd: float | None
    baseline_usd: float | None


def judge(spend: float, budget: float | None, usual: float | None, settings: Settings) -> Verdict:
    """The severity of ``spend`` so far today against the daily ``budget`` and the ``usual`` day (module doc)."""
    anomaly = settings.anomaly
    reasons: list[str] = []
    severity: Severity | None = None

    def raise_to(level: Severity, why: str) -> None:
        nonlocal severity
        reasons.append(why)
        if severity is None or level.rank > severity.rank:
            severity = level

    if budget is not None and budget > 0:
        ratio = spend / budget
        if ratio >= anomaly.critical_ratio:
            raise_to(Severity.CRITICAL, f"{ratio:.0%} of the daily budget")
        elif ratio >= 1.0:
            raise_to(Severity.WARNING, f"{ratio:.0%} of the daily budget")
    if usual is not None and usual > 0 and spend - usual >= anomaly.min_impact_usd:
        ratio = spend / usual
        if ratio >= anomaly.critical_ratio:
            raise_to(Severity.CRITICAL, f"{ratio:.1f}x the usual day")
        elif ratio >= anomaly.warn_ratio:
            raise_to(Severity.WARNING, f"{ratio:.1f}x the usual day")
    return Verdict(severity, tuple(reasons), budget, usual)
