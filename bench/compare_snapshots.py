"""Prove two Prism publishes equal: every feed file and portal table, row by row.

Usage::

    python bench/compare_snapshots.py LEFT_SNAPSHOT RIGHT_SNAPSHOT \\
        [--portal LEFT_DB RIGHT_DB] [--reports LEFT_REPORT RIGHT_REPORT] \\
        [--unordered GLOB ...] [--skip GLOB ...] [--show N]

A refactoring, an incremental run or a sharded run must publish what a plain full run
publishes. Byte comparison is too strict for that (a publish stamps its snapshot id, run id
and creation time into the manifest, the BMEcat header and the portal's ``prism_snapshot``
row) and a checksum says nothing about *what* differs. So each artefact is parsed with an
independent reader, the values that name the publish itself are masked, and the rows are
compared one by one; the first differing rows are printed.

The script imports nothing from Prism, so the same file compares publishes made by different
commits; it needs only the stack's libraries (polars, lxml, SQLAlchemy) and the standard
library.

What is masked, and nothing else:

* snapshot ids (``20261206T184803Z-8734625d``; in SQL names ``..._20261206t184803z_8734625d``)
  wherever they occur in a string or a table/index name;
* JSON keys that stamp the publish: ``snapshot_id``, ``created_at``, ``activated_at``,
  ``run``/``run_id``, great-expectations' ``ge_load_time`` and its per-run expectation ``id``;
  the freshness breaker's measured age (it is "now minus the drop's file time");
* the manifest's ``sha256``/``bytes`` of each file, after checking them against that side's own
  file (the hash covers the masked header timestamp; the content is compared directly);
* the BMEcat ``DATETIME type="generation_date"`` and an RSS channel's ``lastBuildDate``/
  ``pubDate``; an XLSX file's ``docProps`` (creation time);
* the portal's ``activated_at``/``created_at``/``loaded_at`` columns and ``snapshot_id`` values.

Row counts include one leading row per file for what is not a record: the CSV dialect and
header, the XML document header, the Parquet schema, a table's columns and indexes.

Not masked, so expect them to differ between two runs: the HTML report pages (chart ticks at
the creation time, the freshness age); pass ``--skip '*.html'`` or read their differences.
Row order is compared except for SQL tables and files named with ``--unordered``: for
artefacts whose order the pipeline does not fix (e.g. the quarantine exports) the output
says "same rows in a different order" rather than hiding it.

Files are read whole: fine for the demo catalog and runs of ~100k products; at 1M products
expect several GiB of memory per side.

Exit status: 0 when everything compared is equal, 1 when anything differs, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import io
import json
import logging
import re
import sys
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import sqlalchemy as sa
from lxml import etree

MASK = "<masked>"
SNAPSHOT_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}(?![0-9A-Za-z])")
"""A snapshot id: creation time (UTC) and the first 8 hex digits of the run id."""
SQL_SNAPSHOT_ID = re.compile(r"\d{8}t\d{6}z_[0-9a-f]{8}(?![0-9a-z])")
"""A snapshot id as it appears in a portal table or index name (lower case, ``_``)."""
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
"""A date with a time of day, as a creation time is written (data dates carry no time)."""
VOLATILE_KEYS = frozenset(
    {"snapshot_id", "created_at", "activated_at", "run", "run_id", "ge_load_time"}
)
"""JSON keys whose value names the publish (id, run, creation time), never the data."""
VOLATILE_KEY_PATHS = (("expectation_config", "id"),)
"""Key paths (suffixes) great-expectations fills with a fresh uuid on every validation."""
VOLATILE_COLUMNS = frozenset({"snapshot_id", "activated_at", "created_at", "loaded_at", "run_id"})
"""Portal columns stamped by the publish itself."""
XML_VOLATILE = etree.XPath(
    "//*[local-name()='DATETIME'][@type='generation_date']"
    " | /rss/channel/lastBuildDate | /rss/channel/pubDate"
)
"""Header elements that carry the time a feed was written."""
XLSX_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

log = logging.getLogger("compare_snapshots")

Row = Any
"""One comparable row: a dict, tuple, list or string, already masked."""


@dataclass
class Outcome:
    """The comparison of one file or table: what was compared and the first differences."""

    name: str
    left_rows: int = 0
    right_rows: int = 0
    differences: list[str] = field(default_factory=list)
    """Human-readable differing rows, at most ``--show`` of them plus a count line."""
    notes: list[str] = field(default_factory=list)
    """How it was compared (dialect, order, masks applied); never a difference."""

    @property
    def equal(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class Options:
    """Settings every comparison shares."""

    show: int = 5
    unordered: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()

    def is_unordered(self, name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.unordered)

    def is_skipped(self, name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.skip)


# --- masking -------------------------------------------------------------------------------


def mask_text(value: str) -> str:
    """A string with every snapshot id replaced: ids differ between any two publishes."""
    return SQL_SNAPSHOT_ID.sub(MASK, SNAPSHOT_ID.sub(MASK, value))


def mask_json(value: Any, path: tuple[str, ...] = ()) -> Any:
    """A parsed JSON value with the publish's own stamps masked (see ``VOLATILE_KEYS``)."""
    if isinstance(value, dict):
        masked = {key: mask_json(item, (*path, key)) for key, item in value.items()}
        for key in masked:
            if key in VOLATILE_KEYS or any(
                (*path, key)[-len(p) :] == p for p in VOLATILE_KEY_PATHS
            ):
                masked[key] = MASK
        if masked.get("name") == "freshness":
            # the breaker measures the drop's age against the wall clock at run time
            masked |= {"value": MASK, "detail": MASK}
        return masked
    if isinstance(value, list):
        return [mask_json(item, path) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_value(value: Any) -> Any:
    """A scalar from a table with snapshot ids masked in strings."""
    return mask_text(value) if isinstance(value, str) else value


# --- row comparison ------------------------------------------------------------------------


def sort_key(row: Row) -> str:
    """A total order on rows of mixed types (None, numbers, decimals, dates) for sorting."""
    return json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)


def describe(row: Row) -> str:
    """A row as one line for the report."""
    text = row if isinstance(row, str) else sort_key(row)
    return text if len(text) <= 600 else f"{text[:600]}... ({len(text)} chars)"


def row_difference(index: int, left: Row, right: Row) -> str:
    """Where two rows differ: the differing keys of dicts, else both rows whole."""
    if isinstance(left, dict) and isinstance(right, dict):
        keys = [k for k in dict.fromkeys([*left, *right]) if left.get(k) != right.get(k)]
        parts = [f"{k}: {describe(left.get(k))} != {describe(right.get(k))}" for k in keys]
        if not parts:
            parts = ["same keys and values, different key order"]
        return f"row {index}: " + "; ".join(parts)
    if isinstance(left, str) and isinstance(right, str) and max(len(left), len(right)) > 600:
        at = next((i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b), None)
        at = min(len(left), len(right)) if at is None else at
        start = max(at - 120, 0)
        left, right = f"...{left[start : at + 120]}...", f"...{right[start : at + 120]}..."
        return f"row {index}, from char {at}:\n      left:  {left}\n      right: {right}"
    return f"row {index}:\n      left:  {describe(left)}\n      right: {describe(right)}"


def compare_rows(
    outcome: Outcome, left: Sequence[Row], right: Sequence[Row], *, ordered: bool, show: int
) -> Outcome:
    """Compare two row lists position by position; unordered ones (their order carries no
    meaning) as multisets.

    When ordered rows differ but the same rows are there in another order, that is said
    explicitly: it is still a difference, but a different one from changed content.
    """
    outcome.left_rows, outcome.right_rows = len(left), len(right)
    if not ordered:
        return compare_unordered(outcome, left, right, show=show)
    found = [i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b]
    for index in found[:show]:
        outcome.differences.append(row_difference(index, left[index], right[index]))
    if len(found) > show:
        outcome.differences.append(f"... {len(found) - show} more differing rows")
    if len(left) != len(right):
        extra, side = (left, "left") if len(left) > len(right) else (right, "right")
        outcome.differences.append(f"{abs(len(left) - len(right))} rows only on the {side}:")
        for row in extra[min(len(left), len(right)) :][:show]:
            outcome.differences.append(f"  {describe(row)}")
    if outcome.differences:
        same = sorted(left, key=sort_key) == sorted(right, key=sort_key)
        if same:
            outcome.differences.insert(0, "same rows in a different order")
    return outcome


def compare_unordered(
    outcome: Outcome, left: Sequence[Row], right: Sequence[Row], *, show: int
) -> Outcome:
    """Compare two row lists as multisets: the rows only one side has, so one changed row
    shows as one row out and one row in, however the rows sort."""
    outcome.notes.append("compared as a multiset of rows (order not significant)")
    keyed = [Counter(sort_key(row) for row in rows) for rows in (left, right)]
    for side, extra in (("left", keyed[0] - keyed[1]), ("right", keyed[1] - keyed[0])):
        rows = sorted(extra.elements())
        if rows:
            outcome.differences.append(f"{len(rows)} rows only on the {side}:")
            outcome.differences += [f"  {describe(row)}" for row in rows[:show]]
    return outcome


# --- file readers: each returns the masked rows and notes on how it read them ---------------


def read_jsonl(path: Path) -> tuple[list[Row], list[str]]:
    """JSON Lines: one parsed object per line (key order is not significant in JSON)."""
    with path.open(encoding="utf-8", newline="") as lines:
        return [mask_json(json.loads(line)) for line in lines if line.strip()], []


def flatten(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    """A JSON document as (path, leaf value) rows, so one changed value is one changed row."""
    if isinstance(value, dict):
        if not value:
            yield path, {}
        for key, item in value.items():
            yield from flatten(item, f"{path}.{key}")
    elif isinstance(value, list):
        if not value:
            yield path, []
        for index, item in enumerate(value):
            yield from flatten(item, f"{path}[{index}]")
    else:
        yield path, value


def read_json(path: Path) -> tuple[list[Row], list[str]]:
    """A JSON document as (path, value) rows after masking."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return [list(item) for item in flatten(mask_json(document))], []


def csv_dialect(raw: bytes) -> tuple[dict[str, str], str]:
    """The dialect a consumer must know to read the file: encoding mark, line ending,
    delimiter and quote character; and the decoded text."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    first_end = text.find("\n")
    ending = "\\r\\n" if first_end > 0 and text[first_end - 1] == "\r" else "\\n"
    try:
        sniffed = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
        delimiter, quote = sniffed.delimiter, sniffed.quotechar or '"'
    except csv.Error:
        delimiter, quote = ",", '"'
    dialect = {
        "encoding": "utf-8 with BOM" if bom else "utf-8",
        "line ending": ending,
        "delimiter": delimiter,
        "quote": quote,
    }
    return dialect, text


def read_csv(path: Path) -> tuple[list[Row], list[str]]:
    """CSV: the dialect as the first row (a changed delimiter or line ending is a change for
    every consumer), then the header and each record as a list of strings."""
    dialect, text = csv_dialect(path.read_bytes())
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=dialect["delimiter"], quotechar=dialect["quote"]
    )
    rows: list[Row] = [{"dialect": dialect}]
    rows += [[mask_text(cell) for cell in record] for record in reader]
    return rows, [f"dialect {dialect}"]


def xml_parser() -> etree.XMLParser:
    """A parser that resolves no entities and fetches nothing (feeds are data, not programs)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def canonical(element: etree._Element) -> str:
    """An element's canonical form (C14N 1.0: it carries the namespaces a record inherits and
    leaves out its tail), snapshot ids masked."""
    return mask_text(etree.tostring(element, method="c14n").decode("utf-8"))


def record_container(root: etree._Element) -> etree._Element:
    """The element holding the records (RSS ``channel``, BMEcat ``T_NEW_CATALOG``): the one
    with the most child elements. Picking another only makes the rows coarser: everything
    outside the records is compared too, as the header row."""
    return max(root.iter(etree.Element), key=lambda element: len(element))


def read_xml(path: Path) -> tuple[list[Row], list[str]]:
    """XML: the document header (everything but the records) as the first row, then each
    record element, all in canonical form with the publish timestamps masked."""
    tree = etree.parse(str(path), xml_parser())
    masked = 0
    for element in XML_VOLATILE(tree):
        for node in element.iter():
            if node.text and node.text.strip():
                node.text, masked = MASK, masked + 1
    container = record_container(tree.getroot())
    records = [child for child in container if isinstance(child.tag, str)]
    rows: list[Row] = [canonical(record) for record in records]
    for record in records:
        container.remove(record)
    header = (
        f"header {tree.docinfo.xml_version} {tree.docinfo.encoding}: {canonical(tree.getroot())}"
    )
    notes = [f"records: <{etree.QName(container).localname}> children", f"{masked} stamps masked"]
    return [header, *rows], notes


def xlsx_strings(book: zipfile.ZipFile) -> list[str]:
    """The workbook's shared strings, in index order (rich-text runs joined)."""
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    root = etree.fromstring(book.read("xl/sharedStrings.xml"), xml_parser())
    return ["".join(item.itertext()) for item in root.iterfind("m:si", XLSX_NS)]


def xlsx_cell(cell: etree._Element, strings: list[str]) -> Any:
    """A cell's value as Excel shows it: shared and inline strings resolved, a formula kept
    as its text (a formula in an export is itself a finding)."""
    formula = cell.find("m:f", XLSX_NS)
    if formula is not None:
        return f"={formula.text}"
    kind, value = cell.get("t"), cell.findtext("m:v", namespaces=XLSX_NS)
    if kind == "s" and value is not None:
        return strings[int(value)]
    if kind == "inlineStr":
        return "".join(cell.find("m:is", XLSX_NS).itertext())
    return value


def read_xlsx(path: Path) -> tuple[list[Row], list[str]]:
    """XLSX, read from its XML parts with lxml: each sheet's rows of cell values keyed by
    column letter (so a shifted column shows), then each hyperlink; ``docProps`` (creation
    time, author) is left out."""
    with zipfile.ZipFile(path) as book:
        strings = xlsx_strings(book)
        workbook = etree.fromstring(book.read("xl/workbook.xml"), xml_parser())
        rels = etree.fromstring(book.read("xl/_rels/workbook.xml.rels"), xml_parser())
        targets = {rel.get("Id"): rel.get("Target") for rel in rels}
        rows: list[Row] = []
        for sheet in workbook.iterfind("m:sheets/m:sheet", XLSX_NS):
            part = "xl/" + targets[sheet.get(REL_NS)].lstrip("/").removeprefix("xl/")
            rows += list(xlsx_sheet_rows(book, part, sheet.get("name", ""), strings))
    return rows, ["docProps (creation time) not compared"]


def xlsx_sheet_rows(
    book: zipfile.ZipFile, part: str, name: str, strings: list[str]
) -> Iterator[Row]:
    """One sheet's rows as [sheet, {column: value}] (the row number is the row's position,
    so rows can be sorted), then its hyperlinks."""
    root = etree.fromstring(book.read(part), xml_parser())
    for row in root.iterfind("m:sheetData/m:row", XLSX_NS):
        cells = {
            str(c.get("r", "")).rstrip("0123456789"): mask_value(xlsx_cell(c, strings))
            for c in row.iterfind("m:c", XLSX_NS)
        }
        yield [name, cells]
    rels_part = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
    if rels_part in book.namelist():
        rels = etree.fromstring(book.read(rels_part), xml_parser())
        links = {rel.get("Id"): rel.get("Target") for rel in rels}
        for link in root.iterfind("m:hyperlinks/m:hyperlink", XLSX_NS):
            target = links.get(link.get(REL_NS), link.get("location"))
            yield [name, "hyperlink", link.get("ref"), mask_value(target)]


def frame_rows(frame: pl.DataFrame) -> list[Row]:
    """A frame's schema (names and dtypes) as the first row, then each row as a tuple."""
    schema: Row = [[name, str(dtype)] for name, dtype in frame.schema.items()]
    return [schema, *([mask_value(v) for v in row] for row in frame.iter_rows())]


def read_parquet(path: Path) -> tuple[list[Row], list[str]]:
    """Parquet: schema, then rows (exact values: decimals stay decimals)."""
    return frame_rows(pl.read_parquet(path)), []


def read_text(path: Path) -> tuple[list[Row], list[str]]:
    """Any other text file (HTML report pages, ...): its lines, snapshot ids and full ISO
    timestamps (date and time of day: the report's creation time) masked."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [TIMESTAMP.sub(MASK, mask_text(line)) for line in lines], ["ISO timestamps masked"]


READERS: dict[str, Callable[[Path], tuple[list[Row], list[str]]]] = {
    ".jsonl": read_jsonl,
    ".json": read_json,
    ".csv": read_csv,
    ".xml": read_xml,
    ".xlsx": read_xlsx,
    ".parquet": read_parquet,
}


# --- folders -------------------------------------------------------------------------------


def files_under(folder: Path) -> dict[str, Path]:
    """Relative path -> file, for every file under ``folder`` (links followed)."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def manifest_check(folder: Path) -> list[str]:
    """Problems with a manifest's per-file sha256 and size against this side's own files:
    checked here because the comparison masks them (they cover the masked timestamps)."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return []
    problems = []
    for entry in json.loads(manifest.read_text(encoding="utf-8")).get("files", []):
        path = folder / str(entry.get("path", ""))
        if not entry.get("sha256") or not path.is_file():
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry.get("bytes"):
            problems.append(f"{folder.name}/{entry['path']}: sha256 or size does not match")
    return problems


def mask_manifest(rows: list[Row]) -> list[Row]:
    """Manifest rows with each file's sha256 and byte count masked (verified separately)."""
    pattern = re.compile(r"^\$\.files\[\d+\]\.(sha256|bytes)$")
    return [[path, MASK] if pattern.match(str(path)) else [path, value] for path, value in rows]


def compare_file(name: str, left: Path, right: Path, options: Options) -> Outcome:
    """One file on both sides, with the reader for its extension."""
    outcome = Outcome(name)
    reader = READERS.get(left.suffix.lower(), read_text)
    try:
        left_rows, notes = reader(left)
        right_rows, right_notes = reader(right)
    except (
        OSError,
        csv.Error,
        ValueError,
        etree.XMLSyntaxError,
        zipfile.BadZipFile,
        pl.exceptions.PolarsError,
    ) as error:
        outcome.differences.append(f"cannot read: {error}")
        return outcome
    if Path(name).name == "manifest.json":
        left_rows, right_rows = mask_manifest(left_rows), mask_manifest(right_rows)
        outcome.notes.append("per-file sha256/bytes checked against each side's files, masked")
    if left.read_bytes() == right.read_bytes():
        outcome.notes.append("byte-identical")
    if right_notes != notes:
        outcome.notes.append(f"right side: {right_notes}")
    outcome.notes[:0] = notes
    return compare_rows(
        outcome, left_rows, right_rows, ordered=not options.is_unordered(name), show=options.show
    )


def compare_folders(left: Path, right: Path, options: Options, label: str) -> list[Outcome]:
    """Every file of two folders: files on one side only are differences too."""
    left_files, right_files = files_under(left), files_under(right)
    outcomes = []
    for name in sorted(left_files.keys() | right_files.keys()):
        shown = f"{label}/{name}"
        if options.is_skipped(name):
            outcomes.append(Outcome(shown, notes=["skipped (--skip)"]))
        elif name not in right_files or name not in left_files:
            side = "left" if name in left_files else "right"
            outcomes.append(Outcome(shown, differences=[f"only on the {side}"]))
        else:
            outcomes.append(compare_file(name, left_files[name], right_files[name], options))
            outcomes[-1].name = shown
    for folder, side in ((left, "left"), (right, "right")):
        if problems := manifest_check(folder):
            outcomes.append(Outcome(f"{label}/manifest.json ({side} hashes)", differences=problems))
    return outcomes


# --- portal databases ----------------------------------------------------------------------


def engine_for(target: str) -> sa.Engine:
    """An engine for a SQLAlchemy URL, or for a SQLite file given as a plain path."""
    url = target if "://" in target else f"sqlite:///{Path(target).resolve()}"
    return sa.create_engine(url)


def snapshot_of(folder: Path) -> str | None:
    """The snapshot id a folder's manifest names (to pick that snapshot's portal tables)."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    snapshot = json.loads(manifest.read_text(encoding="utf-8")).get("snapshot_id")
    return str(snapshot) if snapshot else None


def relations(engine: sa.Engine, snapshot: str | None) -> dict[str, str]:
    """Masked name -> real name of every table and view that belongs to ``snapshot`` or to
    no snapshot; tables of other (older, kept) snapshots are left out."""
    inspector = sa.inspect(engine)
    names = inspector.get_table_names() + inspector.get_view_names()
    own = snapshot.lower().replace("-", "_") if snapshot else None
    chosen: dict[str, str] = {}
    for name in names:
        ids = SQL_SNAPSHOT_ID.findall(name)
        if ids and own is not None and own not in ids:
            continue
        chosen[mask_text(name)] = name
    return chosen


def table_shape(engine: sa.Engine, name: str) -> list[Row]:
    """Columns (name, type, nullable) and indexes of a table or view, names masked."""
    inspector = sa.inspect(engine)
    columns = [
        [c["name"], str(c["type"]), bool(c.get("nullable"))] for c in inspector.get_columns(name)
    ]
    try:
        indexes = inspector.get_indexes(name)
    except (NotImplementedError, sa.exc.SQLAlchemyError):
        indexes = []
    index_rows = [
        [mask_text(str(i["name"])), list(i["column_names"]), bool(i["unique"])] for i in indexes
    ]
    return [{"columns": columns, "indexes": sorted(index_rows, key=sort_key)}]


def table_rows(engine: sa.Engine, name: str) -> list[Row]:
    """Every row of a table or view as a dict, the publish's own stamps masked."""
    table = sa.Table(name, sa.MetaData(), autoload_with=engine)
    with engine.connect() as connection:
        result = connection.execute(sa.select(table))
        return [
            {
                key: MASK if key in VOLATILE_COLUMNS else mask_value(value)
                for key, value in row._mapping.items()
            }
            for row in result
        ]


class SqlPortal:
    """A SQL portal's relations of one snapshot (SQLAlchemy)."""

    def __init__(self, target: str, snapshot: str | None) -> None:
        self.engine, self.snapshot = engine_for(target), snapshot

    def relations(self) -> dict[str, str]:
        return relations(self.engine, self.snapshot)

    def shape(self, name: str) -> list[Row]:
        return table_shape(self.engine, name)

    def rows(self, name: str) -> list[Row]:
        return table_rows(self.engine, name)

    def close(self) -> None:
        self.engine.dispose()


class DuckDBPortal:
    """A DuckDB portal's live file (``duckdb:///<link>`` or the link's path): the file is
    one snapshot, so every relation in it is compared."""

    def __init__(self, target: str) -> None:
        path = target.removeprefix("duckdb:///")
        self.conn = duckdb.connect(path, read_only=True)

    def relations(self) -> dict[str, str]:
        names = self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
        return {name: name for (name,) in names}

    def shape(self, name: str) -> list[Row]:
        columns = self.conn.execute(
            "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [name],
        ).fetchall()
        indexes = self.conn.execute(
            "SELECT index_name, expressions, is_unique FROM duckdb_indexes() WHERE table_name = ?",
            [name],
        ).fetchall()
        index_rows = [[mask_text(i), str(e), bool(u)] for i, e, u in indexes]
        return [
            {"columns": [list(c) for c in columns], "indexes": sorted(index_rows, key=sort_key)}
        ]

    def rows(self, name: str) -> list[Row]:
        cursor = self.conn.execute(f'SELECT * FROM "{name}"')
        keys = [d[0] for d in cursor.description or ()]
        return [
            {
                key: MASK if key in VOLATILE_COLUMNS else mask_value(value)
                for key, value in zip(keys, row, strict=True)
            }
            for row in cursor.fetchall()
        ]

    def close(self) -> None:
        self.conn.close()


def open_portal(target: str, snapshot: str | None) -> SqlPortal | DuckDBPortal:
    if target.startswith("duckdb:") or target.endswith(".duckdb"):
        return DuckDBPortal(target)
    return SqlPortal(target, snapshot)


def compare_portals(
    left: str, right: str, snapshots: tuple[str | None, str | None], options: Options
) -> list[Outcome]:
    """Every table and view of two portal databases: shape, then rows (SQL rows have no
    order, so they are compared as multisets)."""
    portals = open_portal(left, snapshots[0]), open_portal(right, snapshots[1])
    try:
        names = portals[0].relations(), portals[1].relations()
        outcomes = []
        for masked in sorted(names[0].keys() | names[1].keys()):
            label = f"portal/{masked}"
            if masked not in names[0] or masked not in names[1]:
                side = "left" if masked in names[0] else "right"
                outcomes.append(Outcome(label, differences=[f"only on the {side}"]))
                continue
            real = names[0][masked], names[1][masked]
            shape = compare_rows(
                Outcome(f"{label} (columns, indexes)"),
                portals[0].shape(real[0]),
                portals[1].shape(real[1]),
                ordered=True,
                show=options.show,
            )
            rows = compare_rows(
                Outcome(label),
                portals[0].rows(real[0]),
                portals[1].rows(real[1]),
                ordered=False,
                show=options.show,
            )
            outcomes += [shape, rows]
        return outcomes
    finally:
        for portal in portals:
            portal.close()


# --- command line --------------------------------------------------------------------------


def report(outcomes: Iterable[Outcome]) -> bool:
    """Log one line per file or table (rows compared, verdict) and the first differences;
    True when everything is equal."""
    equal = True
    for outcome in outcomes:
        skipped = "skipped (--skip)" in outcome.notes
        verdict = "skipped" if skipped else "equal" if outcome.equal else "DIFFERENT"
        counts = (
            f"{outcome.left_rows} rows"
            if outcome.left_rows == outcome.right_rows
            else f"{outcome.left_rows} vs {outcome.right_rows} rows"
        )
        log.info("%-9s %s: %s", verdict, outcome.name, counts)
        for note in outcome.notes:
            if note != "skipped (--skip)":
                log.info("          (%s)", note)
        for difference in outcome.differences:
            log.info("    %s", difference)
        equal = equal and outcome.equal
    return equal


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare two published Prism snapshots row by row, ignoring only snapshot "
        "ids, run ids and creation timestamps. Exit 0 when equal, 1 when not."
    )
    parser.add_argument("left", type=Path, help="snapshot folder (feeds/snapshots/<id> or current)")
    parser.add_argument("right", type=Path, help="the other snapshot folder")
    parser.add_argument(
        "--portal",
        nargs=2,
        metavar=("LEFT_DB", "RIGHT_DB"),
        help="portal databases: SQLAlchemy URLs, SQLite file paths, or DuckDB portals "
        "(duckdb:///<path> or the live link's path, *.duckdb)",
    )
    parser.add_argument(
        "--reports",
        nargs=2,
        type=Path,
        metavar=("LEFT_DIR", "RIGHT_DIR"),
        help="report folders (feeds/reports/<id>): quarantine exports, summary, expectations",
    )
    parser.add_argument(
        "--unordered",
        action="append",
        default=[],
        metavar="GLOB",
        help="files (relative path glob) whose row order carries no meaning; repeatable",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="GLOB",
        help="files not to compare; repeatable",
    )
    parser.add_argument("--show", type=int, default=5, help="differing rows shown per file (5)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Compare, log the outcome to stdout (it is the tool's output), return the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    args = parse_args(argv)
    options = Options(show=args.show, unordered=tuple(args.unordered), skip=tuple(args.skip))
    left, right = args.left.resolve(), args.right.resolve()
    for folder in (left, right, *(args.reports or ())):
        if not folder.is_dir():
            log.error("not a folder: %s", folder)
            return 2
    outcomes = compare_folders(left, right, options, "snapshot")
    if args.portal:
        snapshots = snapshot_of(left), snapshot_of(right)
        outcomes += compare_portals(args.portal[0], args.portal[1], snapshots, options)
    if args.reports:
        outcomes += compare_folders(args.reports[0], args.reports[1], options, "reports")
    equal = report(outcomes)
    log.info("EQUAL" if equal else "DIFFERENT")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
