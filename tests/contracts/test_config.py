from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from factories import REPO, default_config
from hypothesis import given
from hypothesis import strategies as st

from contracts.config import ConfigError, PrismConfig, load_config, parse_config
from contracts.suggestions import accepted_keys, accepted_values, did_you_mean
from contracts.text import file_name_for
from contracts.yaml_lines import read_yaml
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
        (["serve"], {"channels": {"blog": {}}}, "serve.channels.blog"),
        (["serve"], {"channels": {"shop": {"token_sha256": ["secret"]}}}, "serve.channels.shop"),
        (["serve"], {"channels": {"shop": {"token_env": ["lower"]}}}, "serve.channels.shop"),
        (["serve"], {"oidc": {"issuer": "i", "audience": "a"}}, "serve.oidc"),
        (["serve"], {"port": 70000}, "serve.port"),
        (["serve"], {"prices": {"channel": "blog"}}, "serve.prices.channel: no such channel"),
        (["serve"], {"prices": {"channel": "shop"}}, "serve.prices.channel: channel 'shop'"),
        (["serve"], {"prices": {"customers": {"C1": {"token_env": ["x"]}}}}, "serve.prices"),
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
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found"):
        load_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("locales: [de_DE]\nchannels: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(broken)
    message = str(raised.value)
    assert message.startswith(f"{broken}:2:20: not valid YAML: expected ',' or ']'")
    assert "flow sequence started at 2:11" in message  # 1-based, where the [ opened
    assert "<unicode string>" not in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a: 1\n  b: 2\n", r"{path}:2:4: not valid YAML: mapping values are not allowed"),
        (b"locales: [de_DE]\n\tscope: x\n", r"{path}:2:1: .*YAML indents with spaces"),
        (b"a: 1\n---\nb: 2\n", r"{path}:2:1: not valid YAML: but found another document"),
        (b"a: 1\nb: \x07\n", r"{path}:2:4: not valid YAML: special characters"),
        (b"locales: [de_DE]\nscope: \xe4\n", r"{path}:2:8: not UTF-8 text \(byte 0xe4\)"),
        (b"", r"{path}: the file is empty"),
        (b"# only a comment\n", r"{path}: the file is empty"),
        (b"- de_DE\n- en_US\n", r"{path}:1: the top level is a list, not a mapping"),
        (b"prism\n", r"{path}:1: the top level is a single value \(str\), not a mapping"),
    ],
)
def test_an_unreadable_file_names_the_file_and_line(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "prism.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected.format(path=re.escape(str(path)))):
        load_config(path)


def _shipped_with(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    """The shipped prism.yaml with one text replaced, written to ``tmp_path``."""
    text = (REPO / "prism.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    changed = text.replace(old, new)
    path = tmp_path / "prism.yaml"
    path.write_text(changed, encoding="utf-8")
    (tmp_path / "mappings").symlink_to(REPO / "mappings")
    return path, changed


def _line(text: str, fragment: str, after: str = "") -> int:
    """The 1-based line of the first ``fragment`` (after the first ``after``)."""
    start = text.index(after)
    return text.count("\n", 0, text.index(fragment, start)) + 1


@pytest.mark.parametrize(
    ("old", "new", "line_of", "expected"),
    [
        (
            "  ready_marker: manifest.json\nerp:",
            "  ready_markr: manifest.json\nerp:",
            "ready_markr",
            "pim.files.ready_markr: unknown key; did you mean 'ready_marker'?",
        ),
        (
            "freshness_hours: {pim: 168, erp: 48}",
            "freshness_hours: {pim: 168, epr: 48}",
            "freshness_hours",
            "quality.freshness_hours.epr: unknown key; did you mean 'erp'?",
        ),
        (
            "lock_wait_seconds: 0",
            "lock_wait_secs: 0",
            "lock_wait_secs",
            "publish.lock_wait_secs: unknown key; did you mean 'lock_wait_seconds'?",
        ),
        (
            "  path: var/demo/erp\n",
            "  path: var/demo/erp\n  zzz: 1\n",
            "zzz",
            "erp.files.zzz: unknown key; (valid here: kind, path, ready_marker)",
        ),
        (
            "erp:\n  kind: files",
            "erp:\n  kind: file",
            "kind: file\n",
            "erp.kind: unknown kind 'file' (kinds: files, sap); did you mean 'files'?",
        ),
        (
            "strip_html]}",
            "{case: uper}]}",
            "uper",
            "channels.website.fields.description.role.transform.0.case.case: Input should be "
            "'upper', 'lower', 'title' or 'sentence'; did you mean 'upper'?",
        ),
        (
            "material: {attribute: material, separator",
            "material: {attribute: material, seperator",
            "seperator",
            "channels.website.fields.material.attribute.seperator: unknown key; did you mean "
            "'separator'?",
        ),
    ],
)
def test_a_misspelt_key_or_value_names_its_line_and_the_nearest_valid_one(
    tmp_path: Path, old: str, new: str, line_of: str, expected: str
) -> None:
    path, text = _shipped_with(tmp_path, old, new)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}:{_line(text, line_of)}: {expected}"


def test_a_missing_key_names_the_line_of_its_mapping(tmp_path: Path) -> None:
    old = "  shop:\n    format: csv\n    locale: de_DE\n"
    path, text = _shipped_with(tmp_path, old, "  shop:\n    format: csv\n    lcoale: de_DE\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    line = _line(text, "  shop:")
    assert str(raised.value) == (
        f"{path}:{line}: channels.shop.locale: required key missing "
        "(is 'lcoale' a misspelling of it?)"
    )


def test_a_misspelt_currency_is_pointed_out(tmp_path: Path) -> None:
    old = "    currency: USD\n"
    path, text = _shipped_with(tmp_path, old, "    currancy: USD\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}:{_line(text, '  social:')}: channels.social: a channel needs a currency (or "
        "currencies) (is 'currancy' a misspelling of it?)"
    )


def test_every_problem_is_listed_on_its_own_line(tmp_path: Path) -> None:
    path, text = _shipped_with(tmp_path, "keep: 5 ", "keep: 0 ")
    text = text.replace("currency: USD", "currency: USDD").replace("lock_lease_", "lock_lase_")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).splitlines() == [
        f"{path}: 3 problems",
        f"{path}:{_line(text, 'keep: 0')}: publish.keep: Input should be greater than or equal "
        "to 1",
        f"{path}:{_line(text, 'lock_lase_')}: publish.lock_lase_seconds: unknown key; did you "
        "mean 'lock_lease_seconds'?",
        f"{path}:{_line(text, 'USDD')}: channels.social.currency: 'USDD' is not an ISO 4217 "
        "currency code like 'EUR'",
    ]


def test_lines_are_found_through_union_tags_lists_and_flow_style(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "pim:\n  kind: akeneo\n  base_url: x\nlocales:\n  - de_DE\n  - en_US\n"
        'channels: {"a": {"format": "csv"}}\n',
        encoding="utf-8",
    )
    document = read_yaml(path)
    assert document.line_of(("pim", "akeneo", "base_url")) == 3  # the tag is passed over
    assert document.line_of(("pim", "akeneo", "store")) == 1  # missing: its mapping's key
    assert document.line_of(("locales", 1)) == 6
    assert document.line_of(("channels", "a", "format")) == 7
    assert document.line_of(()) == 1
    assert document.where(("pim", "kind")) == f"{path}:2"


def test_the_nearest_keys_are_found_through_the_models() -> None:
    where = ("channels", "x", "filters", "include", "where", "all", "all", 0, "test")
    assert "not_in" in accepted_keys(PrismConfig, where)
    assert accepted_keys(PrismConfig, ("pim", "files")) == ["kind", "path", "ready_marker"]
    assert accepted_values(PrismConfig, ("erp", "sap", "auth")) == ["basic", "bearer"]
    assert accepted_values(PrismConfig, ("erp",)) == ["files", "sap"]
    assert did_you_mean("curency", ["currency", "currencies", "locale"]) == (
        "did you mean 'currency'?"
    )
    assert did_you_mean("colr", ["color", "colr2", "size"]) == "did you mean 'color' or 'colr2'?"
    assert did_you_mean("zzz", ["currency"]) == ""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"format": "pdf"}, "channels.shop.format: unknown format 'pdf' (formats: bmecat, csv"),
        (
            {"format": "cvs"},
            "(formats: bmecat, csv, google_merchant, jsonl, jsonld, meta_catalog, ",
        ),
        ({"format": "cvs"}, "; did you mean 'csv'?"),
        ({"delimter": ";"}, "channels.shop.delimter: format 'csv' has no option 'delimter'"),
        ({"delimter": ";"}, "; did you mean 'delimiter'?"),
        ({"prest": "x"}, "channels.shop.prest: format 'csv' has no option 'prest'"),
        ({"prest": "x"}, "; did you mean 'preset'?"),  # a channel key, not an option
        ({"preset": "demo_shp"}, "has no preset 'demo_shp' (demo_shop, shopware6, woocommerce)"),
        ({"preset": "demo_shp"}, "; did you mean 'demo_shop'?"),
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
    assert portal.url == f"duckdb:///{folder / 'var' / 'portal.duckdb'}"  # type: ignore[union-attr]


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
