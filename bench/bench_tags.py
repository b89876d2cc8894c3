"""Tag policy speed: the validator per tag set, ``tags validate`` on large generated templates and plans, and the
time per file on the real-world corpus (``tests/fixtures/tags/corpus``: read, parse, nested stacks, check).

The CI gate should cost seconds at most: a synthesized CDK app of a few thousand resources, or a Terraform plan of
the same size, is checked in well under a second once Python is up (the CLI's own start is ~0.25 s, pydantic), and
no real-world file may take a second (issue 14's bound; the worst file is printed by name).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from pathlib import Path
from typing import Any

from costwarden.cli.tags import _expand, _read, _resolve_nested
from costwarden.settings import TagPolicy
from costwarden.tags.iac import IacError, check_document
from costwarden.tags.validate import validate_tags

CORPUS = Path(__file__).parents[1] / "tests" / "fixtures" / "tags" / "corpus"
#: Issue 14: the gate stays under one second a file on real-world input.
CORPUS_BOUND_SECONDS = 1.0

POLICY = TagPolicy()
GOOD = {
    "team": "ml",
    "project": "p",
    "model_id": "m",
    "environment": "staging",
    "lifecycle_phase": "development",
    "cost_center": "cc",
}
BAD = {"Team": "ml", "lifecycle-phase": "trainig", "environment": "prod", "Name": "box"}


def _template(n: int) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for i in range(n):
        tags = GOOD if i % 2 else BAD
        resources[f"Q{i}"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]},
        }
        resources[f"P{i}"] = {"Type": "AWS::IAM::Policy", "Properties": {}}
    return {"Resources": resources}


def _plan(n: int) -> dict[str, Any]:
    changes = [
        {
            "address": f"aws_instance.i{i}",
            "mode": "managed",
            "type": "aws_instance",
            "change": {"actions": ["create"], "after": {"tags": None, "tags_all": GOOD if i % 2 else BAD}},
        }
        for i in range(n)
    ]
    return {"format_version": "1.2", "resource_changes": changes}


def _time(function: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def _corpus_file(target: Path, policy: TagPolicy) -> None:
    """What ``costwarden tags validate FILE`` does after start-up: read, parse, follow nested stacks, check."""
    for path in _expand([str(target)]):
        with contextlib.suppress(IacError):  # a labelled malformed file: the error is its verdict, its cost counts
            check_document(_read(path), policy, name=str(path), resolve=_resolve_nested)


def corpus_rows() -> list[dict[str, Any]]:
    """Median and worst time per corpus file (best of 3 runs of each file, so one hiccup is not a file's time)."""
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    per_file: dict[str, float] = {}
    for name, label in sorted(manifest.items()):
        policy = TagPolicy.model_validate(label["policy"]) if "policy" in label else POLICY
        per_file[name] = _time(lambda target=CORPUS / name, policy=policy: _corpus_file(target, policy))
    worst = max(per_file, key=per_file.__getitem__)
    median = statistics.median(per_file.values())
    verdict = "within" if per_file[worst] < CORPUS_BOUND_SECONDS else "OVER"
    return [
        {"case": f"real-world corpus, {len(per_file)} files: median per file", "seconds": round(median, 4)},
        {
            "case": f"real-world corpus: worst file ({worst}), {verdict} the {CORPUS_BOUND_SECONDS:.0f} s bound",
            "seconds": round(per_file[worst], 4),
        },
    ]


def main() -> list[dict[str, Any]]:
    rows = []
    for label, tags in (("compliant tag set", GOOD), ("tag set with 4 problems", BAD)):
        seconds = _time(lambda tags=tags: [validate_tags(tags, POLICY) for _ in range(10_000)])
        rows.append({"case": f"validate_tags x10,000 ({label})", "seconds": round(seconds, 3)})
    for n in (1_000, 5_000):
        template, plan = _template(n), _plan(n)
        rows.append(
            {
                "case": f"CloudFormation template, {2 * n:,} resources",
                "seconds": round(_time(lambda t=template: check_document(t, POLICY)), 3),
            }
        )
        rows.append(
            {
                "case": f"Terraform plan, {n:,} resources",
                "seconds": round(_time(lambda p=plan: check_document(p, POLICY)), 3),
            }
        )
    rows.extend(corpus_rows())
    width = max(len(r["case"]) for r in rows)
    for row in rows:
        print(f"  {row['case']:<{width}}  {row['seconds']:>8.4f} s")
    return rows


if __name__ == "__main__":
    main()
