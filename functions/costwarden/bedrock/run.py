"""One hourly run of the Bedrock guard (pure, on ports): price today's tokens per team, remember the estimate,
alert once per team, day and severity, and hand a critical team with ``bedrock.hard_limit: auto`` to the deny.

State records (the ``StateStore`` port):

* ``bedrock#daily#<team>`` / ``<day>``: the day's estimate so far (``usd``, ``parts`` by token kind): rewritten
  every hour, read back as the baseline's history and by the next day's reconciliation;
* ``TEAMS_PK`` / ``<day>``: the teams estimated that day;
* ``core.keys.BEDROCK_PROFILES_PK`` / ``<team>``: the team's application inference profiles, read by the Slack
  *Deny Bedrock* button (what to deny);
* ``dedup#bedrock`` / ``core.keys.BedrockKey``: publish once (``core.publish.send_once``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from costwarden.bedrock.guard import Prices, Profile, TeamSpend, Verdict, baseline, daily_budget, judge, team_spend
from costwarden.bedrock.tokens import TokenKind
from costwarden.core.alerts import build
from costwarden.core.keys import BEDROCK_PROFILES_PK, BedrockKey
from costwarden.core.money import usd
from costwarden.core.publish import send_once
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.models.ports import Publisher, StateStore
from costwarden.settings import Settings

DAILY_PK = "bedrock#daily#"
#: ``<day>`` -> ``{teams: [...]}``: the teams that have an estimate that day (what the reconciliation reads).
TEAMS_PK = "bedrock#teams"
DEDUP_PK = "dedup#bedrock"
#: Estimates are kept for the baseline window (``anomaly.baseline_days``, at most 180) and a little more.
DAILY_TTL_DAYS = 200
DEDUP_TTL_DAYS = 7
#: ``(team, profile ARNs, now)`` -> a one-line outcome of attaching the deny (the service binds the IAM side).
Deny = Callable[[str, Sequence[str], datetime], str]
_KIND_WORDS = {
    TokenKind.INPUT: "input",
    TokenKind.OUTPUT: "output",
    TokenKind.CACHE_READ: "cache read",
    TokenKind.CACHE_WRITE: "cache write",
}


def daily_pk(team: str) -> str:
    return f"{DAILY_PK}{team}"


def estimate(store: StateStore, team: str, day: date) -> dict[str, float]:
    """The team's estimated parts (token kind -> USD) of ``day``; empty when it has none."""
    record = store.get(daily_pk(team), day.isoformat()) or {}
    parts = record.get("parts")
    return {str(k): float(v) for k, v in parts.items()} if isinstance(parts, dict) else {}


def estimated_teams(store: StateStore, day: date) -> list[str]:
    record = store.get(TEAMS_PK, day.isoformat()) or {}
    teams = record.get("teams")
    return [str(t) for t in teams] if isinstance(teams, list) else []


def history(store: StateStore, team: str) -> list[tuple[date, float]]:
    """The team's stored daily estimates (a malformed record is skipped: the baseline has one day less)."""
    found: list[tuple[date, float]] = []
    for item in store.query(daily_pk(team)):
        try:
            found.append((date.fromisoformat(str(item["sk"])), float(item["usd"])))
        except (KeyError, TypeError, ValueError):
            continue
    return found


def alert(spend: TeamSpend, verdict: Verdict, *, day: date, mode: str, now: datetime) -> AlertEvent:
    """The team's Bedrock alert through the one builder: spend, budget, usual, the parts by kind, the profiles."""
    assert verdict.severity is not None
    floor = " at least" if spend.unpriced else ""
    figures: dict[str, object] = {
        "Spent today": f"{usd(spend.usd, cents=spend.usd < 100)}{' (floor)' if spend.unpriced else ''}",
        "Daily budget": usd(verdict.budget_usd),
        "Usual day": usd(verdict.baseline_usd),
        "Hard limit": mode,
    }
    items = [
        f"{_KIND_WORDS[k]}: {spend.tokens.get(k, 0):,.0f} tokens, {usd(spend.parts.get(k), cents=True)}"
        for k in TokenKind
        if spend.tokens.get(k)
    ]
    items += [f"not priced: {note}" for note in spend.unpriced]
    key = BedrockKey(spend.team, day.isoformat(), verdict.severity.value)
    return build(
        AlertKind.BEDROCK,
        verdict.severity,
        spend.team,
        key,
        title=f"Bedrock spend of {spend.team} today:{floor} {usd(spend.usd)} ({', '.join(verdict.reasons)})",
        summary=(
            f"{spend.team} spent{floor} {usd(spend.usd, cents=True)} on Bedrock since 00:00 UTC through "
            f"{len(spend.profiles)} application inference profile(s) (CloudWatch token counts x Price List prices; "
            "reconciled with the bill tomorrow)."
        ),
        figures=figures,
        items=items,
        max_items=12,
        extra={
            "day": day.isoformat(),
            "spend_usd": round(spend.usd, 6),
            "parts_usd": {k.value: round(v, 6) for k, v in spend.parts.items()},
            "profiles": spend.profiles,
            "hard_limit": mode,
        },
        now=now,
    )


@dataclass
class TeamResult:
    team: str
    spend_usd: float
    severity: str | None
    reasons: list[str]
    outcome: str = ""
    deny: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "spend_usd": round(self.spend_usd, 6),
            "severity": self.severity,
            "reasons": self.reasons,
            "outcome": self.outcome,
            "deny": self.deny,
        }


@dataclass
class GuardRun:
    day: str
    teams: list[TeamResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "teams": [t.to_dict() for t in self.teams],
            "alerts": sum(1 for t in self.teams if t.outcome == "sent"),
            "errors": self.errors,
        }


@dataclass(frozen=True)
class Inputs:
    """What the service read: the profiles (with teams), today's token counts, the prices."""

    profiles: Sequence[Profile]
    usage: Mapping[tuple[str, TokenKind], float]
    prices: Prices
    region: str


def run_guard(
    settings: Settings,
    inputs: Inputs,
    *,
    store: StateStore,
    publish: Publisher | None,
    now: datetime,
    deny: Deny | None = None,
) -> GuardRun:
    """Price, remember, judge, alert once, and deny where ``auto`` (module docstring)."""
    day = now.date()
    run = GuardRun(day.isoformat())
    spends = team_spend(inputs.profiles, inputs.usage, inputs.prices, region=inputs.region)
    for team, arns in _profiles_by_team(inputs.profiles).items():
        store.put(BEDROCK_PROFILES_PK, team, {"profiles": arns, "at": now.isoformat()}, ttl_days=DEDUP_TTL_DAYS)
    store.put(TEAMS_PK, day.isoformat(), {"teams": sorted(spends), "at": now.isoformat()}, ttl_days=DAILY_TTL_DAYS)
    for team, spend in spends.items():
        usual = baseline(history(store, team), day, settings)
        verdict = judge(spend.usd, daily_budget(settings, team, day), usual, settings)
        store.put(
            daily_pk(team),
            day.isoformat(),
            {"usd": spend.usd, "parts": {k.value: v for k, v in spend.parts.items()}, "at": now.isoformat()},
            ttl_days=DAILY_TTL_DAYS,
        )
        result = TeamResult(
            team, spend.usd, verdict.severity.value if verdict.severity else None, list(verdict.reasons)
        )
        run.teams.append(result)
        if verdict.severity is None:
            continue
        mode = settings.bedrock.hard_limit.get(team, "off")
        if publish is None:
            result.outcome = "no topic"
        else:
            event = alert(spend, verdict, day=day, mode=mode, now=now)
            key = (DEDUP_PK, BedrockKey(team, day.isoformat(), verdict.severity.value).to_str())
            sent = send_once(event, key=key, store=store, publish=publish, ttl_days=DEDUP_TTL_DAYS, now=now)
            result.outcome = sent.outcome.value
            if sent.error is not None:
                run.errors.append(f"{team}: publish failed: {type(sent.error).__name__}: {sent.error}")
        if verdict.severity is Severity.CRITICAL and mode == "auto" and deny is not None and spend.profiles:
            result.deny = deny(team, spend.profiles, now)
    return run


def _profiles_by_team(profiles: Sequence[Profile]) -> dict[str, list[str]]:
    teams: dict[str, list[str]] = {}
    for profile in profiles:
        teams.setdefault(profile.team, []).append(profile.arn)
    return {team: sorted(arns) for team, arns in sorted(teams.items())}


def day_start(now: datetime) -> datetime:
    """00:00 UTC of ``now``'s day: where today's token counts begin."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)
