"""An export split into shard folders reads, shard by shard, as the whole export does: the same
products with the same ``pim_source``, the same rejects; a model's variants and a sku's or a
uuid's repeats share a shard."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zlib
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from demo import generate_demo_data
from sources.akeneo_files import PimExport, PimFileError, read_pim_export
from sources.akeneo_files.shards import ShardSplit, shard_of, split_export
from sources.text_files import InputFileError

LOCALES = ("de_DE", "en_US")
SCOPE = "ecommerce"


def read(folder: Path) -> PimExport:
    return read_pim_export(folder, LOCALES, SCOPE)


def write_lines(folder: Path, entity: str, lines: list[str], end: str = "\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{entity}.jsonl").write_text("\n".join(lines) + end, encoding="utf-8")
    return folder


def product(
    sku: str | None, parent: str | None = None, uuid: str | None = None, **values: object
) -> str:
    entries = {code: [{"locale": None, "scope": None, "data": d}] for code, d in values.items()}
    item: dict[str, object] = {"uuid": uuid, "enabled": True, "categories": []}
    if sku is not None:
        item["identifier"] = sku
    return json.dumps(item | {"parent": parent, "values": entries})


def model(code: str, parent: str | None = None) -> str:
    return json.dumps({"code": code, "parent": parent, "categories": [], "values": {}})


def skus_by_shard(split: ShardSplit) -> list[set[str]]:
    return [
        set(read(folder).products["sku"].to_list()) if count else set()
        for folder, count in zip(split.folders, split.products, strict=True)
    ]


def assert_reads_as_whole(split: ShardSplit, folder: Path) -> PimExport:
    """The union of the shards' reads is the whole export's read; returns the latter. A shard
    without products fails to read, as an empty export does."""
    whole = read(folder)
    parts = []
    for shard, count in zip(split.folders, split.products, strict=True):
        if count:
            parts.append(read(shard))
            continue
        with pytest.raises(PimFileError, match="no products in the file"):
            read(shard)
    products = pl.concat([p.products for p in parts], how="diagonal_relaxed")
    assert_frame_equal(
        products.select(whole.products.columns).sort("sku"), whole.products.sort("sku")
    )
    rejects = pl.concat([p.rejects for p in parts])
    assert_frame_equal(rejects.sort("source"), whole.rejects.sort("source"))
    assert [c for c in split.products if c] == [p.rows_read["products.jsonl"] for p in parts]
    return whole


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    generate_demo_data(root, products=300, seed=7, as_of=dt.date(2026, 11, 22))
    return next((root / "pim").iterdir())


@pytest.fixture
def demo_with_twins(demo_export: Path, tmp_path: Path) -> Path:
    """The demo export plus repeats the reader rejects: a variant's sku again on a product
    without parent (another family root), a simple product's sku again under a model, a uuid
    again under a new sku, and a uuid first seen on a product without sku."""
    folder = tmp_path / "export"
    shutil.copytree(demo_export, folder)
    lines = (folder / "products.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines]
    variant = next(i for i in items if i["parent"])
    simple = next(i for i in items if not i["parent"])
    extra = [
        json.dumps(variant | {"parent": None, "uuid": "u-variant-twin"}),
        json.dumps(simple | {"parent": variant["parent"], "uuid": "u-simple-twin"}),
        json.dumps(simple | {"identifier": "NEW-1", "values": {}}),
        product(None, uuid="u-orphan"),
        product("NEW-2", uuid="u-orphan"),
    ]
    write_lines(folder, "products", lines + extra)
    return folder


@pytest.mark.parametrize("shards", [1, 3, 4])
def test_shards_read_as_the_whole_demo_export_rejects_included(
    demo_with_twins: Path, tmp_path: Path, shards: int
) -> None:
    split = split_export(demo_with_twins, shards, tmp_path / "shards", "sku")
    whole = assert_reads_as_whole(split, demo_with_twins)
    assert sorted(whole.rejects["reason"].to_list()) == [
        "duplicate_sku",
        "duplicate_sku",
        "duplicate_uuid",
        "duplicate_uuid",
        "missing_identifier",
    ]
    assert split.folders == tuple(tmp_path / "shards" / f"shard-{i}" for i in range(shards))
    assert sum(split.products) == 305
    if shards > 1:
        assert all(split.products)


def test_a_repeat_of_one_sku_and_another_uuid_follows_the_sku(tmp_path: Path) -> None:
    """Line 3 repeats line 1's sku and line 2's uuid, which sit in different shards: the reader
    names a repeated sku first, so line 3 joins line 1; line 4, repeating that uuid again,
    meets line 2 in its shard."""
    lines = [product("a", uuid="ua"), product("d", uuid="ud"), product("a", uuid="ud")]
    lines += [product("e", uuid="ud"), product("h", uuid="uh")]
    folder = write_lines(tmp_path / "export", "products", lines)
    split = split_export(folder, 2, tmp_path / "shards")
    assert shard_of(pl.Series(["a", "d"]), 2).to_list() == [1, 0]
    whole = assert_reads_as_whole(split, folder)
    assert whole.rejects.select("value", "reason").rows() == [
        ("a", "duplicate_sku"),
        ("ud", "duplicate_uuid"),
    ]


def test_every_variant_of_a_root_model_shares_its_shard(tmp_path: Path) -> None:
    models, products = [], []
    for i in range(40):
        models += [model(f"Shirt-{i}"), model(f"shirt-{i}_blue", f"SHIRT-{i}")]
        products += [product(f"s{i}-m", f"Shirt-{i}_BLUE"), product(f"s{i}-l", f"shirt-{i}_Blue")]
        products += [product(f"s{i}", f"sHiRt-{i}"), product(f"simple-{i}")]
    folder = write_lines(tmp_path / "export", "products", products)
    write_lines(folder, "product_models", models)
    split = split_export(folder, 4, tmp_path / "shards")
    shard_of_sku = {sku: shard for shard, skus in enumerate(skus_by_shard(split)) for sku in skus}
    for i in range(40):
        expected = shard_of(pl.Series([f"shirt-{i}"]), 4).item()
        assert {shard_of_sku[f"s{i}{end}"] for end in ("-m", "-l", "")} == {expected}
        assert shard_of_sku[f"simple-{i}"] == shard_of(pl.Series([f"simple-{i}"]), 4).item()
    assert len(set(shard_of_sku.values())) == 4
    assert_reads_as_whole(split, folder)


def test_a_model_cycle_or_an_unknown_parent_still_gives_one_shard(tmp_path: Path) -> None:
    models = [model("loop_a", "loop_b"), model("loop_b", "LOOP_A"), model("top", "gone")]
    products = [product("a", "loop_a"), product("b", "loop_b"), product("c", "top")]
    products += [product("d", "Gone"), product("e", "nowhere")]
    folder = write_lines(tmp_path / "export", "products", products)
    write_lines(folder, "product_models", models)
    split = split_export(folder, 5, tmp_path / "shards")
    skus = skus_by_shard(split)
    assert sorted(len(s) for s in skus if s) == [1, 2, 2]
    assert {"a", "b"} in skus
    assert {"c", "d"} in skus
    assert_reads_as_whole(split, folder)


@pytest.mark.parametrize("form", ["csv", "jsonl-with-a-number"])
def test_roots_come_from_any_readable_models_file(tmp_path: Path, form: str) -> None:
    products = [product("v1", "m_sub"), product("v2", "M_top"), product("x", "m_other")]
    folder = write_lines(tmp_path / "export", "products", products)
    if form == "csv":
        text = "code;family_variant;parent\nm_top;fv;\nm_sub;fv;M_TOP\nm_other;fv;\n"
        (folder / "product_models.csv").write_text(text, encoding="utf-8")
    else:  # a code that is no text keeps pyarrow from reading the models: line by line
        models = [model("m_top"), model("m_sub", "M_TOP"), model("m_other")]
        write_lines(folder, "product_models", [*models, json.dumps({"code": 42})])
    split = split_export(folder, 3, tmp_path / "shards")
    top, other = shard_of(pl.Series(["m_top", "m_other"]), 3).to_list()
    assert top != other
    assert skus_by_shard(split)[top] == {"v1", "v2"}
    name = "product_models.csv" if form == "csv" else "product_models.jsonl"
    assert split.rows_read == {"products.jsonl": 3, name: 3 if form == "csv" else 4}
    assert_reads_as_whole(split, folder)


def test_shard_of_is_crc32_of_the_casefolded_key() -> None:
    keys = pl.Series("root", ["abc", "ABC", "Straße", "p0000001", None])
    expected = [zlib.crc32(k.encode()) % 7 for k in ("abc", "abc", "strasse", "p0000001")]
    found = shard_of(keys, 7)
    assert found.dtype == pl.Int64
    assert found.name == "root"
    assert found.to_list() == [*expected, 0]
    assert expected == [5, 5, 5, 0]  # fixed: a change of the hash would move every product
    assert shard_of(keys, 1).to_list() == [0] * 5
    with pytest.raises(ValueError, match="at least 1"):
        shard_of(keys, 0)
    with pytest.raises(ValueError, match="at least 1"):
        split_export(Path("export"), 0, Path("shards"))


def test_a_csv_export_is_refused_naming_products_csv(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "products.csv").write_text("sku;enabled\na;1\n", encoding="utf-8")
    with pytest.raises(PimFileError, match=r"products\.csv: sharded runs need the JSON Lines"):
        split_export(folder, 2, tmp_path / "shards")
    with pytest.raises(PimFileError, match=r"no products\.jsonl"):
        split_export(tmp_path / "shards", 2, tmp_path / "other")


def test_a_broken_line_lands_in_shard_0_which_names_its_original_line(tmp_path: Path) -> None:
    lines = [product(f"p{i}") for i in range(12)]
    lines[6] = '{"identifier": "p6",, }'
    folder = write_lines(tmp_path / "export", "products", lines)
    split = split_export(folder, 3, tmp_path / "shards")
    with pytest.raises(PimFileError, match=r"products\.jsonl:7: not valid JSON"):
        read(split.folders[0])
    others = pl.concat([read(f).products for f in split.folders[1:]])
    whole = [f"products.jsonl:{n}" for n in range(1, 13) if n != 7]
    assert set(others["pim_source"].to_list()) <= set(whole)
    assert split.products[0] == 12 - others.height
    for shard in split.folders:
        assert (shard / "products.jsonl").read_bytes().count(b"\n") == 12


def test_two_objects_on_one_line_go_to_shard_0_as_one_record(tmp_path: Path) -> None:
    """pyarrow reads them as two rows, which no longer match the lines: the keys are read
    line by line, where the line is no JSON object."""
    lines = [product("a"), product("b") + product("c"), product("d")]
    folder = write_lines(tmp_path / "export", "products", lines)
    split = split_export(folder, 2, tmp_path / "shards")
    assert sum(split.products) == 3
    shard_0 = (split.folders[0] / "products.jsonl").read_text(encoding="utf-8").split("\n")
    assert shard_0[1] == lines[1]


def test_a_line_longer_than_a_reading_block_is_read(tmp_path: Path) -> None:
    lines = [product("a"), product("b", description="x" * (5 << 20)), product("c")]
    folder = write_lines(tmp_path / "export", "products", lines)
    split = split_export(folder, 2, tmp_path / "shards")
    assert_reads_as_whole(split, folder)


def test_keys_of_mixed_json_types_are_read_line_by_line(tmp_path: Path) -> None:
    lines = [product(f"p{i}", uuid=f"u{i}") for i in range(10)]
    lines += [json.dumps({"identifier": 12345, "values": {}}), product("12345"), product("p3")]
    folder = write_lines(tmp_path / "export", "products", lines)
    split = split_export(folder, 3, tmp_path / "shards")
    whole = assert_reads_as_whole(split, folder)
    assert whole.rejects["value"].to_list() == ["12345", "p3"]


def test_a_sku_in_the_values_in_another_case_keeps_repeats_together(tmp_path: Path) -> None:
    """uuid-keyed exports (Akeneo 7) have no ``identifier``: the sku is the identifier
    attribute's value, whatever case the export spells the attribute in."""
    lines = [product(None, f"model-{i}", f"u{i}", SKU=f"s{i % 10}") for i in range(40)]
    folder = write_lines(tmp_path / "export", "products", lines)
    split = split_export(folder, 4, tmp_path / "shards", "sku")
    whole = assert_reads_as_whole(split, folder)
    assert whole.products.height == 10
    assert whole.rejects.height == 30


def test_a_last_line_without_newline_stays_cut_off_in_its_shard(tmp_path: Path) -> None:
    lines = [product(f"p{i}") for i in range(8)]
    folder = write_lines(tmp_path / "export", "products", lines, end="")
    split = split_export(folder, 3, tmp_path / "shards")
    owner = shard_of(pl.Series(["p7"]), 3).item()
    for shard, path in enumerate(split.folders):
        data = (path / "products.jsonl").read_bytes()
        assert data.endswith(lines[-1].encode() if shard == owner else b"\n")
        assert data.count(b"\n") == 7 + (shard != owner)
        if shard == owner:
            with pytest.raises(InputFileError, match=r"products\.jsonl:8: the last line does not"):
                read(path)
        else:
            read(path)


def test_a_cut_off_json_line_lands_in_shard_0(tmp_path: Path) -> None:
    lines = [product(f"p{i}") for i in range(8)] + ['{"identifier": "p8", "val']
    folder = write_lines(tmp_path / "export", "products", lines, end="")
    split = split_export(folder, 3, tmp_path / "shards")
    assert (split.folders[0] / "products.jsonl").read_bytes().endswith(b'"val')
    with pytest.raises(InputFileError, match=r"products\.jsonl:9: the last line does not"):
        read(split.folders[0])


def test_rows_read_count_the_records_of_the_whole_export(tmp_path: Path) -> None:
    lines = [product("a"), "", product("b", "m1"), "   ", product("c", "m2")]
    folder = write_lines(tmp_path / "export", "products", lines)
    split = split_export(folder, 2, tmp_path / "shards")
    assert split.rows_read == {"products.jsonl": 3}
    write_lines(folder, "product_models", [model("m1"), "", model("m2", "m1")])
    split = split_export(folder, 2, tmp_path / "shards")
    assert split.rows_read == {"products.jsonl": 3, "product_models.jsonl": 2}
    assert sum(split.products) == 3
    whole = assert_reads_as_whole(split, folder)
    assert {k: whole.rows_read[k] for k in split.rows_read} == split.rows_read
    (folder / "products.jsonl").write_bytes(b"")
    split = split_export(folder, 2, tmp_path / "shards")
    assert (split.products, split.rows_read["products.jsonl"]) == ((0, 0), 0)
    assert all((f / "products.jsonl").stat().st_size == 0 for f in split.folders)


def test_one_shard_is_the_export_itself(demo_export: Path, tmp_path: Path) -> None:
    split = split_export(demo_export, 1, tmp_path / "shards", "sku")
    shard = split.folders[0]
    original = (demo_export / "products.jsonl").read_bytes()
    assert (shard / "products.jsonl").read_bytes() == original
    assert not (shard / "products.jsonl").is_symlink()
    for entry in demo_export.iterdir():
        if entry.name != "products.jsonl":
            link = shard / entry.name
            assert link.is_symlink()
            assert link.readlink() == entry.resolve()
    assert split.rows_read == {"products.jsonl": 300, "product_models.jsonl": 55}
    assert_reads_as_whole(split, demo_export)


def test_a_new_split_replaces_the_shard_folders_of_an_earlier_one(tmp_path: Path) -> None:
    folder = write_lines(tmp_path / "export", "products", [product(f"p{i}") for i in range(20)])
    target = tmp_path / "shards"
    split_export(folder, 4, target)
    (target / ".shards-staging-crashed").mkdir()
    write_lines(folder, "products", [product(f"q{i}") for i in range(30)])
    split = split_export(folder, 2, target)
    assert sorted(p.name for p in target.iterdir()) == ["shard-0", "shard-1"]
    assert sum(split.products) == 30
    assert_reads_as_whole(split, folder)
