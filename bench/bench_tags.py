"""Tag policy speed: the validator per tag set, and ``tags validate`` on large generated templates and plans.

The CI gate should cost seconds at most: a synthesized CDK app of a few thousand resources, or a Terraform plan of
the same size, is checked in well under a second once Python is up (the CLI's own start is ~0.25 s, pydantic).
"""

from __future__ import annotations

import time
from typing import Any

from costwarden.settings import TagPolicy
from costwarden.tags.iac import check_document
from costwarden.tags.validate import validate_tags

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
    width = max(len(r["case"]) for r in rows)
    for row in rows:
        print(f"  {row['case']:<{width}}  {row['seconds']:>7.3f} s")
    return rows


if __name__ == "__main__":
    main()
