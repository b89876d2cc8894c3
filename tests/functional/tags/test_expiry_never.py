"""``expires_at=9999-12-31`` ("never", docs/reaper.md) through every tag checker's real entry point.

The validator once had its own parser that crashed with ``OverflowError`` on it; now the CLI, the weekly audit and
the reaper share ``costwarden.models.expiry``: accepted as "never", while malformed values are still reported.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from costwarden.cli import main as cli_main
from costwarden.services.tag_audit import run_audit
from costwarden.settings import Settings, TagPolicy

from tests.support.cli import validate_body
from tests.support.tags import GOOD_TAGS as GOOD

from .conftest import allocation_tags, answer, ce_client, ce_daily_by_team, inject_ce

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _template(tmp_path: Path, expires: dict[str, str]) -> Path:
    resources = {
        name: {
            "Type": "AWS::EC2::Instance",
            "Properties": {
                "ImageId": "ami-1",
                "Tags": [{"Key": k, "Value": v} for k, v in {**GOOD, "expires_at": value}.items()],
            },
        }
        for name, value in expires.items()
    }
    path = tmp_path / "stack.template.json"
    path.write_text(json.dumps({"Resources": resources}))
    return path


def test_cli_validate_accepts_never_and_reports_malformed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("costwarden.cli.tags",))
    edges = {
        "Never": "9999-12-31",
        "NeverLate": "9999-12-31T23:59:59-05:00",
        "FirstDay": "0001-01-01T00:00:00+05:00",
        "Bad": "31/12/2026",
    }
    template = _template(tmp_path, edges)
    code = cli_main.main(["tags", "validate", str(template), "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "OverflowError" not in err
    body = validate_body(out)
    assert code == 1
    assert [(v["resource"], v["code"]) for v in body["violations"]] == [("Bad", "malformed_expires_at")]


def test_cli_validate_never_alone_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("costwarden.cli.tags",))
    assert cli_main.main(["tags", "validate", str(_template(tmp_path, {"Never": "9999-12-31"}))]) == 0
    assert "OK: 0 violation(s)" in capsys.readouterr().out


@pytest.mark.usefixtures("aws")
def test_weekly_audit_on_moto_accepts_never_and_reports_malformed() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    for value in ("9999-12-31", "next week"):
        ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": tag_list({**GOOD, "expires_at": value})}],
        )
    inject_ce(ce_daily_by_team(datetime(2026, 11, 9).date(), [{"ml-platform": 100.0}] * 14))
    ce = ce_client()
    answer(ce, "ListCostAllocationTags", allocation_tags(dict.fromkeys(Settings().tags.required, "Active")))
    report = run_audit(Settings(), now=NOW, regions=("us-east-1",), ce=ce)
    assert report.facts.scanned == 2
    platform = next(e for e in report.events if e.team == "ml-platform")
    assert len(platform.details["items"]) == 1
    assert "expires_at='next week'" in platform.details["items"][0]


def test_aspect_and_validator_share_the_parser() -> None:
    """The validator's expiry rule is the reaper's: same verdicts on edge values (no second parser)."""
    from costwarden.models.expiry import MalformedExpiry, parse_expires_at
    from costwarden.tags.validate import Code, validate_tags

    policy = TagPolicy()
    for value in ("9999-12-31", "2026-12-01T18:00:00+0200", "2026-12-01T24:00", "0000-01-01", "2026-W49", "1767225600"):
        try:
            parse_expires_at(value)
            accepted = True
        except MalformedExpiry:
            accepted = False
        codes = [f.code for f in validate_tags({**GOOD, "expires_at": value}, policy).findings]
        assert (Code.MALFORMED_EXPIRES_AT not in codes) is accepted, value
