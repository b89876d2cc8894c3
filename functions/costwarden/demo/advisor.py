"""Demo chapter: the four levers of the recovery on the simulated account, and the monthly report on the 1st.

1. The fleet calculator on the source's example fleet (no AWS at all).
2. Artefact storage: three buckets on the moto server — an experiment bucket without lifecycle rules that grew for
   200 days, a training-checkpoint bucket whose only rule aborts multipart uploads, a production bucket — sized by a
   ``BucketSizeBytes`` history written here (moto's own value is not bytes). ``storage.action: apply`` is set but
   left in dry run: the plan and its audit record, nothing put.
3. Purchase mix and 4. commitments: Cost Explorer, Savings Plans and spot prices come from the simulated billing
   account (``costwarden.demo.billing``: moto implements none of these), through the production adapters.
Then the monthly report for November: the HTML is written to the out folder and to an S3 bucket on the moto server,
and each team gets its part with a pre-signed link. Every number comes from the demo's one bill (``demo.bill``): the
simulated billing account answers from it, and the report reads the cost monitor's own daily cache (the cost
chapter filled it from the same bill), with the cost chapter's budgets. The cost monitor's run of 1 December then
posts the digest of 30 November: its month to date is the report's November, team by team.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from costwarden.adapters.commitments import CommitmentsReader
from costwarden.adapters.cost_explorer import CostExplorer
from costwarden.adapters.ec2_spot import SpotPrices
from costwarden.adapters.report_store import MAX_LINK_SECONDS, ReportStore
from costwarden.adapters.s3_storage import S3Reader
from costwarden.adapters.state import DynamoStateStore
from costwarden.advisor.fleet import advise_fleet, parse_fleet, render_table
from costwarden.advisor.storage import GIB
from costwarden.demo import bill, cost
from costwarden.demo.billing import SimulatedBilling
from costwarden.demo.env import SLACK_APP, DemoEnv
from costwarden.demo.timeline import RUN_DAY, cost_run_at
from costwarden.services.advisor.runner import AdvisorResult, run_advisor, run_monthly_report
from costwarden.settings import Settings, parse_settings

#: The 1st of December: the weekly advisor's run and the monthly report for November.
ADVISOR_AT = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
REPORT_BUCKET = "costwarden-reports-demo"
SOURCE_FLEET = """instance_type,monthly_hours,on_demand_rate,reserved_rate_1yr_no_upfront,spot_rate,workload_type
g4dn.12xlarge,2920,3.912,2.35,1.18,always_on
p3.8xlarge,576,12.24,7.34,3.67,scheduled_batch
p3.8xlarge,320,12.24,7.34,3.67,experimental
m5.4xlarge,4380,0.768,0.461,0.23,always_on
"""
ABORT_ONLY = [
    {
        "ID": "abort",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
    }
]


def _buckets(env: DemoEnv) -> None:
    s3, cw = env.client("s3"), env.client("cloudwatch")
    for name, tags, rules, tib in (
        ("vision-experiments", {"team": "vision", "environment": "experiment"}, None, 40),
        ("nlp-checkpoints", {"team": "nlp", "environment": "staging", "lifecycle_phase": "training"}, ABORT_ONLY, 12),
        ("recsys-serving-models", {"team": "recsys", "environment": "production"}, None, 3),
    ):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
        if rules:
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
        data = [
            {
                "MetricName": "BucketSizeBytes",
                "Dimensions": [
                    {"Name": "BucketName", "Value": name},
                    {"Name": "StorageType", "Value": "StandardStorage"},
                ],
                "Timestamp": ADVISOR_AT - timedelta(days=age, hours=6),
                "Value": tib * 1024 * GIB * (200 - age) / 200,
                "Unit": "Bytes",
            }
            for age in range(0, 200, 5)
        ]
        cw.put_metric_data(Namespace="AWS/S3", MetricData=data)
    s3.create_bucket(Bucket=REPORT_BUCKET)


def _pct(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1f} %"


def _narrate(env: DemoEnv, result: AdvisorResult) -> None:
    today = ADVISOR_AT.date()
    data = result.to_dict(today)
    env.say(f"Savings on the table: {data['savings_on_the_table_usd_month']:,.0f} USD/month")
    for team, info in data["teams"].items():
        env.say(f"  {team}: {info['usd_month']:,.0f} USD/month")
        for item in info["items"][:3]:
            env.say(f"    - {item}")
    env.say("")
    env.say("Lever 2, artefact storage (buckets the tag policy marks as experiment or training artefacts):")
    for f in data["storage"]["findings"]:
        env.say(
            f"  {f['bucket']} ({f['why']}, lifecycle {f['lifecycle']}): {f['monthly_usd_now']:,.0f} USD/month now, "
            f"{f['monthly_usd_after']:,.0f} under the recommended rules"
        )
    for d in data["storage"]["decisions"]:
        env.say(f"  {d['status']}: {d['action']} on {d['id']}: {d['reason']}")
    first = data["storage"]["findings"][0]
    env.say(f"  the rules, exactly as `aws s3api` takes them:\n  {first['command']}")
    env.say("")
    env.say("Lever 3, purchase mix of development, experiment and training compute (last 30 days):")
    for team in data["purchase_mix"]["teams"]:
        env.say(
            f"  {team['team']}: {team['compute_usd']:,.0f} USD, {team['spot_share_pct']} % on spot; on-demand that "
            f"spot could run: {team['could_save_usd']:,.0f} USD less"
        )
    env.say("")
    env.say("Lever 4, commitments (November):")
    commitments = data["commitments"]
    for c in commitments["commitments"]:
        env.say(f"  {c['description']}: used {c['utilisation_pct']} %, ends {c['ends']} ({c['days_left']} days)")
    coverage = commitments["coverage"]
    env.say(
        f"  coverage: reserved instances {_pct(coverage.get('reserved_instances_hours_pct'))} of instance hours, "
        f"Savings Plans {_pct(coverage.get('savings_plans_spend_pct'))} of eligible spend"
    )
    for s in commitments["stability"]:
        env.say(f"  {s['team']} production inference: {s['reason']}")
    for r in commitments["recommendations"]:
        env.say(
            f"  recommended: {r['plan_type']} at {r['hourly_commitment_usd']:.2f} USD/h for {', '.join(r['teams'])} "
            f"(Cost Explorer alone: {r['api_hourly_commitment_usd']} USD/h, sized to the 60-day mean)"
        )
    env.say(f"  {result.ce_requests} Cost Explorer requests ({result.ce_requests * 0.01:.2f} USD) for the whole run")


def chapter(env: DemoEnv) -> None:
    overrides: dict[str, Any] = {
        # The cost chapter's budgets: the report shows them, the month-end digest judges against them.
        "budgets": {"monthly_usd": cost.budgets_for(cost.line_items(), RUN_DAY)},
        "storage": {"action": "apply", "name_patterns": ["*-checkpoints"]},
    }
    settings = env.use_settings(overrides)
    # The report also judges speech's two pools (chapter 2's pools story); the month-end digest keeps the settings
    # above, so its alerts are the ones the chapter always sent.
    report_settings = parse_settings(
        {"interact": SLACK_APP, **overrides, "teams": {"speech": {"pools": cost.SPEECH_POOLS}}}, source="demo"
    )
    env.say(
        f"{ADVISOR_AT:%Y-%m-%d %H:%M} UTC, the 1st: the weekly savings advisor, then the monthly report. The recovery "
        "this project follows found four levers after idle capacity: spot for training, lifecycle rules for "
        "artefacts, commitments for the stable baseline, and a report engineering leads read."
    )
    env.say("")
    env.say("Lever 1, the fleet calculator on the source's example fleet (`costwarden advise --fleet FILE`):")
    env.say(render_table(advise_fleet(parse_fleet(SOURCE_FLEET, source="source fleet"))))
    env.say("")
    _buckets(env)
    billing = SimulatedBilling(bill.bill(), today=ADVISOR_AT.date(), now=ADVISOR_AT)
    ce, sp, ec2 = env.client("ce"), env.client("savingsplans"), env.client("ec2")
    for client in (ce, sp, ec2):
        billing.install(client)
    explorer = CostExplorer(client=ce)
    state = DynamoStateStore(env.state_table_name)
    result = run_advisor(
        settings,
        regions=[env.region],
        reader_factory=S3Reader,
        ce=explorer,
        commitments=CommitmentsReader(explorer, savingsplans=sp),
        spot=SpotPrices(env.region, ec2=ec2),
        state=state,
        publish=env.publish,
        now=ADVISOR_AT,
    )
    _narrate(env, result)
    if not result.storage.findings or not result.savings:
        raise RuntimeError("the advisor found nothing on an account built to have savings")
    store = ReportStore(REPORT_BUCKET, s3=env.client("s3"))
    local = env.out_dir / "report-2026-11.html"

    def put(key: str, html: str) -> None:
        local.write_text(html, encoding="utf-8")
        store.put(key, html)

    report = run_monthly_report(
        report_settings,
        ce=CostExplorer(client=ce),
        state=state,
        now=ADVISOR_AT,
        put=put,
        link=lambda key: (store.link(key, MAX_LINK_SECONDS), None),
        publish=env.publish,
    )
    env.say("")
    env.say(
        f"The monthly report for {report.report.month}: {len(report.report.teams)} teams by model, project and "
        f"phase, {report.report.ce_requests} Cost Explorer requests; written to {local} (open it offline) and to "
        f"s3://{REPORT_BUCKET}/{report.key}; each team's channel gets its part with a pre-signed link."
    )
    for team in report.report.teams:
        budget = "no budget"
        if team.budget is not None:
            budget = f"budget {team.budget.budget_usd:,.0f} USD, {team.budget.status}"
        env.say(f"  {team.team:<11} {team.this_usd:>9,.0f} USD in {report.report.month} ({budget})")
    for pool in report.report.pools:
        env.say(
            f"  {pool.team:<11} {pool.pool} pool: {pool.basis_usd:,.0f} of {pool.budget_usd:,.0f} USD, {pool.status}"
        )
    env.say(f"  {'account':<11} {report.report.account.this_usd:>9,.0f} USD")
    (env.out_dir / "report-2026-11.json").write_text(json.dumps(report.report.to_dict(), indent=2) + "\n")
    month_end_digest(env, settings, CostExplorer(client=ce), state)


def month_end_digest(env: DemoEnv, settings: Settings, explorer: CostExplorer, state: DynamoStateStore) -> None:
    """The cost monitor's run of the same morning: its digest is about 30 November, the month the report closed.

    Run through ``costwarden.cost.monitor.run`` (the handler's logic) with the simulated billing account's Cost
    Explorer client, so it reads the one bill like the report did.
    """
    from costwarden.cost.monitor import run

    at = cost_run_at(ADVISOR_AT.date())
    env.say("")
    env.say(
        f"{at:%Y-%m-%d %H:%M} UTC, the cost monitor's daily run: its digest is about "
        f"{ADVISOR_AT.date() - timedelta(days=1)}, so its month to date is the report's November, from the same "
        "daily cache."
    )
    result = run(settings, ce=explorer, store=state, publish=env.publish, today=ADVISOR_AT.date(), now=at)
    cost.report(env, result.summary)
    november = cached_month(settings, explorer, state, date(2026, 11, 1))
    (env.out_dir / "ledger-2026-11.json").write_text(json.dumps(november, indent=2) + "\n")
    env.say(
        f"  the daily cache's November: {november['account_usd']:,.0f} USD for the account "
        f"(written to {env.out_dir / 'ledger-2026-11.json'}, beside report-2026-11.json)"
    )


def cached_month(settings: Settings, explorer: CostExplorer, state: DynamoStateStore, first: date) -> dict[str, Any]:
    """What the cost monitor's daily cache holds for the month of ``first``, per team and for the account, through
    the ledger: the evidence that the report and the digest read one place (the end-to-end test compares them)."""
    from costwarden.cost import ledger
    from costwarden.cost.cache import CostCache
    from costwarden.cost.monitor import group_keys

    anomaly = settings.anomaly
    keys = group_keys(settings)
    cache = CostCache(state, keys, anomaly.cost_metric, anomaly.excluded_record_types)
    last = ledger.last_day_of_month(first)

    def pull(start: date, end: date) -> list[dict[str, Any]]:  # only the days Cost Explorer still estimates
        return explorer.daily_by_tags(
            start, end, keys, metric=anomaly.cost_metric, excluded_record_types=anomaly.excluded_record_types
        )

    frame = cache.load(first, last + timedelta(days=1), pull).frame.rename(columns={keys[0]: "team"})
    teams = ledger.month_to_date(frame, last, key="team")
    return {
        "month": f"{first:%Y-%m}",
        "source": f"cost cache {cache.pk}",
        "teams_usd": {str(t): round(float(v), 2) for t, v in teams.items()},
        "account_usd": round(float(teams.sum()), 2),
    }
