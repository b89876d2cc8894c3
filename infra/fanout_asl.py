"""The organization run as Amazon States Language: built here as plain JSON, used by the CDK construct
(``infra/fanout.py``) and executed as is by the functional test on moto (tests/functional/org).

    ListAccounts -> PlanMap (Distributed Map over account x region, bounded MaxConcurrency)
                 -> Aggregate (global + per-account caps, reap_blocked) -> ActChoice -> ActMap -> Summary

Capabilities that change nothing (tag audit, idle finder) have one phase: ListAccounts -> PlanMap -> Summary.
Throttling is retried by the state machine with exponential backoff (``Retry``), never by sleeping in a Lambda;
an item that still fails is caught and becomes a failed item in the results, so the other accounts go on.
"""

from __future__ import annotations

from typing import Any

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


def _item_map(item_arn: str, items_path: str, max_concurrency: int, next_state: str) -> dict[str, Any]:
    work = _lambda_task(item_arn, {"item.$": "$.item", "time.$": "$.time"}, next_state=None)
    del work["End"]
    work["Next"] = "ItemDone"
    # Anything left after the retries (access denied, a bug, retries exhausted) is this item's failure, reported.
    work["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ItemFailed"}]
    return {
        "Type": "Map",
        "ItemsPath": items_path,
        "ItemSelector": {"item.$": "$$.Map.Item.Value", "time.$": "$$.Execution.StartTime"},
        "MaxConcurrency": max_concurrency,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "RunItem",
            "States": {
                "RunItem": work,
                "ItemFailed": {
                    "Type": "Pass",
                    "Parameters": {
                        "Error.$": "$.failure.Error",
                        "Cause.$": "$.failure.Cause",
                        "item.$": "$.item",
                    },
                    "End": True,
                },
                "ItemDone": {"Type": "Succeed"},
            },
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
) -> dict[str, Any]:
    """The state machine for one capability; ``two_phase`` (the reaper): plan, aggregate, then act."""
    states: dict[str, Any] = {
        "ListAccounts": {
            **_lambda_task(accounts_arn, {"capability": capability}, next_state="PlanMap"),
            "ResultPath": "$.listing",
            "OutputPath": "$",
            "ResultSelector": {
                "items.$": "$.Payload.items",
                "capability.$": "$.Payload.capability",
                "skipped_accounts.$": "$.Payload.skipped_accounts",
            },
        },
        "PlanMap": {
            **_item_map(item_arn, "$.listing.items", max_concurrency, "Aggregate" if two_phase else "Summary"),
            "ResultPath": "$.plan",
        },
        "Summary": _lambda_task(
            summary_arn,
            {
                "listing.$": "$.listing",
                "plan.$": "$.plan",
                "aggregate.$": "$.aggregate",
                "act.$": "$.act",
                "time.$": "$$.Execution.StartTime",
            },
            next_state=None,
        ),
    }
    if two_phase:
        states["Aggregate"] = {
            **_lambda_task(
                aggregate_arn, {"plan.$": "$.plan", "time.$": "$$.Execution.StartTime"}, next_state="ActChoice"
            ),
            "ResultPath": "$.aggregate",
            "OutputPath": "$",
            "ResultSelector": {
                "approval.$": "$.Payload.approval",
                "act_items.$": "$.Payload.act_items",
                "act.$": "$.Payload.act",
                "blocked.$": "$.Payload.blocked",
            },
        }
        states["ActChoice"] = {
            "Type": "Choice",
            "Choices": [{"Variable": "$.aggregate.act", "BooleanEquals": True, "Next": "ActMap"}],
            "Default": "NoAct",
        }
        states["NoAct"] = {"Type": "Pass", "Result": [], "ResultPath": "$.act", "Next": "Summary"}
        states["ActMap"] = {
            **_item_map(item_arn, "$.aggregate.act_items", max_concurrency, "Summary"),
            "ResultPath": "$.act",
        }
        start = "Init"
    else:
        start = "Init"
    # Summary reads $.aggregate and $.act on every path: one-phase runs start with empty ones.
    states["Init"] = {
        "Type": "Pass",
        "Parameters": {"aggregate": {}, "act": []},
        "Next": "ListAccounts",
    }
    return {
        "Comment": f"Costwarden {capability} across the organization (infra/fanout_asl.py)",
        "StartAt": start,
        "States": states,
    }
