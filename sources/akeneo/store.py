"""The local store a pull fills: ``state.json`` between pulls, one JSONL file per stream, and
the atomic publication of each new generation behind the ``store`` symlink.

Layout beside the configured ``store`` path: ``store -> .store.<random>`` (the live generation),
the previous generation (kept for readers that resolved the link before the swap) and, after a
crash, ``.store.*`` leftovers that the next publication removes.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from contracts.folders import new_folder, point_link
from sources.akeneo.streams import SOURCE, STREAMS, Item, Key, Stream
from sources.http import SourceError
from sources.secrets import logger

log = logger(__name__)

STATE_FILE = "state.json"


@dataclass(frozen=True)
class PullState:
    """What state.json remembers between pulls."""

    high_water_mark: datetime | None
    last_full_pull: datetime
    base_url: str
    locales: tuple[str, ...]
    scopes: tuple[str, ...]

    def to_json(self) -> str:
        mark = self.high_water_mark.isoformat() if self.high_water_mark else None
        data = {
            "high_water_mark": mark,
            "last_full_pull": self.last_full_pull.isoformat(),
            "base_url": self.base_url,
            "locales": list(self.locales),
            "scopes": list(self.scopes),
        }
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> PullState:
        data = json.loads(text)
        mark = data["high_water_mark"]
        return cls(
            high_water_mark=datetime.fromisoformat(mark) if mark else None,
            last_full_pull=datetime.fromisoformat(data["last_full_pull"]),
            base_url=data["base_url"],
            locales=tuple(data["locales"]),
            # a state written before pulls took several scopes names one
            scopes=tuple(data["scopes"]) if "scopes" in data else (data["scope"],),
        )


def read_state(store: Path) -> PullState | None:
    """The previous pull's state, or None (first run, or unreadable: then a full pull runs)."""
    try:
        return PullState.from_json((store / STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as error:
        log.warning("%s: ignoring unreadable %s (%s)", SOURCE, store / STATE_FILE, error)
        return None


def merge(store: Path, files: dict[str, dict[Key, Item]]) -> dict[str, dict[Key, Item]]:
    """Changed products/models over the stored ones (by uuid/code); other files as pulled
    (attributes, options, families, variants, categories and channels are always read whole)."""
    merged = dict(files)
    for stream in STREAMS:
        if stream.search_after:
            stored = _read_jsonl(store / f"{stream.name}.jsonl", stream)
            merged[stream.name] = stored | files[stream.name]
    return merged


def _read_jsonl(path: Path, stream: Stream) -> dict[Key, Item]:
    items: dict[Key, Item] = {}
    if not path.exists():
        return items
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                item = json.loads(line)
                items[tuple(item[field] for field in stream.key)] = item
            except (ValueError, KeyError, TypeError) as error:
                msg = f"{SOURCE}: store {path} line {number} is unreadable ({error}); pull full"
                raise SourceError(msg) from error
    return items


def publish(store: Path, files: dict[str, dict[Key, Item]], state: PullState) -> Path:
    """Write a new generation aside, then swap the ``store`` symlink to it in one rename."""
    generation = _generation_name(store)
    with new_folder(generation) as folder:
        for name, items in files.items():
            _write_jsonl(folder / f"{name}.jsonl", items)
        (folder / STATE_FILE).write_text(state.to_json(), encoding="utf-8")
    try:
        previous = _swap(store, generation)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    _prune(store, keep={generation, previous})
    return generation


def _generation_name(store: Path) -> Path:
    """``.<store>.<random>`` beside the store: hidden, and found again by ``_prune``."""
    return store.parent / f".{store.name}.{uuid.uuid4().hex[:12]}"


def _write_jsonl(path: Path, items: dict[Key, Item]) -> None:
    """One item per line in key order (options: by attribute, then code), so a pull of an
    unchanged PIM writes the same bytes."""
    with path.open("w", encoding="utf-8") as out:
        for key in sorted(items):
            out.write(json.dumps(items[key], ensure_ascii=False) + "\n")


def _swap(store: Path, generation: Path) -> Path | None:
    """Point ``store`` at ``generation``; return the generation it pointed at before."""
    previous = store.resolve() if store.is_symlink() else None
    if store.exists() and not store.is_symlink():
        previous = _generation_name(store)
        store.rename(previous)
        log.warning("%s: moved the plain folder %s aside to %s", SOURCE, store, previous)
    point_link(store, generation.name)
    return previous


def _prune(store: Path, keep: set[Path | None]) -> None:
    """Drop older generations and leftovers of crashed pulls; keep current and previous."""
    kept = {p.resolve() for p in keep if p is not None}
    for path in store.parent.iterdir():
        if not path.name.startswith(f".{store.name}."):
            continue
        if path.is_symlink():
            path.unlink()
        elif path.is_dir() and path.resolve() not in kept:
            shutil.rmtree(path, ignore_errors=True)
