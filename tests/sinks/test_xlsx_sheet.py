"""The column-wise Excel sheet, read back by two independent readers: calamine (Rust, through
``polars.read_excel``) and openpyxl, and compared with what xlsxwriter writes for the same
frame."""

from __future__ import annotations

import datetime as dt
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter

from sinks import xlsx_sheet
from sinks.xlsx_sheet import SheetColumn, SheetError, column_letters, write_sheet, write_text_sheet

HOSTILE = [
    "a\x00b",  # NUL
    "x\x01y\x1f",
    "cr\rlf\n",  # XML would turn the CR into a line feed
    "_x0041_ stays literal",  # Excel's own escape, as text
    "</t></is></c>&amp;<",
    "  spaced  ",
    "\t=1",
    "é 😀 ß",
    "\"quoted\" 'single'",
    '=HYPERLINK("http://evil.example")',
]


def calamine(path: Path, sheet: str = "data") -> pl.DataFrame:
    return pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)


def frame_of(values: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"sku": [f"S{i}" for i in range(len(values))], "value": values},
        schema={"sku": pl.String, "value": pl.String},
    )


def reference(frame: pl.DataFrame, path: Path, sheet: str = "data") -> None:
    """The same frame as xlsxwriter writes it."""
    options = {"strings_to_urls": False, "strings_to_formulas": False}
    with xlsxwriter.Workbook(path, options) as book:
        frame.write_excel(book, worksheet=sheet)


def test_hostile_text_reads_back_as_xlsxwriter_writes_it(tmp_path: Path) -> None:
    frame = frame_of([*HOSTILE, None])
    write_text_sheet(frame, tmp_path / "ours.xlsx", "data")
    reference(frame, tmp_path / "theirs.xlsx")
    ours = calamine(tmp_path / "ours.xlsx")
    assert ours.equals(calamine(tmp_path / "theirs.xlsx"))
    assert ours["value"].to_list() == [*HOSTILE, None]
    # the spec's escapes, which openpyxl leaves as written in inline strings
    with zipfile.ZipFile(tmp_path / "ours.xlsx") as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "a_x0000_b" in sheet
    assert "cr_x000D_lf\n" in sheet
    assert "_x005F_x0041_ stays literal" in sheet
    assert "&lt;/t&gt;&lt;/is&gt;&lt;/c&gt;&amp;amp;&lt;" in sheet
    assert "<f>" not in sheet  # no cell is a formula


def test_a_non_character_is_dropped_as_in_every_feed(tmp_path: Path) -> None:
    """U+FFFE is no XML character (``contracts.text.escaped``); xlsxwriter would write it as
    ``_xFFFE_``, which calamine shows as those seven characters."""
    write_text_sheet(frame_of(["a\ufffeb\uffff"]), tmp_path / "s.xlsx", "data")
    assert calamine(tmp_path / "s.xlsx")["value"].to_list() == ["ab"]


def test_openpyxl_reads_cells_header_style_panes_filter_and_widths(tmp_path: Path) -> None:
    frame = frame_of(["one", None, "three"])
    write_text_sheet(frame, tmp_path / "s.xlsx", "data", {"value": 40.5})
    book = openpyxl.load_workbook(tmp_path / "s.xlsx")
    assert book.sheetnames == ["data"]
    sheet = book["data"]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["sku", "value"],
        ["S0", "one"],
        ["S1", None],  # a null is no cell at all
        ["S2", "three"],
    ]
    assert sheet["A1"].font.b
    assert not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:B4"
    assert sheet.column_dimensions["B"].width == 40.5
    assert sheet.max_row == 4


def test_rows_are_numbered_across_chunks(tmp_path: Path) -> None:
    frame = frame_of([f"v{i}" for i in range(23)])
    write_text_sheet(frame, tmp_path / "s.xlsx", "data", chunk_rows=5)
    assert calamine(tmp_path / "s.xlsx").equals(frame)
    rows = list(openpyxl.load_workbook(tmp_path / "s.xlsx")["data"].iter_rows(values_only=True))
    assert rows[-1] == ("S22", "v22")
    assert len(rows) == 24


def test_many_columns_get_excel_letters(tmp_path: Path) -> None:
    assert [column_letters(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]
    frame = pl.DataFrame({f"c{i}": [f"r{i}"] for i in range(30)})
    write_text_sheet(frame, tmp_path / "wide.xlsx", "data")
    assert calamine(tmp_path / "wide.xlsx").equals(frame)
    assert openpyxl.load_workbook(tmp_path / "wide.xlsx")["data"]["AD2"].value == "r29"


def test_a_value_past_excels_cell_limit_is_cut_there(tmp_path: Path) -> None:
    frame = frame_of(["é" * 40_000])
    write_text_sheet(frame, tmp_path / "s.xlsx", "data")
    assert calamine(tmp_path / "s.xlsx")["value"].to_list() == ["é" * 32_767]


def test_an_empty_frame_is_its_header(tmp_path: Path) -> None:
    write_text_sheet(frame_of([]), tmp_path / "s.xlsx", "data")
    sheet = openpyxl.load_workbook(tmp_path / "s.xlsx")["data"]
    assert list(sheet.iter_rows(values_only=True)) == [("sku", "value")]
    assert sheet.auto_filter.ref == "A1:B1"


def test_the_same_frame_gives_the_same_bytes(tmp_path: Path) -> None:
    frame = frame_of(HOSTILE)
    write_text_sheet(frame, tmp_path / "a.xlsx", "data")
    write_text_sheet(frame, tmp_path / "b.xlsx", "data")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_a_sheet_name_with_an_apostrophe_names_the_filter_range(tmp_path: Path) -> None:
    write_text_sheet(frame_of(["x"]), tmp_path / "s.xlsx", "O'Brien & Co")
    with zipfile.ZipFile(tmp_path / "s.xlsx") as archive:
        workbook = archive.read("xl/workbook.xml").decode("utf-8")
    assert "&apos;" not in workbook
    assert "'O''Brien &amp; Co'!$A$1:$B$2" in workbook
    assert openpyxl.load_workbook(tmp_path / "s.xlsx").sheetnames == ["O'Brien & Co"]


@pytest.mark.parametrize("name", ["", "x" * 32, "a/b", "a[1]", "what?", "'quoted"])
def test_a_name_excel_refuses_is_an_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(SheetError, match="sheet name"):
        write_text_sheet(frame_of(["x"]), tmp_path / "s.xlsx", name)
    assert not (tmp_path / "s.xlsx").exists()


def test_more_rows_than_a_sheet_holds_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_sheet, "MAX_ROWS", 3)
    write_text_sheet(frame_of(["a", "b"]), tmp_path / "fits.xlsx", "data")
    with pytest.raises(SheetError, match="3 rows do not fit an Excel sheet \\(2 at most\\)"):
        write_text_sheet(frame_of(["a", "b", "c"]), tmp_path / "s.xlsx", "data")


def test_a_column_that_is_not_text_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"columns \['n'\] are not String"):
        write_text_sheet(pl.DataFrame({"n": [1]}), tmp_path / "s.xlsx", "data")


def typed_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": ["A", "B", "C", "D"],
            "qty": [5, None, -3, 2**40],
            "weight": [1.25, float("nan"), float("inf"), None],
            "active": [True, False, None, True],
            "price": [Decimal("12.50"), Decimal("0.05"), None, Decimal("1234567.89")],
            "day": [dt.date(2026, 12, 24), dt.date(1900, 2, 28), dt.date(1900, 3, 1), None],
            "at": [dt.datetime(2026, 3, 5, 18, 0), None, dt.datetime(1900, 1, 2, 6, 0), None],
            "since": ["2026-03-05", None, "soon", "2026-03-06"],
        },
        schema_overrides={"price": pl.Decimal(12, 2)},
    )


TYPED = [
    SheetColumn("sku", pl.col("sku")),
    SheetColumn("qty", pl.col("qty"), "number"),
    SheetColumn("weight", pl.col("weight"), "number"),
    SheetColumn("active", pl.col("active"), "boolean"),
    SheetColumn("price", pl.col("price"), "money"),
    SheetColumn("day", pl.col("day"), "date"),
    SheetColumn("at", pl.col("at"), "date"),
    SheetColumn("since", pl.col("since"), "date"),  # text from the source stays text
]


def test_typed_cells_read_back_as_xlsxwriter_writes_them(tmp_path: Path) -> None:
    frame = typed_frame()
    write_sheet(frame, tmp_path / "ours.xlsx", "data", TYPED)
    options = {"strings_to_urls": False, "nan_inf_to_errors": True}
    with xlsxwriter.Workbook(tmp_path / "theirs.xlsx", options) as book:
        sheet = book.add_worksheet("data")
        money, date = (
            book.add_format({"num_format": "0.00"}),
            book.add_format({"num_format": "yyyy-mm-dd"}),
        )
        sheet.write_row(0, 0, frame.columns)
        for r, row in enumerate(frame.iter_rows(), start=1):
            for c, value in enumerate(row):
                if value is None or value != value or value == float("inf"):
                    continue  # xlsxwriter writes NaN and infinity as formulas, checked below
                if isinstance(value, Decimal):
                    sheet.write_number(r, c, float(value), money)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, c, value, date)
                else:
                    sheet.write(r, c, value)
    ours, theirs = (
        list(openpyxl.load_workbook(tmp_path / name)["data"].iter_rows(values_only=True))
        for name in ("ours.xlsx", "theirs.xlsx")
    )
    weight = 2
    assert [r[weight] for r in ours] == ["weight", 1.25, "#NUM!", "#NUM!", None]
    assert [r[:weight] + r[weight + 1 :] for r in ours] == [
        r[:weight] + r[weight + 1 :] for r in theirs
    ]
    assert ours[1] == ("A", 5, 1.25, True, 12.5, dt.datetime(2026, 12, 24), *ours[1][6:])
    assert ours[1][6] == dt.datetime(2026, 3, 5, 18, 0)
    assert ours[3][5] == dt.datetime(1900, 3, 1)  # past Excel's 1900-02-29
    assert ours[2][5] == dt.datetime(1900, 2, 28)
    with zipfile.ZipFile(tmp_path / "ours.xlsx") as archive:
        cells = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert '<c r="E2" s="2"><v>12.50</v></c>' in cells  # the decimal's own digits
    assert '<c r="F2" s="3"><v>46380</v></c>' in cells  # 2026-12-24, as Excel counts


def test_null_text_fills_every_kind_of_cell(tmp_path: Path) -> None:
    write_sheet(typed_frame(), tmp_path / "s.xlsx", "data", TYPED, null_text="-")
    rows = list(openpyxl.load_workbook(tmp_path / "s.xlsx")["data"].iter_rows(values_only=True))
    assert rows[2][1] == "-"
    assert rows[3][3:5] == ("-", "-")
    assert rows[4][2] == "-"
    assert rows[4][5:7] == ("-", "-")
