"""The Bedrock guard's IAM, as statements (``infra/bedrock.py`` builds the hourly function's policy from
``policy_statements``, ``infra/interact.py`` adds ``deny_statements`` to the Slack app's hard-limit role).

* reads without resource-level permissions (``*`` is the only resource AWS accepts): ``bedrock:ListInferenceProfiles``,
  ``cloudwatch:GetMetricData`` / ``ListMetrics``, ``pricing:GetProducts``, ``ce:GetCostAndUsage``;
* ``bedrock:ListTagsForResource`` on application inference profiles only;
* the deny: ``iam:PutRolePolicy`` / ``iam:DeleteRolePolicy`` on exactly the roles ``bedrock.roles`` lists for the
  opted-in teams, conditioned on the role carrying one of those teams' tags (``aws:ResourceTag/<team_key>``), never
  ``*`` roles, and ``iam:ListRoleTags`` under the same condition (the fresh read of what a role is; the code also
  checks that the tag names the role's own team before anything is attached: ``interact.bedrock_limit.team_roles``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from costwarden.settings import Settings

Statement = dict[str, Any]
READ_ACTIONS = (
    "bedrock:ListInferenceProfiles",
    "ce:GetCostAndUsage",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "pricing:GetProducts",
)
#: Put and delete the policy, and read the role's tags (the fresh read of what it is: a role re-tagged away from
#: the opted-in teams cannot even be read, and is refused).
DENY_ACTIONS = ("iam:DeleteRolePolicy", "iam:ListRoleTags", "iam:PutRolePolicy")


def _role(partition: str, account: str, name: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{name}"


def deny_statements(
    settings: Settings, *, partition: str, account: str, modes: Sequence[str] = ("approve", "auto")
) -> list[Statement]:
    """Put and delete the deny policy on the roles of the teams whose ``bedrock.hard_limit`` is in ``modes``."""
    teams = sorted(t for t, mode in settings.bedrock.hard_limit.items() if mode in modes)
    if not teams:
        return []
    every = sorted({_role(partition, account, r) for t in teams for r in settings.bedrock.roles.get(t, ())})
    return [
        {
            "Sid": "BedrockDeny",
            "Effect": "Allow",
            "Action": list(DENY_ACTIONS),
            "Resource": every,
            # One statement, so the policy grows by a role ARN per role, not a statement per team (IAM's 10,240
            # characters of inline policy per role); the code attaches to a role only when its tag is its own team.
            "Condition": {"StringEquals": {f"aws:ResourceTag/{settings.tags.team_key}": teams}},
        },
    ]


def policy_statements(settings: Settings, *, partition: str, account: str, regions: Sequence[str]) -> list[Statement]:
    """The hourly guard's role: the reads, the profiles' tags in ``regions``, the deny for ``auto`` teams."""
    profiles = [f"arn:{partition}:bedrock:{region}:{account}:application-inference-profile/*" for region in regions]
    return [
        {"Sid": "BedrockGuardRead", "Effect": "Allow", "Action": list(READ_ACTIONS), "Resource": "*"},
        {
            "Sid": "BedrockProfileTags",
            "Effect": "Allow",
            "Action": ["bedrock:ListTagsForResource"],
            "Resource": profiles,
        },
        *deny_statements(settings, partition=partition, account=account, modes=("auto",)),
    ]
