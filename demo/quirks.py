"""What real Akeneo exports mix, applied to the drawn catalog so the pipeline meets it in the demo.

Akeneo codes are case-insensitive, and exports show it: an option code in a product value may be
spelled ``Blue`` or ``ACME`` while the option is ``blue`` / ``acme``, and a variant's ``parent``
may be ``pm000012_red`` for the model ``PM000012_red``. Media values are mostly Akeneo file keys
(``a/3/f/0/a3f0..._P0000001.jpg``), but a DAM or an asset link gives absolute URLs, which must
not be put under the media base URL.

Which rows get a quirk is a function of the product index (models: of the model number) alone,
never of a draw, so a bigger catalog has the same quirks on the same products
(``demo.streams``) and the random streams stay as they were. The quirks are applied after the
blocks are cut (``demo.blocks``), because the cut finds a product's models by exact code.
"""

from __future__ import annotations

import polars as pl

from demo.catalog import OPTIONS

CDN = "https://cdn.example.com/media"
PARENT_CASE = (97, 13)
"""(period, phase): variant products whose index % period == phase name their parent in lower
case (about one variant in a hundred)."""
OPTION_CASE = (23, 7)
"""Products (by index) and models (by number) spelling their option codes in another case."""
ABSOLUTE_MEDIA = (29, 3)
"""Products and models whose ``image`` is an absolute CDN URL instead of a media path."""
SELECTS = ("brand", "color", "size", "material")
"""The select attributes the catalog uses (``material`` is a multi-select: a list of codes)."""


def _every(key: pl.Expr, rule: tuple[int, int]) -> pl.Expr:
    period, phase = rule
    return key % period == phase


def _upper(code: pl.Expr) -> pl.Expr:
    return code.str.to_uppercase()


def _capitalized(code: pl.Expr) -> pl.Expr:
    return code.str.slice(0, 1).str.to_uppercase() + code.str.slice(1)


def _respelled(frame: pl.DataFrame, chosen: pl.Expr) -> list[pl.Expr]:
    """Brand and size in upper case, color and materials capitalized, on the ``chosen`` rows
    (only the columns ``frame`` has; a null stays null)."""
    spell = {"brand": _upper, "color": _capitalized, "size": _upper}
    exprs = [
        pl.when(chosen).then(how(pl.col(name))).otherwise(pl.col(name)).alias(name)
        for name, how in spell.items()
        if name in frame.columns
    ]
    if "material" in frame.columns:
        material = pl.col("material").list.eval(_capitalized(pl.element()))
        exprs.append(pl.when(chosen).then(material).otherwise("material").alias("material"))
    return exprs


def _absolute(chosen: pl.Expr, name: pl.Expr) -> pl.Expr:
    """``image`` as a CDN URL named after the item on the ``chosen`` rows that have one."""
    url = pl.format("{}/{}.jpg", pl.lit(CDN), name)
    chosen = chosen & pl.col("image").is_not_null()
    return pl.when(chosen).then(url).otherwise(pl.col("image")).alias("image")


def model_number() -> pl.Expr:
    """The number of a model code (``PM000012`` and its sub-models ``PM000012_red``: 12)."""
    return pl.col("code").str.slice(2, 6).cast(pl.Int64)


def with_quirks(products: pl.DataFrame, models: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The catalog with the quirks above applied to the rows their rules pick."""
    pidx = pl.col("pidx")
    lower_parent = _every(pidx, PARENT_CASE) & pl.col("parent").is_not_null()
    products = products.with_columns(
        pl.when(lower_parent)
        .then(pl.col("parent").str.to_lowercase())
        .otherwise("parent")
        .alias("parent"),
        *_respelled(products, _every(pidx, OPTION_CASE)),
        _absolute(_every(pidx, ABSOLUTE_MEDIA), pl.col("sku")),
    )
    number = model_number()
    models = models.with_columns(
        *_respelled(models, _every(number, OPTION_CASE)),
        _absolute(_every(number, ABSOLUTE_MEDIA), pl.col("code")),
    )
    return products, models


def quirk_counts(products: pl.DataFrame, models: pl.DataFrame) -> dict[str, int]:
    """What the files carry, counted from the values themselves (not from the rules): variants
    whose parent is not a model code as written, option codes (one per value, a multi-select's
    each) not spelled as their option, and absolute media URLs."""
    codes = models["code"].implode()
    parents = products.filter(pl.col("parent").is_not_null() & ~pl.col("parent").is_in(codes))

    respelled = sum(_respelled_codes(frame) for frame in (products, models))
    media = [c for c in ("image", "packshot") if c in products.columns]
    absolute = sum(
        frame.select(pl.col(c).str.starts_with("https://").sum()).item()
        for frame in (products, models)
        for c in media
        if c in frame.columns
    )
    return {
        "mixed_case_parents": parents.height,
        "respelled_option_codes": respelled,
        "absolute_media_urls": absolute,
    }


def _respelled_codes(frame: pl.DataFrame) -> int:
    total = 0
    for attribute in (a for a in SELECTS if a in frame.columns):
        known = pl.Series([o.code for o in OPTIONS if o.attribute == attribute], dtype=pl.String)
        values = frame.get_column(attribute)
        if isinstance(values.dtype, pl.List):
            values = values.explode()
        values = values.drop_nulls()
        total += int((~values.is_in(known.implode())).sum())
    return total
