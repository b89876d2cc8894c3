#!/usr/bin/env python3
"""CDK entry point (``cdk.json`` → ``.venv/bin/python app.py``): validates the settings, builds the stack.

A bad value in the ``costwarden`` context fails synth here with a message naming the key.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "functions"))

from aws_cdk import App
from costwarden.settings import SettingsError, decode_json

from infra.nag import add_checks
from infra.stack import build_stack

CDK_JSON = Path(__file__).resolve().parent / "cdk.json"


def main() -> None:
    app = App()
    try:
        if CDK_JSON.is_file():  # the CLI's JSON reader keeps the last of a duplicated key: say so instead
            decode_json(CDK_JSON.read_text(encoding="utf-8"), "cdk.json")
        build_stack(app)
    except SettingsError as error:
        sys.exit(f"cdk synth: {error}")
    add_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
