"""Member roles in every account of the chosen OUs, deployed by a service-managed CloudFormation StackSet with
auto-deployment (an account joining the OU gets them; one leaving loses them).

Two roles per member account:

* ``<member_role_name>-read``: what planning and the tag audit read (the reaper's read-only actions, the tagging
  API, Cost Explorer) — nothing that changes a resource;
* ``<member_role_name>-reaper``: exactly the single-account reaper's policy, from the same generator
  (``costwarden.resources.iam.policy_statements``): destructive actions only on resources carrying ``expires_at``
  and not ``costwarden:protect=true``, with the explicit denies.

Both trust only the central item function's role ARN, and only with ``aws:PrincipalOrgID`` of this organization.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnStackSet, Stack
from constructs import Construct
from costwarden.idle.iam import read_actions as idle_read_actions
from costwarden.org.accounts import read_role_name, reaper_role_name
from costwarden.resources.iam import policy_statements, read_actions
from costwarden.settings import Settings

from infra.function import CoreResources
from infra.tag_audit import STAR_ONLY_ACTIONS

#: CloudFormation pseudo parameters, resolved in each member account by the StackSet instance.
MEMBER_ACCOUNT = "${AWS::AccountId}"
MEMBER_PARTITION = "${AWS::Partition}"
#: cfn-lint's "embedded parameter outside of an Fn::Sub": a false positive inside a StackSet's TemplateBody.
CFN_LINT_EMBEDDED_SUB = "E1029"


def _sub(statement: dict[str, Any]) -> dict[str, Any]:
    """Resources holding pseudo parameters become ``Fn::Sub`` (resolved per member account)."""
    resources = statement["Resource"]
    listed = [resources] if isinstance(resources, str) else list(resources)
    subbed = [{"Fn::Sub": r} if "${" in r else r for r in listed]
    return {**statement, "Resource": subbed if len(subbed) > 1 or not isinstance(resources, str) else subbed[0]}


def trust_policy(trusted_role_arns: Sequence[str], organization_id: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": list(trusted_role_arns)},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}},
            }
        ],
    }


def member_template(settings: Settings, trusted_role_arns: Sequence[str], regions: Sequence[str]) -> dict[str, Any]:
    """The StackSet's template: the two roles, their trust and their policies (same generator as single-account)."""
    org = settings.organization
    trust = trust_policy(trusted_role_arns, org.organization_id or "")
    reaper = [
        _sub(s)
        for s in policy_statements(settings, partition=MEMBER_PARTITION, account=MEMBER_ACCOUNT, regions=regions)
    ]
    read = [
        {
            "Sid": "ReadOnly",
            "Effect": "Allow",
            "Action": sorted({*read_actions(), *STAR_ONLY_ACTIONS, *idle_read_actions()}),
            "Resource": "*",
        }
    ]
    tags = [{"Key": k, "Value": v} for k, v in settings.stack_tags.items()]

    def role(name: str, statements: list[dict[str, Any]], description: str) -> dict[str, Any]:
        return {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": name,
                "Description": description,
                "AssumeRolePolicyDocument": trust,
                "MaxSessionDuration": 3600,
                "Policies": [
                    {"PolicyName": "costwarden", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
                ],
                "Tags": tags,
            },
        }

    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Costwarden member roles (deployed by the central Costwarden stack's StackSet)",
        "Resources": {
            "ReadRole": role(read_role_name(org), read, "Costwarden: plan and audit (read only)"),
            "ReaperRole": role(reaper_role_name(org), reaper, "Costwarden: act on expired, unprotected resources"),
        },
    }


def member_stack_set(
    scope: Construct,
    construct_id: str,
    *,
    settings: Settings,
    name: str,
    description: str,
    template_body: str,
    regions: Sequence[str],
    capabilities: Sequence[str],
) -> CfnStackSet:
    """A service-managed StackSet with auto-deployment into every account of the chosen OUs, in ``regions``: the
    member roles here, the burn guard's forwarding rules (``infra/burn.py``)."""
    org = settings.organization
    return CfnStackSet(
        scope,
        construct_id,
        stack_set_name=name,
        permission_model="SERVICE_MANAGED",
        auto_deployment=CfnStackSet.AutoDeploymentProperty(enabled=True, retain_stacks_on_account_removal=False),
        capabilities=list(capabilities),
        call_as=org.call_as,  # SELF in the management account, DELEGATED_ADMIN in a delegated administrator
        managed_execution={"Active": True},
        description=description,
        stack_instances_group=[
            CfnStackSet.StackInstancesProperty(
                deployment_targets=CfnStackSet.DeploymentTargetsProperty(
                    organizational_unit_ids=list(org.deployment_targets)
                ),
                regions=list(regions),
            )
        ],
        operation_preferences=CfnStackSet.OperationPreferencesProperty(
            failure_tolerance_percentage=10, max_concurrent_percentage=25, region_concurrency_type="PARALLEL"
        ),
        template_body=template_body,
    )


class MemberRoles(Construct):
    """Attributes: ``stack_set`` (``CfnStackSet``) and ``template`` (the member template as a dict)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, core: CoreResources, trusted_role_arns: Sequence[str]
    ) -> None:
        super().__init__(scope, construct_id)
        settings = core.settings
        stack = Stack.of(self)
        org = settings.organization
        regions = list(org.regions or settings.reaper.regions) or [stack.region]
        self.template = member_template(settings, trusted_role_arns, regions)
        self.stack_set = member_stack_set(
            self,
            "StackSet",
            settings=settings,
            name="costwarden-member-roles",
            description="Costwarden member roles (read, reaper) in every account of the chosen OUs",
            template_body=stack.to_json_string(self.template),
            regions=[stack.region],  # IAM is global: one region per account is enough for the roles.
            capabilities=["CAPABILITY_NAMED_IAM"],
        )
        # cfn-lint reads ``${AWS::AccountId}`` inside the member template's ``Fn::Sub`` (a string here, the
        # StackSet's TemplateBody) as a parameter outside any Fn::Sub (E1029). It is the member template's own
        # Fn::Sub, resolved in each member account; tests/infra/test_deploy_rules.py lints that template on its own.
        self.stack_set.add_metadata("cfn-lint", {"config": {"ignore_checks": [CFN_LINT_EMBEDDED_SUB]}})
