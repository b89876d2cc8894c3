"""The results bucket's objects as the organization steps read them (costwarden.org.results): hostile pointers and
files fail naming where; ResultWriter's records become the item outputs the aggregation always read, in the items'
order; staged listings and aggregations come back whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from costwarden.org.results import (
    ResultsError,
    bounded_summary,
    bucket_name,
    load_aggregate,
    load_listing,
    load_outputs,
    prefix_of,
    run_prefix,
    stage_aggregate,
    stage_listing,
)

PREFIX = "org-runs/reaper/run-1/"
MANIFEST = "org-map-results/reaper/plan/abc/manifest.json"


class Store:
    """The ResultStore port over a dict (a missing key raises as the S3 adapter does: a ValueError naming it)."""

    def __init__(self, objects: dict[str, Any] | None = None) -> None:
        self.objects = dict(objects or {})

    def get_json(self, key: str) -> Any:
        if key not in self.objects:
            raise ValueError(f"s3://bucket/{key} could not be read: NoSuchKey")
        return self.objects[key]

    def put_json(self, key: str, value: Any) -> None:
        self.objects[key] = json.loads(json.dumps(value))


def _item(account: str, region: str) -> dict[str, Any]:
    return {"capability": "reaper", "account_id": account, "region": region, "account_team": "t"}


def _pointer(key: str = MANIFEST) -> dict[str, Any]:
    return {"MapRunArn": "arn:aws:states:us-east-1:1:mapRun:m/PlanMap:abc", "ResultWriterDetails": {"Key": key}}


def _written(records: dict[str, list[Any]]) -> Store:
    files = {f"{MANIFEST[:-13]}{status}_0.json": rows for status, rows in records.items()}
    manifest = {"ResultFiles": {status: [{"Key": key, "Size": 1}] for status, key in zip(records, files, strict=True)}}
    return Store({MANIFEST: manifest, **files})


@pytest.mark.parametrize("bad", [None, "", "A_Bucket", "x", "../etc", 5, "b" * 64])
def test_a_bucket_name_that_is_not_one_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(ResultsError, match="'bucket' must be an S3 bucket name"):
        bucket_name(bad)


@pytest.mark.parametrize("bad", [None, "", "a/b", "has space", "x" * 81, "a*b", {"name": "x"}])
def test_a_run_name_that_could_escape_its_prefix_is_refused(bad: object) -> None:
    with pytest.raises(ResultsError, match="'run' must be the execution's name"):
        run_prefix("reaper", bad)


@pytest.mark.parametrize("bad", [None, "org-runs/", "elsewhere/reaper/r/", "org-runs/reaper/../x/", 3])
def test_a_listing_prefix_outside_the_runs_is_refused(bad: object) -> None:
    with pytest.raises(ResultsError, match="the listing's 'prefix'"):
        prefix_of({"prefix": bad})


@pytest.mark.parametrize(
    ("pointer", "objects", "message"),
    [
        ({"MapRunArn": "x"}, {}, "must carry 'ResultWriterDetails'"),
        ({"ResultWriterDetails": {"Key": 7}}, {}, "field 'Key' must be a non-empty string"),
        (_pointer(), {}, "could not be read: NoSuchKey"),
        (_pointer(), {MANIFEST: []}, "must hold a JSON object"),
        (_pointer(), {MANIFEST: {"ResultFiles": "all"}}, "'ResultFiles' must be an object"),
        (
            _pointer(),
            {MANIFEST: {"ResultFiles": {"SUCCEEDED": {"Key": "k"}}}},
            r"'ResultFiles.SUCCEEDED' must be a list",
        ),
        (_pointer(), {MANIFEST: {"ResultFiles": {"SUCCEEDED": [{"Size": 1}]}}}, "field 'Key' must be"),
        (_pointer(), {MANIFEST: {"ResultFiles": {"SUCCEEDED": [{"Key": "f"}]}}, "f": {}}, "f must hold a JSON array"),
        (_pointer(), {MANIFEST: {"ResultFiles": {"SUCCEEDED": [{"Key": "f"}]}}, "f": [{"Output": 1}]}, r"f\[0\]"),
        (_pointer(), {MANIFEST: {"ResultFiles": {"SUCCEEDED": [{"Key": "f"}]}}, "f": [{"Output": "{"}]}, "not JSON"),
        (_pointer(), {MANIFEST: {"ResultFiles": {"SUCCEEDED": [{"Key": "f"}]}}, "f": [{"Output": "[]"}]}, "Output"),
    ],
)
def test_a_hostile_manifest_or_record_fails_naming_where(
    pointer: dict[str, Any], objects: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        load_outputs(Store(objects), pointer)


def test_map_results_without_a_bucket_or_of_another_shape_are_refused() -> None:
    with pytest.raises(ResultsError, match="given no 'bucket'"):
        load_outputs(None, _pointer())
    with pytest.raises(ResultsError, match="must be a list or ResultWriter's output, got str"):
        load_outputs(Store(), "plan")


def test_result_writer_records_become_the_item_outputs_in_the_items_order() -> None:
    items = [_item("111111111111", "us-east-1"), _item("111111111111", "eu-west-1"), _item("222222222222", "us-east-1")]
    caught = {"Error": "States.TaskFailed", "Cause": "boom", "item": items[1]}
    store = _written(
        {
            "SUCCEEDED": [
                {"Output": json.dumps({"account_id": "222222222222", "region": "us-east-1", "ok": True})},
                {"Output": json.dumps(caught)},
            ],
            "FAILED": [
                {"Error": "States.Timeout", "Cause": "cut", "Input": json.dumps({"item": items[0], "time": "t"})}
            ],
        }
    )

    outputs = load_outputs(store, _pointer(), items)

    assert outputs == [
        {"Error": "States.Timeout", "Cause": "cut", "item": items[0]},  # a failed child: the Catch shape
        caught,
        {"account_id": "222222222222", "region": "us-east-1", "ok": True},
    ]


def test_a_pending_child_without_input_is_a_failure_of_an_unknown_item() -> None:
    store = _written({"PENDING": [{"Name": "7"}]})
    assert load_outputs(store, _pointer()) == [
        {"Error": "States.Pending", "Cause": "the child execution ended PENDING", "item": {}}
    ]


def test_inline_outputs_pass_as_they_are_and_a_stray_value_is_a_failure() -> None:
    assert load_outputs(None, [{"ok": True}, "x"]) == [{"ok": True}, {"Error": "malformed", "Cause": "'x'"}]


def test_a_staged_listing_and_aggregation_come_back_whole_and_the_state_keeps_only_keys() -> None:
    store = Store()
    listing: dict[str, Any] = {
        "capability": "reaper",
        "items": [_item("1" * 12, "us-east-1")],
        "skipped_accounts": {"2" * 12: "x"},
    }
    staged = stage_listing(store, listing, PREFIX)
    assert staged == {
        "capability": "reaper",
        "prefix": PREFIX,
        "items_key": PREFIX + "items.json",
        "listing_key": PREFIX + "listing.json",
        "item_count": 1,
        "skipped_count": 1,
    }
    assert load_listing(store, staged) == listing
    assert load_listing(None, listing) == listing  # inline: as it is

    out = {"approval": {"total_planned": 1}, "act_items": [listing["items"][0]], "act": True, "blocked": None}
    pointer = stage_aggregate(store, out, PREFIX)
    assert store.objects[PREFIX + "act-items.json"] == out["act_items"]
    assert pointer == {
        "act": True,
        "blocked": None,
        "act_items_key": PREFIX + "act-items.json",
        "aggregate_key": PREFIX + "aggregate.json",
        "approved_items": 1,
    }
    assert load_aggregate(store, pointer) == {k: v for k, v in out.items() if k != "act_items"}
    assert load_aggregate(None, {}) == {}  # one-phase runs: nothing aggregated


@pytest.mark.parametrize("key", ["elsewhere/aggregate.json", 5, ""])
def test_an_aggregate_key_outside_the_runs_is_refused(key: object) -> None:
    with pytest.raises(ResultsError, match="'aggregate_key' must be under org-runs/"):
        load_aggregate(Store(), {"aggregate_key": key})


def test_a_staged_listing_whose_items_are_not_an_array_is_refused() -> None:
    store = Store({PREFIX + "listing.json": {"capability": "reaper"}, PREFIX + "items.json": {"a": 1}})
    with pytest.raises(ResultsError, match=r"items\.json must hold a JSON array of work items, got dict"):
        load_listing(store, {"listing_key": PREFIX + "listing.json", "prefix": PREFIX})


def test_a_summary_over_the_bound_leaves_its_per_account_parts_to_the_bucket() -> None:
    errors = {f"{n:012d}/us-east-1": "AccessDenied: not authorized to perform sts:AssumeRole " * 4 for n in range(800)}
    accounts = {f"{n:012d}": {"team": "t", "errors": [errors[f"{n:012d}/us-east-1"]]} for n in range(800)}
    summary = {"items": 800, "accounts": accounts, "failed_items": errors, "skipped_accounts": {"1": "x"}}
    assert len(json.dumps(summary)) > 256 * 1024  # every item failed: the whole summary would not fit a state

    bounded = bounded_summary(summary, PREFIX + "summary.json")

    assert bounded == {
        "items": 800,
        "summary_key": PREFIX + "summary.json",
        "accounts_count": 800,
        "failed_items_count": 800,
        "skipped_accounts_count": 1,
        "left_to_summary_key": ["accounts", "failed_items", "skipped_accounts"],
    }
    small = {"items": 1, "accounts": {"1": {}}}
    assert bounded_summary(small, "k") == {**small, "summary_key": "k"}  # within the bound: whole
