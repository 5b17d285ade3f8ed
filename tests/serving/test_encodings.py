"""Content codings of feed files: the choice from ``Accept-Encoding`` (q-values, ties to
zstd), and over real HTTP on 127.0.0.1 the zstd and gzip bodies (decoded by independent
decoders to the file's exact bytes), their ETags and 304s, and ranges on the file itself."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import zstandard
from servers.feed_service import FIRST, SHOP_TOKEN, Running, feed_service, feed_text, publish

from contracts.snapshots import Manifest
from serving.encodings import Encoding, choose_encoding, encoded
from sinks.snapshot_store import SnapshotStore

FEED = "/v1/channels/shop/feed"
SHOP = {"Authorization": f"Bearer {SHOP_TOKEN}"}
LINES = 20_000  # ~0.7 MB: many read chunks, many compressed blocks


@pytest.mark.parametrize(
    ("accept_encoding", "chosen"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip", "gzip"),
        ("zstd", "zstd"),
        ("gzip, zstd", "zstd"),  # equal weights: the server's preference
        ("gzip, deflate, br, zstd", "zstd"),
        ("zstd;q=0.5, gzip", "gzip"),  # the client's weights come first
        ("zstd;q=0, gzip;q=0.1", "gzip"),
        ("zstd;q=0", "identity"),
        ("ZSTD;Q=1.0", "zstd"),
        ("x-gzip", "gzip"),
        ("*", "zstd"),
        ("*;q=0.5, zstd;q=0", "gzip"),
        ("*;q=0", "identity"),  # everything refused: the file as it is, not a 406
        ("identity;q=0, gzip;q=0.2", "gzip"),
        ("identity, gzip;q=0.5", "identity"),
        ("gzip;q=0.001", "gzip"),  # named, however low, beats identity left unnamed
        ("deflate, br", "identity"),
        ("zstd;q=2, gzip;q=0.3", "gzip"),  # an out-of-range q refuses its coding
        ("zstd;q=high", "identity"),
        ("zstd ; level=19 ; q=0.7, gzip;q=0.6", "zstd"),
    ],
)
def test_choose_encoding(accept_encoding: str | None, chosen: Encoding) -> None:
    assert choose_encoding(accept_encoding) == chosen


@pytest.mark.parametrize("encoding", ["zstd", "gzip"])
def test_a_streamed_encoding_decodes_to_the_file(tmp_path: Path, encoding: Encoding) -> None:
    data = feed_text(FIRST, LINES).encode()
    path = tmp_path / "feed.csv"
    path.write_bytes(data)
    chunks = list(encoded(path.open("rb"), encoding))
    assert len(chunks) > 1  # streamed, not one buffer
    assert decode(b"".join(chunks), encoding) == data


def decode(body: bytes, encoding: str) -> bytes:
    if encoding == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    assert encoding == "gzip"
    return gzip.decompress(body)


@pytest.fixture
def first(tmp_path: Path) -> Manifest:
    return publish(SnapshotStore(tmp_path / "feeds"), FIRST, lines=LINES)


@pytest.fixture
def service(tmp_path: Path, first: Manifest) -> Iterator[Running]:
    with feed_service(tmp_path / "feeds") as running:
        yield running


@pytest.fixture
def sha(first: Manifest) -> str:
    return next(f.sha256 for f in first.files if f.path == "shop/products.csv")


def fetch(service: Running, method: str = "GET", **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (no client-side decoding)."""
    with httpx.stream(
        method, service.url + FEED, headers={**SHOP, **headers}, timeout=10
    ) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize("encoding", ["zstd", "gzip"])
def test_a_compressed_feed_is_the_files_bytes(service: Running, sha: str, encoding: str) -> None:
    response, raw = fetch(service, **{"Accept-Encoding": encoding})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == encoding
    assert response.headers["etag"] == f'W/"{sha}-{encoding}"'
    assert "accept-encoding" in response.headers["vary"].lower()
    assert "content-length" not in response.headers  # streamed (chunked), not buffered first
    body = decode(raw, encoding)
    assert body == feed_text(FIRST, LINES).encode()
    assert len(raw) < len(body) / 3


def test_zstd_is_preferred_and_a_refusal_is_honoured(service: Running, sha: str) -> None:
    both, _ = fetch(service, **{"Accept-Encoding": "gzip, zstd"})
    assert both.headers["content-encoding"] == "zstd"
    refused, raw = fetch(service, **{"Accept-Encoding": "zstd;q=0, gzip;q=0.5"})
    assert refused.headers["content-encoding"] == "gzip"
    nothing, raw = fetch(service, **{"Accept-Encoding": "zstd;q=0"})
    assert "content-encoding" not in nothing.headers
    assert nothing.headers["etag"] == f'"{sha}"'
    assert raw == feed_text(FIRST, LINES).encode()


def test_if_none_match_is_compared_with_the_representation_asked_for(
    service: Running, sha: str
) -> None:
    zstd = {"Accept-Encoding": "zstd"}
    first, _ = fetch(service, **zstd)
    tag = first.headers["etag"]
    again, body = fetch(service, **zstd, **{"If-None-Match": tag})
    assert again.status_code == 304
    assert body == b""
    assert again.headers["etag"] == tag
    assert again.headers["x-prism-snapshot"] == FIRST
    # the same tag does not stand for the gzip or the identity representation
    as_gzip, raw = fetch(service, **{"Accept-Encoding": "gzip", "If-None-Match": tag})
    assert as_gzip.status_code == 200
    assert gzip.decompress(raw) == feed_text(FIRST, LINES).encode()
    plain, _ = fetch(service, **{"Accept-Encoding": "identity", "If-None-Match": tag})
    assert plain.status_code == 200
    # and the file's own tag does not stand for the zstd one
    stale, _ = fetch(service, **zstd, **{"If-None-Match": f'"{sha}"'})
    assert stale.status_code == 200
    either, _ = fetch(service, **zstd, **{"If-None-Match": f'"{sha}", {tag}'})
    assert either.status_code == 304


def test_a_range_is_of_the_file_whatever_the_encoding_asked(service: Running, sha: str) -> None:
    data = feed_text(FIRST, LINES).encode()
    part, raw = fetch(service, **{"Accept-Encoding": "zstd, gzip", "Range": "bytes=100-299"})
    assert part.status_code == 206
    assert "content-encoding" not in part.headers
    assert raw == data[100:300]
    assert part.headers["content-range"] == f"bytes 100-299/{len(data)}"
    assert part.headers["etag"] == f'"{sha}"'
    revalidated, _ = fetch(
        service, **{"Accept-Encoding": "zstd", "Range": "bytes=0-9", "If-None-Match": f'"{sha}"'}
    )
    assert revalidated.status_code == 304


def test_head_names_the_encoding_a_get_would_send(service: Running, sha: str) -> None:
    head, body = fetch(service, "HEAD", **{"Accept-Encoding": "zstd"})
    assert head.status_code == 200
    assert body == b""
    assert head.headers["content-encoding"] == "zstd"
    assert head.headers["etag"] == f'W/"{sha}-zstd"'


def test_httpx_decodes_what_it_asks_for_by_default(service: Running) -> None:
    """A stock client (httpx sends ``gzip, deflate, zstd`` once zstandard is installed) gets
    zstd and reads the feed without doing anything."""
    response = httpx.get(service.url + FEED, headers=SHOP, timeout=10)
    assert response.headers["content-encoding"] == "zstd"
    assert response.text == feed_text(FIRST, LINES)


def test_gzip_stream_is_one_member(tmp_path: Path) -> None:
    """The gzip body is one gzip member (some decoders read only the first)."""
    path = tmp_path / "feed.csv"
    path.write_bytes(feed_text(FIRST, LINES).encode())
    body = b"".join(encoded(path.open("rb"), "gzip"))
    unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert unpacker.decompress(body) == path.read_bytes()
    assert unpacker.eof
    assert unpacker.unused_data == b""
