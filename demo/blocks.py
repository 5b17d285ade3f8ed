"""The whole demo catalog, drawn block by block (``demo.streams``) and cut to its size.

Every block is drawn whole from its own PIM and ERP streams and only then cut, so the draws of a
product depend on the seed and its index alone; the models a cut block no longer uses are
dropped with it. The export quirks (``demo.quirks``) come last, once the cut has matched the
products to their models by exact code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from demo.defects import UNKNOWN_SKU_SHARE
from demo.draws import Plan, draw_block
from demo.erp import ERP_ONLY_FIRST, draw_erp, draw_unknown_skus
from demo.quirks import with_quirks
from demo.streams import BLOCK, Side, stream


@dataclass(frozen=True)
class Catalog:
    """The drawn catalog: PIM products (``pidx`` order) and models; per product its ERP draws
    (``erp``, same order) and the ERP-only skus (``erp_only``), both with the same columns."""

    products: pl.DataFrame
    models: pl.DataFrame
    erp: pl.DataFrame
    erp_only: pl.DataFrame


def draw_catalog(seed: int, products: int, as_of: dt.date) -> Catalog:
    """Draw ``products`` products: whole blocks, the last one cut to size."""
    plans, erps, first_model = [], [], 0
    for block in range(-(-products // BLOCK)):
        plan = draw_block(stream(seed, Side.PIM, block), block, first_model, as_of)
        first_model += plan.models.filter(pl.col("parent").is_null()).height
        draws = draw_erp(stream(seed, Side.ERP, block), plan.products["defect"].to_numpy())
        erp = pl.concat([plan.products, draws], how="horizontal")
        kept = _cut(plan, min(BLOCK, products - block * BLOCK))
        plans.append(kept)
        erps.append(erp.head(kept.products.height))
    count = max(1, round(products * UNKNOWN_SKU_SHARE))
    erp_only = draw_unknown_skus(ERP_ONLY_FIRST, count, stream(seed, Side.ERP_ONLY))
    pim_products, models = with_quirks(
        pl.concat([p.products for p in plans]), pl.concat([p.models for p in plans])
    )
    return Catalog(
        products=pim_products,
        models=models,
        erp=pl.concat(erps).select(erp_only.columns),
        erp_only=erp_only,
    )


def _cut(plan: Plan, rows: int) -> Plan:
    """The first ``rows`` products of a block and the models they descend from."""
    products = plan.products.head(rows)
    parents = products["parent"].drop_nulls().unique()
    direct = plan.models.filter(pl.col("code").is_in(parents.implode()))
    roots = direct["parent"].drop_nulls().unique()
    used = pl.col("code").is_in(parents.implode()) | pl.col("code").is_in(roots.implode())
    return Plan(products, plan.models.filter(used))
