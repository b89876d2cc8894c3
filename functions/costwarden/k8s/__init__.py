"""Kubernetes on EKS: cost per namespace, workload and team from CUR 2.0 split cost allocation data (docs/k8s.md).

The entry points (the guardrails consume their facts, ``models.k8s``, and nothing else):

* ``read_cur(path, columns=None) -> pandas.DataFrame`` — a CUR 2.0 export (Parquet or CSV, as AWS writes it) as
  one flat table, tags as ``resource_tags_<key>`` columns (``columns=allocate.COLUMNS``: only what ``allocate`` reads).
* ``allocate(frame, settings=None, *, by="namespace", unused=None) -> (list[GroupDay], list[NodeDay])`` — per day,
  each cluster's groups (namespace | workload | team) with their CPU, memory and accelerator parts and the unused
  node cost the policy (``settings.unused``: owner | proportional | unallocated) charges them; and each node's day.
* ``K8sDataError`` — what both raise on a file they cannot read; the message names the row and the column.
"""

from costwarden.k8s.columns import OWNER_UNUSED as OWNER_UNUSED
from costwarden.k8s.columns import K8sDataError as K8sDataError

try:
    from costwarden.k8s.allocate import NO_WORKLOAD as NO_WORKLOAD
    from costwarden.k8s.allocate import allocate as allocate
    from costwarden.k8s.read import read_cur as read_cur
except ModuleNotFoundError as error:  # the light bundle has no pandas: only the Athena path (athena_sql) runs there
    if error.name not in ("pandas", "numpy", "pyarrow"):
        raise
