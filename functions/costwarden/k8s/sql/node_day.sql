-- One EKS node's day from CUR 2.0 split cost allocation data: its cost, what no pod reserved or used, its GPU part
-- and the GPU part nobody reserved or used (costwarden.k8s.allocate._node_days; k8s/athena_sql.py).
${node_hours},
-- An hour without pods has no split rows: its GPU part is the node's own GPU share of cost in its hours with pods.
gpu_shares AS (
    SELECT node, SUM(gpu_split + gpu_unused) / NULLIF(SUM(cost), 0) AS share
    FROM node_hours
    WHERE split + aws_unused > 0
    GROUP BY 1
),
judged AS (
    SELECT
        h.*,
        CASE WHEN h.split + h.aws_unused > 0 THEN h.gpu_unused ELSE COALESCE(s.share, 0) * h.cost END AS gpu_idle
    FROM node_hours AS h
    LEFT JOIN gpu_shares AS s ON s.node = h.node
)
SELECT
    CAST(CAST(hour AS DATE) AS VARCHAR) AS usage_date,
    node,
    MIN(account) AS account,
    MIN(cluster) AS cluster,
    MIN(instance_type) AS instance_type,
    MIN(node_team) AS team,
    SUM(cost) AS cost_usd,
    SUM(cost - split) AS unused_usd,
    SUM(gpu_split + gpu_idle) AS gpu_usd,
    SUM(gpu_idle) AS gpu_unused_usd
FROM judged
GROUP BY 1, 2
ORDER BY 1, 2
