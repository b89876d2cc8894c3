"""Artefact key prefixes inside otherwise non-artefact buckets (``storage.prefix_patterns``), against moto: which
buckets and prefixes are found, their size from the objects under the prefixes, rules scoped with ``Filter.Prefix``
that S3 accepts, the cap, and the one apply guard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from costwarden.adapters.s3_storage import S3Reader
from costwarden.adapters.state import MemoryStateStore
from costwarden.resources.model import Status
from costwarden.services.advisor.storage import StorageRun, run_storage
from costwarden.settings import Settings, SettingsError, parse_settings

from .stubs import OWNER_TAGS

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
REGION = "us-east-1"
MIB = 1024**2
PREFIXES = ["experiments/", "checkpoints/"]


def settings(**storage: Any) -> Settings:
    return parse_settings({**OWNER_TAGS, "storage": {"prefix_patterns": {"ml-data-*": PREFIXES}, **storage}})


def bucket(s3: Any, name: str, tags: dict[str, str], objects: dict[str, tuple[int, str]], rules: Any = None) -> None:
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    for key, (size, storage_class) in objects.items():
        s3.put_object(Bucket=name, Key=key, Body=b"x" * size, StorageClass=storage_class)
    if rules is not None:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})


def expire(prefix: str) -> dict[str, Any]:
    return {"ID": "team-rule", "Filter": {"Prefix": prefix}, "Status": "Enabled", "Expiration": {"Days": 60}}


def run(cfg: Settings, state: MemoryStateStore | None = None) -> StorageRun:
    return run_storage(cfg, regions=[REGION], reader_factory=S3Reader, now=NOW, state=state)


def seed(s3: Any) -> None:
    objects = {
        "experiments/run-1/model.pt": (3 * MIB, "STANDARD"),
        "experiments/run-2/model.pt": (1 * MIB, "STANDARD"),
        "checkpoints/step-100.ckpt": (2 * MIB, "STANDARD_IA"),
        "models/prod/fraud.bin": (7 * MIB, "STANDARD"),  # a live model: outside the prefixes, never counted
    }
    bucket(s3, "ml-data-shared", {"owner": "vision", "env": "production"}, objects)
    # A rule on experiments/ only: checkpoints/ is not covered, so the bucket is a finding (merge by hand).
    bucket(s3, "ml-data-partial", {"owner": "nlp", "env": "production"}, objects, rules=[expire("experiments/")])
    # A bucket-wide expiring rule covers both prefixes: no finding.
    bucket(s3, "ml-data-covered", {"owner": "nlp", "env": "production"}, objects, rules=[expire("")])
    # Nothing under the prefixes: nothing to recommend.
    bucket(s3, "ml-data-serving", {"owner": "nlp", "env": "production"}, {"models/a.bin": (MIB, "STANDARD")})
    # Same keys, but the bucket name matches no pattern.
    bucket(s3, "analytics-raw", {"owner": "bi", "env": "production"}, objects)
    # An artefact bucket by tag: bucket-wide rules, not prefix-scoped ones, and listed once.
    bucket(s3, "ml-data-sandbox", {"owner": "vision", "env": "experiment"}, objects)


def test_prefixes_found_sized_and_scoped(s3: Any) -> None:
    seed(s3)
    result = run(settings())
    found = {f.bucket.name: f.to_dict() for f in result.findings}
    assert set(found) == {"ml-data-shared", "ml-data-partial", "ml-data-sandbox"}, result.errors
    shared = found["ml-data-shared"]
    assert shared["prefixes"] == PREFIXES and shared["team"] == "vision" and shared["lifecycle"] == "none"
    assert "experiments/, checkpoints/" in shared["why"]
    # Sized from the objects under the prefixes (4 MiB Standard, 2 MiB Standard-IA); the live model is left out.
    gib = 1024**3
    assert shared["size_gib_by_storage_type"] == {
        "StandardIAStorage": round(2 * MIB / gib, 3),
        "StandardStorage": round(4 * MIB / gib, 3),
    }
    assert shared["monthly_usd_now"] == round((4 * MIB * 0.023 + 2 * MIB * 0.0125) / gib, 2)
    rules = shared["put_bucket_lifecycle_configuration"]["Rules"]
    assert len(rules) == 8 and {r["Filter"]["Prefix"] for r in rules} == set(PREFIXES)
    assert all(r["ID"].endswith(r["Filter"]["Prefix"]) for r in rules)
    assert len({r["ID"] for r in rules}) == 8
    assert "--bucket ml-data-shared" in shared["command"] and '"Prefix":"checkpoints/"' in shared["command"]
    partial = found["ml-data-partial"]
    assert partial["lifecycle"] == "not_useful" and any("merge the rules by hand" in n for n in partial["notes"])
    sandbox = found["ml-data-sandbox"]
    assert sandbox["prefixes"] == [] and {
        r["Filter"]["Prefix"] for r in sandbox["put_bucket_lifecycle_configuration"]["Rules"]
    } == {""}
    # Listing grows with prefixes and pages: one ListObjectsV2 per prefix of each bucket sized by its objects.
    assert result.requests["s3:ListObjectsV2"] == 2 * 3  # shared, partial, serving (covered needs no listing)
    # S3 accepts the printed configuration as is, and it scopes the expiry to the prefixes.
    s3.put_bucket_lifecycle_configuration(
        Bucket="ml-data-shared", LifecycleConfiguration=shared["put_bucket_lifecycle_configuration"]
    )
    put = s3.get_bucket_lifecycle_configuration(Bucket="ml-data-shared")["Rules"]
    assert sorted(r["Filter"]["Prefix"] for r in put if "Expiration" in r) == sorted(PREFIXES)
    assert "ml-data-shared" not in {f.bucket.name for f in run(settings()).findings}  # now covered


def test_the_keep_tag_drops_the_prefix_expiry(s3: Any) -> None:
    bucket(
        s3,
        "ml-data-keep",
        {"owner": "vision", "env": "production", "hold": "yes"},
        {"experiments/a": (MIB, "STANDARD")},
    )
    [finding] = run(settings(keep_key="hold", keep_value="yes")).findings
    rules = finding.recommendation["Rules"]
    assert not any("Expiration" in r for r in rules) and len(rules) == 6


def test_more_objects_than_the_cap_are_not_sized(s3: Any) -> None:
    bucket(s3, "ml-data-huge", {"owner": "vision", "env": "production"}, {})
    for i in range(1001):
        s3.put_object(Bucket="ml-data-huge", Key=f"experiments/{i:05d}", Body=b"x")
    result = run(settings(prefix_max_objects=1000))
    [finding] = result.findings
    assert finding.monthly_usd_now is None and finding.monthly_usd_after is None  # never 0
    assert finding.monthly_savings_usd == 0 and any("not sized" in n for n in finding.notes)
    assert any("prefix_max_objects=1000" in e for e in result.errors)
    assert result.requests["s3:ListObjectsV2"] == 2  # stopped after the page that crossed the cap


def test_apply_puts_prefix_scoped_rules_through_the_one_guard(s3: Any) -> None:
    objects = {"experiments/a": (MIB, "STANDARD")}
    bucket(s3, "ml-data-scratch", {"owner": "vision", "env": "shared"}, objects)
    bucket(s3, "ml-data-prod", {"owner": "vision", "env": "production"}, objects)
    state = MemoryStateStore()
    cfg = settings(action="apply", dry_run=False, apply_environments=["shared"])
    result = run(cfg, state)
    decisions = {d.id: d for d in result.decisions}
    assert decisions["ml-data-scratch"].status is Status.DONE
    assert decisions["ml-data-prod"].status is Status.SKIPPED and "report only" in decisions["ml-data-prod"].reason
    put = s3.get_bucket_lifecycle_configuration(Bucket="ml-data-scratch")["Rules"]
    assert {r["Filter"]["Prefix"] for r in put} == set(PREFIXES)
    audit = [item for item in state if str(item["pk"]).startswith("audit#2026-12-01")]
    assert {(a["id"], a["status"], a["dry_run"]) for a in audit} == {
        ("ml-data-scratch", "done", False),
        ("ml-data-prod", "skipped", False),
    }


@pytest.mark.parametrize(
    ("prefix_patterns", "message"),
    [
        ({"ml-data-*": ["exp*/"]}, "is a pattern; S3 lifecycle prefixes are literal"),
        ({"ml-data-*": [""]}, "an empty prefix is the whole bucket"),
        ({"ml-data-*": []}, "no key prefixes"),
        ({"": ["experiments/"]}, "storage.prefix_patterns[key 0]: a blank key names nothing"),
    ],
)
def test_hostile_prefix_settings_name_the_key(prefix_patterns: dict[str, list[str]], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        parse_settings({"storage": {"prefix_patterns": prefix_patterns}})
    assert message in str(raised.value) and "prefix_patterns" in str(raised.value)
