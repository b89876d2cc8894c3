"""The idle-check registry: one module per idle resource type, one line here. Adding a check: docs/architecture.md
("Adding an idle check").

Order is the scan's report order and, through ``scanned_types``, the inventory's listing order.
"""

from __future__ import annotations

from costwarden.idle.checks.base import IdleCheck
from costwarden.idle.checks.capacity_reservation import CapacityReservations
from costwarden.idle.checks.ebs_volume import EbsVolumes
from costwarden.idle.checks.ec2_instance import Ec2Instances
from costwarden.idle.checks.emr_cluster import EmrClusters
from costwarden.idle.checks.sagemaker_endpoint import SageMakerEndpoints
from costwarden.idle.checks.sagemaker_notebook import SageMakerNotebooks
from costwarden.idle.checks.stopped_instance import StoppedInstances

CHECKS: tuple[IdleCheck, ...] = (
    Ec2Instances(),
    EmrClusters(),
    SageMakerEndpoints(),
    SageMakerNotebooks(),
    StoppedInstances(),
    EbsVolumes(),
    CapacityReservations(),
)


def scanned_types() -> tuple[str, ...]:
    """The reaper registry types the checks read from the inventory, each once, in check order."""
    return tuple(dict.fromkeys(t for check in CHECKS for t in check.inventory))


__all__ = ["CHECKS", "IdleCheck", "scanned_types"]
