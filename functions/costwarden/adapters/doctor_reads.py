"""Read-only AWS answers for ``costwarden doctor``: one small function per question, each given its client.

Errors are not caught here: ``services.doctor`` turns an unreachable or refusing service into an envelope error
(the check did not run), except where the refusal IS the answer (Cost Explorer not enabled, a secret absent).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from costwarden.adapters.ce_tags import cost_allocation_tag_status

#: Error codes that mean "not there" rather than "could not ask".
NOT_FOUND = frozenset({"ResourceNotFoundException", "EntityNotFoundException", "NoSuchBucket", "NotFoundException"})


def cost_explorer_error(ce: Any, now: datetime) -> str | None:
    """None when ``GetCostAndUsage`` answers for yesterday, else its error code (Cost Explorer not enabled...)."""
    day = (now - timedelta(days=1)).date()
    try:
        ce.get_cost_and_usage(
            TimePeriod={"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
            Granularity="DAILY",
            Metrics=["UnblendedCost"],
        )
    except ClientError as error:
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return None


def tag_status(ce: Any, keys: list[str]) -> dict[str, str | None]:
    return cost_allocation_tag_status(ce, keys)


def secret_value(secretsmanager: Any, name: str) -> str | None:
    """The secret's string, or None when it does not exist. Never logged or printed by the doctor."""
    try:
        value = secretsmanager.get_secret_value(SecretId=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NOT_FOUND:
            return None
        raise
    return str(value.get("SecretString") or "")


def stack_functions(lambda_client: Any, stack: str) -> list[str]:
    """The stack's functions: CloudFormation names them ``<stack>-<logical id>-<suffix>``."""
    names: list[str] = []
    for page in lambda_client.get_paginator("list_functions").paginate():
        names.extend(f["FunctionName"] for f in page.get("Functions", []) if f["FunctionName"].startswith(f"{stack}-"))
    return sorted(names)


def invocations_and_errors(cloudwatch: Any, function: str, now: datetime, days: int) -> tuple[float, float]:
    """Sum of ``Invocations`` and ``Errors`` over ``days`` days (AWS/Lambda metrics)."""
    sums = []
    for metric in ("Invocations", "Errors"):
        answer = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            StartTime=now - timedelta(days=days),
            EndTime=now,
            Period=86400,
            Statistics=["Sum"],
        )
        sums.append(sum(float(p.get("Sum", 0)) for p in answer.get("Datapoints", [])))
    return sums[0], sums[1]


def dead_letter_depths(sqs: Any, stack: str) -> dict[str, int]:
    """Messages waiting in the stack's dead-letter queues (named ``<stack>-...DeadLetterQueue...``)."""
    urls = sqs.list_queues(QueueNamePrefix=f"{stack}-").get("QueueUrls", [])
    depths = {}
    for url in urls:
        name = url.rsplit("/", 1)[-1]
        if "DeadLetter" not in name:
            continue
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        depths[name] = int(attributes.get("Attributes", {}).get("ApproximateNumberOfMessages", 0))
    return depths


def operator_topic(sns: Any, stack: str) -> tuple[bool, list[dict[str, str]]]:
    """(found, its subscriptions) for the stack's operator topic (``<stack>-AlertingOperatorTopic...``)."""
    topics: list[str] = []
    for page in sns.get_paginator("list_topics").paginate():
        topics.extend(t["TopicArn"] for t in page.get("Topics", []))
    mine = [t for t in topics if t.rsplit(":", 1)[-1].startswith(f"{stack}-") and "OperatorTopic" in t]
    if not mine:
        return False, []
    subscriptions: list[dict[str, str]] = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=mine[0]):
        subscriptions.extend(page.get("Subscriptions", []))
    return True, subscriptions


def export_found(exports: Any, name: str) -> bool:
    """A Data Export of that name exists (the Data Exports API answers in us-east-1 only)."""
    request: dict[str, Any] = {}
    while True:
        page = exports.list_exports(**request)
        if any(e.get("ExportName") == name for e in page.get("Exports", [])):
            return True
        if not page.get("NextToken"):
            return False
        request["NextToken"] = page["NextToken"]


def newest_object(s3: Any, bucket: str, prefix: str) -> datetime | None:
    """When the newest object under ``prefix`` was written (None: none)."""
    newest: datetime | None = None
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            modified = item["LastModified"]
            modified = modified if modified.tzinfo else modified.replace(tzinfo=UTC)
            newest = modified if newest is None or modified > newest else newest
    return newest


def glue_table(glue: Any, database: str, table: str) -> tuple[dict[str, Any] | None, list[str]]:
    """(the table's Parameters, its billing_period partition values); (None, []) when there is no table."""
    try:
        found = glue.get_table(DatabaseName=database, Name=table)["Table"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NOT_FOUND:
            return None, []
        raise
    parameters = dict(found.get("Parameters", {}))
    if parameters.get("projection.enabled") == "true":
        return parameters, []
    values: list[str] = []
    for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table):
        values.extend(p["Values"][0] for p in page.get("Partitions", []) if p.get("Values"))
    return parameters, values


def service_access(organizations: Any) -> list[str]:
    principals: list[str] = []
    for page in organizations.get_paginator("list_aws_service_access_for_organization").paginate():
        principals.extend(p["ServicePrincipal"] for p in page.get("EnabledServicePrincipals", []))
    return principals


def management_account(organizations: Any) -> str:
    return str(organizations.describe_organization()["Organization"]["MasterAccountId"])


def delegated_admins(organizations: Any, principal: str) -> list[str]:
    accounts: list[str] = []
    for page in organizations.get_paginator("list_delegated_administrators").paginate(ServicePrincipal=principal):
        accounts.extend(a["Id"] for a in page.get("DelegatedAdministrators", []))
    return accounts


def lambda_concurrency(lambda_client: Any) -> tuple[int, int]:
    """(account concurrency limit, unreserved concurrency) from ``GetAccountSettings``."""
    limits = lambda_client.get_account_settings()["AccountLimit"]
    return int(limits["ConcurrentExecutions"]), int(limits["UnreservedConcurrentExecutions"])


def caller_account(sts: Any) -> str:
    return str(sts.get_caller_identity()["Account"])


def trails(cloudtrail: Any) -> list[dict[str, Any]]:
    """Every trail this region sees (shadow trails of multi-region and organization trails included), each with
    ``IsLogging`` and its event selectors: what the burn guard's ``burn_trail`` check judges."""
    found = []
    for trail in cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", []):
        arn = trail.get("TrailARN") or trail.get("Name")
        status = cloudtrail.get_trail_status(Name=arn)
        selectors = cloudtrail.get_event_selectors(TrailName=arn)
        found.append(
            {
                **trail,
                "IsLogging": bool(status.get("IsLogging")),
                "EventSelectors": selectors.get("EventSelectors") or [],
                "AdvancedEventSelectors": selectors.get("AdvancedEventSelectors") or [],
            }
        )
    return found
