from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from akeneo_pim import SLOW_SECONDS, Pim, expected, read_store, timeout_for
from pydantic import ValidationError
from servers.akeneo import (
    INVALID_JSON,
    UNAUTHORIZED,
    AkeneoHandler,
    AkeneoState,
    Fault,
    visible_values,
    write_catalog,
)
from servers.akeneo_catalog import T0, make_catalog, product

from contracts.config import AkeneoSource
from sources.akeneo import AkeneoCredentials, AkeneoPull, pull_catalog
from sources.http import SourceError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "akeneo"
PRODUCTS = "/api/rest/v1/products-uuid"
TOKEN_PATH = "/api/oauth/v1/token"
MODELS = "/api/rest/v1/product-models"
CATEGORIES = "/api/rest/v1/categories"
log = logging.getLogger(__name__)


def test_full_pull_writes_the_served_catalog_in_the_file_drop_format(pim: Pim) -> None:
    result = pim.pull()
    assert result.mode == "full"
    assert result.counts == {
        "products": 57,
        "product_models": 4,
        "attributes": 18,
        "families": 3,
        "categories": 23,
        "channels": 2,
        "attribute_options": 40,
        "family_variants": 3,
    }
    assert result.high_water_mark == T0
    stored = read_store(pim.store)
    assert stored == expected(pim.state, ["de_DE", "en_US"], "ecommerce")
    assert pim.store.is_symlink()
    assert pim.store.resolve() == result.generation.resolve()
    state = json.loads((pim.store / "state.json").read_text())
    assert state["high_water_mark"] == T0.isoformat()
    assert pim.waits == []


def test_written_items_are_api_items_without_links_or_other_channels(pim: Pim) -> None:
    pim.pull()
    products = read_store(pim.store)["products"]
    assert [p["uuid"] for p in products] == sorted(p["uuid"] for p in products)
    assert not any("_links" in p for p in products)
    assert sum(not p["enabled"] for p in products) == 9
    locales = {v["locale"] for p in products for v in p["values"]["name"]}
    scopes = {v["scope"] for p in products for v in p["values"]["description"]}
    assert (locales, scopes) == ({"de_DE", "en_US"}, {"ecommerce"})


def test_only_the_channel_locales_and_scope_are_requested(pim: Pim) -> None:
    pim.pull()
    for path in (PRODUCTS, MODELS):
        for request in pim.state.api_requests(path):
            assert request.params["locales"] == "de_DE,en_US"
            assert request.params["scope"] == "ecommerce"
            assert request.params["pagination_type"] == "search_after"
            assert request.params["limit"] == "10"
    categories = pim.state.api_requests(CATEGORIES)
    assert [r.params.get("page", "1") for r in categories] == ["1", "2", "3"]
    assert not any({"locales", "scope"} & r.params.keys() for r in categories)
    assert all(r.authorization.startswith("Bearer access-") for r in categories)


def test_channels_reading_two_akeneo_channels_get_both_scopes(pim: Pim) -> None:
    """The API filters by one scope at most: for two, the pull asks for every scope and the
    store keeps both channels' values (the readers pick each channel's own)."""
    pim.pull(pim.settings(scope=("ecommerce", "print")))
    for request in pim.state.api_requests(PRODUCTS):
        assert "scope" not in request.params
        assert request.params["locales"] == "de_DE,en_US"
    products = read_store(pim.store)["products"]
    scopes = {v["scope"] for p in products for v in p["values"]["description"]}
    assert scopes == {"ecommerce", "print"}
    state = json.loads((pim.store / "state.json").read_text())
    assert state["scopes"] == ["ecommerce", "print"]


def test_replays_the_documented_example_products(pim: Pim) -> None:
    example = json.loads((FIXTURES / "GET_products-uuid_200_list_v7.0.json").read_text())
    items = [{k: v for k, v in i.items() if k != "_links"} for i in example["_embedded"]["items"]]
    pim.state.serve_catalog({"products": items})
    pim.pull(pim.settings(locales=("en_US", "fr_FR")))
    stored = read_store(pim.store)["products"]
    assert stored == sorted(
        (visible_values(i, ["en_US", "fr_FR"], "ecommerce") for i in items),
        key=lambda i: i["uuid"],
    )
    scopes = {v["scope"] for p in stored for values in p["values"].values() for v in values}
    assert scopes == {None, "ecommerce"}


def test_server_speaks_the_documented_token_and_error_payloads(pim: Pim) -> None:
    request = json.loads((FIXTURES / "POST_oauth_v1_token_request_body.json").read_text())
    response = json.loads((FIXTURES / "POST_oauth_v1_token_200_response.json").read_text())
    errors = json.loads((FIXTURES / "errors_product_endpoints_by_status.json").read_text())
    pim.pull()
    token_call = pim.state.api_requests("/api/oauth/v1/token")[0]
    assert token_call.body is not None
    assert token_call.body.keys() == request.keys()
    assert pim.state.issue_token().keys() == response.keys()
    secret = f"{pim.state.client_id}:{pim.state.secret}".encode()
    assert token_call.authorization == f"Basic {base64.b64encode(secret).decode()}"
    assert errors["401"][0]["example"] == UNAUTHORIZED
    assert errors["400"][0]["example"] == INVALID_JSON


def test_incremental_pull_merges_changes_and_advances_the_mark(pim: Pim) -> None:
    pim.pull(now=lambda: T0)
    catalog = make_catalog(57)
    changed = product(3, T0 + timedelta(seconds=5))
    changed["values"]["name"][1]["data"] = "Renamed"
    same_second = product(4, T0)  # changed in the mark's own second, after the first pull
    added = product(100, T0 + timedelta(seconds=6))
    deleted = catalog["products"].pop(5)
    catalog["products"][3:5] = [changed, same_second]
    pim.state.serve_catalog({**catalog, "products": [*catalog["products"], added]})
    pim.clock[0] = T0 + timedelta(hours=1)

    result = pim.pull(now=lambda: T0 + timedelta(hours=1))

    assert result.mode == "incremental"
    assert result.pulled["products"] == 3
    assert result.counts["products"] == 58  # the deletion waits for the next full pull
    assert result.high_water_mark == T0 + timedelta(hours=1)
    search = json.loads(pim.state.api_requests(PRODUCTS)[-1].params["search"])
    assert search == {"updated": [{"operator": ">", "value": "2024-06-01 11:59:00"}]}
    stored = {p["uuid"]: p for p in read_store(pim.store)["products"]}
    assert stored[changed["uuid"]]["values"]["name"][1]["data"] == "Renamed"
    assert stored[same_second["uuid"]]["updated"] == same_second["updated"]
    assert added["uuid"] in stored
    assert deleted["uuid"] in stored
    state = json.loads((pim.store / "state.json").read_text())
    assert state["high_water_mark"] == (T0 + timedelta(hours=1)).isoformat()
    assert state["last_full_pull"] == T0.isoformat()


def test_periodic_full_pull_drops_deleted_products(pim: Pim) -> None:
    pim.pull(now=lambda: T0)
    catalog = make_catalog(57)
    gone = catalog["products"].pop(0)
    pim.state.serve_catalog(catalog)
    result = pim.pull(now=lambda: T0 + timedelta(hours=24))
    assert result.mode == "full"
    stored = read_store(pim.store)
    assert gone["uuid"] not in {p["uuid"] for p in stored["products"]}
    assert stored == expected(pim.state, ["de_DE", "en_US"], "ecommerce")


def test_changed_locales_force_a_full_pull(pim: Pim) -> None:
    pim.pull()
    result = pim.pull(pim.settings(locales=("en_US",)))
    assert result.mode == "full"
    assert "search" not in pim.state.api_requests(PRODUCTS)[-1].params


def test_search_dates_are_written_in_the_server_time_zone(pim: Pim) -> None:
    pim.pull()
    pim.pull(pim.settings(server_timezone="Europe/Berlin", overlap_seconds=1))
    search = json.loads(pim.state.api_requests(PRODUCTS)[-1].params["search"])
    assert search["updated"][0]["value"] == "2024-06-01 13:59:59"


def test_token_is_refreshed_shortly_before_it_expires(pim: Pim) -> None:
    now = [0.0]
    with pim.client(clock=lambda: now[0]) as client:
        first = client.access_token()
        now[0] = 3539.0
        assert client.access_token() == first
        now[0] = 3541.0
        assert client.access_token() != first
        pull_catalog(pim.settings(), client=client)
    assert pim.state.grants() == ["password", "refresh_token"]


def test_expired_token_mid_run_is_renewed_once(pim: Pim) -> None:
    pim.state.inject(Fault("expire_token", PRODUCTS, on=3))
    pim.pull(pim.settings(concurrency=1))
    assert pim.state.grants() == ["password", "refresh_token"]
    assert read_store(pim.store) == expected(pim.state, ["de_DE", "en_US"], "ecommerce")


def test_refused_refresh_token_falls_back_to_the_password_grant(pim: Pim) -> None:
    pim.state.inject(Fault("expire_token", PRODUCTS, on=2))
    with pim.client() as client:
        client.access_token()
        pim.state.refresh_tokens.clear()
        pull_catalog(pim.settings(), client=client)
    assert pim.state.grants() == ["password", "refresh_token", "password"]


def test_a_second_401_fails_naming_the_url_and_keeps_the_store(pim: Pim) -> None:
    pim.pull()
    before = read_store(pim.store)
    pim.state.inject(Fault("unauthorized", PRODUCTS, on=2, times=2))
    with pytest.raises(SourceError) as error:
        pim.pull(full=True)
    message = str(error.value)
    assert message.startswith(f"akeneo: GET {pim.url}/api/rest/v1/products-uuid?")
    assert "HTTP 401 (Authentication is required) again with a renewed token" in message
    assert read_store(pim.store) == before


def test_wrong_credentials_fail_without_leaking_secrets(pim: Pim) -> None:
    settings = pim.settings(password="wrong-horse-battery")
    with pytest.raises(SourceError) as error:
        pim.pull(settings)
    message = str(error.value)
    assert message.startswith(f"akeneo: POST {pim.url}/api/oauth/v1/token: password grant")
    assert "No user found for the given username and password" in message
    assert "wrong-horse-battery" not in message
    assert pim.state.secret not in message


def leaked(pim: Pim, texts: list[str]) -> list[str]:
    """The credentials and tokens of ``pim`` (raw or base64) that occur in ``texts``."""
    state = pim.state
    pair = base64.b64encode(f"{state.client_id}:{state.secret}".encode()).decode()
    secrets = [state.secret, state.password, pair, *state.issued]
    return [s for s in secrets if any(s in text for text in texts)]


ECHOED = [
    pytest.param([Fault("echo", PRODUCTS, on=2)], "GET", id="page"),
    pytest.param([Fault("echo", TOKEN_PATH)], "POST", id="password-grant"),
    pytest.param(
        [Fault("unauthorized", PRODUCTS), Fault("echo", TOKEN_PATH, on=2, times=2)],
        "POST",
        id="refresh-then-password-grant",
    ),
]


@pytest.mark.parametrize(("faults", "method"), ECHOED)
def test_credentials_echoed_by_the_server_are_masked_in_errors_and_logs(
    pim: Pim, faults: list[Fault], method: str, caplog: pytest.LogCaptureFixture
) -> None:
    pim.state.inject(*faults)
    with caplog.at_level(logging.DEBUG, logger="sources"), pytest.raises(SourceError) as error:
        pim.pull()
    message = str(error.value)
    assert message.startswith(f"akeneo: {method} {pim.url}/")
    assert "HTTP 400 (Invalid request. Authorization: B" in message
    assert "password: ***; client secret: ***; tokens: " in message
    assert "Authorization: Basic ***" in message or "Authorization: Bearer ***" in message
    texts = [message, caplog.text, *(r.getMessage() for r in caplog.records)]
    assert leaked(pim, texts) == []
    if len(faults) > 1:
        fallback = [r for r in caplog.records if "falling back to the password" in r.getMessage()]
        assert "refresh_token grant refused: HTTP 400" in fallback[0].getMessage()
        assert '"refresh_token": "***"' in fallback[0].getMessage()


RETRIED = [
    pytest.param(Fault("429", PRODUCTS, on=2, seconds=7), [7.0], id="429-retry-after"),
    pytest.param(Fault("500", MODELS, on=1), None, id="500"),
    pytest.param(Fault("503", CATEGORIES, on=2, times=2), None, id="503-twice"),
    pytest.param(Fault("reset", PRODUCTS, on=3), None, id="connection-reset"),
    pytest.param(Fault("slow", PRODUCTS, on=2, seconds=SLOW_SECONDS), None, id="timeout"),
    pytest.param(Fault("503", "/api/oauth/v1/token"), None, id="token-503"),
]


@pytest.mark.parametrize(("fault", "waits"), RETRIED)
def test_transient_faults_are_retried_within_the_bounds(
    pim: Pim, fault: Fault, waits: list[float] | None
) -> None:
    pim.state.inject(fault)
    pim.pull(pim.settings(timeout=timeout_for(fault)))
    assert read_store(pim.store) == expected(pim.state, ["de_DE", "en_US"], "ecommerce")
    assert len(pim.waits) == fault.times
    assert waits is None or pim.waits == waits


def test_persistent_5xx_gives_up_after_the_configured_attempts(pim: Pim) -> None:
    pim.state.inject(Fault("503", PRODUCTS, on=2, times=10))
    with pytest.raises(SourceError, match=r"failed after 3 attempts \(HTTP 503\)"):
        pim.pull()
    assert not pim.store.exists()


FATAL = [
    pytest.param(Fault("malformed", PRODUCTS, on=2), "malformed JSON", id="malformed-json"),
    pytest.param(Fault("no_embedded", MODELS), "not a page of items", id="no-embedded"),
    pytest.param(
        Fault("broken_next", PRODUCTS, on=2),
        "products-uuid-gone?.*pagination chain broken: the next link answered HTTP 404",
        id="broken-next",
    ),
    pytest.param(
        Fault("foreign_next", PRODUCTS), "next link is not a URL on the configured host", id="host"
    ),
    pytest.param(
        Fault("duplicate", PRODUCTS, on=3), "duplicate product uuid '.*' \\(also on an earlier"
    ),
    pytest.param(Fault("duplicate", CATEGORIES, on=2), "duplicate category code 'category_09'"),
    pytest.param(Fault("missing_key", MODELS), "a product model without a 'code'", id="no-code"),
    pytest.param(Fault("missing_key", PRODUCTS, on=4), "a product without a 'uuid'", id="no-uuid"),
]


@pytest.mark.parametrize(("fault", "problem"), FATAL)
def test_fatal_faults_raise_naming_the_problem_and_keep_the_previous_store(
    pim: Pim, fault: Fault, problem: str
) -> None:
    first = pim.pull()
    before = read_store(pim.store)
    listing = sorted(p.name for p in pim.store.parent.iterdir())
    pim.state.inject(fault)
    with pytest.raises(SourceError, match=f"^akeneo: GET http://127.0.0.1:\\d+/.*{problem}"):
        pim.pull(full=True)
    assert pim.store.resolve() == first.generation.resolve()
    assert read_store(pim.store) == before
    assert sorted(p.name for p in pim.store.parent.iterdir()) == listing
    assert pim.waits == []


def test_old_generations_are_pruned_and_the_previous_one_kept(pim: Pim) -> None:
    results = [pim.pull(full=True) for _ in range(3)]
    generations = {p.name for p in pim.store.parent.iterdir() if p.name != pim.store.name}
    assert generations == {r.generation.name for r in results[-2:]}


def test_leftovers_of_a_crashed_pull_are_removed_by_the_next_one(pim: Pim) -> None:
    first = pim.pull()
    partial = pim.store.parent / f"{first.generation.name}.0123456789ab.partial"
    partial.mkdir()
    (partial / "products.jsonl").write_text("half", encoding="utf-8")
    (pim.store.parent / f".{pim.store.name}.0123456789ab.link").symlink_to(partial.name)
    second = pim.pull()
    names = {p.name for p in pim.store.parent.iterdir()}
    assert names == {pim.store.name, first.generation.name, second.generation.name}


def test_a_plain_store_folder_is_replaced_by_the_published_link(pim: Pim) -> None:
    write_catalog(pim.store, {"products": [product(999, T0)]})
    pim.pull()
    assert pim.store.is_symlink()
    assert read_store(pim.store) == expected(pim.state, ["de_DE", "en_US"], "ecommerce")


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_concurrency_is_bounded(pim: Pim, concurrency: int) -> None:
    pim.state.delay = 0.01
    pim.pull(pim.settings(concurrency=concurrency, page_size=20))
    assert pim.state.max_in_flight <= concurrency
    assert pim.state.max_in_flight > 1 or concurrency == 1


def test_settings_are_strict_and_hide_secrets() -> None:
    values = {"kind": "akeneo", "base_url": "https://pim.example.com/", "store": "s"}
    assert AkeneoSource.model_validate(values).base_url == "https://pim.example.com"
    credentials = AkeneoCredentials(
        client_id="id", client_secret="top-secret", username="u", password="hunter2"
    )
    assert "top-secret" not in repr(credentials)
    assert "hunter2" not in repr(credentials)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        AkeneoSource.model_validate(values | {"limit": 5})
    with pytest.raises(ValidationError, match="http"):
        AkeneoSource.model_validate(values | {"base_url": "pim.example.com"})
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        AkeneoSource.model_validate(values | {"page_size": 500})
    with pytest.raises(ValidationError, match="IANA time zone"):
        AkeneoSource.model_validate(values | {"server_timezone": "Mars/Olympus"})


BENCH_PRODUCTS = int(os.environ.get("PRISM_AKENEO_BENCH_PRODUCTS", "5000"))


def test_pull_throughput(
    akeneo_server: tuple[type[AkeneoHandler], str], tmp_path: Path, record_property: Callable
) -> None:
    """Products/second of a default-settings pull (PRISM_AKENEO_BENCH_PRODUCTS=20000 for more).

    Server and client share one process (and its GIL), so a real PIM is not slower for us.
    """
    handler, url = akeneo_server
    handler.state = state = AkeneoState(make_catalog(BENCH_PRODUCTS))
    settings = AkeneoPull(
        AkeneoSource(kind="akeneo", base_url=url, store=tmp_path / "store"),
        AkeneoCredentials(
            client_id=state.client_id,
            client_secret=state.secret,
            username=state.username,
            password=state.password,
        ),
        ("de_DE", "en_US"),
        ("ecommerce",),
    )
    result = pull_catalog(settings)
    assert result.counts["products"] == BENCH_PRODUCTS
    assert len(state.api_requests(PRODUCTS)) == -(-BENCH_PRODUCTS // 100)
    record_property("products_per_second", round(result.products_per_second))
    log.info("akeneo: pulled %d products at %.0f/s", BENCH_PRODUCTS, result.products_per_second)
