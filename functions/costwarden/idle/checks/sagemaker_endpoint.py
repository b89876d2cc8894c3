"""SageMaker endpoints, judged by their variants' ``Invocations`` (Sum, AWS/SageMaker) and priced per variant
(``DescribeEndpoint`` + ``DescribeEndpointConfig``: instance type and count; a serverless variant costs nothing
while idle)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from costwarden.idle.checks.base import HOUR, Candidate, IdleCheck, Priced, RegionScan
from costwarden.idle.judge import Points, Verdict, days_text, hour_of, too_young
from costwarden.idle.model import Kind, Window
from costwarden.models.idle_ports import MetricQuery
from costwarden.models.pricing import total
from costwarden.resources.model import Resource
from costwarden.settings import IdleSettings


def judge_endpoint(
    created: datetime | None, invocations: Sequence[Points], window: Window, cfg: IdleSettings
) -> Verdict:
    """A SageMaker endpoint from its variants' ``Invocations`` (Sum). SageMaker publishes no data point for an hour
    without requests, so missing points are zero here — and an endpoint younger than the lookback is not judged."""
    if reason := too_young(created, window):
        return Verdict(None, reason, judged=False)
    total = sum(value for points in invocations for moment, value in points if window.start <= hour_of(moment))
    per_day = total / window.days
    if total <= 0:
        return Verdict(Kind.IDLE, f"0 invocations over {days_text(window.days)}")
    if per_day < cfg.endpoint_underused_per_day:
        return Verdict(
            Kind.UNDERUSED,
            f"{total:.0f} invocations over {days_text(window.days)} ({per_day:.1f} a day, below "
            f"{cfg.endpoint_underused_per_day:g})",
        )
    return Verdict(None, f"{total:.0f} invocations over {days_text(window.days)}")


class SageMakerEndpoints(IdleCheck):
    name = "sagemaker-endpoint"
    types = ("sagemaker:endpoint",)
    kinds = frozenset({Kind.IDLE, Kind.UNDERUSED})
    prices = ("sagemaker-hosting",)
    inventory = ("sagemaker:endpoint",)
    reads = ("cloudwatch:GetMetricData", "sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig")

    def candidates(self, scan: RegionScan) -> list[Resource]:
        return [r for r in scan.by_type["sagemaker:endpoint"] if r.active and r.state == "InService"]

    def describe(self, scan: RegionScan, resource: Resource) -> Any:
        return scan.ports.describe.endpoint_variants(scan.region, resource.id)

    def queries(self, scan: RegionScan, resource: Resource, facts: Any) -> list[MetricQuery]:
        return [
            MetricQuery(
                "AWS/SageMaker", "Invocations", (("EndpointName", resource.id), ("VariantName", v.name)), "Sum", HOUR
            )
            for v in facts
        ]

    def judge(self, scan: RegionScan, candidate: Candidate, series: list[Points]) -> Verdict:
        return judge_endpoint(candidate.resource.started_at, series, scan.window, scan.cfg)

    def price(self, scan: RegionScan, candidate: Candidate) -> Priced:
        parts: list[Priced] = []
        for variant in candidate.facts:
            if not variant.instance_type:
                parts.append((0.0, ""))  # serverless: paid per request, nothing idles
                continue
            parts.append(scan.price(self, "sagemaker-hosting", variant.instance_type, variant.count))
        return total(parts)

    def suggest(self, resource: Resource, kind: Kind, **extra: Any) -> tuple[str, list[str]]:
        if kind is Kind.UNDERUSED:
            return (
                "low traffic: consider serverless inference (ServerlessConfig in the endpoint config: pay per "
                "request) or a smaller instance",
                [],
            )
        return "delete the endpoint (its model and config stay; re-create it when needed)", [
            f"aws sagemaker delete-endpoint --region {resource.region} --endpoint-name {resource.id}"
        ]
