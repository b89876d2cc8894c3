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
    "costwarden.cli.bedrock",
    "costwarden.cli.k8s",
    "costwarden.cli.burn",
    "costwarden.cli.unit_costs",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="costwarden",
        description="Cost guardrail for ML teams on AWS: anomalies, budgets, forecasts and a safe expiry reaper.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"costwarden {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for command in subparsers.choices.values():  # the same exit codes in every command's --help
        command.epilog = f"{command.epilog}\n\n{EXIT_CODES_HELP}" if command.epilog else EXIT_CODES_HELP
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the command; its return value is the exit code (non-zero when something failed)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"costwarden {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `costwarden digest | head`: the reader has what it wanted; say nothing more
        _silence_stdout()
        return EXIT_PIPE_CLOSED
    except CouldNotRunError as error:  # before CliError (its base): stdout, where the verdict would have been
        return _could_not_run(args, str(error))
    except (CliError, SettingsError) as error:  # SettingsError: the environment's settings or team directory
        print(f"costwarden {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:
        from costwarden.adapters.aws import AWS_ERRORS

        if not isinstance(error, AWS_ERRORS):
            raise
        # A read that failed is never a clean result: stdout says the command could not run, and why.
        return _could_not_run(args, could_not_run(error))


def _could_not_run(args: argparse.Namespace, reason: str) -> int:
    """Exit 3, saying so on stdout: one line, or with ``--format json`` an envelope with nothing in ``results``."""
    from costwarden.cli import envelope

    if getattr(args, "format", None) == "json":
        envelope.emit(envelope.command_name(args), [], errors=[f"could not run: {reason}"])
    else:
        print(f"costwarden {args.command}: could not run: {reason}")
    return EXIT_COULD_NOT_RUN


#: Exit codes, the same in every command (docs/cli.md): 0 done and nothing found that asks for action, 1 something
#: found (or an action failed), 2 bad input, 3 could not run or ran partially (a source could not be read).
EXIT_OK, EXIT_FOUND, EXIT_BAD_INPUT, EXIT_COULD_NOT_RUN = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
EXIT_PIPE_CLOSED = 141  # what a shell reports for a writer killed by SIGPIPE
EXIT_CODES_HELP = (
    "exit codes: 0 ok, nothing found; 1 found something (or an action failed); 2 bad input; "
    "3 could not run or partial (a source could not be read); 130 interrupted"
)


def could_not_run(error: BaseException) -> str:
    """One line for an AWS error: what failed and what to do, never a traceback or a credential."""
    from costwarden.redaction import redact

    name = type(error).__name__
    if name in {"NoCredentialsError", "PartialCredentialsError", "NoRegionError"}:
        hint = "set AWS_PROFILE (or AWS credentials) and AWS_REGION; the CLI uses boto3's standard configuration"
        return f"{redact(str(error))} ({hint})"
    return f"{name}: {redact(str(error))[:300]}"


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not raise BrokenPipeError again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (a test's capture): nothing to flush
        pass


class CliError(Exception):
    """A problem the user can fix (bad file, missing column): printed plainly, exit code 2, no traceback."""


class CouldNotRunError(CliError):
    """A source the command needs could not be read (no credentials, Cost Explorer unreachable): exit code 3."""


if __name__ == "__main__":
    raise SystemExit(main())
