"""``POST /v1/prices``: a customer's prices for up to 10,000 skus, from the live snapshot.

The request takes the live snapshot once and answers from its ``PriceBook`` only (named in
``X-Prism-Snapshot``), so a publish switching meanwhile never mixes two snapshots. Checks, in
order: a bearer token (401); the body (413 beyond ``MAX_BODY`` bytes; 422 naming the field:
malformed JSON, more than 10,000 skus, a quantity below 1); a live snapshot with
price data (503); the token may ask for this customer (403: a customer-scoped token for
another customer, or a token that may not read the price channel); the customer and currency
exist on the price channel (404, 422). The work runs in worker threads, at most one per core
at a time (``WORKERS``): the lookups are numpy and polars, which release the GIL, but the
Python between them does not, and more threads only fight over it (measured: 50 clients got
~25 % more answers per second with 2 threads than with Starlette's 40). Waiting requests
queue in the event loop, which stays free for the feed routes.
"""

from __future__ import annotations

import os

import anyio
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from serving.access import Access
from serving.live import LiveSnapshots
from serving.price_quote import MAX_SKUS, PriceRequest, quote
from serving.responses import SNAPSHOT_HEADER, error

MAX_BODY = 4 * 2**20
"""10,000 skus of up to 255 characters with a quantity each fit."""
WORKERS = os.cpu_count() or 2


class BodyTooLarge(ValueError):
    pass


class PriceRoutes:
    def __init__(self, snapshots: LiveSnapshots, access: Access) -> None:
        self.snapshots = snapshots
        self.access = access
        self._workers: anyio.CapacityLimiter | None = None

    async def prices(self, request: Request) -> Response:
        try:
            body = await _body(request)
        except BodyTooLarge:
            return error(413, f"the body is larger than {MAX_BODY} bytes")
        if self._workers is None:  # made in the event loop that serves (anyio needs one)
            self._workers = anyio.CapacityLimiter(WORKERS)
        authorization = request.headers.get("authorization")
        return await anyio.to_thread.run_sync(
            self.answer, authorization, body, limiter=self._workers
        )

    def answer(self, authorization: str | None, body: bytes) -> Response:
        principal = self.access.principal(authorization)
        if principal is None:
            return error(401, "a bearer token is required (a channel, customer or OIDC token)")
        try:
            asked = PriceRequest.model_validate_json(body)
        except ValidationError as problem:
            return _invalid(problem)
        snapshot = self.snapshots.live
        if snapshot is None:
            return error(503, "no snapshot is live yet")
        book = snapshot.prices
        if book is None:
            message = f"snapshot {snapshot.snapshot_id} has no price data (no price channel)"
            return error(503, message, snapshot.snapshot_id)
        if not principal.may_price(asked.customer, book.channel):
            message = f"this token may not ask for the prices of customer {asked.customer!r}"
            return error(403, message, snapshot.snapshot_id)
        if asked.customer not in book.groups:
            message = f"no customer {asked.customer!r} on the price channel {book.channel!r}"
            return error(404, message, snapshot.snapshot_id)
        currency = asked.currency or book.currency
        if currency not in book.currencies:
            message = f"currency: {currency!r} is not one of {list(book.currencies)}"
            return error(422, message, snapshot.snapshot_id, field="currency")
        headers = {SNAPSHOT_HEADER: snapshot.snapshot_id, "Cache-Control": "no-store"}
        content = quote(book, asked, currency, snapshot.snapshot_id)
        return Response(content, headers=headers, media_type="application/json")


async def _body(request: Request) -> bytes:
    """The body, refused beyond ``MAX_BODY`` bytes before it is read whole."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _invalid(problem: ValidationError) -> Response:
    """422 naming the first field that is wrong (``body`` for JSON that does not parse), as
    ``skus.3.quantity``."""
    errors = problem.errors(include_url=False)
    first = errors[0]
    where = first["loc"]
    message = first["msg"]
    if where[:1] == ("skus",) and len(where) > 2:
        # an entry fits neither a sku nor an item; pydantic names each try in the third place
        tries = [e for e in errors if e["loc"][:2] == where[:2]]
        deepest = max(tries, key=lambda e: len(e["loc"]))
        where, message = (*where[:2], *deepest["loc"][3:]), deepest["msg"]
        if all(e["type"] in ("string_type", "dict_type") for e in tries):
            message = "give a sku, or {sku, quantity}"
    field = ".".join(str(part) for part in where) or "body"
    if first["type"] == "too_long" and where == ("skus",):
        message = f"at most {MAX_SKUS:,} skus per request, {len(first['input']):,} given"
    return error(422, f"{field}: {message}", field=field)
