from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from contracts.golden import REJECTS_SCHEMA
from sources.akeneo_files import PimFileError, read_pim_export
from sources.text_files import InputFileError

FIXTURES = Path(__file__).parents[1] / "fixtures"
CATALOG_JSONL = FIXTURES / "pim" / "catalog_jsonl"
CATALOG_CSV = FIXTURES / "pim" / "catalog_csv"
LOCALES = ("de_DE", "en_US")


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
    for entity in ("attributes", "families", "categories"):
        assert_frame_equal(getattr(from_json, entity), getattr(from_csv, entity))


def test_csv_line_numbers_count_the_header_and_multi_line_cells() -> None:
    products = read_pim_export(CATALOG_CSV, LOCALES, "ecommerce").products
    assert products["pim_source"].to_list() == [
        "products.csv:2",
        "products.csv:3",
        "products.csv:4",
        "products.csv:6",
    ]


def test_keeps_only_requested_locales_scope_and_attributes() -> None:
    export = read_pim_export(CATALOG_JSONL, ("en_US",), "print", attributes={"description", "care"})
    values = set(export.products.columns) - {
        "sku",
        "uuid",
        "enabled",
        "family",
        "parent",
        "categories",
        "updated",
        "pim_source",
    }
    assert values == {"description-en_US-print", "care-print"}
    assert export.products.filter(sku="mug")["description-en_US-print"].item() == "A printed\nmug"


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
    assert export.product_models.height == export.categories.height == 0
    assert export.categories.columns == ["code", "parent", "label_de_DE", "label_en_US"]
    with pytest.raises(PimFileError, match=r"no products\.jsonl or products\.csv"):
        read_pim_export(tmp_path, LOCALES, "ecommerce")


def test_both_formats_for_one_entity_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "e"
    shutil.copytree(CATALOG_JSONL, folder)
    shutil.copy(CATALOG_CSV / "products.csv", folder / "products.csv")
    with pytest.raises(PimFileError, match=r"both products\.jsonl and products\.csv"):
        read_pim_export(folder, LOCALES, "ecommerce")
