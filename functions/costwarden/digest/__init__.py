"""The daily digest: one dashboard-like ``digest`` event per day (and optionally one per team).

``model`` holds the input the cost monitor assembles (its own findings, budgets and forecast, plus what the reaper
and the tag audit left in the state table); ``compose`` turns it into an ``AlertEvent``; the Slack rendering lives
with the notifier (``costwarden.notifier.digest_blocks``). Pure Python: no pandas, no boto3.
"""
