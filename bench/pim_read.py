"""Time the ``pim_master_data`` step piece by piece on one PIM drop, outside Dagster.

Runs what the asset runs (structure, PIM model, master needs, export, broken lineage, golden
master data) on the drop folder and configuration given, ``--runs`` times, and prints each
piece's seconds (and the median) and the process's peak RSS. ``--out`` writes the step's frames
as parquet, named like the assets, for comparison with a run's outputs.

    .venv/bin/python bench/pim_read.py bench.yaml PIM_DROP_FOLDER [--runs 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts.config import PrismConfig, load_config
from golden.lineage import split_broken_lineage
from golden.master_data import golden_master_data
from mapping.plan import master_needs, pim_model
from sinks.formats import FORMATS
from sources.akeneo_files import read_pim_export, read_pim_structure

log = logging.getLogger("bench.pim_read")
T = TypeVar("T")
STRUCTURE = ("attributes", "attribute_options", "channels", "families", "family_variants")


def timed(seconds: dict[str, float], piece: str, work: Callable[[], T]) -> T:
    """``work()``, its wall seconds in ``seconds[piece]`` and its CPU seconds (all threads) in
    ``seconds[piece + " cpu"]``: on a shared machine the CPU time is the steadier number."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    seconds[piece] = time.perf_counter() - started
    seconds[f"{piece} cpu"] = time.process_time() - cpu
    return result


def run_once(config: PrismConfig, folder: Path, out: Path | None) -> dict[str, float]:
    """One pass of the step; seconds per piece (and ``total``)."""
    seconds: dict[str, float] = {}
    structure = timed(seconds, "structure", lambda: read_pim_structure(folder, config.locales))
    model = timed(
        seconds,
        "pim_model",
        lambda: pim_model(
            config,
            structure.attributes,
            structure.attribute_options,
            structure.channels,
            structure.families,
            structure.family_variants,
        ),
    )
    needs = timed(seconds, "master_needs", lambda: master_needs(config, FORMATS, model))
    export = timed(
        seconds,
        "read_export",
        lambda: read_pim_export(
            folder, config.locales, config.scopes, needs.attributes, structure=structure
        ),
    )
    export, lineage = timed(seconds, "lineage", lambda: split_broken_lineage(export))
    master = timed(seconds, "golden", lambda: golden_master_data(export, needs).collect())
    seconds["total"] = sum(v for k, v in seconds.items() if not k.endswith(" cpu"))
    seconds["total cpu"] = sum(v for k, v in seconds.items() if k.endswith(" cpu"))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        master.write_parquet(out / "pim_master_data.parquet")
        pl.concat([export.rejects, lineage]).write_parquet(out / "pim_rejects.parquet")
        for name in STRUCTURE:
            getattr(export, name).write_parquet(out / f"pim_{name}.parquet")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path, help="prism.yaml of the run")
    parser.add_argument("folder", type=Path, help="one PIM drop folder (products.jsonl, ...)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the step's frames here as parquet")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = load_config(args.config)
    runs = [run_once(config, args.folder, args.out if i == 0 else None) for i in range(args.runs)]
    for piece in sorted(runs[0], key=lambda p: p.endswith(" cpu")):
        values = [run[piece] for run in runs]
        listed = " ".join(f"{v:6.2f}" for v in values)
        log.info("%-17s %s  median %6.2f s", piece, listed, statistics.median(values))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    log.info("peak RSS          %.0f MiB", peak)


if __name__ == "__main__":
    main()
