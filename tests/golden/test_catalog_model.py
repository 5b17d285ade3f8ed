"""Akeneo's catalog model read whole, from both export kinds, into the golden record: options,
channels and their category trees, families' label and image attributes, family variants'
axes, codes in any case, media paths and URLs.

Every test runs on a copy of the fixture catalog (tests/fixtures/pim/README.md) in both of
Akeneo's export kinds; ``put_pim_items`` writes an item into either kind, so a case one reader
gets wrong fails under its own id.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from factories import PIM_FOLDERS, drop_pim_items, pim_copy, pim_item, put_pim_items

from golden.categories import ANY_TREE, code_column, path_column
from golden.lineage import split_broken_lineage
from golden.master_data import MasterNeeds, golden_master_data
from golden.media import media_url
from mapping.model import PimModel
from sources.akeneo_files import read_pim_export, read_pim_structure

LOCALES = ("de_DE", "en_US", "fr_FR")
MEDIA = "https://media.example.com/"
TREES = ("master", "print_catalog")
NEEDS = MasterNeeds(LOCALES, TREES, frozenset({"name", "brand", "size"}), "image", MEDIA)
CDN_RED = "https://cdn.example.com/shirt_red.jpg"


@pytest.fixture(params=PIM_FOLDERS)
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A writable copy of the fixture catalog, once per export kind."""
    return pim_copy(request.param, tmp_path)


def golden(folder: Path, needs: MasterNeeds = NEEDS) -> pl.DataFrame:
    """The golden master data as a run makes it: structure first, products with the attributes
    the channels need, broken lineage split off."""
    structure = read_pim_structure(folder, LOCALES)
    export = read_pim_export(folder, LOCALES, "ecommerce", needs.attributes, structure)
    kept, _ = split_broken_lineage(export)
    return golden_master_data(kept, needs).collect()


def row(frame: pl.DataFrame, sku: str) -> dict[str, Any]:
    return frame.filter(sku=sku).row(0, named=True)


def value(data: object, locale: str | None = None, scope: str | None = None) -> list[object]:
    return [{"locale": locale, "scope": scope, "data": data}]


def product(sku: str, **fields: object) -> dict[str, object]:
    """A simple product in the REST shape; ``values`` are not localizable, not scopable."""
    values = fields.pop("values", {})
    assert isinstance(values, dict)
    item: dict[str, object] = {"identifier": sku, "uuid": None, "enabled": True}
    item |= {"family": "kitchen", "parent": None, "categories": []}
    return item | fields | {"values": {code: value(data) for code, data in values.items()}}


def red_variant(folder: Path) -> Path:
    """A variant of ``shirt_red`` (whose parent is ``SHIRT``) that spells every code its own
    way: parent ``SHIRT_RED``, family ``CLOTHING``, size ``M``."""
    item = product("shirt-red-m", family="CLOTHING", parent="SHIRT_RED", values={"size": "M"})
    return put_pim_items(folder, "products", item)


def add_packshot(folder: Path) -> Path:
    """A second image attribute, first in the attributes' sort order."""
    packshot = {"code": "packshot", "type": "pim_catalog_image", "group": "general"}
    packshot |= {"localizable": False, "scopable": False, "sort_order": 1, "labels": {}}
    return put_pim_items(folder, "attributes", packshot)


# --- (a) attribute options ---------------------------------------------------------------------


def test_option_codes_in_any_case_find_their_labels_in_the_pims_spelling(catalog: Path) -> None:
    """The golden record keeps option codes as the PIM wrote them (``Red``, ``M``); the
    options read with the structure find their labels case-insensitively, and the labels are
    the PIM's, not the codes respelled."""
    variant = row(golden(red_variant(catalog)), "shirt-red-m")
    assert (variant["attr.color"], variant["attr.size"]) == ("Red", "M")
    structure = read_pim_structure(catalog, LOCALES)
    model = PimModel.of(
        structure.attributes, structure.attribute_options, structure.channels, LOCALES
    )
    labels = {loc: model.option_labels("COLOR", loc) for loc in LOCALES}
    assert [labels[loc][variant["attr.color"].lower()] for loc in LOCALES] == [
        "Rot",
        "Red",
        "Rouge",
    ]
    assert model.option_labels("size", "en_US")[variant["attr.size"].lower()] == "Medium"
    assert "white" not in labels["fr_FR"]  # no label there: the channel falls back
    assert labels["de_DE"]["white"] == "Weiß"
    for locale in LOCALES:  # no label anywhere: the channel shows the code
        assert "kitchen_basics" not in model.option_labels("collection", locale)


# --- (b) channels and their category trees -----------------------------------------------------


@pytest.mark.parametrize(
    ("sku", "channel", "path_de", "path_en", "code"),
    [
        ("shirt-blue-m", "ecommerce", "Stamm > Kleidung > shirts", "Master > Clothing > Shirts",
         "shirts"),
        ("shirt-blue-m", "print", None, None, None),  # not in the print tree
        # in both trees: its own sub model in the print tree, the root model in the master tree
        ("shirt-red-m", "ecommerce", "Stamm > Kleidung", "Master > Clothing", "clothing"),
        ("shirt-red-m", "print", "Druckkatalog > Hemden (Druck)", "Print catalog > Printed shirts",
         "print_shirts"),
        ("mug", "ecommerce", "Stamm > Küche", "Master > Kitchen", "kitchen"),
        ("mug", "print", None, None, None),
        ("poster", "ecommerce", None, None, None),  # its category exists in no tree
        ("poster", "print", None, None, None),
    ],
)  # fmt: skip
def test_a_channels_category_path_comes_from_its_own_tree_only(
    catalog: Path, sku: str, channel: str, path_de: str, path_en: str, code: str
) -> None:
    channels = read_pim_structure(catalog, LOCALES).channels
    tree = dict(channels.select("code", "category_tree").iter_rows())[channel]
    trees = tuple(channels["category_tree"])
    found = row(golden(red_variant(catalog), replace(NEEDS, trees=trees)), sku)
    paths = (found[path_column(tree, "de_DE")], found[path_column(tree, "en_US")])
    assert paths == (path_de, path_en)
    assert found[code_column(tree)] == code


def test_a_tree_is_found_whatever_the_case_the_channel_spells_it(catalog: Path) -> None:
    channel = pim_item("channels", "print") | {"category_tree": "PRINT_CATALOG"}
    put_pim_items(red_variant(catalog), "channels", channel)
    trees = tuple(read_pim_structure(catalog, LOCALES).channels["category_tree"])
    assert trees == ("master", "PRINT_CATALOG")
    variant = row(golden(catalog, replace(NEEDS, trees=trees)), "shirt-red-m")
    assert variant[path_column("PRINT_CATALOG", "en_US")] == "Print catalog > Printed shirts"
    assert variant[code_column("PRINT_CATALOG")] == "print_shirts"


def test_category_codes_in_any_case_are_the_categories_in_their_spelling(catalog: Path) -> None:
    mug = pim_item("products", "mug") | {"categories": ["KITCHEN", "Sale", "sale"]}
    variant = pim_item("products", "shirt-blue-l") | {"categories": ["CLOTHING", "Print_Shirts"]}
    frame = golden(put_pim_items(catalog, "products", mug, variant))
    found = row(frame, "mug")
    assert found["categories"] == ["kitchen", "sale"]  # one category, however often named
    assert found["category_lineage"] == ["master", "kitchen", "sale"]
    assert found[path_column("master", "de_DE")] == "Stamm > Küche"
    shirt = row(frame, "shirt-blue-l")
    # own CLOTHING and inherited clothing are one
    assert shirt["categories"] == ["clothing", "print_shirts", "shirts"]
    assert shirt[path_column("print_catalog", "en_US")] == "Print catalog > Printed shirts"
    assert shirt[path_column("master", "en_US")] == "Master > Clothing > Shirts"


def test_a_category_whose_parent_is_missing_is_in_no_channels_tree(catalog: Path) -> None:
    lost = {"code": "lost", "parent": "gone", "labels": {"en_US": "Lost"}}
    put_pim_items(catalog, "categories", lost)
    put_pim_items(
        catalog,
        "products",
        product("lamp", categories=["lost"]),
        product("kettle", categories=["lost", "kitchen"]),
    )
    needs = replace(NEEDS, trees=(*TREES, ANY_TREE))
    frame = golden(catalog, needs)
    lamp, kettle = row(frame, "lamp"), row(frame, "kettle")
    assert [lamp[path_column(t, "en_US")] for t in TREES] == [None, None]
    assert kettle[path_column("master", "en_US")] == "Master > Kitchen"
    # Taken as the top of what is known: a channel without a tree still shows it.
    assert lamp[path_column(ANY_TREE, "en_US")] == "Lost"
    assert lamp["category_lineage"] == ["lost"]


def test_categories_whose_parents_loop_are_in_no_tree(catalog: Path) -> None:
    loop = [
        {"code": "loop_a", "parent": "LOOP_B", "labels": {"en_US": "A"}},
        {"code": "loop_b", "parent": "loop_a", "labels": {"en_US": "B"}},
    ]
    put_pim_items(catalog, "categories", *loop)
    put_pim_items(catalog, "products", product("odd", categories=["loop_a", "sale"]))
    needs = replace(NEEDS, trees=(*TREES, ANY_TREE))
    odd = row(golden(catalog, needs), "odd")
    assert odd[path_column("master", "en_US")] == "Master > Sale"
    assert odd[path_column(ANY_TREE, "en_US")] == "Master > Sale"  # not "B > A > B > A ..."


def test_an_unknown_category_does_not_hide_a_known_one_of_equal_depth(catalog: Path) -> None:
    put_pim_items(catalog, "products", product("box", categories=["nowhere", "master"]))
    needs = replace(NEEDS, trees=(ANY_TREE, "master"))
    box = row(golden(catalog, needs), "box")
    assert box[code_column(ANY_TREE)] == box[code_column("master")] == "master"
    assert box[path_column(ANY_TREE, "de_DE")] == "Stamm"
    assert box["categories"] == ["nowhere", "master"]


def test_a_tree_no_category_is_in_gives_empty_columns(catalog: Path) -> None:
    frame = golden(catalog, replace(NEEDS, trees=("no_such_tree",)))
    assert frame[path_column("no_such_tree", "en_US")].null_count() == frame.height
    assert frame[code_column("no_such_tree")].null_count() == frame.height


# --- (c) families: label and image attributes --------------------------------------------------


def test_the_familys_image_attribute_comes_first_whatever_the_sort_order(catalog: Path) -> None:
    add_packshot(catalog)
    kitchen = pim_item("families", "kitchen") | {"attribute_as_image": "PACKSHOT"}
    put_pim_items(catalog, "families", kitchen)
    mug = pim_item("products", "mug")
    mug["values"]["packshot"] = value("p/mug_pack.jpg")
    shirt = pim_item("products", "shirt-blue-m")
    shirt["values"]["packshot"] = value("p/blue_m.jpg")
    frame = golden(put_pim_items(catalog, "products", mug, shirt))
    found = row(frame, "mug")
    assert (found["label_attribute"], found["main_image_attribute"]) == ("name", "PACKSHOT")
    assert found["images"] == [f"{MEDIA}p/mug_pack.jpg", f"{MEDIA}c/d/mug.jpg"]
    assert found["image_url"] == f"{MEDIA}p/mug_pack.jpg"
    variant = row(frame, "shirt-blue-m")  # clothing's image attribute is image, inherited
    assert variant["images"] == [f"{MEDIA}a/b/shirt_blue.jpg", f"{MEDIA}p/blue_m.jpg"]
    assert variant["image_url"] == f"{MEDIA}a/b/shirt_blue.jpg"


@pytest.mark.parametrize(
    ("image_role", "first"),
    [
        ("packshot", "p/mug_pack.jpg"),
        ("IMAGE", "c/d/mug.jpg"),  # the role is a code: any case
        (None, "p/mug_pack.jpg"),  # no role: the attributes' sort order
    ],
)
def test_a_family_without_image_attribute_falls_back_to_the_image_role(
    catalog: Path, image_role: str | None, first: str
) -> None:
    add_packshot(catalog)
    put_pim_items(
        catalog, "families", pim_item("families", "kitchen") | {"attribute_as_image": None}
    )
    mug = pim_item("products", "mug")
    mug["values"]["packshot"] = value("p/mug_pack.jpg")
    frame = golden(put_pim_items(catalog, "products", mug), replace(NEEDS, image_role=image_role))
    found = row(frame, "mug")
    assert found["main_image_attribute"] is None
    assert found["image_url"] == f"{MEDIA}{first}"
    assert sorted(found["images"]) == [f"{MEDIA}c/d/mug.jpg", f"{MEDIA}p/mug_pack.jpg"]


def test_a_family_missing_from_the_families_export(catalog: Path) -> None:
    lamp = product("lamp", family="lighting", values={"image": "l/lamp.jpg", "name": "Lamp"})
    frame = golden(put_pim_items(catalog, "products", lamp))
    found = row(frame, "lamp")
    assert (found["family"], found["label_attribute"], found["main_image_attribute"]) == (
        "lighting",
        None,
        None,
    )
    assert found["images"] == [f"{MEDIA}l/lamp.jpg"]  # the image role


def test_a_family_is_spelled_as_the_families_export_spells_it(catalog: Path) -> None:
    drop_pim_items(catalog, "families", "kitchen")
    put_pim_items(catalog, "families", pim_item("families", "kitchen") | {"code": "Kitchen"})
    put_pim_items(catalog, "products", product("cup", family="KITCHEN"))
    frame = golden(catalog)
    assert row(frame, "cup")["family"] == row(frame, "mug")["family"] == "Kitchen"
    assert row(frame, "cup")["label_attribute"] == "name"
    assert frame.height == 5  # the case-blind join repeats no product


def test_a_blank_media_value_is_no_image(catalog: Path) -> None:
    put_pim_items(catalog, "products", product("blank", values={"image": " "}))
    found = row(golden(catalog), "blank")
    assert (found["images"], found["image_url"]) == ([], None)


def test_a_product_without_images_has_none(catalog: Path) -> None:
    poster = row(golden(catalog), "poster")
    assert (poster["images"], poster["image_url"]) == ([], None)


# --- (d) family variants -----------------------------------------------------------------------


def test_variant_axes_come_from_the_family_variant_and_the_variants_level(catalog: Path) -> None:
    one_level = [{"level": 1, "axes": ["size"], "attributes": ["sku", "size"]}]
    put_pim_items(
        catalog,
        "family_variants",
        {"code": "clothing_size", "family": "clothing", "variant_attribute_sets": one_level},
    )
    models = [
        {"code": "tee", "family": "clothing", "family_variant": "Clothing_Size", "parent": None}
        | {"categories": ["shirts"], "values": {"name": value("Tee", "en_US")}},
        {"code": "odd", "family": "clothing", "family_variant": "no_such_variant"}
        | {"parent": None, "categories": [], "values": {}},
    ]
    put_pim_items(catalog, "product_models", *models)
    put_pim_items(
        catalog,
        "products",
        product("tee-m", family="clothing", parent="TEE", values={"size": "m"}),
        product("odd-1", family="clothing", parent="odd"),
    )
    frame = golden(catalog)
    columns = ["family_variant", "level", "variant_axes", "parent", "item_group"]
    assert {sku: tuple(row(frame, sku)[c] for c in columns) for sku in frame["sku"]} == {
        "shirt-blue-m": ("clothing_color_size", 2, ["color", "size"], "shirt_blue", "shirt"),
        "shirt-blue-l": ("clothing_color_size", 2, ["color", "size"], "shirt_blue", "shirt"),
        "mug": (None, 0, [], None, None),
        "poster": (None, 0, [], None, None),
        # a one-level variant of a root model: its axis only; the code as the export spells it
        "tee-m": ("clothing_size", 1, ["size"], "tee", "tee"),
        # a family variant the export lacks: no axes, the model's code kept
        "odd-1": ("no_such_variant", 1, [], "odd", "odd"),
    }
    assert row(frame, "tee-m")["attr.name-en_US"] == "Tee"


# --- (e) codes in any case ---------------------------------------------------------------------


def test_a_variant_whose_parent_differs_in_case_inherits_and_groups(catalog: Path) -> None:
    variant = row(golden(red_variant(catalog)), "shirt-red-m")
    assert variant["parent"] == "shirt_red"  # as the model spells it, not SHIRT_RED
    assert variant["item_group"] == "shirt"  # the root model's code, not shirt_red's SHIRT
    assert (variant["family"], variant["family_variant"]) == ("clothing", "clothing_color_size")
    assert (variant["level"], variant["variant_axes"]) == (2, ["color", "size"])
    assert variant["attr.name-en_US"] == "Red shirt"  # from the sub model
    assert variant["attr.name-de_DE"] == "Hemd"  # from the root model, through SHIRT
    assert variant["attr.brand"] == "acme"
    assert variant["categories"] == ["print_shirts", "clothing"]
    assert variant["label_attribute"] == "name"


def test_a_lineage_broken_in_every_case_is_rejected_from_both_readers(catalog: Path) -> None:
    models = [
        {"code": "loop_a", "family_variant": "clothing_color_size", "parent": "LOOP_B"}
        | {"categories": [], "values": {}},
        {"code": "loop_b", "family_variant": "clothing_color_size", "parent": "loop_a"}
        | {"categories": [], "values": {}},
    ]
    put_pim_items(catalog, "product_models", *models)
    put_pim_items(
        red_variant(catalog),
        "products",
        product("loop-1", family="clothing", parent="Loop_A"),
        product("ghost-1", family="clothing", parent="no_such_model"),
    )
    export = read_pim_export(catalog, LOCALES, "ecommerce")
    kept, rejects = split_broken_lineage(export)
    assert rejects.select("sku", "value", "reason").rows() == [
        ("loop-1", "loop_a > loop_b > loop_a", "model_cycle"),
        ("ghost-1", "no_such_model", "parent_missing"),
    ]
    assert kept.products["sku"].to_list() == [
        "shirt-blue-m",
        "shirt-blue-l",
        "mug",
        "poster",
        "shirt-red-m",
    ]


# --- (f) media ---------------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["https://media.example.com", MEDIA, MEDIA + "/"])
def test_media_paths_are_joined_to_the_base_url_once(catalog: Path, base: str) -> None:
    put_pim_items(
        red_variant(catalog),
        "products",
        product("cdn", values={"image": "HTTP://CDN.example.com/x.jpg"}),
        product("again", values={"image": f"{MEDIA}c/d/mug.jpg"}),
    )
    frame = golden(catalog, replace(NEEDS, media_base_url=base))
    urls = dict(frame.select("sku", "image_url").iter_rows())
    assert urls == {
        "shirt-blue-m": f"{MEDIA}a/b/shirt_blue.jpg",
        "shirt-blue-l": f"{MEDIA}a/b/shirt_blue.jpg",
        "mug": f"{MEDIA}c/d/mug.jpg",  # "/c/d/mug.jpg": one slash
        "poster": None,
        "shirt-red-m": CDN_RED,  # absolute (inherited from shirt_red): kept
        "cdn": "HTTP://CDN.example.com/x.jpg",
        "again": f"{MEDIA}c/d/mug.jpg",  # already under the base: no doubled prefix
    }
    assert row(frame, "shirt-red-m")["images"] == [CDN_RED]


@pytest.mark.parametrize(
    ("media", "url"),
    [
        ("a/b/c.jpg", "https://m.example/a/b/c.jpg"),
        ("/a/b/c.jpg", "https://m.example/a/b/c.jpg"),
        ("https://cdn.example.com/c.jpg", "https://cdn.example.com/c.jpg"),
        ("s3+https://bucket/c.jpg", "s3+https://bucket/c.jpg"),
        ("https://m.example/a.jpg", "https://m.example/a.jpg"),
        ("c.jpg?v=https://x", "https://m.example/c.jpg?v=https://x"),  # a scheme only in front
        (None, None),
    ],
)
def test_media_url(media: str | None, url: str | None) -> None:
    frame = pl.DataFrame({"media": [media]}, schema={"media": pl.String})
    for base in ("https://m.example", "https://m.example/"):
        assert frame.select(media_url(pl.col("media"), base)).item() == url
