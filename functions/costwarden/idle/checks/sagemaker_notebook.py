"""SageMaker notebook instances InService without an idle auto-stop. SageMaker publishes no server-side idle metric
for notebooks, so usage cannot be judged: the finding (``no_autostop``) is about the missing auto-stop, read from the
notebook's lifecycle configuration (``DescribeNotebookInstanceLifecycleConfig``, once per configuration name)."""

from __future__ import annotations

from typing import Any

from costwarden.idle.checks.base import Candidate, IdleCheck, Priced, RegionScan
from costwarden.idle.judge import Points, Verdict
from costwarden.idle.model import Kind
from costwarden.resources.model import Resource


def judge_notebook(config: str, autostop: bool | None) -> Verdict:
    """Busy (nothing to report) when its lifecycle configuration stops it when idle; ``no_autostop`` otherwise."""
    if autostop:
        return Verdict(None, f"its lifecycle configuration {config!r} stops it when idle")
    what = (
        "InService without a lifecycle configuration"
        if not config
        else f"InService; its lifecycle configuration {config!r} has no idle auto-stop"
        if autostop is False
        else f"InService; its lifecycle configuration {config!r} could not be read"
    )
    evidence = f"{what} (SageMaker publishes no server-side idle metric for notebooks: usage cannot be judged)"
    return Verdict(Kind.NO_AUTOSTOP, evidence)


class SageMakerNotebooks(IdleCheck):
    name = "sagemaker-notebook"
    types = ("sagemaker:notebook-instance",)
    kinds = frozenset({Kind.NO_AUTOSTOP})
    prices = ("sagemaker-notebook",)
    inventory = ("sagemaker:notebook-instance",)
    reads = ("sagemaker:DescribeNotebookInstanceLifecycleConfig",)

    def candidates(self, scan: RegionScan) -> list[Resource]:
        return [r for r in scan.by_type["sagemaker:notebook-instance"] if r.active and r.state == "InService"]

    def describe(self, scan: RegionScan, resource: Resource) -> Any:
        config = str(resource.details.get("lifecycle_config") or "")
        return config, scan.ports.describe.notebook_autostop(scan.region, config) if config else False

    def judge(self, scan: RegionScan, candidate: Candidate, series: list[Points]) -> Verdict:
        return judge_notebook(*candidate.facts)

    def price(self, scan: RegionScan, candidate: Candidate) -> Priced:
        return scan.price(self, "sagemaker-notebook", str(candidate.resource.details.get("instance_type", "")))

    def suggest(self, resource: Resource, kind: Kind, **extra: Any) -> tuple[str, list[str]]:
        return (
            "attach a lifecycle configuration that stops it when idle (AWS's auto-stop-idle sample), or stop it",
            [f"aws sagemaker stop-notebook-instance --region {resource.region} --notebook-instance-name {resource.id}"],
        )
