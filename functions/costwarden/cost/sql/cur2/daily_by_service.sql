-- Daily cost of one team (or of untagged cost) per service: the root-cause question for an anomalous team.
SELECT
    CAST(CAST(line_item_usage_start_date AS DATE) AS VARCHAR) AS usage_date,
    COALESCE(line_item_product_code, '') AS key_0,
    '' AS key_1,
    SUM(${cost}) AS cost
FROM ${table}
WHERE billing_period IN (${billing_periods})
    AND line_item_usage_start_date >= TIMESTAMP '${start}'
    AND line_item_usage_start_date < TIMESTAMP '${end}'
    AND line_item_line_item_type NOT IN (${excluded})
    AND ${key_0} = ${team}
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
