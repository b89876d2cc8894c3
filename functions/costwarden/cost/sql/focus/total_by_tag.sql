-- Cost of the window per value of one tag key, among charges carrying every filter tag with an accepted value:
-- an experiment pool's biggest jobs (issue 15). billing_period is the export's partition.
SELECT
    ${key_0} AS key_0,
    SUM(${cost}) AS cost
FROM ${table}
WHERE billing_period IN (${billing_periods})
    AND ChargePeriodStart >= TIMESTAMP '${start}'
    AND ChargePeriodStart < TIMESTAMP '${end}'
    AND ChargeCategory NOT IN (${excluded})${filters}
GROUP BY 1
ORDER BY 1
