"""HTTP with bounded retries for the live connectors (Akeneo, SAP OData), over httpx.

Retried: timeouts, connection errors (resets, refused), 429 (honouring Retry-After, seconds or
HTTP date) and 5xx; exponential backoff with full jitter, capped. Never retried: other 4xx and
malformed bodies, which are the caller's to report. Errors name the source and the URL with its
query string stripped of secrets; credential values are masked in every ``SourceError`` and log
record (``sources.secrets``). The retry policy itself is ``contracts.retry``, shared with the
deliveries.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import httpx

from contracts.retry import RETRY_STATUS, SECRET_PARAMS, RetryPolicy, retry_after, safe_url
from sources.secrets import logger, redact

__all__ = [
    "RETRY_STATUS",
    "SECRET_PARAMS",
    "RetryPolicy",
    "SourceError",
    "retry_after",
    "safe_url",
    "send",
]

log = logger(__name__)
DEFAULT_POLICY = RetryPolicy()


class SourceError(RuntimeError):
    """A live source failed; the message names the source, the URL (without secrets) and why.

    The message is redacted here, once for every call site: whatever an upstream server echoed
    into it, the credentials of open connections (``sources.secrets.Secrets``) read ``***``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


def send(
    client: httpx.Client,
    request: httpx.Request,
    source: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> httpx.Response:
    """Send ``request``; retry what is transient; raise SourceError for the rest."""
    rng = rng or random.Random()
    for attempt in range(1, policy.attempts + 1):
        response: httpx.Response | None = None
        try:
            response = client.send(request)
        except (httpx.TimeoutException, httpx.TransportError) as error:
            problem = f"{type(error).__name__}: {error}"
        else:
            if response.status_code not in RETRY_STATUS:
                return response
            problem = f"HTTP {response.status_code}"
        if attempt == policy.attempts:
            break
        wait = policy.delay(attempt, response, rng)
        log.warning(
            "%s %s: %s; retry %d in %.1f s", source, safe_url(request.url), problem, attempt, wait
        )
        sleep(wait)
    where = f"{request.method} {safe_url(request.url)}"
    msg = f"{source}: {where} failed after {policy.attempts} attempts ({problem})"
    raise SourceError(msg)
