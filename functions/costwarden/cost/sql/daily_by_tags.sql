-- Daily cost per team (and an optional second tag key): the cost monitor's one query per run.
SELECT
    CAST(CAST(${usage_start} AS DATE) AS VARCHAR) AS usage_date,
    ${key_0} AS key_0,
    ${key_1} AS key_1,
    SUM(${cost}) AS cost
FROM ${table}
WHERE ${window}
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
