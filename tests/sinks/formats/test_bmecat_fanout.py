"""The quoting catalogs of several customers fanned out from one rendering of the products:
the same bytes as each customer's catalog written on its own, assortments per customer, and
gzip output."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from bmecat_catalog import (
    CUSTOMERS,
    GENERATED,
    SUPPLIER,
    catalog_products,
    catalog_tiers,
)
from lxml import etree  # type: ignore[import-untyped]

from contracts.config import ChannelConfig
from contracts.formats import WriteContext
from contracts.golden import PRICE_TIERS_SCHEMA
from contracts.snapshots import FeedFile
from golden.pricing import effective_tiers
from mapping.assortments import LEFT_OUT_SCHEMA
from sinks.formats import bmecat
from sinks.formats.bmecat import BMECAT_NS, Options, write
from sinks.xml_text import SinkInputError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bmecat"
EXPECTED = FIXTURES / "fanout"
FILES = ("C1000.xml", "C2000.xml", "C3000.xml", "K%2F9%20%C3%BC.xml")
NS = {"b": BMECAT_NS}


@pytest.fixture(scope="module")
def schema_2005() -> etree.XMLSchema:
    text = (FIXTURES / "bmecat_2005.xsd").read_bytes()
    fixed = text.replace(b"http://www.bmecat.org/bmecat/2005fd", BMECAT_NS.encode())
    return etree.XMLSchema(etree.fromstring(fixed))


def context(folder: Path, left_out: pl.DataFrame | None = None, **options: object) -> WriteContext:
    values = {"supplier": SUPPLIER, "customers": list(CUSTOMERS)} | options
    return WriteContext(
        channel="quoting",
        settings=ChannelConfig(format="bmecat", locale="de_DE", currency="EUR"),
        options=Options.model_validate(values),
        folder=folder,
        snapshot_id="20261122T185607Z-ab12cd34",
        created=GENERATED,
        tiers=catalog_tiers(),
        golden=None,
        price_rule=effective_tiers,
        left_out=left_out,
    )


def pids(document: bytes) -> list[str]:
    root = etree.fromstring(document)
    return [p.findtext("b:SUPPLIER_PID", namespaces=NS) for p in root.iterfind(".//b:PRODUCT", NS)]


@pytest.mark.parametrize(("chunk_rows", "open_catalogs"), [(50_000, 64), (7, 64), (13, 1), (7, 3)])
def test_fanned_out_catalogs_are_the_bytes_each_written_alone(
    tmp_path: Path, chunk_rows: int, open_catalogs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bmecat, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr(bmecat, "OPEN_CATALOGS", open_catalogs)
    files = write(catalog_products(), context(tmp_path))
    assert [f.path for f in files] == [f"quoting/{name}" for name in FILES]
    for name, feed_file in zip(FILES, files, strict=True):
        expected = (EXPECTED / name).read_bytes()
        assert (tmp_path / name).read_bytes() == expected, name
        assert feed_file.rows == len(pids(expected))


def test_every_catalog_validates(tmp_path: Path, schema_2005: etree.XMLSchema) -> None:
    write(catalog_products(), context(tmp_path))
    for name in FILES:
        schema_2005.assertValid(etree.parse(str(tmp_path / name)))


def test_gzip_catalogs_hold_the_same_document_and_the_same_bytes_every_time(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    files = write(catalog_products(), context(first, compress="gzip"))
    write(catalog_products(), context(second, compress="gzip"))
    assert [f.path for f in files] == [f"quoting/{name}.gz" for name in FILES]
    assert sorted(p.name for p in first.iterdir()) == sorted(f"{name}.gz" for name in FILES)
    for name in FILES:
        packed = (first / f"{name}.gz").read_bytes()
        assert packed[:2] == b"\x1f\x8b"
        assert gzip.decompress(packed) == (EXPECTED / name).read_bytes()
        assert packed == (second / f"{name}.gz").read_bytes()  # no time or name in the header


def test_an_assortment_leaves_products_out_of_that_customers_catalog_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """C3000's assortment leaves out two priced products and one without any tier: its
    catalog loses the two, the other catalogs keep them, the count is the catalog's."""
    products = catalog_products()
    left_out = pl.DataFrame(
        {
            "customer_id": ["C3000", "C3000", "C3000"],
            "sku": ["S0001", "S0002", "S0005"],  # S0005 has no tier at all
            "rule": ["filtered_by_exclude"] * 3,
        },
        schema=LEFT_OUT_SCHEMA,
    )
    files = write(products, context(tmp_path, left_out))
    rows = {Path(f.path).name: f.rows for f in files}
    alone = pids((EXPECTED / "C3000.xml").read_bytes())
    assert {"S0001", "S0002"} <= set(alone)
    assert "S0005" not in alone
    got = pids((tmp_path / "C3000.xml").read_bytes())
    assert got == [p for p in alone if p not in {"S0001", "S0002"}]
    assert rows["C3000.xml"] == len(alone) - 2
    for name in ("C1000.xml", "C2000.xml"):
        assert (tmp_path / name).read_bytes() == (EXPECTED / name).read_bytes()
    unpriced = [r.getMessage() for r in caplog.records if "C3000" in r.getMessage()]
    without = products.height - len(alone) - 1  # S0005 is left out by the assortment
    assert unpriced == [f"bmecat C3000: {without} product(s) without a price tier left out"]


def test_catalog_files_are_named_for_the_manifest(tmp_path: Path) -> None:
    files = write(catalog_products().head(3), context(tmp_path, compress="gzip"))
    assert files[0] == FeedFile("quoting", "quoting/C1000.xml.gz", files[0].rows)


def body(document: bytes) -> bytes:
    return document[document.index(b"<T_NEW_CATALOG>") :]


@pytest.mark.parametrize("chunk_rows", [7, 50_000])
def test_customers_priced_alike_share_their_text_but_not_their_assortment(
    tmp_path: Path, chunk_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """C3001 and C3002 are retail customers without prices of their own, like C3000: the same
    products and prices; C3001's assortment leaves two of them out, for it alone."""
    monkeypatch.setattr(bmecat, "CHUNK_ROWS", chunk_rows)
    more = [{"id": f"C300{i}", "name": f"Kunde {i}", "group": "retail"} for i in (1, 2)]
    left_out = pl.DataFrame(
        {
            "customer_id": ["C3001"] * 2,
            "sku": ["S0001", "S0002"],
            "rule": ["filtered_by_include"] * 2,
        },
        schema=LEFT_OUT_SCHEMA,
    )
    write(catalog_products(), context(tmp_path, left_out, customers=[*CUSTOMERS, *more]))
    alone = (EXPECTED / "C3000.xml").read_bytes()
    assert (tmp_path / "C3000.xml").read_bytes() == alone
    assert body((tmp_path / "C3002.xml").read_bytes()) == body(alone)
    assert pids((tmp_path / "C3001.xml").read_bytes()) == [
        p for p in pids(alone) if p not in {"S0001", "S0002"}
    ]


def test_two_tiers_for_one_quantity_fail_only_where_a_customer_gets_them(tmp_path: Path) -> None:
    """Wholesale's tiers for S0000 repeat quantity 1 (in two validity groups): a catalog of
    retail customers never chooses them and is written; a wholesale customer's fails."""
    start, end = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
    group = {"price_type": "group", "customer_group": "wholesale", "currency": "EUR"}
    repeated = pl.DataFrame(
        [
            group | {"sku": "S0000", "min_quantity": 1, "unit_price": Decimal("2"),
                     "valid_from": start, "valid_to": end},
            group | {"sku": "S0000", "min_quantity": 5, "unit_price": Decimal("1"),
                     "valid_from": None, "valid_to": None},
            group | {"sku": "S0000", "min_quantity": 1, "unit_price": Decimal("3"),
                     "valid_from": end, "valid_to": None},
        ],
        schema=PRICE_TIERS_SCHEMA,
    )  # fmt: skip
    tiers = pl.concat([catalog_tiers(), repeated])
    retail = context(tmp_path, customers=[CUSTOMERS[2]])
    write(catalog_products(), WriteContext(**{**retail.__dict__, "tiers": tiers}))
    assert (tmp_path / "C3000.xml").read_bytes() == (EXPECTED / "C3000.xml").read_bytes()
    wholesale = context(tmp_path, customers=[{"id": "W1", "name": "W", "group": "wholesale"}])
    with pytest.raises(SinkInputError, match="several tiers for one sku and min_quantity"):
        write(catalog_products(), WriteContext(**{**wholesale.__dict__, "tiers": tiers}))
