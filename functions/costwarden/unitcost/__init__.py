"""Unit costs: USD per 1,000 inferences, per training run and per 1M tokens, and their regressions.

See docs/unitcost.md.
"""
