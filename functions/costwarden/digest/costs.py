"""What Costwarden itself costs to run per month: an estimate from measured request counts and durations (pure).

A cost guardrail should be cheap, and say how cheap. ``Usage`` holds what a deployment does in a month (invocations
and durations per function, Cost Explorer requests, table reads and writes, SNS publishes, metrics, logs);
``usage_from_settings`` derives the invocation counts from the schedules and takes the measured numbers as
arguments; ``estimate`` prices each line with ``Prices`` (AWS list prices, us-east-1, before free tiers) and
``CostEstimate.markdown()`` prints the table the README shows. docs/digest.md explains every assumption.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from costwarden.settings import Settings

#: Average days in a month (365.25 / 12) and hours in it: what "per month" means in every line.
DAYS_PER_MONTH = 30.4375
HOURS_PER_MONTH = DAYS_PER_MONTH * 24

Architecture = Literal["arm64", "x86_64"]


@dataclass(frozen=True)
class Prices:
    """AWS list prices in USD, us-east-1, on-demand, before free tiers (checked 2026-11; see docs/digest.md)."""

    lambda_gb_second_arm64: float = 0.0000133334
    lambda_gb_second_x86_64: float = 0.0000166667
    lambda_request: float = 0.20 / 1_000_000
    ce_request: float = 0.01
    dynamodb_write_request_unit: float = 0.625 / 1_000_000
    dynamodb_read_request_unit: float = 0.125 / 1_000_000
    dynamodb_storage_gb_month: float = 0.25
    #: Each started 64 KB of a published message is billed as one request.
    sns_request: float = 0.50 / 1_000_000
    sns_email_notification: float = 2.00 / 100_000
    cloudwatch_metric_month: float = 0.30
    cloudwatch_log_ingest_gb: float = 0.50
    cloudwatch_alarm_month: float = 0.10
    cloudwatch_dashboard_month: float = 3.00
    kms_key_month: float = 1.00
    kms_request: float = 0.03 / 10_000
    secrets_manager_secret_month: float = 0.40
    secrets_manager_api_call: float = 0.05 / 10_000
    xray_trace_recorded: float = 5.00 / 1_000_000


PRICES = Prices()


@dataclass(frozen=True)
class FunctionLoad:
    """One Lambda function's month: how often it runs, how long, and with how much memory."""

    name: str
    invocations_per_month: float
    avg_duration_ms: float
    memory_mb: int
    architecture: Architecture = "arm64"

    @property
    def gb_seconds(self) -> float:
        return self.invocations_per_month * (self.avg_duration_ms / 1000) * (self.memory_mb / 1024)


@dataclass(frozen=True)
class Usage:
    """Everything a deployment does in a month that AWS bills for."""

    functions: tuple[FunctionLoad, ...]
    ce_requests_per_month: float
    dynamodb_writes_per_month: float
    dynamodb_reads_per_month: float
    dynamodb_storage_gb: float
    sns_publishes_per_month: float
    sns_avg_message_kb: float = 4.0
    sns_email_notifications_per_month: float = 0.0
    #: Custom metrics, as metric-months: a metric billed for every hour of the month counts 1.0. CloudWatch prorates
    #: by the hour and meters only hours in which data is sent, so a metric written once a day counts ~1/24.
    cloudwatch_metric_months: float = 0.0
    log_gb_per_month: float = 0.0
    alarms: int = 0
    dashboards: int = 1
    kms_keys: int = 1
    kms_requests_per_month: float = 0.0
    secrets: int = 1
    secret_reads_per_month: float = 0.0
    xray_traces_per_month: float = 0.0


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: float
    unit: str
    unit_price_usd: float
    monthly_usd: float


@dataclass(frozen=True)
class CostEstimate:
    lines: tuple[CostLine, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def total_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    def markdown(self) -> str:
        """The estimate as a Markdown table, largest items first, with a total row."""
        rows = ["| Item | Quantity per month | Unit price (USD) | USD per month |", "|---|---:|---:|---:|"]
        for line in sorted(self.lines, key=lambda line: -line.monthly_usd):
            rows.append(
                f"| {line.item} | {_quantity(line.quantity)} {_unit(line.unit, line.quantity)} "
                f"| {_price(line.unit_price_usd)} "
                f"| {line.monthly_usd:,.2f} |"
            )
        rows.append(f"| **Total** | | | **{self.total_usd:,.2f}** |")
        return "\n".join([*rows, *(f"\n{note}" for note in self.notes)])


def estimate(usage: Usage, prices: Prices = PRICES) -> CostEstimate:
    """Price a month of ``usage``: one line per function's compute, then requests and each service used."""
    lines: list[CostLine] = []

    def add(item: str, quantity: float, unit: str, unit_price: float) -> None:
        lines.append(CostLine(item, quantity, unit, unit_price, quantity * unit_price))

    for function in usage.functions:
        price = prices.lambda_gb_second_arm64 if function.architecture == "arm64" else prices.lambda_gb_second_x86_64
        add(f"Lambda {function.name} compute", function.gb_seconds, "GB-s", price)
    add("Lambda requests", sum(f.invocations_per_month for f in usage.functions), "requests", prices.lambda_request)
    add("Cost Explorer API", usage.ce_requests_per_month, "requests", prices.ce_request)
    add("DynamoDB writes (on demand)", usage.dynamodb_writes_per_month, "WRU", prices.dynamodb_write_request_unit)
    add("DynamoDB reads (on demand)", usage.dynamodb_reads_per_month, "RRU", prices.dynamodb_read_request_unit)
    add("DynamoDB storage", usage.dynamodb_storage_gb, "GB-month", prices.dynamodb_storage_gb_month)
    chunks = max(1, -(-usage.sns_avg_message_kb // 64))
    add("SNS publishes", usage.sns_publishes_per_month * chunks, "64 KB requests", prices.sns_request)
    if usage.sns_email_notifications_per_month:
        add(
            "SNS e-mail notifications",
            usage.sns_email_notifications_per_month,
            "e-mails",
            prices.sns_email_notification,
        )
    add("CloudWatch custom metrics", usage.cloudwatch_metric_months, "metric-months", prices.cloudwatch_metric_month)
    add("CloudWatch Logs ingestion", usage.log_gb_per_month, "GB", prices.cloudwatch_log_ingest_gb)
    add("CloudWatch alarms", usage.alarms, "alarms", prices.cloudwatch_alarm_month)
    add("CloudWatch dashboard", usage.dashboards, "dashboards", prices.cloudwatch_dashboard_month)
    add("KMS keys (alert and operator topics)", usage.kms_keys, "keys", prices.kms_key_month)
    add("KMS requests", usage.kms_requests_per_month, "requests", prices.kms_request)
    add("Secrets Manager secret", usage.secrets, "secrets", prices.secrets_manager_secret_month)
    add("Secrets Manager reads", usage.secret_reads_per_month, "API calls", prices.secrets_manager_api_call)
    add("X-Ray traces", usage.xray_traces_per_month, "traces", prices.xray_trace_recorded)
    notes = (
        "List prices, us-east-1, before free tiers (Lambda's 400,000 GB-s and 1 M requests a month alone cover "
        "every Lambda line here); quantities per month of 30.44 days.",
    )
    return CostEstimate(lines=tuple(lines), notes=notes)


@dataclass(frozen=True)
class Measured:
    """Numbers measured on a run (the demo, the benchmark, a real account); defaults are placeholders to replace.

    Durations are warm averages in milliseconds, memory the configured size in MB (see infra).
    """

    duration_ms: Mapping[str, float] = field(
        default_factory=lambda: {"cost_monitor": 4_000, "reaper": 3_000, "tag_audit": 5_000, "notifier": 400}
    )
    memory_mb: Mapping[str, int] = field(
        default_factory=lambda: {"cost_monitor": 1_024, "reaper": 256, "tag_audit": 256, "notifier": 256}
    )
    #: Cost Explorer requests of a steady-state daily run (pages of the re-pulled window + root-cause queries).
    ce_requests_per_cost_run: float = 3
    #: Cost Explorer requests of one tag audit (untagged share now and the week before, allocation tag status).
    ce_requests_per_tag_audit: float = 3
    #: Alert events a day, digest included (each is one SNS publish and one notifier invocation).
    alerts_per_day: float = 10
    #: Reaper decisions written to the audit log per run, and expiry warnings checked (each one read).
    reaper_items_per_run: float = 20
    #: State table items the cost monitor writes a day (cached final days, anomaly episodes, budget status).
    cost_items_per_day: float = 50
    log_kb_per_invocation: float = 20
    #: Cost monitor invocations a day (the digest is composed at the end of the daily run, not on its own schedule).
    cost_monitor_runs_per_day: float = 1


def usage_from_settings(settings: Settings, *, teams: int, measured: Measured | None = None) -> Usage:
    """A month of usage for ``teams`` teams under ``settings``' schedules and the ``measured`` numbers."""
    m = measured or Measured()
    schedules = settings.schedules
    invocations = {
        "cost_monitor": DAYS_PER_MONTH * m.cost_monitor_runs_per_day,
        "reaper": HOURS_PER_MONTH * 60 / schedules.reaper_rate_minutes,
        "tag_audit": DAYS_PER_MONTH / 7,
        "notifier": DAYS_PER_MONTH * m.alerts_per_day,
    }
    functions = tuple(
        FunctionLoad(name, invocations[name], m.duration_ms[name], m.memory_mb[name]) for name in invocations
    )
    total_invocations = sum(invocations.values())
    writes = (
        invocations["reaper"] * m.reaper_items_per_run
        + DAYS_PER_MONTH * m.cost_items_per_day
        + invocations["notifier"] * 3  # idempotency record (put, update) and the delivery record
    )
    reads = invocations["reaper"] * m.reaper_items_per_run + DAYS_PER_MONTH * (m.cost_items_per_day + teams)
    # A daily metric per team (cost) and a handful of fleet metrics, each written about once a day (1 h of 24).
    metric_months = (teams + 10) * DAYS_PER_MONTH / HOURS_PER_MONTH
    publishes = invocations["notifier"]
    return Usage(
        functions=functions,
        ce_requests_per_month=DAYS_PER_MONTH * m.ce_requests_per_cost_run
        + invocations["tag_audit"] * m.ce_requests_per_tag_audit,
        dynamodb_writes_per_month=writes,
        dynamodb_reads_per_month=reads,
        dynamodb_storage_gb=0.05 + teams * 0.0005,
        sns_publishes_per_month=publishes,
        sns_avg_message_kb=4.0,
        cloudwatch_metric_months=metric_months,
        log_gb_per_month=total_invocations * m.log_kb_per_invocation / 1_048_576,
        alarms=3 * len(functions) + 1,  # errors, throttles, DLQ depth per function; the notifier subscription's DLQ
        dashboards=1,
        kms_keys=2,  # the alert topic's and the operator topic's
        kms_requests_per_month=publishes * 2,  # GenerateDataKey on publish, Decrypt on delivery
        secrets=1,
        secret_reads_per_month=invocations["notifier"],  # upper bound: a cold start per alert
        xray_traces_per_month=total_invocations,
    )


def _quantity(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") or "0"


def _unit(unit: str, quantity: float) -> str:
    return unit[:-1] if quantity == 1 and unit.endswith("s") and not unit.endswith("GB-s") else unit


def _price(value: float) -> str:
    return f"{value:.10f}".rstrip("0").rstrip(".") if value < 0.01 else f"{value:,.2f}"
