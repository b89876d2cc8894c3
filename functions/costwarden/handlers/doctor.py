"""``costwarden doctor`` as a Lambda test event: any deployed function's role can run it from the console with
this handler (``costwarden.handlers.doctor.handler``); it returns the doctor's JSON envelope and its exit code.
Read-only; checks the role's own permissions do not cover are reported as not run (``errors``)."""

from __future__ import annotations

from typing import Any

from costwarden.services import doctor
from costwarden.settings import load_settings


def handler(event: Any, context: Any) -> dict[str, Any]:
    envelope, code = doctor.report(load_settings(), doctor.default_clients)
    return {**envelope, "exit_code": code}
