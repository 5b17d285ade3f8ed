"""What one demo-data call wrote, for the caller and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo_data`` wrote: snapshot folders, row counts, injected defects."""

    pim_dir: Path
    erp_dir: Path
    products: int
    product_models: int
    price_rows: int
    stock_rows: int
    supply_rows: int
    defects: dict[str, int] = field(default_factory=dict)
