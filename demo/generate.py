"""``generate_demo_data``: draw the catalog, render it and publish both snapshot folders."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Literal

import polars as pl

from contracts import clock
from demo.blocks import Catalog, draw_catalog
from demo.customers import write_customers
from demo.defects import defect_counts
from demo.erp import ERP_ONLY_FIRST
from demo.layout import SNAPSHOT_NAME, new_snapshot_id, prune, publish, staging_folder
from demo.quirks import quirk_counts
from demo.render_catalog import Items, catalog_csv_frames, catalog_items
from demo.render_erp import render_prices, render_stock, render_supply
from demo.render_pim import (
    render_model_csv,
    render_model_json,
    render_product_csv,
    render_product_json,
)
from demo.summary import DemoSummary, StructureSummary
from demo.write import write_chunked, write_json_lines
from sources.drops import write_marker
from sources.text_files import check_csv_fields

log = logging.getLogger(__name__)


def generate_demo_data(
    target: Path,
    products: int = 3000,
    seed: int = 42,
    as_of: dt.date | None = None,
    pim_format: Literal["jsonl", "csv"] = "jsonl",
    extra_customers: int = 0,
) -> DemoSummary:
    """Write a new demo PIM export and ERP snapshot under ``target`` (``demo.layout``);
    ``extra_customers`` more active customers in the ERP's customer master
    (``demo.customers.customers``).

    The files are a pure function of the arguments (``as_of`` defaults to today, UTC): the same
    arguments write byte-identical files, and a bigger catalog starts with the same products
    (``demo.streams``). Only the folder name is new on every call.
    """
    if not 1 <= products < ERP_ONLY_FIRST:
        msg = f"products must be between 1 and {ERP_ONLY_FIRST - 1:,}, got {products}"
        raise ValueError(msg)
    if pim_format not in ("jsonl", "csv"):
        msg = f"pim_format must be 'jsonl' or 'csv', got {pim_format!r}"
        raise ValueError(msg)
    created = clock.utc_now()
    as_of = as_of or created.date()
    target = Path(target)
    snapshot = new_snapshot_id(as_of, created)
    staging = staging_folder(target, snapshot)
    staging.mkdir(parents=True)
    try:
        summary = _generate(staging, products, seed, as_of, pim_format, extra_customers)
        folders = publish(staging, target, snapshot)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for folder in folders.values():
        _retire_older(folder)
    log.info("demo data: %d products, %d models under %s", products, summary.product_models, target)
    return replace(summary, pim_dir=folders["pim"], erp_dir=folders["erp"])


def _retire_older(folder: Path) -> None:
    """Delete older snapshot folders; warn when ``folder`` is not the one the pipeline reads."""
    for path in prune(folder.parent, folder.name):
        log.info("demo data: deleted the older snapshot %s", path)
    newest = max(p.name for p in folder.parent.iterdir() if SNAPSHOT_NAME.fullmatch(p.name))
    if newest != folder.name:
        log.warning(
            "demo data: %s is not the newest snapshot folder; the pipeline reads %s (a later "
            "as-of date)",
            folder,
            folder.parent / newest,
        )


def _records(folder: Path, separator: str) -> dict[str, int]:
    """Records per data file, as the ready marker announces them (a CSV record may span lines)."""
    rows = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".csv":
            rows[path.name] = check_csv_fields(path, separator)
        elif path.suffix == ".jsonl":
            with path.open("rb") as handle:
                rows[path.name] = sum(1 for line in handle if line.strip())
    return rows


def _generate(
    root: Path,
    products: int,
    seed: int,
    as_of: dt.date,
    pim_format: Literal["jsonl", "csv"],
    extra_customers: int,
) -> DemoSummary:
    """Draw the catalog and write ``root/pim/`` and ``root/erp/``."""
    catalog = draw_catalog(seed, products, as_of)
    pim_dir, erp_dir = root / "pim", root / "erp"
    pim_dir.mkdir()
    erp_dir.mkdir()
    items = catalog_items()
    _write_pim(catalog, items, pim_dir, pim_format)
    erp_frames = (catalog.erp, catalog.erp_only)
    renderers = {"prices": render_prices, "stock": render_stock, "supply": render_supply}
    counts = {
        name: write_chunked(erp_frames, erp_dir / f"{name}.csv", partial(render, as_of=as_of))
        for name, render in renderers.items()
    }
    counts["customers"] = write_customers(erp_dir / "customers.csv", extra_customers)
    write_marker(pim_dir, _records(pim_dir, ";"))
    write_marker(erp_dir, {f"{name}.csv": rows for name, rows in counts.items()})
    return DemoSummary(
        pim_dir=pim_dir,
        erp_dir=erp_dir,
        seed=seed,
        as_of=as_of,
        products=products,
        variants=catalog.products.filter(pl.col("parent").is_not_null()).height,
        product_models=catalog.models.height,
        price_rows=counts["prices"],
        stock_rows=counts["stock"],
        supply_rows=counts["supply"],
        structure=StructureSummary.of(items),
        quirks=quirk_counts(catalog.products, catalog.models),
        defects=defect_counts(catalog.products, catalog.erp_only.height),
    )


def _write_pim(
    catalog: Catalog, items: Items, folder: Path, pim_format: Literal["jsonl", "csv"]
) -> None:
    """Products, product models and every structure entity (``PIM_FILES``), one file each; the
    ready marker written afterwards lists them all."""
    products, models = [catalog.products], [catalog.models]
    if pim_format == "jsonl":
        write_chunked(products, folder / "products.jsonl", render_product_json, "jsonl")
        write_chunked(models, folder / "product_models.jsonl", render_model_json, "jsonl")
        for name, entity in items.items():
            write_json_lines(entity, folder / f"{name}.jsonl")
    else:
        write_chunked(products, folder / "products.csv", render_product_csv, "akeneo_csv")
        write_chunked(models, folder / "product_models.csv", render_model_csv, "akeneo_csv")
        for name, frame in catalog_csv_frames(items).items():
            frame.write_csv(folder / f"{name}.csv", separator=";")
