"""Benchmark the price API (``POST /v1/prices``) of ``prism serve`` under concurrent clients.

    .venv/bin/python bench/price_api.py --workdir var/bench-prices [--products 1000000]
    .venv/bin/python bench/price_api.py --workdir /tmp/prices1m --data /tmp/bench1m/data

1. A published snapshot with price data: ``WORKDIR/feeds/current`` when it has one; else
   ``prism run`` publishes one there from the demo data in ``--data`` (default
   ``WORKDIR/data``, generated with ``--products`` when missing; another bench folder's
   ``data`` is only read). That run writes only the quoting channel, in EUR and USD (every
   valid tier: ~3.7 per product), so the API holds the whole price list of the catalog.
2. ``prism serve`` in a child process (uvicorn on 127.0.0.1, one worker).
3. ``--clients`` concurrent clients (one keep-alive connection each, plain HTTP/1.1 in one
   asyncio loop: little CPU beside the service) send ``--requests`` requests in all, each for
   ``--skus`` random known skus of one customer, with a quantity for every tenth; then one
   client alone sends ``--single`` requests.

Prints median, p95 and p99 latency, throughput, the response size and the service's peak RSS
(``VmHWM`` of the child), and writes them to ``WORKDIR/price_api.json``. Latency is measured
per request on the client, from sending to the last byte of the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from demo import generate_demo_data  # noqa: E402
from sinks.price_data import PRODUCTS  # noqa: E402

AS_OF = dt.date(2026, 11, 22)
TOKEN = "bench-operator-token"
CUSTOMER = "C1000"
log = logging.getLogger("bench.price_api")


def bench_config(workdir: Path, data: Path, port: int) -> Path:
    """The shipped prism.yaml with the quoting channel only (EUR and USD), every path in the
    bench folder, and a token for the price API."""
    config = yaml.safe_load((REPO / "prism.yaml").read_text(encoding="utf-8"))
    config["as_of"] = AS_OF.isoformat()
    config["pim"]["path"] = str(data / "pim")
    config["erp"]["path"] = str(data / "erp")
    config["publish"] = {
        "directory": str(workdir / "feeds"),
        "work_directory": str(workdir / "work"),
        "keep": 2,
    }
    quoting = config["channels"]["quoting"] | {"currencies": ["EUR", "USD"]}
    config["channels"] = {"quoting": quoting}
    digest = subprocess.run(
        ["sha256sum"], input=TOKEN.encode(), capture_output=True, check=True
    ).stdout.split()[0]
    config["serve"] = {
        "host": "127.0.0.1",
        "port": port,
        "poll_seconds": 3600,
        "channels": {"quoting": {"token_sha256": [digest.decode()]}},
    }
    path = workdir / "price_api.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), "utf-8")
    return path


def publish(workdir: Path, data: Path, products: int, config: Path) -> None:
    """``prism run`` into ``workdir/feeds`` (generating the demo data first if missing)."""
    if not (data / "pim").is_dir():
        started = time.perf_counter()
        generate_demo_data(data, products=products, as_of=AS_OF)
        log.info("generated %d products in %.1f s", products, time.perf_counter() - started)
    for stale in ("feeds", "work", "dagster"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    (workdir / "dagster").mkdir(parents=True)
    env = {**os.environ, "DAGSTER_HOME": str(workdir / "dagster")}
    started = time.perf_counter()
    prism = str(Path(sys.executable).parent / "prism")
    subprocess.run([prism, "run", "--config", str(config)], env=env, check=True)
    log.info("published the price data in %.1f s", time.perf_counter() - started)


class Service:
    """``prism serve`` in a child process, logging to ``log``; its peak RSS read from /proc
    before it stops."""

    def __init__(self, config: Path, port: int, log_file: Path) -> None:
        prism = str(Path(sys.executable).parent / "prism")
        self.url = f"http://127.0.0.1:{port}"
        self.log_file = log_file
        with log_file.open("w", encoding="utf-8") as output:
            self.process = subprocess.Popen(
                [prism, "serve", "--config", str(config)], stdout=output, stderr=output
            )

    def wait_live(self, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                msg = f"prism serve stopped; see {self.log_file}"
                raise RuntimeError(msg)
            try:
                health = httpx.get(f"{self.url}/healthz", timeout=2)
                if health.status_code == 200:
                    return str(health.json()["snapshot"])
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        msg = "prism serve did not get a snapshot live in time"
        raise RuntimeError(msg)

    def peak_rss(self) -> int:
        """VmHWM of the service process, in bytes."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="utf-8")
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def bodies(skus: list[str], count: int, per_request: int, seed: int) -> list[bytes]:
    """``count`` request bodies of ``per_request`` random skus; every tenth with a quantity
    (its applicable tier is looked up too)."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        chosen: list[object] = list(rng.sample(skus, per_request))
        for number in range(0, per_request, 10):
            chosen[number] = {"sku": chosen[number], "quantity": rng.choice((1, 10, 50, 250))}
        found.append(json.dumps({"customer": CUSTOMER, "skus": chosen}).encode())
    return found


def drive(port: int, work: list[bytes], clients: int) -> tuple[list[float], float, int]:
    """Send every body, ``clients`` at a time; return latencies (s), wall seconds, bytes of
    the last answer."""
    return asyncio.run(_drive(port, work, clients))


async def _drive(port: int, work: list[bytes], clients: int) -> tuple[list[float], float, int]:
    """Each client is one keep-alive connection speaking plain HTTP/1.1 in one event loop: a
    load generator that costs little CPU next to the service on the same cores (it reads the
    answer's bytes and does not parse the JSON)."""
    pending = iter(work)
    latencies: list[float] = []
    sizes: list[int] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for body in pending:
                started = time.perf_counter()
                writer.write(_request(body))
                status, size = await _answer(reader)
                latencies.append(time.perf_counter() - started)
                sizes.append(size)
                if status != 200:
                    msg = f"POST /v1/prices answered {status}"
                    raise RuntimeError(msg)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - started, sizes[-1]


def _request(body: bytes) -> bytes:
    head = (
        "POST /v1/prices HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _answer(reader: asyncio.StreamReader) -> tuple[int, int]:
    """Status and body size of one response (the service sends Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    await reader.readexactly(length)
    return int(lines[0].split()[1]), length


def summary(latencies: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(latencies)

    def at(share: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {
        "requests": len(ordered),
        "median_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(1000 * ordered[-1], 1),
        "requests_per_second": round(len(ordered) / wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench-prices")
    parser.add_argument("--data", type=Path, help="demo data to publish from (read only)")
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--single", type=int, default=100)
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    data = (args.data or workdir / "data").resolve()
    config = bench_config(workdir, data, args.port)
    live = workdir / "feeds" / "current"
    if not (live / PRODUCTS).is_file():
        publish(workdir, data, args.products, config)
    skus = pl.read_parquet(live / PRODUCTS, columns=["sku"])["sku"].to_list()
    tiers = pl.scan_parquet(live / "_prices" / "tiers.parquet").select(pl.len()).collect().item()
    log.info("snapshot: %d products, %d tiers", len(skus), tiers)
    work = bodies(skus, args.requests, args.skus, seed=1)
    alone = bodies(skus, args.single, args.skus, seed=2)
    service = Service(config, args.port, workdir / "serve.log")
    try:
        started = time.perf_counter()
        snapshot = service.wait_live()
        load_seconds = time.perf_counter() - started
        log.info("service live on %s after %.1f s", snapshot, load_seconds)
        drive(args.port, work[: args.clients], args.clients)  # warm-up
        concurrent, wall, size = drive(args.port, work, args.clients)
        single, single_wall, _ = drive(args.port, alone, 1)
        peak = service.peak_rss()
    finally:
        service.stop()
    result: dict[str, Any] = {
        "products": len(skus),
        "tiers": tiers,
        "skus_per_request": args.skus,
        "response_bytes": size,
        "service_start_to_live_seconds": round(load_seconds, 1),
        "concurrent": {"clients": args.clients, **summary(concurrent, wall)},
        "single_client": summary(single, single_wall),
        "service_peak_rss_mib": round(peak / 2**20),
    }
    (workdir / "price_api.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    log.info("%s", json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
