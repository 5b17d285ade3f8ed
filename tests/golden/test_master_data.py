"""The golden master data of the fixture catalog, read from both Akeneo export kinds: the
contract's columns, values inherited from the nearest level, category paths per tree."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from contracts.golden import ATTR, MASTER_SCHEMA
from golden.categories import ANY_TREE, category_table, code_column, path_column
from golden.lineage import split_broken_lineage
from golden.master_data import MasterNeeds, golden_master_data
from sources.akeneo_files import PimExport, read_pim_export

FIXTURES = Path(__file__).parents[1] / "fixtures" / "pim"
FOLDERS = ["catalog_jsonl", "catalog_csv"]
LOCALES = ("de_DE", "en_US", "fr_FR")
MEDIA = "https://media.example.com/"
TREES = ("master", "print_catalog")
NEEDS = MasterNeeds(LOCALES, TREES, frozenset(), "image", MEDIA)
BOTH = pytest.mark.parametrize("folder", FOLDERS)


def golden(folder: str = "catalog_jsonl", needs: MasterNeeds = NEEDS) -> pl.DataFrame:
    export = read_pim_export(FIXTURES / folder, LOCALES, "ecommerce")
    return golden_rows(export, needs)


def golden_rows(export: PimExport, needs: MasterNeeds = NEEDS) -> pl.DataFrame:
    kept, rejects = split_broken_lineage(export)
    assert rejects.height == 0
    return golden_master_data(kept, needs).collect()


def row(frame: pl.DataFrame, sku: str) -> dict[str, object]:
    return frame.filter(sku=sku).row(0, named=True)


@BOTH
def test_columns_are_the_contract_then_values_then_categories_per_tree(folder: str) -> None:
    frame = golden(folder)
    fixed = len(MASTER_SCHEMA)
    assert pl.Schema(list(frame.schema.items())[:fixed]) == MASTER_SCHEMA
    rest = frame.columns[fixed:]
    values = [c for c in rest if c.startswith(ATTR)]
    categories = [
        name
        for tree in TREES
        for name in (code_column(tree), *(path_column(tree, loc) for loc in LOCALES))
    ]
    # Nothing else: a reader's own property (``updated``, which only the JSONL has) stays out.
    assert rest == values + categories
    assert all(frame.schema[c] == pl.String for c in rest)
    assert frame["sku"].to_list() == ["shirt-blue-m", "shirt-blue-l", "mug", "poster"]


def test_jsonl_and_csv_exports_give_the_same_golden_rows() -> None:
    from_json, from_csv = golden("catalog_jsonl"), golden("catalog_csv")
    assert_frame_equal(from_json.drop("pim_source"), from_csv.drop("pim_source"))


@BOTH
def test_variant_values_come_from_the_nearest_level(folder: str) -> None:
    variant = row(golden(folder), "shirt-blue-l")
    assert (variant["parent"], variant["item_group"], variant["level"]) == (
        "shirt_blue",
        "shirt",
        2,
    )
    assert variant["attr.size"] == "l"  # product
    assert variant["attr.name-de_DE"] == "Blaues Hemd L"  # product beats root model
    assert variant["attr.name-en_US"] == "Blue shirt"  # sub model beats root model
    assert variant["attr.color"] == "blue"  # sub model
    assert variant["attr.brand"] == "acme"  # root model
    assert variant["attr.description-de_DE-ecommerce"] == "Ein Hemd"  # root model, not print
    assert "attr.description-de_DE-print" not in variant
    assert (variant["attr.weight"], variant["attr.weight-unit"]) == ("0.3000", "KILOGRAM")
    assert variant["categories"] == ["sale", "shirts", "clothing"]
    assert variant["category_lineage"] == ["master", "sale", "clothing", "shirts"]
    assert variant["image_url"] == "https://media.example.com/a/b/shirt_blue.jpg"


@BOTH
def test_a_variant_without_own_values_takes_them_all_from_its_models(folder: str) -> None:
    variant = row(golden(folder), "shirt-blue-m")
    assert (variant["attr.weight"], variant["attr.weight-unit"]) == ("0.2500", "KILOGRAM")
    assert variant["attr.name-de_DE"] == "Hemd"
    assert variant["attr.care-ecommerce"] == "Wash cold"
    assert variant["categories"] == ["shirts", "clothing"]


@BOTH
def test_simple_products_have_no_parent_or_item_group(folder: str) -> None:
    mug = row(golden(folder), "mug")
    assert (mug["parent"], mug["item_group"], mug["enabled"], mug["level"]) == (
        None,
        None,
        False,
        0,
    )
    assert (mug["family_variant"], mug["variant_axes"]) == (None, [])
    assert mug["image_url"] == "https://media.example.com/c/d/mug.jpg"  # no double slash
    assert mug["images"] == ["https://media.example.com/c/d/mug.jpg"]
    assert (mug["attr.weight"], mug["attr.weight-unit"]) == ("0.3500", "KILOGRAM")
    assert "attr.description-fr_FR-ecommerce" not in mug  # no such value anywhere


@BOTH
def test_values_are_kept_as_the_pim_gives_them(folder: str) -> None:
    """The golden record keeps each PIM value once, as text, under its own locale and scope:
    typing (amounts as decimals, booleans) and the locale fallback of values that are not
    localizable are each channel's mapping's work, in the channel's locale."""
    mug = row(golden(folder), "mug")
    assert mug["attr.care-ecommerce"] == "Dishwasher"
    assert not any(c.startswith("attr.care-ecommerce-") or c == "attr.care" for c in mug)
    assert (mug["attr.organic"], mug["attr.collection"]) == ("1", "summer,kitchen_basics")
    assert (mug["attr.price-EUR"], mug["attr.price-USD"]) == ("9.99", "11.50")
    assert mug["attr.ean"] == "0012345678905"  # a leading zero is kept


@BOTH
def test_the_scopes_read_are_the_scopes_kept(folder: str) -> None:
    export = read_pim_export(FIXTURES / folder, LOCALES, ("ecommerce", "print"))
    variant = row(golden_rows(export), "shirt-blue-m")
    assert variant["attr.description-de_DE-ecommerce"] == "Ein Hemd"
    assert variant["attr.description-de_DE-print"] == "Hemd (Druck)"


@BOTH
def test_only_the_attributes_asked_for_are_read_but_images_always(folder: str) -> None:
    needs = MasterNeeds(LOCALES, TREES, frozenset({"brand"}), None, MEDIA)
    export = read_pim_export(FIXTURES / folder, LOCALES, "ecommerce", needs.attributes)
    variant = row(golden_rows(export, needs), "shirt-blue-m")
    values = {c for c in variant if c.startswith(ATTR)}
    # brand was asked for; the image, the axes (color, size) and the families' label attribute
    # (name) every read keeps: images and variant titles are made of them.
    names = {f"attr.name-{loc}" for loc in LOCALES}
    assert values == {"attr.brand", "attr.image", "attr.color", "attr.size"} | names
    assert variant["image_url"] == "https://media.example.com/a/b/shirt_blue.jpg"


@pytest.mark.parametrize(
    ("sku", "locale", "path"),
    [
        ("shirt-blue-m", "en_US", "Master > Clothing > Shirts"),
        ("shirt-blue-m", "de_DE", "Stamm > Kleidung > shirts"),  # missing label -> code
        ("shirt-blue-l", "en_US", "Master > Clothing > Shirts"),  # deepest wins over "sale"
        ("mug", "de_DE", "Stamm > Küche"),  # tie: first of the product's categories
        ("mug", "fr_FR", "master > kitchen"),  # no fr_FR labels at all
        ("poster", "en_US", None),  # its only category is in no tree
    ],
)
@BOTH
def test_category_path_runs_from_root_to_deepest_category(
    folder: str, sku: str, locale: str, path: str | None
) -> None:
    found = row(golden(folder), sku)
    assert found[path_column("master", locale)] == path


@pytest.mark.parametrize(
    ("sku", "code"),
    [("shirt-blue-l", "shirts"), ("mug", "kitchen"), ("poster", None)],
)
def test_category_code_is_the_deepest_category_in_the_tree(sku: str, code: str | None) -> None:
    assert row(golden(), sku)[code_column("master")] == code


def test_any_tree_is_the_deepest_category_of_every_tree() -> None:
    needs = MasterNeeds(LOCALES, (ANY_TREE,), frozenset(), "image", MEDIA)
    frame = golden(needs=needs)
    assert frame[path_column(ANY_TREE, "en_US")].to_list() == [
        "Master > Clothing > Shirts",
        "Master > Clothing > Shirts",
        "Master > Kitchen",
        None,  # unknown_category is in no tree
    ]


def test_category_paths_of_a_deep_tree() -> None:
    tree = pl.DataFrame(
        {
            "code": ["d", "c", "b", "a"],
            "parent": ["c", "b", "a", None],
            "label_en_US": ["D", None, "B", "A"],
        }
    )
    paths = category_table(tree, ("en_US",)).sort("depth")
    assert paths["path_en_US"].to_list() == ["A", "A > B", "A > B > c", "A > B > c > D"]
    assert paths["depth"].to_list() == [1, 2, 3, 4]
    assert paths["tree"].to_list() == ["a"] * 4
    assert paths["lineage"].to_list()[-1] == ["a", "b", "c", "d"]


def test_category_parents_are_matched_whatever_their_case() -> None:
    tree = pl.DataFrame(
        {"code": ["Root", "child"], "parent": [None, "ROOT"], "label_en_US": ["R", "C"]}
    )
    paths = category_table(tree, ("en_US",)).sort("depth")
    assert paths.select("code", "tree", "path_en_US", "lineage").rows() == [
        ("Root", "Root", "R", ["root"]),
        ("child", "Root", "R > C", ["root", "child"]),
    ]


def test_categories_whose_parents_loop_are_in_no_tree() -> None:
    tree = pl.DataFrame(
        {
            "code": ["a", "b", "self", "root", "leaf"],
            "parent": ["b", "a", "SELF", None, "root"],
            "label_en_US": ["A", "B", "S", "R", "L"],
        }
    )
    paths = category_table(tree, ("en_US",))
    found = {r["code"]: (r["tree"], r["path_en_US"]) for r in paths.to_dicts()}
    assert found == {
        "a": (None, "B > A"),  # the loop is followed once, not 32 times
        "b": (None, "A > B"),
        "self": (None, "S"),
        "root": ("root", "R"),
        "leaf": ("root", "R > L"),
    }
