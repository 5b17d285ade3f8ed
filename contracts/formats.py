"""What a channel format declares: its target fields with their spec, its presets, its writer.

A format is one module under ``sinks/formats/`` that builds a ``FormatSpec`` and registers it
(``sinks.formats.FORMATS``). Everything else follows from the declaration: the mapping checks a
channel's ``fields:`` against ``fields`` before a run starts, the quality rules of a channel come
from the field specs (so a format cannot publish unchecked), ``prism formats`` prints them, and
the writer gets a frame with exactly the target fields, already cleaned.

Field-level before product-level: a value that fails an *optional* (or recommended) field's
spec is left out of that field and reported as a warning; only a failing *required* field keeps
the product off the channel. Where the consumer's own spec truncates (``on_too_long="truncate"``),
Prism truncates too and reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel

from contracts.mapping import Condition

Kind = Literal[
    "text", "url", "gtin", "money", "integer", "decimal", "date", "boolean", "enum", "list"
]
Requirement = Literal["required", "recommended", "optional"]
PriceRule = Callable[[pl.DataFrame, str, str | None], pl.DataFrame]
"""(tiers, customer_id, customer_group) -> the tiers that hold for that customer."""
KINDS: tuple[Kind, ...] = (
    "text", "url", "gtin", "money", "integer", "decimal", "date", "boolean", "enum", "list"
)  # fmt: skip


@dataclass(frozen=True)
class FieldSpec:
    """One target field of a format, as the consumer's specification defines it."""

    name: str
    kind: Kind = "text"
    requirement: Requirement = "optional"
    description: str = ""
    max_length: int | None = None
    """characters (of each item, for lists)"""
    on_too_long: Literal["reject", "truncate"] = "reject"
    min_length: int | None = None
    pattern: str | None = None
    """a regular expression the whole value must match (both polars and great-expectations)"""
    allowed: tuple[str, ...] | None = None
    max_items: int | None = None
    """lists: at most this many items (more are cut and reported)"""
    required_when: Condition | None = None
    """required only for products where this holds (e.g. a backorder needs its date)"""
    severity_when_missing: Literal["error", "warn"] | None = None
    """overrides: a required field whose absence is only reported (the consumer tolerates it)"""
    on_invalid: Literal["drop", "reject"] | None = None
    """an invalid value: ``drop`` it (warn) or ``reject`` the product (error); default: reject
    for required fields, drop otherwise. Google disapproves an item with a wrong GTIN although
    the GTIN is optional: ``reject``."""
    source: Literal["pim", "erp"] = "pim"
    """which system holds the value to fix"""

    @property
    def invalid_is_error(self) -> bool:
        """Whether a present but invalid value keeps the product off the channel."""
        if self.on_invalid is not None:
            return self.on_invalid == "reject"
        return self.requirement == "required"

    @property
    def required(self) -> bool:
        return self.requirement == "required" and self.required_when is None


@dataclass(frozen=True)
class WriteContext:
    """What a writer needs besides the channel's frame of target fields."""

    channel: str
    """the channel's name (files go under ``folder``, named by the writer)"""
    settings: Any
    """the channel's configuration (``contracts.config.ChannelConfig``)"""
    options: BaseModel | None
    """the format's own options, validated (``FormatSpec.options``)"""
    folder: Any
    """the channel's staging folder (``pathlib.Path``)"""
    snapshot_id: str
    created: Any
    """the snapshot's creation time (``datetime``, UTC)"""
    tiers: Any
    """every price tier of the published products (``PRICE_TIERS_SCHEMA``), for B2B formats"""
    golden: pl.LazyFrame | None
    """the published products' golden rows, one per row of the frame in its order (for
    structural data: item groups, variant axes), as a query: a channel's golden rows are the
    golden record behind a mask, and collecting all ~50 columns would copy a catalog per
    writer (1.2 GiB at 1M products), so a writer reads them through ``golden_columns``"""
    price_rule: PriceRule | None = None
    """``price_rule(tiers, customer_id, customer_group) -> tiers``: the one precedence rule
    (``golden.pricing.effective_tiers``; sinks sit below golden, so it is handed over), for
    formats priced per customer; None when the channel names no customers"""
    left_out: Any = None
    """B2B formats with customers: the products each customer's assortment leaves out
    (``mapping.assortments.LEFT_OUT_SCHEMA``: customer_id, sku, rule); None: none"""

    def golden_columns(self, *columns: str) -> pl.DataFrame | None:
        """Only ``columns`` of the golden rows (copied), None when the context has no golden
        rows or they lack one of ``columns``."""
        if self.golden is None or not set(columns) <= set(self.golden.collect_schema().names()):
            return None
        return self.golden.select(columns).collect()


@dataclass(frozen=True)
class Assembly:
    """How one file of a format is put together from parts written per shard (the sharded
    job): the *envelope* is what the writer writes for no rows (a CSV header; an XML document's
    head and ``footer``), each part is a whole file of one shard's rows. The file is the
    envelope's head, every part's records (the part without its ``header_lines`` leading lines,
    or from its ``first_item`` up to its ``footer``), then the envelope's ``footer``."""

    header_lines: int = 0
    first_item: bytes | None = None
    """where a document's records start (the first record's opening tag)"""
    footer: bytes = b""
    """what closes a document after its records"""
    applies: Callable[[Any], bool] | None = None
    """``applies(options)``: whether the channel's options allow it (a gzipped file cannot be
    spliced); None: always"""

    def for_options(self, options: Any) -> Assembly | None:
        return self if self.applies is None or self.applies(options) else None


@dataclass(frozen=True)
class TableParts:
    """How a SQL format loads a sharded run's rows: ``write(frame, context)`` writes one shard's
    rows of each table as Parquet into ``context.folder``; ``load(folders, context)`` loads the
    parts of every shard (``folders``) as the snapshot's tables in one load and returns them as
    ``FeedFile``s (``kind="table"``)."""

    write: Callable[[Any, WriteContext], None]
    load: Callable[[Sequence[Path], WriteContext], list[Any]]


@dataclass(frozen=True)
class FormatSpec:
    name: str
    description: str
    fields: tuple[FieldSpec, ...]
    writer: Callable[[Any, WriteContext], list[Any]]
    """``writer(frame, context) -> list[FeedFile]``"""
    presets: Mapping[str, Mapping[str, Any]]
    """named default mappings (target field -> mapping-language source); the first is the
    default"""
    public: bool = True
    """public channels only ever get list prices (group and customer prices stay in B2B)"""
    options: type[BaseModel] | None = None
    """the format's dialect/options model; its fields sit at the channel level of prism.yaml"""
    target: Literal["files", "sql"] = "files"
    extensible: bool = False
    """True: mapped fields the spec does not name are written too (tabular formats, SQL)"""
    notes: tuple[str, ...] = field(default_factory=tuple)
    assembly: Assembly | None = None
    """how a sharded run assembles the format's files from parts written per shard; None:
    written whole from the merged shards (a workbook)"""
    table_parts: TableParts | None = None
    """how a sharded run loads a SQL format's tables from parts written per shard"""

    def spec_of(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def default_preset(self) -> str:
        return next(iter(self.presets))
