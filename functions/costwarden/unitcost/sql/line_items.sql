-- The SageMaker and Bedrock line items unit costs read (costwarden.unitcost.lines.normalise), per day, from a
-- CUR 2.0 Data Export: one row per day, product, usage type, resource, line item type and tag values, the amounts
-- summed (a daily export repeats a resource's usage type only per hour of a finer one). Credits, refunds, taxes and
-- Savings Plan negations are left out here and again by normalise. unitcost/athena_sql.py fills the placeholders.
SELECT
    CAST(CAST(line_item_usage_start_date AS DATE) AS VARCHAR) AS line_item_usage_start_date,
    line_item_product_code,
    COALESCE(line_item_usage_type, '') AS line_item_usage_type,
    COALESCE(line_item_resource_id, '') AS line_item_resource_id,
    line_item_line_item_type,
    ${tag_columns},
    SUM(COALESCE(line_item_usage_amount, 0)) AS line_item_usage_amount,
    SUM(COALESCE(line_item_unblended_cost, 0)) AS line_item_unblended_cost,
    SUM(COALESCE(reservation_effective_cost, 0)) AS reservation_effective_cost,
    SUM(COALESCE(savings_plan_savings_plan_effective_cost, 0)) AS savings_plan_savings_plan_effective_cost
FROM ${table}
WHERE billing_period IN (${billing_periods})
    AND line_item_usage_start_date >= TIMESTAMP '${start}'
    AND line_item_usage_start_date < TIMESTAMP '${end}'
    AND line_item_product_code IN ('AmazonSageMaker', 'AmazonBedrock')
    AND line_item_line_item_type NOT IN (${excluded})
GROUP BY ${group_by}
ORDER BY ${group_by}
