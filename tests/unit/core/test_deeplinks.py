"""The Cost Explorer deep link (core.deeplinks): hostile names cannot add parameters or break a Slack link, and the
query parameters read back to exactly the team, service, dates, grouping and metric asked for."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qsl, urlsplit

import pytest
from costwarden.core.deeplinks import CE_CONSOLE, DeepLinkError, cost_explorer_url


def _params(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CE_CONSOLE
    route, _, query = parts.fragment.partition("?")
    assert route == "/cost-explorer"
    pairs = parse_qsl(query, strict_parsing=True)
    assert len(pairs) == len(dict(pairs))  # no parameter twice: nothing was smuggled in
    return dict(pairs)


def test_hostile_team_and_service_stay_inside_their_parameter() -> None:
    team, service = "ml&startDate=1999-01-01#x|y>z", "Amazon <SageMaker> & co|x"
    url = cost_explorer_url(
        start=date(2026, 11, 10), end=date(2026, 11, 19), tag_key="team", team=team, dimensions={"SERVICE": service}
    )
    assert not any(c in url for c in "<>| \"'") and url.count("#") == 1  # fit for <url|label>; one fragment
    params = _params(url)
    assert params["startDate"] == "2026-11-10"
    filters = json.loads(params["filter"])
    assert [f["values"][0]["value"] for f in filters] == [team, service]


def test_query_parameters_name_team_service_dates_grouping_and_metric() -> None:
    url = cost_explorer_url(
        start=date(2026, 11, 10),
        end=date(2026, 11, 19),
        tag_key="department",
        team="vision",
        dimensions={"SERVICE": "Amazon SageMaker", "REGION": "us-west-2"},
        metric="AmortizedCost",
    )
    params = _params(url)
    assert {k: params[k] for k in ("startDate", "endDate", "granularity", "costAggregate", "groupBy")} == {
        "startDate": "2026-11-10",
        "endDate": "2026-11-19",
        "granularity": "Daily",
        "costAggregate": "amortizedCost",
        "groupBy": '["UsageType"]',
    }
    assert json.loads(params["filter"]) == [
        {
            "dimension": {"id": "TagKey", "displayValue": "Tag"},
            "operator": "INCLUDES",
            "values": [{"value": "vision", "displayValue": "vision"}],
            "growableValue": {"value": "department", "displayValue": "department"},
        },
        {
            "dimension": {"id": "Service", "displayValue": "Service"},
            "operator": "INCLUDES",
            "values": [{"value": "Amazon SageMaker", "displayValue": "Amazon SageMaker"}],
        },
        {
            "dimension": {"id": "Region", "displayValue": "Region"},
            "operator": "INCLUDES",
            "values": [{"value": "us-west-2", "displayValue": "us-west-2"}],
        },
    ]


def test_untagged_cost_filters_on_the_empty_tag_value() -> None:
    params = _params(cost_explorer_url(start=date(2026, 1, 1), end=date(2026, 1, 1), tag_key="team", team=None))
    (tag,) = json.loads(params["filter"])
    assert tag["values"] == [{"value": "", "displayValue": "No tag key: team"}]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": date(2026, 1, 2), "end": date(2026, 1, 1)}, "end 2026-01-01 is before start 2026-01-02"),
        ({"dimensions": {"INSTANCE_TYPE": "g5.xlarge"}}, "dimension 'INSTANCE_TYPE' is not one of"),
        ({"group_by": "TAG"}, "group_by 'TAG' is not one of"),
    ],
)
def test_a_link_that_cannot_be_built_says_why(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"start": date(2026, 1, 1), "end": date(2026, 1, 2), "tag_key": "team"}
    with pytest.raises(DeepLinkError, match=message):
        cost_explorer_url(**{**arguments, "team": "vision", **kwargs})  # type: ignore[arg-type]
