"""HTTP with bounded retries for the live connectors (Akeneo, SAP OData), over httpx.

Retried: timeouts, connection errors (resets, refused), 429 (honouring Retry-After, seconds or
HTTP date) and 5xx; exponential backoff with full jitter, capped. Never retried: other 4xx and
malformed bodies, which are the caller's to report. Errors name the source and the URL with its
query string stripped of secrets; credential values are masked in every ``SourceError`` and log
record (``sources.secrets``).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from sources.secrets import logger, redact

log = logger(__name__)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
SECRET_PARAMS = frozenset({"password", "client_secret", "secret", "token", "access_token", "sig"})


class SourceError(RuntimeError):
    """A live source failed; the message names the source, the URL (without secrets) and why.

    The message is redacted here, once for every call site: whatever an upstream server echoed
    into it, the credentials of open connections (``sources.secrets.Secrets``) read ``***``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


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


def send(
    client: httpx.Client,
    request: httpx.Request,
    source: str,
    policy: RetryPolicy = RetryPolicy(),
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
