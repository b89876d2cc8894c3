"""Artefact storage against moto: discovery by tag and name, sizes from a seeded ``BucketSizeBytes`` (moto's own
value is not bytes), prices now and under the rules, the exact rules JSON, and the opt-in, capped, audited apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from costwarden.adapters.s3_storage import S3Reader
from costwarden.adapters.state import MemoryStateStore
from costwarden.advisor.storage import GIB
from costwarden.services.advisor.storage import StorageRun, run_storage
from costwarden.settings import Settings, parse_settings

from .stubs import OWNER_TAGS

# In the past, so moto's own generated BucketSizeBytes point (stamped with the real clock) is outside the window.
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
REGION = "us-east-1"


def settings(**storage: Any) -> Settings:
    return parse_settings({**OWNER_TAGS, "storage": storage})


def bucket(s3: Any, name: str, tags: dict[str, str], lifecycle: list[dict[str, Any]] | None = None) -> None:
    s3.create_bucket(Bucket=name)
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    if lifecycle is not None:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": lifecycle})


def seed_sizes(name: str, storage_type: str, gib_by_age: dict[int, float]) -> None:
    """Daily BucketSizeBytes points written by us (age in days -> GiB)."""
    cw = boto3.client("cloudwatch", region_name=REGION)
    data = [
        {
            "MetricName": "BucketSizeBytes",
            "Dimensions": [{"Name": "BucketName", "Value": name}, {"Name": "StorageType", "Value": storage_type}],
            "Timestamp": datetime.combine((NOW - timedelta(days=age)).date(), datetime.min.time(), tzinfo=UTC),
            "Value": gib * GIB,
            "Unit": "Bytes",
        }
        for age, gib in gib_by_age.items()
    ]
    for first in range(0, len(data), 500):
        cw.put_metric_data(Namespace="AWS/S3", MetricData=data[first : first + 500])


def linear(total_gib: float, days: int) -> dict[int, float]:
    """A bucket that grew evenly from empty ``days`` ago to ``total_gib`` today."""
    return {age: total_gib * (days - age) / days for age in range(days + 1)}


def run(cfg: Settings, *, state: MemoryStateStore | None = None, allow_apply: bool = True) -> StorageRun:
    return run_storage(cfg, regions=[REGION], reader_factory=S3Reader, now=NOW, state=state, allow_apply=allow_apply)


ABORT_ONLY = [
    {
        "ID": "a",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
    }
]
USEFUL = [{"ID": "e", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}}]


def test_findings_sizes_prices_and_rules(s3: Any) -> None:
    bucket(s3, "vision-exp", {"owner": "vision", "env": "experiment"})
    bucket(s3, "nlp-train", {"owner": "nlp", "env": "staging", "lifecycle_phase": "training"}, ABORT_ONLY)
    bucket(s3, "nlp-tidy", {"owner": "nlp", "env": "experiment"}, USEFUL)
    bucket(s3, "prod-models", {"owner": "fraud", "env": "production"})
    bucket(s3, "env-is-default-key", {"owner": "x", "environment": "experiment"})
    seed_sizes("vision-exp", "StandardStorage", linear(1024, 200))
    seed_sizes("nlp-train", "StandardIAStorage", {0: 100, 1: 100})
    seed_sizes("prod-models", "StandardStorage", {0: 5000})

    result = run(settings())
    names = [f.bucket.name for f in result.findings]
    assert names == ["vision-exp", "nlp-train"]  # largest saving first; useful/production/other-key skipped
    vision = result.findings[0].to_dict()
    assert vision["team"] == "vision" and vision["why"] == "tag env=experiment" and vision["lifecycle"] == "none"
    # Complete days only: today's point (age 0) is not final, yesterday's 1,018.88 GiB is the size.
    assert vision["size_gib_by_storage_type"] == {"StandardStorage": 1018.88}
    assert vision["monthly_usd_now"] == pytest.approx(1018.88 * 0.023, abs=0.01)
    # Age bands of a bucket that grew evenly over 200 days (5.12 GiB a day): bytes it held 30, 60, 120, 180 days
    # ago are 870.4, 716.8, 409.6, 102.4 GiB. 0-30 d standard, 30-60 d IT frequent, 60-120 d IT infrequent,
    # 120-180 d archive instant, older expired.
    expected_after = (1018.88 - 870.4) * 0.023 + 153.6 * 0.023 + 307.2 * 0.0125 + 307.2 * 0.004
    assert vision["monthly_usd_after"] == pytest.approx(expected_after, abs=0.02)
    assert vision["put_bucket_lifecycle_configuration"] == {
        "Rules": [
            {
                "ID": "costwarden-abort-incomplete-multipart",
                "Filter": {"Prefix": ""},
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
            {
                "ID": "costwarden-expire-noncurrent",
                "Filter": {"Prefix": ""},
                "Status": "Enabled",
                "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
            },
            {
                "ID": "costwarden-intelligent-tiering",
                "Filter": {"Prefix": ""},
                "Status": "Enabled",
                "Transitions": [{"Days": 30, "StorageClass": "INTELLIGENT_TIERING"}],
            },
            {"ID": "costwarden-expire", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 180}},
        ]
    }
    assert vision["command"].startswith("aws s3api put-bucket-lifecycle-configuration --bucket vision-exp ")
    nlp = result.findings[1].to_dict()
    assert nlp["lifecycle"] == "not_useful" and nlp["why"] == "tag lifecycle_phase=training"
    assert nlp["monthly_usd_now"] == pytest.approx(1.25)
    # Requests grow with pages, not buckets: one tagging page, one ListMetrics page, one GetMetricData request;
    # lifecycle is read only for the artefact buckets.
    assert result.requests == {
        "tagging:GetResources": 1,
        "s3:GetBucketLifecycleConfiguration": 3,
        "cloudwatch:ListMetrics": 1,
        "cloudwatch:GetMetricData": 1,
    }
    assert result.decisions == [] and result.dry_run  # storage.action defaults to report


def test_the_rules_are_accepted_by_s3_as_printed(s3: Any) -> None:
    bucket(s3, "vision-exp", {"owner": "vision", "env": "experiment"})
    finding = run(settings()).findings[0]
    s3.put_bucket_lifecycle_configuration(Bucket="vision-exp", LifecycleConfiguration=finding.recommendation)
    assert s3.get_bucket_lifecycle_configuration(Bucket="vision-exp")["Rules"][3]["Expiration"] == {"Days": 180}
    assert run(settings()).findings == []  # now useful


def test_keep_tag_and_name_patterns(s3: Any) -> None:
    bucket(s3, "kept-exp", {"owner": "vision", "env": "experiment", "keep-me": "yes"})
    bucket(s3, "ranking-checkpoints", {})
    result = run(settings(keep_key="keep-me", keep_value="yes", name_patterns=["*-checkpoints"]))
    by_name = {f.bucket.name: f for f in result.findings}
    kept = by_name["kept-exp"]
    assert kept.keep and all("Expiration" not in r for r in kept.recommendation["Rules"])
    assert by_name["ranking-checkpoints"].why_artefact == "name matches '*-checkpoints'"
    assert by_name["ranking-checkpoints"].team == "unowned"
    assert kept.monthly_usd_now == 0 and kept.monthly_usd_after == 0  # no size seeded: empty, not guessed


def test_unpriced_storage_type_is_null_with_reason(s3: Any) -> None:
    bucket(s3, "vision-exp", {"owner": "vision", "env": "experiment"})
    seed_sizes("vision-exp", "GlacierStorage", {1: 10})
    prices = {
        "StandardStorage": 0.023,
        "IntelligentTieringFAStorage": 0.023,
        "IntelligentTieringIAStorage": 0.0125,
        "IntelligentTieringAIAStorage": 0.004,
    }
    finding = run(settings(usd_per_gb_month=prices)).findings[0].to_dict()
    assert finding["monthly_usd_now"] is None and finding["monthly_usd_after"] is None
    assert any("GlacierStorage" in n for n in finding["notes"])


def lifecycle_of(s3: Any, name: str) -> Any:
    try:
        return s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    except s3.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"
        return None


def apply_account(s3: Any) -> None:
    bucket(s3, "vision-exp", {"owner": "vision", "env": "experiment"})
    bucket(s3, "vision-dev", {"owner": "vision", "env": "development"})
    bucket(s3, "nlp-exp", {"owner": "nlp", "env": "experiment"}, ABORT_ONLY)
    bucket(s3, "guarded-exp", {"owner": "nlp", "env": "experiment", "costwarden:protect": "true"})


def test_apply_is_dry_run_by_default_and_audited(s3: Any) -> None:
    apply_account(s3)
    state = MemoryStateStore()
    result = run(settings(action="apply"), state=state)
    assert result.dry_run
    statuses = {d.id: (d.status.value, d.reason) for d in result.decisions}
    assert statuses["vision-exp"][0] == "planned"
    assert statuses["vision-dev"] == ("skipped", "not tagged env in ['experiment']: report only")
    assert statuses["nlp-exp"] == ("skipped", "has a lifecycle configuration: never replaced")
    assert statuses["guarded-exp"] == ("skipped", "protected (costwarden:protect=true)")
    assert lifecycle_of(s3, "vision-exp") is None
    audit = [item for item in state if str(item["pk"]).startswith("audit#2026-06-10")]
    assert len(audit) == 4 and {a["dry_run"] for a in audit} == {True}
    assert {a["action"] for a in audit} == {"put_lifecycle"} and {a["type"] for a in audit} == {"s3:bucket"}
    assert all(str(a["sk"]).startswith(f"{result.run_id}#arn:aws:s3:::") for a in audit)


def test_apply_puts_only_on_experiment_buckets_without_rules(s3: Any) -> None:
    apply_account(s3)
    state = MemoryStateStore()
    cfg = settings(action="apply", dry_run=False)
    assert run(cfg, allow_apply=False).dry_run  # the CLI without --apply
    result = run(cfg, state=state)
    assert not result.dry_run
    done = [d.id for d in result.decisions if d.status.value == "done"]
    assert done == ["vision-exp"]
    vision = next(f for f in result.findings if f.bucket.name == "vision-exp")
    assert lifecycle_of(s3, "vision-exp") == vision.recommendation["Rules"]
    assert lifecycle_of(s3, "nlp-exp") == ABORT_ONLY  # never replaced
    assert lifecycle_of(s3, "vision-dev") is None and lifecycle_of(s3, "guarded-exp") is None
    assert result.requests["s3:PutBucketLifecycleConfiguration"] == 1


def test_apply_over_the_cap_puts_nothing(s3: Any) -> None:
    for n in range(3):
        bucket(s3, f"exp-{n}", {"owner": "vision", "env": "experiment"})
    result = run(settings(action="apply", dry_run=False, max_actions_per_run=2))
    assert result.blocked
    assert {d.status.value for d in result.decisions} == {"skipped"}
    assert all("max_actions_per_run=2" in d.reason for d in result.decisions)
    assert all(lifecycle_of(s3, f"exp-{n}") is None for n in range(3))


def test_cli_advise_account_report_and_apply_guard(
    s3: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from costwarden.cli import main as cli_main

    bucket(s3, "vision-exp", {"team": "vision", "environment": "experiment"})
    code = cli_main.main(["advise", "--format", "json"])
    out, err = capsys.readouterr()
    [report] = json.loads(out)["results"]
    assert [f["bucket"] for f in report["storage"]["findings"]] == ["vision-exp"]
    assert report["storage"]["decisions"] == []
    assert "no change made (dry run)" in err and "Cost Explorer requests" in err
    # moto implements no commitment API: that lever reports its error, the others still ran, exit code 1.
    assert code == 1 and "commitments:" in err and "Traceback" not in err
    # --apply without the opt-in setting is a user error, not an action.
    assert cli_main.main(["advise", "--apply"]) == 2
    assert "storage.action: apply" in capsys.readouterr().err
    assert lifecycle_of(s3, "vision-exp") is None


def test_unreadable_sizes_are_null_never_zero(s3: Any) -> None:
    """CloudWatch refusing the size read must not turn a 1 TiB bucket into a 0 USD finding."""
    bucket(s3, "vision-exp", {"owner": "vision", "env": "experiment"})
    seed_sizes("vision-exp", "StandardStorage", {1: 1024})

    def refuse(**_: Any) -> None:
        raise RuntimeError("CloudWatch is unavailable")

    def failing_reader(region: str) -> S3Reader:
        cloudwatch = boto3.client("cloudwatch", region_name=region)
        cloudwatch.meta.events.register("before-call.cloudwatch.*", refuse)  # the real client, refusing every call
        return S3Reader(region, cloudwatch=cloudwatch)

    result = run_storage(settings(), regions=[REGION], reader_factory=failing_reader, now=NOW, allow_apply=False)
    [finding] = [f.to_dict() for f in result.findings if f.bucket.name == "vision-exp"]
    assert any("BucketSizeBytes" in error for error in result.errors), result.errors
    assert finding["monthly_usd_now"] is None and finding["monthly_usd_after"] is None
    assert any("not sized" in note for note in finding["notes"])
