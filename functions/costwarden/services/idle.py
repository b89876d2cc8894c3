"""The idle finder's ports on real AWS (the handler and the CLI share this wiring; tests wire their own)."""

from __future__ import annotations

from costwarden.adapters.cloudwatch_metrics import CloudWatchMetrics
from costwarden.adapters.idle_describe import AwsDescriber
from costwarden.idle.service import Ports
from costwarden.models.idle_ports import Store
from costwarden.models.ports import Clients
from costwarden.services.prices import price_book
from costwarden.settings import Settings


def aws_ports(clients: Clients, state: Store | None, settings: Settings) -> Ports:
    """CloudWatch metrics, the Price List (cached in ``state``) and the describe calls, all through ``clients``."""
    return Ports(
        clients=clients,
        metrics=CloudWatchMetrics(clients),
        prices=price_book(clients, state, settings),
        describe=AwsDescriber(clients),
    )
