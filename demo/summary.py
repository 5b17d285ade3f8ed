"""What one demo-data call wrote, for the caller and the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo.defects import DEFECT_RATES


@dataclass(frozen=True)
class StructureSummary:
    """The catalog structure a call wrote, taken from the written items (not from the static
    catalog), so the summary cannot claim what the files lack."""

    options: dict[str, int] = field(default_factory=dict)
    """select attribute -> its options"""
    channels: dict[str, str] = field(default_factory=dict)
    """channel -> its category tree"""
    trees: dict[str, int] = field(default_factory=dict)
    """category tree (root code) -> its categories, the root included"""
    family_variants: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    """family variant -> its axes, level by level"""
    main_images: dict[str, str] = field(default_factory=dict)
    """family -> its ``attribute_as_image``"""

    @classmethod
    def of(cls, items: Mapping[str, Sequence[Mapping[str, Any]]]) -> StructureSummary:
        """From the REST items ``demo.render_catalog.catalog_items`` returns."""
        options: dict[str, int] = {}
        for option in items["attribute_options"]:
            options[option["attribute"]] = options.get(option["attribute"], 0) + 1
        parents = {c["code"]: c["parent"] for c in items["categories"]}
        trees: dict[str, int] = {}
        for code in parents:
            root = code
            while parents.get(root):
                root = parents[root]
            trees[root] = trees.get(root, 0) + 1
        return cls(
            options=options,
            channels={c["code"]: c["category_tree"] for c in items["channels"]},
            trees=trees,
            family_variants={
                v["code"]: tuple(tuple(s["axes"]) for s in v["variant_attribute_sets"])
                for v in items["family_variants"]
            },
            main_images={f["code"]: f["attribute_as_image"] for f in items["families"]},
        )

    def rows(self) -> list[tuple[str, str]]:
        """``(label, value)`` lines for ``DemoSummary.describe``."""
        options = ", ".join(f"{attribute} {n:,}" for attribute, n in self.options.items())
        channels = "; ".join(f"{c}: tree {tree}" for c, tree in self.channels.items())
        trees = ", ".join(f"{tree} {n:,}" for tree, n in self.trees.items())
        variants = "; ".join(
            f"{code}: {' > '.join(','.join(axes) for axes in levels)}"
            for code, levels in self.family_variants.items()
        )
        by_image: dict[str, list[str]] = {}
        for family, image in self.main_images.items():
            by_image.setdefault(image, []).append(family)
        images = "; ".join(
            f"{image}: {len(families)} families" if len(families) > 2 else
            f"{image}: {', '.join(families)}"
            for image, families in by_image.items()
        )  # fmt: skip
        return [
            ("attribute options", f"{sum(self.options.values()):,} ({options})"),
            ("channels", channels),
            ("category trees", f"{len(self.trees)} ({trees} categories)"),
            ("family variants", f"{len(self.family_variants)} ({variants})"),
            ("main image", images),
        ]


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo_data`` wrote: snapshot folders, row counts, injected defects.

    ``products`` counts the PIM products, ``variants`` those of them with a parent model;
    ``defects`` maps each seeded kind to its product count (``unknown_sku_<file>`` counts ERP-only
    skus per ERP file, ``disabled`` the disabled products); ``quirks`` counts what the export
    mixes on purpose (``demo.quirks``: mixed-case parents, respelled option codes, absolute
    media URLs).
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
    structure: StructureSummary = field(default_factory=StructureSummary)
    quirks: dict[str, int] = field(default_factory=dict)
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
            *self.structure.rows(),
            ("export quirks", self._quirks()),
            ("price rows", f"{self.price_rows:,}"),
            ("stock rows", f"{self.stock_rows:,}"),
            ("supply rows", f"{self.supply_rows:,}"),
        ]
        rows.append(("defects seeded", self._defect_totals()))
        digits = max((len(f"{n:,}") for n in self.defects.values()), default=0)
        kinds = [(kind, f"{n:>{digits},}") for kind, n in self.defects.items()]
        return "\n".join([heading, *_aligned(rows, 2), *_aligned(kinds, 4)])

    def _quirks(self) -> str:
        """The quirks in words: how a reader may be tripped, so the number means something."""
        names = {
            "mixed_case_parents": "variants with a mixed-case parent",
            "respelled_option_codes": "option codes in another case",
            "absolute_media_urls": "absolute media URLs",
        }
        return ", ".join(f"{self.quirks.get(k, 0):,} {name}" for k, name in names.items())

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
