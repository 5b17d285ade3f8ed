"""Benchmark of the feed API (`prism serve`): 304 revalidation latency, and streaming large
feeds (throughput and the server's memory) against reading the same file straight from disk.

    .venv/bin/python bench/feed_api.py [--sizes-mb 256 1024] [--requests 2000]
        [--workdir var/bench-feed] [--reuse-data]

Builds one sealed, live snapshot whose shop channel holds a synthetic CSV feed per size
(written with polars in batches, sealed and activated with the real SnapshotStore), starts
`prism serve` on 127.0.0.1 in a child process and measures from this process:

- revalidation: N sequential `If-None-Match` requests on one keep-alive connection (latency
  median and p99), then the same spread over several concurrent connections;
- downloads: each feed with curl (identity, zstd, gzip; the body to /dev/null), MB/s of the
  file's bytes, and the server's RSS sampled every 10 ms against its RSS at idle;
- the file read directly: Python reads from the page cache, and `dd iflag=direct` from the
  device, as the "disk speed" the downloads compare with.

Targets (issue #14): a 304 in <= 2 ms median; a 1 GB feed at disk/network speed, streamed in
constant memory. Needs `curl` and `dd` on the PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import polars as pl
import yaml

from contracts.snapshots import FeedFile, Manifest
from serving.encodings import READ_CHUNK, packer
from sinks.snapshot_store import SnapshotStore

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = "20261201T000000Z-00000001"
CHANNEL = "shop"
TOKEN = "bench-shop-token"
BATCH_ROWS = 100_000  # ~13 MB of CSV
MB = 1_000_000
ADJECTIVES = ["Compact", "Heavy-duty", "Cordless", "Premium", "Classic", "Smart", "Eco", "Pro"]
NOUNS = ["Drill", "Kettle", "Lamp", "Backpack", "Chair", "Monitor", "Blender", "Jacket", "Tent"]
BRANDS = ["Acme", "Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark"]
CATEGORIES = ["Tools > Power tools", "Home > Kitchen", "Home > Lighting", "Outdoor > Camping"]
CURL_OUT = "%{http_code} %{size_download} %{time_total}"  # time on curl's clock, not its start
log = logging.getLogger("bench.feed_api")


def feed_name(size_mb: int) -> str:
    return f"products-{size_mb}mb.csv"


def rows(start: int, count: int, seed: int) -> pl.DataFrame:
    """Shop-feed-like rows (unique SKUs, varied titles and prices): compressible like a real
    feed, not like one block repeated."""
    rng = np.random.default_rng(seed)
    numbers = np.arange(start, start + count)
    sku = "SKU-" + pl.Series(numbers).cast(pl.String).str.zfill(9)
    model = pl.Series(rng.integers(100, 9999, count)).cast(pl.String)

    def pick(words: list[str]) -> pl.Series:
        return pl.Series(words).gather(rng.integers(0, len(words), count))

    return pl.DataFrame(
        {
            "sku": sku,
            "gtin": pl.Series(4_006_381_000_000 + numbers).cast(pl.String),
            "title": pick(ADJECTIVES) + " " + pick(NOUNS) + " " + model,
            "brand": pick(BRANDS),
            "category": pick(CATEGORIES),
            "price": pl.Series(rng.integers(199, 99_999, count) / 100).cast(pl.String),
            "currency": pl.repeat("EUR", count, eager=True),
            "stock": rng.integers(0, 500, count),
            "link": "https://shop.example.com/p/" + sku,
        }
    )


def write_feed(path: Path, size_mb: int) -> int:
    """A CSV of at least ``size_mb`` MB; returns its row count."""
    written = 0
    with path.open("wb") as handle:
        while handle.tell() < size_mb * MB:
            rows(written, BATCH_ROWS, seed=written).write_csv(handle, include_header=written == 0)
            written += BATCH_ROWS
    return written


def build_snapshot(root: Path, sizes_mb: list[int]) -> None:
    """One sealed, live snapshot with a shop feed file per size."""
    store = SnapshotStore(root)
    folder = store.channel_dir(SNAPSHOT, CHANNEL)
    files = []
    for size in sizes_mb:
        path = folder / feed_name(size)
        started = time.perf_counter()
        count = write_feed(path, size)
        log.info("wrote %s (%d rows) in %.1f s", path.name, count, time.perf_counter() - started)
        files.append(FeedFile(CHANNEL, f"{CHANNEL}/{path.name}", count))
    manifest = Manifest(
        snapshot_id=SNAPSHOT,
        as_of="2026-12-01",
        created_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC).isoformat(),
        sources={"pim": "bench", "erp": "bench"},
        files=files,
        channels={CHANNEL: sum(f.rows for f in files)},
    )
    store.seal(manifest)
    store.activate(SNAPSHOT)


def serve_config(workdir: Path, feeds: Path) -> Path:
    """The shipped prism.yaml serving ``feeds`` with one shop token (stored as its hash)."""
    config = yaml.safe_load((REPO / "prism.yaml").read_text(encoding="utf-8"))
    config["publish"] = {"directory": str(feeds), "work_directory": str(workdir / "work")}
    token_hash = hashlib.sha256(TOKEN.encode()).hexdigest()
    config["serve"] = {"poll_seconds": 3600, "channels": {CHANNEL: {"token_sha256": [token_hash]}}}
    path = workdir / "bench.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the server has used, from /proc."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text(encoding="ascii")
        utime, stime = fields.rsplit(")", 1)[1].split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    def rss(self) -> int:
        """Resident set size in bytes, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024


def start_server(config: Path) -> Server:
    """`prism serve` in a child process (run from the repository, as an operator would)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    command = [sys.executable, "-c", "from pipelines.cli import main; main()", "serve"]
    command += ["--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    log_file = config.parent / "serve.log"  # uvicorn's access log and start-up messages
    with log_file.open("wb") as log_output:
        process = subprocess.Popen(command, cwd=REPO, stdout=log_output, stderr=log_output)
    server = Server(process, port)
    deadline = time.monotonic() + 120  # it verifies every file's sha256 before going live
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"prism serve exited with {process.returncode}; see {log_file}"
            raise RuntimeError(msg)
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.terminate()
    msg = "prism serve did not go live"
    raise RuntimeError(msg)


def revalidation_request(path: str, etag: str) -> bytes:
    """A conditional GET as a client holding the zstd copy sends it (stock httpx headers)."""
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {TOKEN}",
        "Accept-Encoding: gzip, deflate, zstd",
        f"If-None-Match: {etag}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def revalidate(port: int, request: bytes, count: int) -> list[float]:
    """``count`` requests one after the other on one connection: seconds each."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seconds = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")  # a 304 has no body
            seconds.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 304"):
                msg = f"expected 304, got {head.splitlines()[0]!r}"
                raise RuntimeError(msg)
    finally:
        writer.close()
        await writer.wait_closed()
    return seconds


def latency(port: int, request: bytes, clients: int, per_client: int) -> dict[str, float]:
    async def run() -> tuple[list[list[float]], float]:
        started = time.perf_counter()
        found = await asyncio.gather(
            *(revalidate(port, request, per_client) for _ in range(clients))
        )
        return found, time.perf_counter() - started

    found, wall = asyncio.run(run())
    every = sorted(s for client in found for s in client)
    return {
        "clients": clients,
        "requests": len(every),
        "median_ms": round(statistics.median(every) * 1000, 3),
        "p99_ms": round(every[int(len(every) * 0.99)] * 1000, 3),
        "per_second": round(len(every) / wall),
    }


class RssSampler:
    """The server's largest RSS seen while a download runs (sampled every 10 ms)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak = server.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.server.rss())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def download(
    server: Server, size_mb: int, encoding: str, file_bytes: int, repeat: int, idle: int
) -> dict[str, object]:
    """``repeat`` downloads with curl (body to /dev/null): MB/s of the file's bytes at the
    median time, the bytes on the wire, and the server's largest RSS during them against
    ``idle`` (its RSS before the first download)."""
    url = f"{server.url}/v1/channels/{CHANNEL}/feed/{feed_name(size_mb)}"
    command = ["curl", "-sS", "-o", "/dev/null", "-w", CURL_OUT]
    command += ["-H", f"Authorization: Bearer {TOKEN}", "-H", f"Accept-Encoding: {encoding}", url]
    cpu = server.cpu_seconds()
    seconds = []
    with RssSampler(server) as sampler:
        for _ in range(repeat):
            out = subprocess.run(command, check=True, capture_output=True).stdout
            status, wire, total = out.split()
            seconds.append(float(total))
            if status != b"200" or (encoding == "identity" and int(wire) != file_bytes):
                msg = f"download {encoding} of {size_mb} MB: status {status!r}, {wire!r} bytes"
                raise RuntimeError(msg)
    median = statistics.median(seconds)
    cpu_per_gb = (server.cpu_seconds() - cpu) / repeat / (file_bytes / 1000 / MB)
    return {
        "file_mb": round(file_bytes / MB),
        "encoding": encoding,
        "median_s": round(median, 2),
        "file_mb_per_s": round(file_bytes / MB / median),
        "wire_mb": round(int(wire) / MB, 1),
        "server_cpu_s_per_gb": round(cpu_per_gb, 2),
        "rss_idle_mib": round(idle / 2**20, 1),
        "rss_peak_mib": round(sampler.peak / 2**20, 1),
        "rss_growth_mib": round((sampler.peak - idle) / 2**20, 1),
    }


def read_speeds(path: Path) -> dict[str, int]:
    """MB/s reading ``path`` from the page cache (Python, 1 MiB reads) and from the device
    (``dd iflag=direct``, which bypasses the cache)."""
    buffer = bytearray(1 << 20)
    started = time.perf_counter()
    with path.open("rb", buffering=0) as handle:
        while handle.readinto(buffer):
            pass
    cached = time.perf_counter() - started
    started = time.perf_counter()
    dd = ["dd", f"if={path}", "of=/dev/null", "bs=4M", "iflag=direct", "status=none"]
    subprocess.run(dd, check=True)
    direct = time.perf_counter() - started
    size = path.stat().st_size / MB
    return {"page_cache_mb_per_s": round(size / cached), "device_mb_per_s": round(size / direct)}


def compress_speeds(path: Path, limit: int = 256 * MB) -> dict[str, int]:
    """MB/s of the server's own compressors on one core, in this process, over the first
    ``limit`` bytes of ``path``: the ceiling for an encoded download."""
    speeds = {}
    for encoding in ("zstd", "gzip"):
        compressor = packer(encoding)
        done = 0
        started = time.perf_counter()
        with path.open("rb") as handle:
            while done < limit and (chunk := handle.read(READ_CHUNK)):
                compressor.compress(chunk)
                done += len(chunk)
        compressor.flush()
        speeds[f"{encoding}_mb_per_s"] = round(done / MB / (time.perf_counter() - started))
    return speeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench-feed")
    parser.add_argument("--reuse-data", action="store_true", help="keep the built snapshot")
    parser.add_argument("--repeat", type=int, default=3, help="downloads per size and coding")
    parser.add_argument(
        "--encodings", nargs="+", default=["identity", "zstd", "gzip"], help="downloads to time"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    workdir = args.workdir.resolve()
    feeds = workdir / "feeds"
    if not (args.reuse_data and SnapshotStore(feeds).live_snapshot() == SNAPSHOT):
        shutil.rmtree(workdir, ignore_errors=True)
        build_snapshot(feeds, sorted(args.sizes_mb))
    manifest = SnapshotStore(feeds).manifest(SNAPSHOT)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    server = start_server(serve_config(workdir, feeds))
    result: dict[str, object] = {"start_s": round(time.perf_counter() - started, 1)}
    try:
        result |= measure(server, manifest, feeds, args)
        result["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    (workdir / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    report(result)


def measure(
    server: Server, manifest: Manifest, feeds: Path, args: argparse.Namespace
) -> dict[str, object]:
    largest = max(args.sizes_mb)
    feed = next(f for f in manifest.files if f.path.endswith(feed_name(largest)))
    path = f"/v1/channels/{CHANNEL}/feed/{feed_name(largest)}"
    request = revalidation_request(path, f'W/"{feed.sha256}-zstd"')
    latency(server.port, request, 1, 200)  # warm-up: imports, thread pool, caches
    revalidations = [latency(server.port, request, 1, args.requests)]
    for clients in (4, 16):
        revalidations.append(latency(server.port, request, clients, args.requests // clients))
    idle = server.rss()
    downloads = []
    for size in sorted(args.sizes_mb):
        entry = next(f for f in manifest.files if f.path.endswith(feed_name(size)))
        for encoding in args.encodings:
            downloads.append(download(server, size, encoding, entry.bytes, args.repeat, idle))
    file = SnapshotStore(feeds).snapshot_dir(SNAPSHOT) / feed.path
    return {
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "revalidation": revalidations,
        "downloads": downloads,
        "read": {"file_mb": round(feed.bytes / MB), **read_speeds(file)},
        "compress": compress_speeds(file),
    }


def report(result: dict[str, object]) -> None:
    log.info("%s CPUs, load average before/after: %s", result["cpus"], result["load_average"])
    log.info("prism serve went live in %s s (it verifies every file's sha256)", result["start_s"])
    for table in ("revalidation", "downloads"):
        measured = result[table]
        assert isinstance(measured, list)
        log.info("| %s |", " | ".join(measured[0]))
        log.info("|%s", " --- |" * len(measured[0]))
        for row in measured:
            log.info("| %s |", " | ".join(str(v) for v in row.values()))
    log.info("reading the file directly: %s", result["read"])
    log.info("compressing in process, one core: %s", result["compress"])


if __name__ == "__main__":
    main()
