"""OData V2 JSON reads against SAP Gateway: auth header, paging, bounded concurrency, page checks.

A page is accepted only when it is a ``d.results`` list of records that all carry their key;
``__next`` links are followed only on the configured host, and the records of all pages must be
unique and as many as ``__count`` announced, so a pull never silently misses or doubles rows.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from contracts.config import SapSource
from sources.http import RetryPolicy, SourceError, safe_url, send
from sources.sap.edm import SOURCE, Record
from sources.secrets import Secrets, quoted


class BasicAuth(BaseModel):
    """HTTP basic authentication (communication user)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["basic"] = "basic"
    user: str = Field(min_length=1)
    password: SecretStr

    def secret_values(self) -> tuple[str, ...]:
        """What must never be shown: the password and the pair the Basic header encodes."""
        password = self.password.get_secret_value()
        return password, f"{self.user}:{password}"


class BearerAuth(BaseModel):
    """OAuth bearer token obtained by the caller (e.g. from the BTP destination service)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["bearer"] = "bearer"
    token: SecretStr

    def secret_values(self) -> tuple[str, ...]:
        return (self.token.get_secret_value(),)


@dataclass(frozen=True)
class Query:
    """One entity set read: its service, key properties and the system query options."""

    service: str
    entity_set: str
    key: tuple[str, ...]
    select: tuple[str, ...]
    expand: tuple[str, ...] = ()
    filter: str | None = None


@dataclass
class Page:
    records: list[Record]
    count: int | None = None


class ODataClient:
    """OData V2 JSON reads with paging, bounded concurrency and strict page checks.

    While it is open, its credentials are masked in every SourceError and ``sources`` log record
    (``sources.secrets``); close it (or use it as a context manager) when the reads are done.
    """

    def __init__(
        self,
        settings: SapSource,
        auth: BasicAuth | BearerAuth,
        client: httpx.Client,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.client = client
        self.sleep = sleep
        self.policy = RetryPolicy(attempts=settings.retry_attempts)
        self.slots = threading.BoundedSemaphore(settings.concurrency)
        self.origin = httpx.URL(settings.base_url)
        self.secrets = Secrets(*auth.secret_values())
        self.headers = {"Accept": "application/json", "Authorization": _authorization(auth)}

    def __enter__(self) -> ODataClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Forget the credentials' masks; the HTTP client belongs to the caller."""
        self.secrets.close()

    def url(self, query: Query, skip: int, count: bool) -> httpx.URL:
        """The collection URL; ``$`` and quotes stay literal, spaces are %20 as SAP expects."""
        params: list[tuple[str, str]] = [("$format", "json"), ("$select", ",".join(query.select))]
        if query.expand:
            params.append(("$expand", ",".join(query.expand)))
        if query.filter:
            params.append(("$filter", query.filter))
        params += [("$top", str(self.settings.page_size)), ("$skip", str(skip))]
        if count:
            params.append(("$inlinecount", "allpages"))
        text = urlencode(params, quote_via=quote, safe="$,/:'()*")
        path = f"/sap/opu/odata/sap/{query.service}/{query.entity_set}"
        return httpx.URL(f"{self.settings.base_url}{path}?{text}")

    def get_json(self, url: httpx.URL) -> dict[str, Any]:
        """GET one page; transient faults are retried by ``send``; the rest raise SourceError."""
        request = self.client.build_request("GET", url, headers=self.headers)
        with self.slots:
            response = send(self.client, request, SOURCE, self.policy, sleep=self.sleep)
        where = f"{SOURCE}: GET {safe_url(url)}"
        if response.status_code == 401:
            msg = f"{where}: HTTP 401 Unauthorized (credentials rejected or token expired)"
            raise SourceError(msg)
        if response.status_code != 200:
            msg = f"{where}: HTTP {response.status_code}{_sap_message(response)}"
            raise SourceError(msg)
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as error:
            msg = f"{where}: malformed JSON ({error})"
            raise SourceError(msg) from None
        if not isinstance(body, dict) or not isinstance(body.get("d"), dict):
            msg = f"{where}: page has no 'd' object"
            raise SourceError(msg)
        return body["d"]

    def page(self, query: Query, skip: int, count: bool = False) -> Page:
        """One client page ($top/$skip), following server-driven ``__next`` links inside it."""
        url = self.url(query, skip, count)
        body = self.get_json(url)
        first = Page(self._results(body, query, url), _count(body, url))
        hops = 0
        while (link := body.get("__next")) is not None:
            url = self._next_url(link, url)
            hops += 1
            if hops > self.settings.page_size:
                msg = f"{SOURCE}: GET {safe_url(url)}: paging chain does not end"
                raise SourceError(msg)
            try:
                body = self.get_json(url)
            except SourceError as error:
                msg = f"{error} (paging chain broken at __next)"
                raise SourceError(msg) from None
            first.records += self._results(body, query, url)
        return first

    def fetch_all(self, query: Query) -> list[Record]:
        """All records; pages after the first run concurrently; duplicates and gaps are errors."""
        first = self.page(query, 0, count=True)
        if first.count is None:
            pages = [first, *self._sequential(query, first)]
        else:
            skips = range(self.settings.page_size, first.count, self.settings.page_size)
            with ThreadPoolExecutor(self.settings.concurrency) as pool:
                pages = [first, *pool.map(lambda skip: self.page(query, skip), skips)]
        records = [record for page in pages for record in page.records]
        _check_unique(records, query, self.settings.base_url)
        if first.count is not None and len(records) != first.count:
            where = f"{self.settings.base_url}/.../{query.service}/{query.entity_set}"
            msg = (
                f"{SOURCE}: {where}: paging truncated, got {len(records)} records "
                f"but __count announced {first.count}"
            )
            raise SourceError(msg)
        return records

    def _sequential(self, query: Query, first: Page) -> Iterator[Page]:
        """Without ``__count``: read on until a page comes back short."""
        page, skip = first, 0
        while len(page.records) >= self.settings.page_size:
            skip += self.settings.page_size
            page = self.page(query, skip)
            yield page

    def _results(self, body: dict[str, Any], query: Query, url: httpx.URL) -> list[Record]:
        results = body.get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            msg = f"{SOURCE}: GET {safe_url(url)}: page has no 'd.results' list of records"
            raise SourceError(msg)
        for record in results:
            missing = [name for name in query.key if record.get(name) is None]
            if missing:
                msg = f"{SOURCE}: GET {safe_url(url)}: record without its key {missing}: {record!r}"
                raise SourceError(quoted(msg, 500))
        return results

    def _next_url(self, link: object, current: httpx.URL) -> httpx.URL:
        """Resolve ``__next``; refuse other origins so credentials never leave the ERP host."""
        if not isinstance(link, str) or not link:
            msg = f"{SOURCE}: GET {safe_url(current)}: __next is not a URL: {link!r}"
            raise SourceError(msg)
        url = current.join(link)
        if (url.scheme, url.host, url.port) != (
            self.origin.scheme,
            self.origin.host,
            self.origin.port,
        ):
            msg = f"{SOURCE}: GET {safe_url(current)}: __next leaves the SAP host: {safe_url(url)}"
            raise SourceError(msg)
        return url


def _authorization(auth: BasicAuth | BearerAuth) -> str:
    if isinstance(auth, BearerAuth):
        return f"Bearer {auth.token.get_secret_value()}"
    pair = f"{auth.user}:{auth.password.get_secret_value()}".encode()
    return f"Basic {base64.b64encode(pair).decode()}"


def _sap_message(response: httpx.Response) -> str:
    """The SAP Gateway error text (``error.message.value``), if the body has one."""
    try:
        value = response.json()["error"]["message"]["value"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f" ({quoted(value, 200)})"


def _count(body: dict[str, Any], url: httpx.URL) -> int | None:
    raw = body.get("__count")
    if raw is None:
        return None
    if isinstance(raw, str | int) and str(raw).isdigit():
        return int(raw)
    msg = f"{SOURCE}: GET {safe_url(url)}: __count is not a number: {raw!r}"
    raise SourceError(msg)


def _check_unique(records: Iterable[Record], query: Query, base_url: str) -> None:
    seen: set[tuple[Any, ...]] = set()
    for record in records:
        key = tuple(record[name] for name in query.key)
        if key in seen:
            where = f"{base_url}/.../{query.service}/{query.entity_set}"
            shown = dict(zip(query.key, key, strict=True))
            msg = f"{SOURCE}: {where}: duplicate record across pages: {shown}"
            raise SourceError(msg)
        seen.add(key)
