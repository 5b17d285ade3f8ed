"""Writing rendered rows: one file per entity, rendered and appended a chunk at a time."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl

CHUNK = 200_000  # rows rendered and written at once: bounds memory for the benchmark catalog

Render = Callable[[pl.DataFrame], pl.DataFrame]

FileKind = Literal["jsonl", "csv", "akeneo_csv"]
_SEPARATORS = {"csv": ",", "akeneo_csv": ";"}  # the ERP writes commas, Akeneo semicolons


def write_chunked(
    frames: Sequence[pl.DataFrame], path: Path, render: Render, kind: FileKind = "csv"
) -> int:
    """Render ``frames`` chunk by chunk into one file (one CSV header); returns the rows written."""
    written, header = 0, True
    with path.open("wb") as handle:
        for frame in frames:
            for offset in range(0, max(frame.height, 1), CHUNK):
                rows = render(frame.slice(offset, CHUNK))
                if kind == "jsonl":
                    rows.write_ndjson(handle)
                else:
                    rows.write_csv(handle, separator=_SEPARATORS[kind], include_header=header)
                    header = False
                written += rows.height
    return written


def write_json_lines(items: Sequence[dict[str, Any]], path: Path) -> None:
    lines = (json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
