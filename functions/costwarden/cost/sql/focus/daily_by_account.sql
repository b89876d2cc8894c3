-- Daily cost per member account and team: untagged cost is attributed to the account's team ("account default").
SELECT
    CAST(CAST(ChargePeriodStart AS DATE) AS VARCHAR) AS usage_date,
    SubAccountId AS account_id,
    ${key_0} AS key_0,
    SUM(${cost}) AS cost
FROM ${table}
WHERE billing_period IN (${billing_periods})
    AND ChargePeriodStart >= TIMESTAMP '${start}'
    AND ChargePeriodStart < TIMESTAMP '${end}'
    AND ChargeCategory NOT IN (${excluded})
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
