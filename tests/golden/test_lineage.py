"""Products whose variant lineage is broken are rejected with one reason, not published; a
parent that differs from its model only in case is no broken lineage (Akeneo codes are
case-insensitive)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from golden.lineage import broken_models, split_broken_lineage
from golden.master_data import MasterNeeds, golden_master_data
from sources.akeneo_files import PimExport, PimFileError, read_pim_export

LOCALES = ("de_DE",)
NEEDS = MasterNeeds(LOCALES, ("master",), frozenset(), "image", "https://m/")


def write(folder: Path, entity: str, items: list[dict[str, object]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(item) + "\n" for item in items)
    (folder / f"{entity}.jsonl").write_text(text, encoding="utf-8")


def item(sku: str, parent: str | None = None, uuid: str | None = None) -> dict[str, object]:
    name = [{"locale": "de_DE", "scope": None, "data": f"Name {sku}"}]
    found: dict[str, object] = {"identifier": sku, "enabled": True, "categories": []}
    return found | {"parent": parent, "uuid": uuid, "values": {"name": name}}


def model(code: str, parent: str | None = None) -> dict[str, object]:
    return {"code": code, "parent": parent, "categories": [], "values": {}}


def export_of(tmp_path: Path, products: list[dict], models: list[dict]) -> PimExport:
    write(tmp_path, "products", products)
    write(tmp_path, "product_models", models)
    return read_pim_export(tmp_path, LOCALES, "ecommerce")


def models_frame(*pairs: tuple[str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(pairs, schema={"code": pl.String, "parent": pl.String}, orient="row")


def test_variants_of_missing_or_looping_models_are_rejected(tmp_path: Path) -> None:
    models = [model("jacket"), model("shoes", "loop_b"), model("loop_b", "shoes")]
    models += [model("orphan", "gone")]
    products = [item("j1", "jacket"), item("s1", "shoes"), item("o1", "orphan")]
    products += [item("x1", "no_such_model"), item("simple")]
    export, rejects = split_broken_lineage(export_of(tmp_path, products, models))
    assert export.products["sku"].to_list() == ["j1", "simple"]
    found = {r["sku"]: (r["reason"], r["value"], r["source"]) for r in rejects.to_dicts()}
    assert found == {
        "s1": ("model_cycle", "shoes > loop_b > shoes", "products.jsonl:2"),
        "o1": ("parent_missing", "gone", "products.jsonl:3"),
        "x1": ("parent_missing", "no_such_model", "products.jsonl:4"),
    }
    assert set(rejects["field"]) == {"parent"}
    master = golden_master_data(export, NEEDS)
    assert master.collect()["item_group"].to_list() == ["jacket", None]


def test_a_parent_in_another_case_is_the_model_and_groups_under_its_spelling(
    tmp_path: Path,
) -> None:
    models = [model("Jacket"), model("jacket_BLUE", "JACKET")]
    products = [item("j1", "JACKET_blue"), item("j2", "jacket"), item("j3", "Jacket_Red")]
    export, rejects = split_broken_lineage(export_of(tmp_path, products, models))
    assert export.products["sku"].to_list() == ["j1", "j2"]
    # A parent missing in every case is reported as the product spells it.
    assert rejects.select("sku", "value", "reason").rows() == [
        ("j3", "Jacket_Red", "parent_missing")
    ]
    master = golden_master_data(export, NEEDS).collect()
    assert master.select("sku", "parent", "item_group", "level").rows() == [
        ("j1", "jacket_BLUE", "Jacket", 2),
        ("j2", "Jacket", "Jacket", 1),
    ]


def test_loops_and_missing_parents_are_found_whatever_the_case() -> None:
    models = models_frame(
        ("Shoes", "LOOP_B"),
        ("loop_b", "shoes"),
        ("orphan", "Gone"),
        ("orphan_child", "ORPHAN"),
        ("root", None),
        ("child", "Root"),
    )
    found = broken_models(models).sort("key")
    assert found.columns == ["key", "code", "reason", "detail"]
    assert found.rows() == [
        ("loop_b", "loop_b", "model_cycle", "Shoes > loop_b > Shoes"),
        # the missing model is named as the model that names it spells it
        ("orphan", "orphan", "parent_missing", "Gone"),
        ("orphan_child", "orphan_child", "parent_missing", "Gone"),
        ("shoes", "Shoes", "model_cycle", "Shoes > loop_b > Shoes"),
    ]


@pytest.mark.parametrize(
    "pairs",
    [
        [("a", "a"), ("b", "a")],
        [("A", "a"), ("b", "A")],  # its own parent, spelled another way
    ],
)
def test_a_model_that_is_its_own_parent_is_a_cycle(pairs: list[tuple[str, str]]) -> None:
    own = pairs[0][0]
    assert broken_models(models_frame(*pairs)).sort("key").select(
        "code", "reason", "detail"
    ).rows() == [
        (own, "model_cycle", f"{own} > {own}"),
        ("b", "model_cycle", f"{own} > {own}"),
    ]


def test_a_long_loop_is_named_once_from_where_it_was_entered() -> None:
    models = models_frame(("a", "b"), ("b", "c"), ("c", "d"), ("d", "b"), ("e", None))
    found = dict(broken_models(models).select("key", "detail").iter_rows())
    assert found == {k: "b > c > d > b" for k in ("a", "b", "c", "d")}


def test_no_models_no_broken_lineage(tmp_path: Path) -> None:
    export, rejects = split_broken_lineage(export_of(tmp_path, [item("a"), item("b")], []))
    assert export.products["sku"].to_list() == ["a", "b"]
    assert rejects.height == 0
    assert broken_models(models_frame()).height == 0


def test_a_golden_record_of_looping_models_still_ends(tmp_path: Path) -> None:
    """Without the split a looping chain must not hang the inheritance (it stops at the depth
    limit); the split is what keeps such products out of the feeds."""
    export = export_of(tmp_path, [item("s1", "shoes")], [model("shoes", "b"), model("b", "shoes")])
    master = golden_master_data(export, NEEDS).collect()
    assert master["sku"].to_list() == ["s1"]


def test_a_duplicate_uuid_is_rejected_where_it_repeats(tmp_path: Path) -> None:
    products = [item("a", uuid="u-1"), item("b", uuid="u-1"), item("c", uuid="u-2")]
    export = export_of(tmp_path, products, [])
    assert export.products["sku"].to_list() == ["a", "c"]
    assert export.rejects.select("sku", "field", "value", "reason", "source").rows() == [
        ("b", "uuid", "u-1", "duplicate_uuid", "products.jsonl:2")
    ]


def test_an_empty_products_file_is_refused(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "products.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(PimFileError, match=r"products\.jsonl: no products in the file"):
        read_pim_export(tmp_path, LOCALES, "ecommerce")


def test_control_characters_are_stripped_from_product_text_once(tmp_path: Path) -> None:
    hostile = item("a")
    hostile["values"] = {
        "name": [{"locale": "de_DE", "scope": None, "data": "Sh\x00irt\x1b[31m\tok\x7f"}]
    }
    export = export_of(tmp_path, [hostile], [])
    master = golden_master_data(export, NEEDS)
    assert master.collect().item(0, "attr.name-de_DE") == "Shirt[31m\tok"


def test_codes_and_media_paths_are_kept_byte_for_byte(tmp_path: Path) -> None:
    """Only text a channel shows loses control characters: an option code or a media path that
    changed here would no longer match its option or its file."""
    write(
        tmp_path,
        "attributes",
        [
            {"code": "name", "type": "pim_catalog_text", "localizable": True, "scopable": False},
            {"code": "color", "type": "pim_catalog_simpleselect"},
            {"code": "image", "type": "pim_catalog_image"},
        ],
    )
    hostile = item("a")
    data = {"name": "Na\x07me", "color": "bl\x00ue", "image": "a/b\x01.jpg"}
    hostile["values"] = {
        code: [{"locale": "de_DE" if code == "name" else None, "scope": None, "data": value}]
        for code, value in data.items()
    }
    export = export_of(tmp_path, [hostile], [])
    row = golden_master_data(export, NEEDS).collect().row(0, named=True)
    assert (row["attr.name-de_DE"], row["attr.color"], row["attr.image"]) == (
        "Name",
        "bl\x00ue",
        "a/b\x01.jpg",
    )
