"""The feed service over real HTTP on 127.0.0.1: access per channel, caching headers, Range,
gzip, pinned snapshots, deltas, the switch to a new snapshot, health, metrics."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers.feed_service import (
    B2B_TOKEN,
    FIRST,
    SECOND,
    SHOP_TOKEN,
    Running,
    feed_service,
    feed_text,
    publish,
)

from contracts.snapshots import Manifest
from serving.responses import media_type
from sinks.snapshot_store import SnapshotStore

SHOP = {"Authorization": f"Bearer {SHOP_TOKEN}"}
B2B = {"Authorization": f"Bearer {B2B_TOKEN}"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "feeds")


@pytest.fixture
def first(store: SnapshotStore) -> Manifest:
    return publish(store, FIRST)


@pytest.fixture
def service(store: SnapshotStore, first: Manifest) -> Iterator[Running]:
    with feed_service(store.root) as running:
        yield running


def get(service: Running, path: str, **headers: str) -> httpx.Response:
    return httpx.get(service.url + path, headers=headers, timeout=10)


def shop_sha(manifest: Manifest) -> str:
    return next(f.sha256 for f in manifest.files if f.path == "shop/products.csv")


def test_a_channel_token_reads_its_channel_only(service: Running) -> None:
    assert get(service, "/v1/channels/shop/feed").status_code == 401
    wrong = get(service, "/v1/channels/shop/feed", Authorization="Bearer guessed")
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert get(service, "/v1/channels/shop/feed", **B2B).status_code == 403
    ok = get(service, "/v1/channels/shop/feed", **SHOP, **IDENTITY)
    assert ok.status_code == 200
    assert ok.text == feed_text(FIRST)
    assert ok.headers["x-prism-snapshot"] == FIRST
    assert ok.headers["content-type"].startswith("text/csv")


def test_etag_is_the_manifest_sha256_and_a_match_answers_304(
    service: Running, first: Manifest
) -> None:
    ok = get(service, "/v1/channels/shop/feed", **SHOP, **IDENTITY)
    assert ok.headers["etag"] == f'"{shop_sha(first)}"'
    assert "last-modified" in ok.headers
    revalidate = {"If-None-Match": ok.headers["etag"], **IDENTITY}
    again = get(service, "/v1/channels/shop/feed", **SHOP, **revalidate)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["x-prism-snapshot"] == FIRST
    stale = get(service, "/v1/channels/shop/feed", **SHOP, **{"If-None-Match": '"other"'})
    assert stale.status_code == 200
    modified = ok.headers["last-modified"]
    dated = get(service, "/v1/channels/shop/feed", **SHOP, **{"If-Modified-Since": modified})
    assert dated.status_code == 304
    older = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert get(service, "/v1/channels/shop/feed", **SHOP, **{"If-Modified-Since": older}).is_success


def test_a_range_is_served_from_the_file(service: Running) -> None:
    part = get(service, "/v1/channels/shop/feed", **SHOP, Range="bytes=0-11")
    assert part.status_code == 206
    assert part.content == b"sku,snapshot"
    size = len(feed_text(FIRST))
    assert part.headers["content-range"] == f"bytes 0-11/{size}"
    tail = get(service, "/v1/channels/shop/feed", **SHOP, Range="bytes=-9")
    assert tail.content == f"{FIRST[-8:]}\n".encode()
    beyond = get(service, "/v1/channels/shop/feed", **SHOP, Range=f"bytes={size + 5}-")
    assert beyond.status_code == 416


def test_gzip_when_asked_with_a_weak_etag(service: Running, first: Manifest) -> None:
    with httpx.stream(
        "GET", service.url + "/v1/channels/shop/feed", headers={**SHOP, "Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["etag"] == f'W/"{shop_sha(first)}-gzip"'
    assert gzip.decompress(raw).decode() == feed_text(FIRST)
    weak = get(
        service,
        "/v1/channels/shop/feed",
        **SHOP,
        **{"If-None-Match": response.headers["etag"], "Accept-Encoding": "gzip"},
    )
    assert weak.status_code == 304


def test_a_channel_with_several_files_names_them(service: Running) -> None:
    several = get(service, "/v1/channels/b2b/feed", **B2B)
    assert several.status_code == 300
    assert several.json()["files"] == ["products.csv", "prices.csv"]
    prices = get(service, "/v1/channels/b2b/feed/prices.csv", **B2B)
    assert prices.text == "sku,price\n"
    assert get(service, "/v1/channels/b2b/feed/nope.csv", **B2B).status_code == 404
    assert get(service, "/v1/channels/b2b/feed/..%2Fshop%2Fproducts.csv", **B2B).status_code == 404


def test_pinned_snapshots_and_manifests(store: SnapshotStore, service: Running) -> None:
    publish(store, SECOND)
    service.service.snapshots.refresh()
    live = get(service, "/v1/channels/shop/feed", **SHOP, **IDENTITY)
    assert live.headers["x-prism-snapshot"] == SECOND
    pinned = get(service, f"/v1/snapshots/{FIRST}/channels/shop/feed", **SHOP, **IDENTITY)
    assert pinned.text == feed_text(FIRST)
    assert pinned.headers["x-prism-snapshot"] == FIRST
    assert get(service, f"/v1/snapshots/{FIRST}/channels/shop/feed", **B2B).status_code == 403
    unknown = "20200101T000000Z-0000000f"
    assert get(service, f"/v1/snapshots/{unknown}/channels/shop/feed", **SHOP).status_code == 404
    assert get(service, "/v1/snapshots/%2E%2E/channels/shop/feed", **SHOP).status_code == 404

    manifest = get(service, f"/v1/snapshots/{FIRST}/manifest", **SHOP)
    assert manifest.json()["snapshot_id"] == FIRST
    assert {f["channel"] for f in manifest.json()["files"]} == {"shop"}
    assert set(manifest.json()["channels"]) == {"shop"}
    assert get(service, "/v1/snapshots/current/manifest", **B2B).json()["snapshot_id"] == SECOND
    etag = manifest.headers["etag"]
    cached = get(service, f"/v1/snapshots/{FIRST}/manifest", **SHOP, **{"If-None-Match": etag})
    assert cached.status_code == 304
    assert get(service, f"/v1/snapshots/{FIRST}/manifest").status_code == 401
    shutil.rmtree(store.snapshot_dir(FIRST))  # pruned: gone, though it was loaded before
    assert get(service, f"/v1/snapshots/{FIRST}/channels/shop/feed", **SHOP).status_code == 404
    assert get(service, f"/v1/snapshots/{FIRST}/manifest", **SHOP).status_code == 404


def test_deltas_are_served_when_they_apply_to_since(store: SnapshotStore, service: Running) -> None:
    publish(store, SECOND, delta_of=FIRST)
    service.service.snapshots.refresh()
    delta = get(service, f"/v1/channels/shop/feed?since={FIRST}", **SHOP)
    assert delta.status_code == 200
    assert delta.text == f"sku,change\nSKU-000001,changed since {FIRST}\n"
    assert delta.headers["x-prism-snapshot"] == SECOND
    unchanged = get(service, f"/v1/channels/shop/feed?since={SECOND}", **SHOP)
    assert unchanged.status_code == 204
    older = get(service, "/v1/channels/shop/feed?since=20200101T000000Z-0000000f", **SHOP)
    assert older.status_code == 409
    assert "fetch the full feed at /v1/channels/shop/feed" in older.json()["error"]
    assert older.json()["live_snapshot"] == SECOND
    no_delta = get(service, f"/v1/channels/b2b/feed/products.csv?since={FIRST}", **B2B)
    assert no_delta.status_code == 404
    assert get(service, f"/v1/channels/shop/feed?since={FIRST}", **B2B).status_code == 403


def test_a_request_running_while_a_publish_switches_sees_one_snapshot(
    store: SnapshotStore, service: Running
) -> None:
    big = 200_000  # ~5 MB: the response is still streaming when the switch happens
    publish(store, SECOND, lines=big)
    service.service.snapshots.refresh()
    url = service.url + "/v1/channels/shop/feed"
    with httpx.stream("GET", url, headers={**SHOP, **IDENTITY}, timeout=10) as response:
        chunks = response.iter_bytes(chunk_size=4096)
        body = [next(chunks)]
        third = "20261124T195600Z-00000003"
        publish(store, third, lines=10)
        service.service.snapshots.refresh()
        shutil.rmtree(store.snapshot_dir(SECOND))  # even pruned, the open file is read whole
        switched = get(service, "/v1/channels/shop/feed", **SHOP, **IDENTITY)
        body.extend(chunks)
    assert response.headers["x-prism-snapshot"] == SECOND
    assert b"".join(body).decode() == feed_text(SECOND, big)
    assert switched.headers["x-prism-snapshot"] == third
    assert switched.text == feed_text(third, 10)


def test_a_snapshot_that_does_not_load_leaves_the_previous_one_live(
    store: SnapshotStore, service: Running
) -> None:
    publish(store, SECOND)
    (store.snapshot_dir(SECOND) / "shop" / "products.csv").write_text("damaged", "utf-8")
    kept = service.service.snapshots.refresh()
    assert kept is not None
    assert kept.snapshot_id == FIRST
    answer = get(service, "/v1/channels/shop/feed", **SHOP, **IDENTITY)
    assert answer.headers["x-prism-snapshot"] == FIRST
    assert answer.text == feed_text(FIRST)
    metrics = get(service, "/metrics").text
    assert "prism_serve_snapshot_load_failures_total 1" in metrics
    assert f'prism_serve_live_snapshot_info{{snapshot="{FIRST}"}} 1' in metrics


def test_health_metrics_and_openapi(service: Running) -> None:
    assert get(service, "/healthz").json() == {"status": "ok", "snapshot": FIRST}
    get(service, "/v1/channels/shop/feed", **SHOP)
    get(service, "/v1/channels/shop/feed", **B2B)
    get(service, "/v1/channels/made_up/feed", **B2B)
    metrics = get(service, "/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'prism_serve_requests_total{channel="shop",status="200"} 1' in metrics.text
    assert 'prism_serve_requests_total{channel="shop",status="403"} 1' in metrics.text
    assert 'prism_serve_requests_total{channel="-",status="403"} 1' in metrics.text
    document = get(service, "/openapi.json").json()
    assert "/v1/channels/{channel}/feed/{file}" in document["paths"]


def test_nothing_live_yet_is_unhealthy(store: SnapshotStore) -> None:
    with feed_service(store.root) as running:
        assert get(running, "/healthz").status_code == 503
        assert get(running, "/v1/channels/shop/feed", **SHOP).status_code == 503
        publish(store, FIRST)
        running.service.snapshots.refresh()
        assert get(running, "/healthz").status_code == 200


def test_a_token_variable_that_is_not_set_fails_naming_it(store: SnapshotStore) -> None:
    from servers.feed_service import serve_config

    from serving.access import AccessConfigError
    from serving.app import create_app

    with pytest.raises(AccessConfigError, match="PRISM_B2B_TOKEN is not set"):
        create_app(store.root, serve_config(), ["shop", "b2b"], {})


def test_a_file_removed_under_a_resolved_snapshot_answers_410(
    store: SnapshotStore, service: Running
) -> None:
    shutil.rmtree(store.snapshot_dir(FIRST))  # by hand: the service still holds FIRST
    gone = get(service, "/v1/channels/shop/feed", **SHOP)
    assert gone.status_code == 410
    assert "no longer kept" in gone.json()["error"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("C1000.xml.gz", "application/gzip"),
        ("C1000.xml", "application/xml"),
        ("feed.jsonl", "application/jsonl"),
    ],
)
def test_a_gzipped_catalog_is_served_as_gzip_not_as_xml(name: str, expected: str) -> None:
    assert media_type(Path(name)) == expected
