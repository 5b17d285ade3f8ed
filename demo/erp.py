"""ERP draws: which price, stock and supply rows each product gets, and their numbers.

Drawn per product (one row per product), so ERP rows can be rendered chunk by chunk; plus the
ERP-only skus the PIM does not know.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from demo.catalog import WAREHOUSES

ERP_ONLY_FIRST = 9_000_000
"""Index of the first ERP-only sku (``P9000001``): above every catalog's products, so an ERP-only
sku never becomes a PIM product when the catalog grows."""


def draw_erp(rng: np.random.Generator, defects: np.ndarray) -> pl.DataFrame:
    """Which price, stock and supply rows each product gets, and their numbers."""
    rows = len(defects)
    u = rng.random((rows, 12))
    priced = ~((u[:, 0] < 0.02) & (defects == ""))
    change = priced & (u[:, 1] < 0.05)
    no_stock = u[:, 7] < 0.03
    out_of_stock = ~no_stock & (u[:, 8] < 0.10)
    present = rng.random((rows, 3)) < np.array([0.85, 0.6, 0.35])
    present[~present.any(axis=1), 0] = True
    over = ~no_stock & ~out_of_stock & (u[:, 9] < 0.02)
    present[over, 0] = True
    present[no_stock] = False
    on_hand = rng.integers(0, 300, (rows, 3))
    on_hand[out_of_stock] = 0
    reserved = (on_hand * rng.random((rows, 3)) * 0.3).astype(np.int64)
    reserved[over, 0] = on_hand[over, 0] + rng.integers(1, 11, over.sum())
    supply = u[:, 10]
    columns: dict[str, np.ndarray] = {
        "priced": priced,
        "change": change,
        "future": priced & ~change & (u[:, 2] < 0.03),
        "tiers": priced & (u[:, 3] < 0.15),
        "group": priced & (u[:, 4] < 0.30),
        "customer": priced & (u[:, 5] < 0.10),
        "expired": priced & (u[:, 6] < 0.04),
        "since": np.where(change, 0, -rng.integers(30, 700, rows)),
        "future_from": rng.integers(7, 61, rows),
        "group_since": -rng.integers(10, 400, rows),
        "lead_time": np.where((supply < 0.55), rng.integers(2, 46, rows), -1),
        "receipt": np.where((supply < 0.40) | ((supply >= 0.55) & (supply < 0.65)),
                            rng.integers(1, 61, rows), -1),
        "supply_row": supply < 0.67,
    }  # fmt: skip
    for w in range(len(WAREHOUSES)):
        columns |= {f"present_{w}": present[:, w], f"on_hand_{w}": on_hand[:, w]}
        columns[f"reserved_{w}"] = reserved[:, w]
    return pl.DataFrame(columns).with_columns(pl.col("lead_time", "receipt").replace(-1, None))


def draw_unknown_skus(first_pidx: int, count: int, rng: np.random.Generator) -> pl.DataFrame:
    """ERP-only products (e.g. discontinued in the PIM): one list price, stock, supply each."""
    pidx = np.arange(first_pidx, first_pidx + count, dtype=np.int64)
    return pl.DataFrame(
        {
            "pidx": pidx,
            "family_idx": np.zeros(count, dtype=np.int64),
            "list_cents": rng.integers(5, 200, count) * 100 + 90,
            "priced": np.ones(count, dtype=bool),
            "since": -rng.integers(30, 700, count),
            "present_0": np.ones(count, dtype=bool),
            "on_hand_0": rng.integers(0, 50, count),
            "reserved_0": np.zeros(count, dtype=np.int64),
            "lead_time": rng.integers(2, 46, count),
            "receipt": rng.integers(1, 61, count),
            "supply_row": np.ones(count, dtype=bool),
        }
    ).with_columns(
        sku=pl.format("P{}", (pl.col("pidx") + 1).cast(pl.String).str.zfill(7)),
        defect=pl.lit(""),
        **{c: pl.lit(False) for c in ("change", "future", "tiers", "group", "customer")},
        expired=pl.lit(False),
        future_from=pl.lit(0),
        group_since=pl.lit(0),
        **{f"present_{w}": pl.lit(False) for w in (1, 2)},
        **{f"{c}_{w}": pl.lit(0) for c in ("on_hand", "reserved") for w in (1, 2)},
    )
