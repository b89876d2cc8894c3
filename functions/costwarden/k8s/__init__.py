"""Kubernetes on EKS: cost per namespace, workload and team from CUR 2.0 split cost allocation data (docs/k8s.md)."""
