"""Organization scale, the pure part: which accounts, which account x region items, who owns what, the global cap.

No AWS here (import-linter's ``pure-logic`` contract): the Organizations and STS adapters feed plain data in, the
handlers (``costwarden.handlers.org_*``) and the Step Functions state machine (``infra/fanout.py``) move it around.
"""
