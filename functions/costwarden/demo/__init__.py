"""The offline demo and its tools: the simulated account, the local Slack stand-in (``slack_standin``), labelled
synthetic cost series (``synthetic``) and the example digest day (``example_digest``).

Nothing here runs in Lambda: ``infra/bundling.py`` leaves this package out of every function bundle, and the
import-linter contracts in ``pyproject.toml`` (``make lint``) keep the product from importing it — only the CLI's
``demo`` command (and ``digest``'s built-in example day) may.
"""
