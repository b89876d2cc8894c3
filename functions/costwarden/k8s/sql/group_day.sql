-- EKS cost per day, cluster, group (namespace | workload | team) and team from CUR 2.0 split cost allocation data:
-- the same aggregation as costwarden.k8s.allocate (k8s/athena_sql.py fills the placeholders; docs/k8s.md).
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
        SUM(${node_cost}) AS cost
    FROM rows_in
    WHERE COALESCE(split_line_item_parent_resource_id, '') = ''
        AND (lower(line_item_usage_type) LIKE '%boxusage%' OR lower(line_item_usage_type) LIKE '%spotusage%'
            OR lower(line_item_usage_type) LIKE '%dedicatedusage%' OR lower(line_item_usage_type) LIKE '%hostusage%')
        AND line_item_resource_id IN (SELECT node FROM pods)
    GROUP BY 1, 2
),
pod_hours AS (
    SELECT node, hour, SUM(split) AS split, SUM(aws_unused) AS aws_unused
    FROM pods
    GROUP BY 1, 2
),
per_node AS (
    SELECT node, MIN(cluster) AS cluster, MIN(account) AS account
    FROM pods
    GROUP BY 1
),
node_teams AS (
    SELECT node, MAX(node_team) AS node_team
    FROM nodes
    GROUP BY 1
),
node_hours AS (
    SELECT
        COALESCE(p.node, n.node) AS node,
        COALESCE(p.hour, n.hour) AS hour,
        COALESCE(p.split, 0) AS split,
        COALESCE(p.aws_unused, 0) AS aws_unused,
        COALESCE(n.cost, p.split + p.aws_unused) AS cost,
        COALESCE(NULLIF(n.account, ''), i.account) AS account,
        i.cluster AS cluster,
        COALESCE(t.node_team, 'unowned') AS node_team
    FROM pod_hours AS p
    FULL OUTER JOIN nodes AS n ON p.node = n.node AND p.hour = n.hour
    JOIN per_node AS i ON i.node = COALESCE(p.node, n.node)
    LEFT JOIN node_teams AS t ON t.node = COALESCE(p.node, n.node)
),
pod_lines AS (
    SELECT
        pods.hour,
        pods.account,
        pods.cluster,
        COALESCE(${namespace_team}, pods.label_team, t.node_team, 'unowned') AS team,
        pods.namespace,
        pods.workload,
        pods.resource,
        pods.split,
        ${charged} AS unused
    FROM pods
    JOIN node_hours AS h ON h.node = pods.node AND h.hour = pods.hour
    LEFT JOIN node_teams AS t ON t.node = pods.node
),
lines AS (
    SELECT
        CAST(CAST(hour AS DATE) AS VARCHAR) AS usage_date, account, cluster, ${group_key} AS group_key, team,
        resource, split, unused
    FROM pod_lines
    UNION ALL
    SELECT
        CAST(CAST(hour AS DATE) AS VARCHAR), account, cluster, ${owner_key}, ${owner_team}, 'unused', 0, ${owner_share}
    FROM node_hours
    WHERE ${owner_share} <> 0
)
SELECT
    usage_date,
    account,
    cluster,
    group_key,
    team,
    SUM(split + unused) AS cost_usd,
    SUM(CASE WHEN resource = 'cpu' THEN split ELSE 0 END) AS cpu_usd,
    SUM(CASE WHEN resource = 'memory' THEN split ELSE 0 END) AS memory_usd,
    SUM(CASE WHEN resource = 'gpu' THEN split ELSE 0 END) AS gpu_usd,
    SUM(unused) AS unused_usd
FROM lines
GROUP BY 1, 2, 3, 4, 5
ORDER BY 1, 2, 3, 4, 5
