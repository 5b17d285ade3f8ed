"""The static HTML quality report of a published snapshot, for the merchandisers who fix the data.

One self-contained file: inline CSS, charts as inline SVG drawn here, no JavaScript and no
external URL, so it opens offline, from a mail attachment or a file share, and prints cleanly.
Every data value is HTML-escaped: product data is untrusted input (a PIM name can hold markup).
Cross-links (rule -> quarantine group, price change -> quarantined row) are plain ``#id``
anchors; ids are sanitized to ``[A-Za-z0-9_-]`` and unique within the document.

The frames are small (aggregated and capped by the caller), so rows are rendered in Python.
"""

from __future__ import annotations

import html
import itertools
import math
import os
import re
import tempfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from quality.quarantine import ALL_CHANNELS

VERDICT_NOTES = {
    "blocked": "This snapshot was NOT published: circuit breakers tripped. "
    "The previous snapshot stays live.",
    "overridden": "Circuit breakers tripped, but a data engineer overrode them: "
    "this snapshot was published anyway.",
}
SECTIONS = {
    "breakers": "Circuit breakers",
    "channels": "Summary per channel",
    "rejects": "Rejects by rule and field",
    "worst": "Worst families and categories",
    "completeness": "Completeness per channel and locale",
    "changes": "Changes since the previous snapshot",
    "trends": "Trends over the last snapshots",
    "expectations": "Great Expectations results",
    "quarantine": "Quarantine",
}
# Okabe-Ito: distinguishable with colour-blindness and on grey-scale prints.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
# (label, colour) of the stacked channel bar, in drawing order.
SEGMENTS = (
    ("published", "#2e7d32"),
    ("warned", "#f9a825"),
    ("quarantined", "#c62828"),
    ("disabled", "#9e9e9e"),
)
SEGMENT_LABELS = {"published": "published without findings", "warned": "published with warnings"}


@dataclass(frozen=True)
class QualityReport:
    """Everything the report shows; frames are already aggregated and capped by the caller."""

    snapshot_id: str
    created_at: str
    as_of: str
    verdict: str
    previous_snapshot: str | None
    breakers: pl.DataFrame
    channels: pl.DataFrame
    rejects: pl.DataFrame
    families: pl.DataFrame
    categories: pl.DataFrame
    completeness: pl.DataFrame
    changes: pl.DataFrame
    price_changes: pl.DataFrame
    trends: pl.DataFrame
    quarantine: pl.DataFrame
    quarantine_total: int
    expectations: pl.DataFrame
    exports: dict[str, str]


class Html(str):
    """Markup built here from escaped parts; every other value is escaped when rendered.

    Concatenation escapes the plain-``str`` side, so ``Html + str`` stays safe markup.
    """

    __slots__ = ()

    def __add__(self, other: object) -> Html:
        return Html(str.__add__(self, _e(other)))

    def __radd__(self, other: object) -> Html:
        return Html(str.__add__(_e(other), self))


@dataclass(frozen=True)
class _Row:
    cells: Sequence[object]
    cls: str = ""
    id: str = ""


@dataclass
class _Anchors:
    """Ids of the quarantine groups and rows, known before the sections that link to them."""

    rules: dict[tuple[str, str], str] = field(default_factory=dict)
    rows: dict[tuple[str, str], str] = field(default_factory=dict)
    skus: dict[str, str] = field(default_factory=dict)
    taken: set[str] = field(default_factory=lambda: set(SECTIONS))

    def rule(self, channel: object, rule: object) -> str | None:
        return self.rules.get((str(channel), str(rule)))

    def row(self, channel: object, sku: object) -> str:
        return self.rows[str(channel), str(sku)]

    def unique(self, *parts: object) -> str:
        """``parts`` joined by ``-``, sanitized, with a counter appended if already taken."""
        base = "-".join(re.sub(r"[^A-Za-z0-9_-]", "_", str(p)) for p in parts)
        candidate = base
        for n in itertools.count(2):
            if candidate not in self.taken:
                break
            candidate = f"{base}-{n}"
        self.taken.add(candidate)
        return candidate

    @classmethod
    def build(cls, quarantine: pl.DataFrame) -> _Anchors:
        """Register ids in the order the quarantine section renders its rows."""
        anchors = cls()
        for row in quarantine.iter_rows(named=True):
            channel, rule, sku = str(row["channel"]), str(row["rule"]), str(row["sku"])
            if (channel, rule) not in anchors.rules:
                anchors.rules[channel, rule] = anchors.unique("rule", channel, rule)
            if (channel, sku) not in anchors.rows:
                anchors.rows[channel, sku] = anchors.unique("q", channel, sku)
                anchors.skus.setdefault(sku, anchors.rows[channel, sku])
        return anchors


# --- public API -------------------------------------------------------------------------------


def render_report(report: QualityReport) -> str:
    """The whole HTML document of ``report``."""
    quarantine = report.quarantine.sort("channel", "rule", "sku", "field", nulls_last=True)
    anchors = _Anchors.build(quarantine)
    sections = [
        _breakers(report),
        _channels(report.channels),
        _rejects(report.rejects, anchors),
        _worst(report.families, report.categories),
        _completeness(report.completeness),
        _changes(report, anchors),
        _trends(report.trends),
        _expectations(report.expectations),
        _quarantine(report, quarantine, anchors),
    ]
    body = _header(report) + _nav() + _join(sections)
    return _document(f"Quality report {report.snapshot_id}", body)


def write_report(report: QualityReport, folder: Path) -> Path:
    """Write ``folder/index.html`` atomically, so a reader never sees a half-written report."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "index.html"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".index-", suffix=".html.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(render_report(report))
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# --- markup helpers ---------------------------------------------------------------------------


def _e(value: object) -> Html:
    """``value`` as safe markup: trusted ``Html`` as is, None as a dash, the rest escaped."""
    if isinstance(value, Html):
        return value
    if value is None:
        return Html('<span class="muted">—</span>')
    return Html(html.escape(str(value)))


def _tag(name: str, content: object = "", **attrs: object) -> Html:
    """``<name attrs>content</name>``; attributes with empty or None values are left out."""
    rendered = "".join(
        f' {k.rstrip("_").replace("_", "-")}="{html.escape(str(v))}"'
        for k, v in attrs.items()
        if v not in (None, "")
    )
    return Html(f"<{name}{rendered}>{_e(content)}</{name}>")


def _join(parts: Iterable[object]) -> Html:
    return Html("".join(_e(p) for p in parts))


def _none(message: str = "None.") -> Html:
    return _tag("p", message, class_="none")


def _section(key: str, *content: object) -> Html:
    return _tag("section", _join([_tag("h2", SECTIONS[key]), *content]), id=key)


def _table(
    headers: Sequence[str], rows: Sequence[_Row], numeric: Collection[int] = (), empty: str = ""
) -> Html:
    """A zebra table; columns in ``numeric`` are right-aligned. No rows -> a "none" line."""
    if not rows:
        return _none(empty or "None.")
    head = _join(_tag("th", h, class_="num" if i in numeric else "") for i, h in enumerate(headers))
    body = _join(
        _tag(
            "tr",
            _join(
                _tag("td", c, class_="num" if i in numeric else "") for i, c in enumerate(r.cells)
            ),
            class_=r.cls,
            id=r.id,
        )
        for r in rows
    )
    return _tag("table", _tag("thead", _tag("tr", head)) + _tag("tbody", body))


def _link(text: object, anchor: str | None, title: str = "") -> Html:
    """``text`` linking to ``#anchor``, or plain text when the target is not on the page."""
    return _tag("a", text, href=f"#{anchor}", title=title) if anchor else _e(text)


def _int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}".replace(",", "\u202f")


def _number(value: float | None) -> str:
    """Counts as integers, shares and ratios with four significant digits."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == int(value) and abs(value) < 1e15:
        return _int(int(value))
    return f"{value:.4g}" if abs(value) < 1000 else _int(round(value))


def _count(n: int, noun: str) -> str:
    return f"{_int(n)} {noun}" + ("" if n == 1 else "s")


def _pct(share: float | None) -> str:
    return "—" if share is None or not math.isfinite(share) else f"{share * 100:.1f}\u202f%"


def _channel(channel: str | None) -> str:
    return "input (before any channel)" if channel == ALL_CHANNELS else str(channel or "all")


def _by_channel(frame: pl.DataFrame) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Rows of ``frame`` (already sorted by channel) grouped by channel."""
    for channel, rows in itertools.groupby(frame.iter_rows(named=True), lambda r: r["channel"]):
        yield channel, list(rows)


# --- sections ---------------------------------------------------------------------------------


def _header(report: QualityReport) -> Html:
    known = report.verdict in ("passed", "blocked", "overridden")
    verdict = report.verdict if known else "unknown"
    facts = [
        ("Snapshot", _tag("code", report.snapshot_id)),
        ("As of", report.as_of),
        ("Created", report.created_at),
        ("Verdict", _tag("span", report.verdict, class_=f"badge verdict-{verdict}")),
        (
            "Compared with",
            _tag("code", report.previous_snapshot)
            if report.previous_snapshot
            else "nothing (first snapshot)",
        ),
    ]
    items = _join(_tag("dt", k) + _tag("dd", v) for k, v in facts)
    exports = _join(
        _tag("li", _tag("a", label, href=name)) for label, name in report.exports.items()
    )
    parts = [_tag("h1", "Product data quality report"), _tag("dl", items, class_="facts")]
    if report.exports:
        parts.append(_tag("p", "Exports:", class_="label") + _tag("ul", exports, class_="exports"))
    return _tag("header", _join(parts))


def _nav() -> Html:
    links = _join(_tag("li", _tag("a", title, href=f"#{key}")) for key, title in SECTIONS.items())
    return _tag("nav", _tag("ol", links))


def _breaker_row(r: dict[str, Any]) -> _Row:
    status = _tag("strong", "TRIPPED") if r["tripped"] else "ok"
    cells = [r["name"], _channel(r["channel"]), _number(r["value"]), _number(r["limit"])]
    return _Row([*cells, status, r["detail"]], cls="bad" if r["tripped"] else "")


def _breakers(report: QualityReport) -> Html:
    """Every breaker, tripped ones first; a blocked run says loudly that nothing went live."""
    ordered = report.breakers.sort("tripped", descending=True, maintain_order=True)
    rows = [_breaker_row(r) for r in ordered.iter_rows(named=True)]
    note = VERDICT_NOTES.get(report.verdict)
    notice = _tag("p", note, class_=f"notice notice-{report.verdict}") if note else ""
    headers = ["Breaker", "Channel", "Value", "Limit", "Status", "Detail"]
    return _section("breakers", notice, _table(headers, rows, {2, 3}, "No circuit breakers."))


def _stacked_bar(counts: dict[str, int]) -> Html:
    """One horizontal bar split into the channel's outcomes, 200 px for all its products."""
    total = max(sum(counts.values()), 1)
    x, rects = 0.0, []
    for label, colour in SEGMENTS:
        width = 200 * counts[label] / total
        title = _tag("title", f"{label}: {_int(counts[label])}")
        rects.append(_svg_rect(x, 0, width, 14, colour, title))
        x += width
    return _svg(200, 14, _join(rects), label="outcome of the channel's products")


def _channels(channels: pl.DataFrame) -> Html:
    rows = []
    for r in channels.iter_rows(named=True):
        counts = {
            "published": max((r["published"] or 0) - (r["warned"] or 0), 0),
            "warned": r["warned"] or 0,
            "quarantined": r["quarantined"] or 0,
            "disabled": r["disabled"] or 0,
        }
        cells = [r["channel"], r["format"], *(_int(r[k]) for k in _CHANNEL_COUNTS)]
        rows.append(_Row([*cells, _stacked_bar(counts)]))
    headers = ["Channel", "Format", "Products", "Published", "Quarantined", "Disabled", "Warned"]
    table = _table([*headers, "Outcome"], rows, {2, 3, 4, 5, 6}, "No channels.")
    legend = _legend((SEGMENT_LABELS.get(k, k), c) for k, c in SEGMENTS)
    return _section("channels", table, legend if rows else "")


_CHANNEL_COUNTS = ("products", "published", "quarantined", "disabled", "warned")


def _legend(entries: Iterable[tuple[str, str]]) -> Html:
    """(label, colour) swatches: the charts' colours, explained in text for print and screen."""
    items = _join(
        _tag("li", _tag("span", "", class_="swatch", style=f"background:{colour}") + _e(label))
        for label, colour in entries
    )
    return _tag("ul", items, class_="legend")


def _rejects(rejects: pl.DataFrame, anchors: _Anchors) -> Html:
    headers = ["Rule", "Field", "Severity", "Fix in", "Products"]
    tables = []
    frame = rejects.sort(["channel", "products"], descending=[False, True], maintain_order=True)
    for channel, rows in _by_channel(frame):
        body = [
            _Row(
                [
                    _link(r["rule"], anchors.rule(channel, r["rule"]), "quarantined rows"),
                    r["field"],
                    _severity(r["severity"]),
                    r["source"],
                    _int(r["products"]),
                ],
            )
            for r in rows
        ]
        tables.append(_tag("h3", _channel(channel)) + _table(headers, body, {4}))
    return _section("rejects", _join(tables) if tables else _none("No rejects."))


def _severity(severity: str | None) -> Html:
    return _tag("span", severity, class_=f"sev sev-{severity}" if severity else "")


def _share_bar(share: float | None) -> Html:
    """The share (0..1) as a 100 px bar on a grey track."""
    width = 100 * min(max(share or 0.0, 0.0), 1.0)
    bars = _svg_rect(0, 0, 100, 10, "#e0e0e0") + _svg_rect(0, 0, width, 10, "#c62828")
    return _svg(100, 10, bars, label=_pct(share))


def _worst_table(frame: pl.DataFrame, key: str, label: str) -> Html:
    rows = [
        _Row(
            [
                r[key],
                _int(r["products"]),
                _int(r["quarantined"]),
                _join([_share_bar(r["quarantine_share"]), " ", _pct(r["quarantine_share"])]),
                _pct(r["completeness"]),
            ]
        )
        for r in frame.iter_rows(named=True)
    ]
    headers = [label, "Products", "Quarantined", "Quarantine share", "Completeness"]
    return _tag("h3", f"By {label.lower()}") + _table(headers, rows, {1, 2, 4})


def _worst(families: pl.DataFrame, categories: pl.DataFrame) -> Html:
    return _section(
        "worst",
        _worst_table(families, "family", "Family"),
        _worst_table(categories, "category", "Category"),
    )


def _heat(score: float | None) -> str:
    """Cell background from red (0) over yellow to green (1)."""
    if score is None or not math.isfinite(score):
        return ""
    return f"background:hsl({120 * min(max(score, 0.0), 1.0):.0f},70%,80%)"


def _completeness(frame: pl.DataFrame) -> Html:
    if frame.is_empty():
        return _section("completeness", _none("No completeness scores."))
    locales = sorted(frame["locale"].unique().to_list(), key=str)
    cells = {(r["channel"], r["locale"]): r for r in frame.iter_rows(named=True)}
    head = _join(_tag("th", h) for h in ["Channel", *locales])
    body = _join(
        _tag(
            "tr",
            _tag("th", channel) + _join(_heat_cell(cells.get((channel, loc))) for loc in locales),
        )
        for channel in frame["channel"].unique(maintain_order=True).to_list()
    )
    note = _tag("p", "Mean score; below it, the share of products scoring 100 %.", class_="muted")
    table = _tag("table", _tag("thead", _tag("tr", head)) + _tag("tbody", body), class_="heat")
    return _section("completeness", note, table)


def _heat_cell(row: dict[str, Any] | None) -> Html:
    if row is None:
        return _tag("td", None)
    content = _tag("strong", _pct(row["mean"])) + _tag(
        "small", f"{_pct(row['complete_share'])} complete"
    )
    return _tag("td", content, style=_heat(row["mean"]))


def _factor(factor: float | None) -> str:
    if factor is None or not math.isfinite(factor):
        return "—"
    return f"\u00d7{factor:.2f} ({(factor - 1) * 100:+.1f}\u202f%)"


def _changes(report: QualityReport, anchors: _Anchors) -> Html:
    if report.previous_snapshot is None:
        return _section(
            "changes", _none("This is the first snapshot: there is nothing to compare with.")
        )
    counts = report.changes.row(0, named=True) if report.changes.height else {}
    stats = _join(
        _tag("li", _tag("strong", _int(counts.get(key, 0))) + f" {label}")
        for key, label in (
            ("added", "added"),
            ("removed", "removed"),
            ("price_changed", "price changes"),
        )
    )
    table = _price_changes(report.price_changes, anchors)
    intro = _tag("p", _join(["Compared with ", _tag("code", report.previous_snapshot), "."]))
    return _section(
        "changes",
        intro,
        _tag("ul", stats, class_="stats"),
        _tag("h3", "Biggest price changes"),
        table,
    )


def _price_changes(frame: pl.DataFrame, anchors: _Anchors) -> Html:
    """Biggest changes first; a sku that is also quarantined links to its quarantine row."""
    rows = [
        _Row(
            [
                _link(r["sku"], anchors.skus.get(str(r["sku"])), "quarantined: see its row"),
                r["currency"],
                r["previous"],
                r["current"],
                _factor(r["factor"]),
            ]
        )
        for r in frame.iter_rows(named=True)
    ]
    headers = ["SKU", "Currency", "Previous", "Current", "Change"]
    return _table(headers, rows, {2, 3, 4}, "No price changes.")


def _short(snapshot_id: str) -> tuple[str, str]:
    """``20261122T195600Z-ab12cd34`` -> (``11-22``, ``19:56``); other ids: first 8 characters."""
    match = re.match(r"\d{4}(\d{2})(\d{2})T(\d{2})(\d{2})", snapshot_id)
    return (f"{match[1]}-{match[2]}", f"{match[3]}:{match[4]}") if match else (snapshot_id[:8], "")


def _trends(trends: pl.DataFrame) -> Html:
    if trends.is_empty():
        return _section("trends", _none("No snapshots yet."))
    channels = trends["channel"].unique(maintain_order=True).to_list()
    colours = dict(zip(channels, itertools.cycle(PALETTE), strict=False))
    charts = [
        _tag("figure", _line_chart(trends, metric, colours) + _tag("figcaption", caption))
        for metric, caption in (
            ("published", "Published products"),
            ("quarantined", "Quarantined products"),
        )
    ]
    legend = _legend((_channel(c), colours[c]) for c in channels)
    return _section("trends", legend, _tag("div", _join(charts), class_="charts"))


_CHART = {"width": 480, "height": 220, "left": 56, "right": 40, "top": 12, "bottom": 40}


def _tick_step(top: float) -> int:
    """The smallest round integer step (1, 2, 2.5, 5 x 10^k) of which four cover ``top``."""
    raw = max(top / 4, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    steps = (m * magnitude for m in (1, 2, 2.5, 5, 10))
    return int(next(s for s in steps if s >= raw and float(s).is_integer()))


def _line_chart(trends: pl.DataFrame, metric: str, colours: dict[str, str]) -> Html:
    """One line per channel of ``metric`` over the snapshots (oldest first); a point each."""
    snapshots = trends["snapshot_id"].unique(maintain_order=True).to_list()
    step = _tick_step(float(trends[metric].max() or 0))
    scale = _Scale({s: i for i, s in enumerate(snapshots)}, 4 * step)
    lines = [
        _series(rows, scale, metric, colours[channel])
        for channel, rows in _by_channel(trends.sort("channel", maintain_order=True))
    ]
    axes = _y_axis(scale, step) + _x_axis(scale, snapshots)
    return _svg(
        _CHART["width"], _CHART["height"], axes + _join(lines), label=f"{metric} per snapshot"
    )


@dataclass(frozen=True)
class _Scale:
    """Maps (snapshot index, value) to chart pixels; a single snapshot sits in the middle."""

    positions: dict[str, int]
    top: int

    def x(self, snapshot_id: str) -> float:
        width = _CHART["width"] - _CHART["left"] - _CHART["right"]
        count = len(self.positions)
        share = self.positions[snapshot_id] / (count - 1) if count > 1 else 0.5
        return _CHART["left"] + width * share

    def y(self, value: float) -> float:
        height = _CHART["height"] - _CHART["top"] - _CHART["bottom"]
        return _CHART["top"] + height * (1 - value / self.top)


def _series(rows: list[dict[str, Any]], scale: _Scale, metric: str, colour: str) -> Html:
    points = [(scale.x(r["snapshot_id"]), scale.y(r[metric] or 0), r) for r in rows]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
    line = _tag("polyline", points=path, fill="none", stroke=colour, stroke_width=2)
    dots = _join(
        _tag(
            "circle",
            _tag("title", f"{_channel(r['channel'])} · {r['snapshot_id']}: {_int(r[metric])}"),
            cx=f"{x:.1f}",
            cy=f"{y:.1f}",
            r=3.5,
            fill=colour,
        )
        for x, y, r in points
    )
    return line + dots


def _y_axis(scale: _Scale, step: int) -> Html:
    left, right = _CHART["left"], _CHART["width"] - _CHART["right"]
    ticks = []
    for value in range(0, 5 * step, step):
        y = f"{scale.y(value):.1f}"
        ticks.append(_tag("line", x1=left, x2=right, y1=y, y2=y, class_="grid"))
        ticks.append(_tag("text", _int(value), x=left - 6, y=y, class_="ytick"))
    return _join(ticks)


def _x_axis(scale: _Scale, snapshots: list[str]) -> Html:
    """At most eight two-line labels, counted back from the current snapshot; full id on hover."""
    every = math.ceil(len(snapshots) / 8)
    last = len(snapshots) - 1
    base = _CHART["height"] - _CHART["bottom"] + 14
    return _join(
        _tag("text", _tag("title", s) + _label_lines(_short(s), scale.x(s)), y=base, class_="xtick")
        for i, s in enumerate(snapshots)
        if (last - i) % every == 0
    )


def _label_lines(lines: tuple[str, str], x: float) -> Html:
    return _join(
        _tag("tspan", line, x=f"{x:.1f}", dy="1.2em" if n else "") for n, line in enumerate(lines)
    )


def _expectation_row(r: dict[str, Any]) -> _Row:
    ok = bool(r["success"])
    result = _tag("span", "passed" if ok else "failed", class_=f"badge result-{ok}".lower())
    cells = [_tag("code", r["expectation"]), r["column"], r["rule"], _severity(r["severity"])]
    counts = f"{_int(r['unexpected_count'])} / {_int(r['evaluated'])}"
    return _Row([*cells, result, counts], cls="" if ok else "bad")


def _expectations(frame: pl.DataFrame) -> Html:
    """Each channel's suite, failed expectations first."""
    headers = ["Expectation", "Column", "Rule", "Severity", "Result", "Unexpected / evaluated"]
    tables = []
    for channel, rows in _by_channel(frame.sort("channel", "success", maintain_order=True)):
        body = [_expectation_row(r) for r in rows]
        tables.append(_tag("h3", _channel(channel)) + _table(headers, body, {5}))
    return _section("expectations", _join(tables) if tables else _none("No expectation results."))


def _quarantine(report: QualityReport, quarantine: pl.DataFrame, anchors: _Anchors) -> Html:
    parts: list[object] = [_capped_note(report, quarantine.height)]
    placed: set[str] = set()
    for channel, rows in _by_channel(quarantine):
        parts.append(_tag("h3", _channel(channel)))
        for rule, group in itertools.groupby(rows, lambda r: r["rule"]):
            parts.append(_quarantine_group(channel, rule, list(group), anchors, placed))
    if quarantine.is_empty():
        parts.append(_none("Nothing quarantined."))
    return _section("quarantine", *parts)


def _quarantine_group(
    channel: str, rule: object, rows: list[dict[str, Any]], anchors: _Anchors, placed: set[str]
) -> Html:
    """One rule's rows; a product's first row carries its ``q-<channel>-<sku>`` id."""
    body = []
    for r in rows:
        anchor = anchors.row(channel, r["sku"])
        body.append(
            _Row(
                [
                    _tag("code", r["sku"]),
                    r["field"],
                    _value(r["value"]),
                    r["source"],
                    _severity(r["severity"]),
                ],
                id="" if anchor in placed else anchor,
            )
        )
        placed.add(anchor)
    heading = _tag(
        "h4",
        _join([_tag("code", rule), f" · {_count(len(rows), 'row')}"]),
        id=anchors.rule(channel, rule),
    )
    return heading + _table(["SKU", "Field", "Offending value", "Fix in", "Severity"], body)


def _value(value: str | None) -> Html:
    """The offending value verbatim; blank ones made visible."""
    if value is None:
        return _tag("span", "(missing)", class_="muted")
    if not value.strip():
        return _tag("span", f"(blank: {len(value)} spaces)", class_="muted")
    return _tag("code", value)


def _capped_note(report: QualityReport, shown: int) -> Html:
    if report.quarantine_total <= shown:
        return Html("")
    links = [
        _tag("a", label, href=name)
        for label, name in report.exports.items()
        if name.lower().endswith((".csv", ".xlsx"))
    ]
    where = Html(" or ".join(links)) if links else "the exports"
    total = _int(report.quarantine_total)
    text = f"Showing {_int(shown)} of {total} quarantined rows; the full list is in "
    return _tag("p", _join([text, where, "."]), class_="notice notice-capped")


# --- SVG and document -------------------------------------------------------------------------


def _svg(width: int, height: int, content: Html, label: str) -> Html:
    return _tag(
        "svg",
        content,
        width=width,
        height=height,
        viewBox=f"0 0 {width} {height}",
        role="img",
        aria_label=label,
    )


def _svg_rect(
    x: float, y: float, width: float, height: float, fill: str, content: object = ""
) -> Html:
    return _tag("rect", content, x=f"{x:.1f}", y=y, width=f"{width:.1f}", height=height, fill=fill)


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


_CSS = """
:root { color-scheme: light; --ink: #1f2328; --muted: #656d76; --line: #d0d7de; --zebra: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px; color: var(--ink); line-height: 1.45;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Noto Sans", "DejaVu Sans", sans-serif;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1 { font-size: 24px; margin: 0 0 12px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
h4 { font-size: 14px; margin: 14px 0 4px; font-weight: 600; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 12.5px; white-space: pre-wrap; word-break: break-all; }
a { color: #0b5cad; }
.muted, .none { color: var(--muted); }
.none { font-style: italic; margin: 6px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 10px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.label { margin: 8px 0 2px; color: var(--muted); }
ul.exports, ul.legend, ul.stats { list-style: none; padding: 0; margin: 4px 0 10px;
  display: flex; flex-wrap: wrap; gap: 6px 18px; }
ul.stats li { border: 1px solid var(--line); border-radius: 6px; padding: 6px 14px; }
ul.stats strong { font-size: 18px; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 8px 0; margin: 16px 0 0;
  list-style-position: inside;
  border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); font-size: 13px; }
.badge { display: inline-block; padding: 1px 10px; border-radius: 10px; color: #fff;
  font-weight: 600; font-size: 12.5px; text-transform: uppercase; letter-spacing: .03em; }
.verdict-passed, .result-true { background: #2e7d32; }
.verdict-blocked, .result-false { background: #c62828; }
.verdict-overridden { background: #ef6c00; }
.verdict-unknown { background: #616161; }
.notice { border-left: 6px solid; padding: 10px 14px; margin: 8px 0 12px; font-weight: 600; }
.notice-blocked { border-color: #c62828; background: #fdecea; font-size: 16px; }
.notice-overridden { border-color: #ef6c00; background: #fff3e0; }
.notice-capped { border-color: #0b5cad; background: #e8f1fb; font-weight: 400; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px;
  border-bottom: 1px solid var(--line); }
thead th { background: #eaeef2; font-weight: 600; }
thead { display: table-header-group; }
tbody tr:nth-child(even) { background: var(--zebra); }
tbody tr.bad { background: #fdecea; }
tr:target, h4:target { outline: 2px solid #f9a825; background: #fff8c5; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td svg { vertical-align: middle; }
.sev { font-size: 12px; font-weight: 600; }
.sev-error { color: #c62828; }
.sev-warn { color: #b26a00; }
table.heat { width: auto; }
table.heat td { text-align: center; min-width: 96px; }
table.heat td strong { display: block; }
table.heat td small { color: #333; }
table.heat tbody tr:nth-child(even) { background: none; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px;
  border-radius: 2px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 24px; }
figure { margin: 0; }
figcaption { text-align: center; color: var(--muted); }
svg .grid { stroke: #e1e4e8; stroke-width: 1; }
svg .ytick { font-size: 11px; fill: var(--muted); text-anchor: end; dominant-baseline: middle; }
svg .xtick { font-size: 11px; fill: var(--muted); text-anchor: middle; }
@page { margin: 14mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  h2, h3, h4 { break-after: avoid; }
  tr, figure { break-inside: avoid; }
}
"""
