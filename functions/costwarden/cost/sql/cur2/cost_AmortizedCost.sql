CASE line_item_line_item_type
    WHEN 'Usage' THEN COALESCE(line_item_unblended_cost, 0)
    WHEN 'DiscountedUsage' THEN COALESCE(reservation_effective_cost, 0)
    WHEN 'RIFee' THEN COALESCE(reservation_unused_amortized_upfront_fee_for_billing_period, 0)
        + COALESCE(reservation_unused_recurring_fee, 0)
    WHEN 'Fee' THEN 0
    ELSE COALESCE(line_item_unblended_cost, 0)
END
