"""A channel's HTTP import endpoint on 127.0.0.1 for delivery tests: it records each request
(method, path, headers, body) and can answer the first ones with a 503 (or 429 with
Retry-After), sleep past the client's timeout, or refuse with a 4xx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from servers.running import serve


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """``script``: how to answer the next requests, in order (503, 429, 400, "sleep"); once
    it is used up every request gets 201. ``sleep``: seconds a "sleep" answer stalls."""

    script: list[int | str] = field(default_factory=list)
    sleep: float = 1.0
    received: list[Received] = field(default_factory=list)
    base_url: str = ""


@contextmanager
def http_receiver(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            answer = receiver.script.pop(0) if receiver.script else 201
            if answer == "sleep":
                time.sleep(receiver.sleep)
                answer = 201
            else:
                headers = {k: v for k, v in self.headers.items()}
                receiver.received.append(Received(self.command, self.path, headers, body))
            self.send_response(int(answer))
            if answer == 429:
                self.send_header("Retry-After", "0")
            sent = f"{self.headers.get('Authorization')} {self.headers.get('X-Api-Key')}"
            payload = f"answer {answer}; you sent {sent}".encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_PUT = do_POST = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve(Handler) as url:
        receiver.base_url = url
        yield receiver
