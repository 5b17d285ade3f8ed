"""Push files over HTTP PUT or POST (a channel's import endpoint or webhook), over httpx.

One request per file, the body streamed from the snapshot (never read into memory whole), with
``Content-Type`` by the file's extension, ``Content-Length``, ``X-Prism-Snapshot`` (the snapshot
id), ``Digest: sha-256=<base64>`` (RFC 3230) and ``X-Prism-Sha256`` (hex). Any 2xx is success.
Timeouts, connection errors, 429 (Retry-After honoured) and 5xx are retried with the target's
backoff (``contracts.retry``, as the live sources do); other 4xx fail at once. After every file
arrived, ``ready_url`` (if set) is POSTed the snapshot id and the files as JSON.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import random
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path

import httpx

from contracts.delivery_config import FILE_PLACEHOLDER, HttpTarget
from contracts.retry import RETRY_STATUS, safe_url
from contracts.secrets import logger, quoted
from sinks.delivery.errors import DeliveryError, PermanentError
from sinks.delivery.receipts import DeliveredFile

log = logger(__name__)
CHUNK = 1 << 16
CONTENT_TYPES = {
    ".xml": "application/xml",
    ".csv": "text/csv; charset=utf-8",
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    guessed = mimetypes.guess_type(name)[0]
    return CONTENT_TYPES.get(suffix) or guessed or "application/octet-stream"


def push_http(
    target: HttpTarget,
    files: list[tuple[Path, DeliveredFile]],
    snapshot_id: str,
    credentials: Mapping[str, str],
    sleep: Callable[[float], None],
    rng: random.Random,
) -> int:
    """Send every file, then the ready call; the number of requests made. Raises
    ``DeliveryError`` (``PermanentError`` for what retrying cannot fix)."""
    headers = _auth_headers(credentials)
    sent = [0]
    with httpx.Client(timeout=target.retry.timeout_seconds, headers=headers) as client:
        for path, file in files:
            url = target.url.replace(FILE_PLACEHOLDER, file.name)
            build = partial(_file_request, client, target, url, path, file, snapshot_id)
            _send(client, target, build, sent, sleep, rng)
        if target.ready_url is not None:
            body = {"snapshot_id": snapshot_id, "files": [vars(f) for _, f in files]}
            ready = target.ready_url.replace(FILE_PLACEHOLDER, "")
            build = partial(
                client.build_request, "POST", ready, json=body, headers=_snapshot(snapshot_id)
            )
            _send(client, target, build, sent, sleep, rng)
    return sent[0]


def _auth_headers(credentials: Mapping[str, str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    if "headers" in credentials:
        try:
            extra = json.loads(credentials["headers"])
        except ValueError:
            extra = None
        if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
            msg = "the headers variable must hold a JSON object of strings"
            raise PermanentError(msg)
        headers.update(extra)
    if "token" in credentials:
        headers["Authorization"] = f"Bearer {credentials['token']}"
    return headers


def _snapshot(snapshot_id: str) -> dict[str, str]:
    return {"X-Prism-Snapshot": snapshot_id}


def _file_request(
    client: httpx.Client,
    target: HttpTarget,
    url: str,
    path: Path,
    file: DeliveredFile,
    snapshot_id: str,
) -> httpx.Request:
    digest = base64.b64encode(bytes.fromhex(file.sha256)).decode()
    headers = {
        **_snapshot(snapshot_id),
        "Content-Type": content_type(file.name),
        "Content-Length": str(file.bytes),
        "Digest": f"sha-256={digest}",
        "X-Prism-Sha256": file.sha256,
    }
    return client.build_request(target.method, url, content=_chunks(path), headers=headers)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def _send(
    client: httpx.Client,
    target: HttpTarget,
    build: Callable[[], httpx.Request],
    sent: list[int],
    sleep: Callable[[float], None],
    rng: random.Random,
) -> None:
    """Send a fresh request from ``build`` (a streamed body is read once) until it succeeds,
    counting each in ``sent[0]``."""
    policy = target.retry.policy()
    problem = ""
    for attempt in range(1, policy.attempts + 1):
        request = build()
        sent[0] += 1
        where = f"{request.method} {safe_url(request.url)}"
        response: httpx.Response | None = None
        try:
            response = client.send(request)
        except (httpx.TimeoutException, httpx.TransportError) as error:
            problem = f"{type(error).__name__}: {error}"
        else:
            if response.is_success:
                return
            problem = f"HTTP {response.status_code}: {quoted(response.text, 200)}"
            if response.status_code not in RETRY_STATUS:
                msg = f"{where}: {problem} (not retried)"
                raise PermanentError(msg, sent[0])
        if attempt == policy.attempts:
            break
        wait = policy.delay(attempt, response, rng)
        log.warning("%s: %s; retry %d in %.1f s", where, problem, attempt, wait)
        sleep(wait)
    msg = f"{where}: failed after {policy.attempts} attempts ({problem})"
    raise DeliveryError(msg, sent[0])
