"""``RequireTags``: synth fails (error annotations, what the CDK CLI refuses) for untagged resources only."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from costwarden.settings import Settings, TagPolicy
from costwarden.tags.aspect import RequireTags, require_tags

from infra.stack import CostwardenStack
from tests.support.tags import GOOD_TAGS as GOOD


def synth_messages(app: cdk.App, stack: cdk.Stack) -> dict[str, list[tuple[str, str]]]:
    """Construct path → (type, message) of the error/warning metadata the CDK CLI reads to fail ``cdk synth``.

    (Read from the cloud assembly files: ``Annotations.from_stack(...).find_error`` trips over a jsii type in
    Python with aws-cdk-lib 2.275.)
    """
    assembly = app.synth()
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
    artifact = manifest["artifacts"][stack.artifact_id]
    metadata = dict(artifact.get("metadata", {}))
    if "additionalMetadataFile" in artifact:
        metadata.update(json.loads((Path(assembly.directory) / artifact["additionalMetadataFile"]).read_text()))
    out: dict[str, list[tuple[str, str]]] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry["type"] in {"aws:cdk:error", "aws:cdk:warning"}:
                out.setdefault(path, []).append((entry["type"], str(entry["data"])))
    return out


def tiny_stack(tag_queue: bool) -> tuple[cdk.App, cdk.Stack, RequireTags]:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Tiny")
    queue = sqs.Queue(stack, "Jobs")
    bucket = s3.Bucket(stack, "Artifacts")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    bucket.grant_read(role)  # an AWS::IAM::Policy: cannot carry tags, never flagged
    for key, value in GOOD.items():
        cdk.Tags.of(bucket).add(key, value)
        cdk.Tags.of(role).add(key, value)
        if tag_queue:
            cdk.Tags.of(queue).add(key, value)
    if not tag_queue:
        cdk.Tags.of(queue).add("Team", "ml-platform")
        cdk.Tags.of(queue).add("environment", "prod")
    return app, stack, require_tags(stack, TagPolicy())


def test_untagged_resource_fails_synth_with_its_path_and_what_it_lacks() -> None:
    app, stack, aspect = tiny_stack(tag_queue=False)
    messages = synth_messages(app, stack)
    assert list(messages) == ["/Tiny/Jobs/Resource"]
    [(kind, text)] = messages["/Tiny/Jobs/Resource"]
    assert kind == "aws:cdk:error"
    assert text.startswith("AWS::SQS::Queue breaks the tag policy: missing project, model_id, lifecycle_phase")
    assert "rename tag 'Team' to 'team'" in text
    assert "environment='prod' is not allowed" in text
    assert list(aspect.violations) == ["Tiny/Jobs/Resource"]


def test_tagged_resources_pass() -> None:
    app, stack, aspect = tiny_stack(tag_queue=True)
    assert synth_messages(app, stack) == {}
    assert aspect.violations == {}


def test_token_values_count_as_present_and_warn_only_mode() -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Tokens")
    queue = sqs.Queue(stack, "Q")
    env = cdk.CfnParameter(stack, "Env")
    for key, value in GOOD.items():
        cdk.Tags.of(queue).add(key, value)
    cdk.Tags.of(queue).add("environment", env.value_as_string)
    sqs.Queue(stack, "Untagged")
    aspect = RequireTags(TagPolicy(), warn_only=True)
    cdk.Aspects.of(stack).add(aspect, priority=cdk.AspectPriority.READONLY)
    messages = synth_messages(app, stack)
    assert list(messages) == ["/Tokens/Untagged/Resource"]
    assert messages["/Tokens/Untagged/Resource"][0][0] == "aws:cdk:warning"


def test_expires_at_never_passes_and_malformed_fails_synth() -> None:
    """The Aspect checks ``expires_at`` with the reaper's parser: ``9999-12-31`` ("never") once crashed synth."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Expiry")
    for name, value in (("Never", "9999-12-31"), ("Typo", "31/12/2026")):
        queue = sqs.Queue(stack, name)
        for key, tag in {**GOOD, "expires_at": value}.items():
            cdk.Tags.of(queue).add(key, tag)
    require_tags(stack, TagPolicy())
    messages = synth_messages(app, stack)
    assert list(messages) == ["/Expiry/Typo/Resource"]
    assert "expires_at='31/12/2026' is not an ISO 8601 date" in messages["/Expiry/Typo/Resource"][0][1]


@pytest.fixture(scope="module")
def costwarden_stack() -> tuple[cdk.App, CostwardenStack]:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    return app, CostwardenStack(app, "Costwarden", settings=Settings())


def test_costwarden_follows_its_own_policy(costwarden_stack: tuple[cdk.App, CostwardenStack]) -> None:
    app, stack = costwarden_stack
    messages = synth_messages(app, stack)
    assert not [m for entries in messages.values() for m in entries if "tag policy" in m[1]]
    assert stack.tag_policy.violations == {}


def test_costwarden_with_incomplete_stack_tags_fails_synth() -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    tags = {k: v for k, v in Settings().stack_tags.items() if k != "cost_center"}
    stack = CostwardenStack(app, "Costwarden", settings=Settings(stack_tags=tags))
    messages = synth_messages(app, stack)
    flagged = [path for path, entries in messages.items() if any("missing cost_center" in m for _, m in entries)]
    assert "/Costwarden/TagAudit/Function/Function/Resource" in flagged
    assert len(flagged) == len(stack.tag_policy.violations) > 5
