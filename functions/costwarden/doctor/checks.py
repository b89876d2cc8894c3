"""The doctor's checks: each takes what a port answered (gathered by ``services.doctor``) and says ok, missing or
wrong, with the exact fix. Pure: no AWS here, so every check is tested on plain values (and on moto end to end).

A port that could not answer is not a check result: the service records it in the envelope's ``errors`` and the
run is incomplete (exit 3), never "ok".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

Status = Literal["ok", "missing", "wrong"]
STACKSETS_PRINCIPAL = "member.org.stacksets.cloudformation.amazonaws.com"
#: Lambda keeps at least this many concurrent executions unreserved per account (a reservation past it fails).
MIN_UNRESERVED_CONCURRENCY = 100
LAMBDA_CONCURRENCY_QUOTA = "L-B99A9384"
#: A daily export older than this has stopped delivering (Data Exports refresh at least once a day).
EXPORT_STALE_AFTER = timedelta(hours=48)


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's report: ``fix`` is empty when ``status`` is ``ok``."""

    check: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ok(check: str, detail: str) -> CheckResult:
    return CheckResult(check, "ok", detail)


def cost_explorer(error_code: str | None) -> CheckResult:
    """``error_code``: None when ``GetCostAndUsage`` answered, else the error code it returned."""
    name = "cost_explorer"
    if error_code is None:
        return _ok(name, "GetCostAndUsage answered")
    if error_code in ("DataUnavailableException", "OptInRequired", "BillingNotEnabled"):
        return CheckResult(
            name,
            "missing",
            f"Cost Explorer is not enabled ({error_code})",
            "Enable Cost Explorer: Billing and Cost Management console > Cost Explorer > Launch (in the payer "
            "account for an organization); data appears within 24 hours.",
        )
    return CheckResult(
        name,
        "wrong",
        f"GetCostAndUsage failed: {error_code}",
        "Allow ce:GetCostAndUsage to the caller (the cost monitor's role has it; a CLI user may not).",
    )


def cost_allocation_tags(keys: Sequence[str], status: Mapping[str, str | None]) -> CheckResult:
    """``status``: ``Active`` / ``Inactive`` / None (billing never saw the key) per configured key."""
    name = "cost_allocation_tags"
    inactive = [k for k in keys if status.get(k) == "Inactive"]
    unseen = [k for k in keys if status.get(k) is None]
    if not inactive and not unseen:
        return _ok(name, f"active: {', '.join(keys)}")
    fix_keys = " ".join(f"TagKey={k},Status=Active" for k in (*inactive, *unseen))
    fix = f"aws ce update-cost-allocation-tags-status --cost-allocation-tags-status {fix_keys}"
    if unseen:
        fix += " (a key billing has never seen appears after a resource carries it, within 24 hours)"
    detail = "; ".join(
        part
        for part in (
            f"inactive: {', '.join(inactive)}" if inactive else "",
            f"unknown to billing: {', '.join(unseen)}" if unseen else "",
        )
        if part
    )
    return CheckResult(name, "missing", detail, fix)


def secret(name: str, purpose: str, problem: str | None, found: bool) -> CheckResult:
    """``found``: the secret exists; ``problem``: why its value has the wrong shape (never the value itself)."""
    check = f"secret:{name}"
    if not found:
        return CheckResult(
            check,
            "missing",
            f"no secret {name} ({purpose})",
            f"aws secretsmanager create-secret --name {name} --secret-string file://secret.json "
            "(shape: README, Slack section)",
        )
    if problem:
        return CheckResult(
            check,
            "wrong",
            f"{name}: {problem}",
            f"aws secretsmanager put-secret-value --secret-id {name} --secret-string file://secret.json",
        )
    return _ok(check, f"{name} present and well-formed ({purpose})")


def operator_subscriptions(
    email: str | None, topic_found: bool, subscriptions: Sequence[Mapping[str, str]]
) -> CheckResult:
    """``subscriptions``: the operator topic's, as SNS lists them (``Protocol``, ``Endpoint``, ``SubscriptionArn``)."""
    name = "operator_subscription"
    if email is None:
        return _ok(name, "no operator e-mail configured (notifier.operator_email)")
    if not topic_found:
        return CheckResult(name, "missing", "operator topic not found", "Deploy the stack (make deploy).")
    mine = [s for s in subscriptions if s.get("Protocol") == "email" and s.get("Endpoint") == email]
    if not mine:
        return CheckResult(
            name, "missing", f"{email} is not subscribed to the operator topic", "Redeploy the stack (make deploy)."
        )
    if any(s.get("SubscriptionArn") == "PendingConfirmation" for s in mine):
        return CheckResult(
            name,
            "wrong",
            f"{email} has not confirmed the subscription (PendingConfirmation)",
            f"Open the 'AWS Notification - Subscription Confirmation' mail sent to {email} and click Confirm.",
        )
    return _ok(name, f"{email} confirmed")


def function_runs(runs: Mapping[str, tuple[float, float]], days: int) -> CheckResult:
    """``runs``: function name -> (invocations, errors) over the last ``days`` days (CloudWatch metrics)."""
    name = "function_runs"
    if not runs:
        return CheckResult(name, "missing", "no Costwarden function found", "Deploy the stack (make deploy).")
    failing = sorted(f for f, (_, errors) in runs.items() if errors > 0)
    if failing:
        return CheckResult(
            name,
            "wrong",
            f"errors in the last {days} days: {', '.join(failing)}",
            "Read the functions' logs: aws logs tail /aws/lambda/<name> --since 7d (the run summary says which step).",
        )
    never = sorted(f for f, (invocations, _) in runs.items() if invocations == 0)
    detail = f"{len(runs)} functions, no errors in {days} days"
    if never:
        detail += f" (not run in that time: {', '.join(never)})"
    return _ok(name, detail)


def dead_letter_queues(depths: Mapping[str, int]) -> CheckResult:
    """``depths``: queue name -> approximate number of messages waiting."""
    name = "dead_letter_queues"
    if not depths:
        return CheckResult(name, "missing", "no Costwarden dead-letter queue found", "Deploy the stack (make deploy).")
    full = sorted(q for q, n in depths.items() if n > 0)
    if full:
        return CheckResult(
            name,
            "wrong",
            "failed invocations waiting: " + ", ".join(f"{q} ({depths[q]})" for q in full),
            "Read the messages (aws sqs receive-message --queue-url <url>), fix the cause, then purge the queue.",
        )
    return _ok(name, f"{len(depths)} queues empty")


def data_export(export_name: str, found: bool, newest_delivery: datetime | None, now: datetime) -> CheckResult:
    """``newest_delivery``: when the newest file landed under the export's data prefix (None: nothing yet)."""
    name = "data_export"
    if not found:
        return CheckResult(
            name,
            "missing",
            f"no Data Export named {export_name}",
            "Deploy with cost_source: athena in us-east-1, or create the export there and set "
            "organization.athena.export_bucket (docs/infra.md, Athena cost path).",
        )
    if newest_delivery is None:
        return CheckResult(
            name,
            "missing",
            f"{export_name} has delivered nothing yet",
            "Wait: the first delivery takes up to 24 hours after the export is created; then check its bucket policy.",
        )
    age = now - newest_delivery
    if age > EXPORT_STALE_AFTER:
        return CheckResult(
            name,
            "wrong",
            f"{export_name} last delivered {age.days} days ago",
            "Check the export's status (aws bcm-data-exports list-executions --region us-east-1 --export-arn <arn>) "
            "and its bucket policy (bcm-data-exports.amazonaws.com may PutObject).",
        )
    return _ok(name, f"{export_name} last delivered {newest_delivery.isoformat(timespec='minutes')}")


def glue_table(
    database: str, table: str, found: Mapping[str, Any] | None, partitions: Sequence[str], billing_period: str
) -> CheckResult:
    """``found``: the table's ``Parameters`` (None: no table); ``partitions``: its ``billing_period`` values."""
    name = "glue_table"
    if found is None:
        return CheckResult(
            name, "missing", f"no Glue table {database}.{table}", "Deploy the stack with cost_source: athena."
        )
    if found.get("projection.enabled") == "true":
        return _ok(name, f"{database}.{table}: partitions projected by billing_period")
    if billing_period not in partitions:
        return CheckResult(
            name,
            "wrong",
            f"{database}.{table} has no partition for {billing_period} (and no partition projection)",
            f"MSCK REPAIR TABLE {table} (or redeploy: the stack's table projects its partitions).",
        )
    return _ok(name, f"{database}.{table}: {len(partitions)} partitions, {billing_period} present")


def trusted_access(enabled_principals: Sequence[str]) -> CheckResult:
    name = "stacksets_trusted_access"
    if STACKSETS_PRINCIPAL in enabled_principals:
        return _ok(name, "trusted access for CloudFormation StackSets is on")
    return CheckResult(
        name,
        "missing",
        "trusted access for CloudFormation StackSets is off",
        "In the management account: aws organizations enable-aws-service-access "
        f"--service-principal {STACKSETS_PRINCIPAL} (or CloudFormation console > StackSets > Activate trusted access).",
    )


def delegated_admin(account: str, management_account: str, delegated: Sequence[str]) -> CheckResult:
    """``delegated``: the accounts registered as StackSets delegated administrators."""
    name = "stacksets_delegated_admin"
    if account == management_account:
        return _ok(name, f"{account} is the management account")
    if account in delegated:
        return _ok(name, f"{account} is a delegated administrator for StackSets")
    return CheckResult(
        name,
        "missing",
        f"{account} is neither the management account nor a StackSets delegated administrator",
        f"In the management account: aws organizations register-delegated-administrator --account-id {account} "
        f"--service-principal {STACKSETS_PRINCIPAL}",
    )


def slack_concurrency(limit: int, unreserved: int, reserved: int | None) -> CheckResult:
    """Reserving ``reserved`` must leave ``MIN_UNRESERVED_CONCURRENCY`` unreserved (``unreserved`` is now); nothing
    reserved (``interact.reserved_concurrency`` unset, the default) always fits."""
    name = "lambda_concurrency"
    if reserved is None:
        return _ok(name, f"account limit {limit}; the Slack endpoint reserves none (interact.reserved_concurrency)")
    if unreserved - reserved >= MIN_UNRESERVED_CONCURRENCY:
        return _ok(name, f"account limit {limit}, {unreserved} unreserved: reserving {reserved} fits")
    return CheckResult(
        name,
        "wrong",
        f"account limit {limit}, {unreserved} unreserved: reserving {reserved} for the Slack endpoint would leave "
        f"fewer than {MIN_UNRESERVED_CONCURRENCY}",
        f"aws service-quotas request-service-quota-increase --service-code lambda --quota-code "
        f"{LAMBDA_CONCURRENCY_QUOTA} --desired-value 1000 (new accounts start at 10)",
    )


def _logs_writes(trail: Mapping[str, Any]) -> bool:
    """A trail's selectors record write management events (basic: ``IncludeManagementEvents`` and ReadWriteType
    All/WriteOnly; advanced: an ``eventCategory = Management`` selector not limited to ``readOnly = true``). A trail
    without custom selectors logs every management event (CloudTrail's default)."""
    if (
        not trail.get("HasCustomEventSelectors")
        and not trail.get("EventSelectors")
        and not trail.get("AdvancedEventSelectors")
    ):
        return True
    for selector in trail.get("EventSelectors") or []:
        if selector.get("IncludeManagementEvents", True) and selector.get("ReadWriteType", "All") in (
            "All",
            "WriteOnly",
        ):
            return True
    for advanced in trail.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in advanced.get("FieldSelectors", [])}
        category, read_only = fields.get("eventCategory", {}), fields.get("readOnly", {})
        if "Management" in category.get("Equals", []) and "true" not in read_only.get("Equals", []):
            return True
    return False


def burn_trail(trails: Sequence[Mapping[str, Any]], regions: Sequence[str]) -> CheckResult:
    """The burn guard's prerequisite: EventBridge receives "AWS API Call via CloudTrail" events only when a trail
    with logging on records them (EventBridge User Guide, "AWS service events delivered via AWS CloudTrail"): a
    logging trail that records write management events in every guarded region. ``trails``: DescribeTrails' items
    with ``IsLogging`` (GetTrailStatus) and the selectors (GetEventSelectors) added."""
    name = "burn_trail"
    useful = [t for t in trails if t.get("IsLogging") and _logs_writes(t)]
    covered = {r for r in regions if any(t.get("IsMultiRegionTrail") or t.get("HomeRegion") == r for t in useful)}
    missing = [r for r in regions if r not in covered]
    if not missing:
        names = ", ".join(sorted({str(t.get("Name", "")) for t in useful}))
        return _ok(name, f"management events reach EventBridge in {', '.join(regions)} (trail {names})")
    stopped = [str(t.get("Name", "")) for t in trails if not t.get("IsLogging")]
    detail = f"no logging trail records write management events in {', '.join(missing)}"
    if stopped:
        detail += f" (not logging: {', '.join(stopped)})"
    fix = (
        "aws cloudtrail create-trail --name costwarden-management --s3-bucket-name <a bucket with the CloudTrail "
        "bucket policy> --is-multi-region-trail && aws cloudtrail start-logging --name costwarden-management "
        "(the first copy of management events is delivered without CloudTrail charges; S3 storage only)"
    )
    if stopped:
        fix = f"aws cloudtrail start-logging --name {stopped[0]}, or: {fix}"
    return CheckResult(name, "missing", detail, fix)


def totals(results: Sequence[CheckResult]) -> dict[str, int]:
    counts = {"ok": 0, "missing": 0, "wrong": 0}
    for result in results:
        counts[result.status] += 1
    return counts


def envelope(results: Sequence[CheckResult], errors: Sequence[str], generated_at: datetime) -> dict[str, Any]:
    """The JSON envelope every read-only command prints."""
    return {
        "command": "doctor",
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "complete": not errors,
        "errors": list(errors),
        "results": [r.as_dict() for r in results],
        "totals": totals(results),
    }


def exit_code(results: Sequence[CheckResult], errors: Sequence[str]) -> int:
    """0 all ok, 1 something missing or wrong, 3 a check could not run (and nothing else failed)."""
    if any(r.status != "ok" for r in results):
        return 1
    return 3 if errors else 0
