"""Content codings for feed files: which one a request gets (``Accept-Encoding`` with its
q-values, RFC 9110 12.5.3) and the streamed compressors that produce it.

A feed can be a gigabyte, so a coding is applied on the fly in fixed-size chunks: the server
holds one chunk and the compressor's window, whatever the file's size. zstd is preferred to
gzip when a client weighs them equally: it compresses a CSV feed about as well at a fraction of
gzip's CPU cost per byte.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import IO, Literal, Protocol

import zstandard

Encoding = Literal["zstd", "gzip", "identity"]

PREFERENCE: tuple[Encoding, ...] = ("zstd", "gzip", "identity")
"""The server's order when the client's q-values tie."""

IMPLICIT_IDENTITY = 0.001
"""identity's weight when the header does not name it (nor ``*``): acceptable, but below any
coding the client did name (RFC 9110: identity is acceptable unless refused)."""

ALIASES = {"x-gzip": "gzip"}
READ_CHUNK = 256 * 1024
"""bytes read from the file per step; each step is one hop to the thread pool, so larger
chunks cost fewer hops (measured in bench/feed_api.py) at 256 KiB of memory per download."""

GZIP_LEVEL = 6
ZSTD_LEVEL = 3


def weights(accept_encoding: str) -> dict[str, float]:
    """coding -> q from an ``Accept-Encoding`` value; an unreadable q refuses its coding."""
    found: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        coding = coding.lower()
        if not coding:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                quality = _quality(value.strip())
        found[ALIASES.get(coding, coding)] = quality
    return found


def _quality(value: str) -> float:
    try:
        quality = float(value)
    except ValueError:
        return 0.0
    return quality if 0.0 <= quality <= 1.0 else 0.0


def choose_encoding(accept_encoding: str | None) -> Encoding:
    """The coding for a response: the highest q, then zstd > gzip > identity.

    No header (or an empty one) gets identity: clients that decode nothing send none. When the
    client refuses everything we offer, identity is sent all the same (RFC 9110 allows it; a
    406 would leave the feed unreadable rather than merely uncompressed).
    """
    if not accept_encoding or not accept_encoding.strip():
        return "identity"
    asked = weights(accept_encoding)
    anything = asked.get("*")

    def weight(coding: Encoding) -> float:
        if coding in asked:
            return asked[coding]
        if anything is not None:
            return anything
        return IMPLICIT_IDENTITY if coding == "identity" else 0.0

    best = max(PREFERENCE, key=weight)  # the first of equal weights: the server's preference
    return best if weight(best) > 0 else "identity"


class Packer(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...

    def flush(self) -> bytes: ...


def packer(encoding: Encoding) -> Packer:
    """A fresh streaming compressor for ``encoding`` (not identity)."""
    if encoding == "gzip":
        return zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    if encoding == "zstd":
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compressobj()
    msg = f"no compressor for content coding {encoding!r}"
    raise ValueError(msg)


def encoded(handle: IO[bytes], encoding: Encoding) -> Iterator[bytes]:
    """The file's bytes compressed with ``encoding``, chunk by chunk; closes ``handle``."""
    compressor = packer(encoding)
    with handle:
        while chunk := handle.read(READ_CHUNK):
            if packed := compressor.compress(chunk):
                yield packed
    yield compressor.flush()
