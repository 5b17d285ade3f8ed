"""Record indexes of full feeds: a delta whose previous side is read from its index is byte for
byte the delta that splits the previous files; a missing, damaged, outdated or mismatched index
is a miss (the files are split as before); indexes are written whole and pruned to the live and
the new snapshot's."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
import pytest
from bmecat_catalog import CUSTOMERS, catalog_context, catalog_products, catalog_tiers

from contracts.snapshots import FeedFile, Manifest
from sinks.deltas import Deltas, google_merchant, index_feeds, record_index, write_deltas
from sinks.deltas import xml_records as xr
from sinks.deltas.changes import content_hashes, hash_changes, row_changes, shape
from sinks.deltas.indexes import INDEXED
from sinks.deltas.record_index import IndexFolder, RecordIndex
from sinks.formats import bmecat as bmecat_writer
from sinks.snapshot_store import sha256_of

FORMATS = {
    "website": "jsonld",
    "shop": "csv",
    "social": "meta_catalog",
    "marketplace": "google_merchant",
    "quoting": "bmecat",
    "portal": "sql",
}
RSS = (
    '<?xml version="1.0" encoding="UTF-8"?><rss xmlns:g="http://base.google.com/ns/1.0" '
    'version="2.0"><channel><title>T</title>{}</channel></rss>'
)
SALE = "<g:sale_price>1.00 EUR</g:sale_price>"


def item(ident: str, title: str, price: str, extra: str = "") -> str:
    return (
        f"<item><g:id>{ident}</g:id><g:title>{title}</g:title><g:price>{price}</g:price>"
        f"<g:availability>in_stock</g:availability>{extra}</item>"
    )


def product(ident: str, name: str) -> str:
    return json.dumps({"@type": "Product", "sku": ident, "name": name}, ensure_ascii=False)


def group(ident: str, variants: dict[str, str]) -> str:
    members = [json.loads(product(k, v)) for k, v in variants.items()]
    return json.dumps({"@type": "ProductGroup", "productGroupID": ident, "hasVariant": members})


WEBSITE = (
    [product("a", "A"), group("g", {"g-1": "x", "g-2": "y"}), product("b", "B")],
    [product("a", "Ä2"), group("g", {"g-1": "x", "g-2": "z"}), group("h", {"h-1": "n"})],
)
SHOP = (
    [["sku", "name", "price"], ["a", "A", "1,00"], ["b", "B;x", "2,00"], ["d", "l1\nl2", "4"]],
    [["sku", "name", "price"], ["a", "A", "1,50"], ["b", "B;x", "2,00"], ["e", "E", "5"]],
)
SOCIAL = (  # a renamed column: every row is re-sent
    [["id", "title", "price"], ["a", "A", "1"], ["b", "B", "2"]],
    [["id", "name", "price"], ["a", "A", "1"], ["c", "C", "3"]],
)
GOOGLE = (
    [
        item("a", "A", "1.00 EUR"),
        item("b", "B", "2.00 EUR"),
        item("d", "D", "4.00 EUR", SALE),
        item("e", "E &amp; co", "5.00 EUR"),
    ],
    [
        item("a", "A", "1.50 EUR"),  # supplemental only
        item("b", "B2", "2.00 EUR"),
        item("c", "C", "3.00 EUR"),
        item("d", "D", "4.00 EUR"),  # the sale price ends: whole
    ],
)


@dataclass(frozen=True)
class Snapshot:
    folder: Path
    manifest: Manifest


def write_csv(path: Path, rows: list[list[str]], delimiter: str, encoding: str) -> FeedFile:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return FeedFile(path.parent.name, f"{path.parent.name}/{path.name}", len(rows) - 1)


def write_text(path: Path, text: str) -> FeedFile:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return FeedFile(path.parent.name, f"{path.parent.name}/{path.name}", 1)


def quoting(folder: Path, generation: int, compress: str | None) -> list[FeedFile]:
    products, tiers = catalog_products(), catalog_tiers()
    if generation:  # S0000 and S0001 removed, S0003 cheaper
        products = products.slice(2)
        cheaper = pl.when(pl.col("sku") == "S0003").then(pl.col("unit_price") / 2)
        tiers = tiers.with_columns(unit_price=cheaper.otherwise(pl.col("unit_price")))
    folder.mkdir(parents=True)
    return bmecat_writer.write(products, catalog_context(folder, tiers, CUSTOMERS[:2], compress))


def snapshot(root: Path, generation: int, compress: str | None = "gzip") -> Snapshot:
    """A snapshot of every channel with a delta (and a portal, which has none of files),
    sealed: each file's SHA-256 in the manifest."""
    files = [
        write_text(root / "website" / "products.jsonl", "\n".join(WEBSITE[generation]) + "\n"),
        write_csv(root / "shop" / "products.csv", SHOP[generation], ";", "utf-8-sig"),
        write_csv(root / "social" / "meta_catalog.csv", SOCIAL[generation], ",", "utf-8"),
        write_text(
            root / "marketplace" / "google_merchant.xml", RSS.format("".join(GOOGLE[generation]))
        ),
        *quoting(root / "quoting", generation, compress),
    ]
    sealed = [
        replace(f, sha256=sha256_of(root / f.path), bytes=(root / f.path).stat().st_size)
        for f in files
    ]
    snapshot_id = f"20261122T18560{generation}Z-ab12cd34"
    return Snapshot(root, Manifest(snapshot_id, "", "", {}, sealed))


@dataclass(frozen=True)
class Written:
    deltas: Deltas
    files: dict[str, bytes]
    """every file of the new snapshot's folder after the deltas, by relative path"""


def deltas(previous: Snapshot, new: Snapshot, target: Path, index: Path | None) -> Written:
    """The deltas from ``previous`` to a copy of ``new`` in ``target``."""
    shutil.copytree(new.folder, target)
    found = write_deltas(
        previous.manifest, previous.folder, new.manifest, target, FORMATS, {}, index
    )
    files = {
        p.relative_to(target).as_posix(): p.read_bytes() for p in target.rglob("*") if p.is_file()
    }
    return Written(found, files)


@pytest.fixture
def snapshots(tmp_path: Path) -> tuple[Snapshot, Snapshot]:
    return snapshot(tmp_path / "old", 0), snapshot(tmp_path / "new", 1)


@pytest.mark.parametrize("compress", ["gzip", None])
def test_deltas_from_the_index_are_the_deltas_from_the_files(
    tmp_path: Path, compress: str | None
) -> None:
    old, new = snapshot(tmp_path / "old", 0, compress), snapshot(tmp_path / "new", 1, compress)
    index = tmp_path / "index"
    every = sorted(f.path for f in old.manifest.files)
    assert sorted(index_feeds(old.manifest, old.folder, FORMATS, index)) == every
    with_index = deltas(old, new, tmp_path / "a", index)
    split = deltas(old, new, tmp_path / "b", None)
    assert sorted(with_index.deltas.reused) == every
    assert split.deltas.reused == []
    assert with_index.deltas == replace(
        split.deltas, reused=with_index.deltas.reused, digests=with_index.deltas.digests
    )
    assert with_index.files == split.files
    # the new files hashed to name their indexes, what the seal takes instead of reading them
    assert with_index.deltas.digests == {p: sha256_of(new.folder / p) for p in every}
    assert split.deltas.digests == {}
    # the changes the formats treat apart are all there
    assert split.files["marketplace/delta_removed.txt"] == b"e\n"
    assert b"<g:id>a</g:id>" in split.files["marketplace/supplemental.xml"]
    assert b'mode="delete"' in split.files["quoting/C1000.update.xml"]
    assert split.files["social/delta.csv"].count(b"upsert") == 2  # the renamed column
    assert b"productGroupID" in split.files["website/delta.jsonl"]


def damage_each(index: Path, harm: Callable[[Path], None]) -> None:
    for path in sorted(index.iterdir()):
        harm(path)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def tamper(path: Path) -> None:
    """Other contents under the same name and metadata (a flipped bit, say)."""
    meta = pl.read_parquet_metadata(path)
    records = pl.read_parquet(path)
    value = records.columns[1]
    changed = records.with_columns(pl.col(value) + 1)
    changed.write_parquet(path, metadata=meta)


def rewrite(old: Snapshot, change: Callable[[str, bytes], bytes]) -> None:
    """Each previous file's document rewritten after it was indexed (and sealed) by
    ``change`` (its path, its document), the manifest kept."""
    for feed in old.manifest.files:
        path = old.folder / feed.path
        raw = path.read_bytes()
        if path.suffix == ".gz":
            path.write_bytes(gzip.compress(change(feed.path, gzip.decompress(raw))))
        else:
            path.write_bytes(change(feed.path, raw))


def other_bytes(old: Snapshot) -> None:
    """Other bytes of the sealed size in every previous file: in a catalog a product no
    delta carries renamed, elsewhere every B a Q."""

    def change(path: str, raw: bytes) -> bytes:
        quoting = path.startswith("quoting/")
        return raw.replace(b"S0005", b"S9995") if quoting else raw.replace(b"B", b"Q")

    rewrite(old, change)
    assert all((old.folder / f.path).stat().st_size == f.bytes for f in old.manifest.files)


def other_size(old: Snapshot) -> None:
    def change(path: str, raw: bytes) -> bytes:
        quoting = path.startswith("quoting/")
        return raw.replace(b"S0005", b"S99995") if quoting else raw.replace(b"B", b"BB")

    rewrite(old, change)


@pytest.mark.parametrize("damage", ["missing", "truncated", "tampered", "other size", "version"])
def test_an_unusable_index_is_a_miss_and_the_files_are_split(
    snapshots: tuple[Snapshot, Snapshot],
    tmp_path: Path,
    damage: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = snapshots
    index = tmp_path / "index"
    index_feeds(old.manifest, old.folder, FORMATS, index)
    if damage == "missing":
        shutil.rmtree(index)
    elif damage == "truncated":
        damage_each(index, truncate)
    elif damage == "tampered":
        damage_each(index, tamper)
    elif damage == "other size":
        other_size(old)
    else:
        monkeypatch.setattr(record_index, "VERSION", record_index.VERSION + 1)
    with_index = deltas(old, new, tmp_path / "a", index)
    split = deltas(old, new, tmp_path / "b", None)
    assert with_index.deltas.reused == []
    assert with_index.deltas == replace(split.deltas, digests=with_index.deltas.digests)
    assert with_index.files == split.files


def test_a_previous_file_rewritten_at_its_size_is_read_by_its_index_and_slices_are_checked(
    tmp_path: Path,
) -> None:
    """The index holds what was sealed, which consumers hold, so the previous file is not
    hashed again: its rewritten bytes do not change a delta that reads only the index; a
    record a delta slices out of it must match its digest in the index, else the channel
    gets the full feed only, named in the notes."""
    old, new = snapshot(tmp_path / "old", 0, None), snapshot(tmp_path / "new", 1, None)
    index = tmp_path / "index"
    index_feeds(old.manifest, old.folder, FORMATS, index)
    shutil.copytree(index, tmp_path / "index-2")
    sealed = deltas(old, new, tmp_path / "a", index)
    other_bytes(old)  # google's item b (changed: its previous text is sliced) is now "Q"
    rewritten = deltas(old, new, tmp_path / "b", tmp_path / "index-2")
    assert (
        rewritten.deltas.reused
        == sealed.deltas.reused
        == sorted(f.path for f in old.manifest.files)
    )
    note = rewritten.deltas.notes["marketplace"]
    assert note.startswith("full feed only: google_merchant.xml: record 'b' is not what its")
    assert not any(f.channel == "marketplace" for f in rewritten.deltas.files)
    # the quoting update slices the removed S0000 and S0001, unchanged: it is the sealed one
    kept = {p: b for p, b in sealed.files.items() if not p.startswith("marketplace/")}
    assert {p: b for p, b in rewritten.files.items() if not p.startswith("marketplace/")} == kept
    assert b'mode="delete"' in kept["quoting/C1000.update.xml"]


def test_a_gzipped_previous_catalog_damaged_at_its_size_leaves_quoting_the_full_feed(
    snapshots: tuple[Snapshot, Snapshot], tmp_path: Path
) -> None:
    """The removed products' previous text comes out of the gzipped catalog, which no longer
    decompresses: the quoting channel gets no update, the note names the file."""
    old, new = snapshots
    index = tmp_path / "index"
    index_feeds(old.manifest, old.folder, FORMATS, index)
    first = old.folder / "quoting" / "C1000.xml.gz"
    raw = bytearray(first.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 8] = bytes(8)
    first.write_bytes(bytes(raw))
    written = deltas(old, new, tmp_path / "staged", index)
    assert written.deltas.notes["quoting"].startswith("full feed only: C1000.xml.gz: ")
    assert not any(p.endswith(".update.xml") for p in written.files)
    assert any(f.channel == "marketplace" for f in written.deltas.files)


def index_names(snapshot: Snapshot, folder: Path) -> set[str]:
    store = IndexFolder(folder)
    found = set()
    for feed in snapshot.manifest.files:
        kind = INDEXED[FORMATS[feed.channel]][0]
        found.add(store.path(kind, sha256_of(snapshot.folder / feed.path)).name)
    return found


def test_the_new_snapshot_is_indexed_and_older_indexes_are_pruned(
    snapshots: tuple[Snapshot, Snapshot], tmp_path: Path
) -> None:
    old, new = snapshots
    index = tmp_path / "index"
    index_feeds(old.manifest, old.folder, FORMATS, index)
    assert {p.name for p in index.iterdir()} == index_names(old, index)
    (index / f"{'0' * 64}.feedfeedfeedfeed.parquet").write_bytes(b"an older snapshot's")
    (index / ".x.parquet.0123456789ab.partial").write_bytes(b"a killed writer's")
    written = deltas(old, new, tmp_path / "staged", index)
    staged = Snapshot(tmp_path / "staged", new.manifest)
    assert {p.name for p in index.iterdir()} == index_names(old, index) | index_names(staged, index)

    # the next publish: the staged snapshot is the previous side, read from its index
    sealed = replace(
        new.manifest,
        files=[replace(f, sha256=sha256_of(staged.folder / f.path)) for f in new.manifest.files],
    )
    third = snapshot(tmp_path / "third", 0)
    after = deltas(Snapshot(staged.folder, sealed), third, tmp_path / "after", index)
    assert sorted(after.deltas.reused) == sorted(f.path for f in new.manifest.files)
    assert {p.name for p in index.iterdir()} == index_names(staged, index) | index_names(
        third, index
    )
    assert written.deltas.files


def test_only_files_a_delta_reads_whole_are_indexed(tmp_path: Path) -> None:
    old = snapshot(tmp_path / "old", 0)
    extra = write_text(tmp_path / "old" / "website" / "second.jsonl", WEBSITE[0][0] + "\n")
    manifest = replace(
        old.manifest,
        files=[*old.manifest.files, extra, FeedFile("portal", "products_x", 3, kind="table")],
    )
    formats = {**FORMATS, "feed": "xlsx"}
    indexed = index_feeds(manifest, old.folder, formats, tmp_path / "index")
    assert "website/products.jsonl" not in indexed  # a channel of two files has no delta
    assert sorted(indexed) == sorted(f.path for f in old.manifest.files if f.channel != "website")


def test_an_index_is_written_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = tmp_path / "products.jsonl"
    feed.write_text(WEBSITE[0][0] + "\n", encoding="utf-8")
    frame = pl.DataFrame({"key": ["Product\ta"], "line": [WEBSITE[0][0]]})
    index = RecordIndex(
        "jsonlines", sha256_of(feed), content_hashes(frame, "key"), shape(frame, "key")
    )
    store = IndexFolder(tmp_path / "index")

    def full_disk(self: Path, target: Path) -> Path:
        msg = "No space left on device"
        raise OSError(msg)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "replace", full_disk)
        assert store.save(index) is None
    assert list(store.folder.iterdir()) == []
    saved = store.save(index)
    assert saved is not None
    assert [p.name for p in store.folder.iterdir()] == [saved.name]
    size = feed.stat().st_size
    assert store.load("jsonlines", index.sha256, feed, size=size + 1) is None  # rewritten
    loaded = store.load("jsonlines", index.sha256, feed, size=size)
    assert loaded is not None
    assert loaded.shape == index.shape
    assert loaded.records.equals(index.records)
    assert store.load("delimited", index.sha256, feed, size=size) is None  # another format's


@pytest.mark.parametrize(
    ("new", "same"),
    [
        ({"sku": ["a", "b"], "price": [1.0, 3.0]}, True),
        ({"sku": ["a", "c"], "price": [1.0, None]}, True),
        ({"sku": ["a", "b"], "cost": [1.0, 2.0]}, False),
        ({"sku": ["a", "b"], "price": ["1.0", "2.0"]}, False),
        ({"price": [1.0, 2.0], "sku": ["a", "b"]}, False),
    ],
)
def test_hashes_taken_apart_compare_as_row_changes(new: dict[str, list], same: bool) -> None:
    previous, fresh = pl.DataFrame({"sku": ["a", "b"], "price": [1.0, 2.0]}), pl.DataFrame(new)
    assert (shape(previous, "sku") == shape(fresh, "sku")) is same
    taken_apart = hash_changes(
        content_hashes(previous, "sku"),
        content_hashes(fresh, "sku"),
        "sku",
        same_shape=shape(previous, "sku") == shape(fresh, "sku"),
    )
    assert taken_apart.equals(row_changes(previous, fresh, "sku"))


def test_xml_record_offsets_point_into_the_uncompressed_document(tmp_path: Path) -> None:
    items = [item("ä", "Grüße", "1.00 EUR"), "\n  ", item("b&amp;", "x", "2")]
    items.append(item("ä", "last €", "3"))
    data = RSS.format("".join(items)).encode()
    args = (google_merchant.ITEM, google_merchant.END, google_merchant.ITEM_ID)
    frame = xr.split(data, "f.xml", *args)
    spans = frame.select(xr.RECORD, xr.OFFSET, xr.LENGTH).iter_rows()
    assert [data[at : at + size] for _, at, size in spans] == [r.encode() for r in frame[xr.RECORD]]
    (tmp_path / "f.xml.gz").write_bytes(gzip.compress(data))
    index = xr.index_of("google_merchant", data, frame).records
    assert xr.by_key(index, ["ä", "b&"], b"</item>", tmp_path / "f.xml.gz") == xr.by_key(
        frame, ["ä", "b&"], b"</item>"
    )
    assert xr.by_key(index, ["zz"], b"</item>", tmp_path / "absent.xml") == {}  # not read
