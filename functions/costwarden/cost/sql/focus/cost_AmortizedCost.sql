COALESCE(EffectiveCost, 0)
