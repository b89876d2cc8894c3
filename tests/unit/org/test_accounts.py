"""Account selection and attribution: pure rules, non-default tag keys."""

from __future__ import annotations

import pytest
from costwarden.models.org import Account
from costwarden.org.accounts import parse_account_list, regions_for, select_accounts
from costwarden.org.attribution import ACCOUNT_DEFAULT, attribute, attribute_rows
from costwarden.settings import OrganizationSettings, Settings, SettingsError, parse_settings

ROOT = "r-ab12"
OU_RESEARCH = "ou-ab12-research1"
OU_SANDBOX = "ou-ab12-sandbox12"  # child of research

ACCOUNTS = [
    Account("111111111111", "prod", parents=(ROOT,), tags={"squad": "platform"}),
    Account("222222222222", "research", parents=(OU_RESEARCH, ROOT), tags={"squad": "vision"}),
    Account("333333333333", "sandbox", parents=(OU_SANDBOX, OU_RESEARCH, ROOT)),
    Account("444444444444", "closed", status="SUSPENDED", parents=(OU_RESEARCH, ROOT)),
]


def test_all_selects_active_accounts_and_says_why_others_are_not() -> None:
    selection = select_accounts(ACCOUNTS, OrganizationSettings())
    assert [a.id for a in selection.selected] == ["111111111111", "222222222222", "333333333333"]
    assert selection.skipped == {"444444444444": "status SUSPENDED: not guarded"}


def test_an_ou_selects_its_accounts_and_those_of_child_ous() -> None:
    selection = select_accounts(ACCOUNTS, OrganizationSettings(accounts=(OU_RESEARCH,)))
    assert [a.id for a in selection.selected] == ["222222222222", "333333333333"]
    assert selection.skipped["111111111111"] == "not in organization.accounts"


def test_excluded_accounts_win_over_any_selection() -> None:
    org = OrganizationSettings(accounts=("222222222222", OU_SANDBOX), exclude_accounts=("333333333333",))
    selection = select_accounts(ACCOUNTS, org)
    assert [a.id for a in selection.selected] == ["222222222222"]
    assert selection.skipped["333333333333"].startswith("excluded")


def test_configured_ids_the_organization_does_not_have_are_reported() -> None:
    selection = select_accounts(ACCOUNTS, OrganizationSettings(accounts=("999999999999", "ou-ab12-gone0000")))
    assert selection.selected == []
    assert selection.unknown == ["999999999999", "ou-ab12-gone0000"]


def test_account_team_reads_the_configured_tag_key() -> None:
    assert ACCOUNTS[1].team("squad") == "vision"
    assert ACCOUNTS[1].team("team") is None


@pytest.mark.parametrize(
    ("tagged", "account_team", "expected"),
    [
        ("nlp", "vision", ("nlp", "tag")),
        ("", "vision", ("vision", ACCOUNT_DEFAULT)),
        ("unowned", "vision", ("vision", ACCOUNT_DEFAULT)),
        (None, None, ("unowned", "none")),
    ],
)
def test_attribution_prefers_the_tag_then_the_account_team(
    tagged: str | None, account_team: str | None, expected: tuple[str, str]
) -> None:
    assert attribute(tagged, account_team, unowned="unowned") == expected


def test_attribute_rows_labels_account_default() -> None:
    rows: list[dict[str, object]] = [
        {"account_id": "333333333333", "team": None},
        {"account_id": "222222222222", "team": "(untagged)"},
    ]
    out = attribute_rows(rows, {"222222222222": "vision"}, team_field="team", unowned="(untagged)")
    assert out == [
        {"account_id": "333333333333", "team": "(untagged)", "attribution": "none"},
        {"account_id": "222222222222", "team": "vision", "attribution": ACCOUNT_DEFAULT},
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"accounts": "some"}, "accounts must be 'all'"),
        ({"accounts": ["12345"]}, "not a 12-digit account id"),
        ({"accounts": []}, "must not be an empty list"),
        ({"exclude_accounts": ["ou-ab12-abcdefgh"]}, "not a 12-digit account id"),
        ({"enabled": True, "deployment_targets": ["r-ab12"]}, "organization_id is required"),
        ({"enabled": True, "organization_id": "o-abcdefghij"}, "deployment_targets must name"),
        ({"member_role_name": "bad name"}, "member_role_name"),
        ({"athena": {"table": "x; DROP TABLE y"}}, "athena.table"),
    ],
)
def test_bad_organization_settings_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_settings({"organization": raw})


def test_cost_source_is_validated() -> None:
    with pytest.raises(SettingsError, match="cost_source"):
        parse_settings({"cost_source": "bigquery"})
    assert parse_settings({"cost_source": "athena"}).cost_source == "athena"


def test_parse_account_list() -> None:
    assert parse_account_list("all") is None
    assert parse_account_list(" 111111111111, 222222222222,111111111111 ") == ["111111111111", "222222222222"]
    with pytest.raises(ValueError, match="not a 12-digit account id: 12, abc"):
        parse_account_list("12,abc")
    with pytest.raises(ValueError, match="needs 'all'"):
        parse_account_list(" , ")


def test_regions_prefer_organization_then_reaper_then_default() -> None:
    settings = Settings.model_validate({"reaper": {"regions": ["eu-west-1"]}})
    assert regions_for(settings, "us-east-1") == ["eu-west-1"]
    settings = Settings.model_validate(
        {"reaper": {"regions": ["eu-west-1"]}, "organization": {"regions": ["us-west-2"]}}
    )
    assert regions_for(settings, "us-east-1") == ["us-west-2"]
    assert regions_for(Settings(), "ap-south-1") == ["ap-south-1"]
