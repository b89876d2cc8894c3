"""``costwarden burn --events FILE``: the launch-time burn guard on recorded events, offline (docs/burn.md).

FILE holds EventBridge CloudTrail events as EventBridge delivers them: a JSON list, or JSON lines (one event per
line). They are judged exactly as the Lambda judges them (``services.burn.evaluate``, a fresh in-memory state
table, nothing published). ``--baseline FILE`` is the CSV ``detect`` reads (``date``, ``team``, ``cost_usd``): each
team's baseline on an event's day is ``cost.ledger.baselines`` of it, the daily detector's own. ``--prices FILE``
(``instance_type``, ``region``, ``usd_per_hour``, optional ``market``) prices offline; without it prices come from
the Price List API (AWS credentials needed). ``--format json``: the envelope of docs/cli.md, its ``results`` an
object with ``launches``, ``rates`` and ``alerts``. Exit 1 when an alert would be sent.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from costwarden.cli import envelope
from costwarden.cli.main import EXIT_FOUND, EXIT_OK, CliError

MAX_EVENTS_BYTES = 200 * 1024 * 1024


def read_events_file(path: Path) -> list[Any]:
    """A JSON list of events, or JSON lines; every problem names the file and the line."""
    try:
        if path.stat().st_size > MAX_EVENTS_BYTES:
            raise CliError(f"{path}: larger than {MAX_EVENTS_BYTES // 2**20} MiB; split it")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"{path}: cannot be read ({type(error).__name__}: {error})") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            events = json.loads(text)
        except json.JSONDecodeError as error:
            raise CliError(f"{path}: not a JSON list ({error.msg}, line {error.lineno})") from None
        except RecursionError:
            raise CliError(f"{path}: nested too deeply to be EventBridge events") from None
        return list(events)
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise CliError(f"{path}, line {number}: not a JSON event ({error.msg})") from None
        except RecursionError:
            raise CliError(f"{path}, line {number}: nested too deeply to be an EventBridge event") from None
    return found


def baseline_from_file(path: Path, settings: Any) -> Callable[[str, date], float | None]:
    """The daily detector's baseline (``cost.ledger.baselines``) of each team on a day, from a cost CSV."""
    from costwarden.cost import ledger
    from costwarden.cost.detect import DetectParams
    from costwarden.cost.frame import FrameError, load_costs

    try:
        frame = load_costs(path, ["team"], excluded_charge_categories=settings.anomaly.excluded_charge_categories)
    except (FrameError, OSError, ValueError) as error:
        raise CliError(f"--baseline: {error}") from None
    params = DetectParams.from_settings(settings.anomaly)
    days: dict[date, dict[str, float]] = {}

    def baseline(team: str, day: date) -> float | None:
        if day not in days:
            days[day] = {str(k): float(v) for k, v in ledger.baselines(frame.frame, day, params).items()}
        value = days[day].get(team)
        return None if value is None or math.isnan(value) else value  # NaN: too little history

    return baseline


def _prices(args: argparse.Namespace, store: Any) -> Any:
    if args.prices is None:
        from costwarden.services.burn import AwsPrices
        from costwarden.services.reaper import default_clients

        return AwsPrices(default_clients, store)
    from costwarden.burn.prices import FilePrices, PriceFileError

    try:
        return FilePrices.parse(Path(args.prices).read_text(encoding="utf-8"), source=str(args.prices))
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"--prices {args.prices}: cannot be read ({type(error).__name__})") from None
    except PriceFileError as error:
        raise CliError(f"--prices: {error}") from None


def run(args: argparse.Namespace) -> int:
    from costwarden.adapters.state import MemoryStateStore
    from costwarden.burn.events import BurnInputError
    from costwarden.burn.run import BurnPorts
    from costwarden.services.burn import evaluate
    from costwarden.settings import load_settings

    settings = load_settings()
    events = read_events_file(Path(args.events))
    store = MemoryStateStore()
    baseline = baseline_from_file(Path(args.baseline), settings) if args.baseline else (lambda _t, _d: None)
    ports = BurnPorts(store=store, prices=_prices(args, store), baseline=baseline)
    try:
        result = evaluate(events, settings, ports, now=datetime.now(UTC))
    except BurnInputError as error:
        raise CliError(f"{args.events}: {error}") from None
    if args.format == "json":
        envelope.emit("burn", result.results(), totals=result.totals(), errors=result.errors)
    else:
        print(_table(result))
    return EXIT_FOUND if result.alerts else EXIT_OK


def _table(result: Any) -> str:
    from costwarden.core.money import usd

    lines = [f"{len(result.launches)} launch(es), {result.duplicates} duplicate(s), {len(result.ignored)} ignored"]
    for launch in result.launches:
        price = f"{usd(launch.usd_per_hour, cents=True)}/h" if launch.usd_per_hour is not None else "unknown"
        lines.append(f"  {launch.time:%H:%M} {launch.team:<12} {launch.count:>3} x {launch.instance_type:<18} {price}")
        if launch.usd_per_hour is None:
            lines.append(f"        {launch.note}")
    for judged in result.alerts:
        lines.append(
            f"ALERT {judged.severity.value} {judged.team}: {usd(judged.usd_per_hour, cents=True)}/h, "
            f"{usd(judged.projected_day_usd)} a day at this rate vs a usual {usd(judged.baseline_day_usd)}"
        )
    return "\n".join(lines) if result.launches or result.alerts else lines[0] + "\nno launches"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "burn", help="price CloudTrail launch events and judge each team's burn rate (the launch-time guard)"
    )
    parser.add_argument("--events", required=True, help="EventBridge CloudTrail events: a JSON list or JSON lines")
    parser.add_argument("--baseline", help="the daily cost CSV detect reads (date, team, cost_usd)")
    parser.add_argument("--prices", help="offline prices: CSV instance_type, region, usd_per_hour[, market]")
    envelope.add_format(parser)
    parser.set_defaults(func=run)
