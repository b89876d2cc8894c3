"""The reaper: resources past their ``expires_at`` tag are warned about, then stopped, terminated or deleted —
cluster-aware, capped, dry-run by default, and every decision recorded. No pandas/numpy/scipy here (small bundle).
"""
