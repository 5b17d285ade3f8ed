"""A local Akeneo PIM REST API for tests, serving a catalog read from a file-drop folder.

Speaks the documented protocol: the OAuth2 token endpoint (Basic client auth, password and
refresh_token grants, tokens with expires_in), a Bearer check on every API call, search_after
pagination for products/product models and page pagination for the rest (``_links.next``), the
``search`` filter on ``updated`` (``>``/``<``, dates ``YYYY-MM-DD HH:MM:SS`` in UTC), the
``locales``/``scope`` value filters and the documented error bodies. Attribute options and family
variants are listed per attribute / family (``/attributes/{code}/options``, percent-decoded
codes, 404 for an unknown parent or an attribute without options); the catalog keeps each
variant's ``family``, which the API leaves out of its items. ``Fault``s switch on misbehaviour
for the Nth request to a path (as requested, i.e. percent-encoded). Use with
``servers.running.serve``::

    state = AkeneoState(load_catalog(folder))
    with serve(akeneo_handler(state)) as base_url: ...
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

Item = dict[str, Any]
FILES = (
    "products",
    "product_models",
    "attributes",
    "attribute_options",
    "families",
    "family_variants",
    "categories",
    "channels",
)
TOKEN_PATH = "/api/oauth/v1/token"
# path -> (catalog file, key, supports search_after / search / locales / scope)
ENDPOINTS = {
    "/api/rest/v1/products-uuid": ("products", "uuid", True),
    "/api/rest/v1/product-models": ("product_models", "code", True),
    "/api/rest/v1/attributes": ("attributes", "code", False),
    "/api/rest/v1/families": ("families", "code", False),
    "/api/rest/v1/categories": ("categories", "code", False),
    "/api/rest/v1/channels": ("channels", "code", False),
}
SELECT_TYPES = frozenset({"pim_catalog_simpleselect", "pim_catalog_multiselect"})


@dataclass(frozen=True)
class Nested:
    """A list per parent: the ``name`` items whose ``field`` is the parent's code."""

    name: str
    parents: str  # the catalog file the parent is looked up in
    field: str
    returned: bool  # whether the API returns ``field`` in its items
    missing: str  # the 404 message for an unknown parent
    types: frozenset[str] | None = None  # parent types that have such a list


NESTED = {
    re.compile(r"^/api/rest/v1/attributes/([^/]+)/options$"): Nested(
        "attribute_options",
        "attributes",
        "attribute",
        returned=True,
        missing='Attribute "{}" does not exist.',
        types=SELECT_TYPES,
    ),
    re.compile(r"^/api/rest/v1/families/([^/]+)/variants$"): Nested(
        "family_variants",
        "families",
        "family",
        returned=False,
        missing='Family "{}" does not exist.',
    ),
}
NO_OPTIONS = (
    'Attribute "{}" does not support options. Only attributes of type '
    '"pim_catalog_simpleselect", "pim_catalog_multiselect" support options.'
)


@dataclass(frozen=True)
class Listing:
    """What one list URL serves: its items in key order and how the API shows each."""

    items: list[Item]
    key: str
    rich: bool  # search_after, locales and scope apply
    hidden: str | None = None  # a field the catalog holds but the API leaves out
    keys: list[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", [item[self.key] for item in self.items])

    def shown(self, item: Item, locales: list[str] | None, scope: str | None) -> Item:
        item = visible_values(item, locales, scope) if self.rich else item
        return {k: v for k, v in item.items() if k != self.hidden}


def listing(items: list[Item], key: str, rich: bool, hidden: str | None = None) -> Listing:
    return Listing(sorted(items, key=lambda i: i[key]), key, rich, hidden)


# Bodies as documented (tests/fixtures/akeneo/errors_product_endpoints_by_status.json).
UNAUTHORIZED = {"code": 401, "message": "Authentication is required"}
EXPIRED = {"code": 401, "message": "The access token provided has expired."}
INVALID_JSON = {"code": 400, "message": "Invalid JSON message received"}
TOO_MANY = {"code": 422, "message": "You cannot request more than 100 items."}
BAD_CLIENT = {
    "code": 422,
    "message": 'Parameter "client_id" is missing or does not match any client, '
    "or secret is invalid",
}
JSON_ONLY = "Only \u2018application/json\u2019 is allowed."
BAD_USER = {"code": 422, "message": "No user found for the given username and password"}
BAD_REFRESH = {"code": 422, "message": "Refresh token is invalid or has expired"}

FaultKind = Literal[
    "429",  # Too Many Requests with Retry-After: seconds
    "500",
    "503",
    "slow",  # sleep `seconds` before answering normally
    "reset",  # close the connection with a TCP RST, no response
    "malformed",  # a 200 with a truncated JSON body
    "no_embedded",  # a 200 page without `_embedded`
    "broken_next",  # the page's next link points at a path that 404s
    "duplicate",  # the page repeats the previous page's last item
    "missing_key",  # the page's first item lacks its uuid/code
    "foreign_next",  # the page's next link points at another host
    "expire_token",  # every access token expires just before this request
    "unauthorized",  # 401 whatever the token
    "echo",  # a 400 whose message repeats the credentials received and the last tokens issued
]


@dataclass
class Fault:
    """Misbehave on requests number ``on`` .. ``on + times - 1`` to ``path`` (1-based)."""

    kind: FaultKind
    path: str = "/api/rest/v1/products-uuid"
    on: int = 1
    times: int = 1
    seconds: float = 1.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict[str, str]
    authorization: str
    body: dict[str, Any] | None = None
    alongside: tuple[str, ...] = ()  # paths of the GETs being answered when this one arrived


@dataclass
class AkeneoState:
    """Catalog, credentials, clock and fault switches of one server; inspect ``requests``."""

    catalog: dict[str, list[Item]]
    client_id: str = "prism-client"
    secret: str = "s3cret-client"
    username: str = "prism"
    password: str = "pa55word"
    token_ttl: int = 3600
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    delay: float = 0.0  # seconds each API answer takes, to make concurrency observable
    faults: list[Fault] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    tokens: dict[str, datetime] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # every access and refresh token, in order
    refresh_tokens: set[str] = field(default_factory=set)
    in_flight: int = 0
    max_in_flight: int = 0
    serving: list[str] = field(default_factory=list)  # paths of the GETs being answered
    lock: threading.Lock = field(default_factory=threading.Lock)
    _counts: dict[str, int] = field(default_factory=dict)
    _issued: int = 0
    _listings: dict[tuple[str, str | None], Listing] = field(default_factory=dict)
    _parents: dict[str, dict[str, Item]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.serve_catalog(self.catalog)

    def serve_catalog(self, catalog: dict[str, list[Item]]) -> None:
        """Serve ``catalog`` from now on (tests change the PIM between pulls)."""
        self.catalog = catalog
        listings: dict[tuple[str, str | None], Listing] = {}
        for name, key, rich in ENDPOINTS.values():
            listings[name, None] = listing(catalog.get(name, []), key, rich)
            self._parents[name] = {item[key]: item for item in catalog.get(name, [])}
        for nested in NESTED.values():
            groups: dict[str, list[Item]] = {}
            for item in catalog.get(nested.name, []):
                groups.setdefault(item[nested.field], []).append(item)
            hidden = None if nested.returned else nested.field
            for parent, items in groups.items():
                listings[nested.name, parent] = listing(items, "code", False, hidden)
        self._listings = listings

    def grants(self) -> list[str]:
        return [str((r.body or {}).get("grant_type")) for r in self.api_requests(TOKEN_PATH)]

    def inject(self, *faults: Fault) -> None:
        """Switch on ``faults``; their ``on`` counts requests from now."""
        with self.lock:
            self.faults = list(faults)
            self._counts.clear()

    def fault_for(self, path: str) -> Fault | None:
        with self.lock:
            number = self._counts[path] = self._counts.get(path, 0) + 1
        hits = (f for f in self.faults if f.path == path and f.on <= number < f.on + f.times)
        return next(hits, None)

    def issue_token(self) -> dict[str, Any]:
        with self.lock:
            self._issued += 1
            access, refresh = f"access-{self._issued}", f"refresh-{self._issued}"
            self.tokens[access] = self.now() + timedelta(seconds=self.token_ttl)
            self.refresh_tokens.add(refresh)
            self.issued += [access, refresh]
        return {
            "access_token": access,
            "expires_in": self.token_ttl,
            "token_type": "bearer",
            "scope": None,
            "refresh_token": refresh,
        }

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, self.now() - timedelta(seconds=1))

    def listing(self, name: str, parent: str | None = None) -> Listing:
        """The items of a list endpoint (of ``parent``'s list for a per-parent endpoint)."""
        return self._listings.get((name, parent)) or listing([], "code", False)

    def parent(self, name: str, code: str) -> Item | None:
        return self._parents[name].get(code)

    def api_requests(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


def load_catalog(folder: Path) -> dict[str, list[Item]]:
    """A file-drop folder (one API item per line) as the server's catalog."""
    catalog: dict[str, list[Item]] = {}
    for name in FILES:
        path = folder / f"{name}.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        catalog[name] = [json.loads(line) for line in lines if line.strip()]
    return catalog


def write_catalog(folder: Path, catalog: dict[str, list[Item]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        lines = [json.dumps(item, ensure_ascii=False) + "\n" for item in catalog.get(name, [])]
        (folder / f"{name}.jsonl").write_text("".join(lines), encoding="utf-8")
    return folder


def visible_values(item: Item, locales: list[str] | None, scope: str | None) -> Item:
    """``item`` as the API returns it for ``locales``/``scope`` (other values left out; an
    attribute without values, null in a file drop, is absent as in Akeneo's answers)."""
    if "values" not in item:
        return item
    values = {
        attribute: kept
        for attribute, entries in item["values"].items()
        if (kept := [v for v in entries or () if _shown(v, locales, scope)])
    }
    return {**item, "values": values}


def _shown(value: Item, locales: list[str] | None, scope: str | None) -> bool:
    locale_ok = locales is None or value.get("locale") is None or value["locale"] in locales
    return locale_ok and (scope is None or value.get("scope") in (None, scope))


def _akeneo_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def _matches(item: Item, search: dict[str, Any]) -> bool:
    """The ``updated`` filter with ``>`` or ``<`` (the only ones this server knows)."""
    for condition in search.get("updated", []):
        updated = datetime.fromisoformat(item["updated"])
        limit = _akeneo_time(condition["value"])
        if not (updated > limit if condition["operator"] == ">" else updated < limit):
            return False
    return True


def akeneo_handler(state: AkeneoState) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to ``state`` for ``serve``."""
    return type("AkeneoHandler", (AkeneoHandler,), {"state": state})


class AkeneoHandler(BaseHTTPRequestHandler):
    """Serves the class's ``state``; a connection keeps the state it started with, so a
    server can be reused across tests by assigning ``handler.state`` between them."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    state: AkeneoState
    _received: dict[str, Any] | None = None  # the JSON body of the POST being answered

    def setup(self) -> None:
        super().setup()
        self.state = type(self).state

    def log_message(self, *args: object) -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        return format_datetime(self.state.now().astimezone(UTC), usegmt=True)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        self._received = self._parsed(body)
        self._record(path, {}, self._received)
        if self._answered(self.state.fault_for(path)):
            return
        if path != TOKEN_PATH:
            self._json(404, {"code": 404, "message": f"Resource `{path}` does not exist."})
            return
        self._token(body)

    def do_GET(self) -> None:
        self._received = None
        split = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(split.query).items()}
        with self.state.lock:
            alongside = tuple(self.state.serving)
            self.state.serving.append(split.path)
            self.state.in_flight = len(self.state.serving)
            self.state.max_in_flight = max(self.state.max_in_flight, self.state.in_flight)
        self._record(split.path, params, None, alongside)
        try:
            time.sleep(self.state.delay)
            fault = self.state.fault_for(split.path)
            if not self._answered(fault):
                self._api(split.path, params, fault)
        finally:
            with self.state.lock:
                self.state.serving.remove(split.path)
                self.state.in_flight = len(self.state.serving)

    def _record(
        self,
        path: str,
        params: dict[str, str],
        body: dict[str, Any] | None,
        alongside: tuple[str, ...] = (),
    ) -> None:
        authorization = self.headers.get("Authorization", "")
        request = Request(self.command, path, params, authorization, body, alongside)
        with self.state.lock:
            self.state.requests.append(request)

    @staticmethod
    def _parsed(body: bytes) -> dict[str, Any] | None:
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def _answered(self, fault: Fault | None) -> bool:
        """Apply a transport-level fault; True when it answered (or dropped) the request."""
        if fault is None:
            return False
        if fault.kind == "slow":
            time.sleep(fault.seconds)
        elif fault.kind == "reset":
            self._reset()
            return True
        elif fault.kind == "429":
            body = {"code": 429, "message": "Too many requests"}
            self._json(429, body, {"Retry-After": str(int(fault.seconds))})
            return True
        elif fault.kind in {"500", "503"}:
            self._json(int(fault.kind), {"code": int(fault.kind), "message": "Server error"})
            return True
        elif fault.kind == "echo":
            self._json(400, {"code": 400, "message": self._echo()})
            return True
        return False

    def _echo(self) -> str:
        """What a careless server writes into an error: what it received and the access and
        refresh token it issued last."""
        with self.state.lock:
            tokens = ", ".join(self.state.issued[-2:])
        return (
            f"Invalid request. Authorization: {self.headers.get('Authorization', '')}; "
            f"body: {json.dumps(self._received)}; password: {self.state.password}; "
            f"client secret: {self.state.secret}; tokens: {tokens}"
        )

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _token(self, raw: bytes) -> None:
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("application/json"):
            quoted = f"\u2018{content_type}\u2019 in \u2018Content-type\u2019"
            message = f"{quoted} header is not valid.  {JSON_ONLY}"
            return self._json(415, {"code": 415, "message": message})
        expected = base64.b64encode(f"{self.state.client_id}:{self.state.secret}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            return self._json(422, BAD_CLIENT)
        body = self._parsed(raw)
        if body is None:
            return self._json(400, INVALID_JSON)
        return self._json(*self._grant(body))

    def _grant(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("grant_type") == "password":
            user = (body.get("username"), body.get("password"))
            if user != (self.state.username, self.state.password):
                return 422, BAD_USER
            return 200, self.state.issue_token()
        if body.get("grant_type") == "refresh_token":
            with self.state.lock:
                known = body.get("refresh_token") in self.state.refresh_tokens
                self.state.refresh_tokens.discard(body.get("refresh_token"))
            return (200, self.state.issue_token()) if known else (422, BAD_REFRESH)
        return 422, {"code": 422, "message": "Invalid grant_type parameter or parameter missing"}

    def _authorized(self, fault: Fault | None) -> bool:
        if fault is not None and fault.kind == "expire_token":
            self.state.expire_tokens()
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        expires = self.state.tokens.get(token) if token else None
        if (fault is not None and fault.kind == "unauthorized") or expires is None:
            self._json(401, UNAUTHORIZED)
            return False
        if expires <= self.state.now():
            self._json(401, EXPIRED)
            return False
        return True

    def _api(self, path: str, params: dict[str, str], fault: Fault | None) -> None:
        if not self._authorized(fault):
            return
        served = self._route(path)
        if not isinstance(served, Listing):
            self._json(404, {"code": 404, "message": served})
            return
        status, page = self._page(served, path, params)
        if status != 200:
            self._json(status, page)
            return
        self._send_page(self._misbehave(page, fault, path, served))

    def _route(self, path: str) -> Listing | str:
        """What ``path`` lists, or the message of its 404."""
        if path in ENDPOINTS:
            return self.state.listing(ENDPOINTS[path][0])
        for pattern, nested in NESTED.items():
            if match := pattern.match(path):
                code = unquote(match[1])
                parent = self.state.parent(nested.parents, code)
                if parent is None:
                    return nested.missing.format(code)
                if nested.types is not None and parent.get("type") not in nested.types:
                    return NO_OPTIONS.format(code)
                return self.state.listing(nested.name, code)
        return f"Resource `{path}` does not exist."

    def _page(
        self, served: Listing, path: str, params: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        key, rich = served.key, served.rich
        limit = int(params.get("limit", "10"))
        if limit > 100:
            return 422, TOO_MANY
        try:
            search = json.loads(params.get("search", "{}"))
        except ValueError:
            return 422, {"code": 422, "message": "Search query parameter should be valid JSON."}
        items, keys = self._selected(served, search)
        if rich and params.get("pagination_type") == "search_after":
            after = params.get("search_after")
            start = bisect.bisect_right(keys, after) if after else 0
            chunk = items[start : start + limit]
            cursor = {"search_after": chunk[-1][key]} if chunk else {}
            page: dict[str, Any] = {}
        else:
            number = int(params.get("page", "1"))
            start = (number - 1) * limit
            chunk, cursor, page = items[start : start + limit], {"page": str(number + 1)}, {}
            page["current_page"] = number
        locales = params["locales"].split(",") if rich and "locales" in params else None
        scope = params.get("scope") if rich else None
        shown = [self._with_link(served.shown(i, locales, scope), path, key) for i in chunk]
        links = {"self": {"href": self._href(path, params, {})}}
        if start + limit < len(items):
            links["next"] = {"href": self._href(path, params, cursor)}
        return 200, {"_links": links, **page, "_embedded": {"items": shown}, "_start": start}

    @staticmethod
    def _selected(served: Listing, search: dict[str, Any]) -> tuple[list[Item], list[str]]:
        """The items matching ``search`` and their keys, both sorted by key."""
        if not search:
            return served.items, served.keys
        items = [i for i in served.items if _matches(i, search)]
        return items, [i[served.key] for i in items]

    def _href(self, path: str, params: dict[str, str], change: dict[str, str]) -> str:
        query = urlencode({**params, **change})
        return f"http://{self.headers.get('Host')}{path}?{query}"

    def _with_link(self, item: Item, path: str, key: str) -> Item:
        href = f"http://{self.headers.get('Host')}{path}/{quote(item[key], safe='')}"
        return {"_links": {"self": {"href": href}}, **item}

    def _misbehave(
        self, page: dict[str, Any], fault: Fault | None, path: str, served: Listing
    ) -> bytes | dict[str, Any]:
        start = page.pop("_start")
        if fault is None:
            return page
        items = page["_embedded"]["items"]
        if fault.kind == "malformed":
            return json.dumps(page).encode()[:40]
        if fault.kind == "no_embedded":
            del page["_embedded"]
        elif fault.kind == "broken_next" and "next" in page["_links"]:
            link = page["_links"]["next"]
            link["href"] = link["href"].replace(path, path + "-gone")
        elif fault.kind == "foreign_next" and "next" in page["_links"]:
            link = page["_links"]["next"]
            link["href"] = link["href"].replace(str(self.headers.get("Host")), "pim.invalid")
        elif fault.kind == "duplicate" and start > 0:
            previous = served.shown(served.items[start - 1], None, None)
            items.insert(0, self._with_link(previous, path, served.key))
        elif fault.kind == "missing_key" and items:
            del items[0][served.key]
        return page

    def _send_page(self, page: bytes | dict[str, Any]) -> None:
        if isinstance(page, bytes):
            self._write(200, page, {})
        else:
            self._json(200, page)

    def _json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._write(status, json.dumps(body).encode(), headers or {})

    def _write(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
