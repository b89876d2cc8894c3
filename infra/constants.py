"""Names, sizes and versions the infrastructure shares, in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from costwarden.teams import DEPLOYED_PATH, TEAMS_FILE_ENV_VAR

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
#: The package folder copied into every function bundle (the whole ``costwarden`` package, one code base).
PACKAGE_DIR: Final = REPO_ROOT / "functions" / "costwarden"
LOCK_FILE: Final = REPO_ROOT / "uv.lock"
#: Built dependency folders are cached here between synths (git-ignored; ``make clean`` removes it).
BUNDLE_CACHE_DIR: Final = REPO_ROOT / ".build" / "assets"
#: Team directory documents written at synth, one folder per content hash (the team directory layer's asset).
TEAM_DIRECTORY_CACHE_DIR: Final = REPO_ROOT / ".build" / "team-directory"

STACK_NAME: Final = "Costwarden"

# Runtime. Python 3.14 is the newest runtime aws-cdk-lib 2.275 knows, but a bundle must ship ``.pyc`` files
# compiled by the *same* interpreter version (``/var/task`` is read-only, so a cold start without them compiles
# pandas/scipy from source: ~2.9 s instead of ~1.0 s, ENVIRONMENT.md). The build needs a local interpreter of
# that version; 3.13 is the newest one available where Costwarden is built and tested, so the functions run on
# 3.13 (supported by Lambda until 2029). Moving to 3.14 is these three constants once a 3.14 interpreter is at
# hand; cdk-nag's L1 ("latest runtime") is acknowledged with this reason in ``infra/nag.py``.
LAMBDA_RUNTIME: Final = lambda_.Runtime.PYTHON_3_13
TARGET_PYTHON_VERSION: Final = "3.13"
#: Wheel platform of Lambda's arm64 (Graviton) runtime; ``manylinux_2_28`` (not 2014): see ENVIRONMENT.md.
TARGET_PLATFORM: Final = "manylinux_2_28_aarch64"
LAMBDA_ARCHITECTURE: Final = lambda_.Architecture.ARM_64

METRICS_NAMESPACE: Final = "Costwarden"
DEFAULT_LOG_LEVEL: Final = "INFO"
LOG_RETENTION: Final = logs.RetentionDays.ONE_MONTH
DEFAULT_TIMEOUT: Final = Duration.seconds(60)
DEFAULT_MEMORY_MB: Final = 256
#: Failed async invocations wait in the dead-letter queue this long (the SQS maximum) for an operator.
DLQ_RETENTION: Final = Duration.days(14)
#: Alarms look at 5-minute periods: errors are rare events here (a handful of invocations a day).
ALARM_PERIOD: Final = Duration.minutes(5)

# Lambda environment variable names (the contract with ``costwarden.handlers``).
ENV_SETTINGS: Final = "COSTWARDEN_SETTINGS"
ENV_ALERT_TOPIC_ARN: Final = "ALERT_TOPIC_ARN"
ENV_STATE_TABLE_NAME: Final = "STATE_TABLE_NAME"
#: Names the team directory document; a function finds it at ``TEAMS_FILE_PATH`` (its layer, under ``/opt``).
ENV_TEAMS_FILE: Final = TEAMS_FILE_ENV_VAR
TEAMS_FILE_PATH: Final = DEPLOYED_PATH
ENV_SLACK_SECRET_NAME: Final = "SLACK_SECRET_NAME"  # noqa: S105 - the variable's name, not a secret

# State table (``costwarden.adapters.state``): string keys ``pk``/``sk``, TTL attribute ``expiration``.
TABLE_PARTITION_KEY: Final = "pk"
TABLE_SORT_KEY: Final = "sk"
TABLE_TTL_ATTRIBUTE: Final = "expiration"

NOTIFIER_HANDLER: Final = "costwarden.handlers.notifier.handler"
#: Long enough for Slack's 429 Retry-After waits and a few 5xx backoffs inside one invocation.
NOTIFIER_TIMEOUT: Final = Duration.seconds(60)
