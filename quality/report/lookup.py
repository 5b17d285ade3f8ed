"""The per-product lookup: every product with a finding, by sku, on static pages.

The main page cannot hold a large quarantine (200,000 products can have 20,000 quarantined),
and the report promises no JavaScript, so the products are sorted by sku and cut into pages of
``SKUS_PER_PAGE`` next to ``index.html`` (``quarantine/0001.html``, ...). The main page lists
each page's first and last sku: a merchandiser finds any sku in two clicks (its page, then
find-in-page or its ``#sku-...`` anchor). Findings without a sku (a PIM row without
identifier) come last, as one entry.

Each product lists its findings once per (rule, field, value, source), with the channels they
hit; an input reject comes first, with the channel findings it caused as its effects.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import NamedTuple
from urllib.parse import quote

import polars as pl

from contracts.config import PIM_URL_PLACEHOLDERS
from quality.quarantine import ALL_CHANNELS
from quality.report.anchors import Ids, sanitized
from quality.report.wording import needs

SKUS_PER_PAGE = 250
FOLDER = "quarantine"
NO_SKU = "(no identifier)"
INPUT_ROW = "all (input row)"
_KEY = ["sku", "name", "uuid", "rule", "field", "value", "source", "severity", "fix_in"]


class Finding(NamedTuple):
    """One thing to fix on one product, with the channels it keeps the product off (a named
    tuple: a large quarantine has hundreds of thousands, made in a few tenths of a second)."""

    problem: str
    """plain words, e.g. "Needs a list price > 0 in every currency the channel publishes" """
    rule: str
    field: str | None
    value: str | None
    channels: str
    source: str | None
    severity: str
    fix_in: str
    effects: tuple[Finding, ...] = ()
    input: bool = False
    """a row of an input file, rejected before any channel"""


@dataclass(frozen=True)
class Product:
    sku: str | None
    name: str | None
    pim_link: str | None
    anchor: str
    findings: tuple[Finding, ...]
    """input rejects (with their effects) first, then errors before warnings"""

    @property
    def label(self) -> str:
        return NO_SKU if self.sku is None else self.sku

    @property
    def rows(self) -> int:
        """Table rows of the product: a finding and each of its effects take one."""
        return sum(1 + len(f.effects) for f in self.findings)

    @property
    def causes(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.input)


@dataclass(frozen=True)
class Page:
    number: int
    products: tuple[Product, ...]

    @property
    def name(self) -> str:
        return f"{self.number:04}.html"

    @property
    def file(self) -> str:
        """The page's path relative to ``index.html``."""
        return f"{FOLDER}/{self.name}"

    @property
    def first(self) -> str:
        return self.products[0].label

    @property
    def last(self) -> str:
        return self.products[-1].label


def pim_link(template: str | None, sku: str | None, uuid: str | None) -> str | None:
    """``template`` (``quality.pim_url``) with ``{sku}``/``{uuid}`` filled in, percent-encoded;
    None without a template or when a value it names is missing."""
    if template is None:
        return None
    values = {"sku": sku, "uuid": uuid}
    url = template
    for name in PIM_URL_PLACEHOLDERS:
        if "{" + name + "}" in url:
            value = values[name]
            if value is None:
                return None
            url = url.replace("{" + name + "}", quote(value, safe=""))
    return url


def products(
    findings: pl.DataFrame, formats: Mapping[str, str], pim_url: str | None = None
) -> list[Product]:
    """Every sku of ``findings`` (``FINDINGS_SCHEMA``), sorted, with its findings grouped."""
    ids = Ids()
    found = []
    for sku, rows in itertools.groupby(_grouped(findings).iter_rows(), itemgetter(0)):
        group = [_Row(*r) for r in rows]
        first = group[0]
        found.append(
            Product(
                sku=sku,
                name=first.name,
                pim_link=pim_link(pim_url, sku, first.uuid),
                anchor=ids.claim(first.anchor),
                findings=_nested(group, formats),
            )
        )
    return found


class _Row(NamedTuple):
    """A finding once with its channels (``_grouped``)."""

    sku: str | None
    name: str | None
    uuid: str | None
    rule: str
    field: str | None
    value: str | None
    source: str | None
    severity: str
    fix_in: str
    caused_by: str | None
    input: bool
    """a row of an input file: its channels include ``ALL_CHANNELS``"""
    channels: str
    """the named channels, comma-separated, or ``INPUT_ROW``"""
    first: str | None
    """the first named channel, whose format words the rule"""
    anchor: str
    """the product's sanitized anchor, before ``Ids`` makes it unique"""


def _grouped(findings: pl.DataFrame) -> pl.DataFrame:
    """``findings`` once per (``_KEY``, caused_by) with the channels they hit, as ``_Row``s in
    the lookup's order: by sku, input rejects first, then errors before warnings. Channels are
    written and the anchors sanitized here, column by column, not in the loop over rows."""
    named = pl.col("channels").list.eval(pl.element().filter(pl.element() != ALL_CHANNELS))
    label = pl.col("sku").fill_null(pl.lit(NO_SKU))
    return (
        findings.group_by([*_KEY, "caused_by"])
        .agg(channels=pl.col("channel").unique().sort())
        .with_columns(input=pl.col("channels").list.contains(ALL_CHANNELS))
        .sort(
            ["sku", "input", "severity", "rule", "field", "source", "value"],
            descending=[False, True, False, False, False, False, False],
            nulls_last=True,
        )
        .with_columns(named=named)
        .select(
            *_KEY,
            "caused_by",
            "input",
            channels=pl.when(pl.col("named").list.len() > 0)
            .then(pl.col("named").list.join(", "))
            .otherwise(pl.lit(INPUT_ROW)),
            first=pl.col("named").list.first(),
            anchor=pl.concat_str(pl.lit("sku-"), sanitized(label)),
        )
    )


def _nested(rows: list[_Row], formats: Mapping[str, str]) -> tuple[Finding, ...]:
    """A product's findings, effects under the input reject that caused them."""
    causes = {r.source for r in rows if r.input}
    if not causes:
        return tuple(_finding(row, formats) for row in rows)
    effects: dict[str | None, list[Finding]] = {}
    for row in rows:
        if row.caused_by in causes:
            effects.setdefault(row.caused_by, []).append(_finding(row, formats))
    found = []
    for row in rows:
        if row.caused_by in causes:
            continue
        caused = effects.pop(row.source, []) if row.input else []
        found.append(_finding(row, formats, tuple(caused)))
    return tuple(found)


def _finding(row: _Row, formats: Mapping[str, str], effects: tuple[Finding, ...] = ()) -> Finding:
    return Finding(
        problem=needs(row.rule, formats.get(row.first) if row.first is not None else None),
        rule=row.rule,
        field=row.field,
        value=row.value,
        channels=row.channels,
        source=row.source,
        severity=row.severity,
        fix_in=row.fix_in,
        effects=effects,
        input=row.input,
    )


def pages(found: Iterable[Product], size: int = SKUS_PER_PAGE) -> list[Page]:
    """``found`` in sku order, ``size`` products a page, numbered from 1."""
    listed = list(found)
    return [
        Page(number=n + 1, products=tuple(listed[start : start + size]))
        for n, start in enumerate(range(0, len(listed), size))
    ]


def locations(cut: Iterable[Page]) -> dict[str, str]:
    """sku -> link from ``index.html`` to the sku's entry on its page."""
    return {
        p.sku: f"{page.file}#{p.anchor}" for page in cut for p in page.products if p.sku is not None
    }
