from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from factories import golden_products, price_tiers, product, tier
from lxml import etree

from contracts.config import Customer, QuotingChannel, Supplier
from sinks.bmecat import BMECAT_NS, LANGUAGES, write_bmecat
from sinks.xml_text import SinkInputError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bmecat"
NS = {"b": BMECAT_NS}
B = f"{{{BMECAT_NS}}}"
GENERATED = dt.datetime(2026, 11, 22, 19, 56, 7, tzinfo=dt.timezone(dt.timedelta(hours=1)))
CUSTOMER = Customer(id="C1000", name="Baumarkt Nord GmbH", group="retail")
CHANNEL = QuotingChannel(
    format="bmecat",
    locale="de_DE",
    currency="EUR",
    supplier=Supplier(id="EXAMPLE", name="Example GmbH & Co. KG"),
    customers=(CUSTOMER,),
)
ROOT_2005 = b'<BMECAT version="2005" xmlns="http://www.bmecat.org/bmecat/2005">'
ROOT_2005_1 = b'<BMECAT version="2005.1" xmlns="http://www.bmecat.org/bmecat/2005.1">'


@pytest.fixture(scope="module")
def schema_2005() -> etree.XMLSchema:
    """The official 2005 schema, its ``2005fd`` targetNamespace quirk rewritten to ``2005``."""
    text = (FIXTURES / "bmecat_2005.xsd").read_bytes()
    fixed = text.replace(b"http://www.bmecat.org/bmecat/2005fd", BMECAT_NS.encode())
    return etree.XMLSchema(etree.fromstring(fixed))


@pytest.fixture(scope="module")
def schema_2005_1() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(FIXTURES / "bmecat_2005_1.xsd")))


def write(
    tmp_path: Path, products: pl.DataFrame, tiers: pl.DataFrame, **kwargs: Any
) -> tuple[int, bytes]:
    path = tmp_path / "catalog.xml"
    written = write_bmecat(products, tiers, CHANNEL, CUSTOMER, path, "1.0", GENERATED, **kwargs)
    return written, path.read_bytes()


def assert_valid(
    document: bytes, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    schema_2005.assertValid(etree.fromstring(document))
    assert document.count(ROOT_2005) == 1
    schema_2005_1.assertValid(etree.fromstring(document.replace(ROOT_2005, ROOT_2005_1)))


def products_by_pid(document: bytes) -> dict[str, etree._Element]:
    root = etree.fromstring(document)
    return {
        p.findtext("b:SUPPLIER_PID", namespaces=NS): p for p in root.iterfind(".//b:PRODUCT", NS)
    }


def prices(product_element: etree._Element) -> list[tuple[str, str, str, str]]:
    return [
        (
            price.get("price_type"),
            price.findtext("b:PRICE_AMOUNT", namespaces=NS),
            price.findtext("b:PRICE_CURRENCY", namespaces=NS),
            price.findtext("b:LOWER_BOUND", namespaces=NS),
        )
        for price in product_element.iterfind("b:PRODUCT_PRICE_DETAILS/b:PRODUCT_PRICE", NS)
    ]


def test_document_validates_against_both_schemas(
    tmp_path: Path, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    products = golden_products(
        product("A1"),
        product("B2", brand=None, gtin=None, color=None, size=None, image_url=None),
        product("C3", description_de_DE=None, image_url="https://media.example.com/c3.PNG"),
    )
    tiers = price_tiers(
        tier("A1", "9.50"),
        tier("A1", "8.125", min_quantity=10, price_type="customer", customer_id="C1000"),
        tier("B2", "3"),
        tier("C3", "4.5", price_type="group", customer_group="retail"),
    )
    written, document = write(tmp_path, products, tiers)
    assert written == 3
    assert_valid(document, schema_2005, schema_2005_1)


def test_header_names_catalog_buyer_and_supplier(tmp_path: Path) -> None:
    _, document = write(tmp_path, golden_products(product("A1")), price_tiers(tier("A1", "1")))
    header = etree.fromstring(document).find("b:HEADER", NS)
    text = {el.tag.removeprefix(B): el.text for el in header.iter() if el.text and el.text.strip()}
    assert text == {
        "GENERATOR_INFO": "Prism",
        "LANGUAGE": "deu",
        "CATALOG_ID": "C1000",
        "CATALOG_VERSION": "1.0",
        "CATALOG_NAME": "Example GmbH & Co. KG - Baumarkt Nord GmbH",
        "DATE": "2026-11-22",
        "TIME": "19:56:07",
        "TIMEZONE": "+01:00",
        "CURRENCY": "EUR",
        "BUYER_ID": "C1000",
        "BUYER_NAME": "Baumarkt Nord GmbH",
        "SUPPLIER_ID": "EXAMPLE",
        "SUPPLIER_NAME": "Example GmbH & Co. KG",
    }
    assert header.find("b:CATALOG/b:DATETIME", NS).get("type") == "generation_date"


def test_naive_generation_time_has_no_timezone(tmp_path: Path) -> None:
    path = tmp_path / "catalog.xml"
    naive = dt.datetime(2026, 1, 2, 3, 4, 5)
    products, tiers = golden_products(product("A1")), price_tiers(tier("A1", "1"))
    write_bmecat(products, tiers, CHANNEL, CUSTOMER, path, "12.345", naive)
    catalog = etree.parse(str(path)).find("b:HEADER/b:CATALOG", NS)
    assert catalog.findtext("b:DATETIME/b:TIME", namespaces=NS) == "03:04:05"
    assert catalog.find("b:DATETIME/b:TIMEZONE", NS) is None
    assert catalog.findtext("b:CATALOG_VERSION", namespaces=NS) == "12.345"


def test_product_carries_details_order_details_and_image(tmp_path: Path) -> None:
    _, document = write(tmp_path, golden_products(product("A1")), price_tiers(tier("A1", "1")))
    element = products_by_pid(document)["A1"]
    assert element.get("mode") == "new"
    assert [child.tag.removeprefix(B) for child in element] == [
        "SUPPLIER_PID",
        "PRODUCT_DETAILS",
        "PRODUCT_FEATURES",
        "PRODUCT_ORDER_DETAILS",
        "PRODUCT_PRICE_DETAILS",
        "MIME_INFO",
    ]
    details = element.find("b:PRODUCT_DETAILS", NS)
    assert details.findtext("b:DESCRIPTION_SHORT", namespaces=NS) == "Shirt A1 (de)"
    assert details.findtext("b:DESCRIPTION_LONG", namespaces=NS) == "A shirt called A1 (de)"
    assert details.find("b:INTERNATIONAL_PID", NS).get("type") == "gtin"
    assert details.findtext("b:INTERNATIONAL_PID", namespaces=NS) == "4006381333931"
    assert details.findtext("b:MANUFACTURER_NAME", namespaces=NS) == "Acme"
    features = {
        f.findtext("b:FNAME", namespaces=NS): f.findtext("b:FVALUE", namespaces=NS)
        for f in element.iterfind("b:PRODUCT_FEATURES/b:FEATURE", NS)
    }
    assert features == {"Farbe": "blue", "Größe": "m"}
    order = {c.tag.removeprefix(B): c.text for c in element.find("b:PRODUCT_ORDER_DETAILS", NS)}
    assert order == {
        "ORDER_UNIT": "C62",
        "CONTENT_UNIT": "C62",
        "NO_CU_PER_OU": "1",
        "PRICE_QUANTITY": "1",
        "QUANTITY_MIN": "1",
        "QUANTITY_INTERVAL": "1",
    }
    mime = element.find("b:MIME_INFO/b:MIME", NS)
    assert mime.findtext("b:MIME_TYPE", namespaces=NS) == "image/jpeg"
    assert mime.findtext("b:MIME_SOURCE", namespaces=NS) == "https://media.example.com/A1.jpg"
    assert mime.findtext("b:MIME_PURPOSE", namespaces=NS) == "normal"


def test_optional_elements_are_omitted_when_null(tmp_path: Path) -> None:
    optional = ("brand", "gtin", "color", "size", "image_url", "description_de_DE")
    row = product("A1", **dict.fromkeys(optional))
    _, document = write(tmp_path, golden_products(row), price_tiers(tier("A1", "1")))
    element = products_by_pid(document)["A1"]
    children = [child.tag.removeprefix(B) for child in element]
    assert children == [
        "SUPPLIER_PID",
        "PRODUCT_DETAILS",
        "PRODUCT_ORDER_DETAILS",
        "PRODUCT_PRICE_DETAILS",
    ]
    details = [child.tag.removeprefix(B) for child in element.find("b:PRODUCT_DETAILS", NS)]
    assert details == ["DESCRIPTION_SHORT"]


def test_tiers_become_sorted_prices_rounded_half_up(tmp_path: Path) -> None:
    tiers = price_tiers(
        tier("A1", "7.005", min_quantity=100, price_type="customer", customer_id="C1000"),
        tier("A1", "10", min_quantity=1),
        tier("A1", "0.125", min_quantity=50, price_type="group", customer_group="retail"),
        tier("A1", "9.994999", min_quantity=10),
        tier("B2", "2.675"),
    )
    written, document = write(tmp_path, golden_products(product("A1"), product("B2")), tiers)
    found = products_by_pid(document)
    assert written == 2
    assert prices(found["A1"]) == [
        ("net_list", "10.00", "EUR", "1"),
        ("net_list", "9.99", "EUR", "10"),
        ("net_customer", "0.13", "EUR", "50"),
        ("net_customer", "7.01", "EUR", "100"),
    ]
    assert prices(found["B2"]) == [("net_list", "2.68", "EUR", "1")]


def test_products_without_tiers_are_left_out(tmp_path: Path) -> None:
    products = golden_products(product("A1"), product("NOPRICE"), product("C3"))
    tiers = price_tiers(tier("A1", "1"), tier("C3", "2"), tier("ORPHAN", "3"))
    written, document = write(tmp_path, products, tiers)
    assert written == 2
    assert list(products_by_pid(document)) == ["A1", "C3"]


def test_no_priced_product_still_writes_a_valid_catalog(
    tmp_path: Path, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    written, document = write(tmp_path, golden_products(product("A1")), price_tiers())
    assert written == 0
    assert_valid(document, schema_2005, schema_2005_1)


def test_text_is_escaped_stripped_and_cut_to_schema_limits(
    tmp_path: Path, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    name = 'Müller & Söhne <Hemd> "XL" 😀\x01\x0b\ufffe'
    row = product(
        "A&B<1>",
        name_de_DE=name,
        description_de_DE="a < b & c\n" + "x" * 70_000,
        brand="Ä" * 60,
        color="Grün & <Blau>",
        size="😀" * 70,
    )
    _, document = write(tmp_path, golden_products(row), price_tiers(tier("A&B<1>", "1")))
    assert_valid(document, schema_2005, schema_2005_1)
    element = products_by_pid(document)["A&B<1>"]
    details = element.find("b:PRODUCT_DETAILS", NS)
    assert details.findtext("b:DESCRIPTION_SHORT", namespaces=NS) == 'Müller & Söhne <Hemd> "XL" 😀'
    long_text = details.findtext("b:DESCRIPTION_LONG", namespaces=NS)
    assert long_text.startswith("a < b & c\nxx")
    assert len(long_text) == 64_000
    assert details.findtext("b:MANUFACTURER_NAME", namespaces=NS) == "Ä" * 50
    values = [f.text for f in element.iterfind("b:PRODUCT_FEATURES/b:FEATURE/b:FVALUE", NS)]
    assert values == ["Grün & <Blau>", "😀" * 60]


def test_long_names_are_cut_to_150_characters(tmp_path: Path) -> None:
    row = product("A1", name_de_DE="N" * 200)
    _, document = write(tmp_path, golden_products(row), price_tiers(tier("A1", "1")))
    short = products_by_pid(document)["A1"].findtext(
        "b:PRODUCT_DETAILS/b:DESCRIPTION_SHORT", namespaces=NS
    )
    assert short == "N" * 150


@pytest.mark.parametrize("chunk_rows", [1, 2, 5, 7, 50_000])
def test_chunk_boundaries_keep_each_products_tiers(
    tmp_path: Path, chunk_rows: int, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    skus = [f"S{i:02d}" for i in range(23)]
    rows = [product(sku) for sku in skus]
    tier_rows = [
        tier(sku, f"{i}.{q}", min_quantity=q)
        for i, sku in enumerate(skus)
        if i % 4 != 3  # every fourth product has no tier
        for q in range(i % 3 + 1, 0, -1)  # 1..3 tiers, in descending order
    ]
    written, document = write(
        tmp_path, golden_products(*rows), price_tiers(*tier_rows[::-1]), chunk_rows=chunk_rows
    )
    expected = [sku for i, sku in enumerate(skus) if i % 4 != 3]
    found = products_by_pid(document)
    assert written == len(expected)
    assert list(found) == expected
    for sku in expected:
        i = skus.index(sku)
        bounds = [str(q) for q in range(1, i % 3 + 2)]
        assert prices(found[sku]) == [("net_list", f"{i}.{b}0", "EUR", b) for b in bounds]
    assert_valid(document, schema_2005, schema_2005_1)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([{"currency": "USD"}], "channel currency EUR"),
        ([{"price_type": "promo"}], "unknown price_type"),
        ([{}, {"unit_price": Decimal("2")}], "precedence not applied"),
        ([{"unit_price": None}], "without 'unit_price'"),
        ([{"min_quantity": None}], "without 'min_quantity'"),
    ],
)
def test_tiers_the_catalog_cannot_express_fail(
    tmp_path: Path, overrides: list[dict[str, Any]], message: str
) -> None:
    tiers = price_tiers(*(tier("A1", "1") | changes for changes in overrides))
    with pytest.raises(SinkInputError, match=message):
        write(tmp_path, golden_products(product("A1")), tiers)


def test_sku_longer_than_supplier_pid_fails(tmp_path: Path) -> None:
    sku = "X" * 33
    with pytest.raises(SinkInputError, match="longer than 32"):
        write(tmp_path, golden_products(product(sku)), price_tiers(tier(sku, "1")))


@pytest.mark.parametrize("version", ["1", "v1.0", "1.0.0", "1234.1", ""])
def test_catalog_version_must_be_major_minor(tmp_path: Path, version: str) -> None:
    products, tiers = golden_products(product("A1")), price_tiers(tier("A1", "1"))
    with pytest.raises(SinkInputError, match="catalog_version"):
        write_bmecat(products, tiers, CHANNEL, CUSTOMER, tmp_path / "c.xml", version, GENERATED)


def test_every_language_code_is_a_bmecat_language() -> None:
    schema = etree.parse(str(FIXTURES / "bmecat_2005.xsd"))
    xs = {"xsd": "http://www.w3.org/2001/XMLSchema"}
    allowed = set(
        schema.xpath("//xsd:simpleType[@name='dtLANG']//xsd:enumeration/@value", namespaces=xs)
    )
    assert set(LANGUAGES.values()) <= allowed


def test_money_amounts_are_exact_decimals(tmp_path: Path) -> None:
    tiers = price_tiers(tier("A1", "123456789012.345000"))
    _, document = write(tmp_path, golden_products(product("A1")), tiers)
    assert prices(products_by_pid(document)["A1"])[0][1] == "123456789012.35"


def test_product_without_name_fails(tmp_path: Path) -> None:
    products = golden_products(product("A1", name_de_DE=None))
    with pytest.raises(SinkInputError, match="without 'name_de_DE'"):
        write(tmp_path, products, price_tiers(tier("A1", "1")))
