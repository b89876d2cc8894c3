-- Daily cost per member account and team: untagged cost is attributed to the account's team ("account default").
SELECT
    CAST(CAST(line_item_usage_start_date AS DATE) AS VARCHAR) AS usage_date,
    line_item_usage_account_id AS account_id,
    ${key_0} AS key_0,
    SUM(${cost}) AS cost
FROM ${table}
WHERE billing_period IN (${billing_periods})
    AND line_item_usage_start_date >= TIMESTAMP '${start}'
    AND line_item_usage_start_date < TIMESTAMP '${end}'
    AND line_item_line_item_type NOT IN (${excluded})
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
