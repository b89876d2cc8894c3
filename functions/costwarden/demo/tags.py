"""Demo chapter: the weekly tag audit on a simulated account with compliant and non-compliant resources.

What the account holds: GPU instances and SageMaker notebooks of teams vision, nlp and recsys — one fully
compliant, one missing ``cost_center``, one whose owner wrote ``Team`` instead of ``team`` and
``lifecycle_phase=trainig``, one in another region with no team at all — and two weeks of Cost Explorer results in
which the untagged share of spend grows from 8% to 19%.

Two things moto cannot do are set up openly: Cost Explorer results are injected through moto's documented
endpoint (``/moto-api/static/ce/cost-and-usage-results``), and ``ListCostAllocationTags`` (not implemented by moto
5.2.5) is answered on the demo's Cost Explorer client with a simulated billing state in which ``team`` is active
but ``project`` and ``cost_center`` were never activated. Everything else is the production code path:
``run_audit`` + ``publish_report`` to the alert topic, delivered by SNS to the real notifier.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSResponse

from costwarden.demo.env import DemoEnv
from costwarden.demo.timeline import TAG_AUDIT_AT
from costwarden.services.tag_audit import publish_report, run_audit
from costwarden.tags.audit import NO_TEAM

COMPLIANT = {
    "team": "vision",
    "project": "detector",
    "model_id": "detr-v2",
    "environment": "experiment",
    "lifecycle_phase": "training",
    "cost_center": "cc-2001",
}
#: The simulated billing state (moto lacks ListCostAllocationTags); keys not listed were never seen by billing.
SIMULATED_ALLOCATION_TAGS = {
    "team": "Active",
    "project": "Inactive",
    "model_id": "Active",
    "environment": "Active",
    "lifecycle_phase": "Active",
}
SECOND_REGION = "eu-west-1"
DEMO_AMI = "ami-12c6146b"  # one of moto's built-in AMIs


def _tags(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in values.items()]


def _create_resources(env: DemoEnv) -> dict[str, str]:
    def instance(region: str, tags: Mapping[str, str]) -> str:
        reservation = env.client("ec2", region).run_instances(
            ImageId=DEMO_AMI,
            MinCount=1,
            MaxCount=1,
            InstanceType="g5.xlarge",
            TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(tags)}],
        )
        return str(reservation["Instances"][0]["InstanceId"])

    created = {
        instance(env.region, COMPLIANT): "compliant",
        instance(env.region, {**COMPLIANT, "team": "nlp", "cost_center": ""}): "team nlp, cost_center empty",
        instance(SECOND_REGION, {"project": "scratch", "environment": "dev"}): f"no team, in {SECOND_REGION}",
    }
    sagemaker = env.client("sagemaker")
    notebooks = {
        "recsys-explore": {
            **{k: v for k, v in COMPLIANT.items() if k != "team"},
            "Team": "recsys",
            "lifecycle_phase": "trainig",
        },
        "vision-labelling": COMPLIANT,
    }
    for name, tags in notebooks.items():
        sagemaker.create_notebook_instance(
            NotebookInstanceName=name,
            InstanceType="ml.t3.medium",
            RoleArn=f"arn:aws:iam::{env.account_id or '123456789012'}:role/sagemaker",
            Tags=_tags(tags),
        )
    created["notebook recsys-explore"] = "'Team' instead of 'team', lifecycle_phase=trainig"
    created["notebook vision-labelling"] = "compliant"
    return created


def _inject_cost(env: DemoEnv, now: datetime, days: int) -> None:
    """Two windows of daily spend by team: the untagged part grows from 8% to 19%."""
    end = now.date()
    results = []
    previous = {"vision": 52.0, "nlp": 30.0, "recsys": 10.0, "": 8.0}
    current = {"vision": 48.0, "nlp": 25.0, "recsys": 8.0, "": 19.0}
    for offset in range(2 * days, 0, -1):
        day = end - timedelta(days=offset)
        groups = previous if offset > days else current
        results.append(
            {
                "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [
                    {"Keys": [f"team${team}"], "Metrics": {"AmortizedCost": {"Amount": f"{amount:.4f}", "Unit": "USD"}}}
                    for team, amount in groups.items()
                ],
                "Estimated": offset == 1,
            }
        )
    body = json.dumps({"results": [{"ResultsByTime": results, "GroupDefinitions": [{"Type": "TAG", "Key": "team"}]}]})
    request = urllib.request.Request(  # noqa: S310 - the local moto server on 127.0.0.1 only
        f"{env.endpoint_url}/moto-api/static/ce/cost-and-usage-results",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - as above
        response.read()


def _simulate_allocation_tags(ce: Any) -> None:
    """Answer ListCostAllocationTags on this client only (moto does not implement it)."""

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        asked = json.loads(params.get("body") or b"{}").get("TagKeys", [])
        tags = [
            {"TagKey": key, "Type": "UserDefined", "Status": SIMULATED_ALLOCATION_TAGS[key]}
            for key in asked
            if key in SIMULATED_ALLOCATION_TAGS
        ]
        return AWSResponse("https://simulated.invalid", 200, {}, None), {"CostAllocationTags": tags}  # type: ignore[arg-type]

    ce.meta.events.register("before-call.cost-explorer.ListCostAllocationTags", answer)


def chapter(env: DemoEnv) -> None:
    settings = env.use_settings({"reaper": {"regions": [env.region, SECOND_REGION]}})
    now = TAG_AUDIT_AT
    env.say(
        f"Simulated, {now:%Y-%m-%d %H:%M} UTC: five resources in two regions, some with broken tags, and two weeks of "
        "spend by team tag. The tag audit lists every resource's tags against the policy, tells each team what to "
        "fix, measures how much spend nobody owns and checks that the cost allocation tags are active in Billing."
    )
    env.say(
        "In your account it runs weekly (Mondays 07:00 UTC); its messages go to each team's channel and the "
        "account summary to the default channel."
    )
    env.say("")
    created = _create_resources(env)
    env.say(f"  The account: {len(created)} resources in {env.region} and {SECOND_REGION}:")
    for resource, label in created.items():
        env.say(f"    {resource:<26} {label}")
    _inject_cost(env, now, settings.tags.audit_window_days)
    ce = env.client("ce", "us-east-1")
    _simulate_allocation_tags(ce)
    env.say("  (Cost Explorer results injected into moto; ListCostAllocationTags answered with a simulated state:")
    states = ", ".join(f"{key} {state}" for key, state in SIMULATED_ALLOCATION_TAGS.items())
    env.say(f"   {states} - moto 5.2.5 does not implement it)")
    env.say("")

    report = run_audit(settings, now=now, client_factory=env.client, ce=ce)
    publish_report(report, env.alert_topic_arn, env.client("sns"))

    summary = report.summary()
    env.say(
        f"  Tag audit: {summary['resources_scanned']} tagged resources scanned in {', '.join(summary['regions'])}; "
        f"{summary['resources_with_violations']} break the policy."
    )
    share = report.facts.share
    env.say(f"  {share.describe(settings.tags.team_key) if share else 'untagged spend not measured'}")
    # What each message says in full is shown below as Slack received it.
    for event in report.events:
        label = "account summary (no team)" if event.team == NO_TEAM else f"team {event.team}"
        env.say(f"  [{event.severity.value}] {label}: {event.title}")
    env.say(f"  Published {summary['published']} tag_violation digest(s) to the alert topic.")
    if report.publish_errors:
        raise RuntimeError(f"publishing failed: {report.publish_errors}")
