"""The team directory at scale: 1,000 teams with budgets, owners and channels synthesize, and every function gets
the validated document in a layer (not in its 4 KB environment)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from costwarden.settings import SettingsError, parse_settings
from costwarden.teams import DEPLOYED_PATH, LAYER_RELATIVE_PATH, TEAMS_FILE_ENV_VAR, read_document

from infra.bundling import team_directory_folder
from infra.stack import build_stack
from tests.infra.conftest import SKIP_BUNDLING

REPO = Path(__file__).resolve().parents[2]
#: Lambda's limit for all environment variables of one function together.
LAMBDA_ENV_LIMIT_BYTES = 4 * 1024


def thousand_teams() -> dict[str, Any]:
    """The ``costwarden`` context of a 1,000-team organisation: budget, owners and one of 60 shared channels each."""
    return {
        "reaper": {"dry_run": True, "regions": ["eu-west-1", "us-east-1"]},
        "teams": {
            f"ml-{area}-team-{n:04d}": {
                "monthly_usd": 2_500.0 + 10 * n,
                "owners": [f"lead.{n}@example.com", f"U{n:08d}", f"S{n:08d}"],
                "channel": f"ml-{area}-alerts-{n % 20:02d}",
            }
            for n, area in ((n, ("vision", "nlp", "recsys")[n % 3]) for n in range(1_000))
        },
    }


@dataclass
class Synthesized:
    template: Any  # aws_cdk.assertions.Template
    outdir: Path
    context: dict[str, Any]


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.nag import add_checks

    outdir = tmp_path_factory.mktemp("cdk-out-1000")
    context = thousand_teams()
    # Asset metadata on (as the CDK CLI sets it), so the test can find the layer's staged folder.
    app = App(
        context={**SKIP_BUNDLING, "aws:cdk:enable-asset-metadata": True, "costwarden": context}, outdir=str(outdir)
    )
    stack = build_stack(app)
    add_checks(app)  # cdk-nag: Template.from_stack raises on any unacknowledged finding
    return Synthesized(Template.from_stack(stack), outdir, context)


def _functions(big: Synthesized) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = big.template.find_resources("AWS::Lambda::Function")
    return {k: v for k, v in found.items() if "COSTWARDEN_SETTINGS" in v["Properties"]["Environment"]["Variables"]}


def test_a_thousand_teams_synthesize_into_one_layer(big: Synthesized) -> None:
    big.template.resource_count_is("AWS::Lambda::LayerVersion", 1)
    big.template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleArchitectures": ["arm64"], "CompatibleRuntimes": ["python3.13"]},
    )
    (layer,) = big.template.find_resources("AWS::Lambda::LayerVersion").values()
    assert "1000 teams" in layer["Properties"]["Description"]


def test_every_function_carries_the_layer_and_names_the_document(big: Synthesized) -> None:
    (layer_id,) = big.template.find_resources("AWS::Lambda::LayerVersion")
    functions = _functions(big)
    assert len(functions) >= 4  # notifier, cost monitor, tag audit, reaper, and every function added since
    for function in functions.values():
        props = function["Properties"]
        assert props["Layers"] == [{"Ref": layer_id}]
        variables = props["Environment"]["Variables"]
        assert variables[TEAMS_FILE_ENV_VAR] == DEPLOYED_PATH
        assert "teams" not in json.loads(variables["COSTWARDEN_SETTINGS"])
        size = sum(len(k) + len(v if isinstance(v, str) else json.dumps(v)) for k, v in variables.items())
        assert size < LAMBDA_ENV_LIMIT_BYTES


def test_the_layer_holds_the_validated_directory_the_functions_load(big: Synthesized) -> None:
    (layer,) = big.template.find_resources("AWS::Lambda::LayerVersion").values()
    asset = big.outdir / layer["Metadata"]["aws:asset:path"]
    document = asset / LAYER_RELATIVE_PATH
    assert sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()) == [LAYER_RELATIVE_PATH]
    loaded = parse_settings({"teams": read_document(document)})
    assert loaded.teams == parse_settings(big.context).teams
    assert len(loaded.monthly_budgets()) == 1_000
    assert loaded.teams["ml-nlp-team-0001"].channel == "ml-nlp-alerts-01"


def test_the_layer_changes_only_with_team_data(tmp_path: Path) -> None:
    """Same directory, same folder (and asset hash): a deploy without a team change leaves the layer alone."""
    base = parse_settings(thousand_teams())
    again = parse_settings({**thousand_teams(), "anomaly": {"warn_ratio": 1.8}})
    changed_teams = thousand_teams()
    changed_teams["teams"]["ml-vision-team-0000"]["monthly_usd"] = 99.0
    changed = parse_settings(changed_teams)
    assert team_directory_folder(base, tmp_path) == team_directory_folder(again, tmp_path)
    assert team_directory_folder(base, tmp_path) != team_directory_folder(changed, tmp_path)
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"monthly_usd": 0}, r"costwarden\.teams\.ml-vision-team-0999\.monthly_usd"),
        ({"owners": ["#ml-vision"]}, r"costwarden\.teams\.ml-vision-team-0999\.owners\[0\]"),
        ({"channel": "https://hooks.slack.com/services/T/B/x"}, r"costwarden\.teams\.ml-vision-team-0999\.channel"),
    ],
)
def test_a_bad_team_entry_fails_stack_construction_naming_team_and_key(entry: dict[str, Any], named: str) -> None:
    from aws_cdk import App

    context = thousand_teams()
    context["teams"]["ml-vision-team-0999"] = entry
    with pytest.raises(SettingsError, match=named):
        build_stack(App(context={**SKIP_BUNDLING, "costwarden": context}))


def test_app_py_refuses_a_bad_team_naming_it_without_a_traceback(tmp_path: Path) -> None:
    context = thousand_teams()
    context["teams"]["ml-recsys-team-0500"]["monthly_usd"] = -5
    # A context this large does not fit one environment variable (128 KB per string on Linux): the CDK CLI then
    # hands it over in a file named by CONTEXT_OVERFLOW_LOCATION_ENV, as done here.
    overflow = tmp_path / "context.json"
    overflow.write_text(json.dumps({**SKIP_BUNDLING, "costwarden": context}))
    out = tmp_path / "cdk.out"
    env = {**os.environ, "CONTEXT_OVERFLOW_LOCATION_ENV": str(overflow), "CDK_OUTDIR": str(out)}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode != 0
    assert "costwarden.teams.ml-recsys-team-0500.monthly_usd: Input should be greater than 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (out / "manifest.json").exists()
