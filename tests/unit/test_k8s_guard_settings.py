"""k8s_guard settings refused at synth with the key named: a guard that could never read its data, a namespace or
budget key that could never match, a threshold outside 0..1."""

from __future__ import annotations

import pytest
from costwarden.settings import SettingsError, parse_settings


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ({"k8s_guard": {"enabled": True}}, "k8s_guard.enabled needs cost_source: athena"),
        (
            {"k8s_guard": {"namespaces": ["ML_Training"]}},
            "costwarden.k8s_guard.namespaces[0]: Value error, a namespace is a Kubernetes namespace name",
        ),
        ({"k8s_guard": {"clusters": ["-prod"]}}, "a cluster is an EKS cluster name"),
        ({"k8s_guard": {"monthly_usd": {"prod-gpu": 100}}}, "a budget key is <cluster>/<namespace>"),
        ({"k8s_guard": {"monthly_usd": {"prod-gpu/ml": 0}}}, "costwarden.k8s_guard.monthly_usd.prod-gpu/ml"),
        ({"k8s_guard": {"idle_gpu_unused_share": 1.5}}, "costwarden.k8s_guard.idle_gpu_unused_share"),
        ({"k8s_guard": {"series_by": "pod"}}, "costwarden.k8s_guard.series_by"),
    ],
)
def test_bad_guard_settings_name_the_key(raw: dict[str, object], said: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw)
    assert said in str(caught.value)


def test_a_valid_guard() -> None:
    settings = parse_settings(
        {
            "cost_source": "athena",
            "k8s_guard": {"enabled": True, "namespaces": ["ml-*"], "monthly_usd": {"prod-gpu/ml-training": 40_000}},
        }
    )
    assert settings.k8s_guard.namespaces == ("ml-*",) and settings.k8s_guard.monthly_usd == {
        "prod-gpu/ml-training": 40_000.0
    }
