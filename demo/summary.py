"""What one demo-data call wrote, for the caller and the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from demo.defects import DEFECT_RATES


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo_data`` wrote: snapshot folders, row counts, injected defects.

    ``products`` counts the PIM products, ``variants`` those of them with a parent model;
    ``defects`` maps each seeded kind to its product count (``unknown_sku_<file>`` counts ERP-only
    skus per ERP file, ``disabled`` the disabled products).
    """

    pim_dir: Path
    erp_dir: Path
    seed: int
    as_of: dt.date
    products: int
    variants: int
    product_models: int
    price_rows: int
    stock_rows: int
    supply_rows: int
    defects: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """A few aligned lines for people: where each side went, the counts, defects by kind."""
        heading = f"Demo data written (seed {self.seed}, as of {self.as_of.isoformat()}):"
        simple = self.products - self.variants
        rows = [
            ("PIM export", str(self.pim_dir)),
            ("ERP snapshot", str(self.erp_dir)),
            ("products", f"{self.products:,} ({simple:,} simple, {self.variants:,} variants)"),
            ("product models", f"{self.product_models:,}"),
            ("price rows", f"{self.price_rows:,}"),
            ("stock rows", f"{self.stock_rows:,}"),
            ("supply rows", f"{self.supply_rows:,}"),
        ]
        rows.append(("defects seeded", self._defect_totals()))
        digits = max((len(f"{n:,}") for n in self.defects.values()), default=0)
        kinds = [(kind, f"{n:>{digits},}") for kind, n in self.defects.items()]
        return "\n".join([heading, *_aligned(rows, 2), *_aligned(kinds, 4)])

    def _defect_totals(self) -> str:
        """Products with a defect, ERP-only skus and disabled products, each counted once."""
        faulty = sum(self.defects.get(kind, 0) for kind in DEFECT_RATES)
        erp_only = [n for kind, n in self.defects.items() if kind.startswith("unknown_sku_")]
        unknown = max(erp_only, default=0)
        disabled = self.defects.get("disabled", 0)
        return f"{faulty:,} products, {unknown:,} ERP-only skus, {disabled:,} disabled; by kind:"


def _aligned(rows: Sequence[tuple[str, str]], indent: int) -> list[str]:
    """``label  value`` lines with the values in one column."""
    width = max((len(label) for label, _ in rows), default=0)
    return [f"{' ' * indent}{label:<{width}}  {value}" for label, value in rows]
