"""Ports: the interfaces logic uses to reach state and cost data, implemented in ``costwarden.adapters``.

Logic (cost, reaper, tags, digest, notifier) imports these, never an adapter: the cookbook's ``dal`` split, held
by import-linter in ``make lint`` (docs/architecture.md). Handlers and services pass the implementations in
(``DynamoStateStore``, ``MemoryStateStore``, ``CostExplorer``), tests pass in-memory ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol


class StateStore(Protocol):
    """Key/value items grouped by partition; values are JSON-like dicts."""

    def get(self, pk: str, sk: str) -> dict[str, Any] | None: ...

    def put(self, pk: str, sk: str, data: dict[str, Any], ttl_days: float | None = None) -> None: ...

    def put_if_absent(self, pk: str, sk: str, data: dict[str, Any], ttl_days: float | None = None) -> bool:
        """Store only if no item exists; True when this call stored it (the "send once" primitive)."""
        ...

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]: ...

    def put_many(self, items: Iterable[tuple[str, str, dict[str, Any]]], ttl_days: float | None = None) -> None: ...

    def delete(self, pk: str, sk: str) -> None: ...


class CostSource(Protocol):
    """Daily cost pages in Cost Explorer's ``GetCostAndUsage`` shape, with the request counts the run reports."""

    requests: int
    throttled: int

    def daily_by_tags(
        self, start: date, end: date, tag_keys: Sequence[str], *, metric: str, excluded_record_types: Sequence[str]
    ) -> list[dict[str, Any]]: ...

    def daily_by_service(
        self,
        start: date,
        end: date,
        *,
        team_key: str,
        team: str | None,
        metric: str,
        excluded_record_types: Sequence[str],
    ) -> list[dict[str, Any]]: ...

    def total_by_tag(
        self,
        start: date,
        end: date,
        *,
        group_key: str,
        tag_values: Mapping[str, Sequence[str]],
        metric: str,
        excluded_record_types: Sequence[str],
    ) -> list[dict[str, Any]]:
        """Cost of the period carrying every ``tag_values`` key with one of its values, grouped by ``group_key``."""
        ...
