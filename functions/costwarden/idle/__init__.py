"""The idle finder's pure logic: judgement of metric histories, pricing math, alerts and expiry marks.

Nothing here imports boto3, botocore or ``costwarden.adapters``: AWS comes in through the ports in
``costwarden.models.idle_ports`` (wired by the handler and the CLI), so every rule is tested on plain data.
"""
