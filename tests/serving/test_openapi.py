"""The OpenAPI document against the running service: schemathesis generates requests from it
(paths, parameters, headers, the price API's JSON bodies) and checks every answer's status,
content type, headers and body against what the document says. Deterministic (derandomized,
no example database)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.schemas import BaseSchema
from servers.feed_service import FIRST, SECOND, feed_service, publish, serve_config, sha

from serving.openapi import openapi_document
from sinks.snapshot_store import SnapshotStore

TOKEN = "reads-shop-and-b2b"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseSchema]:
    store = SnapshotStore(Path(tmp_path_factory.mktemp("feeds")))
    publish(store, FIRST, lines=20)
    publish(store, SECOND, lines=20, delta_of=FIRST, prices=Decimal(0))
    hashes = {"token_sha256": [sha(TOKEN)]}
    config = serve_config(channels={"shop": hashes, "b2b": hashes})
    with feed_service(store.root, config) as running:
        yield schemathesis.openapi.from_url(f"{running.url}/openapi.json")


@pytest.mark.parametrize(
    ("path", "method"),
    [(path, method) for path, item in openapi_document()["paths"].items() for method in item],
)
def test_the_service_answers_as_its_openapi_document_says(
    api_schema: BaseSchema, path: str, method: str
) -> None:
    operation = api_schema[path][method.upper()]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})

    answers_as_documented()


@pytest.mark.parametrize(
    "body",
    [
        {"customer": "C1", "skus": ["A1", "B2", "C3", "D4", "NOPE"]},
        {"customer": "C2", "skus": [{"sku": "B2", "quantity": 4}, {"sku": "B2", "quantity": 5}]},
        {"customer": "C3", "skus": ["A1", "D4"], "currency": "USD"},
    ],
)
def test_priced_answers_match_the_document(api_schema: BaseSchema, body: dict[str, object]) -> None:
    """Generated customers are unknown (404): these requests get 200s with every kind of item
    (priced, unpriced, unknown; a price and none for the quantity; dates and nulls)."""
    case = api_schema["/v1/prices"]["POST"].Case(body=body, media_type="application/json")
    response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
