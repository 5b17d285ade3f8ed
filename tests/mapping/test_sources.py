"""Every source and modifier of the mapping language, compiled and evaluated on golden rows.

Pure polars: a source is compiled into an expression for one channel context and selected
over a hand-made golden frame; no format, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from factories import LOCALES, golden_products, pim, product
from pydantic import TypeAdapter

from contracts.config import AttributeRoles
from contracts.mapping import Source
from golden.categories import code_column, path_column
from mapping.expressions import (
    COMPLETENESS_COLUMN,
    URL_COLUMN,
    Context,
    MappingError,
    compile_source,
)
from mapping.model import PimModel

SOURCE: TypeAdapter[Any] = TypeAdapter(Source)


def context(**overrides: Any) -> Context:
    settings: dict[str, Any] = {
        "channel": "shop",
        "locale": "de_DE",
        "scope": "ecommerce",
        "tree": "*",
        "currency": "EUR",
        "fallback_locales": LOCALES,
        "roles": AttributeRoles(),
        "model": pim(),
        "columns": frozenset(),
        "product_url": None,
        "media_base_url": "https://media.example.com/",
    }
    settings.update(overrides)
    return Context(**settings)


def values(raw: Any, golden: pl.DataFrame, limit: int | None = None, **ctx: Any) -> list[Any]:
    """The source ``raw`` evaluated on every row of ``golden``."""
    built = compile_source(
        SOURCE.validate_python(raw),
        context(columns=frozenset(golden.columns), **ctx),
        "channels.shop.fields.x",
        limit,
    )
    return golden.select(built.expr.alias("x"))["x"].to_list()


def one(raw: Any, limit: int | None = None, ctx: dict[str, Any] | None = None, **row: Any) -> Any:
    return values(raw, golden_products(product("A1", **row)), limit, **(ctx or {}))[0]


# --- attributes --------------------------------------------------------------------------------


def test_a_select_gives_the_option_label_in_the_channel_locale() -> None:
    assert one({"attribute": "brand"}, brand="mueller") == "Müller & Söhne"
    assert one({"attribute": "brand"}, ctx={"locale": "en_US"}, brand="mueller") == (
        "Mueller & Sons"
    )
    assert one({"attribute": "brand", "locale": "en_US"}, brand="mueller") == "Mueller & Sons"


def test_option_codes_match_in_any_case_and_label_false_keeps_the_code() -> None:
    assert one({"attribute": "BRAND"}, brand="MUELLER") == "Müller & Söhne"
    assert one({"attribute": "brand", "label": False}, brand="mueller") == "mueller"


def test_a_missing_label_falls_back_to_another_locale_then_to_the_code() -> None:
    assert one({"attribute": "color"}, color="green") == "Green"  # no de_DE label
    assert one({"attribute": "color"}, color="purple") == "purple"  # no option at all


def test_a_multiselect_gives_labels_joined_by_the_separator() -> None:
    model = pim()
    multi = model.attributes["color"].__class__("color", "pim_catalog_multiselect")
    model.attributes["color"] = multi
    frame = golden_products(product("A1", color="blue,red"))
    assert values({"attribute": "color"}, frame, model=model) == ["Blau, Rot"]
    assert values({"attribute": "color", "separator": " / "}, frame, model=model) == ["Blau / Rot"]


def test_localizable_and_scopable_values_come_from_the_channels_locale_and_scope() -> None:
    frame = golden_products(
        product("A1", **{"attr.description-de_DE-print": "Katalogtext"}),
    )
    assert values({"attribute": "description"}, frame) == ["A shirt called A1 (de)"]
    assert values({"attribute": "description", "scope": "print"}, frame) == ["Katalogtext"]
    assert values({"attribute": "description"}, frame, scope="mobile") == [None]


def test_a_metric_converts_to_the_unit_asked_for_exactly() -> None:
    grams = {"weight": "250", "weight_unit": "GRAM"}
    assert one({"attribute": "weight", "unit": "KILOGRAM"}, **grams) == Decimal("0.25")
    assert one({"attribute": "weight", "unit": "POUND"}, weight="1", weight_unit="KILOGRAM") == (
        Decimal("2.204623")
    )
    assert one({"attribute": "weight"}, **grams) == Decimal("250")


def test_unknown_units_and_units_on_other_attributes_are_config_errors() -> None:
    with pytest.raises(MappingError, match=r"fields\.x\.unit: unknown unit 'STONE'"):
        one({"attribute": "weight", "unit": "STONE"})
    with pytest.raises(MappingError, match=r"fields\.x\.unit: 'name' is not a metric"):
        one({"attribute": "name", "unit": "KILOGRAM"})


def test_an_unknown_attribute_is_a_config_error_naming_the_key_path() -> None:
    with pytest.raises(MappingError, match=r"channels\.shop\.fields\.x: the PIM has no attribute"):
        one({"attribute": "colour"})


def test_an_export_without_attributes_accepts_any_attribute() -> None:
    assert one({"attribute": "brand"}, ctx={"model": PimModel()}, brand="acme") == "acme"


def test_price_collections_take_the_channel_currency_or_the_one_asked_for() -> None:
    model = pim()
    model.attributes["price"] = model.attributes["name"].__class__(
        "price", "pim_catalog_price_collection"
    )
    frame = golden_products(product("A1")).with_columns(
        pl.lit("12.50").alias("attr.price-EUR"), pl.lit("13").alias("attr.price-USD")
    )
    assert values({"attribute": "price"}, frame, model=model) == [Decimal("12.5")]
    assert values({"attribute": "price", "currency": "USD"}, frame, model=model) == [Decimal("13")]


def test_booleans_dates_numbers_and_media_are_typed() -> None:
    model = pim()
    kind = model.attributes["name"].__class__
    model.attributes["eco"] = kind("eco", "pim_catalog_boolean")
    model.attributes["released"] = kind("released", "pim_catalog_date")
    model.attributes["pieces"] = kind("pieces", "pim_catalog_number")
    frame = golden_products(product("A1"), product("B2")).with_columns(
        pl.Series("attr.eco", ["1", "0"]),
        pl.Series("attr.released", ["2026-03-01T00:00:00+00:00", None]),
        pl.Series("attr.pieces", ["12", "x"]),
        pl.Series("attr.image", ["a/b/c.jpg", "https://cdn.example.com/c.jpg"]),
    )
    assert values({"attribute": "eco"}, frame, model=model) == [True, False]
    assert values({"attribute": "released"}, frame, model=model) == [dt.date(2026, 3, 1), None]
    assert values({"attribute": "pieces"}, frame, model=model) == [Decimal("12"), None]
    assert values({"attribute": "image"}, frame, model=model) == [
        "https://media.example.com/a/b/c.jpg",
        "https://cdn.example.com/c.jpg",
    ]


def test_roles_name_the_configured_attribute_and_an_unset_role_is_empty() -> None:
    roles = AttributeRoles(brand="color", gender=None)
    assert one({"role": "brand"}, ctx={"roles": roles}) == "Blau"
    assert one({"role": "gender"}, ctx={"roles": roles}) is None
    with pytest.raises(MappingError, match="unknown role 'colour'"):
        one({"role": "colour"})


# --- golden fields -----------------------------------------------------------------------------


def test_golden_fields_as_the_channel_sees_them() -> None:
    row = product(
        "A1",
        list_price_EUR=Decimal("9.5"),
        list_price_valid_to_EUR=dt.date(2026, 12, 31),
        images=["https://m.example.com/1.jpg", "https://m.example.com/2.jpg"],
    )
    frame = golden_products(row).with_columns(
        pl.lit("https://shop.example.com/p/A1").alias(URL_COLUMN),
        pl.lit(0.5).alias(COMPLETENESS_COLUMN),
    )

    def field(name: str, **ctx: Any) -> Any:
        return values({"field": name}, frame, **ctx)[0]

    assert field("price") == Decimal("9.5")
    assert field("price_valid_until") == dt.date(2026, 12, 31)
    assert field("currency") == "EUR"
    assert field("label") == "Shirt A1 (de)"
    assert field("category_path") == "Clothing (de) > Tops (de)"
    assert field("category_code") == "tops"
    assert field("additional_images") == ["https://m.example.com/2.jpg"]
    assert field("url", product_url="https://shop.example.com/p/{sku}") == (
        "https://shop.example.com/p/A1"
    )
    assert field("completeness") == 0.5
    assert field("availability") == "in_stock"
    with pytest.raises(MappingError, match="unknown golden-record field 'prices'"):
        field("prices")
    with pytest.raises(MappingError, match="the field url needs the channel's product_url"):
        field("url")


def test_a_price_in_a_currency_the_record_lacks_is_empty() -> None:
    assert one({"field": "price", "currency": "CHF"}) is None


def test_category_paths_come_from_the_channels_tree_only() -> None:
    frame = golden_products(product("A1")).with_columns(
        pl.lit("Marken > Acme").alias(path_column("brands", "de_DE")),
        pl.lit("acme").alias(code_column("brands")),
    )
    assert values({"field": "category_path"}, frame, tree="brands") == ["Marken > Acme"]
    assert values({"field": "category_path"}, frame, tree="master") == [None]


def test_the_label_falls_back_to_the_familys_label_attribute() -> None:
    model = PimModel.of(
        pl.DataFrame({"code": ["name", "title"], "type": ["pim_catalog_text"] * 2}).with_columns(
            localizable=True, scopable=False
        ),
        pl.DataFrame(schema={"attribute": pl.String, "code": pl.String}),
        pl.DataFrame(schema={"code": pl.String, "category_tree": pl.String}),
        LOCALES,
        families=pl.DataFrame({"code": ["f"], "attribute_as_label": ["title"]}),
    )
    frame = golden_products(product("A1", name_de_DE=None, label_attribute="title")).with_columns(
        pl.lit("Titel").alias("attr.title-de_DE")
    )
    assert values({"field": "label"}, frame, model=model) == ["Titel"]


def axes_model() -> PimModel:
    """A catalog whose variants differ by colour (level 1) and size (level 2)."""
    return PimModel.of(
        pl.DataFrame(
            {
                "code": ["color", "size"],
                "type": ["pim_catalog_simpleselect"] * 2,
                "localizable": [False] * 2,
                "scopable": [False] * 2,
            }
        ),
        pl.DataFrame(
            {"attribute": ["color", "size"], "code": ["blue", "m"], "label_de_DE": ["Blau", "M"]}
        ),
        pl.DataFrame(schema={"code": pl.String, "category_tree": pl.String}),
        ("de_DE",),
        family_variants=pl.DataFrame(
            {"code": ["fv"], "family": ["shirts"], "level": [1], "axes": [["color", "size"]]}
        ),
    )


def test_variant_values_are_the_axes_labels_in_the_channels_locale() -> None:
    frame = golden_products(
        product("V1", variant_axes=["color", "size"]),
        product("V2", variant_axes=["size"]),
        product("S1"),
    )
    # golden rows are in sku order: S1, V1, V2
    assert values({"field": "variant_values"}, frame, model=axes_model()) == [None, "Blau, M", "M"]


@pytest.mark.parametrize(
    ("axes", "row", "expected"),
    [
        (["size", "color"], {}, "M, Blau"),  # the variant's own order, not the catalog's
        (["SIZE", "Color"], {}, "M, Blau"),  # axis codes in any case
        (["material", "size"], {}, "M"),  # an axis the PIM does not name is left out
        (["size", None], {}, "M"),
        (["color", "size"], {"attr.color": None}, "M"),  # an axis without a value too
        (["color", "size"], {"attr.color": None, "attr.size": None}, None),
        (["color", "size"], {"attr.color": "green"}, "green, M"),  # no label: the code
        (["color", "size"], {"attr.color": ""}, ", M"),  # an empty value stays a value
        (["color", "size"], {"attr.color": "漢字 😀", "attr.size": "e\u0301"}, "漢字 😀, e\u0301"),
        (["color", "color", "size"], {}, "Blau, Blau, M"),  # more axes than the catalog has
        (["size", "material", "color", "size"], {}, "M, Blau, M"),
        ([], {}, None),
        (None, {}, None),
    ],
)
def test_variant_values_follow_the_variants_axes(
    axes: list[str | None] | None, row: dict[str, Any], expected: str | None
) -> None:
    # beside an ordinary variant: rows of each kind in one column, as in a catalog
    frame = golden_products(
        product("V1", variant_axes=axes, **row), product("V2", variant_axes=["size"])
    )
    built = compile_source(
        SOURCE.validate_python({"field": "variant_values"}),
        context(columns=frozenset(frame.columns), model=axes_model()),
        "channels.shop.fields.x",
        None,
    )
    assert frame.select(built.expr).to_series().to_list() == [expected, "M"]
    assert frame.lazy().select(built.expr).collect().to_series().to_list() == [expected, "M"]


# --- constants, templates, fallbacks, maps, conditions ------------------------------------------


def test_a_constant() -> None:
    assert one({"constant": "new"}) == "new"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({}, "Acme Shirt A1 (de) Blau"),
        ({"brand": None}, "Shirt A1 (de) Blau"),
        ({"color": None}, "Acme Shirt A1 (de)"),
        ({"brand": None, "name_de_DE": None}, "Blau"),
        ({"brand": None, "name_de_DE": None, "color": None}, None),
    ],
)
def test_a_template_drops_missing_parts_without_stray_separators(
    row: dict[str, Any], expected: str | None
) -> None:
    assert one("{role.brand} {attribute.name} {color}", **row) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({}, "Acme: Shirt A1 (de) / Blau"),
        ({"brand": None}, "Shirt A1 (de) / Blau"),
        ({"name_de_DE": None}, "Acme / Blau"),
        ({"brand": "", "color": None}, "Shirt A1 (de)"),
        ({"brand": None, "name_de_DE": None, "color": None}, None),
    ],
)
def test_a_template_with_different_separators_keeps_each_present_value_s_own(
    row: dict[str, Any], expected: str | None
) -> None:
    """Each present value but the first takes the text before it (the one-separator case
    above is joined without per-row lists; both must drop parts the same way)."""
    assert one("{role.brand}: {attribute.name} / {color}", **row) == expected


def test_a_template_keeps_its_literal_head_and_tail() -> None:
    assert one({"template": "[{field.sku}] {brand}!"}) == "[A1] Acme!"
    assert one({"template": "no placeholders"}) == "no placeholders"


def test_bad_placeholders_are_config_errors() -> None:
    with pytest.raises(ValueError, match="placeholder"):
        SOURCE.validate_python({"template": "{a b}"})


def test_first_takes_the_first_source_with_a_value_empty_text_counting_as_none() -> None:
    chain = {"first": [{"attribute": "material"}, {"role": "brand"}, {"constant": "?"}]}
    assert one(chain, material=None) == "Acme"
    assert one(chain, **{"attr.material-de_DE": ""}) == "Acme"
    assert one(chain, **{"attr.material-de_DE": "Leinen"}) == "Leinen"
    assert one(chain, material=None, brand=None) == "?"


def test_shorthand_strings_are_sources_or_templates() -> None:
    assert one("field:sku") == "A1"
    assert one("role:brand") == "Acme"
    assert one("attribute:color") == "Blau"


def test_inline_value_maps_pass_unknown_values_unless_strict() -> None:
    mapping = {"Blau": "blue_ish"}
    assert one({"attribute": "color", "map": mapping}) == "blue_ish"
    assert one({"attribute": "color", "map": mapping}, color="red") == "Rot"
    assert one({"attribute": "color", "map": mapping, "strict": True}, color="red") is None


def test_a_lookup_file_maps_values(tmp_path: Path) -> None:
    lookup = tmp_path / "taxonomy.csv"
    lookup.write_text("category,google\ntops,212\nshoes,187\n", encoding="utf-8")
    source = {
        "field": "category_code",
        "map": {"file": str(lookup), "from": "category", "to": "google"},
    }
    assert one(source) == "212"


def test_lookup_files_that_cannot_serve_are_config_errors(tmp_path: Path) -> None:
    missing = {"field": "sku", "map": {"file": str(tmp_path / "no.csv"), "from": "a", "to": "b"}}
    with pytest.raises(MappingError, match=r"fields\.x\.map\.file: cannot read"):
        one(missing)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("x,y\n1,2\n", encoding="utf-8")
    columns = {"field": "sku", "map": {"file": str(wrong), "from": "a", "to": "b"}}
    with pytest.raises(MappingError, match="has no column 'a' or 'b'"):
        one(columns)


@pytest.mark.parametrize(
    ("when", "row", "shown"),
    [
        ({"field": "family", "in": ["SHIRTS"]}, {}, True),
        ({"field": "family", "not_in": ["shirts"]}, {}, False),
        ({"attribute": "color", "equals": "blue"}, {}, True),
        ({"attribute": "color", "equals": "blue"}, {"color": "red"}, False),
        ({"attribute": "color", "exists": True}, {"color": None}, False),
        ({"attribute": "color", "exists": False}, {"color": None}, True),
        ({"field": "available_qty", "at_least": 5}, {}, True),
        ({"field": "available_qty", "at_most": 4}, {}, False),
        ({"field": "categories", "in": ["TOPS"]}, {}, True),
        (
            {"all": [{"field": "family", "equals": "shirts"}, {"field": "sku", "equals": "B"}]},
            {},
            False,
        ),
        (
            {"any": [{"field": "family", "equals": "shirts"}, {"field": "sku", "equals": "B"}]},
            {},
            True,
        ),
        ({"not": {"field": "family", "equals": "shirts"}}, {}, False),
    ],
)
def test_when_conditions(when: dict[str, Any], row: dict[str, Any], shown: bool) -> None:
    value = one({"field": "sku", "when": when}, **row)
    assert value == ("A1" if shown else None)


def test_a_condition_needs_one_subject_and_one_operator() -> None:
    with pytest.raises(ValueError, match="exactly one of 'field' or 'attribute'"):
        SOURCE.validate_python({"field": "sku", "when": {"equals": 1}})
    with pytest.raises(ValueError, match="exactly one of equals"):
        SOURCE.validate_python({"field": "sku", "when": {"field": "sku", "equals": 1, "in": [1]}})


def test_a_field_takes_exactly_one_source_kind() -> None:
    with pytest.raises(ValueError, match="exactly one of attribute, role, field"):
        SOURCE.validate_python({"field": "sku", "constant": 1})
    with pytest.raises(ValueError, match="Input should be 'strip_html', 'trim' or 'truncate'"):
        SOURCE.validate_python({"field": "sku", "transform": ["shout"]})
    with pytest.raises(ValueError, match="not a regular expression"):
        SOURCE.validate_python({"field": "sku", "transform": [{"replace": {"pattern": "("}}]})
