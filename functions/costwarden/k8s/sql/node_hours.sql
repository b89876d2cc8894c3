-- The node-hours of EKS split cost allocation data, shared by group_day.sql and node_day.sql: each node's cost per
-- hour (its EC2 line's amortized cost, else its pods' split + unused cost), its pods' split and AWS-apportioned
-- unused cost and their GPU parts (costwarden.k8s.allocate._node_hours; k8s/athena_sql.py fills the placeholders).
WITH rows_in AS (
    SELECT *
    FROM ${table}
    WHERE billing_period IN (${billing_periods})
        AND line_item_usage_start_date >= TIMESTAMP '${start}'
        AND line_item_usage_start_date < TIMESTAMP '${end}'
        AND line_item_line_item_type NOT IN ('Credit', 'Refund', 'Tax')
),
pods AS (
    SELECT
        date_trunc('hour', line_item_usage_start_date) AS hour,
        COALESCE(line_item_usage_account_id, '') AS account,
        TRIM(element_at(resource_tags, 'aws_eks_cluster_name')) AS cluster,
        split_line_item_parent_resource_id AS node,
        TRIM(element_at(resource_tags, 'aws_eks_namespace')) AS namespace,
        COALESCE(NULLIF(TRIM(element_at(resource_tags, ${workload_key})), ''), '(none)') AS workload,
        NULLIF(TRIM(element_at(resource_tags, ${team_label_key})), '') AS label_team,
        CASE
            WHEN lower(line_item_usage_type) LIKE '%gpu%' OR lower(line_item_usage_type) LIKE '%accelerator%'
                OR lower(line_item_usage_type) LIKE '%neuron%' THEN 'gpu'
            WHEN lower(line_item_usage_type) LIKE '%vcpu%' THEN 'cpu'
            WHEN lower(line_item_usage_type) LIKE '%gb-hours%' OR lower(line_item_usage_type) LIKE '%memory%'
                THEN 'memory'
            ELSE 'other'
        END AS resource,
        ${split} AS split,
        ${unused} AS aws_unused
    FROM rows_in
    WHERE COALESCE(split_line_item_parent_resource_id, '') <> ''
        AND COALESCE(TRIM(element_at(resource_tags, 'aws_eks_cluster_name')), '') <> ''
),
nodes AS (
    SELECT
        date_trunc('hour', line_item_usage_start_date) AS hour,
        line_item_resource_id AS node,
        MIN(COALESCE(line_item_usage_account_id, '')) AS account,
        MAX(NULLIF(TRIM(element_at(resource_tags, ${node_team_key})), '')) AS node_team,
        MIN(element_at(split(line_item_usage_type, ':'), -1)) AS instance_type,
        SUM(${node_cost}) AS cost
    FROM rows_in
    WHERE COALESCE(split_line_item_parent_resource_id, '') = ''
        AND (lower(line_item_usage_type) LIKE '%boxusage%' OR lower(line_item_usage_type) LIKE '%spotusage%'
            OR lower(line_item_usage_type) LIKE '%dedicatedusage%' OR lower(line_item_usage_type) LIKE '%hostusage%')
        AND line_item_resource_id IN (SELECT node FROM pods)
    GROUP BY 1, 2
),
pod_hours AS (
    SELECT
        node,
        hour,
        SUM(split) AS split,
        SUM(aws_unused) AS aws_unused,
        SUM(CASE WHEN resource = 'gpu' THEN split ELSE 0 END) AS gpu_split,
        SUM(CASE WHEN resource = 'gpu' THEN aws_unused ELSE 0 END) AS gpu_unused
    FROM pods
    GROUP BY 1, 2
),
per_node AS (
    SELECT node, MIN(cluster) AS cluster, MIN(account) AS account
    FROM pods
    GROUP BY 1
),
node_teams AS (
    SELECT node, MAX(node_team) AS node_team, MIN(instance_type) AS instance_type
    FROM nodes
    GROUP BY 1
),
node_hours AS (
    SELECT
        COALESCE(p.node, n.node) AS node,
        COALESCE(p.hour, n.hour) AS hour,
        COALESCE(p.split, 0) AS split,
        COALESCE(p.aws_unused, 0) AS aws_unused,
        COALESCE(p.gpu_split, 0) AS gpu_split,
        COALESCE(p.gpu_unused, 0) AS gpu_unused,
        COALESCE(n.cost, p.split + p.aws_unused) AS cost,
        COALESCE(NULLIF(n.account, ''), i.account) AS account,
        i.cluster AS cluster,
        COALESCE(t.node_team, 'unowned') AS node_team,
        COALESCE(t.instance_type, '') AS instance_type
    FROM pod_hours AS p
    FULL OUTER JOIN nodes AS n ON p.node = n.node AND p.hour = n.hour
    JOIN per_node AS i ON i.node = COALESCE(p.node, n.node)
    LEFT JOIN node_teams AS t ON t.node = COALESCE(p.node, n.node)
)
