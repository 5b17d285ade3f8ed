"""A channel's mapping compiled against its format and the PIM: every configuration error is
reported before any data is read, with its key path and reason."""

from __future__ import annotations

from typing import Any

import pytest
from factories import config_with, pim

from contracts.mapping import ConstantSource
from mapping.compile import compile_all, inferred_kind, merged_fields
from mapping.expressions import MappingError
from mapping.model import PimModel
from sinks.formats import FORMATS

GOOGLE = {
    "format": "google_merchant",
    "locale": "de_DE",
    "currency": "EUR",
    "product_url": "https://www.example.com/p/{sku}",
}


def compile_channel(channel: dict[str, Any], model: PimModel | None = None) -> Any:
    config = config_with({"marketplace": channel})
    return compile_all(config, FORMATS, model or pim(), frozenset())["marketplace"]


def error_of(channel: dict[str, Any], model: PimModel | None = None) -> str:
    with pytest.raises(MappingError) as raised:
        compile_channel(channel, model)
    return str(raised.value)


def test_the_preset_is_the_start_and_fields_override_or_remove_its_entries() -> None:
    channel = GOOGLE | {"fields": {"gender": {"role": "gender"}, "size": None}}
    compiled = compile_channel(channel)
    assert "gender" in compiled.fields
    assert "size" not in compiled.fields
    assert list(compiled.fields)[:3] == ["id", "title", "description"]
    config = config_with({"marketplace": channel})
    assert "size" not in merged_fields(
        "marketplace", config.channels["marketplace"], FORMATS["google_merchant"]
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "froogle"}, "channels.marketplace.format: unknown format 'froogle'"),
        ({"preset": "bing"}, "channels.marketplace.preset: format 'google_merchant' has no preset"),
        (
            {"fields": {"colour": {"role": "color"}}},
            "channels.marketplace.fields.colour: format 'google_merchant' has no field 'colour'",
        ),
        (
            {"fields": {"title": None}},
            "channels.marketplace.fields.title: required by 'google_merchant' but not mapped",
        ),
        (
            {"fields": {"brand": {"attribute": "brnad"}}},
            "channels.marketplace.fields.brand: the PIM has no attribute 'brnad'",
        ),
        (
            {"fields": {"brand": {"field": "brand"}}},
            "channels.marketplace.fields.brand: unknown golden-record field 'brand'",
        ),
        (
            {"fields": {"brand": {"role": "maker"}}},
            "channels.marketplace.fields.brand: unknown role 'maker'",
        ),
        (
            {"fields": {"price": {"attribute": "name"}}},
            "channels.marketplace.fields.price: 'name' is a pim_catalog_text attribute, "
            "the field 'price' needs a number",
        ),
        (
            {"fields": {"price": {"field": "available_qty"}}},
            "channels.marketplace.fields.price: the field 'price' needs money",
        ),
        (
            {"fields": {"price": {"constant": "free"}}},
            "channels.marketplace.fields.price: the field 'price' needs a number constant",
        ),
        (
            {"fields": {"availability_date": {"attribute": "name"}}},
            "the field 'availability_date' needs a date",
        ),
        (
            {"fields": {"color": {"role": "color", "transform": [{"truncate": None}]}}},
            None,  # a bare truncate takes the field's limit (100): valid
        ),
        (
            {"fields": {"mpn": {"role": "brand", "transform": ["truncate"]}}},
            None,
        ),
        (
            {"fields": {"gtin": {"field": "sku", "unit": "KILOGRAM"}}},
            "channels.marketplace.fields.gtin",
        ),
        (
            {"titel": "Shop"},
            "channels.marketplace.titel: format 'google_merchant' has no option 'titel'",
        ),
        ({"title": ["not", "text"]}, "channels.marketplace.title: Input should be a valid string"),
        (
            {"product_url": "https://www.example.com/p/"},
            "product_url: 'https://www.example.com/p/' has no '{sku}'",
        ),
        (
            {"filters": {"include": {"brands": ["acme"]}}, "fields": {}},
            None,
        ),
    ],
)
def test_configuration_errors_name_the_key_path(
    change: dict[str, Any], message: str | None
) -> None:
    channel = GOOGLE | change
    if message is None:
        compile_channel(channel)
        return
    with pytest.raises((MappingError, ValueError)) as raised:
        compile_channel(channel)
    assert message in str(raised.value)


def test_a_brand_filter_needs_a_brand_role() -> None:
    channel = GOOGLE | {"filters": {"include": {"brands": ["acme"]}}}
    config = config_with({"marketplace": channel}, attributes={"brand": None})
    with pytest.raises(MappingError, match=r"filters\.include\.brands: no brand role"):
        compile_all(config, FORMATS, pim(), frozenset())


def test_truncate_without_any_limit_is_an_error() -> None:
    channel = {
        "format": "csv",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://shop.example.com/p/{sku}",
        "fields": {"notes": {"role": "description", "transform": ["truncate"]}},
    }
    message = error_of(channel)
    assert "channels.marketplace.fields.notes.transform: truncate needs a length" in message


def test_the_key_target_sku_must_be_the_sku() -> None:
    channel = {
        "format": "csv",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://shop.example.com/p/{sku}",
        "fields": {"sku": {"field": "uuid"}},
    }
    assert "the target 'sku' is the product's key" in error_of(channel)


def test_without_the_pims_attributes_any_attribute_compiles() -> None:
    channel = GOOGLE | {"fields": {"material": {"attribute": "stoff"}}}
    assert "material" in compile_channel(channel, PimModel()).fields


def test_undeclared_columns_of_extensible_formats_get_their_kind_from_the_source() -> None:
    channel = {
        "format": "csv",
        "locale": "de_DE",
        "currency": "EUR",
        "product_url": "https://shop.example.com/p/{sku}",
        "fields": {
            "Preis": {"field": "price"},
            "Bilder": {"field": "images"},
            "Gewicht": {"attribute": "weight", "unit": "KILOGRAM"},
            "Marke": {"role": "brand"},
            "Fallback": {"first": [{"field": "lead_time_days"}, {"constant": 3}]},
        },
    }
    fields = compile_channel(channel).fields
    kinds = {name: fields[name].spec.kind for name in ("Preis", "Bilder", "Gewicht", "Marke")}
    assert kinds == {"Preis": "money", "Bilder": "list", "Gewicht": "decimal", "Marke": "text"}
    assert fields["Fallback"].spec.kind == "integer"
    assert inferred_kind(ConstantSource(constant=1), pim()) == "text"
