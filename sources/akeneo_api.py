"""Pull Akeneo PIM master data over its REST API into a local store in the file-drop format.

The store folder holds products.jsonl, product_models.jsonl, attributes.jsonl, families.jsonl and
categories.jsonl (one API item per line, ``_links`` removed, sorted by uuid/code) plus state.json,
so the pipeline reads a pulled store exactly like a file drop.

Incremental pulls ask only for products and product models ``updated`` after the last high-water
mark (minus ``overlap_seconds``) and merge them by uuid/code; attributes, families and categories
are small and always pulled whole. The REST API does not report deletions, so an incremental pull
cannot drop a deleted product: a full pull runs whenever the last one is older than
``full_pull_every_hours`` (and on ``full=True``, on the first run, or when base_url, locales or
scope change), and a full pull replaces everything. Disabled products are kept (enabled=false); the
pipeline decides what a channel gets.

Publishing is atomic: each pull writes a new hidden generation folder next to the store and then
swaps the ``store`` symlink to it with one rename, so a failed pull leaves the previous store as it
was and readers never see a half-written one. The previous generation is kept until the next pull
for readers that resolved the link before the swap. Run one pull per store at a time.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import random
import shutil
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from contracts.config import AkeneoSource
from sources.http import RetryPolicy, SourceError, safe_url, send

log = logging.getLogger(__name__)

SOURCE = "akeneo"
TOKEN_PATH = "/api/oauth/v1/token"
STATE_FILE = "state.json"
AKENEO_DATE = "%Y-%m-%d %H:%M:%S"
Item = dict[str, Any]


@dataclass(frozen=True)
class Stream:
    """One list endpoint and the file-drop file it fills."""

    name: str
    path: str
    key: str
    entity: str
    search_after: bool  # products and models: search_after, locales/scope, incremental


STREAMS = (
    Stream("products", "/api/rest/v1/products-uuid", "uuid", "product", True),
    Stream("product_models", "/api/rest/v1/product-models", "code", "product model", True),
    Stream("attributes", "/api/rest/v1/attributes", "code", "attribute", False),
    Stream("families", "/api/rest/v1/families", "code", "family", False),
    Stream("categories", "/api/rest/v1/categories", "code", "category", False),
)


class AkeneoCredentials(BaseModel):
    """The API connection's secrets, bound from environment variables by the Dagster resource."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1)
    client_secret: SecretStr = Field(min_length=1)
    username: str = Field(min_length=1)
    password: SecretStr = Field(min_length=1)


@dataclass(frozen=True)
class AkeneoPull:
    """One PIM to pull and what of it: its settings (``pim:`` in prism.yaml), its secrets, and
    the locales and scope the channels need."""

    source: AkeneoSource
    credentials: AkeneoCredentials
    locales: tuple[str, ...]
    scope: str


@dataclass(frozen=True)
class Token:
    access: str
    refresh: str
    renew_at: float  # client clock seconds; a little before expires_in runs out


@dataclass(frozen=True)
class Page:
    url: httpx.URL
    items: list[Item]
    next: httpx.URL | None
    date: datetime | None  # the server's clock when it answered (Date header)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process; building it costs more than a page request."""
    return httpx.create_ssl_context()


def _error(method: str, url: httpx.URL | str, problem: str) -> SourceError:
    return SourceError(f"{SOURCE}: {method} {safe_url(url)}: {problem}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        msg = f"malformed JSON in the HTTP {response.status_code} response ({error})"
        raise _error(response.request.method, response.request.url, msg) from error


def _problem(response: httpx.Response) -> str:
    """``HTTP <status> (<Akeneo's message>)`` for an error response, whatever its body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    return f"HTTP {response.status_code} ({message or response.reason_phrase})"


def _server_date(response: httpx.Response) -> datetime | None:
    value = response.headers.get("Date")
    try:
        return parsedate_to_datetime(value).astimezone(UTC) if value else None
    except (TypeError, ValueError):
        return None


class AkeneoClient:
    """Authenticated GETs against one PIM: OAuth2 password grant, refresh, retries via send().

    Thread-safe: the streams of a pull share one client and one token, renewed under a lock.
    ``clock`` (seconds) decides when the token is due; ``sleep`` waits between retries.
    """

    def __init__(
        self,
        source: AkeneoSource,
        credentials: AkeneoCredentials,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.source, self.credentials = source, credentials
        self._base = httpx.URL(source.base_url)
        limits = httpx.Limits(max_connections=source.concurrency + 1)
        self._http = httpx.Client(
            timeout=source.timeout,
            limits=limits,
            headers={"Accept": "application/json"},
            verify=_tls_context(),
        )
        self._policy = RetryPolicy(attempts=source.retry_attempts)
        self._sleep, self._clock, self._rng = sleep, clock, rng or random.Random()
        self._lock = threading.Lock()
        self._token: Token | None = None

    def __enter__(self) -> AkeneoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def url(self, path: str, params: Mapping[str, str] | None = None) -> httpx.URL:
        url = self._base.copy_with(path=self._base.path.rstrip("/") + path)
        return url.copy_merge_params(dict(params or {}))

    def access_token(self) -> str:
        """A valid access token: obtained on first use, refreshed shortly before it expires."""
        with self._lock:
            if self._token is None:
                self._token = self._grant(self._password_grant())
            elif self._clock() >= self._token.renew_at:
                self._token = self._refreshed()
            return self._token.access

    def _renew(self, stale: str) -> str:
        """Replace a token the server refused, unless another thread already did."""
        with self._lock:
            if self._token is None or self._token.access == stale:
                self._token = self._refreshed()
            return self._token.access

    def _refreshed(self) -> Token:
        if self._token is not None:
            body = {"grant_type": "refresh_token", "refresh_token": self._token.refresh}
            try:
                return self._grant(body)
            except SourceError as error:
                log.warning("%s; falling back to the password grant", error)
        return self._grant(self._password_grant())

    def _password_grant(self) -> dict[str, str]:
        password = self.credentials.password.get_secret_value()
        return {
            "grant_type": "password",
            "username": self.credentials.username,
            "password": password,
        }

    def _grant(self, body: dict[str, str]) -> Token:
        secret = self.credentials.client_secret.get_secret_value()
        pair = f"{self.credentials.client_id}:{secret}"
        basic = base64.b64encode(pair.encode()).decode()
        request = self._http.build_request(
            "POST", self.url(TOKEN_PATH), json=body, headers={"Authorization": f"Basic {basic}"}
        )
        response = send(self._http, request, SOURCE, self._policy, self._sleep, self._rng)
        if response.status_code != 200:
            problem = f"{body['grant_type']} grant refused: {_problem(response)}"
            raise _error("POST", request.url, problem)
        return self._token_from(_json(response), request.url)

    def _token_from(self, payload: Any, url: httpx.URL) -> Token:
        try:
            lifetime = float(payload["expires_in"])
            access, refresh = str(payload["access_token"]), str(payload["refresh_token"])
        except (KeyError, TypeError, ValueError) as error:
            msg = "token response lacks access_token, refresh_token or a numeric expires_in"
            raise _error("POST", url, msg) from error
        return Token(access, refresh, self._clock() + lifetime - min(60.0, lifetime / 10))

    def get(self, url: httpx.URL) -> httpx.Response:
        """GET with the bearer token; on a 401 renew the token once and repeat the request."""
        token = self.access_token()
        response = self._send_get(url, token)
        if response.status_code != 401:
            return response
        log.info("%s: GET %s answered 401; renewing the token once", SOURCE, safe_url(url))
        response = self._send_get(url, self._renew(token))
        if response.status_code == 401:
            problem = f"{_problem(response)} again with a renewed token; check the credentials"
            raise _error("GET", url, problem)
        return response

    def _send_get(self, url: httpx.URL, token: str) -> httpx.Response:
        request = self._http.build_request("GET", url, headers={"Authorization": f"Bearer {token}"})
        return send(self._http, request, SOURCE, self._policy, self._sleep, self._rng)

    def pages(self, path: str, params: Mapping[str, str]) -> Iterator[Page]:
        """Each page of a list endpoint in order, following ``_links.next`` to the end."""
        url: httpx.URL | None = self.url(path, params)
        seen: set[str] = set()
        while url is not None:
            if str(url) in seen:
                raise _error("GET", url, "pagination loops back to a page already read")
            seen.add(str(url))
            page = self._page(url, followed=len(seen) > 1)
            yield page
            url = page.next

    def _page(self, url: httpx.URL, *, followed: bool) -> Page:
        response = self.get(url)
        if response.status_code != 200:
            broken = "pagination chain broken: the next link answered " if followed else ""
            raise _error("GET", url, broken + _problem(response))
        body = _json(response)
        embedded = body.get("_embedded") if isinstance(body, dict) else None
        items = embedded.get("items") if isinstance(embedded, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            problem = "not a page of items ('_embedded.items' missing or not a list of objects)"
            raise _error("GET", url, problem)
        return Page(url, items, self._next(body, url), _server_date(response))

    def _next(self, body: dict[str, Any], url: httpx.URL) -> httpx.URL | None:
        """The next page's URL, kept on the configured host so the token goes nowhere else."""
        link = body.get("_links", {}).get("next") if isinstance(body.get("_links"), dict) else None
        href = link.get("href") if isinstance(link, dict) else None
        if href is None:
            return None
        try:
            target = self._base.join(href) if isinstance(href, str) else None
        except httpx.InvalidURL:
            target = None
        if target is None or target.host != self._base.host:
            raise _error("GET", url, "the next link is not a URL on the configured host")
        return target.copy_with(scheme=self._base.scheme, port=self._base.port)


@dataclass(frozen=True)
class Fetched:
    items: dict[str, Item]
    date: datetime | None  # server clock at the first page


@dataclass(frozen=True)
class PullState:
    """What state.json remembers between pulls."""

    high_water_mark: datetime | None
    last_full_pull: datetime
    base_url: str
    locales: tuple[str, ...]
    scope: str

    def to_json(self) -> str:
        mark = self.high_water_mark.isoformat() if self.high_water_mark else None
        data = {
            "high_water_mark": mark,
            "last_full_pull": self.last_full_pull.isoformat(),
            "base_url": self.base_url,
            "locales": list(self.locales),
            "scope": self.scope,
        }
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> PullState:
        data = json.loads(text)
        mark = data["high_water_mark"]
        return cls(
            high_water_mark=datetime.fromisoformat(mark) if mark else None,
            last_full_pull=datetime.fromisoformat(data["last_full_pull"]),
            base_url=data["base_url"],
            locales=tuple(data["locales"]),
            scope=data["scope"],
        )


@dataclass(frozen=True)
class PullResult:
    """Outcome of one pull; counts are items per published file, pulled those fetched now."""

    mode: Literal["full", "incremental"]
    counts: dict[str, int]
    pulled: dict[str, int]
    high_water_mark: datetime | None
    seconds: float
    products_per_second: float
    generation: Path


def _utcnow() -> datetime:
    return datetime.now(UTC)


def read_state(store: Path) -> PullState | None:
    """The previous pull's state, or None (first run, or unreadable: then a full pull runs)."""
    try:
        return PullState.from_json((store / STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as error:
        log.warning("%s: ignoring unreadable %s (%s)", SOURCE, store / STATE_FILE, error)
        return None


def pull_catalog(
    settings: AkeneoPull,
    full: bool = False,
    client: AkeneoClient | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> PullResult:
    """Pull the PIM into ``settings.source.store`` (full or incremental), published atomically."""
    store = settings.source.store
    started = time.perf_counter()
    state = read_state(store)
    mode = _mode(settings, state, full, now())
    since = state.high_water_mark if mode == "incremental" and state else None
    active = client or AkeneoClient(settings.source, settings.credentials)
    with nullcontext(active) if client else active:
        fetched = _fetch_all(active, settings, since)
    files = {name: f.items for name, f in fetched.items()}
    if mode == "incremental":
        files = _merge(store, files)
    last_full = now() if mode == "full" or state is None else state.last_full_pull
    mark = _high_water_mark(fetched) or (state.high_water_mark if state else None)
    base_url = settings.source.base_url
    new_state = PullState(mark, last_full, base_url, settings.locales, settings.scope)
    generation = _publish(store, files, new_state)
    return _result(mode, files, fetched, mark, time.perf_counter() - started, generation)


def _result(
    mode: Literal["full", "incremental"],
    files: dict[str, dict[str, Item]],
    fetched: dict[str, Fetched],
    mark: datetime | None,
    seconds: float,
    generation: Path,
) -> PullResult:
    pulled = {name: len(f.items) for name, f in fetched.items()}
    rate = pulled["products"] / seconds if seconds > 0 else 0.0
    counts = {name: len(items) for name, items in files.items()}
    log.info("%s: %s pull %s in %.1f s (%.0f products/s)", SOURCE, mode, pulled, seconds, rate)
    return PullResult(mode, counts, pulled, mark, seconds, rate, generation)


def _mode(
    settings: AkeneoPull, state: PullState | None, full: bool, now: datetime
) -> Literal["full", "incremental"]:
    reason = "requested" if full else _full_pull_reason(settings, state, now)
    if reason is None:
        return "incremental"
    log.info("%s: full pull (%s)", SOURCE, reason)
    return "full"


def _full_pull_reason(settings: AkeneoPull, state: PullState | None, now: datetime) -> str | None:
    """Why the stored state cannot be updated incrementally, or None when it can."""
    if state is None or state.high_water_mark is None:
        return "no previous pull"
    pulled = (state.base_url, state.locales, state.scope)
    if pulled != (settings.source.base_url, settings.locales, settings.scope):
        return "base_url, locales or scope changed"
    every = settings.source.full_pull_every_hours
    if every is not None and now - state.last_full_pull >= timedelta(hours=every):
        return f"the last full pull is over {every:g} h old; this drops deleted items"
    return None


def _params(stream: Stream, settings: AkeneoPull, since: datetime | None) -> dict[str, str]:
    params = {"limit": str(settings.source.page_size)}
    if not stream.search_after:
        return params
    params |= {
        "pagination_type": "search_after",
        "locales": ",".join(settings.locales),
        "scope": settings.scope,
    }
    if since is not None:
        params["search"] = _updated_after(since, settings)
    return params


def _updated_after(mark: datetime, settings: AkeneoPull) -> str:
    """The ``search`` filter; Akeneo's dates have whole seconds in the server's time zone."""
    start = (mark - timedelta(seconds=settings.source.overlap_seconds)).astimezone(
        ZoneInfo(settings.source.server_timezone)
    )
    search = {"updated": [{"operator": ">", "value": start.strftime(AKENEO_DATE)}]}
    return json.dumps(search, separators=(",", ":"))


def _fetch_all(
    client: AkeneoClient, settings: AkeneoPull, since: datetime | None
) -> dict[str, Fetched]:
    """All streams, at most ``concurrency`` at once; the first failure stops the others."""
    stop = threading.Event()
    with ThreadPoolExecutor(settings.source.concurrency, thread_name_prefix="akeneo") as pool:
        futures = {
            s.name: pool.submit(_fetch, client, s, _params(s, settings, since), stop)
            for s in STREAMS
        }
        done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
        failed = next((f.exception() for f in done if f.exception()), None)
        if failed is not None:
            stop.set()
            for future in futures.values():
                future.cancel()
            raise failed
    return {name: future.result() for name, future in futures.items()}


def _fetch(
    client: AkeneoClient, stream: Stream, params: dict[str, str], stop: threading.Event
) -> Fetched:
    items: dict[str, Item] = {}
    date: datetime | None = None
    for page in client.pages(stream.path, params):
        date = date or page.date
        for item in page.items:
            _add(items, stream, item, page.url)
        if stop.is_set():
            break
    return Fetched(items, date)


def _add(items: dict[str, Item], stream: Stream, item: Item, url: httpx.URL) -> None:
    key = item.get(stream.key)
    if not isinstance(key, str) or not key:
        raise _error("GET", url, f"a {stream.entity} without a '{stream.key}'")
    if key in items:
        problem = f"duplicate {stream.entity} {stream.key} {key!r} (also on an earlier page)"
        raise _error("GET", url, problem)
    items[key] = {k: v for k, v in item.items() if k != "_links"}


def _high_water_mark(fetched: dict[str, Fetched]) -> datetime | None:
    """The server's clock when products/models were first read; else the newest ``updated``.

    The server clock is the safer mark: an item changed while the pull ran (after its page
    was read) is newer than it, so the next pull gets it; nothing depends on our clock.
    """
    incremental = [s.name for s in STREAMS if s.search_after]
    dates = [d for name in incremental if (d := fetched[name].date) is not None]
    if dates:
        return min(dates)
    items = [i for name in incremental for i in fetched[name].items.values()]
    updated = [u for i in items if (u := _parse_time(i.get("updated"))) is not None]
    return max(updated, default=None)


def _parse_time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _merge(store: Path, files: dict[str, dict[str, Item]]) -> dict[str, dict[str, Item]]:
    """Changed products/models over the stored ones (by uuid/code); other files as pulled."""
    merged = dict(files)
    for stream in STREAMS:
        if stream.search_after:
            stored = _read_jsonl(store / f"{stream.name}.jsonl", stream)
            merged[stream.name] = stored | files[stream.name]
    return merged


def _read_jsonl(path: Path, stream: Stream) -> dict[str, Item]:
    items: dict[str, Item] = {}
    if not path.exists():
        return items
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                item = json.loads(line)
                items[item[stream.key]] = item
            except (ValueError, KeyError, TypeError) as error:
                msg = f"{SOURCE}: store {path} line {number} is unreadable ({error}); pull full"
                raise SourceError(msg) from error
    return items


def _publish(store: Path, files: dict[str, dict[str, Item]], state: PullState) -> Path:
    """Write a new generation aside, then swap the ``store`` symlink to it in one rename."""
    store.parent.mkdir(parents=True, exist_ok=True)
    generation = store.parent / f".{store.name}.{uuid.uuid4().hex[:12]}"
    generation.mkdir()
    try:
        for name, items in files.items():
            _write_jsonl(generation / f"{name}.jsonl", items)
        (generation / STATE_FILE).write_text(state.to_json(), encoding="utf-8")
        previous = _swap(store, generation)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    _prune(store, keep={generation, previous})
    return generation


def _write_jsonl(path: Path, items: dict[str, Item]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for key in sorted(items):
            out.write(json.dumps(items[key], ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())


def _swap(store: Path, generation: Path) -> Path | None:
    """Point ``store`` at ``generation``; return the generation it pointed at before."""
    previous = store.resolve() if store.is_symlink() else None
    if store.exists() and not store.is_symlink():
        previous = store.parent / f".{store.name}.{uuid.uuid4().hex[:12]}"
        store.rename(previous)
        log.warning("%s: moved the plain folder %s aside to %s", SOURCE, store, previous)
    link = store.parent / f".{store.name}.link-{uuid.uuid4().hex[:12]}"
    link.symlink_to(generation.name, target_is_directory=True)
    os.replace(link, store)
    return previous


def _prune(store: Path, keep: set[Path | None]) -> None:
    """Drop older generations and leftovers of crashed pulls; keep current and previous."""
    kept = {p.resolve() for p in keep if p is not None}
    for path in store.parent.iterdir():
        if not path.name.startswith(f".{store.name}."):
            continue
        if path.is_symlink():
            path.unlink()
        elif path.is_dir() and path.resolve() not in kept:
            shutil.rmtree(path, ignore_errors=True)
