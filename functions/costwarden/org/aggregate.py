"""The aggregation step between the two phases of an organization reaper run, and the run summary.

Two-phase: every account x region item plans (read role, nothing changes); this step sums the plans and decides,
before any account is touched:

* the global cap (``reaper.max_actions_per_run``) counts actions across ALL accounts: a plan over it acts nowhere
  and raises ``reap_blocked`` (as the single-account reaper does);
* the per-account cap (``organization.max_actions_per_account``) counts one account's actions across its regions:
  an account over it acts nowhere (the others go on) and is listed in the same alert;
* an item that failed (role missing, access denied, throttled past the state machine's retries) is reported; its
  account's other regions and the other accounts go on, and its unknown plan counts for nothing.

Only then does the act phase run, item by item, each bounded by the number of actions approved here (the member
account's reaper re-plans and refuses if its plan grew in between: the same single guard path, ``run_reaper``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from costwarden.core.alerts import build
from costwarden.core.keys import HashedKey
from costwarden.models.alert import AlertEvent, AlertKind, Severity

#: Planned actions an item reports by name (the rest are counted): keeps an item's output, its results file and the
#: reap-blocked alert small (the state carries only the results' keys: docs/architecture.md, "Fan-out state size").
SAMPLE_ACTIONS = 3
MAX_ALERT_ITEMS = 30


@dataclass(frozen=True)
class ItemOutcome:
    account_id: str
    region: str
    ok: bool
    planned_actions: int = 0
    error: str | None = None
    account_team: str | None = None
    sample: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    events: tuple[str, ...] = ()

    @classmethod
    def from_output(cls, raw: Mapping[str, Any]) -> ItemOutcome:
        """An item's JSON output (what ``handlers.org_item`` returns, or a Catch's error object around its input)."""
        if "Error" in raw or "Cause" in raw:  # a Catch result: {"Error", "Cause", plus the item's fields}
            item = raw.get("item", raw)
            return cls(
                str(item.get("account_id", "?")),
                str(item.get("region", "?")),
                ok=False,
                error=f"{raw.get('Error', 'error')}: {str(raw.get('Cause', ''))[:300]}",
                account_team=item.get("account_team"),
            )
        planned = raw.get("planned_actions", 0)
        return cls(
            account_id=str(raw.get("account_id", "?")),
            region=str(raw.get("region", "?")),
            ok=bool(raw.get("ok", False)),
            planned_actions=planned if isinstance(planned, int) and planned >= 0 else 0,
            error=raw.get("error"),
            account_team=raw.get("account_team"),
            sample=tuple(raw.get("sample", ())),
            counts=dict(raw.get("counts", {})),
            events=tuple(raw.get("events", ())),
        )


@dataclass
class Approval:
    """What the act phase may do: per item key (``account/region``) the approved action count."""

    approved: dict[str, int] = field(default_factory=dict)
    blocked_globally: bool = False
    blocked_accounts: dict[str, int] = field(default_factory=dict)
    """account id -> its planned actions, over the per-account cap."""
    failed: dict[str, str] = field(default_factory=dict)
    """``account/region`` -> error."""
    total_planned: int = 0
    global_cap: int = 0
    account_cap: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "total_planned": self.total_planned,
            "global_cap": self.global_cap,
            "account_cap": self.account_cap,
            "blocked_globally": self.blocked_globally,
            "blocked_accounts": dict(self.blocked_accounts),
            "approved_items": len(self.approved),
            "approved_actions": sum(self.approved.values()),
            "failed_items": dict(self.failed),
        }


def approve(outcomes: Sequence[ItemOutcome], *, global_cap: int, account_cap: int) -> Approval:
    """Check both caps over every item's plan before anything acts (see the module docstring)."""
    approval = Approval(global_cap=global_cap, account_cap=account_cap)
    per_account: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        if not outcome.ok:
            approval.failed[f"{outcome.account_id}/{outcome.region}"] = outcome.error or "failed"
            continue
        per_account[outcome.account_id] += outcome.planned_actions
    approval.total_planned = sum(per_account.values())
    if approval.total_planned > global_cap:
        approval.blocked_globally = True
        return approval
    approval.blocked_accounts = {a: n for a, n in per_account.items() if n > account_cap}
    for outcome in outcomes:
        if outcome.ok and outcome.planned_actions > 0 and outcome.account_id not in approval.blocked_accounts:
            approval.approved[f"{outcome.account_id}/{outcome.region}"] = outcome.planned_actions
    return approval


def blocked_items(outcomes: Sequence[ItemOutcome], approval: Approval) -> list[str]:
    """What the ``reap_blocked`` alert lists: the sampled actions of every blocked item, account first."""
    lines: list[str] = []
    for o in outcomes:
        if not o.ok or o.planned_actions == 0:
            continue
        if approval.blocked_globally or o.account_id in approval.blocked_accounts:
            lines.append(f"account {o.account_id} {o.region}: {o.planned_actions} planned")
            lines.extend(f"  {s}" for s in o.sample)
    return lines


def run_summary(
    plan: Sequence[ItemOutcome],
    approval: Mapping[str, Any],
    acted: Sequence[ItemOutcome],
    skipped_accounts: Mapping[str, str],
) -> dict[str, Any]:
    """The one summary a run writes: per account, what was planned, approved, done, and what failed."""
    accounts: dict[str, dict[str, Any]] = {}
    for outcome in plan:
        entry = accounts.setdefault(
            outcome.account_id,
            {"team": outcome.account_team, "planned": 0, "done": 0, "failed": 0, "regions": {}, "errors": []},
        )
        entry["planned"] += outcome.planned_actions
        entry["regions"][outcome.region] = "planned" if outcome.ok else "failed"
        if outcome.error:
            entry["errors"].append(f"{outcome.region} (plan): {outcome.error}")
    for outcome in acted:
        entry = accounts.setdefault(
            outcome.account_id,
            {"team": outcome.account_team, "planned": 0, "done": 0, "failed": 0, "regions": {}, "errors": []},
        )
        entry["done"] += int(outcome.counts.get("done", 0))
        entry["failed"] += int(outcome.counts.get("failed", 0))
        entry["regions"][outcome.region] = "acted" if outcome.ok else "act failed"
        if outcome.error:
            entry["errors"].append(f"{outcome.region} (act): {outcome.error}")
    for account_id in approval.get("blocked_accounts", {}):
        if account_id in accounts:
            accounts[account_id]["blocked"] = "over organization.max_actions_per_account"
    return {
        **approval,
        "items": len(plan),
        "accounts": accounts,
        "skipped_accounts": dict(skipped_accounts),
        "failed_accounts": sorted({o.account_id for o in [*plan, *acted] if not o.ok}),
    }


def org_reap_blocked(
    team: str, outcomes: Sequence[ItemOutcome], approval: Approval, now: datetime
) -> AlertEvent | None:
    """The critical alert of an organization run whose plan is over a cap (None when nothing is blocked)."""
    if not approval.blocked_globally and not approval.blocked_accounts:
        return None
    lines = blocked_items(outcomes, approval)
    if approval.blocked_globally:
        title = (
            f"Reaper blocked in every account: {approval.total_planned} actions planned across the organization, "
            f"the cap is {approval.global_cap}"
        )
        summary = (
            "The organization's plan has more actions than settings.reaper.max_actions_per_run, so no account was "
            "touched. Review the plan (costwarden reap --accounts all), then raise the cap or act by hand."
        )
    else:
        accounts = ", ".join(f"{a} ({n})" for a, n in sorted(approval.blocked_accounts.items()))
        title = f"Reaper blocked in {len(approval.blocked_accounts)} account(s) over the per-account cap"
        summary = (
            f"Accounts over organization.max_actions_per_account ({approval.account_cap}) were not touched: "
            f"{accounts}. The other accounts went on."
        )
    return build(
        AlertKind.REAP_BLOCKED,
        Severity.CRITICAL,
        team,
        HashedKey.of(HashedKey.ORG_REAP_BLOCKED, lines),
        title=title,
        summary=summary,
        figures={
            "Planned": approval.total_planned,
            "Cap": approval.global_cap,
            "Per account cap": approval.account_cap,
        },
        items=lines,
        max_items=MAX_ALERT_ITEMS,
        now=now,
    )
