"""``costwarden``: the guardrail's logic from a laptop (DESIGN.md, "CLI").

Each sub-command lives in its own module exposing ``register(subparsers)``; heavy imports (pandas, moto) happen
inside the command, so ``costwarden --help`` and the light commands start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from costwarden import __version__
from costwarden.settings import SettingsError

#: Sub-command modules, in the order ``--help`` lists them. Adding a command is one module plus one line here.
COMMAND_MODULES = (
    "costwarden.cli.run",
    "costwarden.cli.detect",
    "costwarden.cli.demo",
    "costwarden.cli.tags",
    "costwarden.cli.digest",
    "costwarden.cli.config_doc",
    "costwarden.cli.reap",
    "costwarden.cli.budgets",
    "costwarden.cli.limits",
    "costwarden.cli.advise",
    "costwarden.cli.report",
    "costwarden.cli.idle",
    "costwarden.cli.plan",
    "costwarden.cli.doctor",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="costwarden",
        description="Cost guardrail for ML teams on AWS: anomalies, budgets, forecasts and a safe expiry reaper.",
    )
    parser.add_argument("--version", action="version", version=f"costwarden {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the command; its return value is the exit code (non-zero when something failed)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except (CliError, SettingsError) as error:  # SettingsError: the environment's settings or team directory
        print(f"costwarden {args.command}: error: {error}", file=sys.stderr)
        return 2


class CliError(Exception):
    """A problem the user can fix (bad file, missing column): printed plainly, exit code 2, no traceback."""


if __name__ == "__main__":
    raise SystemExit(main())
