"""core.owner.person_of: who a resource's person is (issue 22), strict against hostile tag values; the producers
(expiry warning, reaped, idle) carry ``details["people"]`` from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from costwarden.core.owner import PEOPLE_DETAIL, people_of, person_of, person_value
from costwarden.idle.alerts import team_alert
from costwarden.idle.model import Finding, Kind
from costwarden.reaper.alerts import expiry_warning, reaped
from costwarden.resources.model import Decision, Resource, Status, Warning
from costwarden.settings import IdleSettings, TagPolicy, parse_settings

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
POLICY = TagPolicy()
ARN = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"


@pytest.mark.parametrize(
    "value",
    [
        "<!channel>",
        "<@U024BE7LH>",
        "alice@example.com|<!here>",
        "alice @example.com",
        "alice@example",
        "u024be7lh",
        "S0614TZR7",  # a user group: not a person to message
        "vision",
        "",
        "   ",
        "x" * 250 + "@example.com",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:sts::123456789012:assumed-role/Dev/i-0abc1234",  # a session name that is no person
        "alice@example.com\nU024BE7LH",
        None,
        42,
        ["U024BE7LH"],
    ],
)
def test_a_hostile_or_unknown_value_names_nobody(value: Any) -> None:
    assert person_value(value) is None
    assert person_of({"created_by": value}, POLICY) is None


@pytest.mark.parametrize(
    ("value", "person"),
    [
        ("U024BE7LH", "U024BE7LH"),
        ("W0123ABCD", "W0123ABCD"),
        (" Alice.Smith+ml@Example.COM ", "alice.smith+ml@example.com"),
        ("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ML_0a1b/alice@example.com", "alice@example.com"),
        ("arn:aws-us-gov:sts::123456789012:assumed-role/Dev/U024BE7LH", "U024BE7LH"),
    ],
)
def test_a_slack_id_an_email_or_an_sso_session_is_a_person(value: str, person: str) -> None:
    assert person_of({"created_by": value}, POLICY) == person


def test_keys_are_read_in_order_and_configurable() -> None:
    tags = {"created_by": "ci-pipeline", "owner": "bob@example.com", "maintainer": "U0MAINT01"}
    assert person_of(tags, POLICY) == "bob@example.com"  # created_by names nobody: owner is next
    assert person_of({"created_by": "U0FIRST01", "owner": "bob@example.com"}, POLICY) == "U0FIRST01"
    custom = parse_settings({"tags": {"owner_keys": ["maintainer"]}}).tags
    assert person_of(tags, custom) == "U0MAINT01"
    assert person_of(None, POLICY) is None  # type: ignore[arg-type]


def test_people_of_groups_resources_by_person_each_once() -> None:
    pairs = [
        ({"owner": "a@example.com"}, "r1"),
        ({"owner": "A@example.com"}, "r1"),
        ({}, "r2"),
        ({"owner": "U0B0B0B0B"}, "r3"),
    ]
    assert people_of(pairs, POLICY) == {"a@example.com": ["r1"], "U0B0B0B0B": ["r3"]}


def _resource(tags: dict[str, str]) -> Resource:
    return Resource(ARN, "ec2:instance", "us-east-1", "i-0abc", tags)


def test_expiry_warning_names_the_resource_person_and_only_then() -> None:
    warning = Warning(
        _resource({"created_by": "alice@example.com"}), "nlp", "2026-12-08", NOW + timedelta(hours=15), 24, "terminate"
    )
    event = expiry_warning(warning, NOW, False, POLICY)
    assert event.details[PEOPLE_DETAIL] == {"alice@example.com": ["ec2:instance i-0abc (us-east-1)"]}
    nobody = Warning(
        _resource({"created_by": "<!channel>"}), "nlp", "2026-12-08", NOW + timedelta(hours=15), 24, "terminate"
    )
    assert PEOPLE_DETAIL not in expiry_warning(nobody, NOW, False, POLICY).details


def test_reaped_names_the_people_of_what_was_done_not_of_what_failed() -> None:
    done = Decision(
        ARN, "ec2:instance", "us-east-1", "nlp", "2026-12-01", "terminate", Status.DONE, "expired", "i-0abc"
    )
    failed_arn = ARN.replace("i-0abc", "i-0def")
    failed = Decision(
        failed_arn, "ec2:instance", "us-east-1", "nlp", "2026-12-01", "terminate", Status.FAILED, "denied", "i-0def"
    )
    tags = {ARN: {"owner": "U0ALICE01"}, failed_arn: {"owner": "U0BOB0001"}}
    event = reaped("nlp", [done, failed], "run-1", NOW, POLICY, tags=tags)
    assert event.details[PEOPLE_DETAIL] == {"U0ALICE01": ["terminate ec2:instance i-0abc (us-east-1): done"]}
    assert PEOPLE_DETAIL not in reaped("nlp", [done], "run-1", NOW, POLICY).details


def test_idle_alert_names_each_finding_person_without_changing_the_cli_shape() -> None:
    common: dict[str, Any] = {"type": "ec2:instance", "region": "us-east-1", "team": "nlp", "kind": Kind.IDLE}
    owned = Finding(
        ARN, "i-0abc", monthly_usd=70.0, evidence="CPU 1%", recommendation="stop it", person="U0ALICE01", **common
    )
    other = Finding(ARN + "x", "i-0abcx", monthly_usd=30.0, evidence="CPU 1%", recommendation="stop it", **common)
    event = team_alert("nlp", [owned, other], IdleSettings(), NOW)
    assert list(event.details[PEOPLE_DETAIL]) == ["U0ALICE01"]
    assert "i-0abc " in event.details[PEOPLE_DETAIL]["U0ALICE01"][0]
    assert "person" not in owned.to_dict()
