"""The organization run as Amazon States Language: built here as plain JSON, used by the CDK construct
(``infra/fanout.py``) and executed as is by the functional test on moto (tests/functional/org).

    ListAccounts -> PlanMap (Distributed Map over account x region, bounded MaxConcurrency)
                 -> Aggregate (global + per-account caps, reap_blocked) -> ActChoice -> ActMap -> Summary

Nothing that grows with the organization passes between states (Step Functions' 256 KiB): ``ListAccounts`` writes
the items to the results bucket and each Map reads them with ``ItemReader``; each Map writes its children's outputs
with ``ResultWriter`` and hands on only the manifest's location; the steps read them back from the bucket
(``costwarden.org.results``; docs/architecture.md, "Fan-out state size").

Capabilities that change nothing (tag audit, idle finder) have one phase: ListAccounts -> PlanMap -> Summary.

With ``own_account_arn`` (the deployed stack), the run starts the capability's single-account function for the
deployment account itself (``OwnAccount``, an asynchronous invoke, as its schedule did): organization mode has ONE
schedule per job, this machine's, and the deployment account (where no member role exists: service-managed
StackSets skip the management account) is still guarded, once.
Throttling is retried by the state machine with exponential backoff (``Retry``), never by sleeping in a Lambda;
an item that still fails is caught and becomes a failed item in the results, so the other accounts go on.
"""

from __future__ import annotations

from typing import Any

from costwarden.org.results import MAP_RESULTS_PREFIX

#: Errors retried with backoff: the item handler's ``ThrottledError`` and Lambda's own throttling/service errors.
RETRYABLE_ERRORS = [
    "ThrottledError",
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.SdkClientException",
    "Lambda.AWSLambdaException",
]
RETRY_INTERVAL_SECONDS = 5
RETRY_MAX_ATTEMPTS = 5
RETRY_BACKOFF_RATE = 2.0
LAMBDA_TIMEOUT_SECONDS = 600

#: Express child executions end after 5 minutes (and run at least once, not exactly once). Read-only items that
#: fit run as EXPRESS (billed per request and duration, not per state transition: README, "Organization scale"):
#: each attempt is cut at ``EXPRESS_ATTEMPT_SECONDS`` and retried at most ``EXPRESS_MAX_ATTEMPTS`` times, so the
#: worst case (3 x 90 s + 5 s + 10 s of backoff = 285 s) stays inside the 300 s; a cut attempt is caught as the
#: item's failure (``States.Timeout``), reported like any other. The act phase (destructive: exactly once) and the
#: idle finder (a week of CloudWatch per resource: can take minutes) stay STANDARD.
EXPRESS_LIMIT_SECONDS = 300
EXPRESS_ATTEMPT_SECONDS = 90
EXPRESS_MAX_ATTEMPTS = 2
#: capability -> phase -> child execution type.
CHILD_EXECUTION_TYPE: dict[str, dict[str, str]] = {
    "reaper": {"plan": "EXPRESS", "act": "STANDARD"},
    "tag_audit": {"plan": "EXPRESS"},
    "idle": {"plan": "STANDARD"},
}


def child_execution_type(capability: str, phase: str) -> str:
    """EXPRESS only where listed: an unknown capability's items run STANDARD (no 5-minute cut)."""
    return CHILD_EXECUTION_TYPE.get(capability, {}).get(phase, "STANDARD")


def worst_case_item_seconds(task: dict[str, Any]) -> float:
    """The longest a Map item task can run: every attempt to its timeout, plus the largest backoff waits."""
    retry = task["Retry"][0]
    waits = sum(retry["IntervalSeconds"] * retry["BackoffRate"] ** n for n in range(retry["MaxAttempts"]))
    return float(task["TimeoutSeconds"] * (retry["MaxAttempts"] + 1) + waits)


def _lambda_task(function_arn: str, payload: dict[str, Any], *, next_state: str | None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload": payload},
        "ResultSelector": {"result.$": "$.Payload"},
        "OutputPath": "$.result",
        "TimeoutSeconds": LAMBDA_TIMEOUT_SECONDS,
        "Retry": [
            {
                "ErrorEquals": RETRYABLE_ERRORS,
                "IntervalSeconds": RETRY_INTERVAL_SECONDS,
                "MaxAttempts": RETRY_MAX_ATTEMPTS,
                "BackoffRate": RETRY_BACKOFF_RATE,
                "JitterStrategy": "FULL",
            }
        ],
    }
    if next_state is None:
        task["End"] = True
    else:
        task["Next"] = next_state
    return task


def _own_account_task(function_arn: str, capability: str, *, next_state: str) -> dict[str, Any]:
    """Start the single-account function asynchronously (its own DLQ and alarms watch it), keep the state as is;
    a failure to start it is recorded under ``$.own_account_error`` and the organization run goes on."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {
            "FunctionName": function_arn,
            "InvocationType": "Event",
            "Payload": {
                "source": "costwarden.organization",
                "detail-type": "Scheduled Event",
                "time.$": "$$.Execution.StartTime",
                "detail": {"capability": capability},
            },
        },
        "ResultPath": None,
        "Retry": [
            {
                "ErrorEquals": RETRYABLE_ERRORS,
                "IntervalSeconds": RETRY_INTERVAL_SECONDS,
                "MaxAttempts": RETRY_MAX_ATTEMPTS,
                "BackoffRate": RETRY_BACKOFF_RATE,
                "JitterStrategy": "FULL",
            }
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.own_account_error", "Next": next_state}],
        "Next": next_state,
    }


def _item_map(
    prefix: str,
    item_arn: str,
    items_key_path: str,
    max_concurrency: int,
    next_state: str,
    *,
    execution_type: str,
    bucket: str,
    results_prefix: str,
) -> dict[str, Any]:
    """A Distributed Map over the JSON array at ``items_key_path`` (a key of ``bucket``), its children's outputs
    written under ``results_prefix``; its states are named ``<prefix>RunItem`` etc.: state names must be unique in
    the whole machine, nested Map iterators included (Step Functions refuses ``DUPLICATE_STATE_NAME``)."""
    run, failed, done = f"{prefix}RunItem", f"{prefix}ItemFailed", f"{prefix}ItemDone"
    work = _lambda_task(item_arn, {"item.$": "$.item", "time.$": "$.time"}, next_state=None)
    del work["End"]
    work["Next"] = done
    if execution_type == "EXPRESS":
        work["TimeoutSeconds"] = EXPRESS_ATTEMPT_SECONDS
        work["Retry"][0]["MaxAttempts"] = EXPRESS_MAX_ATTEMPTS
    # Anything left after the retries (access denied, a bug, retries exhausted) is this item's failure, reported.
    work["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": failed}]
    return {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": bucket, "Key.$": items_key_path},
        },
        "ItemSelector": {"item.$": "$$.Map.Item.Value", "time.$": "$$.Execution.StartTime"},
        "MaxConcurrency": max_concurrency,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
            "StartAt": run,
            "States": {
                run: work,
                failed: {
                    "Type": "Pass",
                    "Parameters": {
                        "Error.$": "$.failure.Error",
                        "Cause.$": "$.failure.Cause",
                        "item.$": "$.item",
                    },
                    "End": True,
                },
                done: {"Type": "Succeed"},
            },
        },
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": bucket, "Prefix": results_prefix},
        },
        "Next": next_state,
    }


def definition(
    *,
    capability: str,
    accounts_arn: str,
    item_arn: str,
    aggregate_arn: str,
    summary_arn: str,
    max_concurrency: int,
    two_phase: bool,
    results_bucket: str,
    own_account_arn: str | None = None,
) -> dict[str, Any]:
    """The state machine for one capability; ``two_phase`` (the reaper): plan, aggregate, then act;
    ``results_bucket``: where the items and results live (the module); ``own_account_arn``: the single-account
    function run for the deployment account first (see the module)."""
    maps = {"execution_type": child_execution_type(capability, "plan"), "bucket": results_bucket}
    states: dict[str, Any] = {
        "ListAccounts": {
            **_lambda_task(
                accounts_arn,
                {"capability": capability, "bucket": results_bucket, "run.$": "$$.Execution.Name"},
                next_state="PlanMap",
            ),
            "ResultPath": "$.listing",
            "OutputPath": "$",
            "ResultSelector": {
                "capability.$": "$.Payload.capability",
                "prefix.$": "$.Payload.prefix",
                "items_key.$": "$.Payload.items_key",
                "listing_key.$": "$.Payload.listing_key",
                "item_count.$": "$.Payload.item_count",
            },
        },
        "PlanMap": {
            **_item_map(
                "Plan",
                item_arn,
                "$.listing.items_key",
                max_concurrency,
                "Aggregate" if two_phase else "Summary",
                results_prefix=f"{MAP_RESULTS_PREFIX}/{capability}/plan",
                **maps,
            ),
            "ResultPath": "$.plan",
        },
        "Summary": _lambda_task(
            summary_arn,
            {
                "listing.$": "$.listing",
                "plan.$": "$.plan",
                "aggregate.$": "$.aggregate",
                "act.$": "$.act",
                "bucket": results_bucket,
                "time.$": "$$.Execution.StartTime",
            },
            next_state=None,
        ),
    }
    if two_phase:
        payload = {"plan.$": "$.plan", "listing.$": "$.listing", "bucket": results_bucket}
        states["Aggregate"] = {
            **_lambda_task(aggregate_arn, {**payload, "time.$": "$$.Execution.StartTime"}, next_state="ActChoice"),
            "ResultPath": "$.aggregate",
            "OutputPath": "$",
            "ResultSelector": {
                "act.$": "$.Payload.act",
                "blocked.$": "$.Payload.blocked",
                "act_items_key.$": "$.Payload.act_items_key",
                "aggregate_key.$": "$.Payload.aggregate_key",
            },
        }
        states["ActChoice"] = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.aggregate.act", "BooleanEquals": True, "Next": "ActMap"}],
            "Default": "NoAct",
        }
        states["NoAct"] = {"Type": "Pass", "Result": [], "ResultPath": "$.act", "Next": "Summary"}
        states["ActMap"] = {
            **_item_map(
                "Act",
                item_arn,
                "$.aggregate.act_items_key",
                max_concurrency,
                "Summary",
                execution_type=child_execution_type(capability, "act"),
                bucket=results_bucket,
                results_prefix=f"{MAP_RESULTS_PREFIX}/{capability}/act",
            ),
            "ResultPath": "$.act",
        }
        start = "Init"
    else:
        start = "Init"
    # Summary reads $.aggregate and $.act on every path: one-phase runs start with empty ones.
    states["Init"] = {
        "Type": "Pass",
        "Parameters": {"aggregate": {}, "act": []},
        "Next": "ListAccounts" if own_account_arn is None else "OwnAccount",
    }
    if own_account_arn is not None:
        states["OwnAccount"] = _own_account_task(own_account_arn, capability, next_state="ListAccounts")
    return {
        "Comment": f"Costwarden {capability} across the organization (infra/fanout_asl.py)",
        "StartAt": start,
        "States": states,
    }
