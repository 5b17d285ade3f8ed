"""The demo catalog: deterministic, Akeneo-shaped, the same in JSONL and CSV, defects as intended.

Files are read back with independent parsers (json, csv), not with the generator's own frames.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from demo import DemoSummary, generate, generate_demo_data
from demo.catalog import LOCALES
from demo.defects import DEFECT_RATES
from demo.identifiers import gtin13
from demo.layout import PIM_FILES
from sources.drops import announced_rows, newest_drop, verify_drop

AS_OF = dt.date(2026, 11, 22)
PRODUCTS = 3000
SNAPSHOT = re.compile(r"20261122T060000Z-\d{8}T\d{12}Z")
AMOUNT = re.compile(r"^\d+\.\d{2}$")
ERP_HEADERS = {
    "prices": "sku,price_type,customer_group,customer_id,currency,amount,per_quantity,"
    "min_quantity,valid_from,valid_to",
    "stock": "sku,warehouse,on_hand,reserved",
    "supply": "sku,lead_time_days,next_receipt_date",
    "customers": "customer_id,customer_group,name,currency,active",
}


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    target = tmp_path_factory.mktemp("jsonl")
    return generate_demo_data(target, products=PRODUCTS, seed=42, as_of=AS_OF)


@pytest.fixture(scope="module")
def csv_export(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    target = tmp_path_factory.mktemp("csv")
    return generate_demo_data(target, products=PRODUCTS, seed=42, as_of=AS_OF, pim_format="csv")


def json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def csv_rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def value(item: dict[str, Any], code: str, locale: str | None = None, scope: str | None = None):
    for entry in item["values"].get(code) or []:
        if entry["locale"] == locale and entry["scope"] == scope:
            return entry["data"]
    return None


def gtin_valid(code: str) -> bool:
    digits = [int(c) for c in code]
    return len(digits) == 13 and sum(d * (1, 3)[i % 2] for i, d in enumerate(digits)) % 10 == 0


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.*"))}


def test_gtin13_appends_the_gs1_check_digit() -> None:
    assert gtin13(np.array([400638133393, 590123412345])).tolist() == [
        4006381333931,
        5901234123457,
    ]


def test_the_layout_and_summary(jsonl: DemoSummary) -> None:
    assert jsonl.pim_dir.name == jsonl.erp_dir.name
    assert SNAPSHOT.fullmatch(jsonl.pim_dir.name), jsonl.pim_dir.name
    assert jsonl.pim_dir.parent.name == "pim"
    assert jsonl.erp_dir.parent == jsonl.pim_dir.parents[1] / "erp"
    assert sorted(p.name for p in jsonl.pim_dir.iterdir()) == sorted(
        [*(f"{n}.jsonl" for n in PIM_FILES), "manifest.json"]
    )
    assert sorted(p.name for p in jsonl.erp_dir.iterdir()) == [
        "customers.csv",
        "manifest.json",
        "prices.csv",
        "stock.csv",
        "supply.csv",
    ]
    for folder in (jsonl.pim_dir, jsonl.erp_dir):  # every drop is sealed by a ready marker
        verify_drop(folder, "manifest.json")
    announced = announced_rows(jsonl.pim_dir, "manifest.json")
    assert set(announced) == {f"{n}.jsonl" for n in PIM_FILES}  # the structure files too
    for name, rows in announced.items():
        assert rows == len(json_lines(jsonl.pim_dir / name)), name
    assert announced_rows(jsonl.erp_dir, "manifest.json") == {
        "customers.csv": len(csv_rows(jsonl.erp_dir / "customers.csv")),
        "prices.csv": jsonl.price_rows,
        "stock.csv": jsonl.stock_rows,
        "supply.csv": jsonl.supply_rows,
    }
    assert (
        len((jsonl.pim_dir / "products.jsonl").read_text(encoding="utf-8").splitlines()) == PRODUCTS
    )
    assert set(jsonl.defects) >= set(DEFECT_RATES)
    assert jsonl.variants == sum(
        1 for p in json_lines(jsonl.pim_dir / "products.jsonl") if p["parent"]
    )


def test_same_inputs_write_byte_identical_files(jsonl: DemoSummary, tmp_path: Path) -> None:
    again = generate_demo_data(tmp_path, products=PRODUCTS, seed=42, as_of=AS_OF)
    assert again.pim_dir.name != jsonl.pim_dir.name  # a new folder, the same files
    assert files(again.pim_dir) == files(jsonl.pim_dir)
    assert files(again.erp_dir) == files(jsonl.erp_dir)
    other = generate_demo_data(tmp_path / "other", products=PRODUCTS, seed=43, as_of=AS_OF)
    assert (other.pim_dir / "products.jsonl").read_bytes() != (
        again.pim_dir / "products.jsonl"
    ).read_bytes()


def snapshots(root: Path, side: str) -> list[str]:
    return sorted(p.name for p in (root / side).iterdir())


def test_each_call_publishes_a_new_snapshot_and_keeps_the_previous(tmp_path: Path) -> None:
    first = generate_demo_data(tmp_path, products=20, as_of=AS_OF)
    before = files(first.pim_dir)
    second = generate_demo_data(tmp_path, products=30, as_of=AS_OF, pim_format="csv")
    assert second.pim_dir.name > first.pim_dir.name
    for side in ("pim", "erp"):
        assert snapshots(tmp_path, side) == [first.pim_dir.name, second.pim_dir.name]
    assert files(first.pim_dir) == before  # a reader of the first snapshot is undisturbed
    assert newest_drop(tmp_path / "pim", "pim") == second.pim_dir
    assert newest_drop(tmp_path / "erp", "erp") == second.erp_dir
    third = generate_demo_data(tmp_path, products=20, as_of=AS_OF)
    for side in ("pim", "erp"):  # the first is deleted, the one a run may read is kept
        assert snapshots(tmp_path, side) == [second.pim_dir.name, third.pim_dir.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["erp", "pim"]  # no staging left


def test_an_older_as_of_date_is_written_but_the_newest_date_is_read(tmp_path: Path) -> None:
    current = generate_demo_data(tmp_path, products=20, as_of=AS_OF)
    older = generate_demo_data(tmp_path, products=20, as_of=AS_OF - dt.timedelta(days=30))
    assert snapshots(tmp_path, "pim") == [older.pim_dir.name, current.pim_dir.name]
    assert newest_drop(tmp_path / "pim", "pim") == current.pim_dir


def test_a_failed_call_publishes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = generate_demo_data(tmp_path, products=20, as_of=AS_OF)

    def broken(chunk: object, as_of: dt.date) -> None:
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(generate, "render_stock", broken)
    with pytest.raises(OSError, match="disk full"):
        generate_demo_data(tmp_path, products=20, as_of=AS_OF)
    for side in ("pim", "erp"):
        assert snapshots(tmp_path, side) == [first.pim_dir.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["erp", "pim"]


def test_products_have_the_akeneo_rest_shape(jsonl: DemoSummary) -> None:
    keys = {"uuid", "identifier", "enabled", "family", "categories", "groups", "parent"}
    for item in json_lines(jsonl.pim_dir / "products.jsonl"):
        assert set(item) == keys | {"values", "updated"}
        assert uuid.UUID(item["uuid"]).version == 4
        assert value(item, "sku") == item["identifier"]
        assert dt.datetime.fromisoformat(item["updated"]).date() <= AS_OF
        for code, entries in item["values"].items():
            for entry in entries or []:
                assert set(entry) == {"locale", "scope", "data"}, code
                assert entry["locale"] in (None, *LOCALES)
                assert entry["scope"] in (None, "ecommerce", "print")
        weight = value(item, "weight")
        assert re.fullmatch(r"\d+\.\d{4}", weight["amount"])
        assert weight["unit"] in ("KILOGRAM", "GRAM")
        prices = value(item, "price")
        assert [p["currency"] for p in prices] == ["EUR", "USD"]
        assert all(AMOUNT.match(p["amount"]) for p in prices)


def held(item: dict[str, Any]) -> set[str]:
    return {code for code, entries in item["values"].items() if entries}


def test_values_live_where_the_family_variants_put_them(jsonl: DemoSummary) -> None:
    products = json_lines(jsonl.pim_dir / "products.jsonl")
    # Akeneo codes are case-insensitive: a few variants spell their parent in another case.
    models = {m["code"].lower(): m for m in json_lines(jsonl.pim_dir / "product_models.jsonl")}
    levels = {
        v["code"]: {s["level"]: s for s in v["variant_attribute_sets"]}
        for v in json_lines(jsonl.pim_dir / "family_variants.jsonl")
    }
    variants = [p for p in products if p["parent"]]
    assert 0.28 < len(variants) / len(products) < 0.38
    two_level = 0
    for product in variants:
        model = models[product["parent"].lower()]
        root = models[model["parent"].lower()] if model["parent"] else model
        sets = levels[root["family_variant"]]
        two_level += model is not root
        assert len(sets) == (2 if model is not root else 1)
        assert held(product) <= set(sets[len(sets)]["attributes"])
        assert set(sets[len(sets)]["axes"]) <= held(product)  # a variant has its axis value
        if model is not root:
            assert model["family_variant"] == root["family_variant"]
            assert held(model) == set(sets[1]["attributes"])  # color and its image
        shared = {a for s in sets.values() for a in s["attributes"]}
        assert not held(root) & shared
        assert root["parent"] is None
        assert value(root, "name", "de_DE")
        assert value(root, "brand")
        assert value(model, "color")
        assert value(model, "image")
        assert product["family"] == root["family"]
    assert 0 < two_level < len(variants)
    simple = [p for p in products if not p["parent"]]
    assert sum(value(p, "name", "en_US") is not None for p in simple) == len(simple)


def test_gtin_check_digits_are_wrong_only_where_intended(jsonl: DemoSummary) -> None:
    eans = [value(p, "ean") for p in json_lines(jsonl.pim_dir / "products.jsonl")]
    assert len(set(eans)) == PRODUCTS
    bad = sum(not gtin_valid(e) for e in eans)
    assert bad == jsonl.defects["bad_gtin_check_digit"]
    assert 0 < bad < PRODUCTS * 0.01


def test_jsonl_and_csv_describe_the_same_catalog(
    jsonl: DemoSummary, csv_export: DemoSummary
) -> None:
    items = json_lines(jsonl.pim_dir / "products.jsonl")
    rows = csv_rows(csv_export.pim_dir / "products.csv", ";")
    assert [r["sku"] for r in rows] == [i["identifier"] for i in items]
    for item, row in zip(items, rows, strict=True):
        assert (row["name-de_DE"] or None) == value(item, "name", "de_DE")
        assert (row["description-fr_FR-ecommerce"] or None) == value(
            item, "description", "fr_FR", "ecommerce"
        )
        assert (row["parent"] or None) == item["parent"]
        assert row["categories"].split(",") == item["categories"]
        assert row["enabled"] == ("1" if item["enabled"] else "0")
        assert (row["weight"], row["weight-unit"]) == tuple(value(item, "weight").values())
    models = json_lines(jsonl.pim_dir / "product_models.jsonl")
    model_rows = csv_rows(csv_export.pim_dir / "product_models.csv", ";")
    assert [(r["code"], r["parent"] or None) for r in model_rows] == [
        (m["code"], m["parent"]) for m in models
    ]
    for name in PIM_FILES[2:]:  # the structure: the same items in the same order
        rows = csv_rows(csv_export.pim_dir / f"{name}.csv", ";")
        items = json_lines(jsonl.pim_dir / f"{name}.jsonl")
        assert [r["code"] for r in rows] == [i["code"] for i in items], name
        for row, item in zip(rows, items, strict=True):
            for locale in LOCALES:
                label = (item.get("labels") or {}).get(locale)
                assert (row.get(f"label-{locale}") or None) == label, (name, row["code"])
    for row, item in zip(
        csv_rows(csv_export.pim_dir / "product_models.csv", ";"), models, strict=True
    ):
        assert (row["color"] or None) == value(item, "color")
        assert (row["image"] or None) == value(item, "image")
    assert files(csv_export.erp_dir) == files(jsonl.erp_dir)


def test_categories_form_two_three_level_trees_one_per_channel(jsonl: DemoSummary) -> None:
    categories = {c["code"]: c for c in json_lines(jsonl.pim_dir / "categories.jsonl")}
    roots = [c for c in categories.values() if c["parent"] is None]
    assert roots == [categories["master"], categories["print_catalog"]]
    channels = {c["code"]: c for c in json_lines(jsonl.pim_dir / "channels.jsonl")}
    assert {c: channels[c]["category_tree"] for c in channels} == {
        "ecommerce": "master",
        "print": "print_catalog",
    }
    assert 35 <= len(categories) <= 45
    tree = {}
    for code, category in categories.items():
        assert set(category["labels"]) == set(LOCALES)
        depth, node = 1, category
        while node["parent"]:
            depth, node = depth + 1, categories[node["parent"]]
        assert depth <= 3
        tree[code] = node["code"]
    for item in json_lines(jsonl.pim_dir / "products.jsonl"):
        assert {tree[c] for c in item["categories"]} == {"master", "print_catalog"}


def test_erp_files_have_exactly_the_agreed_columns(jsonl: DemoSummary) -> None:
    for name, header in ERP_HEADERS.items():
        first = (jsonl.erp_dir / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert first == header


def test_text_exercises_escaping_and_formula_injection(jsonl: DemoSummary) -> None:
    items = json_lines(jsonl.pim_dir / "products.jsonl") + json_lines(
        jsonl.pim_dir / "product_models.jsonl"
    )
    names = [value(i, "name", "en_US") or "" for i in items]
    text = "\n".join(value(i, "name", lo) or "" for i in items for lo in LOCALES)
    for needle in ("&", "<", '"', "'", "é", "🌿", ";"):
        assert needle in text, needle
    assert any(n.startswith(("=", "+", "-", "@")) for n in names)
    descriptions = [value(i, "description", "de_DE", "ecommerce") or "" for i in items]
    assert any(d.startswith(("=", "@")) for d in descriptions)
    assert any("ü" in d or "ö" in d for d in descriptions)


def test_defects_are_present_in_the_intended_share(jsonl: DemoSummary) -> None:
    products = json_lines(jsonl.pim_dir / "products.jsonl")
    simple = [p for p in products if not p["parent"]]
    found = Counter()
    found["missing_name_de_DE"] = sum(value(p, "name", "de_DE") is None for p in simple)
    found["missing_image"] = sum(value(p, "image") is None for p in simple)
    missing = [p for p in simple if value(p, "image") is None]
    assert all(value(p, "packshot") is None for p in missing)  # no image of any kind
    found["missing_ecommerce_description"] = sum(
        any(value(p, "description", lo, "ecommerce") is None for lo in LOCALES) for p in simple
    )
    found["short_ecommerce_description"] = sum(
        all(len(value(p, "description", lo, "ecommerce") or "x" * 20) < 20 for lo in LOCALES)
        for p in simple
    )
    found["disabled"] = sum(not p["enabled"] for p in products)
    skus = {p["identifier"] for p in products}
    prices = csv_rows(jsonl.erp_dir / "prices.csv")
    amounts = [r["amount"] for r in prices]
    found["amount_decimal_comma"] = sum(bool(re.fullmatch(r"\d+,\d{2}", a)) for a in amounts)
    found["amount_not_a_number"] = amounts.count("abc")
    found["amount_zero"] = amounts.count("0.00")
    found["amount_negative"] = sum(a.startswith("-") for a in amounts)
    found["currency_EURO"] = sum(r["currency"] == "EURO" for r in prices)
    found["per_quantity_zero"] = sum(r["per_quantity"] == "0" for r in prices)
    found["valid_from_after_valid_to"] = sum(
        bool(r["valid_to"]) and r["valid_from"] > r["valid_to"] for r in prices
    )
    for name in ("prices", "stock", "supply"):
        rows = csv_rows(jsonl.erp_dir / f"{name}.csv")
        found[f"unknown_sku_{name}"] = len({r["sku"] for r in rows} - skus)
    counted = {k: v for k, v in jsonl.defects.items() if k != "bad_gtin_check_digit"}
    assert dict(found) == counted
    assert all(count > 0 for count in jsonl.defects.values()), jsonl.defects
    defects = sum(v for k, v in jsonl.defects.items() if k != "disabled")
    assert 0.01 * PRODUCTS < defects < 0.035 * PRODUCTS
    assert 0.005 * PRODUCTS < found["disabled"] < 0.02 * PRODUCTS


def test_prices_cover_validity_tiers_and_price_types(jsonl: DemoSummary) -> None:
    prices = csv_rows(jsonl.erp_dir / "prices.csv")
    today, yesterday = AS_OF.isoformat(), (AS_OF - dt.timedelta(days=1)).isoformat()
    eur_list = {r["sku"] for r in prices if r["price_type"] == "list" and r["currency"] == "EUR"}
    assert 0.96 * PRODUCTS < len(eur_list) < 0.995 * PRODUCTS + 10
    assert {r["price_type"] for r in prices} == {"list", "group", "customer"}
    assert {r["customer_group"] for r in prices} == {"", "retail", "wholesale"}
    assert {r["customer_id"] for r in prices} == {"", "C1000", "C2000"}
    assert {r["min_quantity"] for r in prices} >= {"1", "10", "100"}
    assert any(r["per_quantity"] == "100" for r in prices)
    assert any(r["valid_to"] and r["valid_to"] < today for r in prices)
    assert any(r["valid_from"] > today for r in prices)
    ended = {r["sku"] for r in prices if r["valid_to"] == yesterday}
    started = {r["sku"] for r in prices if r["valid_from"] == today}
    assert len(ended & started) > 0.02 * PRODUCTS
    assert all(r["valid_from"] for r in prices)


def test_customers_match_the_erp_price_rows(jsonl: DemoSummary) -> None:
    """Every customer and group of the price rows is in the customer master, with the group its
    group prices are for; an inactive customer, one without a group and one with SAP's leading
    zeros are in there too."""
    customers = {r["customer_id"]: r for r in csv_rows(jsonl.erp_dir / "customers.csv")}
    prices = csv_rows(jsonl.erp_dir / "prices.csv")
    assert {r["customer_id"] for r in prices} - {""} <= set(customers)
    assert customers["C1000"]["customer_group"] == "retail"
    assert customers["C2000"]["customer_group"] == "wholesale"
    assert {r["customer_group"] for r in prices} - {""} == {
        c["customer_group"] for c in customers.values()
    } - {""}
    assert {c["active"] for c in customers.values()} == {"true", "false"}
    assert any(not c["customer_group"] for c in customers.values())
    assert any(i.startswith("0") for i in customers)


def test_stock_and_supply_cover_every_availability_case(jsonl: DemoSummary) -> None:
    skus = [p["identifier"] for p in json_lines(jsonl.pim_dir / "products.jsonl")]
    stock = csv_rows(jsonl.erp_dir / "stock.csv")
    assert {r["warehouse"] for r in stock} == {"DE-HAM", "DE-MUC", "AT-VIE"}
    on_hand = Counter()
    for row in stock:
        on_hand[row["sku"]] += int(row["on_hand"])
    without_rows = set(skus) - set(on_hand)
    empty = [s for s in skus if s in on_hand and on_hand[s] == 0]
    assert 0.01 * PRODUCTS < len(without_rows) < 0.06 * PRODUCTS
    assert 0.07 * PRODUCTS < len(empty) < 0.15 * PRODUCTS
    assert any(int(r["reserved"]) > int(r["on_hand"]) for r in stock)
    supply = csv_rows(jsonl.erp_dir / "supply.csv")
    shapes = Counter((bool(r["lead_time_days"]), bool(r["next_receipt_date"])) for r in supply)
    assert set(shapes) == {(True, True), (True, False), (False, True), (False, False)}
    assert all(r["next_receipt_date"] > AS_OF.isoformat() for r in supply if r["next_receipt_date"])
    assert len(set(skus) - {r["sku"] for r in supply}) > 0.2 * PRODUCTS
