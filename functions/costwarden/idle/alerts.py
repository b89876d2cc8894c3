"""The idle finder's alert events (pure): one ``idle`` alert per team per week, and the account summary.

A team's alert lists its findings sorted by USD per month (unpriced last), each with its evidence and the exact
commands (stop/delete, or tag it expected-idle). Prices are rates: "at this rate, $X per month", over the window each
finding was judged on (the lookback, or an EMR cluster's last hours), and the summary names that window.

Severity fits the cost: an idle finding is never a page by itself. The team's monthly *waste* (``WASTE_KINDS``)
from ``warning_usd`` is a warning (the team's channel and the digest), info below; the alert is critical, which
routes it to on-call too, only when the waste *sustained* for a day or more (``SUSTAINED_HOURS``) reaches
``idle.oncall_above_usd_month``: a cluster idle for its last two hours is extrapolated to a month, which is worth
telling its team, not worth waking anyone. The account summary (to the operator team) is at most a warning: the
teams' own alerts carry any page, once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from costwarden.core.alerts import build
from costwarden.core.keys import IdleKey
from costwarden.core.money import usd
from costwarden.core.owner import PEOPLE_DETAIL
from costwarden.idle.judge import days_text
from costwarden.idle.model import Finding
from costwarden.models.alert import AlertEvent, AlertKind, Severity
from costwarden.settings import IdleSettings

MAX_ITEMS = 25
MAX_EVIDENCE = 160
_RANK = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)
#: A finding idle for at least this many hours counts toward the on-call threshold; shorter spells never page.
SUSTAINED_HOURS = 24


def week_of(now: datetime) -> str:
    """``2026-W50``: the dedup period of the weekly alert."""
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


def severity_for(waste_usd: float, cfg: IdleSettings, *, sustained_usd: float | None = None) -> Severity:
    """Info, warning from ``warning_usd``, critical (on-call) only when the sustained waste (``waste_usd`` when not
    given) reaches ``oncall_above_usd_month``."""
    sustained = waste_usd if sustained_usd is None else sustained_usd
    if sustained >= cfg.oncall_above_usd_month:
        return Severity.CRITICAL
    if waste_usd >= cfg.warning_usd:
        return Severity.WARNING
    return Severity.INFO


def sustained(finding: Finding) -> bool:
    """Idle for a day or more (a finding whose window is not known was judged over the lookback)."""
    return finding.judged_hours is None or finding.judged_hours >= SUSTAINED_HOURS


def hours_text(hours: float) -> str:
    """``7 days`` for whole days, ``2 h`` below a day (the window a price was measured over)."""
    if hours >= SUSTAINED_HOURS and hours % 24 == 0:
        return days_text(hours / 24)
    return f"{hours:g} h"


def _window(findings: Sequence[Finding], lookback_days: int) -> str:
    """The window the prices were measured over: ``idle throughout the last 7 days``, and the short spells."""
    lookback = lookback_days * 24
    long = max((f.judged_hours or lookback for f in findings if sustained(f)), default=None)
    short = [f for f in findings if not sustained(f)]
    parts = [] if long is None else [f"idle throughout the last {hours_text(long)}"]
    if short:
        shortest = hours_text(min(f.judged_hours or 0.0 for f in short))
        parts.append(
            f"idle for the last {shortest}; no page until it has been idle for a day"
            if len(findings) == 1
            else f"{len(short)} of them idle for only the last {shortest}: no page until idle for a day"
        )
    return "; ".join(parts)


def _price(finding: Finding) -> str:
    return f"{usd(finding.monthly_usd)}/mo" if finding.monthly_usd is not None else "price unknown"


def _line(finding: Finding) -> str:
    evidence = finding.evidence if len(finding.evidence) <= MAX_EVIDENCE else finding.evidence[: MAX_EVIDENCE - 1] + "…"
    command = finding.commands[0] if finding.commands else ""
    text = f"{_price(finding)} · {finding.type} {finding.id} ({finding.region}) · {finding.kind.value}: {evidence}"
    return f"{text} → {command}" if command else text


def sums(findings: Sequence[Finding]) -> tuple[float, float, int]:
    """(waste USD/month, other USD/month at stake, findings without a price)."""
    waste = sum(f.monthly_usd for f in findings if f.is_waste and f.monthly_usd is not None)
    other = sum(f.monthly_usd for f in findings if not f.is_waste and f.monthly_usd is not None)
    return waste, other, sum(1 for f in findings if f.monthly_usd is None)


def _also(other: float, unpriced: int) -> str:
    """`` ($120 more at stake, 2 without a price)``, naming only what is not zero."""
    parts = [f"{usd(other)} more at stake"] if other else []
    parts += [f"{unpriced} without a price"] if unpriced else []
    return f" ({', '.join(parts)})" if parts else ""


def team_alert(team: str, findings: Sequence[Finding], cfg: IdleSettings, now: datetime, marked: int = 0) -> AlertEvent:
    """The weekly ``idle`` alert of one team."""
    ordered = sorted(findings, key=lambda f: (f.monthly_usd is None, -(f.monthly_usd or 0.0), f.arn))
    waste, other, unpriced = sums(ordered)
    proven, _, _ = sums([f for f in ordered if sustained(f)])
    top = ordered[0]
    title = f"Idle: {len(ordered)} resource{'s' if len(ordered) != 1 else ''}, {usd(waste)}/month of waste at this rate"
    summary = (
        f"At this rate {team} pays {usd(waste)} per month for idle capacity ({_window(ordered, cfg.lookback_days)})"
        + (f"; {usd(other)} more at stake in resources that could not be judged idle" if other else "")
        + f". Largest: {top.type} {top.id} — {top.evidence}. {top.recommendation}."
    )
    if marked:
        summary += f" {marked} of them now expire in {cfg.grace_days} days (idle.action=expire)."
    figures: dict[str, object] = {"Waste / month": usd(waste), "Resources": len(ordered)}
    if other:  # issue 22: no zero-value field ("Other at stake / month: $0", "Without a price: 0")
        figures["Other at stake / month"] = usd(other)
    if unpriced:
        figures["Without a price"] = unpriced
    extra: dict[str, Any] = {
        "findings": [f.to_dict() for f in ordered[:MAX_ITEMS]],
        "findings_total": len(ordered),
        "waste_usd": round(waste, 2),
        "sustained_waste_usd": round(proven, 2),
        "week": week_of(now),
    }
    people: dict[str, list[str]] = {}
    for finding in ordered[:MAX_ITEMS]:  # who is told about which of their resources (the notifier's messages)
        if finding.person:
            people.setdefault(finding.person, []).append(_line(finding))
    if people:
        extra[PEOPLE_DETAIL] = people
    return build(
        AlertKind.IDLE,
        severity_for(waste, cfg, sustained_usd=proven),
        team,
        IdleKey(team, week_of(now)),
        title=title,
        summary=summary,
        figures=figures,
        # Stops at MAX_ITEMS without a "... and N more" line: ``findings_total`` and the figures say how many.
        items=[_line(f) for f in ordered[:MAX_ITEMS]],
        extra=extra,
        now=now,
    )


def account_alert(operator_team: str, findings: Sequence[Finding], cfg: IdleSettings, now: datetime) -> AlertEvent:
    """The account total, per team — in the manner of the weekly tag audit's account summary."""
    by_team: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_team[finding.team].append(finding)
    rows = sorted(((team, *sums(items), len(items)) for team, items in by_team.items()), key=lambda r: -r[1])
    waste, other, unpriced = sums(findings)
    return build(
        AlertKind.IDLE,
        min(severity_for(waste, cfg), Severity.WARNING, key=_RANK.index),
        operator_team,
        IdleKey.account(week_of(now)),
        title=(
            f"Idle across the account: {len(findings)} resource{'s' if len(findings) != 1 else ''}, "
            f"{usd(waste)}/month of waste at this rate"
        ),
        summary=(
            f"At this rate {len(by_team)} team{'s' if len(by_team) != 1 else ''} pay {usd(waste)} per month for idle "
            "capacity" + _also(other, unpriced) + "."
        ),
        figures={"Waste / month": usd(waste), "Resources": len(findings), "Teams": len(by_team)},
        items=[  # the top MAX_ITEMS teams; ``teams`` below has them all
            f"{team}: {count} resource{'s' if count != 1 else ''}, {usd(w)}/month"
            for team, w, _, _, count in rows[:MAX_ITEMS]
        ],
        extra={
            "teams": {team: {"resources": count, "waste_usd": round(w, 2)} for team, w, _, _, count in rows},
            "waste_usd": round(waste, 2),
            "week": week_of(now),
        },
        now=now,
    )


#: Findings the stored summary carries for the monthly report's waste section (largest first; a DynamoDB item holds
#: 400 KB, 50 findings about 30 KB).
REPORT_FINDINGS = 50


def digest_summary(findings: Sequence[Finding], now: datetime) -> dict[str, Any]:
    """What the daily digest shows ("Idle: N resources, X USD/month"), stored by each scan in the state table."""
    waste, other, unpriced = sums(findings)
    teams: dict[str, dict[str, float]] = defaultdict(lambda: {"resources": 0, "waste_usd": 0.0})
    for finding in findings:
        teams[finding.team]["resources"] += 1
        if finding.is_waste and finding.monthly_usd is not None:
            teams[finding.team]["waste_usd"] = round(teams[finding.team]["waste_usd"] + finding.monthly_usd, 2)
    return {
        "scanned_at": now.isoformat(),
        "resources": len(findings),
        "waste_usd": round(waste, 2),
        "other_usd": round(other, 2),
        "unpriced": unpriced,
        "teams": dict(teams),
        # The largest findings themselves, for the monthly report's waste section (id, owner team, price, command).
        "findings": [f.to_dict() for f in sorted(findings, key=lambda f: -(f.monthly_usd or 0.0))[:REPORT_FINDINGS]],
    }
