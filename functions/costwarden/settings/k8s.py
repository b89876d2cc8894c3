"""The Kubernetes (EKS) settings: who owns a namespace, which pod labels name a workload and a team, and who pays for
what no pod reserved or used on a node (docs/k8s.md)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from costwarden.models.k8s import UnusedPolicy
from costwarden.settings._base import TeamName, _Model

#: A Kubernetes namespace name (an RFC 1123 label): what ``aws:eks:namespace`` can hold.
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
#: A pod label key as Kubernetes allows it (an optional DNS prefix, then a name of 1-63 characters).
_LABEL = re.compile(r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")


class K8sSettings(_Model):
    """Reading EKS split cost allocation data: the team of every pod, the workload it belongs to, the idle's payer."""

    namespace_teams: dict[str, TeamName] = Field(default_factory=dict)
    """Namespace -> team. The first rule of a pod's team: a namespace listed here belongs to its team whatever its
    pods' labels say; then the pod label `team_label`, then the node group's team tag, else `unowned`."""
    team_label: str = "team"
    """Pod label naming the pod's team (imported as a cost allocation tag, it reaches the bill as `user_<label>`)."""
    workload_label: str | None = None
    """Pod label naming the workload (e.g. `app.kubernetes.io/name`); unset, the workload is `aws:eks:deployment`."""
    node_team_tag: str = "team"
    """Tag of the node's EC2 instance (from its node group's launch template) naming the pool's owner."""
    unused: UnusedPolicy = "owner"
    """Who pays for what no pod reserved or used on a node: `owner` (the node group's team: whoever runs the pool pays
    for its idle), `proportional` (the node's pods, as AWS apportions it, in proportion to what they were allocated)
    or `unallocated` (a line of its own, owned by nobody)."""

    @field_validator("namespace_teams")
    @classmethod
    def _namespaces(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _NAMESPACE.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a Kubernetes namespace name (1-63 characters of a-z, 0-9 and '-', starting and "
                    "ending with a letter or digit)"
                )
        return value

    @field_validator("team_label", "workload_label", "node_team_tag")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None and not _LABEL.fullmatch(value):
            raise ValueError(f"{value!r} is not a label or tag key (an optional DNS prefix and '/', then a name)")
        return value
