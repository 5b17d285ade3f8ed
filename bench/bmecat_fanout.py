"""Benchmark: the BMEcat quoting writer alone, 1 customer and 10 customers, on a synthetic
catalog of N products (default 1,000,000) shaped like the demo's quoting rows.

    .venv/bin/python bench/bmecat_fanout.py [--products 1000000] [--workdir var/bench-fanout]
                                            [--compress gzip] [--repeat 1]

Target (issue #13): 10 catalogs cost at most the first catalog plus writing the other nine's
bytes. "Writing the bytes" is measured as it happens here: each of the other catalogs, read
into memory first (not timed), written to a new file of the same folder (timed). The products
and tiers are built directly (no pipeline run), so 1M products take seconds to set up.

Every figure is given as wall seconds and as CPU seconds of the process (all threads, user +
system), the best of ``--repeat`` runs; each phase starts after ``sync``, so none pays for
writing back another's files. Writing gigabytes is bound by the disk's write-back, which
varies several-fold on a shared machine, so the writer is also timed with its catalogs going
to /dev/null: its own work for 1 and for 10 customers, without the bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import polars as pl

from contracts.config import ChannelConfig
from contracts.formats import WriteContext
from contracts.golden import PRICE_TIERS_SCHEMA
from contracts.text import file_name_for
from demo.customers import customers
from golden.pricing import effective_tiers
from sinks.formats.bmecat import Options, write
from sinks.xml_text import Compression, compressed_name

REPO = Path(__file__).resolve().parents[1]
CREATED = dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC)
log = logging.getLogger("bench.bmecat_fanout")


def products(count: int) -> pl.DataFrame:
    """The quoting channel's target fields, sizes like the demo's (~1.2 kB of XML each)."""
    i = pl.int_range(1, count + 1, eager=True).alias("i")
    text = i.cast(pl.String)
    brands = pl.Series(["Acme", "Nordlicht", "Bauprofi", "Kraftwerk"])
    kinds = pl.Series(["Spanplattenschraube Classic", "Rasenmäher Öko", "Akkuschrauber Pro"])
    brand = brands.gather(i % brands.len())
    kind = kinds.gather(i % kinds.len())
    return pl.DataFrame(
        {
            "sku": "P" + text.str.zfill(7),
            "short_description": brand + " " + kind + " " + text,
            "long_description": kind + " - " + brand,
            "gtin": "4" + text.str.zfill(12),
            "manufacturer_name": brand,
            "feature_color": pl.Series([None, "Blau", None, "Rot"]).gather(i % 4),
            "feature_size": pl.Series([None, None, "M"]).gather(i % 3),
            "image": "https://media.example.com/d/d/1/8/dd188ced8163bf7f97a84ab9_P" + text + ".jpg",
            "classification_system": pl.Series(["ECLASS-13.0"] * count),
            "classification_group": pl.Series([None, "23110101", "21040101"]).gather(i % 3),
        }
    )


def tiers(skus: pl.Series) -> pl.DataFrame:
    """List tiers (every product but each 40th; a 10-piece break on each third), group tiers
    (retail on each second, wholesale on each third) and C1000's and C2000's own prices on
    each fifth product, all in EUR."""
    n = pl.int_range(0, skus.len(), eager=True)
    base = (n % 997 + 100).cast(pl.Decimal(18, 4)) / 10
    frame = pl.DataFrame({"sku": skus, "n": n, "base": base})

    def level(
        keep: pl.Expr, kind: str, group: str | None, customer: str | None, share: float
    ) -> pl.DataFrame:
        return frame.filter(keep).select(
            "sku",
            price_type=pl.lit(kind),
            customer_group=pl.lit(group, pl.String),
            customer_id=pl.lit(customer, pl.String),
            currency=pl.lit("EUR"),
            min_quantity=pl.lit(1, pl.Int64),
            unit_price=pl.col("base") * pl.lit(share).cast(pl.Decimal(18, 4)),
        )

    n_ = pl.col("n")
    parts = [
        level(n_ % 40 != 0, "list", None, None, 1.0),
        level((n_ % 40 != 0) & (n_ % 3 == 0), "list", None, None, 0.9).with_columns(
            min_quantity=pl.lit(10, pl.Int64)
        ),
        level(n_ % 2 == 0, "group", "retail", None, 0.97),
        level(n_ % 3 == 0, "group", "wholesale", None, 0.85),
        level(n_ % 5 == 0, "customer", None, "C1000", 0.9),
        level(n_ % 5 == 1, "customer", None, "C2000", 0.8),
    ]
    found = pl.concat(parts).with_columns(
        valid_from=pl.lit(None, pl.Date),
        valid_to=pl.lit(None, pl.Date),
        erp_source=pl.lit("prices.csv:2"),
    )
    return found.select(PRICE_TIERS_SCHEMA.names()).cast(PRICE_TIERS_SCHEMA)


def active(count: int) -> list[tuple[str, str, str, str, str]]:
    """The first ``count`` active customers of the demo's master (with enough extra ones)."""
    return [row for row in customers(extra=count) if row[4] == "true"][:count]


def context(
    folder: Path, price_tiers: pl.DataFrame, count: int, compress: Compression | None
) -> WriteContext:
    """The quoting channel's write context with the first ``count`` active demo customers."""
    buyers = [{"id": c[0], "name": c[2], "group": c[1] or None} for c in active(count)]
    options = {"supplier": {"id": "EXAMPLE", "name": "Example GmbH"}, "customers": buyers}
    return WriteContext(
        channel="quoting",
        settings=ChannelConfig(format="bmecat", locale="de_DE", currency="EUR"),
        options=Options.model_validate(options | ({"compress": compress} if compress else {})),
        folder=folder,
        snapshot_id="20261122T060000Z-00000000",
        created=CREATED,
        tiers=price_tiers,
        golden=None,
        price_rule=effective_tiers,
    )


class Timer:
    """Wall and CPU seconds (``time.process_time``: every thread, user + system) of a block."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    @classmethod
    def best(cls) -> Timer:
        """A timer to keep the least of several measurements (``least``)."""
        timer = cls()
        timer.wall = timer.cpu = float("inf")
        return timer

    def least(self, other: Timer) -> Timer:
        """Each figure's least of this timer's and ``other``'s."""
        timer = Timer()
        timer.wall, timer.cpu = min(self.wall, other.wall), min(self.cpu, other.cpu)
        return timer

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def timed_write(
    frame: pl.DataFrame,
    price_tiers: pl.DataFrame,
    folder: Path,
    count: int,
    compress: Compression | None,
    *,
    discard: bool = False,
) -> tuple[Timer, list[Path]]:
    """Time the writer for ``count`` customers; ``discard``: every catalog goes to /dev/null
    (a link in its place), which leaves the writer's own work without the cost of its bytes."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    write_context = context(folder, price_tiers, count, compress)
    if discard:
        for customer_id, *_ in active(count):
            name = compressed_name(f"{file_name_for(customer_id)}.xml", compress)
            (folder / name).symlink_to(os.devnull)
    os.sync()  # every phase starts with nothing left to write back
    with Timer() as timer:
        files = write(frame, write_context)
    return timer, [folder / Path(f.path).name for f in files]


def write_seconds(paths: list[Path]) -> Timer:
    """Time to write the bytes of ``paths`` to new files, each read into memory first; the
    copies stay until all are written, as the catalogs do (deleting a file right after writing
    it spares the system writing it back, and would flatter the floor)."""
    timer = Timer()
    copies = [path.with_name(path.name + ".copy") for path in paths]
    os.sync()
    for path, copy in zip(paths, copies, strict=True):
        data = path.read_bytes()
        with timer, copy.open("wb") as out:
            out.write(data)
        del data
    for copy in copies:
        copy.unlink()
    return timer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench-fanout")
    parser.add_argument("--compress", choices=["gzip"], default=None)
    parser.add_argument("--keep", action="store_true", help="keep the catalogs written")
    parser.add_argument(
        "--repeat", type=int, default=1, help="measure this often, keep each figure's best"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("sinks").setLevel(logging.ERROR)  # the unpriced products, every run
    started = time.perf_counter()
    frame = products(args.products)
    price_tiers = tiers(frame.get_column("sku"))
    log.info(
        "%d products, %d tiers built in %.1f s",
        frame.height,
        price_tiers.height,
        time.perf_counter() - started,
    )
    workdir = args.workdir.resolve()
    one, ten, others = Timer.best(), Timer.best(), Timer.best()
    one_work, ten_work = Timer.best(), Timer.best()
    null = workdir / "discarded"
    for _ in range(args.repeat):
        timer, [first] = timed_write(frame, price_tiers, workdir / "one", 1, args.compress)
        one = one.least(timer)
        timer, files = timed_write(frame, price_tiers, workdir / "ten", 10, args.compress)
        ten = ten.least(timer)
        others = others.least(write_seconds(files[1:]))
        one_work = one_work.least(
            timed_write(frame, price_tiers, null, 1, args.compress, discard=True)[0]
        )
        ten_work = ten_work.least(
            timed_write(frame, price_tiers, null, 10, args.compress, discard=True)[0]
        )
    sizes = [p.stat().st_size for p in files]
    result: dict[str, Any] = {
        "products": args.products,
        "repeat": args.repeat,
        "tiers": price_tiers.height,
        "compress": args.compress,
        "first_catalog_bytes": first.stat().st_size,
        "ten_catalogs_bytes": sum(sizes),
    }
    for kind in ("wall", "cpu"):
        target = getattr(one, kind) + getattr(others, kind)
        result[kind] = {
            "one_customer_seconds": round(getattr(one, kind), 2),
            "ten_customers_seconds": round(getattr(ten, kind), 2),
            "write_other_nine_seconds": round(getattr(others, kind), 2),
            "target_seconds": round(target, 2),
            "met": getattr(ten, kind) <= target,
            "one_customer_without_bytes_seconds": round(getattr(one_work, kind), 2),
            "ten_customers_without_bytes_seconds": round(getattr(ten_work, kind), 2),
        }
    (workdir / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    log.info("| | 1 customer | 10 customers | write 9 catalogs' bytes | target: 1 + that |")
    log.info("| --- | --- | --- | --- | --- |")
    for kind in ("wall", "cpu"):
        row = result[kind]
        log.info(
            "| %s seconds | %.2f | %.2f | %.2f | %.2f (%s) |",
            kind,
            row["one_customer_seconds"],
            row["ten_customers_seconds"],
            row["write_other_nine_seconds"],
            row["target_seconds"],
            "met" if row["met"] else "NOT met",
        )
    log.info("| bytes | %d | %d | | |", result["first_catalog_bytes"], result["ten_catalogs_bytes"])
    for kind in ("wall", "cpu"):
        row = result[kind]
        log.info(
            "| %s seconds, catalogs to /dev/null | %.2f | %.2f | | |",
            kind,
            row["one_customer_without_bytes_seconds"],
            row["ten_customers_without_bytes_seconds"],
        )
    if not args.keep:
        for folder in ("one", "ten", "discarded"):
            shutil.rmtree(workdir / folder)


if __name__ == "__main__":
    main()
