"""Wiring of the savings advisor: adapters in, ``costwarden.advisor``'s pure logic, decisions and alerts out.

Shared by the Lambda handler, the CLI, the demo and the benchmark, so all of them run exactly this code.
"""
