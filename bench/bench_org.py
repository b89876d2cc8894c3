"""Organization scale: the reaper's plan phase for 50 simulated accounts x 2 regions x 200 resources (moto,
in-process; assumed-role credentials map to their account), run item by item through exactly the code the state
machine's Map runs (``services.org.run_item``), then the aggregation step.

Reports wall time (listing, plan per item, aggregation), AWS requests per account (every HTTP request botocore
sends, counted with a ``before-send`` hook on each member client, plus the AssumeRole), the state machine's item
count and the size of one item's output — the number that bounds how many items one run can aggregate
(Step Functions passes at most 256 KiB between states; README, "Organization scale").
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import boto3  # noqa: E402
from costwarden.adapters import aws  # noqa: E402
from costwarden.adapters.organizations import Organization  # noqa: E402
from costwarden.adapters.state import MemoryStateStore  # noqa: E402
from costwarden.adapters.sts import member_clients  # noqa: E402
from costwarden.org.items import WorkItem  # noqa: E402
from costwarden.services.org import ItemContext, aggregate_plans, list_items, run_item  # noqa: E402
from costwarden.settings import parse_settings  # noqa: E402
from moto import mock_aws  # noqa: E402

ACCOUNTS = 50
REGIONS = ("us-east-1", "eu-west-1")
RESOURCES = 200
EXPIRED_SHARE = 10  # one resource in ten is expired
STEP_FUNCTIONS_PAYLOAD_BYTES = 256 * 1024
AMI = "ami-12345678"  # one of moto's built-in images (DescribeImages would load moto's whole catalogue each time)


def _member(account_id: str, service: str, region: str) -> Any:
    creds = aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/setup", RoleSessionName="setup")[
        "Credentials"
    ]
    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


STARTED = time.perf_counter()


def _populate() -> list[str]:
    organizations = aws.client("organizations", "us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    ids = []
    for n in range(ACCOUNTS):
        account_id = organizations.create_account(Email=f"a{n}@example.com", AccountName=f"research-{n:02d}")[
            "CreateAccountStatus"
        ]["AccountId"]
        organizations.tag_resource(ResourceId=account_id, Tags=[{"Key": "team", "Value": f"team-{n % 12}"}])
        ids.append(account_id)
        if n % 10 == 0:
            print(f"  populating account {n + 1}/{ACCOUNTS} ({time.perf_counter() - STARTED:.0f} s)", flush=True)
        for region in REGIONS:
            ec2 = _member(account_id, "ec2", region)
            image = AMI
            expired = RESOURCES // EXPIRED_SHARE
            for count, expiry in ((expired, "2020-01-01"), (RESOURCES - expired, "2099-01-01")):
                ec2.run_instances(
                    ImageId=image,
                    MinCount=count,
                    MaxCount=count,
                    TagSpecifications=[
                        {
                            "ResourceType": "instance",
                            "Tags": [{"Key": "expires_at", "Value": expiry}, {"Key": "project", "Value": "bench"}],
                        }
                    ],
                )
    return ids


def main() -> dict[str, Any]:
    settings = parse_settings(
        {
            "reaper": {"max_actions_per_run": 1000},
            "organization": {"regions": list(REGIONS), "max_actions_per_account": 100},
        }
    )
    with mock_aws():
        aws.client.cache_clear()
        started = time.perf_counter()
        _populate()
        setup_s = time.perf_counter() - started
        print(f"simulated organization ready ({setup_s:.0f} s)", flush=True)

        requests: Counter[str] = Counter()

        def counting_clients_for(account_id: str, role_name: str) -> Any:
            requests[account_id] += 1  # the AssumeRole
            factory = member_clients(account_id, role_name)
            seen: set[int] = set()

            def clients(service: str, region: str) -> Any:
                client = factory(service, region)
                if id(client) not in seen:
                    seen.add(id(client))
                    client.meta.events.register(
                        "before-send", lambda **_: requests.__setitem__(account_id, requests[account_id] + 1)
                    )
                return client

            return clients

        started = time.perf_counter()
        reader = Organization()
        listing = list_items(settings, "reaper", organization=reader)
        list_s = time.perf_counter() - started
        items = [WorkItem(**i) for i in listing["items"]]

        now = datetime.now(UTC)
        outputs: list[dict[str, Any]] = []
        durations: list[float] = []
        started = time.perf_counter()
        for item in items:
            t0 = time.perf_counter()
            context = ItemContext(state=MemoryStateStore(), publish_fn=None, now=now, clients_for=counting_clients_for)
            outputs.append(run_item(settings, item, context))
            durations.append(time.perf_counter() - t0)
            if len(outputs) % 20 == 0:
                print(
                    f"  planned {len(outputs)}/{len(items)} items ({time.perf_counter() - started:.0f} s)", flush=True
                )
        plan_s = time.perf_counter() - started

        started = time.perf_counter()
        aggregate = aggregate_plans(settings, outputs, state=MemoryStateStore(), publish_fn=None, now=now)
        aggregate_s = time.perf_counter() - started
    aws.client.cache_clear()

    item_bytes = [len(json.dumps(o, default=str)) for o in outputs]
    per_account = list(requests.values())
    largest_item = max(item_bytes)
    row = {
        "accounts": len({i.account_id for i in items}),
        "regions": len(REGIONS),
        "resources_per_account_region": RESOURCES,
        "state_machine_items_plan_map": len(items),
        "state_machine_items_act_map": len(aggregate.act_items),
        "planned_actions": aggregate.approval.total_planned,
        "organizations_requests": listing["organizations_requests"],
        "requests_per_account_median": statistics.median(per_account),
        "requests_per_account_max": max(per_account),
        "setup_s": round(setup_s, 1),
        "list_accounts_s": round(list_s, 2),
        "plan_all_items_serial_s": round(plan_s, 1),
        "plan_item_median_s": round(statistics.median(durations), 2),
        "plan_item_max_s": round(max(durations), 2),
        "aggregate_s": round(aggregate_s, 3),
        "item_output_bytes_max": largest_item,
        "items_per_256KiB_state_payload": STEP_FUNCTIONS_PAYLOAD_BYTES // largest_item,
    }
    width = max(len(k) for k in row)
    for key, value in row.items():
        print(f"{key.ljust(width)}  {value}")
    return row


if __name__ == "__main__":
    main()
