"""Benchmark sharded runs: the same catalog (default 1,000,000 products) published with 1, 2
and 4 shards on the multiprocess executor, each run's wall time and each step's seconds and
peak memory.

    .venv/bin/python bench/shards.py [--products 1000000] [--workdir var/bench-shards]
                                     [--reuse-data] [--shards 1,2,4]
                                     [--executor multiprocess] [--max-concurrent 2] [--compare]

Each shard count gets the bench configuration of ``bench/run.py`` plus
``execution: {executor, max_concurrent, shards: N}``, its own persistent Dagster instance
(``DIR/shards-N/dagster``: the multiprocess executor's step processes reopen it) and an empty
publish folder (``DIR/shards-N/feeds``, portal ``DIR/shards-N/portal.sqlite``), so every run
publishes from scratch and the circuit breakers have no live snapshot to compare with. The
data is generated once into ``DIR/data`` (``--reuse-data`` keeps it). ``celery`` is not offered:
it would need `prism worker` processes, outside this run's process tree.

What the figures mean:

* **wall s**: `prism run --json` as a child process, start to exit (Dagster's start-up, every
  step and the publish).
* **per step**: seconds from its STEP_START to its STEP_SUCCESS (or STEP_FAILURE) event, and the
  peak resident memory (RSS, MiB) of the process that ran it: with the multiprocess executor each
  step runs in a process of its own, named by the pid of its STEP_START event. While the run goes,
  every process of its tree is sampled every 50 ms; a process's peak is the larger of its highest
  sampled VmRSS and the last VmHWM (the kernel's high-water mark) read before it ended; its
  children are not included. RSS counts shared pages (the Python runtime, mapped libraries) in
  each process, so per-step peaks do not add up to the machine's use.
* **run process**: the `prism run` process itself (the executor's parent: it only launches
  steps and records events). Every other process of the tree (Dagster's compute-log tails, the
  portal's loader, multiprocessing's helpers) is in results.json with the step it ran under;
  the table lists those of 50 MiB and more. A process that forks, execs and ends between two
  samples keeps the figures of its copy of the parent (it shows the parent's command line).
* **summary**: per shard count, the wall seconds, the largest per-step peak (GiB), the seconds of
  the per-shard steps (``shard_master[...]``, ``shard_catalog[...]``) added up, and the largest
  peak among them; the run process's peak and the tree's (the highest sum of all its processes'
  RSS in one sample: what the machine needed at once with ``max_concurrent`` steps running,
  shared pages counted in each process). On 2 cores the sharding pays off when the largest
  per-step peak falls with N while the wall time stays near the unsharded run's.

Everything goes to ``DIR/results.json`` (with the load average before and after each run,
since other work on the machine changes the times). ``--compare`` runs
``bench/compare_snapshots.py`` on the 1-shard publish and each N-shard one (live snapshot and
portal, HTML pages skipped); it reads every file whole, so at 1M products it needs several GiB
per side.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

# bench/run.py, imported as a sibling script (bench/ is first on sys.path when run as a file)
from run import REPO, bench_config, generate, process_tree, start_run, status_bytes, watch

log = logging.getLogger("bench")
MIB = 2**20
SHARD_STEP = re.compile(r"^\w+\[.+\]$")
"""A per-shard step: a dynamic step's key carries its mapping key (``shard_master[shard_0]``)."""
STEP_END = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
SHOWN_HELPER_MIB = 50
"""helper processes (not a step's own) are listed in the table from this peak up; all of
them are in results.json"""


@dataclass
class Peaks:
    """Per pid of a run's process tree: the highest sampled VmRSS, the last VmHWM read, the
    parent pid and the command line.

    A new process is a copy of its parent until it execs (multiprocessing's spawn, a
    subprocess): a sample taken in between shows the parent's memory. Exec starts a new
    address space whose high-water mark starts again from zero, so a VmHWM below the one
    recorded means the process has exec'd, and what was recorded before is dropped."""

    rss: dict[int, int] = field(default_factory=dict)
    hwm: dict[int, int] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)
    command: dict[int, str] = field(default_factory=dict)
    tree: int = 0
    """the highest sum of the tree's RSS in one sample"""

    def sample(self, root: int) -> None:
        total = 0
        for pid, status in process_tree(root).items():
            if "VmHWM:" not in status:  # ended (a zombie has no memory figures)
                continue
            rss, hwm = status_bytes(status, "VmRSS"), status_bytes(status, "VmHWM")
            if hwm < self.hwm.get(pid, 0):  # exec'd since: forgotten, the parent's memory
                del self.rss[pid], self.hwm[pid], self.command[pid]
            self.rss[pid] = max(self.rss.get(pid, 0), rss)
            self.hwm[pid] = max(self.hwm.get(pid, 0), hwm)
            total += rss
            if pid not in self.command:
                self.parent[pid] = _parent(status)
                self.command[pid] = _command(pid)
        self.tree = max(self.tree, total)

    def peak(self, pid: int) -> int | None:
        """The process's peak RSS in bytes, None when it was never sampled."""
        if pid not in self.rss:
            return None
        return max(self.rss[pid], self.hwm[pid])

    def owner(self, pid: int, owners: set[int]) -> int | None:
        """The nearest of ``owners`` among ``pid``'s ancestors (None: none of them)."""
        seen = {pid}
        while pid in self.parent and self.parent[pid] not in seen:  # a reused pid: no loop
            pid = self.parent[pid]
            if pid in owners:
                return pid
            seen.add(pid)
        return None


def _parent(status: str) -> int:
    line = next((line for line in status.splitlines() if line.startswith("PPid:")), "PPid: 0")
    return int(line.split()[1])


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip() or "?"


def run_folder_config(
    base: Path, folder: Path, shards: int, executor: str, max_concurrent: int
) -> Path:
    """``folder/prism.yaml``: the bench configuration ``base`` publishing into ``folder`` with
    ``shards`` shards on ``executor``."""
    config = yaml.safe_load(base.read_text(encoding="utf-8"))
    config["publish"] |= {
        "directory": str(folder / "feeds"),
        "work_directory": str(folder / "work"),
    }
    config["channels"]["portal"]["url"] = f"sqlite:///{folder / 'portal.sqlite'}"
    config["execution"] = {
        "executor": executor,
        "max_concurrent": max_concurrent,
        "shards": shards,
    }
    path = folder / "prism.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def dagster_home(folder: Path) -> Path:
    """A persistent instance in ``folder/dagster`` (SQLite storage under it); telemetry off, so
    nothing is sent anywhere."""
    home = folder / "dagster"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return home


def run_once(config: Path, home: Path, folder: Path) -> tuple[float, dict[str, Any], Peaks, int]:
    """Wall seconds, the ``run_finished`` record of `prism run --json`, the peaks of the run's
    processes and the run process's pid. The JSON lines go to ``folder/run.jsonl``, the
    step processes' log lines (stderr) to ``folder/run.stderr``."""
    peaks = Peaks()
    with (folder / "run.jsonl").open("wb") as out, (folder / "run.stderr").open("wb") as err:
        started = time.perf_counter()
        child = start_run(config, home, "--json", stdout=out, stderr=err)
        sampler = watch(child, lambda: peaks.sample(child.pid))
        child.wait()
        seconds = time.perf_counter() - started
    sampler.join()
    lines = (folder / "run.jsonl").read_text(encoding="utf-8").splitlines()
    finished = next((_record(line) for line in lines if '"run_finished"' in line), {})
    return seconds, finished | {"exit_code": child.returncode}, peaks, child.pid


def _record(line: str) -> dict[str, Any]:
    try:
        return dict(json.loads(line))
    except ValueError:  # not one of prism's JSON lines (a library printed to stdout)
        return {}


def step_events(home: Path, run_id: str) -> dict[str, dict[str, Any]]:
    """Per step key: start and end (epoch seconds), status, the pid of its STEP_START event
    and the pid its worker reported (STEP_WORKER_STARTED's metadata; multiprocess only)."""
    steps: dict[str, dict[str, Any]] = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None or entry.step_key is None:
                continue
            step = steps.setdefault(entry.step_key, {"status": "not finished"})
            if event.event_type == dg.DagsterEventType.STEP_START:
                step |= {"start": entry.timestamp, "pid": event.pid}
            elif event.event_type in STEP_END:
                step |= {"end": entry.timestamp, "status": event.event_type.value}
            elif event.event_type == dg.DagsterEventType.STEP_WORKER_STARTED:
                worker = event.event_specific_data.metadata.get("pid")  # type: ignore[union-attr]
                step["worker_pid"] = int(worker.value) if worker is not None else None
    return {key: step for key, step in steps.items() if "start" in step}


def step_rows(
    steps: dict[str, dict[str, Any]], peaks: Peaks
) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per step in start order (seconds, pid, peak MiB) and the oddities found."""
    rows, notes = [], []
    for key, step in sorted(steps.items(), key=lambda item: item[1]["start"]):
        pid, worker = step["pid"], step.get("worker_pid")
        if worker is not None and worker != pid:
            notes.append(f"{key}: STEP_START pid {pid} != worker pid {worker}")
        peak = peaks.peak(pid) if pid is not None else None
        if peak is None:
            notes.append(f"{key}: pid {pid} was never sampled (ended within 50 ms?)")
        end = step.get("end")
        rows.append(
            {
                "step": key,
                "pid": pid,
                "status": step["status"],
                "seconds": round(end - step["start"], 2) if end is not None else None,
                "peak_rss_mib": _mib(peak),
                "sampled_rss_mib": _mib(peaks.rss.get(pid)),
            }
        )
    return rows, notes


def _mib(value: int | None) -> float | None:
    return round(value / MIB, 1) if value is not None else None


def other_processes(peaks: Peaks, rows: list[dict[str, Any]], run_pid: int) -> list[dict[str, Any]]:
    """The tree's processes that ran no step, each with the step (or ``run``) it descends
    from: the steps' helpers (Dagster's compute-log tails, the portal's loader, compilers
    that ctypes starts to find a library) and multiprocessing's."""
    names = {row["pid"]: row["step"] for row in rows} | {run_pid: "run"}
    return [
        {
            "pid": pid,
            "under": names.get(peaks.owner(pid, set(names)) or 0, "?"),
            "command": peaks.command[pid][:160],
            "peak_rss_mib": _mib(peaks.peak(pid)),
        }
        for pid in sorted(peaks.rss)
        if pid not in names
    ]


def bench_one(workdir: Path, base: Path, shards: int, args: argparse.Namespace) -> dict[str, Any]:
    """Publish the data once with ``shards`` shards into a fresh folder; the measured run."""
    folder = workdir / f"shards-{shards}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = run_folder_config(base, folder, shards, args.executor, args.max_concurrent)
    home = dagster_home(folder)
    load_before = os.getloadavg()
    log.info("shards=%d: running (load average %.2f %.2f %.2f)", shards, *load_before)
    seconds, finished, peaks, run_pid = run_once(config, home, folder)
    run_id = finished.get("run_id")
    steps = step_events(home, run_id) if run_id else {}
    rows, notes = step_rows(steps, peaks)
    if not finished.get("published"):
        notes.append(f"did not publish: {finished.get('cause') or finished}")
    return {
        "shards": shards,
        "wall_seconds": round(seconds, 2),
        "published": bool(finished.get("published")),
        "run_id": run_id,
        "exit_code": finished["exit_code"],
        "log_file": finished.get("log_file"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "run_process": {"pid": run_pid, "peak_rss_mib": _mib(peaks.peak(run_pid))},
        "tree_peak_rss_mib": _mib(peaks.tree),
        "steps": rows,
        "other_processes": other_processes(peaks, rows, run_pid),
        "notes": notes,
        "folder": str(folder),
    }


def summary_of(result: dict[str, Any]) -> dict[str, Any]:
    steps = result["steps"]
    sharded = [s for s in steps if SHARD_STEP.match(s["step"])]
    peaks = [s["peak_rss_mib"] for s in steps if s["peak_rss_mib"] is not None]
    shard_peaks = [s["peak_rss_mib"] for s in sharded if s["peak_rss_mib"] is not None]
    return {
        "shards": result["shards"],
        "wall_seconds": result["wall_seconds"],
        "published": result["published"],
        "max_step_peak_gib": round(max(peaks) / 1024, 2) if peaks else None,
        "shard_steps": len(sharded),
        "shard_step_seconds": round(sum(s["seconds"] or 0 for s in sharded), 2)
        if sharded
        else None,
        "max_shard_step_peak_gib": round(max(shard_peaks) / 1024, 2) if shard_peaks else None,
        "run_process_peak_gib": _gib(result["run_process"]["peak_rss_mib"]),
        "tree_peak_gib": _gib(result["tree_peak_rss_mib"]),
    }


def _gib(mib: float | None) -> float | None:
    return round(mib / 1024, 2) if mib is not None else None


def compare(workdir: Path, shards: int) -> dict[str, Any]:
    """bench/compare_snapshots.py on the 1-shard and the ``shards``-shard publish; its output
    goes to ``DIR/compare-1-vs-N.txt``."""
    left, right = workdir / "shards-1", workdir / f"shards-{shards}"
    command = [
        sys.executable,
        str(REPO / "bench" / "compare_snapshots.py"),
        str(left / "feeds" / "current"),
        str(right / "feeds" / "current"),
        "--portal",
        str(left / "portal.sqlite"),
        str(right / "portal.sqlite"),
        "--skip",
        "*.html",
    ]
    out = workdir / f"compare-1-vs-{shards}.txt"
    started = time.perf_counter()
    with out.open("wb") as file:
        code = subprocess.run(command, stdout=file, stderr=subprocess.STDOUT, check=False)
    equal = code.returncode == 0
    log.info("compare 1 vs %d shards: %s (%s)", shards, "equal" if equal else "DIFFERENT", out)
    return {
        "shards": shards,
        "equal": equal,
        "exit_code": code.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "output": str(out),
    }


def log_run(result: dict[str, Any]) -> None:
    log.info(
        "\nshards=%d: %s in %.1f s (run %s, exit %d)",
        result["shards"],
        "published" if result["published"] else "NOT published",
        result["wall_seconds"],
        result["run_id"],
        result["exit_code"],
    )
    log.info("| step | pid | seconds | peak RSS MiB |\n| --- | --- | --- | --- |")
    for row in result["steps"]:
        log.info(
            "| %s | %s | %s | %s |", row["step"], row["pid"], row["seconds"], row["peak_rss_mib"]
        )
    run = result["run_process"]
    log.info("| (run process) | %s | | %s |", run["pid"], run["peak_rss_mib"])
    others = result["other_processes"]
    small = 0
    for other in others:
        if (other["peak_rss_mib"] or 0) < SHOWN_HELPER_MIB:
            small += 1
            continue
        command, pid, peak = other["command"][:60], other["pid"], other["peak_rss_mib"]
        log.info("| (helper of %s: %s) | %s | | %s |", other["under"], command, pid, peak)
    log.info("| (%d helper processes under %d MiB each) | | | |", small, SHOWN_HELPER_MIB)
    log.info("| (whole tree at once, sampled) | | | %s |", result["tree_peak_rss_mib"])
    log.info("| **whole run (wall)** | | %.2f | |", result["wall_seconds"])
    for note in result["notes"]:
        log.warning("note: %s", note)


def log_summary(summaries: list[dict[str, Any]]) -> None:
    log.info(
        "\n| shards | wall s | published | max step peak GiB | shard steps | shard-step s (sum)"
        " | max shard-step peak GiB | run process GiB | tree peak GiB |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    for s in summaries:
        log.info(
            "| %d | %.1f | %s | %s | %d | %s | %s | %s | %s |",
            s["shards"],
            s["wall_seconds"],
            "yes" if s["published"] else "NO",
            _dash(s["max_step_peak_gib"]),
            s["shard_steps"],
            _dash(s["shard_step_seconds"]),
            _dash(s["max_shard_step_peak_gib"]),
            _dash(s["run_process_peak_gib"]),
            _dash(s["tree_peak_gib"]),
        )


def _dash(value: float | None) -> str:
    return "-" if value is None else f"{value}"


def shard_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        msg = f"--shards: a comma-separated list of counts >= 1, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench-shards")
    parser.add_argument("--reuse-data", action="store_true", help="skip generation")
    parser.add_argument("--shards", type=shard_counts, default=[1, 2, 4], help="e.g. 1,2,4")
    parser.add_argument(
        "--executor", choices=["multiprocess", "in_process"], default="multiprocess"
    )
    parser.add_argument("--max-concurrent", type=int, default=2)
    parser.add_argument(
        "--compare", action="store_true", help="compare each N-shard publish with the 1-shard one"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)  # not the libraries' (alembic's, when opening an instance)
    workdir = args.workdir.resolve()
    if not args.reuse_data:
        generate(workdir, args.products)
    base = bench_config(workdir)
    results = []
    for shards in args.shards:
        results.append(bench_one(workdir, base, shards, args))
        log_run(results[-1])
    summaries = [summary_of(result) for result in results]
    comparisons = []
    if args.compare and 1 not in args.shards:
        log.warning("--compare needs 1 in --shards (the publish the others are compared with)")
    elif args.compare:
        comparisons = [compare(workdir, n) for n in args.shards if n != 1]
    report = {
        "products": args.products,
        "executor": args.executor,
        "max_concurrent": args.max_concurrent,
        "cpus": os.cpu_count(),
        "runs": results,
        "summary": summaries,
        "comparisons": comparisons,
    }
    (workdir / "results.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    log_summary(summaries)
    log.info("results: %s", workdir / "results.json")


if __name__ == "__main__":
    main()
