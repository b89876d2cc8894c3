"""The configuration reference is generated from the settings model, complete, and current in the README."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import get_args, get_origin

import pytest
from costwarden.cli import config_doc
from costwarden.cli.main import CliError
from costwarden.settings import Settings
from costwarden.settings_doc import (
    END_MARKER,
    START_MARKER,
    MarkerError,
    config_table,
    current_section,
    is_stale,
    iter_settings,
    missing_descriptions,
    replace_section,
)
from pydantic import BaseModel, ConfigDict, Field

README = Path(__file__).resolve().parents[3] / "README.md"


def test_every_setting_has_a_description() -> None:
    missing = missing_descriptions()
    assert not missing, (
        f"settings without a description: {', '.join(missing)} — add a docstring under each of these fields in "
        "functions/costwarden/settings/ (it becomes the README's configuration reference), then run "
        "`costwarden config-doc --write README.md`"
    )


class _Inner(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)
    documented: int = Field(3, ge=1, le=9)
    """Documented."""
    forgotten: str | None = None


class _Outer(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)
    inner: _Inner = _Inner()
    """A group."""
    limits: dict[str, float] = Field(default_factory=dict, description="Explicit description | with a pipe.")


def test_a_field_without_description_is_named_with_its_dotted_key() -> None:
    assert missing_descriptions(_Outer) == ["inner.forgotten"]
    table = config_table(_Outer)
    assert "| `inner.forgotten` | string or null | `null` | **(undocumented)** |" in table
    assert "| `inner.documented` | integer (≥ 1, ≤ 9) | `3` | Documented. |" in table
    assert "| `limits` | map of string to number | `{}` | Explicit description \\| with a pipe. |" in table


def _leaf_count(model: type[BaseModel]) -> int:
    count = 0
    for field in model.model_fields.values():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            count += _leaf_count(annotation)
        else:
            count += 1
            entry = get_args(annotation)[1] if get_origin(annotation) is dict else None
            if isinstance(entry, type) and issubclass(entry, BaseModel):  # the team directory: a row per entry field
                count += _leaf_count(entry)
    return count


def test_one_row_per_setting_with_type_default_and_bounds() -> None:
    table = config_table()
    rows = table.splitlines()[2:]
    assert len(rows) == _leaf_count(Settings) == len(list(iter_settings()))
    assert all(row.startswith("| `") and row.endswith(" |") for row in rows)
    by_key = {doc.key: doc for doc in iter_settings()}
    assert by_key["reaper.dry_run"].default == "true"
    assert by_key["anomaly.baseline_days"].type == "integer (≥ 7, ≤ 180)"
    assert by_key["anomaly.warn_ratio"].default == "1.5"
    assert by_key["reaper.warn_before_hours"].default == "[72, 24]"
    assert by_key["budgets.monthly_usd"].type == "map of string to number"
    assert by_key["teams"].type == "map of string to entry (fields below)"
    assert by_key["teams.<team>.monthly_usd"].type == "number or null (> 0)"
    assert by_key["teams.<team>.channel"].description is not None
    assert by_key["reaper.missing_expiry"].type == 'one of `"report"`, `"mark"`'
    assert by_key["notifier.digest_top_n"].default == "15"


def test_readme_configuration_table_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert not is_stale(text, config_table()), (
        "README.md's configuration table differs from the settings model; run `costwarden config-doc --write README.md`"
    )


def test_replace_section_keeps_everything_around_the_markers() -> None:
    doc = f"# Title\n\nbefore\n{START_MARKER}\nold table\n{END_MARKER}\nafter\n"
    new = replace_section(doc, "| new |")
    assert new == f"# Title\n\nbefore\n{START_MARKER}\n| new |\n{END_MARKER}\nafter\n"
    assert current_section(new) == "| new |"
    assert is_stale(doc, "| new |") and not is_stale(new, "| new |")


@pytest.mark.parametrize(
    "doc",
    ["no markers", f"{START_MARKER} only start", f"{END_MARKER} x {START_MARKER}", f"{START_MARKER}{END_MARKER}" * 2],
)
def test_marker_problems_are_errors(doc: str) -> None:
    with pytest.raises(MarkerError):
        current_section(doc)


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    config_doc.register(parser.add_subparsers())
    args = parser.parse_args(["config-doc", *argv])
    return int(args.func(args))


def test_cli_prints_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run() == 0
    assert capsys.readouterr().out.strip() == config_table()

    readme = tmp_path / "README.md"
    readme.write_text(f"# Project\n\n{START_MARKER}\n| stale |\n{END_MARKER}\n\nMore text.\n", encoding="utf-8")
    assert _run("--check", str(readme)) == 1
    assert "stale" in capsys.readouterr().err
    assert _run("--write", str(readme)) == 0
    written = readme.read_text(encoding="utf-8")
    assert current_section(written) == config_table()
    assert written.startswith("# Project\n\n") and written.endswith("\n\nMore text.\n")
    assert _run("--check", str(readme)) == 0


def test_cli_names_the_problem_with_a_file(tmp_path: Path) -> None:
    no_markers = tmp_path / "plain.md"
    no_markers.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(CliError, match="config-table:start"):
        _run("--check", str(no_markers))
    with pytest.raises(CliError, match="cannot read"):
        _run("--write", str(tmp_path / "missing.md"))
