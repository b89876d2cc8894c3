"""Organization scale and the Athena cost source."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from costwarden.settings._base import (
    _Model,
)
from costwarden.settings.idle import (
    ACCOUNT_ID_PATTERN,
    OU_ID_PATTERN,
    ROLE_NAME_PATTERN,
)


class AthenaSettings(_Model):
    """Where the cost monitor reads cost when `cost_source` is `athena`: a CUR 2.0 or FOCUS 1.x Data Export in S3,
    a Glue table over it, an Athena workgroup with a bytes-scanned limit."""

    export_format: Literal["cur2", "focus"] = "cur2"
    """Format of the Data Export the Glue table reads: `cur2` (CUR 2.0 columns) or `focus` (FOCUS 1.x columns)."""
    database: str = Field("costwarden_cost", pattern=r"^[a-z0-9_]{1,255}$")
    """Glue database holding the export's table, created by the stack (the name must be free in the account's
    Glue catalog: CloudFormation does not adopt an existing database)."""
    table: str = Field("cost_export", pattern=r"^[a-z0-9_]{1,255}$")
    """Glue table over the export, partitioned by `billing_period` (`YYYY-MM`), the Data Export's own layout."""
    workgroup: str = Field("costwarden", pattern=r"^[A-Za-z0-9._-]{1,128}$")
    """Athena workgroup the queries run in, created by the stack with the bytes-scanned limit, its own results
    bucket and the configuration enforced."""
    bytes_scanned_cutoff_mb: int = Field(10_240, ge=10, le=1_048_576)
    """Per-query bytes-scanned limit of the workgroup, in MB (Athena cancels a query past it)."""
    export_bucket: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    """Bucket of an existing Data Export, taken by name (`export_name`, `export_prefix`); `null`: the stack creates
    the bucket and the export (in us-east-1 only, the billing region: see docs/infra.md)."""
    export_name: str = Field("costwarden-cost", pattern=r"^[0-9A-Za-z!_.*'()-]{1,128}$")
    """Name of the Data Export (created, or taken by name with `export_bucket`); its files land under
    `<export_prefix>/<export_name>/data/BILLING_PERIOD=YYYY-MM/`."""
    export_prefix: str = Field("costwarden", pattern=r"^[0-9A-Za-z!_.*'()/-]{1,256}$")
    """S3 prefix the Data Export writes under."""
    focus_version: Literal["1.0", "1.2"] = "1.2"
    """With `export_format: focus`: the Data Export table created, `FOCUS_1_2_AWS` (default) or `FOCUS_1_0_AWS`."""
    poll_seconds: float = Field(1.0, gt=0, le=30)
    """Seconds between `GetQueryExecution` polls while a query runs."""
    max_wait_seconds: int = Field(240, ge=10, le=840)
    """A query still running after this many seconds is cancelled and the run fails (Lambda's limit is 900 s)."""


def _every_one(value: tuple[str, ...], pattern: str, what: str) -> tuple[str, ...]:
    """``value`` when each id matches ``pattern``; else a refusal listing every id that is not ``what``."""
    bad = [v for v in value if not re.match(pattern, v)]
    if bad:
        raise ValueError(f"not {what}: {bad}")
    return value


class OrganizationSettings(_Model):
    """One deployment guarding every account of an AWS Organization: member roles by StackSet, fan-out by Step
    Functions. Off by default: the deployment guards its own account only."""

    enabled: bool = False
    """Guard the organization's member accounts (management or delegated administrator account deployment)."""
    organization_id: str | None = Field(None, pattern=r"^o-[a-z0-9]{10,32}$")
    """The organization's id (`o-...`): member roles trust the central functions only with this `aws:PrincipalOrgID`.
    Required when `enabled`."""
    member_role_name: str = Field("costwarden-member", pattern=ROLE_NAME_PATTERN)
    """Base name of the roles the StackSet creates in each member account: `<name>-read` (plan, audit) and
    `<name>-reaper` (act)."""
    accounts: str | tuple[str, ...] = "all"
    """Accounts guarded: `all` (every active account), or a list of 12-digit account ids and OU/root ids (an OU
    includes the accounts of its child OUs)."""
    exclude_accounts: tuple[str, ...] = ()
    """Account ids never guarded (never listed, never assumed into), whatever `accounts` says."""
    deployment_targets: tuple[str, ...] = ()
    """OU or root ids the StackSet deploys the member roles to (auto-deployment to accounts joining them). Required
    when `enabled`."""
    regions: tuple[str, ...] = ()
    """Regions scanned in every member account; empty means `reaper.regions` (else the deployment region)."""
    max_actions_per_account: int = Field(10, ge=1, le=1000)
    """Per-account blast-radius cap: an account whose plan has more actions acts on nothing; the global cap is
    `reaper.max_actions_per_run`, checked over all accounts before any account is touched."""
    call_as: Literal["SELF", "DELEGATED_ADMIN"] = "SELF"
    """Which account deploys the member roles' StackSet: `SELF` when this stack is deployed in the organization's
    management account, `DELEGATED_ADMIN` in an account the management account registered as a delegated
    administrator for StackSets (service principal `member.org.stacksets.cloudformation.amazonaws.com`; README,
    "Organization"). CloudFormation refuses `SELF` outside the management account. Either way, trusted access for
    StackSets must be on, and Cost Explorer answers for the whole organization only in the management (payer)
    account."""
    max_concurrency: int = Field(10, ge=1, le=1000)
    """Account x region items the Step Functions Distributed Map runs at once (bounded: AWS API limits are per
    account, but Organizations and STS calls are shared)."""
    athena: AthenaSettings = AthenaSettings()
    """The Athena side of `cost_source: athena`."""

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if isinstance(value, str):
            if value != "all":
                raise ValueError("accounts must be 'all' or a list of account ids / OU ids")
            return value
        if not value:
            raise ValueError("accounts must not be an empty list (use 'all')")
        bad = [v for v in value if not (re.match(ACCOUNT_ID_PATTERN, v) or re.match(OU_ID_PATTERN, v))]
        if bad:
            raise ValueError(f"not a 12-digit account id, OU id (ou-...) or root id (r-...): {bad}")
        return tuple(dict.fromkeys(value))

    @field_validator("exclude_accounts")
    @classmethod
    def _excluded(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _every_one(value, ACCOUNT_ID_PATTERN, "a 12-digit account id")

    @field_validator("deployment_targets")
    @classmethod
    def _targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _every_one(value, OU_ID_PATTERN, "an OU id (ou-...) or root id (r-...)")

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> OrganizationSettings:
        if self.enabled and not self.organization_id:
            raise ValueError("organization_id is required when enabled (member roles trust aws:PrincipalOrgID)")
        if self.enabled and not self.deployment_targets:
            raise ValueError("deployment_targets must name at least one OU or root id when enabled")
        return self
