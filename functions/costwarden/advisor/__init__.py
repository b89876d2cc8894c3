"""The savings advisor: the four levers of the recovery (spot, artefact lifecycle, commitments, the report).

Pure logic only: nothing here imports boto3, botocore or ``costwarden.adapters``. AWS data comes in as plain
Python values from the adapters, and what to do about it goes out as plain values the handlers and CLI render.
"""
