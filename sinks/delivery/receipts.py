"""Delivery receipts: one JSON line per channel, target and attempt run, in
``<publish directory>/deliveries.jsonl``.

A receipt says what was pushed (snapshot id, each file with its bytes and sha256), when
(started, finished, UTC ISO 8601), how many attempts it took and how it ended (``ok`` or
``failed`` with the error, credentials masked). The file only grows by whole lines: each
receipt is one ``write`` to a descriptor opened with ``O_APPEND`` and is then fsynced, so
concurrent writers never interleave inside a line; a line torn by a crash (no final newline or
not JSON) is skipped when reading. The newest receipt of a channel and target is what counts
(``prism status``, and which targets the next run or ``prism deliver`` still owes the live
snapshot).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

RECEIPTS = "deliveries.jsonl"
OK = "ok"
FAILED = "failed"


@dataclass(frozen=True)
class DeliveredFile:
    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Receipt:
    channel: str
    target: int
    """the index of the target in ``channels.<channel>.deliver``"""
    destination: str
    """where it went (host and folder, or URL); never a credential"""
    snapshot_id: str
    started_at: str
    finished_at: str
    attempts: int
    outcome: str
    error: str | None = None
    files: list[DeliveredFile] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Receipt:
        files = [DeliveredFile(**f) for f in data.pop("files", [])]  # type: ignore[attr-defined]
        return cls(**data, files=files)  # type: ignore[arg-type]


def receipts_path(publish_directory: Path) -> Path:
    return publish_directory / RECEIPTS


def append_receipt(publish_directory: Path, receipt: Receipt) -> None:
    """Add ``receipt`` as one line, in one write (see the module docstring)."""
    publish_directory.mkdir(parents=True, exist_ok=True)
    line = (receipt.to_json() + "\n").encode()
    fd = os.open(receipts_path(publish_directory), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_receipts(publish_directory: Path) -> list[Receipt]:
    """Every complete receipt, oldest first (a torn or foreign line is skipped)."""
    path = receipts_path(publish_directory)
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.endswith("\n"):
            continue
        try:
            found.append(Receipt.from_dict(json.loads(line)))
        except (ValueError, TypeError):
            continue
    return found


def last_receipts(publish_directory: Path) -> dict[tuple[str, int], Receipt]:
    """The newest receipt per (channel, target index)."""
    return {(r.channel, r.target): r for r in read_receipts(publish_directory)}
