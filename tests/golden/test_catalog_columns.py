"""The golden master columns of a sharded catalog: every shard gets the columns of the whole
catalog, in the order an unsharded read gives them."""

from __future__ import annotations

import polars as pl

from contracts.golden import MASTER_SCHEMA
from golden.master_data import catalog_columns, with_catalog_columns


def _master(**values: pl.DataType) -> pl.DataFrame:
    schema = dict(MASTER_SCHEMA) | values | {"category_codes.master": pl.List(pl.String)}
    return pl.DataFrame(schema=schema)


def test_a_value_column_of_any_shard_is_in_every_shard_typed_and_sorted() -> None:
    left = _master(**{"attr.size": pl.String(), "attr.color": pl.Null()})
    right = _master(**{"attr.brand": pl.String(), "attr.color": pl.String()})
    columns = catalog_columns([left.schema, right.schema])
    assert columns.columns == [
        *MASTER_SCHEMA,
        "attr.brand",
        "attr.color",
        "attr.size",
        "category_codes.master",
    ]
    assert columns.schema["attr.color"] == pl.String  # the shard with values types it
    shard = pl.DataFrame({"sku": ["A1"]}).with_columns(pl.lit(None).alias("attr.size"))
    widened = with_catalog_columns(shard, columns)
    assert widened.schema == columns.schema
    assert widened.row(0, named=True)["sku"] == "A1"
    assert widened["attr.brand"].to_list() == [None]
