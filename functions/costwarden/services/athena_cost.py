"""``cost_source: athena`` — the ``CostSource`` port answered by one Athena query per question.

The cost monitor asks for daily cost by tags (once per run, for the days its cache does not hold) and, for an
anomalous team, by service: each is one partition-pruned query (``cost/sql/``) instead of a series of
Cost Explorer requests. ``requests`` counts Athena API calls (start, polls, result pages) so the run summary's
request count keeps its meaning; ``throttled`` stays 0 (botocore's standard retry mode handles throttling).

With ``organization.enabled``, spend without a team tag belongs to its account's team (the account's Organizations
tag): ``daily_by_tags`` then asks ``daily_by_account`` and attributes each row (``org.attribute_rows``, the one
attribution rule); what landed on a team that way is kept in ``account_default`` (team -> USD) so the run can say
"account default" rather than "untagged".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Unpack

from costwarden.adapters import aws
from costwarden.adapters.athena import Athena
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.organizations import Organization
from costwarden.cost.athena_sql import pages_from_rows, render, total_page_from_rows
from costwarden.models.ports import CostBasis, CostSource, ServiceQuery, TagTotalQuery
from costwarden.org.attribution import ACCOUNT_DEFAULT, attribute_rows
from costwarden.settings import AthenaSettings, Settings


class AthenaCostSource:
    """Implements ``CostSource`` over an Athena table of a CUR 2.0 or FOCUS Data Export."""

    def __init__(
        self,
        config: AthenaSettings,
        athena: Athena | None = None,
        *,
        focus_excluded_categories: Sequence[str] = ("Adjustment", "Credit", "Purchase", "Tax"),
        account_teams: Mapping[str, str | None] | None = None,
    ) -> None:
        self.config = config
        #: account id -> its team (Organizations tag); None: no account-default attribution (single account).
        self.account_teams = dict(account_teams) if account_teams is not None else None
        #: team -> USD of untagged spend attributed to it as its account's default owner (this source's queries).
        self.account_default: dict[str, float] = defaultdict(float)
        #: Why account-default attribution is partial or off (Organizations unreadable), for the run summary.
        self.attribution_note: str | None = None
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

    def _query(self, question: str, start: date, end: date, keys: Sequence[str], **kw: Any) -> list[dict[str, Any]]:
        """Render ``question`` for this export (a FOCUS export filtered by its charge categories), record the SQL,
        run it: the one path every question's query takes."""
        if self.config.export_format == "focus":
            kw["excluded_record_types"] = self.focus_excluded_categories
        sql = render(
            question, self.config.export_format, table=self.config.table, start=start, end=end, keys=keys, **kw
        )
        self.queries.append(sql)
        return self.athena.query(sql)

    def _run(
        self, question: str, start: date, end: date, keys: Sequence[str], key_names: Sequence[str], **kw: Any
    ) -> list[dict[str, Any]]:
        rows = self._query(question, start, end, keys, **kw)
        return pages_from_rows(rows, key_names, kw["metric"], start, end)

    def daily_by_tags(
        self, start: date, end: date, tag_keys: Sequence[str], **basis: Unpack[CostBasis]
    ) -> list[dict[str, Any]]:
        if self.account_teams is not None and len(tag_keys) == 1:
            return self._by_account(
                start, end, tag_keys[0], metric=basis["metric"], excluded=basis["excluded_record_types"]
            )
        return self._run("daily_by_tags", start, end, tag_keys, tag_keys, **basis)

    def _by_account(
        self, start: date, end: date, team_key: str, *, metric: str, excluded: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Per account, then attributed: an untagged row goes to the account's team; no team at all stays untagged."""
        found = self._query("daily_by_account", start, end, [team_key], metric=metric, excluded_record_types=excluded)
        rows: list[dict[str, object]] = [{**r, "key_0": r.get("key_0") or None} for r in found]
        attributed = attribute_rows(rows, self.account_teams or {}, team_field="key_0", unowned="")
        totals: dict[tuple[str, str], float] = defaultdict(float)
        for row in attributed:
            key = (str(row["usage_date"])[:10], str(row["key_0"] or ""))
            cost = float(str(row["cost"] or 0))
            totals[key] += cost
            if row["attribution"] == ACCOUNT_DEFAULT:
                self.account_default[key[1]] += cost
        merged = [{"usage_date": d, "key_0": t, "cost": c} for (d, t), c in sorted(totals.items())]
        return pages_from_rows(merged, [team_key], metric, start, end)

    def daily_by_service(self, start: date, end: date, **query: Unpack[ServiceQuery]) -> list[dict[str, Any]]:
        if query.get("dimension", "SERVICE") != "SERVICE":
            return []  # the export's questions answer by service only; the other cause dimensions are Cost Explorer's
        return self._run(
            "daily_by_service",
            start,
            end,
            [query["team_key"]],
            ["SERVICE"],
            metric=query["metric"],
            excluded_record_types=query["excluded_record_types"],
            team=query["team"],
        )

    def total_by_tag(self, start: date, end: date, **query: Unpack[TagTotalQuery]) -> list[dict[str, Any]]:
        """One query: the window's cost per ``group_key`` value among items carrying every ``tag_values`` key."""
        group_key, metric = query["group_key"], query["metric"]
        rows = self._query(
            "total_by_tag",
            start,
            end,
            [group_key],
            metric=metric,
            excluded_record_types=query["excluded_record_types"],
            filters=query["tag_values"],
        )
        return total_page_from_rows(rows, group_key, metric, start, end)


def account_teams(
    settings: Settings, organization: Organization | None = None
) -> tuple[dict[str, str | None], str | None]:
    """account id -> team (its Organizations tag ``settings.tags.team_key``), and a note when it could not be read
    (then nothing is attributed: untagged spend stays "untagged", never guessed)."""
    reader = organization or Organization()
    try:
        accounts = reader.accounts()
    except aws.AWS_ERRORS as error:
        return {}, f"organization accounts not read, untagged spend stays untagged: {error}"
    teams = {a.id: a.team(settings.tags.team_key) for a in accounts}
    note = f"account tags not read for {sorted(reader.tag_errors)}" if reader.tag_errors else None
    return teams, note


def cost_source(settings: Settings, organization: Organization | None = None) -> CostSource:
    """The configured source: Cost Explorer (default) or Athena (``cost_source: athena``); with
    ``organization.enabled``, the Athena source attributes untagged spend to the account's team."""
    if settings.cost_source == "athena":
        teams: dict[str, str | None] | None = None
        note = None
        if settings.organization.enabled:
            teams, note = account_teams(settings, organization)
        source = AthenaCostSource(
            settings.organization.athena,
            focus_excluded_categories=settings.anomaly.excluded_charge_categories,
            account_teams=teams,
        )
        source.attribution_note = note
        return source
    return CostExplorer()
