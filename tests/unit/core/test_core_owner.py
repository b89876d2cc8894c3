"""core.owner: the configured team key only, for a resource's team and for the operator team."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.core.owner import DEFAULT_OPERATOR_TEAM, UNOWNED_TEAM, operator_team, tag_team, team_of
from costwarden.settings import parse_settings

OWNER = parse_settings({"tags": {"team_key": "owner"}})


@pytest.mark.parametrize(
    ("tags", "team"),
    [
        ({"owner": "vision"}, "vision"),
        ({"owner": "  vision "}, "vision"),
        ({"owner": ""}, UNOWNED_TEAM),
        ({"owner": "   "}, UNOWNED_TEAM),
        ({"team": "vision"}, UNOWNED_TEAM),  # the literal "team" key is not the configured key
        ({}, UNOWNED_TEAM),
        ({"owner": 7}, "7"),
    ],
)
def test_team_of_reads_the_configured_key(tags: dict[str, Any], team: str) -> None:
    assert team_of(tags, OWNER.tags) == team


def test_tag_team_of_hostile_tags() -> None:
    assert tag_team(None, "team") is None  # type: ignore[arg-type]
    assert tag_team(["team"], "team") is None  # type: ignore[arg-type]
    assert tag_team({"team": None}, "team") is None
    assert team_of({}, OWNER.tags, unowned="no team") == "no team"


def test_operator_team_honours_a_non_default_team_key() -> None:
    settings = parse_settings({"tags": {"team_key": "owner"}, "stack_tags": {"owner": "mlops", "team": "platform"}})
    assert operator_team(settings) == "mlops"
    assert operator_team(parse_settings({})) == "platform"
    fallback = parse_settings({"tags": {"team_key": "owner"}, "stack_tags": {"team": "vision"}})
    assert operator_team(fallback) == DEFAULT_OPERATOR_TEAM
    blank = parse_settings({"stack_tags": {"team": "  "}})
    assert operator_team(blank) == DEFAULT_OPERATOR_TEAM
