"""Registers the ``account`` fixture (moto account for the reaper; see reaper_env.py)."""

from tests.functional.reaper.reaper_env import account

__all__ = ["account"]
