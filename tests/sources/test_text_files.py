"""Damaged input files fail with the file and line, before any value is parsed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sources.akeneo_files import read_pim_export
from sources.erp_files import read_erp_snapshot
from sources.text_files import InputFileError, check_csv_fields, scan_text

HEADER = "sku,price_type,customer_group,customer_id,currency,amount\n"
STOCK = "sku,warehouse,on_hand,reserved\nA,W1,5,0\n"


def erp(folder: Path, prices: bytes) -> Path:
    folder.mkdir(parents=True)
    (folder / "prices.csv").write_bytes(prices)
    (folder / "stock.csv").write_text(STOCK, encoding="utf-8")
    return folder


def test_a_prices_file_cut_inside_its_last_row_fails(tmp_path: Path) -> None:
    """The issue's case: ``...,EUR,123.45`` cut to ``...,EUR,12`` must not publish 12.00."""
    text = HEADER + "A,list,,,EUR,9.99\nB,list,,,EUR,12"
    folder = erp(tmp_path / "s", text.encode())
    with pytest.raises(InputFileError, match=r"prices\.csv:3: the last line does not end"):
        read_erp_snapshot(folder)


def test_a_row_with_too_few_fields_names_its_line(tmp_path: Path) -> None:
    text = HEADER + "A,list,,,EUR,9.99\nB,list,,,EUR\nC,list,,,EUR,1\n"
    folder = erp(tmp_path / "s", text.encode())
    with pytest.raises(InputFileError, match=r"prices\.csv:3: 5 fields where the header has 6"):
        read_erp_snapshot(folder)


def test_line_numbers_count_quoted_line_breaks_like_an_editor(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('sku,a,b\nA,"two\nlines",2\nB,1\n', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"x\.csv:4: 2 fields where the header has 3"):
        check_csv_fields(path, ",")


def test_an_unterminated_quote_fails(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('sku,a\nA,"open\nB,1\n', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"x\.csv:2"):
        check_csv_fields(path, ",")


def test_quoted_separators_and_blank_lines_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('sku;a\nA;"1;2"\n\nB;"say ""hi"""\n', encoding="utf-8")
    assert check_csv_fields(path, ";") == 2


def test_invalid_utf8_names_line_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "pim"
    folder.mkdir()
    lines = [json.dumps({"identifier": "a"}), '{"identifier": "b\xff"}']
    data = (lines[0] + "\n").encode() + lines[1].encode("latin-1") + b"\n"
    (folder / "products.jsonl").write_bytes(data)
    with pytest.raises(InputFileError, match=r"products\.jsonl:2: not valid UTF-8 \(byte 0xff"):
        read_pim_export(folder, ("de_DE",), "ecommerce")


def test_an_akeneo_csv_row_with_a_missing_field_fails(tmp_path: Path) -> None:
    folder = tmp_path / "pim"
    folder.mkdir()
    (folder / "products.csv").write_text("sku;enabled;family\na;1;shirts\nb;1\n", "utf-8")
    with pytest.raises(InputFileError, match=r"products\.csv:3: 2 fields where the header has 3"):
        read_pim_export(folder, ("de_DE",), "ecommerce")


def test_scan_counts_lines_and_hashes(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n{}\n", encoding="utf-8")
    scan = scan_text(path, digest=True)
    assert (scan.bytes, scan.lines) == (6, 2)
    assert scan.sha256 is not None
    assert scan_text(path).sha256 is None


def test_a_character_cut_at_the_end_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("sku\nMü\n".encode()[:-2])  # cut inside the two bytes of ü
    with pytest.raises(InputFileError, match="not valid UTF-8"):
        scan_text(path)


@pytest.mark.parametrize("chunk", [4, 5, 7, 64], ids=lambda n: f"chunk{n}")
def test_characters_and_bad_bytes_across_read_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The file is checked in chunks cut anywhere, also inside a character or a line: a
    character split between two chunks is fine, a bad byte in a later chunk is still named."""
    monkeypatch.setattr("sources.text_files.CHUNK", chunk)
    path = tmp_path / "x.csv"
    good = "sku;name\nA;Müßiggänger\nB;€uro 😀\n"
    path.write_text(good, encoding="utf-8")
    assert scan_text(path).lines == 3
    path.write_bytes(good.encode() + b"C;caf\xe9\n")
    with pytest.raises(InputFileError, match=r"x\.csv:4: not valid UTF-8 \(byte 0xe9 at column 6"):
        scan_text(path)


@pytest.mark.parametrize("chunk", [3, 5, 8, 64], ids=lambda n: f"chunk{n}")
def test_the_search_finds_a_key_cut_between_two_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """``search`` runs in the same pass; a match the reads cut in two is still found, and a
    file with a bad byte still reports what the search found before it is scanned again."""
    monkeypatch.setattr("sources.text_files.CHUNK", chunk)
    path = tmp_path / "p.jsonl"
    pattern = '"(?:C(?i:olor))"[ \\t]*:'
    path.write_text('{"color": 1, "name": "Ä"}\n{"COLOR" : 2}\n', encoding="utf-8")
    assert scan_text(path, search=pattern).found
    assert not scan_text(path).found  # no pattern: nothing looked for
    path.write_text('{"color": 1}\n{"colour": "\\"Color\\": 3"}\n', encoding="utf-8")
    assert not scan_text(path, search=pattern).found  # an escaped quote is no key
    path.write_bytes(b'{"Color": 1}\n{"name": "caf\xe9"}\n')
    with pytest.raises(InputFileError, match="not valid UTF-8"):
        scan_text(path, search=pattern)
