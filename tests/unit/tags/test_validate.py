"""The validator: every problem of a tag set at once, typos recognised, messages a person can act on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from costwarden.models.expiry import MalformedExpiry, parse_expires_at
from costwarden.settings import TagPolicy
from costwarden.tags.validate import (
    Code,
    intended_key,
    normalise_key,
    summarise,
    validate_tags,
)

from tests.support.tags import GOOD_TAGS as GOOD

POLICY = TagPolicy()


def codes(tags: dict[str, str], **kwargs: object) -> list[tuple[str, str]]:
    return [(f.code.value, f.key) for f in validate_tags(tags, POLICY, **kwargs).findings]  # type: ignore[arg-type]


def test_compliant_set_has_no_findings() -> None:
    check = validate_tags({**GOOD, "Name": "box", "aws:cloudformation:stack-name": "s"}, POLICY)
    assert check.ok
    assert check.findings == ()


def test_reports_every_problem_at_once() -> None:
    tags = {"Team": "ml", "project": "  ", "environment": "Prod", "lifecycle-phase": "trainig", "expires_at": "soon"}
    check = validate_tags(tags, POLICY)
    got = [(f.code, f.key) for f in check.findings]
    assert got == [
        (Code.KEY_TYPO, "team"),
        (Code.EMPTY, "project"),
        (Code.MISSING, "model_id"),
        (Code.VALUE_NOT_ALLOWED, "environment"),
        (Code.KEY_TYPO, "lifecycle_phase"),
        (Code.VALUE_NOT_ALLOWED, "lifecycle_phase"),
        (Code.MISSING, "cost_center"),
        (Code.MALFORMED_EXPIRES_AT, "expires_at"),
    ]
    assert not check.ok
    by_code = {(f.code, f.key): f for f in check.findings}
    assert (
        by_code[Code.KEY_TYPO, "team"].message
        == "rename tag 'Team' to 'team' (tag keys are case- and spelling-sensitive)"
    )
    assert by_code[Code.MISSING, "model_id"].message == "add tag model_id=<your model id>"
    not_allowed = by_code[Code.VALUE_NOT_ALLOWED, "environment"]
    assert "allowed: production, staging, development, experiment" in not_allowed.message
    assert not_allowed.suggestion == "production"
    assert by_code[Code.VALUE_NOT_ALLOWED, "lifecycle_phase"].suggestion == "training"
    assert by_code[Code.VALUE_NOT_ALLOWED, "lifecycle_phase"].found_key == "lifecycle-phase"


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("Team", "team"),
        ("TEAM", "team"),
        ("team ", "team"),
        (" team", "team"),
        ("lifecycle-phase", "lifecycle_phase"),
        ("lifecyclePhase", "lifecycle_phase"),
        ("LifecyclePhase", "lifecycle_phase"),
        ("Lifecycle Phase", "lifecycle_phase"),
        ("cost-center", "cost_center"),
        ("CostCenter", "cost_center"),
        ("modelId", "model_id"),
        ("enviroment", "environment"),
        ("projcet", "project"),
        ("expiresAt", "expires_at"),
    ],
)
def test_likely_typos_of_keys_are_named(written: str, meant: str) -> None:
    assert intended_key(written, (*POLICY.required, *POLICY.optional)) == meant
    tags = {k: v for k, v in GOOD.items() if k != meant}
    value = "2026-12-01" if meant == "expires_at" else GOOD.get(meant, "x")
    tags[written] = value
    check = validate_tags(tags, POLICY)
    typo = [f for f in check.findings if f.code == Code.KEY_TYPO]
    assert len(typo) == 1
    assert typo[0].key == meant and typo[0].found_key == written
    assert f"rename tag '{written}' to '{meant}'" in typo[0].message
    # The fix is the rename: the policy key is not reported missing as well.
    assert not [f for f in check.findings if f.code == Code.MISSING]


@pytest.mark.parametrize("unrelated", ["Name", "owner", "model", "env", "CreatedAt", "kubernetes.io/cluster/x"])
def test_unrelated_keys_are_not_typos(unrelated: str) -> None:
    assert intended_key(unrelated, (*POLICY.required, *POLICY.optional)) is None
    assert validate_tags({**GOOD, unrelated: "v"}, POLICY).ok


def test_duplicate_spelling_next_to_the_real_key() -> None:
    check = validate_tags({**GOOD, "Team": "other"}, POLICY)
    assert [(f.code, f.found_key) for f in check.findings] == [(Code.KEY_TYPO, "Team")]
    assert "remove tag 'Team'" in check.findings[0].message


def test_values_with_spaces_and_whitespace_only() -> None:
    check = validate_tags({**GOOD, "team": "ml ", "project": "\t"}, POLICY)
    got = {(f.code, f.key): f for f in check.findings}
    assert got[Code.VALUE_WHITESPACE, "team"].suggestion == "ml"
    assert "only whitespace" in got[Code.EMPTY, "project"].message
    assert validate_tags({**GOOD, "project": ""}, POLICY).findings[0].message.startswith("tag 'project' is empty")


def test_allowed_value_with_stray_space_is_whitespace_not_disallowed() -> None:
    check = validate_tags({**GOOD, "environment": "production "}, POLICY)
    assert [f.code for f in check.findings] == [Code.VALUE_WHITESPACE]


def test_value_nothing_like_allowed_has_no_suggestion() -> None:
    finding = validate_tags({**GOOD, "environment": "qwerty"}, POLICY).findings[0]
    assert finding.code == Code.VALUE_NOT_ALLOWED and finding.suggestion is None
    assert "did you mean" not in finding.message


def test_unresolved_values_count_as_present_and_are_not_checked() -> None:
    check = validate_tags({**GOOD, "environment": "${Env}"}, POLICY, unresolved={"environment"})
    assert check.ok
    assert [(f.code, f.key) for f in check.notes] == [(Code.UNRESOLVED_VALUE, "environment")]


def test_custom_policy_is_honoured() -> None:
    policy = TagPolicy(required=("owner",), optional=(), allowed_values={})
    assert [f.key for f in validate_tags({}, policy).findings] == ["owner"]
    assert validate_tags({"owner": "me"}, policy).ok


def test_too_long_value() -> None:
    assert Code.TOO_LONG in [f.code for f in validate_tags({**GOOD, "project": "p" * 257}, POLICY).findings]


def test_summary_names_everything() -> None:
    text = summarise(validate_tags({"team": "ml", "environment": "prod"}, POLICY))
    assert text.startswith("missing project, model_id, lifecycle_phase, cost_center; environment='prod' is not allowed")


@pytest.mark.parametrize(
    ("value", "expired_from"),
    [
        ("2026-12-01", datetime(2026, 12, 2, tzinfo=UTC)),
        ("2026-12-01T18:30:00Z", datetime(2026, 12, 1, 18, 30, tzinfo=UTC)),
        ("2026-12-01T18:30:00", datetime(2026, 12, 1, 18, 30, tzinfo=UTC)),
        ("2026-12-01T18:30:00+02:00", datetime(2026, 12, 1, 16, 30, tzinfo=UTC)),
        ("2026-12-01 18:30", datetime(2026, 12, 1, 18, 30, tzinfo=UTC)),
        ("2026-12-01t18:30z", datetime(2026, 12, 1, 18, 30, tzinfo=UTC)),
        ("2026-12-01T18:30:00+02", datetime(2026, 12, 1, 16, 30, tzinfo=UTC)),
        ("2026-12-01T18:30:00,5-0130", datetime(2026, 12, 1, 20, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_expires_at_well_formed(value: str, expired_from: datetime) -> None:
    assert parse_expires_at(value).expired_from == expired_from
    assert validate_tags({**GOOD, "expires_at": value}, POLICY).ok


@pytest.mark.parametrize(
    "value",
    ["next week", "31/12/2026", "2026-13-01", "2026-02-30", "", "2026-12-01T25:00", "20261201", "1767225600"],
)
def test_expires_at_malformed(value: str) -> None:
    with pytest.raises(MalformedExpiry):
        parse_expires_at(value)
    found = [f.code for f in validate_tags({**GOOD, "expires_at": value}, POLICY).findings]
    assert found == [Code.EMPTY] if not value else found == [Code.MALFORMED_EXPIRES_AT]


def test_normalise_key() -> None:
    assert normalise_key(" Lifecycle--Phase ") == "lifecycle_phase"
    assert normalise_key("costCenter") == "cost_center"


def test_codes_helper_shape() -> None:
    assert codes({**GOOD, "environment": "Production"}) == [("value_not_allowed", "environment")]


def test_expires_at_with_spaces_parses_but_is_reported() -> None:
    assert parse_expires_at(" 2026-12-01 ").expired_from == datetime(2026, 12, 2, tzinfo=UTC)
    found = [f.code for f in validate_tags({**GOOD, "expires_at": " 2026-12-01 "}, POLICY).findings]
    assert found == [Code.VALUE_WHITESPACE]
