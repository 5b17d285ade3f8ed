"""Prism's one configuration file (``prism.yaml``), validated with pydantic.

Every key is documented in ``prism.yaml`` at the repo root. An invalid file fails at load time
(``ConfigError``), before any data is read, with every problem on a line of its own:
``prism.yaml:57: channels.shop.currency: 'EURO' is not an ISO 4217 currency code like 'EUR'``,
and for a misspelt key or value the nearest valid one ("did you mean 'currency'?").
``read_config`` keeps where each key is, so the checks after loading (``prism validate-config``:
inputs, credentials, channel mappings) name the line of the key they are about too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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

from contracts.config_problems import Loc, Problem, from_validation, render
from contracts.currencies import is_currency
from contracts.delivery_config import DeliveryTarget
from contracts.execution_config import ExecutionConfig
from contracts.mapping import Filters, LookupFile, Source
from contracts.paths import LocalPath
from contracts.suggestions import nearest
from contracts.validators import Strict
from contracts.yaml_lines import YamlDocument, YamlFileError, read_yaml

PriceType = Literal["list", "group", "customer"]
PUBLIC_PRICE_TYPES: tuple[PriceType, ...] = ("list",)
B2B_PRICE_TYPES: tuple[PriceType, ...] = ("list", "group", "customer")
_LOCALE = re.compile(r"^[a-z]{2,3}_[A-Z]{2}$")


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the file, and for each problem on
    a line of its own the line, the key path and the reason."""


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


def _anchored_url(value: str, info: ValidationInfo) -> str:
    """A SQLite or DuckDB URL's relative database path, anchored like every other path."""
    base = (info.context or {}).get("base")
    match = _FILE_DATABASE_RELATIVE.match(value)
    if base is None or match is None or match["database"] == ":memory:":
        return value
    return f"{match['prefix']}{Path(base) / match['database']}"


_FILE_DATABASE_RELATIVE = re.compile(
    r"^(?P<prefix>(?:sqlite|duckdb)(?:\+\w+)?:///)(?P<database>[^/].*)$"
)


class FileSource(Strict):
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


_OWNER = re.compile(r"team:[\w.-]+|[^@\s]+@[^@\s]+\.[^@\s]+")


def _owner(value: str) -> str:
    """An owner as the Dagster UI shows it: an e-mail address or ``team:<name>``."""
    if not _OWNER.fullmatch(value):
        msg = f"{value!r}: give an e-mail address or a team as team:<name> (e.g. team:pim)"
        raise ValueError(msg)
    return value


Owner = Annotated[str, AfterValidator(_owner)]
PimUrl = Annotated[str, AfterValidator(_pim_url)]


class AkeneoSource(Strict):
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

    def credential_variables(self) -> dict[str, str]:
        """Credential -> the environment variable holding it (secrets are never in the file)."""
        return {
            "client_id": "AKENEO_CLIENT_ID",
            "client_secret": "AKENEO_CLIENT_SECRET",
            "username": "AKENEO_USERNAME",
            "password": "AKENEO_PASSWORD",
        }


PimSource = Annotated[FileSource | AkeneoSource, Field(discriminator="kind")]

DEFAULT_CONDITION_TYPES: dict[str, PriceType] = {
    "PPR0/304": "list",
    "PPR0/032": "group",
    "PPR0/305": "customer",
}
_CONDITION_KEY = re.compile(r"^[A-Z0-9]{1,4}(/[A-Z0-9]{1,3})?$")


_SAP_CODE = r"^[A-Za-z0-9]+$"


class SalesArea(Strict):
    """An SAP sales area (sales organization, distribution channel, division): a customer's
    price group and currency are kept per sales area (``A_CustomerSalesArea``)."""

    sales_organization: str = Field(default="1010", max_length=4, pattern=_SAP_CODE)
    distribution_channel: str = Field(default="10", max_length=2, pattern=_SAP_CODE)
    division: str = Field(default="00", max_length=2, pattern=_SAP_CODE)


class SapSource(Strict):
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
    customer_sales_area: SalesArea | None = Field(
        default_factory=SalesArea,
        description="the sales area whose customers are pulled (API_BUSINESS_PARTNER "
        "A_CustomerSalesArea: price group, currency; names from A_Customer) into the snapshot's "
        "customers file; null = no customer master pulled",
    )

    def credential_variables(self) -> dict[str, str]:
        """Credential -> the environment variable holding it, for this ``auth``."""
        if self.auth == "bearer":
            return {"token": "SAP_TOKEN"}
        return {"user": "SAP_USER", "password": "SAP_PASSWORD"}

    @field_validator("condition_types")
    @classmethod
    def _condition_keys(cls, value: dict[str, PriceType]) -> dict[str, PriceType]:
        bad = [key for key in value if not _CONDITION_KEY.match(key)]
        if bad:
            msg = f"keys must be 'TYPE' or 'TYPE/TABLE' like 'PPR0/304' (bad: {bad})"
            raise ValueError(msg)
        return value


ErpSource = Annotated[FileSource | SapSource, Field(discriminator="kind")]


class AttributeRoles(Strict):
    """Which PIM attribute code plays which role; the formats' presets map target fields to
    roles, so one setting here fits every channel. ``name``: the product's label, else the
    family's ``attribute_as_label``; ``image``: used where the family names no
    ``attribute_as_image``. ``null`` leaves a role unfilled."""

    name: str | None = "name"
    description: str | None = "description"
    brand: str | None = "brand"
    gtin: str | None = "ean"
    image: str | None = "image"
    color: str | None = "color"
    size: str | None = "size"
    weight: str | None = "weight"
    gender: str | None = None
    age_group: str | None = None
    material: str | None = None
    pattern: str | None = None

    def attribute(self, role: str) -> str | None:
        return getattr(self, role, None)

    def names(self) -> tuple[str, ...]:
        return tuple(type(self).model_fields)


CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


class ChannelConfig(BaseModel):
    """One channel: which format, which locale, currency and Akeneo channel, how its fields are
    filled (``fields``, over the format's ``preset``) and which products it gets (``filters``).

    Keys this model does not name are the format's own options (e.g. ``title`` of a Google
    feed, ``supplier`` and ``customers`` of a BMEcat catalog, ``delimiter`` of a CSV); the
    format checks them (``prism validate-config``) before any data is read."""

    model_config = ConfigDict(extra="allow", frozen=True)

    format: str = Field(min_length=1)
    locale: str
    currency: str | None = None
    """the currency a public channel's prices are in"""
    currencies: tuple[str, ...] = ()
    """a B2B channel's currencies (default: ``currency``)"""
    price_types: tuple[PriceType, ...] | None = None
    """B2B formats: which prices go out (default all); public formats only ever get list"""
    scope: str | None = None
    """the Akeneo channel whose scopable values and category tree this channel uses (default:
    the top-level ``scope``)"""
    category_tree: str | None = None
    """the category tree the category paths come from (default: the Akeneo channel's tree)"""
    product_url: str | None = None
    """URL template of a product page, ``{sku}`` replaced (the ``url`` golden field)"""
    url: Annotated[str, AfterValidator(_anchored_url)] | None = None
    """SQL formats: the database (SQLAlchemy URL; a relative SQLite path is relative to this
    file)"""
    preset: str | None = None
    """the format's default mapping to start from (default: the format's first preset)"""
    fields: dict[str, Source | None] = Field(default_factory=dict)
    """target field -> source, over the preset's; ``null`` removes a preset's field"""
    filters: Filters = Filters()
    owners: tuple[Owner, ...] = ()
    """who answers for this channel's feed (e-mail or ``team:<name>``), shown on its asset in
    the Dagster UI next to the top-level ``owners``"""
    deliver: tuple[DeliveryTarget, ...] = ()
    """where the channel's files are pushed after each publish (SFTP, HTTP); ``--target N`` of
    ``prism deliver`` is the index in this list"""

    _locale = field_validator("locale")(_check_locale)

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str | None) -> str | None:
        return None if value is None else _check_currency(value)

    @field_validator("currencies")
    @classmethod
    def _currency_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_currency(c) for c in value)

    @model_validator(mode="after")
    def _has_a_currency(self) -> ChannelConfig:
        if self.currency is None and not self.currencies:
            msg = "a channel needs a currency (or currencies)"
            misspelt = nearest("currency", self.options(), limit=1)
            misspelt += nearest("currencies", self.options(), limit=1)
            if misspelt:
                msg += f" (is {misspelt[0]!r} a misspelling of it?)"
            raise ValueError(msg)
        return self

    @property
    def all_currencies(self) -> tuple[str, ...]:
        """Every currency this channel publishes (``currencies``, else ``currency``)."""
        if self.currencies:
            return self.currencies
        return (self.currency,) if self.currency else ()

    @property
    def main_currency(self) -> str:
        """The currency of the channel's ``price`` field."""
        return self.currency or self.currencies[0]

    def options(self) -> dict[str, Any]:
        """The format's own options: the keys of this channel's entry this model does not name."""
        return dict(self.model_extra or {})


class PublishConfig(Strict):
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
    base_url: HttpOrigin | None = Field(
        default=None,
        description="where a web server serves ``directory`` (e.g. https://feeds.example.com); "
        "the Dagster UI links reports, manifests and feeds there; null = file:// links",
    )


SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _sha256_hex(value: str) -> str:
    if not SHA256_HEX.fullmatch(value):
        msg = "expected a sha256 hex digest (64 lower-case hex digits), never the token itself"
        raise ValueError(msg)
    return value


Sha256Hex = Annotated[str, AfterValidator(_sha256_hex)]
EnvName = Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")]


class ChannelAccess(Strict):
    """Who may read one channel's feeds through ``prism serve``: bearer tokens given as the
    sha256 of the token (``token_sha256``; the plaintext stays with the channel's team) or as
    the names of environment variables holding the plaintext (``token_env``; read when the
    service starts, a missing one fails naming it). The file never holds a token."""

    token_sha256: tuple[Sha256Hex, ...] = ()
    token_env: tuple[EnvName, ...] = ()


class OidcConfig(Strict):
    """Single sign-on for ``prism serve``: bearer JWTs signed RS256 or ES256 by ``issuer``, for
    ``audience``; keys from ``jwks_url`` or ``jwks_file``. ``channels_claim`` lists the channels
    a token may read (a list, or a space-separated string like a scope); a token whose
    ``roles_claim`` holds ``operator_role`` may read every channel. A token whose
    ``customer_claim`` names a customer may ask the price API for that customer's prices only.
    """

    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    jwks_url: HttpOrigin | None = None
    jwks_file: LocalPath | None = None
    channels_claim: str = "prism_channels"
    roles_claim: str = "roles"
    operator_role: str = "prism-operator"
    customer_claim: str | None = Field(
        default=None,
        description="the claim naming the one customer whose prices a token may ask the price "
        "API for (e.g. customer_id); null = tokens are not customer-scoped",
    )
    algorithms: tuple[Literal["RS256", "ES256"], ...] = ("RS256", "ES256")
    leeway_seconds: float = Field(default=30.0, ge=0, le=300)

    @model_validator(mode="after")
    def _one_key_source(self) -> OidcConfig:
        if (self.jwks_url is None) == (self.jwks_file is None):
            msg = "give exactly one of jwks_url and jwks_file"
            raise ValueError(msg)
        return self


class PriceApiConfig(Strict):
    """``POST /v1/prices``: whose price policy it answers with, and the customers' own tokens.

    The price channel's customers, tiers (its currencies and price types) and availability are
    written into every snapshot (``kind="serving"`` files); the API answers from them with the
    precedence its catalogs and the portal use. A token of a customer here may ask for that
    customer's prices only; a token that may read the price channel, and an operator, for any
    of its customers."""

    channel: str | None = Field(
        default=None,
        description="the channel whose customers, tiers and currencies the price API answers "
        "with; null = the first bmecat channel (the quoting catalogs)",
    )
    customers: dict[str, ChannelAccess] = Field(
        default_factory=dict,
        description="customer id -> bearer tokens that may ask for that customer's prices only",
    )


class ServeConfig(Strict):
    """``prism serve``: the HTTP feed service over ``publish.directory``."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    poll_seconds: float = Field(
        default=2.0, gt=0, description="how often the service looks for a newly live snapshot"
    )
    channels: dict[str, ChannelAccess] = Field(
        default_factory=dict, description="channel -> its bearer tokens"
    )
    oidc: OidcConfig | None = None
    prices: PriceApiConfig = PriceApiConfig()


Share = Annotated[float, Field(ge=0, le=1)]


class Freshness(Strict):
    """Oldest acceptable source snapshot, in hours (null = no limit)."""

    pim: float | None = Field(default=168.0, gt=0)
    erp: float | None = Field(default=48.0, gt=0)


class QualityConfig(Strict):
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
    max_warning_share: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="a feed's ``warnings`` check (WARN, never blocks) fails once a warn rule "
        "hits more than this share of its rows; below it the findings are reported as metadata",
    )

    def max_drop(self, channel: str) -> float:
        return self.max_product_drop_by_channel.get(channel, self.max_product_drop)


class ScheduleConfig(Strict):
    """When the scheduled run starts: a cron expression read in ``timezone`` (Dagster keeps the
    local time across daylight-saving changes)."""

    cron: str = Field(default="0 6 * * *", description="cron expression, e.g. 0 6 * * 1-5")
    timezone: TimeZoneName = Field(default="UTC", description="IANA time zone of ``cron``")


class PrismConfig(Strict):
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
    channels: dict[str, ChannelConfig] = Field(min_length=1)
    schedule: ScheduleConfig = ScheduleConfig()
    serve: ServeConfig = ServeConfig()
    execution: ExecutionConfig = ExecutionConfig()
    owners: tuple[Owner, ...] = Field(
        default=(),
        description="who answers for the pipeline (e-mail or ``team:<name>``): every asset's "
        "owners in the Dagster UI",
    )

    @field_validator("locales")
    @classmethod
    def _locales(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_locale(v) for v in value)

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: dict[str, ChannelConfig]) -> dict[str, ChannelConfig]:
        """A channel's name is its folder in every snapshot and part of Dagster asset keys:
        lower-case letters, digits and ``_``, starting with a letter (no two names can then
        share a folder on a case-insensitive file system)."""
        for name in value:
            if not CHANNEL_NAME.fullmatch(name):
                msg = f"channel name {name!r}: use lower-case letters, digits and _ (e.g. shop_de)"
                raise ValueError(msg)
        return value

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
        for name in self.serve.channels:
            if name not in self.channels:
                msg = f"serve.channels.{name}: no such channel"
                raise ValueError(msg)
        price_channel = self.serve.prices.channel
        if price_channel is not None:
            if price_channel not in self.channels:
                msg = f"serve.prices.channel: no such channel {price_channel!r}"
                raise ValueError(msg)
            if "customers" not in self.channels[price_channel].options():
                msg = f"serve.prices.channel: channel {price_channel!r} names no customers (the"
                msg += " price API answers for a channel's customers, e.g. a bmecat channel's)"
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
        return tuple(
            sorted({c for channel in self.channels.values() for c in channel.all_currencies})
        )

    def portals(self) -> dict[str, str]:
        """SQL channels (those with a database ``url``): channel name -> URL. The publish
        switches each in the same journal as the files."""
        return {n: c.url for n, c in self.channels.items() if c.url is not None}

    def scope_of(self, channel: ChannelConfig) -> str:
        """The Akeneo channel (scope) ``channel`` takes its scopable values from."""
        return channel.scope or self.scope

    @property
    def scopes(self) -> tuple[str, ...]:
        """Every Akeneo channel some Prism channel reads, the default first."""
        found = [self.scope, *(self.scope_of(c) for c in self.channels.values())]
        return tuple(dict.fromkeys(found))

    def deliveries(self) -> dict[str, tuple[DeliveryTarget, ...]]:
        """Channels with push targets: name -> targets."""
        return {n: c.deliver for n, c in self.channels.items() if c.deliver}

    def lookup_files(self) -> Iterator[tuple[Loc, Path]]:
        """(key path, file) of every lookup table the channels' mappings read."""
        for name, channel in self.channels.items():
            yield from _lookup_files(channel.fields, ("channels", name, "fields"))


def _lookup_files(value: object, loc: Loc) -> Iterator[tuple[Loc, Path]]:
    if isinstance(value, LookupFile):
        yield (*loc, "file"), value.file
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from _lookup_files(getattr(value, name), (*loc, info.alias or name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _lookup_files(item, (*loc, key))
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _lookup_files(item, (*loc, index))


@dataclass(frozen=True)
class ConfigFile:
    """A configuration and the file it came from with where each key is: checks that run
    after loading (inputs, credentials, mappings) report their problems at their keys' lines."""

    config: PrismConfig
    document: YamlDocument

    @property
    def path(self) -> Path:
        return self.document.path

    def error(self, problems: Sequence[Problem]) -> ConfigError:
        """All ``problems`` as one error, each on its line: ``file:line: key.path: reason``."""
        return ConfigError(render(problems, str(self.path), self.document))


def parse_config(data: object, origin: str = "<config>", base: Path | None = None) -> PrismConfig:
    """Validate ``data``; relative paths are anchored at ``base`` (None: left relative)."""
    return _validate(data, origin, base, None)


def read_config(path: Path) -> ConfigFile:
    """Load and validate ``path``, keeping where each key is; relative paths inside are
    relative to its folder."""
    try:
        document = read_yaml(path)
    except YamlFileError as error:
        raise ConfigError(str(error)) from None
    data = document.data
    if data is None:
        msg = f"{path}: the file is empty; it holds the settings as `key: value` lines"
        raise ConfigError(msg + " (see prism.yaml in the repository)")
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({type(data).__name__})"
        msg = f"{document.where(())}: the top level is {kind}, not a mapping of settings"
        raise ConfigError(msg + " (`key: value` lines)")
    return ConfigFile(_validate(data, str(path), path.parent, document), document)


def load_config(path: Path) -> PrismConfig:
    """Load and validate ``path``; relative paths inside are relative to its folder."""
    return read_config(path).config


def _validate(
    data: object, origin: str, base: Path | None, document: YamlDocument | None
) -> PrismConfig:
    try:
        return PrismConfig.model_validate(data, context={"base": base})
    except ValidationError as error:
        problems = from_validation(error, PrismConfig, data)
        raise ConfigError(render(problems, origin, document)) from None
