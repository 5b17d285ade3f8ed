"""Products whose variant lineage is broken are rejected with one reason, not published."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from contracts.config import AttributeRoles
from golden.master_data import broken_models, golden_master_data, split_broken_lineage
from sources.akeneo_files import PimExport, PimFileError, read_pim_export

LOCALES = ("de_DE",)


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
    master = golden_master_data(export, AttributeRoles(), LOCALES, "ecommerce", "https://m/")
    assert master.collect()["item_group"].to_list() == ["jacket", None]


def test_a_model_that_is_its_own_parent_is_a_cycle() -> None:
    models = pl.DataFrame({"code": ["a", "b"], "parent": ["a", "a"]})
    assert broken_models(models).sort("code").rows() == [
        ("a", "model_cycle", "a > a"),
        ("b", "model_cycle", "a > a"),
    ]


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
    master = golden_master_data(export, AttributeRoles(), LOCALES, "ecommerce", "https://m/")
    assert master.collect().item(0, "name_de_DE") == "Shirt[31m\tok"
