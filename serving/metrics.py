"""Counters for ``GET /metrics`` in the Prometheus text format (version 0.0.4)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

from serving.live import LiveSnapshots


class RequestCounter:
    """Requests answered per channel and status; channels outside ``known`` count as ``-``
    (a URL cannot grow the label set)."""

    def __init__(self, known: Iterable[str]) -> None:
        self.known = frozenset(known)
        self._counts: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()

    def add(self, channel: str | None, status: int) -> None:
        label = channel if channel in self.known else "-"
        with self._lock:
            self._counts[(label, status)] += 1

    def render(self, snapshots: LiveSnapshots) -> str:
        with self._lock:
            counts = sorted(self._counts.items())
        lines = [
            "# HELP prism_serve_requests_total Requests answered, per channel and HTTP status.",
            "# TYPE prism_serve_requests_total counter",
            *(
                f'prism_serve_requests_total{{channel="{c}",status="{s}"}} {n}'
                for (c, s), n in counts
            ),
            "# HELP prism_serve_snapshot_switches_total Newly live snapshots loaded.",
            "# TYPE prism_serve_snapshot_switches_total counter",
            f"prism_serve_snapshot_switches_total {snapshots.switches}",
            "# HELP prism_serve_snapshot_load_failures_total Live snapshots that did not load.",
            "# TYPE prism_serve_snapshot_load_failures_total counter",
            f"prism_serve_snapshot_load_failures_total {snapshots.load_failures}",
            "# HELP prism_serve_live_snapshot_info The snapshot being served.",
            "# TYPE prism_serve_live_snapshot_info gauge",
        ]
        live = snapshots.live
        if live is not None:
            lines.append(f'prism_serve_live_snapshot_info{{snapshot="{live.snapshot_id}"}} 1')
        return "\n".join(lines) + "\n"
