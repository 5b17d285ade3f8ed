"""The quarantine as the report reads it: every finding with its product, the system to fix
it in, and the input reject that caused it.

``findings_frame`` adds to each quarantine row (``QUARANTINE_SCHEMA``):

- ``name``, ``uuid``: the golden product's name in the report locale and its PIM uuid (null
  for a sku the PIM does not know, and for the CSV export's products without uuid);
- ``fix_in``: ``PIM`` or ``ERP``. A channel rule names its system in ``quality/rules.py``; an
  input reject is fixed in the system whose file it came from (``prices.csv``, ``stock.csv``
  and ``supply.csv`` or their Parquet twins are the ERP's, every other file is the PIM's);
- ``caused_by``: for a channel finding, the source (``prices.csv:805``) of the input reject on
  the same sku whose file feeds the finding's field: a rejected price row leaves the product
  without that price, so ``price_missing`` on five channels is its effect, not five problems.
"""

from __future__ import annotations

import polars as pl

from quality.quarantine import ALL_CHANNELS, QUARANTINE_SCHEMA
from quality.rules import RULES

ERP_FEEDS = {
    "prices": ("list_price_", "price"),
    "stock": ("available_qty", "availability"),
    "supply": ("availability", "lead_time_days"),
}
"""ERP file (as ``sources/erp_files.py`` names them) -> prefixes of the golden fields it feeds."""
RULE_SYSTEMS = {r.code: r.source.upper() for r in RULES}
FINDINGS_SCHEMA = pl.Schema(
    {
        **QUARANTINE_SCHEMA,
        "name": pl.String(),
        "uuid": pl.String(),
        "fix_in": pl.String(),
        "caused_by": pl.String(),
    }
)


def source_file() -> pl.Expr:
    """The file stem of ``source``: ``prices.csv:12`` -> ``prices`` (null when not a file)."""
    return pl.col("source").str.extract(r"^([^.:/\s]+)\.[A-Za-z]+:", 1)


def fix_in() -> pl.Expr:
    """``PIM``, ``ERP`` or ``CONFIG``: a golden rule's system, else that of the file the row
    came from (a channel mapping's own value: the configuration)."""
    from_erp = source_file().is_in(list(ERP_FEEDS)) | pl.col("source").str.starts_with("ERP ")
    from_config = pl.col("source").str.starts_with("prism.yaml").fill_null(False)
    by_file = (
        pl.when(from_erp.fill_null(False))
        .then(pl.lit("ERP"))
        .when(from_config)
        .then(pl.lit("CONFIG"))
        .otherwise(pl.lit("PIM"))
    )
    by_rule = pl.col("rule").replace_strict(RULE_SYSTEMS, default=None, return_dtype=pl.String)
    declared = pl.when(pl.col("channel") != ALL_CHANNELS).then(by_rule)
    return pl.coalesce(declared, by_file)


def findings_frame(
    quarantine: pl.DataFrame, golden: pl.DataFrame, names: pl.DataFrame
) -> pl.DataFrame:
    """Every quarantine row with ``name`` (from ``names``: sku, name), ``uuid``, ``fix_in``
    and ``caused_by``."""
    products = golden.select("sku", "uuid").join(names, on="sku", how="left")
    named = quarantine.join(products, on="sku", how="left", maintain_order="left")
    return with_causes(named.with_columns(fix_in=fix_in())).select(FINDINGS_SCHEMA.names())


def with_causes(findings: pl.DataFrame) -> pl.DataFrame:
    """``findings`` with ``caused_by``; a finding two input rejects explain takes the first."""
    feeds = pl.DataFrame(
        [(stem, prefix) for stem, prefixes in ERP_FEEDS.items() for prefix in prefixes],
        schema={"stem": pl.String, "prefix": pl.String},
        orient="row",
    )
    causes = (
        findings.filter(pl.col("channel") == ALL_CHANNELS, pl.col("sku").is_not_null())
        .select("sku", caused_by=pl.col("source"), stem=source_file())
        .join(feeds, on="stem")
    )
    indexed = findings.with_row_index("_row")
    explained = (
        indexed.filter(pl.col("channel") != ALL_CHANNELS)
        .select("_row", "sku", "field")
        .join(causes, on="sku")
        .filter(pl.col("field").str.starts_with(pl.col("prefix")))
        .group_by("_row")
        .agg(pl.col("caused_by").sort().first())
    )
    return (
        indexed.join(explained, on="_row", how="left", maintain_order="left")
        .drop("_row")
        .with_columns(pl.col("caused_by").cast(pl.String))
    )
