"""The price API over real HTTP on 127.0.0.1: a customer's effective tiers per sku, the tier for
a quantity, availability; who may ask for which customer; bad requests named by field; one
snapshot per request while a publish switches; a snapshot whose price data does not load."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jwt
import polars as pl
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from servers.feed_service import (
    B2B_TOKEN,
    FIRST,
    SECOND,
    SHOP_TOKEN,
    Running,
    feed_service,
    publish,
    serve_config,
    sha,
)

from contracts.snapshots import MANIFEST
from serving import price_api
from sinks.price_data import PRODUCTS
from sinks.snapshot_store import SnapshotStore, sha256_of

C1_TOKEN = "c1-secret-token"
ISSUER, AUDIENCE = "https://sso.example.com/realms/prism", "prism-feeds"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "feeds")


@pytest.fixture
def service(store: SnapshotStore, tmp_path: Path) -> Iterator[Running]:
    publish(store, FIRST, prices=Decimal(0))
    jwks = tmp_path / "jwks.json"
    public = RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
    jwks.write_text(json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256"}]}), "utf-8")
    oidc = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "jwks_file": str(jwks),
        "customer_claim": "customer_id",
    }
    prices = {"customers": {"C1": {"token_sha256": [sha(C1_TOKEN)]}}}
    with feed_service(store.root, serve_config(oidc=oidc, prices=prices)) as running:
        yield running


def oidc_token(**claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "someone", "exp": now + 300, **claims}
    return jwt.encode(payload, KEY, algorithm="RS256", headers={"kid": "k1"})


def ask(service: Running, token: str | None = B2B_TOKEN, **body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(service.url + "/v1/prices", json=body, headers=headers, timeout=10)


def items(answer: httpx.Response) -> dict[str, dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    return {item["sku"]: item for item in answer.json()["items"]}


def tiers(item: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(t["min_quantity"], t["unit_price"], t["price_type"]) for t in item["tiers"]]


def test_each_sku_gets_the_customers_effective_tiers_and_availability(service: Running) -> None:
    answer = ask(service, customer="C1", skus=["A1", "B2", "C3", "D4", "NOPE"])
    assert answer.headers["x-prism-snapshot"] == FIRST
    document = answer.json()
    assert {k: document[k] for k in ("snapshot", "channel", "customer", "currency")} == {
        "snapshot": FIRST,
        "channel": "b2b",
        "customer": "C1",
        "currency": "EUR",
    }
    assert [item["sku"] for item in document["items"]] == ["A1", "B2", "C3", "D4", "NOPE"]
    found = items(answer)
    assert tiers(found["A1"]) == [(1, "9.100000", "customer")]  # not the group's or the list's
    assert (found["A1"]["tiers"][0]["valid_from"], found["A1"]["tiers"][0]["valid_to"]) == (
        "2026-01-01",
        "2026-12-31",
    )
    assert found["A1"]["price"] == {
        "min_quantity": 1,
        "unit_price": "9.100000",
        "price_type": "customer",
    }
    assert tiers(found["B2"]) == [(1, "5.123456", "list")]
    assert found["B2"]["availability"] == "backorder"
    assert found["B2"]["availability_date"] == "2026-12-24"
    assert found["B2"]["availability_estimated"] is True
    assert {s: found[s]["status"] for s in found} == {
        "A1": "priced",
        "B2": "priced",
        "C3": "unpriced",  # published, no tier
        "D4": "unpriced",  # only a USD price
        "NOPE": "unknown",
    }
    assert found["C3"]["availability"] == "out_of_stock"
    assert found["NOPE"] == {
        "sku": "NOPE",
        "status": "unknown",
        "quantity": 1,
        "price": None,
        "tiers": [],
        "availability": None,
        "availability_date": None,
        "availability_estimated": None,
    }


def test_a_quantity_picks_the_largest_tier_not_above_it(service: Running) -> None:
    asked = [{"sku": "A1", "quantity": q} for q in (1, 9, 10, 99, 100, 10**9)]
    answer = ask(service, customer="C3", skus=asked).json()["items"]
    assert tiers(answer[0]) == [
        (1, "10.000000", "list"),
        (10, "9.500000", "list"),
        (100, "9.000000", "list"),
    ]
    assert [(a["quantity"], a["price"]["min_quantity"]) for a in answer] == [
        (1, 1), (9, 1), (10, 10), (99, 10), (100, 100), (10**9, 100),
    ]  # fmt: skip
    own = items(ask(service, customer="C2", skus=[{"sku": "B2", "quantity": 5}, "A1"]))
    assert tiers(own["B2"]) == [(5, "4.000000", "customer")]  # never mixed with the list's 1
    assert own["B2"]["price"]["unit_price"] == "4.000000"
    assert own["A1"]["price"]["unit_price"] == "10.000000"  # wholesale has no group price
    below = items(ask(service, customer="C2", skus=[{"sku": "B2", "quantity": 4}]))["B2"]
    assert (below["status"], below["price"]) == ("priced", None)


def test_another_currency_of_the_channel_can_be_asked_for(service: Running) -> None:
    found = items(ask(service, customer="C1", skus=["A1", "D4"], currency="USD"))
    assert tiers(found["A1"]) == [(1, "11.000000", "list")]
    assert tiers(found["D4"]) == [(1, "3.000000", "list")]
    wrong = ask(service, customer="C1", skus=["A1"], currency="CHF")
    assert (wrong.status_code, wrong.json()["field"]) == (422, "currency")


def test_who_may_ask_for_which_customer(service: Running) -> None:
    assert ask(service, None, customer="C1", skus=["A1"]).status_code == 401
    assert ask(service, "guessed", customer="C1", skus=["A1"]).status_code == 401
    assert ask(service, SHOP_TOKEN, customer="C1", skus=["A1"]).status_code == 403
    assert ask(service, C1_TOKEN, customer="C1", skus=["A1"]).status_code == 200
    refused = ask(service, C1_TOKEN, customer="C2", skus=["A1"])
    assert refused.status_code == 403
    assert "customer 'C2'" in refused.json()["error"]
    assert ask(service, B2B_TOKEN, customer="C2", skus=["A1"]).status_code == 200
    unknown = ask(service, B2B_TOKEN, customer="C9", skus=["A1"])
    assert unknown.status_code == 404
    assert ask(service, C1_TOKEN, customer="C9", skus=["A1"]).status_code == 403


def test_an_oidc_token_is_scoped_to_the_customer_of_its_claim(service: Running) -> None:
    customer = oidc_token(customer_id="C2")
    assert ask(service, customer, customer="C2", skus=["B2"]).status_code == 200
    assert ask(service, customer, customer="C1", skus=["B2"]).status_code == 403
    # reading the price channel's feeds does not lift the customer scope
    both = oidc_token(customer_id="C2", prism_channels=["b2b"])
    assert ask(service, both, customer="C1", skus=["B2"]).status_code == 403
    operator = oidc_token(roles=["prism-operator"])
    assert ask(service, operator, customer="C1", skus=["B2"]).status_code == 200
    nobody = oidc_token(prism_channels=["shop"])
    assert ask(service, nobody, customer="C1", skus=["B2"]).status_code == 403


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"skus": ["A1"]}, "customer", "Field required"),
        ({"customer": "C1", "skus": "A1"}, "skus", "valid array"),
        ({"customer": "C1", "skus": []}, "skus", "at least 1 item"),
        ({"customer": "C1", "skus": ["A1", 7]}, "skus.1", "a sku, or {sku, quantity}"),
        ({"customer": "C1", "skus": ["A1", ""]}, "skus.1", "at least 1 character"),
        (
            {"customer": "C1", "skus": [{"sku": "A1", "quantity": 0}]},
            "skus.0.quantity",
            "greater than or equal to 1",
        ),
        ({"customer": "C1", "skus": [{"quantity": 2}]}, "skus.0.sku", "Field required"),
        ({"customer": "C1", "skus": [{"sku": "A1", "qty": 2}]}, "skus.0.qty", "Extra inputs"),
        ({"customer": "C1", "skus": ["A1"], "limit": 3}, "limit", "Extra inputs"),
        (
            {"customer": "C1", "skus": [f"S{i}" for i in range(10_001)]},
            "skus",
            "at most 10,000 skus per request, 10,001 given",
        ),
    ],
)
def test_a_bad_request_is_refused_naming_its_field(
    service: Running, body: dict[str, Any], field: str, message: str
) -> None:
    answer = ask(service, **body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert message in answer.json()["error"]


def test_malformed_json_and_a_huge_body_are_refused(service: Running) -> None:
    headers = {"Authorization": f"Bearer {B2B_TOKEN}", "Content-Type": "application/json"}
    url = service.url + "/v1/prices"
    broken = httpx.post(url, content=b'{"customer": "C1", "skus": [', headers=headers)
    assert (broken.status_code, broken.json()["field"]) == (422, "body")
    huge = b'{"customer": "C1", "skus": ["' + b"x" * price_api.MAX_BODY + b'"]}'
    assert httpx.post(url, content=huge, headers=headers).status_code == 413
    assert httpx.get(url, headers=headers).status_code == 405


def test_a_request_sees_one_snapshot_while_a_publish_switches(
    store: SnapshotStore, service: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The switch happens after the request took the live snapshot, before it is answered:
    the whole answer (header, body, prices) is still the old snapshot's; the next is new."""
    answering = price_api.quote

    def switch_then_answer(*args: Any) -> bytes:
        publish(store, SECOND, prices=Decimal(1))
        service.service.snapshots.refresh()
        return answering(*args)

    monkeypatch.setattr(price_api, "quote", switch_then_answer)
    during = ask(service, customer="C3", skus=["A1"])
    monkeypatch.setattr(price_api, "quote", answering)
    after = ask(service, customer="C3", skus=["A1"])
    assert service.service.snapshots.live.snapshot_id == SECOND  # type: ignore[union-attr]
    assert (during.headers["x-prism-snapshot"], during.json()["snapshot"]) == (FIRST, FIRST)
    assert tiers(items(during)["A1"])[0] == (1, "10.000000", "list")
    assert (after.headers["x-prism-snapshot"], after.json()["snapshot"]) == (SECOND, SECOND)
    assert tiers(items(after)["A1"])[0] == (1, "11.000000", "list")


def test_a_snapshot_whose_price_data_does_not_load_leaves_the_previous_one_live(
    store: SnapshotStore, service: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """Sealed with matching hashes, but its products are not sorted: no index can be built."""
    publish(store, SECOND, prices=Decimal(1), activate=False)
    products = store.snapshot_dir(SECOND) / PRODUCTS
    pl.read_parquet(products).reverse().write_parquet(products)
    manifest = store.manifest(SECOND)
    files = [
        replace(f, sha256=sha256_of(products), bytes=products.stat().st_size)
        if f.path == PRODUCTS
        else f
        for f in manifest.files
    ]
    resealed = replace(manifest, files=files).to_json()
    (store.snapshot_dir(SECOND) / MANIFEST).write_text(resealed, encoding="utf-8")
    store.activate(SECOND)
    kept = service.service.snapshots.refresh()
    assert kept is not None
    assert kept.snapshot_id == FIRST
    assert service.service.snapshots.load_failures == 1
    assert "skus not sorted and unique" in caplog.text
    answer = ask(service, customer="C3", skus=["A1"])
    assert answer.headers["x-prism-snapshot"] == FIRST
    assert tiers(items(answer)["A1"])[0] == (1, "10.000000", "list")


def test_no_price_data_is_unavailable(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "feeds")
    with feed_service(store.root) as running:
        assert ask(running, customer="C1", skus=["A1"]).status_code == 503
        publish(store, FIRST)
        running.service.snapshots.refresh()
        answer = ask(running, customer="C1", skus=["A1"])
        assert answer.status_code == 503
        assert "no price data" in answer.json()["error"]


def test_one_token_for_two_customers_is_refused_at_start(store: SnapshotStore) -> None:
    from serving.access import AccessConfigError
    from serving.app import create_app

    shared = {"token_sha256": [sha(C1_TOKEN)]}
    config = serve_config(prices={"customers": {"C1": shared, "C2": shared}})
    with pytest.raises(AccessConfigError, match="'C1' and 'C2' share a token"):
        create_app(store.root, config, ["shop", "b2b"], {"PRISM_B2B_TOKEN": B2B_TOKEN})
