billing_period IN (${billing_periods})
    AND ${usage_start} >= TIMESTAMP '${start}'
    AND ${usage_start} < TIMESTAMP '${end}'
    AND ${record_type} NOT IN (${excluded})
