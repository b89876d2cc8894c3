"""Demo chapter: minutes, not a day — the launch-time burn guard. At 09:00 a team launches eight p4d.24xlarge; the
CloudTrail events reach the burn function a few minutes later (09:03) and the team is told then, not at the next
morning's daily run, about 6,000 USD later.

What is real: the EventBridge CloudTrail events (the recorded shape of ``events/burn/``), the burn service the
Lambda calls (``services.burn.evaluate``), the state table and the alert topic of the simulated account, and the
baseline: the one the cost monitor's last run of this demo left for the team (``core.baselines``). moto has no Price
List API: a stand-in answers ``GetProducts`` with the on-demand price AWS's Price List gives for p4d.24xlarge in
us-east-1 (32.7726 USD/hour, the recorded answer of ``tests/fixtures/idle/get_products_ec2.json``).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from costwarden.adapters.state import DynamoStateStore
from costwarden.core import baselines, episodes
from costwarden.core.money import usd
from costwarden.core.owner import UNOWNED_TEAM
from costwarden.demo.env import DemoEnv

#: The Price List's on-demand USD per hour of p4d.24xlarge in us-east-1 (the recorded GetProducts answer).
P4D_USD_PER_HOUR = "32.7726000000"
LAUNCH_EVENT = Path(__file__).resolve().parents[3] / "events" / "burn" / "run_instances_p4d.json"
DELIVERED_AFTER = timedelta(minutes=3)


class PriceListStandIn:
    """``pricing:GetProducts`` answering p4d.24xlarge's on-demand price (nothing else); counts requests."""

    def __init__(self) -> None:
        self.requests = 0

    def get_products(self, **request: Any) -> dict[str, Any]:
        self.requests += 1
        fields = {f["Field"]: f["Value"] for f in request.get("Filters", [])}
        if fields.get("instanceType") != "p4d.24xlarge":
            return {"PriceList": []}
        term = {"priceDimensions": {"p": {"unit": "Hrs", "pricePerUnit": {"USD": P4D_USD_PER_HOUR}}}}
        return {"PriceList": [json.dumps({"terms": {"OnDemand": {"t": term}}})]}


def _team_and_day(state: DynamoStateStore) -> tuple[str, date, float]:
    """The newest day the cost monitor left baselines for, and the owned team whose usual day eight p4d.24xlarge
    at least double (the largest such; else the smallest baseline)."""
    items = state.query(baselines.PK)
    if not items:
        raise RuntimeError("the cost monitor left no baselines: the cost chapters did not run")
    day = max(str(i["day"]) for i in items)
    owned = [(str(i["team"]), float(i["baseline_usd"])) for i in items if i["day"] == day and i["team"] != UNOWNED_TEAM]
    if not owned:
        raise RuntimeError(f"no team has a baseline on {day}")
    doubled = [t for t in owned if 0 < t[1] <= 8 * float(P4D_USD_PER_HOUR) * 24 / 2]
    team, usd_per_day = max(doubled, key=lambda t: t[1]) if doubled else min(owned, key=lambda t: t[1])
    return team, date.fromisoformat(day), usd_per_day


def _launch(team: str, at: datetime, account: str) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(json.loads(LAUNCH_EVENT.read_text(encoding="utf-8")))
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event.update(time=stamp, account=account or event["account"])
    event["detail"]["eventTime"] = stamp
    for spec in event["detail"]["requestParameters"]["tagSpecificationSet"]["items"]:
        for tag in spec["tags"]:
            if tag["key"] == "team":
                tag["value"] = team
    return event


def chapter(env: DemoEnv) -> None:
    from costwarden.adapters.iam_roles import RoleTags
    from costwarden.burn.run import BurnPorts
    from costwarden.services.burn import AwsPrices, evaluate, stored_baseline
    from costwarden.services.reaper import sns_publisher

    settings = env.use_settings({})
    state = DynamoStateStore(env.state_table_name)
    team, day, baseline = _team_and_day(state)
    launched = datetime.combine(day, time(9, 0), tzinfo=UTC)
    env.say(
        f"{day}, 09:00 UTC: someone in {team} launches eight p4d.24xlarge. {team}'s usual day is {usd(baseline)} "
        "(the cost monitor's own baseline, left in the state table by its last run). Cost Explorer will show this "
        "spend tomorrow at the earliest; CloudTrail delivers the RunInstances call to EventBridge within minutes."
    )
    stand_in = PriceListStandIn()

    def clients(service: str, region: str) -> Any:
        return stand_in if service == "pricing" else env.client(service, region)

    publish = sns_publisher(env.alert_topic_arn, env.client("sns"))
    ports = BurnPorts(
        store=state,
        prices=AwsPrices(clients, state),
        baseline=stored_baseline(state),
        role_tags=RoleTags(iam=env.client("iam")),
        publish=publish,
    )
    batch = [_launch(team, launched, env.account_id), _launch(team, launched, env.account_id)]  # delivered twice
    result = evaluate(batch, settings, ports, now=launched + DELIVERED_AFTER)
    (launch,) = result.launches
    env.say(
        f"09:03 UTC: the burn function gets the event (twice: EventBridge delivers at least once; counted once). "
        f"{launch.count} x {launch.instance_type} at the Price List's on-demand price: "
        f"{usd(launch.usd_per_hour, cents=True)}/hour ({stand_in.requests} Price List request)."
    )
    if not result.alerts:
        raise RuntimeError(f"no burn alert for {team}: {result.rates[-1:]}")
    (judged,) = result.alerts
    env.say(
        f"09:03 UTC: {judged.severity} alert to {team}: {usd(judged.projected_day_usd)} a day at this rate against "
        f"a usual {usd(judged.baseline_day_usd)}, naming who launched what where, with It was planned / Extend / "
        "Stop buttons when the Slack app is on."
    )
    episode = state.get(episodes.DEDUP_PK, episodes.series_id(team)) or {}
    env.say(
        f"The alert opened {team}'s cost episode (since {episode.get('start')}, {episode.get('severity')}): the "
        f"next morning's daily run, {day + timedelta(days=1)} 08:00, finds the same breach in that episode and does "
        "not alert a second time (core.episodes.join / advance)."
    )
