-- EKS cost per day, cluster, group (namespace | workload | team) and team from CUR 2.0 split cost allocation data:
-- the same aggregation as costwarden.k8s.allocate (k8s/athena_sql.py fills the placeholders; docs/k8s.md).
${node_hours},
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
