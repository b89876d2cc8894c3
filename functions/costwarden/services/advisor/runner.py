"""The weekly advisor run and the monthly report run: every lever, one summary, alerts sent once.

Shared by the Lambda handlers, the CLI, the demo and the benchmark. Adapters come in as parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from costwarden.adapters.commitments import CommitmentsReader
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.ec2_spot import SpotPrices
from costwarden.adapters.s3_storage import S3Reader
from costwarden.adapters.sagemaker_training import TrainingJobs
from costwarden.adapters.state import StateStore
from costwarden.advisor import alerts
from costwarden.advisor.report import MonthlyReport, anchor, render_html
from costwarden.advisor.savings import by_team
from costwarden.core.keys import SAVINGS_PK, SAVINGS_SK
from costwarden.core.owner import operator_team
from costwarden.core.publish import send_once
from costwarden.models.alert import AlertEvent
from costwarden.models.ports import K8sSource, Publisher
from costwarden.resources.model import Status
from costwarden.services.advisor.commitments import CommitmentRun, History, run_commitments
from costwarden.services.advisor.k8s_report import report_with_kubernetes
from costwarden.services.advisor.mix import MixRun, run_mix
from costwarden.services.advisor.report import run_report
from costwarden.services.advisor.storage import ReaderFactory, StorageRun, run_storage
from costwarden.settings import Settings

log = logging.getLogger("costwarden.advisor")

DEDUP_PK = "dedup#advisor"
DEDUP_TTL_DAYS = 400


def inference_history(
    settings: Settings, ce: CostExplorer, store: StateStore, today: date
) -> tuple[History | None, str | None]:
    """Daily production inference spend per team from the cost monitor's cache (pulling only what it lacks)."""
    from costwarden.cost.cache import CostCache
    from costwarden.cost.frame import COST, DATE
    from costwarden.cost.monitor import group_keys

    anomaly = settings.anomaly
    keys = group_keys(settings)
    if len(keys) < 2:
        return None, "anomaly.second_group_key is null: inference spend cannot be told apart, no purchase advice"
    start = today - timedelta(days=settings.advisor.stable_days + 1)
    cache = CostCache(
        store, keys, anomaly.cost_metric, anomaly.excluded_record_types, ttl_days=settings.advisor.stable_days + 21
    )

    frame = cache.load_from(ce, start, today).frame
    frame = frame.loc[frame[keys[1]] == settings.advisor.inference_phase]
    history: History = {}
    for (team, day), cost in frame.groupby([keys[0], DATE])[COST].sum().items():
        if team:
            history.setdefault(str(team), []).append((day.date(), float(cost)))
    return history, None


@dataclass
class AdvisorResult:
    storage: StorageRun
    mix: MixRun
    commitments: CommitmentRun
    savings: dict[str, tuple[float, list[str]]]
    events: list[AlertEvent] = field(default_factory=list)
    publish_errors: list[str] = field(default_factory=list)
    ce_requests: int = 0

    def to_dict(self, today: date) -> dict[str, Any]:
        return {
            "savings_on_the_table_usd_month": round(sum(v for v, _ in self.savings.values()), 2),
            "teams": {t: {"usd_month": v, "items": i} for t, (v, i) in sorted(self.savings.items())},
            "storage": {
                "findings": [f.to_dict() for f in self.storage.findings],
                "decisions": [d.to_dict() for d in self.storage.decisions],
                "summary": self.storage.summary(),
            },
            "purchase_mix": self.mix.to_dict(),
            "commitments": self.commitments.to_dict(today),
            "alerts": [{"kind": e.kind.value, "team": e.team, "title": e.title} for e in self.events],
            "ce_requests": self.ce_requests,
            "publish_errors": self.publish_errors,
        }


@dataclass
class _Sender:
    """Publishes each alert once (``dedup#advisor``/sk, ``core.publish``); a failed one is retried next run."""

    publish: Publisher | None
    state: StateStore
    sent: list[AlertEvent]
    errors: list[str]
    now: datetime

    def once(self, sk: str, event: AlertEvent) -> None:
        if self.publish is None:
            return
        done = send_once(
            event,
            key=(DEDUP_PK, sk),
            store=self.state,
            publish=self.publish,
            ttl_days=DEDUP_TTL_DAYS,
            now=self.now,
            record={"dedup_key": event.dedup_key, "at": event.occurred_at.isoformat()},
        )
        if done.error is not None:  # recorded in the summary; the other alerts still go out
            self.errors.append(f"{event.kind.value}/{event.team}: {type(done.error).__name__}: {done.error}")
        elif done.sent:
            self.sent.append(event)


def run_advisor(
    settings: Settings,
    *,
    regions: Sequence[str],
    reader_factory: ReaderFactory,
    ce: CostExplorer,
    commitments: CommitmentsReader,
    spot: SpotPrices,
    state: StateStore,
    publish: Publisher | None,
    now: datetime,
    allow_apply: bool = True,
    audit: bool = True,
    training: TrainingJobs | None = None,
) -> AdvisorResult:
    """Storage, purchase mix, commitments; savings per team stored for the digest and the report; alerts once."""
    today = now.date()
    before = ce.requests
    storage = run_storage(
        settings,
        regions=regions,
        reader_factory=reader_factory,
        now=now,
        state=state if audit else None,
        allow_apply=allow_apply,
    )
    mix = run_mix(settings, ce, spot, today=today, now=now, training=training)
    history, note = inference_history(settings, ce, store=state, today=today)
    commitments_run = run_commitments(settings, commitments, today=today, history=history, history_note=note)
    found = by_team(storage.findings, mix.teams, mix_days=settings.advisor.mix_days)
    savings = {team: (usd_month, [s.line for s in items]) for team, (usd_month, items) in found.items()}
    result = AdvisorResult(storage, mix, commitments_run, savings)
    result.ce_requests = ce.requests - before
    state.put(
        SAVINGS_PK,
        SAVINGS_SK,
        {
            "at": now.isoformat(),
            "total_usd_month": round(sum(v for v, _ in savings.values()), 2),
            "teams": {
                t: {"usd_month": v, "items": i, "findings": [s.to_record() for s in found[t][1]]}
                for t, (v, i) in savings.items()
            },
        },
    )
    month = today.strftime("%Y-%m")
    sender = _Sender(publish, state, result.events, result.publish_errors, now)
    for team, (usd_month, items) in sorted(savings.items()):
        if usd_month >= 1:
            sender.once(f"savings#{team}#{month}", alerts.savings(team, month, usd_month, items, now))
    operator = operator_team(settings)
    if storage.blocked:
        count = sum(d.status is Status.SKIPPED and d.reason.startswith("blocked") for d in storage.decisions)
        event = alerts.storage_blocked(operator, count, settings.storage.max_actions_per_run, now)
        sender.once(event.dedup_key, event)
    for alert in commitments_run.alerts:
        sender.once(alert.dedup, alerts.commitment(alert, operator, now))
    for recommendation in commitments_run.recommendations:
        event = alerts.purchase(recommendation, operator, now)
        sender.once(event.dedup_key, event)
    log.info("advisor run", extra={"ce_requests": result.ce_requests, "teams_with_savings": len(savings)})
    return result


def run_advisor_on_aws(
    settings: Settings,
    *,
    regions: Sequence[str],
    state: StateStore,
    publish: Publisher | None,
    now: datetime,
    allow_apply: bool = True,
    audit: bool = True,
) -> AdvisorResult:
    """``run_advisor`` over the account's own readers (S3 buckets, Cost Explorer and the commitments it reports,
    Spot prices and training jobs in the first region): the wiring the Lambda and ``costwarden advise`` share."""
    ce = CostExplorer()
    return run_advisor(
        settings,
        regions=regions,
        reader_factory=S3Reader,
        ce=ce,
        commitments=CommitmentsReader(ce),
        spot=SpotPrices(regions[0]),
        training=TrainingJobs(regions[0]),
        state=state,
        publish=publish,
        now=now,
        allow_apply=allow_apply,
        audit=audit,
    )


@dataclass
class ReportResult:
    report: MonthlyReport
    html: str
    key: str | None = None
    url: str | None = None
    events: list[AlertEvent] = field(default_factory=list)
    publish_errors: list[str] = field(default_factory=list)


def report_month_for(today: date) -> str:
    """The monthly run on the 1st reports the month that just ended."""
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def run_monthly_report(
    settings: Settings,
    *,
    ce: CostExplorer,
    state: StateStore,
    now: datetime,
    month: str | None = None,
    put: Callable[[str, str], None] | None = None,
    link: Callable[[str], tuple[str, datetime | None]] | None = None,
    publish: Publisher | None = None,
    k8s: K8sSource | None = None,
) -> ReportResult:
    """Build the report, store the HTML (``put(key, html)``), link it, and post each team its part once. ``k8s``:
    EKS split cost facts, whose section is appended when ``k8s_guard.enabled``."""
    chosen = month or report_month_for(now.date())
    report = run_report(settings, ce, state, month=chosen, today=now.date(), now=now)
    result = ReportResult(report, render_html(report))
    if k8s is not None and settings.k8s_guard.enabled:
        result.html = report_with_kubernetes(result.html, k8s, chosen, now.date())
    if put is not None:
        result.key = f"reports/{chosen}/costwarden-report-{chosen}.html"
        put(result.key, result.html)
        if link is not None:
            result.url, valid_until = link(result.key)
    else:
        valid_until = None
    sender = _Sender(publish, state, result.events, result.publish_errors, now)
    for team in report.teams:
        url = None if result.url is None else f"{result.url}#{anchor(team.team)}"
        event = alerts.report(team, report, url, valid_until, now)
        sender.once(event.dedup_key, event)
    return result
