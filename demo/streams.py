"""Random streams keyed by position, so a product's draws never depend on the catalog's size.

The catalog is drawn in blocks of ``BLOCK`` products: product ``i`` (sku ``P{i + 1:07}``) is row
``i % BLOCK`` of block ``i // BLOCK``, and each block draws from its own counter-based stream
(numpy's Philox) keyed by ``(seed, side, block)`` alone. A block is always drawn whole and then
cut, so the first N products of a catalog are the same products, with the same prices, stock and
defects, for every catalog size >= N and the same seed: growing the demo catalog adds products
instead of reshuffling the ones a previous run published.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

BLOCK = 10_000
"""Products per block; changing it changes every catalog."""


class Side(IntEnum):
    """What a stream draws; part of its key, so the sides never share random numbers."""

    PIM = 0
    ERP = 1
    ERP_ONLY = 2  # the ERP-only skus, one stream for all of them


def stream(seed: int, side: Side, block: int = 0) -> np.random.Generator:
    """The generator of ``side`` for ``block``: independent of every other (seed, side, block)."""
    key = np.random.SeedSequence(seed, spawn_key=(int(side), block))
    return np.random.Generator(np.random.Philox(key))
