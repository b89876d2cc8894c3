"""``costwarden digest``: render a digest from a ``DigestInput`` JSON file (or the built-in example day).

``--format table`` (default) prints it as the terminal sees it; ``json`` prints the envelope of docs/cli.md (one
result: the alert event as published to SNS); ``blocks`` prints the Block Kit JSON (paste it into Slack's Block Kit
Builder); ``event`` prints the bare alert event. ``--format text`` is the old name of ``table`` (still accepted,
with a deprecation line on stderr). ``--team`` renders one team's digest. Offline: nothing is published.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from costwarden.cli import envelope, scope
from costwarden.cli.main import CliError


def _command(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from costwarden.demo.example_digest import example_input
    from costwarden.digest.compose import compose_digest
    from costwarden.models.digest import DigestInput
    from costwarden.notifier.digest_blocks import blocks_as_text, digest_blocks
    from costwarden.settings import load_settings

    if args.input:
        path = Path(args.input)
        try:
            inp = DigestInput.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise CliError(f"cannot read {path}: {error}") from None
        except ValidationError as error:
            raise CliError(f"{path} is not a digest input:\n{error}") from None
    else:
        inp = example_input()
    if args.format == "text":
        envelope.deprecated("digest", "--format text", "--format table")
    top_n = args.top_n or load_settings().notifier.digest_top_n
    try:
        event = compose_digest(inp, top_n, team=None if args.team is None else scope.team(args.team, "--team"))
    except ValueError as error:
        raise CliError(str(error)) from None
    if args.format == "json":
        totals = {"date": inp.date.isoformat(), "teams": len(inp.teams), "anomalies": len(inp.anomalies)}
        envelope.emit("digest", [event.model_dump(mode="json")], totals=totals)
    elif args.format == "event":
        print(event.model_dump_json(indent=2))
    elif args.format == "blocks":
        print(json.dumps({"blocks": digest_blocks(event)}, indent=2, ensure_ascii=False))
    else:
        print(blocks_as_text(digest_blocks(event)))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "digest", help="render the daily digest from a DigestInput JSON file (default: the built-in example day)"
    )
    parser.add_argument("--input", metavar="FILE", help="DigestInput as JSON (default: the example day)")
    parser.add_argument("--team", help="render this team's digest instead of the fleet's")
    parser.add_argument("--top-n", type=int, help="teams listed by name (default: settings notifier.digest_top_n)")
    envelope.add_format(
        parser,
        "blocks",
        "event",
        "text",
        help_extra="; blocks: the Block Kit JSON; event: the alert event; text: old name of table",
    )
    parser.set_defaults(func=_command)
