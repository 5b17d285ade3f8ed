"""The key of the PIM step's results kept across runs (``sources.source_state``): the export's
files by content, what the channels need of them, the scopes and the code that reads and
flattens them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path

import contracts
import golden
import sources
from golden.master_data import MasterNeeds
from sources.source_state import state_key


def pim_state_key(
    folder: Path,
    scopes: Iterable[str],
    needs: MasterNeeds,
    verified: Mapping[str, str] | None = None,
) -> str:
    """The PIM state's key: ``folder``'s files (``verified``: their SHA-256 from a checked
    ready marker), ``needs`` (locales, trees, attributes, image role, media URL) and ``scopes``,
    read by the code of ``contracts``, ``sources`` and ``golden``."""
    settings = {"needs": asdict(needs), "scopes": list(scopes)}
    return state_key(folder, settings, (contracts, sources, golden), verified)
