"""Credentials never leave a source in an error message or a log record.

Each live connection puts the secret values it holds into a ``Secrets`` set: passwords and
client secrets, the ``user:password`` pairs whose base64 form is a Basic header, bearer tokens,
and the OAuth access and refresh tokens it obtains while it runs. While any set is open,
``redact`` replaces each value, in every form a server might echo it (raw, base64, URL- and
JSON-escaped), by ``***``. Two places apply it, so no call site has to remember to:

- ``SourceError`` redacts its message when it is built (``sources.http``), whatever text went
  into it, e.g. an upstream error body that repeats the Authorization header it received;
- ``logger(name)`` is the logger of every ``sources`` module: its filter redacts each record
  (message, arguments, traceback) before any handler sees it, i.e. before stdout, Dagster's
  compute logs or its event log.

A set is closed with its connection (or when it is garbage collected), so a long-running code
location does not accumulate expired tokens; messages built while it was open stay redacted.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import re
import threading
import weakref
from types import TracebackType
from urllib.parse import quote

MASK = "***"

_lock = threading.Lock()
_open: dict[int, frozenset[str]] = {}  # id of an open Secrets -> the forms of its values
_keys = itertools.count()
_pattern: re.Pattern[str] | None = None  # all open forms, longest first; None when none


def forms(value: str) -> set[str]:
    """``value`` as it may appear in an echoed request: raw, base64, URL-encoded, JSON-escaped."""
    if not value:
        return set()
    encoded = base64.b64encode(value.encode()).decode()
    return {value, encoded, quote(value, safe=""), json.dumps(value)[1:-1]}


def redact(text: str) -> str:
    """``text`` with every value of every open ``Secrets`` replaced by ``***``."""
    pattern = _pattern
    return text if pattern is None else pattern.sub(MASK, text)


def quoted(text: object, limit: int) -> str:
    """Upstream text for a message, redacted *before* it is cut to ``limit`` characters (cutting
    first could leave the head of a secret that the mask no longer recognises)."""
    return redact(str(text))[:limit]


class Secrets:
    """The secret values of one connection, masked in source errors and logs while it is open."""

    def __init__(self, *values: str) -> None:
        self._key = next(_keys)
        self._forms: frozenset[str] = frozenset()
        self._closer = weakref.finalize(self, _forget, self._key)
        self.add(*values)

    def add(self, *values: str) -> None:
        """Mask more values from now on (e.g. a token just obtained)."""
        with _lock:
            if not self._closer.alive:
                return
            self._forms = self._forms.union(*(forms(value) for value in values))
            _open[self._key] = self._forms
            _compile()

    def close(self) -> None:
        """Stop masking these values (the connection that held them is gone)."""
        self._closer()

    def __enter__(self) -> Secrets:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _forget(key: int) -> None:
    with _lock:
        _open.pop(key, None)
        _compile()


def _compile() -> None:
    """Rebuild the pattern (under ``_lock``); longest first, so a value containing another
    one is masked whole."""
    global _pattern
    values = sorted(set().union(*_open.values()), key=lambda v: (-len(v), v))
    _pattern = re.compile("|".join(map(re.escape, values))) if values else None


class RedactingFilter(logging.Filter):
    """Masks open secrets in a record's message and traceback, in place, for all handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed call; the handler reports it without formatting values
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


REDACTING = RedactingFilter()


def logger(name: str) -> logging.Logger:
    """The logger for module ``name``, with the redacting filter.

    A logger's filters see only the records logged to that logger itself, not those of its
    children, so every module's logger carries the filter rather than ``sources`` alone.
    """
    log = logging.getLogger(name)
    if REDACTING not in log.filters:
        log.addFilter(REDACTING)
    return log
