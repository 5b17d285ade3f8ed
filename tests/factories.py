"""Small golden-record frames for tests, built on the contract in ``contracts.golden``.

``product(sku, **overrides)`` is a complete, publishable golden row. Overrides may use the
golden column names (``attr.name-de_DE``, ``list_price_EUR``) or the short names tests read
best: ``name_de_DE``/``description_de_DE``/``category_path_de_DE`` (the value in that locale),
``brand``/``gtin``/``color``/``size``/``weight`` (the attribute's value: option codes for the
selects, whose labels ``pim()`` knows) and ``image_url`` (the main image).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from contracts.config import PrismConfig, parse_config
from contracts.golden import MASTER_SCHEMA, PRICE_TIERS_SCHEMA, erp_schema
from golden.categories import ANY_TREE, code_column, path_column
from mapping.compile import CompiledChannel, compile_channel
from mapping.model import PimModel
from mapping.view import ChannelView, channel_view
from sinks.formats import FORMATS

REPO = Path(__file__).parents[1]
LOCALES = ("de_DE", "en_US")
CURRENCIES = ("EUR", "USD")
SCOPE = "ecommerce"
ERP_SOURCE = "ERP snapshot test, prices"
FILTERED_SHOP: dict[str, Any] = {
    "format": "csv",
    "locale": "de_DE",
    "currency": "EUR",
    "product_url": "https://shop.example.com/p/{sku}",
    "filters": {"include": {"brands": ["MUELLER"]}},
}
"""A CSV shop with product URLs and a brand filter: a view with added columns, filtered
products and findings (the view store and view reuse tests)."""

_ATTRIBUTES = [
    ("sku", "pim_catalog_identifier", False, False),
    ("name", "pim_catalog_text", True, False),
    ("description", "pim_catalog_textarea", True, True),
    ("brand", "pim_catalog_simpleselect", False, False),
    ("ean", "pim_catalog_text", False, False),
    ("color", "pim_catalog_simpleselect", False, False),
    ("size", "pim_catalog_simpleselect", False, False),
    ("weight", "pim_catalog_metric", False, False),
    ("image", "pim_catalog_image", False, False),
    ("material", "pim_catalog_text", True, False),
    ("gender", "pim_catalog_simpleselect", False, False),
]
_OPTIONS = [
    ("brand", "acme", {"de_DE": "Acme", "en_US": "Acme"}),
    ("brand", "mueller", {"de_DE": "Müller & Söhne", "en_US": "Mueller & Sons"}),
    ("color", "blue", {"de_DE": "Blau", "en_US": "Blue"}),
    ("color", "red", {"de_DE": "Rot", "en_US": "Red"}),
    ("color", "green", {"en_US": "Green"}),
    ("size", "m", {"de_DE": "M", "en_US": "M"}),
    ("size", "l", {"de_DE": "L", "en_US": "L"}),
    ("gender", "female", {"de_DE": "Damen", "en_US": "Women"}),
]
_SHORT = {
    "brand": "brand",
    "gtin": "ean",
    "color": "color",
    "size": "size",
    "material": "material",
    "gender": "gender",
}


def pim() -> PimModel:
    """The test catalog's PIM model: typed attributes, option labels in de_DE and en_US (green
    has no German label), no category trees, shirts varying by color (level 1) and size."""
    attributes = pl.DataFrame(
        _ATTRIBUTES,
        schema={"code": pl.String, "type": pl.String, "localizable": pl.Boolean}
        | {"scopable": pl.Boolean},
        orient="row",
    )
    options = pl.DataFrame(
        [
            {"attribute": a, "code": c, **{f"label_{loc}": labels.get(loc) for loc in LOCALES}}
            for a, c, labels in _OPTIONS
        ],
        schema={"attribute": pl.String, "code": pl.String}
        | {f"label_{loc}": pl.String for loc in LOCALES},
    )
    channels = pl.DataFrame(schema={"code": pl.String, "category_tree": pl.String})
    variants = pl.DataFrame(
        {"code": ["shirts_color_size"] * 2, "family": ["shirts"] * 2, "level": [1, 2]}
        | {"axes": [["color"], ["size"]]}
    )
    return PimModel.of(attributes, options, channels, LOCALES, family_variants=variants)


def product(sku: str, **overrides: Any) -> dict[str, Any]:
    """A complete, publishable product row; ``overrides`` replace single columns."""
    row: dict[str, Any] = {
        "sku": sku,
        "uuid": f"uuid-{sku}",
        "enabled": True,
        "family": "shirts",
        "family_variant": None,
        "parent": None,
        "item_group": None,
        "level": 0,
        "categories": ["tops"],
        "category_lineage": ["clothing", "tops"],
        "variant_axes": [],
        "label_attribute": "name",
        "main_image_attribute": "image",
        "images": [f"https://media.example.com/{sku}.jpg"],
        "image_url": f"https://media.example.com/{sku}.jpg",
        "pim_source": "products.jsonl:1",
        "attr.brand": "acme",
        "attr.ean": "4006381333931",
        "attr.color": "blue",
        "attr.size": "m",
        "attr.weight": "0.2500",
        "attr.weight-unit": "KILOGRAM",
        "attr.image": f"{sku}.jpg",
        "available_qty": 5,
        "availability": "in_stock",
        "availability_date": None,
        "availability_estimated": False,
        "lead_time_days": 3,
        code_column(ANY_TREE): "tops",
    }
    for locale in LOCALES:
        lang = locale[:2]
        row[f"attr.name-{locale}"] = f"Shirt {sku} ({lang})"
        row[f"attr.description-{locale}-{SCOPE}"] = f"A shirt called {sku} ({lang})"
        row[path_column(ANY_TREE, locale)] = f"Clothing ({lang}) > Tops ({lang})"
    for currency, amount in zip(CURRENCIES, ("19.99", "21.99"), strict=True):
        row[f"list_price_{currency}"] = Decimal(amount)
        row[f"list_price_valid_to_{currency}"] = None
    for key, value in overrides.items():
        row.update(_translated(key, value))
    return row


def _translated(key: str, value: Any) -> dict[str, Any]:
    """A test's short override name as the golden column(s) it sets."""
    for prefix, column in (
        ("name_", "attr.name-{}"),
        ("description_", "attr.description-{}-" + SCOPE),
        ("category_path_", path_column(ANY_TREE, "{}")),
    ):
        locale = key.removeprefix(prefix)
        if key.startswith(prefix) and locale in LOCALES:
            return {column.format(locale): value}
    if key in _SHORT:
        return {f"attr.{_SHORT[key]}": value}
    if key == "weight":
        return {"attr.weight": None if value is None else str(value)}
    if key == "weight_unit":
        return {"attr.weight-unit": value}
    if key == "image_url":
        return {"image_url": value, "images": [] if value is None else [value]}
    return {key: value}


def golden_schema() -> pl.Schema:
    columns: dict[str, pl.DataType] = dict(MASTER_SCHEMA)
    row = product("X")
    for name in row:
        if name not in columns and (name.startswith("attr.") or name.startswith("category_")):
            columns[name] = pl.String()
    return pl.Schema(columns | dict(erp_schema(CURRENCIES)))


def golden_products(*rows: dict[str, Any]) -> pl.DataFrame:
    """Golden rows by sku; PIM value (``attr.*``) and category columns a row adds are text."""
    schema = dict(golden_schema())
    extra = list(dict.fromkeys(k for row in rows for k in row if k not in schema))
    unknown = [k for k in extra if not k.startswith(("attr.", "category_"))]
    if unknown:
        msg = f"unknown golden columns in a test row: {unknown}"
        raise KeyError(msg)
    schema |= {k: pl.String() for k in extra}
    filled = [{k: row.get(k) for k in schema} for row in rows]
    return pl.DataFrame(filled, schema=schema).sort("sku")


def tier(sku: str, unit_price: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "sku": sku,
        "price_type": "list",
        "customer_group": None,
        "customer_id": None,
        "currency": "EUR",
        "min_quantity": 1,
        "unit_price": Decimal(unit_price),
        "valid_from": dt.date(2026, 1, 1),
        "valid_to": None,
        "erp_source": "prices.csv:2",
    }
    row.update(overrides)
    return row


def price_tiers(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=PRICE_TIERS_SCHEMA)


def default_config() -> dict[str, Any]:
    """The shipped prism.yaml as plain data, for tests that vary one key; its lookup files
    anchored at the repository, so the data holds wherever a test writes or parses it."""
    data = yaml.safe_load((REPO / "prism.yaml").read_text(encoding="utf-8"))
    _anchor_lookups(data)
    return data


def workspace_config(root: Path, drops: Path | None = None) -> dict[str, Any]:
    """The shipped prism.yaml as data, reading the demo drops under ``drops`` (default
    ``root/data``) and publishing under ``root``: feeds, work folder and a SQLite portal."""
    data = default_config()
    data["pim"]["path"] = str((drops or root / "data") / "pim")
    data["erp"]["path"] = str((drops or root / "data") / "erp")
    data["publish"] = {"directory": str(root / "feeds"), "work_directory": str(root / "work")}
    data["channels"]["portal"]["url"] = f"sqlite:///{root / 'portal.sqlite'}"
    return data


def _anchor_lookups(node: Any) -> None:
    """Every ``{file, from, to}`` value map's relative ``file`` made absolute, in place."""
    if isinstance(node, dict):
        if {"file", "from", "to"} <= node.keys() and not Path(node["file"]).is_absolute():
            node["file"] = str(REPO / node["file"])
        for value in node.values():
            _anchor_lookups(value)
    elif isinstance(node, list):
        for value in node:
            _anchor_lookups(value)


def config_with(channels: dict[str, dict[str, Any]], **top: Any) -> PrismConfig:
    """A configuration of the test catalog's locales with ``channels`` (and top-level keys)."""
    data: dict[str, Any] = {
        "locales": list(LOCALES),
        "scope": SCOPE,
        "media_base_url": "https://media.example.com/",
        "pim": {"kind": "files", "path": "var/pim"},
        "erp": {"kind": "files", "path": "var/erp"},
        "channels": channels,
    }
    data.update(top)
    return parse_config(data, origin="test", base=REPO)


def compiled(config: PrismConfig, name: str, golden: pl.DataFrame) -> CompiledChannel:
    channel = config.channels[name]
    return compile_channel(name, config, FORMATS[channel.format], pim(), frozenset(golden.columns))


def view_of(config: PrismConfig, name: str, golden: pl.DataFrame) -> ChannelView:
    """Channel ``name``'s view of ``golden`` with the test catalog's PIM model."""
    return channel_view(golden, compiled(config, name, golden), ERP_SOURCE)


def staged_feed(
    config: PrismConfig,
    name: str,
    golden: pl.DataFrame,
    folder: Path,
    tiers: pl.DataFrame | None = None,
    snapshot_id: str = "20261201T120000Z-0123abcd",
) -> tuple[ChannelView, list[Any]]:
    """Channel ``name``'s feed written into ``folder`` as a run writes it: its view, the
    products an error keeps off left out, its format's writer. Returns the published view
    and the writer's files."""
    from assets.channel_feeds import write_channel_feed
    from quality.quarantine import build_quarantine, publishable

    view = view_of(config, name, golden)
    rejects = pl.LazyFrame(
        schema={"sku": pl.String, "field": pl.String, "value": pl.String}
        | {"reason": pl.String, "source": pl.String}
    )
    quarantine = build_quarantine({name: view}, config.channels, rejects, ERP_SOURCE)
    published = publishable(view, quarantine)
    channel_folder = folder / name
    channel_folder.mkdir(parents=True, exist_ok=True)
    all_tiers = tiers if tiers is not None else price_tiers()
    created = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    written = write_channel_feed(
        published, compiled(config, name, golden), all_tiers, channel_folder, snapshot_id, created
    )
    return published, written.files


# --- PIM export folders -------------------------------------------------------------------------

PIM_FIXTURES = REPO / "tests" / "fixtures" / "pim"
PIM_FOLDERS = ("catalog_jsonl", "catalog_csv")
"""The hand-written fixture catalog in both Akeneo export kinds (tests/fixtures/pim/README.md)."""
_REST_KEYS = {"products": ("identifier",), "attribute_options": ("attribute", "code")}
_CSV_KEYS = {"products": ("sku",), "attribute_options": ("attribute", "code")}
_CSV_SKIPPED = frozenset({"updated", "common_attributes", "associations"})
"""REST item fields Akeneo's CSV export does not write."""


def pim_copy(folder: str, target: Path) -> Path:
    """A writable copy of the fixture export ``folder`` (one of ``PIM_FOLDERS``)."""
    return Path(shutil.copytree(PIM_FIXTURES / folder, target / folder))


def pim_item(entity: str, code: str) -> dict[str, Any]:
    """The fixture catalog's item ``code`` of ``entity`` in the REST shape (a copy to change)."""
    path = PIM_FIXTURES / "catalog_jsonl" / f"{entity}.jsonl"
    key = _REST_KEYS.get(entity, ("code",))[-1]
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return next(item for item in items if item.get(key) == code)


def put_pim_items(folder: Path, entity: str, *items: dict[str, Any]) -> Path:
    """``items`` (Akeneo REST item shape) written into ``folder``'s ``entity`` file in the
    folder's kind, so one test runs against both readers: an item with the key of one already
    there (a product's identifier, an option's attribute and code, else the code) replaces it
    where it stands, the others are appended. A CSV file gains the columns the items need; an
    entity the folder lacks is created in the folder's kind."""
    is_csv = (folder / "products.csv").exists()
    if is_csv:
        rows = [_csv_row(entity, item) for item in items]
        _put_csv(folder / f"{entity}.csv", rows, _CSV_KEYS.get(entity, ("code",)))
    else:
        _put_jsonl(folder / f"{entity}.jsonl", list(items), _REST_KEYS.get(entity, ("code",)))
    return folder


def drop_pim_items(folder: Path, entity: str, *codes: str) -> Path:
    """``folder``'s ``entity`` file without the items of ``codes`` (compared exactly)."""
    for path, keys in (
        (folder / f"{entity}.jsonl", _REST_KEYS.get(entity, ("code",))),
        (folder / f"{entity}.csv", _CSV_KEYS.get(entity, ("code",))),
    ):
        if path.suffix == ".jsonl" and path.exists():
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines if json.loads(line).get(keys[-1]) not in codes]
            path.write_text("".join(kept), encoding="utf-8")
        elif path.exists():
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle, delimiter=";")
                header, rows = list(reader.fieldnames or []), list(reader)
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, header, delimiter=";", lineterminator="\n")
                writer.writeheader()
                writer.writerows(r for r in rows if r.get(keys[-1]) not in codes)
    return folder


def _replaced(
    old: list[dict[str, Any]], new: list[dict[str, Any]], keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row.get(k) for k in keys)

    fresh = {key(row): row for row in new}
    kept = [fresh.pop(key(row), row) for row in old]
    return kept + [row for row in new if key(row) in fresh]


def _put_jsonl(path: Path, items: list[dict[str, Any]], keys: tuple[str, ...]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    old = [json.loads(line) for line in text.splitlines() if line.strip()]
    lines = [json.dumps(item, ensure_ascii=False) + "\n" for item in _replaced(old, items, keys)]
    path.write_text("".join(lines), encoding="utf-8")


def _put_csv(path: Path, rows: list[dict[str, str]], keys: tuple[str, ...]) -> None:
    header: list[str] = []
    old: list[dict[str, Any]] = []
    if path.exists():
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle, delimiter=";")
            header, old = list(reader.fieldnames or []), list(reader)
    header += list(dict.fromkeys(c for row in rows for c in row if c not in header))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, delimiter=";", lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(_replaced(old, rows, keys))


def _csv_row(entity: str, item: dict[str, Any]) -> dict[str, str]:
    """A REST item as the columns of Akeneo's CSV export of ``entity``."""
    row: dict[str, str] = {}
    for name, value in item.items():
        if name in _CSV_SKIPPED or (name == "family" and entity == "product_models"):
            continue
        if name == "values":
            row |= _csv_values(value)
        elif name == "labels":
            row |= {f"label-{locale}": text for locale, text in value.items()}
        elif name == "variant_attribute_sets":
            for level in value:
                row[f"variant-axes_{level['level']}"] = ",".join(level["axes"])
                row[f"variant-attributes_{level['level']}"] = ",".join(level["attributes"])
        else:
            column = {"identifier": "sku", "category_tree": "tree"}.get(name, name)
            row[column] = _csv_cell(value)
    return row


def _csv_values(values: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    row: dict[str, str] = {}
    for attribute, entries in values.items():
        for entry in entries:
            parts = (attribute, entry.get("locale"), entry.get("scope"))
            header, data = "-".join(p for p in parts if p), entry.get("data")
            if isinstance(data, dict) and "unit" in data:
                row[header], row[f"{header}-unit"] = _csv_cell(data["amount"]), data["unit"]
            elif isinstance(data, list) and data and isinstance(data[0], dict):
                row |= {f"{header}-{p['currency']}": _csv_cell(p["amount"]) for p in data}
            else:
                row[header] = _csv_cell(data)
    return row


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(_csv_cell(v) for v in value)
    return str(value)
