"""Prism's one configuration file (``prism.yaml``), validated with pydantic.

Every key is documented in ``prism.yaml`` at the repo root. An invalid file fails at load time
with the key path and the reason (``ConfigError``), before any data is read.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from contracts.currencies import is_currency
from contracts.text import file_name_for

PriceType = Literal["list", "group", "customer"]
PUBLIC_PRICE_TYPES: tuple[PriceType, ...] = ("list",)
_LOCALE = re.compile(r"^[a-z]{2,3}_[A-Z]{2}$")


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the key path and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_locale(value: str) -> str:
    if not _LOCALE.match(value):
        msg = f"{value!r} is not a locale code like 'de_DE'"
        raise ValueError(msg)
    return value


def _check_currency(value: str) -> str:
    if not is_currency(value):
        msg = f"{value!r} is not an ISO 4217 currency code like 'EUR'"
        raise ValueError(msg)
    return value


def _anchored(value: Path, info: ValidationInfo) -> Path:
    """A relative path is relative to the configuration file's folder (``base`` in the
    validation context), so a configuration works from any working directory."""
    base = (info.context or {}).get("base")
    return value if value.is_absolute() or base is None else Path(base) / value


def _anchored_url(value: str, info: ValidationInfo) -> str:
    """A SQLite URL's relative database path, anchored like every other path."""
    base = (info.context or {}).get("base")
    match = _SQLITE_RELATIVE.match(value)
    if base is None or match is None or match["database"] == ":memory:":
        return value
    return f"{match['prefix']}{Path(base) / match['database']}"


_SQLITE_RELATIVE = re.compile(r"^(?P<prefix>sqlite(?:\+\w+)?:///)(?P<database>[^/].*)$")
LocalPath = Annotated[Path, AfterValidator(_anchored)]
"""A file-system path; relative ones are anchored at the configuration file's folder."""


class FileSource(_Strict):
    """A file drop: ``path`` is one snapshot folder, or a folder of snapshot folders (the
    lexicographically greatest name is the newest and is read)."""

    kind: Literal["files"] = "files"
    path: LocalPath
    ready_marker: str | None = Field(
        default="manifest.json",
        description="file the producer writes last to say a drop folder is complete (JSON: "
        "every file with rows and sha256, verified); null = a folder counts once its main "
        "file exists",
    )

    @field_validator("ready_marker")
    @classmethod
    def _plain_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or "/" in value or value in {".", ".."}):
            msg = f"{value!r} must be a plain file name such as 'manifest.json' or '_SUCCESS'"
            raise ValueError(msg)
        return value


def _http_origin(value: str) -> str:
    """An http(s) URL with a host and no credentials, query or fragment; no trailing slash."""
    url = urlsplit(value)
    if url.scheme not in {"http", "https"} or not url.hostname:
        msg = f"{value!r} is not an http(s) URL such as https://pim.example.com"
        raise ValueError(msg)
    if url.username or url.password or url.query or url.fragment:
        msg = f"{value!r}: give the URL without credentials, query or fragment"
        raise ValueError(msg)
    try:
        url.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as error:
        msg = f"{value!r}: {error}"
        raise ValueError(msg) from None
    return value.rstrip("/")


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"{value!r} is not an IANA time zone such as 'Europe/Berlin' or 'UTC'"
        raise ValueError(msg) from None
    return value


_PLACEHOLDER = re.compile(r"\{(\w*)\}")
PIM_URL_PLACEHOLDERS = ("sku", "uuid")


def _pim_url(value: str) -> str:
    """An http(s) URL template naming ``{sku}`` and/or ``{uuid}`` and no other placeholder, so
    filling it in can never produce another scheme or a broken link."""
    names = set(_PLACEHOLDER.findall(value))
    filled = _PLACEHOLDER.sub("x", value)
    if not names or not names <= set(PIM_URL_PLACEHOLDERS) or "{" in filled or "}" in filled:
        msg = f"{value!r} must name {{sku}} or {{uuid}} (and no other placeholder)"
        raise ValueError(msg)
    url = urlsplit(filled)
    if url.scheme not in {"http", "https"} or not url.hostname:
        msg = f"{value!r} is not an http(s) URL such as https://pim.example.com/p/{{uuid}}"
        raise ValueError(msg)
    return value


HttpOrigin = Annotated[str, AfterValidator(_http_origin)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
PimUrl = Annotated[str, AfterValidator(_pim_url)]


class AkeneoSource(_Strict):
    """A live Akeneo PIM, pulled over its REST API into ``store`` (kept in the file-drop
    format; incremental after the first pull). Credentials come from the environment:
    AKENEO_CLIENT_ID, AKENEO_CLIENT_SECRET, AKENEO_USERNAME, AKENEO_PASSWORD.

    The one model of these settings: config validation, the Dagster resource and the REST
    client all use it."""

    kind: Literal["akeneo"]
    base_url: HttpOrigin
    store: LocalPath
    page_size: int = Field(default=100, ge=1, le=100, description="items per page (API max 100)")
    timeout: float = Field(default=30.0, gt=0, le=600, description="seconds per HTTP request")
    retry_attempts: int = Field(default=5, ge=1, le=10)
    concurrency: int = Field(default=4, ge=1, le=16, description="endpoints fetched at once")
    overlap_seconds: int = Field(
        default=60, ge=1, le=86_400, description="re-read this far behind the high-water mark"
    )
    full_pull_every_hours: float | None = Field(
        default=24.0, gt=0, description="a full pull also picks up deleted products"
    )
    server_timezone: TimeZoneName = Field(
        default="UTC", description="the time zone the PIM reads search dates in"
    )


PimSource = Annotated[FileSource | AkeneoSource, Field(discriminator="kind")]

DEFAULT_CONDITION_TYPES: dict[str, PriceType] = {
    "PPR0/304": "list",
    "PPR0/032": "group",
    "PPR0/305": "customer",
}
_CONDITION_KEY = re.compile(r"^[A-Z0-9]{1,4}(/[A-Z0-9]{1,3})?$")


class SapSource(_Strict):
    """A live SAP S/4HANA (OData V2), pulled into a new snapshot folder under ``root`` per run
    (incremental after the first). Credentials come from the environment: SAP_USER and
    SAP_PASSWORD (``auth: basic``) or SAP_TOKEN (``auth: bearer``).

    The one model of these settings: config validation, the Dagster resource and the OData
    client all use it."""

    kind: Literal["sap"]
    base_url: HttpOrigin = Field(
        description="scheme://host[:port]; services under /sap/opu/odata/sap/"
    )
    root: LocalPath
    auth: Literal["basic", "bearer"] = "basic"
    plants: dict[str, str] = Field(min_length=1, description="SAP plant -> warehouse name")
    condition_types: dict[str, PriceType] = Field(
        default_factory=lambda: dict(DEFAULT_CONDITION_TYPES),
        min_length=1,
        description="'TYPE' or 'TYPE/TABLE' -> list|group|customer",
    )
    group_field: Literal["CustomerPriceGroup", "CustomerGroup"] = "CustomerPriceGroup"
    sales_organization: str | None = None
    distribution_channel: str | None = None
    page_size: int = Field(default=1000, ge=1, le=10_000)
    timeout: float = Field(default=60.0, gt=0, le=600)
    retry_attempts: int = Field(default=5, ge=1, le=10)
    concurrency: int = Field(default=4, ge=1, le=16)
    file_format: Literal["csv", "parquet"] = Field(
        default="csv", description="format of the snapshot files the pull writes"
    )

    @field_validator("condition_types")
    @classmethod
    def _condition_keys(cls, value: dict[str, PriceType]) -> dict[str, PriceType]:
        bad = [key for key in value if not _CONDITION_KEY.match(key)]
        if bad:
            msg = f"keys must be 'TYPE' or 'TYPE/TABLE' like 'PPR0/304' (bad: {bad})"
            raise ValueError(msg)
        return value


ErpSource = Annotated[FileSource | SapSource, Field(discriminator="kind")]


class AttributeRoles(_Strict):
    """Which PIM attribute code plays which role in the golden record."""

    name: str = "name"
    description: str = "description"
    brand: str = "brand"
    gtin: str = "ean"
    image: str = "image"
    color: str = "color"
    size: str = "size"
    weight: str = "weight"


class _Channel(_Strict):
    locale: str
    currency: str

    _locale = field_validator("locale")(_check_locale)
    _currency = field_validator("currency")(_check_currency)

    @property
    def price_types(self) -> tuple[PriceType, ...]:
        return PUBLIC_PRICE_TYPES


class WebsiteChannel(_Channel):
    """JSON Lines, one schema.org Product/Offer JSON-LD object per line (public list price)."""

    format: Literal["jsonld"]
    product_url: str = Field(description="URL template; '{sku}' is replaced by the product's sku")


class ShopChannel(_Channel):
    """CSV (UTF-8, header) with variants and public list prices."""

    format: Literal["csv"]
    product_url: str


class MarketplaceChannel(_Channel):
    """Google Merchant Center RSS 2.0 feed (public list price)."""

    format: Literal["google_merchant"]
    product_url: str
    title: str = "Prism product feed"
    site_url: str = "https://www.example.com/"


class PortalChannel(_Strict):
    """B2B portal tables in a SQL database, swapped atomically per snapshot."""

    format: Literal["sql"]
    url: Annotated[str, AfterValidator(_anchored_url)] = Field(
        description="SQLAlchemy URL, e.g. sqlite:///var/portal.sqlite (relative to this file)"
    )
    locale: str
    currencies: tuple[str, ...]
    price_types: tuple[PriceType, ...] = ("list", "group", "customer")

    _locale = field_validator("locale")(_check_locale)

    @field_validator("currencies")
    @classmethod
    def _currencies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_currency(c) for c in value)


class Customer(_Strict):
    id: str
    name: str
    group: str | None = None


class Supplier(_Strict):
    id: str
    name: str


class QuotingChannel(_Channel):
    """One BMEcat 2005 T_NEW_CATALOG per customer with that customer's prices and tiers."""

    format: Literal["bmecat"]
    supplier: Supplier
    customers: tuple[Customer, ...] = Field(min_length=1)

    @property
    def price_types(self) -> tuple[PriceType, ...]:
        return ("list", "group", "customer")

    @field_validator("customers")
    @classmethod
    def _one_file_per_customer(cls, customers: tuple[Customer, ...]) -> tuple[Customer, ...]:
        """Each customer's catalog is its own file, also on case-insensitive file systems."""
        seen: dict[str, str] = {}
        for customer in customers:
            name = file_name_for(customer.id).casefold()
            if name in seen:
                msg = (
                    f"customers {seen[name]!r} and {customer.id!r} would share the catalog file "
                    f"{file_name_for(customer.id)}.xml (ids differ only in letter case or repeat)"
                )
                raise ValueError(msg)
            seen[name] = customer.id
        return customers


Channel = Annotated[
    WebsiteChannel | ShopChannel | MarketplaceChannel | PortalChannel | QuotingChannel,
    Field(discriminator="format"),
]


class PublishConfig(_Strict):
    directory: LocalPath = Field(default=Path("var/feeds"), validate_default=True)
    work_directory: LocalPath = Field(
        default=Path("var/work"),
        validate_default=True,
        description="intermediate Parquet files between assets",
    )
    keep: int = Field(
        default=5, ge=1, description="how many snapshots to keep, the live one included"
    )
    lock_wait_seconds: float = Field(
        default=0.0,
        ge=0,
        description="how long a run waits for another run's publish lock before it gives up",
    )
    lock_lease_seconds: float = Field(
        default=120.0,
        ge=5,
        description="a lock not renewed for this long is free (its run died); steps renew it",
    )


Share = Annotated[float, Field(ge=0, le=1)]


class Freshness(_Strict):
    """Oldest acceptable source snapshot, in hours (null = no limit)."""

    pim: float | None = Field(default=168.0, gt=0)
    erp: float | None = Field(default=48.0, gt=0)


class QualityConfig(_Strict):
    """Circuit breakers, compared with the live snapshot: any tripped one stops the publish
    unless a data engineer overrides them for one run (``prism run --override-breakers``)."""

    max_product_drop: float = Field(
        default=0.2, ge=0, le=1, description="largest share of a channel's products that may go"
    )
    max_product_drop_by_channel: dict[str, Share] = Field(
        default_factory=dict, description="per-channel overrides of max_product_drop"
    )
    max_quarantine_share: float = Field(
        default=0.1, gt=0, le=1, description="largest share of enabled products kept off a channel"
    )
    price_change_factor: float = Field(
        default=3.0, gt=1, description="a price change by more than this factor (up or down)..."
    )
    max_price_change_share: float = Field(
        default=0.05, ge=0, le=1, description="...may hit at most this share of compared prices"
    )
    freshness_hours: Freshness = Freshness()
    expectations_sample_rows: int | None = Field(
        default=100_000,
        ge=1,
        description="rows of each feed the great-expectations suite reads (null = all); the "
        "vectorized rules check every row either way",
    )
    report_rows: int = Field(
        default=5000,
        ge=1,
        description="at most this many quarantine rows on the report's main page (the first 5 "
        "products of each rule); every quarantined product is on the lookup pages and exports",
    )
    report_locale: Annotated[str, AfterValidator(_check_locale)] | None = Field(
        default=None,
        description="locale of the report's numbers, money and product names; one of "
        "``locales``, null = the first of them",
    )
    pim_url: PimUrl | None = Field(
        default=None,
        description="the PIM's product page, e.g. https://pim.example.com/#/enrich/product/{uuid}"
        " ({sku} and {uuid} are filled in); null = the report links to no PIM",
    )
    keep_reports: int = Field(default=30, ge=1, description="quality reports kept")

    def max_drop(self, channel: str) -> float:
        return self.max_product_drop_by_channel.get(channel, self.max_product_drop)


class PrismConfig(_Strict):
    as_of: dt.date | None = Field(
        default=None, description="pricing/availability date; null = today"
    )
    locales: tuple[str, ...] = Field(min_length=1)
    scope: str = "ecommerce"
    media_base_url: str = Field(description="prefix that turns PIM media paths into URLs")
    attributes: AttributeRoles = AttributeRoles()
    pim: PimSource
    erp: ErpSource
    publish: PublishConfig = PublishConfig()
    quality: QualityConfig = QualityConfig()
    channels: dict[str, Channel] = Field(min_length=1)

    @field_validator("locales")
    @classmethod
    def _locales(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_locale(v) for v in value)

    @model_validator(mode="after")
    def _channels_use_known_locales(self) -> PrismConfig:
        for name, channel in self.channels.items():
            if channel.locale not in self.locales:
                known = list(self.locales)
                msg = f"channels.{name}.locale: {channel.locale!r} is not in locales {known}"
                raise ValueError(msg)
        for name in self.quality.max_product_drop_by_channel:
            if name not in self.channels:
                msg = f"quality.max_product_drop_by_channel.{name}: no such channel"
                raise ValueError(msg)
        if self.quality.report_locale not in (None, *self.locales):
            known = list(self.locales)
            msg = f"quality.report_locale: {self.quality.report_locale!r} is not in locales {known}"
            raise ValueError(msg)
        return self

    @property
    def report_locale(self) -> str:
        """The quality report's locale: ``quality.report_locale``, else the first locale."""
        return self.quality.report_locale or self.locales[0]

    @property
    def currencies(self) -> tuple[str, ...]:
        """Every currency some channel publishes, sorted."""
        found: set[str] = set()
        for channel in self.channels.values():
            found.update(
                channel.currencies if isinstance(channel, PortalChannel) else [channel.currency]
            )
        return tuple(sorted(found))


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        path = ".".join(str(p) for p in item["loc"]) or "(top level)"
        lines.append(f"{path}: {item['msg']}")
    return "; ".join(lines)


def parse_config(data: object, origin: str = "<config>", base: Path | None = None) -> PrismConfig:
    """Validate ``data``; relative paths are anchored at ``base`` (None: left relative)."""
    try:
        return PrismConfig.model_validate(data, context={"base": base})
    except ValidationError as error:
        msg = f"{origin}: {_describe(error)}"
        raise ConfigError(msg) from None


def load_config(path: Path) -> PrismConfig:
    """Load and validate ``path``; relative paths inside are relative to its folder."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: configuration file not found"
        raise ConfigError(msg) from None
    except yaml.YAMLError as error:
        msg = f"{path}: not valid YAML: {error}"
        raise ConfigError(msg) from None
    return parse_config(data, origin=str(path), base=path.parent)
