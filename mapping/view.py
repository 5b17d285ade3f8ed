"""A channel's view of the golden record: its products (filters applied), its target fields
(mapped, then checked field by field), and every finding on the way.

``channel_view`` is pure polars over the golden rows; it returns the rows the channel may get
before product-level rules (golden rules and required fields decide, in ``quality``), the
field-level findings (QUARANTINE_SCHEMA; ``severity`` error, warn, or ``filtered`` for products
a filter keeps off), and the golden rows behind the frame for writers that need structure
(item groups, variant axes, tiers).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from contracts.formats import FieldSpec
from mapping.compile import KEY, CompiledChannel
from mapping.expressions import COMPLETENESS_COLUMN, URL_COLUMN, condition, product_urls
from mapping.fields import cast_to, present, too_long, truncated, value_checks
from mapping.golden_rows import GoldenRows

FINDINGS_SCHEMA = pl.Schema(
    {
        "sku": pl.String(),
        "channel": pl.String(),
        "rule": pl.String(),
        "field": pl.String(),
        "value": pl.String(),
        "source": pl.String(),
        "severity": pl.String(),
    }
)
CONFIG_SOURCE = "prism.yaml (the channel's mapping)"
FILTERED = "filtered"
"""The severity of a product a channel's filters keep off (counted, not an error)."""


@dataclass(frozen=True)
class ChannelView:
    name: str
    frame: pl.DataFrame
    """``sku`` + the target fields, cleaned, for every product the filters let through"""
    findings: pl.DataFrame
    rows: pl.DataFrame | GoldenRows
    """the golden rows of ``frame``, in the same order; as ``GoldenRows`` they are copied
    only when ``golden`` is first read (``golden_lazy`` reads some columns without it)"""

    @cached_property
    def golden(self) -> pl.DataFrame:
        """The golden rows of ``frame``, in the same order, every column."""
        return self.rows.collect() if isinstance(self.rows, GoldenRows) else self.rows

    def golden_lazy(self) -> pl.LazyFrame:
        """The golden rows as a query: one that reads a few columns copies only those."""
        return self.rows.lazy()

    def golden_columns(self) -> list[str]:
        rows = self.rows
        return rows.columns() if isinstance(rows, GoldenRows) else rows.columns

    def kept(self, keep: pl.Series) -> ChannelView:
        """The view of the products ``keep`` flags (one flag per row of ``frame``)."""
        rows = self.rows
        subset = rows.subset(keep) if isinstance(rows, GoldenRows) else rows.filter(keep)
        return ChannelView(self.name, self.frame.filter(keep), self.findings, subset)


MAPPED = "_target:"
"""Prefix of the mapped target columns while they travel beside the golden row."""


def channel_view(golden: pl.DataFrame, compiled: CompiledChannel, erp_source: str) -> ChannelView:
    """``compiled`` applied to the enabled products of ``golden``.

    Each target field is computed once, for every enabled product: completeness (which a
    filter may test) is counted on the mapped values, so the field expressions (templates,
    option labels) are not evaluated a second time for it. Every step reads the golden rows
    lazily, so it reads only the columns it uses; the view's golden rows are ``GoldenRows``,
    copied only by a step that reads them whole (a writer)."""
    targets = {n: f for n, f in compiled.fields.items() if n != KEY}
    scored = {n for n, f in targets.items() if COMPLETENESS_COLUMN in _columns_of(f.built.expr)}
    first = _first_pass(golden, compiled, scored)
    filtered = _filtered(first, compiled)
    keep = first.get_column(_FILTER).is_null() if _FILTER in first.columns else None
    if keep is not None:
        first = first.filter(keep).drop(_FILTER)
    added = first.select(c for c in (URL_COLUMN, COMPLETENESS_COLUMN) if c in first.columns)
    rows = _rows_kept(golden, keep, added)
    kept = rows.lazy()
    if scored:
        later = [cast_to(targets[n].built.expr, targets[n].spec).alias(MAPPED + n) for n in scored]
        first = pl.concat([first, kept.select(later).collect()], how="horizontal")
    selected = first.select(KEY, *(pl.col(MAPPED + n).alias(n) for n in targets))
    cleaned, findings = _checked(selected, first.get_column("pim_source"), compiled, erp_source)
    findings = pl.concat([filtered, findings, _label_fallbacks(kept, compiled)])
    order = [KEY, *targets]
    return ChannelView(compiled.name, cleaned.select(order), findings.cast(FINDINGS_SCHEMA), rows)


_FILTER = "_filter"


def _first_pass(golden: pl.DataFrame, compiled: CompiledChannel, scored: set[str]) -> pl.DataFrame:
    """Per enabled product, in one query over the golden columns it reads: ``sku``,
    ``pim_source``, the product URL (when the channel has one), the mapped target fields but
    ``scored`` (those reading completeness), completeness and, with filters, their reason
    (``_filter``: null where the product is kept)."""
    rows = golden.lazy().filter(pl.col("enabled"))
    url = compiled.context.product_url
    if url is not None:
        enabled = golden.select("sku", "enabled").filter(pl.col("enabled"))
        urls = product_urls(enabled, url, compiled.name).to_frame().lazy()
        rows = pl.concat([rows, urls], how="horizontal")
    first = [n for n in compiled.fields if n != KEY and n not in scored]
    mapped = rows.with_columns(
        cast_to(compiled.fields[n].built.expr, compiled.fields[n].spec).alias(MAPPED + n)
        for n in first
    )
    score = completeness(compiled, lambda n: pl.col(MAPPED + n), exclude=scored)
    mapped = mapped.with_columns(score.alias(COMPLETENESS_COLUMN))
    columns = [KEY, "pim_source", *([URL_COLUMN] if url is not None else [])]
    columns += [MAPPED + n for n in first] + [COMPLETENESS_COLUMN]
    reason = compiled.filters.reason()
    if reason is not None:
        mapped, columns = mapped.with_columns(reason.alias(_FILTER)), [*columns, _FILTER]
    return mapped.select(columns).collect()


def _rows_kept(golden: pl.DataFrame, keep: pl.Series | None, added: pl.DataFrame) -> GoldenRows:
    """The golden rows of the enabled products ``keep`` flags (one flag per enabled product;
    None: all) with the columns the mapping ``added``."""
    rows = GoldenRows.where(golden, golden.get_column("enabled"))
    return GoldenRows(golden, rows.subset(keep).mask if keep is not None else rows.mask, added)


def _columns_of(expr: pl.Expr) -> list[str]:
    return expr.meta.root_names()


def completeness(
    compiled: CompiledChannel,
    value: Callable[[str], pl.Expr] | None = None,
    exclude: Collection[str] = (),
) -> pl.Expr:
    """Share of the channel's required PIM fields with a value, as a PIM computes it;
    ``value`` gives a field's value (default: its compiled expression over the golden row)."""
    names = [n for n in compiled.required_pim_fields() if n not in exclude]
    if not names:
        return pl.lit(1.0, pl.Float64)
    of = value or (lambda n: compiled.fields[n].built.expr)
    filled = [present(of(n), compiled.fields[n].spec) for n in names]
    return (pl.sum_horizontal(filled) / len(names)).cast(pl.Float64)


def _filtered(first: pl.DataFrame, compiled: CompiledChannel) -> pl.DataFrame:
    """The products the channel's filters leave out (``_filter`` of ``_first_pass``) as
    ``filtered`` findings."""
    if _FILTER not in first.columns:
        return _no_findings()
    return first.filter(pl.col(_FILTER).is_not_null()).select(
        "sku",
        channel=pl.lit(compiled.name),
        rule=pl.concat_str(pl.lit("filtered_by_"), pl.col(_FILTER)),
        field=pl.lit("filters"),
        value=pl.when(pl.col(_FILTER) == "completeness")
        .then(pl.col(COMPLETENESS_COLUMN).round(3).cast(pl.String))
        .otherwise(pl.lit(None, pl.String)),
        source=pl.col("pim_source"),
        severity=pl.lit(FILTERED),
    )


def _no_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDINGS_SCHEMA)


def _checked(
    mapped: pl.DataFrame, pim_source: pl.Series, compiled: CompiledChannel, erp_source: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each field's checks in one pass; invalid optional values dropped, truncations made.

    The flags are computed once, as columns the cleaning reads; each finding reads only the
    few columns it reports. Both are lazy queries: a field's flags test its value several
    times (present, then each check), and a check reads its input several times (a GTIN's
    digits), which the lazy engine computes once and the eager one once per reference."""
    flags: dict[str, pl.Expr] = {}
    cleaned: list[pl.Expr] = []
    meta: dict[str, tuple[str, str, str, str]] = {}
    for name, compiled_field in compiled.fields.items():
        if name == KEY:
            continue  # the key: the golden sku itself, checked where it is read
        spec = compiled_field.spec
        value = pl.col(name)
        system = compiled_field.built.system if spec.source == "pim" else "erp"
        there = present(value, spec)
        missing = _missing(spec, there, compiled)
        if missing is not None:
            key = f"{name}|missing"
            flags[key], severity = missing
            meta[key] = (name, f"{name}_missing", severity, system)
        bad = pl.lit(False)
        fatal = spec.invalid_is_error
        for check in value_checks(value, spec):
            key = f"{name}|{check.rule}"
            flags[key] = there & check.failed.fill_null(True)
            meta[key] = (name, check.rule, "error" if fatal else "warn", system)
            bad = bad | pl.col(key)
        long = too_long(value, spec)
        if long is not None:
            key = f"{name}|long"
            flags[key] = there & long
            if spec.on_too_long == "truncate":
                meta[key] = (name, f"{name}_truncated", "warn", system)
                value = pl.when(long).then(truncated(value, spec)).otherwise(value)
            else:
                meta[key] = (name, f"{name}_too_long", "error" if fatal else "warn", system)
                bad = bad | pl.col(key)
        keep = value if fatal else pl.when(bad).then(None).otherwise(value)
        cleaned.append(cast_to(keep, spec).alias(name))
    flagged = {k: v.fill_null(False) for k, v in flags.items()}
    wide = mapped.with_columns(_source=pim_source).lazy().with_columns(**flagged).collect()
    cleaned_frame = wide.lazy().select("sku", *cleaned).collect()
    return cleaned_frame, _findings(wide, meta, compiled, erp_source)


def _findings(
    wide: pl.DataFrame,
    meta: dict[str, tuple[str, str, str, str]],
    compiled: CompiledChannel,
    erp_source: str,
) -> pl.DataFrame:
    """One finding per row and raised flag (``meta``: flag column -> field, rule, severity,
    system), in the order of ``meta``."""
    hits = wide.select(pl.col(list(meta)).sum()) if meta else pl.DataFrame()
    parts = [_no_findings().lazy()]
    for key in (k for k in meta if hits[k][0]):
        name, rule, severity, system = meta[key]
        parts.append(
            wide.lazy()
            .filter(pl.col(key))
            .select(
                "sku",
                channel=pl.lit(compiled.name),
                rule=pl.lit(rule),
                field=pl.lit(name),
                value=_as_text(pl.col(name), compiled.fields[name].spec),
                source=_source(system, erp_source),
                severity=pl.lit(severity),
            )
        )
    return pl.concat(parts).collect()


def _source(system: str, erp_source: str) -> pl.Expr:
    """Where to fix a finding: the PIM row, the ERP snapshot, or the configuration."""
    if system in ("pim", "structure"):
        return pl.col("_source")
    return pl.lit(erp_source if system == "erp" else CONFIG_SOURCE)


def _missing(
    spec: FieldSpec, there: pl.Expr, compiled: CompiledChannel
) -> tuple[pl.Expr, str] | None:
    """Where a missing value is a finding, and its severity: a required field (error, unless
    the spec says the consumer tolerates it), a field required for some products (error where
    that holds), a recommended one (warn); an optional field's absence is no finding."""
    severity = spec.severity_when_missing or "error"
    if spec.required_when is not None:
        path = f"formats.{compiled.format.name}.{spec.name}.required_when"
        return ~there & condition(spec.required_when, compiled.context, path), severity
    if spec.requirement == "required":
        return ~there, severity
    if spec.requirement == "recommended":
        return ~there, "warn"
    return None


def _as_text(value: pl.Expr, spec: FieldSpec) -> pl.Expr:
    """A finding's value as text (a list's items joined with ``|``)."""
    if spec.kind == "list":
        return value.cast(pl.List(pl.String), strict=False).list.join("|")
    return value.cast(pl.String, strict=False)


def _label_fallbacks(kept: pl.LazyFrame, compiled: CompiledChannel) -> pl.DataFrame:
    """``option_label_missing`` (warn): a select value shown in another locale's label or as
    its code because the option has no label in the channel's locale."""
    parts = [_no_findings().lazy()]
    seen: set[tuple[str, str]] = set()
    for name, compiled_field in compiled.fields.items():
        for attribute, codes, fell_back in compiled_field.built.label_fallbacks:
            if (name, attribute) in seen:
                continue
            seen.add((name, attribute))
            parts.append(
                kept.filter(fell_back.fill_null(False)).select(
                    "sku",
                    channel=pl.lit(compiled.name),
                    rule=pl.lit("option_label_missing"),
                    field=pl.lit(f"{name} ({attribute}, {compiled.context.locale})"),
                    value=codes.cast(pl.String),
                    source=pl.col("pim_source"),
                    severity=pl.lit("warn"),
                )
            )
    return pl.concat(parts).collect()
