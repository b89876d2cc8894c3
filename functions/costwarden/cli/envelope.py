"""One JSON envelope for every command's ``--format json``: the CLI's machine-readable contract (docs/cli.md).

``{"command", "generated_at", "complete", "errors", "results", "totals"}``, defined by ``docs/cli.schema.json``
(per-command ``results`` item shapes where they are fixed). A script reads every command the same way: ``results``
is a list (``burn``'s alone is an object of three lists: launches, rates, alerts), ``totals`` always a map, and
``complete`` is false exactly when ``errors`` names a source that could not be read, so a partial result is never
mistaken for a clean one (``cli/verdict.py`` holds the same rule for the table output). Built here and nowhere
else in the CLI, so the shape cannot drift between commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

#: ``--format`` values every command accepts; a command may add its own extra formats (digest: blocks, event).
FORMATS = ("table", "json")


def envelope(
    command: str,
    results: Sequence[Any] | Mapping[str, Any],
    *,
    errors: Sequence[str] = (),
    totals: Mapping[str, Any] | None = None,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """The envelope of one run of ``command``; ``complete`` is derived from ``errors``, never set apart from it."""
    problems = [str(error) for error in errors]
    return {
        "command": command,
        "generated_at": (generated_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "complete": not problems,
        "errors": problems,
        "results": dict(results) if isinstance(results, Mapping) else list(results),
        "totals": dict(totals or {}),
    }


def emit(command: str, results: Sequence[Any] | Mapping[str, Any], **parts: Any) -> None:
    """Print the envelope of this run on stdout; ``parts`` are ``envelope``'s (``errors``, ``totals``, ...)."""
    write(envelope(command, results, **parts))


def write(body: Mapping[str, Any], out: TextIO | None = None) -> None:
    """Print an envelope (``default=str``: dates and decimals as text, never a ``TypeError`` halfway through)."""
    stream = out or sys.stdout
    json.dump(body, stream, indent=2, default=str, ensure_ascii=False)
    stream.write("\n")
    stream.flush()


def add_format(parser: argparse.ArgumentParser, *extra: str, help_extra: str = "") -> None:
    """``--format table|json`` (plus a command's own ``extra`` formats), default ``table``."""
    parser.add_argument(
        "--format",
        choices=(*FORMATS, *extra),
        default="table",
        help="output format: table (for people, the default) or json (the envelope of docs/cli.md)" + help_extra,
    )


def deprecated(command: str, old: str, new: str) -> None:
    """One line on stderr for an old flag that still works: what to write instead."""
    print(f"costwarden {command}: {old} is deprecated; use {new}", file=sys.stderr)


def command_name(args: argparse.Namespace) -> str:
    """``tags validate`` for a subcommand, ``reap`` for a command: the envelope's ``command``."""
    sub = getattr(args, "tags_command", None)
    return f"{args.command} {sub}" if sub else str(args.command)
