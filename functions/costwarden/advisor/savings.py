"""Savings on the table, per team: what the advisor's findings are worth a month, and the lines that say why.

Storage findings are monthly already. The purchase mix looks at ``mix_days`` of spend: its spot savings are scaled
to an average month (365/12 days). Commitments are account-wide (the operator's), so they are not added to a team.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from costwarden.advisor.purchase_mix import TeamMix
from costwarden.advisor.storage import StorageFinding

DAYS_PER_MONTH = 365 / 12
#: Where the latest advisor run leaves its savings per team (state table): the digest and the report read it.
MAX_ITEMS = 10


def team_savings(
    storage: Sequence[StorageFinding], mixes: Sequence[TeamMix], *, mix_days: int
) -> dict[str, tuple[float, list[str]]]:
    """team -> (USD per month, finding lines largest first)."""
    found: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for f in storage:
        if f.monthly_savings_usd > 0:
            found[f.team].append(
                (
                    f.monthly_savings_usd,
                    f"bucket {f.bucket.name}: {f.monthly_savings_usd:,.0f} USD/month with lifecycle rules "
                    f"({f.lifecycle_state.replace('_', ' ')} today)",
                )
            )
    scale = DAYS_PER_MONTH / mix_days
    for mix in mixes:
        for c in mix.candidates:
            if c.savings_usd:
                monthly = c.savings_usd * scale
                what = "SageMaker training" if c.kind == "sagemaker" else "on-demand"
                found[mix.team].append(
                    (monthly, f"{c.instance_type} {what} ({c.hours:,.0f} h): {monthly:,.0f} USD/month on spot")
                )
        for job in [] if mix.training is None else mix.training.candidates:
            if job.counted and job.savings_usd:  # never counted without checkpoint-and-restart
                monthly = job.savings_usd * scale
                found[mix.team].append(
                    (
                        monthly,
                        f"training job {job.job.name} ({job.job.instance_type}, {job.job.instance_hours:,.0f} "
                        f"instance-h): {monthly:,.0f} USD/month on managed spot",
                    )
                )
    out: dict[str, tuple[float, list[str]]] = {}
    for team, items in found.items():
        items.sort(key=lambda pair: -pair[0])
        out[team] = (round(sum(v for v, _ in items), 2), [line for _, line in items[:MAX_ITEMS]])
    return out
