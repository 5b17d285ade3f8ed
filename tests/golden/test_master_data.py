from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from contracts.config import AttributeRoles
from golden.master_data import category_paths, golden_master_data, master_data_schema
from sources.akeneo_files import PimExport, read_pim_export

FIXTURES = Path(__file__).parents[1] / "fixtures" / "pim"
LOCALES = ("de_DE", "en_US", "fr_FR")
MEDIA = "https://media.example.com/"


def golden(folder: str = "catalog_jsonl", roles: AttributeRoles | None = None) -> pl.DataFrame:
    export = read_pim_export(FIXTURES / folder, LOCALES, "ecommerce")
    return golden_rows(export, roles)


def golden_rows(export: PimExport, roles: AttributeRoles | None = None) -> pl.DataFrame:
    master = golden_master_data(export, roles or AttributeRoles(), LOCALES, "ecommerce", MEDIA)
    return master.collect()


def row(frame: pl.DataFrame, sku: str) -> dict[str, object]:
    return frame.filter(sku=sku).row(0, named=True)


def test_schema_is_the_golden_contract_from_sku_to_pim_source() -> None:
    frame = golden()
    assert frame.schema == master_data_schema(LOCALES)
    assert (frame.columns[0], frame.columns[-1]) == ("sku", "pim_source")
    assert frame["sku"].to_list() == ["shirt-blue-m", "shirt-blue-l", "mug", "poster"]


def test_jsonl_and_csv_exports_give_the_same_golden_rows() -> None:
    from_json, from_csv = golden("catalog_jsonl"), golden("catalog_csv")
    assert_frame_equal(from_json.drop("pim_source"), from_csv.drop("pim_source"))


def test_variant_values_come_from_the_nearest_level() -> None:
    variant = row(golden(), "shirt-blue-l")
    assert (variant["parent"], variant["item_group"]) == ("shirt_blue", "shirt")
    assert variant["size"] == "l"  # product
    assert variant["name_de_DE"] == "Blaues Hemd L"  # product beats root model
    assert variant["name_en_US"] == "Blue shirt"  # sub model beats root model
    assert variant["color"] == "blue"  # sub model
    assert variant["brand"] == "acme"  # root model
    assert variant["description_de_DE"] == "Ein Hemd"  # root model, ecommerce not print
    assert variant["weight"] == Decimal("0.3")  # product beats root model
    assert variant["categories"] == ["sale", "shirts", "clothing"]
    assert variant["image_url"] == "https://media.example.com/a/b/shirt_blue.jpg"


def test_simple_products_have_no_parent_or_item_group() -> None:
    mug = row(golden(), "mug")
    assert (mug["parent"], mug["item_group"], mug["enabled"]) == (None, None, False)
    assert mug["image_url"] == "https://media.example.com/c/d/mug.jpg"  # no double slash
    assert (mug["weight"], mug["weight_unit"]) == (Decimal("0.35"), "KILOGRAM")
    assert mug["description_fr_FR"] is None


def test_a_value_that_is_not_localizable_fills_every_locale() -> None:
    roles = AttributeRoles(name="care", description="care")
    mug = row(golden(roles=roles), "mug")
    assert [mug[f"name_{loc}"] for loc in LOCALES] == ["Dishwasher"] * 3
    assert [mug[f"description_{loc}"] for loc in LOCALES] == ["Dishwasher"] * 3


def test_weight_is_an_exact_decimal_and_bad_amounts_are_null() -> None:
    export = read_pim_export(FIXTURES / "catalog_jsonl", LOCALES, "ecommerce")
    weights = ["12345678901234567890.123456", "0.1", "abc"]
    products = export.products.head(3).with_columns(weight=pl.Series(weights))
    frame = golden_rows(dataclasses.replace(export, products=products))
    assert frame["weight"].to_list() == [
        Decimal("12345678901234567890.123456"),
        Decimal("0.1"),
        None,
    ]


@pytest.mark.parametrize(
    ("sku", "locale", "path"),
    [
        ("shirt-blue-m", "en_US", "Master > Clothing > Shirts"),
        ("shirt-blue-m", "de_DE", "Stamm > Kleidung > shirts"),  # missing label -> code
        ("shirt-blue-l", "en_US", "Master > Clothing > Shirts"),  # deepest wins over "sale"
        ("mug", "de_DE", "Stamm > Küche"),  # tie: first of the product's categories
        ("mug", "fr_FR", "master > kitchen"),  # no fr_FR labels at all
        ("poster", "en_US", "unknown_category"),  # not in the tree
    ],
)
def test_category_path_runs_from_root_to_deepest_category(sku: str, locale: str, path: str) -> None:
    assert row(golden(), sku)[f"category_path_{locale}"] == path


def test_category_paths_of_a_deep_tree() -> None:
    tree = pl.DataFrame(
        {
            "code": ["d", "c", "b", "a"],
            "parent": ["c", "b", "a", None],
            "label_en_US": ["D", None, "B", "A"],
        }
    )
    paths = category_paths(tree, ("en_US",)).sort("depth")
    assert paths["path_en_US"].to_list() == ["A", "A > B", "A > B > c", "A > B > c > D"]
    assert paths["depth"].to_list() == [1, 2, 3, 4]
