"""Lambda bundles built without Docker: wheels for the target platform, ``.pyc`` for the target Python.

``function_code(bundle)`` gives a ``lambda_.Code`` whose asset is built by ``LocalBundler``:

1. the runtime requirements are exported from ``uv.lock`` (``uv export --frozen --no-default-groups``, plus the
   ``analytics`` extra for ``Bundle.ANALYTICS``), minus what Lambda's Python runtime already provides (boto3 and
   its own dependencies; see ``RUNTIME_PROVIDED``);
2. they are installed as wheels for Lambda's platform (``manylinux_2_28_aarch64``, the target CPython version,
   binary only, ``--no-deps`` because the export is already the full resolved set) into a cache folder
   ``.build/assets/<key>``, where ``key`` hashes the lock file, the bundle kind, platform and Python version;
3. ``tests/`` folders and ``__pycache__`` are trimmed (``numpy/testing`` stays: ``scipy.stats`` imports it);
4. every module is compiled to ``.pyc`` by an interpreter of the target version with
   ``--invalidation-mode unchecked-hash``: CDK zips assets with a fixed timestamp, so timestamp-checked ``.pyc``
   would be stale on Lambda and, ``/var/task`` being read-only, every cold start would recompile from source;
5. the cached dependencies and a fresh copy of ``functions/costwarden`` (compiled the same way) form the asset.

Repeated synths reuse the cache (and CDK itself skips bundling when ``cdk.out`` already holds the asset hash).
The interpreter for step 4 is found as ``COSTWARDEN_BUNDLE_PYTHON``, ``python3.X`` on ``PATH``, a pyenv version, or
``uv python find``; without one the bundle is still built but without ``.pyc`` and a warning says so.
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

from infra import constants

#: Bumped when the build steps change, so cached folders and asset hashes built the old way are not reused.
BUNDLER_VERSION = "1"

#: Distributions the Lambda Python runtime already provides (the AWS SDK and its dependencies). Leaving them out
#: keeps bundles small; the runtime's copies are what AWS tests its SDK with. Everything else is shipped.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "six", "python-dateutil"})

#: Folder names removed from installed packages (test suites, byte-code caches of the build machine's Python).
TRIMMED_DIRS = frozenset({"tests", "__pycache__"})


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
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".pyo"}
    )


def dependencies_key(bundle: Bundle, lock_file: Path = constants.LOCK_FILE) -> str:
    """Cache key of a bundle's dependency folder: lock file, bundle kind, target platform and Python."""
    return _sha256(
        lock_file.read_bytes(),
        bundle.value.encode(),
        constants.TARGET_PLATFORM.encode(),
        constants.TARGET_PYTHON_VERSION.encode(),
        BUNDLER_VERSION.encode(),
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


def export_requirements(bundle: Bundle, project_dir: Path = constants.REPO_ROOT) -> list[str]:
    """Pinned runtime requirements from ``uv.lock``, without what the Lambda runtime provides."""
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
    lines = _run(command, "uv export", cwd=project_dir).splitlines()
    kept = []
    for line in lines:
        requirement = line.strip()
        if not requirement or requirement.startswith(("#", "-")):
            continue
        name = requirement.split("==", 1)[0].split(";", 1)[0].strip().lower().replace("_", "-")
        if name not in RUNTIME_PROVIDED:
            kept.append(requirement)
    return kept


def trim(root: Path) -> None:
    """Remove ``tests/`` folders and ``__pycache__`` below ``root`` (``numpy/testing`` is kept on purpose)."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and path.name in TRIMMED_DIRS:
            shutil.rmtree(path, ignore_errors=True)


def compile_bytecode(root: Path, python: str | None) -> bool:
    """Compile every module below ``root`` with the target interpreter; ``False`` when none was found."""
    if python is None:
        print(
            f"costwarden bundling: WARNING no Python {constants.TARGET_PYTHON_VERSION} interpreter found "
            "(set COSTWARDEN_BUNDLE_PYTHON); the bundle ships without .pyc, so cold starts compile from source.",
            file=sys.stderr,
        )
        return False
    # compileall exits 1 when some file does not compile (e.g. a template shipped as .py); that is harmless.
    subprocess.run(  # noqa: S603
        [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(root)],
        capture_output=True,
        check=False,
    )
    return True


def install_dependencies(
    bundle: Bundle, target: Path, *, platform: str = constants.TARGET_PLATFORM, python: str | None = None
) -> None:
    """Install the bundle's wheels for ``platform`` and the target Python into ``target``."""
    requirements = export_requirements(bundle)
    with tempfile.TemporaryDirectory() as tmp:
        req_file = Path(tmp) / "requirements.txt"
        req_file.write_text("\n".join(requirements) + "\n")
        command = [
            find_uv(),
            "pip",
            "install",
            "--quiet",
            "--no-deps",
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
        _run(command, f"installing {bundle.value} dependencies for {platform}")


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
        install_dependencies(bundle, building, platform=platform, python=python)
        trim(building)
        compile_bytecode(building, python)
        (building / ".complete").write_text(f"{bundle.value} {platform} {constants.TARGET_PYTHON_VERSION}\n")
        shutil.rmtree(folder, ignore_errors=True)
        building.rename(folder)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder


def assemble(bundle: Bundle, output_dir: Path, *, platform: str = constants.TARGET_PLATFORM) -> None:
    """Write a complete bundle into ``output_dir``: cached dependencies plus the ``costwarden`` package."""
    python = find_target_python()
    dependencies = build_dependencies(bundle, platform=platform, python=python)
    shutil.copytree(dependencies, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))
    package = output_dir / constants.PACKAGE_DIR.name
    shutil.copytree(
        constants.PACKAGE_DIR, package, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    compile_bytecode(package, python)


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
