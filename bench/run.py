"""Benchmark: generate N products (default 1,000,000), run the whole pipeline once through
`prism run`, and report each stage's seconds and the run's peak memory (RSS).

    .venv/bin/python bench/run.py [--products 1000000] [--workdir var/bench] [--reuse-data]
                                  [--customers N] [--compress gzip]

``--customers N`` gives the quoting channel (BMEcat) the first N active customers of the demo
ERP's customer master (generated with enough of them) instead of prism.yaml's two;
``--compress gzip`` writes its catalogs gzipped. Each channel's writer seconds are reported
too (``channel_seconds``), so 1 and 10 quoting customers compare on the quoting writer alone.

The run happens in a child process so its peak RSS, CPU seconds (user and system) and page
faults are measured alone (getrusage of children); while it runs, the resident memory of its
process tree (the run and the portal's loader child) is sampled every 50 ms, and each stage's
peak is the highest sample within the stage's start and end. Targets on a 2-core machine:
<= 20 s and <= 3 GiB for 1M products to every channel.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

import dagster as dg
import yaml

from demo import generate_demo_data
from demo.customers import active_ids

REPO = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 22)
log = logging.getLogger("bench")


def extra_customers(customers: int | None) -> int:
    """How many customers the demo ERP needs beyond its own for ``customers`` catalogs."""
    return max(0, (customers or 0) - len(active_ids()))


def bench_config(
    workdir: Path,
    customers: int | None = None,
    compress: str | None = None,
    portal: str = "duckdb",
) -> Path:
    """The shipped prism.yaml with every path moved into the bench folder; ``customers``: the
    quoting channel's customers are the first that many active ones of the demo ERP;
    ``portal``: the portal's database (``duckdb``, the shipped default, or ``sqlite``)."""
    config = yaml.safe_load((REPO / "prism.yaml").read_text(encoding="utf-8"))
    quoting = config["channels"]["quoting"]
    if customers is not None:
        ids = active_ids(extra_customers(customers))[:customers]
        quoting["customers"] = {"from": "erp", "ids": ids}
    if compress is not None:
        quoting["compress"] = compress
    config["as_of"] = AS_OF.isoformat()
    config["pim"]["path"] = str(workdir / "data" / "pim")
    config["erp"]["path"] = str(workdir / "data" / "erp")
    config["publish"] = {
        "directory": str(workdir / "feeds"),
        "work_directory": str(workdir / "work"),
        "keep": 2,
    }
    config["channels"]["portal"]["url"] = f"{portal}:///{workdir / f'portal.{portal}'}"
    for channel in config["channels"].values():  # lookup files stay the repository's
        for field in (channel.get("fields") or {}).values():
            lookup = field.get("map") if isinstance(field, dict) else None
            if isinstance(lookup, dict) and "file" in lookup:
                lookup["file"] = str(REPO / lookup["file"])
    path = workdir / "bench.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def generate(workdir: Path, products: int, customers: int | None = None) -> None:
    """A fresh ``workdir`` whose ``data/`` holds the demo PIM and ERP drops of ``products``
    products (and enough ERP customers for ``customers`` quoting catalogs)."""
    shutil.rmtree(workdir, ignore_errors=True)
    started = time.perf_counter()
    generate_demo_data(
        workdir / "data",
        products=products,
        as_of=AS_OF,
        extra_customers=extra_customers(customers),
    )
    log.info("generated %d products in %.1f s", products, time.perf_counter() - started)


def start_run(
    config: Path,
    dagster_home: Path,
    *args: str,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """`prism run --config CONFIG ARGS...` in a child process on the instance at
    ``dagster_home`` (output to ours unless ``stdout``/``stderr`` are given)."""
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    command = [str(Path(sys.executable).parent / "prism"), "run", "--config", str(config)]
    return subprocess.Popen([*command, *args], env=env, stdout=stdout, stderr=stderr)


def watch(child: subprocess.Popen[bytes], sample: Callable[[], None]) -> threading.Thread:
    """A started thread calling ``sample`` every 50 ms while ``child`` runs."""

    def loop() -> None:
        while child.poll() is None:
            sample()
            time.sleep(0.05)

    sampler = threading.Thread(target=loop, daemon=True)
    sampler.start()
    return sampler


@dataclass(frozen=True)
class ChildUsage:
    """What a finished child process (with the children it waited for) cost: CPU seconds of
    all its threads in user and kernel mode, and its page faults. They tell work from
    waiting and user from kernel time (a run that touches fresh memory pays in system time,
    per page); the faults hardly vary from run to run where seconds vary by a fifth on a
    shared virtual machine."""

    user_seconds: float
    system_seconds: float
    minor_faults: int
    major_faults: int

    @classmethod
    def since(cls, before: resource.struct_rusage) -> ChildUsage:
        """The usage of the children waited for since ``before`` (getrusage of children)."""
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            round(after.ru_utime - before.ru_utime, 2),
            round(after.ru_stime - before.ru_stime, 2),
            after.ru_minflt - before.ru_minflt,
            after.ru_majflt - before.ru_majflt,
        )


class Sample(NamedTuple):
    """The run's process tree at one moment."""

    at: float
    """epoch seconds"""
    rss: int
    """resident bytes of the tree's processes"""
    user: float
    """CPU seconds in user mode so far: the tree's processes and the children they waited for"""
    system: float
    """the same in kernel mode"""


@dataclass(frozen=True)
class RunMeasure:
    """One `prism run` in a child process, measured from outside."""

    seconds: float
    peak_bytes: int
    """the largest RSS of any child process waited for so far (getrusage: in a process that
    ran several, the largest of them all)"""
    samples: list[Sample]
    """the run's process tree every 50 ms"""
    usage: ChildUsage

    @property
    def sampled_peak_bytes(self) -> int:
        """This run's own peak: the largest sample of its process tree."""
        return max((s.rss for s in self.samples), default=0)


def run_pipeline(config: Path, dagster_home: Path) -> RunMeasure:
    """One `prism run` in a child process: its seconds, peak memory and CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = start_run(config, dagster_home)
    samples: list[Sample] = []
    sampler = watch(child, lambda: samples.append(sample_tree(child.pid)))
    if child.wait() != 0:
        raise subprocess.CalledProcessError(child.returncode, child.args)
    seconds = time.perf_counter() - started
    sampler.join()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return RunMeasure(seconds, peak, samples, ChildUsage.since(before))


_WRITTEN = re.compile(r"^(\w+): \d+ products written in ([0-9.]+) s$")


def channel_seconds(dagster_home: Path) -> dict[str, float]:
    """Seconds of each channel's writer (mapping view, format writer, rows file), from the
    feed step's progress log lines."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        messages = [e.user_message for e in instance.all_logs(run.run_id)]
    found = (_WRITTEN.match(m) for m in messages)
    return {m[1]: float(m[2]) for m in found if m}


_TICK = os.sysconf("SC_CLK_TCK")
STAGE_TABLE = (
    "| stage | seconds | peak RSS GiB | CPU user s | CPU system s |\n"
    "| --- | --- | --- | --- | --- |"
)


def sample_tree(pid: int) -> Sample:
    """Resident bytes and CPU seconds of ``pid`` and its descendants, now (0 once gone)."""
    tree = process_tree(pid)
    user = system = 0.0
    for process in tree:
        try:
            stat = Path(f"/proc/{process}/stat").read_text()
        except OSError:
            continue
        # after the command's ")": state is field 3, utime 14, stime 15, cutime 16, cstime 17
        fields = stat[stat.rindex(")") + 2 :].split()
        user += (int(fields[11]) + int(fields[13])) / _TICK
        system += (int(fields[12]) + int(fields[14])) / _TICK
    rss = sum(status_bytes(status, "VmRSS") for status in tree.values())
    return Sample(time.time(), rss, user, system)


def process_tree(pid: int) -> dict[int, str]:
    """The /proc status text of ``pid`` and of each of its descendants, by pid (those alive;
    none once ``pid`` is gone)."""
    found: dict[int, str] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            tasks = Path(f"/proc/{current}/task").iterdir()
            children = [c for t in tasks for c in (t / "children").read_text().split()]
        except OSError:
            continue
        found[current] = status
        pending.extend(int(c) for c in children)
    return found


def status_bytes(status: str, field: str) -> int:
    """A memory figure of a /proc status text (``VmRSS``, ``VmHWM``) in bytes; 0 without it
    (a zombie has none)."""
    line = next((line for line in status.splitlines() if line.startswith(f"{field}:")), "")
    return int(line.split()[1]) * 1024 if line else 0


def step_peaks(windows: dict[str, tuple[float, float]], samples: list[Sample]) -> dict[str, float]:
    """Each step's peak resident memory in GiB: the highest sample within its window."""
    peaks = {}
    for step, (start, end) in windows.items():
        inside = [s.rss for s in samples if start <= s.at <= end]
        peaks[step] = round(max(inside, default=0) / 2**30, 2)
    return peaks


def step_cpu(
    windows: dict[str, tuple[float, float]], samples: list[Sample]
) -> dict[str, tuple[float, float]]:
    """Each step's CPU seconds (user, system): what the tree spent between the first and the
    last sample within its window (50 ms apart: a step shorter than that shows 0)."""
    cpu = {}
    for step, (start, end) in windows.items():
        inside = [s for s in samples if start <= s.at <= end]
        if not inside:
            cpu[step] = (0.0, 0.0)
            continue
        first, last = inside[0], inside[-1]
        cpu[step] = (round(last.user - first.user, 2), round(last.system - first.system, 2))
    return cpu


def step_seconds(
    dagster_home: Path,
) -> tuple[dict[str, tuple[float, float]], float, dict[str, float]]:
    """(start, end) epoch seconds per step, the seconds great-expectations spent inside
    ``channel_feeds``, and the channel mappings' seconds (per channel, summed over the two
    steps that map)."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_step_stats(run.run_id)
        feeds = asset_metadata(instance, "expectation_results")
        quarantine = asset_metadata(instance, "quarantine")
    steps = {s.step_key: (s.start_time, s.end_time) for s in stats if s.start_time and s.end_time}
    mapping: dict[str, float] = {}
    for metadata in (quarantine, feeds):
        for key, value in metadata.items():
            if key.startswith("mapping_seconds"):
                mapping[key] = round(mapping.get(key, 0.0) + float(value.value), 3)
    ge = feeds.get("validation_seconds")
    return steps, float(ge.value) if ge is not None else 0.0, mapping


def asset_metadata(instance: dg.DagsterInstance, asset: str) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(dg.AssetKey(asset))
    found = event.asset_materialization if event else None
    return dict(found.metadata) if found else {}


def validation_seconds(steps: dict[str, float], ge_seconds: float) -> float:
    """Validation = the vectorized rules (quarantine), the great-expectations suites on every
    feed and the gate (breakers, completeness, report); target: under a quarter of the run."""
    return steps.get("quarantine", 0.0) + ge_seconds + steps.get("quality_report", 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench")
    parser.add_argument("--reuse-data", action="store_true", help="skip generation")
    parser.add_argument(
        "--customers", type=int, default=None, help="quoting catalogs (default: prism.yaml's)"
    )
    parser.add_argument("--compress", choices=["gzip"], default=None, help="quoting catalogs")
    parser.add_argument(
        "--portal",
        choices=["duckdb", "sqlite"],
        default="duckdb",
        help="the portal's database (default: duckdb, as prism.yaml ships)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    workdir = args.workdir.resolve()
    if not args.reuse_data:
        generate(workdir, args.products, args.customers)
    for stale in ("feeds", "work", "dagster"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    for stale in workdir.glob("portal.*"):  # a SQLite file, a DuckDB link, lock and folder
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    dagster_home = workdir / "dagster"
    dagster_home.mkdir(parents=True)
    config = bench_config(workdir, args.customers, args.compress, args.portal)
    measured = run_pipeline(config, dagster_home)
    seconds, peak = measured.seconds, measured.peak_bytes
    windows, ge_seconds, mapping = step_seconds(dagster_home)
    steps = {step: round(end - start, 2) for step, (start, end) in windows.items()}
    peaks = step_peaks(windows, measured.samples)
    cpu = step_cpu(windows, measured.samples)
    writers = channel_seconds(dagster_home)
    catalogs = sorted((workdir / "feeds" / "current" / "quoting").iterdir())
    validation = validation_seconds(steps, ge_seconds)
    result = {
        "products": args.products,
        "quoting_catalogs": len(catalogs),
        "quoting_bytes": sum(p.stat().st_size for p in catalogs),
        "total_seconds": round(seconds, 2),
        "peak_rss_gib": round(peak / 2**30, 2),
        "cpu": asdict(measured.usage),
        "steps": steps,
        "step_peak_rss_gib": peaks,
        "step_cpu_seconds": {step: {"user": u, "system": k} for step, (u, k) in cpu.items()},
        "channel_seconds": writers,
        "great_expectations_seconds": ge_seconds,
        "mapping_seconds": mapping,
        "validation_seconds": round(validation, 2),
        "validation_share": round(validation / seconds, 3),
    }
    (workdir / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    log.info(STAGE_TABLE)
    for step, secs in steps.items():
        log.info("| %s | %.2f | %.2f | %.1f | %.1f |", step, secs, peaks[step], *cpu[step])
    log.info("| (of channel_feeds: great-expectations suites) | %.2f |", ge_seconds)
    log.info(
        "| (mapping: every channel's filters, fields and checks, in quarantine + channel_feeds)"
        " | %.2f |",
        mapping.get("mapping_seconds", 0.0),
    )
    log.info("| **whole run (process)** | %.2f |", seconds)
    for key, secs in sorted(mapping.items()):
        if key != "mapping_seconds":
            log.info("mapping %s: %.2f s", key.removeprefix("mapping_seconds/"), secs)
    log.info(
        "validation (quarantine + suites + gate): %.2f s = %.0f %% of the run (target < 25 %%)",
        validation,
        100 * validation / seconds,
    )
    for channel, secs in sorted(writers.items()):
        log.info("writer %s: %.2f s", channel, secs)
    log.info("quoting: %d catalogs, %.1f MB", len(catalogs), result["quoting_bytes"] / 1e6)
    log.info("peak RSS: %.2f GiB", peak / 2**30)
    log.info("%s", usage_line(measured.usage))


def usage_line(usage: ChildUsage) -> str:
    return (
        f"CPU: user {usage.user_seconds:.1f} s, system {usage.system_seconds:.1f} s; "
        f"page faults: {usage.minor_faults:,} minor, {usage.major_faults:,} major"
    )


if __name__ == "__main__":
    main()
