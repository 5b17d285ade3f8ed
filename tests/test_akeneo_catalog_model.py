"""End to end on a catalog in Akeneo's CSV export format with its whole model: attribute
options with labels per locale, channels with two category trees, families naming their image
attribute, family variants, parents in another letter case and absolute media URLs — through
the shipped configuration into every feed."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
import sqlalchemy as sa
from factories import REPO, workspace_config
from lxml import etree

from contracts.config import parse_config
from demo import generate_demo_data
from pipelines.definitions import JOB_NAME, build_definitions

AS_OF = dt.date(2026, 11, 22)
G = "{http://base.google.com/ns/1.0}"
BMECAT = {"b": "http://www.bmecat.org/bmecat/2005"}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("akeneo_csv")
    generate_demo_data(root / "data", products=300, seed=7, as_of=AS_OF, pim_format="csv")
    data = workspace_config(root)
    data["as_of"] = AS_OF.isoformat()
    config = parse_config(data, base=REPO)
    with dg.DagsterInstance.ephemeral() as instance:
        job = build_definitions(config).resolve_job_def(JOB_NAME)
        result = job.execute_in_process(instance=instance)
    assert result.success
    (root / "run_id").write_text(result.run_id, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def pim(root: Path) -> Path:
    folder = next((root / "data" / "pim").iterdir())
    assert (folder / "products.csv").is_file()
    return folder


@pytest.fixture(scope="module")
def live(root: Path) -> Path:
    return root / "feeds" / "current"


@pytest.fixture(scope="module")
def golden(root: Path) -> pl.DataFrame:
    run_id = (root / "run_id").read_text(encoding="utf-8")
    return pl.read_parquet(root / "work" / run_id / "golden_products.parquet")


@pytest.fixture(scope="module")
def brands(pim: Path) -> dict[str, dict[str, str]]:
    """brand option code -> {locale: label}."""
    options = [r for r in read_csv(pim / "attribute_options.csv") if r["attribute"] == "brand"]
    return {
        r["code"]: {loc: r[f"label-{loc}"] for loc in ("de_DE", "en_US", "fr_FR")} for r in options
    }


@pytest.fixture(scope="module")
def products(pim: Path) -> dict[str, dict[str, str]]:
    return {r["sku"]: r for r in read_csv(pim / "products.csv")}


def brand_label(products: dict[str, dict[str, str]], brands: dict, sku: str, locale: str) -> str:
    """The brand label a product must show: its own value, else its models' (inherited)."""
    return brands[products[sku]["brand"].lower()][locale] if products[sku]["brand"] else ""


def website_products(live: Path) -> list[dict[str, Any]]:
    found = []
    for line in (live / "website" / "products.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        found += item["hasVariant"] if item["@type"] == "ProductGroup" else [item]
    return found


def test_option_labels_in_the_channels_locale_reach_every_feed(
    live: Path, root: Path, brands: dict, golden: pl.DataFrame
) -> None:
    codes = dict(golden.select("sku", "attr.brand").iter_rows())
    german = {code.lower(): labels["de_DE"] for code, labels in brands.items()}
    english = {code.lower(): labels["en_US"] for code, labels in brands.items()}
    assert any(g != c for c, g in german.items())  # labels differ from the codes

    for item in website_products(live):
        assert item["brand"]["name"] == german[codes[item["sku"]].lower()]
    shop = csv.DictReader(
        (live / "shop" / "products.csv").read_text(encoding="utf-8-sig").splitlines(),
        delimiter=";",
    )
    shop_rows = [r for r in shop if r["sku"] in codes]
    assert shop_rows
    assert all(r["brand"] == german[codes[r["sku"]].lower()] for r in shop_rows)
    google = etree.parse(str(live / "marketplace" / "google_merchant.xml"))
    for item in google.iter("item"):
        sku = item.findtext(f"{G}id")
        assert item.findtext(f"{G}brand") == german[codes[sku].lower()]
    meta_text = (live / "social" / "meta_catalog.csv").read_text(encoding="utf-8")
    meta = list(csv.DictReader(meta_text.splitlines()))
    assert meta
    assert all(r["brand"] == english[codes[r["id"]].lower()] for r in meta)  # en_US channel
    for customer in ("C1000", "C2000"):
        document = etree.parse(str(live / "quoting" / f"{customer}.xml"))
        for product in document.iterfind(".//b:PRODUCT", BMECAT):
            sku = product.findtext("b:SUPPLIER_PID", namespaces=BMECAT)
            name = product.findtext(".//b:MANUFACTURER_NAME", namespaces=BMECAT)
            assert name == german[codes[sku].lower()]
    engine = sa.create_engine(f"sqlite:///{root / 'portal.sqlite'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT sku, brand FROM products")).all()
    portal = {sku: brand for sku, brand in rows}
    engine.dispose()
    assert portal
    assert all(brand == german[codes[sku].lower()] for sku, brand in portal.items())


def test_option_codes_in_another_case_still_find_their_labels(
    golden: pl.DataFrame, brands: dict, live: Path
) -> None:
    odd = golden.filter(
        pl.col("attr.brand").is_not_null(),
        ~pl.col("attr.brand").is_in(list(brands)),
    )
    assert odd.height  # the demo spells some option codes in another case
    shown = {i["sku"]: i["brand"]["name"] for i in website_products(live)}
    for sku, code in odd.select("sku", "attr.brand").iter_rows():
        if sku in shown:
            assert shown[sku] == brands[code.lower()]["de_DE"]


def test_category_paths_and_codes_come_from_each_channels_own_tree(
    live: Path, golden: pl.DataFrame, root: Path
) -> None:
    items = website_products(live)
    assert items
    assert all(i["category"].startswith("Hauptkatalog > ") for i in items if "category" in i)
    run_id = (root / "run_id").read_text(encoding="utf-8")
    rows = pl.read_parquet(root / "feeds" / "current" / "_rows" / "quoting.parquet")
    groups = set(rows["classification_group"].drop_nulls())
    assert groups <= {"23110101", "21040101", "21010101"}  # mapped from print-tree codes
    assert groups
    codes = golden.select(pl.col("^category_code:.*$")).columns
    assert set(codes) >= {"category_code:master", "category_code:print_catalog"}
    both = golden.filter(pl.col("category_code:print_catalog").is_not_null())
    assert both["category_code:print_catalog"].str.starts_with("print_").all()
    assert not both["category_code:master"].drop_nulls().str.starts_with("print_").any()
    assert run_id


def test_variants_with_a_parent_in_another_case_inherit_and_group(
    golden: pl.DataFrame, products: dict[str, dict[str, str]], pim: Path, live: Path
) -> None:
    models = {r["code"]: r for r in read_csv(pim / "product_models.csv")}
    spelled = {code.lower(): code for code in models}
    odd = {
        sku: row["parent"]
        for sku, row in products.items()
        if row["parent"] and row["parent"] not in models and row["parent"].lower() in spelled
    }
    assert odd
    rows = {r["sku"]: r for r in golden.filter(pl.col("sku").is_in(list(odd))).to_dicts()}
    for sku, parent in odd.items():
        model = spelled[parent.lower()]
        assert rows[sku]["parent"] == model  # the PIM's spelling of the model
        assert rows[sku]["item_group"] is not None
        assert rows[sku]["attr.name-de_DE"]  # inherited from the root model
        assert rows[sku]["variant_axes"]
    titles = {i["sku"]: i["name"] for i in website_products(live)}
    google = etree.parse(str(live / "marketplace" / "google_merchant.xml"))
    google_titles = [i.findtext(f"{G}title") for i in google.iter("item")]
    assert len(set(google_titles)) == len(google_titles)  # variant titles are distinct
    assert titles


def test_images_follow_the_familys_image_attribute_and_absolute_urls_stay(
    golden: pl.DataFrame, products: dict[str, dict[str, str]]
) -> None:
    tools = golden.filter(pl.col("family").is_in(["power_tools", "hand_tools"]))
    assert tools.height
    for row in tools.iter_rows(named=True):
        packshot = products[row["sku"]]["packshot"]
        if packshot:
            assert row["image_url"].endswith(packshot.rsplit("/", 1)[-1])
            assert len(row["images"]) >= 1
    absolute = {s: r["image"] for s, r in products.items() if r["image"].startswith("https://")}
    assert absolute
    urls = dict(golden.select("sku", "image_url").iter_rows())
    families = dict(golden.select("sku", "family").iter_rows())
    for sku, url in absolute.items():
        if families[sku] not in ("power_tools", "hand_tools"):
            assert urls[sku] == url  # kept as it is, no media prefix
    assert not golden["images"].explode().drop_nulls().str.contains(r"https?://.+https?://").any()
