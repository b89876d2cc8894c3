"""``costwarden doctor``: ask the account (``adapters.doctor_reads``), judge the answers (``doctor.checks``).

Each check runs on its own: a service that cannot be asked (no credentials, access denied, unreachable) becomes
one envelope error naming the check, and the others still run. Secret values are judged here and dropped: only
the verdict leaves this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from costwarden.adapters import aws
from costwarden.adapters import doctor_reads as reads
from costwarden.core.slack_urls import WebhookConfigError
from costwarden.doctor import checks
from costwarden.doctor.checks import CheckResult
from costwarden.notifier.routing import parse_webhooks
from costwarden.settings import Settings

Clients = Callable[[str, str | None], Any]
STACK_NAME = "Costwarden"
#: Weekly jobs (advisor, tag audit) ran at least once in this window.
RUN_WINDOW_DAYS = 8
BILLING_REGION = "us-east-1"


def default_clients(service: str, region: str | None = None) -> Any:
    return aws.client(service, region)


def _webhook_problem(raw: str) -> str | None:
    try:
        parse_webhooks(json.loads(raw))
    except (ValueError, WebhookConfigError) as error:
        return f"not the webhook shape: {error}"
    return None


def _app_problem(raw: str) -> str | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return "not JSON"
    if not isinstance(value, dict):
        return "not a JSON object"
    missing = [k for k in ("signing_secret", "bot_token") if not isinstance(value.get(k), str) or not value.get(k)]
    if missing:
        return f"missing or empty: {', '.join(missing)}"
    if not str(value["bot_token"]).startswith("xoxb-"):
        return "bot_token is not a bot token (xoxb-...)"
    return None


def _secret(clients: Clients, name: str, purpose: str, judge: Callable[[str], str | None]) -> CheckResult:
    raw = reads.secret_value(clients("secretsmanager", None), name)
    if raw is None:
        return checks.secret(name, purpose, None, found=False)
    return checks.secret(name, purpose, judge(raw), found=True)


def plan(
    settings: Settings, clients: Clients, now: datetime, stack: str
) -> list[tuple[str, Callable[[], CheckResult]]]:
    """The checks this deployment needs, by name, each a thunk over its port answers."""
    athena = settings.organization.athena
    items: list[tuple[str, Callable[[], CheckResult]]] = [
        (
            "cost_explorer",
            lambda: checks.cost_explorer(reads.cost_explorer_error(clients("ce", BILLING_REGION), now)),
        ),
        (
            "cost_allocation_tags",
            lambda: checks.cost_allocation_tags(
                tag_keys(settings), reads.tag_status(clients("ce", BILLING_REGION), list(tag_keys(settings)))
            ),
        ),
        (
            "secret:webhooks",
            lambda: _secret(clients, settings.notifier.slack_secret_name, "Slack webhooks", _webhook_problem),
        ),
        (
            "operator_subscription",
            lambda: checks.operator_subscriptions(
                settings.notifier.operator_email, *reads.operator_topic(clients("sns", None), stack)
            ),
        ),
        ("function_runs", lambda: _function_runs(clients, stack, now)),
        (
            "dead_letter_queues",
            lambda: checks.dead_letter_queues(reads.dead_letter_depths(clients("sqs", None), stack)),
        ),
    ]
    if settings.interact.enabled:
        items.append(
            ("secret:slack_app", lambda: _secret(clients, settings.interact.app_secret_name, "Slack app", _app_problem))
        )
        items.append(
            (
                "lambda_concurrency",
                lambda: checks.slack_concurrency(
                    *reads.lambda_concurrency(clients("lambda", None)), settings.interact.reserved_concurrency
                ),
            )
        )
    if settings.cost_source == "athena":
        items.append(("data_export", lambda: _data_export(clients, settings, now)))
        items.append(
            (
                "glue_table",
                lambda: checks.glue_table(
                    athena.database,
                    athena.table,
                    *reads.glue_table(clients("glue", None), athena.database, athena.table),
                    billing_period=now.strftime("%Y-%m"),
                ),
            )
        )
    if settings.burn.enabled:  # docs/burn.md: launch events reach EventBridge only through a logging trail
        burn = settings.burn.regions or settings.organization.regions or settings.reaper.regions
        regions = list(burn) or [aws.default_region()]
        items.append(("burn_trail", lambda: checks.burn_trail(reads.trails(clients("cloudtrail", None)), regions)))
    if settings.organization.enabled:
        items.append(
            (
                "stacksets_trusted_access",
                lambda: checks.trusted_access(reads.service_access(clients("organizations", None))),
            )
        )
        items.append(("stacksets_delegated_admin", lambda: _delegated_admin(clients)))
    return items


def tag_keys(settings: Settings) -> tuple[str, ...]:
    """The keys whose cost allocation tags must be active: the team key and every required key."""
    return tuple(dict.fromkeys((settings.tags.team_key, *settings.tags.required)))


def _function_runs(clients: Clients, stack: str, now: datetime) -> CheckResult:
    cloudwatch = clients("cloudwatch", None)
    functions = reads.stack_functions(clients("lambda", None), stack)
    runs = {f: reads.invocations_and_errors(cloudwatch, f, now, RUN_WINDOW_DAYS) for f in functions}
    return checks.function_runs(runs, RUN_WINDOW_DAYS)


def _data_export(clients: Clients, settings: Settings, now: datetime) -> CheckResult:
    athena = settings.organization.athena
    found = reads.export_found(clients("bcm-data-exports", BILLING_REGION), athena.export_name)
    newest = None
    if found and athena.export_bucket:
        prefix = f"{athena.export_prefix.strip('/')}/{athena.export_name}/data/"
        newest = reads.newest_object(clients("s3", None), athena.export_bucket, prefix)
    elif found:
        newest = _created_bucket_delivery(clients, settings)
    return checks.data_export(athena.export_name, found, newest, now)


def _created_bucket_delivery(clients: Clients, settings: Settings) -> datetime | None:
    """The stack's own export bucket: the Glue table's location names it."""
    athena = settings.organization.athena
    parameters, _ = reads.glue_table(clients("glue", None), athena.database, athena.table)
    template = (parameters or {}).get("storage.location.template", "")
    if not template.startswith("s3://"):
        return None
    bucket, _, rest = template[len("s3://") :].partition("/")
    prefix = rest.split("BILLING_PERIOD=")[0]
    return reads.newest_object(clients("s3", None), bucket, prefix)


def _delegated_admin(clients: Clients) -> CheckResult:
    organizations = clients("organizations", None)
    account = reads.caller_account(clients("sts", None))
    management = reads.management_account(organizations)
    if account == management:  # nothing to register: the list is not asked for
        return checks.delegated_admin(account, management, [])
    return checks.delegated_admin(
        account, management, reads.delegated_admins(organizations, checks.STACKSETS_PRINCIPAL)
    )


def run(
    settings: Settings, clients: Clients = default_clients, *, now: datetime | None = None, stack: str = STACK_NAME
) -> tuple[list[CheckResult], list[str]]:
    """Every check's result, and the checks that could not run (``name: reason``)."""
    moment = now or datetime.now(UTC)
    results: list[CheckResult] = []
    errors: list[str] = []
    for name, thunk in plan(settings, clients, moment, stack):
        try:
            results.append(thunk())
        except aws.AWS_ERRORS as error:
            errors.append(f"{name}: could not ask AWS: {error}")
    return results, errors


def report(
    settings: Settings, clients: Clients = default_clients, *, now: datetime | None = None
) -> tuple[dict[str, Any], int]:
    """The envelope and the exit code (0 ok, 1 missing/wrong, 3 could not run)."""
    moment = now or datetime.now(UTC)
    results, errors = run(settings, clients, now=moment)
    return checks.envelope(results, errors, moment), checks.exit_code(results, errors)
