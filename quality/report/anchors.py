"""Fragment ids of a report page: ``[A-Za-z0-9_-]`` only, unique within the page."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Ids:
    """Hands out ids; a sanitized id already taken gets ``-2``, ``-3``, ... appended."""

    taken: set[str] = field(default_factory=set)

    @classmethod
    def reserving(cls, ids: Iterable[str]) -> Ids:
        return cls(set(ids))

    def unique(self, *parts: object) -> str:
        """``parts`` joined by ``-`` and sanitized (``AB/12 x`` -> ``AB_12_x``), unique."""
        base = "-".join(re.sub(r"[^A-Za-z0-9_-]", "_", str(p)) for p in parts)
        candidate = base
        for n in itertools.count(2):
            if candidate not in self.taken:
                break
            candidate = f"{base}-{n}"
        self.taken.add(candidate)
        return candidate
