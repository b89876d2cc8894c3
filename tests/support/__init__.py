"""Test support shared across the tiers (unit, functional, infra, e2e): one definition of what many tests need.

- :mod:`tests.support.tags`: a tag set that satisfies the default tag policy (``GOOD_TAGS``).
- :mod:`tests.support.cli`: ``costwarden tags validate`` run in-process (``tags_validate``).
- The Lambda context for calling a handler in-process is the product's own ``costwarden.handlers.context.
  LocalContext`` (``costwarden run`` and the demo use it too), so tests import it from there.
- The end-to-end tests share one demo run per pytest worker: the ``demo_run`` fixture in ``tests/e2e/conftest.py``.
"""
