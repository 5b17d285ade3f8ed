"""Files spliced from parts (``sinks.assembly``): hand-written envelopes and parts of each shape
and their errors, then every format that declares an ``Assembly`` written whole and as two
parts around its empty envelope by its real writer: the splice is the whole file, byte for
byte, hostile text included."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from factories import compiled, config_with, golden_products, price_tiers, product, tier, view_of
from lxml import etree  # type: ignore[import-untyped]

from contracts.formats import Assembly, WriteContext
from golden.pricing import effective_tiers
from mapping.compile import CompiledChannel
from sinks.assembly import AssemblyError, assemble
from sinks.formats import FORMATS, bmecat

BOM = b"\xef\xbb\xbf"
CSV = Assembly(header_lines=1)
JSON_LINES = Assembly()
RSS_FOOTER = b"</channel>\n</rss>\n"
RSS = Assembly(first_item=b"<item>", footer=RSS_FOOTER)


def rss(title: str, *items: str) -> bytes:
    """An RSS document as the Google writer lays it out: head, one item per line, footer."""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
    head += f"<title>{title}</title>\n"
    lines = "".join(f"<item><id>{item}</id></item>\n" for item in items)
    return head.encode() + lines.encode() + RSS_FOOTER


def files(tmp_path: Path, **contents: bytes) -> dict[str, Path]:
    """Each ``name=content`` written as ``tmp_path/name``; the paths by name."""
    paths = {}
    for name, content in contents.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(content)
    return paths


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".assembling"))


# --- hand-written parts ---------------------------------------------------------------------------


def test_csv_keeps_the_envelopes_header_once(tmp_path: Path) -> None:
    header = BOM + b"sku;name\r\n"
    paths = files(
        tmp_path,
        empty=header,
        one=header + b"A1;Hemd\r\n",
        none=header,
        two=header + b'B2;"zwei\r\nZeilen"\r\nC3;Gr\xc3\xb6\xc3\x9fe\r\n',
    )
    target = tmp_path / "out.csv"
    assemble(paths["empty"], [paths["one"], paths["none"], paths["two"]], CSV, target)
    assert target.read_bytes() == (
        header + b'A1;Hemd\r\nB2;"zwei\r\nZeilen"\r\nC3;Gr\xc3\xb6\xc3\x9fe\r\n'
    )
    assert leftovers(tmp_path) == []


def test_json_lines_are_concatenated(tmp_path: Path) -> None:
    paths = files(tmp_path, empty=b"", one=b'{"a":1}\n', none=b"", two=b'{"a":2}\n{"a":3}\n')
    target = tmp_path / "out.jsonl"
    assemble(paths["empty"], [paths["one"], paths["none"], paths["two"]], JSON_LINES, target)
    assert target.read_bytes() == b'{"a":1}\n{"a":2}\n{"a":3}\n'


def test_a_document_is_the_envelopes_head_the_parts_items_and_its_footer(tmp_path: Path) -> None:
    paths = files(
        tmp_path,
        empty=rss("this run"),
        one=rss("an earlier run", "A1", "A2"),
        none=rss("an earlier run"),
        two=rss("an earlier run", "B1"),
    )
    target = tmp_path / "feed.xml"
    assemble(paths["empty"], [paths["one"], paths["none"], paths["two"]], RSS, target)
    assert target.read_bytes() == rss("this run", "A1", "A2", "B1")
    root = etree.fromstring(target.read_bytes())
    assert root.findtext("channel/title") == "this run"
    assert [i.findtext("id") for i in root.iter("item")] == ["A1", "A2", "B1"]


def test_the_target_may_be_the_envelope_itself(tmp_path: Path) -> None:
    paths = files(tmp_path, empty=rss("this run"), one=rss("old", "A1"), two=rss("old", "B1"))
    assemble(paths["empty"], [paths["one"], paths["two"]], RSS, paths["empty"])
    assert paths["empty"].read_bytes() == rss("this run", "A1", "B1")
    assert leftovers(tmp_path) == []


def test_a_cut_part_fails_naming_it_and_leaves_no_file(tmp_path: Path) -> None:
    whole = rss("old", "B1", "B2")
    paths = files(tmp_path, empty=rss("this run"), one=rss("old", "A1"), cut=whole[:-9])
    target = tmp_path / "feed.xml"
    with pytest.raises(AssemblyError, match=f"{paths['cut']}: does not end with"):
        assemble(paths["empty"], [paths["one"], paths["cut"]], RSS, target)
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_a_failed_splice_into_the_envelope_leaves_it_as_it_was(tmp_path: Path) -> None:
    paths = files(tmp_path, empty=rss("this run"), cut=rss("old", "A1")[:-1])
    with pytest.raises(AssemblyError, match="cut"):
        assemble(paths["empty"], [paths["cut"]], RSS, paths["empty"])
    assert paths["empty"].read_bytes() == rss("this run")
    assert leftovers(tmp_path) == []


def test_an_envelope_without_its_footer_fails(tmp_path: Path) -> None:
    paths = files(tmp_path, empty=rss("this run")[:-1], one=rss("old", "A1"))
    target = tmp_path / "feed.xml"
    with pytest.raises(AssemblyError, match=f"{paths['empty']}: .*footer"):
        assemble(paths["empty"], [paths["one"]], RSS, target)
    assert not target.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("cut", [b"sku;na", b""], ids=["cut_header", "empty_file"])
def test_a_csv_part_whose_header_has_no_line_end_fails(tmp_path: Path, cut: bytes) -> None:
    """A writer ends its header line even for no rows: a header without one is a cut file."""
    paths = files(tmp_path, empty=b"sku;name\n", one=b"sku;name\nA1;x\n", cut=cut)
    target = tmp_path / "out.csv"
    with pytest.raises(AssemblyError, match=f"{paths['cut']}: a header line without"):
        assemble(paths["empty"], [paths["one"], paths["cut"]], CSV, target)
    assert not target.exists()
    assert leftovers(tmp_path) == []


# --- every spliced format through its writer ------------------------------------------------------

MARKUP = 'Kragen </item><item> und <PRODUCT mode="new"> & </PRODUCT_DETAILS>'
MULTILINE = 'Größe "XL", weiß; 100 % Baumwolle\nzweite Zeile \u2013 \u2713'
FORMULA = '=HYPERLINK("https://evil.example","Preis")'
CUSTOMERS = (
    {"id": "C1000", "name": "Baumarkt Nord GmbH", "group": "retail"},
    {"id": "C2000", "name": '<PRODUCT mode="new"> Süd AG'},
)
URL = {"locale": "de_DE", "currency": "EUR", "product_url": "https://shop.example.com/p/{sku}"}
CHANNELS: dict[str, dict[str, Any]] = {
    "shop": URL
    | {"format": "csv", "delimiter": ";", "bom": True, "decimal_comma": True}
    | {"line_ending": "crlf", "parent_rows": True},
    "export": URL | {"format": "tsv"},
    "lines": URL | {"format": "jsonl"},
    "website": URL | {"format": "jsonld"},
    "social": URL | {"format": "meta_catalog", "locale": "en_US", "currency": "USD"},
    "marketplace": URL
    | {"format": "google_merchant", "title": "Feed <item> & mehr"}
    | {"fields": {"description": {"role": "description"}}},  # the preset strips the markup
    "quoting": URL
    | {"format": "bmecat", "supplier": {"id": "EXAMPLE", "name": "Example GmbH & Co. KG"}}
    | {"customers": list(CUSTOMERS)},
}
WHOLE, FIRST, REST, NONE = slice(None), slice(0, 5), slice(5, None), slice(0, 0)
"""The frame, its first 5 and last 7 rows (contiguous: the parts keep the order), no rows."""
THIS_RUN = ("20261201T120000Z-0123abcd", dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC))
EARLIER_RUN = ("20261201T110000Z-89abcdef", dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC))
"""The parts are written by an earlier run (a shard before a re-execution): their heads name
it, and the splice keeps none of them."""
HOSTILE: dict[str, tuple[bytes, ...]] = {
    "shop": (b"'" + FORMULA.replace('"', '""').encode(), "weiß; 100 % Baumwolle\nzweite".encode()),
    "export": (MARKUP.replace('"', '""').encode(), b"'=HYPERLINK("),
    "lines": (MARKUP.replace('"', '\\"').encode(), "weiß; 100 % Baumwolle\\nzweite".encode()),
    "website": (b"\\u003c/item\\u003e\\u003citem\\u003e", "Größe".encode()),
    "social": (b'"\'=HYPERLINK(""https://evil.example""', b"</item><item>"),
    "marketplace": (b"&lt;/item&gt;&lt;item&gt;", b"Feed &lt;item&gt; &amp; mehr"),
    "quoting": (b"&lt;PRODUCT mode=&quot;new&quot;&gt;", "Größe".encode()),
}
"""Per channel, text the spliced files hold: the hostile values as each format writes them."""


def catalog() -> pl.DataFrame:
    """Twelve products with markup, a multi-line text, a formula and non-ASCII text, two
    variant groups (each within one part: a shard holds a family whole)."""
    locales = ("de_DE", "en_US")
    changed: dict[int, dict[str, Any]] = {
        0: {f"{field}_{loc}": MARKUP for loc in locales for field in ("name", "description")},
        1: {"brand": "mueller"}
        | {f"name_{loc}": FORMULA for loc in locales}
        | {f"description_{loc}": MULTILINE for loc in locales},
        5: {f"description_{loc}": MULTILINE for loc in locales},  # the second part's first row
        10: {"description_de_DE": f"{MARKUP}\n{MULTILINE}", "color": "green"},
    }
    for i, group, color in (
        (2, "G1", "blue"),
        (3, "G1", "red"),
        (8, "G2", "blue"),
        (9, "G2", "red"),
    ):
        changed[i] = {"item_group": group, "parent": group, "level": 1, "color": color}
        changed[i] |= {"family_variant": "shirts_color_size", "variant_axes": ["color"]}
    rows = [
        product(f"P{i:02d}", list_price_EUR=Decimal(f"{10 + i}.50"), **changed.get(i, {}))
        for i in range(12)
    ]
    return golden_products(*rows)


def tiers() -> pl.DataFrame:
    """List prices for all but one product, the retail group's for some, C1000's own for a
    few (in EUR, the quoting channel's currency)."""
    rows = [tier(f"P{i:02d}", f"{10 + i}.00") for i in range(12) if i != 6]
    rows += [tier(f"P{i:02d}", f"{9 + i}.50", price_type="group", customer_group="retail")
             for i in (1, 4, 7, 11)]  # fmt: skip
    rows += [tier(f"P{i:02d}", f"{8 + i}.25", price_type="customer", customer_id="C1000")
             for i in (4, 9)]  # fmt: skip
    rows.append(tier("P09", "7.00", price_type="customer", customer_id="C1000", min_quantity=10))
    return price_tiers(*rows)


@dataclass(frozen=True)
class Feed:
    """One channel's mapped products and its writer."""

    name: str
    channel: CompiledChannel
    frame: pl.DataFrame
    golden: pl.DataFrame
    tiers: pl.DataFrame

    def write(self, folder: Path, rows: slice, run: tuple[str, dt.datetime]) -> list[str]:
        """The writer on ``rows`` of the products (their golden rows and tiers), into
        ``folder``; the file names it wrote."""
        frame, golden = self.frame[rows], self.golden[rows]
        folder.mkdir()
        context = WriteContext(
            channel=self.name,
            settings=self.channel.channel,
            options=self.channel.options,
            folder=folder,
            snapshot_id=run[0],
            created=run[1],
            tiers=self.tiers.join(frame.select("sku"), on="sku", how="semi"),
            golden=golden.lazy(),
            price_rule=effective_tiers,
        )
        written = self.channel.format.writer(frame, context)
        return [Path(f.path).name for f in written]


@pytest.fixture(scope="module")
def feeds() -> dict[str, Feed]:
    config = config_with(CHANNELS)
    golden, all_tiers = catalog(), tiers()
    found = {}
    for name in CHANNELS:
        view = view_of(config, name, golden)
        assert view.frame.height == 12, name
        found[name] = Feed(name, compiled(config, name, golden), view.frame, view.golden, all_tiers)
    return found


@pytest.mark.parametrize("name", list(CHANNELS))
def test_the_parts_spliced_into_the_envelope_are_the_whole_file(
    tmp_path: Path, feeds: dict[str, Feed], name: str
) -> None:
    feed = feeds[name]
    assembly = feed.channel.format.assembly
    assert assembly is not None
    assembly = assembly.for_options(feed.channel.options)
    assert assembly is not None
    whole = feed.write(tmp_path / "A", WHOLE, THIS_RUN)
    envelope = feed.write(tmp_path / "E", NONE, THIS_RUN)
    assert feed.write(tmp_path / "P1", FIRST, EARLIER_RUN) == envelope
    assert feed.write(tmp_path / "P2", REST, EARLIER_RUN) == envelope == whole
    assert len(whole) == (2 if name == "quoting" else 1)
    for file in envelope:
        parts = [tmp_path / "P1" / file, tmp_path / "P2" / file]
        assert all(p.read_bytes() != (tmp_path / "E" / file).read_bytes() for p in parts)
        target = tmp_path / file
        assemble(tmp_path / "E" / file, parts, assembly, target)
        assert target.read_bytes() == (tmp_path / "A" / file).read_bytes(), file
        assert [t for t in HOSTILE[name] if t not in target.read_bytes()] == [], file
    assert leftovers(tmp_path) == []


# --- which formats are spliced --------------------------------------------------------------------


def test_only_workbooks_and_the_portal_are_written_whole() -> None:
    assert {name for name, spec in FORMATS.items() if spec.assembly is None} == {"xlsx", "sql"}


def test_a_gzipped_bmecat_catalog_is_written_whole() -> None:
    assembly = bmecat.SPEC.assembly
    assert assembly is not None
    values: dict[str, Any] = {"supplier": {"id": "EX", "name": "Ex"}, "customers": [CUSTOMERS[0]]}
    assert assembly.for_options(bmecat.Options.model_validate(values)) is assembly
    assert assembly.for_options(None) is assembly
    gzipped = bmecat.Options.model_validate(values | {"compress": "gzip"})
    assert assembly.for_options(gzipped) is None
