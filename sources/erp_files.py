"""Read an ERP file-drop snapshot (prices, stock, supply, customers) into typed polars frames.

A snapshot is a folder named for its time (e.g. ``20261122T060000Z``) holding ``prices``,
``stock`` and optionally ``supply`` and ``customers``, each as ``<name>.csv`` (UTF-8, header,
comma) or ``<name>.parquet`` with the same columns (extra columns are ignored; prices may omit
per_quantity, min_quantity, valid_from and valid_to, every other column is required). Every
cell is read as text (an empty cell is null; cells are not trimmed), then parsed column-wise;
a row that fails goes to ``rejects`` (REJECTS_SCHEMA) with the first failing field in column
order, so rows in = typed rows + rejects. Each typed row keeps ``erp_source``:
``"prices.csv:12"`` (the line its record starts on, header = line 1, quoted line breaks
counted) or ``"prices.parquet:row 11"`` (1-based data row).

Parsing rules (the reason code of a failure in brackets):
- ``sku`` must be present in every file [missing_sku].
- prices: ``price_type`` is list|group|customer [invalid_price_type]; group rows need a
  ``customer_group`` [missing_customer_group], customer rows a ``customer_id``
  [missing_customer_id]; ``currency`` is an ISO 4217 code a price can be in
  (``contracts.currencies``) [invalid_currency]; ``amount`` is a plain decimal (``12.50``; no
  exponent, no thousands separator, no decimal comma) with at most 6 significant decimals, so it
  is exact in Decimal(38, 6) [invalid_amount], and > 0 [non_positive_amount]; ``per_quantity``
  and ``min_quantity`` are integers >= 1, empty = 1 [invalid_per_quantity,
  invalid_min_quantity]; ``valid_from``/``valid_to`` are ``YYYY-MM-DD``, empty = open-ended
  [invalid_date] and ``valid_from <= valid_to`` [invalid_validity, reported on ``valid_to``].
- stock: ``on_hand`` is an integer (negative stock is kept; availability clamps it) and
  ``reserved`` an integer >= 0, empty = 0 [invalid_quantity]; ``warehouse`` may be empty.
- supply: ``lead_time_days`` an integer >= 0 [invalid_lead_time], ``next_receipt_date`` a date
  [invalid_date]; either may be empty.
- customers (``contracts.customers.CUSTOMERS_SCHEMA``; optional unless a channel takes its
  customers from the ERP): ``customer_id`` present [missing_customer_id], at most 20 characters
  (BMEcat's catalog id) [invalid_customer_id] and not a repeat of an earlier row's id compared
  case-insensitively [duplicate_customer_id: the later row is rejected]; ``currency`` empty or
  an ISO 4217 code [invalid_currency]; ``active`` one of true/false, yes/no, 1/0, x/-
  (case-insensitive; SAP-style ``X`` flags) [invalid_active]. ``customer_group`` and ``name``
  may be empty. Ids are kept as written: leading zeros stay, nothing is trimmed. A customer
  reject has no sku; it is counted with the ERP rejects like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

import contracts
import sources
from contracts.currencies import ISO_4217
from contracts.customers import CUSTOMERS_SCHEMA, MAX_CUSTOMER_ID
from contracts.golden import MONEY, REJECTS_SCHEMA
from sources.source_state import state_key
from sources.text_files import InputFileError, check_csv_fields, scan_text

PRICE_TYPES = ("list", "group", "customer")
# A plain decimal whose digits beyond the 6th decimal place are zeros (exact in scale 6).
_AMOUNT = r"^[+-]?(?:\d{1,32}(?:\.\d{0,6}0*)?|\.\d{1,6}0*)$"
_SOURCE = "erp_source"

PRICES_SCHEMA = pl.Schema(
    {
        "sku": pl.String(),
        "price_type": pl.String(),
        "customer_group": pl.String(),
        "customer_id": pl.String(),
        "currency": pl.String(),
        "amount": MONEY,
        "per_quantity": pl.Int64(),
        "min_quantity": pl.Int64(),
        "valid_from": pl.Date(),
        "valid_to": pl.Date(),
        _SOURCE: pl.String(),
    }
)
STOCK_SCHEMA = pl.Schema(
    {
        "sku": pl.String(),
        "warehouse": pl.String(),
        "on_hand": pl.Int64(),
        "reserved": pl.Int64(),
        _SOURCE: pl.String(),
    }
)
SUPPLY_SCHEMA = pl.Schema(
    {
        "sku": pl.String(),
        "lead_time_days": pl.Int64(),
        "next_receipt_date": pl.Date(),
        _SOURCE: pl.String(),
    }
)

# The columns of a file drop, in order (what the SAP pull and the demo generator write).
PRICE_COLUMNS = tuple(c for c in PRICES_SCHEMA if c != _SOURCE)
STOCK_COLUMNS = tuple(c for c in STOCK_SCHEMA if c != _SOURCE)
SUPPLY_COLUMNS = tuple(c for c in SUPPLY_SCHEMA if c != _SOURCE)


class ErpFileError(InputFileError):
    """An ERP snapshot file is missing, unreadable or lacks a column; the message names it."""


@dataclass(frozen=True)
class ErpSnapshot:
    """One ERP snapshot, typed; ``rejects`` holds every row of any file that failed to parse."""

    snapshot_id: str
    prices: pl.DataFrame
    stock: pl.DataFrame
    supply: pl.DataFrame
    rejects: pl.DataFrame
    rows_read: dict[str, int]
    """records read per file (e.g. ``{"prices.csv": 3850}``), rejects included"""
    customers: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CUSTOMERS_SCHEMA))
    """the customer master (empty when the drop has no customers file)"""


@dataclass(frozen=True)
class _Check:
    """A row fails ``field`` with ``reason`` where ``failed`` is true (null counts as false)."""

    field: str
    reason: str
    failed: pl.Expr


@dataclass(frozen=True)
class _FileSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    schema: pl.Schema
    parse: Callable[[], dict[str, pl.Expr]]
    checks: Callable[[], list[_Check]]


def erp_state_key(
    folder: Path, customers_for: tuple[str, ...], verified: Mapping[str, str] | None = None
) -> str:
    """The key of the typed snapshot in ``folder`` kept across runs (``sources.source_state``):
    its files by content (``verified``: their SHA-256 from a checked ready marker), the
    channels that take their customers from it, and the code of ``contracts`` and ``sources``
    that types it."""
    settings = {"customers_for": list(customers_for)}
    return state_key(folder, settings, (contracts, sources), verified)


def read_erp_snapshot(folder: Path, customers_for: tuple[str, ...] = ()) -> ErpSnapshot:
    """Read and type one snapshot folder; prices and stock are required, supply is optional,
    and so are customers unless ``customers_for`` names channels that take their customers
    from the ERP (then a drop without the file fails, naming the folder and the channels)."""
    typed: dict[str, pl.DataFrame] = {}
    rows: dict[str, int] = {}
    rejects = []
    for spec in (_PRICES, _STOCK, _SUPPLY, _CUSTOMERS):
        required = spec in (_PRICES, _STOCK) or (spec is _CUSTOMERS and bool(customers_for))
        path = _find_file(folder, spec.name, required=required, needed_by=customers_for)
        if path is None:
            typed[spec.name] = pl.DataFrame(schema=spec.schema)
            continue
        text = _read_text(path, spec)
        rows[path.name] = text.height
        typed[spec.name], file_rejects = _parse(text, spec)
        rejects.append(file_rejects)
    return ErpSnapshot(
        snapshot_id=folder.name,
        prices=typed["prices"],
        stock=typed["stock"],
        supply=typed["supply"],
        rejects=pl.concat(rejects) if rejects else pl.DataFrame(schema=REJECTS_SCHEMA),
        rows_read=rows,
        customers=typed["customers"],
    )


def _find_file(
    folder: Path, name: str, *, required: bool, needed_by: tuple[str, ...] = ()
) -> Path | None:
    found = [p for p in (folder / f"{name}.csv", folder / f"{name}.parquet") if p.is_file()]
    if len(found) > 1:
        msg = f"ERP snapshot {folder}: both {name}.csv and {name}.parquet exist; keep one"
        raise ErpFileError(msg)
    if not found and required:
        msg = f"ERP snapshot {folder}: {name}.csv or {name}.parquet is missing"
        if name == "customers":
            channels = ", ".join(needed_by)
            msg += f" (channel(s) {channels} take their customers from the ERP)"
        raise ErpFileError(msg)
    return found[0] if found else None


def _read_text(path: Path, spec: _FileSpec) -> pl.DataFrame:
    """The file's known columns as text (empty = null) plus ``erp_source``."""
    if path.suffix == ".csv":
        scan_text(path)
        check_csv_fields(path, ",")
    try:
        if path.suffix == ".csv":
            raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
        else:
            raw = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        msg = f"{path}: cannot read ERP file: {error}"
        raise ErpFileError(msg) from None
    _require_columns(path, raw.columns, spec.required)
    columns = [
        pl.col(c).cast(pl.String) if c in raw.columns else pl.lit(None, pl.String).alias(c)
        for c in (*spec.required, *spec.optional)
    ]
    try:
        text = raw.select(columns)
    except pl.exceptions.PolarsError as error:
        msg = f"{path}: a column cannot be read as text: {error}"
        raise ErpFileError(msg) from None
    source = raw.select(_source(path, raw)).to_series()
    return text.with_columns(map(_empty_as_null, text.columns)).with_columns(source)


def _empty_as_null(column: str) -> pl.Expr:
    """A quoted empty cell ("") is null like an unquoted one. Cells are not trimmed: a padded
    value fails its check (or surfaces as an unknown sku) instead of being guessed at, and
    trimming would copy every string of a multi-million-row file."""
    return pl.when(pl.col(column).str.len_bytes() > 0).then(pl.col(column)).alias(column)


def _require_columns(path: Path, present: list[str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        msg = f"{path}: required column {missing[0]!r} is missing (columns: {present})"
        raise ErpFileError(msg)


def _source(path: Path, raw: pl.DataFrame) -> pl.Expr:
    """``file:line`` for CSV (line of the record's start, counting quoted line breaks in any
    column of ``raw``, the file as read) or ``file:row n`` for Parquet (1-based)."""
    row = pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
    if path.suffix != ".csv":
        return pl.concat_str(pl.lit(f"{path.name}:row "), row.cast(pl.String)).alias(_SOURCE)
    line = row + 1
    if _count_newlines(path) > raw.height + 1:
        breaks = pl.sum_horizontal(pl.all().str.count_matches("\n", literal=True).fill_null(0))
        line = line + breaks.cum_sum().shift(1, fill_value=0)
    return pl.concat_str(pl.lit(f"{path.name}:"), line.cast(pl.String)).alias(_SOURCE)


def _count_newlines(path: Path) -> int:
    """Line breaks in the file; more than rows + 1 means some quoted cell spans lines."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))


def _parse(text: pl.DataFrame, spec: _FileSpec) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``text`` into typed rows (spec.schema) and rejects (REJECTS_SCHEMA).

    Parsed values live in ``_<column>`` next to the raw text; ``_check`` is the index of the
    first failing check (null = the row is valid), so each check is evaluated once.
    """
    checks = spec.checks()
    first_failure: Any = pl.when(checks[0].failed.fill_null(False)).then(0)
    for index, check in enumerate(checks[1:], start=1):
        first_failure = first_failure.when(check.failed.fill_null(False)).then(index)
    frame = (
        text.lazy()
        .with_columns(expr.alias(f"_{name}") for name, expr in spec.parse().items())
        .with_columns(_check=first_failure.otherwise(None))
        .collect()
    )
    typed = frame.filter(pl.col("_check").is_null()).select(
        pl.col(f"_{c}" if f"_{c}" in frame.columns else c).alias(c) for c in spec.schema
    )
    failed = frame.filter(pl.col("_check").is_not_null())
    return typed.cast(spec.schema), _rejects(failed, checks)


def _rejects(failed: pl.DataFrame, checks: list[_Check]) -> pl.DataFrame:
    """REJECTS_SCHEMA rows for ``failed`` (few rows): the raw text of the failing field."""
    index = pl.col("_check")
    value: Any = pl.when(index == 0).then(pl.col(checks[0].field))
    for i, check in enumerate(checks[1:], start=1):
        value = value.when(index == i).then(pl.col(check.field))
    return failed.select(
        pl.col("sku") if "sku" in failed.columns else pl.lit(None, pl.String).alias("sku"),
        field=index.replace_strict(
            {i: c.field for i, c in enumerate(checks)}, return_dtype=pl.String
        ),
        value=value.otherwise(None),
        reason=index.replace_strict(
            {i: c.reason for i, c in enumerate(checks)}, return_dtype=pl.String
        ),
        source=_SOURCE,
    ).cast(REJECTS_SCHEMA)


def _integer(column: str, default: int | None = None) -> pl.Expr:
    """The text as Int64 (null when not an integer); ``default`` for an empty cell."""
    parsed = pl.col(column).cast(pl.Int64, strict=False)
    if default is None:
        return parsed
    return pl.when(pl.col(column).is_null()).then(pl.lit(default, pl.Int64)).otherwise(parsed)


def _date(column: str) -> pl.Expr:
    """ISO ``YYYY-MM-DD`` only: 10 characters (so ``2026-1-1`` fails) and a real date."""
    text = pl.col(column)
    return pl.when(text.str.len_bytes() == 10).then(text.str.to_date("%Y-%m-%d", strict=False))


def _unparsed(column: str) -> pl.Expr:
    """Text present but its parsed ``_<column>`` is null."""
    return pl.col(column).is_not_null() & pl.col(f"_{column}").is_null()


def _bad_integer(column: str, minimum: int) -> pl.Expr:
    return _unparsed(column) | (pl.col(f"_{column}") < minimum)


def _missing(column: str) -> pl.Expr:
    return pl.col(column).is_null()


def _price_parse() -> dict[str, pl.Expr]:
    amount = pl.col("amount")
    return {
        "amount": pl.when(amount.str.contains(_AMOUNT)).then(amount.cast(MONEY, strict=False)),
        "per_quantity": _integer("per_quantity", default=1),
        "min_quantity": _integer("min_quantity", default=1),
        "valid_from": _date("valid_from"),
        "valid_to": _date("valid_to"),
    }


def _price_checks() -> list[_Check]:
    price_type = pl.col("price_type")
    currency_ok = pl.col("currency").is_in(sorted(ISO_4217)).fill_null(False)
    return [
        _Check("sku", "missing_sku", _missing("sku")),
        _Check("price_type", "invalid_price_type", ~price_type.is_in(PRICE_TYPES).fill_null(False)),
        _Check(
            "customer_group",
            "missing_customer_group",
            (price_type == "group") & _missing("customer_group"),
        ),
        _Check(
            "customer_id",
            "missing_customer_id",
            (price_type == "customer") & _missing("customer_id"),
        ),
        _Check("currency", "invalid_currency", ~currency_ok),
        _Check("amount", "invalid_amount", pl.col("_amount").is_null()),
        _Check("amount", "non_positive_amount", pl.col("_amount") <= 0),
        _Check("per_quantity", "invalid_per_quantity", _bad_integer("per_quantity", 1)),
        _Check("min_quantity", "invalid_min_quantity", _bad_integer("min_quantity", 1)),
        _Check("valid_from", "invalid_date", _unparsed("valid_from")),
        _Check("valid_to", "invalid_date", _unparsed("valid_to")),
        _Check("valid_to", "invalid_validity", pl.col("_valid_from") > pl.col("_valid_to")),
    ]


def _stock_parse() -> dict[str, pl.Expr]:
    return {"on_hand": _integer("on_hand"), "reserved": _integer("reserved", default=0)}


def _stock_checks() -> list[_Check]:
    return [
        _Check("sku", "missing_sku", _missing("sku")),
        _Check("on_hand", "invalid_quantity", pl.col("_on_hand").is_null()),
        _Check("reserved", "invalid_quantity", _bad_integer("reserved", 0)),
    ]


def _supply_parse() -> dict[str, pl.Expr]:
    return {
        "lead_time_days": _integer("lead_time_days"),
        "next_receipt_date": _date("next_receipt_date"),
    }


def _supply_checks() -> list[_Check]:
    return [
        _Check("sku", "missing_sku", _missing("sku")),
        _Check("lead_time_days", "invalid_lead_time", _bad_integer("lead_time_days", 0)),
        _Check("next_receipt_date", "invalid_date", _unparsed("next_receipt_date")),
    ]


_ACTIVE = {
    "true": True, "yes": True, "1": True, "x": True,
    "false": False, "no": False, "0": False, "-": False,
}  # fmt: skip


def _customer_parse() -> dict[str, pl.Expr]:
    flag = pl.col("active").str.to_lowercase()
    return {"active": flag.replace_strict(_ACTIVE, default=None, return_dtype=pl.Boolean)}


def _customer_checks() -> list[_Check]:
    customer_id = pl.col("customer_id")
    currency_ok = pl.col("currency").is_in(sorted(ISO_4217)).fill_null(False)
    repeated = ~customer_id.str.to_lowercase().is_first_distinct()
    return [
        _Check("customer_id", "missing_customer_id", _missing("customer_id")),
        _Check(
            "customer_id",
            "invalid_customer_id",
            customer_id.str.len_chars() > MAX_CUSTOMER_ID,
        ),
        _Check("customer_id", "duplicate_customer_id", repeated & customer_id.is_not_null()),
        _Check("currency", "invalid_currency", pl.col("currency").is_not_null() & ~currency_ok),
        _Check("active", "invalid_active", pl.col("_active").is_null()),
    ]


_PRICES = _FileSpec(
    "prices",
    required=("sku", "price_type", "customer_group", "customer_id", "currency", "amount"),
    optional=("per_quantity", "min_quantity", "valid_from", "valid_to"),
    schema=PRICES_SCHEMA,
    parse=_price_parse,
    checks=_price_checks,
)
_STOCK = _FileSpec(
    "stock",
    required=("sku", "warehouse", "on_hand", "reserved"),
    optional=(),
    schema=STOCK_SCHEMA,
    parse=_stock_parse,
    checks=_stock_checks,
)
_SUPPLY = _FileSpec(
    "supply",
    required=("sku", "lead_time_days", "next_receipt_date"),
    optional=(),
    schema=SUPPLY_SCHEMA,
    parse=_supply_parse,
    checks=_supply_checks,
)
_CUSTOMERS = _FileSpec(
    "customers",
    required=("customer_id", "customer_group", "name", "currency", "active"),
    optional=(),
    schema=CUSTOMERS_SCHEMA,
    parse=_customer_parse,
    checks=_customer_checks,
)
