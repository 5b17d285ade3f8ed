"""Quarantine exports, read back with the stdlib csv module and lxml on the XLSX's XML."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from lxml import etree

from quality import exports
from quality.exports import write_quarantine_exports
from quality.quarantine import QUARANTINE_SCHEMA

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS = {"m": MAIN}
HEADER = list(QUARANTINE_SCHEMA)
SHEET = ["sku", "rule", "channels", "field", "value", "source", "severity"]
BOTH = {"Quarantine (CSV)": "quarantine.csv", "Quarantine (Excel)": "quarantine.xlsx"}
CSV_ONLY = {"Quarantine (CSV)": "quarantine.csv"}


def finding(
    sku: str = "A",
    value: str | None = "Shirt",
    source: str = "products.jsonl:1",
    channel: str = "shop",
) -> dict[str, str | None]:
    return {
        "sku": sku,
        "channel": channel,
        "rule": "name_missing",
        "field": "name_de_DE",
        "value": value,
        "source": source,
        "severity": "error",
    }


def quarantine(*rows: dict[str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=QUARANTINE_SCHEMA)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _column_index(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    assert letters is not None, ref
    index = 0
    for letter in letters.group():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def read_xlsx(path: Path) -> list[list[str | None]]:
    """Cell texts of the first sheet, row by row; a cell the file leaves out is None."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            strings = etree.fromstring(archive.read("xl/sharedStrings.xml"))
            shared = ["".join(si.itertext()) for si in strings.iterfind("m:si", NS)]
        sheet = etree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    rows: list[list[str | None]] = []
    for row in sheet.iterfind("m:sheetData/m:row", NS):
        number = int(row.get("r"))
        rows.extend([] for _ in range(number - len(rows)))
        cells: dict[int, str | None] = {}
        for cell in row.iterfind("m:c", NS):
            kind = cell.get("t")
            if kind == "inlineStr":
                text: str | None = "".join(cell.find("m:is", NS).itertext())
            else:
                value = cell.findtext("m:v", namespaces=NS)
                text = shared[int(value)] if kind == "s" and value is not None else value
            cells[_column_index(cell.get("r"))] = text
        rows[number - 1] = [cells.get(i) for i in range(max(cells, default=-1) + 1)]
    return rows


def padded(rows: list[list[str | None]], width: int) -> list[list[str | None]]:
    return [row + [None] * (width - len(row)) for row in rows]


def sheet_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        workbook = etree.fromstring(archive.read("xl/workbook.xml"))
    return [s.get("name") for s in workbook.iterfind("m:sheets/m:sheet", NS)]


def test_both_files_hold_every_row_and_the_header(tmp_path: Path) -> None:
    frame = quarantine(
        finding("A", 'Ä Shirt, "quoted"; with\nnewline'),
        finding("B", None),
        finding("C", "https://media.example.com/c.jpg", channel="marketplace"),
        *(finding(f"S{i:03}", f"value {i}") for i in range(50)),
    )
    files = write_quarantine_exports(frame, tmp_path)
    assert files == BOTH
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(BOTH.values())

    expected = [HEADER, *([str(v) if v is not None else None for v in r] for r in frame.rows())]
    from_csv = read_csv(tmp_path / "quarantine.csv")
    assert from_csv == [[v or "" for v in row] for row in expected]  # csv: null is empty
    from_xlsx = padded(read_xlsx(tmp_path / "quarantine.xlsx"), len(SHEET))
    # one finding per row there: each of these is in one channel
    assert from_xlsx == [
        SHEET,
        *([r[c] for c in SHEET] for r in frame.rename({"channel": "channels"}).to_dicts()),
    ]
    assert sheet_names(tmp_path / "quarantine.xlsx") == ["quarantine"]


def test_null_value_is_an_empty_cell(tmp_path: Path) -> None:
    write_quarantine_exports(quarantine(finding("A", None)), tmp_path)
    assert read_csv(tmp_path / "quarantine.csv")[1][HEADER.index("value")] == ""
    row = padded(read_xlsx(tmp_path / "quarantine.xlsx"), len(SHEET))[1]
    assert row[SHEET.index("value")] is None
    assert row[SHEET.index("sku")] == "A"


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        (
            '=HYPERLINK("http://evil.example.com","click")',
            '\'=HYPERLINK("http://evil.example.com","click")',
        ),
        ("+1", "'+1"),
        ("@x", "'@x"),
        ("-2", "'-2"),
        ("=1+1", "'=1+1"),
        ("\t=1", "'\t=1"),
        ("a=b", "a=b"),  # only a leading sign is a formula
        ("1+1", "1+1"),
        ("Shirt -2", "Shirt -2"),
        (" =1", " =1"),
    ],
)
def test_formula_looking_values_get_a_leading_apostrophe_in_both_files(
    tmp_path: Path, raw: str, written: str
) -> None:
    write_quarantine_exports(quarantine(finding("A", raw)), tmp_path)
    assert read_csv(tmp_path / "quarantine.csv")[1][HEADER.index("value")] == written
    assert read_xlsx(tmp_path / "quarantine.xlsx")[1][SHEET.index("value")] == written


def test_every_text_column_is_neutralized(tmp_path: Path) -> None:
    frame = quarantine(finding(sku="=SKU()", value="+1", source="@products.jsonl:1"))
    write_quarantine_exports(frame, tmp_path)
    expected = {"sku": "'=SKU()", "value": "'+1", "source": "'@products.jsonl:1"}
    for rows in (read_csv(tmp_path / "quarantine.csv"), read_xlsx(tmp_path / "quarantine.xlsx")):
        row = dict(zip(rows[0], rows[1], strict=True))
        assert {k: row[k] for k in expected} == expected
        assert row["rule"] == "name_missing"


def test_the_frame_passed_in_is_not_changed(tmp_path: Path) -> None:
    frame = quarantine(finding("A", "=1"))
    write_quarantine_exports(frame, tmp_path)
    assert frame["value"].to_list() == ["=1"]


def test_an_empty_quarantine_writes_header_only_files(tmp_path: Path) -> None:
    files = write_quarantine_exports(quarantine(), tmp_path)
    assert files == BOTH
    assert read_csv(tmp_path / "quarantine.csv") == [HEADER]
    assert read_xlsx(tmp_path / "quarantine.xlsx") == [SHEET]


@pytest.mark.parametrize(("rows", "files"), [(2, BOTH), (3, CSV_ONLY)])
def test_too_many_rows_for_a_sheet_export_csv_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int, files: dict[str, str]
) -> None:
    monkeypatch.setattr(exports, "EXCEL_MAX_ROWS", 2)
    frame = quarantine(*(finding(f"S{i}") for i in range(rows)))
    assert write_quarantine_exports(frame, tmp_path) == files
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files.values())
    assert len(read_csv(tmp_path / "quarantine.csv")) == rows + 1


def test_excel_limit_is_one_sheet_less_the_header() -> None:
    assert exports.EXCEL_MAX_ROWS == 2**20 - 1


def test_a_long_url_value_survives_in_the_excel_file(tmp_path: Path) -> None:
    url = "https://media.example.com/" + "a" * 2100 + " b.jpg"
    write_quarantine_exports(quarantine(finding("A", url)), tmp_path)
    assert read_xlsx(tmp_path / "quarantine.xlsx")[1][SHEET.index("value")] == url


def test_the_sheet_has_one_row_per_finding_with_its_channels(tmp_path: Path) -> None:
    frame = quarantine(
        finding("A", None, channel="shop"),
        finding("A", None, channel="marketplace"),
        finding("B", "x", channel="shop"),
    )
    write_quarantine_exports(frame, tmp_path)
    assert len(read_csv(tmp_path / "quarantine.csv")) == 4
    sheet = padded(read_xlsx(tmp_path / "quarantine.xlsx"), len(SHEET))
    channels = {row[0]: row[SHEET.index("channels")] for row in sheet[1:]}
    assert channels == {"A": "marketplace, shop", "B": "shop"}


@pytest.mark.parametrize(
    "value",
    ['{=HYPERLINK("http://evil.example","x")}', '=HYPERLINK("http://evil.example")', "+1+1"],
)
def test_no_cell_of_the_excel_sheet_is_a_formula(tmp_path: Path, value: str) -> None:
    write_quarantine_exports(quarantine(finding(value=value)), tmp_path)
    with zipfile.ZipFile(tmp_path / "quarantine.xlsx") as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet
    assert "<f " not in sheet
    [_, row] = read_xlsx(tmp_path / "quarantine.xlsx")
    assert row[SHEET.index("value")] == f"'{value}"


def test_the_workbook_reads_back_in_excel_readers(tmp_path: Path) -> None:
    """calamine (``polars.read_excel``) and openpyxl read the sheet as written."""
    frame = quarantine(finding("A", "=1"), finding("B", None), finding("A", "=1", channel="web"))
    write_quarantine_exports(frame, tmp_path)
    path = tmp_path / "quarantine.xlsx"
    read = pl.read_excel(path, sheet_name="quarantine", infer_schema_length=0)
    assert read.columns == SHEET
    assert read.rows() == [tuple(r) for r in padded(read_xlsx(path), len(SHEET))[1:]]
    assert read["channels"].to_list() == ["shop, web", "shop"]
    sheet = openpyxl.load_workbook(path)["quarantine"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G3"
    assert sheet["A1"].font.b
