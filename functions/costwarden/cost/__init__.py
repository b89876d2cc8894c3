"""The cost monitor's logic: frames, detection, episodes, budgets, forecasts (pure; pandas/numpy only here)."""
