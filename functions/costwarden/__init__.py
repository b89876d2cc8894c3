"""Costwarden: a hands-off cost guardrail for ML teams on AWS.

Layers (imports go one way only): ``handlers`` -> domain logic (``cost``, ``reaper``, ``tags``, ``notifier``)
-> ``adapters`` (one module per AWS service) and ``models``. Logic is pure; adapters are thin; handlers only parse,
load settings, call logic and return a summary.
"""

__version__ = "0.1.0"
