from __future__ import annotations

import base64
import gc
import importlib
import logging

import pytest
from factories import REPO

from sources.http import SourceError
from sources.secrets import REDACTING, Secrets, logger, quoted, redact


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_open_secrets_are_masked_in_every_echoed_form() -> None:
    secret = 'p@ss"w/rd-1'
    with Secrets(secret, f"svc-user:{secret}"):
        for form in (
            secret,
            b64(secret),
            b64(f"svc-user:{secret}"),
            "p%40ss%22w%2Frd-1",  # URL-encoded
            'p@ss\\"w/rd-1',  # JSON-escaped
        ):
            assert redact(f"server said <{form}>") == "server said <***>", form
        assert redact("svc-user is fine to show") == "svc-user is fine to show"
    assert redact(f"closed: {secret}") == f"closed: {secret}"


def test_a_secret_containing_another_is_masked_whole() -> None:
    with Secrets("tok-9", "tok-9-refresh"):
        assert redact("tok-9-refresh and tok-9") == "*** and ***"


def test_tokens_added_later_are_masked_until_close() -> None:
    secrets = Secrets("client-secret-7")
    secrets.add("access-token-7")
    assert redact("Bearer access-token-7") == "Bearer ***"
    secrets.close()
    secrets.add("added-after-close-7")
    assert redact("access-token-7 added-after-close-7") == "access-token-7 added-after-close-7"


def test_a_forgotten_set_stops_masking_when_collected() -> None:
    Secrets("collected-secret-3")
    gc.collect()
    assert redact("collected-secret-3") == "collected-secret-3"


def test_source_errors_are_redacted_whoever_builds_them() -> None:
    with Secrets("hunter2-source"):
        error = SourceError("sap: GET x: HTTP 400 (password hunter2-source)")
        assert str(error) == "sap: GET x: HTTP 400 (password ***)"
        assert "hunter2-source" not in repr(error)


def test_quoted_text_is_redacted_before_it_is_cut() -> None:
    with Secrets("straddling-secret"):
        text = "x" * 195 + "straddling-secret"
        assert quoted(text, 200) == "x" * 195 + "***"
        assert quoted(text, 197) == "x" * 195 + "**"


def test_log_records_of_sources_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    log = logger("sources.probe")
    with Secrets("log-secret-5"), caplog.at_level(logging.DEBUG, logger="sources.probe"):
        log.info("token %s in args", "log-secret-5")
        log.warning("in the message: log-secret-5")
        try:
            raise SourceError("log-secret-5") from ValueError("cause log-secret-5")
        except SourceError:
            log.exception("failed")
        log.debug("%s %d", "nothing secret", 3)
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["token *** in args", "in the message: ***", "failed", "nothing secret 3"]
    assert "log-secret-5" not in caplog.text
    assert "ValueError: cause ***" in caplog.text


def test_every_sources_logger_redacts() -> None:
    """A logger's filters see only its own records, so each module's logger needs the filter:
    every logger a ``sources`` module holds must be one from ``sources.secrets.logger``."""
    package = REPO / "sources"
    names = {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in package.rglob("*.py")
    }
    loggers = {
        f"{name}.{attribute}": value
        for name in sorted(names)
        for attribute, value in vars(importlib.import_module(name)).items()
        if isinstance(value, logging.Logger)
    }
    assert {"sources.http.log", "sources.akeneo.client.log", "sources.sap.pull.log"} <= set(loggers)
    assert [name for name, item in loggers.items() if REDACTING not in item.filters] == []
