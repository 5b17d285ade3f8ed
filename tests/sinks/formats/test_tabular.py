from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import polars as pl
import pytest
from pydantic import TypeAdapter, ValidationError

from contracts.config import AttributeRoles, ChannelConfig
from contracts.formats import WriteContext
from contracts.golden import GOLDEN_FIELDS
from contracts.mapping import FirstSource, GoldenSource, RoleSource, Source, TemplateSource
from mapping.transforms import apply
from sinks import xlsx_sheet
from sinks.formats.tabular import (
    BOM,
    FIELDS,
    PRESETS,
    SPEC_CSV,
    SPEC_JSONL,
    SPEC_TSV,
    SPEC_XLSX,
    SPECS,
    CsvOptions,
    XlsxOptions,
    guarded,
    write,
    write_chunked,
)
from sinks.xml_text import SinkInputError

CREATED = dt.datetime(2026, 11, 22, 19, 56, 7, tzinfo=dt.UTC)
OLD_SHOP_COLUMNS = (
    "sku",
    "item_group",
    "parent",
    "name",
    "description",
    "brand",
    "gtin",
    "color",
    "size",
    "category_path",
    "price",
    "currency",
    "availability",
    "availability_date",
    "available_qty",
    "image_url",
    "url",
)
"""The columns of the former shop CSV (sinks/shop_csv.py), which demo_shop must keep."""
HOSTILE = 'Größe "XL", weiß; </script>&amp;\nzweite Zeile\r\nmit CR\rin der Mitte\tTab'
DTYPES: dict[str, pl.DataType] = {
    "price": pl.Decimal(38, 6),
    "available_qty": pl.Int64(),
    "availability_date": pl.Date(),
    "images": pl.List(pl.String()),
    "Images": pl.List(pl.String()),
    "Regular price": pl.Decimal(38, 6),
    "Stock": pl.Int64(),
}
N_ROWS = 5


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A writer's frame: ``sku`` first, then the targets; dtypes as the contract gives them."""
    columns = list(rows[0])
    schema = {c: DTYPES.get(c, pl.String()) for c in columns}
    return pl.DataFrame(rows, schema=schema)


def context(
    tmp_path: Path, format_name: str = "csv", golden: pl.DataFrame | None = None, **options: Any
) -> WriteContext:
    extra = {k: v for k, v in options.items() if k not in ("preset", "fields")}
    settings = ChannelConfig(
        format=format_name,
        locale="de_DE",
        currency="EUR",
        preset=options.get("preset"),
        fields=options.get("fields", {}),
        **extra,
    )
    spec = next(s for s in SPECS if s.name == format_name)
    assert spec.options is not None
    validated = spec.options.model_validate(settings.options())
    rows = None if golden is None else golden.lazy()
    return WriteContext("shop", settings, validated, tmp_path, "snap", CREATED, None, rows)


def written(tmp_path: Path, data: pl.DataFrame, format_name: str = "csv", **options: Any) -> bytes:
    ctx = context(tmp_path, format_name, **options)
    [feed] = write(data, ctx)
    assert feed.channel == "shop"
    assert ctx.options is not None
    name = ctx.options.file_name  # type: ignore[attr-defined]
    assert feed.path == f"shop/{name}"
    return (tmp_path / name).read_bytes()


def rows_of(content: bytes, delimiter: str = ",") -> list[dict[str, str]]:
    text = content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def small() -> pl.DataFrame:
    return frame(
        [
            {
                "sku": "A1",
                "name": 'Hemd "Classic", blau',
                "price": Decimal("12.345"),
                "available_qty": 5,
                "availability_date": None,
                "images": ["https://m.example.com/1.jpg", "https://m.example.com/2.jpg"],
            },
            {
                "sku": "B;2",
                "name": "Zeile1\nZeile2",
                "price": None,
                "available_qty": None,
                "availability_date": dt.date(2026, 12, 24),
                "images": None,
            },
        ]
    )


def demo_row(sku: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "sku": sku,
        "item_group": None,
        "parent": None,
        "name": f"Shirt {sku}",
        "description": f"A shirt called {sku}",
        "brand": "Acme",
        "gtin": "4006381333931",
        "color": "Blau",
        "size": "M",
        "category_path": "Kleidung > Oberteile",
        "price": Decimal("19.99"),
        "currency": "EUR",
        "availability": "in_stock",
        "availability_date": None,
        "available_qty": 5,
        "image_url": f"https://media.example.com/{sku}.jpg",
        "url": f"https://shop.example.com/p/{sku}",
    }
    values.update(overrides)
    return values


# --- the formats and their declaration ------------------------------------------------------------


def test_four_formats_share_one_writer_and_the_presets() -> None:
    assert [s.name for s in SPECS] == ["csv", "tsv", "jsonl", "xlsx"]
    assert (SPEC_CSV, SPEC_TSV, SPEC_JSONL, SPEC_XLSX) == SPECS
    for spec in SPECS:
        assert spec.writer is write
        assert spec.extensible
        assert spec.presets is PRESETS
        assert spec.default_preset == "demo_shop"
        assert spec.fields == FIELDS
        assert not [f for f in spec.fields if f.requirement == "required"]
        assert spec.options is not None
        assert spec.options().file_name == f"products.{spec.name}"  # type: ignore[attr-defined]


def test_well_known_columns_have_kinds() -> None:
    kinds = {f.name: f.kind for f in FIELDS}
    assert kinds["price"] == "money"
    assert kinds["availability_date"] == "date"
    assert kinds["available_qty"] == "integer"
    assert kinds["url"] == kinds["image_url"] == kinds["cover_media_url"] == "url"
    assert kinds["gtin"] == kinds["GTIN, UPC, EAN, or ISBN"] == "gtin"
    assert kinds["Regular price"] == kinds["price_gross"] == "money"
    assert kinds["Images"] == kinds["images"] == "list"


_SOURCE = TypeAdapter(Source)


def _golden_and_roles(source: Any) -> tuple[list[str], list[str]]:
    """The golden fields and roles a source names (templates and fallbacks included)."""
    fields: list[str] = []
    roles: list[str] = []
    if isinstance(source, GoldenSource):
        fields.append(source.field)
    if isinstance(source, RoleSource):
        roles.append(source.role)
    if isinstance(source, TemplateSource):
        for name in source.placeholders():
            kind, _, code = name.partition(".")
            (fields if kind == "field" else roles).append(code)
    if isinstance(source, FirstSource):
        for part in source.first:
            more_fields, more_roles = _golden_and_roles(part)
            fields += more_fields
            roles += more_roles
    return fields, roles


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_entry_is_a_valid_source(preset: str) -> None:
    roles = set(AttributeRoles().names())
    for spec in SPECS:
        mapped = set(spec.presets[preset])
        assert {f.name for f in spec.fields if f.required} <= mapped
        for target, raw in spec.presets[preset].items():
            source = _SOURCE.validate_python(raw)
            fields, named_roles = _golden_and_roles(source)
            assert set(fields) <= set(GOLDEN_FIELDS), (preset, target)
            assert set(named_roles) <= roles, (preset, target)
            known = spec.spec_of(target)
            if known is not None and known.kind == "money":
                assert isinstance(source, GoldenSource)
                assert source.field == "price", target


def test_demo_shop_keeps_the_old_shop_columns() -> None:
    assert tuple(PRESETS["demo_shop"]) == OLD_SHOP_COLUMNS
    assert next(iter(PRESETS)) == "demo_shop"
    assert PRESETS["demo_shop"]["name"] == {"field": "label"}
    assert PRESETS["demo_shop"]["parent"] == {"field": "parent"}
    assert PRESETS["demo_shop"]["currency"] == {"field": "currency"}


def test_shopware_and_woocommerce_presets_use_their_column_names() -> None:
    shopware = set(PRESETS["shopware6"])
    profile = {
        "id", "parent_id", "product_number", "active", "stock", "name", "description",
        "price_net", "price_gross", "purchase_prices_net", "purchase_prices_gross", "tax_id",
        "tax_rate", "tax_name", "cover_media_id", "cover_media_url", "cover_media_title",
        "cover_media_alt", "manufacturer_id", "manufacturer_name", "categories",
        "sales_channel", "propertyIds", "optionIds",
    }  # fmt: skip
    assert shopware <= profile
    assert next(iter(PRESETS["shopware6"])) == "product_number"
    woo = list(PRESETS["woocommerce"])
    assert woo[0] == "SKU"
    assert {"Type", "Name", "Published", "Description", "Regular price", "Stock"} <= set(woo)
    assert {"Categories", "Images", "Attribute 1 name", "Attribute 1 value(s)"} <= set(woo)


def test_woocommerce_attribute_names_only_where_the_product_has_the_value() -> None:
    preset = PRESETS["woocommerce"]
    values = pl.DataFrame({"v": ["Blau", None, "Rot,\nhell"]})
    name = _SOURCE.validate_python(preset["Attribute 1 name"])
    value = _SOURCE.validate_python(preset["Attribute 1 value(s)"])
    out = values.select(
        n=apply(pl.col("v"), name.transform, None), v=apply(pl.col("v"), value.transform, None)
    )
    assert out["n"].to_list() == ["Color", None, "Color"]
    assert out["v"].to_list() == ["Blau", None, "Rot\\,\nhell"]


# --- dialects, read back byte for byte ------------------------------------------------------------


def test_default_dialect_is_the_old_shop_csv(tmp_path: Path) -> None:
    content = written(tmp_path, small())
    assert content == (
        b"sku,name,price,available_qty,availability_date,images\n"
        b'A1,"Hemd ""Classic"", blau",12.35,5,,https://m.example.com/1.jpg|https://m.example.com/2.jpg\n'
        b'B;2,"Zeile1\nZeile2",,,2026-12-24,\n'
    )


def test_semicolon_bom_decimal_comma_crlf_quote_all(tmp_path: Path) -> None:
    options: dict[str, Any] = {
        "delimiter": ";",
        "bom": True,
        "decimal_comma": True,
        "line_ending": "crlf",
        "quoting": "all",
        "date_format": "%d.%m.%Y",
    }
    content = written(tmp_path, small(), **options)
    assert content == BOM + (
        b'"sku";"name";"price";"available_qty";"availability_date";"images"\r\n'
        b'"A1";"Hemd ""Classic"", blau";"12,35";"5";"";'
        b'"https://m.example.com/1.jpg|https://m.example.com/2.jpg"\r\n'
        b'"B;2";"Zeile1\nZeile2";"";"";"24.12.2026";""\r\n'
    )
    [first, second] = rows_of(content, ";")
    assert (first["price"], second["name"], second["availability_date"]) == (
        "12,35",
        "Zeile1\nZeile2",
        "24.12.2026",
    )


def test_quoting_non_numeric_leaves_numbers_bare(tmp_path: Path) -> None:
    content = written(tmp_path, small().drop("images"), delimiter=";", quoting="non_numeric")
    assert content == (
        b'"sku";"name";"price";"available_qty";"availability_date"\n'
        b'"A1";"Hemd ""Classic"", blau";12.35;5;\n'
        b'"B;2";"Zeile1\nZeile2";;;"2026-12-24"\n'
    )


def test_tsv_quotes_only_cells_with_tabs_quotes_or_line_breaks(tmp_path: Path) -> None:
    data = frame([{"sku": "A1", "name": "a\tb"}, {"sku": "A2", "name": "plain, text"}])
    content = written(tmp_path, data, "tsv")
    assert content == b'sku\tname\nA1\t"a\tb"\nA2\tplain, text\n'
    assert [r["name"] for r in rows_of(content, "\t")] == ["a\tb", "plain, text"]


def test_null_value_and_list_separator(tmp_path: Path) -> None:
    data = frame(
        [
            {"sku": "A1", "images": ["u1", "u2", "u3"], "name": None},
            {"sku": "A2", "images": [], "name": "x"},
        ]
    )
    content = written(tmp_path, data, list_separator=", ", null_value="NULL")
    assert content == b'sku,images,name\nA1,"u1, u2, u3",NULL\nA2,NULL,x\n'


def test_money_is_rounded_half_away_from_zero(tmp_path: Path) -> None:
    prices = ["12.345", "-1.005", "2.5", "0.004999", "1234567.895"]
    data = frame([{"sku": f"P{i}", "price": Decimal(p)} for i, p in enumerate(prices)])
    assert [r["price"] for r in rows_of(written(tmp_path, data))] == [
        "12.35",
        "-1.01",
        "2.50",
        "0.00",
        "1234567.90",
    ]
    comma = written(tmp_path, data, delimiter=";", decimal_comma=True)
    assert [r["price"] for r in rows_of(comma, ";")][:2] == ["12,35", "-1,01"]


def test_undeclared_decimal_column_is_money_too(tmp_path: Path) -> None:
    data = pl.DataFrame(
        {"sku": ["A"], "Preis": [Decimal("3.456")]},
        schema={"sku": pl.String, "Preis": pl.Decimal(38, 6)},
    )
    assert rows_of(written(tmp_path, data, fields={"Preis": "field:price"})) == [
        {"sku": "A", "Preis": "3.46"}
    ]


def test_hostile_text_round_trips_through_the_csv_module(tmp_path: Path) -> None:
    data = frame([{"sku": "Ü-1", "name": HOSTILE, "description": '"'}, {"sku": "2", "name": ""}])
    for options in ({}, {"delimiter": ";", "quoting": "all", "line_ending": "crlf"}):
        content = written(tmp_path, data, **options)
        parsed = rows_of(content, options.get("delimiter", ","))
        assert [(r["sku"], r["name"], r["description"]) for r in parsed] == [
            ("Ü-1", HOSTILE, '"'),
            ("2", "", ""),
        ]
    tsv = rows_of(written(tmp_path, data, "tsv"), "\t")
    assert tsv[0]["name"] == HOSTILE


def test_many_rows_in_small_chunks_equal_one_chunk(tmp_path: Path) -> None:
    data = frame([demo_row(f"S{i}", name=f"=N{i}") for i in range(N_ROWS)])
    for format_name in ("csv", "tsv", "jsonl", "xlsx"):
        one, many = tmp_path / f"one-{format_name}", tmp_path / f"many-{format_name}"
        one.mkdir()
        many.mkdir()
        [a] = write_chunked(data, context(one, format_name), 10)
        [b] = write_chunked(data, context(many, format_name), 2)
        assert a.rows == b.rows == N_ROWS
        file = f"products.{format_name}"
        if format_name == "xlsx":
            sheets = [
                zipfile.ZipFile(d / file).read("xl/worksheets/sheet1.xml") for d in (one, many)
            ]
            assert sheets[0] == sheets[1]
        else:
            assert (one / file).read_bytes() == (many / file).read_bytes()


def test_empty_frame_writes_the_header(tmp_path: Path) -> None:
    empty = frame([demo_row("X")]).clear()
    assert written(tmp_path, empty) == (",".join(OLD_SHOP_COLUMNS) + "\n").encode()
    assert (
        written(tmp_path, empty, bom=True, line_ending="crlf")
        == BOM + (",".join(OLD_SHOP_COLUMNS) + "\r\n").encode()
    )
    assert written(tmp_path, empty, "jsonl") == b""
    assert _xlsx_rows(tmp_path, empty) == [list(OLD_SHOP_COLUMNS)]


def test_demo_shop_frame_writes_the_old_columns_and_values(tmp_path: Path) -> None:
    rows = [
        demo_row("A1"),
        demo_row(
            "V1",
            item_group="TSHIRT",
            parent="TSHIRT-blue",
            brand=None,
            price=Decimal("12.345"),
            availability="backorder",
            availability_date=dt.date(2026, 12, 24),
            available_qty=0,
        ),
    ]
    simple, variant = rows_of(written(tmp_path, frame(rows)))
    assert tuple(simple) == OLD_SHOP_COLUMNS
    assert simple["price"] == "19.99"
    assert (simple["item_group"], simple["availability_date"], simple["available_qty"]) == (
        "",
        "",
        "5",
    )
    assert (variant["item_group"], variant["parent"], variant["brand"]) == (
        "TSHIRT",
        "TSHIRT-blue",
        "",
    )
    assert (variant["price"], variant["availability_date"], variant["available_qty"]) == (
        "12.35",
        "2026-12-24",
        "0",
    )


def test_the_key_is_written_only_when_the_channel_maps_it(tmp_path: Path) -> None:
    data = frame([{"sku": "A1", "product_number": "A1", "name": "Hemd"}])
    shopware = rows_of(written(tmp_path, data, preset="shopware6"))
    assert shopware == [{"product_number": "A1", "name": "Hemd"}]
    removed = rows_of(written(tmp_path, data, fields={"sku": None}))
    assert removed == [{"product_number": "A1", "name": "Hemd"}]
    mapped = rows_of(written(tmp_path, data, preset="woocommerce", fields={"sku": "field:sku"}))
    assert mapped == [{"sku": "A1", "product_number": "A1", "name": "Hemd"}]


# --- formula guard --------------------------------------------------------------------------------

GUARDED = [
    '=HYPERLINK("http://evil","x")',
    "+49 30 1234",
    "-1+2",
    "-A1*3",
    "+$B$2",
    "-(1)",
    "--1",
    '-"x"&A1',
    "@SUM(A1:A2)",
    "\t=1",
    "\rx",
    "{=HYPERLINK(1)}",
    "\uff1dHYPERLINK(1)",
    "\uff0b1",
    "\uff0dx",
    "\uff20x",
    '- a list with HYPERLINK("x")',
    "-cmd|' /C calc'!A0",
    "- see Sheet1!A1",
    "- bullet\n=HYPERLINK(1)",
]
UNTOUCHED = [
    "- bullet list",
    "- 100 % cotton\n- machine washable (30 °C)",
    "-Blau",
    "+ more",
    "1+1=2 @home",
    "a-b",
    "Größe M",
    "",
]


@pytest.mark.parametrize("text", GUARDED)
def test_formula_starters_are_guarded(text: str) -> None:
    assert pl.select(guarded(pl.lit(text))).item() == f"'{text}"


@pytest.mark.parametrize("text", UNTOUCHED)
def test_bullets_words_and_harmless_text_are_not_touched(text: str) -> None:
    assert pl.select(guarded(pl.lit(text))).item() == text


def test_guard_on_and_off_in_a_file(tmp_path: Path) -> None:
    names = ["- bullet list", '=HYPERLINK("x")', "+49 30 1234", "-1+2"]
    data = frame(
        [
            {"sku": f"=S{i}", "name": n, "images": [n, "u"], "price": Decimal("-1")}
            for i, n in enumerate(names)
        ]
    )
    on = rows_of(written(tmp_path, data))
    assert [r["name"] for r in on] == [
        "- bullet list",
        '\'=HYPERLINK("x")',
        "'+49 30 1234",
        "'-1+2",
    ]
    assert on[1]["sku"] == "'=S1"
    assert on[1]["images"] == '\'=HYPERLINK("x")|u'
    assert {r["price"] for r in on} == {"-1.00"}
    off = rows_of(written(tmp_path, data, formula_guard="off"))
    assert [r["name"] for r in off] == names
    assert off[1]["sku"] == "=S1"


# --- parent rows ----------------------------------------------------------------------------------


def _variants() -> tuple[pl.DataFrame, pl.DataFrame]:
    """A simple product, two groups interleaved, another simple product."""
    rows = [
        demo_row("S1"),
        demo_row("G1-blue", item_group="G1", color="Blau", price=Decimal("10")),
        demo_row("G2-s", item_group="G2", size="S", gtin="96385074", price=Decimal("20")),
        demo_row("G1-red", item_group="G1", color="Rot", price=Decimal("11")),
        demo_row("S2"),
    ]
    data = frame(rows)
    golden = data.select(
        "sku", "item_group", level=pl.when(pl.col("item_group").is_null()).then(0).otherwise(1)
    )
    return data, golden


def test_parent_rows_before_each_group_in_order(tmp_path: Path) -> None:
    data, golden = _variants()
    ctx = context(tmp_path, golden=golden, parent_rows=True, type_column="type")
    [feed] = write(data, ctx)
    rows = rows_of((tmp_path / "products.csv").read_bytes())
    assert feed.rows == 7
    assert [(r["sku"], r["parent"], r["type"]) for r in rows] == [
        ("S1", "", "simple"),
        ("G1", "", "variable"),
        ("G1-blue", "G1", "variation"),
        ("G1-red", "G1", "variation"),
        ("G2", "", "variable"),
        ("G2-s", "G2", "variation"),
        ("S2", "", "simple"),
    ]
    parent = rows[1]
    assert (parent["price"], parent["gtin"], parent["available_qty"]) == ("", "", "")
    assert (parent["name"], parent["color"], parent["item_group"]) == (
        "Shirt G1-blue",
        "Blau",
        "G1",
    )
    assert rows[2]["price"] == "10.00"
    assert list(rows[0]) == [*OLD_SHOP_COLUMNS, "type"]


def test_parent_rows_with_woocommerce_settings(tmp_path: Path) -> None:
    data, golden = _variants()
    data = (
        data.select(
            SKU="sku",
            Type=pl.lit("simple"),
            Name="name",
            Stock="available_qty",
            **{"Regular price": "price", "Attribute 1 value(s)": "color"},
        )
        .with_columns(pl.col("SKU").alias("sku"))
        .select("sku", pl.exclude("sku"))
    )
    options: dict[str, Any] = {
        "preset": "woocommerce",
        "list_separator": ", ",
        "parent_rows": True,
        "parent_reference_column": "Parent",
        "type_column": "Type",
        "parent_blank": ["Regular price", "Stock"],
        "parent_collect": ["Attribute 1 value(s)"],
    }
    rows = rows_of(written(tmp_path, data, golden=golden, **options))
    assert list(rows[0]) == [
        "SKU",
        "Type",
        "Name",
        "Stock",
        "Regular price",
        "Attribute 1 value(s)",
        "Parent",
    ]
    table = [
        (r["SKU"], r["Type"], r["Parent"], r["Regular price"], r["Attribute 1 value(s)"])
        for r in rows
    ]
    assert table == [
        ("S1", "simple", "", "19.99", "Blau"),
        ("G1", "variable", "", "", "Blau, Rot"),
        ("G1-blue", "variation", "G1", "10.00", "Blau"),
        ("G1-red", "variation", "G1", "11.00", "Rot"),
        ("G2", "variable", "", "", "Blau"),
        ("G2-s", "variation", "G2", "20.00", "Blau"),
        ("S2", "simple", "", "19.99", "Blau"),
    ]


def test_parent_rows_in_jsonl_and_xlsx(tmp_path: Path) -> None:
    data, golden = _variants()
    lines = written(tmp_path, data, "jsonl", golden=golden, parent_rows=True).splitlines()
    skus = [json.loads(line)["sku"] for line in lines]
    assert skus == ["S1", "G1", "G1-blue", "G1-red", "G2", "G2-s", "S2"]
    assert json.loads(lines[1])["price"] is None
    sheet = _xlsx_rows(tmp_path, data, golden=golden, parent_rows=True)
    assert [r[0] for r in sheet] == ["sku", "S1", "G1", "G1-blue", "G1-red", "G2", "G2-s", "S2"]


def test_without_parent_rows_a_type_column_says_simple(tmp_path: Path) -> None:
    data, golden = _variants()
    rows = rows_of(written(tmp_path, data, golden=golden, type_column="kind"))
    assert [r["sku"] for r in rows] == data["sku"].to_list()
    assert {r["kind"] for r in rows} == {"simple"}
    assert rows[1]["parent"] == ""


def test_parent_rows_need_the_golden_rows_and_a_known_id_column(tmp_path: Path) -> None:
    data, golden = _variants()
    with pytest.raises(SinkInputError, match="golden"):
        write(data, context(tmp_path, parent_rows=True))
    with pytest.raises(SinkInputError, match="golden"):
        write(data, context(tmp_path, golden=golden.head(2), parent_rows=True))
    with pytest.raises(SinkInputError, match="parent_id_column 'nope'"):
        write(data, context(tmp_path, golden=golden, parent_rows=True, parent_id_column="nope"))


def test_parent_rows_without_variants_change_nothing(tmp_path: Path) -> None:
    data = frame([demo_row("S1"), demo_row("S2")])
    golden = data.select("sku", "item_group")
    plain = written(tmp_path, data)
    with_parents = written(tmp_path, data, golden=golden, parent_rows=True)
    assert with_parents == plain


# --- JSON Lines and XLSX --------------------------------------------------------------------------


def test_jsonl_parses_with_typed_values(tmp_path: Path) -> None:
    data = frame(
        [
            {
                "sku": "A1",
                "name": HOSTILE + "\u2028</script>",
                "price": Decimal("12.345"),
                "available_qty": 5,
                "availability_date": dt.date(2026, 12, 24),
                "images": ["u1", "u2"],
            },
            {
                "sku": "A2",
                "name": "=HYPERLINK(1)",
                "price": None,
                "available_qty": None,
                "availability_date": None,
                "images": None,
            },
        ]
    )
    content = written(tmp_path, data, "jsonl", date_format="%d.%m.%Y")
    assert "\u2028".encode() not in content
    lines = content.decode().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first == {
        "sku": "A1",
        "name": HOSTILE + "\u2028</script>",
        "price": "12.35",
        "available_qty": 5,
        "availability_date": "24.12.2026",
        "images": ["u1", "u2"],
    }
    assert second["name"] == "=HYPERLINK(1)"
    assert (second["price"], second["images"], second["available_qty"]) == (None, None, None)
    guarded_lines = written(tmp_path, data, "jsonl", formula_guard="on").splitlines()
    assert json.loads(guarded_lines[1])["name"] == "'=HYPERLINK(1)"


_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
"""How OOXML stores characters XML cannot (CR, controls) and a literal ``_xHHHH_``."""


def _xlsx_rows(tmp_path: Path, data: pl.DataFrame, **options: Any) -> list[list[Any]]:
    """The worksheet's cells read back: text as str, numbers as float, no formulas allowed."""
    content = written(tmp_path, data, "xlsx", **options)
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
        shared: list[str] = []
        if "xl/sharedStrings.xml" in book.namelist():
            strings = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            shared = ["".join(si.itertext()) for si in strings.findall("m:si", _NS)]
    assert not sheet.findall(".//m:f", _NS), "no cell may be a formula"
    rows = []
    for row in sheet.findall(".//m:sheetData/m:row", _NS):
        cells: list[Any] = []
        for cell in row.findall("m:c", _NS):
            column = re.sub(r"[0-9]", "", cell.get("r", ""))
            index = sum((ord(c) - 64) * 26**i for i, c in enumerate(reversed(column))) - 1
            cells.extend([None] * (index - len(cells)))
            kind = cell.get("t")
            if kind == "inlineStr":
                text = "".join(cell.find("m:is", _NS).itertext())  # type: ignore[union-attr]
                cells.append(_OOXML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text))
            elif kind == "s":
                text = shared[int(cell.findtext("m:v", namespaces=_NS) or 0)]
                cells.append(_OOXML_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text))
            elif kind == "b":
                cells.append(cell.findtext("m:v", namespaces=_NS) == "1")
            else:
                cells.append(float(cell.findtext("m:v", namespaces=_NS) or "nan"))
        rows.append(cells)
    return rows


def test_xlsx_has_typed_cells_and_no_formulas(tmp_path: Path) -> None:
    data = frame(
        [
            {
                "sku": "A1",
                "name": '=HYPERLINK("http://evil","x")',
                "price": Decimal("12.345"),
                "available_qty": 5,
                "availability_date": dt.date(2026, 12, 24),
                "images": ["u1", "u2"],
                "url": "https://shop.example.com/p/A1?a=1&b=2",
            },
            {
                "sku": "A2",
                "name": HOSTILE + "_x0041_",
                "price": None,
                "available_qty": None,
                "availability_date": None,
                "images": None,
                "url": None,
            },
        ]
    )
    header, first, second = _xlsx_rows(tmp_path, data)
    assert header == ["sku", "name", "price", "available_qty", "availability_date", "images", "url"]
    excel_day = (dt.date(2026, 12, 24) - dt.date(1899, 12, 30)).days
    assert first == [
        "A1",
        '=HYPERLINK("http://evil","x")',
        12.35,
        5.0,
        float(excel_day),
        "u1|u2",
        "https://shop.example.com/p/A1?a=1&b=2",
    ]
    assert second[:2] == ["A2", HOSTILE + "_x0041_"]
    assert _xlsx_rows(tmp_path, data, formula_guard="on")[1][1] == '\'=HYPERLINK("http://evil","x")'
    nulls = _xlsx_rows(tmp_path, data, null_value="-", sheet_name="Artikel")
    assert nulls[2][2:] == ["-", "-", "-", "-", "-"]


# --- options --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"decimal_comma": True}, "decimal_comma needs a delimiter other than ','"),
        ({"delimiter": ";;"}, "delimiter"),
        ({"delimiter": '"'}, "delimiter"),
        ({"delimiter": "a"}, "delimiter"),
        ({"file_name": "../x.csv"}, "plain file name"),
        ({"date_format": "%Q"}, "date format"),
        ({"quoting": "never"}, "quoting"),
        ({"line_ending": "cr"}, "line_ending"),
        ({"sheet_name": "x"}, "Extra inputs are not permitted"),
        ({"type_column": "parent"}, "must be different"),
        ({"list_separator": ""}, "list_separator"),
    ],
)
def test_invalid_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        CsvOptions.model_validate(options)


def test_options_per_format() -> None:
    assert CsvOptions.model_validate({"delimiter": ";", "decimal_comma": True}).decimal_comma
    assert SPEC_TSV.options is not None
    assert SPEC_TSV.options().delimiter == "\t"  # type: ignore[attr-defined]
    assert SPEC_JSONL.options is not None
    assert SPEC_XLSX.options is not None
    with pytest.raises(ValidationError):
        SPEC_JSONL.options.model_validate({"delimiter": ";"})
    with pytest.raises(ValidationError):
        SPEC_XLSX.options.model_validate({"bom": True})
    with pytest.raises(ValidationError, match="sheet name"):
        SPEC_XLSX.options.model_validate({"sheet_name": "a/b"})
    assert SPEC_JSONL.options().formula_guard == "off"  # type: ignore[attr-defined]
    assert SPEC_XLSX.options().formula_guard == "off"  # type: ignore[attr-defined]
    assert CsvOptions().formula_guard == "on"


def test_writer_without_options_uses_the_channel_format(tmp_path: Path) -> None:
    settings = ChannelConfig(format="tsv", locale="de_DE", currency="EUR")
    ctx = WriteContext("shop", settings, None, tmp_path, "snap", CREATED, None, None)
    [feed] = write(frame([{"sku": "A", "name": "x"}]), ctx)
    assert feed.path == "shop/products.tsv"
    assert (tmp_path / "products.tsv").read_bytes() == b"sku\tname\nA\tx\n"


@pytest.mark.parametrize("name", ["a/b", "x" * 32, "'quoted", "Q[1]"])
def test_a_sheet_name_excel_refuses_is_an_invalid_option(name: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(f"sheet name {name!r}: Excel takes")):
        XlsxOptions.model_validate({"sheet_name": name})


def test_more_rows_than_a_worksheet_holds_fail_before_any_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_sheet, "MAX_ROWS", 3)
    data = frame([demo_row(f"S{i}") for i in range(3)])
    with pytest.raises(
        SinkInputError, match=r"xlsx: 3 rows do not fit an Excel sheet \(2 at most\)"
    ):
        written(tmp_path, data, "xlsx")
    assert not (tmp_path / "products.xlsx").exists()
    assert len(_xlsx_rows(tmp_path, data.head(2))) == 3  # two rows and the header fit
