"""Delta formats on tiny feeds: which keys changed, and that each format's ``apply_delta`` on
the previous feed gives the new one (read back with json, csv and lxml)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest

from sinks.deltas import delimited, google_merchant, jsonlines
from sinks.deltas.changes import row_changes


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
