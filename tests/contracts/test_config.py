from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from factories import REPO, default_config
from hypothesis import given
from hypothesis import strategies as st

from contracts.config import ConfigError, load_config, parse_config
from contracts.text import file_name_for
from mapping.compile import compile_all
from mapping.expressions import MappingError
from mapping.model import PimModel
from sinks.formats import FORMATS


def test_the_shipped_configuration_is_valid() -> None:
    config = load_config(REPO / "prism.yaml")
    assert list(config.channels) == [
        "website",
        "shop",
        "portal",
        "marketplace",
        "social",
        "quoting",
    ]
    assert config.currencies == ("EUR", "USD")
    compile_all(config, FORMATS, PimModel(), frozenset())  # every mapping compiles


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["channels", "shop", "currency"], "EURO", "channels.shop.currency"),
        (["channels", "shop", "format"], "", "channels.shop.format"),
        (["channels", "Shop Ä"], {"format": "csv"}, "channels.Shop Ä"),
        (["channels", "website", "locale"], "it_IT", "channels.website.locale"),
        (["publish", "keep"], 0, "publish.keep"),
        (["locales"], ["german"], "locales"),
        (["unknown_key"], 1, "unknown_key"),
        (["pim"], {"kind": "akeneo", "store": "s"}, "pim.akeneo.base_url"),
        (["erp"], {"kind": "sap", "base_url": "http://h", "root": "r"}, "erp.sap.plants"),
        (["erp"], {"kind": "ftp", "path": "x"}, "erp"),
        (["quality"], {"max_product_drop_by_channel": {"shop": 1.5}}, "quality.max_product_drop"),
        (["quality"], {"max_product_drop_by_channel": {"blog": 0.1}}, "quality.max_product_drop"),
        (["quality"], {"price_change_factor": 1}, "quality.price_change_factor"),
        (["quality"], {"freshness_hours": {"erp": 0}}, "quality.freshness_hours.erp"),
        (["quality"], {"report_locale": "it_IT"}, "quality.report_locale"),
        (["quality"], {"report_locale": "german"}, "quality.report_locale"),
        (["quality"], {"pim_url": "https://pim.example.com/p"}, "quality.pim_url"),
        (["quality"], {"pim_url": "https://pim.example.com/{id}"}, "quality.pim_url"),
        (["quality"], {"pim_url": "javascript:alert('{sku}')"}, "quality.pim_url"),
        (["quality"], {"pim_url": "https://pim.example.com/{sku"}, "quality.pim_url"),
    ],
)
def test_an_invalid_file_names_the_key_path(path: list[str], value: object, expected: str) -> None:
    data = default_config()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        parse_config(data, origin="prism.yaml")


def test_a_missing_file_and_broken_yaml_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("channels: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"format": "pdf"}, "channels.shop.format: unknown format 'pdf' (formats: bmecat, csv"),
        ({"delimter": ";"}, "channels.shop.delimter: format 'csv' has no option 'delimter'"),
    ],
)
def test_format_errors_name_the_key_path(change: dict[str, str], expected: str) -> None:
    """The registry is above the contracts: a channel's format and its options are checked
    when the mappings compile (``prism validate-config`` and the start of every run)."""
    data = default_config()
    data["channels"]["shop"] |= change
    with pytest.raises(MappingError, match=re.escape(expected)):
        compile_all(parse_config(data), FORMATS, PimModel(), frozenset())


def test_customer_ids_that_would_share_a_catalog_file_are_refused() -> None:
    data = default_config()
    data["channels"]["quoting"]["customers"] = [
        {"id": "k1", "name": "Lower"},
        {"id": "K1", "name": "Upper"},
    ]
    with pytest.raises(MappingError, match=r"channels\.quoting\.customers: .*'k1' and 'K1'"):
        compile_all(parse_config(data), FORMATS, PimModel(), frozenset())


@pytest.mark.parametrize("currency", ["EURO", "EUU", "XAU", "eur"])
def test_a_currency_must_be_iso_4217(currency: str) -> None:
    data = default_config()
    data["channels"]["shop"]["currency"] = currency
    with pytest.raises(ConfigError, match="is not an ISO 4217 currency code"):
        parse_config(data)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("base_url", "not a url", "is not an http"),
        ("base_url", "https://user:pw@pim.example.com", "without credentials"),
        ("server_timezone", "Mars/Olympus", "IANA time zone"),
        ("page_size", 500, "less than or equal to 100"),
    ],
)
def test_live_source_settings_are_checked_at_load_time(
    key: str, value: object, message: str
) -> None:
    data = default_config()
    data["pim"] = {
        "kind": "akeneo",
        "base_url": "https://pim.example.com",
        "store": "s",
        key: value,
    }
    with pytest.raises(ConfigError, match=rf"pim\.akeneo\.{key}: .*{message}"):
        parse_config(data)


def test_relative_paths_are_anchored_at_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    (folder / "prism.yaml").write_text(yaml.safe_dump(default_config()), encoding="utf-8")
    config = load_config(folder / "prism.yaml")
    assert config.publish.directory == folder / "var" / "feeds"
    assert config.pim.path == folder / "var" / "demo" / "pim"  # type: ignore[union-attr]
    portal = config.channels["portal"]
    assert portal.url == f"sqlite:///{folder / 'var' / 'portal.sqlite'}"  # type: ignore[union-attr]


@given(st.text(max_size=12), st.text(max_size=12))
def test_catalog_file_names_are_injective_and_safe(first: str, second: str) -> None:
    name = file_name_for(first)
    assert re.fullmatch(r"[A-Za-z0-9_.%-]*", name)
    assert not name.startswith(".")
    if first != second:
        assert name != file_name_for(second)


def test_the_report_locale_defaults_to_the_first_locale() -> None:
    data = default_config()
    assert parse_config(data).report_locale == "de_DE"
    data["quality"]["report_locale"] = "fr_FR"
    assert parse_config(data).report_locale == "fr_FR"


def test_a_pim_url_names_the_sku_or_the_uuid() -> None:
    data = default_config()
    url = "https://pim.example.com/#/enrich/product/{uuid}?sku={sku}"
    data["quality"]["pim_url"] = url
    assert parse_config(data).quality.pim_url == url
