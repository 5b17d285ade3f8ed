"""The ASGI application: routes, authentication per channel, the snapshot per request.

Every feed route resolves the snapshot once (``LiveSnapshots.live`` or a pinned id) and answers
from that object only; the response names it in ``X-Prism-Snapshot``. The price API
(``POST /v1/prices``) does the same with the live snapshot's price book (``serving.price_api``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.config import ServeConfig
from contracts.snapshots import FeedFile
from serving.access import Access, Principal
from serving.live import LiveSnapshots, Snapshot, Watcher
from serving.metrics import RequestCounter
from serving.openapi import openapi_document
from serving.price_api import PriceRoutes
from serving.responses import SNAPSHOT_HEADER, error, file_response, json_response
from sinks.snapshot_store import SnapshotStore

FEED_KINDS = ("file",)
LIVE_ALIAS = "current"


@dataclass(frozen=True)
class Service:
    snapshots: LiveSnapshots
    access: Access
    counter: RequestCounter
    poll_seconds: float


def create_app(
    publish_directory: Path,
    serve: ServeConfig,
    channels: list[str],
    env: Mapping[str, str],
) -> Starlette:
    """The service over ``publish_directory``; channel tokens read from ``env`` now."""
    service = Service(
        snapshots=LiveSnapshots(SnapshotStore(publish_directory)),
        access=Access(serve, env),
        counter=RequestCounter(channels),
        poll_seconds=serve.poll_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher = Watcher(service.snapshots, service.poll_seconds)
        watcher.start()
        try:
            yield
        finally:
            watcher.stop()

    app = Starlette(routes=routes(service), lifespan=lifespan)
    app.state.service = service
    app.add_middleware(CountRequests, counter=service.counter)
    return app


def routes(service: Service) -> list[Route]:
    feeds = FeedRoutes(service)
    prices = PriceRoutes(service.snapshots, service.access)
    return [
        Route("/healthz", feeds.healthz),
        Route("/metrics", feeds.metrics),
        Route("/openapi.json", feeds.openapi),
        Route("/v1/channels/{channel}/feed", feeds.live_feed),
        Route("/v1/channels/{channel}/feed/{file}", feeds.live_feed),
        Route("/v1/snapshots/{snapshot}/manifest", feeds.manifest),
        Route("/v1/snapshots/{snapshot}/channels/{channel}/feed", feeds.pinned_feed),
        Route("/v1/snapshots/{snapshot}/channels/{channel}/feed/{file}", feeds.pinned_feed),
        Route("/v1/prices", prices.prices, methods=["POST"]),
    ]


class FeedRoutes:
    """Synchronous endpoints (Starlette runs them in its thread pool: file stats, hashing,
    JWKS fetches never block the event loop)."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def healthz(self, request: Request) -> Response:
        live = self.service.snapshots.live
        if live is None:
            return JSONResponse({"status": "no snapshot live"}, 503)
        return JSONResponse({"status": "ok", "snapshot": live.snapshot_id})

    def metrics(self, request: Request) -> Response:
        text = self.service.counter.render(self.service.snapshots)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document())

    def _principal(self, request: Request) -> Principal | None:
        return self.service.access.principal(request.headers.get("authorization"))

    def live_feed(self, request: Request) -> Response:
        principal = self._principal(request)
        channel = request.path_params["channel"]
        refused = _refusal(principal, channel)
        if refused is not None:
            return refused
        snapshot = self.service.snapshots.live
        if snapshot is None:
            return error(503, "no snapshot is live yet")
        since = request.query_params.get("since")
        if since is not None:
            return _delta(request, snapshot, channel, since)
        return _feed(request, snapshot, channel, FEED_KINDS)

    def pinned_feed(self, request: Request) -> Response:
        principal = self._principal(request)
        channel = request.path_params["channel"]
        refused = _refusal(principal, channel)
        if refused is not None:
            return refused
        snapshot = self._snapshot(request.path_params["snapshot"])
        if snapshot is None:
            return error(404, f"no complete snapshot {request.path_params['snapshot']} is kept")
        return _feed(request, snapshot, channel, FEED_KINDS)

    def manifest(self, request: Request) -> Response:
        principal = self._principal(request)
        if principal is None:
            return error(401, "a bearer token is required")
        snapshot = self._snapshot(request.path_params["snapshot"])
        if snapshot is None:
            return error(404, f"no complete snapshot {request.path_params['snapshot']} is kept")
        return json_response(request, _visible_manifest(snapshot, principal), snapshot.snapshot_id)

    def _snapshot(self, snapshot_id: str) -> Snapshot | None:
        if snapshot_id == LIVE_ALIAS:
            return self.service.snapshots.live
        return self.service.snapshots.pinned(snapshot_id)


def _refusal(principal: Principal | None, channel: str) -> Response | None:
    if principal is None:
        return error(401, "a bearer token is required (a channel token or an OIDC token)")
    if not principal.may_read(channel):
        return error(403, f"this token may not read channel {channel!r}")
    return None


def _feed(request: Request, snapshot: Snapshot, channel: str, kinds: tuple[str, ...]) -> Response:
    files = [f for f in snapshot.manifest.channel_files(channel) if f.kind in kinds]
    if not files:
        return error(404, f"channel {channel!r} has no such feed", snapshot.snapshot_id)
    name = request.path_params.get("file")
    if name is None:
        if len(files) > 1:
            names = [Path(f.path).name for f in files]
            message = f"channel {channel!r} has several files; ask for one: .../feed/{{file}}"
            return error(300, message, snapshot.snapshot_id, files=names)
        return _serve(request, snapshot, files[0])
    chosen = next((f for f in files if f.path == f"{channel}/{name}"), None)
    if chosen is None:
        return error(404, f"channel {channel!r} has no file {name!r}", snapshot.snapshot_id)
    return _serve(request, snapshot, chosen)


def _serve(request: Request, snapshot: Snapshot, feed: FeedFile) -> Response:
    try:
        return file_response(
            request, snapshot.folder / feed.path, feed.sha256, snapshot.snapshot_id
        )
    except FileNotFoundError:  # removed since the snapshot was resolved (pruned)
        message = f"snapshot {snapshot.snapshot_id} is no longer kept; ask again for the feed"
        return error(410, message, snapshot.snapshot_id)


def _delta(request: Request, snapshot: Snapshot, channel: str, since: str) -> Response:
    """The live snapshot's delta files when they apply to ``since``; else fetch the full feed."""
    live = snapshot.snapshot_id
    if since == live:
        return Response(status_code=204, headers={SNAPSHOT_HEADER: live})
    if snapshot.manifest.delta_of != since:
        full = f"/v1/channels/{channel}/feed"
        message = (
            f"no delta from {since} to the live snapshot {live} "
            f"(its deltas apply to {snapshot.manifest.delta_of or 'no snapshot'}); "
            f"fetch the full feed at {full}"
        )
        return error(409, message, live, live_snapshot=live, full_feed=full)
    return _feed(request, snapshot, channel, ("delta",))


def _visible_manifest(snapshot: Snapshot, principal: Principal) -> dict[str, object]:
    """The manifest as this principal may see it: only the channels it may read (an operator:
    everything, the ``*`` baseline and serving files too)."""

    data = asdict(snapshot.manifest)
    if not principal.everything:
        data["files"] = [f for f in data["files"] if principal.may_read(f["channel"])]
        data["channels"] = {c: n for c, n in data["channels"].items() if principal.may_read(c)}
    return data


class CountRequests:
    """Counts every answered request by channel (the route's ``channel``) and status."""

    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                channel = scope.get("path_params", {}).get("channel")
                self.counter.add(channel, message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)
