from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import factories
import polars as pl
import pytest
from lxml import etree  # type: ignore[import-untyped]
from pydantic import ValidationError

from contracts.config import ChannelConfig
from contracts.formats import WriteContext
from contracts.snapshots import FeedFile
from golden.pricing import effective_tiers
from sinks.formats import bmecat
from sinks.formats.bmecat import (
    BMECAT_NS,
    FIELDS,
    LANGUAGES,
    PRESETS,
    SPEC,
    Options,
    write,
)
from sinks.xml_text import SinkInputError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bmecat"
NS = {"b": BMECAT_NS}
B = f"{{{BMECAT_NS}}}"
GENERATED = dt.datetime(2026, 11, 22, 19, 56, 7, tzinfo=dt.timezone(dt.timedelta(hours=1)))
ROOT_2005 = b'<BMECAT version="2005" xmlns="http://www.bmecat.org/bmecat/2005">'
ROOT_2005_1 = b'<BMECAT version="2005.1" xmlns="http://www.bmecat.org/bmecat/2005.1">'
SUPPLIER = {"id": "EXAMPLE", "name": "Example GmbH & Co. KG"}
CUSTOMER = {"id": "C1000", "name": "Baumarkt Nord GmbH", "group": "retail"}
COLUMNS = tuple(f.name for f in FIELDS)


@pytest.fixture(scope="module")
def schema_2005() -> etree.XMLSchema:
    """The official 2005 schema, its ``2005fd`` targetNamespace quirk rewritten to ``2005``."""
    text = (FIXTURES / "bmecat_2005.xsd").read_bytes()
    fixed = text.replace(b"http://www.bmecat.org/bmecat/2005fd", BMECAT_NS.encode())
    return etree.XMLSchema(etree.fromstring(fixed))


@pytest.fixture(scope="module")
def schema_2005_1() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(FIXTURES / "bmecat_2005_1.xsd")))


def product(sku: str, **overrides: Any) -> dict[str, Any]:
    """A product with every field of the format mapped and filled."""
    values: dict[str, Any] = {
        "sku": sku,
        "short_description": f"Hemd {sku}",
        "long_description": f"Ein Hemd namens {sku}",
        "gtin": "4006381333931",
        "manufacturer_pid": f"MPN-{sku}",
        "manufacturer_name": "Acme Textil",
        "feature_color": "Blau",
        "feature_size": "M",
        "classification_system": "ECLASS-13.0",
        "classification_group": "27180101",
        "image": f"https://media.example.com/{sku}.jpg",
    }
    values.update(overrides)
    return values


def products(*rows: dict[str, Any], columns: tuple[str, ...] = COLUMNS) -> pl.DataFrame:
    """The writer's input: ``sku`` then the mapped fields (all of them text here)."""
    schema = {"sku": pl.String(), **dict.fromkeys(columns, pl.String())}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def tier(sku: str, unit_price: str, **overrides: Any) -> dict[str, Any]:
    """A tier without a start date unless a test gives one (the writer prints validity)."""
    return factories.tier(sku, unit_price, **({"valid_from": None} | overrides))


tiers = factories.price_tiers


def options(**overrides: Any) -> Options:
    values: dict[str, Any] = {"supplier": SUPPLIER, "customers": [CUSTOMER]}
    return Options.model_validate(values | overrides)


def context(
    tmp_path: Path,
    tier_rows: pl.DataFrame,
    opts: Options | None = None,
    created: dt.datetime = GENERATED,
    **settings: Any,
) -> WriteContext:
    config = {"format": "bmecat", "locale": "de_DE", "currency": "EUR"} | settings
    return WriteContext(
        channel="quoting",
        settings=ChannelConfig(**config),
        options=opts if opts is not None else options(),
        folder=tmp_path,
        snapshot_id="20261122T185607Z-ab12cd34",
        created=created,
        tiers=tier_rows,
        golden=None,
        price_rule=effective_tiers,
    )


def written(
    tmp_path: Path, frame: pl.DataFrame, tier_rows: pl.DataFrame, **kwargs: Any
) -> tuple[int, bytes]:
    """The one customer's catalog: products written and the document."""
    [feed_file] = write(frame, context(tmp_path, tier_rows, **kwargs))
    assert feed_file == FeedFile("quoting", "quoting/C1000.xml", feed_file.rows)
    return feed_file.rows, (tmp_path / "C1000.xml").read_bytes()


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


def children(element: etree._Element) -> list[str]:
    return [child.tag.removeprefix(B) for child in element]


def test_document_validates_against_both_schemas(
    tmp_path: Path, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    frame = products(
        product("A1"),
        product("B2", **dict.fromkeys(COLUMNS[1:])),
        product("C3", long_description=None, image="https://media.example.com/c3.PNG"),
    )
    tier_rows = tiers(
        tier("A1", "9.50"),
        tier("A1", "8.125", min_quantity=10, price_type="customer", customer_id="C1000"),
        tier("B2", "3"),
        tier("C3", "4.5", price_type="group", customer_group="retail"),
    )
    rows, document = written(tmp_path, frame, tier_rows)
    assert rows == 3
    assert_valid(document, schema_2005, schema_2005_1)


def test_header_names_catalog_buyer_and_supplier(tmp_path: Path) -> None:
    _, document = written(tmp_path, products(product("A1")), tiers(tier("A1", "1")))
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


@pytest.mark.parametrize(
    ("created", "time", "zone"),
    [
        (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "03:04:05", "+00:00"),
        (
            dt.datetime(
                2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30))
            ),
            "03:04:05",
            "-03:30",
        ),
        (dt.datetime(2026, 1, 2, 3, 4, 5), "03:04:05", None),
    ],
)
def test_generation_time_carries_its_time_zone(
    tmp_path: Path, created: dt.datetime, time: str, zone: str | None
) -> None:
    opts = options(catalog_version="12.345")
    _, document = written(
        tmp_path, products(product("A1")), tiers(tier("A1", "1")), opts=opts, created=created
    )
    catalog = etree.fromstring(document).find("b:HEADER/b:CATALOG", NS)
    assert catalog.findtext("b:DATETIME/b:DATE", namespaces=NS) == "2026-01-02"
    assert catalog.findtext("b:DATETIME/b:TIME", namespaces=NS) == time
    assert catalog.findtext("b:DATETIME/b:TIMEZONE", namespaces=NS) == zone
    assert catalog.findtext("b:CATALOG_VERSION", namespaces=NS) == "12.345"


def test_product_carries_details_features_order_details_and_image(tmp_path: Path) -> None:
    _, document = written(tmp_path, products(product("A1")), tiers(tier("A1", "1")))
    element = products_by_pid(document)["A1"]
    assert element.get("mode") == "new"
    assert children(element) == [
        "SUPPLIER_PID",
        "PRODUCT_DETAILS",
        "PRODUCT_FEATURES",
        "PRODUCT_FEATURES",
        "PRODUCT_ORDER_DETAILS",
        "PRODUCT_PRICE_DETAILS",
        "MIME_INFO",
    ]
    details = element.find("b:PRODUCT_DETAILS", NS)
    assert children(details) == [
        "DESCRIPTION_SHORT",
        "DESCRIPTION_LONG",
        "INTERNATIONAL_PID",
        "MANUFACTURER_PID",
        "MANUFACTURER_NAME",
    ]
    assert details.findtext("b:DESCRIPTION_SHORT", namespaces=NS) == "Hemd A1"
    assert details.findtext("b:DESCRIPTION_LONG", namespaces=NS) == "Ein Hemd namens A1"
    assert details.find("b:INTERNATIONAL_PID", NS).get("type") == "gtin"
    assert details.findtext("b:INTERNATIONAL_PID", namespaces=NS) == "4006381333931"
    assert details.findtext("b:MANUFACTURER_PID", namespaces=NS) == "MPN-A1"
    # the label the mapping passed (the brand role's option label), not an option code
    assert details.findtext("b:MANUFACTURER_NAME", namespaces=NS) == "Acme Textil"
    classification, free = element.iterfind("b:PRODUCT_FEATURES", NS)
    assert children(classification) == [
        "REFERENCE_FEATURE_SYSTEM_NAME",
        "REFERENCE_FEATURE_GROUP_ID",
    ]
    assert classification.findtext("b:REFERENCE_FEATURE_SYSTEM_NAME", namespaces=NS) == (
        "ECLASS-13.0"
    )
    assert classification.findtext("b:REFERENCE_FEATURE_GROUP_ID", namespaces=NS) == "27180101"
    features = {
        f.findtext("b:FNAME", namespaces=NS): f.findtext("b:FVALUE", namespaces=NS)
        for f in free.iterfind("b:FEATURE", NS)
    }
    assert features == {"Farbe": "Blau", "Größe": "M"}
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
    row = product("A1", **dict.fromkeys(COLUMNS[1:]))
    _, document = written(tmp_path, products(row), tiers(tier("A1", "1")))
    element = products_by_pid(document)["A1"]
    assert children(element) == [
        "SUPPLIER_PID",
        "PRODUCT_DETAILS",
        "PRODUCT_ORDER_DETAILS",
        "PRODUCT_PRICE_DETAILS",
    ]
    assert children(element.find("b:PRODUCT_DETAILS", NS)) == ["DESCRIPTION_SHORT"]


def test_unmapped_fields_are_left_out(
    tmp_path: Path, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    frame = products(product("A1"), columns=("short_description",))
    rows, document = written(tmp_path, frame, tiers(tier("A1", "1")))
    assert rows == 1
    assert_valid(document, schema_2005, schema_2005_1)
    element = products_by_pid(document)["A1"]
    assert children(element) == [
        "SUPPLIER_PID",
        "PRODUCT_DETAILS",
        "PRODUCT_ORDER_DETAILS",
        "PRODUCT_PRICE_DETAILS",
    ]


@pytest.mark.parametrize(
    ("system", "group", "expected"),
    [
        (None, "27180101", [["REFERENCE_FEATURE_GROUP_ID"]]),
        ("ETIM-9.0", None, []),  # a system without a group says nothing
        (None, None, []),
    ],
)
def test_classification_needs_a_group(
    tmp_path: Path,
    system: str | None,
    group: str | None,
    expected: list[list[str]],
    schema_2005: etree.XMLSchema,
    schema_2005_1: etree.XMLSchema,
) -> None:
    row = product(
        "A1",
        classification_system=system,
        classification_group=group,
        feature_color=None,
        feature_size=None,
    )
    _, document = written(tmp_path, products(row), tiers(tier("A1", "1")))
    assert_valid(document, schema_2005, schema_2005_1)
    element = products_by_pid(document)["A1"]
    assert [children(f) for f in element.iterfind("b:PRODUCT_FEATURES", NS)] == expected


def test_tiers_become_sorted_prices_rounded_half_up(tmp_path: Path) -> None:
    tier_rows = tiers(
        tier("A1", "7.005", min_quantity=100),
        tier("A1", "10", min_quantity=1),
        tier("A1", "0.125", min_quantity=50),
        tier("A1", "9.994999", min_quantity=10),
        tier("B2", "2.675", price_type="customer", customer_id="C1000"),
        tier("C3", "1.005", price_type="group", customer_group="retail"),
    )
    frame = products(product("A1"), product("B2"), product("C3"))
    rows, document = written(tmp_path, frame, tier_rows)
    found = products_by_pid(document)
    assert rows == 3
    assert prices(found["A1"]) == [
        ("net_list", "10.00", "EUR", "1"),
        ("net_list", "9.99", "EUR", "10"),
        ("net_list", "0.13", "EUR", "50"),
        ("net_list", "7.01", "EUR", "100"),
    ]
    assert prices(found["B2"]) == [("net_customer", "2.68", "EUR", "1")]
    assert prices(found["C3"]) == [("net_customer", "1.01", "EUR", "1")]


def test_the_customers_own_tiers_win_and_levels_are_not_mixed(tmp_path: Path) -> None:
    tier_rows = tiers(
        tier("A1", "10"),
        tier("A1", "6", min_quantity=50),
        tier("A1", "8", price_type="group", customer_group="retail"),
        tier("A1", "7", min_quantity=100, price_type="group", customer_group="retail"),
        tier("A1", "9", price_type="customer", customer_id="C1000"),
        tier("B2", "10"),
        tier("B2", "8", price_type="group", customer_group="retail"),
        tier("B2", "1", price_type="customer", customer_id="OTHER"),
        tier("C3", "10"),
        tier("C3", "2", price_type="group", customer_group="wholesale"),
    )
    frame = products(product("A1"), product("B2"), product("C3"))
    _, document = written(tmp_path, frame, tier_rows)
    found = products_by_pid(document)
    assert prices(found["A1"]) == [("net_customer", "9.00", "EUR", "1")]
    assert prices(found["B2"]) == [("net_customer", "8.00", "EUR", "1")]
    assert prices(found["C3"]) == [("net_list", "10.00", "EUR", "1")]


def test_validity_dates_group_the_price_details(
    tmp_path: Path, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    start, end = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
    tier_rows = tiers(
        tier("A1", "10", valid_from=start, valid_to=end),
        tier("A1", "9", min_quantity=10, valid_from=start, valid_to=end),
        tier("A1", "8", min_quantity=50),
        tier("A1", "7", min_quantity=100, valid_to=end),
        tier("A1", "6", min_quantity=500, valid_from=start, valid_to=end),
        tier("B2", "5"),
    )
    _, document = written(tmp_path, products(product("A1"), product("B2")), tier_rows)
    assert_valid(document, schema_2005, schema_2005_1)
    found = products_by_pid(document)
    groups = [
        (
            [
                (d.get("type"), d.findtext("b:DATE", namespaces=NS))
                for d in details.iterfind("b:DATETIME", NS)
            ],
            [
                p.findtext("b:LOWER_BOUND", namespaces=NS)
                for p in details.iterfind("b:PRODUCT_PRICE", NS)
            ],
        )
        for details in found["A1"].iterfind("b:PRODUCT_PRICE_DETAILS", NS)
    ]
    assert groups == [
        (
            [("valid_start_date", "2026-01-01"), ("valid_end_date", "2026-12-31")],
            ["1", "10", "500"],
        ),
        ([], ["50"]),
        ([("valid_end_date", "2026-12-31")], ["100"]),
    ]
    [details] = found["B2"].iterfind("b:PRODUCT_PRICE_DETAILS", NS)
    assert children(details) == ["PRODUCT_PRICE"]


def test_only_the_main_currency_is_written(tmp_path: Path) -> None:
    tier_rows = tiers(
        tier("A1", "10"),
        tier("A1", "11", currency="USD"),
        tier("B2", "5", currency="USD"),
    )
    rows, document = written(
        tmp_path,
        products(product("A1"), product("B2")),
        tier_rows,
        currency=None,
        currencies=("EUR", "USD"),
    )
    assert rows == 1
    assert prices(products_by_pid(document)["A1"]) == [("net_list", "10.00", "EUR", "1")]
    header = etree.fromstring(document).find("b:HEADER/b:CATALOG", NS)
    assert header.findtext("b:CURRENCY", namespaces=NS) == "EUR"


def test_products_without_tiers_are_left_out_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frame = products(product("A1"), product("NOPRICE"), product("C3"))
    tier_rows = tiers(tier("A1", "1"), tier("C3", "2"), tier("ORPHAN", "3"))
    with caplog.at_level(logging.WARNING, logger=bmecat.__name__):
        rows, document = written(tmp_path, frame, tier_rows)
    assert rows == 2
    assert list(products_by_pid(document)) == ["A1", "C3"]
    assert "C1000: 1 product(s) without a price tier left out" in caplog.text


@pytest.mark.parametrize("frame", [products(product("A1")), products()])
def test_no_priced_product_still_writes_a_valid_catalog(
    tmp_path: Path,
    frame: pl.DataFrame,
    schema_2005: etree.XMLSchema,
    schema_2005_1: etree.XMLSchema,
) -> None:
    rows, document = written(tmp_path, frame, tiers())
    assert rows == 0
    assert_valid(document, schema_2005, schema_2005_1)


def test_text_is_escaped_stripped_and_cut_to_schema_limits(
    tmp_path: Path, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    name = 'Müller & Söhne <Hemd> "XL" </PRODUCT> 😀\x01\x0b\ufffe'
    row = product(
        "A&B<1>",
        short_description=name,
        long_description="a < b & c ]]> \n" + "x" * 70_000,
        manufacturer_name="Ä" * 60,
        manufacturer_pid='"><x',
        feature_color="Grün & <Blau>",
        feature_size="😀" * 70,
        classification_group="27-18 & <01>",
        image='https://media.example.com/a.jpg?x=1&y="2"',
    )
    _, document = written(tmp_path, products(row), tiers(tier("A&B<1>", "1")))
    assert_valid(document, schema_2005, schema_2005_1)
    element = products_by_pid(document)["A&B<1>"]
    details = element.find("b:PRODUCT_DETAILS", NS)
    short = details.findtext("b:DESCRIPTION_SHORT", namespaces=NS)
    assert short == 'Müller & Söhne <Hemd> "XL" </PRODUCT> 😀'
    long_text = details.findtext("b:DESCRIPTION_LONG", namespaces=NS)
    assert long_text.startswith("a < b & c ]]> \nxx")
    assert len(long_text) == 64_000
    assert details.findtext("b:MANUFACTURER_NAME", namespaces=NS) == "Ä" * 50
    assert details.findtext("b:MANUFACTURER_PID", namespaces=NS) == '"><x'
    values = [f.text for f in element.iterfind("b:PRODUCT_FEATURES/b:FEATURE/b:FVALUE", NS)]
    assert values == ["Grün & <Blau>", "😀" * 60]
    group = element.findtext("b:PRODUCT_FEATURES/b:REFERENCE_FEATURE_GROUP_ID", namespaces=NS)
    assert group == "27-18 & <01>"
    source = element.findtext("b:MIME_INFO/b:MIME/b:MIME_SOURCE", namespaces=NS)
    assert source == 'https://media.example.com/a.jpg?x=1&y="2"'


def test_values_that_escape_to_nothing_are_left_out(
    tmp_path: Path, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    row = product("A1", short_description="\ufffe", manufacturer_name="\uffff", feature_size=None)
    _, document = written(tmp_path, products(row), tiers(tier("A1", "1")))
    assert_valid(document, schema_2005, schema_2005_1)
    details = products_by_pid(document)["A1"].find("b:PRODUCT_DETAILS", NS)
    assert details.findtext("b:DESCRIPTION_SHORT", namespaces=NS) == "A1"  # the sku instead
    assert details.find("b:MANUFACTURER_NAME", NS) is None


def test_long_names_are_cut_to_150_characters(tmp_path: Path) -> None:
    row = product("A1", short_description="N" * 200)
    _, document = written(tmp_path, products(row), tiers(tier("A1", "1")))
    short = products_by_pid(document)["A1"].findtext(
        "b:PRODUCT_DETAILS/b:DESCRIPTION_SHORT", namespaces=NS
    )
    assert short == "N" * 150


def test_images_the_schema_cannot_hold_or_type(tmp_path: Path) -> None:
    long_url = "https://media.example.com/" + "x" * 230 + ".jpg"
    frame = products(
        product("LONG", image=long_url),
        product("PNG", image="https://media.example.com/a.PNG"),
        product("GIF", image="https://media.example.com/a.GIF?v=2"),
    )
    tier_rows = tiers(tier("LONG", "1"), tier("PNG", "1"), tier("GIF", "1"))
    _, document = written(tmp_path, frame, tier_rows)
    found = products_by_pid(document)
    assert found["LONG"].find("b:MIME_INFO", NS) is None
    assert found["PNG"].find("b:MIME_INFO/b:MIME/b:MIME_TYPE", NS) is None
    assert found["PNG"].find("b:MIME_INFO/b:MIME/b:MIME_SOURCE", NS) is not None
    assert found["GIF"].findtext("b:MIME_INFO/b:MIME/b:MIME_TYPE", namespaces=NS) == "image/gif"


@pytest.mark.parametrize("chunk_rows", [1, 2, 5, 7, 50_000])
def test_chunk_boundaries_keep_each_products_tiers(
    tmp_path: Path,
    chunk_rows: int,
    monkeypatch: pytest.MonkeyPatch,
    schema_2005: etree.XMLSchema,
    schema_2005_1: etree.XMLSchema,
) -> None:
    monkeypatch.setattr(bmecat, "CHUNK_ROWS", chunk_rows)
    skus = [f"S{i:02d}" for i in range(23)]
    end = dt.date(2027, 6, 30)
    tier_rows = [
        tier(sku, f"{i}.{q}", min_quantity=q, valid_to=end if q == 2 else None)
        for i, sku in enumerate(skus)
        if i % 4 != 3  # every fourth product has no tier
        for q in range(i % 3 + 1, 0, -1)  # 1..3 tiers, in descending order
    ]
    rows, document = written(
        tmp_path, products(*(product(s) for s in skus)), tiers(*tier_rows[::-1])
    )
    expected = [sku for i, sku in enumerate(skus) if i % 4 != 3]
    found = products_by_pid(document)
    assert rows == len(expected)
    assert list(found) == expected
    for sku in expected:
        i = skus.index(sku)
        bounds = [str(q) for q in range(1, i % 3 + 2)]
        got = sorted(prices(found[sku]), key=lambda p: int(p[3]))
        assert got == [("net_list", f"{i}.{b}0", "EUR", b) for b in bounds]
        details = len(found[sku].findall("b:PRODUCT_PRICE_DETAILS", NS))
        assert details == (2 if "2" in bounds else 1)
    assert_valid(document, schema_2005, schema_2005_1)


def test_two_customers_get_two_catalogs_with_their_prices(
    tmp_path: Path, schema_2005: etree.XMLSchema, schema_2005_1: etree.XMLSchema
) -> None:
    customers = [CUSTOMER, {"id": "K/9 ü", "name": "Kunde Neun"}]
    tier_rows = tiers(
        tier("A1", "10"),
        tier("A1", "8", price_type="group", customer_group="retail"),
        tier("B2", "5", price_type="customer", customer_id="K/9 ü"),
    )
    frame = products(product("A1"), product("B2"))
    files = write(frame, context(tmp_path, tier_rows, options(customers=customers)))
    assert files == [
        FeedFile("quoting", "quoting/C1000.xml", 1),
        FeedFile("quoting", "quoting/K%2F9%20%C3%BC.xml", 2),
    ]
    first = (tmp_path / "C1000.xml").read_bytes()
    second = (tmp_path / "K%2F9%20%C3%BC.xml").read_bytes()
    for document in (first, second):
        assert_valid(document, schema_2005, schema_2005_1)
    assert prices(products_by_pid(first)["A1"]) == [("net_customer", "8.00", "EUR", "1")]
    found = products_by_pid(second)
    assert prices(found["A1"]) == [("net_list", "10.00", "EUR", "1")]
    assert prices(found["B2"]) == [("net_customer", "5.00", "EUR", "1")]
    catalog = etree.fromstring(second).find("b:HEADER/b:CATALOG", NS)
    assert catalog.findtext("b:CATALOG_ID", namespaces=NS) == "K/9 ü"


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["C1", "c1"], "'C1' and 'c1'"),
        (["C1", "C1"], "'C1' and 'C1'"),
        (["Ä1", "ä1"], "'Ä1' and 'ä1'"),
    ],
)
def test_colliding_customer_ids_are_refused(ids: list[str], message: str) -> None:
    customers = [{"id": i, "name": f"Kunde {i}"} for i in ids]
    with pytest.raises(ValidationError, match=message):
        options(customers=customers)


@pytest.mark.parametrize(
    "overrides",
    [
        {"customers": []},
        {"customers": [{"id": "X" * 21, "name": "too long"}]},
        {"customers": [{"id": "", "name": "empty"}]},
        {"customers": [{"id": "C1", "name": "C", "segment": "x"}]},
        {"supplier": {"id": "S", "name": ""}},
        {"catalog_version": "1"},
        {"catalog_version": "v1.0"},
        {"catalog_version": "1.0.0"},
        {"catalog_version": "1234.1"},
        {"catalog_version": ""},
        {"chunk_rows": 10},
    ],
)
def test_options_are_checked(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        options(**overrides)


def test_a_channel_without_options_fails(tmp_path: Path) -> None:
    ctx = context(tmp_path, tiers())
    ctx = WriteContext(**{**ctx.__dict__, "options": None})
    with pytest.raises(SinkInputError, match="supplier and customers"):
        write(products(product("A1")), ctx)


def test_a_writer_without_the_price_resolution_fails(tmp_path: Path) -> None:
    ctx = context(tmp_path, tiers(tier("A1", "1")))
    ctx = WriteContext(**{**ctx.__dict__, "price_rule": None})
    with pytest.raises(SinkInputError, match="no price resolution"):
        write(products(product("A1")), ctx)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ([{"price_type": "promo"}], "unknown price_type"),
        ([{}, {"unit_price": Decimal("2")}], "several tiers for one sku and min_quantity"),
        ([{"unit_price": None}], "without 'unit_price'"),
        ([{"min_quantity": None}], "without 'min_quantity'"),
    ],
)
def test_tiers_the_catalog_cannot_express_fail(
    tmp_path: Path, overrides: list[dict[str, Any]], message: str
) -> None:
    tier_rows = tiers(*(tier("A1", "1") | changes for changes in overrides))
    with pytest.raises(SinkInputError, match=message):
        written(tmp_path, products(product("A1")), tier_rows)


def test_sku_longer_than_supplier_pid_fails(tmp_path: Path) -> None:
    sku = "X" * 33
    with pytest.raises(SinkInputError, match="longer than 32"):
        written(tmp_path, products(product(sku)), tiers(tier(sku, "1")))


def test_product_without_short_description_fails(tmp_path: Path) -> None:
    frame = products(product("A1", short_description=None))
    with pytest.raises(SinkInputError, match="without 'short_description'"):
        written(tmp_path, frame, tiers(tier("A1", "1")))


def test_every_language_code_is_a_bmecat_language() -> None:
    schema = etree.parse(str(FIXTURES / "bmecat_2005.xsd"))
    xs = {"xsd": "http://www.w3.org/2001/XMLSchema"}
    allowed = set(
        schema.xpath("//xsd:simpleType[@name='dtLANG']//xsd:enumeration/@value", namespaces=xs)
    )
    assert set(LANGUAGES.values()) <= allowed


@pytest.mark.parametrize(
    ("locale", "language", "names"),
    [
        ("de_DE", "deu", ["Farbe", "Größe"]),
        ("de_CH", "deu", ["Farbe", "Größe"]),
        ("fr_FR", "fra", ["Couleur", "Taille"]),
        ("en_GB", "eng", ["Color", "Size"]),
        ("nl_NL", "nld", ["Color", "Size"]),
        ("fra_FR", "fra", ["Couleur", "Taille"]),
    ],
)
def test_language_and_feature_names_follow_the_locale(
    tmp_path: Path,
    locale: str,
    language: str,
    names: list[str],
    schema_2005: etree.XMLSchema,
    schema_2005_1: etree.XMLSchema,
) -> None:
    _, document = written(tmp_path, products(product("A1")), tiers(tier("A1", "1")), locale=locale)
    assert_valid(document, schema_2005, schema_2005_1)
    root = etree.fromstring(document)
    assert root.findtext("b:HEADER/b:CATALOG/b:LANGUAGE", namespaces=NS) == language
    fnames = [f.text for f in root.iterfind(".//b:FEATURE/b:FNAME", NS)]
    assert fnames == names


def test_a_locale_without_iso_639_2_code_fails(tmp_path: Path) -> None:
    with pytest.raises(SinkInputError, match="ISO 639-2"):
        written(tmp_path, products(product("A1")), tiers(tier("A1", "1")), locale="xx_XX")


def test_money_amounts_are_exact_decimals(tmp_path: Path) -> None:
    tier_rows = tiers(tier("A1", "123456789012.345000"))
    _, document = written(tmp_path, products(product("A1")), tier_rows)
    assert prices(products_by_pid(document)["A1"])[0][1] == "123456789012.35"


def test_spec_declares_the_format() -> None:
    assert SPEC.name == "bmecat"
    assert not SPEC.public
    assert SPEC.options is Options
    assert SPEC.default_preset == "quoting"
    names = [f.name for f in FIELDS]
    assert len(names) == len(set(names))
    assert "sku" not in names  # the frame's key column
    assert [f.name for f in FIELDS if f.required] == ["short_description"]
    truncating = {f.name: f.max_length for f in FIELDS if f.on_too_long == "truncate"}
    assert truncating == {
        "short_description": 150,
        "long_description": 64_000,
        "manufacturer_name": 50,
        "feature_color": 60,
        "feature_size": 60,
    }


def test_the_manufacturer_is_the_brand_roles_label() -> None:
    """The quoting preset writes the brand's label (the option label), not its code."""
    assert PRESETS["quoting"]["manufacturer_name"] == {"role": "brand"}
