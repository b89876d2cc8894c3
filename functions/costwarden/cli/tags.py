"""``costwarden tags validate FILE...``: the tag policy as a CI gate, before anything is deployed.

Each FILE is a tag set (JSON), a CloudFormation template (JSON or YAML; a directory means its ``*.template.json``,
e.g. ``cdk.out``), a Terraform plan (``terraform show -json``) or tagging API output (``aws
resourcegroupstaggingapi get-resources``); the format is detected from the content. Exit code
0 when every taggable resource complies, 1 when any violates the policy (every violation is listed, naming file and
resource), 2 when a file cannot be read or is none of the formats.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from costwarden.cli.main import CliError

EXIT_VIOLATIONS = 1


def _policy(path: str | None) -> Any:
    """The tag policy: ``--policy`` (a cdk.json, a settings JSON, or a bare policy) or the active settings."""
    from pydantic import ValidationError

    from costwarden.settings import TagPolicy, load_settings

    if path is None:
        return load_settings().tags
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CliError(f"cannot read policy {path}: {error}") from None
    if isinstance(raw, dict) and "context" in raw:
        raw = raw["context"].get("costwarden", {}).get("tags", {})
    elif isinstance(raw, dict) and isinstance(raw.get("tags"), dict):
        raw = raw["tags"]
    try:
        return TagPolicy.model_validate(raw)
    except ValidationError as error:
        raise CliError(f"invalid tag policy in {path}: {error}") from None


def _expand(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(path.glob("*.template.json"))
            if not found:
                raise CliError(f"{name} is a directory without *.template.json files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise CliError(f"no such file: {name}")
    return files


def _stack_tags(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--stack-tag expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def _as_json(reports: list[Any]) -> dict[str, Any]:
    violations: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    files: list[dict[str, Any]] = []
    for report in reports:
        files.append(
            {
                "file": report.name,
                "format": report.format,
                "resources_checked": len(report.results),
                "not_taggable": [{"resource": r, "type": t} for r, t in report.skipped],
            }
        )
        for result in report.results:
            where = {"file": report.name, "resource": result.resource, "resource_type": result.resource_type}
            violations.extend({**where, **f.to_dict()} for f in result.check.violations)
            notes.extend({**where, **f.to_dict()} for f in result.check.notes)
            notes.extend({**where, "code": "note", "message": text} for text in result.notes)
    return {"ok": not violations, "violations": violations, "notes": notes, "files": files}


def _print_table(reports: list[Any], out: Any) -> None:
    for report in reports:
        failing = [r for r in report.results if not r.check.ok]
        out.write(
            f"{report.name} ({report.format}): {len(report.results)} taggable resource(s) checked, "
            f"{len(failing)} failing, {len(report.skipped)} cannot carry tags\n"
        )
        for result in report.results:
            lines = [(f.code.value, f.key, f.message) for f in result.check.violations]
            lines += [("note", f.key, f.message) for f in result.check.notes]
            lines += [("note", "", text) for text in result.notes]
            if not lines:
                continue
            mark = "FAIL" if not result.check.ok else "ok  "
            kind = f" ({result.resource_type})" if result.resource_type else ""
            out.write(f"  {mark} {result.resource}{kind}\n")
            for code, key, message in lines:
                out.write(f"       {code:<21} {key:<16} {message}\n")


def _validate(args: argparse.Namespace) -> int:
    from costwarden.tags.iac import IacError, check_document, load_document

    policy = _policy(args.policy)
    extra = _stack_tags(args.stack_tag or [])
    reports = []
    for path in _expand(args.files):
        try:
            text = path.read_text(encoding="utf-8")
            reports.append(check_document(load_document(text, str(path)), policy, name=str(path), stack_tags=extra))
        except (OSError, UnicodeDecodeError) as error:
            raise CliError(f"cannot read {path}: {error}") from None
        except IacError as error:
            raise CliError(str(error)) from None
    count = sum(len(r.violations) for r in reports)
    if args.format == "json":
        json.dump(_as_json(reports), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(reports, sys.stdout)
        resources = sum(len(r.results) for r in reports)
        failing = sum(1 for r in reports for res in r.results if not res.check.ok)
        verdict = "FAIL" if count else "OK"
        sys.stdout.write(
            f"{verdict}: {count} violation(s) in {failing} of {resources} taggable resource(s), "
            f"{len(reports)} file(s)\n"
        )
    return EXIT_VIOLATIONS if count else 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("tags", help="check tags against the tag policy")
    commands = parser.add_subparsers(dest="tags_command", required=True, metavar="SUBCOMMAND")
    validate = commands.add_parser(
        "validate",
        help="check a tag set, CloudFormation template or Terraform plan (exit 1 on any violation)",
        description=(
            "Check every taggable resource in FILEs against the tag policy: a tag set (JSON), a CloudFormation "
            "template (JSON/YAML; a directory means its *.template.json, e.g. cdk.out), a Terraform plan "
            "('terraform show -json plan.out') or 'aws resourcegroupstaggingapi get-resources' output. "
            "Values only known at deploy time are accepted as present."
        ),
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="files (or cdk.out-style directories) to check")
    validate.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    validate.add_argument(
        "--policy",
        help="tag policy JSON: a cdk.json (context.costwarden.tags), a settings object, or a bare policy "
        "(default: COSTWARDEN_SETTINGS or the built-in policy)",
    )
    validate.add_argument(
        "--stack-tag",
        action="append",
        metavar="KEY=VALUE",
        help="a tag applied at deploy time to every resource (e.g. 'aws cloudformation deploy --tags'); repeatable",
    )
    validate.set_defaults(func=_validate)
    from costwarden.cli.org import add_audit_command  # organization scale: `tags audit [--accounts ...]`

    add_audit_command(commands)
