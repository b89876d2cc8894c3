"""The tag policy: required and optional keys, allowed values, the keys Costwarden reads."""

from __future__ import annotations

from pydantic import (
    Field,
    model_validator,
)

from costwarden.settings._base import (
    _Model,
)


class TagPolicy(_Model):
    """Which tags a resource must carry, and which values some of them may take."""

    required: tuple[str, ...] = ("team", "project", "model_id", "environment", "lifecycle_phase", "cost_center")
    """Tag keys every resource must carry; a missing or empty one is a tag violation."""
    optional: tuple[str, ...] = ("experiment_id", "created_by", "expires_at")
    """Tag keys a resource may carry; known to the validator so that typos of them are caught."""
    allowed_values: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {
            "environment": ("production", "staging", "development", "experiment"),
            "lifecycle_phase": (
                "training",
                "inference",
                "feature_pipeline",
                "monitoring",
                "data_pipeline",
                "development",
            ),
        }
    )
    """Allowed values per tag key; a key listed here must be required or optional."""
    team_key: str = "team"
    """Tag key that names the owning team: cost is grouped by it and alerts are routed by it."""
    expires_key: str = "expires_at"
    """Tag key holding a resource's expiry (ISO 8601 date or date-time) that the reaper acts on."""
    environment_key: str = "environment"
    """Tag key holding the environment; `production` resources are never reaped unless `reaper.allow_production`."""
    owner_keys: tuple[str, ...] = ("created_by", "owner")
    """Tag keys that may name a resource's person, read in order: a Slack user id (`U...`/`W...`), an e-mail address
    or an assumed-role ARN whose session name is one (`core.owner.person_of`). They get direct messages about their
    resource (`notifier.people`); any other value names nobody."""
    protect_key: str = "costwarden:protect"
    """Tag key that protects a resource from the reaper (IAM refuses too) when it holds `protect_value`."""
    protect_value: str = "true"
    """Value of `protect_key` that protects a resource."""
    untagged_share_warn: float = Field(0.10, ge=0, le=1)
    """The tag audit's account summary turns from info to warning above this share of spend without a team (0-1)."""
    audit_window_days: int = Field(7, ge=1, le=31)
    """Days per window of the untagged-spend share (this window against the one before)."""

    @model_validator(mode="after")
    def _allowed_values_name_known_keys(self) -> TagPolicy:
        known = set(self.required) | set(self.optional)
        unknown = sorted(set(self.allowed_values) - known)
        if unknown:
            raise ValueError(f"allowed_values names keys that are neither required nor optional: {unknown}")
        return self
