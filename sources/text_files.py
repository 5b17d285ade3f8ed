"""Structural checks of input text files, before any value is parsed.

A damaged file must fail loudly with the file and line, never turn into plausible data: a CSV
cut off inside its last row (``...,EUR,12`` instead of ``...,EUR,123.45``), a row with too few
fields (which CSV readers pad with nulls), or bytes that are not UTF-8. The checks:

- ``scan_text``: one pass over the bytes: valid UTF-8 (else the line and column of the first bad
  byte), ends with a newline (a file cut off mid-write does not), its number of lines and
  optionally its sha256.
- ``check_csv_fields``: every record has exactly the header's number of fields and every quote
  is closed (DuckDB's CSV reader in strict mode, which names the line).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

import duckdb
import pyarrow as pa

CHUNK = 16 << 20
_DUCK_LINE = re.compile(r"Line: (\d+)")
_DUCK_COLUMNS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


class InputFileError(ValueError):
    """An input file is damaged; the message names the file, the line and what is wrong."""


@dataclass(frozen=True)
class TextScan:
    bytes: int
    lines: int
    sha256: str | None
    found: bool = False
    """whether the ``search`` pattern matched anywhere (False without one)"""


def scan_text(path: Path, *, digest: bool = False, search: str | None = None) -> TextScan:
    """Check ``path`` is UTF-8 and ends with a newline (an empty file passes).

    The file is read into one reused buffer and validated by Arrow's UTF-8 check, several
    times faster than decoding it in Python; a file that fails it is scanned again with
    Python's decoder, which names the line and column of the first bad byte. ``search``: a
    regular expression (RE2) looked for in the same pass, e.g. a key a reader cannot take;
    a match across two reads is found as long as it is shorter than ``_SEARCH_OVERLAP``."""
    sha = hashlib.sha256() if digest else None
    size = lines = held = 0
    last, tail, found = b"\n", b"", False
    buffer = bytearray(CHUNK + _CARRY)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while read := handle.readinto(view[held : held + CHUNK]):
            fresh = view[held : held + read]
            if sha is not None:
                sha.update(fresh)
            if search and not found:
                seam = tail + bytes(fresh[:_SEARCH_OVERLAP])
                found = _matches(seam, search) or _matches(fresh, search)
                tail = (
                    seam[-_SEARCH_OVERLAP:]
                    if read < _SEARCH_OVERLAP
                    else bytes(fresh[-_SEARCH_OVERLAP:])
                )
            size += read
            end = held + read
            lines += buffer.count(b"\n", held, end)
            last = bytes(view[end - 1 : end])
            cut = _last_character_start(buffer, end)
            if not _is_utf8(view[:cut]):
                return replace(_decode_scan(path, digest), found=found)
            # The bytes of a character the read cut in two wait for the rest of it.
            held = end - cut
            buffer[:held] = bytes(view[cut:end])
    if held and not _is_utf8(view[:held]):
        return replace(_decode_scan(path, digest), found=found)
    if last != b"\n":
        msg = f"{path.name}:{lines + 1}: the last line does not end with a newline (cut off?)"
        raise InputFileError(msg)
    return TextScan(size, lines, sha.hexdigest() if sha is not None else None, found)


_SEARCH_OVERLAP = 512
"""Bytes of one read that the ``scan_text`` search looks at again with the next read's."""


def _matches(data: bytes | memoryview, pattern: str) -> bool:
    """Whether RE2 ``pattern`` matches in ``data`` (bytes, valid UTF-8 or not).

    pyarrow.compute is imported here, not with the module: merely importing it raised the PIM
    and golden steps' resident memory by 0.6-1.1 GiB at 1M products in an A/B pair of runs (cause
    not found)."""
    import pyarrow.compute as pc

    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    blob = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    return bool(pc.match_substring_regex(blob, pattern)[0].as_py())


_CARRY = 3
"""UTF-8 bytes of one character a read may end in: at most three of its four."""


def _last_character_start(data: bytearray, end: int) -> int:
    """Where the character ``data[:end]`` may end inside starts (``end`` when it ends on a
    character boundary): validating up to there never splits a character. Only the last
    three bytes are looked at; a longer run of continuation bytes is invalid anyway."""
    for at in range(end - 1, max(end - 1 - _CARRY, -1), -1):
        byte = data[at]
        if byte < 0x80:
            return end
        if byte >= 0xC0:  # a lead byte: the character may go on past ``end``
            return at
    return end


def _is_utf8(data: bytes | memoryview) -> bool:
    """Whether ``data`` is valid UTF-8 (Arrow's validation of one string of all of it)."""
    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _decode_scan(path: Path, digest: bool) -> TextScan:
    """``scan_text`` by Python's incremental decoder: slow, but names the first bad byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    sha = hashlib.sha256() if digest else None
    size = lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                _bad_utf8(path, size, chunk, error)
            if sha is not None:
                sha.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        msg = f"{path.name}:{lines + 1}: not valid UTF-8 (the file ends inside a character)"
        raise InputFileError(msg) from None
    if last != b"\n":
        msg = f"{path.name}:{lines + 1}: the last line does not end with a newline (cut off?)"
        raise InputFileError(msg)
    return TextScan(size, lines, sha.hexdigest() if sha is not None else None)


def _bad_utf8(path: Path, offset: int, chunk: bytes, error: UnicodeDecodeError) -> NoReturn:
    """Raise naming the line and column of the first byte that is not UTF-8."""
    position = error.start
    before = path.read_bytes()[: offset + position] if offset else chunk[:position]
    line = before.count(b"\n") + 1
    column = len(before) - (before.rfind(b"\n") + 1) + 1
    byte = chunk[position : position + 1].hex()
    msg = f"{path.name}:{line}: not valid UTF-8 (byte 0x{byte} at column {column})"
    raise InputFileError(msg)


def check_csv_fields(path: Path, separator: str) -> int:
    """Every record of ``path`` has the header's number of fields; return the record count.

    Quoted fields may hold separators and line breaks (RFC 4180, ``"`` doubled inside)."""
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle, delimiter=separator), None)
    if not header:
        return 0
    columns = {f"c{i}": "VARCHAR" for i in range(len(header))}
    query = (
        "SELECT count(*) FROM read_csv(?, columns = ?, header = true, auto_detect = false, "
        "strict_mode = true, null_padding = false, delim = ?, quote = '\"', escape = '\"')"
    )
    try:
        with duckdb.connect() as db:
            row = db.execute(query, [str(path), columns, separator]).fetchone()
    except duckdb.Error as error:
        raise _field_error(path, separator, len(header), str(error)) from None
    return int(row[0]) if row else 0


def _physical_line(path: Path, separator: str, record: int) -> int:
    """The line (as an editor counts) where CSV record ``record`` (header = 1) starts."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=separator)
        for _ in range(record - 1):
            if next(reader, None) is None:
                break
        return reader.line_num + 1


def _field_error(path: Path, separator: str, expected: int, text: str) -> InputFileError:
    line = _DUCK_LINE.search(text)
    where = path.name
    if line:
        where = f"{path.name}:{_physical_line(path, separator, int(line.group(1)))}"
    counts = _DUCK_COLUMNS.search(text)
    if counts:
        found = counts.group(2)
        return InputFileError(
            f"{where}: {found} fields where the header has {expected} (damaged or cut off row)"
        )
    reason = text.splitlines()[0] if text else "unreadable"
    return InputFileError(f"{where}: not a well-formed CSV record ({reason})")
