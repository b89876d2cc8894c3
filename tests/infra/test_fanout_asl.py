"""The organization state machine definitions (infra/fanout_asl.py), without a synth: unique state names, child
execution types and their 5-minute budget, the deployment account's own run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.fanout_asl import (
    CHILD_EXECUTION_TYPE,
    EXPRESS_LIMIT_SECONDS,
    definition,
    worst_case_item_seconds,
)

FN = "arn:aws:lambda:eu-west-1:123456789012:function:"


def _build(capability: str, two_phase: bool, own: str | None = None) -> dict[str, Any]:
    return definition(
        capability=capability,
        accounts_arn=FN + "accounts",
        item_arn=FN + "item",
        aggregate_arn=FN + "aggregate",
        summary_arn=FN + "summary",
        max_concurrency=5,
        two_phase=two_phase,
        results_bucket="costwarden-results",
        own_account_arn=own,
    )


MACHINES = [("reaper", True), ("tag_audit", False), ("idle", False)]


def _state_names(states: dict[str, Any]) -> Iterator[str]:
    for name, state in states.items():
        yield name
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _state_names(processor["States"])
        for branch in state.get("Branches", ()):
            yield from _state_names(branch["States"])


def _maps(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in body["States"].items() if v["Type"] == "Map"}


@pytest.mark.parametrize(("capability", "two_phase"), MACHINES)
def test_state_names_are_unique_in_the_whole_machine(capability: str, two_phase: bool) -> None:
    names = list(_state_names(_build(capability, two_phase, own=FN + "own")["States"]))
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize(("capability", "two_phase"), MACHINES)
def test_express_children_fit_five_minutes_and_acting_stays_standard(capability: str, two_phase: bool) -> None:
    for name, state in _maps(_build(capability, two_phase)).items():
        phase = "plan" if name.startswith("Plan") else "act"
        processor = state["ItemProcessor"]
        execution_type = processor["ProcessorConfig"]["ExecutionType"]
        assert execution_type == CHILD_EXECUTION_TYPE[capability][phase]
        task = processor["States"][processor["StartAt"]]
        if execution_type == "EXPRESS":
            assert worst_case_item_seconds(task) < EXPRESS_LIMIT_SECONDS, name
            assert phase == "plan"  # Express runs at least once: never for the destructive phase
        # A cut or failed attempt is caught as the item's failure, so the other items go on.
        assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"]
    if two_phase:
        assert _maps(_build(capability, two_phase))["ActMap"]["ItemProcessor"]["ProcessorConfig"] == {
            "Mode": "DISTRIBUTED",
            "ExecutionType": "STANDARD",
        }


def test_worst_case_counts_every_attempt_and_backoff() -> None:
    task = {"TimeoutSeconds": 90, "Retry": [{"IntervalSeconds": 5, "BackoffRate": 2.0, "MaxAttempts": 2}]}
    assert worst_case_item_seconds(task) == 90 * 3 + 5 + 10


def test_the_deployment_account_runs_once_first_without_blocking_the_organization() -> None:
    body = _build("reaper", True, own=FN + "reaper")
    assert body["States"]["Init"]["Next"] == "OwnAccount"
    own = body["States"]["OwnAccount"]
    assert own["Parameters"]["FunctionName"] == FN + "reaper"
    assert own["Parameters"]["InvocationType"] == "Event"  # as its schedule did: asynchronous, its own DLQ
    assert own["ResultPath"] is None and own["Next"] == "ListAccounts"
    assert own["Catch"][0]["Next"] == "ListAccounts"
    without = _build("reaper", True)
    assert without["States"]["Init"]["Next"] == "ListAccounts" and "OwnAccount" not in without["States"]
