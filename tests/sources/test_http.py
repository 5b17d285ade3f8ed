from __future__ import annotations

import random
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import httpx
import pytest
from servers.running import serve

from sources.http import RetryPolicy, SourceError, safe_url, send


class Flaky(BaseHTTPRequestHandler):
    """Answers each path's scripted statuses in turn, then 200."""

    script: ClassVar[dict[str, list[tuple[int, dict[str, str]]]]] = {}

    def do_GET(self) -> None:
        steps = self.script.setdefault(self.path.split("?")[0], [])
        status, headers = steps.pop(0) if steps else (200, {})
        body = b'{"ok": true}'
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base_url():
    Flaky.script = {}
    with serve(Flaky) as url:
        yield url


def test_retries_429_with_retry_after_and_5xx(base_url: str) -> None:
    Flaky.script["/p"] = [(429, {"Retry-After": "7"}), (503, {}), (502, {})]
    waits: list[float] = []
    with httpx.Client() as client:
        response = send(
            client,
            client.build_request("GET", f"{base_url}/p"),
            "akeneo",
            sleep=waits.append,
            rng=random.Random(1),
        )
    assert response.json() == {"ok": True}
    assert waits[0] == 7.0
    assert len(waits) == 3
    assert all(0 <= w <= 2.0 for w in waits[1:])


def test_gives_up_after_bounded_attempts_naming_source_and_safe_url(base_url: str) -> None:
    Flaky.script["/p"] = [(500, {})] * 10
    with httpx.Client() as client, pytest.raises(SourceError) as error:
        send(
            client,
            client.build_request("GET", f"{base_url}/p?password=hunter2&limit=100"),
            "akeneo",
            RetryPolicy(attempts=3),
            sleep=lambda _: None,
        )
    message = str(error.value)
    assert message.startswith("akeneo: GET ")
    assert "hunter2" not in message
    assert "failed after 3 attempts (HTTP 500)" in message


def test_connection_errors_and_timeouts_are_retried() -> None:
    with httpx.Client(timeout=0.2) as client, pytest.raises(SourceError, match="ConnectError"):
        send(
            client,
            client.build_request("GET", "http://127.0.0.1:9/"),
            "sap",
            RetryPolicy(attempts=2),
            sleep=lambda _: None,
        )


def test_other_client_errors_are_returned_not_retried(base_url: str) -> None:
    Flaky.script["/p"] = [(404, {})]
    with httpx.Client() as client:
        response = send(client, client.build_request("GET", f"{base_url}/p"), "akeneo")
    assert response.status_code == 404


def test_safe_url_masks_secrets() -> None:
    url = safe_url("http://u:pw@h/x?client_secret=s&token=t&page=2")
    assert url == "http://h/x?client_secret=%2A%2A%2A&token=%2A%2A%2A&page=2"
