"""The names both readings of split cost data share: how a tag or pod label is spelled as a column, the key of the
owner's unused-cost line, and the error either raises. Pandas-free on purpose: the Athena path (``athena_sql``)
imports only this, so the idle finder in the light bundle can read EKS facts without the analytics packages.
"""

from __future__ import annotations

import re

#: The prefix of a flat tag column (legacy CUR, and what ``read_cur`` returns).
TAG_PREFIX = "resource_tags_"
_NOT_KEY = re.compile(r"[^a-z0-9]")
#: The key of the line holding a node's unused cost charged to its owner, grouped by namespace or workload. No
#: namespace or deployment can be called this (Kubernetes names are DNS labels: no brackets).
OWNER_UNUSED = "(unused)"


class K8sDataError(ValueError):
    """Split cost data that cannot be read or allocated; the message names the file, row and column at fault."""


def tag_column(key: str) -> str:
    """The flat column of a tag: ``aws:eks:cluster-name`` -> ``resource_tags_aws_eks_cluster_name``.

    A key already in CUR 2.0 form (``user_team``, ``aws_eks_namespace``) maps to itself after the prefix; a pod
    label such as ``app.kubernetes.io/name`` is a user tag, ``resource_tags_user_app_kubernetes_io_name``.
    """
    spelled = _NOT_KEY.sub("_", key.lower())
    return TAG_PREFIX + spelled


def label_column(label: str) -> str:
    """The flat column of a pod label imported as a cost allocation tag (a user-defined tag on the bill)."""
    spelled = _NOT_KEY.sub("_", label.lower())
    return tag_column(spelled if spelled.startswith("user_") else f"user_{spelled}")
