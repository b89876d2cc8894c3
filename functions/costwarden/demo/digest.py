"""Demo chapter: the next morning's daily digest. The real cost monitor handler runs a third time, on the scheduled
event of the morning after the reaper's night; its run ends with the one message the default channel gets every
day: month to date by team with budget status, the biggest movers, open anomalies, the month-end forecast, the
untagged share, and what the reaper did in the last 24 h and what expires in the next 72 h (read from the reaper's
audit log in the state table, relative to the run's own time).

The Cost Explorer answer is the steady-state incremental pull of ``costwarden.demo.cost`` (one request: vision's
fleet is still the same episode, so no root-cause request), built from the same line items.
"""

from __future__ import annotations

from costwarden.adapters.state import DynamoStateStore
from costwarden.cost.digest_handoff import reaper_expiry
from costwarden.demo import cost
from costwarden.demo.env import DemoEnv
from costwarden.demo.timeline import DIGEST_DAY, RUN_DAY, cost_run_at
from costwarden.digest.sources import load_reaper_facts
from costwarden.handlers.context import LocalContext
from costwarden.models.alert import AlertKind


def chapter(env: DemoEnv) -> None:
    from costwarden.handlers.cost_monitor import handler

    rows = cost.line_items()
    # Settings are per chapter (the reaper chapter set its own): the same budgets as the cost chapter.
    env.use_settings({"budgets": {"monthly_usd": cost.budgets_for(rows, RUN_DAY)}})
    at = cost_run_at(DIGEST_DAY)
    reaper, expiring = load_reaper_facts(DynamoStateStore(env.state_table_name), now=at, expired_from=reaper_expiry)
    env.say(
        f"{DIGEST_DAY}, {at:%H:%M} UTC: the cost monitor's daily run once more. Besides alerts, every run ends with "
        "one digest for the default channel, so nobody has to open a console to know how the money is doing."
    )
    env.say(
        "It combines this run's numbers (month to date, budgets, movers, open anomalies, forecast, untagged share) "
        f"with the reaper's audit log of the night: {len(reaper.decisions)} decision(s) in the last 24 h, "
        f"{len(expiring)} resource(s) expiring within 72 h."
    )
    if not reaper.decisions:
        raise RuntimeError(f"the reaper's audit log holds nothing in the 24 h before {at:%Y-%m-%d %H:%M} UTC")
    env.say("")
    cost.inject(env, cost.incremental_pages(rows, DIGEST_DAY))
    env.brief_kinds.discard(AlertKind.DIGEST.value)  # this one is shown in full
    summary = handler(cost.scheduled_event(DIGEST_DAY), LocalContext(function_name="cost_monitor"))
    cost.report(env, summary)
    if summary["digests_sent"] < 1:
        raise RuntimeError("the cost monitor sent no digest")
