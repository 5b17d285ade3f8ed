"""The one error a delivery raises, with credentials masked however it was built."""

from __future__ import annotations

from contracts.secrets import redact


class DeliveryError(RuntimeError):
    """A push to a target failed; the message names the target (never a credential) and why.

    Redacted when built, like ``sources.http.SourceError``: a server echoing a header or a
    library repeating a password cannot carry an open ``Secrets`` value into a receipt or log.
    """

    def __init__(self, message: str, attempts: int = 0) -> None:
        super().__init__(redact(message))
        self.attempts = attempts
        """requests or connections made before giving up"""


class PermanentError(DeliveryError):
    """Retrying cannot help (authentication refused, HTTP 4xx, a missing folder)."""
