"""Delta formats on tiny feeds: which keys changed, and that each format's ``apply_delta`` on
the previous feed gives the new one (read back with json, csv and lxml)."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from bmecat_catalog import CUSTOMERS, SUPPLIER, catalog_context, catalog_products, catalog_tiers

from contracts.snapshots import FeedFile, Manifest
from sinks.deltas import bmecat, delimited, google_merchant, jsonlines, write_deltas, xml_records
from sinks.deltas.changes import row_changes
from sinks.formats import bmecat as bmecat_writer


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ({"sku": ["a", "b"], "price": [1.0, 2.0]}, []),
        ({"sku": ["a", "b"], "price": [1.0, 3.0]}, [("b", "changed")]),
        ({"sku": ["a"], "price": [1.0]}, [("b", "removed")]),
        ({"sku": ["a", "b", "c"], "price": [1.0, 2.0, None]}, [("c", "added")]),
        ({"sku": ["b", "a"], "price": [2.0, 1.0]}, []),
    ],
)
def test_row_changes_by_key(new: dict[str, list[object]], expected: list[tuple[str, str]]) -> None:
    previous = pl.DataFrame({"sku": ["a", "b"], "price": [1.0, 2.0]})
    assert row_changes(previous, pl.DataFrame(new), "sku").rows() == expected


def test_a_changed_mapping_counts_every_common_key_as_changed() -> None:
    previous = pl.DataFrame({"sku": ["a"], "price": [1.0]})
    new = previous.with_columns(name=pl.lit("x"))
    assert row_changes(previous, new, "sku").rows() == [("a", "changed")]


def test_json_lines_delta(tmp_path: Path) -> None:
    def line(kind: str, ident: str, name: str) -> str:
        key = "productGroupID" if kind == "ProductGroup" else "sku"
        return json.dumps({"@type": kind, key: ident, "name": name})

    old = [line("Product", "a", "A"), line("ProductGroup", "g", "G"), line("Product", "b", "B")]
    new = [line("Product", "a", "A2"), line("ProductGroup", "g", "G"), line("Product", "c", "C")]
    (tmp_path / "old.jsonl").write_text("\n".join(old) + "\n", encoding="utf-8")
    (tmp_path / "new.jsonl").write_text("\n".join(new) + "\n", encoding="utf-8")
    target = tmp_path / "delta.jsonl"
    assert jsonlines.write_delta(tmp_path / "old.jsonl", tmp_path / "new.jsonl", target) == 3
    delta = [json.loads(x) for x in target.read_text(encoding="utf-8").splitlines()]
    assert {"@type": "Product", "sku": "b", "prism:removed": True} in delta
    applied = jsonlines.apply_delta([json.loads(x) for x in old], delta)
    assert sorted(map(json.dumps, applied)) == sorted(new)


def test_delimited_delta_keeps_the_dialect(tmp_path: Path) -> None:
    def write(name: str, rows: list[list[str]]) -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(rows)
        return path

    header = ["sku", "name", "price"]
    old = write("old.csv", [header, ["a", "A", "1,00"], ["b", "B;x", "2,00"]])
    new = write("new.csv", [header, ["a", "A", "1,50"], ["c", "multi\nline", "3,00"]])
    target = tmp_path / "delta.csv"
    assert delimited.write_delta(old, new, target) == 3
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfprism_action;sku;name;price\r\n")

    def parsed(path: Path) -> list[dict[str, str]]:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle, delimiter=";"))

    delta = parsed(target)
    assert [r["prism_action"] for r in delta] == ["upsert", "upsert", "delete"]
    assert delimited.apply_delta(parsed(old), delta, "sku") == parsed(new)


def test_a_delimited_feed_without_a_key_column_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("name,price\nA,1\n", encoding="utf-8")
    with pytest.raises(delimited.DelimitedDeltaError, match="sku or id"):
        delimited.write_delta(tmp_path / "f.csv", tmp_path / "f.csv", tmp_path / "d.csv")


RSS = (
    '<?xml version="1.0" encoding="UTF-8"?><rss xmlns:g="http://base.google.com/ns/1.0" '
    'version="2.0"><channel><title>T</title>{}</channel></rss>'
)


google_item, google_end, google_id = (
    google_merchant.ITEM,
    google_merchant.END,
    google_merchant.ITEM_ID,
)


def item(ident: str, title: str, price: str, extra: str = "") -> str:
    return (
        f"<item><g:id>{ident}</g:id><g:title>{title}</g:title><g:price>{price}</g:price>"
        f"<g:availability>in_stock</g:availability>{extra}</item>"
    )


def test_google_delta_sends_price_changes_as_a_supplemental_feed(tmp_path: Path) -> None:
    sale = "<g:sale_price>1.00 EUR</g:sale_price>"
    old = [item("a", "A", "1.00 EUR"), item("b", "B", "2.00 EUR"), item("d", "D", "4.00 EUR", sale)]
    new = [item("a", "A", "1.50 EUR"), item("b", "B2", "2.00 EUR"), item("c", "C", "3.00 EUR")]
    new.append(item("d", "D", "4.00 EUR"))  # the sale price ends: not a supplemental override
    (tmp_path / "old.xml").write_text(RSS.format("".join(old)), encoding="utf-8")
    (tmp_path / "new.xml").write_text(RSS.format("".join(new)), encoding="utf-8")
    counts = google_merchant.write_delta(tmp_path / "old.xml", tmp_path / "new.xml", tmp_path)

    def items(name: str) -> dict[str, google_merchant.Item]:
        found = google_merchant.read_items(tmp_path / name).items()
        return {k: google_merchant.fields(v) for k, v in found}

    supplemental = items(google_merchant.SUPPLEMENTAL_FILE)
    assert list(supplemental) == ["a"]
    assert f"{{{google_merchant.G}}}title" not in supplemental["a"]
    assert sorted(items(google_merchant.ITEMS_FILE)) == ["b", "c", "d"]
    assert counts[google_merchant.REMOVED_FILE] == 0
    applied = google_merchant.apply_delta(
        items("old.xml"), supplemental, items(google_merchant.ITEMS_FILE), set()
    )
    assert applied == items("new.xml")


def test_gzipped_bmecat_catalogs_get_a_plain_update(tmp_path: Path) -> None:
    """Catalogs written as ``.xml.gz``: the update is ``<name>.update.xml``, and the previous
    catalog plus the update is the new catalog."""
    products, tiers = catalog_products(), catalog_tiers()
    cheaper = pl.when(pl.col("sku") == "S0003").then(pl.col("unit_price") / 2)
    changed = tiers.with_columns(unit_price=cheaper.otherwise(pl.col("unit_price")))
    manifests = []
    for name, frame, rows in (("old", products, tiers), ("new", products.slice(1), changed)):
        folder = tmp_path / name / "quoting"
        folder.mkdir(parents=True)
        files = bmecat_writer.write(frame, catalog_context(folder, rows))
        manifests.append(Manifest(f"20261122T18560{len(manifests)}Z-ab12cd34", "", "", {}, files))
    old, new = tmp_path / "old", tmp_path / "new"
    deltas = write_deltas(manifests[0], old, manifests[1], new, {"quoting": "bmecat"}, {})
    assert [f.path for f in deltas.files] == ["quoting/C1000.update.xml"]
    assert deltas.files[0].rows == 2  # S0000 removed, S0003 cheaper
    update = bmecat.products(new / "quoting" / "C1000.update.xml")
    assert {pid: p.get("mode") for pid, p in update.items()} == {
        "S0000": "delete",
        "S0003": "update",
    }

    def content(folder: Path) -> dict[str, bytes]:
        found = bmecat.products(folder / "quoting" / "C1000.xml.gz")
        return {pid: bmecat.content(p) for pid, p in found.items()}

    assert bmecat.apply_delta(content(old), update) == content(new)


def test_json_lines_keys_with_escapes_or_late_members_are_read_as_json(tmp_path: Path) -> None:
    """The fast key regex only takes leading string members without escapes; a feed with
    any other line is keyed by a JSON path, and a line break inside a name (U+0085, U+2028)
    does not split a line."""
    nested = '{"@type": "Product", "offers": {"sku": "wrong"}, "sku": "n"}'
    old = [
        json.dumps({"@type": "Product", "sku": 'q"1', "name": "A"}),
        nested,
        json.dumps(
            {"@type": "Product", "sku": "x", "name": "next\x85line\u2028"}, ensure_ascii=False
        ),
    ]
    new = [old[1], json.dumps({"@type": "Product", "sku": "x", "name": "changed"})]
    (tmp_path / "old.jsonl").write_text("\n".join(old) + "\n", encoding="utf-8")
    (tmp_path / "new.jsonl").write_text("\n".join(new) + "\n", encoding="utf-8")
    assert jsonlines.records(tmp_path / "old.jsonl")[jsonlines.KEY].to_list() == [
        'Product\tq"1',
        "Product\tn",
        "Product\tx",
    ]
    target = tmp_path / "delta.jsonl"
    assert jsonlines.write_delta(tmp_path / "old.jsonl", tmp_path / "new.jsonl", target) == 2
    delta = [json.loads(x) for x in target.read_text(encoding="utf-8").splitlines()]
    assert delta == [
        {"@type": "Product", "sku": "x", "name": "changed"},
        {"@type": "Product", "sku": 'q"1', "prism:removed": True},
    ]
    applied = jsonlines.apply_delta([json.loads(x) for x in old], delta)
    assert sorted(map(json.dumps, applied)) == sorted(json.dumps(json.loads(x)) for x in new)


def test_a_json_lines_feed_that_is_not_utf8_gets_no_delta(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_bytes(b'{"@type":"Product","sku":"\xff"}\n')
    with pytest.raises(jsonlines.JsonLinesDeltaError, match=r"bad\.jsonl"):
        jsonlines.records(tmp_path / "bad.jsonl")


def test_a_renamed_csv_column_resends_every_row(tmp_path: Path) -> None:
    """Same cells under another header: every row is an upsert (a consumer's columns moved)."""
    (tmp_path / "old.csv").write_text('sku,name\na,"x,""y"""\nb,\n', encoding="utf-8")
    (tmp_path / "new.csv").write_text('sku,title\na,"x,""y"""\nb,\n', encoding="utf-8")
    target = tmp_path / "delta.csv"
    assert delimited.write_delta(tmp_path / "old.csv", tmp_path / "new.csv", target) == 2
    assert target.read_text(encoding="utf-8") == (
        'prism_action,sku,title\nupsert,a,"x,""y"""\nupsert,b,\n'
    )


def test_csv_cells_are_compared_as_text(tmp_path: Path) -> None:
    """Quoted and unquoted empty cells are one value; hostile text is copied, not evaluated."""
    (tmp_path / "old.csv").write_text('sku,name,note\na,"",=1+1\nb,B,"l1\nl2"\n', encoding="utf-8")
    (tmp_path / "new.csv").write_text('sku,name,note\na,,=1+1\nb,B,"l1\nl3"\n', encoding="utf-8")
    target = tmp_path / "delta.csv"
    assert delimited.write_delta(tmp_path / "old.csv", tmp_path / "new.csv", target) == 1
    assert target.read_text(encoding="utf-8") == 'prism_action,sku,name,note\nupsert,b,B,"l1\nl3"\n'


@pytest.mark.parametrize("raw", [b"sku,n\xe4me\na,1\n", b"sku,name\na,\xe41\n"])
def test_a_csv_feed_that_is_not_utf8_gets_no_delta(tmp_path: Path, raw: bytes) -> None:
    (tmp_path / "f.csv").write_bytes(raw)
    with pytest.raises(delimited.DelimitedDeltaError, match=r"f\.csv"):
        delimited.write_delta(tmp_path / "f.csv", tmp_path / "f.csv", tmp_path / "d.csv")


def test_xml_records_are_keyed_unescaped_and_the_last_of_a_key_counts() -> None:
    items = "".join(item(f"k&amp;{i}", f"T{i}", "1.00 EUR") for i in range(3))
    data = RSS.format(items + item("k&amp;1", "last", "2.00 EUR")).encode()
    found = xml_records.split(data, "f.xml", google_item, google_end, google_id)
    assert found[xml_records.KEY].to_list() == ["k&0", "k&2", "k&1"]
    record = xml_records.by_key(found, ["k&1"], google_end)["k&1"]
    assert record == item("k&amp;1", "last", "2.00 EUR").encode()


def test_xml_record_places_are_byte_offsets_into_the_document() -> None:
    """Each record's offset and length cut exactly its text out of the document's bytes,
    multi-byte characters before it included; text after the last end tag is no record."""
    items = [item(f"k{i}", "Größe ✓ 🙂" * i, f"{i}.00 EUR") for i in range(4)]
    data = RSS.format("".join(items)).encode()
    found = xml_records.split(data, "f.xml", google_item, google_end, google_id)
    assert found[xml_records.KEY].to_list() == ["k0", "k1", "k2", "k3"]
    for record, at, size in found.select("record", "offset", "length").iter_rows():
        assert data[at : at + size].decode() == record
        assert data[at + size :].startswith(google_end)
    assert xml_records.split(
        b"<rss><channel></channel></rss>", "f.xml", google_item, google_end, google_id
    ).is_empty()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (RSS.format(item("a", "A", "1") + "<item><g:title>B</g:title></item>"), "record 2 has"),
        (RSS.format(item("a", "\udcff", "1")), "not UTF-8"),
    ],
)
def test_xml_records_that_cannot_be_keyed_are_refused(data: str, error: str) -> None:
    raw = data.encode("utf-8", errors="surrogateescape")
    with pytest.raises(xml_records.XmlRecordError, match=error):
        xml_records.split(raw, "f.xml", google_item, google_end, google_id)


def test_a_feed_whose_records_cannot_be_split_gets_no_delta(tmp_path: Path) -> None:
    """A previous feed that cannot be keyed (damaged after it was sealed, say) leaves its
    channel with the full feed only, named in the notes; no update file stays behind."""
    products, tiers = catalog_products(), catalog_tiers()
    manifests = []
    for name, rows in (("old", tiers), ("new", tiers.with_columns(unit_price=pl.lit(1.0)))):
        folder = tmp_path / name / "quoting"
        folder.mkdir(parents=True)
        settings = {"supplier": SUPPLIER, "customers": CUSTOMERS[:2]}
        options = bmecat_writer.Options.model_validate(settings)
        files = bmecat_writer.write(
            products, replace(catalog_context(folder, rows), options=options)
        )
        google = tmp_path / name / "marketplace" / "google_merchant.xml"
        google.parent.mkdir()
        google.write_text(RSS.format(item("a", name, "1.00 EUR")), encoding="utf-8")
        files.append(FeedFile("marketplace", "marketplace/google_merchant.xml", 1))
        manifests.append(Manifest(f"20261122T18560{len(manifests)}Z-ab12cd34", "", "", {}, files))
    old, new = tmp_path / "old", tmp_path / "new"
    second = sorted(old.glob("quoting/*.xml"))[1]
    second.write_text(second.read_text(encoding="utf-8").replace("SUPPLIER_PID", "PID"))
    (old / "marketplace" / "google_merchant.xml").write_text(RSS.format("<item>x</item>"))
    formats = {"quoting": "bmecat", "marketplace": "google_merchant"}
    deltas = write_deltas(manifests[0], old, manifests[1], new, formats, {})
    assert deltas.files == []
    assert deltas.notes["quoting"].startswith(f"full feed only: {second.name}: record 1")
    assert deltas.notes["marketplace"].startswith("full feed only: google_merchant.xml: record")
    assert sorted(p.name for p in (new / "quoting").iterdir()) == sorted(
        p.name for p in old.glob("quoting/*.xml")
    )
