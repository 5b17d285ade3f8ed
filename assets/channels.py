"""The channels of a run as the assets need them: compiled mappings and their views.

The PIM model comes from the structure assets (``pim_attributes``, ``pim_attribute_options``,
``pim_channels``, ``pim_families``, ``pim_family_variants``), so every step compiles the same
mappings the PIM step checked; the views are pure polars (``mapping.view``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
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


@dataclass(frozen=True)
class ChannelViews:
    views: dict[str, ChannelView]
    seconds: dict[str, float]
    """wall seconds of each channel's mapping (filters, fields, checks): the bench reports
    them, so a mapping that stops being vectorized shows up"""

    def metadata(self) -> dict[str, float]:
        """``mapping_seconds`` (all channels) and ``mapping_seconds/<channel>``."""
        total = {"mapping_seconds": round(sum(self.seconds.values()), 2)}
        return total | {f"mapping_seconds/{n}": round(s, 3) for n, s in self.seconds.items()}


def views(
    golden: pl.DataFrame, channels: Mapping[str, CompiledChannel], erp_source: str
) -> ChannelViews:
    """Every channel's view of the golden record, timed."""
    found, seconds = {}, {}
    for name, channel in channels.items():
        started = time.perf_counter()
        found[name] = channel_view(golden, channel, erp_source)
        seconds[name] = time.perf_counter() - started
    return ChannelViews(found, seconds)


def erp_source_of(snapshot_id: str) -> str:
    """How a finding on an ERP value names its source."""
    return f"ERP snapshot {snapshot_id}, prices"
