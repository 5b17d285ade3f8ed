from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pyarrow.json as pa_json
import pytest
from factories import PIM_FOLDERS, pim_copy, pim_item, put_pim_items
from polars.testing import assert_frame_equal

from contracts.golden import REJECTS_SCHEMA
from sources.akeneo_files import (
    PimExport,
    PimFileError,
    ValueSelection,
    files,
    flatten_values,
    read_pim_export,
    read_pim_structure,
)
from sources.akeneo_files.items import MODEL_COLUMNS, PRODUCT_COLUMNS
from sources.akeneo_files.typed import TypedSchema, typed_schema
from sources.text_files import InputFileError

FIXTURES = Path(__file__).parents[1] / "fixtures"
CATALOG_JSONL = FIXTURES / "pim" / "catalog_jsonl"
CATALOG_CSV = FIXTURES / "pim" / "catalog_csv"
LOCALES = ("de_DE", "en_US")
STRUCTURE = (
    "attributes",
    "attribute_options",
    "families",
    "family_variants",
    "channels",
    "categories",
)


def write_items(folder: Path, items: list[object], entity: str = "products") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(item) + "\n" for item in items)
    (folder / f"{entity}.jsonl").write_text(lines, encoding="utf-8")
    return folder


def spec_items(name: str) -> list[object]:
    return json.loads((FIXTURES / "akeneo" / name).read_text(encoding="utf-8"))["_embedded"][
        "items"
    ]


def product(sku: str | None, **values: object) -> dict[str, object]:
    entries = {
        code: [{"locale": None, "scope": None, "data": data}] for code, data in values.items()
    }
    return {"identifier": sku, "enabled": True, "categories": [], "values": entries}


def test_reads_identifier_keyed_spec_example(tmp_path: Path) -> None:
    folder = write_items(tmp_path / "export-1", spec_items("GET_products_200_list_v5.0.json"))
    export = read_pim_export(folder, ("en_US", "fr_FR"), "ecommerce")
    top = export.products.row(0, named=True)
    assert export.export_id == "export-1"
    assert export.products["sku"].to_list() == ["top", "cap", "sweat"][: export.products.height]
    assert top["name-fr_FR"] == "Débardeur"
    assert top["description-en_US-ecommerce"] == "Summer top"
    assert "description-en_US-tablet" not in export.products.columns
    assert (top["price-EUR"], top["price-USD"]) == ("15.5", "15")
    assert (top["color"], top["collection"], top["categories"]) == (
        "black",
        "winter_2016",
        ["summer_collection"],
    )
    assert top["pim_source"] == "products.jsonl:1"
    assert export.rejects.schema == REJECTS_SCHEMA


def test_reads_uuid_keyed_spec_example_taking_sku_from_values(tmp_path: Path) -> None:
    folder = write_items(tmp_path / "export", spec_items("GET_products-uuid_200_list_v7.0.json"))
    products = read_pim_export(folder, ("en_US",), "ecommerce").products
    first = products.row(0, named=True)
    assert products["sku"].to_list()[:3] == ["top-xl", "cap", "sweat"]
    assert first["uuid"] == "25566245-55c3-42ce-86d9-8610ac459fa8"
    assert (first["parent"], first["size"]) == ("tops", "xl")
    assert not [c for c in products.columns if c.startswith("sku-")]


def test_jsonl_and_csv_exports_of_one_catalog_give_the_same_frames() -> None:
    from_json = read_pim_export(CATALOG_JSONL, LOCALES, "ecommerce")
    from_csv = read_pim_export(CATALOG_CSV, LOCALES, "ecommerce")
    # The CSV export has no `updated` and no model `family`; sources name their own file.
    products = sorted(set(from_json.products.columns) - {"updated", "pim_source"})
    models = sorted(set(from_json.product_models.columns) - {"family", "pim_source"})
    assert sorted(from_json.products.columns) == sorted(from_csv.products.columns)
    assert_frame_equal(from_json.products.select(products), from_csv.products.select(products))
    assert_frame_equal(
        from_json.product_models.select(models), from_csv.product_models.select(models)
    )
    for entity in STRUCTURE:
        assert_frame_equal(getattr(from_json, entity), getattr(from_csv, entity))


def test_csv_line_numbers_count_the_header_and_multi_line_cells() -> None:
    products = read_pim_export(CATALOG_CSV, LOCALES, "ecommerce").products
    assert products["pim_source"].to_list() == [
        "products.csv:2",
        "products.csv:3",
        "products.csv:4",
        "products.csv:6",
    ]


@pytest.mark.parametrize("folder", [CATALOG_JSONL, CATALOG_CSV], ids=["jsonl", "csv"])
def test_keeps_only_requested_locales_scope_and_attributes(folder: Path) -> None:
    export = read_pim_export(folder, ("en_US",), "print", attributes={"DESCRIPTION", "care"})
    values = set(export.products.columns) - set(PRODUCT_COLUMNS)
    # Asked for (in any case) plus what every read keeps: the image attributes, the families'
    # label and image attributes and the variant axes, which titles and images are made of.
    structural = {"name-en_US", "image", "color", "size"}
    assert values == {"description-en_US-print", "care-print"} | structural
    assert export.products.filter(sku="mug")["description-en_US-print"].item() == "A printed\nmug"
    assert set(export.product_models.columns) - set(MODEL_COLUMNS) == {
        "name-en_US",
        "color",
        "image",
    }


def test_flattens_metrics_prices_lists_and_booleans_as_the_csv_export_does() -> None:
    products = read_pim_export(CATALOG_JSONL, LOCALES, "ecommerce").products
    mug = products.filter(sku="mug").row(0, named=True)
    assert (mug["weight"], mug["weight-unit"]) == ("0.3500", "KILOGRAM")
    assert (mug["price-EUR"], mug["price-USD"]) == ("9.99", "11.50")
    assert (mug["collection"], mug["organic"], mug["enabled"]) == (
        "summer,kitchen_basics",
        "1",
        False,
    )
    assert products.filter(sku="poster")["organic"].item() == "0"
    assert products.filter(sku="poster")["description-en_US-ecommerce"].item() is None


def test_mixed_json_types_for_one_attribute_fall_back_to_a_line_by_line_read(
    tmp_path: Path,
) -> None:
    items = [product("a", weight=12), product("b", weight="12.50"), product("c", weight=True)]
    items[0]["values"]["tags"] = [{"locale": None, "scope": None, "data": ["x", "y"]}]  # type: ignore[index]
    items[1]["values"]["tags"] = [{"locale": None, "scope": None, "data": "z"}]  # type: ignore[index]
    products = read_pim_export(write_items(tmp_path / "e", items), LOCALES, "ecommerce").products
    assert products["weight"].to_list() == ["12", "12.50", "1"]
    assert products["tags"].to_list() == ["x,y", "z", None]
    assert products["pim_source"].to_list() == [f"products.jsonl:{n}" for n in (1, 2, 3)]


def test_blank_lines_keep_line_numbers_exact(tmp_path: Path) -> None:
    folder = tmp_path / "e"
    folder.mkdir()
    lines = [json.dumps(product("a")), "", json.dumps(product("b")), "   "]
    (folder / "products.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    products = read_pim_export(folder, LOCALES, "ecommerce").products
    assert products["pim_source"].to_list() == ["products.jsonl:1", "products.jsonl:3"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"identifier": "a"}\n{"identifier": "b",, }\n{"identifier": "c"}\n',
            "products.jsonl:2: not valid JSON",
        ),
        (
            '{"identifier": "a"}\n{"identifier": "b", "values": {"na',
            "products.jsonl:2: the last line does not end with a newline",
        ),
        ('{"identifier": "a"}\n["b"]\n', "products.jsonl:2: expected a JSON object"),
    ],
    ids=["malformed", "truncated", "not-an-object"],
)
def test_broken_json_names_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    folder = tmp_path / "e"
    folder.mkdir()
    (folder / "products.jsonl").write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError, match=expected) as raised:
        read_pim_export(folder, LOCALES, "ecommerce")
    if text.endswith('"na'):
        assert "cut off?" in str(raised.value)


def test_missing_identifier_and_duplicate_skus_are_rejected_not_dropped(tmp_path: Path) -> None:
    items = [product("a"), product(None), product("b"), product("a"), product("  ")]
    export = read_pim_export(write_items(tmp_path / "e", items), LOCALES, "ecommerce")
    assert export.products["sku"].to_list() == ["a", "b"]
    expected = pl.DataFrame(
        {
            "sku": [None, "a", None],
            "field": ["sku", "sku", "sku"],
            "value": [None, "a", None],
            "reason": ["missing_identifier", "duplicate_sku", "missing_identifier"],
            "source": ["products.jsonl:2", "products.jsonl:4", "products.jsonl:5"],
        },
        schema=REJECTS_SCHEMA,
    )
    assert_frame_equal(export.rejects, expected)


def test_missing_optional_entities_are_empty_and_missing_products_fail(tmp_path: Path) -> None:
    folder = write_items(tmp_path / "e", [product("a")])
    export = read_pim_export(folder, LOCALES, "ecommerce")
    assert export.product_models.height == 0
    assert all(getattr(export, entity).height == 0 for entity in STRUCTURE)
    assert export.categories.columns == ["code", "parent", "label_de_DE", "label_en_US"]
    assert export.attribute_options.columns == [
        "attribute",
        "code",
        "sort_order",
        "label_de_DE",
        "label_en_US",
    ]
    assert export.channels.columns == ["code", "category_tree", "locales", "currencies"]
    assert export.family_variants.columns == ["code", "family", "level", "axes", "attributes"]
    with pytest.raises(PimFileError, match=r"no products\.jsonl or products\.csv"):
        read_pim_export(tmp_path, LOCALES, "ecommerce")


def test_both_formats_for_one_entity_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "e"
    shutil.copytree(CATALOG_JSONL, folder)
    shutil.copy(CATALOG_CSV / "products.csv", folder / "products.csv")
    with pytest.raises(PimFileError, match=r"both products\.jsonl and products\.csv"):
        read_pim_export(folder, LOCALES, "ecommerce")


# --- the catalog model, read whole, from both export kinds -----------------------------------

ALL_LOCALES = ("de_DE", "en_US", "fr_FR")
BOTH = pytest.mark.parametrize("folder", [CATALOG_JSONL, CATALOG_CSV], ids=["jsonl", "csv"])


@pytest.fixture(params=PIM_FOLDERS)
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A writable copy of the fixture catalog, once per export kind."""
    return pim_copy(request.param, tmp_path)


@BOTH
def test_attribute_options_carry_their_labels_per_locale(folder: Path) -> None:
    options = read_pim_structure(folder, ALL_LOCALES).attribute_options
    assert options.columns == ["attribute", "code", "sort_order"] + [
        f"label_{loc}" for loc in ALL_LOCALES
    ]
    assert options.rows() == [
        ("brand", "acme", 1, "ACME GmbH", "ACME Inc.", "ACME SA"),
        ("color", "blue", 1, "Blau", "Blue", "Bleu"),
        ("color", "white", 2, "Weiß", "White", None),  # no fr_FR label: null, not ""
        ("color", "red", 3, "Rot", "Red", "Rouge"),
        ("size", "m", 1, "M", "Medium", "M"),
        ("size", "l", 2, "L", "Large", "L"),
        ("collection", "summer", 1, "Sommer", "Summer", "Été"),
        ("collection", "kitchen_basics", 2, None, None, None),  # no label in any locale
    ]


@BOTH
def test_labels_are_found_whatever_the_case_of_the_configured_locale(folder: Path) -> None:
    structure = read_pim_structure(folder, ("EN_us", "de_de"))
    options = structure.attribute_options.filter(code="white")
    assert options.select("label_EN_us", "label_de_de").rows() == [("White", "Weiß")]
    paths = structure.categories.filter(code="print_shirts")
    assert paths.select("label_EN_us", "label_de_de").rows() == [
        ("Printed shirts", "Hemden (Druck)")
    ]


@BOTH
def test_each_channel_names_its_category_tree(folder: Path) -> None:
    channels = read_pim_structure(folder, ALL_LOCALES).channels
    assert channels.rows() == [
        ("ecommerce", "master", ["de_DE", "en_US", "fr_FR"], ["EUR", "USD"]),
        ("print", "print_catalog", ["de_DE", "en_US"], ["EUR"]),
    ]
    categories = read_pim_structure(folder, ALL_LOCALES).categories
    roots = categories.filter(pl.col("parent").is_null())["code"].to_list()
    assert roots == channels["category_tree"].to_list()


def test_a_csv_channel_may_name_its_tree_category_tree(tmp_path: Path) -> None:
    folder = write_items(tmp_path / "e", [product("a")])
    (folder / "channels.csv").write_text(
        "code;category_tree;locales;currencies\nweb;Master;de_DE;EUR,CHF\n", encoding="utf-8"
    )
    channels = read_pim_structure(folder, LOCALES).channels
    assert channels.rows() == [("web", "Master", ["de_DE"], ["EUR", "CHF"])]


@BOTH
def test_families_name_their_label_and_image_attributes(folder: Path) -> None:
    families = read_pim_structure(folder, LOCALES).families
    assert families.select("code", "attribute_as_label", "attribute_as_image").rows() == [
        ("clothing", "name", "image"),
        ("kitchen", "name", "image"),
    ]
    assert families.filter(code="kitchen")["attributes"].to_list() == [["sku", "name", "image"]]


@BOTH
def test_family_variants_have_one_row_per_enrichment_level(folder: Path) -> None:
    variants = read_pim_structure(folder, LOCALES).family_variants
    assert variants.rows() == [
        ("clothing_color_size", "clothing", 1, ["color"], ["color", "image"]),
        ("clothing_color_size", "clothing", 2, ["size"], ["sku", "size", "ean", "weight"]),
    ]


def test_a_one_level_family_variant_has_one_row(catalog: Path) -> None:
    sets = [{"level": 1, "axes": ["size"], "attributes": ["sku", "size"]}]
    item = {"code": "clothing_size", "family": "clothing", "variant_attribute_sets": sets}
    variants = read_pim_structure(put_pim_items(catalog, "family_variants", item), LOCALES)
    found = variants.family_variants.filter(code="clothing_size")
    assert found.select("family", "level", "axes").rows() == [("clothing", 1, ["size"])]


@BOTH
def test_the_structure_is_read_once_and_reused_by_the_export(folder: Path) -> None:
    structure = read_pim_structure(folder, LOCALES)
    export = read_pim_export(folder, LOCALES, "ecommerce", structure=structure)
    assert all(getattr(export, e) is getattr(structure, e) for e in STRUCTURE)
    kind = "jsonl" if folder == CATALOG_JSONL else "csv"
    counts = {"attributes": 13, "attribute_options": 8, "families": 2, "family_variants": 1}
    counts |= {"channels": 2, "categories": 7}
    assert structure.rows_read == {f"{e}.{kind}": n for e, n in counts.items()}
    assert export.rows_read == structure.rows_read | {
        f"products.{kind}": 4,
        f"product_models.{kind}": 3,
    }


def test_attribute_locale_and_channel_codes_in_any_case_are_one_spelling(catalog: Path) -> None:
    """Akeneo codes are case-insensitive: values keyed ``SIZE``, ``Name`` with locale ``EN_us``
    or scope ``ECOMMERCE`` are the columns of ``size``, ``name-en_US`` and
    ``description-de_DE-ecommerce``, spelled as the attributes export and the configuration
    spell them, in the same column as the products that spell them right."""

    def value(data: str, locale: str | None = None, scope: str | None = None) -> list[object]:
        return [{"locale": locale, "scope": scope, "data": data}]

    item = pim_item("products", "shirt-blue-m") | {"identifier": "shirt-blue-s", "uuid": None}
    item["values"] = {
        "SIZE": value("s"),
        "Name": value("Small", "EN_us"),
        "Description": value("Klein", "de_de", "ECOMMERCE"),
    }
    products = read_pim_export(put_pim_items(catalog, "products", item), LOCALES, "ecommerce")
    frame = products.products
    small = frame.filter(sku="shirt-blue-s").row(0, named=True)
    assert (small["size"], small["name-en_US"], small["description-de_DE-ecommerce"]) == (
        "s",
        "Small",
        "Klein",
    )
    assert frame.filter(sku="shirt-blue-m")["size"].item() == "m"
    assert {"SIZE", "Name-en_US", "name-EN_us"}.isdisjoint(frame.columns)


def test_a_channel_code_shaped_like_a_locale_is_read_as_the_channel(catalog: Path) -> None:
    """``web_shop`` matches a locale's shape (``xx_XXXX``); the CSV header
    ``care-web_shop`` is still the web_shop value of ``care``, as in the JSONL."""
    item = pim_item("products", "mug")
    item["values"]["care"] = [{"locale": None, "scope": "web_shop", "data": "Hand wash"}]
    item["values"]["description"] += [
        {"locale": "de_DE", "scope": "web_shop", "data": "Eine Tasse im Netz"}
    ]
    folder = put_pim_items(catalog, "products", item)
    mug = read_pim_export(folder, LOCALES, ("web_shop",)).products.filter(sku="mug")
    assert mug.select("care-web_shop", "description-de_DE-web_shop").rows() == [
        ("Hand wash", "Eine Tasse im Netz")
    ]


@pytest.mark.parametrize(
    ("entity", "item", "named"),
    [
        ("families", {"code": "Kitchen", "attributes": ["sku"]}, "'kitchen'"),
        ("categories", {"code": "SALE", "parent": "master", "labels": {}}, "'sale'"),
        (
            "product_models",
            {"code": "Shirt_Blue", "parent": "shirt", "categories": []},
            "'shirt_blue'",
        ),
        ("attributes", {"code": "EAN", "type": "pim_catalog_text"}, "'ean'"),
        ("channels", {"code": "Print", "category_tree": "master"}, "'print'"),
        ("attribute_options", {"attribute": "COLOR", "code": "Blue", "labels": {}}, "'color.blue'"),
        (
            "family_variants",
            {"code": "Clothing_Color_Size", "family": "kitchen", "variant_attribute_sets": []},
            "'clothing_color_size'",
        ),
    ],
)
def test_two_items_with_one_code_in_any_case_are_refused(
    catalog: Path, entity: str, item: dict[str, object], named: str
) -> None:
    """Every join on such a code would repeat the products of that family, category or model,
    and which of the two the PIM meant cannot be known (the REST pull refuses them too)."""
    put_pim_items(catalog, entity, item)
    second = ".".join(str(item[k]) for k in ("attribute", "code") if k in item)
    where = rf"\({entity}\.(jsonl|csv):\d+\)"
    with pytest.raises(
        PimFileError, match=rf"{entity}\.\w+: {named} {where} and '{second}' {where}"
    ):
        read_pim_export(catalog, LOCALES, "ecommerce")


def test_one_option_code_under_two_attributes_is_two_options(catalog: Path) -> None:
    put_pim_items(
        catalog, "attribute_options", {"attribute": "brand", "code": "Blue", "labels": {}}
    )
    options = read_pim_structure(catalog, LOCALES).attribute_options
    assert options.filter(pl.col("code").str.to_lowercase() == "blue")["attribute"].to_list() == [
        "color",
        "brand",
    ]


# --- flatten_values, the REST values as CSV-named columns ------------------------------------


def flattened(items: list[dict[str, object]], locales: tuple[str, ...] = LOCALES) -> pl.DataFrame:
    """``flatten_values`` of the items' ``values`` as pyarrow reads them from JSON Lines."""
    selection = ValueSelection.of(locales, ("ecommerce",), None, "sku", {"name": "Name"})
    lines = io.BytesIO("".join(json.dumps({"values": v}) + "\n" for v in items).encode())
    frame = pl.from_arrow(pa_json.read_json(lines))
    assert isinstance(frame, pl.DataFrame)
    return flatten_values(frame["values"], selection)


def entry(data: object, locale: str | None = None, scope: str | None = None) -> dict[str, object]:
    return {"locale": locale, "scope": scope, "data": data}


def test_the_last_entry_of_a_column_wins_in_any_spelling_of_its_codes() -> None:
    values = flattened(
        [
            {"name": [entry("A", "en_US"), entry("B", "EN_us"), entry("C", "de_DE")]},
            {"name": [entry("D", "EN_us"), entry("E", "en_US"), entry("F", "xx_XX")]},
        ]
    )
    assert values.to_dict(as_series=False) == {
        "Name-en_US": ["B", "E"],
        "Name-de_DE": ["C", None],
    }


def test_an_attribute_keyed_twice_fills_the_first_keys_gaps() -> None:
    values = flattened([{"Name": [entry("A")], "name": [entry("B")]}, {"name": [entry("C")]}])
    assert values["Name"].to_list() == ["A", "C"]


def test_metric_and_price_columns_come_in_order_and_need_a_currency() -> None:
    prices = [{"amount": "1.50", "currency": "EUR"}, {"amount": "2", "currency": None}]
    items = [
        {"weight": [entry({"amount": "3", "unit": "KILOGRAM"})], "price": [entry(prices)]},
        {"price": [entry([{"amount": "4", "currency": "USD"}])]},
    ]
    values = flattened(items)
    assert values.columns == ["weight", "weight-unit", "price-EUR", "price-USD"]
    assert values.row(0) == ("3", "KILOGRAM", "1.50", None)


def test_an_attribute_empty_in_every_item_has_no_column() -> None:
    assert flattened([{"tags": [], "name": [entry("A")]}, {"tags": []}]).columns == ["Name"]


# The typed read (DuckDB with the schema the attribute types give) and its fallbacks.
ALL_ATTRIBUTES = frozenset(
    json.loads(line)["code"]
    for line in (CATALOG_JSONL / "attributes.jsonl").read_text(encoding="utf-8").splitlines()
)


@pytest.fixture
def typed_reads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each JSON Lines read of a test took the typed read (True) or the general one."""
    taken: list[bool] = []
    real = files.typed_read

    def spy(path: Path, schema: TypedSchema) -> object:
        table = real(path, schema)
        taken.append(table is not None)
        return table

    monkeypatch.setattr(files, "typed_read", spy)
    return taken


def general_read(
    monkeypatch: pytest.MonkeyPatch, folder: Path, attributes: frozenset[str] = ALL_ATTRIBUTES
) -> PimExport:
    with monkeypatch.context() as patched:
        patched.setattr(files, "typed_schema", lambda selection: None)
        return read_pim_export(folder, LOCALES, "ecommerce", attributes)


def hostile_catalog(tmp_path: Path) -> Path:
    folder = pim_copy("catalog_jsonl", tmp_path)
    mug = pim_item("products", "mug")
    mug["values"]["name"] = [entry('</script><script>alert("x")</script>', "en_US")]
    mug["values"]["care"] = [entry('=HYPERLINK("http://evil")\u0000 nul, \u00e9 \U0001f600')]
    mug["values"]["organic"] = [entry(True)]
    mug["values"]["weight"] = [entry({"amount": 12, "unit": "GRAM"})]
    mug["values"]["price"] = [entry([{"amount": "9.99", "currency": "EUR"}, {"amount": 11}])]
    poster = pim_item("products", "poster") | {"enabled": None}
    poster["values"]["organic"] = [entry(False)]
    poster["values"]["collection"] = [entry([])]
    return put_pim_items(folder, "products", mug, poster)


@pytest.mark.parametrize("hostile", [False, True], ids=["fixture", "hostile"])
def test_the_typed_read_gives_the_general_readers_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, typed_reads: list[bool], hostile: bool
) -> None:
    """Products and models read with the declared schema equal the inferring reader's frames,
    hostile text, JSON numbers, booleans, a price without currency and odd flags included."""
    folder = hostile_catalog(tmp_path) if hostile else CATALOG_JSONL
    typed = read_pim_export(folder, LOCALES, "ecommerce", ALL_ATTRIBUTES)
    assert typed_reads == [True, True]  # products and product models
    general = general_read(monkeypatch, folder)
    assert_frame_equal(typed.products, general.products)
    assert_frame_equal(typed.product_models, general.product_models)
    assert_frame_equal(typed.rejects, general.rejects)
    if hostile:
        mug = typed.products.filter(sku="mug").row(0, named=True)
        assert mug["name-en_US"] == '</script><script>alert("x")</script>'
        assert mug["care"] == '=HYPERLINK("http://evil")\u0000 nul, \u00e9 \U0001f600'
        assert (mug["organic"], mug["weight"], mug["price-EUR"]) == ("1", "12", "9.99")
        assert typed.products.filter(sku="poster")["enabled"].item() is None


def test_dates_and_numbers_keep_their_json_text_in_the_typed_read(
    tmp_path: Path, typed_reads: list[bool]
) -> None:
    """Scalar data is the text the file holds, as the CSV export writes it: a date keeps its
    ISO form (the inferring reader would make a timestamp of it), a number its digits."""
    folder = pim_copy("catalog_jsonl", tmp_path)
    added = {"code": "launch", "type": "pim_catalog_date", "group": "marketing"}
    put_pim_items(folder, "attributes", added)
    mug = pim_item("products", "mug")
    mug["values"]["launch"] = [entry("2026-03-05T00:00:00+01:00")]
    mug["values"]["weight"] = [entry({"amount": 1.50, "unit": "KILOGRAM"})]
    put_pim_items(folder, "products", mug)
    products = read_pim_export(folder, LOCALES, "ecommerce", {"launch", "weight"}).products
    assert typed_reads[0] is True
    assert products.filter(sku="mug").select("launch", "weight").row(0) == (
        "2026-03-05T00:00:00+01:00",
        "1.5",
    )


def test_a_value_keyed_in_another_spelling_takes_the_general_read(catalog: Path) -> None:
    """DuckDB would skip ``SIZE`` where ``size`` is declared: the byte check finds the key,
    DuckDB's read is thrown away and the general reader merges both spellings into one
    column (the typed read would have lost ``s`` and ``Small``)."""
    item = pim_item("products", "shirt-blue-m") | {"identifier": "shirt-blue-s", "uuid": None}
    item["values"] = {"SIZE": [entry("s")], "Name": [entry("Small", "EN_us")]}
    folder = put_pim_items(catalog, "products", item)
    frame = read_pim_export(folder, LOCALES, "ecommerce", {"size", "name"}).products
    assert frame.filter(sku="shirt-blue-s").select("size", "name-en_US").row(0) == ("s", "Small")
    assert frame.filter(sku="shirt-blue-m")["size"].item() == "m"
    assert {"SIZE", "Name-en_US"}.isdisjoint(frame.columns)


def test_data_of_another_shape_than_its_type_takes_the_general_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, typed_reads: list[bool]
) -> None:
    """A multiselect given as one code: DuckDB refuses the file and the general reader
    normalises the values to text, losing none; an ``enabled`` of "yes" is the general
    reader's to refuse."""
    folder = pim_copy("catalog_jsonl", tmp_path)
    mug = pim_item("products", "mug")
    mug["values"]["collection"] = [entry("summer")]
    put_pim_items(folder, "products", mug)
    products = read_pim_export(folder, LOCALES, "ecommerce", ALL_ATTRIBUTES).products
    assert typed_reads == [False, True]
    mug_row = products.filter(sku="mug").row(0, named=True)
    assert mug_row["collection"] == "summer"
    assert_frame_equal(products, general_read(monkeypatch, folder).products)
    put_pim_items(folder, "products", pim_item("products", "poster") | {"enabled": "yes"})
    with pytest.raises(PimFileError, match=r"products.jsonl: .*Column\(/enabled\)"):
        read_pim_export(folder, LOCALES, "ecommerce", ALL_ATTRIBUTES)
    assert typed_reads[-1] is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"identifier": "a"}\n{"identifier": "b",, }\n', "products.jsonl:2: not valid JSON"),
        ('{"identifier": "a"}\n["b"]\n', "products.jsonl:2: expected a JSON object"),
    ],
    ids=["malformed", "not-an-object"],
)
def test_broken_lines_are_named_when_the_typed_read_is_declined(
    tmp_path: Path, text: str, expected: str, typed_reads: list[bool]
) -> None:
    folder = pim_copy("catalog_jsonl", tmp_path)
    (folder / "products.jsonl").write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError, match=expected):
        read_pim_export(folder, LOCALES, "ecommerce", ALL_ATTRIBUTES)
    assert typed_reads == [False]


def selection_of(attributes: set[str] | None, types: dict[str, str]) -> ValueSelection:
    spelling = {code.lower(): code for code in types}
    lowered = {code.lower(): kind for code, kind in types.items()}
    return ValueSelection.of(LOCALES, ("ecommerce",), attributes, "sku", spelling, lowered)


def test_a_schema_is_declared_only_for_known_types_and_listed_attributes() -> None:
    types = {"sku": "pim_catalog_identifier", "Color": "pim_catalog_simpleselect"}
    declared = typed_schema(selection_of({"color"}, types))
    assert declared is not None
    assert declared.attributes == {
        "Color": "pim_catalog_simpleselect",
        "sku": "pim_catalog_identifier",
    }
    assert typed_schema(selection_of(None, types)) is None  # every attribute: no list to declare
    assert typed_schema(selection_of({"color", "size"}, types)) is None  # size: no type
    table = types | {"specs": "pim_catalog_table"}
    assert typed_schema(selection_of({"specs"}, table)) is None  # a type without a schema


@pytest.mark.parametrize(
    ("key", "found"),
    [('"color":', True), ('"COLOR" :', True), ('"Color":', False), ('"colour":', False)],
)
def test_the_variants_pattern_finds_only_other_spellings(key: str, found: bool) -> None:
    types = {"sku": "pim_catalog_identifier", "Color": "pim_catalog_simpleselect"}
    declared = typed_schema(selection_of({"color"}, types))
    assert declared is not None
    assert (re.search(declared.variants, key) is not None) is found
