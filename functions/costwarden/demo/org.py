"""Demo chapter: organization scale. A simulated organization (moto maps assumed-role credentials to their
account): one team per account, a shared account without a team, an excluded account, an account the StackSet
has not reached yet. The fan-out runs step by step through the same handlers the Step Functions state machine
invokes: list accounts, plan every account x region, aggregate (global and per-account caps), act, summarize.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSResponse

from costwarden.adapters import aws
from costwarden.demo.env import DemoEnv
from costwarden.handlers.context import LocalContext

AMI = "ami-12345678"
ACCOUNTS: list[tuple[str, str | None, list[tuple[str, str | None]]]] = [
    # (name, account team tag, resources: list of (Name, team tag or None))
    ("ml-prod", "vision", [("vision-train-old", "vision"), ("notebook-box", None)]),
    ("research-nlp", "nlp", [("nlp-sweep-17", "nlp")]),
    ("shared-data", None, [("etl-scratch", "data"), ("orphan-gpu", None)]),
    ("sandbox-legacy", "legacy", [("legacy-box", "legacy")]),
    ("acquired-co", "acq", [("acq-box", "acq")]),
]


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


def _member_client(env: DemoEnv, account_id: str, service: str) -> Any:
    creds = env.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/demo", RoleSessionName="demo")[
        "Credentials"
    ]
    # The demo's one session (made by the STS client above): each service model is loaded once.
    return env.session.client(
        service,
        region_name=env.region,
        endpoint_url=env.endpoint_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _deny_assume_role(account_id: str) -> None:
    """AssumeRole into ``account_id`` is refused, as before the StackSet reached a newly joined account."""

    def refuse(request: Any, **_: Any) -> AWSResponse | None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        if "Action=AssumeRole" in body and f"iam%3A%3A{account_id}%3A" in body:
            xml = (
                b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no role "
                b"costwarden-member-read in this account yet</Message></Error></ErrorResponse>"
            )
            return AWSResponse(request.url, 403, {}, _Raw(xml))  # type: ignore[arg-type]
        return None

    aws.client("sts").meta.events.register("before-send.sts.AssumeRole", refuse)


def chapter(env: DemoEnv) -> None:
    from costwarden.handlers import org_accounts, org_aggregate, org_item, org_summary

    organizations = env.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    ids: dict[str, str] = {}
    expired = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    for name, team, resources in ACCOUNTS:
        account_id = organizations.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"][
            "AccountId"
        ]
        ids[name] = account_id
        if team:
            organizations.tag_resource(ResourceId=account_id, Tags=[{"Key": "team", "Value": team}])
        ec2 = _member_client(env, account_id, "ec2")
        for resource, owner in resources:
            tags = [{"Key": "Name", "Value": resource}, {"Key": "expires_at", "Value": expired}]
            if owner:
                tags.append({"Key": "team", "Value": owner})
            ec2.run_instances(
                ImageId=AMI, MinCount=1, MaxCount=1, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}]
            )
        env.say(f"  account {account_id} {name:<15} team tag: {team or '-':<8} {len(resources)} expired instance(s)")
    env.use_settings(
        {
            "reaper": {"dry_run": False, "max_actions_per_run": 10},
            "organization": {
                "enabled": True,
                "organization_id": "o-demo000000",
                "deployment_targets": ["r-demo"],
                "regions": [env.region],
                "exclude_accounts": [ids["sandbox-legacy"]],
                "max_actions_per_account": 3,
            },
        }
    )
    _deny_assume_role(ids["acquired-co"])
    env.say("  settings: global cap 10, per-account cap 3, sandbox-legacy excluded; acquired-co has no member role yet")

    def call(module: Any, event: dict[str, Any], name: str) -> Any:
        return module.handler(event, LocalContext(function_name=name))

    when = datetime.now(UTC).isoformat()
    listing = call(org_accounts, {"capability": "reaper"}, "org_accounts")
    env.say(f"\n  ListAccounts -> {len(listing['items'])} account x region item(s) for the Distributed Map")
    for account, why in sorted(listing["skipped_accounts"].items()):
        env.say(f"    skipped {account}: {why}")
    plan = [call(org_item, {"item": item, "time": when}, "org_item") for item in listing["items"]]
    aggregate = call(org_aggregate, {"plan": plan, "time": when}, "org_aggregate")
    approval = aggregate["approval"]
    env.say(
        f"  Aggregate: {approval['total_planned']} action(s) planned across the organization (cap "
        f"{approval['global_cap']}), {approval['approved_items']} item(s) approved; nothing acted before this point"
    )
    act = [call(org_item, {"item": item, "time": when}, "org_item") for item in aggregate["act_items"]]
    summary = call(
        org_summary,
        {"listing": listing, "plan": plan, "aggregate": aggregate, "act": act, "time": when},
        "org_summary",
    )
    env.say("\n  ACCOUNT       TEAM (account tag)  PLANNED  DONE  RESULT")
    names = {v: k for k, v in ids.items()}
    for account_id, entry in sorted(summary["accounts"].items(), key=lambda kv: names.get(kv[0], kv[0])):
        result = "; ".join(entry["errors"]) or "ok"
        env.say(
            f"  {account_id}  {entry['team'] or '-':<18}  {entry['planned']:>7}  {entry['done']:>4}  "
            f"{names.get(account_id, '')}: {result[:90]}"
        )
    env.say(
        "\n  Unowned instances in ml-prod went to team vision, labelled 'account default'; shared-data has no team "
        "tag, so its orphan stays unowned. The per-team alerts follow."
    )
