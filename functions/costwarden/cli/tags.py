"""``costwarden tags validate FILE...``: the tag policy as a CI gate, before anything is deployed.

Each FILE is a tag set (JSON), a CloudFormation template (JSON or YAML; a directory means its ``*.template.json``,
e.g. ``cdk.out``), a Terraform plan (``terraform show -json``) or tagging API output (``aws
resourcegroupstaggingapi get-resources``); the format is detected from the content. Nested stacks with a local
template (``TemplateURL``, CDK's ``*.nested.template.json`` assets) are read through their parent, relative to the
parent's folder. Exit code 0 when every taggable resource complies, 1 when any violates the policy (every violation
is listed, naming file and resource), 2 when a file cannot be read or is malformed (the message names the file and
the path inside it) — never a traceback, which would also exit 1 and read as "policy violated". ``--format json``:
the envelope of docs/cli.md, one result per file checked (its violations, notes and what was not checked), the
counts in ``totals``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from costwarden.cli import envelope
from costwarden.cli.main import CliError

EXIT_VIOLATIONS = 1


def _policy(path: str | None) -> Any:
    """The tag policy: ``--policy`` (a cdk.json, a settings JSON, or a bare policy) or the active settings."""
    from pydantic import ValidationError

    from costwarden.settings import TagPolicy, load_settings

    if path is None:
        return load_settings().tags
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        reason = "nested too deep" if isinstance(error, RecursionError) else error
        raise CliError(f"cannot read policy {path}: {reason}") from None
    if isinstance(raw, dict) and "context" in raw:  # a cdk.json
        context = raw["context"]
        costwarden = context.get("costwarden") if isinstance(context, dict) else None
        if not isinstance(costwarden, dict):
            raise CliError(f"invalid tag policy in {path}: context.costwarden must be a map")
        raw = costwarden.get("tags", {})
    elif isinstance(raw, dict) and isinstance(raw.get("tags"), dict):
        raw = raw["tags"]
    try:
        return TagPolicy.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in error.errors())
        raise CliError(f"invalid tag policy in {path}: {problems}") from None


#: CDK's nested-stack templates: read through the parent that names them (with its stack tags), not alone.
NESTED_SUFFIX = ".nested.template.json"


def _expand(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            # cdk.out: one template per stack, plus one folder per Stage (assembly-*).
            found = sorted(
                p
                for pattern in ("*.template.json", "assembly-*/*.template.json")
                for p in path.glob(pattern)
                if not p.name.endswith(NESTED_SUFFIX)
            )
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


def _file_result(report: Any) -> dict[str, Any]:
    """One checked file, as the envelope's result: what was checked, what violates the policy, what was skipped."""
    violations: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    for result in report.results:
        where = {"file": report.name, "resource": result.resource, "resource_type": result.resource_type}
        violations.extend({**where, **f.to_dict()} for f in result.check.violations)
        notes.extend({**where, **f.to_dict()} for f in result.check.notes)
        notes.extend({**where, "code": "note", "message": text} for text in result.notes)
    return {
        "file": report.name,
        "format": report.format,
        "resources_checked": len(report.results),
        "not_taggable": [{"resource": r, "type": t} for r, t in report.skipped],
        "violations": violations,
        "notes": notes,
        "not_checked": [{"file": report.name, **n.to_dict(), "detail": n.detail} for n in report.not_checked],
    }


def _as_json(reports: list[Any]) -> dict[str, Any]:
    results = [_file_result(report) for report in reports]
    violations = sum(len(r["violations"]) for r in results)
    totals = {
        "ok": not violations,
        "violations": violations,
        "notes": sum(len(r["notes"]) for r in results),
        "files": len(results),
        "resources_checked": sum(r["resources_checked"] for r in results),
        "not_checked": sum(len(r["not_checked"]) for r in results),
    }
    return envelope.envelope("tags validate", results, totals=totals)


def _print_table(reports: list[Any], out: Any) -> None:
    for report in reports:
        failing = [r for r in report.results if not r.check.ok]
        reasons = [n.reason for n in report.not_checked]
        extra = "".join(
            f", {reasons.count(reason)} {label}: not checked"
            for reason, label in (("not_aws", "not AWS"), ("unknown", "unknown"))
            if reason in reasons
        )
        out.write(
            f"{report.name} ({report.format}): {len(report.results)} taggable resource(s) checked, "
            f"{len(failing)} failing, {reasons.count('untaggable')} cannot carry tags{extra}\n"
        )
        for skipped in report.not_checked:
            if skipped.reason == "unknown":
                out.write(f"  skip {skipped.resource} ({skipped.resource_type})\n       {skipped.detail}\n")
        for result in report.results:
            lines = [(f.code.value, f.key, f.message) for f in result.check.violations]
            lines += [(f.code.value, f.key, f.message) for f in result.check.notes]
            lines += [("note", "", text) for text in result.notes]
            if not lines:
                continue
            mark = "FAIL" if not result.check.ok else "ok  "
            kind = f" ({result.resource_type})" if result.resource_type else ""
            out.write(f"  {mark} {result.resource}{kind}\n")
            for code, key, message in lines:
                out.write(f"       {code:<21} {key:<16} {message}\n")


def _read(path: Path) -> Any:
    """Read and parse one file; every failure is an ``IacError`` naming it."""
    from costwarden.tags.iac import IacError, load_document

    try:
        raw = path.read_bytes()
    except OSError as error:
        raise IacError(f"cannot read {path}: {error.strerror or error}") from None
    # `terraform show -json > plan.json` in Windows PowerShell writes UTF-16 with a byte-order mark.
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise IacError(f"{path}: not UTF-8 text (byte {error.start}): templates and plans are UTF-8") from None
    return load_document(text, str(path))


def _cdk_asset(key: str, folder: Path) -> Path | None:
    """The file a CDK asset object key (``<sha256>.json``) was published from, per the ``*.assets.json`` beside it."""
    for manifest in sorted(folder.glob("*.assets.json")):
        try:
            files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            continue
        for asset in files.values() if isinstance(files, dict) else ():
            destinations = asset.get("destinations", {}) if isinstance(asset, dict) else {}
            keys = {d.get("objectKey") for d in destinations.values() if isinstance(d, dict)}
            source = asset.get("source", {}).get("path") if isinstance(asset.get("source"), dict) else None
            if key in keys and isinstance(source, str):
                return folder / source
    return None


def _resolve_nested(reference: str, parent: str) -> tuple[str, Any]:
    """A nested stack's local template, relative to the folder of the template that names it."""
    from costwarden.tags.iac import CDK_ASSET_PREFIX, IacError

    folder = Path(parent).parent
    if reference.startswith(CDK_ASSET_PREFIX):
        key = reference.removeprefix(CDK_ASSET_PREFIX)
        found = _cdk_asset(key, folder)
        if found is None:
            raise IacError(f"CDK asset {key} is in no *.assets.json beside {parent}")
        path = found
    else:
        path = folder / reference
    if not path.is_file():
        raise IacError(f"no such file {path}")
    return str(path), _read(path)


def _validate(args: argparse.Namespace) -> int:
    from costwarden.tags.iac import IacError, check_document

    policy = _policy(args.policy)
    extra = _stack_tags(args.stack_tag or [])
    reports = []
    for path in _expand(args.files):
        try:
            document = _read(path)
            reports.append(check_document(document, policy, name=str(path), stack_tags=extra, resolve=_resolve_nested))
        except IacError as error:
            raise CliError(str(error)) from None
    count = sum(len(r.violations) for r in reports)
    try:
        _write(reports, args.format, count)
    except BrokenPipeError:
        # `costwarden tags validate ... | head`: the reader left; the verdict (exit code) still stands.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_VIOLATIONS if count else 0


def _write(reports: list[Any], fmt: str, count: int) -> None:
    if fmt == "json":
        envelope.write(_as_json(reports))
    else:
        _print_table(reports, sys.stdout)
        resources = sum(len(r.results) for r in reports)
        failing = sum(1 for r in reports for res in r.results if not res.check.ok)
        verdict = "FAIL" if count else "OK"
        sys.stdout.write(
            f"{verdict}: {count} violation(s) in {failing} of {resources} taggable resource(s), "
            f"{len(reports)} file(s)\n"
        )
        sys.stdout.flush()


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
    envelope.add_format(validate)
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
