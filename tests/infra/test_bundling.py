"""Local (no-Docker) bundling: what goes into a bundle, what is trimmed, and how byte-code is compiled.

Building a full bundle downloads wheels; that is measured by ``bench/bench_bundles.py`` (``make bench``) and done
by ``make synth``. These tests cover each step on small inputs and read requirements from ``uv.lock`` offline.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra import bundling
from infra.bundling import LAMBDA_EXCLUDED, RUNTIME_PROVIDED, Bundle


def _names(requirements: list[str]) -> set[str]:
    return {r.split("==")[0].strip().lower() for r in requirements}


def test_light_bundle_has_runtime_deps_without_analytics_or_what_lambda_provides() -> None:
    names = _names(bundling.export_requirements(Bundle.LIGHT))
    assert {"aws-lambda-powertools", "pydantic", "slack-sdk", "aws-xray-sdk"} <= names
    assert not names & {"pandas", "numpy", "scipy", "pyarrow"}
    assert not names & RUNTIME_PROVIDED
    assert all("==" in r for r in bundling.export_requirements(Bundle.LIGHT)), "every requirement is pinned"


def test_analytics_bundle_adds_pandas_numpy_scipy_but_not_pyarrow() -> None:
    light = _names(bundling.export_requirements(Bundle.LIGHT))
    analytics = _names(bundling.export_requirements(Bundle.ANALYTICS))
    assert {"pandas", "numpy", "scipy"} <= analytics
    assert light < analytics
    assert not analytics & LAMBDA_EXCLUDED


def test_runtime_provided_requirements_are_the_lock_pins_of_the_sdk() -> None:
    names = _names(bundling.runtime_provided_requirements())
    assert {"boto3", "botocore"} <= names <= RUNTIME_PROVIDED


def _touch(root: Path, *paths: str) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def test_trim_removes_tests_caches_sources_and_pruned_paths_but_keeps_numpy_testing(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "pandas/tests/test_frame.py",
        "scipy/stats/tests/test_stats.py",
        "numpy/testing/__init__.py",
        "numpy/_core/include/numpy/ndarrayobject.h",
        "pkg/__pycache__/mod.cpython-312.pyc",
        "pkg/mod.py",
        "pkg/mod.pyi",
        "wrapt/_wrappers.c",
        "slack/__init__.py",
        "slack_sdk/oauth/__init__.py",
        "slack_sdk/webhook/__init__.py",
        "yaml/_yaml.cpython-313-aarch64-linux-gnu.so",
        "yaml/__init__.py",
        "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
        "aws_lambda_powertools/event_handler/openapi/swagger_ui/html.py",
    )
    bundling.trim(tmp_path)
    left = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert left == {
        "numpy/testing/__init__.py",
        "pkg/mod.py",
        "slack_sdk/webhook/__init__.py",
        "yaml/__init__.py",
        "aws_lambda_powertools/event_handler/openapi/swagger_ui/html.py",
    }


def test_every_pruned_path_has_a_reason() -> None:
    for pattern, reason in bundling.PRUNED_PATHS.items():
        assert not pattern.startswith("/")
        assert len(reason.split()) >= 5, pattern


@pytest.fixture(scope="module")
def target_python() -> str:
    python = bundling.find_target_python()
    if python is None:
        pytest.skip("no interpreter of the target Python version on this machine")
    return python


def test_dependencies_are_compiled_sourceless_with_lambda_paths(tmp_path: Path, target_python: str) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "__init__.py").write_text("def where():\n    return where.__code__.co_filename\n")
    (tmp_path / "broken.py").write_text("def (:\n")  # does not compile: must keep its source
    assert bundling.compile_sourceless(tmp_path, target_python)
    assert (tmp_path / "lib" / "__init__.pyc").is_file()
    assert not (tmp_path / "lib" / "__init__.py").exists()
    assert (tmp_path / "broken.py").exists()
    out = subprocess.run(
        [
            target_python,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import lib; print(lib.where())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "/var/task/lib/__init__.py"


def test_package_pyc_is_unchecked_hash_based(tmp_path: Path, target_python: str) -> None:
    package = tmp_path / "costwarden"
    _touch(package, "__init__.py", "handlers/x.py")
    assert bundling.compile_bytecode(package, target_python, base=tmp_path)
    version = bundling.constants.TARGET_PYTHON_VERSION.replace(".", "")
    pyc = package / "handlers" / "__pycache__" / f"x.cpython-{version}.pyc"
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, not checked against the source (CDK zips with a fixed mtime)
    assert (package / "handlers" / "x.py").exists()
    code = subprocess.run(
        [
            target_python,
            "-c",
            f"import marshal; print(marshal.loads(open({str(pyc)!r}, 'rb').read()[16:]).co_filename)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert code == "/var/task/costwarden/handlers/x.py"


def test_target_python_is_the_runtime_version(target_python: str) -> None:
    out = subprocess.run(
        [target_python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == bundling.constants.TARGET_PYTHON_VERSION
    assert bundling.constants.LAMBDA_RUNTIME.name == f"python{out}"


def test_asset_hash_follows_package_content_and_bundle_kind(tmp_path: Path) -> None:
    _touch(tmp_path, "__init__.py", "handlers/notifier.py")
    first = bundling.asset_hash(Bundle.LIGHT, tmp_path)
    assert bundling.asset_hash(Bundle.LIGHT, tmp_path) == first
    assert bundling.asset_hash(Bundle.ANALYTICS, tmp_path) != first
    (tmp_path / "handlers" / "__pycache__").mkdir()
    (tmp_path / "handlers" / "__pycache__" / "notifier.cpython-312.pyc").write_bytes(b"\0")
    assert bundling.asset_hash(Bundle.LIGHT, tmp_path) == first, "local byte-code caches do not change the asset"
    (tmp_path / "handlers" / "notifier.py").write_text("x = 2\n")
    assert bundling.asset_hash(Bundle.LIGHT, tmp_path) != first


@pytest.mark.slow
def test_light_bundle_built_by_cdk_local_bundling_fits_the_budget(tmp_path: Path) -> None:
    """The notifier's real bundle (arm64 wheels from PyPI on first run, then the .build/assets cache)."""
    assert bundling.LocalBundler(Bundle.LIGHT).try_bundle(str(tmp_path))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    assert size_mb <= 15.0
    top_level = {p.name for p in tmp_path.iterdir()}
    assert not top_level & {"pandas", "numpy", "scipy", "pyarrow", "boto3", "botocore"}
    assert {"aws_lambda_powertools", "pydantic", "pydantic_core", "slack_sdk", "costwarden"} <= top_level
    assert any(p.name.endswith("aarch64-linux-gnu.so") for p in (tmp_path / "pydantic_core").iterdir())
    # Our package keeps its sources; libraries ship byte-code only (when a target-version Python is at hand).
    assert (tmp_path / "costwarden" / "settings" / "__init__.py").is_file()
    assert not {"demo", "cli", "settings_doc.py", "__main__.py"} & {p.name for p in (tmp_path / "costwarden").iterdir()}
    if bundling.find_target_python() is not None:
        assert (tmp_path / "slack_sdk" / "__init__.pyc").is_file()
        assert not (tmp_path / "slack_sdk" / "__init__.py").exists()


#: Lambda's limit for a function's code and layers together, unzipped.
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
#: Room kept for the team directory layer every function carries (~100 KB at 1,000 teams).
TEAM_DIRECTORY_ROOM_BYTES = 1024 * 1024


@pytest.mark.slow
def test_analytics_bundle_fits_lambda_s_unzipped_limit(tmp_path: Path) -> None:
    """The largest bundle (pandas, numpy, scipy: the cost monitor's), built as a deploy builds it (issue 20)."""
    assert bundling.LocalBundler(Bundle.ANALYTICS).try_bundle(str(tmp_path))
    size = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert {"pandas", "numpy", "scipy", "costwarden"} <= {p.name for p in tmp_path.iterdir()}
    assert size + TEAM_DIRECTORY_ROOM_BYTES <= LAMBDA_UNZIPPED_LIMIT_BYTES, f"{size / 2**20:.1f} MiB"


def _modules(root: Path) -> set[str]:
    """Dotted module names below ``root`` (a bundle folder), as ``import`` would find them."""
    return {".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__") for p in root.rglob("*.py")}


#: Modules of the demo, test and documentation tooling that no function may carry.
NOT_IN_A_BUNDLE = ("costwarden.demo", "costwarden.cli", "costwarden.__main__", "costwarden.settings_doc")
DEMO_TOOLS = ("slack_standin", "synthetic", "example_digest", "example", "standin", "conftest", "test_")


def test_bundled_package_leaves_out_demo_cli_and_doc_generator(tmp_path: Path) -> None:
    bundling.copy_package(tmp_path)
    modules = _modules(tmp_path)
    assert {"costwarden.handlers.reaper", "costwarden.handlers.notifier", "costwarden.settings"} <= modules
    leaked = sorted(m for m in modules if m.startswith(NOT_IN_A_BUNDLE))
    assert not leaked, f"demo/CLI modules in the bundle: {leaked}"
    tools = sorted(m for m in modules if any(part.startswith(DEMO_TOOLS) for part in m.split(".")))
    assert not tools, f"demo or test modules in the bundle: {tools}"
    assert not list(tmp_path.rglob("__pycache__")), "local byte-code is never copied (the target Python compiles)"


def test_every_handler_imports_from_the_bundled_package_alone(tmp_path: Path) -> None:
    """Each handler and everything it imports comes from the bundle's copy: nothing needs what was left out."""
    bundling.copy_package(tmp_path)
    handlers = sorted(
        f"costwarden.handlers.{p.stem}"
        for p in (tmp_path / "costwarden" / "handlers").glob("*.py")
        if p.stem not in {"__init__", "observability"}
    )
    assert len(handlers) >= 4
    libraries = [p for p in sys.path if p and Path(p).is_dir() and "site-packages" in p]
    script = (
        "import importlib, json, sys\n"
        f"sys.path[:0] = [{str(tmp_path)!r}, *{libraries!r}]\n"
        f"for name in {handlers!r}: importlib.import_module(name)\n"
        "mods = {n: getattr(m, '__file__', '') for n, m in sys.modules.items() if n.startswith('costwarden')}\n"
        "print(json.dumps(mods))"
    )
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(handlers) <= set(loaded)
    assert all(Path(f).is_relative_to(tmp_path) for f in loaded.values() if f), "imported from outside the bundle"
    assert not [m for m in loaded if m.startswith(NOT_IN_A_BUNDLE)]


def test_asset_hash_ignores_what_the_bundle_leaves_out(tmp_path: Path) -> None:
    _touch(tmp_path, "__init__.py", "handlers/notifier.py", "demo/runner.py", "cli/main.py", "settings_doc.py")
    first = bundling.asset_hash(Bundle.LIGHT, tmp_path)
    for rel in ("demo/runner.py", "cli/main.py", "settings_doc.py"):
        (tmp_path / rel).write_text("x = 3\n")
    assert bundling.asset_hash(Bundle.LIGHT, tmp_path) == first, "a demo or CLI change does not redeploy functions"
