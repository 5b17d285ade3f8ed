"""HTTP answers for feed files and manifests: ETag from the manifest's sha256 (``304`` on a
matching ``If-None-Match``), ``Last-Modified``, ``Range`` (identity encoding only) and zstd or
gzip on the fly when the client asks for it (streamed, constant memory).

Each representation has its own ETag: the file's sha256 for the file's bytes, and a weak
``W/"<sha256>-zstd"`` / ``W/"<sha256>-gzip"`` for a compressed one (its bytes are not the ones
the sha256 describes, and may differ between compressor versions). ``If-None-Match`` is
compared with the tag of the representation this request would get, so a client revalidating
a zstd copy gets 304 only while it still asks for zstd.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import mimetypes
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from serving.encodings import Encoding, choose_encoding, encoded

SNAPSHOT_HEADER = "X-Prism-Snapshot"
COMPRESSED = (".gz", ".zip", ".zst", ".bz2", ".xz", ".parquet", ".png", ".jpg")


class FeedFileResponse(FileResponse):
    """A file sent as it is, read in 1 MiB steps instead of Starlette's 64 KiB: each step is a
    hop to the thread pool and one write, and the larger step halves the server's CPU per
    gigabyte (bench/feed_api.py: ~1.0 -> ~0.45 CPU s/GB) for 1 MiB of memory per download."""

    chunk_size = 1024 * 1024


def error(status: int, message: str, snapshot_id: str | None = None, **extra: Any) -> Response:
    headers = {SNAPSHOT_HEADER: snapshot_id} if snapshot_id else {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="prism"'
    body = json.dumps({"error": message, **extra})
    return Response(body, status, headers=headers, media_type="application/json")


def etag_matches(if_none_match: str | None, opaque: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): ``W/"x"`` and ``"x"`` both match ``x``; ``*`` too."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip().removeprefix("W/").strip('"')
        if tag in {"*", opaque}:
            return True
    return False


def opaque_tag(sha256: str, encoding: Encoding) -> str:
    """The ETag's value for the file in ``encoding``: its sha256, suffixed when compressed."""
    return sha256 if encoding == "identity" else f"{sha256}-{encoding}"


def entity_tag(sha256: str, encoding: Encoding) -> str:
    """The ETag header for the file in ``encoding`` (quoted; weak when compressed)."""
    quoted = f'"{opaque_tag(sha256, encoding)}"'
    return quoted if encoding == "identity" else f"W/{quoted}"


def media_type(path: Path) -> str:
    """The file's media type; a compressed file (``catalog.xml.gz``) is served as the
    compressed file it is (``application/gzip``), never as the XML inside it, which a client
    would take for uncompressed text."""
    if path.suffix == ".jsonl":
        return "application/jsonl"
    kind, encoding = mimetypes.guess_type(path.name)
    if encoding == "gzip":
        return "application/gzip"
    return kind or "application/octet-stream"


def file_response(request: Request, path: Path, sha256: str, snapshot_id: str) -> Response:
    """One feed file of a snapshot, as the request asks for it (304, range, zstd, gzip or
    whole)."""
    stat = path.stat()
    encoding = _encoding(request, path)
    headers = {
        SNAPSHOT_HEADER: snapshot_id,
        "ETag": entity_tag(sha256, encoding),
        "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
        "Cache-Control": "no-cache",
        "Vary": "Accept-Encoding, Authorization",
    }
    if _not_modified(request, opaque_tag(sha256, encoding), stat.st_mtime):
        return Response(status_code=304, headers=headers)
    if encoding == "identity":
        return FeedFileResponse(
            path, headers=headers, media_type=media_type(path), stat_result=stat
        )
    headers["Content-Encoding"] = encoding
    if request.method == "HEAD":  # the headers a GET would get, without compressing the file
        return StreamingResponse(iter(()), headers=headers, media_type=media_type(path))
    handle = path.open("rb")  # opened now: a later prune cannot take the file away
    body = encoded(handle, encoding)
    return StreamingResponse(body, headers=headers, media_type=media_type(path))


def _encoding(request: Request, path: Path) -> Encoding:
    """identity for a range (ranges address the file's bytes) and for files that are
    compressed already; otherwise what ``Accept-Encoding`` prefers."""
    if "range" in request.headers or path.suffix in COMPRESSED:
        return "identity"
    return choose_encoding(request.headers.get("accept-encoding"))


def _not_modified(request: Request, opaque: str, mtime: float) -> bool:
    """``If-None-Match`` decides when given; else ``If-Modified-Since`` (RFC 9110 13.2.2)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, opaque)
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return int(mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False  # an unparsable date is ignored


def json_response(request: Request, data: object, snapshot_id: str) -> Response:
    """A JSON document with a strong ETag of its bytes (``304`` when it matches)."""

    body = json.dumps(data, indent=2, sort_keys=True).encode()
    digest = hashlib.sha256(body).hexdigest()
    headers = {SNAPSHOT_HEADER: snapshot_id, "ETag": f'"{digest}"', "Cache-Control": "no-cache"}
    if etag_matches(request.headers.get("if-none-match"), digest):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type="application/json")
