"""``services.k8s_athena.k8s_source``: the one place a deployed function gets its EKS facts source."""

from __future__ import annotations

import boto3
import pytest
from costwarden.adapters.athena import Athena
from costwarden.services.k8s_athena import AthenaK8sSource, k8s_source
from costwarden.settings import Settings, SettingsError, parse_settings


def test_guard_off_builds_no_source_and_no_client() -> None:
    assert k8s_source(Settings()) is None
    assert k8s_source(parse_settings({"cost_source": "athena"})) is None


def test_guard_on_builds_an_athena_source_with_the_athena_paths_workgroup_and_polling() -> None:
    settings = parse_settings(
        {
            "cost_source": "athena",
            "k8s_guard": {"enabled": True},
            "organization": {"athena": {"poll_seconds": 2.5, "max_wait_seconds": 90}},
        }
    )
    client = boto3.client("athena", region_name="us-east-1")
    source = k8s_source(settings, Athena("costwarden", "costwarden_cost", client=client))
    assert isinstance(source, AthenaK8sSource) and source.athena.client is client
    # Built without an adapter (as a Lambda does): the settings' polling, keyword for keyword, and a real client.
    built = AthenaK8sSource(settings.organization.athena, settings.k8s)
    assert (built.athena.poll_seconds, built.athena.max_wait_seconds) == (2.5, 90)
    assert hasattr(built.athena.client, "start_query_execution")


def test_a_focus_export_with_the_guard_is_refused_naming_the_setting() -> None:
    with pytest.raises(SettingsError, match=r"k8s_guard.enabled needs organization.athena.export_format: cur2"):
        parse_settings(
            {
                "cost_source": "athena",
                "k8s_guard": {"enabled": True},
                "organization": {"athena": {"export_format": "focus"}},
            }
        )
