"""The one typed configuration of Costwarden (DESIGN.md, "Configuration").

Read from ``cdk.json`` context (key ``costwarden``) at synth, validated there so that a bad value fails
``cdk synth`` with a message naming the key, and handed to every function as one JSON environment variable
(``COSTWARDEN_SETTINGS``). A function that starts without it fails at import, loudly, not on its first schedule.

Per-team data (the team directory, ``teams``) is the exception: a thousand teams do not fit Lambda's 4 KB of
environment, so it travels as its own document (``costwarden.teams``: a JSON file in a Lambda layer, validated at
synth by this same model) and ``load_settings`` puts it back in ``Settings.teams``. Code reads one ``Settings``
whichever way its parts travelled.

The model is split by capability (one module each); this package re-exports every name, so
``from costwarden.settings import X`` is the one way to read it.
"""

from __future__ import annotations

from costwarden.settings._base import (
    CONTEXT_KEY as CONTEXT_KEY,
)
from costwarden.settings._base import (
    MAX_ERRORS_SHOWN as MAX_ERRORS_SHOWN,
)
from costwarden.settings._base import (
    MAX_SETTINGS_ENV_BYTES as MAX_SETTINGS_ENV_BYTES,
)
from costwarden.settings._base import (
    SETTINGS_ENV_VAR as SETTINGS_ENV_VAR,
)
from costwarden.settings._base import (
    ChannelName as ChannelName,
)
from costwarden.settings._base import (
    Owner as Owner,
)
from costwarden.settings._base import (
    TeamName as TeamName,
)
from costwarden.settings.advisor import (
    AdvisorSettings as AdvisorSettings,
)
from costwarden.settings.advisor import (
    StorageSettings as StorageSettings,
)
from costwarden.settings.anomaly import (
    AnomalySettings as AnomalySettings,
)
from costwarden.settings.bedrock import (
    BedrockSettings as BedrockSettings,
)
from costwarden.settings.budgets import (
    BudgetSettings as BudgetSettings,
)
from costwarden.settings.budgets import (
    PoolSettings as PoolSettings,
)
from costwarden.settings.burn import (
    BurnSettings as BurnSettings,
)
from costwarden.settings.idle import (
    ACCOUNT_ID_PATTERN as ACCOUNT_ID_PATTERN,
)
from costwarden.settings.idle import (
    OU_ID_PATTERN as OU_ID_PATTERN,
)
from costwarden.settings.idle import (
    ROLE_NAME_PATTERN as ROLE_NAME_PATTERN,
)
from costwarden.settings.idle import (
    IdleSettings as IdleSettings,
)
from costwarden.settings.k8s import (
    K8sSettings as K8sSettings,
)
from costwarden.settings.k8s_guard import (
    K8sGuardSettings as K8sGuardSettings,
)
from costwarden.settings.load import (
    SettingsError as SettingsError,
)
from costwarden.settings.load import (
    decode_json as decode_json,
)
from costwarden.settings.load import (
    load_settings as load_settings,
)
from costwarden.settings.load import (
    parse_settings as parse_settings,
)
from costwarden.settings.model import (
    Settings as Settings,
)
from costwarden.settings.notify import (
    InteractSettings as InteractSettings,
)
from costwarden.settings.notify import (
    NotifierSettings as NotifierSettings,
)
from costwarden.settings.notify import (
    PeopleSettings as PeopleSettings,
)
from costwarden.settings.notify import (
    ScheduleSettings as ScheduleSettings,
)
from costwarden.settings.notify import (
    SlackGroup as SlackGroup,
)
from costwarden.settings.notify import (
    SlackUser as SlackUser,
)
from costwarden.settings.notify import (
    TeamSlackSettings as TeamSlackSettings,
)
from costwarden.settings.org import (
    AthenaSettings as AthenaSettings,
)
from costwarden.settings.org import (
    OrganizationSettings as OrganizationSettings,
)
from costwarden.settings.reaper import (
    PoolName as PoolName,
)
from costwarden.settings.reaper import (
    ReaperSettings as ReaperSettings,
)
from costwarden.settings.tags import (
    TagPolicy as TagPolicy,
)
from costwarden.settings.teams import (
    PoolBudgets as PoolBudgets,
)
from costwarden.settings.teams import (
    TeamLimits as TeamLimits,
)
from costwarden.settings.teams import (
    TeamPeopleSettings as TeamPeopleSettings,
)
from costwarden.settings.teams import (
    TeamSettings as TeamSettings,
)
from costwarden.settings.unitcost import (
    CustomDenominator as CustomDenominator,
)
from costwarden.settings.unitcost import (
    UnitCostSettings as UnitCostSettings,
)
