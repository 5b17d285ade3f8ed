"""The channels of a run as the assets need them: compiled mappings and their views.

The PIM model comes from the structure assets (``pim_attributes``, ``pim_attribute_options``,
``pim_channels``, ``pim_families``, ``pim_family_variants``), so every step compiles the same
mappings the PIM step checked; the views are pure polars (``mapping.view``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import polars as pl

from contracts.config import PrismConfig
from mapping.compile import CompiledChannel
from mapping.model import PimModel
from mapping.plan import compiled_channels, pim_model
from mapping.view import ChannelView, channel_view
from sinks.formats import FORMATS


@dataclass(frozen=True)
class PimStructureFrames:
    attributes: pl.DataFrame
    attribute_options: pl.DataFrame
    channels: pl.DataFrame
    families: pl.DataFrame
    family_variants: pl.DataFrame

    def model(self, config: PrismConfig) -> PimModel:
        return pim_model(
            config,
            self.attributes,
            self.attribute_options,
            self.channels,
            self.families,
            self.family_variants,
        )


def compiled(
    config: PrismConfig, structure: PimStructureFrames, golden: pl.DataFrame
) -> dict[str, CompiledChannel]:
    return compiled_channels(config, FORMATS, structure.model(config), golden.columns)


class ChannelViews(Mapping[str, ChannelView]):
    """Every channel's view of the golden record, computed when first asked for and not
    kept: a step that walks the channels holds one view at a time (a view carries the
    channel's golden rows, a copy of most of the catalog)."""

    def __init__(
        self, golden: pl.DataFrame, channels: Mapping[str, CompiledChannel], erp_source: str
    ) -> None:
        self._golden, self._channels, self._erp_source = golden, channels, erp_source
        self.seconds: dict[str, float] = {}
        """wall seconds of each channel's mapping (filters, fields, checks): the bench
        reports them, so a mapping that stops being vectorized shows up"""

    def __getitem__(self, name: str) -> ChannelView:
        started = time.perf_counter()
        view = channel_view(self._golden, self._channels[name], self._erp_source)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
        return view

    def __iter__(self) -> Iterator[str]:
        return iter(self._channels)

    def __len__(self) -> int:
        return len(self._channels)

    def metadata(self) -> dict[str, float]:
        """``mapping_seconds`` (all channels) and ``mapping_seconds/<channel>``."""
        total = {"mapping_seconds": round(sum(self.seconds.values()), 2)}
        return total | {f"mapping_seconds/{n}": round(s, 3) for n, s in self.seconds.items()}


def views(
    golden: pl.DataFrame, channels: Mapping[str, CompiledChannel], erp_source: str
) -> ChannelViews:
    """Every channel's view of the golden record, each computed (and timed) when used."""
    return ChannelViews(golden, channels, erp_source)


def erp_source_of(snapshot_id: str) -> str:
    """How a finding on an ERP value names its source."""
    return f"ERP snapshot {snapshot_id}, prices"
