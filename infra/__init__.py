"""Costwarden's CDK app: one stack composed of one construct per capability (see ``infra/stack.py``)."""
