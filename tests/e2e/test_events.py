"""Every sample event in ``events/`` runs with ``costwarden run`` against the stack on a local moto server.

The stack's resources (alert topic, state table, Slack secret) are created on a ``ThreadedMotoServer`` bound to
127.0.0.1 with ``costwarden.demo.stack.create_stack``; the Slack secret's webhooks point at the local Slack
stand-in. Each function gets the environment it has in Lambda (``ALERT_TOPIC_ARN``, ``STATE_TABLE_NAME``,
``SLACK_SECRET_NAME``, ``COSTWARDEN_SETTINGS``) plus ``AWS_ENDPOINT_URL`` and fake credentials. The events are
discovered, so a new ``events/<function>/*.json`` is covered without touching this file.

Cost Explorer on moto computes nothing: unless results are injected it answers every GetCostAndUsage with an empty,
valid result (no days), which is what an account without cost data looks like — the cost monitor and the tag audit
then run to the end on "no data". moto does not implement ListCostAllocationTags: the tag audit reports the
activation check as unavailable in its summary rather than failing (asserted below).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from costwarden.adapters import aws
from costwarden.cli.main import main
from costwarden.cli.run import HANDLERS
from costwarden.demo.slack_standin import SlackStandIn
from costwarden.demo.stack import DemoStack, create_stack, drain_deliveries, webhook_paths
from costwarden.models.alert import AlertEvent
from costwarden.settings import Settings, load_settings, parse_settings

pytestmark = pytest.mark.e2e

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLES = sorted(EVENTS.glob("*/*.json"))
EXPIRED = (("team", "vision"), ("environment", "experiment"), ("expires_at", "2026-01-01"))
REPORT_BUCKET = "costwarden-reports-e2e"
ARTEFACT_BUCKET = "vision-experiments-e2e"
#: What a deployed advisor with the opt-in apply would see: acting unless `costwarden run` forces the dry run.
ACTING_ADVISOR = {"storage": {"action": "apply", "dry_run": False, "apply_environments": ["experiment"]}}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, SlackStandIn, DemoStack]]:
    from moto.moto_api._internal.models import moto_api_backend
    from moto.server import ThreadedMotoServer

    # moto's server keeps its backends in this process: start from an empty account, leave none behind.
    moto_api_backend.reset()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    slack = SlackStandIn().start()
    try:
        host, port = moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"

        def client(service: str) -> Any:
            return boto3.session.Session().client(  # type: ignore[call-overload]
                service, region_name="us-east-1", endpoint_url=endpoint
            )

        stack = create_stack(client, slack.base_url, webhook_paths())
        # Something for the reaper to plan and the tag audit to judge: an expired experiment missing most tags.
        client("ec2").run_instances(
            ImageId="ami-12345678",
            MinCount=1,
            MaxCount=1,
            InstanceType="g5.xlarge",
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in EXPIRED]}],
        )
        # The monthly report's private bucket (the stack creates it in CDK; the demo stack has no use for it).
        client("s3").create_bucket(Bucket=REPORT_BUCKET)
        # An experiment artefact bucket without lifecycle rules, for the advisor to find (and not to touch).
        client("s3").create_bucket(Bucket=ARTEFACT_BUCKET)
        client("s3").put_bucket_tagging(
            Bucket=ARTEFACT_BUCKET, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in EXPIRED[:2]]}
        )
        yield endpoint, slack, stack
    finally:
        slack.stop()
        moto.stop()
        moto_api_backend.reset()


@pytest.fixture
def lambda_env(server: tuple[str, SlackStandIn, DemoStack], monkeypatch: pytest.MonkeyPatch) -> DemoStack:
    endpoint, _, stack = server
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "ALERT_TOPIC_ARN": stack.alert_topic_arn,
        "STATE_TABLE_NAME": stack.state_table_name,
        "SLACK_SECRET_NAME": stack.slack_secret_name,
        "REPORT_BUCKET_NAME": REPORT_BUCKET,
        "COSTWARDEN_SETTINGS": Settings().to_env(),
    }.items():
        monkeypatch.setenv(name, value)
    # moto answers what it does not implement with HTTP 500: retry once, not five times with real backoff sleeps.
    monkeypatch.setattr(aws, "RETRY_CONFIG", Config(retries={"mode": "standard", "max_attempts": 1}))
    notifier = sys.modules.get("costwarden.handlers.notifier")
    if notifier is not None:  # its secret and webhook caches belong to the previous endpoint
        notifier.reset_caches()
    from costwarden.handlers import notifier as notifier_handler

    # The notifier posts to Slack's hosts only; the stand-in's exact origin is allowed explicitly, in code.
    monkeypatch.setattr(notifier_handler, "webhook_allowance", server[1].allowance())
    monkeypatch.setattr(notifier_handler, "slack_api_url", server[1].api_url)
    return stack


def test_every_function_has_a_sample_event() -> None:
    assert {path.parent.name for path in SAMPLES} == set(HANDLERS)


def test_run_help_lists_every_function(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--help"])
    assert exited.value.code == 0
    usage = capsys.readouterr().out
    for function in HANDLERS:
        assert function in usage


@pytest.mark.parametrize("path", SAMPLES, ids=[f"{p.parent.name}/{p.name}" for p in SAMPLES])
def test_sample_event_runs(
    path: Path,
    lambda_env: DemoStack,
    server: tuple[str, SlackStandIn, DemoStack],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    function = path.parent.name
    _, slack, _ = server
    posted_before = len(slack.received)
    if function == "advisor":
        monkeypatch.setenv("COSTWARDEN_SETTINGS", parse_settings(ACTING_ADVISOR).to_env())
    load_settings.cache_clear()

    code = main(["run", function, "--event", str(path)])

    out, err = capsys.readouterr()
    load_settings.cache_clear()
    assert code == 0, err
    if function == "advisor":
        assert "dry run forced (no --apply)" in err
    summary = json.loads(out)  # stdout holds only the handler's return value; logs went to stderr
    assert isinstance(summary, dict) and summary
    _check(function, path, summary, slack.received[posted_before:], lambda_env)


def _check(function: str, path: Path, summary: dict[str, Any], posted: list[Any], stack: DemoStack) -> None:
    """What each function's sample event must have done, beyond exiting 0."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    published = [AlertEvent.from_json(n["Message"]) for n in drain_deliveries(sqs, stack.delivery_queue_url)]
    if function == "notifier":
        event = json.loads(path.read_text())
        sent = AlertEvent.from_json(event["Records"][0]["Sns"]["Message"])
        assert [r["dedup_key"] for r in summary["results"]] == [sent.dedup_key]
        assert posted and all(request.status == 200 for request in posted)
        assert all(sent.dedup_key in json.dumps(request.body) for request in posted)
    elif function == "cost_monitor":
        assert summary["teams"] == 0 and summary["findings"] == []  # no cost data in an empty account
        assert summary["digests_sent"] == 1
        assert [e.kind.value for e in published] == ["digest"]
        # The run is dated by the scheduled event's time, not the clock: a retried invocation judges the same day.
        scheduled = datetime.fromisoformat(json.loads(path.read_text())["time"])
        assert summary["today"] == scheduled.date().isoformat()
        assert published[0].occurred_at == scheduled
    elif function == "reaper":  # dry run, the default: the expired instance is planned, nothing is done
        assert summary["dry_run"] is True
        assert (summary["counts"]["planned"], summary["counts"]["done"], summary["counts"]["failed"]) == (1, 0, 0)
    elif function == "idle":  # report (the default): nothing is tagged; its own requests are counted
        assert summary["applied"] is False and summary["marks"] == {}
        assert summary["metric_requests"] >= 1 and summary["requests"].get("GetMetricData", 0) >= 1
        assert not [e for e in summary["errors"] if "scan failed" in e]
    elif function == "advisor":  # acting settings in the environment, but no --apply: planned, nothing put
        storage = summary["storage"]
        assert storage["summary"]["dry_run"] is True
        [finding] = [f for f in storage["findings"] if f["bucket"] == ARTEFACT_BUCKET]
        assert finding["team"] == "vision" and finding["lifecycle"] == "none"
        assert [(d["id"], d["status"]) for d in storage["decisions"]] == [(ARTEFACT_BUCKET, "planned")]
        s3 = boto3.client("s3", region_name="us-east-1")
        with pytest.raises(s3.exceptions.ClientError, match="NoSuchLifecycleConfiguration"):
            s3.get_bucket_lifecycle_configuration(Bucket=ARTEFACT_BUCKET)
        mix = summary["purchase_mix"]
        assert mix["ce_requests"] == 2 and mix["sagemaker_requests"] == 1 and not mix["errors"]
        # moto implements none of the commitment APIs (HTTP 500): reported in the summary, the run still ends.
        assert any("GetReservationUtilization" in error for error in summary["commitments"]["errors"])
    elif function == "report":  # the HTML is in the report bucket, self-contained
        event = json.loads(path.read_text())
        expected = event.get("month") or "2026-11"  # the scheduled run on the 1st reports the month just ended
        assert summary["month"] == expected and not summary["publish_errors"]
        assert summary["key"] == f"reports/{expected}/costwarden-report-{expected}.html"
        body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=REPORT_BUCKET, Key=summary["key"])
        html = body["Body"].read().decode()
        assert body["ContentType"].startswith("text/html") and html.lstrip().lower().startswith("<!doctype html")
        assert "http://" not in html and "https://" not in html
    elif function == "tag_audit":
        assert summary["resources_scanned"] >= 1 and summary["resources_with_violations"] >= 1
        assert summary["published"] == summary["events"] >= 1 and not summary["publish_errors"]
        # moto 5 does not implement ListCostAllocationTags (HTTP 500): the audit says so instead of failing.
        assert any("ListCostAllocationTags" in error for error in summary["errors"])
