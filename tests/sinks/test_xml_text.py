from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from lxml import etree

from contracts.text import escape, escaped
from sinks.xml_text import (
    SinkInputError,
    element,
    markup,
    money,
    render,
    require_values,
    text_buffer,
    write_document,
)

NASTY = "Tom & Jerry <b> \"quoted\" 'single' > ü ß 😀 \x00\x01\x08\x0b\x0c\x1f\ufffe\uffff\t\n"
CLEAN = "Tom &amp; Jerry &lt;b&gt; &quot;quoted&quot; 'single' &gt; ü ß 😀 \t\n"


def test_escaped_strips_forbidden_characters_and_escapes_markup() -> None:
    frame = pl.DataFrame({"text": [NASTY, None, "plain"]})
    assert frame.select(escaped(pl.col("text"))).to_series().to_list() == [CLEAN, None, "plain"]


def test_escape_matches_the_vectorized_version() -> None:
    assert escape(NASTY) == CLEAN


def test_element_round_trips_through_an_xml_parser() -> None:
    frame = pl.DataFrame({"text": [NASTY]})
    xml = frame.select(element("v", pl.col("text"), ' a="1"')).item()
    parsed = etree.fromstring(xml)
    assert parsed.get("a") == "1"
    assert parsed.text == "Tom & Jerry <b> \"quoted\" 'single' > ü ß 😀 \t\n"


def test_markup_omits_null_elements() -> None:
    frame = pl.DataFrame({"a": ["x", None], "b": [None, "y"]})
    parts = ["<r>", element("a", pl.col("a")), element("b", pl.col("b")), "</r>"]
    rows = frame.select(markup(parts)).to_series().to_list()
    assert rows == ["<r><a>x</a></r>", "<r><b>y</b></r>"]


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("0.125", "0.13"),
        ("0.124999", "0.12"),
        ("2.675", "2.68"),
        ("12.3", "12.30"),
        ("7", "7.00"),
        ("0.005", "0.01"),
        ("1234567.995", "1234568.00"),
    ],
)
def test_money_rounds_half_up_to_two_decimals(amount: str, text: str) -> None:
    frame = pl.DataFrame({"amount": [Decimal(amount)]}, schema={"amount": pl.Decimal(38, 6)})
    assert frame.select(money(pl.col("amount"))).item() == text


def test_require_values_names_column_and_skus() -> None:
    frame = pl.DataFrame({"sku": ["A1", "B2"], "name": ["a", None]})
    with pytest.raises(SinkInputError, match=r"1 row\(s\) without 'name', e.g. skus \['B2'\]"):
        require_values(frame, ("sku", "name"), "test")


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 7, 50_000])
def test_write_document_streams_every_row_once_in_order(tmp_path: Path, chunk_rows: int) -> None:
    frame = pl.DataFrame({"n": [str(i) for i in range(7)]})
    path = tmp_path / "doc.xml"
    write_document(path, "<r>\n", render(frame, element("n", pl.col("n")), chunk_rows), "</r>\n")
    parsed = etree.parse(str(path)).getroot()
    assert [child.text for child in parsed] == [str(i) for i in range(7)]


def test_render_handles_a_frame_of_many_small_chunks() -> None:
    frame = pl.concat([pl.DataFrame({"n": [str(i)]}) for i in range(5)], rechunk=False)
    chunks = list(render(frame, pl.col("n"), 2))
    assert [c.len() for c in chunks] == [2, 2, 1]
    assert pl.concat(chunks).to_list() == ["0\n", "1\n", "2\n", "3\n", "4\n"]


def test_a_row_without_markup_is_an_empty_line(tmp_path: Path) -> None:
    frame = pl.DataFrame({"n": ["<a/>", None, "<b/>"]})
    path = tmp_path / "doc.xml"
    write_document(path, "<r>\n", render(frame, pl.col("n"), 2), "</r>\n")
    assert path.read_text(encoding="utf-8") == "<r>\n<a/>\n\n<b/>\n</r>\n"


@pytest.mark.parametrize(
    "lines",
    [
        pl.Series(["<a>ü</a>\n", "<b/>\n", "€\n"]),
        pl.Series(["x\n", "<a>ü</a>\n", "<b/>\n", "€\n"]).slice(1),  # an offset into the buffer
        pl.concat([pl.Series(["<a>ü</a>\n"]), pl.Series(["<b/>\n", "€\n"])], rechunk=False),
        pl.Series([], dtype=pl.String),
    ],
)
def test_text_buffer_is_the_lines_back_to_back_in_utf8(lines: pl.Series) -> None:
    assert bytes(text_buffer(lines)) == "".join(lines.to_list()).encode("utf-8")
