"""HTTP answers for feed files and manifests: ETag from the manifest's sha256 (``304`` on a
matching ``If-None-Match``), ``Last-Modified``, ``Range`` (identity encoding only) and gzip
on the fly when the client asks for it (streamed, constant memory; weak ETag, since the bytes
differ from the file the sha256 describes).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import mimetypes
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

SNAPSHOT_HEADER = "X-Prism-Snapshot"
CHUNK = 64 * 1024
COMPRESSED = (".gz", ".zip", ".zst", ".bz2", ".xz", ".parquet", ".png", ".jpg")


def error(status: int, message: str, snapshot_id: str | None = None, **extra: Any) -> Response:
    headers = {SNAPSHOT_HEADER: snapshot_id} if snapshot_id else {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="prism"'
    body = json.dumps({"error": message, **extra})
    return Response(body, status, headers=headers, media_type="application/json")


def etag_matches(if_none_match: str | None, sha256: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2): ``W/"x"`` and ``"x"`` both match ``x``; ``*`` too."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip().removeprefix("W/").strip('"')
        if tag in {"*", sha256}:
            return True
    return False


def accepts_gzip(accept_encoding: str | None) -> bool:
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in {"gzip", "*"}:
            quality = params.strip().removeprefix("q=")
            try:
                return not params or float(quality) > 0
            except ValueError:
                return False
    return False


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
    """One feed file of a snapshot, as the request asks for it (304, range, gzip or whole)."""
    stat = path.stat()
    headers = {
        SNAPSHOT_HEADER: snapshot_id,
        "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
        "Cache-Control": "no-cache",
        "Vary": "Accept-Encoding, Authorization",
    }
    if _not_modified(request, sha256, stat.st_mtime):
        return Response(status_code=304, headers={**headers, "ETag": f'"{sha256}"'})
    gzip_it = accepts_gzip(request.headers.get("accept-encoding"))
    if gzip_it and "range" not in request.headers and path.suffix not in COMPRESSED:
        handle = path.open("rb")  # opened now: a later prune cannot take the file away
        headers |= {"ETag": f'W/"{sha256}"', "Content-Encoding": "gzip"}
        return StreamingResponse(_gzipped(handle), headers=headers, media_type=media_type(path))
    headers["ETag"] = f'"{sha256}"'
    return FileResponse(path, headers=headers, media_type=media_type(path), stat_result=stat)


def _not_modified(request: Request, sha256: str, mtime: float) -> bool:
    """``If-None-Match`` decides when given; else ``If-Modified-Since`` (RFC 9110 13.2.2)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, sha256)
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return int(mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False  # an unparsable date is ignored


def _gzipped(handle: IO[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip container
    with handle:
        while chunk := handle.read(CHUNK):
            if packed := packer.compress(chunk):
                yield packed
    yield packer.flush()


def json_response(request: Request, data: object, snapshot_id: str) -> Response:
    """A JSON document with a strong ETag of its bytes (``304`` when it matches)."""

    body = json.dumps(data, indent=2, sort_keys=True).encode()
    digest = hashlib.sha256(body).hexdigest()
    headers = {SNAPSHOT_HEADER: snapshot_id, "ETag": f'"{digest}"', "Cache-Control": "no-cache"}
    if etag_matches(request.headers.get("if-none-match"), digest):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type="application/json")
