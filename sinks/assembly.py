"""Files assembled from parts: a sharded run writes each channel's files once per shard, and
the publish step splices them into the snapshot's file (``contracts.formats.Assembly``).

The file is the *envelope* (what the writer writes for no rows, with this run's snapshot id and
creation time) around every part's records, copied as bytes: a part is never parsed, so
splicing costs about a copy of the file. A part's own head (which names the run that wrote it;
after a re-execution, an earlier one) is dropped; only its records are kept.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from contracts.formats import Assembly

BLOCK = 8 << 20
HEAD_LIMIT = 1 << 20
"""A document's head (everything before its first record) is expected in its first MiB."""


class AssemblyError(ValueError):
    """A part does not have the shape its format declares; the message names the file."""


def assemble(envelope: Path, parts: Sequence[Path], assembly: Assembly, target: Path) -> None:
    """Write ``target``: ``envelope``'s head, each part's records in order, the envelope's end.
    ``target`` may be ``envelope`` itself (it is read first, then replaced). On failure no
    file is left behind and ``target`` is as it was."""
    head, end = _envelope(envelope.read_bytes(), assembly, envelope)
    tmp = target.with_name(f".{target.name}.assembling")
    try:
        with tmp.open("wb") as out:
            out.write(head)
            for part in parts:
                _copy_records(part, assembly, out)
            out.write(end)
    except BaseException:  # also an interrupt: the half-written file goes, the error stays
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(target)


def _envelope(data: bytes, assembly: Assembly, path: Path) -> tuple[bytes, bytes]:
    if assembly.first_item is None:
        return data, b""
    at = data.rfind(assembly.footer) if assembly.footer else len(data)
    if at < 0 or data[at:] != assembly.footer:
        msg = f"{path}: the empty file does not end with its footer {assembly.footer!r}"
        raise AssemblyError(msg)
    return data[:at], data[at:]


def _copy_records(part: Path, assembly: Assembly, out: BinaryIO) -> None:
    size = part.stat().st_size
    with part.open("rb") as source:
        if assembly.first_item is None:
            for _ in range(assembly.header_lines):
                if not source.readline().endswith(b"\n"):  # a writer always ends its header
                    msg = f"{part}: a header line without its line end (a cut file?)"
                    raise AssemblyError(msg)
            shutil.copyfileobj(source, out, BLOCK)
            return
        head = source.read(HEAD_LIMIT)
        start = head.find(assembly.first_item)
        source.seek(max(size - len(assembly.footer), 0))
        if source.read() != assembly.footer:
            msg = f"{part}: does not end with {assembly.footer!r} (a cut file?)"
            raise AssemblyError(msg)
        if start < 0:  # no records in this shard
            if len(head) == HEAD_LIMIT:
                msg = f"{part}: no {assembly.first_item!r} in its first {HEAD_LIMIT} bytes"
                raise AssemblyError(msg)
            return
        source.seek(start)
        _copy_range(source, out, size - len(assembly.footer) - start)


def _copy_range(source: BinaryIO, out: BinaryIO, length: int) -> None:
    while length > 0:
        block = source.read(min(BLOCK, length))
        if not block:
            break
        out.write(block)
        length -= len(block)
