"""The mapping commands of ``prism``: ``preview`` (what a channel would get, against what is
live), ``formats`` (the registry's field specs) and the mapping check of ``validate-config``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click
import polars as pl

from contracts.config import FileSource, PrismConfig
from contracts.formats import FieldSpec, FormatSpec
from mapping.compile import compile_all
from mapping.expressions import MappingError
from mapping.model import PimModel
from mapping.plan import pim_model
from pipelines.cli_options import CONFIG_OPTION, load
from sinks.formats import FORMATS
from sources.akeneo_files import PimFileError, read_pim_structure
from sources.drops import DropError, newest_drop


def check_mappings(config: PrismConfig) -> str:
    """Compile every channel's mapping; against the PIM's structure when the newest PIM file
    drop can be read (unknown attributes are errors then), else against the formats only.
    Returns what it checked against; raises ``MappingError`` with the key path."""
    model, against = PimModel(), "the formats (no PIM export to check attributes against)"
    if isinstance(config.pim, FileSource):
        try:
            folder = newest_drop(config.pim.path, "pim", config.pim.ready_marker)
            structure = read_pim_structure(folder, config.locales)
        except (DropError, PimFileError, OSError):
            structure = None
        if structure is not None:
            model = pim_model(
                config,
                structure.attributes,
                structure.attribute_options,
                structure.channels,
                structure.families,
                structure.family_variants,
            )
            against = f"the PIM export {folder}"
    compile_all(config, FORMATS, model, frozenset())
    return against


@click.command()
@click.argument("channel")
@CONFIG_OPTION
@click.option("--sku", "skus", multiple=True, help="Show only these products (repeatable).")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Show at most this many mapped rows.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="How to print the mapped rows (the summary always goes to stderr for csv/json).",
)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Price/stock date.")
def preview(
    channel: str,
    config_file: Path,
    skus: tuple[str, ...],
    limit: int,
    output: str,
    as_of: dt.datetime | None,
) -> None:
    """Show what CHANNEL would get from the current sources and configuration, and what
    would change against the live snapshot. Nothing is written or published."""
    from pipelines.preview import PreviewError, preview_channel

    config = load(config_file)
    try:
        result = preview_channel(config, channel, as_of.date() if as_of else None)
    except (PreviewError, MappingError, DropError, PimFileError) as error:
        raise click.ClickException(str(error)) from None
    rows = result.rows
    if skus:
        rows = rows.filter(pl.col("sku").is_in(list(skus)))
    rows = rows.head(limit)
    summary = _summary(result)
    if output == "table":
        click.echo(summary)
        with pl.Config(tbl_rows=limit, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200):
            click.echo(rows)
        return
    click.echo(summary, err=True)
    if output == "csv":
        lists = [n for n, t in rows.schema.items() if isinstance(t, pl.List)]
        click.echo(rows.with_columns(pl.col(lists).list.join("|")).write_csv(), nl=False)
    else:
        click.echo(json.dumps(rows.to_dicts(), default=str, ensure_ascii=False, indent=1))


def _summary(result: Any) -> str:
    counts = result.counts
    lines = [
        f"channel {result.channel}: {counts['published']} of {counts['products']} products "
        f"would be published ({counts['quarantined']} quarantined, {counts['filtered']} "
        f"filtered out, {counts['disabled']} disabled)",
    ]
    for row in result.reasons.iter_rows(named=True):
        lines.append(f"  {row['severity']:<8} {row['rule']}: {row['products']}")
    if result.live_snapshot is None:
        lines.append("nothing live to compare with: every product would be added")
    else:
        lines.append(
            f"against live {result.live_snapshot}: +{result.added} added, -{result.removed} "
            f"removed, {result.changed} changed"
        )
        for row in result.fields.filter(pl.col("changed") > 0).iter_rows(named=True):
            lines.append(f"  {row['field']}: {row['changed']} changed")
    return "\n".join(lines)


@click.command("inspect-pim")
@CONFIG_OPTION
def inspect_pim(config_file: Path) -> None:
    """Show per Akeneo channel (scope) and locale how many products have each role (name,
    description, brand, image, ...) and each price attribute filled, in the newest PIM export:
    which scope holds the data before one is chosen."""
    from pipelines.inspect_pim import inspect_pim as counts_of
    from pipelines.preview import PreviewError, source_folder

    config = load(config_file)
    try:
        counts = counts_of(config, source_folder(config, "pim"))
    except (PreviewError, DropError, PimFileError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(render_inspection(counts))


def render_inspection(counts: pl.DataFrame) -> str:
    """One row per field, one column per scope/locale: "filled (share)"."""
    if counts.is_empty():
        return "no products"
    # rounded down to 0.1 %: 2,996 of 3,000 reads 99.8 %, never 100 %
    tenths = pl.col("filled") * 1000 // pl.col("products")
    share = pl.format("{}.{}", tenths // 10, tenths % 10)
    cells = counts.with_columns(
        column=pl.concat_str("scope", pl.lit("/"), "locale"),
        cell=pl.format("{} ({} %)", "filled", share),
    )
    table = cells.pivot(on="column", index="field", values="cell", maintain_order=True)
    total = counts["products"][0]
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, fmt_str_lengths=40,
                   tbl_hide_column_data_types=True, tbl_width_chars=200):  # fmt: skip
        return f"{total} products; filled per Akeneo channel (scope) / locale:\n{table}"


@click.command()
@click.argument("name", required=False)
def formats(name: str | None) -> None:
    """List the channel formats, or print one format's field spec, presets and options."""
    if name is None:
        for spec in FORMATS.values():
            kind = "public" if spec.public else "B2B"
            click.echo(f"{spec.name:<16} {kind:<7} {spec.description}")
        return
    if name not in FORMATS:
        known = ", ".join(FORMATS)
        raise click.ClickException(f"no format {name!r} (formats: {known})")
    click.echo(describe_format(FORMATS[name]))


def describe_format(spec: FormatSpec) -> str:
    """A format's documentation, from its declaration."""
    lines = [f"{spec.name}: {spec.description}", ""]
    prices = "list prices only (public)" if spec.public else "every price type it is given (B2B)"
    lines.append(f"prices: {prices}")
    if spec.extensible:
        lines.append("columns: the mapping's (fields it does not declare are written too)")
    lines += ["", "fields:"]
    for field in spec.fields:
        lines.append(f"  {field.name:<26} {_field_line(field)}")
    for preset, mapping in spec.presets.items():
        default = " (default)" if preset == spec.default_preset else ""
        lines += ["", f"preset {preset}{default}:"]
        for target, source in mapping.items():
            lines.append(f"  {target:<26} {json.dumps(source, ensure_ascii=False)}")
    if spec.options is not None:
        lines += ["", "options (keys of the channel in prism.yaml):"]
        for key, info in spec.options.model_fields.items():
            default = info.get_default(call_default_factory=True)
            about = f" — {info.description}" if info.description else ""
            lines.append(f"  {key:<26} default {json.dumps(default, default=str)}{about}")
    return "\n".join(lines)


def _field_line(field: FieldSpec) -> str:
    parts = [field.kind, field.requirement if field.required_when is None else "required when"]
    if field.required_when is not None:
        parts[-1] += f" {field.required_when.model_dump(exclude_none=True, by_alias=True)}"
    if field.max_length is not None:
        how = "truncated" if field.on_too_long == "truncate" else "longer is refused"
        parts.append(f"max {field.max_length} ({how})")
    if field.max_items is not None:
        parts.append(f"at most {field.max_items} items")
    if field.allowed is not None:
        parts.append("one of " + "|".join(field.allowed))
    if field.pattern is not None:
        parts.append(f"pattern {field.pattern}")
    if field.source == "erp":
        parts.append("from the ERP")
    if field.description:
        parts.append(f"— {field.description}")
    return ", ".join(parts)
