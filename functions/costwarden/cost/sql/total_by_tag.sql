-- Cost of the window per value of one tag key, among line items (charges) carrying every filter tag with an
-- accepted value: an experiment pool's biggest jobs (issue 15).
SELECT
    ${key_0} AS key_0,
    SUM(${cost}) AS cost
FROM ${table}
WHERE ${window}${filters}
GROUP BY 1
ORDER BY 1
