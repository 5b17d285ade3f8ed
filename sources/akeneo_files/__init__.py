"""Akeneo PIM file drops -> flat polars frames, one per entity.

A drop folder holds per entity either ``<entity>.jsonl`` (one Akeneo REST API item per line) or
``<entity>.csv`` (Akeneo's semicolon separated CSV export); both give the same frames
(``export.ENTITY_FILES``). Product values become one String column per value, named like
Akeneo's CSV header (``values``), in one spelling however the PIM cased its codes
(``selection``). ``pim_source`` is "file:line" (1-based; a CSV header is line 1).
"""

from __future__ import annotations

from sources.akeneo_files.entities import IMAGE_TYPES, SELECT_TYPES
from sources.akeneo_files.export import (
    ENTITY_FILES,
    PimExport,
    PimStructure,
    read_pim_export,
    read_pim_structure,
)
from sources.akeneo_files.files import PimFileError, read_csv, read_jsonl
from sources.akeneo_files.selection import ValueSelection, value_column
from sources.akeneo_files.values import flatten_values

__all__ = [
    "ENTITY_FILES",
    "IMAGE_TYPES",
    "SELECT_TYPES",
    "PimExport",
    "PimFileError",
    "PimStructure",
    "ValueSelection",
    "flatten_values",
    "read_csv",
    "read_jsonl",
    "read_pim_export",
    "read_pim_structure",
    "value_column",
]
