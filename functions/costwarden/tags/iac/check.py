"""Judging what the readers found: every tag variant of a resource against the policy, and one document end to end
(shape check, format, the reader for it, the verdicts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from costwarden.settings import TagPolicy
from costwarden.tags.iac.cloudformation import extract_cloudformation
from costwarden.tags.iac.core import (
    DocumentReport,
    Resolver,
    ResourceResult,
    ResourceTags,
    TagVariant,
    check_shape,
    single,
)
from costwarden.tags.iac.load import detect_format
from costwarden.tags.iac.tagset import extract_tagging_api, extract_tagset
from costwarden.tags.iac.terraform import extract_terraform
from costwarden.tags.validate import Finding, TagCheck, validate_tags


def _describe(assumed: tuple[tuple[str, bool], ...]) -> str:
    return " and ".join(f"condition {c} is {str(v).lower()}" for c, v in assumed)


def _when(indices: set[int], variants: tuple[TagVariant, ...]) -> str:
    """The simplest true description of the variants (by index) in which a finding holds."""
    conditions = dict.fromkeys(c for c, _ in variants[0].assumed)
    for condition in conditions:
        for value in (False, True):
            matching = {i for i, v in enumerate(variants) if dict(v.assumed).get(condition) == value}
            if matching == indices:
                return _describe(((condition, value),))
    return _describe(variants[min(indices)].assumed)


def check_resource(resource: ResourceTags, policy: TagPolicy, stack_tags: Mapping[str, str]) -> ResourceResult:
    """Validate every variant; findings common to all are plain, the others say under which condition."""
    checks = [
        validate_tags({**stack_tags, **variant.tags}, policy, unresolved=variant.unresolved, deferred=resource.deferred)
        for variant in resource.variants
    ]
    if len(checks) == 1:
        return ResourceResult(resource.resource, resource.resource_type, checks[0], resource.notes)
    seen: dict[Finding, set[int]] = {}
    for index, check in enumerate(checks):
        for finding in check.findings:
            seen.setdefault(finding, set()).add(index)
    everywhere = set(range(len(checks)))
    findings = []
    for finding, indices in seen.items():
        if indices == everywhere:
            findings.append(finding)
            continue
        when = _when(indices, resource.variants)
        findings.append(replace(finding, when=when, message=f"{finding.message} (when {when})"))
    return ResourceResult(resource.resource, resource.resource_type, TagCheck(tuple(findings)), resource.notes)


def check_document(
    document: Any,
    policy: TagPolicy,
    *,
    name: str = "<input>",
    stack_tags: Mapping[str, str] | None = None,
    resolve: Resolver | None = None,
) -> DocumentReport:
    """Check every taggable resource of one parsed document. ``stack_tags`` are tags applied at deploy time to
    every resource (``aws cloudformation deploy --tags``); resource tags win over them. ``resolve`` reads a nested
    stack's local template (without it, nested stacks are listed as not checked)."""
    check_shape(document, name)
    fmt = detect_format(document, name)
    report = DocumentReport(name, fmt)
    extra = dict(stack_tags or {})
    resources: list[ResourceTags]
    if fmt == "tagset":
        resources = [single("(tag set)", "", extract_tagset(document, name))]
    elif fmt == "tagging-api":
        resources = extract_tagging_api(document, name)
    elif fmt == "cloudformation":
        resources, report.not_checked = extract_cloudformation(document, name, resolve)
    else:
        resources, report.not_checked = extract_terraform(document, name)
    report.results.extend(check_resource(resource, policy, extra) for resource in resources)
    return report
