"""The demo export's catalog structure, read back with the pipeline's own PIM reader in both
formats: options with labels, two channels with their own trees, family variants whose axes
match the drawn models, families naming different image attributes, and the quirks a real
export mixes in (option codes and parents in another case, absolute media URLs).

``test_demo_data`` reads the files with independent parsers; this module checks that what the
demo writes is what ``sources.akeneo_files`` understands, and that JSONL and CSV agree on it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from demo import DemoSummary, generate_demo_data
from demo.layout import PIM_FILES
from sources.akeneo_files import ENTITY_FILES, SELECT_TYPES, PimExport, read_pim_export
from sources.drops import announced_rows

AS_OF = dt.date(2026, 11, 22)
LOCALES = ("de_DE", "en_US", "fr_FR")
FORMATS = ("jsonl", "csv")
STRUCTURE = ("attributes", "attribute_options", "families", "family_variants", "channels")
DEFINITIONS = Path(__file__).parents[1] / "fixtures" / "pim" / "akeneo_structure_definitions.json"
CODE = re.compile(r"^[A-Za-z0-9_]+$")
MEDIA_PATH = re.compile(r"^[0-9a-f](/[0-9a-f]){3}/[0-9a-f]{24}_[A-Za-z0-9_]+\.jpg$")
CDN = "https://cdn.example.com/"
CDN_URL = re.compile(r"https://cdn\.example\.com/media/[A-Za-z0-9_]+\.jpg")
WITHOUT_FR = {("brand", "kraftwerk"), ("brand", "nordlicht"), ("color", "navy"), ("size", "xxl")}
WITHOUT_LABELS = {("material", "nylon")}
PRODUCT_PROPERTIES = {"sku", "uuid", "enabled", "family", "parent", "categories", "updated"}
MODEL_PROPERTIES = {"code", "family", "family_variant", "parent", "categories"}


@pytest.fixture(scope="module")
def summaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoSummary]:
    return {
        f: generate_demo_data(
            tmp_path_factory.mktemp(f), products=2000, seed=5, as_of=AS_OF, pim_format=f
        )
        for f in FORMATS
    }


@pytest.fixture(scope="module")
def exports(summaries: dict[str, DemoSummary]) -> dict[str, PimExport]:
    return {f: read_pim_export(s.pim_dir, LOCALES, ("ecommerce",)) for f, s in summaries.items()}


def attribute_of(column: str) -> str:
    """``name-de_DE`` -> ``name``, ``weight-unit`` -> ``weight``, ``price-EUR`` -> ``price``."""
    return column.split("-")[0]


def filled(row: dict[str, Any], properties: set[str]) -> set[str]:
    """The attributes a product or model row has a value for (``properties`` are not values)."""
    skipped = {*properties, "pim_source"}
    return {attribute_of(k) for k, v in row.items() if k not in skipped and v is not None}


def trees_of(categories: pl.DataFrame) -> dict[str, str]:
    """Category code -> the code of its tree's root."""
    parents = dict(zip(categories["code"], categories["parent"], strict=True))
    roots = {}
    for code in parents:
        root = code
        while parents[root] is not None:
            root = parents[root]
        roots[code] = root
    return roots


def test_every_entity_is_written_and_announced(summaries: dict[str, DemoSummary]) -> None:
    assert set(PIM_FILES) == set(ENTITY_FILES)  # everything the reader knows, nothing else
    for pim_format, summary in summaries.items():
        names = {f"{n}.{pim_format}" for n in PIM_FILES}
        assert {p.name for p in summary.pim_dir.iterdir()} == {*names, "manifest.json"}
        export = read_pim_export(summary.pim_dir, LOCALES, ("ecommerce",))
        assert announced_rows(summary.pim_dir, "manifest.json") == export.rows_read


@pytest.mark.parametrize("pim_format", FORMATS)
def test_select_attributes_have_options_labelled_per_locale(
    exports: dict[str, PimExport], pim_format: str
) -> None:
    export = exports[pim_format]
    options = export.attribute_options
    selects = export.attributes.filter(pl.col("type").is_in(sorted(SELECT_TYPES)))["code"]
    assert set(options["attribute"]) == set(selects) == {"brand", "color", "size", "material"}
    assert all(CODE.fullmatch(code) for code in options["code"])
    assert options.select(pl.col("attribute"), pl.col("code").str.to_lowercase()).is_unique().all()
    for (attribute,), group in options.group_by("attribute"):
        assert group["sort_order"].sort().to_list() == list(range(1, group.height + 1)), attribute
    labels = {
        (row["attribute"], row["code"]): tuple(row[f"label_{loc}"] for loc in LOCALES)
        for row in options.iter_rows(named=True)
    }
    assert labels[("brand", "mueller_soehne")] == ("Müller & Söhne",) * 3
    assert labels[("color", "blue")] == ("Blau", "Blue", "Bleu")
    assert labels[("size", "m")] == ("M", "M", "M")
    assert labels[("size", "42")] == ("EU 42",) * 3
    assert labels[("material", "cotton")] == ("Baumwolle", "Cotton", "Coton")
    without_fr = {key for key, (_, _, fr) in labels.items() if fr is None}
    assert without_fr == WITHOUT_FR | WITHOUT_LABELS  # the fallback: another locale, the code
    assert {key for key, value in labels.items() if value == (None,) * 3} == WITHOUT_LABELS
    for key, value in labels.items():  # a label is not just the code
        assert key in WITHOUT_LABELS or any(v and v != key[1] for v in value), key


@pytest.mark.parametrize("pim_format", FORMATS)
def test_select_values_are_option_codes_some_in_another_case(
    exports: dict[str, PimExport], pim_format: str
) -> None:
    export = exports[pim_format]
    options = export.attribute_options
    for attribute in ("brand", "color", "size", "material"):
        codes = set(options.filter(attribute=attribute)["code"])
        frames = (export.products, export.product_models)
        values = pl.concat([f[attribute] for f in frames if attribute in f.columns])
        spelled = values.drop_nulls().str.split(",").explode().to_list()
        assert spelled, attribute
        assert {v.lower() for v in spelled} <= codes, attribute  # every value is an option...
        other_case = [v for v in spelled if v not in codes]
        assert 0 < len(other_case) < 0.2 * len(spelled), attribute  # ...some spelled otherwise


@pytest.mark.parametrize("pim_format", FORMATS)
def test_channels_have_their_own_trees_and_products_sit_in_both(
    exports: dict[str, PimExport], pim_format: str
) -> None:
    export = exports[pim_format]
    channels = {row["code"]: row for row in export.channels.iter_rows(named=True)}
    assert {c: row["category_tree"] for c, row in channels.items()} == {
        "ecommerce": "master",
        "print": "print_catalog",
    }
    assert channels["ecommerce"]["currencies"] == ["EUR", "USD"]
    assert channels["print"]["currencies"] == ["EUR"]
    assert all(row["locales"] == list(LOCALES) for row in channels.values())
    tree = trees_of(export.categories)
    assert sorted(set(tree.values())) == ["master", "print_catalog"]
    assert sum(t == "print_catalog" for t in tree.values()) >= 10
    first_tree = []
    for frame in (export.products, export.product_models):
        for categories in frame["categories"]:
            if categories.len():  # variant products inherit their models' categories
                assert {tree[c] for c in categories} == {"master", "print_catalog"}
                first_tree.append(tree[categories[0]])
    # Neither tree always comes first: a reader that ignores the channel's tree goes wrong.
    assert set(first_tree) == {"master", "print_catalog"}


@pytest.mark.parametrize("pim_format", FORMATS)
def test_family_variants_have_the_axes_of_the_drawn_models(
    exports: dict[str, PimExport], pim_format: str
) -> None:
    export = exports[pim_format]
    levels = {
        (row["code"], row["level"]): row for row in export.family_variants.iter_rows(named=True)
    }
    axes = {key: row["axes"] for key, row in levels.items()}
    assert axes == {
        ("tshirts_color_size", 1): ["color"],
        ("tshirts_color_size", 2): ["size"],
        ("shoes_color_size", 1): ["color"],
        ("shoes_color_size", 2): ["size"],
        ("jackets_size", 1): ["size"],
    }
    depth = {code: max(n for c, n in levels if c == code) for code, _ in levels}
    families = dict(zip(export.families["code"], export.families["attributes"], strict=True))
    for (code, _), row in levels.items():
        assert set(row["axes"]) <= set(row["attributes"]) <= set(families[row["family"]]), code
    models = {row["code"].lower(): row for row in export.product_models.iter_rows(named=True)}
    for model in models.values():
        variant = model["family_variant"]
        held = filled(model, MODEL_PROPERTIES)
        if model["parent"]:  # a sub-model: level 1 of a two-level variant
            assert depth[variant] == 2
            assert held <= set(levels[(variant, 1)]["attributes"]), model["code"]
        else:
            below = [row["attributes"] for (c, _), row in levels.items() if c == variant]
            shared = {a for attributes in below for a in attributes}
            assert not held & shared, model["code"]
    for product in export.products.filter(pl.col("parent").is_not_null()).iter_rows(named=True):
        parent = models[product["parent"].lower()]
        root = models[parent["parent"].lower()] if parent["parent"] else parent
        variant = root["family_variant"]
        assert depth[variant] == (2 if parent is not root else 1), product["sku"]
        last = set(levels[(variant, depth[variant])]["attributes"])
        assert filled(product, PRODUCT_PROPERTIES) <= last, product["sku"]


@pytest.mark.parametrize("pim_format", FORMATS)
def test_families_name_their_label_and_main_image_attributes(
    exports: dict[str, PimExport], pim_format: str
) -> None:
    export = exports[pim_format]
    images = set(export.attributes.filter(type="pim_catalog_image")["code"])
    assert images == {"image", "packshot"}
    families = {row["code"]: row for row in export.families.iter_rows(named=True)}
    main = {code: row["attribute_as_image"] for code, row in families.items()}
    assert {c for c, image in main.items() if image == "packshot"} == {"power_tools", "hand_tools"}
    assert {c for c, image in main.items() if image != "packshot"} == set(main) - {
        "power_tools",
        "hand_tools",
    }
    assert set(main.values()) == {"image", "packshot"}
    for row in families.values():
        assert row["attribute_as_label"] == "name"
        assert {row["attribute_as_label"], row["attribute_as_image"]} <= set(row["attributes"])
    simple = export.products.filter(pl.col("parent").is_null())
    for family in ("power_tools", "hand_tools", "garden"):  # several images: the main one first
        shown = simple.filter(pl.col("family") == family, pl.col("image").is_not_null())
        assert shown.height > 0, family
        assert shown["packshot"].null_count() == 0, family
    assert (
        simple.filter(pl.col("family").is_in(["tshirts", "screws", "home"]))["packshot"]
        .is_null()
        .all()
    )


@pytest.mark.parametrize("pim_format", FORMATS)
def test_some_parents_differ_from_the_model_code_in_case_only(
    exports: dict[str, PimExport], pim_format: str
) -> None:
    export = exports[pim_format]
    codes = set(export.product_models["code"])
    lowered = {c.lower() for c in codes}
    parents = export.products["parent"].drop_nulls().to_list()
    other_case = [p for p in parents if p not in codes]
    assert 0 < len(other_case) < 0.05 * len(parents)
    assert all(p.lower() in lowered for p in parents)


@pytest.mark.parametrize("pim_format", FORMATS)
def test_some_media_values_are_absolute_urls_the_rest_media_paths(
    exports: dict[str, PimExport], pim_format: str
) -> None:
    export = exports[pim_format]
    media = pl.concat(
        [
            export.products["image"],
            export.products["packshot"],
            export.product_models["image"],
        ]
    ).drop_nulls()
    absolute = media.filter(media.str.starts_with(CDN))
    assert 0 < absolute.len() < 0.1 * media.len()
    assert all(CDN_URL.fullmatch(url) for url in absolute)
    paths = media.filter(~media.str.starts_with(CDN))
    assert all(MEDIA_PATH.fullmatch(p) for p in paths), paths.head(3)
    for frame in (export.products, export.product_models):
        assert frame.filter(pl.col("image").str.starts_with(CDN)).height > 0


def test_jsonl_and_csv_give_equal_structure_frames(exports: dict[str, PimExport]) -> None:
    from_json, from_csv = exports["jsonl"], exports["csv"]
    for entity in (*STRUCTURE, "categories"):
        left, right = getattr(from_json, entity), getattr(from_csv, entity)
        if entity == "family_variants":  # the CSV reader yields level 1 rows, then level 2
            left, right = left.sort("code", "level"), right.sort("code", "level")
        assert_frame_equal(left, right)
    columns = ["sku", "parent", "categories", "brand", "color", "size", "material", "image"]
    columns.append("packshot")
    assert_frame_equal(from_json.products.select(columns), from_csv.products.select(columns))
    models = ["code", "family_variant", "parent", "categories", "brand", "color", "image"]
    assert_frame_equal(
        from_json.product_models.select(models), from_csv.product_models.select(models)
    )


def test_the_summary_counts_what_the_files_hold(
    summaries: dict[str, DemoSummary], exports: dict[str, PimExport]
) -> None:
    export = exports["jsonl"]
    for summary in summaries.values():
        structure = summary.structure
        assert sum(structure.options.values()) == export.attribute_options.height
        assert structure.options == dict(
            export.attribute_options.group_by("attribute", maintain_order=True).len().iter_rows()
        )
        assert structure.channels == dict(export.channels.select("code", "category_tree").rows())
        assert sum(structure.trees.values()) == export.categories.height
        assert set(structure.trees) == set(trees_of(export.categories).values())
        assert structure.family_variants["jackets_size"] == (("size",),)
        assert structure.family_variants["tshirts_color_size"] == (("color",), ("size",))
        assert structure.main_images == dict(
            export.families.select("code", "attribute_as_image").rows()
        )
        codes = set(export.product_models["code"])
        parents = export.products["parent"].drop_nulls()
        assert summary.quirks["mixed_case_parents"] == sum(p not in codes for p in parents)
        media = (*export.products["image"], *export.products["packshot"])
        media += tuple(export.product_models["image"])
        urls = sum(bool(m and m.startswith(CDN)) for m in media)
        assert summary.quirks["absolute_media_urls"] == urls
        assert summary.quirks["respelled_option_codes"] > 0
    assert summaries["jsonl"].structure == summaries["csv"].structure
    assert summaries["jsonl"].quirks == summaries["csv"].quirks


def test_jsonl_items_have_the_akeneo_rest_shape(summaries: dict[str, DemoSummary]) -> None:
    """Against the API's own definitions (a copy from the swagger): every required property,
    no property the API does not have, except the parent entity's code that a flat file needs
    (``family`` on a family variant; options already carry ``attribute``)."""
    definitions = json.loads(DEFINITIONS.read_text(encoding="utf-8"))["definitions"]
    kinds = {
        "attributes": "Attribute",
        "attribute_options": "AttributeOption",
        "families": "Family",
        "family_variants": "FamilyVariantRead",
        "channels": "Channel",
        "categories": "Category",
    }
    extra = {"family_variants": {"family"}}
    folder = summaries["jsonl"].pim_dir
    for entity, kind in kinds.items():
        schema = definitions[kind]
        lines = (folder / f"{entity}.jsonl").read_text(encoding="utf-8").splitlines()
        for item in map(json.loads, lines):
            assert set(schema.get("required", [])) <= set(item), (entity, item)
            assert set(item) <= set(schema["properties"]) | extra.get(entity, set()), item
            assert set(item.get("labels") or {}) <= set(LOCALES)
        if entity == "family_variants":
            sets = definitions[kind]["properties"]["variant_attribute_sets"]["items"]
            for item in map(json.loads, lines):
                for level in item["variant_attribute_sets"]:
                    assert set(sets["required"]) <= set(level) <= set(sets["properties"])
                    assert len(level["axes"]) <= 5
