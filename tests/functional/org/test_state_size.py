"""The fan-out's state at the documented organization scale: 200 accounts x 4 regions = 800 items, on the deployed
definition (moto executing it, ItemReader and ResultWriter on the results bucket).

Each item returns the largest output the product allows, made by the real item handler in a member account (the
reaper's full sample of planned actions; the idle finder's full set of findings) and replayed for every item with
that item's account, region and names. Every state the parent execution passes on (read from its history, as Step
Functions measures it: the JSON text, 256 KiB at most) must fit; the inline shape of the earlier definition (the
Map's collected outputs plus the listing's items in the state) is measured from the same outputs and must not.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from costwarden.handlers import org_item
from costwarden.handlers.context import LocalContext
from costwarden.org.aggregate import SAMPLE_ACTIONS
from costwarden.org.items import WorkItem
from costwarden.services.org import IDLE_ITEM_FINDINGS

from . import conftest
from .conftest import EXPIRED, Org, configure, create_state_table, state_machine

STATE_LIMIT_BYTES = 256 * 1024
ACCOUNTS = 200
REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
REPLAY_MODULE = "tests_org_replay_item"


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def _largest_output(org: Org, capability: str) -> dict[str, Any]:
    """The real item handler's output for one member account holding more than the product reports by name."""
    vision = org.accounts["vision"]
    if capability == "reaper":
        for team in ("ml-vision-research-platform", "ml-speech-foundation-models"):
            org.instances(vision, n=SAMPLE_ACTIONS + 2, expires_at=EXPIRED, team=team)
    else:
        for n in range(IDLE_ITEM_FINDINGS + 2):
            org.old_volume(vision, 100 + n, team="ml-vision-research-platform", project="sandbox-gpu-training")
    item = WorkItem(capability, vision, "vision", "us-east-1", "costwarden-member-read", "vision").to_dict()
    event = {"item": item, "time": datetime.now(UTC).isoformat()}
    output = org_item.handler(event, LocalContext("org-item"))  # type: ignore[arg-type]
    assert output["ok"] is True, output
    if capability == "reaper":
        assert len(output["sample"]) == SAMPLE_ACTIONS and output["planned_actions"] == 2 * (SAMPLE_ACTIONS + 2)
    else:
        assert len(output["findings"]) == IDLE_ITEM_FINDINGS and output["findings_left_off"] == 2
    return output


def _replayed(output: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """``output`` as the item's own: its account, names, region and phase (one planned action each for the reaper,
    so that the global cap approves all 800 and the act phase runs every item too)."""
    names = {k: item[k] for k in ("account_id", "account_name", "account_team", "region", "phase")}
    replay = {**output, **names}
    if "findings" in output:
        replay["findings"] = [
            {**f, "account": item["account_id"], "region": item["region"]} for f in output["findings"]
        ]
    if item["capability"] == "reaper":
        replay["planned_actions"] = 1
    return replay


@pytest.fixture
def replay_items(org: Org, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, dict[str, Any]]]:
    """The state machine's item function answered by a replay of ``outputs[capability]``."""
    outputs: dict[str, dict[str, Any]] = {}
    module = types.ModuleType(REPLAY_MODULE)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return _replayed(outputs[event["item"]["capability"]], event["item"])

    module.handler = handler  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, REPLAY_MODULE, module)
    monkeypatch.setitem(conftest.HANDLERS, "org-item", REPLAY_MODULE)
    yield outputs


def _organization(org: Org) -> None:
    organizations = boto3.client("organizations", region_name="us-east-1")
    for n in range(ACCOUNTS):
        name = f"ml-research-experiments-sandbox-account-{n:03d}"
        account_id = organizations.create_account(Email=f"sandbox-{n}@example.com", AccountName=name)[
            "CreateAccountStatus"
        ]["AccountId"]
        organizations.tag_resource(ResourceId=account_id, Tags=[{"Key": "team", "Value": f"ml-team-{n % 40:02d}"}])


def _states(execution_arn: str) -> dict[str, list[Any]]:
    """state name -> every input it was given and output it handed on, from the parent execution's history."""
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    out: dict[str, list[Any]] = {}
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        for event in page["events"]:
            for field in ("stateEnteredEventDetails", "stateExitedEventDetails"):
                details = event.get(field)
                if details:
                    text = details.get("input", details.get("output"))
                    out.setdefault(details["name"], []).append(json.loads(text))
    return out


@pytest.mark.parametrize("capability", ["reaper", "idle"])
def test_800_items_keep_every_state_under_256_kib(
    org: Org, monkeypatch: pytest.MonkeyPatch, replay_items: dict[str, dict[str, Any]], capability: str
) -> None:
    create_state_table(monkeypatch)
    fixture_accounts = list(org.accounts.values())
    settings: dict[str, Any] = {
        "reaper": {"dry_run": False, "max_actions_per_run": 1000},
        "organization": {
            **{"organization_id": "o-abcdefghij", "deployment_targets": ["r-ab12"], "regions": REGIONS},
            "enabled": True,
            "max_actions_per_account": 1000,
        },
    }
    configure(monkeypatch, **settings)
    largest = replay_items[capability] = _largest_output(org, capability)
    _organization(org)
    configure(
        monkeypatch, **{**settings, "organization": {**settings["organization"], "exclude_accounts": fixture_accounts}}
    )

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = state_machine(org, capability=capability, two_phase=capability == "reaper", max_concurrency=40)
    summary = org.run(machine, timeout=600)
    (execution,) = sfn.list_executions(stateMachineArn=machine)["executions"]
    states = _states(execution["executionArn"])

    # The run is the whole organization, aggregated from the results bucket as the inline Map did.
    assert summary["items"] == ACCOUNTS * len(REGIONS) and summary["failed_accounts"] == []
    assert len(summary["accounts"]) == ACCOUNTS
    if capability == "reaper":
        assert summary["approved_items"] == ACCOUNTS * len(REGIONS) and not summary["blocked_globally"]
        assert "ActMap" in states
    else:
        assert sum(summary["idle"]["teams"].values()) == ACCOUNTS * len(REGIONS) * IDLE_ITEM_FINDINGS
    sizes = {name: max(_size(v) for v in values) for name, values in states.items()}
    assert max(sizes.values()) < STATE_LIMIT_BYTES, sizes
    plan_handed_on = states["PlanMap"][-1]
    assert plan_handed_on["plan"]["ResultWriterDetails"]["Key"].endswith("/manifest.json")

    # The earlier shape: the listing's items and every item's output in the state the Map hands on.
    items = json.loads(
        boto3.client("s3")
        .get_object(Bucket=conftest.RESULTS_BUCKET, Key=plan_handed_on["listing"]["items_key"])["Body"]
        .read()
    )
    assert len(items) == ACCOUNTS * len(REGIONS)
    inline = {
        "aggregate": {},
        "act": [],
        "listing": {"items": items, "capability": capability, "skipped_accounts": {}},
        "plan": [_replayed(largest, i) for i in items],
    }
    assert _size(inline) > STATE_LIMIT_BYTES, _size(inline)
