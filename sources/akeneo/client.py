"""Authenticated, paged reads of one Akeneo PIM: the OAuth2 password grant and refresh, the
bearer token on every GET, ``_links.next`` pagination kept on the configured host."""

from __future__ import annotations

import base64
import functools
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from contracts.config import AkeneoSource
from sources.akeneo.streams import SOURCE, Item
from sources.http import RetryPolicy, SourceError, safe_url, send
from sources.secrets import Secrets, logger

log = logger(__name__)

TOKEN_PATH = "/api/oauth/v1/token"


class AkeneoCredentials(BaseModel):
    """The API connection's secrets, bound from environment variables by the Dagster resource."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1)
    client_secret: SecretStr = Field(min_length=1)
    username: str = Field(min_length=1)
    password: SecretStr = Field(min_length=1)


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


def source_error(method: str, url: httpx.URL | str, problem: str) -> SourceError:
    return SourceError(f"{SOURCE}: {method} {safe_url(url)}: {problem}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as error:
        msg = f"malformed JSON in the HTTP {response.status_code} response ({error})"
        raise source_error(response.request.method, response.request.url, msg) from error


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
    ``clock`` (seconds) decides when the token is due; ``sleep`` waits between retries. Until
    it is closed, the client secret, the password, the Basic pair and every token it obtains
    are masked in SourceErrors and ``sources`` log records (``sources.secrets``).
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
        secret = credentials.client_secret.get_secret_value()
        self._secrets = Secrets(
            secret,
            credentials.password.get_secret_value(),
            f"{credentials.client_id}:{secret}",
        )
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
        self._secrets.close()

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
            raise source_error("POST", request.url, problem)
        return self._token_from(_json(response), request.url)

    def _token_from(self, payload: Any, url: httpx.URL) -> Token:
        try:
            lifetime = float(payload["expires_in"])
            access, refresh = str(payload["access_token"]), str(payload["refresh_token"])
        except (KeyError, TypeError, ValueError) as error:
            msg = "token response lacks access_token, refresh_token or a numeric expires_in"
            raise source_error("POST", url, msg) from error
        self._secrets.add(access, refresh)
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
            raise source_error("GET", url, problem)
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
                raise source_error("GET", url, "pagination loops back to a page already read")
            seen.add(str(url))
            page = self._page(url, followed=len(seen) > 1)
            yield page
            url = page.next

    def _page(self, url: httpx.URL, *, followed: bool) -> Page:
        response = self.get(url)
        if response.status_code != 200:
            broken = "pagination chain broken: the next link answered " if followed else ""
            raise source_error("GET", url, broken + _problem(response))
        body = _json(response)
        embedded = body.get("_embedded") if isinstance(body, dict) else None
        items = embedded.get("items") if isinstance(embedded, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            problem = "not a page of items ('_embedded.items' missing or not a list of objects)"
            raise source_error("GET", url, problem)
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
            raise source_error("GET", url, "the next link is not a URL on the configured host")
        return target.copy_with(scheme=self._base.scheme, port=self._base.port)
