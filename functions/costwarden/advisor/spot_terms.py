"""The terms every spot estimate of the advisor shares, whether it prices Cost Explorer's on-demand hours
(:mod:`.purchase_mix`) or SageMaker training jobs (:mod:`.training`): the instance family a move is planned in, and the
fleet calculator's interruption allowance on top of a spot price."""

from __future__ import annotations

from costwarden.advisor.fleet import DEFAULT_INTERRUPTION_ALLOWANCE

#: A spot-priced hour costs this many times its spot price: the fleet calculator's 10 % interruption allowance.
ALLOWANCE = 1 + float(DEFAULT_INTERRUPTION_ALLOWANCE)


def family_of(instance_type: str) -> str:
    """Instance family, the unit a spot move is planned in: ``ml.p3.8xlarge`` → ``p3``; ``g5.xlarge`` → ``g5``."""
    parts = instance_type.split(".")
    return parts[1] if parts[0] == "ml" and len(parts) > 2 else parts[0]
