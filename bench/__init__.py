"""Benchmarks named by the acceptance criteria. ``make bench`` runs every ``bench/bench_*.py`` module's ``main()``."""
