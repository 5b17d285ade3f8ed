from __future__ import annotations

import ast
import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import TypeAdapter, ValidationError

from contracts.config import AttributeRoles, ChannelConfig
from contracts.formats import FieldSpec, WriteContext
from contracts.golden import AVAILABILITY_VALUES, GOLDEN_FIELDS
from contracts.mapping import ConstantSource, GoldenSource, RoleSource, Source, TemplateSource
from sinks.formats import meta
from sinks.formats.meta import (
    AGE_GROUPS,
    AVAILABILITY,
    CONDITIONS,
    FIELDS,
    GENDERS,
    PRESETS,
    SPEC,
    Options,
    write,
    write_chunked,
)

CREATED = dt.datetime(2026, 11, 22, 19, 56, 7, tzinfo=dt.UTC)
REQUIRED = (
    "id", "title", "description", "availability", "condition", "price", "link", "image_link",
    "brand",
)  # fmt: skip
DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "url": pl.String(),
    "gtin": pl.String(),
    "enum": pl.String(),
    "money": pl.Decimal(38, 6),
    "integer": pl.Int64(),
    "list": pl.List(pl.String()),
}
HOSTILE = 'Größe "XL", weiß; </script>&amp; <b>\nzweite Zeile\r\nmit CR\rund Tab\t.'


def spec(name: str) -> FieldSpec:
    found = SPEC.spec_of(name)
    assert found is not None
    return found


def item(sku: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "sku": sku,
        "id": sku,
        "title": f"Hemd {sku} Blau, M",
        "description": f"Ein Hemd namens {sku}",
        "availability": "in stock",
        "condition": "new",
        "price": Decimal("12.345"),
        "link": f"https://www.example.com/p/{sku}",
        "image_link": f"https://media.example.com/{sku}.jpg",
        "brand": "Acme",
        "sale_price": None,
        "additional_image_link": None,
        "gtin": "4006381333931",
        "item_group_id": None,
        "quantity_to_sell_on_facebook": 5,
    }
    values.update(overrides)
    return values


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    columns = list(rows[0])
    schema = {c: DTYPES[spec(c).kind] if c != "sku" else pl.String() for c in columns}
    return pl.DataFrame(rows, schema=schema)


def context(tmp_path: Path, currency: str = "EUR", **options: Any) -> WriteContext:
    settings = ChannelConfig(format="meta_catalog", locale="de_DE", currency=currency, **options)
    validated = Options.model_validate(settings.options())
    return WriteContext("meta", settings, validated, tmp_path, "snap", CREATED, None, None)


def read(tmp_path: Path, data: pl.DataFrame, **options: Any) -> tuple[bytes, list[dict[str, str]]]:
    ctx = context(tmp_path, **options)
    [feed] = write(data, ctx)
    assert ctx.options is not None
    name = ctx.options.file_name  # type: ignore[attr-defined]
    assert (feed.channel, feed.path, feed.rows) == ("meta", f"meta/{name}", data.height)
    content = (tmp_path / name).read_bytes()
    reader = csv.DictReader(io.StringIO(content.decode("utf-8"), newline=""))
    return content, list(reader)


def test_spec_is_self_contained() -> None:
    assert SPEC.name == "meta_catalog"
    assert SPEC.writer is write
    assert SPEC.options is Options
    assert SPEC.default_preset == "meta_catalog"
    assert not SPEC.extensible
    assert SPEC.public


def test_module_imports_only_what_a_format_may() -> None:
    tree = ast.parse(Path(meta.__file__).read_text(encoding="utf-8"))
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    allowed = ("contracts.", "sinks.xml_text", "sinks.formats.", "polars", "pydantic")
    stdlib = {"__future__", "collections.abc", "pathlib", "typing"}
    assert all(name.startswith(allowed) or name in stdlib for name in imported), imported


def test_writer_works_with_only_the_required_columns(tmp_path: Path) -> None:
    data = frame([{k: v for k, v in item("A1").items() if k in ("sku", *REQUIRED)}])
    content, [row] = read(tmp_path, data)
    assert content.startswith(b"id,title,description,availability,condition,price,link,")
    assert row == {
        "id": "A1",
        "title": "Hemd A1 Blau, M",
        "description": "Ein Hemd namens A1",
        "availability": "in stock",
        "condition": "new",
        "price": "12.35 EUR",
        "link": "https://www.example.com/p/A1",
        "image_link": "https://media.example.com/A1.jpg",
        "brand": "Acme",
    }


def test_items_read_back_with_prices_availability_and_lists(tmp_path: Path) -> None:
    rows = [
        item(
            "A1",
            sale_price=Decimal("9.995"),
            additional_image_link=["https://m.example.com/a,b.jpg", "https://m.example.com/c.jpg"],
            item_group_id="SHIRT",
        ),
        item(
            "A2",
            availability="available for order",
            price=Decimal("-0.005"),
            brand=None,
            gtin=None,
            quantity_to_sell_on_facebook=None,
            additional_image_link=[],
        ),
        item("A3", availability="out of stock", price=Decimal("1234.5")),
    ]
    content, (first, second, third) = read(tmp_path, frame(rows), currency="USD")
    assert content.splitlines()[0] == (
        b"id,title,description,availability,condition,price,link,image_link,brand,sale_price,"
        b"additional_image_link,gtin,item_group_id,quantity_to_sell_on_facebook"
    )
    assert (first["price"], first["sale_price"], second["price"], third["price"]) == (
        "12.35 USD",
        "10.00 USD",
        "-0.01 USD",
        "1234.50 USD",
    )
    assert [r["availability"] for r in (first, second, third)] == [
        "in stock",
        "available for order",
        "out of stock",
    ]
    assert first["additional_image_link"] == (
        "https://m.example.com/a%2Cb.jpg,https://m.example.com/c.jpg"
    )
    assert (first["item_group_id"], first["quantity_to_sell_on_facebook"]) == ("SHIRT", "5")
    assert (second["brand"], second["gtin"], second["sale_price"]) == ("", "", "")
    assert (second["additional_image_link"], second["quantity_to_sell_on_facebook"]) == ("", "")


def test_hostile_text_round_trips_and_formulas_are_guarded(tmp_path: Path) -> None:
    rows = [
        item("A1", title=HOSTILE, description="- Baumwolle\n- waschbar (30 °C)"),
        item("=A2", title='=HYPERLINK("http://evil","x")', description="+49 30 1234", brand="@x"),
        item("A3", title="-1+2", description='"', brand=","),
    ]
    _, (first, second, third) = read(tmp_path, frame(rows))
    assert (first["title"], first["description"]) == (HOSTILE, "- Baumwolle\n- waschbar (30 °C)")
    assert second["id"] == "'=A2"
    assert second["title"] == '\'=HYPERLINK("http://evil","x")'
    assert (second["description"], second["brand"]) == ("'+49 30 1234", "'@x")
    assert (third["title"], third["description"], third["brand"]) == ("'-1+2", '"', ",")
    _, (_, raw, _) = read(tmp_path, frame(rows), formula_guard="off")
    assert (raw["id"], raw["title"]) == ("=A2", '=HYPERLINK("http://evil","x")')


def test_empty_frame_writes_the_header(tmp_path: Path) -> None:
    data = frame([item("A1")]).clear()
    content, rows = read(tmp_path, data)
    assert rows == []
    assert content == (
        b"id,title,description,availability,condition,price,link,image_link,brand,sale_price,"
        b"additional_image_link,gtin,item_group_id,quantity_to_sell_on_facebook\n"
    )


def test_small_chunks_write_the_same_file(tmp_path: Path) -> None:
    data = frame([item(f"A{i}", title=f"Hemd\n{i}") for i in range(5)])
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    write_chunked(data, context(tmp_path / "one"), 100)
    write_chunked(data, context(tmp_path / "many"), 2)
    one = (tmp_path / "one" / "meta_catalog.csv").read_bytes()
    assert one == (tmp_path / "many" / "meta_catalog.csv").read_bytes()
    assert one.count(b"\n") == 1 + 5 * 2


def test_options() -> None:
    assert Options().file_name == "meta_catalog.csv"
    assert Options(file_name="fb.csv").file_name == "fb.csv"
    with pytest.raises(ValidationError, match="plain file name"):
        Options(file_name="../fb.csv")
    with pytest.raises(ValidationError, match="Extra inputs"):
        Options.model_validate({"delimiter": ";"})


def test_fields_declare_meta_limits_and_values() -> None:
    assert AVAILABILITY == (
        "in stock",
        "out of stock",
        "preorder",
        "available for order",
        "discontinued",
    )
    assert spec("availability").allowed == AVAILABILITY
    assert spec("condition").allowed == CONDITIONS == ("new", "refurbished", "used")
    assert spec("gender").allowed == GENDERS == ("female", "male", "unisex")
    assert set(AGE_GROUPS) == {"adult", "all ages", "teen", "kids", "toddler", "infant", "newborn"}
    assert spec("age_group").allowed == AGE_GROUPS
    assert (spec("title").max_length, spec("title").on_too_long) == (200, "truncate")
    assert (spec("description").max_length, spec("description").on_too_long) == (9999, "truncate")
    assert spec("id").max_length == 100
    assert spec("price").kind == spec("sale_price").kind == "money"
    assert spec("link").kind == spec("image_link").kind == "url"
    assert (spec("additional_image_link").kind, spec("additional_image_link").max_items) == (
        "list",
        20,
    )
    assert spec("quantity_to_sell_on_facebook").kind == "integer"
    assert {f.name for f in FIELDS if f.requirement == "required"} == set(REQUIRED)
    assert spec("brand").severity_when_missing == "warn"
    assert {f"custom_label_{i}" for i in range(5)} <= {f.name for f in FIELDS}


_SOURCE = TypeAdapter(Source)


def test_preset_validates_against_the_spec() -> None:
    preset = PRESETS["meta_catalog"]
    names = {f.name for f in FIELDS}
    assert set(preset) <= names
    assert {f.name for f in FIELDS if f.requirement == "required"} <= set(preset)
    roles = set(AttributeRoles().names())
    for target, raw in preset.items():
        source = _SOURCE.validate_python(raw)
        if isinstance(source, GoldenSource):
            assert source.field in GOLDEN_FIELDS, target
        if isinstance(source, RoleSource):
            assert source.role in roles, target
        if isinstance(source, TemplateSource):
            for placeholder in source.placeholders():
                kind, _, code = placeholder.partition(".")
                assert kind == "field", target
                assert code in GOLDEN_FIELDS, target
        if isinstance(source, ConstantSource):
            allowed = spec(target).allowed
            assert allowed is None or source.constant in allowed, target


def test_preset_maps_prism_availability_to_meta_words() -> None:
    preset = PRESETS["meta_catalog"]
    availability = _SOURCE.validate_python(preset["availability"])
    assert isinstance(availability, GoldenSource)
    assert availability.field == "availability"
    assert availability.map == {
        "in_stock": "in stock",
        "out_of_stock": "out of stock",
        "backorder": "available for order",
    }
    assert isinstance(availability.map, dict)
    assert set(availability.map) == set(AVAILABILITY_VALUES)
    assert set(availability.map.values()) <= set(AVAILABILITY)
    assert preset["condition"] == {"constant": "new"}
    assert preset["title"] == {"template": "{field.label} {field.variant_values}"}
    assert preset["description"] == {"role": "description", "transform": ["strip_html"]}
    assert preset["price"] == {"field": "price"}
