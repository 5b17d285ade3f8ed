"""Vectorized XML serialization: each row's markup is built with polars string expressions.

A DOM, or even ``lxml.etree.xmlfile``, costs Python calls per element (~38 s for 1M feed items);
building the text column-wise in polars and streaming it in chunks keeps 1M items in seconds.
Contract of every helper here: text is escaped as ``contracts.text.escaped`` does, and a null
value yields a null element, which ``pl.concat_str(..., ignore_nulls=True)`` then omits.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

import polars as pl
import pyarrow as pa

from contracts.text import escaped

CHUNK_ROWS = 50_000
Compression = Literal["gzip"]
GZIP_LEVEL = 6
"""zlib's default: ~3x faster than gzip's 9 and within a few percent of its size on XML."""


class SinkInputError(ValueError):
    """A frame handed to a sink breaks the sink's input contract (e.g. a required value is null)."""


def element(
    name: str, value: pl.Expr, attributes: str = "", *, escape_value: bool = True
) -> pl.Expr:
    """``<name attributes>value</name>``, null when ``value`` is null.

    ``attributes`` is literal markup (e.g. ``' type="gtin"'``); pass ``escape_value=False`` only
    for values the sink formatted itself (numbers, dates) and that cannot contain markup.
    """
    text = escaped(value) if escape_value else value
    return pl.concat_str(pl.lit(f"<{name}{attributes}>"), text, pl.lit(f"</{name}>"))


def required_element(
    name: str, value: pl.Expr, attributes: str = "", *, escape_value: bool = True
) -> tuple[str, pl.Expr, str]:
    """The parts of ``element`` for ``markup(...)``, for a value that is never null.

    Splicing them into the surrounding ``markup`` saves building an intermediate string per row.
    """
    text = escaped(value) if escape_value else value
    return f"<{name}{attributes}>", text, f"</{name}>"


def markup(parts: Iterable[pl.Expr | str]) -> pl.Expr:
    """Concatenate elements and literal markup; null elements are left out."""
    exprs = [pl.lit(part) if isinstance(part, str) else part for part in parts]
    return pl.concat_str(exprs, ignore_nulls=True)


def truncated(value: pl.Expr, max_chars: int) -> pl.Expr:
    """``value`` cut to ``max_chars`` characters (before escaping, as schemas count characters)."""
    return value.str.slice(0, max_chars)


def money(value: pl.Expr) -> pl.Expr:
    """A Decimal amount as text with exactly two decimals, rounded half away from zero."""
    rounded = value.round(2, mode="half_away_from_zero").cast(pl.Decimal(38, 2))
    return rounded.cast(pl.String)


def require_values(frame: pl.DataFrame, columns: Sequence[str], sink: str) -> None:
    """Fail naming the column and a few skus when a value the format requires is null."""
    for column in columns:
        if count := frame.get_column(column).null_count():
            skus = frame.filter(pl.col(column).is_null()).get_column("sku").head(5).to_list()
            msg = f"{sink}: {count} row(s) without {column!r}, e.g. skus {skus}"
            raise SinkInputError(msg)


def render(frame: pl.DataFrame, row_markup: pl.Expr, chunk_rows: int) -> Iterator[pl.Series]:
    """``row_markup`` evaluated ``chunk_rows`` rows at a time, as text Series whose every
    value is one row's markup and its line break (a null markup: an empty line)."""
    if max(frame.n_chunks("all"), default=1) > 1:
        frame = frame.rechunk()  # slicing a frame of many small chunks is very slow
    line = pl.concat_str(row_markup.fill_null(""), pl.lit("\n")).alias("xml")
    for chunk in frame.iter_slices(chunk_rows):
        yield chunk.select(line).to_series()


def write_document(
    path: Path,
    header: str,
    lines: Iterable[pl.Series],
    footer: str,
    compress: Compression | None = None,
) -> None:
    """Write ``header``, the text of every Series of ``lines`` (each value a line with its
    line break, as ``render`` gives them), ``footer``.

    ``lines`` is consumed lazily, so memory stays bounded by one chunk's text (UTF-8 output).
    """
    with document_output(path, compress) as out:
        out.write(header.encode("utf-8"))
        for chunk in lines:
            out.write(text_buffer(chunk))
        out.write(footer.encode("utf-8"))


def compressed_name(name: str, compress: Compression | None) -> str:
    """The file name of a document named ``name`` once compressed as ``compress``."""
    return f"{name}.gz" if compress == "gzip" else name


@contextmanager
def document_output(path: Path, compress: Compression | None = None) -> Iterator[BinaryIO]:
    """``path`` opened to write a document into, compressed on the way with ``gzip`` (one
    stream, ``GZIP_LEVEL``). The gzip header names no file and no time, so the same document
    is always the same bytes: the manifest's sha256 and a delivery's digest stay stable."""
    with path.open("wb") as raw:
        if compress is None:
            yield raw
            return
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0
        ) as packed:
            yield packed  # type: ignore[misc]


def text_buffer(lines: pl.Series) -> memoryview:
    """The UTF-8 text of ``lines`` back to back (each value ends with its own line break), as
    one buffer: Arrow's large-string data buffer holds exactly that, so no per-line work is
    done (~4x faster than writing the lines with ``write_csv``, which formats every row)."""
    array = lines.to_arrow(compat_level=pl.CompatLevel.oldest())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if len(array) == 0:
        return memoryview(b"")
    _, offsets, data = array.buffers()
    bounds = memoryview(offsets).cast("q")  # int64 offsets of a large string array
    return memoryview(data)[bounds[array.offset] : bounds[array.offset + len(array)]]
