"""``pull_catalog``: choose full or incremental, fetch all streams concurrently (``fetch``),
merge a delta over the stored items, and publish the result with its new high-water mark."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from contracts.config import AkeneoSource
from sources.akeneo.client import AkeneoClient, AkeneoCredentials
from sources.akeneo.fetch import fetch_all
from sources.akeneo.items import Items
from sources.akeneo.store import PullState, merge, publish, read_state
from sources.akeneo.streams import SOURCE, STREAMS, Item, Key, Stream
from sources.secrets import logger

log = logger(__name__)

AKENEO_DATE = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class AkeneoPull:
    """One PIM to pull and what of it: its settings (``pim:`` in prism.yaml), its secrets, and
    the locales and scopes (Akeneo channels) the channels need."""

    source: AkeneoSource
    credentials: AkeneoCredentials
    locales: tuple[str, ...]
    scopes: tuple[str, ...]

    @property
    def scope(self) -> str | None:
        """The ``scope`` filter of a product request: the API takes one channel code, so a
        pull for several Akeneo channels asks for every scope's values (no filter)."""
        return self.scopes[0] if len(self.scopes) == 1 else None


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
    params = {stream.name: _params(stream, settings, since) for stream in STREAMS}
    with nullcontext(active) if client else active:
        fetched = fetch_all(active, params, settings.source.concurrency)
    files = {name: f.by_key for name, f in fetched.items()}
    if mode == "incremental":
        files = merge(store, files)
    last_full = now() if mode == "full" or state is None else state.last_full_pull
    mark = _high_water_mark(fetched) or (state.high_water_mark if state else None)
    base_url = settings.source.base_url
    new_state = PullState(mark, last_full, base_url, settings.locales, settings.scopes)
    generation = publish(store, files, new_state)
    return _result(mode, files, fetched, mark, time.perf_counter() - started, generation)


def _result(
    mode: Literal["full", "incremental"],
    files: dict[str, dict[Key, Item]],
    fetched: dict[str, Items],
    mark: datetime | None,
    seconds: float,
    generation: Path,
) -> PullResult:
    pulled = {name: len(f.by_key) for name, f in fetched.items()}
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
    pulled = (state.base_url, state.locales, state.scopes)
    if pulled != (settings.source.base_url, settings.locales, settings.scopes):
        return "base_url, locales or scopes changed"
    every = settings.source.full_pull_every_hours
    if every is not None and now - state.last_full_pull >= timedelta(hours=every):
        return f"the last full pull is over {every:g} h old; this drops deleted items"
    return None


def _params(stream: Stream, settings: AkeneoPull, since: datetime | None) -> dict[str, str]:
    """The query of every request to ``stream``. Page-paginated endpoints get only ``limit``:
    the swagger offers them no search_after, and ``with_count`` stays off (it slows the PIM)."""
    params = {"limit": str(settings.source.page_size)}
    if not stream.search_after:
        return params
    params |= {"pagination_type": "search_after", "locales": ",".join(settings.locales)}
    if settings.scope is not None:
        params["scope"] = settings.scope
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


def _high_water_mark(fetched: dict[str, Items]) -> datetime | None:
    """The server's clock when products/models were first read; else the newest ``updated``.

    The server clock is the safer mark: an item changed while the pull ran (after its page
    was read) is newer than it, so the next pull gets it; nothing depends on our clock.
    """
    incremental = [s.name for s in STREAMS if s.search_after]
    dates = [d for name in incremental if (d := fetched[name].date) is not None]
    if dates:
        return min(dates)
    items = [i for name in incremental for i in fetched[name].by_key.values()]
    updated = [u for i in items if (u := _parse_time(i.get("updated"))) is not None]
    return max(updated, default=None)


def _parse_time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is None or parsed.tzinfo else parsed.replace(tzinfo=UTC)
