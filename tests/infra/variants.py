"""The synth variants AWS's deploy-time rules are checked on (tests/infra/test_deploy_rules.py), and how a template's
CloudFormation tokens are resolved to the strings AWS would measure.

moto and ``Template.from_stack`` accept what a real deployment refuses: an invalid state machine definition, an
inline policy over IAM's 10,240 characters, a template over CloudFormation's size limits. Those limits apply to the
*resolved* values (``arn:aws:lambda:...``, not ``{"Fn::GetAtt": ...}``), so ``resolve`` replaces every token with a
realistic value of realistic (slightly pessimistic) length before anything is measured or validated.
"""

from __future__ import annotations

import re
from typing import Any, Final

#: Ten commercial regions, the documented scale of ``reaper.regions`` / ``organization.regions``.
TEN_REGIONS: Final = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
)

ORGANIZATION: Final[dict[str, Any]] = {
    "enabled": True,
    "organization_id": "o-abcdefghij",
    "deployment_targets": ["ou-ab12-research1", "ou-ab12-sandbox12"],
    "regions": ["us-east-1", "eu-west-1", "eu-central-1", "us-west-2"],
}

#: Every reaper mode that adds permissions (the largest policies a setting can produce).
EVERY_PERMISSION: Final[dict[str, Any]] = {
    "reaper": {"force_termination_protected": True, "missing_expiry": "mark"},
    "interact": {"enabled": True, "oncall_users": ["U0ONCALL1"]},
    "budgets": {"hard_limit": {"nlp": "auto"}, "hard_limit_endpoints": "delete"},  # the grace timer too
    "teams": {
        "nlp": {"slack": {"launch_roles": ["nlp-launcher"]}},
        "vision": {"limits": {"development_gpus": 8, "action": "stop"}},
    },
}


def thousand_teams() -> dict[str, Any]:
    """1,000 teams with a budget, three owners and one of 60 shared channels each (the documented team scale)."""
    return {
        f"ml-{area}-team-{n:04d}": {
            "monthly_usd": 2_500.0 + 10 * n,
            "owners": [f"lead.{n}@example.com", f"U{n:08d}", f"S{n:08d}"],
            "channel": f"ml-{area}-alerts-{n % 20:02d}",
        }
        for n, area in ((n, ("vision", "nlp", "recsys")[n % 3]) for n in range(1_000))
    }


#: The Athena variant (``cost_source: athena``). Its infrastructure (export, Glue table, workgroup) is built on
#: another branch; the variant is listed under this one name so the merge enables its checks in one place.
ATHENA_VARIANT: Final = "athena"

#: name -> the ``costwarden`` context of one synth variant.
VARIANTS: Final[dict[str, dict[str, Any]]] = {
    "default": {},
    "organization": {"organization": ORGANIZATION, "burn": {"enabled": True}},
    "slack_app": {"interact": {"enabled": True}},
    "teams_1000": {"reaper": {"regions": ["eu-west-1", "us-east-1"]}, "teams": thousand_teams()},
    ATHENA_VARIANT: {
        "cost_source": "athena",
        "organization": ORGANIZATION,
        "k8s_guard": {"enabled": True},
        "unitcost": {"enabled": True},
    },
    # The largest roles: ten regions everywhere, organization mode and every mode that adds permissions.
    "regions_10": {
        **EVERY_PERMISSION,
        "reaper": {**EVERY_PERMISSION["reaper"], "regions": list(TEN_REGIONS)},
        "organization": {**ORGANIZATION, "regions": list(TEN_REGIONS)},
        "burn": {"enabled": True},
        "bedrock": {"enabled": True, "hard_limit": {"nlp": "auto"}, "roles": {"nlp": ["nlp-bedrock-caller"]}},
    },
}

# Values a deployment's tokens resolve to. The region is one of the longest commercial names and the account id is
# fixed-width, so every measured string is as long as (or longer than) the real one.
PSEUDO: Final[dict[str, str]] = {
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "AWS::Region": "ap-southeast-2",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "Costwarden",
    "AWS::StackId": "arn:aws:cloudformation:ap-southeast-2:123456789012:stack/Costwarden/"
    "12345678-1234-1234-1234-123456789012",
    "AWS::NotificationARNs": "",
}
_NO_VALUE = object()


def physical_name(logical_id: str) -> str:
    """The name CloudFormation generates for an unnamed resource: stack name, logical id, random suffix."""
    return f"Costwarden-{logical_id[:40]}-1A2B3C4D5E6F7"


def _arn(logical_id: str, resource: dict[str, Any]) -> str:
    kind = resource.get("Type", "AWS::Unknown::Resource")
    service = kind.split("::")[1].lower() if kind.count("::") == 2 else "unknown"
    props = resource.get("Properties", {})
    region, account = PSEUDO["AWS::Region"], PSEUDO["AWS::AccountId"]
    if kind == "AWS::Lambda::Function":
        return f"arn:aws:lambda:{region}:{account}:function:{props.get('FunctionName', physical_name(logical_id))}"
    if kind == "AWS::IAM::Role":
        return f"arn:aws:iam::{account}:role/{props.get('RoleName', physical_name(logical_id))}"
    if kind == "AWS::StepFunctions::StateMachine":
        name = props.get("StateMachineName", physical_name(logical_id))
        return f"arn:aws:states:{region}:{account}:stateMachine:{name}"
    if kind == "AWS::SQS::Queue":
        return f"arn:aws:sqs:{region}:{account}:{physical_name(logical_id)}"
    if kind == "AWS::DynamoDB::Table":
        return f"arn:aws:dynamodb:{region}:{account}:table/{props.get('TableName', physical_name(logical_id))}"
    if kind == "AWS::S3::Bucket":
        return f"arn:aws:s3:::{props.get('BucketName', physical_name(logical_id).lower())}"
    return f"arn:aws:{service}:{region}:{account}:{physical_name(logical_id)}"


class Resolver:
    """Resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Join`` and ``Fn::Sub`` of one template to plain values."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.parameters: dict[str, Any] = template.get("Parameters", {})

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return str(self.parameters[name].get("Default", "parameter-value"))
        resource = self.resources.get(name)
        if resource is None:
            raise KeyError(f"Ref to unknown {name}")
        if resource["Type"] in ("AWS::SNS::Topic", "AWS::StepFunctions::StateMachine"):
            return _arn(name, resource)  # their Ref is the ARN
        return physical_name(name)

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.resources[name]
        if attribute == "Arn" or attribute.endswith(".Arn"):
            return _arn(name, resource)
        if attribute == "FunctionUrl":
            return "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-southeast-2.on.aws/"
        return f"{physical_name(name)}-{attribute}"

    def sub(self, text: str, variables: dict[str, Any] | None = None) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if variables and name in variables:
                return str(self(variables[name]))
            if "." in name and name not in PSEUDO:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self(item) for item in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Join":
                return arg[0].join(str(self(part)) for part in self(arg[1]))
            if key == "Fn::Sub":
                return self.sub(arg) if isinstance(arg, str) else self.sub(arg[0], arg[1])
            if key == "Fn::Select":
                return self(arg[1])[int(arg[0])]
            if key == "Fn::Split":
                return str(self(arg[1])).split(arg[0])
            if key.startswith("Fn::"):
                raise ValueError(f"cannot resolve {key}")
        return {k: v for k, v in ((k, self(v)) for k, v in value.items()) if v is not _NO_VALUE}
