"""``RequireTags``: a CDK Aspect that fails synth when a taggable resource breaks the tag policy.

It visits every construct; for each CloudFormation resource that can carry tags (``TagManager.is_taggable``, or a
``cdk_tag_manager`` for the newer ``ITaggableV2`` resources) it reads the tags the resource will really carry —
its own plus those ``Tags.of(...)`` and stack tags applied (the Aspect runs after them, at read-only priority) —
checks them with Costwarden's validator and adds an *error annotation* naming what is missing or wrong. The CDK
CLI refuses to synthesize (and so to deploy) a stack with error annotations and prints each construct path with
its message. Resources that cannot carry tags (IAM policies, bucket policies, Lambda permissions...) are skipped.

Use it in any CDK app (Python)::

    from aws_cdk import Aspects
    from costwarden.settings import TagPolicy
    from costwarden.tags.aspect import RequireTags

    Aspects.of(app).add(RequireTags(TagPolicy()))  # or TagPolicy(required=("team", "owner"), ...)

Tag values that are tokens (a parameter, an attribute of another resource) are only known at deploy time: they
count as present and are not checked against the allowed values.

This module is the only one in the ``costwarden`` package that imports ``aws_cdk`` (install Costwarden with its
``cdk`` dependency group, or have aws-cdk-lib in your CDK app already); no Lambda handler imports it.
"""

from __future__ import annotations

import jsii
from aws_cdk import Annotations, AspectPriority, Aspects, CfnResource, IAspect, Stack, TagManager, Token
from constructs import IConstruct

from costwarden.settings import TagPolicy
from costwarden.tags.validate import TagCheck, summarise, validate_tags


def _tag_manager(node: CfnResource) -> TagManager | None:
    if TagManager.is_taggable(node):
        return node.tags  # type: ignore[attr-defined, no-any-return]
    if TagManager.is_taggable_v2(node):
        return node.cdk_tag_manager  # type: ignore[attr-defined, no-any-return]
    return None


@jsii.implements(IAspect)
class RequireTags:
    """Add an error annotation to every taggable resource whose tags break ``policy``.

    :param policy: the tag policy (``costwarden.settings.TagPolicy``).
    :param warn_only: add warnings instead of errors (report without blocking synth, e.g. while migrating).
    """

    def __init__(self, policy: TagPolicy, *, warn_only: bool = False) -> None:
        self.policy = policy
        self.warn_only = warn_only
        #: construct path → the check, for every resource that broke the policy (for tests and reports).
        self.violations: dict[str, TagCheck] = {}

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource):
            return
        manager = _tag_manager(node)
        if manager is None:
            return
        values = manager.tag_values()
        unresolved = {key for key, value in values.items() if Token.is_unresolved(value)}
        check = validate_tags(values, self.policy, unresolved=unresolved)
        if check.ok:
            return
        self.violations[node.node.path] = check
        message = f"{node.cfn_resource_type} breaks the tag policy: {summarise(check)}"
        annotations = Annotations.of(node)
        if self.warn_only:
            annotations.add_warning_v2("costwarden:tag-policy", message)
        else:
            annotations.add_error(message)


def require_tags(stack: Stack, policy: TagPolicy, *, warn_only: bool = False) -> RequireTags:
    """Apply ``RequireTags`` to ``stack`` after every tag-adding aspect (read-only priority); returns the aspect."""
    aspect = RequireTags(policy, warn_only=warn_only)
    Aspects.of(stack).add(aspect, priority=AspectPriority.READONLY)
    return aspect
