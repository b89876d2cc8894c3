-- Daily cost per member account and team: untagged cost is attributed to the account's team ("account default").
SELECT
    CAST(CAST(${usage_start} AS DATE) AS VARCHAR) AS usage_date,
    ${account} AS account_id,
    ${key_0} AS key_0,
    SUM(${cost}) AS cost
FROM ${table}
WHERE ${window}
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
