"""Fixtures for CDK template assertions: the stack is synthesized once per test module (synth takes seconds).

Bundling is skipped (context ``aws:cdk:bundling-stacks = []``): these tests look at the template, not the zip.
The app runs cdk-nag like ``app.py`` does, so building the template at all proves zero unacknowledged findings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

SKIP_BUNDLING = {"aws:cdk:bundling-stacks": [], "aws:cdk:enable-path-metadata": True}


@dataclass
class Synth:
    """A synthesized app: the stack object, its template as JSON, and cdk-nag's validation report."""

    stack: Any
    template: dict[str, Any]
    report: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == resource_type}

    def logical_id(self, path: str) -> str:
        """Logical id of the resource at construct path ``path`` (below the stack, without ``/Resource``)."""
        wanted = {f"{self.stack.stack_name}/{path}", f"{self.stack.stack_name}/{path}/Resource"}
        matches = [
            k for k, v in self.template["Resources"].items() if v.get("Metadata", {}).get("aws:cdk:path") in wanted
        ]
        assert len(matches) == 1, f"{path}: {matches}"
        return matches[0]

    def resource(self, path: str) -> dict[str, Any]:
        return self.template["Resources"][self.logical_id(path)]

    def role_statements(self, role_id: str) -> list[dict[str, Any]]:
        """Every statement of every IAM policy attached to the role with logical id ``role_id``, in template order."""
        return [
            statement
            for policy in self.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]


def actions_of(statement: dict[str, Any]) -> list[str]:
    """A policy statement's ``Action`` as a list (CloudFormation writes a lone action as a string)."""
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def synthesize(tmp: Path, context: dict[str, Any] | None = None, extend: Any = None) -> Synth:
    """Build the app as ``app.py`` does (settings from context, stack, cdk-nag) and synthesize into ``tmp``."""
    from aws_cdk import App

    from infra.nag import add_checks
    from infra.stack import build_stack

    app = App(context={**SKIP_BUNDLING, **(context or {})}, outdir=str(tmp))
    stack = build_stack(app)
    if extend is not None:
        extend(stack)
    add_checks(app)
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    report = json.loads((tmp / "validation-report.json").read_text())
    return Synth(stack=stack, template=template, report=report)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk-out"))
