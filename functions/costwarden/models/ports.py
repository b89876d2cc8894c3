"""Ports: the interfaces logic uses to reach state and cost data, implemented in ``costwarden.adapters``.

Logic (cost, reaper, tags, digest, notifier) imports these, never an adapter: the cookbook's ``dal`` split, held
by import-linter in ``make lint`` (docs/architecture.md). Handlers and services pass the implementations in
(``DynamoStateStore``, ``MemoryStateStore``, ``CostExplorer``), tests pass in-memory ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NotRequired, Protocol, TypedDict, Unpack

from costwarden.models.alert import AlertEvent
from costwarden.models.k8s import GroupBy, GroupDay, NodeDay

#: The attribute a publish-once claim carries while it is in progress (epoch seconds its lease ends): a record
#: without it is complete. Written by ``costwarden.core.publish``, read by ``StateStore.claim``.
LEASE_ATTRIBUTE = "lease_until"


class StateStore(Protocol):
    """Key/value items grouped by partition; values are JSON-like dicts. The one state-store port (the idle finder,
    the reaper, the cost monitor, the notifier and ``core.publish`` all take this)."""

    def get(self, pk: str, sk: str) -> dict[str, Any] | None: ...

    def put(self, pk: str, sk: str, data: dict[str, Any], ttl_days: float | None = None) -> None: ...

    def put_if_absent(self, pk: str, sk: str, data: dict[str, Any], ttl_days: float | None = None) -> bool:
        """Store only if no item exists; True when this call stored it (first-sighting markers, replay guards)."""
        ...

    def claim(self, pk: str, sk: str, data: dict[str, Any], *, now: float, ttl_days: float | None = None) -> bool:
        """Store ``data`` (which carries ``LEASE_ATTRIBUTE``) when no item exists, or when the item there is a claim
        whose lease ended before ``now`` (epoch seconds): its holder crashed. True when this call stored it. One
        conditional write, so two runs racing for the same record cannot both win (``core.publish``)."""
        ...

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]: ...

    def put_many(self, items: Iterable[tuple[str, str, dict[str, Any]]], ttl_days: float | None = None) -> None: ...

    def delete(self, pk: str, sk: str) -> None: ...


class CostBasis(TypedDict):
    """What counts as cost in every question to a ``CostSource`` (the ``anomaly`` settings' two keys), declared once
    for the port and its implementations (``**basis: Unpack[CostBasis]``)."""

    metric: str
    """The Cost Explorer metric (``AmortizedCost``, ``UnblendedCost``...)."""
    excluded_record_types: Sequence[str]
    """Record types left out (credits, refunds and taxes by default)."""


class ServiceQuery(CostBasis):
    """``daily_by_service``: one team's cost grouped by service, the root-cause request."""

    team_key: str
    """The tag a team is read from."""
    team: str | None
    """The team (``None``: cost without the tag)."""
    dimension: NotRequired[str]
    """The Cost Explorer dimension grouped by: SERVICE when not given (USAGE_TYPE, REGION, LINKED_ACCOUNT)."""


class TagTotalQuery(CostBasis):
    """``total_by_tag``: the period's cost carrying every ``tag_values`` key with one of its values."""

    group_key: str
    """The tag the total is grouped by (an experiment pool's jobs)."""
    tag_values: Mapping[str, Sequence[str]]
    """Tag key -> accepted values, every key required."""


class CostSource(Protocol):
    """Daily cost pages in Cost Explorer's ``GetCostAndUsage`` shape, with the request counts the run reports."""

    requests: int
    throttled: int

    def daily_by_tags(
        self, start: date, end: date, tag_keys: Sequence[str], **basis: Unpack[CostBasis]
    ) -> list[dict[str, Any]]: ...

    def daily_by_service(self, start: date, end: date, **query: Unpack[ServiceQuery]) -> list[dict[str, Any]]: ...

    def total_by_tag(self, start: date, end: date, **query: Unpack[TagTotalQuery]) -> list[dict[str, Any]]:
        """Cost of the period carrying every ``tag_values`` key with one of its values, grouped by ``group_key``."""
        ...


class K8sSource(Protocol):
    """Daily EKS facts for ``[start, end)`` from CUR 2.0 split cost allocation data (``models.k8s``), allocated by the
    configured unused-cost policy: what the cost monitor guards per namespace and the idle finder reads per node.

    A workload's ``GroupDay.key`` is ``<namespace>/<workload>`` (a workload is named inside its namespace, as in
    Kubernetes: two namespaces' ``trainer`` deployments are two workloads). ``requests`` counts the API calls made,
    as ``CostSource.requests`` does.
    """

    requests: int

    def group_days(self, start: date, end: date, by: GroupBy) -> list[GroupDay]: ...

    def node_days(self, start: date, end: date) -> list[NodeDay]: ...


#: Sends one alert event (``adapters.sns.publish`` bound to the topic, a test's list append, an attributing
#: wrapper in the organization fan-out). The one publisher port; what it returns (SNS's message id) is not used.
Publisher = Callable[[AlertEvent], object]


#: ``clients(service, region)`` → a boto3 client. Injected everywhere (the reaper's registry, the idle finder's
#: adapters); the default is ``adapters.aws.client``. Declared here so adapters and logic share it without importing
#: each other.
Clients = Callable[[str, str], Any]


def error_text(error: BaseException) -> str:
    """``Code: Message`` of an AWS error (botocore's ``ClientError`` shape), else ``Type: text``: what decisions,
    summaries and logs record, with no SDK import."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        err = response["Error"]
        return f"{err.get('Code', type(error).__name__)}: {err.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"


class SlackGroups(Protocol):
    """Members of a Slack user group (``usergroups.users.list`` with the app's bot token)."""

    def members(self, group_id: str) -> frozenset[str]:
        """User ids of ``group_id``; raises when Slack cannot say (the caller then refuses: unknown is "no")."""
        ...


class SlackResponder(Protocol):
    """Posts to a verified ``response_url``: update the original message in place, or answer one user only."""

    def respond(self, response_url: str, message: dict[str, Any]) -> None: ...
