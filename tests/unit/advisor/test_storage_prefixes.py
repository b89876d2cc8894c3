from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from costwarden.advisor.storage import (
    GIB,
    Bucket,
    LifecycleRules,
    lifecycle_state,
    monthly_usd_under_rules,
    sizes_from_objects,
)

EXPIRES: dict[str, Any] = {"Status": "Enabled", "Expiration": {"Days": 30}}


@pytest.mark.parametrize(
    ("rule", "state"),
    [
        ({**EXPIRES, "Filter": {"Prefix": ""}}, "useful"),
        ({**EXPIRES, "Prefix": "exp"}, "useful"),  # legacy rule-level prefix covering "experiments/"
        ({**EXPIRES, "Filter": {"And": {"Prefix": "experiments/"}}}, "useful"),
        ({**EXPIRES, "Filter": {"Prefix": "checkpoints/"}}, "not_useful"),
        ({**EXPIRES, "Filter": {"Tag": {"Key": "tmp", "Value": "1"}}}, "not_useful"),  # only tagged objects
        ({**EXPIRES, "Filter": {"And": {"Prefix": "", "Tags": [{"Key": "tmp", "Value": "1"}]}}}, "not_useful"),
        ({**EXPIRES, "Filter": {"ObjectSizeGreaterThan": 1024}}, "not_useful"),
        ({**EXPIRES, "Status": "Disabled", "Filter": {"Prefix": ""}}, "not_useful"),
    ],
)
def test_a_prefix_is_covered_only_by_an_enabled_rule_over_all_its_objects(rule: dict[str, Any], state: str) -> None:
    assert lifecycle_state([rule], ["experiments/"]) == state


def test_object_ages_price_the_prefix_like_the_bucket_wide_history() -> None:
    today = date(2026, 12, 1)
    objects = [
        ("STANDARD", 1 * GIB, date(2026, 11, 25)),  # 6 days old: stays current
        ("STANDARD", 2 * GIB, date(2026, 9, 1)),  # 91 days: Intelligent-Tiering infrequent tier
        ("", 4 * GIB, date(2026, 1, 1)),  # no class reported: Standard; 334 days: expired
        ("GLACIER", 8 * GIB, date(2026, 1, 1)),  # not tierable: stays where it is
    ]
    size_bytes, history = sizes_from_objects(objects)
    assert size_bytes == {"StandardStorage": 7 * GIB, "GlacierStorage": 8 * GIB}
    assert history == [(date(2026, 1, 1), 4 * GIB), (date(2026, 9, 1), 6 * GIB), (date(2026, 11, 25), 7 * GIB)]
    prices = {"StandardStorage": 0.023, "GlacierStorage": 0.0036, "IntelligentTieringFAStorage": 0.023}
    prices |= {"IntelligentTieringIAStorage": 0.0125, "IntelligentTieringAIAStorage": 0.004}
    bucket = Bucket("b", "us-east-1", {}, None, size_bytes, history, ("experiments/",))
    after, _ = monthly_usd_under_rules(bucket, prices, LifecycleRules(), keep=False, today=today)
    assert after == pytest.approx(1 * 0.023 + 2 * 0.0125 + 8 * 0.0036)
