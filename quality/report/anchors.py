"""Fragment ids of a report page: ``[A-Za-z0-9_-]`` only, unique within the page."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

UNSAFE = r"[^A-Za-z0-9_-]"
"""a character an id does not keep: each becomes ``_``"""
_UNSAFE = re.compile(UNSAFE)


def sanitized(text: pl.Expr) -> pl.Expr:
    """One part of an id as ``Ids.unique`` sanitizes it, column-wise (``AB/12 x`` ->
    ``AB_12_x``): for many ids at once, then made unique with ``Ids.claim``."""
    return text.str.replace_all(UNSAFE, "_")


@dataclass
class Ids:
    """Hands out ids; a sanitized id already taken gets ``-2``, ``-3``, ... appended."""

    taken: set[str] = field(default_factory=set)

    @classmethod
    def reserving(cls, ids: Iterable[str]) -> Ids:
        return cls(set(ids))

    def unique(self, *parts: object) -> str:
        """``parts`` joined by ``-`` and sanitized (``AB/12 x`` -> ``AB_12_x``), unique."""
        return self.claim("-".join(_UNSAFE.sub("_", str(p)) for p in parts))

    def claim(self, base: str) -> str:
        """``base`` (sanitized already), or with the first free suffix when it is taken."""
        candidate = base
        for n in itertools.count(2):
            if candidate not in self.taken:
                break
            candidate = f"{base}-{n}"
        self.taken.add(candidate)
        return candidate
