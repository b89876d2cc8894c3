"""The shared kernel: the rules every capability needs, written once.

Capabilities (cost, reaper, idle, advisor, tags, interact, digest, org, ...) stand side by side on this package and
on ``costwarden.resources`` (the resource-type registry); they never re-implement what lives here:
publish once, the one action path, the money formatter, the owner/operator-team rule, typed dedup keys and the
alert builder. See docs/architecture.md, "The kernel".
"""
