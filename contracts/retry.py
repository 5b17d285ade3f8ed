"""Bounded retries over httpx, shared by the live sources (``sources.http``) and the push
deliveries (``sinks.delivery``): what is transient and how long to wait before trying again.

Retried: timeouts, connection errors, 429 (honouring Retry-After, seconds or HTTP date) and 5xx;
exponential backoff with full jitter, capped. URLs in messages go through ``safe_url``.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import httpx

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
SECRET_PARAMS = frozenset({"password", "client_secret", "secret", "token", "access_token", "sig"})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, response: httpx.Response | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if response is not None and (after := retry_after(response)) is not None:
            return min(after, self.max_retry_after)
        return rng.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    return max(parsed.timestamp() - time.time(), 0.0) if parsed else None


def safe_url(url: httpx.URL | str) -> str:
    """The URL with secret query parameters masked, for error messages and logs."""
    url = httpx.URL(str(url))
    params = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in url.params.multi_items()]
    return str(url.copy_with(params=params, username=None, password=None))
