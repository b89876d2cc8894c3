"""Lambda bundles built without Docker: wheels for the target platform, byte-code for the target Python.

``function_code(bundle)`` gives a ``lambda_.Code`` whose asset ``LocalBundler`` builds in these steps:

1. **Requirements** are exported from ``uv.lock`` (``uv export --frozen --no-default-groups``, plus the
   ``analytics`` extra for ``Bundle.ANALYTICS``), minus ``LAMBDA_EXCLUDED``: what Lambda's Python runtime
   already provides (boto3 and its dependencies) and pyarrow (Parquet input is a CLI feature; its 150 MB would
   not fit next to pandas/scipy under Lambda's 250 MB limit).
2. **Install** wheels for Lambda's platform (``manylinux_2_28_aarch64``, the target CPython version, binary only,
   ``--no-deps`` because the export is already the full resolved set) with ``uv pip install --target`` into a
   cache folder ``.build/assets/<bundle>-<key>``, where ``key`` hashes the lock file, bundle kind, platform and
   Python version. Repeated synths reuse it (and CDK skips bundling when ``cdk.out`` already has the asset).
3. **Trim**: ``tests/`` folders, ``__pycache__``, C sources/headers/stubs, and ``PRUNED_PATHS`` (parts of
   libraries Costwarden never imports, each with its reason). ``numpy/testing`` stays: ``scipy.stats`` imports it.
   Shared libraries are *not* stripped: it would save ~17 MB, but auditwheel/patchelf-repaired libraries break
   (seen here: scipy's ``_fblas`` then fails with "ELF load command address/offset not page-aligned").
4. **Byte-code**: dependencies are compiled by an interpreter of the target version and shipped *sourceless*
   (``compileall -b``, then the ``.py`` removed): ``/var/task`` is read-only, so without ``.pyc`` every cold start
   compiles pandas/scipy from source (~2.9 s instead of ~1.0 s, ENVIRONMENT.md), and keeping both would not fit
   the size budgets. Tracebacks inside libraries then show file and line but not the line's text.
5. The ``costwarden`` package is copied fresh *with* its sources (readable tracebacks for our own code) plus
   ``.pyc`` in ``__pycache__`` compiled with ``--invalidation-mode unchecked-hash``: CDK zips assets with a fixed
   timestamp, so timestamp-checked ``.pyc`` would be considered stale on Lambda.

The interpreter for step 4 is ``COSTWARDEN_BUNDLE_PYTHON``, ``python3.X`` on ``PATH``, a pyenv version, or ``uv
python find``; without one the bundle ships sources only and a warning says so (slower cold starts).

The team directory is *not* in these bundles: ``team_directory_code(settings)`` writes it (``costwarden.teams``) as
the asset of its own small layer, so a budget change ships a ~100 KB layer and leaves the code assets (and their
hashes) as they were (docs/infra.md, "Team directory").
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from costwarden.settings import Settings
from costwarden.teams import LAYER_RELATIVE_PATH, encode, write_document

from infra import constants

#: Distributions the Lambda Python runtime already provides (the AWS SDK and its dependencies). Leaving them out
#: keeps bundles small; the runtime's copies are what AWS tests its SDK with.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "six", "python-dateutil"})
#: Never bundled: the runtime's own packages, and pyarrow (~150 MB; Parquet input is for the CLI, and
#: pandas works without it). A function that needs Parquet on Lambda must first find ~150 MB elsewhere.
LAMBDA_EXCLUDED = RUNTIME_PROVIDED | {"pyarrow"}

#: Parts of the ``costwarden`` package no function runs, left out of every bundle (paths relative to the package):
#: the offline demo with its Slack stand-in, synthetic series and example digest; the CLI (laptop only) and its
#: ``python -m costwarden`` entry; the README settings-table generator. import-linter (``make lint``) keeps the
#: product from importing them, and tests/infra/test_bundling.py imports every handler from a bundle without them.
PACKAGE_EXCLUDED = frozenset({"demo", "cli", "__main__.py", "settings_doc.py"})
#: Package parts only the analytics functions (cost monitor, savings advisor) run, left out of the light bundle:
#: they need pandas, which the light bundle does not carry. What the light functions share with the cost monitor
#: (anomaly episodes, planned spend, the digest input model) lives in ``core``/``models``, so ``cost`` goes whole;
#: import-linter's `light-functions-without-analytics` contract keeps pandas out of every light package, and
#: tests/unit/test_light_bundle_imports.py imports every light module.
ANALYTICS_ONLY = frozenset(
    {
        "advisor",
        "cost",
        "services/advisor",
        "services/athena_cost.py",
        "handlers/advisor.py",
        "handlers/cost_monitor.py",
    }
)

#: Where Lambda unpacks a function's code.
LAMBDA_TASK_ROOT = "/var/task"
#: Folder names removed from installed packages (test suites, byte-code caches of the build machine's Python).
TRIMMED_DIRS = frozenset({"tests", "__pycache__"})
#: File suffixes only a compiler or a type checker reads.
TRIMMED_SUFFIXES = frozenset({".c", ".cc", ".cpp", ".h", ".hpp", ".pyx", ".pxd", ".pxi", ".pyi"})
#: Library parts Costwarden never imports (glob patterns relative to the bundle root) and why they can go.
PRUNED_PATHS: dict[str, str] = {
    "slack": "the deprecated `slack` alias package shipped inside slack_sdk's wheel; Costwarden imports slack_sdk",
    "slack_sdk/oauth": "Slack app OAuth flows; Costwarden posts to incoming webhooks only",
    "slack_sdk/socket_mode": "Socket Mode apps; not imported by `import slack_sdk`",
    "slack_sdk/audit_logs": "Enterprise Grid audit-log API client; not imported by `import slack_sdk`",
    "slack_sdk/scim": "SCIM user provisioning client; not imported by `import slack_sdk`",
    "slack_sdk/rtm": "legacy RTM client; not imported by `import slack_sdk`",
    "slack_sdk/rtm_v2": "legacy RTM client; not imported by `import slack_sdk`",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.min.*": "Swagger UI assets for REST APIs; none here",
    "yaml/_yaml.*.so": "libyaml accelerator (2.8 MB); PyYAML falls back to its pure-Python loader by itself",
    # Powertools utilities Costwarden never imports (it uses logging, metrics, tracing, idempotency, parser, typing,
    # jmespath_utils); none of those imports these (checked against the installed sources; the bundle test imports
    # every handler and tests/unit/test_light_bundle_imports.py every light module).
    "aws_lambda_powertools/utilities/auth_alpha": "Powertools auth helpers (alpha); not used",
    "aws_lambda_powertools/utilities/batch": "Powertools SQS/Kinesis batch processing; not used",
    "aws_lambda_powertools/utilities/circuit_breaker": "Powertools circuit breaker; not used",
    "aws_lambda_powertools/utilities/data_classes": "Powertools event data classes (Costwarden parses with pydantic)",
    "aws_lambda_powertools/utilities/data_masking": "Powertools data masking; not used",
    "aws_lambda_powertools/utilities/feature_flags": "Powertools feature flags (AppConfig); not used",
    "aws_lambda_powertools/utilities/kafka": "Powertools Kafka consumer; not used",
    "aws_lambda_powertools/utilities/parameters": "Powertools SSM/Secrets parameters (Costwarden reads secrets itself)",
    "aws_lambda_powertools/utilities/streaming": "Powertools S3 streaming; not used",
    "aws_lambda_powertools/utilities/validation": "Powertools JSON-schema validation; pydantic here",
    "scipy/io/_fast_matrix_market": "Matrix Market file reader (4.2 MB); scipy.stats/optimize/signal never import it",
}


class Bundle(StrEnum):
    """Which dependencies a function's bundle carries."""

    LIGHT = "light"
    """Runtime dependencies only (powertools, pydantic, slack_sdk, pyyaml): notifier, reaper, tag audit."""
    ANALYTICS = "analytics"
    """Adds the ``analytics`` extra (pandas, numpy, scipy, pyarrow): the cost monitor only."""


class BundlingError(RuntimeError):
    """Building a Lambda bundle failed; the message says which step and why."""


def _sha256(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _package_files(root: Path) -> list[Path]:
    """The package's files that go into a bundle (a change to the demo or the CLI does not redeploy functions)."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in {".pyc", ".pyo"}
        and path.relative_to(root).parts[0] not in PACKAGE_EXCLUDED
    )


def dependencies_key(bundle: Bundle, lock_file: Path = constants.LOCK_FILE) -> str:
    """Cache key of a bundle's dependency folder: lock file, bundle kind, platform, Python and this module."""
    return _sha256(
        lock_file.read_bytes(),
        bundle.value.encode(),
        constants.TARGET_PLATFORM.encode(),
        constants.TARGET_PYTHON_VERSION.encode(),
        Path(__file__).read_bytes(),  # a change to these build steps must not reuse folders built the old way
    )[:20]


def asset_hash(bundle: Bundle, package_dir: Path = constants.PACKAGE_DIR) -> str:
    """The asset's hash: the dependency key plus every file of the ``costwarden`` package."""
    parts = [dependencies_key(bundle).encode()]
    for path in _package_files(package_dir):
        parts.append(path.relative_to(package_dir).as_posix().encode())
        parts.append(path.read_bytes())
    return _sha256(*parts)


def _run(command: list[str], step: str, cwd: Path | None = None) -> str:
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
    except OSError as error:
        raise BundlingError(f"{step}: cannot run {command[0]}: {error}") from error
    if result.returncode != 0:
        raise BundlingError(f"{step} failed (exit {result.returncode}): {' '.join(command)}\n{result.stderr[-4000:]}")
    return result.stdout


def find_uv() -> str:
    """The ``uv`` binary: on ``PATH``, else the copy ``make`` installs into ``.build/uv``."""
    found = shutil.which("uv")
    if found:
        return found
    local = constants.REPO_ROOT / ".build" / "uv" / "bin" / "uv"
    if local.exists():
        return str(local)
    raise BundlingError("uv is needed to build Lambda bundles: run `make dev` (installs it) or `pip install uv`")


def _python_version_of(executable: str) -> str | None:
    try:
        result = subprocess.run(  # noqa: S603
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_target_python(version: str = constants.TARGET_PYTHON_VERSION) -> str | None:
    """An interpreter of exactly ``version`` (``3.13``) to compile ``.pyc`` with, or ``None``."""
    candidates: list[str] = []
    if os.environ.get("COSTWARDEN_BUNDLE_PYTHON"):
        candidates.append(os.environ["COSTWARDEN_BUNDLE_PYTHON"])
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        candidates.append(sys.executable)
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates.extend(str(p) for p in sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True))
    with contextlib.suppress(BundlingError):
        candidates.append(_run([find_uv(), "python", "find", version], "uv python find").strip())
    for candidate in candidates:
        if candidate and _python_version_of(candidate) == version:
            return candidate
    return None


def _export(bundle: Bundle, project_dir: Path) -> list[tuple[str, str]]:
    """``(normalised name, requirement line)`` for every package of the bundle in ``uv.lock``."""
    command = [
        find_uv(),
        "export",
        "--frozen",
        "--no-default-groups",
        "--no-hashes",
        "--no-emit-project",
        "--no-header",
        "--no-annotate",
        "--format",
        "requirements-txt",
    ]
    if bundle is Bundle.ANALYTICS:
        command += ["--extra", "analytics"]
    pinned = []
    for line in _run(command, "uv export", cwd=project_dir).splitlines():
        requirement = line.strip()
        if requirement and not requirement.startswith(("#", "-")):
            name = requirement.split("==", 1)[0].split(";", 1)[0].strip().lower().replace("_", "-")
            pinned.append((name, requirement))
    return pinned


def export_requirements(bundle: Bundle, project_dir: Path = constants.REPO_ROOT) -> list[str]:
    """Pinned runtime requirements from ``uv.lock``, without ``LAMBDA_EXCLUDED``."""
    return [line for name, line in _export(bundle, project_dir) if name not in LAMBDA_EXCLUDED]


def runtime_provided_requirements(project_dir: Path = constants.REPO_ROOT) -> list[str]:
    """The lock's pins of what the Lambda runtime provides (to simulate ``/var/runtime`` in benchmarks)."""
    return [line for name, line in _export(Bundle.LIGHT, project_dir) if name in RUNTIME_PROVIDED]


def trim(root: Path) -> None:
    """Remove test suites, caches, compiler inputs and ``PRUNED_PATHS`` below ``root`` (``numpy/testing`` stays)."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and path.name in TRIMMED_DIRS:
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.suffix in TRIMMED_SUFFIXES:
            path.unlink()
    for pattern in PRUNED_PATHS:
        for path in root.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def _as_lambda_paths(base: Path) -> list[str]:
    """compileall options recording file names as Lambda sees them (``base`` becomes ``/var/task``)."""
    return ["-s", str(base), "-p", LAMBDA_TASK_ROOT]


def _warn_no_python() -> None:
    print(
        f"costwarden bundling: WARNING no Python {constants.TARGET_PYTHON_VERSION} interpreter found "
        "(set COSTWARDEN_BUNDLE_PYTHON); the bundle ships without .pyc, so cold starts compile from source.",
        file=sys.stderr,
    )


def compile_sourceless(root: Path, python: str | None) -> bool:
    """Compile every module below ``root`` to a ``.pyc`` beside it and drop the ``.py`` (``False``: no Python).

    A file that does not compile (compileall exits 1 for it, e.g. a template shipped as ``.py``) keeps its source.
    """
    if python is None:
        _warn_no_python()
        return False
    subprocess.run(  # noqa: S603
        [python, "-m", "compileall", "-b", "-q", "-j", "0", *_as_lambda_paths(root), str(root)],
        capture_output=True,
        check=False,
    )
    for source in root.rglob("*.py"):
        if source.with_suffix(".pyc").is_file():
            source.unlink()
    return True


def compile_bytecode(root: Path, python: str | None, base: Path | None = None) -> bool:
    """Compile every module below ``root`` into ``__pycache__`` (unchecked-hash), keeping the sources."""
    if python is None:
        _warn_no_python()
        return False
    options = ["-q", "-j", "0", "--invalidation-mode", "unchecked-hash", *_as_lambda_paths(base or root)]
    subprocess.run(  # noqa: S603
        [python, "-m", "compileall", *options, str(root)],
        capture_output=True,
        check=False,
    )
    return True


def install_requirements(
    requirements: list[str], target: Path, *, platform: str = constants.TARGET_PLATFORM, python: str | None = None
) -> None:
    """Install pinned wheels (no dependency resolution) for ``platform`` and the target Python into ``target``."""
    with tempfile.TemporaryDirectory() as tmp:
        req_file = Path(tmp) / "requirements.txt"
        req_file.write_text("\n".join(requirements) + "\n")
        command = [
            find_uv(),
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--link-mode",
            "copy",  # the folder is edited in place (trimmed, compiled): no hard links into uv's cache
            "--only-binary",
            ":all:",
            "--python-version",
            constants.TARGET_PYTHON_VERSION,
            "--python-platform",
            platform,
            "--target",
            str(target),
            "-r",
            str(req_file),
        ]
        if python:
            command += ["--python", python]
        _run(command, f"installing dependencies for {platform}")


def build_dependencies(
    bundle: Bundle,
    *,
    cache_dir: Path = constants.BUNDLE_CACHE_DIR,
    platform: str = constants.TARGET_PLATFORM,
    python: str | None = None,
) -> Path:
    """The cached, trimmed and compiled dependency folder of ``bundle`` (built on first use)."""
    key = (
        dependencies_key(bundle) if platform == constants.TARGET_PLATFORM else f"{dependencies_key(bundle)}-{platform}"
    )
    folder = cache_dir / f"{bundle.value}-{key}"
    if (folder / ".complete").exists():
        return folder
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{bundle.value}-", dir=cache_dir))
    try:
        python = python or find_target_python()
        install_requirements(export_requirements(bundle), building, platform=platform, python=python)
        trim(building)
        compile_sourceless(building, python)
        (building / ".complete").write_text(f"{bundle.value} {platform} {constants.TARGET_PYTHON_VERSION}\n")
        if (folder / ".complete").exists():
            return folder  # another synth (e.g. a parallel test worker) built it meanwhile
        shutil.rmtree(folder, ignore_errors=True)  # an incomplete folder left by an interrupted build
        try:
            building.rename(folder)
        except OSError:
            # Another synth finished the same folder between the check and the rename: use theirs.
            if not (folder / ".complete").exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder


def assemble(bundle: Bundle, output_dir: Path, *, platform: str = constants.TARGET_PLATFORM) -> None:
    """Write a complete bundle into ``output_dir``: cached dependencies plus the ``costwarden`` package."""
    python = find_target_python()
    dependencies = build_dependencies(bundle, platform=platform, python=python)
    shutil.copytree(dependencies, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))
    package = copy_package(output_dir, bundle=bundle)
    compile_bytecode(package, python, base=output_dir)


def copy_package(
    output_dir: Path, package_dir: Path = constants.PACKAGE_DIR, *, bundle: Bundle = Bundle.ANALYTICS
) -> Path:
    """Copy the ``costwarden`` package into ``output_dir`` without ``PACKAGE_EXCLUDED`` and byte-code caches (and,
    for the light bundle, without ``ANALYTICS_ONLY``)."""
    cache = shutil.ignore_patterns("__pycache__", "*.pyc")
    root = package_dir.resolve()
    left_out = PACKAGE_EXCLUDED | (ANALYTICS_ONLY if bundle is Bundle.LIGHT else frozenset())

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(cache(folder, names))
        relative = Path(folder).resolve().relative_to(root)
        prefix = "" if relative == Path() else f"{relative.as_posix()}/"
        skipped |= {name for name in names if f"{prefix}{name}" in left_out}
        return skipped

    package = output_dir / package_dir.name
    shutil.copytree(package_dir, package, dirs_exist_ok=True, ignore=ignore)
    return package


@jsii.implements(ILocalBundling)
class LocalBundler:
    """CDK local bundling (no Docker): ``try_bundle`` assembles the bundle into CDK's output folder."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        """Build into ``output_dir``; errors propagate so synth fails with the reason (no Docker fallback)."""
        assemble(self.bundle, Path(output_dir))
        return True


def function_code(bundle: Bundle) -> lambda_.Code:
    """The ``lambda_.Code`` of a Costwarden function with the given bundle."""
    return lambda_.Code.from_asset(
        str(constants.PACKAGE_DIR),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=asset_hash(bundle),
        bundling=BundlingOptions(
            # Only used if local bundling declined, which LocalBundler never does; kept honest for the record.
            image=constants.LAMBDA_RUNTIME.bundling_image,
            local=LocalBundler(bundle),
        ),
    )


def team_directory_folder(settings: Settings, cache_dir: Path = constants.TEAM_DIRECTORY_CACHE_DIR) -> Path:
    """A folder holding only ``costwarden/teams.json`` for ``settings.teams`` (named by its content's hash).

    Written at synth from settings the model has already validated; the same directory gives the same folder, so
    the layer's asset hash (and the deployed layer version) changes only when team data does.
    """
    teams = settings.teams_json()
    folder = cache_dir / _sha256(encode(teams))[:20]
    document = folder / LAYER_RELATIVE_PATH
    if not document.is_file() or document.read_bytes() != encode(teams):
        write_document(teams, document)
    return folder


def team_directory_code(settings: Settings) -> lambda_.Code:
    """The ``lambda_.Code`` of the team directory layer (Lambda extracts it to ``/opt/costwarden/teams.json``)."""
    return lambda_.Code.from_asset(str(team_directory_folder(settings)))
