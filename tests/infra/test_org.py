"""Organization scale in CDK: off by default (same resources as before), on: StackSet member roles trusting only
the central item function with aws:PrincipalOrgID, the same reaper policy generator, the fan-out state machines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synth, synthesize

ORG: dict[str, Any] = {
    "enabled": True,
    "organization_id": "o-abcdefghij",
    "deployment_targets": ["ou-ab12-research1", "ou-ab12-sandbox12"],
    "member_role_name": "cw-member",
    "regions": ["us-east-1", "eu-west-1"],
    "max_concurrency": 7,
}
SNAPSHOT = Path(__file__).resolve().parents[1] / "fixtures" / "infra" / "single_account_resources.json"


@pytest.fixture(scope="module")
def org_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    context = {"costwarden": {"organization": ORG, "tags": {"team_key": "owner-team"}, "cost_source": "athena"}}
    return synthesize(tmp_path_factory.mktemp("cdk-org"), context=context)


def test_single_account_synthesizes_the_same_resources_as_before(synth: Synth) -> None:
    # The snapshot is main's single-account stack (organization.enabled defaults to false); regenerate it only for a
    # resource a single-account deployment really gains, never for an organization resource.
    resources = sorted(f"{k} {v['Type']}" for k, v in synth.template["Resources"].items())
    assert resources == json.loads(SNAPSHOT.read_text())


def _member_template(org_synth: Synth) -> dict[str, Any]:
    """The StackSet's TemplateBody parsed back; a CloudFormation token in it reads as ``TOKEN:<logical id>``."""
    (stack_set,) = org_synth.resources("AWS::CloudFormation::StackSet").values()
    body = stack_set["Properties"]["TemplateBody"]
    if isinstance(body, str):
        return json.loads(body)  # type: ignore[no-any-return]
    parts = body["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else f"TOKEN:{p['Fn::GetAtt'][0]}" for p in parts)
    return json.loads(text)  # type: ignore[no-any-return]


def test_the_stack_set_is_service_managed_and_auto_deploys_to_the_ous(org_synth: Synth) -> None:
    (stack_set,) = org_synth.resources("AWS::CloudFormation::StackSet").values()
    props = stack_set["Properties"]
    assert props["PermissionModel"] == "SERVICE_MANAGED"
    assert props["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert props["StackInstancesGroup"][0]["DeploymentTargets"]["OrganizationalUnitIds"] == ORG["deployment_targets"]
    assert props["Capabilities"] == ["CAPABILITY_NAMED_IAM"]


def test_member_roles_trust_only_the_item_function_with_principal_org_id(org_synth: Synth) -> None:
    template = _member_template(org_synth)
    item_role = [k for k in org_synth.resources("AWS::IAM::Role") if k.startswith("OrgFanoutItemFunction")]
    assert len(item_role) == 1
    roles = template["Resources"]
    assert {r["Properties"]["RoleName"] for r in roles.values()} == {"cw-member-read", "cw-member-reaper"}
    for role in roles.values():
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"AWS": [f"TOKEN:{item_role[0]}"]}  # nobody else: not the account, not *
        assert trust["Action"] == "sts:AssumeRole"
        assert trust["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}


def test_the_read_role_changes_nothing(org_synth: Synth) -> None:
    read = _member_template(org_synth)["Resources"]["ReadRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    actions = [a for s in read["Statement"] for a in s["Action"]]
    verbs = ("Describe", "List", "Get")
    assert all(a.split(":", 1)[1].startswith(verbs) for a in actions), actions
    # The idle finder's reads (metrics, prices) are in it: the fan-out's idle items run as this role.
    assert {"cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "pricing:GetProducts"} <= set(actions)


def test_the_reaper_role_carries_the_single_account_generator_s_statements(org_synth: Synth) -> None:
    from costwarden.resources.iam import policy_statements
    from costwarden.settings import parse_settings

    settings = parse_settings({"organization": ORG, "tags": {"team_key": "owner-team"}})
    expected = policy_statements(
        settings, partition="${AWS::Partition}", account="${AWS::AccountId}", regions=ORG["regions"]
    )
    reaper = _member_template(org_synth)["Resources"]["ReaperRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    got = {s["Sid"]: s for s in reaper["Statement"]}
    assert list(got) == [s["Sid"] for s in expected]
    for statement in expected:
        assert got[statement["Sid"]]["Effect"] == statement["Effect"]
        assert got[statement["Sid"]]["Action"] == statement["Action"]
        assert got[statement["Sid"]].get("Condition") == statement.get("Condition")  # tag conditions, unchanged
        listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        subbed = got[statement["Sid"]]["Resource"]
        subbed = subbed if isinstance(subbed, list) else [subbed]
        assert [r["Fn::Sub"] if isinstance(r, dict) else r for r in subbed] == listed
    assert any(s["Effect"] == "Deny" for s in expected), "the reaper generator must carry explicit denies"


def test_the_item_function_may_only_assume_the_member_roles_in_the_organization(org_synth: Synth) -> None:
    policies = [
        v for k, v in org_synth.resources("AWS::IAM::Policy").items() if k.startswith("OrgFanoutAssumeMemberRoles")
    ]
    (policy,) = policies
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}}
    resources = json.dumps(statement["Resource"])
    assert ":role/cw-member-read" in resources and ":role/cw-member-reaper" in resources


def test_the_item_function_prices_reaps_with_its_own_role_and_only_the_price_list(org_synth: Synth) -> None:
    """The reaped alert's saving in a member account is priced by the hub (list prices are public): the item
    function's role holds ``pricing:GetProducts`` on ``*`` alone, in its own policy attached to that role only."""
    (policy,) = [
        v for k, v in org_synth.resources("AWS::IAM::Policy").items() if k.startswith("OrgFanoutPriceListRead")
    ]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"]) == ("pricing:GetProducts", "*")
    (role,) = policy["Properties"]["Roles"]
    assert role["Ref"].startswith("OrgFanoutItemFunction")


def test_state_machines_use_a_distributed_map_with_bounded_concurrency_and_retries(org_synth: Synth) -> None:
    machines = org_synth.resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == 3  # reaper (two-phase), tag audit and idle finder (one phase, report-only)
    assert any("costwarden-org-idle" in json.dumps(m["Properties"]) for m in machines.values())
    for machine in machines.values():
        text = json.dumps(machine["Properties"]["DefinitionString"])
        assert '\\"Mode\\":\\"DISTRIBUTED\\"' in text
        assert '\\"MaxConcurrency\\":7' in text
        assert '\\"ThrottledError\\"' in text and '\\"BackoffRate\\":2' in text


def test_the_cost_monitor_reads_account_teams_only_with_organization_and_athena(org_synth: Synth, synth: Synth) -> None:
    def org_reads(template: Synth) -> list[str]:
        return [
            a
            for k, p in template.resources("AWS::IAM::Policy").items()
            if k.startswith("CostMonitor")
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
            if a.startswith("organizations:")
        ]

    assert sorted(org_reads(org_synth)) == ["organizations:ListAccounts", "organizations:ListTagsForResource"]
    assert org_reads(synth) == []  # single account: nothing


def _rule_targets(synth: Synth) -> list[str]:
    """The logical id each schedule starts (a function or a state machine), one entry per rule target."""
    out = []
    for rule in synth.resources("AWS::Events::Rule").values():
        for target in rule["Properties"]["Targets"]:
            arn = target["Arn"]
            out.append(arn["Fn::GetAtt"][0] if "Fn::GetAtt" in arn else arn["Ref"])
    return out


def test_organization_mode_runs_each_job_from_one_schedule(org_synth: Synth, synth: Synth) -> None:
    """Organization on: the organization machines' schedules only (the single-account ones would alert twice);
    each machine starts the single-account function for the deployment account itself, once per run."""
    jobs = {"reaper": "Reaper", "tag_audit": "TagAudit", "idle": "IdleFinder"}
    targets = _rule_targets(org_synth)
    machines = org_synth.resources("AWS::StepFunctions::StateMachine")
    for capability, construct in jobs.items():
        function = org_synth.logical_id(f"{construct}/Function/Function")
        assert function not in targets, f"{capability}: the single-account schedule still runs"
        (machine,) = [k for k, v in machines.items() if f"costwarden-org-{capability.replace('_', '-')}" in str(v)]
        assert targets.count(machine) == 1, capability
        definition = json.dumps(machines[machine]["Properties"]["DefinitionString"])
        assert '\\"OwnAccount\\"' in definition and function in definition, capability
    # Single account: each job's own schedule, exactly once.
    single = _rule_targets(synth)
    for construct in jobs.values():
        assert single.count(synth.logical_id(f"{construct}/Function/Function")) == 1, construct


def test_stack_set_call_as_follows_the_settings(org_synth: Synth, tmp_path: Path) -> None:
    (stack_set,) = org_synth.resources("AWS::CloudFormation::StackSet").values()
    assert stack_set["Properties"]["CallAs"] == "SELF"  # the default: deployed in the management account
    delegated = synthesize(tmp_path, {"costwarden": {"organization": {**ORG, "call_as": "DELEGATED_ADMIN"}}})
    (stack_set,) = delegated.resources("AWS::CloudFormation::StackSet").values()
    assert stack_set["Properties"]["CallAs"] == "DELEGATED_ADMIN"


@pytest.mark.parametrize("bad", ["delegated", "SELF ", "ADMIN", 1])
def test_call_as_refuses_anything_else_naming_the_key(bad: Any) -> None:
    from costwarden.settings import SettingsError, parse_settings

    with pytest.raises(SettingsError, match="call_as"):
        parse_settings({"organization": {**ORG, "call_as": bad}})


def _s3_grants(org_synth: Synth, role_logical_id: str) -> dict[str, list[str]]:
    """action -> the results bucket key patterns a role's inline policies grant it (``<bucket>/<pattern>``)."""
    (bucket,) = [k for k in org_synth.resources("AWS::S3::Bucket") if k.startswith("OrgFanoutResultsBucket")]
    out: dict[str, list[str]] = {}
    for policy in org_synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in (a for a in actions if a.startswith("s3:")):
                for resource in resources:
                    parts = resource["Fn::Join"][1]
                    assert parts[0] == {"Fn::GetAtt": [bucket, "Arn"]}, resource  # this bucket, nothing else
                    out.setdefault(action, []).append("".join(parts[1:]))
    return {k: sorted(v) for k, v in out.items()}


def test_the_results_bucket_is_private_encrypted_tls_only_and_expires(org_synth: Synth, synth: Synth) -> None:
    from infra.fanout import RESULTS_DAYS

    buckets = {k: v for k, v in org_synth.resources("AWS::S3::Bucket").items() if k.startswith("OrgFanoutResults")}
    ((logical_id, bucket),) = buckets.items()
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption == {"SSEAlgorithm": "AES256"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == RESULTS_DAYS and rule["Status"] == "Enabled"
    (policy,) = [
        p
        for p in org_synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": logical_id}
    ]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert not [k for k in synth.resources("AWS::S3::Bucket") if k.startswith("OrgFanout")]  # single account: none


def test_each_fan_out_principal_gets_exactly_its_results_objects(org_synth: Synth) -> None:
    def role(construct: str) -> str:
        (found,) = [k for k in org_synth.resources("AWS::IAM::Role") if k.startswith(f"OrgFanout{construct}Role")]
        return found

    runs, maps = "/org-runs/*", "/org-map-results/*"
    assert _s3_grants(org_synth, role("AccountsFunction")) == {"s3:PutObject": [runs]}
    assert _s3_grants(org_synth, role("ItemFunction")) == {}  # the member-role side touches no results
    for reader in ("AggregateFunction", "SummaryFunction"):  # the manifests and result files, their own objects
        assert _s3_grants(org_synth, role(reader)) == {"s3:GetObject": [maps, runs], "s3:PutObject": [runs]}
    for machine in ("ReaperStateMachine", "TagAuditStateMachine", "IdleStateMachine"):  # not their schedules' roles
        assert _s3_grants(org_synth, role(machine)) == {
            "s3:GetObject": [maps, runs],  # ItemReader reads the staged items; ResultWriter reads its parts back
            "s3:PutObject": [maps],
            "s3:ListMultipartUploadParts": [maps],
            "s3:AbortMultipartUpload": [maps],
        }
