"""Work items cross Step Functions as JSON: parsed back with errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.models.org import Account
from costwarden.org.items import ItemError, parse_item, plan_items

CAPS = ("reaper", "tag_audit")


def test_items_are_accounts_times_regions_with_the_account_team() -> None:
    accounts = [Account("111111111111", "a", tags={"squad": "vision"}), Account("222222222222", "b")]
    items = plan_items("reaper", accounts, ["us-east-1", "eu-west-1"], "costwarden-member-read", "squad")
    assert [(i.account_id, i.region, i.account_team) for i in items] == [
        ("111111111111", "us-east-1", "vision"),
        ("111111111111", "eu-west-1", "vision"),
        ("222222222222", "us-east-1", None),
        ("222222222222", "eu-west-1", None),
    ]
    assert parse_item(items[0].to_dict(), CAPS) == items[0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"account_id": "1234"}, "'account_id' is malformed"),
        ({"region": "mars-1"}, "'region' is malformed"),
        ({"capability": "rm -rf"}, "'capability' must be one of"),
        ({"phase": "destroy"}, "'phase' must be one of"),
        ({"approved_actions": True}, "'approved_actions' must be a count"),
        ({"approved_actions": -1}, "'approved_actions' must be a count"),
        ({"role_name": "a/b c"}, "'role_name' is malformed"),
        ({"account_team": 5}, "'account_team' must be a string"),
    ],
)
def test_bad_items_name_the_field(change: dict[str, Any], message: str) -> None:
    raw = {"capability": "reaper", "account_id": "111111111111", "region": "us-east-1", "role_name": "r", **change}
    with pytest.raises(ItemError, match=message):
        parse_item(raw, CAPS)


def test_not_an_object() -> None:
    with pytest.raises(ItemError, match="must be an object, got list"):
        parse_item([], CAPS)
