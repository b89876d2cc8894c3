"""Acting from Slack (issue 13): request verification, who may press what, and the actions themselves.

Pure logic: Slack and AWS are reached through ports (``costwarden.models.ports`` and ``interact.ports``);
the handler and ``costwarden.services.interact`` pass the implementations in.
"""
