"""The credential redaction of the live sources: ``contracts.secrets``, shared with the delivery
sinks (which may not import ``sources``); kept here so the sources' imports read as before."""

from __future__ import annotations

from contracts.secrets import (
    MASK,
    REDACTING,
    RedactingFilter,
    Secrets,
    forms,
    logger,
    quoted,
    redact,
)

__all__ = ["MASK", "REDACTING", "RedactingFilter", "Secrets", "forms", "logger", "quoted", "redact"]
