"""AWS's deploy-time rules, checked on every synth variant (tests/infra/variants.py): what moto and
``Template.from_stack`` accept but CloudFormation, Step Functions or IAM refuse at ``cdk deploy``.

- every state machine definition is valid Amazon States Language (``asl-validator``, the npm package pinned in
  package.json; ``make test`` installs it with ``node_modules/.installed``);
- ``cfn-lint`` finds no error (its suppressions live in the template metadata, each with its reason);
- the quotas: resources per stack, template size, a StackSet's template body, each role's inline policies, each
  function's environment.

The bundle's 250 MiB unzipped limit is checked where bundles are built (tests/infra/test_bundling.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synth, synthesize
from tests.infra.variants import ATHENA_VARIANT, VARIANTS, Resolver

REPO = Path(__file__).resolve().parents[2]
#: cfn-lint from the same environment as pytest (the dev dependency group).
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
ASL_VALIDATOR = REPO / "node_modules" / "asl-validator" / "dist" / "bin" / "asl-validator.js"

# Quotas (AWS documentation: CloudFormation, IAM and Lambda quotas pages).
MAX_RESOURCES = 500
#: A template CloudFormation reads from S3 (the CDK CLI uploads templates over 50 KB): 1 MB.
MAX_TEMPLATE_BYTES = 1_000_000
#: ``TemplateBody`` given inline, as a StackSet's member template is.
MAX_TEMPLATE_BODY_BYTES = 51_200
#: All inline policies of one role together, whitespace excluded.
MAX_ROLE_INLINE_POLICY_CHARS = 10_240
#: A managed policy, whitespace excluded.
MAX_MANAGED_POLICY_CHARS = 6_144
#: Every environment variable of one function together (keys and values).
MAX_ENVIRONMENT_BYTES = 4 * 1024

assert ATHENA_VARIANT in VARIANTS


@pytest.fixture(scope="module", params=list(VARIANTS))
def variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Synth]]:
    name = request.param
    yield name, synthesize(tmp_path_factory.mktemp(f"cdk-{name}"), {"costwarden": VARIANTS[name]})


def _compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


def _policy_chars(document: Any) -> int:
    return sum(not c.isspace() for c in _compact(document))


def _state_machines(synth: Synth) -> dict[str, dict[str, Any]]:
    resolve = Resolver(synth.template)
    return {
        logical_id: json.loads(resolve(resource["Properties"]["DefinitionString"]))
        for logical_id, resource in synth.resources("AWS::StepFunctions::StateMachine").items()
    }


def _member_templates(synth: Synth) -> dict[str, str]:
    """Each StackSet's resolved ``TemplateBody`` (the text CloudFormation receives)."""
    resolve = Resolver(synth.template)
    return {
        logical_id: resolve(resource["Properties"]["TemplateBody"])
        for logical_id, resource in synth.resources("AWS::CloudFormation::StackSet").items()
    }


def _asl_problems(definition: dict[str, Any], where: Path) -> str | None:
    where.write_text(json.dumps(definition))
    node = shutil.which("node")
    assert node, "node is not on PATH (asl-validator runs on Node.js; see README: Node versions)"
    assert ASL_VALIDATOR.is_file(), f"{ASL_VALIDATOR} missing: run `make node_modules/.installed` (npm ci)"
    run = subprocess.run(
        [node, str(ASL_VALIDATOR), "--json-path", str(where)], capture_output=True, text=True, timeout=60, check=False
    )
    return None if run.returncode == 0 else (run.stdout + run.stderr).strip()


def test_every_state_machine_definition_is_valid_asl(variant: tuple[str, Synth], tmp_path: Path) -> None:
    name, synth = variant
    machines = _state_machines(synth)
    if VARIANTS[name].get("organization", {}).get("enabled"):
        assert machines, "organization mode builds its fan-out state machines"
    problems = {lid: _asl_problems(d, tmp_path / f"{lid}.json") for lid, d in machines.items()}
    assert not {k: v for k, v in problems.items() if v}, problems


def test_asl_validator_rejects_a_duplicate_state_name(tmp_path: Path) -> None:
    """The check above can fail: Step Functions' DUPLICATE_STATE_NAME across two Map iterators is reported."""
    item = {"StartAt": "Run", "States": {"Run": {"Type": "Succeed"}}}
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Map", "ItemProcessor": item, "Next": "B"},
            "B": {"Type": "Map", "ItemProcessor": item, "End": True},
        },
    }
    problems = _asl_problems(definition, tmp_path / "duplicate.json")
    assert problems is not None and "DUPLICATE_STATE_NAMES" in problems


def _cfn_lint(path: Path) -> list[dict[str, Any]]:
    run = subprocess.run(
        [str(CFN_LINT), "--format", "json", "--non-zero-exit-code", "error", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings: list[dict[str, Any]] = json.loads(run.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert (run.returncode == 0) == (not errors), run.stderr
    return errors


def test_cfn_lint_finds_no_error(variant: tuple[str, Synth], tmp_path: Path) -> None:
    name, synth = variant
    path = tmp_path / f"{name}.template.json"
    path.write_text(json.dumps(synth.template))
    errors = _cfn_lint(path)
    assert not errors, [(e["Rule"]["Id"], e["Message"], e["Location"]["Path"]) for e in errors]
    for template_text in _member_templates(synth).values():  # the member roles are linted as their own template
        member = tmp_path / f"{name}.member.template.json"
        member.write_text(template_text)
        errors = _cfn_lint(member)
        assert not errors, [(e["Rule"]["Id"], e["Message"], e["Location"]["Path"]) for e in errors]


def test_resources_and_template_size_are_within_the_quotas(variant: tuple[str, Synth]) -> None:
    _, synth = variant
    assert len(synth.template["Resources"]) <= MAX_RESOURCES
    assert len(_compact(synth.template).encode()) <= MAX_TEMPLATE_BYTES
    for logical_id, body in _member_templates(synth).items():
        assert len(body.encode()) <= MAX_TEMPLATE_BODY_BYTES, logical_id


def _inline_policy_chars_per_role(template: dict[str, Any]) -> dict[str, int]:
    """Role logical id -> characters of all its inline policies (``AWS::IAM::Policy`` and ``Policies``)."""
    resolve = Resolver(template)
    chars: dict[str, int] = {}
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            chars[logical_id] = chars.get(logical_id, 0) + sum(
                _policy_chars(resolve(p["PolicyDocument"])) for p in props.get("Policies", [])
            )
        elif resource["Type"] == "AWS::IAM::Policy":
            size = _policy_chars(resolve(props["PolicyDocument"]))
            for role in props.get("Roles", []):
                chars[role["Ref"]] = chars.get(role["Ref"], 0) + size
    return chars


def test_every_role_s_inline_policies_fit_iam_s_limit(variant: tuple[str, Synth]) -> None:
    name, synth = variant
    per_role = _inline_policy_chars_per_role(synth.template)
    for body in _member_templates(synth).values():  # the member accounts' roles
        member = json.loads(body)
        member_roles = _inline_policy_chars_per_role(member)
        assert member_roles, "the member template holds roles"
        per_role.update({f"member:{k}": v for k, v in member_roles.items()})
    assert per_role
    over = {role: n for role, n in per_role.items() if n > MAX_ROLE_INLINE_POLICY_CHARS}
    assert not over, f"{name}: inline policies over {MAX_ROLE_INLINE_POLICY_CHARS} characters: {over}"
    resolve = Resolver(synth.template)
    for logical_id, managed in synth.resources("AWS::IAM::ManagedPolicy").items():
        assert _policy_chars(resolve(managed["Properties"]["PolicyDocument"])) <= MAX_MANAGED_POLICY_CHARS, logical_id


def test_every_function_s_environment_fits_lambda_s_4_kb(variant: tuple[str, Synth]) -> None:
    _, synth = variant
    resolve = Resolver(synth.template)
    functions = synth.resources("AWS::Lambda::Function")
    assert functions
    for logical_id, function in functions.items():
        variables = resolve(function["Properties"].get("Environment", {}).get("Variables", {}))
        size = sum(len(k.encode()) + len(str(v).encode()) for k, v in variables.items())
        assert size <= MAX_ENVIRONMENT_BYTES, f"{logical_id}: {size} bytes of environment"


def test_the_inline_policy_measure_counts_what_iam_counts() -> None:
    """Whitespace excluded, tokens resolved: a policy with a joined ARN is measured at its deployed length."""
    template = {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "s3:GetObject",
                                "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b/*"]]},
                            }
                        ]
                    },
                },
            },
        }
    }
    expected = len('{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}')
    assert _inline_policy_chars_per_role(template) == {"Role": expected}


def test_no_function_reserves_concurrency_unless_configured(variant: tuple[str, Synth]) -> None:
    """A reservation fails the deploy on a new account (quota 10, of which Lambda keeps 10 unreserved): opt-in."""
    _, synth = variant
    reserved = {
        k: f["Properties"]["ReservedConcurrentExecutions"]
        for k, f in synth.resources("AWS::Lambda::Function").items()
        if "ReservedConcurrentExecutions" in f["Properties"]
    }
    assert not reserved
