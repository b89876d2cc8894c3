"""Registers the ``idle_account`` fixture (moto account with metric histories; see idle_env.py)."""

from tests.functional.idle.idle_env import idle_account

__all__ = ["idle_account"]
