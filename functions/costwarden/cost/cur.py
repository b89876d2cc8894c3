"""Derive a daily per-team cost table from a legacy AWS Cost and Usage Report (Athena/Parquet column names).

``python -m costwarden.cost.cur OUT.csv CUR.parquet [CUR.parquet ...] [--team-tag department] [--cost amortized]``
writes ``date, team, cost_usd`` (one row per UTC day and team), ready for ``costwarden detect --costs OUT.csv``.

Amortised cost (the default, like Cost Explorer's ``AmortizedCost``): ``Usage`` at its unblended cost,
``DiscountedUsage`` (covered by a reservation) at ``reservation_effective_cost``, and ``RIFee`` only for the unused
part of the reservation (``reservation_unused_amortized_upfront_fee_for_billing_period`` +
``reservation_unused_recurring_fee``), which spreads monthly reservation fees over the hours that used them instead
of landing them all on the 1st of the month. ``--cost unblended`` shows the naive view (the 1st-of-month jump).
Credits, refunds and taxes are left out either way. Months may differ in columns (real CURs drift): a missing
column counts as zero / untagged. Untagged cost is kept, as ``(untagged)``.

Amounts are never added across currencies: a CUR billed in anything but USD alone (``line_item_currency_code``)
gets a ``currency`` column, one row per day, team and currency, which ``costwarden detect`` then refuses to mix or
labels. A cost that is not a finite number or a date outside ISO 8601 is an error naming the file, row and column.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from costwarden.cost.frame import COST, DATE, UNTAGGED, FrameError, parse_amounts, parse_days

EXCLUDED_LINE_ITEM_TYPES = ("Credit", "Refund", "Tax")
CURRENCY_COLUMN = "line_item_currency_code"


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    """A cost column; missing column or empty cell is 0 (CURs leave unused fields blank), non-finite is an error."""
    if name in table.columns:
        values = table[name]
        present = values.notna().to_numpy()
        amounts = np.zeros(len(values))
        amounts[present] = parse_amounts(table, values[present], name)
        return pd.Series(amounts, index=table.index)
    return pd.Series(0.0, index=table.index)


def amortized_cost(table: pd.DataFrame) -> pd.Series:
    """Per line item: what it costs once reservation fees are spread over the usage they cover."""
    kind = table["line_item_line_item_type"]
    unblended = _column(table, "line_item_unblended_cost")
    effective = _column(table, "reservation_effective_cost")
    unused = _column(table, "reservation_unused_amortized_upfront_fee_for_billing_period") + _column(
        table, "reservation_unused_recurring_fee"
    )
    cost = np.select(
        [kind == "Usage", kind == "DiscountedUsage", kind == "RIFee", kind == "Fee"],
        [unblended, effective, unused, 0.0],
        default=unblended,
    )
    return pd.Series(cost, index=table.index)


def daily_by_team(
    tables: Sequence[pd.DataFrame], *, team_tag: str = "department", cost: str = "amortized"
) -> pd.DataFrame:
    """``date, team, cost_usd`` summed per UTC day and team over the given CUR tables."""
    tag_column = f"resource_tags_user_{team_tag}"
    parts = []
    for table in tables:
        rows = table.loc[~table["line_item_line_item_type"].isin(EXCLUDED_LINE_ITEM_TYPES)]
        start = parse_days(table, rows["line_item_usage_start_date"], "line_item_usage_start_date")
        team = rows[tag_column] if tag_column in rows.columns else pd.Series(None, index=rows.index, dtype=object)
        team = team.astype("string").str.strip().fillna("").replace("", UNTAGGED)
        amount = amortized_cost(rows) if cost == "amortized" else _column(rows, "line_item_unblended_cost")
        currency = (
            rows[CURRENCY_COLUMN].astype("string").str.strip().str.upper().fillna("USD")
            if CURRENCY_COLUMN in rows.columns
            else pd.Series("USD", index=rows.index)
        )
        parts.append(
            pd.DataFrame(
                {
                    DATE: start,
                    "team": team.astype(object).to_numpy(),
                    "currency": currency.astype(object).to_numpy(),
                    COST: amount.to_numpy(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=[DATE, "team", COST])
    daily = pd.concat(parts, ignore_index=True).groupby([DATE, "team", "currency"], as_index=False)[COST].sum()
    daily[DATE] = daily[DATE].dt.strftime("%Y-%m-%d")
    daily[COST] = daily[COST].round(6)
    if set(daily["currency"]) == {"USD"}:  # the plain contract: date, team, cost_usd
        return daily.drop(columns="currency").sort_values([DATE, "team"]).reset_index(drop=True)
    return daily[[DATE, "team", COST, "currency"]].sort_values([DATE, "team", "currency"]).reset_index(drop=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m costwarden.cost.cur", description=__doc__.splitlines()[0])
    parser.add_argument("out", help="CSV to write (date, team, cost_usd)")
    parser.add_argument("cur", nargs="+", help="CUR Parquet file(s)")
    parser.add_argument("--team-tag", default="department", help="user tag holding the team (default department)")
    parser.add_argument("--cost", choices=("amortized", "unblended"), default="amortized")
    args = parser.parse_args(argv)
    tables = []
    for path in args.cur:
        try:
            tables.append(pd.read_parquet(Path(path)))
        except Exception as error:  # pyarrow's own hierarchy, OSError, ...: one line, no traceback
            print(f"{parser.prog}: error: cannot read {path}: {error}", file=sys.stderr)
            return 2
        if "line_item_line_item_type" not in tables[-1].columns:
            print(f"{parser.prog}: error: {path} is not a CUR (no line_item_line_item_type column)", file=sys.stderr)
            return 2
    try:
        daily = daily_by_team(tables, team_tag=args.team_tag, cost=args.cost)
    except FrameError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    daily.to_csv(args.out, index=False)
    print(f"wrote {len(daily)} rows ({daily['team'].nunique()} teams, {daily[DATE].nunique()} days) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
