"""The few per-resource reads the idle finder needs beyond the registry's listing (``Describer``).

``list_all`` runs an idle check's own declared listing (``Listing``: one paged describe call per region, for a type
the reaper's registry does not hold, e.g. EC2 Capacity Reservations), so a new check needs no new method here.
Endpoints: ``DescribeEndpoint`` + ``DescribeEndpointConfig`` (variants, instance types, counts — what the price
needs); EMR: ``GetAutoTerminationPolicy``; notebooks: ``DescribeNotebookInstanceLifecycleConfig`` once per
configuration name. Endpoints and EMR clusters are few per account (tens); instances never come through here.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from costwarden.models.idle_ports import Listing, Variant
from costwarden.models.ports import Clients

#: What an idle auto-stop lifecycle script contains (AWS's sample ``autostop.py`` and its common variants).
AUTOSTOP_MARKERS = (
    "autostop",
    "auto-stop",
    "idle_time",
    "idle-time",
    "stop-notebook-instance",
    "stop_notebook_instance",
)


def has_autostop(script: str) -> bool:
    lowered = script.lower()
    return any(marker in lowered for marker in AUTOSTOP_MARKERS)


class AwsDescriber:
    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self._notebook = lru_cache(maxsize=256)(self._notebook_autostop)

    def list_all(self, region: str, listing: Listing) -> list[dict[str, Any]]:
        client = self.clients(listing.service, region)
        if not client.can_paginate(listing.operation):
            return list(getattr(client, listing.operation)(**listing.params).get(listing.key, []))
        out: list[dict[str, Any]] = []
        for page in client.get_paginator(listing.operation).paginate(**listing.params):
            out.extend(page.get(listing.key, []))
        return out

    def endpoint_variants(self, region: str, name: str) -> list[Variant]:
        sm = self.clients("sagemaker", region)
        endpoint = sm.describe_endpoint(EndpointName=name)
        config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        types = {v["VariantName"]: v for v in config.get("ProductionVariants", [])}
        out = []
        for variant in endpoint.get("ProductionVariants", []):
            declared = types.get(variant["VariantName"], {})
            count = variant.get("CurrentInstanceCount", declared.get("InitialInstanceCount", 0))
            out.append(Variant(variant["VariantName"], declared.get("InstanceType", ""), int(count or 0)))
        return out

    def emr_instance_groups(self, region: str, cluster_id: str) -> list[tuple[str, int]]:
        emr = self.clients("emr", region)
        out: list[tuple[str, int]] = []
        for page in emr.get_paginator("list_instance_groups").paginate(ClusterId=cluster_id):
            for group in page.get("InstanceGroups", []):
                count = group.get("RunningInstanceCount", group.get("RequestedInstanceCount", 0))
                out.append((group.get("InstanceType", ""), int(count or 0)))
        return out

    def emr_auto_termination(self, region: str, cluster_id: str) -> bool | None:
        try:
            policy = self.clients("emr", region).get_auto_termination_policy(ClusterId=cluster_id)
        except Exception:  # unknown: the recommendation says it could not be read
            return None
        return "AutoTerminationPolicy" in policy

    def notebook_autostop(self, region: str, config_name: str) -> bool | None:
        return self._notebook(region, config_name)

    def _notebook_autostop(self, region: str, config_name: str) -> bool | None:
        try:
            config = self.clients("sagemaker", region).describe_notebook_instance_lifecycle_config(
                NotebookInstanceLifecycleConfigName=config_name
            )
        except Exception:  # unknown: reported as such
            return None
        scripts = [*config.get("OnStart", []), *config.get("OnCreate", [])]
        text = "\n".join(base64.b64decode(s.get("Content", "")).decode("utf-8", "replace") for s in scripts)
        return has_autostop(text)
