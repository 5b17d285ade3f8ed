"""Benchmark the run after a small change: 1 % of prices and stock rows (``--change erp``) or
1 % of PIM products (``--change pim``), against a full run on the same inputs.

    .venv/bin/python bench/incremental.py [--products 1000000] [--workdir var/bench-incremental]
                                          [--data DIR] [--change erp|pim] [--share 0.01]
                                          [--no-compare] [--warm]

Two workspaces read the same drops (``DIR/drops``, the generated or ``--data`` snapshots
linked in): ``incremental`` keeps its work folder, so its second run finds the state its first
run stored (the PIM state, the completeness scores, the channel views); ``full`` has that
state removed before its second run, so it reads and computes everything. Both first publish
the base drops, then the changed drop is added as the newest snapshot and both publish again.
The second runs are the figures: wall seconds, each stage's seconds and peak RSS, whether the
PIM state was reused, and per channel view built from the first run's the golden rows mapped
again. ``bench/compare_snapshots.py`` then compares the two live snapshots and portals (the
HTML pages stamp their creation time and are skipped): an incremental run must publish what a
full run publishes, deltas included (both replace an equal previous snapshot).
``--warm`` publishes the base drops a second time in ``incremental`` before the change: from
the second publish on, the deltas keep each full feed's record index, so the measured run reads
the previous side from it, as a daily run does.

The change is made line by line on a copy of the newest drop, so the rest of each file stays
byte for byte (defective demo rows included): ``erp``: every 1/share-th data line of
``prices.csv`` gets a new ``amount`` and of ``stock.csv`` a new ``on_hand``; ``pim``: every
1/share-th product line of ``products.jsonl`` gets " (2)" appended to its names (or its
descriptions, or its ``enabled`` flag flipped when it has neither); the other files are
linked. The ready marker is rewritten with the base marker's row counts. Results go to
``DIR/results.json``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import dagster as dg

# bench/run.py, imported as a sibling script (bench/ is first on sys.path when run as a file)
from run import (
    REPO,
    STAGE_TABLE,
    ChildUsage,
    asset_metadata,
    bench_config,
    generate,
    run_pipeline,
    step_cpu,
    step_peaks,
    step_seconds,
    usage_line,
)

from sources.drops import read_marker, write_marker

MARKER = "manifest.json"
CHANGED = "-changed"
log = logging.getLogger("bench.incremental")


def link_drops(data: Path, drops: Path) -> None:
    """``drops/{pim,erp}/<snapshot>`` linked to each base snapshot of ``data``."""
    shutil.rmtree(drops, ignore_errors=True)
    for side in ("pim", "erp"):
        (drops / side).mkdir(parents=True)
        for snapshot in (data / side).iterdir():
            if snapshot.is_dir() and CHANGED not in snapshot.name:
                (drops / side / snapshot.name).symlink_to(snapshot.resolve())


def changed_drop(drops: Path, side: str, share: float) -> Path:
    """A copy of the newest ``side`` drop as a newer snapshot, with ``share`` of its rows
    changed (the module docstring says which); unchanged files are links."""
    base = max(p for p in (drops / side).iterdir() if CHANGED not in p.name)
    target = drops / side / f"{base.name}{CHANGED}"
    target.mkdir()
    every = max(1, round(1 / share))
    edits = {"prices.csv": "amount", "stock.csv": "on_hand"} if side == "erp" else {}
    for path in base.iterdir():
        if path.name == MARKER:
            continue
        if path.name in edits:
            _edit_csv(path, target / path.name, edits[path.name], every)
        elif side == "pim" and path.name == "products.jsonl":
            _edit_products(path, target / path.name, every)
        else:
            (target / path.name).symlink_to(path.resolve())
    listed = read_marker(base, MARKER) or {}
    write_marker(target, {name: f.rows for name, f in listed.items() if f.rows is not None})
    return target


def _edit_csv(source: Path, target: Path, column: str, every: int) -> None:
    with source.open(encoding="utf-8", newline="") as lines, target.open("w", newline="") as out:
        header = next(lines)
        out.write(header)
        position = next(csv.reader([header])).index(column)
        for number, line in enumerate(lines):
            if number % every == 0:
                line = _changed_cell(line, position)
            out.write(line)


def _changed_cell(line: str, position: int) -> str:
    fields = next(csv.reader([line]), [])
    if len(fields) <= position:
        return line
    value = fields[position]
    try:
        fields[position] = (
            str(round(float(value) * 1.07, 2)) if "." in value else str(int(value) + 3)
        )
    except ValueError:
        return line
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue() if line.endswith("\n") else buffer.getvalue().rstrip("\n")


def _edit_products(source: Path, target: Path, every: int) -> None:
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8") as out:
        for number, line in enumerate(lines):
            out.write(_changed_product(line) if number % every == 0 else line)


def _changed_product(line: str) -> str:
    """The product's names (every locale) with " (2)" appended, else its descriptions, else
    its ``enabled`` flag flipped; a line that is no JSON object stays as it is."""
    try:
        item = json.loads(line)
    except ValueError:
        return line
    if not isinstance(item, dict):
        return line
    values = item.get("values") if isinstance(item.get("values"), dict) else {}
    texts = {
        code: [v for v in entries if isinstance(v, dict) and isinstance(v.get("data"), str)]
        for code, entries in sorted(values.items())
        if isinstance(entries, list)
    }
    changed = texts.get("name") or texts.get("description") or []
    for value in changed:
        value["data"] += " (2)"
    if not changed:  # a variant inherits its texts: its own change is its status
        item["enabled"] = not item.get("enabled", True)
    return json.dumps(item, ensure_ascii=False) + "\n"


def workspace(root: Path, drops: Path) -> tuple[Path, Path]:
    """A fresh publish workspace reading ``drops``: its bench configuration and Dagster home."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "data").symlink_to(drops)
    (root / "dagster").mkdir()
    return bench_config(root), root / "dagster"


def timed_run(config: Path, dagster_home: Path) -> dict[str, Any]:
    """One `prism run`: wall seconds, its own peak RSS (sampled: getrusage's would be the
    largest of every run so far), CPU and page faults, each stage's seconds and peak, state
    reuse."""
    measured = run_pipeline(config, dagster_home)
    windows, _, _ = step_seconds(dagster_home)
    with dg.DagsterInstance.get() as instance:
        pim = asset_metadata(instance, "pim_master_data")
        erp = asset_metadata(instance, "erp_prices")
        report = asset_metadata(instance, "quality_report")
        quarantine = asset_metadata(instance, "quarantine")
    reused, erp_reused = pim.get("pim_state_reused"), erp.get("erp_state_reused")
    completeness = report.get("completeness_reused")
    return {
        "seconds": round(measured.seconds, 2),
        "peak_rss_gib": round(measured.sampled_peak_bytes / 2**30, 2),
        "cpu": asdict(measured.usage),
        "steps": {s: round(end - start, 2) for s, (start, end) in windows.items()},
        "step_peak_rss_gib": step_peaks(windows, measured.samples),
        "step_cpu_seconds": step_cpu(windows, measured.samples),
        "pim_state_reused": None if reused is None else bool(reused.value),
        "erp_state_reused": None if erp_reused is None else bool(erp_reused.value),
        "completeness_reused": None if completeness is None else bool(completeness.value),
        # per channel whose view was built from the previous run's: the golden rows mapped
        "remapped_rows": {
            key.removeprefix("remapped_rows/"): int(value.value)
            for key, value in quarantine.items()
            if key.startswith("remapped_rows/")
        },
    }


def compare(left: Path, right: Path) -> tuple[bool, str]:
    command = [sys.executable, str(REPO / "bench" / "compare_snapshots.py")]
    command += [str(left / "feeds" / "current"), str(right / "feeds" / "current")]
    command += ["--portal", str(left / "portal.duckdb"), str(right / "portal.duckdb")]
    command += ["--skip", "*.html"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench-incremental")
    parser.add_argument("--data", type=Path, default=None, help="existing demo drops")
    parser.add_argument("--change", choices=("erp", "pim"), default="erp")
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--no-compare", action="store_true", help="skip the full runs")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="publish the base drops twice before the change (from the second publish on the "
        "deltas keep record indexes, as in daily operation)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    workdir = args.workdir.resolve()
    data = args.data.resolve() if args.data else workdir / "data"
    if args.data is None:
        generate(workdir, args.products)
    drops = workdir / "drops"
    link_drops(data, drops)
    sides = {"incremental": workspace(workdir / "incremental", drops)}
    if not args.no_compare:
        sides["full"] = workspace(workdir / "full", drops)
    results: dict[str, Any] = {"change": args.change, "share": args.share}
    for name, (config, home) in sides.items():
        results[f"{name}_first"] = timed_run(config, home)
        _show(f"{name} (first, on the base drops)", results[f"{name}_first"])
    if args.warm:
        config, home = sides["incremental"]
        results["incremental_warm"] = timed_run(config, home)
        _show("incremental (again, on the base drops)", results["incremental_warm"])
    started = time.perf_counter()
    changed_drop(drops, args.change, args.share)
    log.info("changed %s drop written in %.1f s", args.change, time.perf_counter() - started)
    for name, (config, home) in sides.items():
        if name == "full":
            shutil.rmtree(workdir / name / "work" / "cache", ignore_errors=True)
        results[name] = timed_run(config, home)
        _show(f"{name} (after the change)", results[name])
    if "full" in sides:
        equal, text = compare(workdir / "incremental", workdir / "full")
        results["equal"] = equal
        log.info("incremental == full: %s\n%s", equal, text[-3000:])
    (workdir / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if results.get("equal", True) else 1


def _show(name: str, result: dict[str, Any]) -> None:
    log.info(
        "%s run: %.2f s, peak %.2f GiB (PIM state reused: %s, ERP state reused: %s, "
        "completeness reused: %s, views built from the previous run's, rows mapped: %s)",
        name,
        result["seconds"],
        result["peak_rss_gib"],
        result["pim_state_reused"],
        result["erp_state_reused"],
        result["completeness_reused"],
        result["remapped_rows"] or "none",
    )
    log.info("%s", usage_line(ChildUsage(**result["cpu"])))
    log.info(STAGE_TABLE)
    for step, seconds in result["steps"].items():
        peak, (user, system) = result["step_peak_rss_gib"][step], result["step_cpu_seconds"][step]
        log.info("| %s | %.2f | %.2f | %.1f | %.1f |", step, seconds, peak, user, system)


if __name__ == "__main__":
    raise SystemExit(main())
