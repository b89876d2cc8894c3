"""The launch-time burn guard: launches priced as CloudTrail delivers them, against the team's baseline.

See docs/burn.md.
"""
