"""Chart geometry for the report's inline SVG: plain numbers and labels, drawn by the template
macros in ``templates/charts.html.j2``.

Colours are Okabe-Ito (distinguishable with colour-blindness and on grey-scale prints); every
chart has a text legend and every point a tooltip, so no reading depends on colour alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

# (label, colour) of the stacked channel bar, in drawing order.
SEGMENTS = (
    ("published without findings", "#2e7d32"),
    ("published with warnings", "#f9a825"),
    ("quarantined", "#c62828"),
    ("filtered out", "#5e35b1"),
    ("disabled", "#9e9e9e"),
)
# (key, label, colour) of the trend lines.
TREND_SERIES = (
    ("published_share", "published", "#0072B2"),
    ("quarantine_share", "quarantined", "#D55E00"),
)
BAR_WIDTH = 200


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    colour: str
    title: str


def stacked_bar(counts: Sequence[int], count: Callable[[int], str]) -> list[Segment]:
    """Counts in ``SEGMENTS`` order as one ``BAR_WIDTH`` px bar, titled "label: count"."""
    total = max(sum(counts), 1)
    segments, x = [], 0.0
    for (label, colour), n in zip(SEGMENTS, counts, strict=True):
        width = BAR_WIDTH * n / total
        segments.append(Segment(x, width, colour, f"{label}: {count(n)}"))
        x += width
    return segments


def share_width(share: float | None, width: int = 100) -> float:
    """The share (0..1, clamped) as a bar length of ``width`` px."""
    if share is None or not math.isfinite(share):
        return 0.0
    return width * min(max(share, 0.0), 1.0)


@dataclass(frozen=True)
class Tick:
    position: float
    lines: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    points: tuple[Point, ...]
    latest: str
    """the newest value, written at the line's end"""

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class LineChart:
    """A line chart of shares (0..1) over snapshots, oldest left."""

    title: str
    series: tuple[Series, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    y_title: str = "share of enabled products"
    x_title: str = "snapshot (month-day, UTC time)"
    width: int = 340
    height: int = 210
    left: int = 58
    right: int = 50
    top: int = 10
    bottom: int = 58

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


def short_snapshot(snapshot_id: str) -> tuple[str, str]:
    """``20261122T195600Z-ab12cd34`` -> (``11-22``, ``19:56``); other ids: first 8 characters."""
    match = re.match(r"\d{4}(\d{2})(\d{2})T(\d{2})(\d{2})", snapshot_id)
    return (f"{match[1]}-{match[2]}", f"{match[3]}:{match[4]}") if match else (snapshot_id[:8], "")


def share_chart(
    title: str,
    snapshots: Sequence[str],
    values: Mapping[str, Sequence[float | None]],
    share: Callable[[float | None, int], str],
    max_labels: int = 6,
) -> LineChart:
    """One series per ``TREND_SERIES`` key in ``values`` (one value per snapshot), 0..100 %;
    ``share(value, places)`` writes a share.

    A single snapshot sits in the middle; a missing value leaves a gap in the points.
    """
    chart = LineChart(title, (), (), ())
    span_x = chart.plot_right - chart.left
    span_y = chart.plot_bottom - chart.top

    def x(i: int) -> float:
        return chart.left + span_x * (i / (len(snapshots) - 1) if len(snapshots) > 1 else 0.5)

    def y(v: float) -> float:
        return chart.top + span_y * (1 - min(max(v, 0.0), 1.0))

    series = tuple(
        Series(
            label,
            colour,
            tuple(
                Point(x(i), y(v), f"{label} · {s}: {share(v, 1)}")
                for i, (s, v) in enumerate(zip(snapshots, values[key], strict=True))
                if v is not None
            ),
            next((share(v, 1) for v in reversed(values[key]) if v is not None), ""),
        )
        for key, label, colour in TREND_SERIES
    )
    y_ticks = tuple(Tick(y(v / 4), (share(v / 4, 0),)) for v in range(5))
    every = math.ceil(len(snapshots) / max_labels)
    last = len(snapshots) - 1
    x_ticks = tuple(
        Tick(x(i), short_snapshot(s), s) for i, s in enumerate(snapshots) if (last - i) % every == 0
    )
    return LineChart(title, series, y_ticks, x_ticks)
