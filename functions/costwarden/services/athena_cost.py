"""``cost_source: athena`` — the ``CostSource`` port answered by one Athena query per question.

The cost monitor asks for daily cost by tags (once per run, for the days its cache does not hold) and, for an
anomalous team, by service: each is one partition-pruned query (``cost/sql/<format>/``) instead of a series of
Cost Explorer requests. ``requests`` counts Athena API calls (start, polls, result pages) so the run summary's
request count keeps its meaning; ``throttled`` stays 0 (botocore's standard retry mode handles throttling).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from costwarden.adapters.athena import Athena
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.cost.athena_sql import pages_from_rows, render, total_page_from_rows
from costwarden.models.ports import CostSource
from costwarden.settings import AthenaSettings, Settings


class AthenaCostSource:
    """Implements ``CostSource`` over an Athena table of a CUR 2.0 or FOCUS Data Export."""

    def __init__(
        self,
        config: AthenaSettings,
        athena: Athena | None = None,
        *,
        focus_excluded_categories: Sequence[str] = ("Adjustment", "Credit", "Purchase", "Tax"),
    ) -> None:
        self.config = config
        #: A FOCUS export is filtered by ``ChargeCategory`` with the same list the FOCUS file reader uses
        #: (``anomaly.excluded_charge_categories``), not by Cost Explorer's record types: one rule for FOCUS data.
        self.focus_excluded_categories = tuple(focus_excluded_categories)
        self.athena = athena or Athena(
            config.workgroup,
            config.database,
            poll_seconds=config.poll_seconds,
            max_wait_seconds=config.max_wait_seconds,
        )
        self.throttled = 0
        self.queries: list[str] = []

    @property
    def requests(self) -> int:
        """Athena API calls so far (the port's request count)."""
        return self.athena.requests

    @requests.setter
    def requests(self, value: int) -> None:
        self.athena.requests = value

    def _run(
        self, question: str, start: date, end: date, keys: Sequence[str], key_names: Sequence[str], **kw: Any
    ) -> list[dict[str, Any]]:
        if self.config.export_format == "focus":
            kw["excluded_record_types"] = self.focus_excluded_categories
        sql = render(
            question, self.config.export_format, table=self.config.table, start=start, end=end, keys=keys, **kw
        )
        self.queries.append(sql)
        rows = self.athena.query(sql)
        return pages_from_rows(rows, key_names, kw["metric"], start, end)

    def daily_by_tags(
        self, start: date, end: date, tag_keys: Sequence[str], *, metric: str, excluded_record_types: Sequence[str]
    ) -> list[dict[str, Any]]:
        return self._run(
            "daily_by_tags", start, end, tag_keys, tag_keys, metric=metric, excluded_record_types=excluded_record_types
        )

    def daily_by_service(
        self,
        start: date,
        end: date,
        *,
        team_key: str,
        team: str | None,
        metric: str,
        excluded_record_types: Sequence[str],
    ) -> list[dict[str, Any]]:
        return self._run(
            "daily_by_service",
            start,
            end,
            [team_key],
            ["SERVICE"],
            metric=metric,
            excluded_record_types=excluded_record_types,
            team=team,
        )

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
        """One query: the window's cost per ``group_key`` value among items carrying every ``tag_values`` key."""
        excluded = self.focus_excluded_categories if self.config.export_format == "focus" else excluded_record_types
        sql = render(
            "total_by_tag",
            self.config.export_format,
            table=self.config.table,
            start=start,
            end=end,
            keys=[group_key],
            metric=metric,
            excluded_record_types=excluded,
            filters=tag_values,
        )
        self.queries.append(sql)
        return total_page_from_rows(self.athena.query(sql), group_key, metric, start, end)


def cost_source(settings: Settings) -> CostSource:
    """The configured source: Cost Explorer (default) or Athena (``cost_source: athena``)."""
    if settings.cost_source == "athena":
        return AthenaCostSource(
            settings.organization.athena, focus_excluded_categories=settings.anomaly.excluded_charge_categories
        )
    return CostExplorer()
