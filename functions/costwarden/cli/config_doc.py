"""``costwarden config-doc [--write FILE | --check FILE]``: the configuration reference, from the settings model.

Without options it prints the Markdown table. ``--write README.md`` replaces what lies between
``<!-- config-table:start -->`` and ``<!-- config-table:end -->`` in that file; ``--check README.md`` changes
nothing and exits 1 when that section is stale (for CI), 0 when it is current. ``--format json``: the envelope of
docs/cli.md — one result per setting (``key, type, default, description``), or with ``--write`` / ``--check`` one
result naming the file and what was found (``current``, ``stale``, ``rewritten``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from costwarden.cli import envelope
from costwarden.cli.main import CliError
from costwarden.settings_doc import (
    MarkerError,
    config_table,
    is_stale,
    iter_settings,
    missing_descriptions,
    replace_section,
)


def _command(args: argparse.Namespace) -> int:
    undocumented = missing_descriptions()
    if undocumented:
        print(
            f"warning: settings without a description: {', '.join(undocumented)} "
            "(add a docstring under each field in costwarden/settings/)",
            file=sys.stderr,
        )
    table = config_table()
    target = args.write or args.check
    json_out = args.format == "json"
    if target is None:
        if json_out:
            rows = [
                {"key": d.key, "type": d.type, "default": d.default, "description": d.description}
                for d in iter_settings()
            ]
            envelope.emit("config-doc", rows, totals={"settings": len(rows), "undocumented": len(undocumented)})
        else:
            print(table)
        return 0
    path = Path(target)
    try:
        text = path.read_text(encoding="utf-8")
        stale = is_stale(text, table)
    except OSError as error:
        raise CliError(f"cannot read {path}: {error}") from None
    except MarkerError as error:
        raise CliError(f"{path}: {error}") from None
    if args.check:
        if stale or undocumented:
            print(f"{path}: configuration table is stale; run `costwarden config-doc --write {path}`", file=sys.stderr)
            _file_status(json_out, path, "stale", len(undocumented))
            return 1
        _file_status(json_out, path, "current", 0, f"{path}: configuration table is current")
        return 0
    if stale:
        path.write_text(replace_section(text, table), encoding="utf-8")
        _file_status(json_out, path, "rewritten", len(undocumented), f"{path}: configuration table rewritten")
    else:
        _file_status(json_out, path, "current", len(undocumented), f"{path}: configuration table already current")
    return 0


def _file_status(json_out: bool, path: Path, status: str, undocumented: int, line: str = "") -> None:
    """What ``--write`` / ``--check`` found: the envelope, or the line the table output always printed."""
    if json_out:
        envelope.emit("config-doc", [{"file": str(path), "status": status}], totals={"undocumented": undocumented})
    elif line:
        print(line)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "config-doc", help="print the configuration reference (every setting, its default and meaning) as Markdown"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", help="rewrite the table between the config-table markers in FILE")
    group.add_argument("--check", metavar="FILE", help="exit 1 if the table in FILE is stale; change nothing")
    envelope.add_format(parser)
    parser.set_defaults(func=_command)
