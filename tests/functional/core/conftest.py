"""Registers the ``account`` fixture (the reaper's moto account; see tests/functional/reaper/reaper_env.py)."""

from tests.functional.reaper.reaper_env import account

__all__ = ["account"]
