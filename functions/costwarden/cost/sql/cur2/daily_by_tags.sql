-- Daily cost per team (and an optional second tag key): the cost monitor's one query per run.
-- billing_period is the export's partition: only the window's months are read.
SELECT
    CAST(CAST(line_item_usage_start_date AS DATE) AS VARCHAR) AS usage_date,
    ${key_0} AS key_0,
    ${key_1} AS key_1,
    SUM(${cost}) AS cost
FROM ${table}
WHERE billing_period IN (${billing_periods})
    AND line_item_usage_start_date >= TIMESTAMP '${start}'
    AND line_item_usage_start_date < TIMESTAMP '${end}'
    AND line_item_line_item_type NOT IN (${excluded})
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
