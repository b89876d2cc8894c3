"""Accelerators per instance type, for ``teams.<team>.limits.development_gpus`` (issue 15).

Counted per instance: NVIDIA GPUs for ``p*`` and ``g*``, Inferentia chips for ``inf*``, Trainium chips for ``trn*``,
Gaudi accelerators for ``dl1`` — what a team is rationed on is the accelerator, whatever its maker. SageMaker types
(``ml.g5.xlarge``) count as their EC2 type. The table holds the families' published sizes (EC2 accelerated
computing instance types, 2026); a type not listed counts 0 GPUs (still one instance for
``development_instances``), and ``gpus_for`` says so with ``known=False`` so the ``limits`` CLI can show it.
"""

from __future__ import annotations

#: The g5 sizes, which g6 and g6e repeat: 1 GPU from xlarge to 16xlarge, 4 at 12xlarge and 24xlarge, 8 at 48xlarge.
_G5_SIZES: dict[str, int] = {
    "xlarge": 1,
    "2xlarge": 1,
    "4xlarge": 1,
    "8xlarge": 1,
    "16xlarge": 1,
    "12xlarge": 4,
    "24xlarge": 4,
    "48xlarge": 8,
}

#: size -> accelerators, per family. Families whose sizes all share one count list only the sizes that exist.
_FAMILIES: dict[str, dict[str, int]] = {
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "p3dn": {"24xlarge": 8},
    "p4d": {"24xlarge": 8},
    "p4de": {"24xlarge": 8},
    "p5": {"48xlarge": 8},
    "p5e": {"48xlarge": 8},
    "p5en": {"48xlarge": 8},
    "g4dn": {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 1, "12xlarge": 4, "metal": 8},
    "g4ad": {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 2, "16xlarge": 4},
    "g5": _G5_SIZES,
    "g5g": {"xlarge": 1, "2xlarge": 1, "4xlarge": 1, "8xlarge": 1, "16xlarge": 2, "metal": 2},
    "g6": _G5_SIZES,
    "g6e": _G5_SIZES,
    "inf1": {"xlarge": 1, "2xlarge": 1, "6xlarge": 4, "24xlarge": 16},
    "inf2": {"xlarge": 1, "8xlarge": 1, "24xlarge": 6, "48xlarge": 12},
    "trn1": {"2xlarge": 1, "32xlarge": 16},
    "trn1n": {"32xlarge": 16},
    "trn2": {"48xlarge": 16},
    "dl1": {"24xlarge": 8},
}


def gpus_for(instance_type: str) -> tuple[int, bool]:
    """``(accelerators, known)`` for an EC2 or SageMaker (``ml.``) instance type; unknown types count 0."""
    name = instance_type.strip().lower().removeprefix("ml.")
    family, _, size = name.partition(".")
    sizes = _FAMILIES.get(family)
    if sizes is None or size not in sizes:
        return 0, False
    return sizes[size], True


def table() -> dict[str, int]:
    """Every known instance type -> accelerators (for documentation and the ``limits`` CLI)."""
    return {f"{family}.{size}": n for family, sizes in _FAMILIES.items() for size, n in sizes.items()}
