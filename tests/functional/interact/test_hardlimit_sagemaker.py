"""The hard limit stops SageMaker (issue 23 item 4): notebooks (``StopNotebookInstance``), training jobs
(``StopTrainingJob``) and processing jobs (``StopProcessingJob``) of the team's development/experiment resources,
through the one action path; endpoints cannot be stopped: by default the reply and the audit say what it would
delete and they keep serving, with ``budgets.hard_limit_endpoints: delete`` they are deleted.

moto serves everything but ``StopTrainingJob`` (not implemented in moto 5): the training-job test serves the
SageMaker client by botocore's Stubber, with moto's own ``ListTrainingJobs`` answer and the real (empty) stop shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from costwarden.adapters import aws
from costwarden.settings import load_settings

from tests.functional.interact.world import SETTINGS, World
from tests.functional.reaper.reaper_env import Account

NLP_EXPERIMENT = {"team": "nlp", "environment": "experiment"}


def _enforce(world: World) -> str:
    world.press({"a": "enforce", "t": "nlp", "c": "ml-nlp", "r": "nlp|"}, user="U0ONCALL1")
    return str(world.replies()[-1]["text"])


def _hard_limit_audit(world: World) -> dict[str, dict[str, Any]]:
    """The one action path's records of the hard limit's runs today, by resource id."""
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    items = world.state.query(f"audit#{today}", "")
    return {str(i["id"]): i for i in items if "-hard-limit-" in str(i.get("run_id", ""))}


def _settings(monkeypatch: pytest.MonkeyPatch, **budgets: Any) -> None:
    changed = {**SETTINGS, "budgets": {**SETTINGS["budgets"], **budgets}}
    monkeypatch.setenv("COSTWARDEN_SETTINGS", json.dumps(changed))
    load_settings.cache_clear()


def test_enforce_stops_notebooks_and_processing_jobs_and_only_names_the_endpoint(world: World) -> None:
    account = Account()
    account.notebook("nb-nlp", **NLP_EXPERIMENT)
    account.notebook("nb-prod", team="nlp", environment="production")
    account.notebook("nb-vision", team="vision", environment="experiment")
    account.job("processing", "prep-nlp", **NLP_EXPERIMENT)
    account.endpoint("serve-nlp", team="nlp", environment="development")

    reply = _enforce(world)

    assert account.notebook_status("nb-nlp") == "Stopped"
    assert account.notebook_status("nb-prod") == "InService"  # production: never
    assert account.notebook_status("nb-vision") == "InService"  # another team's
    assert account.job_status("processing", "prep-nlp") == "Stopped"
    assert account.endpoints() == ["serve-nlp"]  # still serving: hard_limit_endpoints is off
    assert "0 instance(s) stopped, 1 notebook(s) stopped, 1 processing job(s) stopped" in reply
    assert "1 endpoint(s) still serving" in reply and "would delete serve-nlp" in reply
    audit = _hard_limit_audit(world)
    assert (audit["nb-nlp"]["status"], audit["nb-nlp"]["action"]) == ("done", "stop")
    assert audit["prep-nlp"]["status"] == "done"
    assert audit["nb-prod"]["status"] == "skipped" and "production" in audit["nb-prod"]["reason"]
    endpoint = audit["serve-nlp"]
    assert (endpoint["status"], endpoint["action"], endpoint["dry_run"]) == ("planned", "delete", True)
    assert "budgets.hard_limit_endpoints is off" in endpoint["reason"]
    [interaction] = world.audit()
    assert interaction["after"]["endpoints"].startswith("1 endpoint(s) still serving")


def test_endpoints_are_deleted_only_when_the_setting_says_delete(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _settings(monkeypatch, hard_limit_endpoints="delete")
    account = Account()
    account.endpoint("serve-nlp", team="nlp", environment="experiment")
    account.endpoint("serve-prod", team="nlp", environment="production")
    reply = _enforce(world)
    assert account.endpoints() == ["serve-prod"]
    assert "1 endpoint(s) deleted" in reply
    audit = _hard_limit_audit(world)
    assert (audit["serve-nlp"]["status"], audit["serve-nlp"]["dry_run"]) == ("done", False)
    assert audit["serve-prod"]["status"] == "skipped"


@pytest.fixture
def stubbed_sagemaker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The hard-limit role's SageMaker client served by a Stubber; every other service of that role: moto."""
    client = boto3.client("sagemaker", region_name="us-east-1")
    original = aws.assumed_clients

    def assumed(role_arn: str, *args: Any, **kwargs: Any) -> Any:
        factory = original(role_arn, *args, **kwargs)
        return lambda service, region: client if service == "sagemaker" else factory(service, region)

    monkeypatch.setattr(aws, "assumed_clients", assumed)
    with Stubber(client) as stubber:
        yield stubber


def test_enforce_stops_a_training_job(world: World, stubbed_sagemaker: Stubber) -> None:
    Account().job("training", "train-nlp", **NLP_EXPERIMENT)
    listed = boto3.client("sagemaker", "us-east-1").list_training_jobs(StatusEquals="InProgress", MaxResults=100)
    listed.pop("ResponseMetadata")
    assert [j["TrainingJobName"] for j in listed["TrainingJobSummaries"]] == ["train-nlp"]
    stubbed_sagemaker.add_response("list_training_jobs", listed, {"StatusEquals": "InProgress", "MaxResults": 100})
    stubbed_sagemaker.add_response("stop_training_job", {}, {"TrainingJobName": "train-nlp"})
    reply = _enforce(world)
    stubbed_sagemaker.assert_no_pending_responses()
    assert "1 training job(s) stopped" in reply
    assert _hard_limit_audit(world)["train-nlp"]["status"] == "done"
