"""Every module a light-bundle function can run imports without pandas, numpy or scipy (issue 9: lean bundles).

The light bundle (notifier, reaper, tag audit, idle finder, Slack endpoint, organization fan-out) carries no
analytics packages. Importing only the handlers is not enough: workers and renderers are imported lazily (the Slack
endpoint's worker, the notifier's block renderers), so every module of the packages those functions run is imported
here, from the light bundle's copy of the package, in a fresh interpreter whose import system refuses the analytics
packages. A module-level ``import pandas``
that only the cost monitor needs would otherwise pass every other test and fail the first real button press.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Packages and modules the light functions run (analytics-only code: cost/, advisor/, services/advisor/).
LIGHT = (
    "costwarden.handlers.notifier",
    "costwarden.handlers.reaper",
    "costwarden.handlers.tag_audit",
    "costwarden.handlers.idle",
    "costwarden.handlers.interact",
    "costwarden.handlers.org_accounts",
    "costwarden.handlers.org_item",
    "costwarden.handlers.org_aggregate",
    "costwarden.handlers.org_summary",
    "costwarden.notifier",
    "costwarden.reaper",
    "costwarden.idle",
    "costwarden.interact",
    "costwarden.org",
    "costwarden.services.reaper",
    "costwarden.services.tag_audit",
    "costwarden.services.idle",
    "costwarden.services.interact",
    "costwarden.services.org",
    "costwarden.core.episodes",
    "costwarden.handlers.bedrock",
    "costwarden.bedrock",
    "costwarden.services.bedrock",
    "costwarden.services.k8s_athena",
    "costwarden.handlers.burn",
    "costwarden.burn",
    "costwarden.services.burn",
    "costwarden.core.baselines",
)

SCRIPT = """
import importlib, pkgutil, sys

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pandas", "numpy", "scipy", "pyarrow"):
            raise ModuleNotFoundError(f"{name} is not in the light bundle", name=name.split(".")[0])
        return None

sys.meta_path.insert(0, Refuse())
failed = []
for name in sys.argv[1:]:
    names = [name]
    module = importlib.import_module(name)
    if hasattr(module, "__path__"):
        names += [m.name for m in pkgutil.walk_packages(module.__path__, name + ".")]
    for each in names:
        try:
            importlib.import_module(each)
        except ImportError as error:
            failed.append(f"{each}: {error}")
print("\\n".join(failed))
"""


def test_light_functions_never_import_the_analytics_packages(tmp_path: Path) -> None:
    """Run from the light bundle's own copy of the package (``ANALYTICS_ONLY`` left out), analytics refused."""
    from infra.bundling import Bundle, copy_package

    copy_package(tmp_path, bundle=Bundle.LIGHT)
    assert not (tmp_path / "costwarden" / "cost" / "monitor.py").exists()  # the copy really is the light one
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *LIGHT],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_DEV": "false"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", result.stdout
