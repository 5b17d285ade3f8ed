"""Read every stream of a pull with at most ``concurrency`` requests in flight.

The top-level streams are queued first, products at the head, so the big stream never waits
behind the small ones. When a parent stream is complete its per-parent streams join the same
pool, one task per parent (each select attribute's options, each family's variants): many
attributes are read side by side and the pull as a whole stays within ``concurrency``. The first
failure stops everything: queued tasks are cancelled and running ones end after their page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from urllib.parse import quote

from sources.akeneo.client import AkeneoClient
from sources.akeneo.items import Items
from sources.akeneo.streams import STREAMS, Stream

Task = tuple[Stream, str, str | None]  # the stream, the path to list, the parent's code


def fetch_all(
    client: AkeneoClient, params: Mapping[str, dict[str, str]], concurrency: int
) -> dict[str, Items]:
    """Every stream's items; ``params`` holds each stream's query (limit, filters)."""
    items = {stream.name: Items(stream) for stream in STREAMS}
    stop = threading.Event()
    with ThreadPoolExecutor(concurrency, thread_name_prefix="akeneo") as pool:

        def submit(task: Task) -> Future[None]:
            stream, path, parent = task
            into = items[stream.name]
            return pool.submit(_fetch, client, path, params[stream.name], into, parent, stop)

        pending = {submit((s, s.path, None)): s for s in STREAMS if s.parent is None}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()
                    stream = pending.pop(future)
                    if stream.parent is None:
                        pending |= {submit(t): t[0] for t in _children(items[stream.name])}
        except BaseException:
            stop.set()
            for future in pending:
                future.cancel()
            raise
    return items


def _children(parents: Items) -> Iterator[Task]:
    """The per-parent reads a complete stream opens: one per (selected) item, in key order."""
    for stream in STREAMS:
        if stream.parent is None or stream.parent.stream != parents.stream.name:
            continue
        types = stream.parent.types
        for (code, *_), item in sorted(parents.by_key.items()):
            if types is None or item.get("type") in types:
                yield stream, stream.path.format(code=quote(code, safe="")), code


def _fetch(
    client: AkeneoClient,
    path: str,
    params: dict[str, str],
    into: Items,
    parent: str | None,
    stop: threading.Event,
) -> None:
    for page in client.pages(path, params):
        into.add_page(page.items, page.url, page.date, parent)
        if stop.is_set():
            break
