"""Customer assortments of a B2B channel: which of the channel's products each customer's
catalog leaves out, and why.

A customer's ``filters`` (typed with the customer, or its price group's ``group_filters`` from
the ERP selection) are the channel filters' language, compiled in the channel's context, so
``{exclude: {brands: [...]}}`` means for one customer what it means for a whole channel. The
rules are named like the channel filters' findings (``filtered_by_include``, ``_exclude``,
``_completeness``): a catalog's products plus those left out, per reason, add up to the
channel's published products (``quality.quarantine.catalog_accounting``).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from contracts.customers import Customer
from mapping.compile import CompiledChannel, compile_filters

LEFT_OUT_SCHEMA = pl.Schema({"customer_id": pl.String(), "sku": pl.String(), "rule": pl.String()})
"""One row per (customer, product its assortment leaves out); ``rule`` names the reason."""
RULES = ("filtered_by_include", "filtered_by_exclude", "filtered_by_completeness")


def left_out(
    golden: pl.DataFrame | pl.LazyFrame, compiled: CompiledChannel, customers: Sequence[Customer]
) -> pl.DataFrame:
    """The products of ``golden`` (the channel's publishable golden rows, or a query of them:
    only the columns the filters read are copied) that each customer's assortment leaves out
    (``LEFT_OUT_SCHEMA``); customers without filters get every one."""
    parts = [pl.DataFrame(schema=LEFT_OUT_SCHEMA)]
    for customer in customers:
        path = f"channels.{compiled.name}.customers.{customer.id}.filters"
        reason = compile_filters(customer.filters, compiled.context, path).reason()
        if reason is None:
            continue
        found = golden.lazy().select("sku", rule=reason).filter(pl.col("rule").is_not_null())
        marked = found.collect()
        parts.append(
            marked.select(
                customer_id=pl.lit(customer.id),
                sku="sku",
                rule=pl.concat_str(pl.lit("filtered_by_"), pl.col("rule")),
            )
        )
    return pl.concat(parts)
