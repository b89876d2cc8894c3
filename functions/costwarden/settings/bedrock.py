"""The Bedrock spend guard (issue 26, part 4): which models are priced how, and the opt-in deny per team."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from costwarden.settings._base import TeamName, _Model, matching

#: An IAM role name (IAM's own rule: 1-64 of letters, digits and ``+=,.@_-``).
_ROLE = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
RoleName = Annotated[str, matching(_ROLE, "a role name is 1-64 characters of A-Z, a-z, 0-9 and +=,.@_-")]
#: A Bedrock model id (``anthropic.claude-3-5-sonnet-20240620-v1:0``) or a Price List ``model`` name.
ModelText = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$")]


class BedrockSettings(_Model):
    """Hourly Bedrock spend per team from CloudWatch token counts x Price List prices, against budget and
    baseline; an opt-in deny on `bedrock:InvokeModel*` for the team's application inference profiles."""

    enabled: bool = False
    """Deploy the hourly Bedrock guard (a light function, a schedule, read-only Bedrock, CloudWatch, Price List)."""
    price_names: dict[ModelText, ModelText] = Field(default_factory=dict)
    """Foundation model id -> the Price List's `model` attribute of AmazonBedrock (for example
    `anthropic.claude-3-5-sonnet-20240620-v1:0` -> `Claude 3.5 Sonnet`). The Price List names models by their
    marketing name, not their id; a model without an entry (or whose name has no price) is reported unpriced by
    name, never counted as free."""
    hard_limit: dict[TeamName, Literal["off", "approve", "auto"]] = Field(default_factory=dict)
    """Per team, what happens when its Bedrock spend today is critical (`anomaly.critical_ratio` x its daily
    budget or baseline): `off` (default), `approve` (on-call gets *Deny Bedrock* on the alert) or `auto` (the
    hourly run attaches the deny itself). *Lift* removes exactly the policy attached."""
    roles: dict[TeamName, tuple[RoleName, ...]] = Field(default_factory=dict)
    """Per team, the IAM roles that call its application inference profiles: the deny is attached to these, and
    only while each carries the team's tag (`tags.team_key`), which the deny's IAM permission requires too."""

    bill_services: tuple[ModelText, ...] = ("Amazon Bedrock",)
    """Cost Explorer SERVICE values of the bill's Bedrock line items, for the next day's reconciliation. Models sold
    through AWS Marketplace bill under their own service name (`Claude 3.5 Sonnet (Amazon Bedrock Edition)`): list
    those too, or their cost shows as a gap between the estimate and the bill."""

    @model_validator(mode="after")
    def _roles_for_the_limit(self) -> BedrockSettings:
        """A deny with no role to attach it to would cap nothing: refused at synth, naming the team."""
        roleless = sorted(t for t, mode in self.hard_limit.items() if mode != "off" and not self.roles.get(t))
        if roleless:
            raise ValueError(
                f"bedrock.hard_limit is on for {roleless[0]!r} but bedrock.roles has no role for it: the deny would be "
                "attached to nothing; list the roles that call the team's inference profiles"
            )
        return self
