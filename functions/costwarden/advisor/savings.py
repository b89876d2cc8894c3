"""Savings on the table, per team: what the advisor's findings are worth a month, and the lines that say why.

Storage findings are monthly already. The purchase mix looks at ``mix_days`` of spend: its spot savings are scaled
to an average month (365/12 days). Commitments are account-wide (the operator's), so they are not added to a team.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from costwarden.advisor.purchase_mix import TeamMix
from costwarden.advisor.storage import StorageFinding, put_command

DAYS_PER_MONTH = 365 / 12
#: Where the latest advisor run leaves its savings per team (state table): the digest and the report read it.
MAX_ITEMS = 10


@dataclass(frozen=True)
class Saving:
    """One finding worth money: its line as the savings alert shows it, and what to do, for the report's
    "save X/month by <action>" (``command``: the exact command, when one does it)."""

    team: str
    usd_month: float
    line: str
    action: str
    command: str = ""

    def to_record(self) -> dict[str, Any]:
        """As stored with the advisor's latest run (state table), read back by the monthly report."""
        return {"usd_month": round(self.usd_month, 2), "action": self.action, "command": self.command}


def savings(storage: Sequence[StorageFinding], mixes: Sequence[TeamMix], *, mix_days: int) -> list[Saving]:
    """Every finding that saves money, per team (unsorted)."""
    found: list[Saving] = []
    for f in storage:
        if f.monthly_savings_usd > 0:
            found.append(
                Saving(
                    f.team,
                    f.monthly_savings_usd,
                    f"bucket {f.bucket.name}: {f.monthly_savings_usd:,.0f} USD/month with lifecycle rules "
                    f"({f.lifecycle_state.replace('_', ' ')} today)",
                    f"adding lifecycle rules to bucket {f.bucket.name} (expire or tier what it no longer reads)",
                    put_command(f.bucket.name, f.recommendation),
                )
            )
    scale = DAYS_PER_MONTH / mix_days
    for mix in mixes:
        for c in mix.candidates:
            if c.savings_usd:
                monthly = c.savings_usd * scale
                what = "SageMaker training" if c.kind == "sagemaker" else "on-demand"
                found.append(
                    Saving(
                        mix.team,
                        monthly,
                        f"{c.instance_type} {what} ({c.hours:,.0f} h): {monthly:,.0f} USD/month on spot",
                        f"running the {c.hours:,.0f} h of {c.instance_type} {what} on spot",
                    )
                )
        for job in [] if mix.training is None else mix.training.candidates:
            if job.counted and job.savings_usd:  # never counted without checkpoint-and-restart
                monthly = job.savings_usd * scale
                found.append(
                    Saving(
                        mix.team,
                        monthly,
                        f"training job {job.job.name} ({job.job.instance_type}, {job.job.instance_hours:,.0f} "
                        f"instance-h): {monthly:,.0f} USD/month on managed spot",
                        f"training {job.job.name} on managed spot (it checkpoints and restarts)",
                    )
                )
    return found


def team_savings(
    storage: Sequence[StorageFinding], mixes: Sequence[TeamMix], *, mix_days: int
) -> dict[str, tuple[float, list[str]]]:
    """team -> (USD per month, finding lines largest first)."""
    found = by_team(storage, mixes, mix_days=mix_days)
    return {team: (total, [s.line for s in items]) for team, (total, items) in found.items()}


def by_team(
    storage: Sequence[StorageFinding], mixes: Sequence[TeamMix], *, mix_days: int
) -> dict[str, tuple[float, list[Saving]]]:
    """team -> (USD per month, its savings largest first, at most ``MAX_ITEMS``)."""
    found: dict[str, list[Saving]] = defaultdict(list)
    for saving in savings(storage, mixes, mix_days=mix_days):
        found[saving.team].append(saving)
    out: dict[str, tuple[float, list[Saving]]] = {}
    for team, items in found.items():
        items.sort(key=lambda s: -s.usd_month)
        out[team] = (round(sum(s.usd_month for s in items), 2), items[:MAX_ITEMS])
    return out
