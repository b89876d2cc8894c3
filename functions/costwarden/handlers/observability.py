"""One Logger, Tracer and Metrics set for every function, configured by ``POWERTOOLS_*`` environment variables.

Each function's ``POWERTOOLS_SERVICE_NAME`` (set by infra) names it in logs and metrics; the namespace is shared.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

METRICS_NAMESPACE = "Costwarden"

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE)
