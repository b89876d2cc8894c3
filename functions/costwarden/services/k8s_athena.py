"""The EKS facts (``models.k8s``) read where the CUR 2.0 export lives: one partition-pruned Athena query per question.

The ``K8sSource`` shape the guardrails read (``group_days(start, end, by)``, ``node_days(start, end)``,
``requests``), answered by ``costwarden.k8s.athena_sql`` through the same Athena adapter, workgroup and table as
``cost_source: athena`` (``services.athena_cost``): no grant beyond the Athena path's own. Split cost allocation
data exists only in a CUR 2.0 export, so a FOCUS table is refused when the source is built, naming the setting.

``k8s_source(settings)`` is the one place a deployed function gets its source: the cost monitor, the idle finder and
the monthly report each call it once, so ``k8s_guard.enabled`` reaches all three, and nothing reads Athena for EKS
facts with the guard off. ``k8s_summary(source)`` is the run summary's ``k8s`` part of the two functions whose
guardrail keeps a failed read to itself (the idle finder's errors, the report's section): what was asked, what it
cost, and what failed, so a run that could not read the bill never looks like one that found no namespaces.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from costwarden.adapters.athena import Athena
from costwarden.k8s.athena_sql import group_days_from_rows, node_days_from_rows, render, render_nodes
from costwarden.models.k8s import GroupBy, GroupDay, NodeDay
from costwarden.models.ports import error_text
from costwarden.settings import AthenaSettings, K8sSettings, Settings


class AthenaK8sSource:
    """Daily EKS facts for ``[start, end)`` from the Athena table of a CUR 2.0 export with split cost data."""

    def __init__(
        self, config: AthenaSettings, settings: K8sSettings, athena: Athena | None = None, *, net: bool = True
    ) -> None:
        if config.export_format != "cur2":
            raise ValueError(
                f"organization.athena.export_format is {config.export_format!r}: EKS split cost allocation data is "
                "only in a CUR 2.0 export (docs/k8s.md)"
            )
        self.config, self.settings, self.net = config, settings, net
        #: The SQL of every query run, in order (the run summary and the tests read it).
        self.queries: list[str] = []
        #: Why a question could not be answered (the query, or its rows), in order: the guardrails catch the error
        #: and carry on; the run summary still says it (``k8s_summary``).
        self.failures: list[str] = []
        if athena is None:  # the workgroup, database and polling of the Athena path (organization.athena)
            athena = Athena(
                config.workgroup,
                config.database,
                poll_seconds=config.poll_seconds,
                max_wait_seconds=config.max_wait_seconds,
            )
        self.athena = athena

    @property
    def requests(self) -> int:
        """Athena API calls so far: start, polls and result pages (the port's request count)."""
        return int(self.athena.requests)

    @requests.setter
    def requests(self, count: int) -> None:
        """A run that counts its own calls resets it."""
        self.athena.requests = count

    def group_days(self, start: date, end: date, by: GroupBy) -> list[GroupDay]:
        sql = render(self.config.table, start, end, self.settings, by=by, net=self.net)
        return self._answer(f"{by} days {start} to {end}", sql, lambda rows: group_days_from_rows(rows, by))

    def node_days(self, start: date, end: date) -> list[NodeDay]:
        sql = render_nodes(self.config.table, start, end, self.settings, net=self.net)
        return self._answer(f"node days {start} to {end}", sql, node_days_from_rows)

    def _answer[Fact](self, question: str, sql: str, read: Callable[[list[dict[str, str | None]]], Fact]) -> Fact:
        """Run ``sql`` and read its rows; a failure is recorded (``failures``) and raised on to the guardrail."""
        self.queries.append(sql)
        try:
            return read(self.athena.query(sql))
        except Exception as error:  # re-raised: the caller decides; the summary keeps the reason
            self.failures.append(f"{question}: {error_text(error)}")
            raise


def k8s_source(settings: Settings, athena: Athena | None = None) -> AthenaK8sSource | None:
    """The EKS facts the guardrails read: an ``AthenaK8sSource`` over the Athena path's table when
    ``k8s_guard.enabled``, else None (no Athena client, no query).

    Its own Athena adapter (``athena`` in tests), never the cost source's: each run summary counts its own requests.
    A misconfiguration is refused by the settings themselves (``k8s_guard`` needs ``cost_source: athena`` and a
    CUR 2.0 export), at synth and again when the function loads its settings; the source repeats the export check.
    """
    if not settings.k8s_guard.enabled:
        return None
    return AthenaK8sSource(settings.organization.athena, settings.k8s, athena)


def k8s_summary(source: AthenaK8sSource | None) -> dict[str, Any]:
    """``{"k8s": ...}`` for a run summary (``{}`` with the guard off): queries, Athena requests, and ``read`` false
    with the ``errors`` when a question failed (the guardrail caught it; the summary must not read as empty)."""
    if source is None:
        return {}
    part = {"queries": len(source.queries), "requests": source.requests, "read": not source.failures}
    return {"k8s": {**part, "errors": list(source.failures)}}
