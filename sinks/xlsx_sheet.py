"""A one-sheet Excel workbook, its XML built column-wise with polars.

xlsxwriter (and every other Python XLSX library) takes one Python call per cell: ~6 s for the
120k findings x 7 columns of a 1M-product quarantine. The sheet here is SpreadsheetML
(ECMA-376 Part 1) rendered like the XML feeds (``sinks.xml_text``): each row's markup is one
polars string expression, written chunk by chunk into the zip, ~8x faster.

What the workbook holds: one sheet, its header row bold, frozen and with an autofilter over
every row; column widths where given. Each column's cells are of one kind (``SheetColumn``):
text as inline strings (``t="inlineStr"``, no shared-string table to build), numbers, booleans,
money (two decimals shown) and dates (Excel's day serials, shown ``yyyy-mm-dd``); a null is an
absent cell, or the text ``null_text``. Text follows the spec's ``ST_Xstring`` as Excel and
xlsxwriter do: a control character becomes ``_xHHHH_`` and a literal ``_xHHHH_`` is escaped as
``_x005F_xHHHH_``, so both read back as written; a value longer than Excel's 32,767 characters
per cell is cut there. A number Excel cannot hold (NaN, infinity) is the error cell ``#NUM!``.
No value ever becomes a formula: callers neutralize formula-looking text themselves
(``contracts.text.neutralized``), as in the CSV. The zip entries carry a fixed time, so the
same frame always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from contracts.text import escape, escaped
from sinks.xml_text import render, text_buffer

MAX_ROWS = 1_048_576
"""Rows of one Excel worksheet, the header included."""
MAX_CELL_CHARS = 32_767
"""Characters of one Excel cell."""
CHUNK_ROWS = 100_000
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTROLS = [chr(c) for c in (*range(0x09), *range(0x0B, 0x20))]
"""What XML 1.0 cannot hold or would not keep (a CR becomes LF): written as ``_xHHHH_``."""
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_INVALID_SHEET_NAME = set("[]:*?/\\")


class SheetError(ValueError):
    """A frame or sheet name Excel cannot hold (too many rows, a name it forbids)."""


CellKind = Literal["text", "number", "boolean", "money", "date"]
_HEADER_STYLE, _MONEY_STYLE, _DATE_STYLE = 1, 2, 3
"""Indexes into the ``cellXfs`` of ``_package``'s styles."""
_EPOCH = dt.date(1899, 12, 31)
_LEAP_BUG = 60
"""Excel counts 1900-02-29, which never was: serials from 1900-03-01 on are one day later."""


@dataclass(frozen=True)
class SheetColumn:
    """One column of a sheet: its header, the expression giving its values on the frame, how
    they are written (``text``: String; ``number``: integer, float or decimal; ``boolean``;
    ``money``: a number shown with two decimals; ``date``: Date or Datetime, a value of
    another type is written as text) and its width in Excel's units (characters of the
    default font; None: Excel's default)."""

    name: str
    value: pl.Expr
    kind: CellKind = "text"
    width: float | None = None


def column_letters(index: int) -> str:
    """Excel's name of the 0-based column ``index``: A..Z, AA..ZZ, AAA..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_text(value: pl.Expr) -> pl.Expr:
    """A String ``value`` as the text of an inline-string cell (``ST_Xstring``, XML-escaped)."""
    cut = value.str.slice(0, MAX_CELL_CHARS)
    literal = cut.str.replace_all(r"(_x[0-9A-Fa-f]{4}_)", "_x005F$1")
    codes = [f"_x{ord(c):04X}_" for c in _CONTROLS]
    return escaped(literal.str.replace_many(_CONTROLS, codes))


def write_text_sheet(
    frame: pl.DataFrame,
    path: Path,
    sheet: str,
    widths: Mapping[str, float] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> None:
    """``write_sheet`` of a frame of String columns, each a text column of its name;
    ``widths``: column name -> width."""
    if other := [c for c, dtype in frame.schema.items() if dtype != pl.String]:
        raise SheetError(f"text sheet: columns {other} are not String")
    given = widths or {}
    columns = [SheetColumn(c, pl.col(c), width=given.get(c)) for c in frame.columns]
    write_sheet(frame, path, sheet, columns, chunk_rows=chunk_rows)


def write_sheet(
    frame: pl.DataFrame,
    path: Path,
    sheet: str,
    columns: Sequence[SheetColumn],
    null_text: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> None:
    """Write the workbook ``path`` with one sheet named ``sheet``: the header row of
    ``columns``, then a row per row of ``frame`` (a null is an absent cell, or the text
    ``null_text``). Raises ``SheetError`` when the rows or the sheet name do not fit Excel."""
    _check(frame, sheet)
    letters = [column_letters(i) for i in range(len(columns))]
    rows = frame.height + 1  # the header is row 1
    last = f"{letters[-1]}{rows}" if columns else "A1"
    filtered = f"$A$1:${letters[-1]}${rows}" if columns else None
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in _package(sheet, filtered).items():
            archive.writestr(_entry(name), text)
        with archive.open(_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as out:
            out.write(_sheet_head(columns, letters, last).encode("utf-8"))
            for chunk in render(*_row_markup(frame, columns, letters, null_text), chunk_rows):
                out.write(text_buffer(chunk))
            tail = f'</sheetData><autoFilter ref="A1:{last}"/>' if columns else "</sheetData>"
            out.write(f"{tail}</worksheet>".encode())


def check_sheet_name(sheet: str) -> str:
    """``sheet`` when Excel takes it as a sheet's name, else ``SheetError``."""
    if not 0 < len(sheet) <= 31 or _INVALID_SHEET_NAME & set(sheet) or sheet[0] == "'":
        msg = f"sheet name {sheet!r}: Excel takes 1-31 characters, none of []:*?/\\ "
        raise SheetError(msg + "and no leading apostrophe")
    return sheet


def _check(frame: pl.DataFrame, sheet: str) -> None:
    if frame.height + 1 > MAX_ROWS:
        msg = f"{frame.height} rows do not fit an Excel sheet ({MAX_ROWS - 1} at most)"
        raise SheetError(msg)
    check_sheet_name(sheet)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _row_markup(
    frame: pl.DataFrame,
    columns: Sequence[SheetColumn],
    letters: list[str],
    null_text: str | None,
) -> tuple[pl.DataFrame, pl.Expr]:
    """``frame`` with its rows' sheet numbers, and the markup of a row (``<row>`` and its
    cells) for ``sinks.xml_text.render``."""
    index = "_sheet_row"
    while index in frame.columns:
        index += "_"
    dtypes = frame.lazy().select(c.value.alias(str(i)) for i, c in enumerate(columns))
    schema = dtypes.collect_schema().values()
    numbered = frame.with_row_index(index, offset=2)  # the header is row 1
    number = pl.col(index).cast(pl.String)
    cells = []
    for letter, column, dtype in zip(letters, columns, schema, strict=True):
        at = pl.concat_str(pl.lit(f'<c r="{letter}'), number)
        cell = _cell(at, column, dtype)
        if null_text is not None:
            cell = cell.fill_null(_text_cell(at, pl.lit(null_text)))
        cells.append(cell)
    row = pl.concat_str(
        pl.lit('<row r="'), number, pl.lit('">'), *cells, pl.lit("</row>"), ignore_nulls=True
    )
    return numbered, row


def _text_cell(at: pl.Expr, text: pl.Expr) -> pl.Expr:
    inline = '" t="inlineStr"><is><t xml:space="preserve">'
    return pl.concat_str(at, pl.lit(inline), cell_text(text), pl.lit("</t></is></c>"))


def _value_cell(at: pl.Expr, value: pl.Expr, attributes: str = "") -> pl.Expr:
    return pl.concat_str(at, pl.lit(f'"{attributes}><v>'), value, pl.lit("</v></c>"))


def _cell(at: pl.Expr, column: SheetColumn, dtype: pl.DataType) -> pl.Expr:
    """One column's cell markup (``at``: its opening up to the reference); null for a null."""
    value = column.value
    if column.kind == "text":
        return _text_cell(at, value.cast(pl.String))
    if column.kind == "boolean":
        return _value_cell(at, value.cast(pl.Int8).cast(pl.String), ' t="b"')
    if column.kind == "date" and (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        return _value_cell(at, _serial(value, dtype), f' s="{_DATE_STYLE}"')
    if column.kind == "date":  # a date the source gave as text stays that text
        return _text_cell(at, value.cast(pl.String))
    style = f' s="{_MONEY_STYLE}"' if column.kind == "money" else ""
    number = _value_cell(at, value.cast(pl.String), style)
    if not dtype.is_float():
        return number
    error = pl.concat_str(at, pl.lit('" t="e"><v>#NUM!</v></c>'))
    return pl.when(value.is_finite()).then(number).when(value.is_not_null()).then(error)


def _serial(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A Date or Datetime as Excel's serial day number (1900 date system), as text."""
    if dtype == pl.Date:
        days = (value - pl.lit(_EPOCH)).dt.total_days()
    else:
        since = value.cast(pl.Datetime("us")) - pl.lit(dt.datetime(1899, 12, 31))
        days = since.dt.total_microseconds() / 86_400_000_000
    return pl.when(days >= _LEAP_BUG).then(days + 1).otherwise(days).cast(pl.String)


def _sheet_head(columns: Sequence[SheetColumn], letters: list[str], last: str) -> str:
    cols = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{c.width}" customWidth="1"/>'
        for i, c in enumerate(columns)
        if c.width is not None
    )
    header = "".join(
        f'<c r="{letter}1" s="{_HEADER_STYLE}" t="inlineStr"><is><t xml:space="preserve">'
        f"{escape(column.name)}</t></is></c>"
        for letter, column in zip(letters, columns, strict=True)
    )
    return (
        f'{_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
        f'<dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}"
        f'<sheetData><row r="1">{header}</row>'
    )


def _package(sheet: str, filtered: str | None) -> dict[str, str]:
    """The workbook's parts but the sheet: content types, relationships, workbook, styles;
    ``filtered``: the autofilter's range (``$A$1:$G$12``), None without columns."""
    type_base = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    names = ""
    if filtered is not None:
        reference = "'" + sheet.replace("'", "''") + "'!" + filtered
        names = (
            '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
            f'hidden="1">{escape(reference)}</definedName></definedNames>'
        )
    return {
        "[Content_Types].xml": (
            f"{_DECLARATION}<Types "
            'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            f'ContentType="{type_base}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{type_base}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{type_base}.styles+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'{_DECLARATION}<Relationships xmlns="{_PACKAGE}">'
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_DECLARATION}<Relationships xmlns="{_PACKAGE}">'
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_RELATIONSHIPS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'{_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}">'
            "<bookViews><workbookView/></bookViews>"
            f'<sheets><sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets>'
            f"{names}</workbook>"
        ),
        "xl/styles.xml": (
            f'{_DECLARATION}<styleSheet xmlns="{_MAIN}">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
            '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>"
        ),
    }
