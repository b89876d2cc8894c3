"""The fleet calculator: on-demand cost of a fleet against the cheapest honest purchase option per row.

The source's rules, exactly, when a row carries only the six required columns:

* ``always_on`` → the 1-year no-upfront reserved rate for the same hours;
* ``scheduled_batch`` → spot, with 10 % extra hours for interruptions;
* ``experimental`` → spot at 1.2x the hours (10 % for interruptions, 10 % for restarted experiments);
* savings rounded to whole USD (half up: money is not rounded to even).

The optional columns make it honest, because the source's own closing advice is "never count spot savings without
checkpoint-and-restart" and "buy Savings Plans before Reserved Instances for ML":

* ``interruption_rate`` — the chance a spot instance is interrupted in a given hour (0-1). With checkpointing each
  interruption costs about an hour of rework, so it replaces the 10 % allowance; its inverse is the expected time
  between interruptions.
* ``checkpointing`` — ``false`` means an interruption loses the whole run. Spot is then recommended only for runs no
  longer than the expected time between interruptions (``run_hours`` says how long a run is; without it the run
  length is unknown and spot is not recommended), and the expected rework is half a run per interruption.
* ``savings_plan_rate`` — an always-on row is put on a Savings Plan instead of a reserved instance: ML instance
  families change within a year and a Savings Plan follows them, a reserved instance does not.
* ``run_hours`` — the length of one run (hours), read only together with ``checkpointing=false``.

A recommendation never costs more than on-demand: every option of a row is priced and compared with on-demand
(``options`` in the JSON). An option that costs as much or more (a reserved or Savings Plan rate at or above the
on-demand rate, spot whose interruption allowance eats its discount) is "not worth it", named in the notes with its
figures, and never picked: the pick is the cheapest option, on-demand included, except that a Savings Plan that does
save is preferred to a cheaper reservation (flexibility, said in the note). Savings are therefore never negative.

Figures are bounded (``MAX_MONTHLY_HOURS``, ``MAX_RATE``): beyond them a figure is a typing error, and the file is
refused naming the row and the column, before the ``Decimal`` arithmetic could overflow its 28 digits.

Money is computed in ``Decimal`` from the CSV's own text, so ``2920 x 3.912`` is 11423.04, not a float's neighbour.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from costwarden.core.money import usd

REQUIRED_COLUMNS = (
    "instance_type",
    "monthly_hours",
    "on_demand_rate",
    "reserved_rate_1yr_no_upfront",
    "spot_rate",
    "workload_type",
)
OPTIONAL_COLUMNS = ("interruption_rate", "checkpointing", "savings_plan_rate", "run_hours")
#: The source's interruption allowance for scheduled batch work, replaced by ``interruption_rate`` when given.
DEFAULT_INTERRUPTION_ALLOWANCE = Decimal("0.10")
#: Experimental work is restarted more often than batch work: the source bills it at 1.2x (10 % above batch).
EXPERIMENT_RESTART_ALLOWANCE = Decimal("0.10")
#: A fleet file larger than this is not a fleet: refuse it instead of reading it into memory.
MAX_ROWS = 100_000
#: Hours of one row a month: about 1.4 million instances always on. More is a typing error, not a fleet; the bound
#: also keeps every product (hours x rate) within ``Decimal``'s 28 digits once quantized to cents.
MAX_MONTHLY_HOURS = Decimal(1_000_000_000)
#: USD per instance-hour: the dearest instance sells for about 100 USD/h; a thousand times that is a typing error.
MAX_RATE = Decimal(100_000)
#: Hours of one run (``run_hours``): a century.
MAX_RUN_HOURS = Decimal(1_000_000)
CENT = Decimal("0.01")
TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "0", "n"})


class FleetError(ValueError):
    """The fleet file is wrong; the message names the row (file line) and the column."""


class WorkloadType(StrEnum):
    ALWAYS_ON = "always_on"
    SCHEDULED_BATCH = "scheduled_batch"
    EXPERIMENTAL = "experimental"


class Strategy(StrEnum):
    RESERVED = "reserved_1yr_no_upfront"
    SAVINGS_PLAN = "savings_plan"
    SPOT = "spot"
    ON_DEMAND = "on_demand"


@dataclass(frozen=True)
class FleetRow:
    line: int
    instance_type: str
    monthly_hours: Decimal
    on_demand_rate: Decimal
    reserved_rate: Decimal
    spot_rate: Decimal
    workload_type: WorkloadType
    interruption_rate: Decimal | None = None
    checkpointing: bool | None = None
    savings_plan_rate: Decimal | None = None
    run_hours: Decimal | None = None


@dataclass(frozen=True)
class Option:
    """One way to buy a row's hours, priced: what the pick is chosen from and shown against on-demand."""

    strategy: Strategy
    billed_hours: Decimal
    rate: Decimal

    @property
    def monthly(self) -> Decimal:
        return _money(self.billed_hours, self.rate)

    def to_dict(self, on_demand: Decimal) -> dict[str, Any]:
        return {
            "strategy": self.strategy.value,
            "billed_hours": float(self.billed_hours.quantize(CENT, ROUND_HALF_UP)),
            "rate": float(self.rate),
            "monthly": float(self.monthly.quantize(CENT, ROUND_HALF_UP)),
            "monthly_savings": whole_usd(on_demand - self.monthly),
            "worth_it": self.strategy is Strategy.ON_DEMAND or self.monthly < on_demand,
        }


@dataclass(frozen=True)
class FleetResult:
    row: FleetRow
    strategy: Strategy
    billed_hours: Decimal
    rate: Decimal
    on_demand_monthly: Decimal
    optimal_monthly: Decimal
    notes: tuple[str, ...] = ()
    #: Every option priced for the row, on-demand first (the pick is one of them).
    options: tuple[Option, ...] = ()

    @property
    def exact_savings(self) -> Decimal:
        return self.on_demand_monthly - self.optimal_monthly

    @property
    def monthly_savings(self) -> int:
        return whole_usd(self.exact_savings)

    @property
    def savings_pct(self) -> float:
        return pct(self.exact_savings, self.on_demand_monthly)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_type": self.row.instance_type,
            "workload_type": self.row.workload_type.value,
            "monthly_hours": float(self.row.monthly_hours),
            "strategy": self.strategy.value,
            "billed_hours": float(self.billed_hours.quantize(CENT, ROUND_HALF_UP)),
            "rate": float(self.rate),
            "on_demand_monthly": float(self.on_demand_monthly.quantize(CENT, ROUND_HALF_UP)),
            "optimal_monthly": float(self.optimal_monthly.quantize(CENT, ROUND_HALF_UP)),
            "monthly_savings": self.monthly_savings,
            "savings_pct": self.savings_pct,
            "notes": list(self.notes),
            "options": [o.to_dict(self.on_demand_monthly) for o in self.options],
        }


@dataclass(frozen=True)
class FleetReport:
    results: tuple[FleetResult, ...] = field(default_factory=tuple)

    @property
    def on_demand_monthly(self) -> Decimal:
        return sum((r.on_demand_monthly for r in self.results), Decimal(0))

    @property
    def optimal_monthly(self) -> Decimal:
        return sum((r.optimal_monthly for r in self.results), Decimal(0))

    def totals(self) -> dict[str, Any]:
        """Totals of the exact figures, then rounded once (a sum of rounded rows would drift by a dollar a row)."""
        savings = self.on_demand_monthly - self.optimal_monthly
        return {
            "on_demand_monthly": float(self.on_demand_monthly.quantize(CENT, ROUND_HALF_UP)),
            "optimal_monthly": float(self.optimal_monthly.quantize(CENT, ROUND_HALF_UP)),
            "monthly_savings": whole_usd(savings),
            "savings_pct": pct(savings, self.on_demand_monthly),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [r.to_dict() for r in self.results], "totals": self.totals()}


def whole_usd(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), ROUND_HALF_UP))


def pct(part: Decimal, whole: Decimal) -> float:
    if whole == 0:
        return 0.0
    return float((part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP))


def _money(hours: Decimal, rate: Decimal) -> Decimal:
    return hours * rate


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


# ---------------------------------------------------------------------------------------------------- parsing


def _decimal(raw: str, where: str, *, positive: bool = False, at_most: Decimal | None = None) -> Decimal:
    text = raw.strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FleetError(f"{where}: {raw!r} is not a number") from None
    if not value.is_finite():
        raise FleetError(f"{where}: {raw!r} is not a finite number")
    if value < 0 or (positive and value == 0):
        raise FleetError(f"{where}: {raw!r} must be {'above' if positive else 'at least'} 0")
    if at_most is not None and value > at_most:
        raise FleetError(f"{where}: {raw!r} must be at most {format(at_most.normalize(), 'f')}")
    return value


def _rate(raw: str, where: str) -> Decimal:
    """A USD-per-hour rate: above 0, at most ``MAX_RATE``."""
    return _decimal(raw, where, positive=True, at_most=MAX_RATE)


def _bool(raw: str, where: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FleetError(f"{where}: {raw!r} is not true or false")


def _where(source: str, line: int, column: str) -> str:
    return f"{source}: row {line}, column {column}"


def parse_fleet(text: str, *, source: str = "fleet") -> list[FleetRow]:
    """Rows of a fleet CSV (header first). ``row N`` in errors is the file's line number, the header being line 1."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise FleetError(f"{source}: row 1: not valid CSV ({error})") from None
    if header is None or not any(cell.strip() for cell in header):
        raise FleetError(f"{source}: empty file; expected a header with {', '.join(REQUIRED_COLUMNS)}")
    columns = [cell.strip().lower() for cell in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise FleetError(f"{source}: row 1: missing column(s) {', '.join(missing)}")
    unknown = [c for c in columns if c not in REQUIRED_COLUMNS and c not in OPTIONAL_COLUMNS]
    if unknown:
        known = ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
        raise FleetError(f"{source}: row 1: unknown column(s) {', '.join(unknown)} (known: {known})")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise FleetError(f"{source}: row 1: column(s) given twice: {', '.join(duplicated)}")
    rows: list[FleetRow] = []
    line = 1
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as error:
            raise FleetError(f"{source}: row {reader.line_num}: not valid CSV ({error})") from None
        if cells is None:
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            raise FleetError(f"{source}: row {line}: {len(cells)} values for {len(columns)} columns")
        if len(rows) >= MAX_ROWS:
            raise FleetError(f"{source}: more than {MAX_ROWS} rows; split the fleet")
        rows.append(_row(dict(zip(columns, cells, strict=True)), line, source))
    if not rows:
        raise FleetError(f"{source}: no rows after the header")
    return rows


def _row(cells: dict[str, str], line: int, source: str) -> FleetRow:
    def where(column: str) -> str:
        return _where(source, line, column)

    instance_type = cells["instance_type"].strip()
    if not instance_type:
        raise FleetError(f"{where('instance_type')}: empty")
    workload = cells["workload_type"].strip().lower()
    try:
        workload_type = WorkloadType(workload)
    except ValueError:
        allowed = ", ".join(w.value for w in WorkloadType)
        raise FleetError(f"{where('workload_type')}: {cells['workload_type']!r} is not one of {allowed}") from None

    def optional(column: str) -> str | None:
        value = cells.get(column, "").strip()
        return value or None

    interruption = optional("interruption_rate")
    checkpointing = optional("checkpointing")
    savings_plan = optional("savings_plan_rate")
    run_hours = optional("run_hours")
    return FleetRow(
        line=line,
        instance_type=instance_type,
        monthly_hours=_decimal(cells["monthly_hours"], where("monthly_hours"), at_most=MAX_MONTHLY_HOURS),
        on_demand_rate=_rate(cells["on_demand_rate"], where("on_demand_rate")),
        reserved_rate=_rate(cells["reserved_rate_1yr_no_upfront"], where("reserved_rate_1yr_no_upfront")),
        spot_rate=_rate(cells["spot_rate"], where("spot_rate")),
        workload_type=workload_type,
        interruption_rate=(
            None
            if interruption is None
            else _decimal(interruption, where("interruption_rate"), positive=True, at_most=Decimal(1))
        ),
        checkpointing=None if checkpointing is None else _bool(checkpointing, where("checkpointing")),
        savings_plan_rate=None if savings_plan is None else _rate(savings_plan, where("savings_plan_rate")),
        run_hours=(
            None if run_hours is None else _decimal(run_hours, where("run_hours"), positive=True, at_most=MAX_RUN_HOURS)
        ),
    )


# ---------------------------------------------------------------------------------------------------- rules


def not_worth_it(option: Option, on_demand: Decimal) -> str | None:
    """The note for an option that saves nothing against on-demand, with its figures; None when it saves."""
    monthly = option.monthly
    if monthly < on_demand:
        return None
    figures = f"{_fmt(option.billed_hours)} h x {_fmt(option.rate)} = {usd(monthly, cents=True)}/month"
    if monthly == on_demand:
        return f"{option.strategy.value} saves nothing against on-demand: {figures}"
    return (
        f"{option.strategy.value} not worth it: {figures}, {usd(monthly - on_demand, cents=True)} more than on-demand "
        f"({usd(on_demand, cents=True)})"
    )


def _result(
    row: FleetRow, pick: Option, on_demand: Option, options: Sequence[Option], notes: Sequence[str]
) -> FleetResult:
    return FleetResult(
        row,
        pick.strategy,
        pick.billed_hours,
        pick.rate,
        on_demand.monthly,
        pick.monthly,
        tuple(notes),
        (on_demand, *options),
    )


def advise_row(row: FleetRow) -> FleetResult:
    """The cheapest honest option for one row, never dearer than on-demand, with the reasons in ``notes``."""
    on_demand = Option(Strategy.ON_DEMAND, row.monthly_hours, row.on_demand_rate)
    if row.workload_type is WorkloadType.ALWAYS_ON:
        return _always_on(row, on_demand)
    return _spot_eligible(row, on_demand)


def _always_on(row: FleetRow, on_demand: Option) -> FleetResult:
    reserved = Option(Strategy.RESERVED, row.monthly_hours, row.reserved_rate)
    plan = (
        None
        if row.savings_plan_rate is None
        else Option(Strategy.SAVINGS_PLAN, row.monthly_hours, row.savings_plan_rate)
    )
    options = [o for o in (plan, reserved) if o is not None]
    notes = [note for o in options if (note := not_worth_it(o, on_demand.monthly)) is not None]
    if plan is not None and plan.monthly < on_demand.monthly:
        note = (
            "Savings Plan preferred to a reserved instance: ML instance families change within a year and a Savings "
            f"Plan follows the change, a reserved {row.instance_type} does not"
        )
        if reserved.monthly < plan.monthly:
            extra = whole_usd(plan.monthly - reserved.monthly)
            note += f" (the reserved instance would save {extra} USD/month more while the family stays)"
        return _result(row, plan, on_demand, options, [*notes, note])
    pick = reserved if reserved.monthly < on_demand.monthly else on_demand
    return _result(row, pick, on_demand, options, notes)


def _spot_eligible(row: FleetRow, on_demand: Option) -> FleetResult:
    rate = row.interruption_rate
    allowance = DEFAULT_INTERRUPTION_ALLOWANCE if rate is None else rate
    notes: list[str] = []
    if row.checkpointing is False:
        hourly = rate if rate is not None else DEFAULT_INTERRUPTION_ALLOWANCE
        between = Decimal(1) / hourly
        if row.run_hours is None or row.run_hours > between:
            length = "of unknown length (no run_hours)" if row.run_hours is None else f"of {_fmt(row.run_hours)} h"
            notes.append(
                f"spot not recommended: without checkpointing an interruption loses the whole run, and a run {length} "
                f"is not shorter than the expected {_fmt(between.quantize(Decimal('0.1'), ROUND_HALF_UP))} h between "
                "interruptions; add checkpoint-and-restart to save on spot"
            )
            return _result(row, on_demand, on_demand, (), notes)
        # Without checkpoints each interruption repeats, on average, half a run.
        allowance = max(hourly, hourly * row.run_hours / 2)
        notes.append(
            f"no checkpointing, but a run of {_fmt(row.run_hours)} h fits in the expected {_fmt(between)} h between "
            f"interruptions: {_fmt((allowance * 100).quantize(Decimal('0.1'), ROUND_HALF_UP))} % extra hours for reruns"
        )
    if row.workload_type is WorkloadType.EXPERIMENTAL:
        allowance += EXPERIMENT_RESTART_ALLOWANCE
    spot = Option(Strategy.SPOT, row.monthly_hours * (1 + allowance), row.spot_rate)
    dearer = not_worth_it(spot, on_demand.monthly)
    if dearer is not None:
        return _result(row, on_demand, on_demand, (spot,), [*notes, dearer])
    if rate is not None:
        notes.append(f"interruption rate {_fmt(rate)}/h replaces the 10 % allowance")
    return _result(row, spot, on_demand, (spot,), notes)


def advise_fleet(rows: Iterable[FleetRow]) -> FleetReport:
    return FleetReport(tuple(advise_row(row) for row in rows))


TABLE_COLUMNS: Sequence[tuple[str, str]] = (
    ("instance_type", "INSTANCE TYPE"),
    ("workload_type", "WORKLOAD"),
    ("monthly_hours", "HOURS"),
    ("strategy", "STRATEGY"),
    ("on_demand_monthly", "ON-DEMAND/MO"),
    ("optimal_monthly", "OPTIMAL/MO"),
    ("monthly_savings", "SAVINGS/MO"),
    ("savings_pct", "SAVINGS %"),
)


def render_table(report: FleetReport) -> str:
    """Aligned text: one line a row, a totals line, then the notes that explain a departure from the plain rules."""

    def cell(key: str, value: Any) -> str:
        if key in ("on_demand_monthly", "optimal_monthly"):
            return f"{value:,.2f}"
        if key == "monthly_savings":
            return f"{value:,d}"
        if key == "savings_pct":
            return f"{value:.1f}"
        if key == "monthly_hours":
            return f"{value:,g}"
        return str(value)

    rows = [r.to_dict() for r in report.results]
    totals = report.totals()
    body = [[cell(k, r[k]) for k, _ in TABLE_COLUMNS] for r in rows]
    total_cells = ["TOTAL", "", "", ""] + [cell(k, totals[k]) for k, _ in TABLE_COLUMNS[4:]]
    grid = [[label for _, label in TABLE_COLUMNS], *body, total_cells]
    widths = [max(len(line[i]) for line in grid) for i in range(len(TABLE_COLUMNS))]
    numeric = {2, 4, 5, 6, 7}

    def fmt(line: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()

    lines = [fmt(line) for line in grid]
    notes = [(r.row, note) for r in report.results for note in r.notes]
    if notes:
        lines.append("")
        lines.extend(f"row {row.line} ({row.instance_type}): {note}" for row, note in notes)
    return "\n".join(lines)
