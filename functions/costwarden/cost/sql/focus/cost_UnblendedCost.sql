COALESCE(BilledCost, 0)
