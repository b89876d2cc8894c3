"""``costwarden run FUNCTION [--event FILE] [--apply]``: invoke a Lambda handler in-process with a sample event.

Never destructive without ``--apply``, whatever the environment says: a laptop where a deployed function's
environment was copied in (``COSTWARDEN_SETTINGS`` with ``reaper.dry_run: false``) must not start terminating
things. Without ``--apply`` the invocation sees its settings with the function's dry-run switch forced on
(``reaper.dry_run`` for the reaper, ``storage.dry_run`` for the advisor's lifecycle puts); with it, the handler runs
as deployed and follows that setting (on by default). Either way stderr says which. stdout is the handler's return
value as JSON (``--format table``, the default, as before) or the envelope of docs/cli.md (``--format json``: one
result, ``{"function", "result"}``; a handler that failed is named in ``errors``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from costwarden.cli import envelope
from costwarden.cli.main import CliError
from costwarden.handlers.context import LocalContext
from costwarden.settings import SETTINGS_ENV_VAR, Settings, SettingsError, load_settings

#: Function name -> handler, as deployed. ``events/<name>/`` holds sample events for each.
HANDLERS: dict[str, str] = {
    "notifier": "costwarden.handlers.notifier.handler",
    "cost_monitor": "costwarden.handlers.cost_monitor.handler",
    "tag_audit": "costwarden.handlers.tag_audit.handler",
    "reaper": "costwarden.handlers.reaper.handler",
    "idle": "costwarden.handlers.idle.handler",
    "advisor": "costwarden.handlers.advisor.handler",
    "report": "costwarden.handlers.advisor.report_handler",
    "burn": "costwarden.handlers.burn.handler",
}

#: Functions whose settings can make them act -> the settings section whose ``dry_run`` guards that; ``--apply``
#: matters for these only.
DRY_RUN_SECTION: dict[str, str] = {"reaper": "reaper", "advisor": "storage"}
DESTRUCTIVE = frozenset(DRY_RUN_SECTION)


def default_event(function: str) -> Path:
    """The first sample event of a function, from the repository's ``events/<function>/``."""
    folder = Path.cwd() / "events" / function
    candidates = sorted(folder.glob("*.json"))
    if not candidates:
        raise CliError(f"no --event given and no sample events in {folder}")
    return candidates[0]


def invoke(function: str, event: dict[str, Any]) -> Any:
    if function not in HANDLERS:
        raise CliError(f"unknown function {function!r}; known: {', '.join(sorted(HANDLERS))}")
    module_name, _, attribute = HANDLERS[function].rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    return handler(event, LocalContext(function_name=function))


def _settings() -> Settings:
    try:
        return load_settings()
    except (SettingsError, ValueError) as error:  # bad JSON in the variable is a user error too
        raise CliError(f"{SETTINGS_ENV_VAR}: {error}") from None


@contextlib.contextmanager
def dry_run_forced(function: str, apply: bool) -> Iterator[None]:
    """For the invocation only: the settings the handler loads say ``<section>.dry_run: true`` unless ``apply``.

    The environment and the settings cache are restored afterwards, so nothing outlives the command.
    """
    if function not in DESTRUCTIVE:
        yield
        return
    settings = _settings()
    name = f"costwarden run {function}"
    section_name = DRY_RUN_SECTION[function]
    section = getattr(settings, section_name)
    if apply:
        mode = "dry run" if section.dry_run else "ACTING"
        print(
            f"{name}: --apply: the handler follows settings.{section_name}.dry_run "
            f"(settings.{section_name}.dry_run is {str(section.dry_run).lower()}: {mode})",
            file=sys.stderr,
        )
        yield
        return
    print(
        f"{name}: dry run forced (no --apply): nothing is changed, whatever {SETTINGS_ENV_VAR} says",
        file=sys.stderr,
    )
    forced = settings.model_copy(update={section_name: section.model_copy(update={"dry_run": True})})
    before = os.environ.get(SETTINGS_ENV_VAR)
    os.environ[SETTINGS_ENV_VAR] = forced.to_env()
    load_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SETTINGS_ENV_VAR, None)
        else:
            os.environ[SETTINGS_ENV_VAR] = before
        load_settings.cache_clear()


def _command(args: argparse.Namespace) -> int:
    path = Path(args.event) if args.event else default_event(args.function)
    try:
        event = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CliError(f"cannot read event {path}: {error}") from None
    try:
        # What the function prints (JSON logs, EMF metrics) goes to stderr, as Lambda would log it; stdout gets only
        # the handler's return value, so `costwarden run ... | jq` works.
        with dry_run_forced(args.function, args.apply), contextlib.redirect_stdout(sys.stderr):
            result = invoke(args.function, event)
    except CliError:
        raise
    except Exception as error:
        # In Lambda this invocation would fail (and be retried / dead-lettered). Locally: one readable line, exit 1;
        # --traceback for the whole story.
        if args.traceback:
            raise
        failure = f"the handler failed: {type(error).__name__}: {error}"
        print(
            f"costwarden run {args.function}: {failure}\n"
            "(in Lambda this invocation would fail and be retried; add --traceback for details)",
            file=sys.stderr,
        )
        if args.format == "json":
            envelope.emit("run", [], errors=[failure], totals={"function": args.function})
        return 1
    if args.format == "json":
        envelope.emit("run", [{"function": args.function, "result": result}], totals={"function": args.function})
    else:
        json.dump(result, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="invoke a Lambda handler in-process with a sample event")
    parser.add_argument("function", choices=sorted(HANDLERS), help="which function")
    parser.add_argument("--event", help="event JSON file (default: the first in events/FUNCTION/)")
    parser.add_argument(
        "--apply",
        action="store_true",
        help="let the handler act as deployed (default: dry run forced, whatever COSTWARDEN_SETTINGS says)",
    )
    parser.add_argument("--traceback", action="store_true", help="show the full traceback when the handler fails")
    envelope.add_format(parser, help_extra=" (table: the handler's return value as JSON, as before)")
    parser.set_defaults(func=_command)
