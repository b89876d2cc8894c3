"""Where an organization run keeps what would not fit in its state: the results bucket, read and written through
a small port (``ResultStore``; the S3 implementation is ``costwarden.adapters.org_results``).

Step Functions caps the JSON a state hands to the next at 256 KiB. At the documented scale (200 accounts x 4
regions = 800 items) the work items alone are ~200 KiB and the collected item outputs ~430 KiB (reaper) or
~2.8 MiB (idle), so nothing that grows with the organization stays in the state:

* ``ListAccounts`` writes the items (``items.json``, the Distributed Map's ``ItemReader``) and the rest of the
  listing (``listing.json``: skipped accounts, unknown ids) under the run's prefix and returns their keys;
* each Map writes its children's outputs with ``ResultWriter`` (Step Functions' own format: a ``manifest.json``
  naming ``SUCCEEDED_n.json`` / ``FAILED_n.json`` / ``PENDING_n.json`` files of execution records); the state
  receives only ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``;
* the aggregation writes the act items (the act Map's ``ItemReader``) and its approval (``aggregate.json``), the
  summary step reads everything back and writes ``summary.json``.

The readers accept the inline shapes too (a list of outputs, a listing with its items): the demo and the CLI run the
same handlers in-process without a bucket. Whatever the bucket holds is parsed with the checks a user's input gets:
a malformed manifest or record fails with ``ResultsError`` naming the key and the field, never a traceback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

#: Key prefix of the steps' own objects (``<RUNS_PREFIX>/<capability>/<execution name>/...``).
RUNS_PREFIX = "org-runs"
#: Key prefix of the Maps' ``ResultWriter`` output (Step Functions adds ``<map run id>/manifest.json``).
MAP_RESULTS_PREFIX = "org-map-results"
ITEMS = "items.json"
LISTING = "listing.json"
ACT_ITEMS = "act-items.json"
AGGREGATE = "aggregate.json"
SUMMARY = "summary.json"
#: ResultWriter's manifest lists result files per child status; PENDING ones never finished (an aborted Map run).
RESULT_STATUSES = ("SUCCEEDED", "FAILED", "PENDING")
#: An execution name as Step Functions allows it (1-80 characters; no whitespace, ``/``, brackets or wildcards).
_RUN_RE = re.compile(r"^[\w.!@'()+=-]{1,80}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_RE = re.compile(rf"^{RUNS_PREFIX}/[a-z_]+/[\w.!@'()+=-]{{1,80}}/$")


class ResultsError(ValueError):
    """What the results bucket holds (or what the state points to) cannot be read; the message names where."""


class ResultStore(Protocol):
    """JSON objects of one bucket, by key; a missing or unreadable object raises a ``ValueError`` naming it."""

    def get_json(self, key: str) -> Any: ...

    def put_json(self, key: str, value: Any) -> None: ...


def bucket_name(raw: object) -> str:
    """The results bucket a state names (``bucket`` in a step's payload)."""
    if not isinstance(raw, str) or not _BUCKET_RE.match(raw):
        raise ResultsError(f"the step's 'bucket' must be an S3 bucket name, got {raw!r}")
    return raw


def run_prefix(capability: str, run: object) -> str:
    """This run's key prefix, from the execution's name (``$$.Execution.Name``: unique per state machine)."""
    if not isinstance(run, str) or not _RUN_RE.match(run):
        raise ResultsError(f"the step's 'run' must be the execution's name (1-80 safe characters), got {run!r}")
    return f"{RUNS_PREFIX}/{capability}/{run}/"


def prefix_of(listing: Mapping[str, Any]) -> str:
    """The run prefix a staged listing carries (checked: the steps write nowhere else)."""
    prefix = listing.get("prefix")
    if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
        raise ResultsError(f"the listing's 'prefix' must be '{RUNS_PREFIX}/<capability>/<run>/', got {prefix!r}")
    return prefix


def stage_listing(store: ResultStore, listing: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Write the listing (items apart, as the Map's ``ItemReader`` reads a JSON array) and return the pointers
    the state carries instead: a fixed size, whatever the organization's size."""
    items = list(listing.get("items") or [])
    store.put_json(prefix + ITEMS, items)
    store.put_json(prefix + LISTING, {k: v for k, v in listing.items() if k != "items"})
    return {
        "capability": listing.get("capability"),
        "prefix": prefix,
        "items_key": prefix + ITEMS,
        "listing_key": prefix + LISTING,
        "item_count": len(items),
        "skipped_count": len(listing.get("skipped_accounts") or {}),
    }


def load_listing(store: ResultStore | None, listing: Mapping[str, Any]) -> dict[str, Any]:
    """The whole listing back (items included) from a staged one; an inline listing as it is."""
    if "listing_key" not in listing:
        return dict(listing)
    if store is None:
        raise ResultsError("the listing is in the results bucket but the step was given no 'bucket'")
    prefix = prefix_of(listing)
    full = _object(store.get_json(prefix + LISTING), prefix + LISTING)
    items = store.get_json(prefix + ITEMS)
    if not isinstance(items, list):
        raise ResultsError(f"{prefix + ITEMS} must hold a JSON array of work items, got {type(items).__name__}")
    return {**full, "items": items}


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResultsError(f"{where} must hold a JSON object, got {type(value).__name__}")
    return value


def _text(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value:
        raise ResultsError(f"{where}: field {name!r} must be a non-empty string, got {value!r}")
    return value


def manifest_key(pointer: Mapping[str, Any]) -> str:
    """The manifest a Map's ``ResultWriter`` wrote (``ResultWriterDetails.Key`` of the Map's output)."""
    details = pointer.get("ResultWriterDetails")
    if not isinstance(details, Mapping):
        raise ResultsError(f"a Map result must carry 'ResultWriterDetails' (ResultWriter's output), got {pointer!r}")
    return _text(details, "Key", "ResultWriterDetails")


def result_file_keys(manifest: Any, where: str) -> list[tuple[str, str]]:
    """(status, key) of every result file the manifest lists."""
    files = _object(manifest, where).get("ResultFiles")
    if not isinstance(files, Mapping):
        raise ResultsError(f"{where}: field 'ResultFiles' must be an object, got {files!r}")
    out: list[tuple[str, str]] = []
    for status in RESULT_STATUSES:
        entries = files.get(status) or []
        if not isinstance(entries, list):
            raise ResultsError(f"{where}: 'ResultFiles.{status}' must be a list, got {entries!r}")
        for entry in entries:
            out.append((status, _text(entry if isinstance(entry, Mapping) else {}, "Key", f"{where} {status}")))
    return out


def _json_field(record: Mapping[str, Any], name: str, where: str) -> Any:
    raw = record.get(name)
    if not isinstance(raw, str):
        raise ResultsError(f"{where}: field {name!r} must be a JSON string, got {type(raw).__name__}")
    try:
        return json.loads(raw)
    except ValueError as error:
        raise ResultsError(f"{where}: field {name!r} is not JSON ({error})") from None


def record_output(record: Any, status: str, where: str) -> dict[str, Any]:
    """One child execution's record as the item output the steps read: a SUCCEEDED child's ``Output`` (itself
    a caught failure when the item failed); a FAILED or PENDING child becomes the Catch shape around its item."""
    record = _object(record, where)
    if status == "SUCCEEDED":
        return _object(_json_field(record, "Output", where), f"{where} Output")
    given = _json_field(record, "Input", where) if isinstance(record.get("Input"), str) else {}
    item = given.get("item") if isinstance(given, dict) else None
    return {
        "Error": str(record.get("Error") or f"States.{status.capitalize()}"),
        "Cause": str(record.get("Cause") or f"the child execution ended {status}"),
        "item": item if isinstance(item, dict) else {},
    }


def _item_key(output: Mapping[str, Any]) -> tuple[str, str]:
    source = output.get("item") if ("Error" in output or "Cause" in output) else output
    source = source if isinstance(source, Mapping) else {}
    return str(source.get("account_id", "?")), str(source.get("region", "?"))


def load_outputs(
    store: ResultStore | None, value: object, order: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """A Map's item outputs: inline (a list, as the demo passes them) or read back through its ResultWriter
    manifest. ResultWriter keeps no order, so the outputs are put back in the items' order (``order``: the work
    items), which keeps every summary and alert the same as the inline Map made them."""
    if isinstance(value, list):
        return [o if isinstance(o, dict) else {"Error": "malformed", "Cause": repr(o)} for o in value]
    if not isinstance(value, Mapping):
        raise ResultsError(f"a Map result must be a list or ResultWriter's output, got {type(value).__name__}")
    if store is None:
        raise ResultsError("the Map's results are in the results bucket but the step was given no 'bucket'")
    key = manifest_key(value)
    outputs: list[dict[str, Any]] = []
    for status, file_key in result_file_keys(store.get_json(key), key):
        records = store.get_json(file_key)
        if not isinstance(records, list):
            raise ResultsError(f"{file_key} must hold a JSON array of execution records")
        outputs.extend(record_output(r, status, f"{file_key}[{n}]") for n, r in enumerate(records))
    rank = {(str(i.get("account_id")), str(i.get("region"))): n for n, i in enumerate(order)}
    return sorted(outputs, key=lambda o: (rank.get(_item_key(o), len(rank)), _item_key(o)))


def stage_aggregate(store: ResultStore, out: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Write the aggregation's act items and its whole output; the state carries the keys, whether anything
    acts, and the blocked alert's title (one line)."""
    store.put_json(prefix + ACT_ITEMS, list(out.get("act_items") or []))
    store.put_json(prefix + AGGREGATE, {k: v for k, v in out.items() if k != "act_items"})
    return {
        "act": bool(out.get("act")),
        "blocked": out.get("blocked"),
        "act_items_key": prefix + ACT_ITEMS,
        "aggregate_key": prefix + AGGREGATE,
        "approved_items": len(out.get("act_items") or []),
    }


def load_aggregate(store: ResultStore | None, aggregate: Mapping[str, Any]) -> dict[str, Any]:
    """The aggregation's whole output from a staged one; an inline (or empty, one-phase) one as it is."""
    key = aggregate.get("aggregate_key")
    if key is None:
        return dict(aggregate)
    if store is None:
        raise ResultsError("the aggregation is in the results bucket but the step was given no 'bucket'")
    if not isinstance(key, str) or not key.startswith(RUNS_PREFIX + "/"):
        raise ResultsError(f"the aggregate's 'aggregate_key' must be under {RUNS_PREFIX}/, got {key!r}")
    return _object(store.get_json(key), key)


#: The most of the run summary the state (the execution's output) and the state table's record carry: Step
#: Functions' 256 KiB and DynamoDB's 400 KB leave room; ``summary.json`` always holds the whole summary.
SUMMARY_INLINE_BYTES = 128 * 1024
#: What a summary over the bound leaves to ``summary.json``: the parts that grow with accounts and failures.
SUMMARY_BULK = ("accounts", "failed_items", "skipped_accounts")


def bounded_summary(summary: Mapping[str, Any], key: str, limit: int = SUMMARY_INLINE_BYTES) -> dict[str, Any]:
    """The summary with its key; when its JSON is over ``limit`` (every item failing at 800 items: ~2 errors of
    ~200 characters per item), its per-account parts are counted instead and named in ``left_to_summary_key``."""
    out = {**summary, "summary_key": key}
    if len(json.dumps(out, default=str).encode()) <= limit:
        return out
    for name in SUMMARY_BULK:
        out[f"{name}_count"] = len(out.pop(name, None) or ())
    out["left_to_summary_key"] = list(SUMMARY_BULK)
    return out
