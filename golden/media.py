"""Product images: URLs from media values, in a defined order with the family's image first.

A media value that already is an absolute URL (``https://cdn.example.com/a.jpg``, as a DAM or an
asset link gives it) is kept as it is; only a media path (``a/b/shirt.jpg``) is joined to
``media_base_url``. ``images`` lists every image attribute's URL of the product: the family's
``attribute_as_image`` first (else the configured image role), then the others by the
attributes' sort order; ``image_url`` is the first of them.
"""

from __future__ import annotations

import polars as pl

ABSOLUTE = r"^[A-Za-z][A-Za-z0-9+.-]*://"


PROTOCOL_RELATIVE = r"^//[^/]"


def media_url(value: pl.Expr, base: str) -> pl.Expr:
    """An absolute URL as it is (a protocol-relative ``//cdn...`` one over https); a media path
    under ``base`` with exactly one slash between. A scheme other than http(s) stays as it is
    and fails the channels' URL checks."""
    joined = pl.lit(base.rstrip("/") + "/") + value.str.strip_chars_start("/")
    relative = pl.lit("https:") + value
    return (
        pl.when(value.str.contains(ABSOLUTE))
        .then(value)
        .when(value.str.contains(PROTOCOL_RELATIVE))
        .then(relative)
        .otherwise(joined)
    )


def with_images(
    products: pl.LazyFrame,
    image_columns: dict[str, str],
    fallback: str | None,
    base: str,
) -> pl.LazyFrame:
    """``images`` (List) and ``image_url`` (String) from the image attributes' value columns
    (attribute code -> column, in sort order) and each product's ``main_image_attribute``, else
    the ``fallback`` role; both are codes, so compared case-insensitively."""
    if not image_columns:
        return products.with_columns(
            images=pl.lit([], pl.List(pl.String)), image_url=pl.lit(None, pl.String)
        )
    main_attribute = pl.coalesce(
        pl.col("main_image_attribute").str.to_lowercase(),
        pl.lit(fallback.lower() if fallback else None, pl.String),
    )
    main = pl.lit(None, pl.String)
    for attribute, column in reversed(list(image_columns.items())):
        main = pl.when(main_attribute == attribute.lower()).then(_media(column)).otherwise(main)
    main = pl.coalesce(main, *(_media(c) for c in image_columns.values()))
    others = [
        pl.when((main_attribute != attribute.lower()).fill_null(True)).then(_media(column))
        for attribute, column in image_columns.items()
    ]
    urls = pl.concat_list(main, *others).list.eval(pl.element().drop_nulls())
    urls = urls.list.eval(media_url(pl.element(), base)).list.unique(maintain_order=True)
    return products.with_columns(images=urls).with_columns(image_url=pl.col("images").list.first())


def _media(column: str) -> pl.Expr:
    """A media value, null when blank: ``""`` would become the media base URL itself."""
    value = pl.col(column)
    return pl.when(value.str.strip_chars() != "").then(value)
