"""Broken variant lineage: products whose product model does not exist or whose models loop.

Akeneo codes are case-insensitive, so a variant whose ``parent`` is ``Jacket_Blue`` belongs to
the model ``jacket_blue``; only a parent that matches no model in any case is missing.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from contracts.golden import REJECTS_SCHEMA
from sources.akeneo_files import PimExport


def split_broken_lineage(export: PimExport) -> tuple[PimExport, pl.DataFrame]:
    """The export without products whose variant lineage is broken, and those products as
    REJECTS_SCHEMA rows (field ``parent``): ``parent_missing`` when the parent model (or a model
    above it) does not exist, ``model_cycle`` when the models' parents loop (value: the loop).

    Without this a variant of a missing model would be published grouped under a code that does
    not exist, and a loop would make shoes variants of a jacket."""
    broken = broken_models(export.product_models)
    known = export.product_models.get_column("code").str.to_lowercase()
    status = (
        export.products.select("sku", "parent", "pim_source")
        .with_columns(_key=pl.col("parent").str.to_lowercase())
        .join(broken, left_on="_key", right_on="key", how="left", maintain_order="left")
    )
    missing = pl.col("parent").is_not_null() & ~pl.col("_key").is_in(known.implode())
    failed = status.select(missing | pl.col("reason").is_not_null()).to_series()
    rejects = status.filter(failed).select(
        "sku",
        field=pl.lit("parent"),
        value=pl.when(missing).then(pl.col("parent")).otherwise(pl.col("detail")),
        reason=pl.when(missing).then(pl.lit("parent_missing")).otherwise(pl.col("reason")),
        source="pim_source",
    )
    # ``status`` is the products' rows in their order, so the flags filter the products.
    kept = export.products.filter(~failed)
    return replace(export, products=kept), rejects.cast(REJECTS_SCHEMA)


def broken_models(models: pl.DataFrame) -> pl.DataFrame:
    """``key`` (lower-cased code), ``code``, ``reason``, ``detail`` for each product model whose
    chain of parents does not end at a root model: ``parent_missing`` (detail: the missing code)
    or ``model_cycle`` (detail: the loop, e.g. ``a > b > a``). Models are few and their chains
    short (Akeneo allows two levels), so this walks them."""
    codes = models["code"].to_list()
    spelling = {c.lower(): c for c in codes if c is not None}
    parents = {
        c.lower(): (p.lower() if p is not None else None)
        for c, p in zip(codes, models["parent"].to_list(), strict=True)
        if c is not None
    }
    verdicts: dict[str, tuple[str, str] | None] = {}
    for key in parents:
        chain: list[str] = []
        current: str | None = key
        verdict: tuple[str, str] | None = None
        while current is not None and current not in verdicts:
            chain.append(current)
            up = parents.get(current)
            if up is not None and up not in parents:
                raw = models.filter(pl.col("code").str.to_lowercase() == current)["parent"][0]
                verdict = ("parent_missing", raw)
                break
            if up in chain:
                loop = [*chain[chain.index(up) :], up]
                verdict = ("model_cycle", " > ".join(spelling[k] for k in loop))
                break
            current = up
        else:
            verdict = verdicts.get(current) if current is not None else None
        verdicts.update(dict.fromkeys(chain, verdict))
    rows = [(k, spelling[k], v[0], v[1]) for k, v in verdicts.items() if v is not None]
    schema = {"key": pl.String, "code": pl.String, "reason": pl.String, "detail": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")
