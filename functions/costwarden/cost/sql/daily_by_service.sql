-- Daily cost of one team (or of untagged cost) per service: the root-cause question for an anomalous team.
SELECT
    CAST(CAST(${usage_start} AS DATE) AS VARCHAR) AS usage_date,
    COALESCE(${service}, '') AS key_0,
    '' AS key_1,
    SUM(${cost}) AS cost
FROM ${table}
WHERE ${window}
    AND ${key_0} = ${team}
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
