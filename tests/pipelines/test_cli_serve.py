"""``prism serve`` as an operator runs it: a process listening on 127.0.0.1 that serves the
live snapshot to a channel's token; a token variable that is not set stops it at start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import CliRunner
from factories import default_config
from servers.feed_service import FIRST, SHOP_TOKEN, feed_text, publish, sha

from pipelines.cli import main
from pipelines.exit_codes import ExitCode
from sinks.snapshot_store import SnapshotStore

REPO = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, serve: dict[str, Any]) -> Path:
    data = default_config()
    data["publish"] = {"directory": str(tmp_path / "feeds"), "work_directory": str(tmp_path)}
    data["serve"] = serve
    path = tmp_path / "prism.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"prism serve exited with {process.returncode}"
            raise AssertionError(msg)
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    msg = "prism serve did not start listening"
    raise AssertionError(msg)


def test_prism_serve_serves_the_live_snapshot(tmp_path: Path) -> None:
    publish(SnapshotStore(tmp_path / "feeds"), FIRST, lines=5)
    config = write_config(tmp_path, {"channels": {"shop": {"token_sha256": [sha(SHOP_TOKEN)]}}})
    port = free_port()
    command = [sys.executable, "-c", "from pipelines.cli import main; main()", "serve"]
    command += ["--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        feed = httpx.get(
            f"http://127.0.0.1:{port}/v1/channels/shop/feed",
            headers={"Authorization": f"Bearer {SHOP_TOKEN}", "Accept-Encoding": "identity"},
            timeout=10,
        )
        assert feed.status_code == 200
        assert feed.text == feed_text(FIRST, 5)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_token_variable_that_is_not_set_stops_prism_serve(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"channels": {"shop": {"token_env": ["PRISM_SHOP_TOKEN"]}}})
    unset = {"PRISM_SHOP_TOKEN": None}
    result = CliRunner().invoke(main, ["serve", "--config", str(config)], env=unset)
    assert result.exit_code == ExitCode.CONFIG
    assert "PRISM_SHOP_TOKEN is not set" in result.output


def test_a_bad_serve_section_exits_config(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"channels": {"shop": {"token_sha256": ["plaintext"]}}})
    result = CliRunner().invoke(main, ["serve", "--config", str(config)])
    assert result.exit_code == ExitCode.CONFIG
    assert "serve.channels.shop.token_sha256" in result.output
