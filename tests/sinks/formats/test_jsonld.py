from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from contracts.config import ChannelConfig
from contracts.formats import FieldSpec, WriteContext
from sinks.formats.jsonld import FIELDS, PRESETS, SPEC, Options, write
from sinks.xml_text import SinkInputError

CREATED = dt.datetime(2026, 11, 22, 19, 56, 7, tzinfo=dt.UTC)
DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "url": pl.String(),
    "gtin": pl.String(),
    "enum": pl.String(),
    "money": pl.Decimal(38, 6),
    "decimal": pl.Decimal(38, 6),
    "integer": pl.Int64(),
    "date": pl.Date(),
    "boolean": pl.Boolean(),
    "list": pl.List(pl.String()),
}
REQUIRED = ("name", "image", "url", "price", "availability")
HOSTILE = "</script><script>alert(1)</script>"


def spec(name: str) -> FieldSpec:
    found = SPEC.spec_of(name)
    assert found is not None
    return found


def row(sku: str, **overrides: Any) -> dict[str, Any]:
    """A product with every field of the format mapped and filled."""
    values: dict[str, Any] = {
        "sku": sku,
        "name": f"Shirt {sku}",
        "description": f"A shirt called {sku}",
        "image": f"https://media.example.com/{sku}.jpg",
        "additional_images": None,
        "gtin": "4006381333931",
        "mpn": f"M-{sku}",
        "brand": "Acme",
        "color": "Blau",
        "size": "M",
        "material": "Baumwolle",
        "pattern": "uni",
        "category": "Kleidung > Oberteile",
        "weight": Decimal("0.25"),
        "url": f"https://www.example.com/p/{sku}",
        "price": Decimal("19.99"),
        "price_valid_until": None,
        "availability": "in_stock",
        "availability_date": None,
        "item_group": None,
        "group_url": None,
    }
    values.update(overrides)
    return values


def frame(*rows: dict[str, Any], columns: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The writer's input: ``sku`` then the mapped fields, with the dtypes of their kinds."""
    names = columns if columns is not None else tuple(f.name for f in FIELDS if f.name != "sku")
    schema = {"sku": pl.String(), **{n: DTYPES[spec(n).kind] for n in names}}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def golden(*axes: Sequence[str | None] | None) -> pl.DataFrame:
    values = [None if a is None else list(a) for a in axes]
    return pl.DataFrame({"variant_axes": values}, schema={"variant_axes": pl.List(pl.String)})


def context(
    tmp_path: Path,
    golden_rows: pl.DataFrame | None = None,
    options: Options | None = None,
    **settings: Any,
) -> WriteContext:
    config = ChannelConfig(
        **({"format": "jsonld", "locale": "de_DE", "currency": "EUR"} | settings)
    )
    return WriteContext(
        channel="website",
        settings=config,
        options=options if options is not None else Options(),
        folder=tmp_path,
        snapshot_id="20261122T195607Z-ab12cd34",
        created=CREATED,
        tiers=None,
        golden=None if golden_rows is None else golden_rows.lazy(),
    )


def text_of(tmp_path: Path) -> str:
    return (tmp_path / "products.jsonl").read_text(encoding="utf-8")


def written(
    tmp_path: Path, products: pl.DataFrame, golden_rows: pl.DataFrame | None = None, **kw: Any
) -> list[dict[str, Any]]:
    [feed_file] = write(products, context(tmp_path, golden_rows, **kw))
    assert feed_file.channel == "website"
    assert feed_file.path == "website/products.jsonl"
    assert feed_file.rows == products.height
    return [json.loads(line) for line in text_of(tmp_path).splitlines()]


def test_full_product_is_schema_org_json_ld(tmp_path: Path) -> None:
    [line] = written(tmp_path, frame(row("A1", price_valid_until=dt.date(2026, 12, 31))))
    assert line == {
        "@context": "https://schema.org",
        "@type": "Product",
        "sku": "A1",
        "name": "Shirt A1",
        "description": "A shirt called A1",
        "image": "https://media.example.com/A1.jpg",
        "gtin": "4006381333931",
        "mpn": "M-A1",
        "brand": {"@type": "Brand", "name": "Acme"},
        "color": "Blau",
        "size": "M",
        "material": "Baumwolle",
        "pattern": "uni",
        "category": "Kleidung > Oberteile",
        "weight": {"@type": "QuantitativeValue", "value": 0.25, "unitCode": "KGM"},
        "offers": {
            "@type": "Offer",
            "price": "19.99",
            "priceCurrency": "EUR",
            "priceValidUntil": "2026-12-31",
            "availability": "https://schema.org/InStock",
            "url": "https://www.example.com/p/A1",
        },
    }


def test_only_the_required_fields_are_enough(tmp_path: Path) -> None:
    products = frame(row("A1"), row("B2", availability="out_of_stock"), columns=REQUIRED)
    first, second = written(tmp_path, products)
    assert set(first) == {"@context", "@type", "sku", "name", "image", "offers"}
    assert first["offers"] == {
        "@type": "Offer",
        "price": "19.99",
        "priceCurrency": "EUR",
        "availability": "https://schema.org/InStock",
        "url": "https://www.example.com/p/A1",
    }
    assert second["offers"]["availability"] == "https://schema.org/OutOfStock"


def test_null_members_are_left_out_never_written_as_null(tmp_path: Path) -> None:
    optional = [f.name for f in FIELDS if f.name not in (*REQUIRED, "sku")]
    bare = row("A1", **dict.fromkeys(optional))
    variant = row("V1", **(dict.fromkeys(optional) | {"item_group": "G"}))
    lines = written(tmp_path, frame(bare, variant), golden([], None))
    assert "null" not in text_of(tmp_path)
    assert set(lines[0]) == {"@context", "@type", "sku", "name", "image", "offers"}
    assert set(lines[0]["offers"]) == {"@type", "price", "priceCurrency", "availability", "url"}
    assert set(lines[1]) == {"@context", "@type", "productGroupID", "name", "hasVariant"}


def test_a_name_cannot_break_out_of_a_script_element(tmp_path: Path) -> None:
    """The feed is embedded in ``<script type="application/ld+json">`` on product pages."""
    name = f'Shirt {HOSTILE} & <!-- \u2028 "q" \\'
    products = frame(row("A1", name=name), row("V1", item_group="G", name=name, brand=HOSTILE))
    lines = written(tmp_path, products, golden([], ["color"]))
    text = text_of(tmp_path)
    assert HOSTILE not in text
    for raw in ("<", ">", "&", "\u2028"):
        assert raw not in text
    assert "\\u003c/script\\u003e" in text
    assert lines[0]["name"] == name  # the same value for a JSON parser
    assert lines[1]["name"] == name
    assert lines[1]["brand"]["name"] == HOSTILE
    assert lines[1]["hasVariant"][0]["name"] == name


def test_text_that_looks_like_a_null_member_is_kept(tmp_path: Path) -> None:
    tricky = 'He said "hi",\n\\ Größe\t ,"color":null ,"image":["x"]'
    [line] = written(tmp_path, frame(row("A1", description=tricky, color=None)))
    assert line["description"] == tricky
    assert "color" not in line
    assert line["image"] == "https://media.example.com/A1.jpg"


@pytest.mark.parametrize(
    ("amount", "text"),
    [("12.345", "12.35"), ("12.344999", "12.34"), ("0.005", "0.01"), ("7", "7.00")],
)
def test_price_is_a_two_decimal_string_rounded_half_up(
    tmp_path: Path, amount: str, text: str
) -> None:
    [line] = written(tmp_path, frame(row("P", price=Decimal(amount))))
    assert line["offers"]["price"] == text
    assert line["offers"]["priceCurrency"] == "EUR"


def test_price_currency_is_the_channels_main_currency(tmp_path: Path) -> None:
    products = frame(row("P", price=Decimal("12.345")), row("V", item_group="G"))
    lines = written(tmp_path, products, golden([], []), currency=None, currencies=("CHF", "EUR"))
    assert lines[0]["offers"] == lines[0]["offers"] | {"price": "12.35", "priceCurrency": "CHF"}
    assert lines[1]["hasVariant"][0]["offers"]["priceCurrency"] == "CHF"


def test_backorder_starts_on_its_date_other_availabilities_do_not(tmp_path: Path) -> None:
    date = dt.date(2026, 12, 24)
    products = frame(
        row("B", availability="backorder", availability_date=date),
        row("O", availability="out_of_stock", availability_date=date),
        row("I", availability="in_stock", availability_date=date),
    )
    back, out, stock = (line["offers"] for line in written(tmp_path, products))
    assert back["availability"] == "https://schema.org/BackOrder"
    assert back["availabilityStarts"] == "2026-12-24"
    assert "availabilityStarts" not in out
    assert "availabilityStarts" not in stock


def test_price_valid_until_is_an_iso_date(tmp_path: Path) -> None:
    products = frame(row("A", price_valid_until=dt.date(2027, 1, 31)), row("B"))
    first, second = written(tmp_path, products)
    assert first["offers"]["priceValidUntil"] == "2027-01-31"
    assert "priceValidUntil" not in second["offers"]


def test_additional_images_join_the_image_array(tmp_path: Path) -> None:
    extra = ["https://media.example.com/b.jpg", None, "https://media.example.com/c.jpg"]
    products = frame(row("A", additional_images=extra), row("B", additional_images=[]), row("C"))
    first, second, third = written(tmp_path, products)
    assert first["image"] == [
        "https://media.example.com/A.jpg",
        "https://media.example.com/b.jpg",
        "https://media.example.com/c.jpg",
    ]
    assert second["image"] == "https://media.example.com/B.jpg"
    assert third["image"] == "https://media.example.com/C.jpg"


def test_variants_are_one_product_group_with_every_variant(tmp_path: Path) -> None:
    variants = [
        row(f"T-{color}-{size}", item_group="TSHIRT", color=color, size=size, name="T-Shirt")
        for color, size in (("Blau", "M"), ("Blau", "L"), ("Rot", "M"))
    ]
    variants[0] |= {"description": None, "brand": None, "group_url": None}
    variants[1] |= {"group_url": "https://www.example.com/g/tshirt"}
    products = frame(row("S1"), *variants, row("S2"))
    axes = golden([], ["color", "size"], ["color", "size"], ["size", "color"], [])
    simple1, group, simple2 = written(tmp_path, products, axes)
    assert (simple1["sku"], simple2["sku"]) == ("S1", "S2")
    assert group["@context"] == "https://schema.org"
    assert group["@type"] == "ProductGroup"
    assert group["productGroupID"] == "TSHIRT"
    assert group["name"] == "T-Shirt"
    assert group["description"] == "A shirt called T-Blau-L"  # the first variant that has one
    assert group["brand"] == {"@type": "Brand", "name": "Acme"}
    assert group["url"] == "https://www.example.com/g/tshirt"
    assert group["category"] == "Kleidung > Oberteile"
    assert group["variesBy"] == ["https://schema.org/color", "https://schema.org/size"]
    assert [v["sku"] for v in group["hasVariant"]] == ["T-Blau-M", "T-Blau-L", "T-Rot-M"]
    for variant, source in zip(group["hasVariant"], variants, strict=True):
        assert variant["@type"] == "Product"
        assert "@context" not in variant
        assert "isVariantOf" not in variant
        assert (variant["color"], variant["size"]) == (source["color"], source["size"])
        assert variant["offers"]["price"] == "19.99"
        assert variant["offers"]["url"] == f"https://www.example.com/p/{source['sku']}"


def test_groups_keep_the_order_of_their_first_product(tmp_path: Path) -> None:
    products = frame(
        row("A1", item_group="A"),
        row("S1"),
        row("B1", item_group="B"),
        row("A2", item_group="A"),
        row("S2"),
        row("B2", item_group="B"),
    )
    lines = written(tmp_path, products, golden(*[["color"]] * 6))
    ids = [line.get("productGroupID", line.get("sku")) for line in lines]
    assert ids == ["A", "S1", "B", "S2"]
    assert [v["sku"] for v in lines[0]["hasVariant"]] == ["A1", "A2"]
    assert [v["sku"] for v in lines[2]["hasVariant"]] == ["B1", "B2"]


def test_axes_map_through_options_defaults_and_codes(tmp_path: Path) -> None:
    products = frame(*(row(f"V{i}", item_group="G") for i in range(3)))
    axes = golden(["main_color", "gender"], ["fit", "age_group"], ["main_color", None])
    options = Options(varies_by={"main_color": "color", "fit": "https://example.com/fit"})
    [group] = written(tmp_path, products, axes, options=options)
    assert group["variesBy"] == [
        "https://schema.org/color",
        "https://schema.org/suggestedGender",
        "https://example.com/fit",
        "https://schema.org/suggestedAge",
    ]


def test_a_group_without_axes_or_golden_rows_has_no_varies_by(tmp_path: Path) -> None:
    products = frame(row("V1", item_group="G"), row("V2", item_group="G"))
    [group] = written(tmp_path, products, golden(None, []))
    assert "variesBy" not in group
    assert len(group["hasVariant"]) == 2
    [group] = written(tmp_path, products, None)
    assert "variesBy" not in group


def test_without_an_item_group_column_every_product_is_a_product(tmp_path: Path) -> None:
    columns = tuple(f.name for f in FIELDS if f.name not in ("sku", "item_group"))
    lines = written(tmp_path, frame(row("A"), row("B"), columns=columns), golden([], []))
    assert [line["@type"] for line in lines] == ["Product", "Product"]


def test_sku_is_written_unless_the_channel_unmaps_it(tmp_path: Path) -> None:
    [line] = written(tmp_path, frame(row("A/1 ü")))
    assert line["sku"] == "A/1 ü"
    [line] = written(tmp_path, frame(row("A1")), fields={"sku": None})
    assert "sku" not in line
    [group] = written(tmp_path, frame(row("V1", item_group="G")), golden([]), fields={"sku": None})
    assert "sku" not in group["hasVariant"][0]


def test_empty_frame_writes_an_empty_file(tmp_path: Path) -> None:
    assert written(tmp_path, frame(), golden()) == []
    assert text_of(tmp_path) == ""


def test_every_line_parses_for_many_products(tmp_path: Path) -> None:
    rows = [
        row(f"P{i}", item_group=f"G{i // 4}" if i % 3 else None, name=f'N "{i}" {HOSTILE}')
        for i in range(500)
    ]
    products = frame(*rows)
    lines = written(tmp_path, products, golden(*[["color", "size"]] * 500))
    simple = [line for line in lines if line["@type"] == "Product"]
    groups = [line for line in lines if line["@type"] == "ProductGroup"]
    variants = sum(len(g["hasVariant"]) for g in groups)
    assert len(simple) + variants == 500
    assert len(simple) == sum(1 for r in rows if r["item_group"] is None)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [("price", None, "without 'price'"), ("availability", "discontinued", "discontinued")],
)
def test_broken_input_fails_naming_the_problem(
    tmp_path: Path, column: str, value: Any, message: str
) -> None:
    with pytest.raises(SinkInputError, match=message):
        write(frame(row("X1", **{column: value})), context(tmp_path))


def test_golden_rows_must_match_the_frame(tmp_path: Path) -> None:
    with pytest.raises(SinkInputError, match="golden rows"):
        write(frame(row("V1", item_group="G")), context(tmp_path, golden([], [])))


def test_options_are_checked() -> None:
    assert Options(varies_by={"c": "color"}).varies_by == {"c": "https://schema.org/color"}
    with pytest.raises(ValidationError, match="neither a property name nor a URL"):
        Options(varies_by={"c": "not a property"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        Options.model_validate({"variesby": {}})


def test_spec_declares_the_format() -> None:
    assert SPEC.name == "jsonld"
    assert SPEC.public
    assert SPEC.options is Options
    assert SPEC.default_preset == "website"
    names = [f.name for f in FIELDS]
    assert len(names) == len(set(names))
    assert PRESETS["website"]["sku"] == {"field": "sku"}  # the key: the frame's first column
    assert {f.name for f in FIELDS if f.required} == set(REQUIRED)
    assert spec("image").kind == "url"
    assert spec("availability_date").required_when is not None
