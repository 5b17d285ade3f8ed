"""The REST connector pulls Akeneo's catalog model whole on every pull: attribute options (per
select attribute), channels and family variants (per family) into the store, in the file-drop
format, with paging, URL-encoded codes, the same fault handling as products, and products still
read with one request per page."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from akeneo_pim import SLOW_SECONDS, Pim, expected, read_store, timeout_for
from servers.akeneo import AkeneoHandler, AkeneoState, Fault
from servers.akeneo_catalog import T0, make_catalog, option

from contracts.config import AkeneoSource
from sources.akeneo import AkeneoCredentials, AkeneoPull, pull_catalog
from sources.akeneo.items import Items
from sources.akeneo.streams import STREAMS
from sources.akeneo_files import read_pim_export
from sources.http import SourceError

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "akeneo" / "catalog_model"
PRODUCTS = "/api/rest/v1/products-uuid"
CHANNELS = "/api/rest/v1/channels"
MODEL_FILES = ("attribute_options", "channels", "family_variants", "families")
LOCALES = ["de_DE", "en_US"]


def options_of(attribute: str) -> str:
    return f"/api/rest/v1/attributes/{attribute}/options"


def variants_of(family: str) -> str:
    return f"/api/rest/v1/families/{family}/variants"


# Items per list in make_catalog: the paths a pull must read, and nothing else of the kind.
LISTS = {
    options_of("color"): 23,
    options_of("material"): 12,
    options_of("season"): 0,
    options_of("size"): 5,
    variants_of("family_0"): 2,
    variants_of("family_1"): 1,
    variants_of("family_2"): 0,
    CHANNELS: 2,
}


def pages(count: int, size: int) -> int:
    """Requests a page-paginated list of ``count`` items takes (an empty list answers once)."""
    return max(1, -(-count // size))


def test_the_store_holds_options_channels_variants_and_whole_families(pim: Pim) -> None:
    pim.pull()
    stored = read_store(pim.store)
    wanted = expected(pim.state, LOCALES, "ecommerce")
    assert {name: stored[name] for name in MODEL_FILES} == {n: wanted[n] for n in MODEL_FILES}
    first = (pim.store / "attribute_options.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(first) == {
        "code": "color_00",
        "attribute": "color",
        "sort_order": 1,
        "labels": {"de_DE": "Farbe 0", "en_US": "Color 0", "fr_FR": "Ton 0"},
    }
    assert [(o["attribute"], o["code"]) for o in stored["attribute_options"]] == sorted(
        (o["attribute"], o["code"]) for o in pim.state.catalog["attribute_options"]
    )
    labels = {o["code"]: o["labels"] for o in stored["attribute_options"]}
    assert labels["color_03"] == {"de_DE": "Farbe 3", "en_US": "Color 3"}  # no fr_FR, not null
    assert stored["channels"][1] == {
        "code": "print",
        "currencies": ["EUR"],
        "locales": ["de_DE"],
        "category_tree": "category_01",
        "conversion_units": {},
        "labels": {"de_DE": "Druck", "en_US": "Print"},
    }
    variants = {v["code"]: v for v in stored["family_variants"]}
    assert variants["by_color_size"]["family"] == "family_0"
    levels = variants["by_color_size"]["variant_attribute_sets"]
    assert [(s["level"], s["axes"]) for s in levels] == [(1, ["color"]), (2, ["size"])]
    families = {f["code"]: f for f in stored["families"]}
    assert families["family_0"]["attribute_as_image"] == "picture"
    assert families["family_1"]["attribute_as_image"] is None
    assert families["family_2"]["attribute_requirements"]["print"] == ["attr_00"]
    assert not any("_links" in i for name in MODEL_FILES for i in stored[name])


def test_variants_come_without_their_family_and_are_stored_with_it(pim: Pim) -> None:
    with pim.client() as client:
        response = client.get(client.url(variants_of("family_0"), {"limit": "10"}))
    items = response.json()["_embedded"]["items"]
    assert [i["code"] for i in items] == ["by_color_size", "by_size"]
    assert not any("family" in i for i in items)
    pim.pull()
    stored = read_store(pim.store)["family_variants"]
    assert [(v["code"], v["family"]) for v in stored] == [
        ("by_color", "family_1"),
        ("by_color_size", "family_0"),
        ("by_size", "family_0"),
    ]


@pytest.mark.parametrize("page_size", [1, 10])
def test_each_list_is_read_page_by_page_and_only_for_select_attributes(
    pim: Pim, page_size: int
) -> None:
    pim.pull(pim.settings(page_size=page_size))
    counts = Counter(r.path for r in pim.state.requests if r.method == "GET")
    for path, items in LISTS.items():
        requests = pim.state.api_requests(path)
        assert len(requests) == pages(items, page_size), path
        assert [r.params.get("page", "1") for r in requests] == [
            str(n) for n in range(1, len(requests) + 1)
        ]
        assert all(r.params.keys() <= {"limit", "page"} for r in requests)  # no with_count
        assert all(r.params["limit"] == str(page_size) for r in requests)
    nested = {p for p in counts if re.fullmatch(r"/api/rest/v1/\w+/.+/(options|variants)", p)}
    assert nested == {p for p in LISTS if p != CHANNELS}
    assert read_store(pim.store) == expected(pim.state, LOCALES, "ecommerce")


def test_codes_are_url_encoded_in_the_paths_of_their_lists(pim: Pim) -> None:
    catalog = make_catalog(3)
    attribute, family = "size/EU 50%?#", "kids & baby/ü"
    catalog["attributes"].append({"code": attribute, "type": "pim_catalog_multiselect"})
    catalog["attribute_options"] += [
        option(attribute, f"eu_{n}", n, {"en_US": f"EU {n}"}) for n in (36, 38, 40)
    ]
    catalog["families"].append({"code": family, "attribute_as_label": "attr_00", "labels": {}})
    catalog["family_variants"].append(
        {"code": "kids_by_size", "family": family, "labels": {}, "variant_attribute_sets": []}
    )
    pim.state.serve_catalog(catalog)
    pim.pull(pim.settings(page_size=2))
    encoded = options_of("size%2FEU%2050%25%3F%23")
    assert [r.params.get("page", "1") for r in pim.state.api_requests(encoded)] == ["1", "2"]
    assert pim.state.api_requests(variants_of("kids%20%26%20baby%2F%C3%BC"))
    stored = read_store(pim.store)
    odd = [o["code"] for o in stored["attribute_options"] if o["attribute"] == attribute]
    assert odd == ["eu_36", "eu_38", "eu_40"]
    kids = stored["family_variants"][-1]
    assert (kids["code"], kids["family"]) == ("kids_by_size", family)
    assert stored == expected(pim.state, LOCALES, "ecommerce")


def test_incremental_pulls_read_options_channels_and_variants_whole(pim: Pim) -> None:
    pim.pull(now=lambda: T0)
    catalog = make_catalog(57)
    catalog["attribute_options"] = [
        *(o for o in catalog["attribute_options"] if o["code"] != "color_05"),
        option("size", "xxl", 6, {"en_US": "XXL"}),
    ]
    catalog["channels"][1] |= {"category_tree": "category_00", "labels": {"en_US": "Paper"}}
    catalog["family_variants"] = catalog["family_variants"][:-1]  # by_color deleted
    catalog["families"][1]["attribute_as_image"] = "picture"
    pim.state.serve_catalog(catalog)
    pim.clock[0] = T0 + timedelta(hours=1)
    first = len(pim.state.requests)

    result = pim.pull(now=lambda: T0 + timedelta(hours=1))

    assert result.mode == "incremental"
    assert (result.pulled["products"], result.counts["products"]) == (0, 57)
    assert result.pulled["attribute_options"] == 40
    stored = read_store(pim.store)
    wanted = expected(pim.state, LOCALES, "ecommerce")
    assert {name: stored[name] for name in MODEL_FILES} == {n: wanted[n] for n in MODEL_FILES}
    assert "by_color" not in {v["code"] for v in stored["family_variants"]}
    again = {r.path for r in pim.state.requests[first:] if r.method == "GET"}
    assert set(LISTS) <= again
    assert not any("search" in r.params for r in pim.state.requests[first:] if r.path in LISTS)


FATAL = [
    pytest.param(Fault("malformed", CHANNELS), CHANNELS, "malformed JSON", id="malformed"),
    pytest.param(
        Fault("no_embedded", variants_of("family_0")),
        variants_of("family_0"),
        "not a page of items",
        id="no-embedded",
    ),
    pytest.param(
        Fault("broken_next", options_of("color"), on=2),
        options_of("color") + "-gone",
        "pagination chain broken: the next link answered HTTP 404",
        id="broken-next",
    ),
    pytest.param(
        Fault("foreign_next", options_of("material")),
        options_of("material"),
        "the next link is not a URL on the configured host",
        id="foreign-next",
    ),
    pytest.param(
        Fault("duplicate", options_of("color"), on=2),
        options_of("color"),
        "duplicate attribute option code 'color_09' of attribute 'color'",
        id="duplicate",
    ),
    pytest.param(
        Fault("missing_key", variants_of("family_1")),
        variants_of("family_1"),
        "a family variant without a 'code'",
        id="missing-code",
    ),
    pytest.param(
        Fault("503", options_of("size"), times=10),
        options_of("size"),
        r"failed after 3 attempts \(HTTP 503\)",
        id="persistent-503",
    ),
    pytest.param(
        Fault("slow", CHANNELS, times=10, seconds=1.0),
        CHANNELS,
        r"failed after 3 attempts \(ReadTimeout",
        id="persistent-timeout",
    ),
    pytest.param(
        Fault("unauthorized", variants_of("family_2"), times=2),
        variants_of("family_2"),
        r"HTTP 401 \(Authentication is required\) again with a renewed token",
        id="401-twice",
    ),
]


@pytest.mark.parametrize(("fault", "path", "problem"), FATAL)
def test_a_failing_catalog_model_list_fails_the_pull_and_keeps_the_store(
    pim: Pim, fault: Fault, path: str, problem: str
) -> None:
    first = pim.pull()
    before = read_store(pim.store)
    listing = sorted(p.name for p in pim.store.parent.iterdir())
    pim.state.inject(fault)
    with pytest.raises(SourceError) as error:
        pim.pull(pim.settings(timeout=0.3), full=True)
    where = f"^akeneo: GET http://127\\.0\\.0\\.1:\\d+{re.escape(path)}\\?limit=10\\S*:? "
    assert re.match(where + f".*{problem}", str(error.value)), str(error.value)
    assert pim.store.resolve() == first.generation.resolve()
    assert read_store(pim.store) == before
    assert sorted(p.name for p in pim.store.parent.iterdir()) == listing


def test_credentials_echoed_by_an_options_list_are_masked(pim: Pim) -> None:
    pim.state.inject(Fault("echo", options_of("color"), on=2))
    with pytest.raises(SourceError) as error:
        pim.pull()
    message = str(error.value)
    assert message.startswith(f"akeneo: GET {pim.url}{options_of('color')}?limit=10&page=2: ")
    assert "Authorization: Bearer ***" in message
    pair = base64.b64encode(f"{pim.state.client_id}:{pim.state.secret}".encode()).decode()
    secrets = [pim.state.secret, pim.state.password, pair, *pim.state.issued]
    assert [s for s in secrets if s in message] == []
    assert not pim.store.exists()


RETRIED = [
    pytest.param(Fault("429", options_of("color"), on=2, seconds=7), [7.0], id="429-retry-after"),
    pytest.param(Fault("503", CHANNELS), None, id="503"),
    pytest.param(Fault("reset", variants_of("family_0")), None, id="connection-reset"),
    pytest.param(Fault("slow", options_of("material"), seconds=SLOW_SECONDS), None, id="timeout"),
]


@pytest.mark.parametrize(("fault", "waits"), RETRIED)
def test_transient_faults_on_catalog_model_lists_are_retried(
    pim: Pim, fault: Fault, waits: list[float] | None
) -> None:
    pim.state.inject(fault)
    pim.pull(pim.settings(timeout=timeout_for(fault)))
    assert read_store(pim.store) == expected(pim.state, LOCALES, "ecommerce")
    assert len(pim.waits) == fault.times
    assert waits is None or pim.waits == waits


def test_a_token_expiring_before_an_options_page_is_renewed(pim: Pim) -> None:
    pim.state.inject(Fault("expire_token", options_of("color"), on=2))
    pim.pull()
    assert pim.state.grants() == ["password", "refresh_token"]
    assert read_store(pim.store) == expected(pim.state, LOCALES, "ecommerce")


def _with(catalog: dict[str, list[Any]], name: str, item: dict[str, Any]) -> dict[str, list[Any]]:
    return catalog | {name: [*catalog[name], item]}


COLLIDING = [
    pytest.param(
        "channels",
        make_catalog(0)["channels"][1] | {"code": "Print"},
        "channel codes 'Print' and 'print' differ only in case",
        id="channel",
    ),
    pytest.param(
        "attribute_options",
        option("color", "Color_03", 99, {}),
        "attribute option codes 'Color_03' and 'color_03' of attribute 'color' differ only",
        id="option",
    ),
    pytest.param(
        "family_variants",
        make_catalog(0)["family_variants"][0] | {"code": "BY_SIZE", "family": "family_2"},
        "family variant codes '(BY_SIZE|by_size)' and '(by_size|BY_SIZE)' differ only in case",
        id="variant-of-another-family",
    ),
    pytest.param(
        "families",
        make_catalog(0)["families"][0] | {"code": "FAMILY_0"},
        "family codes 'FAMILY_0' and 'family_0' differ only in case",
        id="family",
    ),
    pytest.param(
        "attributes",
        {"code": "Color", "type": "pim_catalog_simpleselect"},
        "attribute codes 'Color' and 'color' differ only in case",
        id="attribute",
    ),
]


@pytest.mark.parametrize(("name", "item", "problem"), COLLIDING)
def test_codes_that_differ_only_in_case_fail_the_pull_naming_both(
    pim: Pim, name: str, item: dict[str, Any], problem: str
) -> None:
    first = pim.pull()
    pim.state.serve_catalog(_with(make_catalog(57), name, item))
    with pytest.raises(SourceError, match=f"^akeneo: GET http://127.0.0.1:\\d+/.*: {problem}"):
        pim.pull(full=True)
    assert pim.store.resolve() == first.generation.resolve()


def test_an_option_code_may_repeat_in_another_attribute(pim: Pim) -> None:
    catalog = _with(make_catalog(5), "attribute_options", option("material", "M", 13, {}))
    pim.state.serve_catalog(catalog)
    pim.pull()
    stored = read_store(pim.store)["attribute_options"]
    assert [o["attribute"] for o in stored if o["code"].casefold() == "m"] == ["material", "size"]


OPTIONS = next(s for s in STREAMS if s.name == "attribute_options")
URL = httpx.URL("http://127.0.0.1:1/api/rest/v1/attributes/color/options")


def test_options_are_stored_under_the_attribute_as_spelled_in_its_own_file() -> None:
    items = Items(OPTIONS)
    items.add_page([{"code": "red", "attribute": "COLOR"}, {"code": "blue"}], URL, None, "color")
    assert items.by_key == {
        ("color", "red"): {"code": "red", "attribute": "color"},
        ("color", "blue"): {"code": "blue", "attribute": "color"},
    }
    with pytest.raises(SourceError, match="an attribute option of attribute 'size' in the list"):
        items.add_page([{"code": "m", "attribute": "size"}], URL, None, "color")


@pytest.mark.parametrize("concurrency", [1, 3])
def test_options_of_several_attributes_are_read_side_by_side_within_the_bound(
    pim: Pim, concurrency: int
) -> None:
    catalog = make_catalog(0)
    selects = [f"select_{i}" for i in range(8)]
    catalog["attributes"] += [{"code": c, "type": "pim_catalog_simpleselect"} for c in selects]
    catalog["attribute_options"] += [option(c, "yes", 1, {}) for c in selects]
    pim.state.serve_catalog(catalog)
    pim.state.delay = 0.03
    pim.pull(pim.settings(concurrency=concurrency))
    reads = [r for r in pim.state.requests if "/options" in r.path]
    served = sum(pages(n, 10) for path, n in LISTS.items() if "/options" in path)
    assert len(reads) == served + len(selects)
    beside = max(sum("/options" in p for p in r.alongside) for r in reads)
    assert beside == concurrency - 1
    assert pim.state.max_in_flight <= concurrency


def test_products_still_take_one_request_per_page(
    akeneo_server: tuple[type[AkeneoHandler], str], tmp_path: Path
) -> None:
    """Default settings (100 per page, 4 at once): the catalog model adds its own requests only."""
    handler, url = akeneo_server
    handler.state = state = AkeneoState(make_catalog(250))
    credentials = AkeneoCredentials(
        client_id=state.client_id,
        client_secret=state.secret,
        username=state.username,
        password=state.password,
    )
    source = AkeneoSource(kind="akeneo", base_url=url, store=tmp_path / "store")
    result = pull_catalog(AkeneoPull(source, credentials, ("de_DE", "en_US"), ("ecommerce",)))
    assert result.counts["products"] == 250
    products = state.api_requests(PRODUCTS)
    assert len(products) == 3
    assert len({r.params.get("search_after") for r in products}) == 3
    requests = Counter(r.path for r in state.requests)
    assert {path: requests[path] for path in LISTS} == dict.fromkeys(LISTS, 1)
    assert state.max_in_flight <= source.concurrency


def test_the_file_reader_reads_a_store_with_the_catalog_model_files(pim: Pim) -> None:
    pim.pull()
    export = read_pim_export(pim.store, ("de_DE", "en_US"), "ecommerce")
    assert export.products.height == 57
    assert export.families["code"].to_list() == ["family_0", "family_1", "family_2"]
    assert export.families["attribute_as_label"].to_list() == ["attr_00"] * 3
    assert {
        "attribute_options.jsonl",
        "channels.jsonl",
        "family_variants.jsonl",
    } <= set(export.rows_read)
    options = export.attribute_options.filter(pl.col("attribute") == "color")
    assert options.height == export.rows_read["attribute_options.jsonl"] - (
        export.attribute_options.filter(pl.col("attribute") != "color").height
    )
    first = options.sort("code").row(0, named=True)
    assert (first["code"], first["label_de_DE"], first["label_en_US"]) == (
        "color_00",
        "Farbe 0",
        "Color 0",
    )
    trees = dict(export.channels.select("code", "category_tree").iter_rows())
    assert trees["print"] == "category_01"
    variants = export.family_variants.filter(pl.col("code") == "by_color_size").sort("level")
    assert variants["family"].to_list() == ["family_0", "family_0"]
    assert variants["axes"].to_list() == [["color"], ["size"]]


def _example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _items(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in i.items() if k != "_links"} for i in page["_embedded"]["items"]]


def test_replays_the_documented_examples(pim: Pim) -> None:
    options = _example("GET_attributes_{attribute_code}_options_200_list.json")
    channels = _example("GET_channels_200_list.json")
    families = _example("GET_families_200_list.json")
    variant = _example("GET_families_{family_code}_variants_200_example.json")
    pim.state.serve_catalog(
        {
            "attributes": [{"code": "a_simple_select", "type": "pim_catalog_simpleselect"}],
            "attribute_options": _items(options),
            "channels": _items(channels),
            "families": _items(families),
            "family_variants": [variant | {"family": "tshirt"}],
        }
    )
    with pim.client(pim.settings(page_size=3)) as client:
        page = client.get(client.url(CHANNELS, {"limit": "3"})).json()
    assert page.keys() == channels.keys()
    assert page["_embedded"]["items"][0].keys() == channels["_embedded"]["items"][0].keys()
    pim.pull()
    stored = read_store(pim.store)
    assert stored["attribute_options"] == sorted(_items(options), key=lambda o: o["code"])
    assert stored["channels"] == _items(channels)
    assert stored["families"] == sorted(_items(families), key=lambda f: f["code"])
    assert stored["family_variants"] == [variant | {"family": "tshirt"}]
