"""The Bedrock spend guard: token counts priced hourly against a team's budget and baseline, opt-in deny.

See docs/bedrock.md.
"""
