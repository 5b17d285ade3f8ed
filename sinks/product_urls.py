"""Product URLs from a channel's ``product_url`` template, built vectorized."""

from __future__ import annotations

from urllib.parse import quote

import polars as pl

from sinks.xml_text import SinkInputError

_URL_SAFE = r"^[A-Za-z0-9._~-]*$"
_SKU = "{sku}"


def product_urls(products: pl.DataFrame, template: str) -> pl.Expr:
    """``template`` with every ``{sku}`` replaced by the percent-encoded sku (RFC 3986).

    Skus are nearly always URL-safe, so only the few that are not go through ``urllib``.
    """
    if _SKU not in template:
        msg = f"product_url {template!r} has no '{_SKU}' placeholder"
        raise SinkInputError(msg)
    skus = products.get_column("sku")
    unsafe = skus.filter(~skus.str.contains(_URL_SAFE)).unique().to_list()
    encoded = pl.col("sku")
    if unsafe:
        encoded = encoded.replace({sku: quote(sku, safe="") for sku in unsafe})
    pieces: list[pl.Expr] = []
    for index, literal in enumerate(template.split(_SKU)):
        if index:
            pieces.append(encoded)
        pieces.append(pl.lit(literal))
    return pl.concat_str(pieces)
