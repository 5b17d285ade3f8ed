"""One Akeneo JSON Lines export split into N shard folders, each readable by ``read_pim_export``.

A sharded run reads each shard in its own process, so everything the reader compares across
products must land in one shard:

- a product model's variants, however deep: products are grouped by their *family root* (the
  top model of their parent's chain; a product without parent is its own root, keyed by sku);
- repeated skus and uuids: ``items.split_rejects`` keeps the first occurrence and rejects the
  later ones, so a later occurrence follows the earlier line to its shard.

A shard's ``products.jsonl`` keeps every line number of the original: its own lines are copied
byte for byte, every other non-blank line becomes an empty line (which the reader skips), so
``pim_source`` and reject messages name the original file's lines. Every other file of the
export (structure, product models, ready marker) is symlinked into each shard. The shard of a
root is ``zlib.crc32`` of its key: stable across processes, machines and library versions.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zlib
from collections.abc import Container, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from sources.akeneo_files.files import PimFileError, read_csv

PRODUCTS = "products.jsonl"
MODELS = "product_models"
MODEL_KEYS = ("code", "parent")
SHARD_PREFIX = "shard-"
STAGING_PREFIX = ".shards-staging-"
BUFFER = 8 << 20
OUTPUT_BUFFERS = 32 << 20
"""Write buffers of all shard files together, so many shards do not multiply the memory."""
SLICE = 1 << 16
UTF8 = ("utf-8", "surrogatepass")
"""A lone surrogate (a JSON escape like \\ud800) still gets a shard instead of failing."""
KEY_BLOCK_SIZES = (2 << 20, 32 << 20)
"""pyarrow block sizes tried in turn: small keeps memory flat, larger fits longer lines."""
KEY_COLUMNS = {
    "identifier": pl.String,
    "uuid": pl.String,
    "parent": pl.String,
    "id_value": pl.String,
}
"""What assigning a product needs: the sku's sources (``identifier``, else the identifier
attribute's first value ``id_value``), the uuid and the parent model code."""


@dataclass(frozen=True)
class ShardSplit:
    """Where the shards of one export are and what they hold."""

    folders: tuple[Path, ...]
    """``target/"shard-<i>"`` for each shard i"""
    products: tuple[int, ...]
    """product records (non-blank lines) per shard"""
    rows_read: dict[str, int]
    """records of the whole export's products and product models files, keyed by file name
    as the reader's ``rows_read`` is (a missing models file is absent)"""


class _Misaligned(Exception):
    """pyarrow's rows did not match the file's non-blank lines one to one (e.g. two objects
    on one line); the keys must be read line by line."""


def shard_of(keys: pl.Series, shards: int) -> pl.Series:
    """Shard index (Int64, 0..shards-1) of each key: zlib.crc32 of the key casefolded, UTF-8,
    modulo shards; a null key is shard 0. Stable across processes, machines and versions
    (never Python's hash or polars' hash)."""
    if shards < 1:
        msg = f"shards must be at least 1, got {shards}"
        raise ValueError(msg)
    text = keys.cast(pl.String)
    indices: list[int] = []
    for start in range(0, text.len(), SLICE):  # slices: a million Python strings at once is heavy
        indices += [
            0 if key is None else zlib.crc32(key.casefold().encode(*UTF8)) % shards
            for key in text.slice(start, SLICE).to_list()
        ]
    return pl.Series(keys.name, indices, dtype=pl.Int64)


def split_export(
    folder: Path, shards: int, target: Path, identifier_attribute: str | None = None
) -> ShardSplit:
    """Write ``target/shard-<i>`` for i in range(shards) from the export in ``folder``.

    ``identifier_attribute``: the attribute whose value is the sku of a product without an
    ``identifier`` (uuid-keyed exports), compared case-insensitively; None: only
    ``identifier``. Earlier shard folders in ``target`` are replaced, each by one rename."""
    if shards < 1:
        msg = f"shards must be at least 1, got {shards}"
        raise ValueError(msg)
    path = _products_file(folder)
    roots, models_read = _model_roots(folder)
    target.mkdir(parents=True, exist_ok=True)
    _remove_staging(target)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=target))
    try:
        staged = [_stage_shard(folder, staging / f"{SHARD_PREFIX}{i}") for i in range(shards)]
        keys = _fast_keys(path, identifier_attribute)
        try:
            counts = _write_shards(path, _owners(keys, roots, shards), staged)
        except _Misaligned:
            keys = _slow_keys(path, identifier_attribute)
            counts = _write_shards(path, _owners(keys, roots, shards), staged)
        folders = _publish(staged, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ShardSplit(folders, tuple(counts), {PRODUCTS: sum(counts), **models_read})


def _products_file(folder: Path) -> Path:
    if (folder / "products.csv").exists():
        msg = (
            f"{folder / 'products.csv'}: sharded runs need the JSON Lines export "
            "(products.jsonl, as the Akeneo connector and the demo write it), not Akeneo's CSV"
        )
        raise PimFileError(msg)
    path = folder / PRODUCTS
    if not path.is_file():
        msg = f"{folder}: no {PRODUCTS} in the PIM export"
        raise PimFileError(msg)
    return path


# --- family roots -----------------------------------------------------------------------------


def _model_roots(folder: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Lower-cased model code -> lower-cased root model code, and the models file's record
    count keyed by its name (empty when the export has no models file)."""
    jsonl, csv = folder / f"{MODELS}.jsonl", folder / f"{MODELS}.csv"
    if jsonl.is_file():
        models = _jsonl_models(jsonl)
        name = jsonl.name
    elif csv.is_file():
        raw = read_csv(csv)
        models = raw.select(
            [
                pl.col(c) if c in raw.columns else pl.lit(None, pl.String).alias(c)
                for c in MODEL_KEYS
            ]
        )
        name = csv.name
    else:
        return {}, {}
    lowered = models.select(pl.col("code", "parent").cast(pl.String).str.to_lowercase())
    return _roots_of(lowered["code"].to_list(), lowered["parent"].to_list()), {name: models.height}


def _jsonl_models(path: Path) -> pl.DataFrame:
    schema = pa.schema([("code", pa.string()), ("parent", pa.string())])
    table = _read_fields(path, schema)
    if table is not None:
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame
    rows = [
        (_text(i.get("code")), _text(i.get("parent"))) if i else (None, None)
        for _, i in _items(path)
    ]
    return pl.DataFrame(rows, schema={"code": pl.String, "parent": pl.String}, orient="row")


def _roots_of(codes: Sequence[str | None], parents: Sequence[str | None]) -> dict[str, str]:
    """Each model's root: its parent's root, up to a model without parent or a parent that is
    no model (its own root). Models in a cycle share its smallest code as root, so every entry
    into the cycle agrees. The first of two models with one code wins (the reader refuses the
    export anyway)."""
    parent_of: dict[str, str | None] = {}
    for code, parent in zip(codes, parents, strict=True):
        if code is not None:
            parent_of.setdefault(code, parent)
    roots: dict[str, str] = {}
    for code in parent_of:
        _resolve(code, parent_of, roots)
    return roots


def _resolve(code: str, parent_of: dict[str, str | None], roots: dict[str, str]) -> None:
    chain: list[str] = []
    on_chain: set[str] = set()
    node = code
    while node not in roots:
        if node in on_chain:
            root = min(chain[chain.index(node) :])
            break
        chain.append(node)
        on_chain.add(node)
        parent = parent_of.get(node)
        if parent is None:
            root = node
            break
        node = parent
    else:
        root = roots[node]
    for member in chain:
        roots[member] = root


# --- product keys -----------------------------------------------------------------------------


def _fast_keys(path: Path, attribute: str | None) -> pl.DataFrame:
    """Keys by pyarrow, parsing only the fields needed; line by line when pyarrow cannot (a
    broken line, a type other than text in a key field, bytes that are not UTF-8)."""
    fields = [("identifier", pa.string()), ("uuid", pa.string()), ("parent", pa.string())]
    if attribute is not None:
        entry = pa.list_(pa.struct([("data", pa.string())]))
        fields.append(("values", pa.struct([(attribute, entry)])))
    table = _read_fields(path, pa.schema(fields))
    if table is None:
        return _slow_keys(path, attribute)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    id_value = (
        pl.col("values").struct.field(attribute).list.first().struct.field("data")
        if attribute is not None
        else pl.lit(None, pl.String)
    )
    keys = frame.select(*(pl.col(c) for c in ("identifier", "uuid", "parent")), id_value=id_value)
    return _with_other_spellings(path, keys, attribute)


def _with_other_spellings(path: Path, keys: pl.DataFrame, attribute: str | None) -> pl.DataFrame:
    """Products without a sku in the schema's spelling may spell the identifier attribute in
    another case ("SKU"); the reader finds those, so look them up (only these lines)."""
    if attribute is None:
        return keys
    unresolved = keys.select(
        pl.arg_where(pl.col("identifier").is_null() & pl.col("id_value").is_null())
    ).to_series()
    if unresolved.len() == 0:
        return keys
    found = [
        (row, value)
        for row, item in _items(path, set(unresolved.to_list()))
        if item is not None and (value := _id_value(item, attribute)) is not None
    ]
    if not found:
        return keys
    rows, values = zip(*found, strict=True)
    id_value = keys["id_value"].scatter(list(rows), pl.Series(values, dtype=pl.String))
    return keys.with_columns(id_value)


def _slow_keys(path: Path, attribute: str | None) -> pl.DataFrame:
    """Keys of every non-blank line by ``json.loads``; a line that is no JSON object gets no
    keys at all (shard 0, where the reader names it as an unsharded read does)."""
    rows = [
        (
            _text(item.get("identifier")),
            _text(item.get("uuid")),
            _text(item.get("parent")),
            None if attribute is None else _id_value(item, attribute),
        )
        if item is not None
        else (None, None, None, None)
        for _, item in _items(path)
    ]
    return pl.DataFrame(rows, schema=KEY_COLUMNS, orient="row")


def _read_fields(path: Path, schema: pa.Schema) -> pa.Table | None:
    """Only ``schema``'s fields of every line, or None when pyarrow cannot read them.

    Streamed in small blocks: pyarrow's whole-file reader reads ahead of its parsers and
    holds a growing share of the file; a line longer than a block is retried with larger ones.
    """
    if path.stat().st_size == 0:
        return schema.empty_table()
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    for block_size in KEY_BLOCK_SIZES:
        try:
            reader = pa_json.open_json(
                path,
                read_options=pa_json.ReadOptions(block_size=block_size),
                parse_options=options,
            )
            table = reader.read_all()
            table.validate(full=True)  # pyarrow's JSON reader does not check UTF-8
        except pa.ArrowInvalid as error:
            if "straddl" in str(error):
                continue
            return None
        return table
    return None


def _items(path: Path, wanted: Container[int] | None = None) -> Iterator[tuple[int, Any]]:
    """(record index, parsed object or None when the line is no JSON object) of each non-blank
    line, or of the ``wanted`` record indices only."""
    record = 0
    with path.open("rb", buffering=BUFFER) as handle:
        for line in handle:
            if line.isspace():
                continue
            if wanted is None or record in wanted:
                yield record, _parsed(line)
            record += 1


def _parsed(line: bytes) -> dict[str, Any] | None:
    try:
        item = json.loads(line, parse_int=str, parse_float=str)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return item if isinstance(item, dict) else None


def _id_value(item: dict[str, Any], attribute: str) -> str | None:
    """The first value of the identifier attribute in any case, as the reader coalesces them."""
    values = item.get("values")
    if not isinstance(values, dict):
        return None
    lower = attribute.lower()
    for name, entries in values.items():
        if name.lower() == lower and isinstance(entries, list) and entries:
            first = entries[0]
            data = _text(first.get("data")) if isinstance(first, dict) else None
            if data is not None:
                return data
    return None


def _text(value: Any) -> str | None:
    """A scalar as the reader's line-by-line path makes it text (numbers kept as written)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return value if isinstance(value, str) else None


# --- assignment -------------------------------------------------------------------------------


def _owners(keys: pl.DataFrame, roots: dict[str, str], shards: int) -> list[int]:
    """The shard of each product record: its family root's, unless its sku or uuid repeats an
    earlier record's, then that record's shard."""
    models = pl.DataFrame(
        {"_parent": list(roots), "_root": list(roots.values())},
        schema={"_parent": pl.String, "_root": pl.String},
    )
    frame = (
        keys.select(sku=_sku(), uuid=pl.col("uuid"), _parent=pl.col("parent").str.to_lowercase())
        .join(models, on="_parent", how="left", maintain_order="left")
        .select("sku", "uuid", root=pl.coalesce("_root", "_parent"))
    )
    own = shard_of(frame.select(pl.coalesce("root", "sku", "uuid")).to_series(), shards)
    return _follow_duplicates(own.to_list(), frame["sku"], frame["uuid"])


def _sku() -> pl.Expr:
    """The sku as ``items.identifier`` makes it: stripped, blank is none."""
    sku = pl.coalesce("identifier", "id_value").str.strip_chars()
    return pl.when(sku != "").then(sku)


def _follow_duplicates(own: list[int], skus: pl.Series, uuids: pl.Series) -> list[int]:
    """``own`` with each record whose sku, else uuid, was seen on an earlier record moved to
    that record's shard (sku first: the reader names a repeated sku before a repeated uuid),
    so every record meets in its shard exactly the earlier twins it meets in the whole file."""
    involved = (skus.is_not_null() & skus.is_duplicated()) | (
        uuids.is_not_null() & uuids.is_duplicated()
    )
    rows = involved.arg_true()
    if rows.len() == 0:
        return own
    by_sku: dict[str, int] = {}
    by_uuid: dict[str, int] = {}
    for row, sku, uuid in zip(
        rows.to_list(), skus.gather(rows).to_list(), uuids.gather(rows).to_list(), strict=True
    ):
        shard = by_sku.get(sku) if sku is not None else None
        if shard is None and uuid is not None:
            shard = by_uuid.get(uuid)
        own[row] = shard if shard is not None else own[row]
        if sku is not None:
            by_sku.setdefault(sku, own[row])
        if uuid is not None:
            by_uuid.setdefault(uuid, own[row])
    return own


# --- shard folders ----------------------------------------------------------------------------


def _stage_shard(folder: Path, shard: Path) -> Path:
    """A shard folder with every file of the export but the products symlinked (absolute)."""
    shard.mkdir()
    source = folder.resolve()
    for entry in sorted(source.iterdir()):
        if entry.name != PRODUCTS:
            (shard / entry.name).symlink_to(entry)
    return shard


def _write_shards(path: Path, owners: Sequence[int], shards: Sequence[Path]) -> list[int]:
    """Each shard's products.jsonl: its records as they are, every other record as an empty
    line, blank lines as they are; returns the records written per shard.

    Each line is written once, after the newlines standing for the lines its shard skipped
    since its previous one, so the work does not grow with the number of shards."""
    counts = [0] * len(shards)
    written = [0] * len(shards)  # lines of the original each shard file holds so far
    everyone = range(len(shards))
    record = lines = 0
    with ExitStack() as stack:
        source = stack.enter_context(path.open("rb", buffering=BUFFER))
        size = max(OUTPUT_BUFFERS // len(shards), 1 << 16)
        outputs = [stack.enter_context((s / PRODUCTS).open("wb", buffering=size)) for s in shards]
        for line in source:
            if line.isspace():
                receivers: Sequence[int] = everyone
            else:
                if record == len(owners):
                    raise _Misaligned
                receivers = (owners[record],)
                counts[owners[record]] += 1
                record += 1
            for shard in receivers:
                if lines > written[shard]:
                    outputs[shard].write(b"\n" * (lines - written[shard]))
                outputs[shard].write(line)
                written[shard] = lines + 1
            lines += 1
        for shard, output in enumerate(outputs):
            output.write(b"\n" * (lines - written[shard]))
    if record != len(owners):
        raise _Misaligned
    return counts


def _publish(staged: Sequence[Path], target: Path) -> tuple[Path, ...]:
    """Move the staged shard folders into ``target``, replacing earlier ones (also those of an
    earlier split into more shards); each shard folder appears complete, in one rename."""
    staging = staged[0].parent
    final = tuple(target / shard.name for shard in staged)
    stale = [p for p in target.glob(f"{SHARD_PREFIX}*") if p not in final and _is_shard(p)]
    for number, old in enumerate([*stale, *(p for p in final if p.exists() or p.is_symlink())]):
        old.rename(staging / f"old-{number}")
    for shard, place in zip(staged, final, strict=True):
        shard.rename(place)
    return final


def _is_shard(path: Path) -> bool:
    return path.name.removeprefix(SHARD_PREFIX).isdigit()


def _remove_staging(target: Path) -> None:
    """Staging folders left by a split that crashed."""
    for leftover in target.glob(f"{STAGING_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)
