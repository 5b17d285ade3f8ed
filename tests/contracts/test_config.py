from __future__ import annotations

from pathlib import Path

import pytest
from factories import REPO, default_config

from contracts.config import ConfigError, load_config, parse_config


def test_the_shipped_configuration_is_valid() -> None:
    config = load_config(REPO / "prism.yaml")
    assert list(config.channels) == ["website", "shop", "portal", "marketplace", "quoting"]
    assert config.currencies == ("EUR", "USD")


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["channels", "shop", "currency"], "EURO", "channels.shop.csv.currency"),
        (["channels", "shop", "format"], "xlsx", "channels.shop"),
        (["channels", "website", "locale"], "it_IT", "channels.website.locale"),
        (["publish", "keep"], 0, "publish.keep"),
        (["locales"], ["german"], "locales"),
        (["channels", "quoting", "customers"], [], "channels.quoting.bmecat.customers"),
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
