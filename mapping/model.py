"""What a channel mapping needs to know of the PIM besides the products: attribute types,
option labels per locale, and the Akeneo channels' category trees.

Built once per run from the export's small frames (``PimModel.of``); codes are looked up
case-insensitively and answered in the PIM's spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

SELECT = "pim_catalog_simpleselect"
MULTISELECT = "pim_catalog_multiselect"
METRIC = "pim_catalog_metric"
PRICES = "pim_catalog_price_collection"
BOOLEAN = "pim_catalog_boolean"
DATE = "pim_catalog_date"
NUMBER = "pim_catalog_number"
MEDIA = frozenset({"pim_catalog_image", "pim_catalog_file"})


@dataclass(frozen=True)
class Attribute:
    code: str
    type: str
    localizable: bool = False
    scopable: bool = False


@dataclass(frozen=True)
class PimModel:
    """Attributes by lower-cased code, options per attribute (lower-cased option code ->
    label per locale), Akeneo channel -> category tree. ``known`` is False when the export
    had no attributes file (then any attribute name is accepted)."""

    attributes: dict[str, Attribute] = field(default_factory=dict)
    options: dict[str, dict[str, dict[str, str | None]]] = field(default_factory=dict)
    trees: dict[str, str] = field(default_factory=dict)
    known: bool = False
    label_attributes: tuple[str, ...] = ()
    """the families' ``attribute_as_label`` codes"""
    axes: tuple[str, ...] = ()
    """every variant axis attribute, in the order the family variants name them"""

    @classmethod
    def of(
        cls,
        attributes: pl.DataFrame,
        options: pl.DataFrame,
        channels: pl.DataFrame,
        locales: tuple[str, ...],
        families: pl.DataFrame | None = None,
        family_variants: pl.DataFrame | None = None,
    ) -> PimModel:
        found = {
            str(row["code"]).lower(): Attribute(
                str(row["code"]),
                str(row["type"] or ""),
                bool(row["localizable"]),
                bool(row["scopable"]),
            )
            for row in attributes.iter_rows(named=True)
            if row["code"]
        }
        labels: dict[str, dict[str, dict[str, str | None]]] = {}
        label_columns = [f"label_{loc}" for loc in locales if f"label_{loc}" in options.columns]
        for row in options.iter_rows(named=True):
            if not row["attribute"] or not row["code"]:
                continue
            per_locale = {c.removeprefix("label_"): row[c] for c in label_columns}
            labels.setdefault(str(row["attribute"]).lower(), {})[str(row["code"]).lower()] = (
                per_locale
            )
        trees = {
            str(row["code"]).lower(): str(row["category_tree"])
            for row in channels.iter_rows(named=True)
            if row["code"] and row["category_tree"]
        }
        label_attributes = (
            families["attribute_as_label"].drop_nulls().unique(maintain_order=True).to_list()
            if families is not None and "attribute_as_label" in families.columns
            else []
        )
        axes = (
            family_variants.sort("level")["axes"].explode().drop_nulls().unique(maintain_order=True)
            if family_variants is not None and family_variants.height
            else pl.Series([], dtype=pl.String)
        )
        return cls(
            found,
            labels,
            trees,
            known=attributes.height > 0,
            label_attributes=tuple(str(a) for a in label_attributes),
            axes=tuple(str(a) for a in axes.to_list()),
        )

    def attribute(self, code: str) -> Attribute | None:
        return self.attributes.get(code.lower())

    def tree_of(self, scope: str) -> str | None:
        return self.trees.get(scope.lower())

    def option_labels(self, attribute: str, locale: str) -> dict[str, str]:
        """Lower-cased option code -> label in ``locale`` (options without one left out)."""
        return {
            code: label
            for code, labels in self.options.get(attribute.lower(), {}).items()
            if (label := labels.get(locale))
        }
