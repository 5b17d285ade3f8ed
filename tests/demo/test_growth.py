"""A bigger demo catalog with the same seed starts with the same products: the same names,
families, prices, stock and models. Growing the demo (3,000 -> 200,000 products) must not look
like a mass price change to the pipeline's circuit breaker.

Sizes cross a block boundary (``demo.streams.BLOCK``) on purpose.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from demo import DemoSummary, generate_demo_data
from demo.layout import PIM_FILES
from demo.streams import BLOCK

AS_OF = dt.date(2026, 11, 22)
BIG = BLOCK + 2_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate_demo_data(tmp_path_factory.mktemp("big"), products=BIG, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate_demo_data(tmp_path_factory.mktemp("small"), products=3000, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def grown(big: DemoSummary) -> list[dict[str, Any]]:
    return products(big)


@pytest.fixture(scope="module")
def grown_erp(big: DemoSummary) -> dict[str, dict[str, list[dict[str, str]]]]:
    return {name: erp_rows(big, name) for name in ("prices", "stock", "supply")}


def products(summary: DemoSummary) -> list[dict[str, Any]]:
    path = summary.pim_dir / "products.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def facts(item: dict[str, Any]) -> tuple:
    """What a shopper sees of a product: name per locale, family, parent model, EAN."""
    values = item["values"]
    names = tuple(v["data"] for v in values["name"] or [])
    return item["identifier"], names, item["family"], item["parent"], values["ean"]


def erp_rows(summary: DemoSummary, name: str) -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (summary.erp_dir / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["sku"]].append(row)
    return dict(rows)


def list_prices(prices: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    """Each sku's first list price: the current EUR one (the breaker compares these)."""
    return {
        sku: next(r["amount"] for r in rows if r["price_type"] == "list")
        for sku, rows in prices.items()
    }


@pytest.mark.parametrize("size", [1, 3000, BLOCK + 1])
def test_a_smaller_catalog_is_the_start_of_a_bigger_one(
    size: int,
    grown: list[dict[str, Any]],
    grown_erp: dict[str, dict[str, list[dict[str, str]]]],
    tmp_path: Path,
) -> None:
    small = generate_demo_data(tmp_path, products=size, seed=7, as_of=AS_OF)
    shared = products(small)
    assert [facts(p) for p in shared] == [facts(p) for p in grown[:size]]
    assert shared == grown[:size]  # uuid, categories, weight, status, defects: everything
    skus = {p["identifier"] for p in shared}
    for name, big_rows in grown_erp.items():
        small_rows = erp_rows(small, name)
        assert {s: small_rows.get(s) for s in skus} == {s: big_rows.get(s) for s in skus}, name


def test_list_prices_agree_on_the_shared_products(
    small: DemoSummary,
    grown: list[dict[str, Any]],
    grown_erp: dict[str, dict[str, list[dict[str, str]]]],
) -> None:
    before, after = list_prices(erp_rows(small, "prices")), list_prices(grown_erp["prices"])
    shared = [p["identifier"] for p in products(small)]
    priced = [sku for sku in shared if sku in before]
    assert len(priced) > 0.95 * len(shared)
    assert all(before[sku] == after[sku] for sku in priced)
    erp_only = set(before) - set(shared)
    assert erp_only
    assert not erp_only & {p["identifier"] for p in grown}  # they never become products


def test_the_smaller_catalogs_models_are_models_of_the_bigger_one(
    small: DemoSummary, big: DemoSummary
) -> None:
    lines = {
        summary.pim_dir: set(
            (summary.pim_dir / "product_models.jsonl").read_text(encoding="utf-8").splitlines()
        )
        for summary in (small, big)
    }
    assert lines[small.pim_dir] <= lines[big.pim_dir]
    # Codes are case-insensitive, and a few variants spell their parent in lower case.
    parents = {p["parent"].lower() for p in products(small) if p["parent"]}
    models = [json.loads(line) for line in lines[small.pim_dir]]
    codes = {m["code"].lower() for m in models}
    assert parents <= codes
    assert codes == parents | {m["parent"].lower() for m in models if m["parent"]}  # none empty


def test_the_structure_does_not_depend_on_the_catalog_size(
    small: DemoSummary, big: DemoSummary
) -> None:
    for name in PIM_FILES[2:]:  # everything but products and product models
        path = f"{name}.jsonl"
        assert (small.pim_dir / path).read_bytes() == (big.pim_dir / path).read_bytes(), name
    assert small.structure == big.structure
    assert 0 < small.quirks["mixed_case_parents"] < big.quirks["mixed_case_parents"]
