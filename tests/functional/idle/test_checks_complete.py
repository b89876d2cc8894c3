"""The idle-check registry is complete: every check declares IAM, a known price lookup, a judgement and a suggested
command, and has a fixture here that the scan turns into one of its findings (IAM in the synthesized role:
tests/infra/test_idle_checks.py). A new check without a fixture below fails ``test_every_check_has_a_fixture``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from costwarden.adapters import aws
from costwarden.adapters.pricing import SERVICES
from costwarden.idle.checks import CHECKS, IdleCheck
from costwarden.idle.checks.base import STORAGE
from costwarden.resources import REGISTRY
from costwarden.resources.model import Resource
from moto import mock_aws

from tests.functional.idle.idle_env import IdleAccount, constant
from tests.functional.idle.test_capacity_reservations import reserve, used

DEV = {"environment": "development", "team": "nlp"}


def _instance(acc: IdleAccount) -> str:
    box = acc.box("m5.xlarge", **DEV)
    acc.cpu(box, constant(1.0))
    return box


def _emr(acc: IdleAccount) -> str:
    cluster = acc.emr_cluster("etl", **DEV)
    acc.is_idle(cluster, 1.0)
    return cluster


def _endpoint(acc: IdleAccount) -> str:
    acc.gpu_endpoint("ep-idle", **DEV)
    return "ep-idle"


def _notebook(acc: IdleAccount) -> str:
    acc.notebook("nb-scratch", **DEV)
    return "nb-scratch"


def _stopped(acc: IdleAccount) -> str:
    box = acc.box("m5.large", **DEV)
    acc.client("ec2").stop_instances(InstanceIds=[box])
    return box


def _volume(acc: IdleAccount) -> str:
    return acc.volume(**DEV)


def _reservation(acc: IdleAccount) -> str:
    reservation = reserve(acc, "m5.large", 1, **DEV)
    used(acc, reservation, 0.0)
    return reservation


#: Per check name: builds one idle resource of that check in the account, returns the finding's id.
FIXTURES: dict[str, Callable[[IdleAccount], str]] = {
    "ec2-instance": _instance,
    "emr-cluster": _emr,
    "sagemaker-endpoint": _endpoint,
    "sagemaker-notebook": _notebook,
    "ec2-stopped-instance": _stopped,
    "ebs-volume": _volume,
    "ec2-capacity-reservation": _reservation,
}


def _overrides(check: IdleCheck, method: str) -> bool:
    return getattr(type(check), method) is not getattr(IdleCheck, method)


def test_every_check_has_a_fixture() -> None:
    assert sorted(FIXTURES) == sorted(c.name for c in CHECKS)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_every_check_declares_iam_a_price_a_judge_and_a_command(check: IdleCheck) -> None:
    assert check.types and check.kinds
    assert check.reads or check.inventory, "no IAM declared"
    assert set(check.inventory) <= set(REGISTRY)
    assert check.inventory or check.listing is not None, "it lists nothing"
    if check.listing is not None:
        action = "".join(word.title() for word in check.listing.operation.split("_"))
        assert f"{check.listing.service}:{action}" in check.reads
    assert check.prices and set(check.prices) <= {*SERVICES, STORAGE}
    assert _overrides(check, "judge") and _overrides(check, "suggest") and _overrides(check, "price")
    assert _overrides(check, "candidates") or _overrides(check, "prepare")
    for rtype in check.types:
        resource = Resource(
            arn="arn:aws:test:us-east-1:123456789012:x/r-1",
            type=rtype,
            region="us-east-1",
            id="r-1",
            tags={},
            key="c/g",
        )
        for kind in check.kinds:
            text, commands = check.suggest(resource, kind)
            assert text, (rtype, kind)
            assert all(c.startswith("aws ") and "--region us-east-1" in c for c in commands), (rtype, kind)
        assert any(check.suggest(resource, kind)[1] for kind in check.kinds), f"{rtype}: no suggested command"


@pytest.fixture(scope="module")
def fixtures_scanned() -> Iterator[tuple[dict[str, str], Any]]:
    with mock_aws():
        aws.client.cache_clear()
        acc = IdleAccount()
        ids = {name: build(acc) for name, build in FIXTURES.items()}
        yield ids, acc.idle(publish=False)
        aws.client.cache_clear()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_every_fixture_becomes_a_finding_of_its_check(
    check: IdleCheck, fixtures_scanned: tuple[dict[str, str], Any]
) -> None:
    ids, run = fixtures_scanned
    [finding] = [f for f in run.findings if f.id == ids[check.name]]
    assert finding.kind in check.kinds and finding.type in check.types
    assert finding.monthly_usd is not None, finding.price_note
    resource = next(r for r in run.scan.resources if r.arn == finding.arn)
    suggested = check.suggest(
        resource, finding.kind, **({"auto_termination": None} if check.name == "emr-cluster" else {})
    )
    assert list(finding.commands[:-1]) == suggested[1]
    assert finding.recommendation.startswith(suggested[0])
